"""Lane kernels: a population of small CTRNNs stepped with its individuals on the SIMD lanes.

The population kernels of ``_flow_template`` run each individual's loop on its own: at n = 10
a matrix-vector product and ten sigmoids per step are too short for SIMD code, and the
per-individual kernel measured 4 ns/neuron-step at P = 1000. Here the population is the
innermost axis instead: individuals are cut into blocks of ``LANES`` and a block's state is
``y[i, l]`` (unit i, lane l). Every loop of a step then runs over the lanes of a block with
unit stride, the activation is ``_base_kernels``' arithmetic sigmoid/tanh (with a constant
activation code the branch folds away and LLVM emits SIMD code for the whole loop), and the
blocks are split over numba's threads (prange over blocks).

Speed (``benchmarks/evolution.py --stepping``, P = 1000, n = 10, Euler, interleaved, 2
threads): 3.1-3.2x the per-individual kernel in float64 and 7.0x in float32 (the target is
2.5x), 4.1-4.5x (float64) and 7.0-7.4x (float32) faster than JAX's vmap+scan. What it took:
512-bit vectors (``_config._prefer_512_bit_vectors``: 1.3x in float64 over LLVM's default
256), arrays starting on a cache line (``aligned_zeros``, ``lane_scratch``: with the
parameters 16 bytes off, every other vector load straddles two lines; 5-7% at 256 bits, and
512-bit loads straddle every time), 64 lanes a block (at 512 bits a float32 loop over 32
lanes is one vector of 16 unrolled twice, too short for LLVM's interleaved vector body: it ran
the scalar remainder, 0.95 against 0.50 ns/neuron-step), the lane count of every scratch
array read at run time (see ``LANES``), and Euler updating each row as soon as it is complete
(one pass less: 8-18%). Where a float64 step went before the wide vectors (one thread): the
sigmoid about 40%, the rest the lane matrix-vector loops. Tried without gain (at 256 bits):
four rows of the rhs per pass, or the j loop unrolled by 2 or 4 (no faster; tripled the
compile time), an 8-lane register tile (1.7x slower: LLVM did not keep it in registers), a
division-free sigmoid (Newton steps for 1 / (1 + e): 1.2x slower), the unit count as a
compile-time constant (``numba.literally``: the j loop unrolled, the row sum kept in a
register; 5-10%, but a compile per network size). What the 8-lane tile wanted came with
``lane_dot`` (session 24): a row's 64 sums in registers by an LLVM intrinsic, in the same
order of terms (results bit-identical), P = 1000, n = 10, Euler: float64 1.51 -> 1.29 and
float32 0.73 -> 0.54 ns/neuron-step (Zen 4, interleaved).

Layout (``lanes_params``): ``L (nb, n, c + 3, LANES)`` with c = n + n_in is the CTRNN's packed
``A = [W | W_in | 1/tau | bias | gain]`` (``models/_ctrnn_kernels.pack``) of the ``LANES``
individuals of each block on the last axis; a block's parameters ``L[b]`` are one contiguous
array. The last block is padded with idle lanes (weights 0, 1/tau = 1, gain 0), whose state
stays at 0. The arithmetic is the CTRNN rhs's, in the same order (-y_i, then W[i, j] act_j over
j, then W_in[i, k] u_k over k, times 1/tau_i), so results equal the per-individual kernels to
rounding (the sigmoid is within 4 ulp of libm's). Kernels are generic over the dtype of ``L``
and of the state (float64 or float32; step sizes come as arrays of the state's dtype, times
and input interpolation stay in float64).
"""
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from .._config import FASTMATH, JIT_SIMD
from ..models._base_kernels import _float_arrays, _vectors, sigmoid, tanh

#: individuals per block (a block's float64 weights, n^2 LANES 8 bytes, are 51 kB at n = 10,
#: about L1; 32 lanes measured the same in float64 and 1.9x slower in float32, see above).
#: The lane loops run to the lane count read from the arrays, not to this constant: with a
#: constant trip count LLVM unrolled them fully into scalar code (it cannot prove a kernel's
#: arrays distinct), with a runtime one it emits vector loops behind a runtime alias check.
#: That includes scratch allocated inside a kernel: allocated with this constant it made the
#: whole block loop scalar (the kernel ran at 0.45x of the same loops on runtime widths).
LANES = 64
SIGMOID, TANH = 0, 1
EULER, RK4 = 0, 1
#: as _flow_template.CHECK: test finiteness every CHECK + 1 steps, replay on failure
CHECK = 63

