# Kernel template (see rnndyn/_jit.py) of a deep stack of cells of ONE family, specialised
# with that family's functions:
#   _cstep, _cjac, _cjac_x, _cout, _cout_jac, _cwork, _cindex
# Parameters p = (layers, sizes, W_out, b_out, act_out, readout): ``layers`` a homogeneous
# tuple of per-layer parameter tuples, ``sizes`` (L, 3) int array of (state n_l, input m_l,
# output o_l) per layer, W_out (O, o_L), b_out (O,). The state is [s_1; ...; s_L]; layer l
# reads the NEW output of layer l-1 (layer 1 reads x), so the stack is still one map.
import numpy as np
from numba import njit

from rnndyn.models._discrete_kernels import act as _act, act_prime as _act_prime


@njit(**_JIT)
def work_size(p):
    layers, sizes = p[0], p[1]
    need = 0
    for l in range(sizes.shape[0]):
        need = max(need, _cwork(layers[l]))
    return need + 2 * sizes[:, 2].max()


@njit(**_JIT)
def step(h, x, p, h_new, work):
    layers, sizes = p[0], p[1]
    L = sizes.shape[0]
    omax = sizes[:, 2].max()
    ws = work.shape[0] - 2 * omax
    a, b = work[ws:ws + omax], work[ws + omax:]
    off = 0
    for l in range(L):
        n_l, m_l, o_l = sizes[l, 0], sizes[l, 1], sizes[l, 2]
        inp = x if l == 0 else a[:m_l]
        _cstep(h[off:off + n_l], inp, layers[l], h_new[off:off + n_l], work[:ws])
        _cout(h_new[off:off + n_l], layers[l], b[:o_l])
        a[:o_l] = b[:o_l]
        off += n_l


@njit(**_JIT)
def output(h, p, out):
    layers, sizes, W_out, b_out, act_out, readout = p[0], p[1], p[2], p[3], p[4], p[5]
    L = sizes.shape[0]
    off = h.shape[0] - sizes[L - 1, 0]
    o_L = sizes[L - 1, 2]
    top = np.empty(o_L, dtype=out.dtype)
    _cout(h[off:], layers[L - 1], top)
    if readout == 0:
        out[:] = top
        return
    for o in range(W_out.shape[0]):
        s = b_out[o]
        for j in range(o_L):
            s += W_out[o, j] * top[j]
        out[o] = _act(s, act_out)


@njit(**_JIT)
def jacobian(h, x, p, J, work):
    """Block rows D_l = d s_l'/d s = [J_l at block l] + Jx_l Jo_{l-1} D_{l-1} (chain rule)."""
    layers, sizes = p[0], p[1]
    L, n = sizes.shape[0], h.shape[0]
    h_new = np.empty(n)
    step(h, x, p, h_new, work)
    omax = sizes[:, 2].max()
    ws = work.shape[0] - 2 * omax
    J[:, :] = 0.0
    off = 0
    prev_off = 0
    inp = x.copy()
    for l in range(L):
        n_l, m_l, o_l = sizes[l, 0], sizes[l, 1], sizes[l, 2]
        Jl = np.empty((n_l, n_l))
        _cjac(h[off:off + n_l], inp, layers[l], Jl, work[:ws])
        J[off:off + n_l, off:off + n_l] = Jl
        if l > 0:
            Jx = np.empty((n_l, m_l))
            _cjac_x(h[off:off + n_l], inp, layers[l], Jx, work[:ws])
            n_p = sizes[l - 1, 0]
            Jo = np.empty((m_l, n_p))
            _cout_jac(h_new[prev_off:prev_off + n_p], layers[l - 1], Jo)
            J[off:off + n_l, :] += (Jx @ Jo) @ np.ascontiguousarray(J[prev_off:prev_off + n_p, :])
        out = np.empty(o_l)
        _cout(h_new[off:off + n_l], layers[l], out)
        inp = out
        prev_off = off
        off += n_l


@njit(**_JIT)
def index(p, k):
    return p
