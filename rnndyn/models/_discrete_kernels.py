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

Derivatives (backpropagation through time, adjoints), cost O(d), nothing allocated:

* ``X_vjp(h, x, p, v, gh, gx, gp, work)``: for the step F = ``X_step`` and a cotangent v (n,),
  overwrites gh = v^T dF/dh (n,), gx = v^T dF/dx (m,), gp = v^T dF/dtheta (d,);
* ``X_output_vjp(h, p, v, gh, gp)``: the same for the outputs (v of shape (n_out,));
  ``_base_kernels.state_output_vjp`` for families whose output is the whole state;
* ``X_param_size(p)``: d.

theta is the *raw* parameter vector of the tuple: its arrays flattened in C order and
concatenated, activation codes excluded (a model's free parameters, e.g. a topology mask,
are a selection of it):

* Elman / fully recurrent: ``[W_ih, W_hh, b, W_y, b_y]`` (the readout does not enter the step:
  zeros in the step's gp; for a fully recurrent net W_hh is the masked W and W_y the 0/1
  selection readout);
* Jordan: ``[W_ih, U, b, W_y, b_y]`` (all of them enter the step);
* IndRNN: ``[W_ih, u, b]``;
* Second order: ``[W, b]``.
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


#: helpers a cell's step calls with its parameter tuple: inlined, since a call of a separate
#: kernel with it costs more than a small cell's arithmetic (2-unit Elman step 113 -> 30 ns;
#: `run` of one sequence: Elman 2 units 225 -> 132 ns a step, IndRNN 144 -> 64, Jordan 175
#: -> 104, second-order 149 -> 67)
_INLINE = dict(JIT, inline="always")


# -- Elman / fully recurrent ----------------------------------------------------------------
@njit(**JIT)
def elman_work_size(p):
    return p[1].shape[0]


@njit(**_INLINE)
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
def elman_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5], p[6], p[7])


@njit(**JIT)
def elman_param_size(p):
    """Length d of the raw parameter vector ``[W_ih, W_hh, b, W_y, b_y]``."""
    H, m, O = p[1].shape[0], p[0].shape[1], p[3].shape[0]
    return H * m + H * H + H + O * H + O


@njit(**JIT)
def elman_vjp(h, x, p, v, gh, gx, gp, work):
    """v^T d h'/d(h, x, theta): with delta = v * act'(s), gh = W_hh^T delta,
    gx = W_ih^T delta, gp = [delta x^T, delta h^T, delta, 0 (readout)]. work: >= H."""
    _elman_pre(h, x, p, work)
    W_ih, W_hh, a = p[0], p[1], p[5]
    H, m = W_hh.shape[0], W_ih.shape[1]
    o_hh = H * m
    o_b = o_hh + H * H
    for j in range(H):
        gh[j] = 0.0
    for k in range(m):
        gx[k] = 0.0
    for i in range(H):
        d = v[i] * act_prime(work[i], a)
        r = i * m
        for k in range(m):
            gp[r + k] = d * x[k]
            gx[k] += d * W_ih[i, k]
        r = o_hh + i * H
        for j in range(H):
            gp[r + j] = d * h[j]
            gh[j] += d * W_hh[i, j]
        gp[o_b + i] = d
    for q in range(o_b + H, elman_param_size(p)):
        gp[q] = 0.0


@njit(**JIT)
def elman_output_vjp(h, p, v, gh, gp):
    """v^T d y/d(h, theta) for ``elman_output``: with r = v * act_y'(W_y h + b_y),
    gh = W_y^T r and gp = [0, 0, 0, r h^T, r]; without a readout gh = v, gp = 0."""
    W_y, b_y, a_y, readout = p[3], p[4], p[6], p[7]
    n, m, O = h.shape[0], p[0].shape[1], W_y.shape[0]
    o_y = n * m + n * n + n
    if readout == 0:
        for i in range(n):
            gh[i] = v[i]
        for q in range(elman_param_size(p)):
            gp[q] = 0.0
        return
    for q in range(o_y):
        gp[q] = 0.0
    for j in range(n):
        gh[j] = 0.0
    o_by = o_y + O * n
    for o in range(O):
        s = b_y[o]
        for j in range(n):
            s += W_y[o, j] * h[j]
        r = v[o] * act_prime(s, a_y)
        for j in range(n):
            gp[o_y + o * n + j] = r * h[j]
            gh[j] += r * W_y[o, j]
        gp[o_by + o] = r


# -- Jordan ---------------------------------------------------------------------------------
@njit(**JIT)
def jordan_work_size(p):
    return 2 * p[0].shape[0] + p[3].shape[0]


@njit(**_INLINE)
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
def jordan_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5], p[6])


@njit(**JIT)
def jordan_param_size(p):
    """Length d of the raw parameter vector ``[W_ih, U, b, W_y, b_y]``."""
    H, m, O = p[0].shape[0], p[0].shape[1], p[3].shape[0]
    return H * m + H * O + H + O * H + O


