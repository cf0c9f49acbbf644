"""Numba kernels of echo state networks (arrays and scalars only).

Parameter tuple p (a population adds a leading axis P to the arrays marked *):

``(W_in* (n, m), W_fb* (n, q), b* (n,), c* (n,), Wd* (n, n) or (0, 0), data* (nnz,),
indices (nnz,), indptr (n + 1,), act, sparse)``; indices and indptr unsigned (see
``_csr_rows_add``).

``c`` is the leak rate a (map, ``esn_*``) or 1/tau (flow, ``flow_*``); the recurrent
weights are either dense (``Wd``, ``sparse == 0``) or in CSR form (``data``, ``indices``,
``indptr``: the CSR pattern is the topology mask, shared by a population). The input of one
step is ``x = [u; y]``: m external inputs then q fed-back outputs (the teacher while
training, the readout's own output in closed loop).

* map:  ``h' = (1 - a) h + a f(s)``,  ``s = W_in u + W_fb y + W h + b``
* flow: ``dh/dt = (f(s) - h) / tau``

theta_raw = ``[W (n, n), W_in (n, m), W_fb (n, q), b (n,), a or tau (n,)]``.

The closed-loop kernels (``esn_generate``, ``esn_force``) feed a linear readout ``y = C [1;
u; h]`` (or ``C [1; h]``) back into the reservoir: coefficient matrix C (O, F) with the bias
in column 0. The time-series generators used by ``rnndyn.tasks`` and the leaky
integrate-and-fire network of the liquid state machine (``lif_run``) are at the end.
"""
import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_PARALLEL, JIT_SIMD
from ._discrete_kernels import TANH, act, act_prime

_INLINE = dict(JIT, inline="always")


@njit(**JIT)
def _csr_rows_add(data, indices, indptr, h, s, lo, hi):
    """s[i] += (W h)_i for rows lo <= i < hi of W in CSR form. With unsigned indptr and
    indices numba drops the negative-index wraparound from every load, and then 'reassoc'
    (LLVM gathers x over SIMD lanes) pays: 0.70 -> 0.35 ns per nonzero at N = 500, 10%
    density (with a signed indptr the gathers were slower than the scalar loop)."""
    for i in range(lo, hi):
        acc = s[i]
        for z in range(indptr[i], indptr[i + 1]):
            acc += data[z] * h[indices[z]]
        s[i] = acc


@njit(**JIT)
def work_size(p):
    return 4 * p[2].shape[0]


@njit(**JIT)
def member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5][k], p[6], p[7], p[8], p[9])


@njit(**JIT)
def param_size(p):
    n, m, q = p[2].shape[0], p[0].shape[1], p[1].shape[1]
    return n * n + n * m + n * q + 2 * n


@njit(**_INLINE)
def _pre_rows(h, x, p, s, lo, hi):
    """s[i] = (W_in u + W_fb y + W h + b)_i for lo <= i < hi, with x = [u; y]."""
    W_in, W_fb, b, Wd, data, indices, indptr = p[0], p[1], p[2], p[4], p[5], p[6], p[7]
    n, m, q = b.shape[0], W_in.shape[1], W_fb.shape[1]
    for i in range(lo, hi):
        acc = b[i]
        for k in range(m):
            acc += W_in[i, k] * x[k]
        for k in range(q):
            acc += W_fb[i, k] * x[m + k]
        if not p[9]:
            for j in range(n):
                acc += Wd[i, j] * h[j]
        s[i] = acc
    if p[9]:
        _csr_rows_add(data, indices, indptr, h, s, lo, hi)


@njit(**_INLINE)
def _pre(h, x, p, s):
    """s = W_in u + W_fb y + W h + b with x = [u; y]."""
    _pre_rows(h, x, p, s, 0, p[2].shape[0])


@njit(**dict(JIT_SIMD, inline="always"))
def _leaky(h, s, c, a, h_new):
    for i in range(h.shape[0]):
        h_new[i] = (1.0 - c[i]) * h[i] + c[i] * act(s[i], a)


@njit(**JIT_SIMD)
def esn_step(h, x, p, h_new, work):
    """h' = (1 - a) h + a f(s): every row of ``_esn_rows``."""
    _esn_rows(h, x, p, h_new, work, 0, h.shape[0])


@njit(**JIT)
def esn_states(p, h0, X, S):
    """S[t] = the state after step t from h0 on inputs X (T, m + q): one reservoir's run
    written straight into S (a reused buffer), without the generic runner's per-step
    output copy; what ``rnndyn.train.readout.fit`` feeds into the normal equations."""
    work = np.empty(work_size(p), dtype=S.dtype)
    h = h0
    for t in range(X.shape[0]):
        esn_step(h, X[t], p, S[t], work)
        h = S[t]


