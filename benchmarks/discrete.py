"""Forward pass of LSTM and GRU over T = 1000 steps: rnndyn vs PyTorch CPU.

Run: ``python benchmarks/discrete.py [--T 1000] [--repeats 5]``. Prints a markdown table of
microseconds per time step (best of ``repeats``, after a warm-up that also compiles the
kernels) and the ratio PyTorch / rnndyn (> 1: rnndyn is faster). PyTorch runs in float64 with
the same weights and as many threads as numba (``torch.set_num_threads``); it is skipped
when not installed. The two outputs are also compared (max |difference|).
"""
from __future__ import annotations

import argparse
import time

import numba
import numpy as np

from rnndyn.integrate.run import run
from rnndyn.models.gated import GRU, LSTM

CONFIGS = [(16, 1), (64, 1), (64, 32), (256, 32)]  # (H, B)
N_IN = 8


def _best(fn, repeats):
    fn()  # warm-up (compiles)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(T: int = 1000, repeats: int = 5) -> list[dict]:
    try:
        import torch
    except ImportError:
        torch = None
    threads = numba.get_num_threads()
    if torch is not None:
        torch.set_num_threads(threads)
    rows = []
    for name, cls in (("LSTM", LSTM), ("GRU", GRU)):
        for H, B in CONFIGS:
            cell = cls.random(N_IN, H, seed=0)
            x = np.random.default_rng(1).normal(size=(T, B, N_IN))
            ours = _best(lambda: run(cell, x), repeats)
            row = dict(cell=name, H=H, B=B, rnndyn_us=ours / T * 1e6, torch_us=None,
                       ratio=None, max_diff=None)
            if torch is not None:
                mod = getattr(torch.nn, name)(N_IN, H).double()
                mod.load_state_dict({k: torch.from_numpy(v) for k, v in cell.to_torch().items()})
                xt = torch.from_numpy(x)

                def fwd():
                    with torch.no_grad():
                        return mod(xt)[0]

                theirs = _best(fwd, repeats)
                row.update(torch_us=theirs / T * 1e6, ratio=theirs / ours,
                           max_diff=float(np.abs(fwd().numpy() - run(cell, x).outputs).max()))
            rows.append(row)
    print(f"Forward pass, T={T}, n_in={N_IN}, float64, {threads} thread(s); "
          "microseconds per time step (best of {repeats}).\n".replace("{repeats}", str(repeats)))
    print("| cell | H | B | rnndyn (us/step) | PyTorch (us/step) | PyTorch / rnndyn | max diff |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        t = "n/a" if r["torch_us"] is None else f"{r['torch_us']:.2f}"
        q = "n/a" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        d = "n/a" if r["max_diff"] is None else f"{r['max_diff']:.1e}"
        print(f"| {r['cell']} | {r['H']} | {r['B']} | {r['rnndyn_us']:.2f} | {t} | {q} | {d} |")
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    main(args.T, args.repeats)
