"""Echo state networks: rnndyn vs ReservoirPy on the same reservoir matrices.

Cases (issue 17): Mackey-Glass (tau = 17) one-step prediction with N = 500 and N = 2000
(8000 train / 3000 test steps), NARMA10 with N = 500; and a sweep of 100 reservoirs
(spectral radius x leak grid, N = 100, NARMA10) as one population call against a Python
loop of ReservoirPy fits. Both packages get identical hyperparameters and the same W, W_in
and bias (W: ReservoirPy's default kind, normal weights at 10% density scaled to rho; W_in:
+-input_scaling at 10%), leak, ridge 1e-6 with a fitted bias, warm-up (washout) 100 steps.

Measured per case: fit+run wall time (best of k, interleaved), peak traced memory
(tracemalloc: numpy/Python allocations, the same accounting for both) and the test NRMSE;
ratios rnndyn / ReservoirPy (< 1: rnndyn uses less). Run: ``python benchmarks/esn.py``.
Where the time goes (N = 500, MG, quiet 2-core machine): the sparse recurrent product W x
was ~70% of rnndyn's fit+run at 0.7 ns per nonzero, level with scipy's CSR product inside
ReservoirPy's step. Most of that was numba's negative-index wraparound on every load through
a signed ``indptr``: unsigned, the scalar loop takes 0.46 ns, and LLVM's SIMD gathers (the
'reassoc' flag), slower than the scalar loop before, 0.35 (scipy 0.60); 16-bit column
indices save another 5-12% at N = 2000. A reservoir of >= 40 000 multiply-adds a step also
splits each step's rows over numba's threads (one parallel region a step, ~1.5 us; N =
2000: 144 -> 70 us a step). ReservoirPy's product is scipy's, single-threaded: run with
NUMBA_NUM_THREADS=1 for a one-core comparison. Explicit SELL-8/16/32 layouts with gathers
measured 1.2-1.7x slower than CSR here. The rest: the ridge accumulation (one syrk per
2048-step chunk, ~20% at N = 2000), the Cholesky solve (upper triangle only), tanh
(vectorised). rnndyn's fit runs the reservoir through a dedicated kernel into a reused chunk
buffer (no per-step output copy, no re-validation of its own states).
BLAS runs on one thread unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS are set: both sides
spend part of their time in the same Gram products and solves, and on a shared machine
multithreaded BLAS timings measure thread contention (a 501 x 501 solve took 1.5 s on two
threads against 12 ms on one), not the code under test.
"""
from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy/scipy load their BLAS

import sys  # noqa: E402
import tracemalloc
from pathlib import Path

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_times, table  # noqa: E402
from rnndyn.analysis.reservoir import nrmse  # noqa: E402
from rnndyn.models.reservoir import ESN, scale_weights  # noqa: E402
from rnndyn.tasks.timeseries import mackey_glass, narma  # noqa: E402
from rnndyn.train import readout as ro  # noqa: E402

TRAIN, TEST, WARMUP, RIDGE = 8000, 3000, 100, 1e-6

try:
    import reservoirpy
    from reservoirpy.nodes import Reservoir, Ridge
except ImportError:  # the comparison needs the peer; rnndyn's numbers are printed anyway
    reservoirpy = None


def matrices(N, rho, input_scaling, seed):
    rng = np.random.default_rng(seed)
    W = sp.random(N, N, density=0.1, format="csr", random_state=rng,
                  data_rvs=rng.standard_normal)
    W = sp.csr_matrix(scale_weights(W, rho))
    W_in = input_scaling * rng.choice([-1.0, 1.0], (N, 1)) * (rng.random((N, 1)) < 0.1)
    bias = np.zeros(N)
    return W, W_in, bias


def task(name):
    if name == "mackey_glass":
        x = mackey_glass(TRAIN + TEST + 1, transient=500.0)
        x = (x - x.mean()) / x.std()
        return x[:-1, None], x[1:, None]
    u, y = narma(TRAIN + TEST, 10, seed=0)
    return u, y


def rnndyn_fit_run(W, W_in, bias, leak, u, y):
    esn = ESN(W=W.toarray(), W_in=W_in, bias=bias, leak=leak)
    res = ro.fit(esn, u[:TRAIN], y[:TRAIN], ro.Ridge(RIDGE), washout=WARMUP)
    return res.readout.predict(ro.states(esn, u[TRAIN:], res.final))


