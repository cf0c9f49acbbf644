"""Numba kernels of the Differentiable Neural Computer's memory (Graves et al. 2016, Nature
538:471, Methods), arrays and scalars only; the equations are in ``rnndyn.models.dnc``.

Parameter tuple ``p`` (a population adds a leading axis P to the seven arrays)::

    (W_in (G, Z), W_hh (G, H) LSTM or (0, H), b (G,), W_head (D, H), b_head (D,),
     W_out (O, H + R Wm), b_out (O,), N, Wm, R, lstm)

the controller exactly as the NTM's (``_ntm_kernels``: G = 4H LSTM gates i, f, g, o, or H
tanh units, on z = [x; r_prev], Z = n_in + R Wm), and the interface vector
xi = W_head h + b_head of D = R Wm + 3 Wm + 5 R + 3 rows in the paper's order::

    read keys (R Wm) | read strengths (R) | write key (Wm) | write strength | erase (Wm) |
    write vector (Wm) | free gates (R) | allocation gate | write gate | read modes (3 R)

State (n): [controller (2H or H) | M (N Wm, row-major) | usage u (N) | precedence p (N) |
link L (N N, row-major) | write weighting (N) | read weightings (R N) | reads (R Wm)]; the
DNC starts from all zeros, so the zero state is its initial state.

theta_raw = [W_in, W_hh, b, W_head, b_head, W_out, b_out] (C order), as the NTM's.

``work`` holds the forward pass (``_forward``) and the adjoints of the backward pass
(``_backward``); the VJP recomputes the forward pass, the Jacobian runs one forward pass and
n backward passes (rows e_i^T J).
"""
import numpy as np
from numba import njit

from .._config import JIT
from ._base_kernels import sigmoid
from ._ntm_kernels import EPS, _controller, _controller_params, _controller_vjp, softplus


@njit(**JIT)
def dnc_dims(p):
    """(H, G, Z, m, D, O, nc) of the tuple p."""
    Wm, R, lstm = p[8], p[9], p[10]
    H = p[3].shape[1]
    G = p[2].shape[0]
    Z = p[0].shape[1]
    nc = 2 * H if lstm else H
    return H, G, Z, Z - R * Wm, p[4].shape[0], p[6].shape[0], nc


@njit(**JIT)
def _interface(Wm, R):
    """Offsets of the interface vector: (read keys, read strengths, write key, write
    strength, erase, write vector, free gates, allocation gate, write gate, read modes)."""
    o_kr = 0
    o_br = o_kr + R * Wm
    o_kw = o_br + R
    o_bw = o_kw + Wm
    o_e = o_bw + 1
    o_v = o_e + Wm
    o_f = o_v + Wm
    o_ga = o_f + R
    o_gw = o_ga + 1
    o_pi = o_gw + 1
    return o_kr, o_br, o_kw, o_bw, o_e, o_v, o_f, o_ga, o_gw, o_pi


@njit(**JIT)
def _state(p):
    """Offsets in the state: (M, u, p, L, write weighting, read weightings, reads, n)."""
    N, Wm, R = p[7], p[8], p[9]
    nc = dnc_dims(p)[6]
    s_M = nc
    s_u = s_M + N * Wm
    s_p = s_u + N
    s_L = s_p + N
    s_ww = s_L + N * N
    s_wr = s_ww + N
    s_r = s_wr + R * N
    return s_M, s_u, s_p, s_L, s_ww, s_wr, s_r, s_r + R * Wm


@njit(**JIT)
def dnc_state_size(p):
    return _state(p)[-1]


