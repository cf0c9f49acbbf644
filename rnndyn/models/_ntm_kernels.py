"""Numba kernels of the Neural Turing Machine (Graves, Wayne & Danihelka 2014,
arXiv:1410.5401), arrays and scalars only; the equations are in ``rnndyn.models.ntm``.

Parameter tuple ``p`` (a population adds a leading axis P to the seven arrays)::

    (W_in (G, Z), W_hh (G, H) LSTM or (0, H), b (G,), W_head (D, H), b_head (D,),
     W_out (O, H + R Wm), b_out (O,), N, Wm, R, Wh, shift_range, lstm, memory_init)

with H controller units, G = 4H (LSTM gates i, f, g, o as in PyTorch) or H (feed-forward,
tanh), Z = n_in + R Wm the controller input [x; r_prev], heads j = 0..Wh-1 writing and
Wh..Wh+R-1 reading, each with the Pa = Wm + 3 + S head outputs [key (Wm), beta, g, shift
(S = 2 shift_range + 1), gamma] at rows j Pa of W_head, then erase (Wm) and add (Wm) of each
write head.

State (n): [controller (2H: h, c for an LSTM; H: h for feed-forward) | M - memory_init
(N Wm, row-major) | w_j - e_0 for every head j (N each) | reads r (R Wm)]. The memory and the
weightings are stored relative to the Collier & Beel (2018) start (constant memory, every
head on location 0), so the zero state is the machine's initial state.

theta_raw = [W_in, W_hh, b, W_head, b_head, W_out, b_out] (C order).

``work`` holds the forward pass (``_forward``) and the adjoints of the backward pass
(``_backward``); the VJP recomputes the forward pass, the Jacobian runs one forward pass and
n backward passes (rows e_i^T J).
"""
import numpy as np
from numba import njit

from .._config import JIT
from ._base_kernels import sigmoid, tanh

EPS = 1e-8  # the norms of the cosine similarity are sqrt(|x|^2 + EPS^2): finite for zero rows


@njit(**dict(JIT, inline="always"))
def softplus(x):
    return max(x, 0.0) + np.log1p(np.exp(-abs(x)))


@njit(**JIT)
def ntm_dims(p):
    """(H, G, Z, m, S, nh, D, O, nc, Pa) of the tuple p."""
    Wm, R, Wh, sr, lstm = p[8], p[9], p[10], p[11], p[12]
    H = p[3].shape[1]
    G = p[2].shape[0]
    Z = p[0].shape[1]
    S = 2 * sr + 1
    nc = 2 * H if lstm else H
    return H, G, Z, Z - R * Wm, S, R + Wh, p[4].shape[0], p[6].shape[0], nc, Wm + 3 + S


@njit(**JIT)
def ntm_state_size(p):
    N, Wm, R = p[7], p[8], p[9]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    return nc + N * Wm + nh * N + R * Wm


@njit(**JIT)
def _head_size(p):
    N, Wm = p[7], p[8]
    S = 2 * p[11] + 1
    return Wm + 4 + S + 6 * N  # k, (beta, g, gamma, |k|), s, w_prev, K, w_c, w_g, w_s, w


@njit(**JIT)
def _offsets(p):
    """Offsets in ``work``: forward (z, gates, c, h, P, M_prev, M_new, heads, erase/add,
    reads) then adjoints (gP, gM_new, gM_prev, 3N scratch, gz, ga, gh, gc, head scratch) and
    the end."""
    N, Wm, R, Wh = p[7], p[8], p[9], p[10]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    o_z = 0
    o_a = o_z + Z
    o_c = o_a + G
    o_h = o_c + H
    o_P = o_h + H
    o_Mp = o_P + D
    o_Mn = o_Mp + N * Wm
    o_hd = o_Mn + N * Wm
    o_ea = o_hd + nh * _head_size(p)
    o_r = o_ea + Wh * 2 * Wm
    o_gP = o_r + R * Wm
    o_gMn = o_gP + D
    o_gMp = o_gMn + N * Wm
    o_gw = o_gMp + N * Wm
    o_gz = o_gw + 3 * N
    o_ga = o_gz + Z
    o_gh = o_ga + G
    o_gc = o_gh + H
    o_gk = o_gc + H  # key, shift, erase and add adjoints of one head: 3 Wm + S
    end = o_gk + 3 * Wm + S
    return (o_z, o_a, o_c, o_h, o_P, o_Mp, o_Mn, o_hd, o_ea, o_r, o_gP, o_gMn, o_gMp, o_gw,
            o_gz, o_ga, o_gh, o_gc, o_gk, end)


