"""Kernel-level helpers shared by model families (arrays only)."""
import math
from pathlib import Path

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .._config import JIT


@njit(**JIT)
def member_same(p, k):
    """Every member of a batch shares one parameter set."""
    return p


@njit(**JIT)
def member_rows(p, k):
    """Parameters stored as one array with the population on axis 0."""
    return p[k]


# Placeholders bound (by rnndyn._jit.bind) to the free names of the other model kind in
# templates with a runtime flow/map switch: numba types both branches, so the unused one must
# still call something with the right signature. Never called.
@njit(**JIT)
def no_rhs(t, y, u, p, dy, work):
    pass


@njit(**JIT)
def no_step(h, x, p, h_new, work):
    pass


@njit(**JIT)
def no_fjac(t, y, u, p, J, work):
    pass


@njit(**JIT)
def no_mjac(h, x, p, J, work):
    pass


@njit(**JIT)
def no_jvp(t, y, u, p, Y, Ja, M, work):
    """Bound where a family has no matrix-free ``jvp``: False tells the caller to form the
    Jacobian instead."""
    return False


@njit(**JIT)
def output_state(y, p, out):
    """The model's output is its whole state."""
    for i in range(y.shape[0]):
        out[i] = y[i]


@njit(**JIT)
def no_work(p):
    return 0


# -- vectorisable exp, sigmoid and tanh ------------------------------------------------------
# libm's exp/tanh are opaque calls that stop LLVM from vectorising a loop over units, and they
# dominated the steps of gated cells (17 ns a tanh). Written out in arithmetic, a loop of
# sigmoids or tanhs becomes SIMD code: 1.5 ns an element against 5 (sigmoid) and 17 (tanh),
# within 4 ulp of libm (tests/test_kernels_math.py). The calling kernel needs
# error_model="numpy" (_config.JIT_SIMD): python's checks each division for zero, and that
# branch blocks vectorisation. Each comes in the precision of its argument: float32 kernels
# compute in float32 (twice the SIMD lanes, a shorter polynomial) instead of promoting to
# float64 and back.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two (Cody & Waite): k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_C = [1.0 / math.factorial(k) for k in range(2, 14)]  # Taylor: |r|^14/14! < 2e-17 on |r| <= ln2/2
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C
# float32: ln 2 = _LN2_HI32 + _LN2_LO32 with 9 significant bits in the first (k * it exact for
# |k| <= 2^15); Taylor to r^7: |r|^8/8! < 6e-9 on |r| <= ln2/2, below float32's 6e-8.
_F = np.float32
_LOG2E32, _LN2_HI32, _LN2_LO32 = _F(_LOG2E), _F(0.693359375), _F(-2.12194440e-4)
_D2, _D3, _D4, _D5, _D6, _D7 = (_F(c) for c in _C[:6])
_ZERO32, _ONE32, _TWO32, _CLIP32 = _F(0.0), _F(1.0), _F(2.0), _F(87.0)


if config.DISABLE_JIT:  # an intrinsic cannot run as Python: the same bitcast through numpy
    def _bits_as_float(i):
        return np.int64(i).view(np.float64)

    def _bits_as_float32(i):
        return np.int32(i).view(np.float32)
else:
    @intrinsic
    def _bits_as_float(typingctx, i):
        """The float64 whose bit pattern is the int64 i (an LLVM bitcast)."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen

    @intrinsic
    def _bits_as_float32(typingctx, i):
        """The float32 whose bit pattern is the int32 i."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.FloatType())
        return types.float32(types.int32), codegen


# Its own flags on purpose: 'contract' (fused multiply-add) halves the cost, and 'reassoc'
# must not reach the Cody-Waite reduction. LLVM still inlines it into the vectorised loops.
_EXP_FLAGS = dict(cache=True, fastmath={"contract"}, error_model="numpy", nogil=True)


@njit(**_EXP_FLAGS)
def _exp_parts(x):
    """(s, q) with exp(x) = s (1 + q), s = 2**k exactly; x is clipped to [-708, 708]."""
    x = min(max(x, -708.0), 708.0)
    k = np.rint(x * _LOG2E)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    q = r + r * r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (_C7 + r * (
        _C8 + r * (_C9 + r * (_C10 + r * (_C11 + r * (_C12 + r * _C13)))))))))))
    return _bits_as_float((np.int64(k) + 1023) << 52), q