@njit(**JIT)
def _offsets(p):
    """Offsets in ``work``: forward (z, gates, c, h, xi, xi transformed, psi, u, free list,
    its exclusive products, allocation, write content K and weighting, write weighting, M,
    L, p, per read head [forward, backward, K, content, weighting] (5N each), reads, key
    norms (R + 1)), then adjoints (xi, M, L, write weighting, 3N scratch, Wm key scratch,
    controller h and gates) and the end."""
    N, Wm, R = p[7], p[8], p[9]
    H, G, Z, m, D, O, nc = dnc_dims(p)
    o_z = 0
    o_a = o_z + Z
    o_c = o_a + G
    o_h = o_c + H
    o_P = o_h + H
    o_I = o_P + D
    o_psi = o_I + D
    o_u = o_psi + N
    o_phi = o_u + N
    o_pr = o_phi + N
    o_al = o_pr + N
    o_Kw = o_al + N
    o_cw = o_Kw + N
    o_ww = o_cw + N
    o_M = o_ww + N
    o_L = o_M + N * Wm
    o_p = o_L + N * N
    o_rh = o_p + N
    o_r = o_rh + 5 * R * N
    o_nk = o_r + R * Wm
    o_gP = o_nk + R + 1
    o_gM = o_gP + D
    o_gL = o_gM + N * Wm
    o_gw = o_gL + N * N
    o_gt = o_gw + N
    o_gk = o_gt + 3 * N
    o_gh = o_gk + Wm
    o_ga = o_gh + H
    end = o_ga + G
    return (o_z, o_a, o_c, o_h, o_P, o_I, o_psi, o_u, o_phi, o_pr, o_al, o_Kw, o_cw, o_ww,
            o_M, o_L, o_p, o_rh, o_r, o_nk, o_gP, o_gM, o_gL, o_gw, o_gt, o_gk, o_gh, o_ga,
            end)


@njit(**JIT)
def dnc_work_size(p):
    return _offsets(p)[-1]


@njit(**JIT)
def dnc_param_size(p):
    return p[0].size + p[1].size + p[2].size + p[3].size + p[4].size + p[5].size + p[6].size


@njit(**JIT)
def dnc_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5][k], p[6][k], p[7], p[8], p[9],
            p[10])


# -- content addressing C(M, k, beta) (Methods, "Content-based addressing") -----------------
@njit(**JIT)
def _content(key, beta, M, N, Wm, K, w):
    """K_i = cos(k, M_i) with norms sqrt(|x|^2 + EPS^2) (finite for zero rows), w = softmax(
    beta K). Returns |k|_eps."""
    nk2 = EPS * EPS
    for j in range(Wm):
        nk2 += key[j] * key[j]
    nk = np.sqrt(nk2)
    mx = -np.inf
    for i in range(N):
        nm2 = EPS * EPS
        d = 0.0
        for j in range(Wm):
            nm2 += M[i * Wm + j] * M[i * Wm + j]
            d += M[i * Wm + j] * key[j]
        K[i] = d / (nk * np.sqrt(nm2))
        mx = max(mx, beta * K[i])
    tot = 0.0
    for i in range(N):
        w[i] = np.exp(beta * K[i] - mx)
        tot += w[i]
    for i in range(N):
        w[i] /= tot
    return nk


@njit(**JIT)
def _content_vjp(key, beta, nk, M, N, Wm, K, w, gw, gM, gkey, gK):
    """Adjoint of ``_content``: adds to gM (N Wm) and gkey (Wm); returns d/dbeta. Scratch gK
    (N)."""
    dot = 0.0
    for i in range(N):
        dot += gw[i] * w[i]
    gbeta = 0.0
    for i in range(N):
        gz = w[i] * (gw[i] - dot)
        gbeta += gz * K[i]
        gK[i] = beta * gz
    for i in range(N):
        nm2 = EPS * EPS
        for j in range(Wm):
            nm2 += M[i * Wm + j] * M[i * Wm + j]
        c = gK[i] / (nk * np.sqrt(nm2))
        Ki = K[i]
        for j in range(Wm):
            mij = M[i * Wm + j]
            gkey[j] += c * mij - gK[i] * Ki * key[j] / (nk * nk)
            gM[i * Wm + j] += c * key[j] - gK[i] * Ki * mij / nm2
    return gbeta


