"""Numba kernels of the IIR-MLP (locally recurrent, globally feedforward network; arrays only).

Parameter tuple ``p = (W1, V1, b1, W2, V2, b2, act1, act2, af)`` (a population adds a
leading axis P to every array):

* ``W_l (N_l, N_{l-1}, L_l + 1)``: the moving-average taps of the synapse m -> n of layer l,
  ``W_l[n, m, k]`` multiplying ``x_m[t - k]``;
* ``V_l (N_l, C_l, I_l)``: the feedback taps, ``V_l[n, c, q]`` multiplying the filter's own
  output at ``t - 1 - q``. ``C_l = N_{l-1}`` (one filter per synapse: the IIR-MLP) or
  ``C_l = 1`` (one feedback filter per neuron on its activation: the activation-feedback
  MLP, ``af == 1``);
* ``b_l (N_l,)`` biases, added after the filters; ``act_l`` activation codes
  (``_discrete_kernels``).

The state of the map holds every filter memory, in this order: the input delay line
``x0[t], ..., x0[t - L1 + 1]`` (m, L1), the layer-1 filter outputs ``y[t], ..., y[t - I1 + 1]``
(N1, C1, I1), the hidden delay line (N1, L2), the layer-2 filter outputs (N2, C2, I2) and the
network output ``x2[t]`` (N2). theta_raw is ``[W1, V1, b1, W2, V2, b2]`` flattened in C order.
"""
import numpy as np
from numba import njit

from .._config import JIT
from ._discrete_kernels import act, act_prime


@njit(**JIT)
def offsets(p):
    """(o_x0, o_f1, o_x1, o_f2, o_out, n): where each memory block starts, and n."""
    W1, V1, W2, V2 = p[0], p[1], p[3], p[4]
    m, N1, N2 = W1.shape[1], W1.shape[0], W2.shape[0]
    o_f1 = m * (W1.shape[2] - 1)
    o_x1 = o_f1 + N1 * V1.shape[1] * V1.shape[2]
    o_f2 = o_x1 + N1 * (W2.shape[2] - 1)
    o_out = o_f2 + N2 * V2.shape[1] * V2.shape[2]
    return 0, o_f1, o_x1, o_f2, o_out, o_out + N2


@njit(**JIT)
def iir_param_size(p):
    return p[0].size + p[1].size + p[2].size + p[3].size + p[4].size + p[5].size


@njit(**JIT)
def iir_work_size(p):
    N1, N2 = p[0].shape[0], p[3].shape[0]
    return offsets(p)[5] + 3 * N1 + 2 * N2


@njit(**JIT)
def iir_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4][k], p[5][k], p[6], p[7], p[8])


@njit(**JIT)
def layer_forward(W, V, b, a, af, xin, h, o_x, o_f, hn, s, x):
    """One layer at time t: s_n = b_n + sum_m y_nm[t] (IIR) or b_n + y_n[t] (activation
    feedback), x_n = act(s_n); the new filter outputs and the shifted feedback memories go
    into hn. xin (N_in,) is the layer's input at t, h[o_x:] its delay line (t-1 first)."""
    N, M, L, C, I = W.shape[0], W.shape[1], W.shape[2] - 1, V.shape[1], V.shape[2]
    for n in range(N):
        acc = b[n]
        fir = 0.0
        for c in range(M):
            y = W[n, c, 0] * xin[c]
            for k in range(1, L + 1):
                y += W[n, c, k] * h[o_x + c * L + k - 1]
            if af == 0:  # y_nm[t] = FIR + sum_q v_q y_nm[t-q]: the synapse's own feedback
                r = o_f + (n * C + c) * I
                for q in range(I):
                    y += V[n, c, q] * h[r + q]
                if I > 0:
                    for q in range(I - 1, 0, -1):
                        hn[r + q] = h[r + q - 1]
                    hn[r] = y
                acc += y
            else:
                fir += y
        if af == 1:  # one feedback filter on the neuron's activation (bias outside it)
            r = o_f + n * I
            y = fir
            for q in range(I):
                y += V[n, 0, q] * h[r + q]
            if I > 0:
                for q in range(I - 1, 0, -1):
                    hn[r + q] = h[r + q - 1]
                hn[r] = y
            acc += y
        s[n] = acc
        x[n] = act(acc, a)


@njit(**JIT)
def shift_line(xin, h, o_x, L, hn):
    """Delay line of width len(xin) and length L: hn gets xin first, then h shifted."""
    for c in range(xin.shape[0]):
        r = o_x + c * L
        for k in range(L - 1, 0, -1):
            hn[r + k] = h[r + k - 1]
        if L > 0:
            hn[r] = xin[c]


@njit(**JIT)
def forward(h, x, p, hn, s1, x1, s2, x2):
    """Both layers at one time step: the new state into hn, activations and outputs into
    s1, x1 (N1,) and s2, x2 (N2,)."""
    W1, V1, b1, W2, V2, b2, a1, a2, af = p
    o_x0, o_f1, o_x1, o_f2, o_out, n = offsets(p)
    layer_forward(W1, V1, b1, a1, af, x, h, o_x0, o_f1, hn, s1, x1)
    layer_forward(W2, V2, b2, a2, af, x1, h, o_x1, o_f2, hn, s2, x2)
    shift_line(x, h, o_x0, W1.shape[2] - 1, hn)
    shift_line(x1, h, o_x1, W2.shape[2] - 1, hn)
    for o in range(x2.shape[0]):
        hn[o_out + o] = x2[o]


