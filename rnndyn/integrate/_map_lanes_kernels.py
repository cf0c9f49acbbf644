"""Lane kernels of discrete maps: a population of Elman or fully recurrent cells run with its
members on the SIMD lanes, as ``_lanes_kernels`` runs CTRNN populations.

The per-member runner of ``_map_template`` steps each member's 10-unit loops on its own (~16
ns/neuron-step at P = 1000, n = 10, float64: too short for SIMD code). Here the members are
cut into blocks of ``LANES`` and a block's state is ``h[i, l]`` (unit i, lane l): every loop
of a step runs over the lanes of a block with unit stride, and the blocks are split over
numba's threads (prange over blocks).

Layout (``elman_lanes_params``, from the Elman parameter tuple of ``models._discrete_kernels``,
which the fully recurrent cell shares): ``LW (nb, H, 1 + H + m, LANES)`` holds each unit's
``[b | W_hh | W_ih]`` row for the ``LANES`` members of a block on the last axis, ``LY (nb, O,
1 + H, LANES)`` the readout's ``[b_y | W_y]`` (O = 0 without a readout). A block's state is
kept as ``Z = [1; h; x]`` (1 + H + m, LANES), so that a unit's new pre-activation is one
lane dot product of its row with Z (``_lanes_kernels.lane_dot``: sums in registers) and the
readout's one with Z's first 1 + H rows. The per-member kernel sums bias, inputs, then recurrent units;
here bias, recurrent units, inputs with fused multiply-adds: the two agree to rounding. The
last block is padded with idle members of zero weights, never stored. The activations come
as runtime codes, each tested once per pass over a block (the branch outside the loops, so
that each loop folds its activation into SIMD code). Which populations run here:
``run.on_lanes`` (from 32 members, while a block's weights take at most 2 MB).
"""
import numpy as np
from numba import njit, prange

from ..models._discrete_kernels import HARD_SIGMOID, HARD_TANH, RELU, SIGMOID, TANH, act
from ._lanes_kernels import _JIT, _JIT_PARALLEL, LANES, aligned_zeros, lane_dot, lane_scratch

_INLINE = dict(_JIT, inline="always")


