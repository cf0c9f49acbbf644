"""Discrete Hopfield recall: rnndyn vs plain numpy and the PyPI package ``hopfieldnetwork``.

The work (issue 10): recall of 10 000 probes, stored patterns with 10% of their bits flipped,
in a Hebbian network of N = 1000 units storing p = 50 patterns (alpha = 0.05), until no unit
changes. Contenders:

* rnndyn ``Hopfield.recall``: asynchronous (random order, fixed order) and synchronous, all
  probes in one parallel numba kernel (one BLAS product for the first fields, then only the
  flipped units' columns);
* numpy, synchronous: the vectorised loop a numpy user writes, ``S = sgn(S @ W.T)`` over all
  probes at once until nothing changes (one BLAS matrix product per step);
* numpy, asynchronous: the textbook loop, one unit at a time ``s[i] = sgn(W[i] @ s)`` in a
  random order per sweep; it is slow, so it runs a subset of the probes and is scaled per
  probe;
* ``hopfieldnetwork`` (PyPI, when installed): ``update_neurons(0, mode, run_max=True)``
  per probe, on a subset as well.

Prints probes per second and the ratio to rnndyn (> 1: rnndyn is faster).
Run: ``python benchmarks/hopfield.py``
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import best_times, table  # noqa: E402
from rnndyn.models.hopfield import Hopfield  # noqa: E402

N, P_STORED, PROBES, NOISE = 1000, 50, 10_000, 0.1
SUBSET = 100  # probes of the slow Python-loop contenders (a run of ~1 s, like rnndyn's)


def problem(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.choice([-1.0, 1.0], (P_STORED, N))
    probes = X[rng.integers(0, P_STORED, PROBES)].copy()
    probes[rng.random(probes.shape) < NOISE] *= -1
    return X, probes


def numpy_sync(W, S, tol):
    S = S.copy()
    for _ in range(100):
        H = S @ W.T
        new = np.where(H > tol, 1.0, np.where(H < -tol, -1.0, S))
        if np.array_equal(new, S):
            break
        S = new
    return S


def numpy_async(W, S, tol, rng):
    out = S.copy()
    for s in out:
        for _ in range(100):
            flips = 0
            for i in rng.permutation(len(s)):
                h = W[i] @ s
                new = 1.0 if h > tol else (-1.0 if h < -tol else s[i])
                flips += new != s[i]
                s[i] = new
            if not flips:
                break
    return out


def peer(W, S, mode):
    from hopfieldnetwork import HopfieldNetwork

    net = HopfieldNetwork(N=W.shape[0])
    net.w = W
    for s in S:
        net.set_initial_neurons_state(s.astype(np.int8))
        net.update_neurons(0, mode, run_max=True)


def main():
    X, probes = problem()
    net = Hopfield.from_patterns(X)
    W, tol = net.W, 1e-9 * np.abs(net.W).max()
    sub = probes[:SUBSET]
    rng = np.random.default_rng(1)
    res = net.recall(probes, seed=0)
    overlap = float(np.mean(np.max(res.states @ X.T, axis=1) / N))
    # correctness first: the numpy loops reach the same memories
    assert np.array_equal(net.recall(probes[:200], mode="sync").states,
                          numpy_sync(W, probes[:200], tol))
    ref = numpy_async(W, sub, tol, rng)
    assert np.array_equal(np.max(ref @ X.T, axis=1), np.max(res.states[:SUBSET] @ X.T, axis=1))

    cases = {
        "rnndyn async (random order)": (lambda: net.recall(probes, seed=0), PROBES),
        "rnndyn async (fixed order)": (lambda: net.recall(probes, order="fixed"), PROBES),
        "rnndyn sync": (lambda: net.recall(probes, mode="sync"), PROBES),
        "numpy sync (vectorised matmul)": (lambda: numpy_sync(W, probes, tol), PROBES),
        "numpy async (loop per unit)": (lambda: numpy_async(W, sub, tol, rng), SUBSET),
    }
    try:
        import hopfieldnetwork  # noqa: F401

        cases["hopfieldnetwork async (PyPI)"] = (lambda: peer(W, sub, "async"), SUBSET)
        cases["hopfieldnetwork sync (PyPI)"] = (lambda: peer(W, probes[:1000], "sync"), 1000)
    except ImportError:
        print("(hopfieldnetwork not installed: pip install hopfieldnetwork to compare)")
    names = list(cases)
    times = best_times([cases[k][0] for k in names], repeat=5)
    rate = {k: cases[k][1] / t for k, t in zip(names, times)}
    base = {"async": rate["rnndyn async (random order)"], "sync": rate["rnndyn sync"]}
    rows = []
    for k in names:
        mode = "sync" if "sync" in k and "async" not in k else "async"
        rows.append({"contender": k, "probes": cases[k][1], "probes/s": f"{rate[k]:,.0f}",
                     "rnndyn / this": "" if k.startswith("rnndyn") else
                     f"{base[mode] / rate[k]:.1f}x"})
    print(f"N = {N}, p = {P_STORED}, {PROBES} probes with {NOISE:.0%} flipped bits; mean "
          f"overlap after recall {overlap:.4f}")
    print(table(rows, ["contender", "probes", "probes/s", "rnndyn / this"]))


if __name__ == "__main__":
    main()