@njit(**_EXP_FLAGS)
def _exp_parts32(x):
    """``_exp_parts`` in float32; x is clipped to [-87, 87]."""
    x = min(max(x, -_CLIP32), _CLIP32)
    k = np.rint(x * _LOG2E32)
    r = (x - k * _LN2_HI32) - k * _LN2_LO32
    q = r + r * r * (_D2 + r * (_D3 + r * (_D4 + r * (_D5 + r * (_D6 + r * _D7)))))
    return _bits_as_float32((np.int32(k) + np.int32(127)) << np.int32(23)), q


def _sigmoid64(x):
    """1 / (1 + exp(-x)), from exp(-|x|) so that neither branch overflows."""
    s, q = _exp_parts(-abs(x))
    e = s + s * q
    d = 1.0 / (1.0 + e)
    return d if x >= 0.0 else e * d


def _tanh64(x):
    """tanh through expm1(-2|x|) = s q + (s - 1), accurate near 0 as well."""
    s, q = _exp_parts(-2.0 * abs(x))
    e = s * q + (s - 1.0)  # in (-1, 0]
    return np.copysign(abs(e) / (2.0 + e), x)  # abs(e), not -e: tanh(+0.0) is +0.0


def _sigmoid32(x):
    s, q = _exp_parts32(-abs(x))
    e = s + s * q
    d = _ONE32 / (_ONE32 + e)
    return d if x >= _ZERO32 else e * d


def _tanh32(x):
    s, q = _exp_parts32(-_TWO32 * abs(x))
    e = s * q + (s - _ONE32)
    return np.copysign(abs(e) / (_TWO32 + e), x)


def _by_precision(f64, f32):
    """A function computing in its argument's precision: f32 for float32, else f64 (both
    pure arithmetic, inlined into the caller so that its loops vectorise)."""
    def f(x):
        return f64(x)  # Python mode (NUMBA_DISABLE_JIT): float64
    if not config.DISABLE_JIT:
        # not inline="always": numba's IR inliner loses the branch variables (pedantic
        # warnings); LLVM inlines the compiled function into vectorised loops anyway
        @overload(f, jit_options=dict(error_model="numpy"))
        def _typed(x):
            return f32 if x == types.float32 else f64
    f.__doc__ = f64.__doc__
    return f


_sigmoid = _by_precision(_sigmoid64, _sigmoid32)
_tanh = _by_precision(_tanh64, _tanh32)


@njit(**dict(JIT, inline="always"))
def sigmoid(x):
    """1 / (1 + exp(-x)) in the precision of x, from exp(-|x|) so that no branch overflows."""
    return _sigmoid(x)


@njit(**dict(JIT, inline="always"))
def tanh(x):
    """tanh in the precision of x, through expm1(-2|x|) (accurate near 0 as well)."""
    return _tanh(x)


@njit(**JIT)
def vector_param_size(p):
    """theta_raw is the parameter vector itself (user models)."""
    return p.shape[0]


@njit(**JIT)
def state_output_vjp(y, p, v, gy, gp):
    """Output VJP of ``output_state`` (the output is the whole state): gy = v, gp = 0."""
    for i in range(y.shape[0]):
        gy[i] = v[i]
    for k in range(gp.shape[0]):
        gp[k] = 0.0


