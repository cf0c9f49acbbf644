# Kernel template (see rnndyn/_jit.py): derivative kernels a model family does not write
# itself, derived from those it does. Free names (each bound to a function of the model's
# kind; names a family does not need are bound to any function and never called):
#   _f     rhs(t, y, u, p, dy, work) (flows) / step(h, x, p, h_new, work) (maps)
#   _jac   the state Jacobian, analytic or by differences (same signature as jacobian)
#   _pjac  the parameter Jacobian param_jacobian(..., Jp, work) (n, d)
#   _vjp   the vector-Jacobian product vjp(..., v, gy, gu, gp, work)
#   _psize param_size(p)
import numpy as np
from numba import njit

_H = 2.0 ** (-52.0 / 3.0)  # central-difference step rule of _fd_template.py


@njit(**_JIT)
def flow_vjp(t, y, u, p, v, gy, gu, gp, work):
    """gy = J^T v and gp = Jp^T v from the dense Jacobians; gu by central differences."""
    n = y.shape[0]
    J = np.empty((n, n))
    _jac(t, y, u, p, J, work)
    for j in range(n):
        s = 0.0
        for i in range(n):
            s += v[i] * J[i, j]
        gy[j] = s
    Jp = np.empty((n, gp.shape[0]))
    _pjac(t, y, u, p, Jp, work)
    for k in range(gp.shape[0]):
        s = 0.0
        for i in range(n):
            s += v[i] * Jp[i, k]
        gp[k] = s
    w = u.copy()
    fp = np.empty(n)
    fm = np.empty(n)
    for k in range(u.shape[0]):
        h = _H * max(1.0, abs(u[k]))
        w[k] = u[k] + h
        _f(t, y, w, p, fp, work)
        w[k] = u[k] - h
        _f(t, y, w, p, fm, work)
        w[k] = u[k]
        s = 0.0
        for i in range(n):
            s += v[i] * (fp[i] - fm[i])
        gu[k] = s / (2.0 * h)


@njit(**_JIT)
def map_vjp(h, x, p, v, gh, gx, gp, work):
    """As ``flow_vjp`` for a map."""
    n = h.shape[0]
    J = np.empty((n, n))
    _jac(h, x, p, J, work)
    for j in range(n):
        s = 0.0
        for i in range(n):
            s += v[i] * J[i, j]
        gh[j] = s
    Jp = np.empty((n, gp.shape[0]))
    _pjac(h, x, p, Jp, work)
    for k in range(gp.shape[0]):
        s = 0.0
        for i in range(n):
            s += v[i] * Jp[i, k]
        gp[k] = s
    w = x.copy()
    fp = np.empty(n)
    fm = np.empty(n)
    for k in range(x.shape[0]):
        d = _H * max(1.0, abs(x[k]))
        w[k] = x[k] + d
        _f(h, w, p, fp, work)
        w[k] = x[k] - d
        _f(h, w, p, fm, work)
        w[k] = x[k]
        s = 0.0
        for i in range(n):
            s += v[i] * (fp[i] - fm[i])
        gx[k] = s / (2.0 * d)


@njit(**_JIT)
def flow_param_jacobian(t, y, u, p, Jp, work):
    """Row i of dF/dtheta is the VJP with the unit vector e_i: n VJPs, O(n d) like the
    matrix itself."""
    n = y.shape[0]
    v = np.zeros(n)
    gy = np.empty(n)
    gu = np.empty(u.shape[0])
    gp = np.empty(_psize(p))
    for i in range(n):
        v[i] = 1.0
        _vjp(t, y, u, p, v, gy, gu, gp, work)
        v[i] = 0.0
        Jp[i, :] = gp


@njit(**_JIT)
def map_param_jacobian(h, x, p, Jp, work):
    """As ``flow_param_jacobian`` for a map."""
    n = h.shape[0]
    v = np.zeros(n)
    gh = np.empty(n)
    gx = np.empty(x.shape[0])
    gp = np.empty(_psize(p))
    for i in range(n):
        v[i] = 1.0
        _vjp(h, x, p, v, gh, gx, gp, work)
        v[i] = 0.0
        Jp[i, :] = gp
