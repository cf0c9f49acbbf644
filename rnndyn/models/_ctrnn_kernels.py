"""Numba kernels of the CTRNN (Beer 1995). Arrays and scalars only.

Parameter tuple p = (A, W, out_idx): A = [W | W_in | 1/tau | bias | gain] packed column-wise
into one (n, n + n_in + 3) array (a leading population axis P in a stacked model), W the
contiguous recurrent weights for BLAS, out_idx the output units. One packed array instead of five: every array crossing a numba call costs
reference counting and a dozen arguments, which measured 2x slower at n = 10. Each
function exists once per activation (``*_sigmoid``, ``*_tanh``) and the rhs also once for
autonomous and driven networks (``*_driven``) and for large ones (``*_blas``):
compile-time constants keep branches out of the inner loops.
"""
import numpy as np
from numba import njit

from .._config import JIT
from ._base_kernels import tanh

SIGMOID, TANH = 0, 1
_INLINE = dict(JIT, inline="always")


# The sigmoid here is libm's exp, not _base_kernels.sigmoid: the loop over neurons reads gains
# and biases with a stride (packed A) and stays scalar, where libm's exp is faster (10 against
# 15 ns/neuron-step at n = 10). _base_kernels.tanh beats libm even there (17 against 20).
@njit(**_INLINE)
def activate(x, act):
    if act == SIGMOID:
        return 1.0 / (1.0 + np.exp(-x))
    return tanh(x)


@njit(**_INLINE)
def activate_prime(x, act):
    if act == SIGMOID:
        s = 1.0 / (1.0 + np.exp(-x))
        return s * (1.0 - s)
    c = tanh(x)
    return 1.0 - c * c


@njit(**JIT)
def work_size(p):
    return 2 * p[0].shape[0]  # rhs uses n; vjp 2n


@njit(**JIT)
def param_size(p):
    """Length of theta_raw = [W (n, n), W_in (n, n_in), tau (n,), bias (n,), gain (n,)]."""
    A = p[0]
    return A.shape[0] * (A.shape[1] - 3) + 3 * A.shape[0]


def pack(W, W_in, tau, bias, gain):
    """The packed parameter array A (leading axes of W kept)."""
    return np.ascontiguousarray(np.concatenate(
        [W, W_in, 1.0 / tau[..., None], bias[..., None], gain[..., None]], axis=-1))


@njit(**_INLINE)
def _rhs(t, y, u, p, dy, work, act, driven, blas):
    """tau_i dy_i/dt = -y_i + sum_j W[i,j] act(gain_j (y_j + bias_j)) + sum_k W_in[i,k] u_k.

    ``driven`` and ``blas`` are compile-time constants: the input loop exists only where
    there are inputs (an empty loop or a branch on the input count cost 30-60% at n = 10),
    and large networks hand W @ act to BLAS (threaded; 1.5x faster than the loop at n=1000)."""
    A = p[0]
    n = y.shape[0]
    c = A.shape[1] - 3
    for j in range(n):
        work[j] = activate(A[j, c + 2] * (y[j] + A[j, c + 1]), act)
    if blas:
        r = np.dot(p[1], work[:n])
        for i in range(n):
            s = r[i] - y[i]
            if driven:
                for k in range(c - n):
                    s += A[i, n + k] * u[k]
            dy[i] = s * A[i, c]
        return
    for i in range(n):
        s = -y[i]
        for j in range(n):
            s += A[i, j] * work[j]
        if driven:
            for k in range(c - n):
                s += A[i, n + k] * u[k]
        dy[i] = s * A[i, c]


@njit(**_INLINE)
def _jacobian(t, y, u, p, J, work, act):
    """J[i, j] = (W[i,j] gain_j act'(gain_j (y_j + bias_j)) - delta_ij) / tau_i."""
    A = p[0]
    n = y.shape[0]
    c = A.shape[1] - 3
    for j in range(n):
        work[j] = A[j, c + 2] * activate_prime(A[j, c + 2] * (y[j] + A[j, c + 1]), act)
    for i in range(n):
        for j in range(n):
            J[i, j] = A[i, j] * work[j] * A[i, c]
        J[i, i] -= A[i, c]


@njit(**_INLINE)
def _jvp(t, y, u, p, Y, Ja, M, work, act, blas):
    """Ja (n, k) = J @ Y without forming J: ``(-Y + W @ (D Y)) / tau`` with
    D = diag(gain_j act'(gain_j (y_j + bias_j))), D Y held in the scratch M (n, n) (k <= n).
    Large networks hand W @ (D Y) to BLAS; below, zero weights (masks) are skipped."""
    A = p[0]
    n, kk = Y.shape
    c = A.shape[1] - 3
    Z = M.reshape(n * n)[:n * kk].reshape((n, kk))
    for j in range(n):
        d = A[j, c + 2] * activate_prime(A[j, c + 2] * (y[j] + A[j, c + 1]), act)
        for q in range(kk):
            Z[j, q] = d * Y[j, q]
    if blas:
        np.dot(p[1], Z, Ja)
        for i in range(n):
            for q in range(kk):
                Ja[i, q] = (Ja[i, q] - Y[i, q]) * A[i, c]
        return True
    for i in range(n):
        for q in range(kk):
            Ja[i, q] = -Y[i, q]
        for j in range(n):
            a = A[i, j]
            if a != 0.0:
                for q in range(kk):
                    Ja[i, q] += a * Z[j, q]
        for q in range(kk):
            Ja[i, q] *= A[i, c]
    return True


@njit(**_INLINE)
def _output(y, p, out, act):
    """Firing rates act(gain_i (y_i + bias_i)) of the output units."""
    A, idx = p[0], p[2]
    c = A.shape[1] - 3
    for m in range(idx.shape[0]):
        i = idx[m]
        out[m] = activate(A[i, c + 2] * (y[i] + A[i, c + 1]), act)


