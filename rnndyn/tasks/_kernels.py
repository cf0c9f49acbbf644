"""Numba kernels of rnndyn.tasks (arrays and scalars only): the delay-ODE and NARMA
generators."""
from numba import njit

from .._config import JIT

_INLINE = dict(JIT, inline="always")


@njit(**_INLINE)
def _mg(x, xd, beta, gamma, power):
    return beta * xd / (1.0 + xd ** power) - gamma * x


@njit(**JIT)
def mackey_glass(n_steps, d, h, beta, gamma, power, out):
    """Mackey-Glass dx/dt = beta x(t-tau) / (1 + x(t-tau)^power) - gamma x(t), classical RK4
    with step h and tau = d h (d >= 3). ``out[:d + 1]`` holds the history x(-tau) .. x(0);
    the following n_steps entries are written. The delayed value at a half step comes from
    the cubic through four neighbouring grid values of one smooth piece (fourth order, as
    RK4 itself: the stencil never straddles t = 0, where x' jumps)."""
    for t in range(d, d + n_steps):
        i = t - d  # x(t - tau) is out[i]; x(0) is out[d], where x' jumps (history -> ODE)
        a0, a1 = out[i], out[i + 1]
        if i == d:  # one-sided cubic: the stencil must not straddle the kink at x(0)
            am = (5.0 * a0 + 15.0 * a1 - 5.0 * out[i + 2] + out[i + 3]) / 16.0
        elif i >= 1 and (i + 2 <= d or i > d):  # centred cubic within one smooth piece
            am = (-out[i - 1] + 9.0 * a0 + 9.0 * a1 - out[i + 2]) / 16.0
        elif i >= 2:  # the last step inside the history
            am = (out[i - 2] - 5.0 * out[i - 1] + 15.0 * a0 + 5.0 * a1) / 16.0
        else:
            am = 0.5 * (a0 + a1)
        x = out[t]
        k1 = _mg(x, a0, beta, gamma, power)
        k2 = _mg(x + 0.5 * h * k1, am, beta, gamma, power)
        k3 = _mg(x + 0.5 * h * k2, am, beta, gamma, power)
        k4 = _mg(x + h * k3, a1, beta, gamma, power)
        out[t + 1] = x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


@njit(**JIT)
def narma(u, order, alpha, beta, gamma, delta, y):
    """NARMA (Atiya & Parlos 2000): y(t+1) = alpha y(t) + beta y(t) sum_{i<order} y(t-i)
    + gamma u(t-order+1) u(t) + delta, y = 0 for the first ``order`` steps."""
    T = u.shape[0]
    for t in range(T):
        y[t] = 0.0
    for t in range(order - 1, T - 1):
        s = 0.0
        for i in range(order):
            s += y[t - i]
        y[t + 1] = alpha * y[t] + beta * y[t] * s + gamma * u[t - order + 1] * u[t] + delta