# 'contract' (fused multiply-adds) on top of JIT_SIMD: the lane matrix-vector loop measured
# 1.3-2x faster with it (it is SIMD code, unlike the scalar loops _config measured it on).
_JIT = dict(JIT_SIMD, fastmath=FASTMATH | {"contract"})
_JIT_PARALLEL = dict(_JIT, parallel=True)
_INLINE = dict(_JIT, inline="always")


def aligned_zeros(shape, dtype=np.float64):
    """np.zeros(shape, dtype) whose data start on a 64-byte (cache line) boundary.

    numpy aligns large arrays to 16 bytes only; the vector loads of the lane loops then
    straddle cache lines (every other 32-byte load, every 64-byte one). The lane Euler step
    of P = 1000, n = 10 on one thread with the parameters 16 bytes off and aligned: 3.3 ->
    3.05 ns/neuron-step at 256 bits, 2.8 -> 2.35 at 512 bits (scratch aligned in both)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    buf = np.zeros(size * dtype.itemsize + 64, dtype=np.uint8)
    start = -buf.ctypes.data % 64
    return buf[start:start + size * dtype.itemsize].view(dtype).reshape(shape)


def lanes_params(A, dtype=np.float64):
    """``L (nb, n, c + 3, LANES)`` from a population's packed CTRNN parameters A (P, n, c + 3),
    padded with idle individuals to a whole number of blocks; 64-byte aligned."""
    P, n, w = A.shape
    nb = -(-P // LANES)
    pad = np.zeros((nb * LANES, n, w), dtype=dtype)
    pad[:, :, w - 3] = 1.0  # 1/tau of the idle lanes (their state stays 0)
    pad[:P] = A
    L = aligned_zeros((nb, n, w, LANES), dtype)
    L[...] = pad.reshape(nb, LANES, n, w).transpose(0, 2, 3, 1)
    return L


@njit(**_INLINE)
def lane_scratch(rows, m, like):
    """Zeros (rows, m) of like's dtype starting on a 64-byte boundary (numba aligns its
    allocations to 32 bytes: see ``aligned_zeros``)."""
    pad = 64 // like.itemsize
    buf = np.zeros(rows * m + pad, dtype=like.dtype)
    start = (-buf.ctypes.data % 64) // like.itemsize
    return buf[start:start + rows * m].reshape((rows, m))


@intrinsic
def lane_dot(typingctx, W, Z, out, i, r, k0, K, init):
    """out[r, :LANES] = (out[r] if init else 0) + sum over k < K of W[i, k0 + k, :] Z[k, :],
    the terms added in order of k with fused multiply-adds, for W (R, C, LANES), Z (>= K,
    LANES), out (., LANES), all C-contiguous in one dtype. The LANES sums stay in registers
    (8 vectors of float64, 4 of float32) while k runs: two loads an FMA. As numba loops over
    the lanes the sums live in memory (a load and a store more per FMA, and a runtime alias
    test per short loop): float64 R = 10, K = 14, one thread, 133 -> 77 ps a lane's
    multiply-add, float32 85 -> 39."""
    if not _float_arrays(W, Z, out):
        return None
    sig = types.void(W, Z, out, types.intp, types.intp, types.intp, types.intp, types.boolean)

    def codegen(context, builder, signature, args):
        arrays = [context.make_array(t)(context, builder, v)
                  for t, v in zip(signature.args[:3], args[:3])]
        Wd, Zd, Od = (x.data for x in arrays)
        C, L = cgutils.unpack_tuple(builder, arrays[0].shape, 3)[1:]
        i, r, k0, K, init = args[3:]
        size, VL, vt, fmuladd = _vectors(builder, Wd)

        def vector(ptr, b):  # the b-th vector from ptr
            return builder.bitcast(builder.gep(ptr, [ir.Constant(i.type, b * VL)]),
                                   vt.as_pointer())
        o_r = builder.gep(Od, [builder.mul(r, L)])
        accs = [cgutils.alloca_once(builder, vt) for _ in range(LANES // VL)]
        for b, acc in enumerate(accs):
            old = builder.load(vector(o_r, b), align=size)
            builder.store(builder.select(init, old, ir.Constant(vt, [0.0] * VL)), acc)
        w_i = builder.gep(Wd, [builder.mul(builder.add(builder.mul(i, C), k0), L)])
        with cgutils.for_range(builder, K) as loop:
            w_k = builder.gep(w_i, [builder.mul(loop.index, L)])
            z_k = builder.gep(Zd, [builder.mul(loop.index, L)])
            for b, acc in enumerate(accs):
                w = builder.load(vector(w_k, b), align=size)
                z = builder.load(vector(z_k, b), align=size)
                builder.store(builder.call(fmuladd, [w, z, builder.load(acc)]), acc)
        for b, acc in enumerate(accs):
            builder.store(builder.load(acc), vector(o_r, b), align=size)
        return context.get_dummy_value()
    return sig, codegen


@njit(**_INLINE)
def _act(x, act):
    if act == SIGMOID:
        return sigmoid(x)
    return tanh(x)


@njit(**_INLINE)
def _rhs_body(Lb, y, u, dy, a, act, h, euler):
    """dy (n, LANES) = the CTRNN rhs of every lane of a block: Lb (n, c + 3, LANES) its
    parameters, y (n, LANES) its states, u (n_in, LANES) its inputs, a (n, LANES) scratch.
    With ``euler``, y += h dy in place instead, each row as soon as it is complete (the
    rows after it read only the activations a): one pass less, ~10-20% of an Euler step."""
    n, m = y.shape
    c = Lb.shape[1] - 3
    for j in range(n):
        for l in range(m):
            a[j, l] = _act(Lb[j, c + 2, l] * (y[j, l] + Lb[j, c + 1, l]), act)
    for i in range(n):
        for l in range(m):
            dy[i, l] = -y[i, l]
        lane_dot(Lb, a, dy, i, i, 0, n, True)
        lane_dot(Lb, u, dy, i, i, n, c - n, True)
        if euler:
            for l in range(m):
                y[i, l] += h * (dy[i, l] * Lb[i, c, l])
        else:
            for l in range(m):
                dy[i, l] *= Lb[i, c, l]


# The rhs is compiled once per activation and called, not inlined: inlined into every stage
# of every step variant it made ~14 vectorised copies per activation and dtype (a cold compile
# of 5.5 min against 25 s). The call costs 5-9% of an Euler step (LLVM no longer sees that
# the block's scratch arrays are distinct and tests it at run time in every loop); inlining
# only the Euler path measured no faster.
@njit(**_JIT)
def _rhs_sigmoid(Lb, y, u, dy, a, h, euler):
    _rhs_body(Lb, y, u, dy, a, SIGMOID, h, euler)


@njit(**_JIT)
def _rhs_tanh(Lb, y, u, dy, a, h, euler):
    _rhs_body(Lb, y, u, dy, a, TANH, h, euler)


@njit(**_INLINE)
def _rhs(Lb, y, u, dy, a, act, h, euler=False):
    if act == SIGMOID:
        _rhs_sigmoid(Lb, y, u, dy, a, h, euler)
    else:
        _rhs_tanh(Lb, y, u, dy, a, h, euler)


@njit(**_INLINE)
def _step(Lb, y, u, h, method, S, act):
    """One euler or rk4 step of size h (an array scalar of the state's dtype) in place under
    the constant input u; S (6, n, LANES) scratch."""
    if method == EULER:
        _rhs(Lb, y, u, S[0], S[5], act, h, True)
        return
    _rhs(Lb, y, u, S[0], S[5], act, h)
    _rk4_rest(Lb, y, u, u, h, S, act)


@njit(**_INLINE)
def _rk4_rest(Lb, y, u_half, u_end, h, S, act):
    """Stages 2-4 and the update of an rk4 step whose first stage is in S[0], under the
    inputs u_half (stages 2, 3) and u_end (stage 4)."""
    k1, k2, k3, k4, ys, a = S[0], S[1], S[2], S[3], S[4], S[5]
    n = y.shape[0]
    half = 0.5 * h
    for i in range(n):
        for l in range(y.shape[1]):
            ys[i, l] = y[i, l] + half * k1[i, l]
    _rhs(Lb, ys, u_half, k2, a, act, h)
    for i in range(n):
        for l in range(y.shape[1]):
            ys[i, l] = y[i, l] + half * k2[i, l]
    _rhs(Lb, ys, u_half, k3, a, act, h)
    for i in range(n):
        for l in range(y.shape[1]):
            ys[i, l] = y[i, l] + h * k3[i, l]
    _rhs(Lb, ys, u_end, k4, a, act, h)
    sixth = h / 6.0
    for i in range(n):
        for l in range(y.shape[1]):
            y[i, l] += sixth * (k1[i, l] + 2.0 * (k2[i, l] + k3[i, l]) + k4[i, l])


@njit(**_INLINE)
def _inputs(tu, UL, t, pos, hold, lo, u):
    """u (n_in, LANES) = the lanes' inputs at time t from samples UL (Tu, n_in, P_pad) at the
    shared times tu: ``rnndyn._kernels.input_at`` with the search done once for the block."""
    m = UL.shape[1]
    if m == 0:
        return pos
    last = tu.shape[0] - 1
    while pos < last and tu[pos + 1] <= t:
        pos += 1
    while pos > 0 and tu[pos] > t:
        pos -= 1
    if pos == last or t <= tu[pos] or hold:
        for k in range(m):
            for l in range(u.shape[1]):
                u[k, l] = UL[pos, k, lo + l]
    else:
        w = (t - tu[pos]) / (tu[pos + 1] - tu[pos])
        for k in range(m):
            for l in range(u.shape[1]):
                u[k, l] = (1.0 - w) * UL[pos, k, lo + l] + w * UL[pos + 1, k, lo + l]
    return pos


@njit(**_INLINE)
def _block_finite(y, count):
    """All of the first ``count`` lanes of y (n, LANES) finite (one sum, confirmed entry by
    entry when it overflows, as ``rnndyn._kernels.finite``)."""
    acc = 0.0
    for i in range(y.shape[0]):
        for l in range(count):
            acc += y[i, l]
    if np.isfinite(acc):
        return True
    for i in range(y.shape[0]):
        for l in range(count):
            if not np.isfinite(y[i, l]):
                return False
    return True


@njit(**_INLINE)
def _lane_bad_unit(y, l):
    """First non-finite unit of lane l, or -1."""
    for i in range(y.shape[0]):
        if not np.isfinite(y[i, l]):
            return i
    return -1


@njit(**_JIT)
def _run_block(Lb, lo, Y0, t_out, C, H, Hd, method, tu, UL, hold, Y, info, act):
    """``_flow_template.fixed_step`` for the lanes of one block: Y0 (P, n), Y (P, T, n) and
    info (P, 4) rows lo .. lo + LANES (those < P). The block is tested for finiteness every
    CHECK + 1 steps; after a failed test it is replayed from the last sample at which it was
    finite, testing every lane at every step, so that each failed lane reports the step and
    unit of its own failure exactly as the per-individual kernel does."""
    P, n = Y0.shape
    # the lane count read from Lb, not the constant LANES: a scratch of constant width lets
    # LLVM unroll the lane loops fully into scalar code (2.2x slower; see LANES)
    m = Lb.shape[2]
    count = min(m, P - lo)
    y = lane_scratch(n, m, Y)
    S = lane_scratch(6 * n, m, Y).reshape((6, n, m))
    u = lane_scratch(UL.shape[1], m, Y)
    uh = lane_scratch(UL.shape[1], m, Y)
    ue = lane_scratch(UL.shape[1], m, Y)
    failed = np.zeros(m, dtype=np.bool_)
    driven = UL.shape[1] > 0
    for l in range(count):
        for i in range(n):
            y[i, l] = Y0[lo + l, i]
            Y[lo + l, 0, i] = Y0[lo + l, i]
    pos = _inputs(tu, UL, t_out[0], 0, hold, lo, u)
    every, n_count, k_ok, k, g, total = CHECK, 0, 0, 0, 0, C[-1]
    n_failed = 0
    while g < total:
        h = H[k]
        hd = Hd[k]
        t = t_out[k] + (g - C[k]) * h
        if driven:
            pos = _inputs(tu, UL, t, pos, hold, lo, u)
        if method == RK4 and driven and not hold:  # held inputs keep their step-start value
            _rhs(Lb, y, u, S[0], S[5], act, hd)
            pos = _inputs(tu, UL, t + 0.5 * h, pos, hold, lo, uh)
            pos = _inputs(tu, UL, t + h, pos, hold, lo, ue)
            _rk4_rest(Lb, y, uh, ue, hd, S, act)
        else:
            _step(Lb, y, u, hd, method, S, act)
        g += 1
        n_count += 1
        if every == 0:  # replaying: test every lane still running at every step
            for l in range(count):
                if not failed[l]:
                    unit = _lane_bad_unit(y, l)
                    if unit >= 0:
                        failed[l] = True
                        n_failed += 1
                        info[lo + l, 0] = 1
                        info[lo + l, 1] = t + h
                        info[lo + l, 2] = unit
                        info[lo + l, 3] = k
            if n_failed == count:
                return
        elif n_count > every or g == total:
            n_count = 0
            if _block_finite(y, count):
                k_ok = k
            else:  # replay from the last sample known finite, testing every step
                k = k_ok
                g = C[k]
                for l in range(count):
                    for i in range(n):
                        y[i, l] = Y[lo + l, k, i]
                pos = _inputs(tu, UL, t_out[k], 0, hold, lo, u)
                every = 0
                continue
        if g == C[k + 1]:
            k += 1
            for l in range(count):
                for i in range(n):
                    Y[lo + l, k, i] = y[i, l]
    for l in range(count):
        if not failed[l]:
            info[lo + l, 0] = 0
            info[lo + l, 1] = t_out[-1]
            info[lo + l, 2] = -1
            info[lo + l, 3] = k


@njit(**_JIT_PARALLEL)
def fixed_step_lanes(L, act, Y0, t_out, C, H, Hd, method, tu, UL, hold, Y, info):
    """``_flow_template.fixed_step_population`` for a CTRNN population in lane layout.

    L (nb, n, c + 3, LANES): ``lanes_params``; act: SIGMOID or TANH; Y0 (P, n); t_out (T,),
    C (T,), H (T - 1,): the step grid of ``simulate.step_grid``, Hd = H in the state's dtype;
    method: EULER or RK4; tu (Tu,), UL (Tu, n_in, nb LANES): input samples, individuals on
    the last axis (zero-padded); hold: zero-order hold; Y (P, T, n) and info (P, 4)
    (status, time, unit, last good sample) as there.
    """
    for b in prange(L.shape[0]):
        _run_block(L[b], b * LANES, Y0, t_out, C, H, Hd, method, tu, UL, hold, Y, info, act)


# -- Stepper: one control tick ---------------------------------------------------------------
@njit(**_JIT)
def _tick_block(Lb, y, lo, P, U, h, n_sub, method, idx, OUT, status, S, u, act):
    """n_sub steps of size h (array scalar) of one block's state y (n, LANES) in place under
    the constant inputs U[lo + l] (P, n_in); then status and outputs of its real lanes."""
    count = min(LANES, P - lo)
    c = Lb.shape[1] - 3
    for l in range(count):
        for k in range(U.shape[1]):
            u[k, l] = U[lo + l, k]
    for s in range(n_sub):
        _step(Lb, y, u, h, method, S, act)
    for l in range(count):
        status[lo + l] = 0 if _lane_bad_unit(y, l) < 0 else 1
        for m in range(idx.shape[0]):
            i = idx[m]
            OUT[lo + l, m] = _act(Lb[i, c + 2, l] * (y[i, l] + Lb[i, c + 1, l]), act)


@njit(**_JIT_PARALLEL)
def advance_lanes(L, act, YL, U, h, n_sub, method, idx, OUT, status, S, UB):
    """One control tick of a CTRNN population in lane layout, in place: YL (nb, n, LANES)
    the states, U (P, n_in) the inputs (held over the tick), h (1,) the step (tick /
    n_sub) in the state's dtype, idx the output units; OUT (P, n_out) and status (P,) (0, or
    1 for a non-finite state) are written. S (nb, 6, n, LANES) and UB (nb, n_in, LANES) are
    scratch, allocated once by the caller. n_sub = 0 only computes the outputs."""
    P = OUT.shape[0]
    for b in prange(L.shape[0]):
        _tick_block(L[b], YL[b], b * LANES, P, U, h[0], n_sub, method, idx, OUT, status,
                    S[b], UB[b], act)


@njit(**_JIT)
def advance_lanes_serial(L, act, YL, U, h, n_sub, method, idx, OUT, status, S, UB):
    """``advance_lanes`` on the calling thread (small populations: see ``Stepper``)."""
    P = OUT.shape[0]
    for b in range(L.shape[0]):
        _tick_block(L[b], YL[b], b * LANES, P, U, h[0], n_sub, method, idx, OUT, status,
                    S[b], UB[b], act)


def lanes_inputs(U, blocks, dtype=np.float64):
    """UL (Tu, n_in, blocks LANES) from per-individual input samples U (P, Tu, n_in)."""
    P, Tu, m = U.shape
    UL = aligned_zeros((Tu, m, blocks * LANES), dtype)
    UL[:, :, :P] = U.transpose(1, 2, 0)
    return UL
