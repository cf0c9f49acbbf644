"""Numba kernels of the clockwork RNN (Koutník, Greff, Gomez & Schmidhuber 2014,
arXiv:1402.3511), arrays and scalars only; the equations are in ``rnndyn.models.clockwork``.

Parameter tuple ``p`` (a population adds a leading axis P to the first five arrays)::

    (W_in (H, m), W (H, H) masked, b (H,), W_y (O, H), b_y (O,), period (H,) int64,
     L (the lcm of the periods), act, act_y, readout)

State (n = H + 1): the H unit activities, then the step counter c. The step is read as
k = round(c) (``floor(c + 1/2)``); unit i updates iff ``k mod period[i] == 0``, else keeps its
value, and the counter moves to ``c + ((k + 1) mod L) - k`` (= (k + 1) mod L for an integer c):
d c'/d c = 1, and the units do not depend on c (the update mask is piecewise constant).

theta_raw = [W_in, W, b, W_y, b_y] (C order); the readout does not enter the step (zeros in
the step's derivatives), as in the Elman kernels.
"""
import numpy as np
from numba import njit

from .._config import JIT
from ._discrete_kernels import act, act_prime


@njit(**JIT)
def clockwork_work_size(p):
    return p[1].shape[0]


@njit(**JIT)
def clockwork_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5], p[6], p[7], p[8], p[9])


@njit(**JIT)
def clockwork_param_size(p):
    """Length d of the raw parameter vector ``[W_in, W, b, W_y, b_y]``."""
    H, m, O = p[1].shape[0], p[0].shape[1], p[3].shape[0]
    return H * m + H * H + H + O * H + O


@njit(**JIT)
def _phase(c, L):
    """(k mod L, k) for the step k = round(c) read from the counter entry c."""
    k = np.int64(np.floor(c + 0.5))
    t = k % L
    if t < 0:
        t += L
    return t, k


@njit(**JIT)
def _forward(h, x, p, work):
    """work[i] = pre-activation of unit i if it updates at this step (else not written):
    only the modules that update are computed. Returns (k mod L, k)."""
    W_in, W, b, period, L = p[0], p[1], p[2], p[5], p[6]
    H, m = W.shape[0], W_in.shape[1]
    t, k = _phase(h[H], L)
    for i in range(H):
        if t % period[i] != 0:
            continue
        s = b[i]
        for q in range(m):
            s += W_in[i, q] * x[q]
        for j in range(H):
            s += W[i, j] * h[j]
        work[i] = s
    return t, k


@njit(**JIT)
def clockwork_step(h, x, p, h_new, work):
    """Units of the modules whose period divides the step update, h'_i = act(s_i); the
    others keep h_i; the counter advances by one (mod L)."""
    period, L, a = p[5], p[6], p[7]
    H = p[1].shape[0]
    t, k = _forward(h, x, p, work)
    for i in range(H):
        h_new[i] = act(work[i], a) if t % period[i] == 0 else h[i]
    h_new[H] = h[H] + ((t + 1) % L - k)


@njit(**JIT)
def clockwork_jacobian(h, x, p, J, work):
    """Rows of updating units: act'(s_i) W[i, :]; of resting units: e_i^T; the counter's
    row: e_H^T (zero column for the counter in every unit row)."""
    W, period, a = p[1], p[5], p[7]
    H = W.shape[0]
    t, k = _forward(h, x, p, work)
    for i in range(H + 1):
        for j in range(H + 1):
            J[i, j] = 0.0
    for i in range(H):
        if t % period[i] == 0:
            d = act_prime(work[i], a)
            for j in range(H):
                J[i, j] = d * W[i, j]
        else:
            J[i, i] = 1.0
    J[H, H] = 1.0


@njit(**JIT)
def clockwork_jac_input(h, x, p, Jx, work):
    """d h'/d x: act'(s_i) W_in[i, :] for updating units, zero rows otherwise."""
    W_in, period, a = p[0], p[5], p[7]
    H, m = W_in.shape[0], W_in.shape[1]
    t, k = _forward(h, x, p, work)
    for i in range(H):
        d = act_prime(work[i], a) if t % period[i] == 0 else 0.0
        for q in range(m):
            Jx[i, q] = d * W_in[i, q]
    for q in range(m):
        Jx[H, q] = 0.0


