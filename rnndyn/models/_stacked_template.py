# Kernel template (see rnndyn/_jit.py) of a deep stack of cells of ONE family, specialised
# with that family's functions:
#   _cstep, _cjac, _cjac_x, _cout, _cout_jac, _cwork, _cmember, _cvjp, _cout_vjp, _cpsize
# Parameters p = (layers, sizes, W_out, b_out, act_out, readout): ``layers`` a homogeneous
# tuple of per-layer parameter tuples, ``sizes`` (L, 3) int array of (state n_l, input m_l,
# output o_l) per layer, W_out (O, o_L), b_out (O,). The state is [s_1; ...; s_L]; layer l
# reads the NEW output of layer l-1 (layer 1 reads x), so the stack is still one map.
# theta_raw of the stack = [theta_raw of layer 1; ...; of layer L; W_out; b_out].
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
    h_new = np.empty(n, h.dtype)
    step(h, x, p, h_new, work)
    omax = sizes[:, 2].max()
    ws = work.shape[0] - 2 * omax
    J[:, :] = 0.0
    off = 0
    prev_off = 0
    inp = x.copy()
    for l in range(L):
        n_l, m_l, o_l = sizes[l, 0], sizes[l, 1], sizes[l, 2]
        Jl = np.empty((n_l, n_l), J.dtype)
        _cjac(h[off:off + n_l], inp, layers[l], Jl, work[:ws])
        J[off:off + n_l, off:off + n_l] = Jl
        if l > 0:
            Jx = np.empty((n_l, m_l), J.dtype)
            _cjac_x(h[off:off + n_l], inp, layers[l], Jx, work[:ws])
            n_p = sizes[l - 1, 0]
            Jo = np.empty((m_l, n_p), J.dtype)
            _cout_jac(h_new[prev_off:prev_off + n_p], layers[l - 1], Jo)
            J[off:off + n_l, :] += (Jx @ Jo) @ np.ascontiguousarray(J[prev_off:prev_off + n_p, :])
        out = np.empty(o_l, h.dtype)
        _cout(h_new[off:off + n_l], layers[l], out)
        inp = out
        prev_off = off
        off += n_l


@njit(**_JIT)
def member(p, k):
    return p


@njit(**_JIT)
def param_size(p):
    layers, sizes = p[0], p[1]
    d = p[2].size + p[3].size
    for l in range(sizes.shape[0]):
        d += _cpsize(layers[l])
    return d


@njit(**_JIT)
def vjp(h, x, p, v, gh, gx, gp, work):
    """Reverse pass through the layers: the cotangent of layer l's new state is its part of
    v plus what layer l+1 sends back through its input (layer l's output)."""
    layers, sizes = p[0], p[1]
    L, n = sizes.shape[0], h.shape[0]
    h_new = np.empty(n, h.dtype)
    step(h, x, p, h_new, work)
    ws = work.shape[0] - 2 * sizes[:, 2].max()
    offs = np.zeros(L + 1, np.int64)  # state offsets
    roffs = np.zeros(L + 1, np.int64)  # theta_raw offsets
    for l in range(L):
        offs[l + 1] = offs[l] + sizes[l, 0]
        roffs[l + 1] = roffs[l] + _cpsize(layers[l])
    gp[:] = 0.0
    ga = np.zeros(sizes[:, 2].max(), h.dtype)  # cotangent of layer l's output
    for l in range(L - 1, -1, -1):
        a, b = offs[l], offs[l + 1]
        n_l, m_l, o_l = sizes[l, 0], sizes[l, 1], sizes[l, 2]
        d_l = roffs[l + 1] - roffs[l]
        vt = v[a:b].copy()
        g_p = np.empty(d_l, h.dtype)
        if l < L - 1:
            g_h = np.empty(n_l, h.dtype)
            _cout_vjp(h_new[a:b], layers[l], ga[:o_l].copy(), g_h, g_p)
            vt += g_h
            gp[roffs[l]:roffs[l + 1]] += g_p
        if l == 0:
            inp = x
        else:
            inp = np.empty(m_l, h.dtype)
            _cout(h_new[offs[l - 1]:a], layers[l - 1], inp)
        g_in = np.empty(m_l, h.dtype)
        _cvjp(h[a:b], inp, layers[l], vt, gh[a:b], g_in, g_p, work[:ws])
        gp[roffs[l]:roffs[l + 1]] += g_p
        if l == 0:
            gx[:] = g_in
        else:
            ga[:m_l] = g_in


@njit(**_JIT)
def output_vjp(h, p, v, gh, gp):
    """Through the readout (if any) and the top layer's output function."""
    layers, sizes, W_out, b_out, act_out, readout = p[0], p[1], p[2], p[3], p[4], p[5]
    L = sizes.shape[0]
    off = h.shape[0] - sizes[L - 1, 0]
    o_L = sizes[L - 1, 2]
    r_top = 0
    for l in range(L - 1):
        r_top += _cpsize(layers[l])
    d_top = _cpsize(layers[L - 1])
    gh[:] = 0.0
    gp[:] = 0.0
    ga = np.zeros(o_L, h.dtype)
    if readout == 0:
        ga[:] = v
    else:
        top = np.empty(o_L, h.dtype)
        _cout(h[off:], layers[L - 1], top)
        r_out = r_top + d_top
        O = W_out.shape[0]
        for o in range(O):
            z = b_out[o]
            for j in range(o_L):
                z += W_out[o, j] * top[j]
            d = v[o] * _act_prime(z, act_out)
            for j in range(o_L):
                gp[r_out + o * o_L + j] = d * top[j]
                ga[j] += d * W_out[o, j]
            gp[r_out + O * o_L + o] = d
    g_p = np.empty(d_top, h.dtype)
    _cout_vjp(h[off:], layers[L - 1], ga, gh[off:], g_p)
    gp[r_top:r_top + d_top] = g_p
