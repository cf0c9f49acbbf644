"""Lane kernels of discrete maps: a population of Elman, fully recurrent, IndRNN, Jordan,
LSTM or GRU cells run with its members on the SIMD lanes, as ``_lanes_kernels`` runs CTRNN
populations.

The per-member runner of ``_map_template`` steps each member's 10-unit loops on its own (~16
ns/neuron-step at P = 1000, n = 10, float64 for Elman, ~35 for LSTM: too short for SIMD
code). Here the members are cut into blocks of ``LANES`` and a block's state is ``h[i, l]``
(unit i, lane l): every loop of a step runs over the lanes of a block with unit stride, and
the blocks are split over numba's threads (prange over blocks).

Layout (``lanes_params``): a block's hidden state is kept as ``Z = [1; h; x]`` (1 + H + m,
LANES), so that each new pre-activation is one lane dot product of a weight row with Z
(``_lanes_kernels.lane_dot``: the 64 sums in registers). ``LW (nb, R, 1 + H + m, LANES)``
holds the rows ``[b | W_hh | W_ih]`` for the ``LANES`` members of a block on the last axis:

* ``ELMAN`` (the parameter tuple of ``models._discrete_kernels``, which the fully recurrent
  cell shares): R = H units; ``LY (nb, O, 1 + H, LANES)`` the readout's ``[b_y | W_y]``
  against Z's first 1 + H rows (O = 0 without a readout). An IndRNN runs as an Elman cell
  with W_hh = diag(u): its H^2 products where H would do, still far faster than its own loop
  at the sizes populations have.
* ``JORDAN``: the context is the previous output, so Z = [1; y; x] and the R = H rows ``[b |
  U | W_ih]`` give h' into ``G = [1; h']``; ``LY`` the readout ``[b_y | W_y]`` against G
  gives y' into Z's recurrent rows. The state is [h; y], the outputs y.
* ``LSTM`` (``models._gated_kernels``): R = 4H gate rows (i, f, g, o); ``PL (nb, 3, H,
  LANES)`` the peepholes; the cell state c (H, LANES) beside Z; the outputs are h.
* ``GRU`` / ``GRU_BEFORE`` (reset after or before the recurrent product, the GRU1/2/3
  variants alike): R = 3H gate rows (r, z, n) ``[b_hh | W_hh | b_ih | W_ih]`` against ``Z =
  [1; h; 1; x]``, the recurrent and the input parts two lane dot products (the reset gate
  acts between them); the outputs are h.

The per-member kernels sum bias, inputs, then recurrent units; here bias, recurrent units,
inputs with fused multiply-adds: the two agree to rounding. The last block is padded with
idle members of zero weights, never stored. The activations come as runtime codes, each
tested once per pass over a block (the branch outside the loops, so that each loop folds its
activation into SIMD code). Which populations run here: ``run.on_lanes`` (from 32 members,
while a block's weights take at most 2 MB).
"""
import numpy as np
from numba import njit, prange

from ..models._discrete_kernels import HARD_SIGMOID, HARD_TANH, RELU, SIGMOID, TANH, act
from ._lanes_kernels import _JIT, _JIT_PARALLEL, LANES, aligned_zeros, lane_dot, lane_scratch

_INLINE = dict(_JIT, inline="always")
ELMAN, LSTM, GRU, GRU_BEFORE = 0, 1, 2, 3  # GRU: reset_after (PyTorch); GRU_BEFORE: Cho's
JORDAN = -1  # below GRU: the tests kind >= GRU are the GRU's
LAYOUTS = {"elman": ELMAN, "indrnn": ELMAN, "jordan": JORDAN, "lstm": LSTM, "gru": GRU}