@njit(**JIT_SIMD)
def _esn_rows(h, x, p, out, s, lo, hi):
    """Rows lo <= i < hi of ``esn_step``: s[i] = the net input, out[i] = (1 - a_i) h_i +
    a_i f(s_i) (s apart from out: with the two the same array LLVM's runtime alias check
    keeps the tanh loop scalar, 3x slower)."""
    _pre_rows(h, x, p, s, lo, hi)
    c = p[3]
    if p[8] == TANH:  # a constant code lets LLVM vectorise the tanh loop
        _leaky(h[lo:hi], s[lo:hi], c[lo:hi], TANH, out[lo:hi])
    else:
        _leaky(h[lo:hi], s[lo:hi], c[lo:hi], p[8], out[lo:hi])


@njit(**JIT_PARALLEL)
def esn_states_parallel(p, h0, X, S, bounds):
    """``esn_states`` with each step's rows split over numba's threads: block k computes
    rows bounds[k] <= i < bounds[k + 1] of S[t] from S[t - 1] (blocks of equal nonzeros).
    One parallel region a step costs ~1.5 us (``rnndyn.train.readout.PARALLEL_WORK``)."""
    s = np.empty(S.shape[1], dtype=S.dtype)
    for t in range(X.shape[0]):
        h = h0 if t == 0 else S[t - 1]
        for k in prange(bounds.shape[0] - 1):
            _esn_rows(h, X[t], p, S[t], s, bounds[k], bounds[k + 1])


@njit(**JIT)
def flow_rhs(t, y, u, p, dy, work):
    """dy/dt = (f(s) - y) / tau."""
    _pre(y, u, p, work)
    c, a = p[3], p[8]
    for i in range(y.shape[0]):
        dy[i] = c[i] * (act(work[i], a) - y[i])


@njit(**_INLINE)
def _coefficients(h, x, p, work, flow):
    """work[:n] = s, work[n:2n] = d F_i / d s_i, work[2n:3n] = the diagonal d F_i/d h_i not
    through s, work[3n:4n] = d F_i / d (a_i or tau_i)."""
    _pre(h, x, p, work)
    c, a = p[3], p[8]
    n = h.shape[0]
    for i in range(n):
        f = act(work[i], a)
        work[n + i] = c[i] * act_prime(work[i], a)
        if flow:  # c = 1/tau: d/dtau [(f - h)/tau] = -(f - h)/tau^2
            work[2 * n + i] = -c[i]
            work[3 * n + i] = -(f - h[i]) * c[i] * c[i]
        else:
            work[2 * n + i] = 1.0 - c[i]
            work[3 * n + i] = f - h[i]


@njit(**_INLINE)
def _jacobian(h, x, p, J, work, flow):
    """J = diag(work[n:2n]) W + diag(work[2n:3n])."""
    _coefficients(h, x, p, work, flow)
    n = h.shape[0]
    Wd, data, indices, indptr = p[4], p[5], p[6], p[7]
    for i in range(n):
        d = work[n + i]
        if p[9]:
            for j in range(n):
                J[i, j] = 0.0
            for z in range(indptr[i], indptr[i + 1]):
                J[i, indices[z]] = d * data[z]
        else:
            for j in range(n):
                J[i, j] = d * Wd[i, j]
        J[i, i] += work[2 * n + i]


@njit(**JIT)
def esn_jacobian(h, x, p, J, work):
    """dh'/dh = (1 - a) I + a diag(f'(s)) W."""
    _jacobian(h, x, p, J, work, False)


@njit(**JIT)
def flow_jacobian(t, y, u, p, J, work):
    """d(dy/dt)/dy = diag(1/tau) (diag(f'(s)) W - I)."""
    _jacobian(y, u, p, J, work, True)


@njit(**JIT)
def esn_jac_input(h, x, p, Jx, work):
    """dh'/dx = a diag(f'(s)) [W_in | W_fb] (Jx (n, m + q)): what a deep stack chains."""
    _coefficients(h, x, p, work, False)
    W_in, W_fb = p[0], p[1]
    n, m, q = h.shape[0], W_in.shape[1], W_fb.shape[1]
    for i in range(n):
        d = work[n + i]
        for k in range(m):
            Jx[i, k] = d * W_in[i, k]
        for k in range(q):
            Jx[i, m + k] = d * W_fb[i, k]


