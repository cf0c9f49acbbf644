# needs: _rhs _jac _member _work_size _matmul _orthonormalise
# optional: _jvp
# Kernel template for Lyapunov exponents of continuous-time models (see rnndyn/_jit.py),
# specialised per model family with that family's jitted functions:
#   _rhs(t, y, u, p, dy, work)   dy/dt written into dy
#   _jac(t, y, u, p, J, work)    d(dy/dt)/dy written into J (n, n)
#   _jvp(t, y, u, p, Y, A, J, work)  A = d(dy/dt)/dy @ Y without forming it (J: scratch);
#                                False where the family has none (then _jac and _matmul)
#   _member(p, k)                 parameters of individual k of a population
#   _work_size(p)                length of the scratch vector
#   _matmul, _orthonormalise     from _lyapunov_kernels.py (compiled once, cached; passed
#                                here so an edit there renames the generated module)
# The tangent basis Y (n, k) is integrated with the same Runge-Kutta stages as the state: the
# result is the exact derivative of the discrete step map (RK methods commute with
# linearisation), so the exponents are those of the integrator, not of a second scheme.
# Status codes: 0 success, 1 non-finite state or tangent basis.
import numpy as np
from numba import njit, prange

from rnndyn._kernels import input_at

EULER, RK4 = 0, 1


# Butcher nodes and weights of the explicit schemes: euler, and classical rk4 (weights / 6).
# One loop over stages keeps a single call site of _rhs/_jac (4x less code to compile).
_NODES = np.array([[0.0, 0.0, 0.0, 0.0], [0.0, 0.5, 0.5, 1.0]])
_WEIGHTS = np.array([[1.0, 0.0, 0.0, 0.0], [1.0 / 6, 2.0 / 6, 2.0 / 6, 1.0 / 6]])
_STAGES = np.array([1, 4])


@njit(**_JIT)
def rk_step(p, y, t, h, method, tu, U, hold, pos, u, kb, ks, ys, work):
    """One euler/rk4 step of the state only (kb, ks, ys: scratch (n,)); returns the input
    search position. Stage i evaluates at y + c_i h k_{i-1} (rk4's tableau is diagonal)."""
    n = y.shape[0]
    for i in range(n):
        ys[i] = y[i]
        ks[i] = 0.0
    for st in range(_STAGES[method]):
        c = _NODES[method, st]
        if st > 0:
            for i in range(n):
                ys[i] = y[i] + c * h * kb[i]
        pos = input_at(tu, U, t + c * h, pos, hold, u)
        _rhs(t + c * h, ys, u, p, kb, work)
        w = _WEIGHTS[method, st]
        for i in range(n):
            ks[i] += w * kb[i]
    for i in range(n):
        y[i] += h * ks[i]
    return pos


@njit(**_JIT)
def tangent_step(p, y, Y, t, h, method, tu, U, hold, pos, u, kb, ks, ys, Jm, A, Ys, S, work):
    """One euler/rk4 step of the state y (n,) and the tangent basis Y (n, k) together.

    Stage i of the tangent system is A_i = J(t_i, y_i) Y_i with Y_i built from A_{i-1} exactly
    as y_i is built from k_{i-1}; S and ks accumulate the weighted stages."""
    n = y.shape[0]
    kk = Y.shape[1]
    for i in range(n):
        ys[i] = y[i]
        ks[i] = 0.0
        for c in range(kk):
            S[i, c] = 0.0
    for st in range(_STAGES[method]):
        cn = _NODES[method, st]
        if st > 0:
            for i in range(n):
                ys[i] = y[i] + cn * h * kb[i]
                for c in range(kk):
                    Ys[i, c] = Y[i, c] + cn * h * A[i, c]
        ts = t + cn * h
        pos = input_at(tu, U, ts, pos, hold, u)
        _rhs(ts, ys, u, p, kb, work)
        if not _jvp(ts, ys, u, p, Y if st == 0 else Ys, A, Jm, work):
            _jac(ts, ys, u, p, Jm, work)
            _matmul(Jm, Y if st == 0 else Ys, A)
        w = _WEIGHTS[method, st]
        for i in range(n):
            ks[i] += w * kb[i]
            for c in range(kk):
                S[i, c] += w * A[i, c]
    for i in range(n):
        y[i] += h * ks[i]
        for c in range(kk):
            Y[i, c] += h * S[i, c]
    return pos


