# needs: _step _jac _member _work_size _matmul _orthonormalise
# Kernel template for Lyapunov exponents of discrete-time models (see rnndyn/_jit.py),
# specialised per model family with that family's jitted functions:
#   _step(h, x, p, h_new, work)  next state written into h_new
#   _jac(h, x, p, J, work)       d h_new / d h written into J (n, n)
#   _member(p, k)                 parameters of individual k of a population
#   _work_size(p)                length of the scratch vector
#   _matmul, _orthonormalise     from _lyapunov_kernels.py (compiled once, cached; passed
#                                here so an edit there renames the generated module)
# X (n_steps, n_in): row s is the input driving the step s -> s+1.
# Status codes: 0 success, 1 non-finite state or tangent basis.
import numpy as np
from numba import njit, prange


@njit(**_JIT)
def spectrum(p, h0, Q0, X, n_transient, ortho_every, record_every, sums, hist):
    """Benettin/QR spectrum of one map over X.shape[0] steps, the first n_transient of them
    discarded (basis evolved and orthonormalised, nothing accumulated). sums (k,) receives
    the exponents per step; hist rows the running estimates. Returns (status, step)."""
    n = h0.shape[0]
    kk = Q0.shape[1]
    n_steps = X.shape[0]
    n_total = n_steps - n_transient
    h = h0.copy()
    hn = np.empty(n)
    Y = Q0.copy()
    A = np.empty((n, kk))
    Jm = np.empty((n, n))
    work = np.empty(_work_size(p))
    scratch = np.zeros(kk)
    for c in range(kk):
        sums[c] = 0.0
    n_qr = 0
    row = 0
    for s in range(n_steps):
        _jac(h, X[s], p, Jm, work)
        _matmul(Jm, Y, A)
        Y[:, :] = A
        _step(h, X[s], p, hn, work)
        acc = 0.0
        for i in range(n):
            h[i] = hn[i]
            acc += hn[i]
        if not np.isfinite(acc):
            return 1, s + 1
        measuring = s >= n_transient
        m = s + 1 - n_transient if measuring else s + 1
        if m % ortho_every == 0 or s == n_steps - 1 or (not measuring and s == n_transient - 1):
            if not _orthonormalise(Y, sums if measuring else scratch):
                return 1, s + 1
            if measuring:
                n_qr += 1
                if (n_qr % record_every == 0 or s == n_steps - 1) and row < hist.shape[0]:
                    for c in range(kk):
                        hist[row, c] = sums[c] / m
                    row += 1
    for c in range(kk):
        sums[c] /= n_total
    return 0, n_steps


@njit(**_JIT_PARALLEL)
def spectrum_population(p, H0, Q0, X, n_transient, ortho_every, record_every, sums, hist,
                        info):
    """Population version: H0 (P, n), Q0 (P, n, k), X (P, n_steps, n_in), sums (P, k),
    hist (P, rows, k); info (P, 2) receives (status, step) per member."""
    for k in prange(H0.shape[0]):
        s, t = spectrum(_member(p, k), H0[k], Q0[k], X[k], n_transient, ortho_every,
                        record_every, sums[k], hist[k])
        info[k, 0] = s
        info[k, 1] = t


@njit(**_JIT)
def two_trajectory(p, h0, v0, d0, X, n_transient, renorm_every, record_every, out, hist):
    """Largest exponent per step from a reference and a perturbed orbit (no Jacobian)."""
    n = h0.shape[0]
    n_steps = X.shape[0]
    n_total = n_steps - n_transient
    h = h0.copy()
    z = np.empty(n)
    hn = np.empty(n)
    work = np.empty(_work_size(p))
    for s in range(n_transient):
        _step(h, X[s], p, hn, work)
        h[:] = hn
    acc = 0.0
    for i in range(n):
        z[i] = h[i] + d0 * v0[i]
        acc += h[i]
    if not np.isfinite(acc):
        return 1, n_transient
    total = 0.0
    n_rn = 0
    row = 0
    for s in range(n_total):
        x = X[n_transient + s]
        _step(h, x, p, hn, work)
        h[:] = hn
        _step(z, x, p, hn, work)
        z[:] = hn
        if (s + 1) % renorm_every == 0 or s == n_total - 1:
            d = 0.0
            for i in range(n):
                d += (z[i] - h[i]) ** 2
            d = np.sqrt(d)
            if not np.isfinite(d):
                return 1, n_transient + s + 1
            if d == 0.0:  # merged with the reference: no direction left to rescale
                return 2, n_transient + s + 1
            total += np.log(d / d0)
            for i in range(n):
                z[i] = h[i] + (z[i] - h[i]) * (d0 / d)
            n_rn += 1
            if (n_rn % record_every == 0 or s == n_total - 1) and row < hist.shape[0]:
                hist[row, 0] = total / (s + 1)
                row += 1
    out[0] = total / n_total
    return 0, n_steps


@njit(**_JIT_PARALLEL)
def two_trajectory_population(p, H0, V0, d0, X, n_transient, renorm_every, record_every, out,
                              hist, info):
    for k in prange(H0.shape[0]):
        s, t = two_trajectory(_member(p, k), H0[k], V0[k], d0, X[k], n_transient, renorm_every,
                              record_every, out[k], hist[k])
        info[k, 0] = s
        info[k, 1] = t