@njit(**JIT)
def ntm_work_size(p):
    return _offsets(p)[-1]


@njit(**JIT)
def ntm_param_size(p):
    return p[0].size + p[1].size + p[2].size + p[3].size + p[4].size + p[5].size + p[6].size


@njit(**JIT)
def ntm_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5][k], p[6][k], p[7], p[8], p[9],
            p[10], p[11], p[12], p[13])


# -- the controller (z = [x; r_prev]), shared with the DNC -----------------------------------------
@njit(**JIT)
def _controller(W_in, W_hh, b, lstm, h, x, reads, work, o_z, o_a, o_c, o_h):
    """LSTM (gates i, f, g, o; state [h; c] at h[:2H]) or tanh layer on z = [x; reads]:
    z, the activated gates, c and h into ``work``."""
    G, Z = W_in.shape
    H = W_hh.shape[1]
    m = x.shape[0]
    for k in range(m):
        work[o_z + k] = x[k]
    for k in range(Z - m):
        work[o_z + m + k] = reads[k]
    for i in range(G):
        s = b[i]
        for k in range(Z):
            s += W_in[i, k] * work[o_z + k]
        if lstm:
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


@njit(**JIT)
def _controller_vjp(W_in, W_hh, W_head, lstm, h, v, gP, work, o_z, o_a, o_c, o_h, o_gh,
                    o_ga, gh, gx, greads):
    """Adjoint of ``_controller`` and of xi = W_head h + b_head: v the cotangent of the new
    controller state, gP of xi. Writes gh[:nc], gx, greads and the gate adjoints at o_ga."""
    G, Z = W_in.shape
    H = W_hh.shape[1]
    D = W_head.shape[0]
    m = gx.shape[0]
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
        for k in range(H):
            s = 0.0
            for i in range(G):
                s += W_hh[i, k] * gaa[i]
            gh[k] = s
    else:
        for i in range(H):
            gaa[i] = ghc[i] * (1.0 - work[o_a + i] * work[o_a + i])
    for k in range(Z):
        s = 0.0
        for i in range(G):
            s += W_in[i, k] * gaa[i]
        if k < m:
            gx[k] = s
        else:
            greads[k - m] = s


@njit(**JIT)
def _controller_params(h, lstm, G, Z, H, D, gP, work, o_z, o_h, o_ga, gp):
    """d/d[W_in, W_hh, b, W_head, b_head] into gp from the adjoints; the readout's slots
    (which do not enter the step) zeroed."""
    gaa = work[o_ga:o_ga + G]
    off = 0
    for i in range(G):
        for k in range(Z):
            gp[off + i * Z + k] = gaa[i] * work[o_z + k]
    off += G * Z
    if lstm:
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
    for k in range(off, gp.shape[0]):
        gp[k] = 0.0