@njit(**JIT)
def clockwork_vjp(h, x, p, v, gh, gx, gp, work):
    """v^T d h'/d(h, x, theta): with delta_i = v_i act'(s_i) for updating units (0 for the
    others), gh = W^T delta + v on resting units, gh[H] = v[H], gx = W_in^T delta,
    gp = [delta x^T, delta h^T, delta, 0 (readout)]."""
    W_in, W, period, a = p[0], p[1], p[5], p[7]
    H, m = W.shape[0], W_in.shape[1]
    t, k = _forward(h, x, p, work)
    o_W = H * m
    o_b = o_W + H * H
    for j in range(H):
        gh[j] = 0.0
    gh[H] = v[H]
    for q in range(m):
        gx[q] = 0.0
    for i in range(H):
        if t % period[i] != 0:
            gh[i] += v[i]
            for q in range(m):
                gp[i * m + q] = 0.0
            for j in range(H):
                gp[o_W + i * H + j] = 0.0
            gp[o_b + i] = 0.0
            continue
        d = v[i] * act_prime(work[i], a)
        for q in range(m):
            gp[i * m + q] = d * x[q]
            gx[q] += d * W_in[i, q]
        for j in range(H):
            gp[o_W + i * H + j] = d * h[j]
            gh[j] += d * W[i, j]
        gp[o_b + i] = d
    for q in range(o_b + H, clockwork_param_size(p)):
        gp[q] = 0.0


@njit(**JIT)
def clockwork_param_jacobian(h, x, p, Jp, work):
    """d h'/d theta_raw (n, d): act'(s_i) [x^T, h^T, 1] in row i's own blocks for updating
    units; zero rows for resting units and the counter."""
    W_in, W, period, a = p[0], p[1], p[5], p[7]
    H, m = W.shape[0], W_in.shape[1]
    t, k = _forward(h, x, p, work)
    o_W = H * m
    o_b = o_W + H * H
    for i in range(Jp.shape[0]):
        for q in range(Jp.shape[1]):
            Jp[i, q] = 0.0
    for i in range(H):
        if t % period[i] != 0:
            continue
        d = act_prime(work[i], a)
        for q in range(m):
            Jp[i, i * m + q] = d * x[q]
        for j in range(H):
            Jp[i, o_W + i * H + j] = d * h[j]
        Jp[i, o_b + i] = d


@njit(**JIT)
def clockwork_output(h, p, out):
    """y = act_y(W_y h[:H] + b_y), or the units h[:H] without a readout."""
    W_y, b_y, a_y, readout = p[3], p[4], p[8], p[9]
    H = p[1].shape[0]
    if readout == 0:
        for i in range(H):
            out[i] = h[i]
        return
    for o in range(W_y.shape[0]):
        s = b_y[o]
        for j in range(H):
            s += W_y[o, j] * h[j]
        out[o] = act(s, a_y)


@njit(**JIT)
def clockwork_output_jac(h, p, Jo):
    W_y, b_y, a_y, readout = p[3], p[4], p[8], p[9]
    H = p[1].shape[0]
    for o in range(Jo.shape[0]):
        for j in range(H + 1):
            Jo[o, j] = 0.0
    if readout == 0:
        for i in range(H):
            Jo[i, i] = 1.0
        return
    for o in range(W_y.shape[0]):
        s = b_y[o]
        for j in range(H):
            s += W_y[o, j] * h[j]
        d = act_prime(s, a_y)
        for j in range(H):
            Jo[o, j] = d * W_y[o, j]


@njit(**JIT)
def clockwork_output_vjp(h, p, v, gh, gp):
    """v^T d y/d(h, theta): with r = v * act_y'(W_y h + b_y), gh = [W_y^T r; 0] and
    gp = [0, 0, 0, r h^T, r]; without a readout gh = [v; 0], gp = 0."""
    W_y, b_y, a_y, readout = p[3], p[4], p[8], p[9]
    H, m, O = p[1].shape[0], p[0].shape[1], W_y.shape[0]
    o_y = H * m + H * H + H
    for q in range(o_y):
        gp[q] = 0.0
    gh[H] = 0.0
    if readout == 0:
        for i in range(H):
            gh[i] = v[i]
        for q in range(o_y, clockwork_param_size(p)):
            gp[q] = 0.0
        return
    for j in range(H):
        gh[j] = 0.0
    o_by = o_y + O * H
    for o in range(O):
        s = b_y[o]
        for j in range(H):
            s += W_y[o, j] * h[j]
        r = v[o] * act_prime(s, a_y)
        for j in range(H):
            gp[o_y + o * H + j] = r * h[j]
            gh[j] += r * W_y[o, j]
        gp[o_by + o] = r