def rpy_fit_run(W, W_in, bias, leak, u, y):
    res = Reservoir(W=W, Win=sp.csr_matrix(W_in), bias=bias, lr=leak)
    model = res >> Ridge(ridge=RIDGE)
    model.fit(u[:TRAIN], y[:TRAIN], warmup=WARMUP)
    return model.run(u[TRAIN:])


def peak(fn):
    tracemalloc.start()
    fn()
    p = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return p / 2**20


def case(name, N, rho, leak, input_scaling, repeat):
    u, y = task(name)
    W, W_in, bias = matrices(N, rho, input_scaling, seed=N)
    ours = lambda: rnndyn_fit_run(W, W_in, bias, leak, u, y)  # noqa: E731
    row = {"task": f"{name} N={N}", "rnndyn NRMSE": f"{nrmse(ours(), y[TRAIN:]):.4f}"}
    fns = [ours]
    if reservoirpy is not None:
        theirs = lambda: rpy_fit_run(W, W_in, bias, leak, u, y)  # noqa: E731
        row["ReservoirPy NRMSE"] = f"{nrmse(theirs(), y[TRAIN:]):.4f}"
        fns.append(theirs)
    times = best_times(fns, repeat=repeat)
    mems = [peak(f) for f in fns]
    row["rnndyn s"] = f"{times[0]:.3f}"
    row["rnndyn MiB"] = f"{mems[0]:.1f}"
    if reservoirpy is not None:
        row["ReservoirPy s"] = f"{times[1]:.3f}"
        row["ReservoirPy MiB"] = f"{mems[1]:.1f}"
        row["time ratio"] = f"{times[0] / times[1]:.3f}"
        row["memory ratio"] = f"{mems[0] / mems[1]:.3f}"
        row["NRMSE ratio"] = f"{float(row['rnndyn NRMSE']) / float(row['ReservoirPy NRMSE']):.3f}"
    return row


def sweep(repeat=1, N=100):
    """100 reservoirs (10 spectral radii x 10 leaks) on NARMA10: one population run plus
    one ridge solve per member, against a loop of ReservoirPy fits."""
    u, y = task("narma")
    W, W_in, bias = matrices(N, 1.0, 0.5, seed=7)
    grid = [(r, a) for r in np.linspace(0.5, 1.4, 10) for a in np.linspace(0.1, 1.0, 10)]

    def ours():  # one population (ESN.grid): one kernel per chunk, one ridge per member
        pop, _ = ESN(W=W.toarray(), W_in=W_in, bias=bias).grid(
            spectral_radius=np.linspace(0.5, 1.4, 10), leak=np.linspace(0.1, 1.0, 10))
        return ro.fit(pop, u[:TRAIN], y[:TRAIN], ro.Ridge(RIDGE), washout=WARMUP).readout

    def theirs():
        for r, a in grid:
            res = Reservoir(W=r * W, Win=sp.csr_matrix(W_in), bias=bias, lr=a)
            (res >> Ridge(ridge=RIDGE)).fit(u[:TRAIN], y[:TRAIN], warmup=WARMUP)
    fns = [ours] + ([theirs] if reservoirpy is not None else [])
    times = best_times(fns, repeat=repeat)
    row = {"task": f"sweep 100 x N={N} NARMA10", "rnndyn s": f"{times[0]:.3f}"}
    if reservoirpy is not None:
        row["ReservoirPy s"] = f"{times[1]:.3f}"
        row["time ratio"] = f"{times[0] / times[1]:.3f}"
    return row


def main():
    rows = [case("mackey_glass", 500, 1.25, 0.3, 1.0, repeat=3),
            case("mackey_glass", 2000, 1.25, 0.3, 1.0, repeat=3),
            case("narma", 500, 0.9, 1.0, 0.5, repeat=3),
            sweep()]
    cols = ["task", "rnndyn s", "ReservoirPy s", "time ratio", "rnndyn MiB", "ReservoirPy MiB",
            "memory ratio", "rnndyn NRMSE", "ReservoirPy NRMSE", "NRMSE ratio"]
    print(table(rows, cols))


if __name__ == "__main__":
    main()
