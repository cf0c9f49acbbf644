"""Numba kernels of recursive backpropagation (RBP) and causal recursive backpropagation
(CRBP) for the IIR-MLP (``rnndyn.models._iir_mlp_kernels`` documents the parameter tuple
and the state layout); arrays and scalars only.

Both compute the gradient as sum_t sum_n delta_n[t] S_k[t] (Campolucci et al. 1999): S_k[t]
= d^+ y[t] / d theta_k is the derivative of the output of the filter that holds parameter
k with respect to k through that filter's own recursion, computed forward in time, local
to the synapse (or neuron):

    S_k[t] = phi_k[t] + sum_{q=1..I} v_q S_k[t-q],

phi_k[t] being the explicit partial (x_m[t-j] for the tap w_j, y[t-q] for v_q); for a bias
S = 1. delta_n[t] = dJ/ds_n[t] is the backpropagated error: for an output neuron
e_n[t] act'(s_n[t]); for a hidden neuron m, act'(s_m[t]) sum_n sum_{tau >= t} delta_n[tau]
h_nm[tau - t], with h_nm the impulse response of the synapse m -> n (its whole IIR, or the
FIR taps followed by the neuron's all-pole filter with activation feedback): the errors are
filtered backward in time through the transposed synapses.

RBP (batch): over the whole sequence, the backward filtering anti-causal and exact; its
gradient equals BPTT's. CRBP(Q) (on-line): at time t only the errors up to t are known, so
the error of time t is sent back through the synapses to the deltas of times t-Q+1..t
(truncation depth Q); the layer-2 part is exact at any Q (output neurons need no future),
and summing the on-line increments over t gives RBP when Q >= T. With Q = 1 the hidden
deltas see only the zero-lag taps of the output synapses: the instantaneous rule of Back &
Tsoi (1991), which the paper names a special case of CRBP. RBP keeps S[t] of every step
(T x d floats); CRBP a ring of max(Q, I1, I2) + 1 of them.
"""
import numpy as np
from numba import njit

from .._config import JIT
from ..models._discrete_kernels import act_prime
from ..models._iir_mlp_kernels import forward, iir_param_size, offsets


@njit(**JIT)
def _blocks(p):
    """Offsets in theta_raw of W1, V1, b1, W2, V2, b2 and the total d."""
    oW1 = 0
    oV1 = p[0].size
    ob1 = oV1 + p[1].size
    oW2 = ob1 + p[2].size
    oV2 = oW2 + p[3].size
    ob2 = oV2 + p[4].size
    return oW1, oV1, ob1, oW2, oV2, ob2, ob2 + p[5].size


@njit(**JIT)
def _prev(Sr, t, j, k):
    """S_k[t - j] from the ring buffer (zero before the first step)."""
    if t - j < 0:
        return 0.0
    return Sr[(t - j) % Sr.shape[0], k]


@njit(**JIT)
def _layer_sens(W, V, af, xin, h, o_x, o_f, oW, oV, ob, Sr, t):
    """S[t] of one layer's parameters into row t of the ring Sr (h: the state at t-1)."""
    N, M, L, C, I = W.shape[0], W.shape[1], W.shape[2] - 1, V.shape[1], V.shape[2]
    row = t % Sr.shape[0]
    for n in range(N):
        Sr[row, ob + n] = 1.0  # the bias is outside the filters
        for c in range(M):
            cc = c if af == 0 else 0  # the filter this synapse's taps feed
            for k in range(L + 1):
                idx = oW + (n * M + c) * (L + 1) + k
                val = xin[c] if k == 0 else h[o_x + c * L + k - 1]
                for q in range(I):
                    val += V[n, cc, q] * _prev(Sr, t, q + 1, idx)
                Sr[row, idx] = val
            if af == 0 or c == 0:
                for j in range(I):
                    idx = oV + (n * C + cc) * I + j
                    val = h[o_f + (n * C + cc) * I + j]  # the filter output at t-1-j
                    for q in range(I):
                        val += V[n, cc, q] * _prev(Sr, t, q + 1, idx)
                    Sr[row, idx] = val


