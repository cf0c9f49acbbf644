# Kernel template (see rnndyn/_jit.py): derivatives by central finite differences, for user
# models (Flow/Map) that give no analytic ones. Free names:
#   _f       the model's rhs(t, y, u, p, dy, work) (flows) or step(h, x, p, h_new, work) (maps)
#   _output  the model's output(y, p, out)
# Only the functions of the model's kind are ever called, hence compiled.
#
# Step rule: entry j is perturbed by h_j = eps^(1/3) max(1, |z_j|) (eps = 2^-52), the step
# that balances the O(h^2) truncation error of a central difference against its O(eps/h)
# rounding error (Nocedal & Wright, Numerical Optimization, 2nd ed., §8.1); the error is
# then ~eps^(2/3) ~ 4e-11 relative to the derivative's scale. Buffers are allocated per
# call: user models are small, and a call already costs 2 evaluations per column.
import numpy as np
from numba import njit

_H = 2.0 ** (-52.0 / 3.0)


@njit(**_JIT)
def _column_step(z):
    return _H * max(1.0, abs(z))


@njit(**_JIT)
def flow_jacobian(t, y, u, p, J, work):
    """J[:, j] = (f(y + h e_j) - f(y - h e_j)) / 2h."""
    n = y.shape[0]
    z = y.copy()
    fp = np.empty(n)
    fm = np.empty(n)
    for j in range(n):
        h = _column_step(y[j])
        z[j] = y[j] + h
        _f(t, z, u, p, fp, work)
        z[j] = y[j] - h
        _f(t, z, u, p, fm, work)
        z[j] = y[j]
        for i in range(n):
            J[i, j] = (fp[i] - fm[i]) / (2.0 * h)


@njit(**_JIT)
def map_jacobian(h, x, p, J, work):
    """J[:, j] = (F(h + d e_j) - F(h - d e_j)) / 2d."""
    n = h.shape[0]
    z = h.copy()
    fp = np.empty(n)
    fm = np.empty(n)
    for j in range(n):
        d = _column_step(h[j])
        z[j] = h[j] + d
        _f(z, x, p, fp, work)
        z[j] = h[j] - d
        _f(z, x, p, fm, work)
        z[j] = h[j]
        for i in range(n):
            J[i, j] = (fp[i] - fm[i]) / (2.0 * d)


@njit(**_JIT)
def flow_param_jacobian(t, y, u, p, Jp, work):
    """Jp[:, k] = d(dy/dt)/dp_k for a parameter vector p (n_params,)."""
    n = y.shape[0]
    q = p.copy()
    fp = np.empty(n)
    fm = np.empty(n)
    for k in range(p.shape[0]):
        h = _column_step(p[k])
        q[k] = p[k] + h
        _f(t, y, u, q, fp, work)
        q[k] = p[k] - h
        _f(t, y, u, q, fm, work)
        q[k] = p[k]
        for i in range(n):
            Jp[i, k] = (fp[i] - fm[i]) / (2.0 * h)


@njit(**_JIT)
def map_param_jacobian(h, x, p, Jp, work):
    """Jp[:, k] = dF/dp_k for a parameter vector p (n_params,)."""
    n = h.shape[0]
    q = p.copy()
    fp = np.empty(n)
    fm = np.empty(n)
    for k in range(p.shape[0]):
        d = _column_step(p[k])
        q[k] = p[k] + d
        _f(h, x, q, fp, work)
        q[k] = p[k] - d
        _f(h, x, q, fm, work)
        q[k] = p[k]
        for i in range(n):
            Jp[i, k] = (fp[i] - fm[i]) / (2.0 * d)


@njit(**_JIT)
def output_vjp(y, p, v, gy, gp):
    """gy = v^T d out/dy, gp = v^T d out/dp (p a parameter vector), v (n_out,)."""
    m = v.shape[0]
    op = np.empty(m)
    om = np.empty(m)
    z = y.copy()
    for j in range(y.shape[0]):
        h = _column_step(y[j])
        z[j] = y[j] + h
        _output(z, p, op)
        z[j] = y[j] - h
        _output(z, p, om)
        z[j] = y[j]
        s = 0.0
        for o in range(m):
            s += v[o] * (op[o] - om[o])
        gy[j] = s / (2.0 * h)
    q = p.copy()
    for k in range(p.shape[0]):
        h = _column_step(p[k])
        q[k] = p[k] + h
        _output(y, q, op)
        q[k] = p[k] - h
        _output(y, q, om)
        q[k] = p[k]
        s = 0.0
        for o in range(m):
            s += v[o] * (op[o] - om[o])
        gp[k] = s / (2.0 * h)