# -- one step ------------------------------------------------------------------------------
@njit(**JIT)
def _forward(h, x, p, work):
    """The whole step into ``work`` (see ``_offsets``)."""
    W_head, b_head = p[3], p[4]
    N, Wm, R, lstm = p[7], p[8], p[9], p[10]
    H, G, Z, m, D, O, nc = dnc_dims(p)
    (o_z, o_a, o_c, o_h, o_P, o_I, o_psi, o_u, o_phi, o_pr, o_al, o_Kw, o_cw, o_ww, o_M, o_L,
     o_p, o_rh, o_r, o_nk, o_gP, o_gM, o_gL, o_gw, o_gt, o_gk, o_gh, o_ga, end) = _offsets(p)
    s_M, s_u, s_p, s_L, s_ww, s_wr, s_r, n = _state(p)
    o_kr, o_br, o_kw, o_bw, o_e, o_v, o_f, i_ga, i_gw, o_pi = _interface(Wm, R)
    _controller(p[0], p[1], p[2], lstm, h, x, h[s_r:s_r + R * Wm], work, o_z, o_a, o_c, o_h)
    # interface vector xi = W_head h + b_head; I: its constrained values (same offsets)
    P = work[o_P:o_P + D]
    I = work[o_I:o_I + D]
    for i in range(D):
        s = b_head[i]
        for k in range(H):
            s += W_head[i, k] * work[o_h + k]
        P[i] = s
        I[i] = s  # keys and the write vector are unconstrained
    for q in range(R):
        I[o_br + q] = 1.0 + softplus(P[o_br + q])  # oneplus
        I[o_f + q] = sigmoid(P[o_f + q])
        mx = max(P[o_pi + 3 * q], max(P[o_pi + 3 * q + 1], P[o_pi + 3 * q + 2]))
        tot = 0.0
        for t in range(3):  # read modes (backward, content, forward): softmax
            I[o_pi + 3 * q + t] = np.exp(P[o_pi + 3 * q + t] - mx)
            tot += I[o_pi + 3 * q + t]
        for t in range(3):
            I[o_pi + 3 * q + t] /= tot
    I[o_bw] = 1.0 + softplus(P[o_bw])
    for j in range(Wm):
        I[o_e + j] = sigmoid(P[o_e + j])
    I[i_ga] = sigmoid(P[i_ga])
    I[i_gw] = sigmoid(P[i_gw])
    # retention psi = prod_i (1 - f^i w^{r,i}_{t-1}) and usage u = (u + w^w - u w^w) psi
    Mp = h[s_M:s_M + N * Wm]
    for i in range(N):
        psi = 1.0
        for q in range(R):
            psi *= 1.0 - I[o_f + q] * h[s_wr + q * N + i]
        work[o_psi + i] = psi
        up, wp = h[s_u + i], h[s_ww + i]
        work[o_u + i] = (up + wp - up * wp) * psi
    # free list phi: indices by ascending usage (a stable insertion sort, no allocation);
    # a_{phi_j} = (1 - u_{phi_j}) prod_{i<j} u_{phi_i}, the permutation held fixed in the VJP
    phi = work[o_phi:o_phi + N]
    for i in range(N):
        k = i
        while k > 0 and work[o_u + int(phi[k - 1])] > work[o_u + i]:
            phi[k] = phi[k - 1]
            k -= 1
        phi[k] = i
    prod = 1.0
    for j in range(N):
        s = work[o_u + int(phi[j])]
        work[o_pr + j] = prod
        work[o_al + int(phi[j])] = (1.0 - s) * prod
        prod *= s
    # write weighting w^w = g^w (g^a a + (1 - g^a) c^w), c^w content on M_{t-1}
    work[o_nk + R] = _content(P[o_kw:o_kw + Wm], I[o_bw], Mp, N, Wm,
                              work[o_Kw:o_Kw + N], work[o_cw:o_cw + N])
    ga, gw = I[i_ga], I[i_gw]
    for i in range(N):
        work[o_ww + i] = gw * (ga * work[o_al + i] + (1.0 - ga) * work[o_cw + i])
    # write M = M_{t-1} (E - w^w e^T) + w^w v^T
    ww = work[o_ww:o_ww + N]
    M = work[o_M:o_M + N * Wm]
    for i in range(N):
        for j in range(Wm):
            M[i * Wm + j] = Mp[i * Wm + j] * (1.0 - ww[i] * I[o_e + j]) + ww[i] * P[o_v + j]
    # link L[i, j] = (1 - w_i - w_j) L[i, j] + w_i p_{t-1, j}, zero diagonal; precedence
    # p = (1 - sum w) p_{t-1} + w
    L = work[o_L:o_L + N * N]
    tw = 0.0
    for i in range(N):
        tw += ww[i]
        for j in range(N):
            if i == j:
                L[i * N + j] = 0.0
            else:
                L[i * N + j] = (1.0 - ww[i] - ww[j]) * h[s_L + i * N + j] + ww[i] * h[s_p + j]
    for i in range(N):
        work[o_p + i] = (1.0 - tw) * h[s_p + i] + ww[i]
    # read heads: forward f = L w^r_{t-1}, backward b = L^T w^r_{t-1}, content c on M;
    # w^r = pi_1 b + pi_2 c + pi_3 f, read r = M^T w^r
    for q in range(R):
        rb = o_rh + 5 * q * N
        wrp = h[s_wr + q * N:s_wr + (q + 1) * N]
        for i in range(N):
            f = 0.0
            bk = 0.0
            for j in range(N):
                f += L[i * N + j] * wrp[j]
                bk += L[j * N + i] * wrp[j]
            work[rb + i] = f
            work[rb + N + i] = bk
        work[o_nk + q] = _content(P[o_kr + q * Wm:o_kr + (q + 1) * Wm], I[o_br + q], M, N,
                                  Wm, work[rb + 2 * N:rb + 3 * N], work[rb + 3 * N:rb + 4 * N])
        pb, pc, pf = I[o_pi + 3 * q], I[o_pi + 3 * q + 1], I[o_pi + 3 * q + 2]
        for i in range(N):
            work[rb + 4 * N + i] = pb * work[rb + N + i] + pc * work[rb + 3 * N + i] + \
                pf * work[rb + i]
        for j in range(Wm):
            s = 0.0
            for i in range(N):
                s += work[rb + 4 * N + i] * M[i * Wm + j]
            work[o_r + q * Wm + j] = s