@njit(**JIT)
def _sensitivities(p, h, x, x1, Sr, t):
    W1, V1, b1, W2, V2, b2, a1, a2, af = p
    o_x0, o_f1, o_x1, o_f2, o_out, n = offsets(p)
    oW1, oV1, ob1, oW2, oV2, ob2, d = _blocks(p)
    _layer_sens(W1, V1, af, x, h, o_x0, o_f1, oW1, oV1, ob1, Sr, t)
    _layer_sens(W2, V2, af, x1, h, o_x1, o_f2, oW2, oV2, ob2, Sr, t)


@njit(**JIT)
def _accumulate(g, S, delta, N, M, L, C, I, oW, oV, ob, af):
    """g += delta_n S_k over the parameters of the neurons n of one layer."""
    per_w = M * (L + 1)
    per_v = (M if af == 0 else 1) * I
    for n in range(N):
        dn = delta[n]
        if dn == 0.0:
            continue
        for k in range(oW + n * per_w, oW + (n + 1) * per_w):
            g[k] += dn * S[k]
        for k in range(oV + n * per_v, oV + (n + 1) * per_v):
            g[k] += dn * S[k]
        g[ob + n] += dn


@njit(**JIT)
def impulse_responses(W, V, af, Q, imp):
    """imp[n, c, k] (k < Q): output at t+k of the filter path c -> n for a unit impulse of
    x_c at t (the synapse's IIR, or its FIR taps then the neuron's all-pole filter)."""
    N, M, L, I = W.shape[0], W.shape[1], W.shape[2] - 1, V.shape[2]
    g = np.empty(Q)
    for n in range(N):
        if af == 1:  # all-pole impulse response of neuron n
            for k in range(Q):
                s = 1.0 if k == 0 else 0.0
                for q in range(min(I, k)):
                    s += V[n, 0, q] * g[k - 1 - q]
                g[k] = s
        for c in range(M):
            for k in range(Q):
                if af == 0:
                    s = W[n, c, k] if k <= L else 0.0
                    for q in range(min(I, k)):
                        s += V[n, c, q] * imp[n, c, k - 1 - q]
                else:
                    s = 0.0
                    for j in range(min(k, L) + 1):
                        s += W[n, c, j] * g[k - j]
                imp[n, c, k] = s


@njit(**JIT)
def _update(a, g, off, lr, mask):
    flat = a.reshape(a.size)
    for i in range(a.size):
        flat[i] -= lr * mask[off + i] * g[off + i]
    return off + a.size


@njit(**JIT)
def crbp_sequence(p, h0, X, Y, online, Q, lr, mask, G, err):
    """CRBP(Q) over one sequence. X (T, m) inputs, h0 (n,) the initial state.

    online == 0: parameters fixed, Y (T, N2) = dJ/d outputs; G (d,) += the sum over t of the
    on-line gradients. online == 1: Y (T, N2) are targets, the loss of step t is the mean
    squared error over the outputs (stored in err[t]), and after each step the parameters
    (the arrays of p, modified in place) move by -lr * mask * g[t]; G += sum of g[t].
    """
    W1, V1, b1, W2, V2, b2, a1, a2, af = p
    T, N1, N2 = X.shape[0], W1.shape[0], W2.shape[0]
    m, L1, I1, C1 = W1.shape[1], W1.shape[2] - 1, V1.shape[2], V1.shape[1]
    L2, I2, C2 = W2.shape[2] - 1, V2.shape[2], V2.shape[1]
    oW1, oV1, ob1, oW2, oV2, ob2, d = _blocks(p)
    R = max(Q, I1, I2) + 1
    Sr = np.zeros((R, d))
    s1r = np.zeros((R, N1))
    h, hn = h0.copy(), np.empty_like(h0)
    s1, x1 = np.empty(N1), np.empty(N1)
    s2, x2 = np.empty(N2), np.empty(N2)
    d2, d1 = np.empty(N2), np.empty(N1)
    gt = np.zeros(d)
    imp = np.empty((N2, N1, Q))
    if online == 0:
        impulse_responses(W2, V2, af, Q, imp)
    for t in range(T):
        forward(h, X[t], p, hn, s1, x1, s2, x2)
        _sensitivities(p, h, X[t], x1, Sr, t)
        s1r[t % R] = s1
        gt[:] = 0.0
        e = 0.0
        for o in range(N2):
            if online == 1:
                diff = x2[o] - Y[t, o]
                e += diff * diff / N2
                d2[o] = 2.0 * diff / N2 * act_prime(s2[o], a2)
            else:
                d2[o] = Y[t, o] * act_prime(s2[o], a2)
        err[t] = e
        _accumulate(gt, Sr[t % R], d2, N2, N1, L2, C2, I2, oW2, oV2, ob2, af)
        if online == 1:
            impulse_responses(W2, V2, af, Q, imp)
        for lag in range(min(Q, t + 1)):  # the error of t, sent back to time t - lag
            row = (t - lag) % R
            for c in range(N1):
                s = 0.0
                for o in range(N2):
                    s += d2[o] * imp[o, c, lag]
                d1[c] = s * act_prime(s1r[row, c], a1)
            _accumulate(gt, Sr[row], d1, N1, m, L1, C1, I1, oW1, oV1, ob1, af)
        G += gt
        if online == 1:
            off = _update(W1, gt, 0, lr, mask)
            off = _update(V1, gt, off, lr, mask)
            off = _update(b1, gt, off, lr, mask)
            off = _update(W2, gt, off, lr, mask)
            off = _update(V2, gt, off, lr, mask)
            off = _update(b2, gt, off, lr, mask)
        h, hn = hn, h


