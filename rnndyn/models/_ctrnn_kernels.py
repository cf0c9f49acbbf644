"""Numba kernels of the CTRNN (Beer 1995). Arrays and scalars only.

Parameter tuple p = (W (n,n), tau (n,), bias (n,), gain (n,), W_in (n,n_in), out_idx) with a
leading population axis on the first five in a stacked model. Each function exists once per
activation (``*_sigmoid``, ``*_tanh``): the activation is a compile-time constant, so the
inner loops carry no branch.
"""
import numpy as np
from numba import njit

from .._config import JIT

SIGMOID, TANH = 0, 1
_INLINE = dict(JIT, inline="always")


@njit(**_INLINE)
def activate(x, act):
    if act == SIGMOID:
        return 1.0 / (1.0 + np.exp(-x))
    return np.tanh(x)


@njit(**_INLINE)
def activate_prime(x, act):
    if act == SIGMOID:
        s = 1.0 / (1.0 + np.exp(-x))
        return s * (1.0 - s)
    c = np.tanh(x)
    return 1.0 - c * c


@njit(**JIT)
def work_size(p):
    return p[0].shape[0]


@njit(**_INLINE)
def _rhs(t, y, u, p, dy, work, act):
    """tau_i dy_i/dt = -y_i + sum_j W[i,j] act(gain_j (y_j + bias_j)) + sum_k W_in[i,k] u_k."""
    W, tau, bias, gain, W_in = p[0], p[1], p[2], p[3], p[4]
    n = y.shape[0]
    for j in range(n):
        work[j] = activate(gain[j] * (y[j] + bias[j]), act)
    if u.shape[0] == 0:  # the autonomous loop alone: an input loop inside measured 2x slower
        for i in range(n):
            s = -y[i]
            for j in range(n):
                s += W[i, j] * work[j]
            dy[i] = s / tau[i]
    else:
        for i in range(n):
            s = -y[i]
            for j in range(n):
                s += W[i, j] * work[j]
            for k in range(u.shape[0]):
                s += W_in[i, k] * u[k]
            dy[i] = s / tau[i]


@njit(**_INLINE)
def _jacobian(t, y, u, p, J, work, act):
    """J[i, j] = (W[i,j] gain_j act'(gain_j (y_j + bias_j)) - delta_ij) / tau_i."""
    W, tau, bias, gain = p[0], p[1], p[2], p[3]
    n = y.shape[0]
    for j in range(n):
        work[j] = gain[j] * activate_prime(gain[j] * (y[j] + bias[j]), act)
    for i in range(n):
        for j in range(n):
            J[i, j] = W[i, j] * work[j] / tau[i]
        J[i, i] -= 1.0 / tau[i]


@njit(**_INLINE)
def _output(y, p, out, act):
    """Firing rates act(gain_i (y_i + bias_i)) of the output units."""
    bias, gain, idx = p[2], p[3], p[5]
    for m in range(idx.shape[0]):
        i = idx[m]
        out[m] = activate(gain[i] * (y[i] + bias[i]), act)


@njit(**JIT)
def rhs_sigmoid(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, SIGMOID)


@njit(**JIT)
def rhs_tanh(t, y, u, p, dy, work):
    _rhs(t, y, u, p, dy, work, TANH)


@njit(**JIT)
def jacobian_sigmoid(t, y, u, p, J, work):
    _jacobian(t, y, u, p, J, work, SIGMOID)


@njit(**JIT)
def jacobian_tanh(t, y, u, p, J, work):
    _jacobian(t, y, u, p, J, work, TANH)


@njit(**JIT)
def output_sigmoid(y, p, out):
    _output(y, p, out, SIGMOID)


@njit(**JIT)
def output_tanh(y, p, out):
    _output(y, p, out, TANH)


@njit(**JIT)
def index(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5])
