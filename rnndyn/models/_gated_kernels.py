"""Numba kernels of the gated cells, LSTM and GRU, in PyTorch's gate layout.

Parameter tuples (a population adds a leading axis P to every array):

* LSTM: ``(W_ih (4H,m), W_hh (4H,H), b (4H,) = b_ih + b_hh, peep (3,H), act, gate_act,
  W_ihT (m,4H), W_hhT (H,4H))``; gates stacked (i, f, g, o); peep rows (i, f, o) are the
  peephole weights (zero: no peepholes). State [h; c].
* GRU: ``(W_ih (3H,m), W_hh (3H,H), b_ih (3H,), b_hh (3H,), reset_after, act, gate_act, W_ihT,
  W_hhT)``; gates (r, z, n). ``reset_after=1`` is PyTorch's
  ``n = act(W_in x + b_in + r * (W_hn h + b_hn))``; ``0`` is Cho et al. / Dey & Salem's
  ``n = act(W_in x + b_in + W_hn (r * h) + b_hn)``. The GRU1/2/3 variants are the same kernels
  with the dropped weights held at zero.

The transposed copies W_ihT, W_hhT feed the batched kernels, whose per-step matrix products go
to BLAS through ``np.dot`` (the LSTM's blocks of H >= 128 use W_ih, W_hh themselves, packed
into panels, with the states as columns).

Parameter derivatives (``lstm_vjp``, ``gru_vjp``) are taken with respect to a flat *raw*
vector theta_raw, the blocks below each flattened in C order and concatenated:

* LSTM: ``[W_ih (4H,m), W_hh (4H,H), b (4H,), peep (3,H)]``, d = 4Hm + 4H^2 + 7H (the summed
  bias b counts once; the peephole block is always present, zero or not).
* GRU: ``[W_ih (3H,m), W_hh (3H,H), b_ih (3H,), b_hh (3H,)]``, d = 3Hm + 3H^2 + 6H (weights a
  variant holds at zero included).

Loops over units are inline helpers taking the activation codes. The kernels call them with
constant codes for PyTorch's (tanh, sigmoid): act()'s branches then fold away and LLVM turns
the loop into SIMD code (with _base_kernels' sigmoid/tanh and JIT_SIMD). That took LSTM at
H = 64, B = 1 from 6.6 to 3.2 us a step. Other activations take the same helper, scalar.
"""
import numpy as np
from numba import njit

from .._config import JIT_SIMD as JIT
from ._base_kernels import PANEL_ROWS, panel_matmul, panel_pack, transpose_tile, vecmat
from ._discrete_kernels import SIGMOID, TANH, act, act_prime

_INLINE = dict(JIT, inline="always")


# -- LSTM -----------------------------------------------------------------------------------
@njit(**JIT)
def lstm_work_size(p):
    return 5 * p[1].shape[1]


@njit(**JIT)
def _lstm_forward(h, x, p, work):
    """work[:4H] = gate pre-activations (peepholes included), work[4H:5H] = c'."""
    W_ih, W_hh, b, a, ga = p[0], p[1], p[2], p[4], p[5]
    H, m = W_hh.shape[1], W_ih.shape[1]
    for r in range(4 * H):
        s = b[r]
        for k in range(m):
            s += W_ih[r, k] * x[k]
        for j in range(H):
            s += W_hh[r, j] * h[j]
        work[r] = s
    if a == TANH and ga == SIGMOID:
        _lstm_cell(h, p[3], work, TANH, SIGMOID)
    else:
        _lstm_cell(h, p[3], work, a, ga)


@njit(**_INLINE)
def _lstm_cell(h, P, work, a, ga):
    H = P.shape[1]
    for j in range(H):
        c = h[H + j]
        ai = work[j] + P[0, j] * c
        af = work[H + j] + P[1, j] * c
        c_new = act(af, ga) * c + act(ai, ga) * act(work[2 * H + j], a)
        work[j] = ai
        work[H + j] = af
        work[3 * H + j] += P[2, j] * c_new  # the output gate peeks at the new cell state
        work[4 * H + j] = c_new


@njit(**_INLINE)
def _lstm_hidden(work, h_new, a, ga):
    H = h_new.shape[0] // 2
    for j in range(H):
        c_new = work[4 * H + j]
        h_new[j] = act(work[3 * H + j], ga) * act(c_new, a)
        h_new[H + j] = c_new


@njit(**JIT)
def lstm_step(h, x, p, h_new, work):
    """c' = f*c + i*act(g), h' = o*act(c') with i, f, o = gate_act(.) (PyTorch layout)."""
    _lstm_forward(h, x, p, work)
    a, ga = p[4], p[5]
    if a == TANH and ga == SIGMOID:
        _lstm_hidden(work, h_new, TANH, SIGMOID)
    else:
        _lstm_hidden(work, h_new, a, ga)


@njit(**JIT)
def _lstm_columns(h, p, J, work, W, col0):
    """Columns col0.. of d[h'; c'] for a variable v entering the gates as W @ v (no cell terms)."""
    H, a, ga, P = p[1].shape[1], p[4], p[5], p[3]
    for j in range(H):
        ai, af, ag, ao = work[j], work[H + j], work[2 * H + j], work[3 * H + j]
        c, c_new = h[H + j], work[4 * H + j]
        d_i = act_prime(ai, ga) * act(ag, a)
        d_f = act_prime(af, ga) * c
        d_g = act(ai, ga) * act_prime(ag, a)
        o_c = act(ao, ga) * act_prime(c_new, a)
        o_a = act_prime(ao, ga) * act(c_new, a)
        for q in range(W.shape[1]):
            dc = d_i * W[j, q] + d_f * W[H + j, q] + d_g * W[2 * H + j, q]
            J[H + j, col0 + q] = dc
            J[j, col0 + q] = o_a * (W[3 * H + j, q] + P[2, j] * dc) + o_c * dc


@njit(**JIT)
def lstm_jacobian(h, x, p, J, work):
    """d[h'; c'] / d[h; c] (2H, 2H)."""
    _lstm_forward(h, x, p, work)
    H, a, ga, P = p[1].shape[1], p[4], p[5], p[3]
    _lstm_columns(h, p, J, work, p[1], 0)
    for j in range(H):
        for q in range(H):
            J[j, H + q] = 0.0
            J[H + j, H + q] = 0.0
        ai, af, ag, ao = work[j], work[H + j], work[2 * H + j], work[3 * H + j]
        c, c_new = h[H + j], work[4 * H + j]
        dc = (act(af, ga) + act_prime(af, ga) * c * P[1, j]
              + act_prime(ai, ga) * act(ag, a) * P[0, j])
        J[H + j, H + j] = dc
        J[j, H + j] = (act_prime(ao, ga) * act(c_new, a) * P[2, j] * dc
                       + act(ao, ga) * act_prime(c_new, a) * dc)


@njit(**JIT)
def lstm_jac_input(h, x, p, Jx, work):
    _lstm_forward(h, x, p, work)
    _lstm_columns(h, p, Jx, work, p[0], 0)


@njit(**JIT)
def lstm_param_size(p):
    """Length d = 4Hm + 4H^2 + 7H of the LSTM's raw parameter vector (module docstring)."""
    H, m = p[1].shape[1], p[0].shape[1]
    return 4 * H * m + 4 * H * H + 7 * H


@njit(**_INLINE)
def _lstm_deltas(h, P, v, gh, gp, o_peep, work, a, ga):
    """Backward pass of the elementwise part, unit by unit: replaces the gate pre-activations
    work[:4H] with v^T dF/d(pre-activation), writes gh[H:] (the old cell's cotangent) and the
    peephole block of gp. Uses only unit j's forward values, so it can work in place."""
    H = P.shape[1]
    for j in range(H):
        ai, af, ag, ao = work[j], work[H + j], work[2 * H + j], work[3 * H + j]
        c, c_new = h[H + j], work[4 * H + j]
        g_ao = v[j] * act_prime(ao, ga) * act(c_new, a)
        g_c = v[H + j] + v[j] * act(ao, ga) * act_prime(c_new, a) + g_ao * P[2, j]
        g_ai = g_c * act_prime(ai, ga) * act(ag, a)
        g_af = g_c * act_prime(af, ga) * c
        g_ag = g_c * act(ai, ga) * act_prime(ag, a)
        gh[H + j] = g_c * act(af, ga) + g_ai * P[0, j] + g_af * P[1, j]
        gp[o_peep + j] = g_ai * c
        gp[o_peep + H + j] = g_af * c
        gp[o_peep + 2 * H + j] = g_ao * c_new
        work[j], work[H + j], work[2 * H + j], work[3 * H + j] = g_ai, g_af, g_ag, g_ao