@njit(**_INLINE)
def _vjp(t, y, u, p, v, gy, gu, gp, work, act):
    """v^T dF for F_i = (-y_i + sum_j W[i,j] s_j + sum_k W_in[i,k] u_k) / tau_i with
    s_j = act(g_j (y_j + b_j)); theta_raw = [W, W_in, tau, bias, gain] (C order). O(n^2 + n m).

    With w_i = v_i / tau_i and c_j = sum_i w_i W[i,j]: dW[i,j] = w_i s_j, dW_in[i,k] = w_i u_k,
    dtau_i = -v_i F_i / tau_i, dy_j = -w_j + c_j g_j s'_j, dbias_j = c_j g_j s'_j,
    dgain_j = c_j s'_j (y_j + b_j), du_k = sum_i w_i W_in[i,k]."""
    A = p[0]
    n = y.shape[0]
    c = A.shape[1] - 3
    m = c - n
    s, cc = work[:n], work[n:2 * n]
    for j in range(n):
        s[j] = activate(A[j, c + 2] * (y[j] + A[j, c + 1]), act)
        cc[j] = 0.0
    for k in range(m):
        gu[k] = 0.0
    o_in, o_tau = n * n, n * c
    for i in range(n):
        f = -y[i]
        for j in range(n):
            f += A[i, j] * s[j]
        for k in range(m):
            f += A[i, n + k] * u[k]
        w = v[i] * A[i, c]
        gp[o_tau + i] = -w * f * A[i, c]  # d(f / tau)/dtau = -f / tau^2
        for j in range(n):
            gp[i * n + j] = w * s[j]
            cc[j] += w * A[i, j]
        for k in range(m):
            gp[o_in + i * m + k] = w * u[k]
            gu[k] += w * A[i, n + k]
        gy[i] = -w
    for j in range(n):
        z = y[j] + A[j, c + 1]
        d = cc[j] * activate_prime(A[j, c + 2] * z, act)
        gy[j] += d * A[j, c + 2]
        gp[o_tau + n + j] = d * A[j, c + 2]
        gp[o_tau + 2 * n + j] = d * z


@njit(**_INLINE)
def _output_vjp(y, p, v, gy, gp, act):
    """v^T d out for out_m = act(g_i (y_i + b_i)), i = out_idx[m]."""
    A, idx = p[0], p[2]
    n = y.shape[0]
    c = A.shape[1] - 3
    for j in range(n):
        gy[j] = 0.0
    for k in range(gp.shape[0]):
        gp[k] = 0.0
    o_bias = n * c + n
    for m in range(idx.shape[0]):
        i = idx[m]
        z = y[i] + A[i, c + 1]
        d = v[m] * activate_prime(A[i, c + 2] * z, act)
        gy[i] += d * A[i, c + 2]
        gp[o_bias + i] += d * A[i, c + 2]
        gp[o_bias + n + i] += d * z


@njit(**JIT)
def vjp_sigmoid(t, y, u, p, v, gy, gu, gp, work):
    _vjp(t, y, u, p, v, gy, gu, gp, work, SIGMOID)


@njit(**JIT)
def vjp_tanh(t, y, u, p, v, gy, gu, gp, work):
    _vjp(t, y, u, p, v, gy, gu, gp, work, TANH)


@njit(**JIT)
def output_vjp_sigmoid(y, p, v, gy, gp):
    _output_vjp(y, p, v, gy, gp, SIGMOID)


@njit(**JIT)
def output_vjp_tanh(y, p, v, gy, gp):
    _output_vjp(y, p, v, gy, gp, TANH)


@njit(**JIT)
def rhs_sigmoid(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, SIGMOID, False, False)


@njit(**JIT)
def rhs_sigmoid_blas(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, SIGMOID, False, True)


@njit(**JIT)
def rhs_sigmoid_driven(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, SIGMOID, True, False)


@njit(**JIT)
def rhs_sigmoid_driven_blas(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, SIGMOID, True, True)


@njit(**JIT)
def rhs_tanh(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, TANH, False, False)


@njit(**JIT)
def rhs_tanh_blas(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, TANH, False, True)


@njit(**JIT)
def rhs_tanh_driven(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, TANH, True, False)


@njit(**JIT)
def rhs_tanh_driven_blas(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, TANH, True, True)


@njit(**JIT)
def jacobian_sigmoid(t, y, u, p, J, work):
    _jacobian(t, y, u, p, J, work, SIGMOID)


@njit(**JIT)
def jacobian_tanh(t, y, u, p, J, work):
    _jacobian(t, y, u, p, J, work, TANH)


@njit(**JIT)
def jvp_sigmoid(t, y, u, p, Y, Ja, M, work):
    return _jvp(t, y, u, p, Y, Ja, M, work, SIGMOID, False)


@njit(**JIT)
def jvp_sigmoid_blas(t, y, u, p, Y, Ja, M, work):
    return _jvp(t, y, u, p, Y, Ja, M, work, SIGMOID, True)


@njit(**JIT)
def jvp_tanh(t, y, u, p, Y, Ja, M, work):
    return _jvp(t, y, u, p, Y, Ja, M, work, TANH, False)


@njit(**JIT)
def jvp_tanh_blas(t, y, u, p, Y, Ja, M, work):
    return _jvp(t, y, u, p, Y, Ja, M, work, TANH, True)


@njit(**JIT)
def output_sigmoid(y, p, out):
    _output(y, p, out, SIGMOID)


@njit(**JIT)
def output_tanh(y, p, out):
    _output(y, p, out, TANH)


@njit(**JIT)
def member(p, k):
    return (p[0][k], p[1][k], p[2])