@njit(**JIT)
def dnc_step(h, x, p, h_new, work):
    """One step of the machine: controller, interface, allocation, write, link, read."""
    N, Wm, R = p[7], p[8], p[9]
    H, G, Z, m, D, O, nc = dnc_dims(p)
    o = _offsets(p)
    o_c, o_h, o_u, o_ww, o_M, o_L, o_p, o_rh, o_r = (o[2], o[3], o[7], o[13], o[14], o[15],
                                                     o[16], o[17], o[18])
    s_M, s_u, s_p, s_L, s_ww, s_wr, s_r, n = _state(p)
    _forward(h, x, p, work)
    for i in range(H):
        h_new[i] = work[o_h + i]
        if nc > H:
            h_new[H + i] = work[o_c + i]
    for k in range(N * Wm):
        h_new[s_M + k] = work[o_M + k]
    for i in range(N):
        h_new[s_u + i] = work[o_u + i]
        h_new[s_p + i] = work[o_p + i]
        h_new[s_ww + i] = work[o_ww + i]
    for k in range(N * N):
        h_new[s_L + k] = work[o_L + k]
    for q in range(R):
        for i in range(N):
            h_new[s_wr + q * N + i] = work[o_rh + 5 * q * N + 4 * N + i]
    for k in range(R * Wm):
        h_new[s_r + k] = work[o_r + k]


