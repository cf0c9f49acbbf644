"""Numba kernels of the simple discrete-time cells (arrays and scalars only).

Every family provides, besides the protocol functions of ``models.base`` (``step``,
``jacobian``, ``output``, ``index``, ``work_size``), two functions that deep stacks need:

* ``jac_input(h, x, p, Jx, work)``: d h_new / d x, written into Jx (n, n_in);
* ``output_jac(h, p, Jo)``: d output / d h, written into Jo (n_out, n).

Parameter tuples (a population adds a leading axis P to every array):

* Elman / fully recurrent: ``(W_ih (H,m), W_hh (H,H), b (H,), W_y (O,H), b_y (O,), act, act_y,
  readout)``; ``readout == 0`` means the outputs are the hidden state itself.
* Jordan: ``(W_ih (H,m), U (H,O), b (H,), W_y (O,H), b_y (O,), act, act_y)``; state [h; y].
* IndRNN: ``(W_ih (H,m), u (H,), b (H,), act)``.
* Second order: ``(W (H,H,m), b (H,), act)``.
"""
from numba import njit

from .._config import JIT, JIT_SIMD
from ._base_kernels import sigmoid, tanh

IDENTITY, TANH, SIGMOID, RELU, HARD_TANH, HARD_SIGMOID = 0, 1, 2, 3, 4, 5


@njit(**dict(JIT, inline="always"))
def act(x, a):
    """Activation ``a`` at x. hard_sigmoid is PyTorch's clip(x/6 + 1/2, 0, 1)."""
    if a == TANH:
        return tanh(x)
    if a == SIGMOID:
        return sigmoid(x)
    if a == RELU:
        return x if x > 0.0 else 0.0 * x
    if a == HARD_TANH:
        return min(max(x, -1.0), 1.0)
    if a == HARD_SIGMOID:
        return min(max(x / 6.0 + 0.5, 0.0), 1.0)
    return x


@njit(**JIT)
def act_prime(x, a):
    """Derivative of ``act`` (0 at the kinks' outer side; the kinks themselves are a
    measure-zero set)."""
    if a == TANH:
        c = tanh(x)
        return 1.0 - c * c
    if a == SIGMOID:
        s = sigmoid(x)
        return s * (1.0 - s)
    if a == RELU:
        return 1.0 if x > 0.0 else 0.0
    if a == HARD_TANH:
        return 1.0 if -1.0 < x < 1.0 else 0.0
    if a == HARD_SIGMOID:
        return 1.0 / 6.0 if -3.0 < x < 3.0 else 0.0
    return 1.0


# -- Elman / fully recurrent ----------------------------------------------------------------
@njit(**JIT)
def elman_work_size(p):
    return p[1].shape[0]


@njit(**JIT)
def _elman_pre(h, x, p, work):
    """work[i] = pre-activation b_i + sum_k W_ih[i,k] x_k + sum_j W_hh[i,j] h_j."""
    W_ih, W_hh, b = p[0], p[1], p[2]
    H, m = W_hh.shape[0], W_ih.shape[1]
    for i in range(H):
        s = b[i]
        for k in range(m):
            s += W_ih[i, k] * x[k]
        for j in range(H):
            s += W_hh[i, j] * h[j]
        work[i] = s


@njit(**JIT_SIMD)
def elman_step(h, x, p, h_new, work):
    """h' = act(W_ih x + W_hh h + b)."""
    _elman_pre(h, x, p, work)
    if p[5] == TANH:  # a constant code lets LLVM vectorise the loop (see _gated_kernels)
        _activate(work, h_new, TANH)
    else:
        _activate(work, h_new, p[5])


@njit(**dict(JIT_SIMD, inline="always"))
def _activate(s, out, a):
    for i in range(out.shape[0]):
        out[i] = act(s[i], a)


@njit(**JIT)
def elman_jacobian(h, x, p, J, work):
    """J[i, j] = act'(s_i) W_hh[i, j]."""
    _elman_pre(h, x, p, work)
    W_hh, a = p[1], p[5]
    for i in range(h.shape[0]):
        d = act_prime(work[i], a)
        for j in range(h.shape[0]):
            J[i, j] = d * W_hh[i, j]


