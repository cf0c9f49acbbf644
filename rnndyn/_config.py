"""Numba flags and defaults shared by every kernel."""
from __future__ import annotations

import numpy as np

#: fastmath flags for kernels. Only 'reassoc', which lets LLVM vectorise the reductions of
#: matrix-vector products (2x at n=1000). 'nnan'/'ninf' would let LLVM delete the isfinite()
#: checks divergence detection relies on, and 'afn'/'contract' measured slower (benchmarks/).
#: Numba's cache does not notice a change here: _jit.py hashes this file for generated
#: kernels; clear rnndyn's __pycache__ *.nbi/*.nbc for the others.
FASTMATH = {"reassoc"}

#: keyword arguments for every @numba.njit in rnndyn. error_model="numpy": a float division
#: by zero gives inf/nan (caught by the finiteness checks) instead of a per-division test for
#: zero, which would stop LLVM from vectorising loops that divide (sigmoid, tanh).
JIT = dict(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
#: the same for kernels that parallelise over a population with prange
JIT_PARALLEL = dict(JIT, parallel=True)

DTYPE = np.float64