@njit(**JIT)
def _backward(h, x, p, v, gh, gx, gp, work, params):
    """v^T d h_new / d(h, x[, theta_raw]) from the forward pass in ``work``; gp only if
    ``params`` (the Jacobian does not need it)."""
    N, Wm, R, lstm = p[7], p[8], p[9], p[10]
    H, G, Z, m, D, O, nc = dnc_dims(p)
    (o_z, o_a, o_c, o_h, o_P, o_I, o_psi, o_u, o_phi, o_pr, o_al, o_Kw, o_cw, o_ww, o_M, o_L,
     o_p, o_rh, o_r, o_nk, o_gP, o_gM, o_gL, o_gw, o_gt, o_gk, o_gh, o_ga, end) = _offsets(p)
    s_M, s_u, s_p, s_L, s_ww, s_wr, s_r, n = _state(p)
    o_kr, o_br, o_kw, o_bw, o_e, o_v, o_f, i_ga, i_gw, o_pi = _interface(Wm, R)
    P = work[o_P:o_P + D]
    I = work[o_I:o_I + D]
    M = work[o_M:o_M + N * Wm]
    L = work[o_L:o_L + N * N]
    ww = work[o_ww:o_ww + N]
    Mp = h[s_M:s_M + N * Wm]
    gP = work[o_gP:o_gP + D]
    gM = work[o_gM:o_gM + N * Wm]
    gL = work[o_gL:o_gL + N * N]
    gww = work[o_gw:o_gw + N]
    t1 = work[o_gt:o_gt + N]
    t2 = work[o_gt + N:o_gt + 2 * N]
    t3 = work[o_gt + 2 * N:o_gt + 3 * N]
    gk = work[o_gk:o_gk + Wm]
    for k in range(n):
        gh[k] = 0.0
    for k in range(D):
        gP[k] = 0.0  # adjoints of the constrained values I first, then chained to xi
    for k in range(N * Wm):
        gM[k] = v[s_M + k]
    for k in range(N * N):
        gL[k] = v[s_L + k]
    for i in range(N):
        gww[i] = v[s_ww + i]
    # read heads
    for q in range(R):
        rb = o_rh + 5 * q * N
        gwr = t1
        for i in range(N):
            s = v[s_wr + q * N + i]
            for j in range(Wm):
                s += M[i * Wm + j] * v[s_r + q * Wm + j]
                gM[i * Wm + j] += work[rb + 4 * N + i] * v[s_r + q * Wm + j]
            gwr[i] = s
        pb, pc, pf = I[o_pi + 3 * q], I[o_pi + 3 * q + 1], I[o_pi + 3 * q + 2]
        gpb, gpc, gpf = 0.0, 0.0, 0.0
        for i in range(N):
            gpb += gwr[i] * work[rb + N + i]
            gpc += gwr[i] * work[rb + 3 * N + i]
            gpf += gwr[i] * work[rb + i]
        # f_i = sum_j L_ij wrp_j, b_i = sum_j L_ji wrp_j
        gwrp = gh[s_wr + q * N:s_wr + (q + 1) * N]
        wrp = h[s_wr + q * N:s_wr + (q + 1) * N]
        for i in range(N):
            for j in range(N):
                gL[i * N + j] += pf * gwr[i] * wrp[j] + pb * wrp[i] * gwr[j]
                gwrp[j] += L[i * N + j] * pf * gwr[i] + L[j * N + i] * pb * gwr[i]
        for i in range(N):
            t2[i] = pc * gwr[i]
        for j in range(Wm):
            gk[j] = 0.0
        gbeta = _content_vjp(P[o_kr + q * Wm:o_kr + (q + 1) * Wm], I[o_br + q], work[o_nk + q],
                             M, N, Wm, work[rb + 2 * N:rb + 3 * N], work[rb + 3 * N:rb + 4 * N],
                             t2, gM, gk, t3)
        for j in range(Wm):
            gP[o_kr + q * Wm + j] += gk[j]
        gP[o_br + q] += gbeta * sigmoid(P[o_br + q])
        d = pb * gpb + pc * gpc + pf * gpf  # read-mode softmax
        gP[o_pi + 3 * q] += pb * (gpb - d)
        gP[o_pi + 3 * q + 1] += pc * (gpc - d)
        gP[o_pi + 3 * q + 2] += pf * (gpf - d)
    # precedence p = (1 - sum w) p_{t-1} + w
    tw = 0.0
    vp_pp = 0.0
    for i in range(N):
        tw += ww[i]
        vp_pp += v[s_p + i] * h[s_p + i]
    for i in range(N):
        gww[i] += v[s_p + i] - vp_pp
        gh[s_p + i] = (1.0 - tw) * v[s_p + i]
    # link L_ij = (1 - w_i - w_j) L'_ij + w_i p'_j (i != j)
    for i in range(N):
        for j in range(N):
            if i != j:
                g = gL[i * N + j]
                Lp = h[s_L + i * N + j]
                gh[s_L + i * N + j] = g * (1.0 - ww[i] - ww[j])
                gww[i] += g * (h[s_p + j] - Lp)
                gww[j] -= g * Lp
                gh[s_p + j] += g * ww[i]
    # write M = M' (1 - w e^T) + w v^T
    for j in range(Wm):
        ge = 0.0
        gv = 0.0
        for i in range(N):
            g = gM[i * Wm + j]
            gh[s_M + i * Wm + j] = g * (1.0 - ww[i] * I[o_e + j])
            gww[i] += g * (P[o_v + j] - Mp[i * Wm + j] * I[o_e + j])
            ge -= g * Mp[i * Wm + j] * ww[i]
            gv += g * ww[i]
        gP[o_e + j] += ge * I[o_e + j] * (1.0 - I[o_e + j])
        gP[o_v + j] += gv
    # w^w = g^w (g^a a + (1 - g^a) c^w)
    ga, gw = I[i_ga], I[i_gw]
    ggw = 0.0
    gga = 0.0
    galloc = t1
    gcw = t2
    for i in range(N):
        a, c = work[o_al + i], work[o_cw + i]
        ggw += gww[i] * (ga * a + (1.0 - ga) * c)
        gga += gww[i] * gw * (a - c)
        galloc[i] = gw * ga * gww[i]
        gcw[i] = gw * (1.0 - ga) * gww[i]
    gP[i_gw] += ggw * gw * (1.0 - gw)
    gP[i_ga] += gga * ga * (1.0 - ga)
    for j in range(Wm):
        gk[j] = 0.0
    gbeta = _content_vjp(P[o_kw:o_kw + Wm], I[o_bw], work[o_nk + R], Mp, N, Wm,
                         work[o_Kw:o_Kw + N], work[o_cw:o_cw + N], gcw, gh[s_M:s_M + N * Wm],
                         gk, t3)
    for j in range(Wm):
        gP[o_kw + j] += gk[j]
    gP[o_bw] += gbeta * sigmoid(P[o_bw])
    # allocation, sorted s_j = u_{phi_j}: d a_{phi_j} / d s_k for k < j without dividing by
    # s_k, through T_k = sum_{j>k} c_j prod_{k<i<j} s_i, c_j = ga_{phi_j} (1 - s_j)
    gu = t2  # c^w's adjoint is spent
    T = 0.0
    for k in range(N - 1, -1, -1):
        i = int(work[o_phi + k])
        gu[i] = v[s_u + i] + work[o_pr + k] * (T - galloc[i])
        s = work[o_u + i]
        T = galloc[i] * (1.0 - s) + s * T
    # usage u = (u' + w' - u' w') psi, psi = prod_q (1 - f_q wr'_q)
    for i in range(N):
        up, wp, psi = h[s_u + i], h[s_ww + i], work[o_psi + i]
        gh[s_u + i] = gu[i] * psi * (1.0 - wp)
        gh[s_ww + i] = gu[i] * psi * (1.0 - up)
        gpsi = gu[i] * (up + wp - up * wp)
        for q in range(R):
            rest = gpsi
            for q2 in range(R):
                if q2 != q:
                    rest *= 1.0 - I[o_f + q2] * h[s_wr + q2 * N + i]
            gP[o_f + q] -= rest * h[s_wr + q * N + i]  # chained through sigmoid below
            gh[s_wr + q * N + i] -= rest * I[o_f + q]
    for q in range(R):
        gP[o_f + q] *= I[o_f + q] * (1.0 - I[o_f + q])
    # controller and xi = W_head h + b_head
    _controller_vjp(p[0], p[1], p[3], lstm, h, v, gP, work, o_z, o_a, o_c, o_h, o_gh, o_ga,
                    gh, gx, gh[s_r:s_r + R * Wm])
    if params:
        _controller_params(h, lstm, G, Z, H, D, gP, work, o_z, o_h, o_ga, gp)


