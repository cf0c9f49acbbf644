"""Batched kernels of the Elman cell (PyTorch's ``nn.RNN``): B sequences sharing one cell, one
matrix product a step, as the LSTM's and GRU's (``_gated_kernels``); arrays only.

Parameter tuple: ``(W_ih (H,m), W_hh (H,H), b (H,), W_y (O,H), b_y (O,), act, act_y,
readout)`` (``_discrete_kernels``); the raw gradient layout is ``[W_ih, W_hh, b, W_y, b_y]``.
The state is h alone, so BPTT takes act'(a_t) from h_t = act(a_t) itself (``_act_prime_out``)
and the forward pass stores nothing beyond the states. The activation comes as a constant
code for tanh and relu (``nn.RNN``'s two nonlinearities): act() then folds into SIMD loops.
"""
import numpy as np
from numba import njit

from .._config import JIT_SIMD as JIT
from ._base_kernels import vecmat
from ._discrete_kernels import HARD_SIGMOID, HARD_TANH, RELU, SIGMOID, TANH, act, act_prime
from ._gated_kernels import _CHUNK, _aligned_empty, _block_start, _mark_divergence

_INLINE = dict(JIT, inline="always")


def elman_run_batch(p, H0, X, Y, OUT, info, lo, hi):
    """Sequences lo..hi-1 of a batch sharing one Elman cell: X (T, B, m), H0 (B, H) -> Y (T,
    B, H) (or (1, B, H): the latest states only), OUT (T, B, n_out) (h, or the readout
    act_y(W_y h + b_y)); info (B, 3) gets (status, step, unit). The step's product is [h,
    x] @ [W_hh; W_ih]^T: BLAS for B > 1, ``vecmat`` (rows alternately from the last) for one
    sequence. The caller cuts the batch into blocks, one per thread
    (``integrate.run.run_blocks``)."""
    _RUN[_FOLDED.get(int(p[5]), 0)](p, H0, X, Y, OUT, info, lo, hi)


def elman_bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT=None, cut=0):
    """Exact BPTT (truncated BPTT(cut, cut) for cut > 0) of sequences lo..hi-1, given the
    states Y (T, B, H) of ``elman_run_batch`` and the cotangents GO (T, B, n_out) of the
    outputs: writes G (d_raw,) = their summed gradient, GH0 (B, H) = dL/dh_0 and, unless it is
    empty, GX (T, B, m) = dL/dx_t. ACT is unused (the cell keeps no gates; the LSTM's
    signature)."""
    _BPTT[_FOLDED.get(int(p[5]), 0)](p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut)


@njit(**_INLINE)
def _act_prime_out(y, a, one):
    """act'(x) from y = act(x) (``act_prime(x, a)`` up to rounding: each activation's
    derivative is a function of its value); one is 1 in y's precision."""
    if a == TANH:
        return one - y * y
    if a == SIGMOID:
        return y - y * y
    if a == RELU:
        return one if y > 0 else 0 * one
    if a == HARD_TANH:
        return one if -one < y < one else 0 * one
    if a == HARD_SIGMOID:
        return one / 6 if 0 < y < one else 0 * one
    return one


@njit(**_INLINE)
def _run(p, H0, X, Y, OUT, info, lo, hi, a):
    """``elman_run_batch`` with the activation a (a constant in the folded kernels)."""
    W_ih, W_hh, b, W_y, b_y, a_y, readout = p[0], p[1], p[2], p[3], p[4], p[6], p[7]
    B, H, m, T = hi - lo, W_hh.shape[0], W_ih.shape[1], X.shape[0]
    O = W_y.shape[0] if readout else 0
    WT = _aligned_empty(H + m, H, Y)
    WT[:H] = W_hh.T
    WT[H:] = W_ih.T
    WyT = np.ascontiguousarray(W_y.T)
    Z = _aligned_empty(B, H + m, Y)  # rows [h, x]: h updated in place
    A = _aligned_empty(B, H, Y)
    R = np.empty((B, O), dtype=Y.dtype)
    for s in range(B):
        info[lo + s, 0], info[lo + s, 1], info[lo + s, 2] = 0, T, -1
        for j in range(H):
            Z[s, j] = H0[lo + s, j]
    for t in range(T):
        ty = min(t, Y.shape[0] - 1)  # Y: every step's states, or the last's
        for s in range(B):
            for k in range(m):
                Z[s, H + k] = X[t, lo + s, k]
        if B == 1:
            vecmat(Z[0], WT, A[0], t % 2 == 1)
        else:
            np.dot(Z, WT, A)
        for s in range(B):
            acc = A[s, 0] - A[s, 0]
            for j in range(H):
                Z[s, j] = act(A[s, j] + b[j], a)
            for j in range(H):
                Y[ty, lo + s, j] = Z[s, j]
            for j in range(H):
                acc += Z[s, j]
            if not np.isfinite(acc):
                _mark_divergence(Y[ty, lo + s], info, lo + s, t)
        if O == 0:
            for s in range(B):
                for j in range(H):
                    OUT[t, lo + s, j] = Z[s, j]
            continue
        if B == 1:
            vecmat(Y[ty, lo], WyT, R[0], False)
        else:
            np.dot(Y[ty, lo:hi], WyT, R)
        for s in range(B):
            for o in range(O):
                OUT[t, lo + s, o] = act(R[s, o] + b_y[o], a_y)


