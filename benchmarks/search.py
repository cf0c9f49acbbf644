"""Global search: rnndyn's PSO vs pyswarms and sep-CMA-ES vs the ``cma`` package, same budget.

Cases (issue 13, item 7):

* PSO on the 10-D Rastrigin function in [-5.12, 5.12]^10, 50 particles, 1000 iterations,
  global best, the Clerc-Kennedy constriction (pyswarms' inertia form: w = 0.7298,
  c1 = c2 = 1.49618, the same update): final best (median over seeds) and wall time.
* sep-CMA-ES (Ros & Hansen 2008) on the 100-D Rosenbrock function from x0 = 0, sigma0 = 0.5,
  default lambda = 17, until f < 1e-8 (at most 6e5 evaluations): evaluations and wall time,
  against ``cma.CMAEvolutionStrategy`` with ``CMA_diagonal=True`` (its sep-CMA-ES).
* the cost of one generation in d = 2000 (sphere), where full CMA-ES needs a d x d matrix:
  rnndyn's sep-CMA-ES, cma's diagonal and cma's full variant.

The fitness functions are vectorised numpy (one call per generation for rnndyn; pyswarms
also passes the whole swarm; cma is given the generation as one array), so the times are
the optimisers' own overhead plus the same function cost. Ratios are peer / rnndyn
(> 1: rnndyn is faster).

Run: ``python benchmarks/search.py``
"""
from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import table  # noqa: E402

from rnndyn.train.search import PSO, SepCMAES  # noqa: E402

SEEDS = (0, 1, 2, 3, 4)


def rastrigin(X):
    return 10.0 * X.shape[1] + np.sum(X ** 2 - 10.0 * np.cos(2.0 * np.pi * X), axis=1)


def rosenbrock(X):
    return np.sum(100.0 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1.0 - X[:, :-1]) ** 2, axis=1)


def sphere(X):
    return np.sum(X ** 2, axis=1)


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def pso_rows():
    rows = []
    ours = [timed(lambda s=s: PSO(10, 50, direction="minimize", bounds=(-5.12, 5.12),
                                  seed=s).run(rastrigin, 1000, progress=False).fitness)
            for s in SEEDS]
    f_ours, t_ours = np.median([o[0] for o in ours]), np.median([o[1] for o in ours])
    rows.append({"case": "PSO, Rastrigin 10-D, 50 x 1000", "implementation": "rnndyn PSO",
                 "median best": f"{f_ours:.3g}", "time [s]": f"{t_ours:.3f}"})
    try:
        import pyswarms as ps
    except ImportError:
        rows.append({"case": "", "implementation": "pyswarms", "median best": "not installed"})
        return rows
    import logging

    logging.getLogger("pyswarms").setLevel(logging.ERROR)
    bounds = (np.full(10, -5.12), np.full(10, 5.12))

    def peer(seed):
        np.random.seed(seed)  # pyswarms draws from numpy's global generator
        opt = ps.single.GlobalBestPSO(n_particles=50, dimensions=10, bounds=bounds,
                                      options={"c1": 1.49618, "c2": 1.49618, "w": 0.7298})
        return opt.optimize(rastrigin, iters=1000, verbose=False)[0]
    theirs = [timed(lambda s=s: peer(s)) for s in SEEDS]
    f_p, t_p = np.median([o[0] for o in theirs]), np.median([o[1] for o in theirs])
    rows.append({"case": "", "implementation": f"pyswarms {ps.__version__} GlobalBestPSO",
                 "median best": f"{f_p:.3g}", "time [s]": f"{t_p:.3f}",
                 "speed ratio": f"{t_p / t_ours:.1f}x"})
    return rows


def cma_run(es, fn, target, max_evals):
    evals = 0
    while evals < max_evals:
        X = np.array(es.ask())
        f = fn(X)
        es.tell(list(X), f.tolist())
        evals += len(X)
        if f.min() < target:
            return evals, float(f.min())
    return evals, float(es.result.fbest)


def cma_rows():
    rows = []
    d, target, cap = 100, 1e-8, 600_000

    def ours(seed):
        s = SepCMAES(d, direction="minimize", bounds=None, x0=np.zeros(d), sigma0=0.5,
                     seed=seed)
        r = s.run(rosenbrock, cap // s.popsize, target=target, progress=False)
        return r.evaluations, r.fitness
    runs = [timed(lambda s=s: ours(s)) for s in SEEDS[:3]]
    ev = np.median([r[0][0] for r in runs])
    t_ours = np.median([r[1] for r in runs])
    rows.append({"case": "sep-CMA-ES, Rosenbrock 100-D to 1e-8", "implementation":
                 "rnndyn SepCMAES", "median evaluations": f"{ev:.0f}",
                 "solved": sum(r[0][1] < target for r in runs), "time [s]": f"{t_ours:.2f}"})
    try:
        import cma
    except ImportError:
        rows.append({"case": "", "implementation": "cma", "median evaluations": "not installed"})
        return rows, None

    def peer(seed):
        es = cma.CMAEvolutionStrategy(np.zeros(d), 0.5, {"CMA_diagonal": True, "seed": seed + 1,
                                                         "verbose": -9, "maxfevals": cap})
        return cma_run(es, rosenbrock, target, cap)
    runs = [timed(lambda s=s: peer(s)) for s in SEEDS[:3]]
    ev_p = np.median([r[0][0] for r in runs])
    t_p = np.median([r[1] for r in runs])
    rows.append({"case": "", "implementation": f"cma {cma.__version__} (CMA_diagonal)",
                 "median evaluations": f"{ev_p:.0f}",
                 "solved": sum(r[0][1] < target for r in runs), "time [s]": f"{t_p:.2f}",
                 "speed ratio": f"{t_p / t_ours:.1f}x"})
    return rows, cma


def generation_rows(cma):
    """Wall time per generation in d = 2000 (20 generations after 2 to warm up)."""
    d, G = 2000, 20
    rows = []
    s = SepCMAES(d, direction="minimize", seed=0)
    s.run(sphere, 2, progress=False)
    _, t = timed(lambda: s.run(sphere, 2 + G, progress=False))
    ours = t / G
    rows.append({"case": f"one generation, d = {d} (lambda = {s.popsize})",
                 "implementation": "rnndyn SepCMAES", "ms/generation": f"{ours * 1e3:.2f}"})
    if cma is None:
        return rows
    for name, opts in (("cma (CMA_diagonal)", {"CMA_diagonal": True}), ("cma (full)", {})):
        es = cma.CMAEvolutionStrategy(np.zeros(d), 0.3, {**opts, "seed": 1, "verbose": -9})
        cma_run(es, sphere, -1.0, 2 * es.popsize)
        _, t = timed(lambda: cma_run(es, sphere, -1.0, G * es.popsize))
        rows.append({"case": "", "implementation": name, "ms/generation": f"{t / G * 1e3:.2f}",
                     "speed ratio": f"{t / G / ours:.1f}x"})
    return rows


def main():
    warnings.filterwarnings("ignore", module="cma")  # its sampler's chatter on long runs
    print("## PSO\n")
    print(table(pso_rows(), ["case", "implementation", "median best", "time [s]",
                             "speed ratio"]))
    rows, cma = cma_rows()
    print("\n## sep-CMA-ES\n")
    print(table(rows, ["case", "implementation", "median evaluations", "solved", "time [s]",
                       "speed ratio"]))
    print()
    print(table(generation_rows(cma), ["case", "implementation", "ms/generation",
                                       "speed ratio"]))


if __name__ == "__main__":
    main()