# -- addressing (Graves et al. 2014, section 3.3, eqs. 5-9) ---------------------------------
@njit(**JIT)
def _address(P, o, M, N, Wm, S, hb):
    """Weighting of the head whose raw outputs start at P[o], on memory M (N Wm), from the
    previous weighting already in hb's w_prev slot. Fills the head buffer hb."""
    sr = (S - 1) // 2
    o6 = Wm + 4 + S
    wp, K, wc, wg, ws, w = o6, o6 + N, o6 + 2 * N, o6 + 3 * N, o6 + 4 * N, o6 + 5 * N
    nk2 = EPS * EPS
    for j in range(Wm):
        hb[j] = tanh(P[o + j])
        nk2 += hb[j] * hb[j]
    beta = 1.0 + softplus(P[o + Wm])  # key strength, oneplus
    g = sigmoid(P[o + Wm + 1])  # interpolation gate
    gamma = 1.0 + softplus(P[o + Wm + 2 + S])  # sharpening >= 1
    nk = np.sqrt(nk2)
    hb[Wm], hb[Wm + 1], hb[Wm + 2], hb[Wm + 3] = beta, g, gamma, nk
    mx = -np.inf
    for t in range(S):
        mx = max(mx, P[o + Wm + 2 + t])
    tot = 0.0
    for t in range(S):
        e = np.exp(P[o + Wm + 2 + t] - mx)
        hb[Wm + 4 + t] = e
        tot += e
    for t in range(S):
        hb[Wm + 4 + t] /= tot
    # content: K_i = cos(k, M_i) (eq. 6), w_c = softmax(beta K) (eq. 5)
    mx = -np.inf
    for i in range(N):
        dot, nm2 = 0.0, EPS * EPS
        for j in range(Wm):
            mij = M[i * Wm + j]
            dot += hb[j] * mij
            nm2 += mij * mij
        hb[K + i] = dot / (nk * np.sqrt(nm2))
        mx = max(mx, beta * hb[K + i])
    tot = 0.0
    for i in range(N):
        e = np.exp(beta * hb[K + i] - mx)
        hb[wc + i] = e
        tot += e
    for i in range(N):
        hb[wc + i] /= tot
        hb[wg + i] = g * hb[wc + i] + (1.0 - g) * hb[wp + i]  # eq. 7
    # circular convolution with the shift weighting (eq. 8): offset t - sr moves j to j + t - sr
    for i in range(N):
        acc = 0.0
        for t in range(S):
            acc += hb[wg + (i - t + sr) % N] * hb[Wm + 4 + t]
        hb[ws + i] = acc
    # sharpening w_i = ws_i^gamma / sum_j ws_j^gamma (eq. 9), in logs; entries <= 0 (only off
    # the simplex) count as 0, and a weighting with none > 0 becomes uniform
    mx = -np.inf
    for i in range(N):
        if hb[ws + i] > 0.0:
            mx = max(mx, np.log(hb[ws + i]))
    if mx == -np.inf:
        for i in range(N):
            hb[w + i] = 1.0 / N
        return
    tot = 0.0
    for i in range(N):
        e = np.exp(gamma * (np.log(hb[ws + i]) - mx)) if hb[ws + i] > 0.0 else 0.0
        hb[w + i] = e
        tot += e
    for i in range(N):
        hb[w + i] /= tot


