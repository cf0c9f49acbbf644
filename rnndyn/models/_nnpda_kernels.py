"""Numba kernels of the neural network pushdown automaton with the continuous stack of
Grefenstette et al. (2015, arXiv:1506.02516); arrays and scalars only, the equations are in
``rnndyn.models.nnpda``.

Parameter tuple ``p`` (a population adds a leading axis P to the seven arrays)::

    (W_in (G, Z), W_hh (G, H) LSTM or (0, H), b (G,), W_head (D, H), b_head (D,),
     W_out (O, H + m), b_out (O,), depth, m, lstm)

with H controller units, G = 4H (LSTM gates i, f, g, o as in PyTorch) or H (Elman, tanh),
m the width of a stack value, Z = n_in + m the controller input [x; r_prev], D = 2 + m the
stack controls [push d, pop u, value v (m)].

State (n): [controller (2H: h, c for an LSTM; H: h for Elman) | values V (depth m, row i =
slot i) | strengths s (depth) | read r (m)]. Slot depth - 1 is the newest entry; every step
shifts the slots down by one (slot 0, the oldest, is dropped) and pushes into slot depth - 1,
so the zero state is the empty stack and a stack of ``depth`` slots holds the last ``depth``
pushes.

theta_raw = [W_in, W_hh, b, W_head, b_head, W_out, b_out] (C order).

``work`` holds the forward pass (``_forward``) and the adjoints of the backward pass
(``_backward``); the VJP recomputes the forward pass, the Jacobian runs one forward pass and
n backward passes (rows e_i^T J).
"""
import numpy as np
from numba import njit

from .._config import JIT
from ._base_kernels import sigmoid, tanh


@njit(**JIT)
def nnpda_dims(p):
    """(H, G, Z, n_in, m, K, D, O, nc) of the tuple p."""
    K, m, lstm = p[7], p[8], p[9]
    H = p[3].shape[1]
    G = p[2].shape[0]
    Z = p[0].shape[1]
    nc = 2 * H if lstm else H
    return H, G, Z, Z - m, m, K, p[4].shape[0], p[6].shape[0], nc


@njit(**JIT)
def _offsets(p):
    """Offsets in ``work``: forward (z, gates, c, h, controls, popped strengths s', new
    strengths) then adjoints (controls, strengths, popped strengths, gates, h) and the end."""
    H, G, Z, m_in, m, K, D, O, nc = nnpda_dims(p)
    o_z = 0
    o_a = o_z + Z
    o_c = o_a + G
    o_h = o_c + H
    o_P = o_h + H  # d, u, v after their squashing
    o_sp = o_P + D
    o_sn = o_sp + K
    o_gP = o_sn + K
    o_gs = o_gP + D
    o_gsp = o_gs + K
    o_ga = o_gsp + K
    o_gh = o_ga + G
    end = o_gh + H
    return o_z, o_a, o_c, o_h, o_P, o_sp, o_sn, o_gP, o_gs, o_gsp, o_ga, o_gh, end


@njit(**JIT)
def nnpda_work_size(p):
    return _offsets(p)[-1]


@njit(**JIT)
def nnpda_param_size(p):
    return p[0].size + p[1].size + p[2].size + p[3].size + p[4].size + p[5].size + p[6].size


@njit(**JIT)
def nnpda_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5][k], p[6][k], p[7], p[8], p[9])


@njit(**JIT)
def _forward(h, x, p, work):
    """The controller, the stack controls and the new strengths into ``work`` (see
    ``_offsets``); the new values are the old ones shifted and v, read from h and work."""
    W_in, W_hh, b, W_head, b_head = p[0], p[1], p[2], p[3], p[4]
    lstm = p[9]
    H, G, Z, m_in, m, K, D, O, nc = nnpda_dims(p)
    o_z, o_a, o_c, o_h, o_P, o_sp, o_sn = _offsets(p)[:7]
    s_s = nc + K * m
    s_r = s_s + K
    # controller on z = [x; r_prev]
    for k in range(m_in):
        work[o_z + k] = x[k]
    for k in range(m):
        work[o_z + m_in + k] = h[s_r + k]
    for i in range(G):
        s = b[i]
        for k in range(Z):
            s += W_in[i, k] * work[o_z + k]
        for k in range(H):
            s += W_hh[i, k] * h[k]
        work[o_a + i] = s
    if lstm:
        for i in range(H):
            ig = sigmoid(work[o_a + i])
            fg = sigmoid(work[o_a + H + i])
            gg = tanh(work[o_a + 2 * H + i])
            og = sigmoid(work[o_a + 3 * H + i])
            work[o_a + i], work[o_a + H + i] = ig, fg
            work[o_a + 2 * H + i], work[o_a + 3 * H + i] = gg, og
            c = fg * h[H + i] + ig * gg
            work[o_c + i] = c
            work[o_h + i] = og * tanh(c)
    else:
        for i in range(H):
            work[o_a + i] = tanh(work[o_a + i])
            work[o_h + i] = work[o_a + i]
    # stack controls: push d = sigmoid, pop u = sigmoid, value v = tanh
    for i in range(D):
        s = b_head[i]
        for k in range(H):
            s += W_head[i, k] * work[o_h + k]
        work[o_P + i] = sigmoid(s) if i < 2 else tanh(s)
    u = work[o_P + 1]
    # pop (Grefenstette et al. eq. 2, i < t): s'_i = relu(s_i - relu(u - sum_{j>i} s_j))
    above = 0.0
    for i in range(K - 1, -1, -1):
        work[o_sp + i] = max(0.0, h[s_s + i] - max(0.0, u - above))
        above += h[s_s + i]
    # shift down by one (the oldest slot drops out), push d on top
    for i in range(K - 1):
        work[o_sn + i] = work[o_sp + i + 1]
    work[o_sn + K - 1] = work[o_P]