@njit(**JIT)
def lstm_vjp(h, x, p, v, gh, gx, gp, work):
    """Vector-Jacobian products of the LSTM step F(h, x; theta) for a cotangent v (2H,) of the
    new state [h'; c']: overwrites gh (2H,) with v^T dF/d[h; c], gx (m,) with v^T dF/dx and
    gp (d,) with v^T dF/dtheta_raw (raw layout in the module docstring; the bias entry is the
    derivative with respect to b = b_ih + b_hh, which is also that with respect to either
    bias). One forward and one backward pass, O(d); work as ``lstm_work_size``."""
    _lstm_forward(h, x, p, work)
    W_ih, W_hh, P, a, ga = p[0], p[1], p[3], p[4], p[5]
    H, m = W_hh.shape[1], W_ih.shape[1]
    o_hh = 4 * H * m
    o_b = o_hh + 4 * H * H
    o_peep = o_b + 4 * H
    if a == TANH and ga == SIGMOID:
        _lstm_deltas(h, P, v, gh, gp, o_peep, work, TANH, SIGMOID)
    else:
        _lstm_deltas(h, P, v, gh, gp, o_peep, work, a, ga)
    for k in range(m):
        gx[k] = 0.0
    for j in range(H):
        gh[j] = 0.0
    for r in range(4 * H):
        d = work[r]
        gp[o_b + r] = d
        row = r * m
        for k in range(m):
            gp[row + k] = d * x[k]
            gx[k] += W_ih[r, k] * d
        row = o_hh + r * H
        for j in range(H):
            gp[row + j] = d * h[j]
            gh[j] += W_hh[r, j] * d


@njit(**JIT)
def lstm_output(h, p, out):
    for j in range(out.shape[0]):
        out[j] = h[j]


@njit(**JIT)
def hidden_output_jac(h, p, Jo):
    """d h / d [h; c] for cells whose output is the first H entries of the state."""
    for o in range(Jo.shape[0]):
        for j in range(h.shape[0]):
            Jo[o, j] = 1.0 if j == o else 0.0


@njit(**JIT)
def hidden_output_vjp(h, p, v, gh, gp):
    """Vector-Jacobian products of ``lstm_output`` (the outputs are the first H = len(v)
    entries of the state, for LSTM and GRU alike): overwrites gh (n,) with v on its first H
    entries and 0 elsewhere, and gp (d,) with 0, since the outputs do not depend on the
    parameters."""
    H = v.shape[0]
    for j in range(gh.shape[0]):
        gh[j] = v[j] if j < H else 0.0
    for i in range(gp.shape[0]):
        gp[i] = 0.0


@njit(**JIT)
def lstm_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4], p[5], p[6][k], p[7][k])


_CHUNK = 64  # steps whose input projection is one matrix product
_XP_BYTES = 32 << 10  # at most this much of gate inputs computed ahead at B = 1 (H = 256 in
# float32: 64 steps of 4 kB cost 4% of the step beside its 1 MB of weights, 8 steps nothing)


@njit(**_INLINE)
def _input_projection(X, W_ihT, b, XP):
    """XP[:n B] = X (n, B, m) @ W_ihT + b: the gate inputs of n steps, one matrix product."""
    n, B, m = X.shape
    rows = XP[:n * B]
    if m > 0:
        np.dot(X.reshape((n * B, m)), W_ihT, rows)
        rows += b
    else:
        rows[:] = b


@njit(**_INLINE)
def _matmul(Z, WT, A, rev):
    """A = Z @ WT (the GRU's recurrent product): BLAS for batches; a single row with its sums
    in registers (``vecmat``; a BLAS call costs more than the product at the sizes where B = 1
    is run). rev runs over the rows of WT from the last: a caller that alternates it from step
    to step starts each step on the rows the previous one left in L1 (measured when the LSTM
    went through here: [W_hh; W_ih]^T at H = 64, 74 kB in float32, 0.54 -> 0.47 us a step)."""
    if Z.shape[0] > 1:
        np.dot(Z, WT, A)
    else:
        vecmat(Z[0], WT, A[0], rev)


@njit(**_INLINE)
def _matmul_t(Z, W, A, rev):
    """A = Z @ W for the backward passes (W (K, n)): BLAS for batches; a single row by
    ``vecmat`` over the rows of W (rev: from the last, alternating as in ``_matmul``), which
    beat n dot products with the rows of W^T (float32, K = 4H: H = 16 0.067 -> 0.052 us, H =
    64 0.62 -> 0.35; float64 H = 16 0.098 -> 0.059)."""
    if Z.shape[0] > 1:
        np.dot(Z, W, A)
    else:
        vecmat(Z[0], W, A[0], rev)