def lanes_params(p, layout: str, dtype=np.float64):
    """``(kind, LW, LY, PL, a, a2)`` in lane layout (module docstring) from a population's
    parameter tuple p (arrays with a leading P axis) of the given layout ("elman", "indrnn",
    "lstm" or "gru"); a, a2: the activation codes (units and readout, or cell and gates);
    64-byte aligned."""
    kind = LAYOUTS[layout]
    readout, peep = 0, np.zeros((len(p[1]), 3, 0))
    if layout == "indrnn":  # Elman's rows with W_hh = diag(u): H of its H^2 terms nonzero
        W_ih, u, b, a = p
        W_hh, a2 = u[:, :, None] * np.eye(u.shape[1]), 0
    elif kind == ELMAN:
        W_ih, W_hh, b, W_y, b_y, a, a2, readout = p
    elif kind == JORDAN:  # rows [b | U | W_ih] against [1; y; x], the readout against [1; h']
        W_ih, W_hh, b, W_y, b_y, a, a2 = p
        readout = 1
    elif kind == LSTM:
        W_ih, W_hh, b, peep, a, a2 = p[:6]
    else:  # rows [b_hh | W_hh | b_ih | W_ih] against Z = [1; h; 1; x]
        W_ih, W_hh, b_ih, b_hh, reset_after, a, a2 = p[:7]
        kind = GRU if reset_after else GRU_BEFORE
        W_hh = np.concatenate([W_hh, b_ih[:, :, None]], axis=2)
        b = b_hh
    out = np.concatenate([b_y[:, :, None], W_y], axis=2) if readout else \
        np.zeros((len(W_hh), 0, 1 + W_hh.shape[2]))
    rows = np.concatenate([b[:, :, None], W_hh, W_ih], axis=2)  # (P, R, x0 + m)
    return (kind,) + tuple(_on_lanes(A, dtype) for A in (rows, out, peep)) + (a, a2)


