"""LSTM, GRU and Elman (``nn.RNN``, tanh) over T = 1000 steps, forward and forward + backward:
rnndyn vs PyTorch CPU.

Run: ``python benchmarks/discrete.py [--T 1000] [--repeats 5] [--dtype float32 float64]
[--pass forward backward] [--cell LSTM GRU RNN]``; where the environment pins OpenBLAS's kernel
(``OPENBLAS_CORETYPE``; the first line printed says so), prefix ``env -u OPENBLAS_CORETYPE -u
OPENBLAS_L2_SIZE``: on an AVX-512 processor pinned to Haswell's kernel the batched products
ran up to 1.6x slower (H = 256, B = 32 float32 forward 154 against 103 us a step), while
PyTorch's MKL and oneDNN choose their own. Prints a markdown table of microseconds per time
step (best of ``repeats`` rounds of 3 runs each, rnndyn and PyTorch interleaved with a 0.3 s
pause before each contender's runs, so that neither is timed against the other's spinning
worker threads: run back to back, rnndyn's B = 1 BPTT measured 2.4x slower beside PyTorch's
idling OpenMP threads than alone; after a warm-up that also compiles the kernels) and the
ratio PyTorch / rnndyn (> 1: rnndyn is faster). float32 is the headline: it is what PyTorch
users run (its oneDNN float32 LSTM path is several times faster than float64); float64 is
beside it. Both run the same weights with as many threads as numba
(``torch.set_num_threads``); PyTorch is skipped when not installed.

* forward: ``rnndyn.run(..., states=False)`` vs ``module(x)`` under ``torch.no_grad()``: both
  return the outputs and the final state (``states=False`` drops the per-step states, which
  PyTorch does not return: an LSTM's [h; c] is twice its output); the outputs are compared
  (max |difference|).
* backward: forward + backward of the mean squared error against fixed targets,
  ``rnndyn.train.bptt`` (loss and gradient of every weight) vs ``loss.backward()``; the
  gradients are compared (max |difference| relative to the largest entry).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_times, torch_like_numba  # noqa: E402
from rnndyn.integrate.run import run  # noqa: E402
from rnndyn.models.discrete import Elman  # noqa: E402
from rnndyn.models.gated import GRU, LSTM  # noqa: E402
from rnndyn.train.gradients import bptt  # noqa: E402

CONFIGS = [(16, 1), (64, 1), (64, 32), (256, 32)]  # (H, B)
CELLS = {"LSTM": LSTM, "GRU": GRU, "RNN": Elman}  # torch.nn's name: rnndyn's cell
N_IN = 8


def _torch_module(torch, name, cell, dtype):
    mod = getattr(torch.nn, name)(N_IN, cell.H).to(getattr(torch, dtype))
    mod.load_state_dict({k: torch.from_numpy(v.astype(dtype))
                         for k, v in cell.to_torch().items()})
    return mod


def _torch_grad(mod):
    return np.concatenate([getattr(mod, k).grad.numpy().ravel() for k in
                           ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")])


def _pair(torch, kind, name, cell, x, target, dtype):
    """(ours, theirs, compare) for one configuration."""
    dt = np.dtype(dtype).type
    if kind == "forward":
        def ours():
            return run(cell, x, dtype=dt, states=False).outputs
    else:
        def ours():
            return bptt(cell, x, target, dtype=dt).gradient
    if torch is None:
        return ours, None, None
    mod = _torch_module(torch, name, cell, dtype)
    xt, yt = torch.from_numpy(x), torch.from_numpy(target.astype(dtype))
    if kind == "forward":
        def theirs():
            with torch.no_grad():
                return mod(xt)[0]

        def compare():
            return float(np.abs(theirs().numpy() - ours()).max())
    else:
        def theirs():
            mod.zero_grad()
            torch.nn.functional.mse_loss(mod(xt)[0], yt).backward()

        def compare():
            theirs()
            g_t = _torch_grad(mod)
            # to_torch splits the summed LSTM bias b = b_ih + b_hh in two: same gradient
            g = bptt(cell, x, target, dtype=dt, fields=("W_ih", "W_hh", "b_ih", "b_hh"))
            return float(np.abs(g.gradient - g_t).max() / np.abs(g_t).max())
    return ours, theirs, compare


def main(T: int = 1000, repeats: int = 5, dtypes=("float32", "float64"),
         passes=("forward", "backward"), cells=tuple(CELLS)) -> list[dict]:
    torch = torch_like_numba()
    threads = numba.get_num_threads()
    rows = []
    for kind in passes:
        for dtype in dtypes:
            for name in cells:
                for H, B in CONFIGS:
                    cell = CELLS[name].random(N_IN, H, seed=0)
                    rng = np.random.default_rng(1)
                    x = rng.normal(size=(T, B, N_IN)).astype(dtype)
                    target = rng.normal(size=(T, B, H))
                    ours, theirs, compare = _pair(torch, kind, name, cell, x, target, dtype)
                    row = dict(kind=kind, dtype=dtype, cell=name, H=H, B=B, torch_us=None,
                               ratio=None, diff=None)
                    if theirs is None:
                        row["rnndyn_us"] = best_times([ours], repeats)[0] / T * 1e6
                    else:
                        t_ours, t_theirs = best_times([ours, theirs], repeats)
                        row.update(rnndyn_us=t_ours / T * 1e6, torch_us=t_theirs / T * 1e6,
                                   ratio=t_theirs / t_ours, diff=compare())
                    rows.append(row)
                    print(_line(row), flush=True)
    print(f"\nT={T}, n_in={N_IN}, {threads} thread(s); microseconds per time step (best of "
          f"{repeats}); backward = forward + backward of the MSE.\n")
    print("| pass | dtype | cell | H | B | rnndyn (us/step) | PyTorch (us/step) | "
          "PyTorch / rnndyn | max diff |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(_line(r))
    return rows


def _line(r):
    t = "n/a" if r["torch_us"] is None else f"{r['torch_us']:.2f}"
    q = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
    d = "n/a" if r["diff"] is None else f"{r['diff']:.1e}"
    return (f"| {r['kind']} | {r['dtype']} | {r['cell']} | {r['H']} | {r['B']} | "
            f"{r['rnndyn_us']:.2f} | {t} | {q} | {d} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                    choices=["float32", "float64"])
    ap.add_argument("--pass", dest="passes", nargs="+", default=["forward", "backward"],
                    choices=["forward", "backward"])
    ap.add_argument("--cell", dest="cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    args = ap.parse_args()
    main(args.T, args.repeats, tuple(args.dtype), tuple(args.passes), tuple(args.cells))
