"""Numba flags and defaults shared by every kernel."""
from __future__ import annotations

import os
import warnings

import numpy as np
from numba import config as _numba_config

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


def _prefer_512_bit_vectors():
    """Let LLVM vectorise with 512-bit registers on AVX-512 CPUs (numba's default tuning for
    them, LLVM's ``prefer-256-bit``, keeps loops at 256 bits).

    Measured on the 2-core Sapphire Rapids machine (``benchmarks/evolution.py --stepping``,
    P = 1000 CTRNNs of 10 units): the SIMD-lane Euler step 1.55 -> 1.15 ns/neuron-step in
    float64 and 0.76 -> 0.50 in float32 (with 64 lanes a block and cache-line-aligned
    arrays); the other benchmarks (discrete cells against PyTorch, ESN, Hopfield, Lyapunov,
    memristive, NTM, search) unchanged within their noise, and the visual agent's fitness
    bit-identical. Numba has one code generator per process, so this applies to every numba function
    the process compiles after rnndyn is imported, the user's too; it is skipped when the user
    chose CPU features (``NUMBA_CPU_FEATURES``), when ``RNNDYN_VECTOR_WIDTH=256`` is set, on
    CPUs without AVX-512, and when numba had already compiled before rnndyn was imported (the
    kernels then run at 256 bits: the same results to rounding, slower). Numba caches compiled
    code per CPU-feature string, so either choice keeps its own cache."""
    width = os.environ.get("RNNDYN_VECTOR_WIDTH", "512").strip()
    if width not in ("256", "512"):
        warnings.warn(f"RNNDYN_VECTOR_WIDTH={width!r} is neither '256' nor '512'; using 512 "
                      "where the CPU has AVX-512 (set it to 256 for LLVM's default)",
                      RuntimeWarning, stacklevel=2)
    if _numba_config.CPU_FEATURES is not None or _numba_config.DISABLE_JIT or width == "256":
        return
    from numba.core import codegen, registry
    if "_toplevel_target_context" in vars(registry.cpu_target):
        return  # numba's code generator exists already: its features are fixed
    features = codegen.get_host_cpu_features()
    if "+avx512f" in features.split(","):
        _numba_config.CPU_FEATURES = features + ",-prefer-256-bit"


_prefer_512_bit_vectors()