# -- a single row times a matrix, accumulators in registers ----------------------------------
# a = z @ WT for one row z (the gated cells' steps at B = 1). Written as numba loops, the
# product keeps its partial sums in memory (LLVM cannot rule out that a aliases WT), so each
# row of WT costs loads and stores of a besides its own loads. Here the sums over k of a block
# of columns are SSA vectors (L = 64 bytes of lanes, 16 a block: half of AVX-512's registers)
# and each row of WT is loaded once, broadcast-multiplied and added with LLVM's fmuladd (one
# FMA where the CPU has it). Against four-row passes, one thread (Zen 5): float32 WT (24, 64)
# 0.083 -> 0.060 us, (40, 256) 0.24 -> 0.15, (72, 256) (the LSTM at H = 64) 0.51 -> 0.41,
# float64 (72, 256) 1.03 -> 0.93, (264, 256) 4.2 -> 3.2. A WT larger than L2 streams from L3,
# where the blocks' strided passes lost 6-9% (float32 (264, 1024), float64 (264, 512)) to
# passes over whole rows: above _BLOCKED_BYTES it takes four rows a pass, adding into a.
_BLOCKED_BYTES = 3 << 18
# A WT a little larger than L1 (the LSTM at H = 64 in float32: 72 kB): a caller alternating
# rev finds the rows of about one L1 still there from the previous step and the rest come from
# L2, on demand at ~36 bytes a cycle. Prefetching the row _AHEAD_ROWS further on (16 kB there)
# overlaps those misses with the FMAs of the rows in L1: float32 (72, 256) 0.297 -> 0.250 us,
# (64, 256) 0.233 -> 0.199 (one thread, Zen 5 with a 48 kB L1; the LSTM's whole step 4%). Only
# in blocks of 16 vectors (rows of >= 1 kB) and only there: inside L1 the prefetches just take
# load slots (float64 (40, 128) 0.093 -> 0.118), and for WT several times L1 (float64 (72,
# 256), float32 (136, 512)) they gained 2% or lost 5-9%. A row count, not bytes over the row's
# size: that integer division cost ~20 ns a call (its zero test), float32 (24, 256) 0.065 ->
# 0.087 us. Both from this machine's L1d, prefetching a third of it ahead (a block's row is 1
# kB): on a Zen 4 (32 kB) 10 rows ahead took the LSTM's float32 (64, 1) step from 0.732 to
# 0.700 us (6: 0.71, 8: 0.705, 12: 0.71, 16: 0.733), as 16 did on Zen 5's 48 kB.
def _l1d_bytes(default=48 << 10):
    """The L1 data cache of cpu0 in bytes (Linux's sysfs), else default."""
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            if ((index / "level").read_text().strip(), (index / "type").read_text().strip()) \
                    == ("1", "Data"):
                size = (index / "size").read_text().strip()
                return int(size[:-1]) << 10 if size.endswith("K") else int(size)
        except (OSError, ValueError):
            pass
    return default


_L1_BYTES = _l1d_bytes()
_AHEAD_ROWS = _L1_BYTES // 3072


def _float_arrays(*xs):
    """The intrinsics' typing check: C-contiguous arrays of one dtype, float32 or float64."""
    return all(isinstance(x, types.Array) and x.layout == "C" and x.dtype == xs[0].dtype
               for x in xs) and xs[0].dtype in (types.float32, types.float64)


def _vectors(builder, data):
    """(bytes an element, L lanes of 64 bytes, the vector type, LLVM's fmuladd on it) for
    float array data."""
    ft = data.type.pointee
    size = 4 if ft == ir.FloatType() else 8
    L = 64 // size
    vt = ir.VectorType(ft, L)
    fmuladd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [vt, vt, vt]),
                                             f"llvm.fmuladd.v{L}f{8 * size}")
    return size, L, vt, fmuladd


def _splat(builder, x, vt):
    """The scalar x in every lane of a vector of type vt."""
    i32 = ir.IntType(32)
    v = builder.insert_element(ir.Constant(vt, ir.Undefined), x, ir.Constant(i32, 0))
    return builder.shuffle_vector(v, ir.Constant(vt, ir.Undefined),
                                  ir.Constant(ir.VectorType(i32, vt.count), [0] * vt.count))