@njit(**_JIT)
def spectrum(p, y0, Q0, t0, dt, method, n_transient, n_total, ortho_every, record_every, tu,
             U, hold, sums, hist):
    """Benettin/QR spectrum of one flow.

    The state and the basis Q0 (n, k) evolve for n_transient steps (QR every ortho_every
    steps, nothing accumulated: the basis relaxes towards the Oseledets directions), then for
    n_total steps accumulating ln|diag R| into sums (k,). Every record_every-th QR the running
    estimates sums / elapsed time go to the next row of hist (and after the last QR).
    Returns (status, time).
    """
    n = y0.shape[0]
    kk = Q0.shape[1]
    y = y0.copy()
    Y = Q0.copy()
    kb = np.empty(n)
    ks = np.empty(n)
    ys = np.empty(n)
    Jm = np.empty((n, n))
    A = np.empty((n, kk))
    Ys = np.empty((n, kk))
    S = np.empty((n, kk))
    u = np.empty(U.shape[1])
    work = np.empty(_work_size(p))
    scratch = np.zeros(kk)
    for c in range(kk):
        sums[c] = 0.0
    pos = 0
    n_qr = 0
    row = 0
    n_steps = n_transient + n_total
    for s in range(n_steps):
        t = t0 + s * dt
        pos = tangent_step(p, y, Y, t, dt, method, tu, U, hold, pos, u, kb, ks, ys, Jm, A,
                           Ys, S, work)
        measuring = s >= n_transient
        m = s + 1 - n_transient if measuring else s + 1
        if m % ortho_every == 0 or s == n_steps - 1 or (not measuring and s == n_transient - 1):
            ok = _orthonormalise(Y, sums if measuring else scratch)
            acc = 0.0
            for i in range(n):
                acc += y[i]
            if not ok or not np.isfinite(acc):
                return 1, t + dt
            if measuring:
                n_qr += 1
                if (n_qr % record_every == 0 or s == n_steps - 1) and row < hist.shape[0]:
                    for c in range(kk):
                        hist[row, c] = sums[c] / (m * dt)
                    row += 1
    for c in range(kk):
        sums[c] /= n_total * dt
    return 0, t0 + n_steps * dt


@njit(**_JIT_PARALLEL)
def spectrum_population(p, Y0, Q0, t0, dt, method, n_transient, n_total, ortho_every,
                        record_every, tu, U, hold, sums, hist, info):
    """Population version: Y0 (P, n), Q0 (P, n, k), U (P, Tu, n_in), sums (P, k),
    hist (P, rows, k); info (P, 2) receives (status, time) per member."""
    for k in prange(Y0.shape[0]):
        s, tf = spectrum(_member(p, k), Y0[k], Q0[k], t0, dt, method, n_transient, n_total,
                         ortho_every, record_every, tu, U[k], hold, sums[k], hist[k])
        info[k, 0] = s
        info[k, 1] = tf


@njit(**_JIT)
def two_trajectory(p, y0, v0, d0, t0, dt, method, n_transient, n_total, renorm_every,
                   record_every, tu, U, hold, out, hist):
    """Largest exponent from a reference and a perturbed trajectory (no Jacobian).

    After the transient the perturbed state is y + d0 v0; every renorm_every steps the
    separation d is measured, ln(d / d0) accumulated and the separation rescaled to d0.
    out[0] receives the exponent. Returns (status, time)."""
    n = y0.shape[0]
    y = y0.copy()
    z = np.empty(n)
    kb = np.empty(n)
    ks = np.empty(n)
    ys = np.empty(n)
    u = np.empty(U.shape[1])
    work = np.empty(_work_size(p))
    pos = 0
    for s in range(n_transient):
        pos = rk_step(p, y, t0 + s * dt, dt, method, tu, U, hold, pos, u, kb, ks, ys,
                      work)
    acc = 0.0
    for i in range(n):
        z[i] = y[i] + d0 * v0[i]
        acc += y[i]
    if not np.isfinite(acc):
        return 1, t0 + n_transient * dt
    total = 0.0
    n_rn = 0
    row = 0
    for s in range(n_total):
        t = t0 + (n_transient + s) * dt
        pz = pos
        pos = rk_step(p, y, t, dt, method, tu, U, hold, pos, u, kb, ks, ys, work)
        rk_step(p, z, t, dt, method, tu, U, hold, pz, u, kb, ks, ys, work)
        if (s + 1) % renorm_every == 0 or s == n_total - 1:
            d = 0.0
            for i in range(n):
                d += (z[i] - y[i]) ** 2
            d = np.sqrt(d)
            if not np.isfinite(d):
                return 1, t + dt
            if d == 0.0:  # merged with the reference: no direction left to rescale
                return 2, t + dt
            total += np.log(d / d0)
            for i in range(n):
                z[i] = y[i] + (z[i] - y[i]) * (d0 / d)
            n_rn += 1
            if (n_rn % record_every == 0 or s == n_total - 1) and row < hist.shape[0]:
                hist[row, 0] = total / ((s + 1) * dt)
                row += 1
    out[0] = total / (n_total * dt)
    return 0, t0 + (n_transient + n_total) * dt


@njit(**_JIT_PARALLEL)
def two_trajectory_population(p, Y0, V0, d0, t0, dt, method, n_transient, n_total,
                              renorm_every, record_every, tu, U, hold, out, hist, info):
    for k in prange(Y0.shape[0]):
        s, tf = two_trajectory(_member(p, k), Y0[k], V0[k], d0, t0, dt, method, n_transient,
                               n_total, renorm_every, record_every, tu, U[k], hold, out[k],
                               hist[k])
        info[k, 0] = s
        info[k, 1] = tf