@njit(**JIT)
def dnc_vjp(h, x, p, v, gh, gx, gp, work):
    """gh = v^T dF/dh, gx = v^T dF/dx, gp = v^T dF/dtheta_raw of one step F."""
    _forward(h, x, p, work)
    _backward(h, x, p, v, gh, gx, gp, work, True)


@njit(**JIT)
def dnc_jacobian(h, x, p, J, work):
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


# -- readout y = W_out [h_c; r] + b_out (logits) --------------------------------------------
@njit(**JIT)
def dnc_output(y, p, out):
    W_out, b_out = p[5], p[6]
    H, G, Z, m, D, O, nc = dnc_dims(p)
    s_r = _state(p)[6]
    RW = W_out.shape[1] - H
    for o in range(O):
        s = b_out[o]
        for k in range(H):
            s += W_out[o, k] * y[k]
        for k in range(RW):
            s += W_out[o, H + k] * y[s_r + k]
        out[o] = s


@njit(**JIT)
def dnc_output_vjp(y, p, v, gy, gp):
    W_out = p[5]
    H, G, Z, m, D, O, nc = dnc_dims(p)
    s_r = _state(p)[6]
    C = W_out.shape[1]
    for k in range(y.shape[0]):
        gy[k] = 0.0
    for k in range(gp.shape[0]):
        gp[k] = 0.0
    off = p[0].size + p[1].size + p[2].size + p[3].size + p[4].size  # W_out in theta_raw
    for o in range(O):
        for k in range(H):
            gy[k] += W_out[o, k] * v[o]
            gp[off + o * C + k] = v[o] * y[k]
        for k in range(C - H):
            gy[s_r + k] += W_out[o, H + k] * v[o]
            gp[off + o * C + H + k] = v[o] * y[s_r + k]
        gp[off + O * C + o] = v[o]