@njit(**JIT)
def elman_jac_input(h, x, p, Jx, work):
    """Jx[i, k] = act'(s_i) W_ih[i, k]."""
    _elman_pre(h, x, p, work)
    W_ih, a = p[0], p[5]
    for i in range(h.shape[0]):
        d = act_prime(work[i], a)
        for k in range(W_ih.shape[1]):
            Jx[i, k] = d * W_ih[i, k]


@njit(**JIT)
def elman_output(h, p, out):
    """y = act_y(W_y h + b_y), or h itself without a readout."""
    W_y, b_y, a_y, readout = p[3], p[4], p[6], p[7]
    if readout == 0:
        for i in range(h.shape[0]):
            out[i] = h[i]
        return
    for o in range(W_y.shape[0]):
        s = b_y[o]
        for j in range(h.shape[0]):
            s += W_y[o, j] * h[j]
        out[o] = act(s, a_y)


@njit(**JIT)
def elman_output_jac(h, p, Jo):
    W_y, b_y, a_y, readout = p[3], p[4], p[6], p[7]
    n = h.shape[0]
    if readout == 0:
        for i in range(n):
            for j in range(n):
                Jo[i, j] = 1.0 if i == j else 0.0
        return
    for o in range(W_y.shape[0]):
        s = b_y[o]
        for j in range(n):
            s += W_y[o, j] * h[j]
        d = act_prime(s, a_y)
        for j in range(n):
            Jo[o, j] = d * W_y[o, j]


@njit(**JIT)
def elman_index(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5], p[6], p[7])


# -- Jordan ---------------------------------------------------------------------------------
@njit(**JIT)
def jordan_work_size(p):
    return 2 * p[0].shape[0] + p[3].shape[0]


@njit(**JIT)
def _jordan_forward(h, x, p, work):
    """work[:H] = pre-activations of h', work[H:2H] = h', work[2H:] = pre-activations of y'."""
    W_ih, U, b, W_y, b_y, a = p[0], p[1], p[2], p[3], p[4], p[5]
    H, m, O = W_ih.shape[0], W_ih.shape[1], W_y.shape[0]
    for i in range(H):
        s = b[i]
        for k in range(m):
            s += W_ih[i, k] * x[k]
        for j in range(O):
            s += U[i, j] * h[H + j]  # the context is the previous output y
        work[i] = s
        work[H + i] = act(s, a)
    for o in range(O):
        s = b_y[o]
        for j in range(H):
            s += W_y[o, j] * work[H + j]
        work[2 * H + o] = s


@njit(**JIT)
def jordan_step(h, x, p, h_new, work):
    """h' = act(W_ih x + U y + b), y' = act_y(W_y h' + b_y); state [h; y]."""
    _jordan_forward(h, x, p, work)
    H, O, a_y = p[0].shape[0], p[3].shape[0], p[6]
    for i in range(H):
        h_new[i] = work[H + i]
    for o in range(O):
        h_new[H + o] = act(work[2 * H + o], a_y)


@njit(**JIT)
def _jordan_jac(h, x, p, Jfull, work, M, col0):
    """Rows of d[h'; y']/d(columns of M): Jfull[:, col0:col0+c] with M (H, c) = d s_h / d(.)."""
    _jordan_forward(h, x, p, work)
    W_y, a, a_y = p[3], p[5], p[6]
    H, O, c = p[0].shape[0], W_y.shape[0], M.shape[1]
    for i in range(H):
        d = act_prime(work[i], a)
        for j in range(c):
            Jfull[i, col0 + j] = d * M[i, j]
    for o in range(O):
        d = act_prime(work[2 * H + o], a_y)
        for j in range(c):
            s = 0.0
            for i in range(H):
                s += W_y[o, i] * Jfull[i, col0 + j]
            Jfull[H + o, col0 + j] = d * s


@njit(**JIT)
def jordan_jacobian(h, x, p, J, work):
    """d[h'; y']/d[h; y]: zero columns for h (the hidden state is not fed back)."""
    H = p[0].shape[0]
    for i in range(J.shape[0]):
        for j in range(H):
            J[i, j] = 0.0
    _jordan_jac(h, x, p, J, work, p[1], H)