@njit(**JIT)
def _recursion_panels(W_hhT, B, itemsize):
    """(Wp, DT, DH) for ``_recursion_product``: W_hh^T (H, G) in panels, the step's
    cotangents as columns (G, V) and the product (., V), V = B padded to whole 64-byte
    vectors; empty arrays (the rows' BLAS product) where the forward pass would run the
    block as rows too (``run_columns``). OpenBLAS runs the rows' (B, G) @ (G, H) at ~40% of
    float32 peak: one thread, 16 sequences, LSTM float32 H = 256 291 -> 208 us a step, H =
    128 78 -> 59, float64 H = 256 465 -> 396 (H = 64: 18.6 -> 20.1, so rows there)."""
    H, G = W_hhT.shape
    dt = W_hhT.dtype
    if not run_columns(B, H, itemsize):
        return (np.empty((0, G, PANEL_ROWS), dt), np.empty((0, 0), dt), np.empty((0, 0), dt))
    L = 64 // itemsize
    V = -(-B // L) * L
    Wp = np.empty((-(-H // PANEL_ROWS), G, PANEL_ROWS), dtype=dt)
    panel_pack(W_hhT, Wp)
    return Wp, np.zeros((G, V), dtype=dt), np.empty((Wp.shape[0] * PANEL_ROWS, V), dtype=dt)


@njit(**_INLINE)
def _recursion_product(D, W, panels, dh, rev):
    """dh (B, H) = D (B, G) @ W (G, H), the BPTT recursion's product: as W^T (H, G) @ D^T
    from W^T's panels where ``_recursion_panels`` made them, else ``_matmul_t``."""
    Wp, DT, DH = panels
    if Wp.shape[0] == 0:
        _matmul_t(D, W, dh, rev)
        return
    _transpose_into(D, DT, D.shape[0], D.shape[1])
    panel_matmul(Wp, DT, DH)
    _transpose_into(DH, dh, dh.shape[1], dh.shape[0])


@njit(**_INLINE)
def _transpose_into(S, D, rows, cols):
    """D[j, i] = S[i, j] for i < rows, j < cols (both C-contiguous, 2-D): by 64-byte tiles
    where rows and cols are whole vectors, else element by element."""
    L = 64 // S.itemsize
    if rows % L == 0 and cols % L == 0:
        for r0 in range(0, rows, L):
            for l0 in range(0, cols, L):
                transpose_tile(S, r0, l0, D, l0 * D.shape[1] + r0, D.shape[1])
    else:
        for i in range(rows):
            for j in range(cols):
                D[j, i] = S[i, j]


def lstm_run_batch(p, H0, X, Y, OUT, info, lo, hi, ACT=None):
    """Sequences lo..hi-1 of a batch sharing one LSTM: X (T, B, m), H0 (B, 2H) -> Y (T, B,
    2H) (or (1, B, 2H): the latest states only), OUT (T, B, H); info (B, 3) gets (status,
    step, unit). ACT (T, B', 4H) (B' the whole batch; ``LSTM.gate_store``): also every step's
    gate activations (i, f, g, o) of sequences lo..hi-1, which ``lstm_bptt_batch`` then need
    not recompute. The caller cuts the batch
    into blocks of sequences, one per thread (``integrate.run.run_blocks``): the sequences
    never meet, so the threads need no step-by-step synchronisation (H = 64, B = 32,
    float32: 14.4 -> 6.2-7.2 us a step on 2 cores). A block runs one of three kernels: one
    sequence (``_lstm_run_single``), states as rows (``_lstm_run_rows``: one BLAS product a
    step, [h_{t-1}, x_t] @ [W_hh; W_ih]^T), or, for H >= 128, states as columns
    (``_lstm_run_columns``: W [h; x] from W in panels, 1.3-2x faster there, the same sums); each
    in a version for PyTorch's (tanh, sigmoid), where the activations fold into SIMD loops, and
    one for any activations. Chosen here rather than inside one kernel so that numba compiles
    only what a run uses: the one kernel holding all six took 52 s to compile (float64, empty
    cache), one of them 5-9 s."""
    B, H = hi - lo, p[7].shape[0]
    standard = bool(p[4] == TANH and p[5] == SIGMOID)
    ACT = np.empty((0, 1, 4 * H), Y.dtype) if ACT is None else ACT
    path = _LSTM_SINGLE if B == 1 else _LSTM_COLUMNS if run_columns(B, H, Y.itemsize) else \
        _LSTM_ROWS
    path[standard](p, H0, X, Y, OUT, info, lo, hi, ACT)


@njit(**JIT)
def _lstm_single_any(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _lstm_run_single(p, H0, X, Y, OUT, info, lo, p[4], p[5], ACT)


@njit(**JIT)
def _lstm_single_standard(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _lstm_run_single(p, H0, X, Y, OUT, info, lo, TANH, SIGMOID, ACT)


@njit(**JIT)
def _lstm_rows_any(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _lstm_run_rows(p, H0, X, Y, OUT, info, lo, hi, p[4], p[5], ACT)


@njit(**JIT)
def _lstm_rows_standard(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _lstm_run_rows(p, H0, X, Y, OUT, info, lo, hi, TANH, SIGMOID, ACT)


@njit(**JIT)
def _lstm_columns_any(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _lstm_run_columns(p, H0, X, Y, OUT, info, lo, hi, p[4], p[5], ACT)


@njit(**JIT)
def _lstm_columns_standard(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _lstm_run_columns(p, H0, X, Y, OUT, info, lo, hi, TANH, SIGMOID, ACT)


# (any activations, tanh/sigmoid), indexed by whether the activations are PyTorch's
_LSTM_SINGLE = (_lstm_single_any, _lstm_single_standard)
_LSTM_ROWS = (_lstm_rows_any, _lstm_rows_standard)
_LSTM_COLUMNS = (_lstm_columns_any, _lstm_columns_standard)


@njit(**_INLINE)
def _aligned_empty(rows, cols, like):
    """An uninitialised (rows, cols) array of like's dtype starting on a 64-byte boundary
    (numba aligns to 32: the B = 1 product's 512-bit loads of WT then straddle cache lines
    half the time, and H = 64, B = 1 ran at 0.77 or 1.16 us a step from one call to the
    next, float32)."""
    pad = 64 // like.itemsize
    buf = np.empty(rows * cols + pad, dtype=like.dtype)
    start = (-buf.ctypes.data % 64) // like.itemsize
    return buf[start:start + rows * cols].reshape((rows, cols))


@njit(**_INLINE)
def _with_bias(W_ihT, b, like):
    """([W_ih^T; b] (m + 1, G H) on a 64-byte boundary, the row [x, 1] (m + 1,) to fill with
    an input): one sequence's input projection as a single product with the bias folded in."""
    m = W_ihT.shape[0]
    WI = _aligned_empty(m + 1, W_ihT.shape[1], like)
    WI[:m] = W_ihT
    WI[m] = b
    return WI, np.ones(m + 1, dtype=like.dtype)


@njit(**_INLINE)
def _project(X, s, t0, n, x1, WI, XP):
    """XP[r] = [x_{t0 + r}, 1] @ WI for r < n, sequence s of X (T, B, m): a chunk of steps'
    gate inputs computed ahead (``vecmat`` rows; a BLAS call costs more at these sizes)."""
    for r in range(n):
        for k in range(X.shape[2]):
            x1[k] = X[t0 + r, s, k]
        vecmat(x1, WI, XP[r], False)


@njit(**_INLINE)
def _aligned(W):
    """W (rows, cols) itself if it starts on a 64-byte boundary (``integrate.run.cast_params``
    copies parameters to one), else an aligned copy."""
    if W.ctypes.data % 64 == 0:
        return W
    A = _aligned_empty(W.shape[0], W.shape[1], W)
    A[:] = W
    return A


#: blocks of at least this many units may run with their states as columns
#: (``_lstm_run_columns``; B = 16, one thread: float32 H = 64 3.9 us a step in rows, 5.1-5.4 in
#: columns; float64 H = 64 8.9 / 11.5, H = 128 40.9 / 32.2, H = 256 143 / 100)
_COLUMNS_MIN_H = 128


@njit(**JIT)  # also called by the kernels (_recursion_panels)
def run_columns(B, H, itemsize):
    """Whether a block of B sequences of H units (LSTM, GRU) runs with its states as columns.
    The columns pad B to whole 64-byte vectors (L = 8 float64, 16 float32 sequences), so a
    block costs as much as a full vector; the rows' BLAS products cost in proportion to B.
    Measured on one thread (Zen 5), the columns win from B >= L at H = 128, B >= 6 at H = 256
    and B >= 2-3 at H = 512 (float32 LSTM (128, 8): rows 5.8, columns 14.6 us a step; (256,
    8) 81 / 48; float64 GRU (256, 4) 28 / 39, (256, 8) 68 / 37): hence B >= min(L, 2048 / H)."""
    return 1 < B and H >= _COLUMNS_MIN_H and B >= min(64 // itemsize, 2048 // H)


@njit(**_INLINE)
def _lstm_run_rows(p, H0, X, Y, OUT, info, lo, hi, a, ga, ACT):
    """``lstm_run_batch`` with the states as rows: one matrix product a step, [h_{t-1}, x_t]
    @ [W_hh; W_ih]^T (BLAS), cheaper than the recurrent product plus a separate input
    projection of 64 steps at a time (H = 64, B = 32, float32: 16.2 -> 13.9 us a step; the
    skinny input product wrote its (64 B, 4H) result through the cache). The elementwise part
    is serial on purpose: OpenBLAS's worker threads spin after a product, and numba threads
    competing with them made the step several times slower."""
    b, P, W_ihT, W_hhT = p[2], p[3], p[6], p[7]
    B, H, T, m = hi - lo, W_hhT.shape[0], X.shape[0], X.shape[2]
    keep = ACT.shape[0] > 0  # the gate activations (see _lstm_run_single)
    WT = _aligned_empty(H + m, 4 * H, Y)
    WT[:H] = W_hhT
    WT[H:] = W_ihT
    Z = _aligned_empty(B, H + m, Y)  # rows [h, x]: h updated in place
    c = np.empty((B, H), dtype=Y.dtype)
    A = _aligned_empty(B, 4 * H, Y)
    _load_state(H0, Z, c, lo, info, T)
    for t in range(T):
        ty = min(t, Y.shape[0] - 1)  # Y: every step's states, or the last's
        for s in range(B):
            for k in range(m):
                Z[s, H + k] = X[t, lo + s, k]
        np.dot(Z, WT, A)  # not _matmul: its vecmat branch, dead at B > 1, cost 7 s to compile
        for s in range(B):
            _lstm_gates(A, b, P, Z, c, s, a, ga)
            if keep:
                for j in range(4 * H):
                    ACT[t, lo + s, j] = A[s, j]
            # the stores written out, one loop a stream: a helper's single loop of the three
            # stores and the sum, called per sequence, cost as much as the gates (float32, T =
            # 1000, H = 64, B = 16 on one thread: 4.7 -> 4.0 us a step; B = 1, H = 16: 0.14
            # -> 0.12); the same loops as a helper measured no faster than that one
            acc = c[s, 0] - c[s, 0]
            for j in range(H):
                Y[ty, lo + s, j] = Z[s, j]
            for j in range(H):
                Y[ty, lo + s, H + j] = c[s, j]
            for j in range(H):
                OUT[t, lo + s, j] = Z[s, j]
            for j in range(H):
                acc += Z[s, j] + c[s, j]
            if not np.isfinite(acc):
                _mark_divergence(Y[ty, lo + s], info, lo + s, t)


@njit(**_INLINE)
def _lstm_run_single(p, H0, X, Y, OUT, info, s, a, ga, ACT):
    """``_lstm_run_rows`` for the single sequence s: the step's product is h @ W_hh^T alone
    (``vecmat``, its rows alternately from the last), added to [x, 1] @ [W_ih^T; b] from
    chunks of steps computed ahead (``vecmat`` too: BLAS calls cost more at these sizes). W_ih
    out of the step's product keeps its 8 kB (H = 64, m = 8, float32) out of L1, where the 64
    kB of W_hh^T only partly fit: 0.44 -> 0.41 us a step, with vecmat's prefetching 0.38-0.40
    (one thread, T = 1000; float64 H = 16 0.19 -> 0.13, H = 64 1.19 -> 1.07). The gate loops
    run on views made once, indexed from 0 (an offset such as A[0, H + j] cost ~1.5x in such a
    loop): float32 H = 16 0.097 -> 0.091 us a step. ACT (T, B', 4H) or (0, 1, 4H): the gate
    activations of every step, kept if it has rows."""
    b, P, W_ihT, W_hhT = p[2], p[3], p[6], p[7]
    H, T = W_hhT.shape[0], X.shape[0]
    keep = ACT.shape[0] > 0
    WT = _aligned(W_hhT)
    WI, x1 = _with_bias(W_ihT, b, Y)
    CH = max(1, min(_CHUNK, T, _XP_BYTES // (4 * H * Y.itemsize)))
    XP = _aligned_empty(CH, 4 * H, Y)
    Z = _aligned_empty(1, H, Y)
    c = np.empty((1, H), dtype=Y.dtype)
    A = _aligned_empty(1, 4 * H, Y)
    _load_state(H0, Z, c, s, info, T)
    gi, gf, gg, go = A[0, :H], A[0, H:2 * H], A[0, 2 * H:3 * H], A[0, 3 * H:]
    pi, pf, po = P[0], P[1], P[2]
    h, c0, a0 = Z[0], c[0], A[0]
    for t0 in range(0, T, CH):
        n = min(CH, T - t0)
        _project(X, s, t0, n, x1, WI, XP)
        for r in range(n):
            t = t0 + r
            ty = min(t, Y.shape[0] - 1)
            vecmat(h, WT, a0, t % 2 == 1)
            for j in range(H):
                gi[j] = act(gi[j] + XP[r, j] + pi[j] * c0[j], ga)
            for j in range(H):
                gf[j] = act(gf[j] + XP[r, H + j] + pf[j] * c0[j], ga)
            for j in range(H):
                gg[j] = act(gg[j] + XP[r, 2 * H + j], a)
            for j in range(H):
                c0[j] = gf[j] * c0[j] + gi[j] * gg[j]
            for j in range(H):
                go[j] = act(go[j] + XP[r, 3 * H + j] + po[j] * c0[j], ga)
                h[j] = go[j] * act(c0[j], a)
            if keep:
                for j in range(4 * H):
                    ACT[t, s, j] = a0[j]
            acc = c0[0] - c0[0]  # the stores as in _lstm_run_rows
            for j in range(H):
                Y[ty, s, j] = h[j]
            for j in range(H):
                Y[ty, s, H + j] = c0[j]
            for j in range(H):
                OUT[t, s, j] = h[j]
            for j in range(H):
                acc += h[j] + c0[j]
            if not np.isfinite(acc):
                _mark_divergence(Y[ty, s], info, s, t)


@njit(**_INLINE)
def _lstm_run_columns(p, H0, X, Y, OUT, info, lo, hi, a, ga, ACT):
    """``_lstm_run_rows`` with the block's states as columns, [h; x] (H + m, V) and c (H, V),
    V = the B sequences padded to whole 64-byte vectors (padding columns run along on zero
    inputs, never stored): the step's product is W (4H, H + m) @ [h; x], from W packed once
    into panels (``panel_matmul``: float32 H = 256, B = 16, one thread, 52 us a step in
    OpenBLAS's sgemm, which packs W at every call, 39 here), and the gates run vectorised over
    the batch. The sums are the rows' own, term for term (k in order), so they equal the rows'
    path up to the order BLAS sums in there. LSTM float32 at H = 256, B = 32 (two blocks, two
    threads): rows 102-112, columns through sgemm 63-67, through panels 48-53 us a step
    (PyTorch 51-53)."""
    W_ih, W_hh, b, P = p[0], p[1], p[2], p[3]
    B, H, T, m = hi - lo, W_hh.shape[1], X.shape[0], X.shape[2]
    L = 64 // Y.itemsize
    V = -(-B // L) * L
    W = np.empty((4 * H, H + m), dtype=Y.dtype)
    W[:, :H] = W_hh
    W[:, H:] = W_ih
    Wp = np.empty((-(-4 * H // PANEL_ROWS), H + m, PANEL_ROWS), dtype=Y.dtype)
    panel_pack(W, Wp)
    Z = _aligned_empty(H + m, V, Y)  # columns [h; x]: h updated in place
    Z[:] = 0
    c = _aligned_empty(H, V, Y)
    c[:] = 0
    acc = np.empty(V, dtype=Y.dtype)
    A = _aligned_empty(Wp.shape[0] * PANEL_ROWS, V, Y)
    _load_state(H0, Z.T[:B], c.T[:B], lo, info, T)  # the same memory as rows
    for t in range(T):
        for k in range(m):
            for s in range(B):
                Z[H + k, s] = X[t, lo + s, k]
        panel_matmul(Wp, Z, A)
        for j in range(H):  # the order of _lstm_gates' sums, over the batch
            bi, bf, bg, bo = b[j], b[H + j], b[2 * H + j], b[3 * H + j]
            pi, pf, po = P[0, j], P[1, j], P[2, j]
            for s in range(V):  # the padding too: a loop of B < the SIMD width ran scalar
                c0 = c[j, s]
                i = act(A[j, s] + bi + pi * c0, ga)
                f = act(A[H + j, s] + bf + pf * c0, ga)
                g = act(A[2 * H + j, s] + bg, a)
                c1 = f * c0 + i * g
                c[j, s] = c1
                o = act(A[3 * H + j, s] + bo + po * c1, ga)
                Z[j, s] = o * act(c1, a)
                # the activations back into A, for ACT; unconditional, as a test per step
                # would be one more loop version to compile, and the stores stay in cache
                A[j, s], A[H + j, s], A[2 * H + j, s], A[3 * H + j, s] = i, f, g, o
        _store_columns(Z, c, acc, lo, B, Y, OUT, t, info)
        if ACT.shape[0] > 0:
            _store_gates(A, ACT, t, lo, B, 0, 4 * H)


@njit(**_INLINE)
def _store_columns(Z, c, acc, lo, B, Y, OUT, t, info):
    """Y[t, lo + s] = [h; c] (the LSTM; h alone where c has no rows: the GRU; Y[0] if Y keeps
    only the last states), OUT[t, lo + s] = h for the block's B sequences, from states as
    columns (h: the first H rows of Z, H = OUT's width): whole L x L tiles transposed in
    registers (``transpose_tile``: 1-2% of the step faster than one element at a time at H =
    256, B = 16, float32, where the stores take ~4.5 us a step, bound by writing), the rest one
    by one; then the divergence test on each sequence's sum of h and c."""
    H, n, L = OUT.shape[2], Y.shape[2], 64 // Y.itemsize
    cells = c.shape[0] > 0
    ty = min(t, Y.shape[0] - 1)
    Bt, Ht = B - B % L, H - H % L
    for s0 in range(0, Bt, L):
        row, rowy = t * Y.shape[1] + lo + s0, ty * Y.shape[1] + lo + s0
        for j0 in range(0, Ht, L):
            transpose_tile(Z, j0, s0, Y, rowy * n + j0, n)
            if cells:
                transpose_tile(c, j0, s0, Y, rowy * n + H + j0, n)
            transpose_tile(Z, j0, s0, OUT, row * H + j0, H)
    for s in range(B):
        for j in range(Ht if s < Bt else 0, H):
            Y[ty, lo + s, j] = Z[j, s]
            if cells:
                Y[ty, lo + s, H + j] = c[j, s]
            OUT[t, lo + s, j] = Z[j, s]
    acc[:] = 0
    for j in range(H):
        for s in range(B):
            acc[s] += Z[j, s]
    for j in range(c.shape[0]):
        for s in range(B):
            acc[s] += c[j, s]
    for s in range(B):
        if not np.isfinite(acc[s]):
            _mark_divergence(Y[ty, lo + s], info, lo + s, t)


@njit(**_INLINE)
def _store_gates(A, ACT, t, lo, B, j1, G):
    """ACT[t, lo + s, j1 : j1 + G] = A[:G, s] (gate activations as columns, the cells'
    ``_run_columns``) for s < B: whole L x L tiles by ``transpose_tile``, the rest one by
    one."""
    n, L = ACT.shape[2], 64 // A.itemsize
    Bt, Gt = B - B % L, G - G % L
    for s0 in range(0, Bt, L):
        row = t * ACT.shape[1] + lo + s0
        for j0 in range(0, Gt, L):
            transpose_tile(A, j0, s0, ACT, row * n + j1 + j0, n)
    for s in range(B):
        for j in range(Gt if s < Bt else 0, G):
            ACT[t, lo + s, j1 + j] = A[j, s]


@njit(**_INLINE)
def _load_state(H0, Z, c, lo, info, T):
    """Sequences lo.. of H0 = [h; c] into the rows of Z (h: the first H entries) and c, and
    their info rows reset to (0, T, -1): no divergence yet."""
    B, H = c.shape
    for s in range(B):
        info[lo + s, 0], info[lo + s, 1], info[lo + s, 2] = 0, T, -1
        for j in range(H):
            Z[s, j] = H0[lo + s, j]
            c[s, j] = H0[lo + s, H + j]


@njit(**_INLINE)
def _lstm_gates(A, b, P, Z, c, s, a, ga):
    """Sequence s's step from its gate inputs A[s] = W_hh h + W_ih x and the bias b:
    overwrites A[s] with the gate activations (i, f, g, o) and h (the first H entries of
    Z[s]), c[s] with the new state. Gate by gate, each loop with few streams, so that every
    loop becomes SIMD code; rows are indexed, not sliced: a row view (A[s], c[s]) costs a
    reference-count update, and without them a step took 0.24 -> 0.18 us at H = 16, B = 1
    and 15.8 -> 13.7 us at H = 64, B = 32 (float32)."""
    H = c.shape[1]  # loops from 0 with offsets: a loop from H would not vectorise
    for j in range(H):
        A[s, j] = act(A[s, j] + b[j] + P[0, j] * c[s, j], ga)
    for j in range(H):
        A[s, H + j] = act(A[s, H + j] + b[H + j] + P[1, j] * c[s, j], ga)
    for j in range(H):
        A[s, 2 * H + j] = act(A[s, 2 * H + j] + b[2 * H + j], a)
    for j in range(H):
        c[s, j] = A[s, H + j] * c[s, j] + A[s, j] * A[s, 2 * H + j]
    for j in range(H):
        A[s, 3 * H + j] = act(A[s, 3 * H + j] + b[3 * H + j] + P[2, j] * c[s, j], ga)
        Z[s, j] = A[s, 3 * H + j] * act(c[s, j], a)


#: one sequence's BPTT takes its weight gradient GW^T += Z^T A as rows, each a ``vecmat``
#: (sums in registers), where A's rows of 4H gate cotangents take at most this many bytes: it
#: beats the BLAS call there (float32 H = 16: 0.053 -> 0.023 us per step of the chunk, the
#: kernel 0.355 -> 0.33-0.34 us a step; H = 32 0.14 -> 0.05-0.09) and loses from rows of
#: ~1 kB on (float32 H = 48, float64 H = 24)
_GW_ROWS_BYTES = 512


def lstm_bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT=None, cut=0):
    """``lstm_bptt_batch`` with the gate activations ACT (T, B, 4H) of ``lstm_run_batch``
    optional, and the truncation ``cut`` (0: exact BPTT)."""
    if ACT is None:
        ACT = np.empty((0, 1, 2 * Y.shape[2]), Y.dtype)
    lstm_bptt_batch(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT, cut)


@njit(**JIT)
def lstm_bptt_batch(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT, cut):
    """Exact BPTT of B sequences through an LSTM with tanh/sigmoid activations, given the
    states Y (T, B, 2H) of ``lstm_run_batch`` and the cotangents GO (T, B, H) of the outputs
    h_1..h_T: writes G (d_raw,) = the gradient summed over the sequences (raw layout of the
    module docstring), GH0 (B, 2H) = dL/d[h_0; c_0] and, unless it is empty, GX (T, B, m) =
    dL/dx_t (what a stacked layer below receives).

    Batched as cuDNN and oneDNN do, in chunks of 64 steps from the end (the chunk's arrays
    stay in cache and are reused): the chunk's gate activations are recomputed by one matrix
    product [x_t, h_{t-1}] @ [W_ih; W_hh]^T (or copied from ACT (T, B', 4H), the forward
    pass's, where it has rows: float32 H = 16, B = 1: 0.30 -> 0.24 us a step), the recursion
    costs one (B, 4H) @ (4H, H) product a step, and the chunk's weight gradients are one
    product dA^T [x, h]. Sequences lo..hi-1 only (blocks of the batch on threads, as
    ``lstm_run_batch``): G gets their summed gradient, GH0 and GX their rows. cut > 0:
    truncated BPTT(cut, cut) (Williams & Peng, disjoint blocks of cut steps from the start):
    the state that starts a block is held constant, so the carried cotangents stop there."""
    W_ih, W_hh, b, P, W_ihT, W_hhT = p[0], p[1], p[2], p[3], p[6], p[7]
    T, m = X.shape[0], X.shape[2]
    B = hi - lo
    H = W_hh.shape[1]
    K = m + H
    dt = Y.dtype
    WT = np.empty((K, 4 * H), dtype=dt)
    WT[:m] = W_ihT
    WT[m:] = W_hhT
    CH = min(_CHUNK, T)
    Z = np.empty((CH * B, K), dtype=dt)  # rows [x_t, h_{t-1}]
    C = np.empty((CH + 1, B, H), dtype=dt)  # c_{t0-1} .. c_{t1-1}, contiguous rows (SIMD)
    GA = np.empty((CH * B, 4 * H), dtype=dt)  # the chunk's gates, then their cotangents
    GXC = np.empty((CH * B, m), dtype=dt) if GX.shape[0] > 0 else np.empty((0, m), dtype=dt)
    GW = np.zeros((4 * H, K), dtype=dt)
    small = B == 1 and 4 * H * Y.itemsize <= _GW_ROWS_BYTES
    GWT = np.zeros((K, 4 * H) if small else (0, 0), dtype=dt)
    ZT = np.empty((K, CH) if small else (0, 0), dtype=dt)
    row = np.empty(4 * H, dtype=dt)
    dh = np.zeros((B, H), dtype=dt)
    dc = np.zeros((B, H), dtype=dt)
    one = np.ones(1, dtype=dt)[0]
    # the deltas gate-major, each gate's B H entries one flat loop (see _lstm_gate_deltas)
    GM = np.empty((4, B * H), dtype=dt)
    PF = np.empty((3, B * H), dtype=dt)  # the peepholes tiled over the sequences
    for s in range(B):
        PF[:, s * H:(s + 1) * H] = P
    GB = np.zeros((4, B * H), dtype=dt)  # bias and peephole gradients per sequence, summed
    GP = np.zeros((3, B * H), dtype=dt)  # over the sequences at the end
    panels = _recursion_panels(W_hhT, B, Y.itemsize)
    for t1 in range(T, 0, -CH):
        t0 = max(0, t1 - CH)
        n = t1 - t0
        for s in range(B):
            C[0, s] = H0[lo + s, H:] if t0 == 0 else Y[t0 - 1, lo + s, H:]
        for k in range(n):
            t = t0 + k
            for s in range(B):
                r = k * B + s
                Z[r, :m] = X[t, lo + s]
                Z[r, m:] = H0[lo + s, :H] if t == 0 else Y[t - 1, lo + s, :H]
                C[k + 1, s] = Y[t, lo + s, H:]
        A = GA[:n * B]
        A3 = A.reshape((n, B, 4 * H))
        if ACT.shape[0] > 0:
            A3[:] = ACT[t0:t1, lo:hi]
        else:
            np.dot(Z[:n * B], WT, A)
            for k in range(n):
                for s in range(B):
                    _lstm_activations(A3, k, s, b, P, C)
        for k in range(n - 1, -1, -1):
            go = GO[t0 + k, lo:hi]  # a C-contiguous view: rows lo..hi-1 of the step
            _lstm_gate_deltas(A3, k, PF, go, dh, dc, C, GM, GB, GP, one)
            if _block_start(t0 + k, cut):
                dh[:] = 0.0
                dc[:] = 0.0
            else:
                _recursion_product(A3[k], W_hh, panels, dh, k % 2 == 1)  # dA_t @ W_hh
        if small:
            for k in range(n):
                for q in range(K):
                    ZT[q, k] = Z[k, q]
            for q in range(K):
                vecmat(ZT[q, :n], A, row, False)
                for j in range(4 * H):
                    GWT[q, j] += row[j]
        else:
            GW += np.dot(A.T, Z[:n * B])
        if GX.shape[0] > 0 and m > 0:
            np.dot(A, W_ih, GXC[:n * B])
            for k in range(n):
                GX[t0 + k, lo:hi] = GXC[k * B:(k + 1) * B]
    if small:
        GW[:] = GWT.T
    GH0[lo:hi, :H] = dh
    GH0[lo:hi, H:] = dc
    o_hh = 4 * H * m
    o_b = o_hh + 4 * H * H
    G[:o_hh] = GW[:, :m].ravel()
    G[o_hh:o_b] = GW[:, m:].ravel()
    G[o_b:o_b + 4 * H] = GB.reshape((4, B, H)).sum(axis=1).ravel()
    G[o_b + 4 * H:] = GP.reshape((3, B, H)).sum(axis=1).ravel()


@njit(**_INLINE)
def _block_start(t, cut):
    """Whether step t (0-based, t > 0) starts a block of truncated BPTT(cut, cut): its input
    state is a constant there (cut 0: exact BPTT, no block starts)."""
    return cut > 0 and t > 0 and t % cut == 0


@njit(**_INLINE)
def _lstm_activations(A3, k, s, b, P, C):
    """Gate inputs A3[k, s] (4H,) of one step (without the bias b) -> activations (i, f, g, o)
    in place; C[k, s] and C[k + 1, s] are c_{t-1} and c_t. Rows indexed, not sliced (see
    ``_lstm_gates``)."""
    H = C.shape[2]  # loops from 0 with offsets: a loop from H would not vectorise
    for j in range(H):
        A3[k, s, j] = act(A3[k, s, j] + b[j] + P[0, j] * C[k, s, j], SIGMOID)
    for j in range(H):
        A3[k, s, H + j] = act(A3[k, s, H + j] + b[H + j] + P[1, j] * C[k, s, j], SIGMOID)
    for j in range(H):
        A3[k, s, 2 * H + j] = act(A3[k, s, 2 * H + j] + b[2 * H + j], TANH)
    for j in range(H):
        A3[k, s, 3 * H + j] = act(A3[k, s, 3 * H + j] + b[3 * H + j] + P[2, j] * C[k + 1, s, j],
                                  SIGMOID)


@njit(**_INLINE)
def _lstm_gate_deltas(A3, k, PF, GO, dh, dc, C, GM, GB, GP, one):
    """One step backwards for all B sequences: A3[k] (B, 4H) holds the activations (i, f, g,
    o) and is overwritten with the pre-activation cotangents; GO (B, H) are the step's output
    cotangents, C[k] and C[k + 1] (B, H) are c_{t-1} and c_t. On entry dh, dc are dL/dh_t
    (without the output's own term) and dL/dc_t from later steps, on exit dc = dL/dc_{t-1}
    (dh is left to the caller's product). GB (4, B H) and GP (3, B H) accumulate each
    sequence's bias and peephole gradients, PF (3, B H) are the peepholes tiled over the
    sequences; one is 1 in the arrays' precision (a float64 literal would promote float32
    arithmetic). The gates are copied to gate-major rows GM (4, B H) and back, so that the
    deltas are one flat loop over B H: a call per sequence of 64-unit loops over seven arrays
    (LLVM's alias checks and vector prologue paid each time) ran at about scalar speed
    (float32 H = 64, 16 sequences on one thread: 3.0 -> 1.6 us a step, the copies included;
    a whole ``bptt`` call at B = 32, T = 1000: 45.2-46.5 -> 42.8-45.8 ms, ~3%)."""
    B, H = dh.shape
    N = B * H
    for s in range(B):
        for g in range(4):
            for j in range(H):
                GM[g, s * H + j] = A3[k, s, g * H + j]
    gi, gf, gg, go = GM[0], GM[1], GM[2], GM[3]
    pi, pf, po = PF[0], PF[1], PF[2]
    cp, cn = C[k].reshape(N), C[k + 1].reshape(N)
    dhf, dcf, gof = dh.reshape(N), dc.reshape(N), GO.reshape(N)
    for q in range(N):  # output gate; dc becomes dL/dc_t in full
        o = go[q]
        tc = act(cn[q], TANH)
        v = dhf[q] + gof[q]
        d_o = v * tc * (o - o * o)
        dcf[q] += v * o * (one - tc * tc) + d_o * po[q]
        go[q] = d_o
    for q in range(N):  # input, forget and cell gates
        i, f, g, d_c = gi[q], gf[q], gg[q], dcf[q]
        d_i = d_c * g * (i - i * i)
        d_f = d_c * cp[q] * (f - f * f)
        gg[q] = d_c * i * (one - g * g)
        dcf[q] = d_c * f + d_i * pi[q] + d_f * pf[q]
        gi[q], gf[q] = d_i, d_f
    for q in range(N):
        GP[0, q] += gi[q] * cp[q]
        GP[1, q] += gf[q] * cp[q]
        GP[2, q] += go[q] * cn[q]
    for g in range(4):
        for q in range(N):
            GB[g, q] += GM[g, q]
    for s in range(B):
        for g in range(4):
            for j in range(H):
                A3[k, s, g * H + j] = GM[g, s * H + j]


@njit(**_INLINE)
def _mark_divergence(y, info, s, t):
    """The first time y, member s's state after step t, holds a non-finite value:
    info[s] = (1, t + 1, first bad unit)."""
    if info[s, 0] != 0:
        return
    acc = 0.0
    for j in range(y.shape[0]):
        acc += y[j]
    if np.isfinite(acc):
        return
    for j in range(y.shape[0]):
        if not np.isfinite(y[j]):
            info[s, 0], info[s, 1], info[s, 2] = 1, t + 1, j
            return


# -- GRU ------------------------------------------------------------------------------------
@njit(**JIT)
def gru_work_size(p):
    return 8 * p[1].shape[1]


@njit(**JIT)
def _gru_forward(h, x, p, work):
    """work[:3H] = b_ih + W_ih x, [3H:6H] = b_hh + W_hh h, [6H:7H] = the candidate's
    pre-activation, [7H:8H] = the reset gate r."""
    W_ih, W_hh, b_ih, b_hh, reset_after, ga = p[0], p[1], p[2], p[3], p[4], p[6]
    H, m = W_hh.shape[1], W_ih.shape[1]
    for r in range(3 * H):
        s = b_ih[r]
        for k in range(m):
            s += W_ih[r, k] * x[k]
        work[r] = s
        s = b_hh[r]
        for j in range(H):
            s += W_hh[r, j] * h[j]
        work[3 * H + r] = s
    if ga == SIGMOID:
        _gru_reset_gate(work, H, SIGMOID)
    else:
        _gru_reset_gate(work, H, ga)
    if reset_after:
        for j in range(H):
            work[6 * H + j] = work[2 * H + j] + work[7 * H + j] * work[5 * H + j]
    else:  # the reset gate acts on h before the recurrent weights (Cho et al. 2014)
        for j in range(H):
            s = work[2 * H + j] + b_hh[2 * H + j]
            for k in range(H):
                s += W_hh[2 * H + j, k] * work[7 * H + k] * h[k]
            work[6 * H + j] = s


@njit(**_INLINE)
def _gru_reset_gate(work, H, ga):
    for j in range(H):
        work[7 * H + j] = act(work[j] + work[3 * H + j], ga)


@njit(**_INLINE)
def _gru_update(h, work, h_new, a, ga):
    H = h.shape[0]
    for j in range(H):
        z = act(work[H + j] + work[4 * H + j], ga)
        h_new[j] = (1.0 - z) * act(work[6 * H + j], a) + z * h[j]


@njit(**JIT)
def gru_step(h, x, p, h_new, work):
    """h' = (1 - z) * n + z * h."""
    _gru_forward(h, x, p, work)
    a, ga = p[5], p[6]
    if a == TANH and ga == SIGMOID:
        _gru_update(h, work, h_new, TANH, SIGMOID)
    else:
        _gru_update(h, work, h_new, a, ga)


@njit(**JIT)
def _gru_columns(h, p, J, work, W, is_h):
    """d h' / d v for v entering the gates as W @ v (W = W_hh for h, W_ih for x)."""
    W_hh, reset_after, a, ga = p[1], p[4], p[5], p[6]
    H = W_hh.shape[1]
    for j in range(H):
        a_r, a_z = work[j] + work[3 * H + j], work[H + j] + work[4 * H + j]
        r, z = act(a_r, ga), act(a_z, ga)
        n, dn_da = act(work[6 * H + j], a), act_prime(work[6 * H + j], a)
        dr, dz = act_prime(a_r, ga), act_prime(a_z, ga)
        for q in range(W.shape[1]):
            if reset_after:
                da_n = dr * W[j, q] * work[5 * H + j]
                da_n += r * W_hh[2 * H + j, q] if is_h else W[2 * H + j, q]
            else:
                da_n = 0.0
                for k in range(H):
                    dr_k = act_prime(work[k] + work[3 * H + k], ga) * W[k, q]
                    da_n += W_hh[2 * H + j, k] * h[k] * dr_k
                if is_h:
                    da_n += W_hh[2 * H + j, q] * work[7 * H + q]
                else:
                    da_n += W[2 * H + j, q]
            v = (h[j] - n) * dz * W[H + j, q] + (1.0 - z) * dn_da * da_n
            if is_h and q == j:
                v += z
            J[j, q] = v


@njit(**JIT)
def gru_jacobian(h, x, p, J, work):
    _gru_forward(h, x, p, work)
    _gru_columns(h, p, J, work, p[1], True)


@njit(**JIT)
def gru_jac_input(h, x, p, Jx, work):
    _gru_forward(h, x, p, work)
    _gru_columns(h, p, Jx, work, p[0], False)


@njit(**JIT)
def gru_param_size(p):
    """Length d = 3Hm + 3H^2 + 6H of the GRU's raw parameter vector (module docstring)."""
    H, m = p[1].shape[1], p[0].shape[1]
    return 3 * H * m + 3 * H * H + 6 * H


@njit(**_INLINE)
def _gru_deltas(h, v, gh, work, reset_after, a, ga):
    """Backward pass of the elementwise part, unit by unit: gh[:H] = v * z; work[H:2H] and
    work[2H:3H] become the cotangents of the z and n pre-activations; work[:H] becomes that of
    the r pre-activation (reset_after) or holds the r pre-activation itself (Cho's form,
    whose r cotangent needs every unit's n cotangent first)."""
    H = h.shape[0]
    for j in range(H):
        a_r, a_z, a_n = work[j] + work[3 * H + j], work[H + j] + work[4 * H + j], work[6 * H + j]
        z = act(a_z, ga)
        g_n = v[j] * (1.0 - z) * act_prime(a_n, a)
        g_z = v[j] * (h[j] - act(a_n, a)) * act_prime(a_z, ga)
        gh[j] = v[j] * z
        if reset_after:
            work[j] = g_n * work[5 * H + j] * act_prime(a_r, ga)
        else:
            work[j] = a_r
        work[H + j] = g_z
        work[2 * H + j] = g_n


@njit(**JIT)
def gru_vjp(h, x, p, v, gh, gx, gp, work):
    """Vector-Jacobian products of the GRU step F(h, x; theta) for a cotangent v (H,) of h':
    overwrites gh (H,) with v^T dF/dh, gx (m,) with v^T dF/dx and gp (d,) with
    v^T dF/dtheta_raw (raw layout in the module docstring), for both ``reset_after`` forms.
    One forward and one backward pass, O(d); work as ``gru_work_size``."""
    _gru_forward(h, x, p, work)
    W_ih, W_hh, reset_after, a, ga = p[0], p[1], p[4], p[5], p[6]
    H, m = W_hh.shape[1], W_ih.shape[1]
    o_hh = 3 * H * m
    o_bih = o_hh + 3 * H * H
    o_bhh = o_bih + 3 * H
    if a == TANH and ga == SIGMOID:
        _gru_deltas(h, v, gh, work, reset_after, TANH, SIGMOID)
    else:
        _gru_deltas(h, v, gh, work, reset_after, a, ga)
    if not reset_after:
        # a_n = ... + W_hn (r * h): u = W_hn^T g_n (into work[6H:7H], a_n is spent) is the
        # cotangent of r * h, giving gh += u * r and the r pre-activation's g_r = u h r'.
        for k in range(H):
            work[6 * H + k] = 0.0
        for j in range(H):
            g = work[2 * H + j]
            for k in range(H):
                work[6 * H + k] += W_hh[2 * H + j, k] * g
        for k in range(H):
            u = work[6 * H + k]
            gh[k] += u * work[7 * H + k]
            work[k] = u * h[k] * act_prime(work[k], ga)
    for k in range(m):
        gx[k] = 0.0
    for r in range(3 * H):  # input side: every row's cotangent is work[r]
        d = work[r]
        gp[o_bih + r] = d
        row = r * m
        for k in range(m):
            gp[row + k] = d * x[k]
            gx[k] += W_ih[r, k] * d
    for r in range(2 * H):  # recurrent side of the r and z gates
        d = work[r]
        gp[o_bhh + r] = d
        row = o_hh + r * H
        for k in range(H):
            gp[row + k] = d * h[k]
            gh[k] += W_hh[r, k] * d
    for j in range(H):  # recurrent side of the candidate
        r = 2 * H + j
        row = o_hh + r * H
        if reset_after:  # r_j * (W_hn h + b_hn)
            d = work[r] * work[7 * H + j]
            gp[o_bhh + r] = d
            for k in range(H):
                gp[row + k] = d * h[k]
                gh[k] += W_hh[r, k] * d
        else:  # W_hn (r * h) + b_hn; gh got its share above
            d = work[r]
            gp[o_bhh + r] = d
            for k in range(H):
                gp[row + k] = d * work[7 * H + k] * h[k]


@njit(**JIT)
def gru_member(p, k):
    return (p[0][k], p[1][k], p[2][k], p[3][k], p[4], p[5], p[6], p[7][k], p[8][k])


def gru_run_batch(p, H0, X, Y, OUT, info, lo, hi, ACT=None):
    """Sequences lo..hi-1 of a batch sharing one GRU (``reset_after=1``); shapes, blocks and
    the two versions (activations) as ``lstm_run_batch``: one sequence (``_gru_run_single``),
    states as rows (``_gru_run``), or as columns where ``run_columns`` says so
    (``_gru_run_columns``, which calls no BLAS). ACT (T, B', 4H), if given: every step's (r,
    z, W_hn h + b_hn, n) of sequences lo..hi-1, for ``gru_bptt_batch``."""
    B, H = hi - lo, p[8].shape[0]
    ACT = np.empty((0, 1, 4 * H), Y.dtype) if ACT is None else ACT
    path = _GRU_SINGLE if B == 1 else _GRU_COLUMNS if run_columns(B, H, Y.itemsize) else \
        _GRU_ROWS
    path[bool(p[5] == TANH and p[6] == SIGMOID)](p, H0, X, Y, OUT, info, lo, hi, ACT)


@njit(**JIT)
def _gru_single_any(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _gru_run_single(p, H0, X, Y, OUT, info, lo, p[5], p[6], ACT)


@njit(**JIT)
def _gru_single_standard(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _gru_run_single(p, H0, X, Y, OUT, info, lo, TANH, SIGMOID, ACT)


@njit(**JIT)
def _gru_rows_any(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _gru_run(p, H0, X, Y, OUT, info, lo, hi, p[5], p[6], ACT)


@njit(**JIT)
def _gru_rows_standard(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _gru_run(p, H0, X, Y, OUT, info, lo, hi, TANH, SIGMOID, ACT)


@njit(**JIT)
def _gru_columns_any(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _gru_run_columns(p, H0, X, Y, OUT, info, lo, hi, p[5], p[6], ACT)


@njit(**JIT)
def _gru_columns_standard(p, H0, X, Y, OUT, info, lo, hi, ACT):
    _gru_run_columns(p, H0, X, Y, OUT, info, lo, hi, TANH, SIGMOID, ACT)


_GRU_SINGLE = (_gru_single_any, _gru_single_standard)
_GRU_ROWS = (_gru_rows_any, _gru_rows_standard)
_GRU_COLUMNS = (_gru_columns_any, _gru_columns_standard)


@njit(**_INLINE)
def _gru_run(p, H0, X, Y, OUT, info, lo, hi, a, ga, ACT):
    b_ih, b_hh, W_ihT, W_hhT = p[2], p[3], p[7], p[8]
    B, H, T, m = hi - lo, W_hhT.shape[0], X.shape[0], X.shape[2]
    h = np.empty((B, H), dtype=Y.dtype)
    A = np.empty((B, 3 * H), dtype=Y.dtype)
    CH = min(_CHUNK, T)
    XC = np.empty((CH, B, m), dtype=Y.dtype)  # the block's inputs, contiguous
    XP = np.empty((CH * B, 3 * H), dtype=Y.dtype)
    for s in range(B):
        info[lo + s, 0], info[lo + s, 1], info[lo + s, 2] = 0, T, -1
        h[s] = H0[lo + s]
    for t0 in range(0, T, _CHUNK):
        n = min(_CHUNK, T - t0)
        XC[:n] = X[t0:t0 + n, lo:hi]
        _input_projection(XC[:n], W_ihT, b_ih, XP)
        for t in range(t0, t0 + n):
            ty = min(t, Y.shape[0] - 1)  # as in _lstm_run_rows
            _matmul(h, W_hhT, A, t % 2 == 1)
            for s in range(B):
                row = (t - t0) * B + s
                _gru_gates(A, XP, row, b_hh, h, s, a, ga)
                if ACT.shape[0] > 0:
                    for j in range(2 * H):
                        ACT[t, lo + s, j] = A[s, j]
                    for j in range(H):
                        ACT[t, lo + s, 2 * H + j] = A[s, 2 * H + j] + b_hh[2 * H + j]
                        ACT[t, lo + s, 3 * H + j] = XP[row, 2 * H + j]
                acc = h[s, 0] - h[s, 0]  # stores and test written out as in _lstm_run_rows
                for j in range(H):
                    Y[ty, lo + s, j] = h[s, j]
                for j in range(H):
                    OUT[t, lo + s, j] = h[s, j]
                for j in range(H):
                    acc += h[s, j]
                if not np.isfinite(acc):
                    _mark_divergence(Y[ty, lo + s], info, lo + s, t)


@njit(**_INLINE)
def _gru_run_single(p, H0, X, Y, OUT, info, s, a, ga, ACT):
    """``_gru_run`` for the single sequence s, built as ``_lstm_run_single``: h @ W_hh^T by
    ``vecmat`` (W_hh^T read in place when it is 64-byte aligned), [x, 1] @ [W_ih^T; b_ih]
    for chunks of steps ahead, the gate loops on views made once and indexed from 0. One
    thread, T = 1000, against ``_gru_run`` at B = 1: float32 H = 16 0.22 -> 0.10 us a step,
    H = 64 0.37 -> 0.28; float64 H = 64 1.00 -> 0.74."""
    b_ih, b_hh, W_ihT, W_hhT = p[2], p[3], p[7], p[8]
    H, T = W_hhT.shape[0], X.shape[0]
    WT = _aligned(W_hhT)
    WI, x1 = _with_bias(W_ihT, b_ih, Y)
    CH = max(1, min(_CHUNK, T, _XP_BYTES // (3 * H * Y.itemsize)))
    XP = _aligned_empty(CH, 3 * H, Y)
    A = _aligned_empty(1, 3 * H, Y)
    h = _aligned_empty(1, H, Y)[0]
    info[s, 0], info[s, 1], info[s, 2] = 0, T, -1
    for j in range(H):
        h[j] = H0[s, j]
    a0, ar, az, an = A[0], A[0, :H], A[0, H:2 * H], A[0, 2 * H:]
    br, bz, bn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    for t0 in range(0, T, CH):
        n = min(CH, T - t0)
        _project(X, s, t0, n, x1, WI, XP)
        for r in range(n):
            t = t0 + r
            ty = min(t, Y.shape[0] - 1)
            vecmat(h, WT, a0, t % 2 == 1)
            for j in range(H):
                ar[j] = act(XP[r, j] + ar[j] + br[j], ga)
            for j in range(H):
                az[j] = act(XP[r, H + j] + az[j] + bz[j], ga)
            for j in range(H):  # n into XP, as in _gru_gates
                XP[r, 2 * H + j] = act(XP[r, 2 * H + j] + ar[j] * (an[j] + bn[j]), a)
            for j in range(H):
                h[j] = XP[r, 2 * H + j] + az[j] * (h[j] - XP[r, 2 * H + j])
            if ACT.shape[0] > 0:
                for j in range(2 * H):
                    ACT[t, s, j] = a0[j]
                for j in range(H):
                    ACT[t, s, 2 * H + j] = an[j] + bn[j]
                    ACT[t, s, 3 * H + j] = XP[r, 2 * H + j]
            acc = h[0] - h[0]  # the stores as in _lstm_run_rows
            for j in range(H):
                Y[ty, s, j] = h[j]
            for j in range(H):
                OUT[t, s, j] = h[j]
            for j in range(H):
                acc += h[j]
            if not np.isfinite(acc):
                _mark_divergence(Y[ty, s], info, s, t)


@njit(**_INLINE)
def _gru_gates(A, XP, row, b_hh, h, s, a, ga):
    """Sequence s's step (reset_after) from A[s] = W_hh h and XP[row] = W_ih x + b_ih:
    overwrites A[s, :2H] with (r, z), XP[row, 2H:] with n and h[s] with the new state; gate
    by gate, so that each loop is SIMD; rows indexed, not sliced (see ``_lstm_gates``)."""
    H = h.shape[1]
    for j in range(2 * H):
        A[s, j] = act(XP[row, j] + A[s, j] + b_hh[j], ga)
    for j in range(H):  # n into XP[row]: written into A[s] beside the r it reads, LLVM could
        # not rule out the overlap and left the loop scalar (H = 64: 3.9 of 4.4 us at B = 16)
        hn = A[s, 2 * H + j] + b_hh[2 * H + j]
        XP[row, 2 * H + j] = act(XP[row, 2 * H + j] + A[s, j] * hn, a)
    for j in range(H):
        z, n = A[s, H + j], XP[row, 2 * H + j]
        h[s, j] = n + z * (h[s, j] - n)


@njit(**_INLINE)
def _gru_run_columns(p, H0, X, Y, OUT, info, lo, hi, a, ga, ACT):
    """``_gru_run`` with the block's states as columns, as ``_lstm_run_columns``: [h; x] (H +
    m, V), V = the B sequences padded to whole 64-byte vectors (padding columns run along on
    zero inputs, never stored). The step's products come from panels: [W_hh | W_ih] [h; x]
    for r and z, W_hn h for the candidate's recurrent part (its x columns zero: r gates it
    alone) and W_in x from a second, small panel product; the gates run vectorised over the
    batch. Float64 H = 256, B = 16, one thread: rows 107, columns 70 us a step; float32 73 /
    32."""
    W_ih, W_hh, b_ih, b_hh = p[0], p[1], p[2], p[3]
    B, H, T, m = hi - lo, W_hh.shape[1], X.shape[0], X.shape[2]
    L = 64 // Y.itemsize
    V = -(-B // L) * L
    W = np.zeros((3 * H, H + m), dtype=Y.dtype)
    W[:, :H] = W_hh
    W[:2 * H, H:] = W_ih[:2 * H]
    Wp = np.empty((-(-3 * H // PANEL_ROWS), H + m, PANEL_ROWS), dtype=Y.dtype)
    panel_pack(W, Wp)
    Wn = np.empty((-(-H // PANEL_ROWS), m, PANEL_ROWS), dtype=Y.dtype)
    panel_pack(np.ascontiguousarray(W_ih[2 * H:]), Wn)
    Z = _aligned_empty(H + m, V, Y)  # columns [h; x]: h updated in place
    Z[:] = 0
    A = _aligned_empty(Wp.shape[0] * PANEL_ROWS, V, Y)
    AN = _aligned_empty(Wn.shape[0] * PANEL_ROWS, V, Y)
    AN[:] = 0  # stays zero without inputs
    acc = np.empty(V, dtype=Y.dtype)
    for s in range(B):
        info[lo + s, 0], info[lo + s, 1], info[lo + s, 2] = 0, T, -1
        for j in range(H):
            Z[j, s] = H0[lo + s, j]
    for t in range(T):
        for k in range(m):
            for s in range(B):
                Z[H + k, s] = X[t, lo + s, k]
        panel_matmul(Wp, Z, A)
        if m > 0:
            panel_matmul(Wn, Z[H:], AN)
        else:
            AN[:H] = 0  # it held the last step's n
        for j in range(H):  # the gates of _gru_gates, over the batch
            br, bz = b_ih[j] + b_hh[j], b_ih[H + j] + b_hh[H + j]
            bn, bhn = b_ih[2 * H + j], b_hh[2 * H + j]
            for s in range(V):  # the padding too: a loop of B < the SIMD width ran scalar
                r = act(A[j, s] + br, ga)
                z = act(A[H + j, s] + bz, ga)
                hn = A[2 * H + j, s] + bhn
                n = act(AN[j, s] + bn + r * hn, a)
                Z[j, s] = n + z * (Z[j, s] - n)
                # (r, z, hn) back into A and n into AN, for ACT (unconditional, as the LSTM's)
                A[j, s], A[H + j, s], A[2 * H + j, s], AN[j, s] = r, z, hn, n
        _store_columns(Z, Z[:0], acc, lo, B, Y, OUT, t, info)
        if ACT.shape[0] > 0:
            _store_gates(A, ACT, t, lo, B, 0, 3 * H)
            _store_gates(AN, ACT, t, lo, B, 3 * H, H)


def gru_bptt(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT=None, cut=0):
    """``gru_bptt_batch`` with the forward pass's (r, z, W_hn h + b_hn, n) ACT (T, B, 4H) of
    ``gru_run_batch`` optional, and the truncation ``cut`` (0: exact BPTT)."""
    if ACT is None:
        ACT = np.empty((0, 1, 4 * Y.shape[2]), Y.dtype)
    gru_bptt_batch(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT, cut)


@njit(**JIT)
def gru_bptt_batch(p, H0, X, Y, GO, G, GH0, GX, lo, hi, ACT, cut):
    """Exact BPTT of B sequences through a GRU (``reset_after=1``, tanh/sigmoid), as
    ``lstm_bptt_batch``: Y (T, B, H) the states, GO (T, B, H) the output cotangents; writes
    G (d_raw,) summed over the sequences, GH0 (B, H) and (unless empty) GX. Per chunk of
    steps, the gate inputs are two matrix products (W_ih x and W_hh h: the candidate's
    recurrent part is gated by r; or, where ACT (T, B', 4H) has rows, the forward pass's (r, z,
    W_hn h + b_hn, n) copied from it), the recursion one (B, 3H) @ (3H, H) product a step, and
    the weight gradients two more.
    Sequences lo..hi-1 only, and the truncation cut, as ``lstm_bptt_batch``."""
    W_ih, W_hh, b_ih, b_hh, W_ihT, W_hhT = p[0], p[1], p[2], p[3], p[7], p[8]
    T, m = X.shape[0], X.shape[2]
    B = hi - lo
    H = W_hh.shape[1]
    dt = Y.dtype
    CH = min(_CHUNK, T)
    XC = np.empty((CH * B, m), dtype=dt)
    HC = np.empty((CH * B, H), dtype=dt)  # h_{t-1}
    AI = np.empty((CH * B, 3 * H), dtype=dt)  # W_ih x + b_ih -> input-side cotangents
    AH = np.empty((CH * B, 3 * H), dtype=dt)  # W_hh h + b_hh -> hidden-side cotangents
    GI = np.zeros((3 * H, m), dtype=dt)
    GHH = np.zeros((3 * H, H), dtype=dt)
    gbi = np.zeros(3 * H, dtype=dt)
    gbh = np.zeros(3 * H, dtype=dt)
    dh = np.zeros((B, H), dtype=dt)
    dz = np.empty((B, H), dtype=dt)
    RZN = np.empty((CH * B, 3 * H), dtype=dt)  # gate activations (r, z, n)
    GXC = np.empty((CH * B, m), dtype=dt) if GX.shape[0] > 0 else np.empty((0, m), dtype=dt)
    one = np.ones(1, dtype=dt)[0]
    panels = _recursion_panels(W_hhT, B, Y.itemsize)
    for t1 in range(T, 0, -CH):
        t0 = max(0, t1 - CH)
        n = t1 - t0
        for k in range(n):
            t = t0 + k
            for s in range(B):
                XC[k * B + s] = X[t, lo + s]
                HC[k * B + s] = H0[lo + s] if t == 0 else Y[t - 1, lo + s]
        nb = n * B
        ai, ah, rzn = AI[:nb], AH[:nb], RZN[:nb]
        if ACT.shape[0] > 0:  # the rest of ai and ah are written before they are read
            for k in range(n):
                for s in range(B):
                    r, g = k * B + s, ACT[t0 + k, lo + s]
                    rzn[r, :2 * H] = g[:2 * H]
                    ah[r, 2 * H:] = g[2 * H:3 * H]
                    rzn[r, 2 * H:] = g[3 * H:]
        else:
            if m > 0:
                np.dot(XC[:nb], W_ihT, ai)
            else:
                ai[:] = 0.0
            np.dot(HC[:nb], W_hhT, ah)
            for r in range(nb):
                _gru_activations(ai[r], ah[r], b_ih, b_hh, rzn[r])
        for k in range(n - 1, -1, -1):
            for s in range(B):
                r = k * B + s
                _gru_gate_deltas(rzn[r], ah[r], ai[r], HC[r], GO[t0 + k, lo + s], dh[s],
                                 one)
                gbi += ai[r]
                gbh += ah[r]
            if _block_start(t0 + k, cut):  # as in lstm_bptt_batch
                dh[:] = 0.0
                continue
            dz[:] = dh  # the direct path h_{t-1} -> h_t (z h_{t-1}) was added in dh
            _recursion_product(ah[k * B:(k + 1) * B], W_hh, panels, dh, k % 2 == 1)
            dh += dz
        if m > 0:
            GI += np.dot(ai.T, XC[:nb])
            if GX.shape[0] > 0:
                np.dot(ai, W_ih, GXC[:nb])
                for k in range(n):
                    GX[t0 + k, lo:hi] = GXC[k * B:(k + 1) * B]
        GHH += np.dot(ah.T, HC[:nb])
    GH0[lo:hi] = dh
    o_hh = 3 * H * m
    o_bi = o_hh + 3 * H * H
    G[:o_hh] = GI.ravel()
    G[o_hh:o_bi] = GHH.ravel()
    G[o_bi:o_bi + 3 * H] = gbi
    G[o_bi + 3 * H:] = gbh


@njit(**_INLINE)
def _gru_activations(ai, ah, b_ih, b_hh, rzn):
    """Gate inputs ai = W_ih x, ah = W_hh h of one step (without biases) -> rzn = (r, z, n);
    adds the biases to ai and ah (ah[2H:] is then W_hn h + b_hn, which the backward needs;
    ai[2H:] ends holding n, ai being overwritten by the cotangents next)."""
    H = rzn.shape[0] // 3
    for j in range(3 * H):
        ai[j] += b_ih[j]
        ah[j] += b_hh[j]
    for j in range(2 * H):
        rzn[j] = act(ai[j] + ah[j], SIGMOID)
    for j in range(H):  # via ai: into rzn beside the r it reads, the loop stayed scalar
        ai[2 * H + j] = act(ai[2 * H + j] + rzn[j] * ah[2 * H + j], TANH)
    for j in range(H):
        rzn[2 * H + j] = ai[2 * H + j]


@njit(**_INLINE)
def _gru_gate_deltas(rzn, ah, ai, h, go, dh, one):
    """One step backwards, one sequence: with v = dh + go the cotangent of h_t, overwrites ai
    (3H,) with the cotangents of W_ih x + b_ih, ah (3H,) with those of W_hh h + b_hh (the
    candidate's part gated by r), and dh with the direct term z v of dL/dh_{t-1}."""
    H = h.shape[0]
    for j in range(H):
        r, z, c = rzn[j], rzn[H + j], rzn[2 * H + j]
        v = dh[j] + go[j]
        d_n = v * (one - z) * (one - c * c)
        d_z = v * (h[j] - c) * (z - z * z)
        d_r = d_n * ah[2 * H + j] * (r - r * r)
        ai[j], ai[H + j], ai[2 * H + j] = d_r, d_z, d_n
        ah[j], ah[H + j], ah[2 * H + j] = d_r, d_z, d_n * r
        dh[j] = v * z