@njit(**JIT)
def nnpda_step(h, x, p, h_new, work):
    """One step: controller, pop, push, read (Grefenstette et al. 2015, eqs. 1-3)."""
    H, G, Z, m_in, m, K, D, O, nc = nnpda_dims(p)
    o_z, o_a, o_c, o_h, o_P, o_sp, o_sn = _offsets(p)[:7]
    _forward(h, x, p, work)
    for i in range(H):
        h_new[i] = work[o_h + i]
        if nc > H:
            h_new[H + i] = work[o_c + i]
    s_V = nc
    s_s = s_V + K * m
    s_r = s_s + K
    for i in range(K - 1):
        for j in range(m):
            h_new[s_V + i * m + j] = h[s_V + (i + 1) * m + j]
    for j in range(m):
        h_new[s_V + (K - 1) * m + j] = work[o_P + 2 + j]
    for i in range(K):
        h_new[s_s + i] = work[o_sn + i]
    # read (eq. 3): r = sum_i min(s_i, relu(1 - sum_{j>i} s_j)) V_i
    for j in range(m):
        h_new[s_r + j] = 0.0
    above = 0.0
    for i in range(K - 1, -1, -1):
        w = min(work[o_sn + i], max(0.0, 1.0 - above))
        above += work[o_sn + i]
        for j in range(m):
            h_new[s_r + j] += w * h_new[s_V + i * m + j]


@njit(**JIT)
def _backward(h, x, p, v, gh, gx, gp, work, params):
    """v^T d h_new / d(h, x[, theta_raw]) from the forward pass in ``work``; gp only if
    ``params``. At a kink of relu or min the branch taken is the one of the forward pass."""
    W_in, W_hh, W_head = p[0], p[1], p[3]
    lstm = p[9]
    H, G, Z, m_in, m, K, D, O, nc = nnpda_dims(p)
    o_z, o_a, o_c, o_h, o_P, o_sp, o_sn, o_gP, o_gs, o_gsp, o_ga, o_gh, end = _offsets(p)
    s_V = nc
    s_s = s_V + K * m
    s_r = s_s + K
    for k in range(h.shape[0]):
        gh[k] = 0.0
    gP = work[o_gP:o_gP + D]
    gs = work[o_gs:o_gs + K]
    gsp = work[o_gsp:o_gsp + K]
    for k in range(D):
        gP[k] = 0.0
    # read: weights w_i = min(s_i, relu(1 - A_i)), A_i = sum_{j>i} s_j (new strengths); a
    # new value V_i is the old V_{i+1} (i < K - 1) or v (i = K - 1). Top-down: dw_i/ds_i into
    # gs, and -gw_i (dw_i/dA_i = -1) into gsp for the slots above i, added bottom-up below
    for i in range(K):
        gs[i] = v[s_s + i]
    above = 0.0
    for i in range(K - 1, -1, -1):
        si = work[o_sn + i]
        cap = 1.0 - above
        w = min(si, max(0.0, cap))
        gw = 0.0
        for j in range(m):
            vij = h[s_V + (i + 1) * m + j] if i < K - 1 else work[o_P + 2 + j]
            gw += v[s_r + j] * vij
            gv = v[s_V + i * m + j] + w * v[s_r + j]
            if i < K - 1:
                gh[s_V + (i + 1) * m + j] = gv
            else:
                gP[2 + j] = gv
        gsp[i] = 0.0
        if si <= max(0.0, cap):
            gs[i] += gw
        elif cap > 0.0:
            gsp[i] = -gw
        above += si
    acc = 0.0
    for i in range(K):
        gs[i] += acc
        acc += gsp[i]
    # push and shift: s_new[K-1] = d, s_new[i] = s'[i+1]; the dropped s'[0] gets nothing
    gP[0] = gs[K - 1]
    for i in range(K - 1, 0, -1):
        gsp[i] = gs[i - 1]
    gsp[0] = 0.0
    # pop: s'_i = relu(e_i), e_i = s_i - relu(q_i), q_i = u - A_i (old strengths); where
    # both relus are active, de_i/du = -1 and de_i/dA_i = +1 (to every slot above i)
    u = work[o_P + 1]
    gu = 0.0
    above = 0.0
    for i in range(K - 1, -1, -1):
        q = u - above
        gs[i] = 0.0
        gh[s_s + i] = 0.0
        if h[s_s + i] - max(0.0, q) > 0.0:
            gh[s_s + i] = gsp[i]
            if q > 0.0:
                gs[i] = gsp[i]
                gu -= gsp[i]
        above += h[s_s + i]
    acc = 0.0
    for i in range(K):
        gh[s_s + i] += acc
        acc += gs[i]
    gP[1] = gu
    # squashings
    d = work[o_P]
    gP[0] *= d * (1.0 - d)
    gP[1] *= u * (1.0 - u)
    for j in range(m):
        vj = work[o_P + 2 + j]
        gP[2 + j] *= 1.0 - vj * vj
    # controls = W_head h_c + b_head, then the controller
    ghc = work[o_gh:o_gh + H]
    for k in range(H):
        s = v[k]
        for i in range(D):
            s += W_head[i, k] * gP[i]
        ghc[k] = s
    gaa = work[o_ga:o_ga + G]
    if lstm:
        for i in range(H):
            ig, fg = work[o_a + i], work[o_a + H + i]
            gg, og = work[o_a + 2 * H + i], work[o_a + 3 * H + i]
            tc = tanh(work[o_c + i])
            gc = v[H + i] + ghc[i] * og * (1.0 - tc * tc)
            gaa[i] = gc * gg * ig * (1.0 - ig)
            gaa[H + i] = gc * h[H + i] * fg * (1.0 - fg)
            gaa[2 * H + i] = gc * ig * (1.0 - gg * gg)
            gaa[3 * H + i] = ghc[i] * tc * og * (1.0 - og)
            gh[H + i] = gc * fg
    else:
        for i in range(H):
            gaa[i] = ghc[i] * (1.0 - work[o_a + i] * work[o_a + i])
    for k in range(H):
        s = 0.0
        for i in range(G):
            s += W_hh[i, k] * gaa[i]
        gh[k] = s
    for k in range(Z):
        s = 0.0
        for i in range(G):
            s += W_in[i, k] * gaa[i]
        if k < m_in:
            gx[k] = s
        else:
            gh[s_r + k - m_in] = s
    if not params:
        return
    off = 0
    for i in range(G):
        for k in range(Z):
            gp[off + i * Z + k] = gaa[i] * work[o_z + k]
    off += G * Z
    for i in range(G):
        for k in range(H):
            gp[off + i * H + k] = gaa[i] * h[k]
    off += G * H
    for i in range(G):
        gp[off + i] = gaa[i]
    off += G
    for i in range(D):
        for k in range(H):
            gp[off + i * H + k] = gP[i] * work[o_h + k]
    off += D * H
    for i in range(D):
        gp[off + i] = gP[i]
    off += D
    for k in range(off, gp.shape[0]):  # the readout does not enter the step
        gp[k] = 0.0