@njit(**JIT)
def jordan_jac_input(h, x, p, Jx, work):
    _jordan_jac(h, x, p, Jx, work, p[0], 0)


@njit(**JIT)
def jordan_output(h, p, out):
    H = p[0].shape[0]
    for o in range(out.shape[0]):
        out[o] = h[H + o]


@njit(**JIT)
def jordan_output_jac(h, p, Jo):
    H = p[0].shape[0]
    for o in range(Jo.shape[0]):
        for j in range(h.shape[0]):
            Jo[o, j] = 1.0 if j == H + o else 0.0


@njit(**JIT)
def jordan_index(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5], p[6])


# -- IndRNN ---------------------------------------------------------------------------------
@njit(**JIT)
def indrnn_work_size(p):
    return p[1].shape[0]


@njit(**JIT)
def _indrnn_pre(h, x, p, work):
    W_ih, u, b = p[0], p[1], p[2]
    for i in range(u.shape[0]):
        s = b[i] + u[i] * h[i]
        for k in range(W_ih.shape[1]):
            s += W_ih[i, k] * x[k]
        work[i] = s


@njit(**JIT)
def indrnn_step(h, x, p, h_new, work):
    """h' = act(W_ih x + u * h + b) (elementwise recurrence, Li et al. 2018)."""
    _indrnn_pre(h, x, p, work)
    for i in range(h.shape[0]):
        h_new[i] = act(work[i], p[3])


@njit(**JIT)
def indrnn_jacobian(h, x, p, J, work):
    _indrnn_pre(h, x, p, work)
    n = h.shape[0]
    for i in range(n):
        for j in range(n):
            J[i, j] = 0.0
        J[i, i] = act_prime(work[i], p[3]) * p[1][i]


@njit(**JIT)
def indrnn_jac_input(h, x, p, Jx, work):
    _indrnn_pre(h, x, p, work)
    W_ih = p[0]
    for i in range(h.shape[0]):
        d = act_prime(work[i], p[3])
        for k in range(W_ih.shape[1]):
            Jx[i, k] = d * W_ih[i, k]


@njit(**JIT)
def indrnn_index(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3])


# -- second-order RNN -----------------------------------------------------------------------
@njit(**JIT)
def second_order_work_size(p):
    return p[1].shape[0]


@njit(**JIT)
def _second_order_pre(h, x, p, work):
    W, b = p[0], p[1]
    H, m = W.shape[0], W.shape[2]
    for i in range(H):
        s = b[i]
        for j in range(H):
            t = 0.0
            for k in range(m):
                t += W[i, j, k] * x[k]
            s += t * h[j]
        work[i] = s


@njit(**JIT)
def second_order_step(h, x, p, h_new, work):
    """h'_i = act(sum_jk W[i,j,k] h_j x_k + b_i) (Giles et al. 1992)."""
    _second_order_pre(h, x, p, work)
    for i in range(h.shape[0]):
        h_new[i] = act(work[i], p[2])


@njit(**JIT)
def second_order_jacobian(h, x, p, J, work):
    _second_order_pre(h, x, p, work)
    W = p[0]
    H, m = W.shape[0], W.shape[2]
    for i in range(H):
        d = act_prime(work[i], p[2])
        for j in range(H):
            t = 0.0
            for k in range(m):
                t += W[i, j, k] * x[k]
            J[i, j] = d * t


@njit(**JIT)
def second_order_jac_input(h, x, p, Jx, work):
    _second_order_pre(h, x, p, work)
    W = p[0]
    H, m = W.shape[0], W.shape[2]
    for i in range(H):
        d = act_prime(work[i], p[2])
        for k in range(m):
            t = 0.0
            for j in range(H):
                t += W[i, j, k] * h[j]
            Jx[i, k] = d * t


@njit(**JIT)
def second_order_index(p, k):
    return (p[0][k], p[1][k], p[2])


# -- shared ---------------------------------------------------------------------------------
@njit(**JIT)
def identity_output_jac(h, p, Jo):
    """d h / d h for families whose output is the whole state."""
    n = h.shape[0]
    for i in range(n):
        for j in range(n):
            Jo[i, j] = 1.0 if i == j else 0.0
