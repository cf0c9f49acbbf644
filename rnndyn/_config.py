"""Numba flags and defaults shared by every kernel."""
from __future__ import annotations

import numpy as np

#: fastmath flags for kernels. 'nnan' and 'ninf' are left out on purpose: with them LLVM may
#: delete the isfinite() checks that divergence detection relies on.
FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

#: keyword arguments for every @numba.njit in rnndyn
JIT = dict(cache=True, fastmath=FASTMATH, nogil=True)
#: the same for kernels that parallelise over a population with prange
JIT_PARALLEL = dict(JIT, parallel=True)

DTYPE = np.float64