@njit(**_INLINE)
def _vjp(h, x, p, v, gh, gx, gp, work, flow):
    """With delta = v * work[n:2n]: gh = W^T delta + v * work[2n:3n], gx = [W_in; W_fb]^T
    delta, gp = [delta h^T, delta u^T, delta y^T, delta, v * work[3n:4n]]."""
    _coefficients(h, x, p, work, flow)
    W_in, W_fb, Wd, data, indices, indptr = p[0], p[1], p[4], p[5], p[6], p[7]
    n, m, q = h.shape[0], W_in.shape[1], W_fb.shape[1]
    o_in = n * n
    o_fb = o_in + n * m
    o_b = o_fb + n * q
    o_c = o_b + n
    for j in range(n):
        gh[j] = v[j] * work[2 * n + j]
    for k in range(m + q):
        gx[k] = 0.0
    for i in range(n):
        d = v[i] * work[n + i]
        r = i * n
        for j in range(n):
            gp[r + j] = d * h[j]
        if p[9]:
            for z in range(indptr[i], indptr[i + 1]):
                gh[indices[z]] += d * data[z]
        else:
            for j in range(n):
                gh[j] += d * Wd[i, j]
        for k in range(m):
            gp[o_in + i * m + k] = d * x[k]
            gx[k] += d * W_in[i, k]
        for k in range(q):
            gp[o_fb + i * q + k] = d * x[m + k]
            gx[m + k] += d * W_fb[i, k]
        gp[o_b + i] = d
        gp[o_c + i] = v[i] * work[3 * n + i]


@njit(**JIT)
def esn_vjp(h, x, p, v, gh, gx, gp, work):
    _vjp(h, x, p, v, gh, gx, gp, work, False)


@njit(**JIT)
def flow_vjp(t, y, u, p, v, gy, gu, gp, work):
    _vjp(y, u, p, v, gy, gu, gp, work, True)


# -- closed loop: the readout fed back -----------------------------------------------------
@njit(**_INLINE)
def _readout(C, u, h, with_input, y):
    """y = C [1; u; h] (with_input) or C [1; h]."""
    m = u.shape[0] if with_input else 0
    for o in range(C.shape[0]):
        acc = C[o, 0]
        for k in range(m):
            acc += C[o, 1 + k] * u[k]
        for j in range(h.shape[0]):
            acc += C[o, 1 + m + j] * h[j]
        y[o] = acc


@njit(**JIT)
def esn_generate(p, h0, y0, U, C, with_input, into_input, X, Y):
    """Run the reservoir with its readout's output fed back, T = X.shape[0] steps.

    Step t reads x = [u_t; y_{t-1}] where u_t = U[t] (or y_{t-1} itself if ``into_input``:
    the one-step predictor turned generator), then ``Y[t] = C [1; u_t; h_t]``; ``X[t] = h_t``.
    h0 (n,) and y0 (O,) are the state and the output before the first step. Returns the
    first step whose state is not finite, or -1."""
    n, m, q = h0.shape[0], p[0].shape[1], p[1].shape[1]
    O = C.shape[0]
    x = np.empty(m + q)
    work = np.empty(work_size(p))
    y = y0.copy()
    h = h0.copy()
    for t in range(X.shape[0]):
        for k in range(m):
            x[k] = y[k] if into_input else U[t, k]
        for k in range(q):
            x[m + k] = y[k]
        esn_step(h, x, p, X[t], work)
        _readout(C, x[:m], X[t], with_input, y)
        for o in range(O):
            Y[t, o] = y[o]
        acc = 0.0
        for i in range(n):
            acc += X[t, i]
            h[i] = X[t, i]
        if not np.isfinite(acc):
            return t + 1
    return -1


@njit(**_INLINE)
def rls_update(Pm, C, r, err, k, lam):
    """One recursive-least-squares step (Sussillo & Abbott 2009, Neuron 63:544, eqs. 4-5;
    forgetting factor lam): k = P r, P <- (P - k k^T / (lam + r^T P r)) / lam,
    C <- C - err (P_new r)^T with err = C r - d the error before the update."""
    F = r.shape[0]
    for i in range(F):
        acc = 0.0
        for j in range(F):
            acc += Pm[i, j] * r[j]
        k[i] = acc
    rPr = 0.0
    for i in range(F):
        rPr += r[i] * k[i]
    g = 1.0 / (lam + rPr)
    for i in range(F):
        ki = k[i] * g
        for j in range(F):
            Pm[i, j] = (Pm[i, j] - ki * k[j]) / lam
    # P_new r = k / (lam + r^T P r)
    for o in range(C.shape[0]):
        e = err[o] * g
        for j in range(F):
            C[o, j] -= e * k[j]