@njit(**_INLINE)
def _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, a):
    """BPTT in chunks of steps from the end (as ``lstm_bptt_batch``): the chunk's readout
    cotangents (if any) by two products, the recursion one (B, H) @ (H, H) product a step,
    the chunk's weight gradients one product delta^T [x_t, h_{t-1}]."""
    W_ih, W_hh, W_y, b_y, a_y, readout = p[0], p[1], p[3], p[4], p[6], p[7]
    T, m = X.shape[0], X.shape[2]
    B, H = hi - lo, W_hh.shape[0]
    O = W_y.shape[0] if readout else 0
    K = m + H
    dt = Y.dtype
    one = np.ones(1, dtype=dt)[0]
    CH = min(_CHUNK, T)
    Z = np.empty((CH * B, K), dtype=dt)  # rows [x_t, h_{t-1}]
    D = np.empty((CH * B, H), dtype=dt)  # the chunk's pre-activation cotangents
    HY = np.empty((CH * B if O else 0, H), dtype=dt)  # h_t rows, for the readout
    RY = np.empty((CH * B if O else 0, O), dtype=dt)  # the readout's pre-activation cotangents
    GY = np.empty((CH * B if O else 0, H), dtype=dt)  # their cotangents of h_t
    GXC = np.empty((CH * B if GX.shape[0] > 0 else 0, m), dtype=dt)
    GW = np.zeros((H, K), dtype=dt)
    GWy = np.zeros((O, H), dtype=dt)
    gb = np.zeros(H, dtype=dt)
    gby = np.zeros(O, dtype=dt)
    dh = np.zeros((B, H), dtype=dt)
    WyT = np.ascontiguousarray(W_y.T)
    for t1 in range(T, 0, -CH):
        t0 = max(0, t1 - CH)
        n = t1 - t0
        for k in range(n):
            t = t0 + k
            for s in range(B):
                r = k * B + s
                Z[r, :m] = X[t, lo + s]
                Z[r, m:] = H0[lo + s] if t == 0 else Y[t - 1, lo + s]
        if O:
            for k in range(n):
                for s in range(B):
                    HY[k * B + s] = Y[t0 + k, lo + s]
            np.dot(HY[:n * B], WyT, RY[:n * B])
            for k in range(n):
                for s in range(B):
                    r = k * B + s
                    for o in range(O):
                        RY[r, o] = GO[t0 + k, lo + s, o] * act_prime(RY[r, o] + b_y[o], a_y)
                        gby[o] += RY[r, o]
            GWy += np.dot(RY[:n * B].T, HY[:n * B])
            np.dot(RY[:n * B], W_y, GY[:n * B])
        for k in range(n - 1, -1, -1):
            t = t0 + k
            for s in range(B):
                r = k * B + s
                if O:
                    for j in range(H):
                        D[r, j] = (dh[s, j] + GY[r, j]) * _act_prime_out(
                            Y[t, lo + s, j], a, one)
                else:
                    for j in range(H):
                        D[r, j] = (dh[s, j] + GO[t, lo + s, j]) * _act_prime_out(
                            Y[t, lo + s, j], a, one)
                for j in range(H):
                    gb[j] += D[r, j]
            if _block_start(t, cut):
                dh[:] = 0.0
            elif B == 1:
                vecmat(D[k], W_hh, dh[0], k % 2 == 1)  # delta_t @ W_hh
            else:
                np.dot(D[k * B:(k + 1) * B], W_hh, dh)
        GW += np.dot(D[:n * B].T, Z[:n * B])
        if GXC.shape[0] > 0 and m > 0:
            np.dot(D[:n * B], W_ih, GXC[:n * B])
            for k in range(n):
                GX[t0 + k, lo:hi] = GXC[k * B:(k + 1) * B]
    GH0[lo:hi] = dh
    o_hh = H * m
    o_b = o_hh + H * H
    o_y = o_b + H
    G[:o_hh] = GW[:, :m].ravel()
    G[o_hh:o_b] = GW[:, m:].ravel()
    G[o_b:o_y] = gb
    G[o_y:] = 0.0
    if O:
        G[o_y:o_y + O * H] = GWy.ravel()
        G[o_y + O * H:] = gby


@njit(**JIT)
def _run_any(p, H0, X, Y, OUT, info, lo, hi):
    _run(p, H0, X, Y, OUT, info, lo, hi, p[5])


@njit(**JIT)
def _run_tanh(p, H0, X, Y, OUT, info, lo, hi):
    _run(p, H0, X, Y, OUT, info, lo, hi, TANH)


@njit(**JIT)
def _run_relu(p, H0, X, Y, OUT, info, lo, hi):
    _run(p, H0, X, Y, OUT, info, lo, hi, RELU)


@njit(**JIT)
def _bptt_any(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut):
    _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, p[5])


@njit(**JIT)
def _bptt_tanh(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut):
    _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, TANH)


@njit(**JIT)
def _bptt_relu(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut):
    _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, RELU)


# one kernel per folded activation, so that numba compiles only what a run uses
_FOLDED = {TANH: 1, RELU: 2}
_RUN = (_run_any, _run_tanh, _run_relu)
_BPTT = (_bptt_any, _bptt_tanh, _bptt_relu)
