# needs: _rhs _output _member _work_size
# Kernel template for continuous-time models (see rnndyn/_jit.py): specialised per model
# family, where _rhs, _output and _member are that family's jitted functions:
#   _rhs(t, y, u, p, dy, work)   dy/dt written into dy
#   _output(y, p, out)           model outputs written into out
#   _member(p, k)                 parameters of individual k of a population
#   _work_size(p)                length of the scratch vector
# Status codes: 0 success, 1 non-finite state, 2 step size underflow (rk45), 3 max_steps
# reached (rk45).
import numpy as np
from numba import njit, prange

from rnndyn._kernels import first_bad, input_at
from rnndyn._kernels import finite as _finite

EULER, RK4 = 0, 1

# Dormand-Prince 5(4) tableau, error weights and dense-output matrix (Hairer, Norsett & Wanner,
# Solving ODEs I, II.5; the same numbers as scipy.integrate.RK45).
_C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0])
_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1 / 5, 0.0, 0.0, 0.0, 0.0],
    [3 / 40, 9 / 40, 0.0, 0.0, 0.0],
    [44 / 45, -56 / 15, 32 / 9, 0.0, 0.0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0.0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656]])
_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
_E = np.array([-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
_P = np.array([
    [1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
    [0.0, 0.0, 0.0, 0.0],
    [0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
    [0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
    [0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
    [0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
    [0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423]])


# A non-finite state stays non-finite (inf - inf = nan; nan propagates), so it is enough to
# test every CHECK + 1 steps and at the end (a test per step or per sample cost 15-25% at
# n = 10). After a failed test the run is replayed from the last sample known finite, testing
# every step, to name the exact step and unit.
CHECK = 63


@njit(**_JIT)
def fixed_step(p, y0, t_out, C, H, method, tu, U, hold, Y):
    """Fixed-step euler/rk4 from t_out[0]; fills Y (T, n).

    Output interval k is crossed in C[k+1] - C[k] steps of size H[k] (the caller splits each
    interval into equal steps so outputs land exactly on t_out; computing that here cost 15%
    at n = 10). Returns (status, time of failure or end, first bad unit or -1, last good sample).
    """
    if method == EULER:
        return _euler(p, y0, t_out, C, H, tu, U, hold, Y)
    return _rk4(p, y0, t_out, C, H, tu, U, hold, Y)


# The euler and rk4 drivers below repeat their bookkeeping on purpose and run one flat loop
# over all steps: any numba call passing arrays inside the loop (even an inlined one) costs
# reference counting, and a nested loop over each interval's steps measured 1.3x slower at
# n = 10 with one step per output sample. C[k] is the number of steps before output k.
@njit(**_JIT)
def _euler(p, y0, t_out, C, H, tu, U, hold, Y):
    n = y0.shape[0]
    y = y0.copy()
    k1 = np.empty(n)
    u = np.empty(U.shape[1])
    work = np.empty(_work_size(p))
    driven = U.shape[1] > 0
    pos = input_at(tu, U, t_out[0], 0, hold, u)
    Y[0] = y
    every, count, k_ok, k, g, total = CHECK, 0, 0, 0, 0, C[-1]
    while g < total:
        h = H[k]
        t = t_out[k] + (g - C[k]) * h
        if driven:
            pos = input_at(tu, U, t, pos, hold, u)
        _rhs(t, y, u, p, k1, work)
        for i in range(n):
            y[i] += h * k1[i]
        g += 1
        count += 1
        bad = False
        if count > every or g == total:
            count = 0
            bad = not _finite(y)
            if not bad:
                k_ok = k
        if bad:
            if every == 0:
                return 1, t + h, first_bad(y), k
            k = k_ok  # replay from the last sample known finite, testing every step
            g = C[k]
            y[:] = Y[k]
            pos = input_at(tu, U, t_out[k], 0, hold, u)
            every = 0
        elif g == C[k + 1]:
            k += 1
            Y[k] = y
    return 0, t_out[-1], -1, k  # k = T - 1 unless the step grid skipped samples


@njit(**_JIT)
def _rk4(p, y0, t_out, C, H, tu, U, hold, Y):
    n = y0.shape[0]
    y = y0.copy()
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    ys = np.empty(n)
    u = np.empty(U.shape[1])
    work = np.empty(_work_size(p))
    driven = U.shape[1] > 0
    pos = input_at(tu, U, t_out[0], 0, hold, u)
    Y[0] = y
    every, count, k_ok, k, g, total = CHECK, 0, 0, 0, 0, C[-1]
    while g < total:
        h = H[k]
        t = t_out[k] + (g - C[k]) * h
        if driven:
            pos = input_at(tu, U, t, pos, hold, u)
        _rhs(t, y, u, p, k1, work)
        for i in range(n):
            ys[i] = y[i] + 0.5 * h * k1[i]
        if driven and not hold:  # held inputs keep their step-start value
            pos = input_at(tu, U, t + 0.5 * h, pos, hold, u)
        _rhs(t + 0.5 * h, ys, u, p, k2, work)
        for i in range(n):
            ys[i] = y[i] + 0.5 * h * k2[i]
        _rhs(t + 0.5 * h, ys, u, p, k3, work)
        for i in range(n):
            ys[i] = y[i] + h * k3[i]
        if driven and not hold:
            pos = input_at(tu, U, t + h, pos, hold, u)
        _rhs(t + h, ys, u, p, k4, work)
        for i in range(n):
            y[i] += h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i])
        g += 1
        count += 1
        bad = False
        if count > every or g == total:
            count = 0
            bad = not _finite(y)
            if not bad:
                k_ok = k
        if bad:
            if every == 0:
                return 1, t + h, first_bad(y), k
            k = k_ok
            g = C[k]
            y[:] = Y[k]
            pos = input_at(tu, U, t_out[k], 0, hold, u)
            every = 0
        elif g == C[k + 1]:
            k += 1
            Y[k] = y
    return 0, t_out[-1], -1, k


@njit(**_JIT)
def _rms(x):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * x[i]
    return np.sqrt(s / max(1, x.shape[0]))


@njit(**_JIT)
def rk45(p, y0, t_out, h_init, h_max, rtol, atol, max_steps, tu, U, hold, Y):
    """Adaptive Dormand-Prince 5(4) with dense output at t_out; returns as fixed_step.

    Step control as in Hairer, Norsett & Wanner II.4 (the scheme scipy's RK45 uses). At most
    max_steps attempted steps (accepted or rejected): then status 3 (the kernel runs without
    the GIL, so this budget is what bounds its run time).
    """
    n = y0.shape[0]
    y = y0.copy()
    K = np.empty((7, n))
    ys = np.empty(n)
    yn = np.empty(n)
    sc = np.empty(n)
    Q = np.empty((n, 4))
    u = np.empty(U.shape[1])
    work = np.empty(_work_size(p))
    Y[0] = y
    t = t_out[0]
    t_end = t_out[-1]
    T = t_out.shape[0]
    if T == 1:
        return 0, t, -1, 0
    pos = input_at(tu, U, t, 0, hold, u)
    _rhs(t, y, u, p, K[0], work)
    h = h_init
    if h <= 0.0:  # Hairer's initial step heuristic
        for i in range(n):
            sc[i] = atol + np.abs(y[i]) * rtol
            ys[i] = y[i] / sc[i]
            yn[i] = K[0, i] / sc[i]
        d0 = _rms(ys)
        d1 = _rms(yn)
        h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
        # h0 = 0 if d1 overflowed (e.g. tau = 1e-300): the step-size test below reports it
        h0 = max(min(h0, t_end - t), 10.0 * np.abs(np.nextafter(t, np.inf) - t))
        for i in range(n):
            ys[i] = y[i] + h0 * K[0, i]
        pos = input_at(tu, U, t + h0, pos, hold, u)
        _rhs(t + h0, ys, u, p, K[1], work)
        for i in range(n):
            yn[i] = (K[1, i] - K[0, i]) / sc[i]
        d2 = _rms(yn) / h0
        dm = max(d1, d2)
        h1 = max(1e-6, h0 * 1e-3) if dm <= 1e-15 else (0.01 / dm) ** 0.2
        h = min(100.0 * h0, h1)
    h = min(h, h_max)
    k_out = 1
    n_steps = 0
    while k_out < T:
        h = min(h, t_end - t, h_max)
        h_min = 10.0 * np.abs(np.nextafter(t, np.inf) - t)
        accepted = False
        err = 0.0
        while not accepted:
            if h < h_min:
                return 2, t, -1, k_out - 1
            n_steps += 1
            if n_steps > max_steps:
                return 3, t, -1, k_out - 1
            for s in range(1, 6):
                for i in range(n):
                    acc = y[i]
                    for r in range(s):
                        acc += h * _A[s, r] * K[r, i]
                    ys[i] = acc
                pos = input_at(tu, U, t + _C[s] * h, pos, hold, u)
                _rhs(t + _C[s] * h, ys, u, p, K[s], work)
            for i in range(n):
                acc = y[i]
                for r in range(6):
                    acc += h * _B[r] * K[r, i]
                yn[i] = acc
            _rhs(t + h, yn, u, p, K[6], work)
            for i in range(n):
                e = 0.0
                for r in range(7):
                    e += _E[r] * K[r, i]
                ys[i] = h * e / (atol + max(np.abs(y[i]), np.abs(yn[i])) * rtol)
            err = _rms(ys)
            if not np.isfinite(err):
                if h > h_min:  # maybe the step was too large: retry smaller
                    h *= 0.2
                    continue
                return 1, t + h, first_bad(yn), k_out - 1
            if err <= 1.0:
                accepted = True
            else:
                h *= max(0.2, 0.9 * err ** -0.2)
        # dense output for every requested time inside (t, t + h]
        t_new = t + h
        if k_out < T and t_out[k_out] <= t_new:
            for i in range(n):
                for c in range(4):
                    acc = 0.0
                    for r in range(7):
                        acc += K[r, i] * _P[r, c]
                    Q[i, c] = acc
            while k_out < T and t_out[k_out] <= t_new:
                x = (t_out[k_out] - t) / h
                acc = 0.0
                for i in range(n):
                    v = y[i] + h * x * (Q[i, 0] + x * (Q[i, 1] + x * (Q[i, 2] + x * Q[i, 3])))
                    Y[k_out, i] = v
                    acc += v
                if not np.isfinite(acc):  # the interpolant can overflow where y and yn do not
                    for i in range(n):
                        if not np.isfinite(Y[k_out, i]):
                            return 1, t_out[k_out], i, k_out - 1
                k_out += 1
        t = t_new
        for i in range(n):
            y[i] = yn[i]
            K[0, i] = K[6, i]  # first same as last
        fac = 10.0 if err == 0.0 else min(10.0, 0.9 * err ** -0.2)
        h *= fac
    return 0, t, -1, T - 1


@njit(**_JIT_PARALLEL)
def fixed_step_population(p, Y0, t_out, C, H, method, tu, U, hold, Y, info):
    """Population version: Y0 (P, n), U (P, Tu, n_in), Y (P, T, n).

    info (P, 4) receives (status, time, unit, last good sample) for each individual.
    """
    for k in prange(Y0.shape[0]):
        s, tf, unit, last = fixed_step(_member(p, k), Y0[k], t_out, C, H, method, tu, U[k],
                                       hold, Y[k])
        info[k, 0] = s
        info[k, 1] = tf
        info[k, 2] = unit
        info[k, 3] = last


@njit(**_JIT_PARALLEL)
def rk45_population(p, Y0, t_out, h_init, h_max, rtol, atol, max_steps, tu, U, hold, Y, info):
    for k in prange(Y0.shape[0]):
        s, tf, unit, last = rk45(_member(p, k), Y0[k], t_out, h_init, h_max, rtol, atol,
                                 max_steps, tu, U[k], hold, Y[k])
        info[k, 0] = s
        info[k, 1] = tf
        info[k, 2] = unit
        info[k, 3] = last


@njit(**_JIT_PARALLEL)
def outputs(p, Y, OUT):
    """Model outputs of every stored state: Y (P, T, n) -> OUT (P, T, n_out)."""
    for k in prange(Y.shape[0]):
        pk = _member(p, k)
        for t in range(Y.shape[1]):
            _output(Y[k, t], pk, OUT[k, t])


@njit(**_JIT)
def outputs_serial(p, Y, OUT):
    """``outputs`` on the calling thread (a Stepper's reset, when its ticks are serial)."""
    for k in range(Y.shape[0]):
        pk = _member(p, k)
        for t in range(Y.shape[1]):
            _output(Y[k, t], pk, OUT[k, t])


@njit(**_JIT_PARALLEL)
def advance_population(p, Y, U, t, dt, n_sub, method, OUT, status, S, WORK):
    """One control tick in place: each row of Y (P, n) advances from t by dt in n_sub equal
    steps under the constant input U (P, n_in); outputs into OUT (P, n_out), status (P,) gets
    0 or 1 (non-finite). S (P, 5, n) and WORK (P, n_work) are scratch, allocated once by the
    caller so a tick allocates nothing."""
    for k in prange(Y.shape[0]):
        _advance(_member(p, k), Y[k], U[k], t, dt / n_sub, n_sub, method, S[k], WORK[k])
        status[k] = 0 if _finite(Y[k]) else 1
        _output(Y[k], _member(p, k), OUT[k])


@njit(**_JIT)
def advance_population_serial(p, Y, U, t, dt, n_sub, method, OUT, status, S, WORK):
    """``advance_population`` on the calling thread: for small populations the launch of
    numba's threads costs more than the work (20-30x more on a loaded machine)."""
    for k in range(Y.shape[0]):
        _advance(_member(p, k), Y[k], U[k], t, dt / n_sub, n_sub, method, S[k], WORK[k])
        status[k] = 0 if _finite(Y[k]) else 1
        _output(Y[k], _member(p, k), OUT[k])


@njit(**_JIT_PARALLEL)
def final_states(p, Y, U, member, n_steps, h, method, status):
    """Advance every row of Y (S, n) in place by n_steps euler/rk4 steps of h from t = 0
    under its constant input U (S, n_in) with the parameters of population member member[s],
    keeping only the end state (a basin grid of any size needs O(S n) memory); status[s] = 1
    if row s became non-finite (it stops there)."""
    for s in prange(Y.shape[0]):
        pk = _member(p, member[s])
        S = np.empty((5, Y.shape[1]))
        work = np.empty(_work_size(pk))
        status[s] = 0
        for start in range(0, n_steps, 64):
            _advance(pk, Y[s], U[s], start * h, h, min(64, n_steps - start), method, S, work)
            if not _finite(Y[s]):
                status[s] = 1
                break


@njit(**_JIT)
def _advance(p, y, u, t, h, n_sub, method, S, work):
    """n_sub steps of size h under the constant input u, in place."""
    n = y.shape[0]
    k1, k2, k3, k4, ys = S[0], S[1], S[2], S[3], S[4]
    for s in range(n_sub):
        ts = t + s * h
        _rhs(ts, y, u, p, k1, work)
        if method == EULER:
            for i in range(n):
                y[i] += h * k1[i]
            continue
        for i in range(n):
            ys[i] = y[i] + 0.5 * h * k1[i]
        _rhs(ts + 0.5 * h, ys, u, p, k2, work)
        for i in range(n):
            ys[i] = y[i] + 0.5 * h * k2[i]
        _rhs(ts + 0.5 * h, ys, u, p, k3, work)
        for i in range(n):
            ys[i] = y[i] + h * k3[i]
        _rhs(ts + h, ys, u, p, k4, work)
        for i in range(n):
            y[i] += h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i])