def _vecmat_block(G, fetch=False):
    """An intrinsic ``(WT, z, a, c0, rev, ahead)``: a[c0 : c0 + G L] = sum over k of z[k] WT[k,
    c0 : c0 + G L] (L lanes of 64 bytes), from the last row if rev; WT, z, a C-contiguous in one
    dtype. fetch (a separate intrinsic, so that the others carry no trace of it): each row
    also prefetches the block's part of the row ahead rows further on (clamped to WT); else
    ahead is not used."""
    @intrinsic
    def block(typingctx, WT, z, a, c0, rev, ahead):
        if not _float_arrays(WT, z, a):
            return None
        sig = types.void(WT, z, a, types.intp, types.boolean, types.intp)

        def codegen(context, builder, signature, args):
            arrays = [context.make_array(t)(context, builder, v)
                      for t, v in zip(signature.args[:3], args[:3])]
            W, zz, aa = (x.data for x in arrays)
            K, n = cgutils.unpack_tuple(builder, arrays[0].shape, 2)
            c0, rev, ahead = args[3:]
            size, L, vt, fmuladd = _vectors(builder, W)
            i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
            prefetch = cgutils.get_or_insert_function(  # (address, read, into L1, data)
                builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                "llvm.prefetch.p0i8")

            def vector(row, b):  # the block's b-th vector in a row, as a vector pointer
                return builder.bitcast(builder.gep(row, [ir.Constant(c0.type, b * L)]),
                                       vt.as_pointer())
            accs = [cgutils.alloca_once(builder, vt) for _ in range(G)]  # promoted to SSA
            for acc in accs:
                builder.store(ir.Constant(vt, [0.0] * L), acc)
            last = builder.sub(K, ir.Constant(K.type, 1))

            with cgutils.for_range(builder, K) as loop:
                k = builder.select(rev, builder.sub(last, loop.index), loop.index)
                if fetch:
                    kf = builder.select(rev, builder.sub(k, ahead), builder.add(k, ahead))
                    kf = builder.select(builder.icmp_signed("<", kf, K.type(0)), K.type(0), kf)
                    kf = builder.select(builder.icmp_signed(">", kf, last), last, kf)
                    far = builder.gep(W, [builder.add(builder.mul(kf, n), c0)])
                    for b in range(G):
                        builder.call(prefetch, [builder.bitcast(vector(far, b), i8p),
                                                i32(0), i32(3), i32(1)])
                zk = _splat(builder, builder.load(builder.gep(zz, [k])), vt)
                row = builder.gep(W, [builder.add(builder.mul(k, n), c0)])
                for b, acc in enumerate(accs):
                    w = builder.load(vector(row, b), align=size)
                    builder.store(builder.call(fmuladd, [w, zk, builder.load(acc)]), acc)
            out = builder.gep(aa, [c0])
            for b, acc in enumerate(accs):
                builder.store(builder.load(acc), vector(out, b), align=size)
            return context.get_dummy_value()
        return sig, codegen
    return block


if not config.DISABLE_JIT:
    _b1, _b2, _b4, _b8, _b16 = (_vecmat_block(G) for G in (1, 2, 4, 8, 16))
    _f16 = _vecmat_block(16, fetch=True)


@njit(**dict(JIT, inline="always"))
def _vecmat_vectors(z, WT, a, rev):
    """``vecmat``'s columns of whole vectors: blocks of 16 vectors, then one of 8, 4, 2, 1 as
    the rest needs, right to left if rev; rows prefetched ahead where WT is a little larger
    than L1 (see _L1_BYTES)."""
    n = WT.shape[1]
    L = 64 // WT.itemsize
    full, rest = divmod(n, 16 * L)
    G = rest // L  # vectors after the full blocks: pieces of 8, 4, 2, 1 from c8, c4, c2, c1
    c8 = full * 16 * L
    c4 = c8 + (G & 8) * L
    c2 = c4 + (G & 4) * L
    c1 = c2 + (G & 2) * L
    row = n * WT.itemsize
    ahead = _AHEAD_ROWS if _L1_BYTES < WT.shape[0] * row <= 2 * _L1_BYTES else 0
    # the two orders written out: one loop over blocks and pieces, in either order, took 6 ns
    # more a call (float32 WT (24, 64): 0.061 -> 0.067 us, the LSTM's product at H = 16)
    if rev:
        if G & 1:
            _b1(WT, z, a, c1, True, 0)
        if G & 2:
            _b2(WT, z, a, c2, True, 0)
        if G & 4:
            _b4(WT, z, a, c4, True, 0)
        if G & 8:
            _b8(WT, z, a, c8, True, 0)
        for q in range(full - 1, -1, -1):
            if ahead:
                _f16(WT, z, a, q * 16 * L, True, ahead)
            else:
                _b16(WT, z, a, q * 16 * L, True, 0)
        return
    for q in range(full):
        if ahead:
            _f16(WT, z, a, q * 16 * L, False, ahead)
        else:
            _b16(WT, z, a, q * 16 * L, False, 0)
    if G & 8:
        _b8(WT, z, a, c8, False, 0)
    if G & 4:
        _b4(WT, z, a, c4, False, 0)
    if G & 2:
        _b2(WT, z, a, c2, False, 0)
    if G & 1:
        _b1(WT, z, a, c1, False, 0)


