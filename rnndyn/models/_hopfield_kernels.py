"""Numba kernels of the associative memories (arrays and scalars only).

Recall of discrete networks (Hopfield 1982; BAM, Kosko 1988) is not a flow or a map of the
model protocol: the sign function has no useful derivative, so recall is its own batched
kernel. Its trick is the *local field* kept up to date: with h = W s + b known, flipping unit
j changes every field by ``2 s_j' W[:, j]``, O(n) work, instead of recomputing W s (O(n^2)) for
every update. The caller computes the first fields of all probes with one BLAS product.

Fields in single precision, decisions in double. The fields are float32 (the first ones from
a float32 BLAS product, the updates with float32 columns): half the memory traffic of the
flips, which are bound by it, and half the cost of the product. A decision never rests on a
float32 rounding: where |h_j| is within a rigorous bound of the rounding error accumulated so
far (``_bound``), h_j is recomputed in float64 from W and s before the sign is taken. The
sign convention is then the float64 one: ``s_i <- +1 if h_i > tol, -1 if h_i < -tol, else
s_i``, a unit on the fence keeping its state (so every flip strictly lowers the energy);
``tol = TIE * max |W|`` guards the exact zeros of Hebbian fields (multiples of 1/n), which
floating-point sums return as +-1e-17.

The continuous (graded-response) Hopfield network (Hopfield 1984) is a flow and the modern
Hopfield network (Ramsauer et al. 2020) a map; their protocol kernels follow.

* continuous: ``p = (T (n, n), Q (n, 4) = [I | C | R | gain], act)``, theta_raw =
  [T, I, C, R, gain] (C order); ``act`` 0 = tanh (V in (-1, 1)), 1 = logistic (V in (0, 1)).
* modern: ``p = (X (d, N), beta (1,))``, theta_raw = [X, beta].
A population adds a leading axis P to every array (``act`` is shared).
"""
import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_PARALLEL
from ._base_kernels import sigmoid, tanh

TANH, LOGISTIC = 0, 1
ASYNC_RANDOM, ASYNC_FIXED, SYNC = 0, 1, 2
#: fields within TIE * max|W| of zero are ties (a relative size far below any genuine field
#: of a stored-pattern network, whose nonzero fields are at least max|W| / p)
TIE = 1e-9
#: units per block of an asynchronous sweep (their W columns, BLOCK * n * 4 bytes, stay in
#: cache while every probe of a tile visits them)
BLOCK = 32
#: unit roundoff of float32
U32 = 2.0 ** -24


