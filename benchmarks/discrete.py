"""Forward pass of LSTM and GRU over T = 1000 steps: rnndyn vs PyTorch CPU.

Run: ``python benchmarks/discrete.py [--T 1000] [--repeats 5] [--dtype float32 float64]``.
Prints a markdown table of microseconds per time step (best of ``repeats``, rnndyn and
PyTorch interleaved, after a warm-up that also compiles the kernels) and the ratio PyTorch /
rnndyn (> 1: rnndyn is faster). float32 is the headline: it is what PyTorch users run (its
oneDNN float32 LSTM path is several times faster than float64); float64 is beside it. Both
run the same weights with as many threads as numba (``torch.set_num_threads``); PyTorch is
skipped when not installed. The outputs are compared (max |difference|).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_times  # noqa: E402
from rnndyn.integrate.run import run  # noqa: E402
from rnndyn.models.gated import GRU, LSTM  # noqa: E402

CONFIGS = [(16, 1), (64, 1), (64, 32), (256, 32)]  # (H, B)
N_IN = 8


def main(T: int = 1000, repeats: int = 5, dtypes=("float32", "float64")) -> list[dict]:
    try:
        import torch
    except ImportError:
        torch = None
    threads = numba.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    rows = []
    for dtype, name, (H, B) in ((d, c, hb) for d in dtypes for c in ("LSTM", "GRU")
                                for hb in CONFIGS):
        cls = {"LSTM": LSTM, "GRU": GRU}[name]
        cell = cls.random(N_IN, H, seed=0)
        x = np.random.default_rng(1).normal(size=(T, B, N_IN)).astype(dtype)

        def ours():
            return run(cell, x, dtype=np.dtype(dtype).type).outputs

        row = dict(dtype=dtype, cell=name, H=H, B=B, rnndyn_us=None, torch_us=None,
                   ratio=None, max_diff=None)
        if torch is None:
            row["rnndyn_us"] = best_times([ours], repeats)[0] / T * 1e6
        else:
            mod = getattr(torch.nn, name)(N_IN, H).to(getattr(torch, dtype))
            mod.load_state_dict({k: torch.from_numpy(v.astype(dtype))
                                 for k, v in cell.to_torch().items()})
            xt = torch.from_numpy(x)

            def theirs():
                with torch.no_grad():
                    return mod(xt)[0]

            t_ours, t_theirs = best_times([ours, theirs], repeats)
            row.update(rnndyn_us=t_ours / T * 1e6, torch_us=t_theirs / T * 1e6,
                       ratio=t_theirs / t_ours,
                       max_diff=float(np.abs(theirs().numpy() - ours()).max()))
        rows.append(row)
    print(f"Forward pass, T={T}, n_in={N_IN}, {threads} thread(s); "
          f"microseconds per time step (best of {repeats}).\n")
    print("| dtype | cell | H | B | rnndyn (us/step) | PyTorch (us/step) | PyTorch / rnndyn "
          "| max diff |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        t = "n/a" if r["torch_us"] is None else f"{r['torch_us']:.2f}"
        q = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        d = "n/a" if r["max_diff"] is None else f"{r['max_diff']:.1e}"
        print(f"| {r['dtype']} | {r['cell']} | {r['H']} | {r['B']} | {r['rnndyn_us']:.2f} | "
              f"{t} | {q} | {d} |")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                    choices=["float32", "float64"])
    args = ap.parse_args()
    main(args.T, args.repeats, tuple(args.dtype))
