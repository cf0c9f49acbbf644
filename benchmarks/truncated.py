"""Truncated BPTT of an LSTM with a linear readout: rnndyn vs PyTorch CPU.

Run: ``python benchmarks/truncated.py [--T 1000] [--repeats 5] [--dtype float32 float64]``
(prefix ``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`` where the environment pins OpenBLAS's
kernel; see ``discrete.py``). The work is what PyTorch users write for long sequences
(Williams & Peng's BPTT(h, h) with disjoint blocks): the sequence in blocks of h steps, the
state carried from block to block but detached, each block's loss backpropagated within the
block, the blocks' gradients summed before one optimizer step. rnndyn runs the same gradient
as one call, ``rnndyn.train.truncated_bptt(model, x, y, h=h)``; the loss is the mean squared
error over the whole sequence (each PyTorch block adds its squared errors divided by the
whole sequence's count). Both run the same weights with as many threads as numba. Prints
microseconds per time step (best of ``repeats`` rounds, interleaved as in ``discrete.py``),
the ratio PyTorch / rnndyn (> 1: rnndyn is faster) and the gradients' largest difference
relative to their largest entry.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_times, torch_like_numba, table  # noqa: E402
from rnndyn.models.deep import Stacked  # noqa: E402
from rnndyn.models.gated import LSTM  # noqa: E402
from rnndyn.train.gradients import truncated_bptt  # noqa: E402

CONFIGS = [(64, 32, 50), (256, 32, 50), (64, 32, 200)]  # (H, B, h)
N_IN, N_OUT = 8, 4
FIELDS = ("layers.0.W_ih", "layers.0.W_hh", "layers.0.b_ih", "layers.0.b_hh", "W_out", "b_out")


def _pair(torch, model, x, y, h, dtype):
    """(ours, theirs, compare) for one configuration."""
    dt = np.dtype(dtype).type

    def ours():
        return truncated_bptt(model, x, y, h=h, dtype=dt, fields=FIELDS).gradient
    if torch is None:
        return ours, None, None
    cell = model.layers[0]
    lstm = torch.nn.LSTM(cell.n_in, cell.H).to(getattr(torch, dtype))
    lstm.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v, dtype=dtype))
                          for k, v in cell.to_torch().items()})
    head = torch.nn.Linear(cell.H, N_OUT).to(getattr(torch, dtype))
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(model.W_out.astype(dtype)))
        head.bias.copy_(torch.from_numpy(model.b_out.astype(dtype)))
    xt, yt = torch.from_numpy(x.astype(dtype)), torch.from_numpy(y.astype(dtype))
    params = list(lstm.parameters()) + list(head.parameters())
    count = y.size

    def theirs():
        for q in params:
            q.grad = None
        state = None
        for t0 in range(0, x.shape[0], h):
            out, state = lstm(xt[t0:t0 + h], state)
            (((head(out) - yt[t0:t0 + h]) ** 2).sum() / count).backward()
            state = tuple(s.detach() for s in state)

    def compare():
        theirs()
        g_t = np.concatenate([q.grad.double().numpy().ravel() for q in params])
        g = ours()
        return float(np.abs(g - g_t).max() / np.abs(g_t).max())
    return ours, theirs, compare


def main(T: int = 1000, repeats: int = 5, dtypes=("float32", "float64")) -> list[dict]:
    torch = torch_like_numba()
    threads = numba.get_num_threads()
    rows = []
    for dtype in dtypes:
        for H, B, h in CONFIGS:
            rng = np.random.default_rng(0)
            model = Stacked((LSTM.random(N_IN, H, seed=0),),
                            W_out=rng.normal(0, 1 / np.sqrt(H), (N_OUT, H)), b_out=0.1)
            x = rng.normal(size=(T, B, N_IN)).astype(dtype)
            y = rng.normal(size=(T, B, N_OUT))
            ours, theirs, compare = _pair(torch, model, x, y, h, dtype)
            row = {"dtype": dtype, "H": H, "B": B, "h": h, "PyTorch": "n/a",
                   "PyTorch / rnndyn": "n/a", "max diff": "n/a"}
            if theirs is None:
                row["rnndyn"] = f"{best_times([ours], repeats)[0] / T * 1e6:.2f}"
            else:
                t_ours, t_theirs = best_times([ours, theirs], repeats)
                row.update({"rnndyn": f"{t_ours / T * 1e6:.2f}",
                            "PyTorch": f"{t_theirs / T * 1e6:.2f}",
                            "PyTorch / rnndyn": f"{t_theirs / t_ours:.2f}x",
                            "max diff": f"{compare():.1e}"})
            rows.append(row)
            print(row, flush=True)
    print(f"\nT={T}, n_in={N_IN}, n_out={N_OUT}, {threads} thread(s); microseconds per time "
          f"step (best of {repeats}) of the truncated gradient BPTT(h, h).\n")
    print(table(rows, ["dtype", "H", "B", "h", "rnndyn", "PyTorch", "PyTorch / rnndyn",
                       "max diff"]))
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dtype", nargs="+", default=["float32", "float64"],
                    choices=["float32", "float64"])
    args = ap.parse_args()
    main(args.T, args.repeats, tuple(args.dtype))