@njit(**dict(JIT, inline="always"))
def _vecmat_jit(z, WT, a, rev):
    """a (n,) = z (K,) @ WT (K, n), all C-contiguous in one dtype (float32 or float64); each
    output sums its K terms in row order (by fours above _BLOCKED_BYTES), from the last row if
    rev (a caller alternating rev from step to step starts each step on the rows the previous
    step left in L1)."""
    K, n = WT.shape
    if K * n * WT.itemsize > _BLOCKED_BYTES:
        _vecmat_streaming(z, WT, a, rev)
        return
    c0 = n - n % (64 // WT.itemsize)  # single columns from c0
    _vecmat_vectors(z, WT, a, rev)
    for j in range(c0, n):
        a[j] = 0
        for k in range(K):
            a[j] += z[K - 1 - k if rev else k] * WT[K - 1 - k if rev else k, j]


@njit(**dict(JIT, inline="always"))
def _vecmat_streaming(z, WT, a, rev):
    """``vecmat`` for a WT larger than L2: four whole rows a pass, added into a."""
    K, n = WT.shape
    a[:] = 0
    passes = K // 4
    for q in range(passes):
        k = 4 * (passes - 1 - q) if rev else 4 * q
        z0, z1, z2, z3 = z[k], z[k + 1], z[k + 2], z[k + 3]
        w0, w1, w2, w3 = WT[k], WT[k + 1], WT[k + 2], WT[k + 3]
        for j in range(n):
            a[j] += (z0 * w0[j] + z1 * w1[j]) + (z2 * w2[j] + z3 * w3[j])
    for k in range(4 * passes, K):
        for j in range(n):
            a[j] += z[k] * WT[k, j]


def _vecmat_py(z, WT, a, rev):
    """``_vecmat_jit`` in Python mode (NUMBA_DISABLE_JIT)."""
    a[:] = z @ WT


vecmat = _vecmat_py if config.DISABLE_JIT else _vecmat_jit


# -- a matrix times a few columns, W's rows in panels ----------------------------------------
# A = W @ Z for Z of a few columns (a block of sequences as columns: the LSTM's batched path
# at H >= 128). W is packed once into panels of PANEL_ROWS rows, each panel's K x R entries
# in the order the loop reads them; for each vector of Z's lanes a panel's R sums stay in
# registers while k runs, each W entry broadcast from memory into one FMA. BLAS instead packs
# W anew at every call: float32 W (1024, 264) @ Z (264, 16), one thread (Zen 5): 52 -> 39 us,
# the same sums (k in order) bit for bit.
PANEL_ROWS = 16


def _panel_intrinsic():
    """An intrinsic ``(Wp, Z, A, p, c0)``: A[p R : (p + 1) R, c0 : c0 + L] = sum over k of
    Wp[p, k, :, None] Z[k, c0 : c0 + L] (R = PANEL_ROWS, L lanes of 64 bytes); all
    C-contiguous in one dtype, Z (K, V) and A (., V) with V a multiple of L."""
    R = PANEL_ROWS

    @intrinsic
    def panel(typingctx, Wp, Z, A, p, c0):
        if not _float_arrays(Wp, Z, A):
            return None
        sig = types.void(Wp, Z, A, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            arrays = [context.make_array(t)(context, builder, v)
                      for t, v in zip(signature.args[:3], args[:3])]
            W, zz, aa = (x.data for x in arrays)
            K = cgutils.unpack_tuple(builder, arrays[0].shape, 3)[1]
            V = cgutils.unpack_tuple(builder, arrays[1].shape, 2)[1]
            p, c0 = args[3:]
            size, L, vt, fmuladd = _vectors(builder, W)

            def const(v):
                return ir.Constant(p.type, v)
            accs = [cgutils.alloca_once(builder, vt) for _ in range(R)]  # promoted to SSA
            for acc in accs:
                builder.store(ir.Constant(vt, [0.0] * L), acc)
            panel = builder.gep(W, [builder.mul(builder.mul(p, K), const(R))])
            with cgutils.for_range(builder, K) as loop:
                k = loop.index
                zk = builder.load(builder.bitcast(
                    builder.gep(zz, [builder.add(builder.mul(k, V), c0)]), vt.as_pointer()),
                    align=size)
                row = builder.gep(panel, [builder.mul(k, const(R))])
                for r, acc in enumerate(accs):
                    w = _splat(builder, builder.load(builder.gep(row, [const(r)])), vt)
                    builder.store(builder.call(fmuladd, [w, zk, builder.load(acc)]), acc)
            for r, acc in enumerate(accs):
                out = builder.gep(aa, [builder.add(builder.mul(
                    builder.add(builder.mul(p, const(R)), const(r)), V), c0)])
                builder.store(builder.load(acc), builder.bitcast(out, vt.as_pointer()),
                              align=size)
            return context.get_dummy_value()
        return sig, codegen
    return panel


if not config.DISABLE_JIT:
    _panel = _panel_intrinsic()


@njit(**dict(JIT, inline="always"))
def panel_pack(W, Wp):
    """Wp (ceil(M / R), K, R) = W (M, K) in panels of R = PANEL_ROWS rows, each panel stored
    k-major; rows past M are zero."""
    M, K = W.shape
    Wp[:] = 0
    for j in range(M):
        q, r = divmod(j, PANEL_ROWS)
        for k in range(K):
            Wp[q, k, r] = W[j, k]


@njit(**dict(JIT, inline="always"))
def _panel_matmul_jit(Wp, Z, A):
    """A (ceil(M / R) R, V) = W @ Z (K, V) from W's panels Wp (``panel_pack``); V a multiple
    of the lanes of a 64-byte vector; each sum runs over k in order. All C-contiguous in one
    dtype."""
    L = 64 // Z.itemsize
    for q in range(Wp.shape[0]):
        for c0 in range(0, Z.shape[1], L):  # a panel read from L2 once, from L1 after
            _panel(Wp, Z, A, q, c0)


def _panel_matmul_py(Wp, Z, A):
    """``_panel_matmul_jit`` in Python mode (NUMBA_DISABLE_JIT)."""
    A[:] = Wp.transpose(0, 2, 1).reshape(A.shape[0], -1) @ Z


panel_matmul = _panel_matmul_py if config.DISABLE_JIT else _panel_matmul_jit


def _transpose_intrinsic():
    """An intrinsic ``(S, r0, l0, D, off, stride)``: the L x L tile S[r0 : r0 + L, l0 : l0 +
    L] (L lanes of 64 bytes) transposed into D's flat memory, D.flat[off + u stride + v] =
    S[r0 + v, l0 + u]: L vector loads, log2(L) rounds of shuffles (each swapping the
    off-diagonal b x b blocks of every 2b x 2b block, b = L / 2 ... 1), L vector stores. S and
    D C-contiguous in one dtype."""
    @intrinsic
    def tile(typingctx, S, r0, l0, D, off, stride):
        if not _float_arrays(S, D) or S.ndim != 2:
            return None
        sig = types.void(S, types.intp, types.intp, D, types.intp, types.intp)

        def codegen(context, builder, signature, args):
            s_arr = context.make_array(signature.args[0])(context, builder, args[0])
            d_arr = context.make_array(signature.args[3])(context, builder, args[3])
            r0, l0, off, stride = args[1], args[2], args[4], args[5]
            V = cgutils.unpack_tuple(builder, s_arr.shape, 2)[1]
            size, L, vt, _ = _vectors(builder, s_arr.data)
            i32 = ir.IntType(32)

            def const(v):
                return ir.Constant(r0.type, v)
            rows = []
            for v in range(L):
                ptr = builder.gep(s_arr.data, [builder.add(
                    builder.mul(builder.add(r0, const(v)), V), l0)])
                rows.append(builder.load(builder.bitcast(ptr, vt.as_pointer()), align=size))
            b = L // 2
            while b:
                lo = ir.Constant(ir.VectorType(i32, L),
                                 [c if not c & b else L + c - b for c in range(L)])
                hi = ir.Constant(ir.VectorType(i32, L),
                                 [c + b if not c & b else L + c for c in range(L)])
                for i in range(L):
                    if not i & b:
                        x, y = rows[i], rows[i + b]
                        rows[i] = builder.shuffle_vector(x, y, lo)
                        rows[i + b] = builder.shuffle_vector(x, y, hi)
                b //= 2
            for u in range(L):
                ptr = builder.gep(d_arr.data, [builder.add(off, builder.mul(const(u), stride))])
                builder.store(rows[u], builder.bitcast(ptr, vt.as_pointer()), align=size)
            return context.get_dummy_value()
        return sig, codegen
    return tile


def _transpose_tile_py(S, r0, l0, D, off, stride):
    """The intrinsic ``transpose_tile`` in Python mode (NUMBA_DISABLE_JIT)."""
    L = 64 // S.itemsize
    flat = D.reshape(-1)
    for u in range(L):
        flat[off + u * stride:off + u * stride + L] = S[r0:r0 + L, l0 + u]


transpose_tile = _transpose_tile_py if config.DISABLE_JIT else _transpose_intrinsic()