@njit(**JIT)
def nnpda_vjp(h, x, p, v, gh, gx, gp, work):
    """gh = v^T dF/dh, gx = v^T dF/dx, gp = v^T dF/dtheta_raw of one step F."""
    _forward(h, x, p, work)
    _backward(h, x, p, v, gh, gx, gp, work, True)


@njit(**JIT)
def nnpda_jacobian(h, x, p, J, work):
    """J = dF/dh, row i as the VJP with e_i (one forward pass, n backward passes)."""
    n = h.shape[0]
    _forward(h, x, p, work)
    v = np.zeros(n)
    gx = np.empty(x.shape[0])
    gp = np.empty(0)
    row = np.empty(n)
    for i in range(n):
        v[i] = 1.0
        _backward(h, x, p, v, row, gx, gp, work, False)
        v[i] = 0.0
        for j in range(n):
            J[i, j] = row[j]


# -- readout y = W_out [h_c; r] + b_out (logits) ------------------------------------------
@njit(**JIT)
def nnpda_output(y, p, out):
    W_out, b_out = p[5], p[6]
    H, G, Z, m_in, m, K, D, O, nc = nnpda_dims(p)
    s_r = nc + K * m + K
    for o in range(O):
        s = b_out[o]
        for k in range(H):
            s += W_out[o, k] * y[k]
        for k in range(m):
            s += W_out[o, H + k] * y[s_r + k]
        out[o] = s


@njit(**JIT)
def nnpda_output_vjp(y, p, v, gy, gp):
    W_out = p[5]
    H, G, Z, m_in, m, K, D, O, nc = nnpda_dims(p)
    s_r = nc + K * m + K
    for k in range(y.shape[0]):
        gy[k] = 0.0
    off = p[0].size + p[1].size + p[2].size + p[3].size + p[4].size  # W_out in theta_raw
    for k in range(gp.shape[0]):
        gp[k] = 0.0
    C = H + m
    for o in range(O):
        for k in range(H):
            gy[k] += W_out[o, k] * v[o]
            gp[off + o * C + k] = v[o] * y[k]
        for k in range(m):
            gy[s_r + k] += W_out[o, H + k] * v[o]
            gp[off + o * C + H + k] = v[o] * y[s_r + k]
        gp[off + O * C + o] = v[o]