@njit(**JIT)
def _address_vjp(P, o, M, N, Wm, S, hb, gw, gP, gwp, gM, tmp, gk, gsh):
    """Adjoint of ``_address``: gw (N) the cotangent of the weighting; adds to gP (the raw
    head outputs) and gM (the memory), writes gwp (the previous weighting). Scratch: tmp
    (2N), gk (Wm), gsh (S)."""
    sr = (S - 1) // 2
    o6 = Wm + 4 + S
    wp, K, wc, wg, ws, w = o6, o6 + N, o6 + 2 * N, o6 + 3 * N, o6 + 4 * N, o6 + 5 * N
    beta, g, gamma, nk = hb[Wm], hb[Wm + 1], hb[Wm + 2], hb[Wm + 3]
    gws = tmp[:N]
    gwg = tmp[N:2 * N]
    # sharpening: dw_i/dws_j = gamma (delta_ij w_i - w_i w_j) / ws_j; dw_i/dgamma =
    # w_i (log ws_i - sum_j w_j log ws_j)
    dot = 0.0
    mean = 0.0
    for i in range(N):
        dot += gw[i] * hb[w + i]
        if hb[ws + i] > 0.0:
            mean += hb[w + i] * np.log(hb[ws + i])
    ggamma = 0.0
    any_pos = False
    for i in range(N):
        if hb[ws + i] > 0.0:
            any_pos = True
            gws[i] = gamma * hb[w + i] / hb[ws + i] * (gw[i] - dot)
            ggamma += gw[i] * hb[w + i] * (np.log(hb[ws + i]) - mean)
        else:
            gws[i] = 0.0
    if not any_pos:
        ggamma = 0.0
    # shift
    gs0 = Wm + 4  # the shift weighting in hb; its cotangent is accumulated in gsh below
    for i in range(N):
        gwg[i] = 0.0
    for t in range(S):
        gsh[t] = 0.0
    for i in range(N):
        for t in range(S):
            idx = (i - t + sr) % N
            gwg[idx] += gws[i] * hb[gs0 + t]
            gsh[t] += gws[i] * hb[wg + idx]
    # interpolation
    gg = 0.0
    for i in range(N):
        gg += gwg[i] * (hb[wc + i] - hb[wp + i])
        gwp[i] = (1.0 - g) * gwg[i]
    # content softmax: gz_i = w_c,i (gwc_i - sum_j gwc_j w_c,j), gwc = g gwg
    dot = 0.0
    for i in range(N):
        dot += g * gwg[i] * hb[wc + i]
    gbeta = 0.0
    for i in range(N):
        gz = hb[wc + i] * (g * gwg[i] - dot)
        gbeta += gz * hb[K + i]
        gws[i] = beta * gz  # reuse: the cotangent of K_i
    # cosine similarity K_i = k.M_i / (|k|_eps |M_i|_eps)
    for j in range(Wm):
        gk[j] = 0.0
    for i in range(N):
        nm2 = EPS * EPS
        for j in range(Wm):
            nm2 += M[i * Wm + j] * M[i * Wm + j]
        nm = np.sqrt(nm2)
        gK = gws[i]
        c = gK / (nk * nm)
        Ki = hb[K + i]
        for j in range(Wm):
            mij = M[i * Wm + j]
            gk[j] += c * mij - gK * Ki * hb[j] / (nk * nk)
            gM[i * Wm + j] += c * hb[j] - gK * Ki * mij / nm2
    # raw head outputs
    for j in range(Wm):
        gP[o + j] += gk[j] * (1.0 - hb[j] * hb[j])
    gP[o + Wm] += gbeta * sigmoid(P[o + Wm])
    gP[o + Wm + 1] += gg * g * (1.0 - g)
    d = 0.0
    for t in range(S):
        d += gsh[t] * hb[gs0 + t]
    for t in range(S):
        gP[o + Wm + 2 + t] += hb[gs0 + t] * (gsh[t] - d)
    gP[o + Wm + 2 + S] += ggamma * sigmoid(P[o + Wm + 2 + S])


