"""Kernel-level helpers shared by model families (arrays only)."""
import math

import numpy as np
from llvmlite import ir
from numba import config, njit, types
from numba.extending import intrinsic

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
# branch blocks vectorisation.
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two (Cody & Waite): k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_C = [1.0 / math.factorial(k) for k in range(2, 14)]  # Taylor: |r|^14/14! < 2e-17 on |r| <= ln2/2
_C2, _C3, _C4, _C5, _C6, _C7, _C8, _C9, _C10, _C11, _C12, _C13 = _C


if config.DISABLE_JIT:  # an intrinsic cannot run as Python: the same bitcast through numpy
    def _bits_as_float(i):
        return np.int64(i).view(np.float64)
else:
    @intrinsic
    def _bits_as_float(typingctx, i):
        """The float64 whose bit pattern is the int64 i (an LLVM bitcast)."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], ir.DoubleType())
        return types.float64(types.int64), codegen


# Its own flags on purpose: 'contract' (fused multiply-add) halves the cost, and 'reassoc'
# must not reach the Cody-Waite reduction. LLVM still inlines it into the vectorised loops.
@njit(cache=True, fastmath={"contract"}, error_model="numpy", nogil=True)
def _exp_parts(x):
    """(s, q) with exp(x) = s (1 + q), s = 2**k exactly; x is clipped to [-708, 708]."""
    x = min(max(x, -708.0), 708.0)
    k = np.rint(x * _LOG2E)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    q = r + r * r * (_C2 + r * (_C3 + r * (_C4 + r * (_C5 + r * (_C6 + r * (_C7 + r * (
        _C8 + r * (_C9 + r * (_C10 + r * (_C11 + r * (_C12 + r * _C13)))))))))))
    return _bits_as_float((np.int64(k) + 1023) << 52), q


@njit(**dict(JIT, inline="always"))
def sigmoid(x):
    """1 / (1 + exp(-x)), from exp(-|x|) so that neither branch overflows."""
    s, q = _exp_parts(-abs(x))
    e = s + s * q
    d = 1.0 / (1.0 + e)
    return d if x >= 0.0 else e * d


@njit(**dict(JIT, inline="always"))
def tanh(x):
    """tanh through expm1(-2|x|) = s q + (s - 1), accurate near 0 as well."""
    s, q = _exp_parts(-2.0 * abs(x))
    e = s * q + (s - 1.0)  # in (-1, 0]
    return np.copysign(abs(e) / (2.0 + e), x)  # abs(e), not -e: tanh(+0.0) is +0.0


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
