"""Slow plain-numpy references for the kernels (DESIGN.md §9). Clarity over speed."""
from __future__ import annotations

import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def ctrnn_rhs(y, W, tau, bias, gain, W_in=None, u=None, activation="sigmoid"):
    """Beer's CTRNN: tau dy/dt = -y + W act(gain (y + bias)) + W_in u."""
    act = sigmoid if activation == "sigmoid" else np.tanh
    drive = 0.0 if u is None or W_in is None or W_in.shape[1] == 0 else W_in @ u
    return (-y + W @ act(gain * (y + bias)) + drive) / tau


def fixed_step(f, y0, t, dt, method):
    """Euler / classical RK4 of dy/dt = f(t, y), splitting each output interval into
    ceil(span/dt) equal steps (the rnndyn convention)."""
    ys = [np.array(y0, float)]
    y = ys[0].copy()
    for t0, t1 in zip(t[:-1], t[1:]):
        m = max(1, int(np.ceil((t1 - t0) / dt * (1 - 1e-12))))
        h = (t1 - t0) / m
        for s in range(m):
            tt = t0 + s * h
            if method == "euler":
                y = y + h * f(tt, y)
            else:
                k1 = f(tt, y)
                k2 = f(tt + h / 2, y + h / 2 * k1)
                k3 = f(tt + h / 2, y + h / 2 * k2)
                k4 = f(tt + h, y + h * k3)
                y = y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y.copy())
    return np.array(ys)


def finite_difference_jacobian(f, y, eps=1e-6):
    """Central differences of f at y: J[i, j] = d f_i / d y_j."""
    y = np.asarray(y, float)
    cols = []
    for j in range(len(y)):
        e = np.zeros_like(y)
        e[j] = eps
        cols.append((f(y + e) - f(y - e)) / (2 * eps))
    return np.stack(cols, axis=1)
