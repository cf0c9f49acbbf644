"""Numba kernels of rnndyn.analysis that need no model functions (arrays and scalars only)."""
import numpy as np
from numba import njit, prange

from .._config import JIT_PARALLEL


@njit(**JIT_PARALLEL)
def dedup(X, Q, ok, offsets, tol, rep):
    """Greedy de-duplication per population member.

    X (S, n) solutions, Q (S,) residual q (lower is better), ok (S,) usable, offsets (M+1,)
    start rows of each member's block. Within a block, points are visited in order of
    increasing q and each joins the first representative within ``tol (1 + |x|_inf)``
    (max-norm) or becomes one. rep (S,) receives the representative row (-1 if not ok).
    """
    n = X.shape[1]
    for m in prange(offsets.shape[0] - 1):
        a, b = offsets[m], offsets[m + 1]
        order = np.argsort(Q[a:b]) + a
        reps = np.empty(b - a, dtype=np.int64)
        n_rep = 0
        for r in range(b - a):
            s = order[r]
            rep[s] = -1
            if not ok[s]:
                continue
            found = -1
            for c in range(n_rep):
                j = reps[c]
                scale = 0.0
                d = 0.0
                for i in range(n):
                    d = max(d, np.abs(X[s, i] - X[j, i]))
                    scale = max(scale, np.abs(X[j, i]))
                if d <= tol * (1.0 + scale):
                    found = j
                    break
            if found < 0:
                reps[n_rep] = s
                n_rep += 1
                rep[s] = s
            else:
                rep[s] = found


@njit(**JIT_PARALLEL)
def classify_orbits(Y, is_map, tol, max_period, kind, period, n_events):
    """Classify the recorded tail Y (P, T, n) of each member's orbit.

    kind[k]: 0 fixed point, 1 periodic, 2 aperiodic (needs a Lyapunov exponent), 3 diverged.
    Maps: the smallest k <= max_period with |x_{t+k} - x_t| <= tol (1 + |x|) over the tail.
    Flows: Poincare section on the upward crossings of coordinate 0 through its tail mean;
    a cycle returns to the same section points after q crossings (q <= max_period); its
    period (in samples, fractional) is the mean time of q returns. n_events: crossings seen.
    """
    P, T, n = Y.shape
    for k in prange(P):
        y = Y[k]
        kind[k] = 2
        period[k] = np.nan
        n_events[k] = 0
        finite = True
        spread = 0.0
        scale = 0.0
        for i in range(n):
            lo = np.inf
            hi = -np.inf
            for s in range(T):
                v = y[s, i]
                if not np.isfinite(v):
                    finite = False
                lo = min(lo, v)
                hi = max(hi, v)
            spread = max(spread, hi - lo)
            scale = max(scale, max(np.abs(lo), np.abs(hi)))
        if not finite:
            kind[k] = 3
            continue
        if spread <= tol * (1.0 + scale):
            kind[k] = 0
            period[k] = 0.0
            continue
        if is_map:
            for q in range(1, max_period + 1):
                good = True
                for s in range(T - q):
                    for i in range(n):
                        if np.abs(y[s + q, i] - y[s, i]) > tol * (1.0 + scale):
                            good = False
                            break
                    if not good:
                        break
                if good:
                    kind[k] = 1
                    period[k] = q
                    break
            continue
        # flows: upward crossings of coordinate c (the one with the largest spread) through its mean
        c = 0
        best = -1.0
        for i in range(n):
            lo = np.inf
            hi = -np.inf
            for s in range(T):
                lo = min(lo, y[s, i])
                hi = max(hi, y[s, i])
            if hi - lo > best:
                best = hi - lo
                c = i
        mean = 0.0
        for s in range(T):
            mean += y[s, c]
        mean /= T
        times = np.empty(T)
        pts = np.empty((T, n))
        m = 0
        for s in range(T - 1):
            a = y[s, c] - mean
            b = y[s + 1, c] - mean
            if a < 0.0 <= b:
                w = a / (a - b)
                times[m] = s + w
                for i in range(n):
                    pts[m, i] = (1.0 - w) * y[s, i] + w * y[s + 1, i]
                m += 1
        n_events[k] = m
        for q in range(1, max_period + 1):
            if m < q + 2:  # need at least two comparisons to call a return
                break
            good = True
            for e in range(m - q):
                for i in range(n):
                    if np.abs(pts[e + q, i] - pts[e, i]) > tol * (1.0 + scale):
                        good = False
                        break
                if not good:
                    break
            if good:
                kind[k] = 1
                period[k] = (times[m - 1] - times[(m - 1) % q]) / ((m - 1) // q)
                break
