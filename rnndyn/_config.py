"""Numba flags and defaults shared by every kernel."""
from __future__ import annotations

import numpy as np

#: fastmath flags for kernels. Only 'reassoc', which lets LLVM vectorise the reductions of
#: matrix-vector products (2x at n=1000). 'nnan'/'ninf' would let LLVM delete the isfinite()
#: checks divergence detection relies on, and 'afn'/'contract' measured slower (benchmarks/).
#: Numba's cache does not notice a change here: _jit.py hashes this file for generated
#: kernels; clear rnndyn's __pycache__ *.nbi/*.nbc for the others.
FASTMATH = {"reassoc"}

#: keyword arguments for every @numba.njit in rnndyn
JIT = dict(cache=True, fastmath=FASTMATH, nogil=True)
#: the same for kernels whose loops over units should become SIMD code (gated cells):
#: error_model="numpy" drops the test for zero before every float division (a division by
#: zero gives inf/nan, which the finiteness checks catch), a branch that stops LLVM from
#: vectorising. Not the default: scalar CTRNN loops measured ~10% slower with it.
JIT_SIMD = dict(JIT, error_model="numpy")
#: the same for kernels that parallelise over a population with prange
JIT_PARALLEL = dict(JIT, parallel=True)

DTYPE = np.float64