@njit(**JIT)
def crbp_batch(p, H0, X, GO, Q, G):
    """Fixed-parameter CRBP(Q) of B sequences: X (T, B, m), GO (T, B, N2), G (B, d)."""
    T = X.shape[0]
    err = np.empty(T)
    mask = np.ones(iir_param_size(p))
    for b in range(X.shape[1]):
        G[b, :] = 0.0
        crbp_sequence(p, H0[b], np.ascontiguousarray(X[:, b]), np.ascontiguousarray(GO[:, b]),
                      0, Q, 0.0, mask, G[b], err)


@njit(**JIT)
def rbp_batch(p, H0, X, GO, G):
    """Batch RBP of B sequences (X (T, B, m), GO (T, B, N2) = dJ/d outputs; G (B, d)): the
    exact gradient, the hidden deltas by anti-causal filtering through the transposed
    synapses over the whole sequence."""
    W1, V1, b1, W2, V2, b2, a1, a2, af = p
    T, N1, N2 = X.shape[0], W1.shape[0], W2.shape[0]
    m, L1, I1, C1 = W1.shape[1], W1.shape[2] - 1, V1.shape[2], V1.shape[1]
    L2, I2, C2 = W2.shape[2] - 1, V2.shape[2], V2.shape[1]
    oW1, oV1, ob1, oW2, oV2, ob2, d = _blocks(p)
    S = np.zeros((T, d))  # a ring of T rows: every S[t] kept
    s1 = np.empty((T, N1))
    d2 = np.empty((T, N2))
    r = np.empty((T, N2, C2))
    e1 = np.empty(N1)
    x1, s2, x2 = np.empty(N1), np.empty(N2), np.empty(N2)
    for b in range(X.shape[1]):
        h, hn = H0[b].copy(), np.empty_like(H0[b])
        G[b, :] = 0.0
        for t in range(T):
            forward(h, X[t, b], p, hn, s1[t], x1, s2, x2)
            _sensitivities(p, h, X[t, b], x1, S, t)
            for o in range(N2):
                d2[t, o] = GO[t, b, o] * act_prime(s2[o], a2)
            _accumulate(G[b], S[t], d2[t], N2, N1, L2, C2, I2, oW2, oV2, ob2, af)
            h, hn = hn, h
        for t in range(T - 1, -1, -1):
            # r[t] = dJ/dy[t] of each layer-2 filter: delta2 plus its own recursion, backward
            for o in range(N2):
                for c in range(C2):
                    s = d2[t, o]
                    for q in range(I2):
                        if t + 1 + q < T:
                            s += V2[o, c, q] * r[t + 1 + q, o, c]
                    r[t, o, c] = s
            for c in range(N1):  # e1[t] = sum_o sum_k w_oc,k r[t + k] (the transposed FIR)
                s = 0.0
                for o in range(N2):
                    cc = c if af == 0 else 0
                    for k in range(min(L2, T - 1 - t) + 1):
                        s += W2[o, c, k] * r[t + k, o, cc]
                e1[c] = s * act_prime(s1[t, c], a1)
            _accumulate(G[b], S[t], e1, N1, m, L1, C1, I1, oW1, oV1, ob1, af)