# -- discrete recall ------------------------------------------------------------------------
@njit(**JIT)
def _next_random(state):
    """splitmix64 (Steele, Lea & Flood 2014): a counter-based generator, so every tile draws
    its own reproducible stream whatever thread runs it. ``state`` is a (1,) uint64 array."""
    state[0] += np.uint64(0x9E3779B97F4A7C15)
    z = state[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(**dict(JIT, inline="always"))
def _decide(W, b, R, eps, S, H, k, j, flips):
    """The new state of unit j of probe k: sgn(h_j), a tie keeping s_j.

    |H[k, j] - h_j| <= U32 (n + 4 + 2 flips) R_j, with R_j = sum_l |W[j, l]| + |b_j|: the
    float32 product's error (at most n u R_j, any summation order), W's and b's rounding to
    float32, and 2 u R_j per float32 update since. Inside that band the field is recomputed
    in float64 (and stored, fresh)."""
    h = H[k, j]
    n = S.shape[1]
    if abs(h) <= U32 * (n + 4 + 2 * flips) * R[j]:
        x = b[j]
        for l in range(n):
            x += W[j, l] * S[k, l]
        H[k, j] = x
        return 1.0 if x > eps else (-1.0 if x < -eps else S[k, j])
    return 1.0 if h > 0.0 else -1.0


@njit(**dict(JIT, inline="always"))
def _add_column(H, k, Wt, j, d):
    """H[k] += d W[:, j] (= d Wt[j], contiguous): the fields of probe k after its s_j changed
    by d. Plain 2-D indexing: a view per call (H[k], Wt[j]) costs reference counting that
    measured as much as the arithmetic."""
    for i in range(H.shape[1]):
        H[k, i] += d * Wt[j, i]


@njit(**JIT_PARALLEL)
def recall(W, Wt, b, R, tol, S, H, member, tiles, seeds, mode, max_sweeps, sweeps, converged,
           cycle):
    """Recall K probes in place, in parallel over tiles of probes.

    The probes of a tile (one network each) visit the units in the same order, block by
    block of ``BLOCK`` units, so the columns W[:, j] that flips add to the fields are read from
    memory once per tile and block and then serve every probe of the tile from cache (the
    flips are bound by memory traffic).

    Parameters
    ----------
    W : array (M, n, n)
        Weights of each of M networks (float64), for fields recomputed exactly.
    Wt : float32 array (M, n, n)
        Transposed weights (``Wt[m, j, i] = W_m[i, j]``) for the field updates.
    b, R : arrays (M, n)
        Biases, and ``R_j = sum_l |W[j, l]| + |b_j|`` (the scale of the rounding errors).
    tol : array (M,)
        Tie tolerance of each network (``TIE * max |W_m|``).
    S : array (K, n)
        Probes (+-1), overwritten with the final states.
    H : float32 array (K, n)
        Local fields ``W_m S_k + b_m`` of the probes (float32 product), overwritten.
    member : int array (K,)
        Network of each probe.
    tiles : int array (T + 1,)
        Probes ``tiles[t]:tiles[t + 1]`` form tile t (all of one network).
    seeds : uint64 array (T,)
        Seed of each tile's update orders (``ASYNC_RANDOM``).
    mode : int
        ``ASYNC_RANDOM`` (a new random permutation every sweep), ``ASYNC_FIXED`` (units 0..n-1
        every sweep) or ``SYNC`` (every unit from the same old state).
    max_sweeps : int
        Budget of sweeps (asynchronous: n single-unit updates; synchronous: one update).
    sweeps : int array (K,)
        Out: sweeps done (the last one changed nothing when converged).
    converged : bool array (K,)
        Out: a sweep changed no unit (the state is a fixed point).
    cycle : bool array (K,)
        Out (SYNC): the state alternates between two states (s(t+1) == s(t-1) != s(t)).
    """
    for t in prange(tiles.shape[0] - 1):
        a, z = tiles[t], tiles[t + 1]
        m = member[a]
        for k in range(a, z):
            sweeps[k] = 0
            converged[k] = False
            cycle[k] = False
        # whole arrays and a row range, not slices: a slice S[a:z] is typed as a non-contiguous
        # array, and the compiled loops measured 4x slower on it
        if mode == SYNC:
            _tile_sync(W[m], Wt[m], b[m], R[m], tol[m], S, H, a, z, max_sweeps, sweeps,
                       converged, cycle)
        else:
            _tile_async(W[m], Wt[m], b[m], R[m], tol[m], S, H, a, z, seeds[t],
                        mode == ASYNC_RANDOM, max_sweeps, sweeps, converged)


@njit(**JIT)
def _tile_async(W, Wt, b, R, eps, S, H, a, z, seed, shuffle, max_sweeps, sweeps, converged):
    """Asynchronous sweeps of the probes S[a:z] (fields H[a:z]) until none of them changes."""
    B, n = z - a, S.shape[1]
    order = np.arange(n)
    rng = np.empty(1, np.uint64)
    rng[0] = seed
    active = np.arange(a, z)
    flips = np.zeros(B, np.int64)  # this sweep's, by position in active
    total = np.zeros(B, np.int64)  # since the float32 product, by probe
    na = B
    for sweep in range(max_sweeps):
        if na == 0:
            return
        if shuffle:  # Fisher-Yates; floor(u (i + 1)) with u uniform in [0, 1) from 53 bits
            for i in range(n - 1, 0, -1):
                r = np.int64((_next_random(rng) >> np.uint64(11)) * (1.0 / 9007199254740992.0)
                             * (i + 1))
                order[i], order[r] = order[r], order[i]
        for q in range(na):
            flips[q] = 0
        # probes are independent, so the loops may run probe by probe within a block of
        # BLOCK units of the order: a probe's fields stay in L1, the block's W columns in L2
        for m0 in range(0, n, BLOCK):
            for q in range(na):
                k = active[q]
                for m in range(m0, min(m0 + BLOCK, n)):
                    j = order[m]
                    v = _decide(W, b, R, eps, S, H, k, j, total[k - a])
                    if v != S[k, j]:
                        _add_column(H, k, Wt, j, np.float32(v - S[k, j]))
                        S[k, j] = v
                        flips[q] += 1
                        total[k - a] += 1
        keep = 0
        for q in range(na):
            k = active[q]
            sweeps[k] = sweep + 1
            if flips[q] == 0:
                converged[k] = True
            else:
                active[keep] = k
                flips[keep] = flips[q]
                keep += 1
        na = keep


@njit(**JIT)
def _tile_sync(W, Wt, b, R, eps, S, H, a, z, max_sweeps, sweeps, converged, cycle):
    """Synchronous updates s <- sgn(h(s)) of the probes S[a:z] (fields H[a:z]); the new fields
    follow from the changed units only. A 2-cycle: the new state equals the state two steps
    back."""
    B, n = z - a, S.shape[1]
    new = np.empty((B, n))  # row k - a for probe k
    back = np.empty((B, n))  # s(t-1)
    total = np.zeros(B, np.int64)
    active = np.arange(a, z)
    na = B
    for sweep in range(max_sweeps):
        if na == 0:
            return
        keep = 0
        for q in range(na):
            k = active[q]
            changed = False
            for j in range(n):
                new[k - a, j] = _decide(W, b, R, eps, S, H, k, j, total[k - a])
                changed = changed or new[k - a, j] != S[k, j]
            sweeps[k] = sweep + 1
            if not changed:
                converged[k] = True
                continue
            same = sweep > 0
            if same:
                for j in range(n):
                    if new[k - a, j] != back[k - a, j]:
                        same = False
                        break
            cycle[k] = same
            for j in range(n):
                back[k - a, j] = S[k, j]
            active[keep] = k  # updated below; then dropped if it closed a 2-cycle
            keep += 1
        for j0 in range(0, n, BLOCK):  # a block's W columns serve every probe from cache
            for q in range(keep):
                k = active[q]
                for j in range(j0, min(j0 + BLOCK, n)):
                    if new[k - a, j] != S[k, j]:
                        _add_column(H, k, Wt, j, np.float32(new[k - a, j] - S[k, j]))
                        S[k, j] = new[k - a, j]
                        total[k - a] += 1
        na = 0
        for q in range(keep):
            if not cycle[active[q]]:
                active[na] = active[q]
                na += 1


@njit(**JIT_PARALLEL)
def bam_recall(M, X, Y, from_x, max_iter, iters, converged):
    """Bidirectional recall (Kosko 1988) of K pairs in place, in parallel over pairs.

    ``y <- sgn(x M)``, ``x <- sgn(y M^T)`` alternately (a unit with zero field keeps its
    state) until neither layer changes. Rows of X (K, n) and Y (K, m) hold the pairs; the
    probe is X if ``from_x`` else Y, and the other layer starts at +1 (its first update
    overwrites every unit with a nonzero field). ``iters`` (K,): round trips done.
    """
    K, n = X.shape
    m = Y.shape[1]
    for k in prange(K):
        x, y = X[k], Y[k]
        iters[k] = 0
        converged[k] = False
        first = True
        for it in range(max_iter):
            changed = 0
            for half in range(2):
                fwd = from_x == (half == 0)  # compute y from x, else x from y
                src, dst = (x, y) if fwd else (y, x)
                for j in range(dst.shape[0]):
                    a = 0.0
                    if fwd:
                        for i in range(n):
                            a += src[i] * M[i, j]
                    else:
                        for i in range(m):
                            a += M[j, i] * src[i]
                    v = 1.0 if a > 0.0 else (-1.0 if a < 0.0 else dst[j])
                    if v != dst[j]:
                        changed += 1
                        dst[j] = v
            iters[k] = it + 1
            if changed == 0 and not first:
                converged[k] = True
                break
            first = False


# -- continuous Hopfield network (flow) ------------------------------------------------------
@njit(**dict(JIT, inline="always"))
def _g(x, act):
    return tanh(x) if act == TANH else sigmoid(x)


@njit(**dict(JIT, inline="always"))
def _g_prime(x, act):
    if act == TANH:
        c = tanh(x)
        return 1.0 - c * c
    s = sigmoid(x)
    return s * (1.0 - s)


@njit(**JIT)
def chn_rhs(t, u, x, p, du, work):
    """C_i du_i/dt = -u_i / R_i + sum_j T[i, j] g(gain_j u_j) + I_i."""
    T, Q, act = p
    n = u.shape[0]
    for j in range(n):
        work[j] = _g(Q[j, 3] * u[j], act)
    for i in range(n):
        s = Q[i, 0] - u[i] / Q[i, 2]
        for j in range(n):
            s += T[i, j] * work[j]
        du[i] = s / Q[i, 1]


@njit(**JIT)
def chn_jacobian(t, u, x, p, J, work):
    """J[i, j] = (T[i, j] gain_j g'(gain_j u_j) - delta_ij / R_i) / C_i."""
    T, Q, act = p
    n = u.shape[0]
    for j in range(n):
        work[j] = Q[j, 3] * _g_prime(Q[j, 3] * u[j], act)
    for i in range(n):
        for j in range(n):
            J[i, j] = T[i, j] * work[j] / Q[i, 1]
        J[i, i] -= 1.0 / (Q[i, 2] * Q[i, 1])


@njit(**JIT)
def chn_vjp(t, u, x, p, v, gu, gx, gp, work):
    """v^T dF for F_i = (-u_i/R_i + sum_j T[i,j] V_j + I_i) / C_i, V_j = g(gain_j u_j).

    With w_i = v_i / C_i and c_j = sum_i w_i T[i, j]: dT[i,j] = w_i V_j, dI_i = w_i,
    dC_i = -w_i F_i, dR_i = w_i u_i / R_i^2, du_j = -w_j / R_j + c_j gain_j g'_j,
    dgain_j = c_j u_j g'_j."""
    T, Q, act = p
    n = u.shape[0]
    V, c = work[:n], work[n:2 * n]
    for j in range(n):
        V[j] = _g(Q[j, 3] * u[j], act)
        c[j] = 0.0
    oI = n * n
    for i in range(n):
        f = Q[i, 0] - u[i] / Q[i, 2]
        for j in range(n):
            f += T[i, j] * V[j]
        w = v[i] / Q[i, 1]
        for j in range(n):
            gp[i * n + j] = w * V[j]
            c[j] += w * T[i, j]
        gp[oI + i] = w
        gp[oI + n + i] = -w * f / Q[i, 1]
        gp[oI + 2 * n + i] = w * u[i] / (Q[i, 2] * Q[i, 2])
        gu[i] = -w / Q[i, 2]
    for j in range(n):
        d = c[j] * _g_prime(Q[j, 3] * u[j], act)
        gu[j] += d * Q[j, 3]
        gp[oI + 3 * n + j] = d * u[j]


@njit(**JIT)
def chn_output(u, p, out):
    """The outputs V_i = g(gain_i u_i)."""
    Q, act = p[1], p[2]
    for i in range(u.shape[0]):
        out[i] = _g(Q[i, 3] * u[i], act)


@njit(**JIT)
def chn_output_vjp(u, p, v, gu, gp):
    Q, act = p[1], p[2]
    n = u.shape[0]
    for k in range(gp.shape[0]):
        gp[k] = 0.0
    og = n * n + 3 * n
    for i in range(n):
        d = v[i] * _g_prime(Q[i, 3] * u[i], act)
        gu[i] = d * Q[i, 3]
        gp[og + i] = d * u[i]


@njit(**JIT)
def chn_param_size(p):
    n = p[0].shape[0]
    return n * n + 4 * n


@njit(**JIT)
def chn_work_size(p):
    return 2 * p[0].shape[0]


@njit(**JIT)
def chn_member(p, k):
    return (p[0][k], p[1][k], p[2])


# -- modern Hopfield network (map) -----------------------------------------------------------
@njit(**JIT)
def _softmax(xi, X, beta, pi):
    """pi = softmax(beta X^T xi) (N,), computed with the maximum subtracted."""
    d, N = X.shape
    for j in range(N):
        pi[j] = 0.0
    for i in range(d):  # row-wise over X (C order)
        a = xi[i]
        for j in range(N):
            pi[j] += X[i, j] * a
    top = -np.inf
    for j in range(N):
        pi[j] *= beta
        top = max(top, pi[j])
    total = 0.0
    for j in range(N):
        pi[j] = np.exp(pi[j] - top)
        total += pi[j]
    for j in range(N):
        pi[j] /= total


@njit(**JIT)
def mhn_step(xi, x, p, xi_new, work):
    """xi' = X softmax(beta X^T xi) (Ramsauer et al. 2020, eq. 3)."""
    X, beta = p[0], p[1][0]
    d, N = X.shape
    pi = work[:N]
    _softmax(xi, X, beta, pi)
    for i in range(d):
        s = 0.0
        for j in range(N):
            s += X[i, j] * pi[j]
        xi_new[i] = s


@njit(**JIT)
def mhn_jacobian(xi, x, p, J, work):
    """J = beta X (diag(pi) - pi pi^T) X^T = beta (X diag(pi) X^T - F F^T), F = X pi."""
    X, beta = p[0], p[1][0]
    d, N = X.shape
    pi, F = work[:N], work[N:N + d]
    _softmax(xi, X, beta, pi)
    for i in range(d):
        s = 0.0
        for j in range(N):
            s += X[i, j] * pi[j]
        F[i] = s
    for i in range(d):
        for k in range(i + 1):
            s = 0.0
            for j in range(N):
                s += X[i, j] * pi[j] * X[k, j]
            J[i, k] = beta * (s - F[i] * F[k])
            J[k, i] = J[i, k]


@njit(**JIT)
def mhn_vjp(xi, x, p, v, gxi, gx, gp, work):
    """v^T dF for F = X pi, pi = softmax(a), a = beta X^T xi; theta_raw = [X (d, N), beta].

    With g = X^T v and ga = pi * (g - pi.g): dxi = beta X ga, dX = v pi^T + beta xi ga^T,
    dbeta = ga . (X^T xi)."""
    X, beta = p[0], p[1][0]
    d, N = X.shape
    pi, ga = work[:N], work[N:2 * N]
    _softmax(xi, X, beta, pi)
    for j in range(N):
        ga[j] = 0.0
    for i in range(d):
        for j in range(N):
            ga[j] += X[i, j] * v[i]
    dot = 0.0
    for j in range(N):
        dot += pi[j] * ga[j]
    for j in range(N):
        ga[j] = pi[j] * (ga[j] - dot)
    db = 0.0
    for i in range(d):
        s = 0.0
        for j in range(N):
            s += X[i, j] * ga[j]
            gp[i * N + j] = v[i] * pi[j] + beta * xi[i] * ga[j]
            db += ga[j] * X[i, j] * xi[i]
        gxi[i] = beta * s
    gp[d * N] = db


@njit(**JIT)
def mhn_param_size(p):
    return p[0].shape[0] * p[0].shape[1] + 1


@njit(**JIT)
def mhn_work_size(p):
    return 2 * p[0].shape[1] + p[0].shape[0]


@njit(**JIT)
def mhn_member(p, k):
    return (p[0][k], p[1][k])
