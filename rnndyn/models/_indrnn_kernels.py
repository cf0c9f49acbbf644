"""Batched kernels of the IndRNN (Li et al. 2018, ``h' = act(W_ih x + u * h + b)``): B
sequences sharing one cell; arrays only.

Parameter tuple ``(W_ih (H,m), u (H,), b (H,), act)`` (``_discrete_kernels``); raw gradient
layout ``[W_ih, u, b]``. The recurrence is elementwise, so the only matrix products are the
input projection of a chunk of 64 steps (forward) and the chunk's input-weight gradient and
input cotangents (backward); each step is a loop over the units. act'(a_t) is taken from h_t
(``_elman_kernels._act_prime_out``); relu (the paper's) and tanh come as constant codes.
"""
import numpy as np
from numba import njit

from .._config import JIT_SIMD as JIT
from ._discrete_kernels import RELU, TANH, act
from ._elman_kernels import _act_prime_out
from ._gated_kernels import _CHUNK, _block_start, _mark_divergence

_INLINE = dict(JIT, inline="always")


def indrnn_run_batch(p, H0, X, Y, OUT, info, lo, hi):
    """Sequences lo..hi-1 of a batch sharing one IndRNN: X (T, B, m), H0 (B, H) -> Y (T, B, H)
    (or (1, B, H): the latest states only), OUT (T, B, H) = the states; info (B, 3) gets
    (status, step, unit). The input projection of 64 steps is one BLAS product."""
    _RUN[_FOLDED.get(int(p[3]), 0)](p, H0, X, Y, OUT, info, lo, hi)


def indrnn_bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT=None, cut=0):
    """Exact BPTT (truncated BPTT(cut, cut) for cut > 0) of sequences lo..hi-1 from the states
    Y (T, B, H) and the cotangents GO (T, B, H) of the outputs (the states): G (d_raw,) = their
    summed gradient, GH0 (B, H) = dL/dh_0, GX (T, B, m) = dL/dx_t unless empty. ACT is unused
    (the LSTM's signature)."""
    _BPTT[_FOLDED.get(int(p[3]), 0)](p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut)


@njit(**_INLINE)
def _run(p, H0, X, Y, OUT, info, lo, hi, a):
    """``indrnn_run_batch`` with the activation a (a constant in the folded kernels)."""
    W_ih, u, b = p[0], p[1], p[2]
    B, H, m, T = hi - lo, u.shape[0], W_ih.shape[1], X.shape[0]
    CH = min(_CHUNK, T)
    WT = np.ascontiguousarray(W_ih.T)
    XC = np.empty((CH * B, m), dtype=Y.dtype)
    XP = np.zeros((CH * B, H), dtype=Y.dtype)  # stays zero without inputs
    h = np.empty((B, H), dtype=Y.dtype)
    for s in range(B):
        info[lo + s, 0], info[lo + s, 1], info[lo + s, 2] = 0, T, -1
        for j in range(H):
            h[s, j] = H0[lo + s, j]
    for t0 in range(0, T, CH):
        n = min(CH, T - t0)
        if m > 0:
            for k in range(n):
                for s in range(B):
                    XC[k * B + s] = X[t0 + k, lo + s]
            np.dot(XC[:n * B], WT, XP[:n * B])
        for k in range(n):
            t = t0 + k
            ty = min(t, Y.shape[0] - 1)
            for s in range(B):
                r = k * B + s
                acc = h[s, 0] - h[s, 0]
                for j in range(H):
                    h[s, j] = act(XP[r, j] + u[j] * h[s, j] + b[j], a)
                for j in range(H):
                    Y[ty, lo + s, j] = h[s, j]
                for j in range(H):
                    OUT[t, lo + s, j] = h[s, j]
                for j in range(H):
                    acc += h[s, j]
                if not np.isfinite(acc):
                    _mark_divergence(Y[ty, lo + s], info, lo + s, t)


@njit(**_INLINE)
def _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, a):
    """BPTT in chunks of 64 steps from the end: per step the pre-activation cotangents
    delta_t, the recurrent and bias gradients and the carried cotangent delta_t * u, unit by
    unit; per chunk delta^T X and delta W_ih as matrix products."""
    W_ih, u = p[0], p[1]
    T, m = X.shape[0], X.shape[2]
    B, H = hi - lo, u.shape[0]
    dt = Y.dtype
    one = np.ones(1, dtype=dt)[0]
    CH = min(_CHUNK, T)
    XC = np.empty((CH * B, m), dtype=dt)
    D = np.empty((CH * B, H), dtype=dt)
    GXC = np.empty((CH * B if GX.shape[0] > 0 else 0, m), dtype=dt)
    GW = np.zeros((H, m), dtype=dt)
    gu = np.zeros(H, dtype=dt)
    gb = np.zeros(H, dtype=dt)
    dh = np.zeros((B, H), dtype=dt)
    for t1 in range(T, 0, -CH):
        t0 = max(0, t1 - CH)
        n = t1 - t0
        for k in range(n - 1, -1, -1):
            t = t0 + k
            start = _block_start(t, cut)
            for s in range(B):
                r = k * B + s
                for j in range(H):
                    D[r, j] = (dh[s, j] + GO[t, lo + s, j]) * _act_prime_out(
                        Y[t, lo + s, j], a, one)
                if t == 0:
                    for j in range(H):
                        gu[j] += D[r, j] * H0[lo + s, j]
                else:
                    for j in range(H):
                        gu[j] += D[r, j] * Y[t - 1, lo + s, j]
                for j in range(H):
                    gb[j] += D[r, j]
                for j in range(H):
                    dh[s, j] = 0.0 if start else D[r, j] * u[j]
        if m > 0:
            for k in range(n):
                for s in range(B):
                    XC[k * B + s] = X[t0 + k, lo + s]
            GW += np.dot(D[:n * B].T, XC[:n * B])
            if GXC.shape[0] > 0:
                np.dot(D[:n * B], W_ih, GXC[:n * B])
                for k in range(n):
                    GX[t0 + k, lo:hi] = GXC[k * B:(k + 1) * B]
    GH0[lo:hi] = dh
    G[:H * m] = GW.ravel()
    G[H * m:H * m + H] = gu
    G[H * m + H:] = gb


@njit(**JIT)
def _run_any(p, H0, X, Y, OUT, info, lo, hi):
    _run(p, H0, X, Y, OUT, info, lo, hi, p[3])


@njit(**JIT)
def _run_relu(p, H0, X, Y, OUT, info, lo, hi):
    _run(p, H0, X, Y, OUT, info, lo, hi, RELU)


@njit(**JIT)
def _run_tanh(p, H0, X, Y, OUT, info, lo, hi):
    _run(p, H0, X, Y, OUT, info, lo, hi, TANH)


@njit(**JIT)
def _bptt_any(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut):
    _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, p[3])


@njit(**JIT)
def _bptt_relu(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut):
    _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, RELU)


@njit(**JIT)
def _bptt_tanh(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut):
    _bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, cut, TANH)


# one kernel per folded activation, so that numba compiles only what a run uses
_FOLDED = {RELU: 1, TANH: 2}
_RUN = (_run_any, _run_relu, _run_tanh)
_BPTT = (_bptt_any, _bptt_relu, _bptt_tanh)