# -- one step ----------------------------------------------------------------------------
@njit(**JIT)
def _forward(h, x, p, work):
    """The whole step into ``work`` (see ``_offsets``)."""
    W_in, W_hh, b, W_head, b_head = p[0], p[1], p[2], p[3], p[4]
    N, Wm, R, Wh, lstm, c0 = p[7], p[8], p[9], p[10], p[12], p[13]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    (o_z, o_a, o_c, o_h, o_P, o_Mp, o_Mn, o_hd, o_ea, o_r, o_gP, o_gMn, o_gMp, o_gw, o_gz,
     o_ga, o_gh, o_gc, o_gk, end) = _offsets(p)
    HS = _head_size(p)
    s_M = nc
    s_w = s_M + N * Wm
    s_r = s_w + nh * N
    _controller(W_in, W_hh, b, lstm, h, x, h[s_r:s_r + R * Wm], work, o_z, o_a, o_c, o_h)
    # head outputs P = W_head h + b_head
    for i in range(D):
        s = b_head[i]
        for k in range(H):
            s += W_head[i, k] * work[o_h + k]
        work[o_P + i] = s
    P = work[o_P:o_P + D]
    Mp = work[o_Mp:o_Mp + N * Wm]
    Mn = work[o_Mn:o_Mn + N * Wm]
    for k in range(N * Wm):
        Mp[k] = h[s_M + k] + c0
    # write heads address M_prev, then erase and add (eqs. 3-4); read heads address M_new
    for q in range(nh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        o6 = Wm + 4 + S
        for i in range(N):
            hb[o6 + i] = h[s_w + q * N + i] + (1.0 if i == 0 else 0.0)
    for q in range(Wh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        _address(P, q * Pa, Mp, N, Wm, S, hb)
        oe = nh * Pa + q * 2 * Wm
        for j in range(Wm):
            work[o_ea + q * 2 * Wm + j] = sigmoid(P[oe + j])
            work[o_ea + q * 2 * Wm + Wm + j] = tanh(P[oe + Wm + j])
    for k in range(N * Wm):
        Mn[k] = Mp[k]
    ow = Wm + 4 + S + 5 * N  # the final weighting in a head buffer
    for q in range(Wh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        for i in range(N):
            for j in range(Wm):
                Mn[i * Wm + j] *= 1.0 - hb[ow + i] * work[o_ea + q * 2 * Wm + j]
    for q in range(Wh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        for i in range(N):
            for j in range(Wm):
                Mn[i * Wm + j] += hb[ow + i] * work[o_ea + q * 2 * Wm + Wm + j]
    for q in range(Wh, nh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        _address(P, q * Pa, Mn, N, Wm, S, hb)
        rr = o_r + (q - Wh) * Wm
        for j in range(Wm):
            work[rr + j] = 0.0
        for i in range(N):
            for j in range(Wm):
                work[rr + j] += hb[ow + i] * Mn[i * Wm + j]


@njit(**JIT)
def ntm_step(h, x, p, h_new, work):
    """One step of the machine: controller, write (erase, add), read."""
    N, Wm, R = p[7], p[8], p[9]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    o = _offsets(p)
    o_c, o_h, o_Mn, o_hd, o_r = o[2], o[3], o[6], o[7], o[9]
    _forward(h, x, p, work)
    HS = _head_size(p)
    for i in range(H):
        h_new[i] = work[o_h + i]
        if nc > H:
            h_new[H + i] = work[o_c + i]
    c0 = p[13]
    for k in range(N * Wm):
        h_new[nc + k] = work[o_Mn + k] - c0
    ow = Wm + 4 + S + 5 * N
    s_w = nc + N * Wm
    for q in range(nh):
        for i in range(N):
            h_new[s_w + q * N + i] = work[o_hd + q * HS + ow + i] - (1.0 if i == 0 else 0.0)
    s_r = s_w + nh * N
    for k in range(R * Wm):
        h_new[s_r + k] = work[o_r + k]


@njit(**JIT)
def _backward(h, x, p, v, gh, gx, gp, work, params):
    """v^T d h_new / d(h, x[, theta_raw]) from the forward pass in ``work``; gp only if
    ``params`` (the Jacobian does not need it)."""
    W_in, W_hh, W_head = p[0], p[1], p[3]
    N, Wm, Wh, lstm = p[7], p[8], p[10], p[12]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    (o_z, o_a, o_c, o_h, o_P, o_Mp, o_Mn, o_hd, o_ea, o_r, o_gP, o_gMn, o_gMp, o_gw, o_gz,
     o_ga, o_gh, o_gc, o_gk, end) = _offsets(p)
    HS = _head_size(p)
    s_M = nc
    s_w = s_M + N * Wm
    s_r = s_w + nh * N
    ow = Wm + 4 + S + 5 * N
    P = work[o_P:o_P + D]
    Mp = work[o_Mp:o_Mp + N * Wm]
    Mn = work[o_Mn:o_Mn + N * Wm]
    gP = work[o_gP:o_gP + D]
    gMn = work[o_gMn:o_gMn + N * Wm]
    gMp = work[o_gMp:o_gMp + N * Wm]
    gw = work[o_gw:o_gw + N]
    tmp = work[o_gw + N:o_gw + 3 * N]
    gk = work[o_gk:o_gk + Wm]
    ge = work[o_gk + Wm:o_gk + 2 * Wm]
    ga = work[o_gk + 2 * Wm:o_gk + 3 * Wm]
    gsh = work[o_gk + 3 * Wm:o_gk + 3 * Wm + S]
    for k in range(D):
        gP[k] = 0.0
    for k in range(N * Wm):
        gMn[k] = v[s_M + k]
    for k in range(h.shape[0]):
        gh[k] = 0.0
    # reads r = w^T M_new, then the read heads' addressing on M_new
    for q in range(Wh, nh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        vr = s_r + (q - Wh) * Wm
        for i in range(N):
            s = v[s_w + q * N + i]
            for j in range(Wm):
                s += v[vr + j] * Mn[i * Wm + j]
                gMn[i * Wm + j] += hb[ow + i] * v[vr + j]
            gw[i] = s
        _address_vjp(P, q * Pa, Mn, N, Wm, S, hb, gw, gP, gh[s_w + q * N:s_w + (q + 1) * N],
                     gMn, tmp, gk, gsh)
    # write: M_new = M_prev * prod_q (1 - w_q e_q^T) + sum_q w_q a_q^T
    for k in range(N * Wm):
        gMp[k] = 0.0
    for i in range(N):
        for j in range(Wm):
            E = 1.0
            for q in range(Wh):
                E *= 1.0 - work[o_hd + q * HS + ow + i] * work[o_ea + q * 2 * Wm + j]
            gMp[i * Wm + j] = gMn[i * Wm + j] * E
    for q in range(Wh):
        hb = work[o_hd + q * HS:o_hd + (q + 1) * HS]
        oe = o_ea + q * 2 * Wm
        for i in range(N):
            gw[i] = v[s_w + q * N + i]
        for j in range(Wm):
            ge[j] = 0.0
            ga[j] = 0.0
        for i in range(N):
            wi = hb[ow + i]
            for j in range(Wm):
                rest = 1.0  # the other heads' erase factors
                for q2 in range(Wh):
                    if q2 != q:
                        rest *= 1.0 - work[o_hd + q2 * HS + ow + i] * work[o_ea + q2 * 2 * Wm + j]
                g = gMn[i * Wm + j]
                gw[i] += g * (work[oe + Wm + j] - Mp[i * Wm + j] * work[oe + j] * rest)
                ge[j] -= g * Mp[i * Wm + j] * wi * rest
                ga[j] += g * wi
        pe = nh * Pa + q * 2 * Wm
        for j in range(Wm):
            e, a = work[oe + j], work[oe + Wm + j]
            gP[pe + j] += ge[j] * e * (1.0 - e)
            gP[pe + Wm + j] += ga[j] * (1.0 - a * a)
        _address_vjp(P, q * Pa, Mp, N, Wm, S, hb, gw, gP, gh[s_w + q * N:s_w + (q + 1) * N],
                     gMp, tmp, gk, gsh)
    for k in range(N * Wm):
        gh[s_M + k] = gMp[k]
    # head outputs P = W_head h_c + b_head, then the controller
    _controller_vjp(W_in, W_hh, W_head, lstm, h, v, gP, work, o_z, o_a, o_c, o_h, o_gh, o_ga, gh,
                    gx, gh[s_r:s_r + Z - m])
    if params:
        _controller_params(h, lstm, G, Z, H, D, gP, work, o_z, o_h, o_ga, gp)


@njit(**JIT)
def ntm_vjp(h, x, p, v, gh, gx, gp, work):
    """gh = v^T dF/dh, gx = v^T dF/dx, gp = v^T dF/dtheta_raw of one step F."""
    _forward(h, x, p, work)
    _backward(h, x, p, v, gh, gx, gp, work, True)


@njit(**JIT)
def ntm_jacobian(h, x, p, J, work):
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
def ntm_output(y, p, out):
    W_out, b_out = p[5], p[6]
    N, Wm, R = p[7], p[8], p[9]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    s_r = nc + N * Wm + nh * N
    for o in range(O):
        s = b_out[o]
        for k in range(H):
            s += W_out[o, k] * y[k]
        for k in range(R * Wm):
            s += W_out[o, H + k] * y[s_r + k]
        out[o] = s


@njit(**JIT)
def ntm_output_vjp(y, p, v, gy, gp):
    W_out = p[5]
    N, Wm, R = p[7], p[8], p[9]
    H, G, Z, m, S, nh, D, O, nc, Pa = ntm_dims(p)
    s_r = nc + N * Wm + nh * N
    for k in range(y.shape[0]):
        gy[k] = 0.0
    off = p[0].size + p[1].size + p[2].size + p[3].size + p[4].size  # W_out in theta_raw
    for k in range(gp.shape[0]):
        gp[k] = 0.0
    C = H + R * Wm
    for o in range(O):
        for k in range(H):
            gy[k] += W_out[o, k] * v[o]
            gp[off + o * C + k] = v[o] * y[k]
        for k in range(R * Wm):
            gy[s_r + k] += W_out[o, H + k] * v[o]
            gp[off + o * C + H + k] = v[o] * y[s_r + k]
        gp[off + O * C + o] = v[o]
