"""rnndyn's choice of LLVM vector width (``rnndyn/_config.py``): 512-bit vectors on AVX-512
CPUs unless the user chose otherwise, numba's own choices left alone."""
import os
import subprocess
import sys

import pytest
from numba.core.codegen import get_host_cpu_features

AVX512 = "+avx512f" in get_host_cpu_features().split(",")
PROBE = "import numba, rnndyn; print(numba.config.CPU_FEATURES)"


def features(script=PROBE, **env):
    """numba's CPU features after ``script`` in a fresh process with ``env`` set."""
    full = {k: v for k, v in os.environ.items()
            if k not in ("NUMBA_CPU_FEATURES", "RNNDYN_VECTOR_WIDTH", "NUMBA_DISABLE_JIT")}
    full.update(env)
    out = subprocess.run([sys.executable, "-c", script], env=full, capture_output=True,
                         text=True, check=True)
    return out.stdout.strip().splitlines()[-1], out.stderr


@pytest.mark.skipif(not AVX512, reason="the CPU has no AVX-512")
def test_avx512_cpus_get_512_bit_vectors_and_the_same_results():
    got, _ = features()
    assert got.endswith(",-prefer-256-bit") and "+avx512f" in got
    # the setting reaches the compiled code: a float64 loop uses zmm registers
    script = ("import numba, numpy as np, rnndyn\n"
              "@numba.njit\n"
              "def axpy(a, x, y):\n"
              "    for i in range(x.size):\n"
              "        y[i] += a * x[i]\n"
              "x = np.ones(64); axpy(2.0, x, x)\n"
              "print('zmm' in axpy.inspect_asm(axpy.signatures[0]))")
    assert features(script)[0] == "True"


def test_user_choices_are_kept():
    assert features(RNNDYN_VECTOR_WIDTH="256")[0] == "None"
    assert features(NUMBA_CPU_FEATURES="+sse2")[0] == "+sse2"
    # numba compiled before rnndyn was imported: its code generator is fixed, left alone
    early = ("import numba\nnumba.njit(lambda x: x + 1)(1)\n" + PROBE)
    assert features(early)[0] == "None"


def test_unknown_width_warns_with_the_fix():
    got, err = features(RNNDYN_VECTOR_WIDTH="1024")
    assert "RNNDYN_VECTOR_WIDTH='1024'" in err and "256" in err
    assert got == features()[0]