@njit(**JIT)
def rls_fit(R, D, C, Pm, lam, E):
    """RLS over given features R (T, F) (column 0 = 1) and targets D (T, O); E[t] = the
    error before the update at step t."""
    F, O = R.shape[1], D.shape[1]
    k = np.empty(F)
    err = np.empty(O)
    for t in range(R.shape[0]):
        for o in range(O):
            acc = 0.0
            for j in range(F):
                acc += C[o, j] * R[t, j]
            err[o] = acc - D[t, o]
            E[t, o] = err[o]
        rls_update(Pm, C, R[t], err, k, lam)


@njit(**JIT)
def esn_force(p, h0, y0, U, D, C, Pm, with_input, teacher, lam, every, X, Y):
    """Online learning with the reservoir in the loop: FORCE (Sussillo & Abbott 2009) when
    ``teacher == 0`` (the fed-back y is the readout's own output, kept close to the target by
    fast RLS updates), RLS on teacher-forced states when ``teacher == 1`` (y = D[t-1]).
    Updates every ``every`` steps; Y[t] is the output before the update."""
    n, m, q = h0.shape[0], p[0].shape[1], p[1].shape[1]
    O = C.shape[0]
    F = C.shape[1]
    x = np.empty(m + q)
    r = np.empty(F)
    kv = np.empty(F)
    err = np.empty(O)
    work = np.empty(work_size(p))
    y = y0.copy()
    h = h0.copy()
    mi = m if with_input else 0
    for t in range(X.shape[0]):
        for k in range(m):
            x[k] = U[t, k]
        for k in range(q):
            x[m + k] = y[k] if (teacher == 0 or t == 0) else D[t - 1, k]
        esn_step(h, x, p, X[t], work)
        r[0] = 1.0
        for k in range(mi):
            r[1 + k] = x[k]
        for j in range(n):
            r[1 + mi + j] = X[t, j]
            h[j] = X[t, j]
        for o in range(O):
            acc = 0.0
            for j in range(F):
                acc += C[o, j] * r[j]
            Y[t, o] = acc
            err[o] = acc - D[t, o]
        if (t + 1) % every == 0:
            rls_update(Pm, C, r, err, kv, lam)
        for o in range(O):  # FORCE feeds back the output after the update
            acc = 0.0
            for j in range(F):
                acc += C[o, j] * r[j]
            y[o] = acc
        if not np.isfinite(h.sum()):
            return t + 1
    return -1


# -- liquid state machine: leaky integrate-and-fire units --------------------------------
@njit(**JIT)
def lif_run(W, W_in, tau_m, tau_s, v_rest, v_reset, v_th, n_ref, R, I_bias, dt, U, spiking,
            v0, raster, V):
    """Leaky integrate-and-fire network by forward Euler, step dt.

    ``tau_m dv/dt = -(v - v_rest) + R (I_syn + I_bias + I_ext)``; ``tau_s dI_syn/dt = -I_syn``
    plus a jump of W[i, j] when unit j spikes (and of W_in[i, k] when input k spikes if
    ``spiking``; else I_ext = W_in u(t), a current). v >= v_th: a spike, v <- v_reset, held
    there for n_ref steps. U (T, n_in); raster (T, n) receives the spikes (0/1), V (T, n)
    the membrane potentials after each step; v0 (n,) the initial potentials."""
    T, n, m = U.shape[0], W.shape[0], W_in.shape[1]
    v = v0.copy()
    I = np.zeros(n)
    ref = np.zeros(n, dtype=np.int64)
    prev = np.zeros(n)
    for t in range(T):
        for i in range(n):
            jump = 0.0
            for j in range(n):
                if prev[j] != 0.0:
                    jump += W[i, j]
            ext = 0.0
            for k in range(m):
                ext += W_in[i, k] * U[t, k]
            if spiking:
                jump += ext
                ext = 0.0
            I[i] += -dt / tau_s[i] * I[i] + jump
            if ref[i] > 0:
                ref[i] -= 1
                v[i] = v_reset[i]
                raster[t, i] = 0.0
            else:
                v[i] += dt / tau_m[i] * (-(v[i] - v_rest[i]) + R[i] * (I[i] + I_bias[i] + ext))
                if v[i] >= v_th[i]:
                    raster[t, i] = 1.0
                    v[i] = v_reset[i]
                    ref[i] = n_ref[i]
                else:
                    raster[t, i] = 0.0
            V[t, i] = v[i]
        for i in range(n):
            prev[i] = raster[t, i]