@njit(**JIT)
def jordan_vjp(h, x, p, v, gh, gx, gp, work):
    """v^T d[h'; y']/d([h; y], x, theta) for v = [v_h; v_y]: with r = v_y * act_y'(z) and
    delta = (v_h + W_y^T r) * act'(s), gh = [0; U^T delta], gx = W_ih^T delta,
    gp = [delta x^T, delta y^T, delta, r h'^T, r]. work: >= 2H + O."""
    _jordan_forward(h, x, p, work)
    W_ih, U, W_y, a, a_y = p[0], p[1], p[3], p[5], p[6]
    H, m, O = W_ih.shape[0], W_ih.shape[1], W_y.shape[0]
    o_U = H * m
    o_b = o_U + H * O
    o_Wy = o_b + H
    o_by = o_Wy + O * H
    for o in range(O):  # r overwrites the output pre-activation in work[2H:]
        r = v[H + o] * act_prime(work[2 * H + o], a_y)
        work[2 * H + o] = r
        for i in range(H):
            gp[o_Wy + o * H + i] = r * work[H + i]
        gp[o_by + o] = r
    for j in range(H + O):
        gh[j] = 0.0
    for k in range(m):
        gx[k] = 0.0
    for i in range(H):
        g = v[i]
        for o in range(O):
            g += work[2 * H + o] * W_y[o, i]
        d = g * act_prime(work[i], a)
        for k in range(m):
            gp[i * m + k] = d * x[k]
            gx[k] += d * W_ih[i, k]
        for j in range(O):
            gp[o_U + i * O + j] = d * h[H + j]
            gh[H + j] += d * U[i, j]
        gp[o_b + i] = d


@njit(**JIT)
def jordan_output_vjp(h, p, v, gh, gp):
    """v^T d y/d([h; y], theta) for ``jordan_output``: gh = [0; v], gp = 0."""
    H = p[0].shape[0]
    for j in range(H):
        gh[j] = 0.0
    for o in range(v.shape[0]):
        gh[H + o] = v[o]
    for q in range(jordan_param_size(p)):
        gp[q] = 0.0


# -- IndRNN ---------------------------------------------------------------------------------
@njit(**JIT)
def indrnn_work_size(p):
    return p[1].shape[0]


@njit(**_INLINE)
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
def indrnn_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3])


@njit(**JIT)
def indrnn_param_size(p):
    """Length d of the raw parameter vector ``[W_ih, u, b]``."""
    H, m = p[0].shape[0], p[0].shape[1]
    return H * m + 2 * H


@njit(**JIT)
def indrnn_vjp(h, x, p, v, gh, gx, gp, work):
    """v^T d h'/d(h, x, theta): with delta = v * act'(s), gh = u * delta,
    gx = W_ih^T delta, gp = [delta x^T, delta * h, delta]. work: >= H."""
    _indrnn_pre(h, x, p, work)
    W_ih, u, a = p[0], p[1], p[3]
    H, m = W_ih.shape[0], W_ih.shape[1]
    o_u = H * m
    o_b = o_u + H
    for k in range(m):
        gx[k] = 0.0
    for i in range(H):
        d = v[i] * act_prime(work[i], a)
        gh[i] = d * u[i]
        for k in range(m):
            gp[i * m + k] = d * x[k]
            gx[k] += d * W_ih[i, k]
        gp[o_u + i] = d * h[i]
        gp[o_b + i] = d


# -- second-order RNN -----------------------------------------------------------------------
@njit(**JIT)
def second_order_work_size(p):
    return p[1].shape[0]


@njit(**_INLINE)
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
def second_order_member(p, k):
    return (p[0][k], p[1][k], p[2])


@njit(**JIT)
def second_order_param_size(p):
    """Length d of the raw parameter vector ``[W, b]``."""
    W = p[0]
    return W.shape[0] * W.shape[1] * W.shape[2] + W.shape[0]


@njit(**JIT)
def second_order_vjp(h, x, p, v, gh, gx, gp, work):
    """v^T d h'/d(h, x, theta): with delta = v * act'(s), gh_j = sum_ik delta_i W[i,j,k] x_k,
    gx_k = sum_ij delta_i W[i,j,k] h_j, gp = [delta_i h_j x_k, delta]. work: >= H."""
    _second_order_pre(h, x, p, work)
    W, a = p[0], p[2]
    H, m = W.shape[0], W.shape[2]
    o_b = H * H * m
    for j in range(H):
        gh[j] = 0.0
    for k in range(m):
        gx[k] = 0.0
    for i in range(H):
        d = v[i] * act_prime(work[i], a)
        for j in range(H):
            dh = d * h[j]
            r = (i * H + j) * m
            t = 0.0
            for k in range(m):
                w = W[i, j, k]
                gp[r + k] = dh * x[k]
                gx[k] += dh * w
                t += w * x[k]
            gh[j] += d * t
        gp[o_b + i] = d


# -- shared ---------------------------------------------------------------------------------
@njit(**JIT)
def identity_output_jac(h, p, Jo):
    """d h / d h for families whose output is the whole state."""
    n = h.shape[0]
    for i in range(n):
        for j in range(n):
            Jo[i, j] = 1.0 if i == j else 0.0