@njit(**JIT)
def _views(p, work):
    N1, N2 = p[0].shape[0], p[3].shape[0]
    n = offsets(p)[5]
    return (work[:n], work[n:n + N1], work[n + N1:n + 2 * N1], work[n + 2 * N1:n + 2 * N1 + N2],
            work[n + 2 * N1 + N2:n + 2 * N1 + 2 * N2],
            work[n + 2 * N1 + 2 * N2:n + 3 * N1 + 2 * N2])


@njit(**JIT)
def iir_step(h, x, p, h_new, work):
    _, s1, x1, s2, x2, _ = _views(p, work)
    forward(h, x, p, h_new, s1, x1, s2, x2)


@njit(**JIT)
def layer_backward(W, V, af, delta, v, xin, h, o_x, o_f, gh, gxin, gp, oW, oV):
    """Adjoint of ``layer_forward`` given delta_n = dL/ds_n and the cotangent v of the new
    state (its filter-output slots): accumulates into gh (old memories), gxin (the layer's
    input at t) and gp (this layer's W at oW and V at oV)."""
    N, M, L, C, I = W.shape[0], W.shape[1], W.shape[2] - 1, V.shape[1], V.shape[2]
    for n in range(N):
        ybar = 0.0
        for c in range(M):
            if af == 0 or c == 0:  # cotangent of the filter output y[t] (s and memory slot 0)
                r = o_f + (n * C + (c if af == 0 else 0)) * I
                ybar = delta[n] + (v[r] if I > 0 else 0.0)
                rv = oV + (n * C + (c if af == 0 else 0)) * I
                for q in range(I):
                    gp[rv + q] += ybar * h[r + q]
                    gh[r + q] += ybar * V[n, c if af == 0 else 0, q]
            rw = oW + (n * M + c) * (L + 1)
            gp[rw] += ybar * xin[c]
            gxin[c] += ybar * W[n, c, 0]
            for k in range(1, L + 1):
                gp[rw + k] += ybar * h[o_x + c * L + k - 1]
                gh[o_x + c * L + k - 1] += ybar * W[n, c, k]


@njit(**JIT)
def _shift_adjoint(v, o, width, L, gh):
    """Adjoint of a shift by one slot (memory of ``width`` lines of length L): slot k-1 of
    the old state became slot k of the new one; slot 0 of the new state is not a copy."""
    for c in range(width):
        r = o + c * L
        for k in range(1, L):
            gh[r + k - 1] += v[r + k]


@njit(**JIT)
def iir_vjp(h, x, p, v, gh, gx, gp, work):
    """v^T d h_new / d(h, x, theta_raw) by reverse mode through ``forward``."""
    W1, V1, b1, W2, V2, b2, a1, a2, af = p
    hn, s1, x1, s2, x2, x1bar = _views(p, work)
    forward(h, x, p, hn, s1, x1, s2, x2)
    o_x0, o_f1, o_x1, o_f2, o_out, n = offsets(p)
    N1, N2, m = W1.shape[0], W2.shape[0], W1.shape[1]
    L1, L2 = W1.shape[2] - 1, W2.shape[2] - 1
    gh[:] = 0.0
    gx[:] = 0.0
    gp[:] = 0.0
    _shift_adjoint(v, o_x0, m, L1, gh)
    _shift_adjoint(v, o_f1, N1 * V1.shape[1], V1.shape[2], gh)
    _shift_adjoint(v, o_x1, N1, L2, gh)
    _shift_adjoint(v, o_f2, N2 * V2.shape[1], V2.shape[2], gh)
    oW1, oV1 = 0, W1.size
    ob1 = oV1 + V1.size
    oW2 = ob1 + N1
    oV2 = oW2 + W2.size
    ob2 = oV2 + V2.size
    for j in range(N1):  # x1[t] sits in slot 0 of the hidden delay line
        x1bar[j] = v[o_x1 + j * L2] if L2 > 0 else 0.0
    for c in range(m):
        if L1 > 0:
            gx[c] += v[o_x0 + c * L1]
    for o in range(N2):
        s2[o] = v[o_out + o] * act_prime(s2[o], a2)  # s2 now holds delta2
        gp[ob2 + o] = s2[o]
    layer_backward(W2, V2, af, s2, v, x1, h, o_x1, o_f2, gh, x1bar, gp, oW2, oV2)
    for j in range(N1):
        s1[j] = x1bar[j] * act_prime(s1[j], a1)  # delta1
        gp[ob1 + j] = s1[j]
    layer_backward(W1, V1, af, s1, v, x, h, o_x0, o_f1, gh, gx, gp, oW1, oV1)


@njit(**JIT)
def iir_jacobian(h, x, p, J, work):
    """d h_new / d h, row i = the VJP of the unit cotangent e_i (exact; n VJPs)."""
    n = h.shape[0]
    v = np.zeros(n)
    gx = np.empty(x.shape[0])
    gp = np.empty(iir_param_size(p))
    gh = np.empty(n)
    for i in range(n):
        v[i] = 1.0
        iir_vjp(h, x, p, v, gh, gx, gp, work)
        J[i, :] = gh
        v[i] = 0.0


@njit(**JIT)
def iir_output(h, p, out):
    o_out = offsets(p)[4]
    for o in range(out.shape[0]):
        out[o] = h[o_out + o]


@njit(**JIT)
def iir_output_vjp(h, p, v, gh, gp):
    o_out = offsets(p)[4]
    gh[:] = 0.0
    gp[:] = 0.0
    for o in range(v.shape[0]):
        gh[o_out + o] = v[o]