def elman_lanes_params(p, dtype=np.float64):
    """``(LW, LY)`` in lane layout (module docstring) from a population's Elman parameter
    tuple p (arrays with a leading P axis); 64-byte aligned."""
    W_ih, W_hh, b, W_y, b_y, readout = p[0], p[1], p[2], p[3], p[4], p[7]
    P, H, m = W_ih.shape
    nb = -(-P // LANES)
    rows = np.concatenate([b[:, :, None], W_hh, W_ih], axis=2)  # (P, H, 1 + H + m)
    out = np.concatenate([b_y[:, :, None], W_y], axis=2) if readout else \
        np.zeros((P, 0, 1 + H))
    LW = aligned_zeros((nb, H, 1 + H + m, LANES), dtype)
    LY = aligned_zeros((nb, out.shape[1], 1 + H, LANES), dtype)
    for L, A in ((LW, rows), (LY, out)):
        pad = np.zeros((nb * LANES,) + A.shape[1:])
        pad[:P] = A
        L[...] = pad.reshape((nb, LANES) + A.shape[1:]).transpose(0, 2, 3, 1)
    return LW, LY


@njit(**_INLINE)
def _apply(S, r0, r1, a):
    """S[r0:r1] = act(S[r0:r1], a) for a constant code a (the loop becomes SIMD code)."""
    for i in range(r0, r1):
        for l in range(S.shape[1]):
            S[i, l] = act(S[i, l], a)


@njit(**_INLINE)
def _activate(S, r0, r1, a):
    """``_apply`` for a runtime code: one test, then a loop with the code folded in."""
    if a == TANH:
        _apply(S, r0, r1, TANH)
    elif a == SIGMOID:
        _apply(S, r0, r1, SIGMOID)
    elif a == RELU:
        _apply(S, r0, r1, RELU)
    elif a == HARD_TANH:
        _apply(S, r0, r1, HARD_TANH)
    elif a == HARD_SIGMOID:
        _apply(S, r0, r1, HARD_SIGMOID)


@njit(**_JIT)
def _block_step(LWb, LYb, Z, Zn, y, a, a_y):
    """One step of a block: from Z = [1; h; x] (1 + H + n_in, LANES), Zn[1 : 1 + H] = the
    new state act(b + W_hh h + W_ih x) and y (O, LANES) = act_y(b_y + W_y h_new) if there is
    a readout (O > 0). Zn[0] must hold ones. Compiled once and called (not inlined), as the
    CTRNN lanes' rhs: one copy of its loops."""
    H = LWb.shape[0]
    for i in range(H):
        lane_dot(LWb, Z, Zn, i, 1 + i, 0, LWb.shape[1], False)
    _activate(Zn, 1, 1 + H, a)
    for o in range(LYb.shape[0]):
        lane_dot(LYb, Zn, y, o, o, 0, LYb.shape[1], False)
    _activate(y, 0, LYb.shape[0], a_y)


@njit(**_INLINE)
def _lane_status(Z, l):
    """1 if lane l of the state rows Z[1 : 1 + H] has a non-finite entry, else 0."""
    for i in range(1, Z.shape[0]):
        if not np.isfinite(Z[i, l]):
            return 1
    return 0


@njit(**_INLINE)
def _check_block(Z, H, count, failed, info, lo, t):
    """Marks the lanes (< count, not yet failed) whose state Z[1 : 1 + H] turned non-finite
    at step t (1-based) in info (status 1, step, first bad unit); returns how many did. One
    sum over the block first: nothing more unless it is non-finite (or a lane failed
    earlier)."""
    acc = 0.0
    for i in range(1, 1 + H):
        for l in range(count):
            acc += Z[i, l]
    if np.isfinite(acc):
        return 0
    new = 0
    for l in range(count):
        if failed[l]:
            continue
        for i in range(H):
            if not np.isfinite(Z[1 + i, l]):
                failed[l] = True
                info[lo + l, 0], info[lo + l, 1], info[lo + l, 2] = 1, t, i
                new += 1
                break
    return new


@njit(**_JIT)
def _run_block(LWb, LYb, a, a_y, lo, H0, X, Y, OUT, info):
    """``elman_run_lanes`` for the members lo .. lo + LANES - 1 (those < P)."""
    T, P, n_in = X.shape
    H, O = LWb.shape[0], LYb.shape[0]
    m = LWb.shape[2]  # the lane count read at run time (see _lanes_kernels.LANES)
    count = min(m, P - lo)
    Z = lane_scratch(1 + H + n_in, m, OUT)
    Zn = lane_scratch(1 + H + n_in, m, OUT)
    y = lane_scratch(O, m, OUT)
    for l in range(m):
        Z[0, l] = Zn[0, l] = 1.0
    failed = np.zeros(m, dtype=np.bool_)
    for l in range(count):
        info[lo + l, 0], info[lo + l, 1], info[lo + l, 2] = 0, T, -1
        for i in range(H):
            Z[1 + i, l] = H0[lo + l, i]
    every = Y.shape[0] == T  # every step's states, or the last one's
    n_failed = 0
    for t in range(T):
        for l in range(count):
            for k in range(n_in):
                Z[1 + H + k, l] = X[t, lo + l, k]
        _block_step(LWb, LYb, Z, Zn, y, a, a_y)
        Z, Zn = Zn, Z
        if every:
            for l in range(count):
                for i in range(H):
                    Y[t, lo + l, i] = Z[1 + i, l]
        if O:
            for l in range(count):
                for o in range(O):
                    OUT[t, lo + l, o] = y[o, l]
        else:
            for l in range(count):
                for i in range(H):
                    OUT[t, lo + l, i] = Z[1 + i, l]
        n_failed += _check_block(Z, H, count, failed, info, lo, t + 1)
        if n_failed == count:
            break
    if not every and Y.shape[0]:
        for l in range(count):
            for i in range(H):
                Y[0, lo + l, i] = Z[1 + i, l]


@njit(**_JIT_PARALLEL)
def elman_run_lanes(LW, LY, a, a_y, H0, X, Y, OUT, info):
    """A population of Elman / fully recurrent cells in lane layout (``elman_lanes_params``),
    member b on sequence b: X (T, P, n_in), H0 (P, H) -> Y (T, P, H) every step's states, or
    (1, P, H) the last step's, and OUT (T, P, n_out); info (P, 3) gets (status, step, unit)
    as the per-member runner's. a, a_y: activation codes of the units and the readout. A
    member whose state turns non-finite is marked at that step; its later rows are
    unspecified (``run`` overwrites them with NaN)."""
    for b in prange(LW.shape[0]):
        _run_block(LW[b], LY[b], a, a_y, b * LANES, H0, X, Y, OUT, info)


@njit(**_JIT)
def elman_run_lanes_serial(LW, LY, a, a_y, H0, X, Y, OUT, info):
    """``elman_run_lanes`` on the calling thread (one block, or little work)."""
    for b in range(LW.shape[0]):
        _run_block(LW[b], LY[b], a, a_y, b * LANES, H0, X, Y, OUT, info)


# -- DiscreteStepper: one step ----------------------------------------------------------------
@njit(**_JIT)
def _advance_block(LWb, LYb, a, a_y, lo, H, X, H_new, OUT, status, Sb):
    """``elman_advance_lanes`` for one block; Sb (2 (1 + n + n_in) + O, LANES) its scratch."""
    P, n = H.shape
    n_in, O = X.shape[1], LYb.shape[0]
    w = 1 + n + n_in
    count = min(Sb.shape[1], P - lo)
    Z, Zn, y = Sb[:w], Sb[w:2 * w], Sb[2 * w:]
    for l in range(Sb.shape[1]):
        Z[0, l] = Zn[0, l] = 1.0
    for l in range(count):
        for i in range(n):
            Z[1 + i, l] = H[lo + l, i]
        for k in range(n_in):
            Z[1 + n + k, l] = X[lo + l, k]
    _block_step(LWb, LYb, Z, Zn, y, a, a_y)
    for l in range(count):
        acc = 0.0
        for i in range(n):
            H_new[lo + l, i] = Zn[1 + i, l]
            acc += Zn[1 + i, l]
        if O:
            for o in range(O):
                OUT[lo + l, o] = y[o, l]
        else:
            for i in range(n):
                OUT[lo + l, i] = Zn[1 + i, l]
        status[lo + l] = 0 if np.isfinite(acc) else _lane_status(Zn[:1 + n], l)


@njit(**_JIT_PARALLEL)
def elman_advance_lanes(LW, LY, a, a_y, H, X, H_new, OUT, status, S):
    """One step of a population in lane layout (``elman_run_lanes``): H (P, n), X (P, n_in)
    -> H_new (P, n), OUT (P, n_out); status[b] = 1 if member b's new state is non-finite.
    S (nb, 2 (1 + n + n_in) + O, LANES) is scratch the caller allocates once."""
    for b in prange(LW.shape[0]):
        _advance_block(LW[b], LY[b], a, a_y, b * LANES, H, X, H_new, OUT, status, S[b])


@njit(**_JIT)
def elman_advance_lanes_serial(LW, LY, a, a_y, H, X, H_new, OUT, status, S):
    """``elman_advance_lanes`` on the calling thread."""
    for b in range(LW.shape[0]):
        _advance_block(LW[b], LY[b], a, a_y, b * LANES, H, X, H_new, OUT, status, S[b])
