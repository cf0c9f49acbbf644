"""Memristive networks: cost of the right-hand side and of a full relaxation run.

The rhs needs the currents ``(1/R_on) (I + xi Omega W)^-1 Omega S`` at every evaluation.
Contenders, per evaluation, on random graphs (G(V, E) with V = E/5, largest component) and
square lattices, E ~ 100, 1 000, 10 000:

- rnndyn "banded": nodal analysis, banded Cholesky of the grounded V x V Laplacian in reverse
  Cuthill-McKee order (cost V b^2);
- rnndyn "cg": nodal analysis, Jacobi-preconditioned conjugate gradients (cost E x
  iterations);
- rnndyn "auto": what ``Memristive`` picks (the cheaper by its cost model);
- "dense": CTD's formula with a dense E x E solve per evaluation (numpy/LAPACK, O(E^3)),
  what a direct transcription of the paper does. At E = 10 000 it is extrapolated from the
  fitted power law (one solve would need 0.8 GB and minutes) unless ``--full``.

Then a full relaxation run (``rd.simulate``, rk4, dt = 0.1, 31 output times log-spaced in
[0.1, 100]: ~4 100 rhs evaluations) with the auto solver, beside the time the dense solve
would need for the same evaluations, and the scaling exponent of the rhs cost with E (least
squares of log time against log E over E = 100 .. 10 000).

Every contender runs on one thread (the rnndyn kernels are serial; LAPACK is pinned to one
thread with OPENBLAS_NUM_THREADS/OMP_NUM_THREADS=1 unless set: on a shared 2-core machine a
threaded LAPACK measured wildly noisy, 0.08 to 220 ms for the same 100 x 100 solve).

Run: ``python benchmarks/memristive.py [--full]``
"""
from __future__ import annotations

import os
import sys
import time

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import rnndyn as rd  # noqa: E402
from _common import best_time, table  # noqa: E402
from rnndyn.models.memristive import Memristive, lattice  # noqa: E402

SIZES = (100, 300, 1000, 3000, 10000)
DENSE_UP_TO = 2000


def random_edges(E, seed=0):
    G = nx.gnm_random_graph(E // 5, E, seed=seed)
    return list(G.subgraph(max(nx.connected_components(G), key=len)).edges())


def lattice_edges(E):
    n = int(round(np.sqrt(E / 2)))
    return lattice(n, n)


def circuit(edges, solver):
    rng = np.random.default_rng(0)
    E = len(edges)
    return Memristive(edges=edges, convention="growth", R_on=1.0, R_off=10.0,
                      S=rng.normal(0, 1, E) * (rng.random(E) < 0.2), solver=solver)


def rhs_time(m):
    f, p = m.functions, m.kernel_params
    y = np.random.default_rng(1).random(m.n)
    dy, work, u = np.empty(m.n), np.empty(f.work_size(p)), np.zeros(0)
    f.rhs(0.0, y, u, p, dy, work)
    start = time.perf_counter()
    f.rhs(0.0, y, u, p, dy, work)
    once = time.perf_counter() - start
    reps = max(1, min(50, int(0.05 / max(once, 1e-9))))

    def run():
        for _ in range(reps):
            f.rhs(0.0, y, u, p, dy, work)
    return best_time(run, repeat=3 if once > 0.05 else 5) / reps


def dense_time(m):
    """CTD's equation with a dense solve, Omega precomputed (not timed)."""
    Om = np.array(m.Omega)
    xi = 9.0
    w = np.random.default_rng(1).random(m.n)
    rhs = Om @ m.S
    eye = np.eye(m.n)

    def step():
        i = np.linalg.solve(eye + xi * Om * w[None, :], rhs)
        return 0.1 * w - i / 10.0
    return best_time(step, repeat=3)


def main(full=False):
    rows, fits, dense_by = [], {}, {}
    for family, make in (("random", random_edges), ("lattice", lattice_edges)):
        Es, autos, dense_E, dense_t = [], [], [], []
        for E in SIZES:
            edges = make(E)
            ms = {s: circuit(edges, s) for s in ("banded", "cg", "auto")}
            m = ms["auto"]
            skip_banded = m.n * m._topology["band"] ** 2 > 5e9  # minutes per call
            t = {s: (np.nan if s == "banded" and skip_banded else rhs_time(ms[s]))
                 for s in ms}
            row = dict(graph=family, E=m.n, V=len(m.nodes), loops=m.n_loops,
                       band=m._topology["band"], auto=m.chosen_solver,
                       banded_ms=f"{t['banded'] * 1e3:.3g}", cg_ms=f"{t['cg'] * 1e3:.3g}",
                       auto_ms=f"{t['auto'] * 1e3:.3g}")
            if m.n <= DENSE_UP_TO or full:
                td = dense_time(m)
                dense_E.append(m.n)
                dense_t.append(td)
                row["dense_ms"] = f"{td * 1e3:.3g}"
            else:
                c = np.polyfit(np.log(dense_E), np.log(dense_t), 1)
                td = float(np.exp(np.polyval(c, np.log(m.n))))
                row["dense_ms"] = f"~{td * 1e3:.3g} (extrapolated, E^{c[0]:.2f})"
            row["dense/auto"] = f"{td / t['auto']:.3g}"
            dense_by[family, E] = (td, m.n > DENSE_UP_TO and not full)
            Es.append(m.n)
            autos.append(t["auto"])
            rows.append(row)
            print(row, flush=True)
        fits[family] = float(np.polyfit(np.log(Es), np.log(autos), 1)[0])
    print()
    print(table(rows, ["graph", "E", "V", "loops", "band", "auto", "banded_ms", "cg_ms",
                       "auto_ms", "dense_ms", "dense/auto"]))
    print()
    for family, k in fits.items():
        print(f"rhs cost ~ E^{k:.2f} on {family} graphs (auto solver; dense solve: E^3)")
    print()
    runs = []
    t = np.r_[0.0, np.logspace(-1, 2, 31)]
    small = circuit(random_edges(100), "auto")
    rd.simulate(small, np.full(small.n, 0.5), t[:3], dt=0.1)  # compile before timing
    for family, make in (("random", random_edges), ("lattice", lattice_edges)):
        for E in (100, 1000, 10000):
            m = circuit(make(E), "auto")
            w0 = np.random.default_rng(2).uniform(0, 1, m.n)
            start = time.perf_counter()
            tr = rd.simulate(m, w0, t, dt=0.1)
            wall = time.perf_counter() - start
            evals = 4 * int(np.ceil(np.diff(t) / 0.1 - 1e-9).sum())
            td, guessed = dense_by[family, E]
            runs.append(dict(graph=family, E=m.n, solver=m.chosen_solver, rhs_evals=evals,
                             wall_s=f"{wall:.3g}",
                             dense_run_s=("~" if guessed else "") + f"{evals * td:.3g}",
                             mean_w_end=f"{m.output(tr.y[-1]).mean():.3f}"))
            print(runs[-1], flush=True)
    print()
    print(table(runs, ["graph", "E", "solver", "rhs_evals", "wall_s", "dense_run_s",
                       "mean_w_end"]))
    return rows, fits, runs


if __name__ == "__main__":
    main(full="--full" in sys.argv)