def _on_lanes(A, dtype):
    """A (P, ...) as (nb, ..., LANES): member b at block b // LANES, lane b % LANES (zero
    padding), 64-byte aligned."""
    P = len(A)
    nb = -(-P // LANES)
    pad = np.zeros((nb * LANES,) + A.shape[1:])
    pad[:P] = A
    L = aligned_zeros((nb,) + A.shape[1:] + (LANES,), dtype)
    L[...] = np.moveaxis(pad.reshape((nb, LANES) + A.shape[1:]), 1, -1)
    return L


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


@njit(**_INLINE)
def _lstm_cells(G, PL, C, Zn, a, ga):
    """The LSTM's cells on the lanes from the gate pre-activations G (4H, LANES): C (H,
    LANES) <- c' = f c + i act(g), Zn[1 + j] <- h' = o act(c') (peepholes: i, f see c, o sees
    c'), as ``models._gated_kernels._lstm_cell``. Gate by gate, each loop over few arrays, so
    that each becomes SIMD code (as ``_gated_kernels._lstm_gates``)."""
    H, m = C.shape
    for j in range(H):
        for l in range(m):
            G[j, l] = act(G[j, l] + PL[0, j, l] * C[j, l], ga)
        for l in range(m):
            G[H + j, l] = act(G[H + j, l] + PL[1, j, l] * C[j, l], ga)
        for l in range(m):
            G[2 * H + j, l] = act(G[2 * H + j, l], a)
        for l in range(m):
            C[j, l] = G[H + j, l] * C[j, l] + G[j, l] * G[2 * H + j, l]
        for l in range(m):
            Zn[1 + j, l] = act(G[3 * H + j, l] + PL[2, j, l] * C[j, l], ga) * act(C[j, l], a)


@njit(**_INLINE)
def _gru_cells(Gh, Gi, Z, Zn, a, ga):
    """The GRU's update on the lanes: Gh (3H, LANES) = b_hh + W_hh h (for GRU_BEFORE its n
    rows already b_hn + W_hn (r h)), Gi (3H, LANES) = b_ih + W_ih x with Gi[:2H] already the
    gates r, z; Zn[1 + j] <- h' = (1 - z) act(n) + z h, as ``models._gated_kernels``."""
    H, m = Gi.shape[0] // 3, Gi.shape[1]
    for j in range(H):
        for l in range(m):
            Zn[1 + j, l] = (Z[0, l] - Gi[H + j, l]) * act(Gi[2 * H + j, l] + Gh[2 * H + j, l],
                                                          a) + Gi[H + j, l] * Z[1 + j, l]


@njit(**_JIT)
def _gru_step(kind, LWb, Z, Zn, G, a, ga):
    """``_block_step`` of a GRU block (rows [b_hh | W_hh | b_ih | W_ih], Z = [1; h; 1; x]):
    G holds Gh (3H), Gi (3H) and, for GRU_BEFORE, [1; r h] (1 + H rows)."""
    R, K = LWb.shape[0], LWb.shape[1]
    H = R // 3
    Gh, Gi, Zx = G[:R], G[R:2 * R], Z[1 + H:]
    for r in range(R):
        lane_dot(LWb, Z, Gh, r, r, 0, 1 + H, False)
        lane_dot(LWb, Zx, Gi, r, r, 1 + H, K - 1 - H, False)
    for j in range(2 * H):  # the gates r (rows 0 .. H) and z (H .. 2H), into Gi
        for l in range(Gi.shape[1]):
            Gi[j, l] = act(Gi[j, l] + Gh[j, l], ga)
    if kind == GRU:  # PyTorch's n = act(W_in x + b_in + r (W_hn h + b_hn))
        for j in range(H):
            for l in range(Gi.shape[1]):
                Gh[2 * H + j, l] *= Gi[j, l]
    else:  # Cho et al.'s n = act(W_in x + b_in + W_hn (r h) + b_hn)
        Zr = G[2 * R:2 * R + 1 + H]
        for l in range(Gi.shape[1]):
            Zr[0, l] = Z[0, l]
        for j in range(H):
            for l in range(Gi.shape[1]):
                Zr[1 + j, l] = Gi[j, l] * Z[1 + j, l]
        for j in range(H):
            lane_dot(LWb, Zr, Gh, 2 * H + j, 2 * H + j, 0, 1 + H, False)
    if a == TANH:
        _gru_cells(Gh, Gi, Z, Zn, TANH, ga)
    else:
        _gru_cells(Gh, Gi, Z, Zn, a, ga)


@njit(**_JIT)
def _block_step(kind, LWb, LYb, PLb, Z, Zn, C, G, y, a, a2):
    """One step of a block from Z = [1; h; x] (a GRU's [1; h; 1; x]): Zn[1 : 1 + H] = the
    new h; Elman: act(b + W_hh h + W_ih x), and y (O, LANES) = act_y(b_y + W_y h_new) if
    there is a readout (O > 0); LSTM: C (H, LANES) updated too; G scratch (``_views``). Zn's
    constant rows must hold ones (``_ones``). Compiled once and called (not inlined), as the
    CTRNN lanes' rhs: one copy of its loops."""
    R, K = LWb.shape[0], LWb.shape[1]
    if kind == JORDAN:  # h' = act(b + U y + W_ih x) into G = [1; h'], y' into Zn
        for i in range(R):
            lane_dot(LWb, Z, G, i, 1 + i, 0, K, False)
        _activate(G, 1, 1 + R, a)
        for o in range(LYb.shape[0]):
            lane_dot(LYb, G, Zn, o, 1 + o, 0, LYb.shape[1], False)
        _activate(Zn, 1, 1 + LYb.shape[0], a2)
        return
    if kind >= GRU:
        if a2 == SIGMOID:
            _gru_step(kind, LWb, Z, Zn, G, a, SIGMOID)
        else:
            _gru_step(kind, LWb, Z, Zn, G, a, a2)
        return
    if kind == ELMAN:
        for i in range(R):
            lane_dot(LWb, Z, Zn, i, 1 + i, 0, K, False)
        _activate(Zn, 1, 1 + R, a)
        for o in range(LYb.shape[0]):
            lane_dot(LYb, Zn, y, o, o, 0, LYb.shape[1], False)
        _activate(y, 0, LYb.shape[0], a2)
        return
    for r in range(R):
        lane_dot(LWb, Z, G, r, r, 0, K, False)
    if a == TANH and a2 == SIGMOID:
        _lstm_cells(G, PLb, C, Zn, TANH, SIGMOID)
    else:
        _lstm_cells(G, PLb, C, Zn, a, a2)


@njit(**_INLINE)
def _parts(kind, Z, C, G, H, R):
    """The state's two parts (A, B) as row views: [h; c] = (Z[1 : 1 + H], C) (C empty but
    for the LSTM), a Jordan net's [h; y] = (G[1 : 1 + H], Z[1 : 1 + R])."""
    if kind == JORDAN:
        return G[1:1 + H], Z[1:1 + R]
    return Z[1:1 + H], C


@njit(**_INLINE)
def _bad_unit(A, B, l):
    """First non-finite state entry of lane l in [A; B], or -1."""
    for i in range(A.shape[0]):
        if not np.isfinite(A[i, l]):
            return i
    for j in range(B.shape[0]):
        if not np.isfinite(B[j, l]):
            return A.shape[0] + j
    return -1


@njit(**_INLINE)
def _block_finite(A, B, count):
    """All state entries [A; B] of the first count lanes finite (one sum; entry by entry
    only when it is not finite, since finite entries near the float maximum overflow it)."""
    acc = 0.0
    for i in range(A.shape[0]):
        for l in range(count):
            acc += A[i, l]
    for j in range(B.shape[0]):
        for l in range(count):
            acc += B[j, l]
    if np.isfinite(acc):
        return True
    for l in range(count):
        if _bad_unit(A, B, l) >= 0:
            return False
    return True


@njit(**_INLINE)
def _store_outputs(Z, y, H, count, lo, OUT):
    """OUT[lo + l] = the readout y, or Z[1 : 1 + H] (h; a Jordan net's y), of the block's
    lanes."""
    if y.shape[0]:
        for l in range(count):
            for o in range(y.shape[0]):
                OUT[lo + l, o] = y[o, l]
        return
    for l in range(count):
        for i in range(H):
            OUT[lo + l, i] = Z[1 + i, l]


@njit(**_INLINE)
def _store_states(A, B, count, lo, Y):
    """Y[lo + l] = the state [A; B] of the block's lanes (``_parts``)."""
    for l in range(count):
        for i in range(A.shape[0]):
            Y[lo + l, i] = A[i, l]
        for j in range(B.shape[0]):
            Y[lo + l, A.shape[0] + j] = B[j, l]


@njit(**_INLINE)
def hidden_size(kind, LWb):
    """H from a block's weight rows: H unit rows (Elman), 4H (LSTM) or 3H (GRU) gate rows."""
    return LWb.shape[0] // (4 if kind == LSTM else 3 if kind >= GRU else 1)


@njit(**_INLINE)
def _layout(kind, H, O):
    """(R, x0, Hc, g, y) of a block's scratch: Z = [1; the R recurrent rows (h, a Jordan
    net's y); x from row x0] (a GRU's second 1 at row 1 + H), the C rows of the LSTM's cell
    state, g rows of G (the LSTM's gates; a GRU's Gh, Gi and [1; r h]; a Jordan net's
    [1; h']) and the y rows of an Elman readout."""
    R = O if kind == JORDAN else H
    g = 4 * H if kind == LSTM else 7 * H + 1 if kind >= GRU else 1 + H if kind == JORDAN \
        else 0
    return R, 1 + R + (kind >= GRU), H if kind == LSTM else 0, g, 0 if kind == JORDAN else O


@njit(**_INLINE)
def scratch_rows(kind, H, n_in, O):
    """Rows of a block's scratch (LANES wide): Z, Zn, C, G, y (``_layout``)."""
    R, x0, Hc, g, yr = _layout(kind, H, O)
    return 2 * (x0 + n_in) + Hc + g + yr


@njit(**_INLINE)
def _views(kind, Sb, H, n_in, O):
    """(Z, Zn, C, G, y) from a block's scratch Sb (``scratch_rows`` rows)."""
    R, x0, Hc, g, yr = _layout(kind, H, O)
    w = x0 + n_in
    Z, Zn = Sb[:w], Sb[w:2 * w]
    C, G = Sb[2 * w:2 * w + Hc], Sb[2 * w + Hc:2 * w + Hc + g]
    return Z, Zn, C, G, Sb[2 * w + Hc + g:2 * w + Hc + g + yr]


@njit(**_INLINE)
def _ones(kind, Z, Zn, G, R):
    """The constant rows: 1 at row 0 of Z and Zn (a GRU's second 1 at row 1 + R), and of a
    Jordan net's G = [1; h']."""
    for l in range(Z.shape[1]):
        Z[0, l] = Zn[0, l] = 1.0
        if kind >= GRU:
            Z[1 + R, l] = Zn[1 + R, l] = 1.0
        if kind == JORDAN:
            G[0, l] = 1.0


@njit(**_JIT)
def _run_block(kind, LWb, LYb, PLb, a, a2, lo, H0, X, Y, OUT, info):
    """``run_lanes`` for the members lo .. lo + LANES - 1 (those < P)."""
    T, P, n_in = X.shape
    H, O = hidden_size(kind, LWb), LYb.shape[0]
    R, x0 = _layout(kind, H, O)[:2]
    r0 = H if kind == JORDAN else 0  # the recurrent rows' place in the state
    m = LWb.shape[-1]  # the lane count read at run time (see _lanes_kernels.LANES)
    count = min(m, P - lo)
    Sb = lane_scratch(scratch_rows(kind, H, n_in, O), m, OUT)
    Z, Zn, C, G, y = _views(kind, Sb, H, n_in, O)
    _ones(kind, Z, Zn, G, R)
    for l in range(count):
        info[lo + l, 0], info[lo + l, 1], info[lo + l, 2] = 0, T, -1
        for i in range(R):
            Z[1 + i, l] = H0[lo + l, r0 + i]
        for j in range(C.shape[0]):
            C[j, l] = H0[lo + l, H + j]
    failed = np.zeros(m, dtype=np.bool_)
    n_failed = 0
    every = Y.shape[0] == T  # every step's states, or (states=False) the last one's
    for t in range(T):
        for l in range(count):
            for k in range(n_in):
                Z[x0 + k, l] = X[t, lo + l, k]
        _block_step(kind, LWb, LYb, PLb, Z, Zn, C, G, y, a, a2)
        Z, Zn = Zn, Z
        A, B = _parts(kind, Z, C, G, H, R)
        _store_outputs(Z, y, R, count, lo, OUT[t])
        if every or t == T - 1:
            _store_states(A, B, count, lo, Y[t if every else 0])
        if not _block_finite(A, B, count):  # mark each lane's first failure
            for l in range(count):
                unit = -1 if failed[l] else _bad_unit(A, B, l)
                if unit >= 0:
                    failed[l] = True
                    info[lo + l, 0], info[lo + l, 1], info[lo + l, 2] = 1, t + 1, unit
                    n_failed += 1
            if n_failed == count:
                return


@njit(**_JIT_PARALLEL)
def run_lanes(kind, LW, LY, PL, a, a2, H0, X, Y, OUT, info):
    """A population in lane layout (``lanes_params``), member b on sequence b: X (T, P,
    n_in), H0 (P, n) -> Y (T, P, n) every step's states, or (1, P, n) the last step's, and
    OUT (T, P, n_out); info (P, 3) gets (status, step, unit) as the per-member runner's. A
    member whose state turns non-finite is marked at that step; its later rows are
    unspecified (``run`` overwrites them with NaN)."""
    for b in prange(LW.shape[0]):
        _run_block(kind, LW[b], LY[b], PL[b], a, a2, b * LANES, H0, X, Y, OUT, info)


@njit(**_JIT)
def run_lanes_serial(kind, LW, LY, PL, a, a2, H0, X, Y, OUT, info):
    """``run_lanes`` on the calling thread (one block, or little work)."""
    for b in range(LW.shape[0]):
        _run_block(kind, LW[b], LY[b], PL[b], a, a2, b * LANES, H0, X, Y, OUT, info)


# -- DiscreteStepper: one step ----------------------------------------------------------------
@njit(**_JIT)
def _advance_block(kind, LWb, LYb, PLb, a, a2, lo, H, X, H_new, OUT, status, Sb):
    """``advance_lanes`` for one block; Sb (``scratch_rows``, LANES) its scratch."""
    P, n_in, O = H.shape[0], X.shape[1], LYb.shape[0]
    Hh = hidden_size(kind, LWb)
    R, x0 = _layout(kind, Hh, O)[:2]
    r0 = Hh if kind == JORDAN else 0
    count = min(Sb.shape[1], P - lo)
    Z, Zn, C, G, y = _views(kind, Sb, Hh, n_in, O)
    _ones(kind, Z, Zn, G, R)
    for l in range(count):
        for i in range(R):
            Z[1 + i, l] = H[lo + l, r0 + i]
        for j in range(C.shape[0]):
            C[j, l] = H[lo + l, Hh + j]
        for k in range(n_in):
            Z[x0 + k, l] = X[lo + l, k]
    _block_step(kind, LWb, LYb, PLb, Z, Zn, C, G, y, a, a2)
    A, B = _parts(kind, Zn, C, G, Hh, R)
    _store_outputs(Zn, y, R, count, lo, OUT)
    _store_states(A, B, count, lo, H_new)
    for l in range(count):
        status[lo + l] = 0 if _bad_unit(A, B, l) < 0 else 1


@njit(**_JIT_PARALLEL)
def advance_lanes(kind, LW, LY, PL, a, a2, H, X, H_new, OUT, status, S):
    """One step of a population in lane layout (``run_lanes``): H (P, n), X (P, n_in) ->
    H_new (P, n), OUT (P, n_out); status[b] = 1 if member b's new state is non-finite. S
    (nb, ``scratch_rows``, LANES) is scratch the caller allocates once."""
    for b in prange(LW.shape[0]):
        _advance_block(kind, LW[b], LY[b], PL[b], a, a2, b * LANES, H, X, H_new, OUT,
                       status, S[b])


@njit(**_JIT)
def advance_lanes_serial(kind, LW, LY, PL, a, a2, H, X, H_new, OUT, status, S):
    """``advance_lanes`` on the calling thread."""
    for b in range(LW.shape[0]):
        _advance_block(kind, LW[b], LY[b], PL[b], a, a2, b * LANES, H, X, H_new, OUT,
                       status, S[b])
