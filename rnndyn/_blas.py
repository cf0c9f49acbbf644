"""One OpenBLAS thread for small matrix products; sums of squares without OpenBLAS.

OpenBLAS splits a product over its threads once m n k exceeds 65 536 x 4 multiply-adds. A
kernel that calls BLAS for many such products (the gated cells' chunks at B = 1, RTRL's
J S every step) then hands work to the BLAS threads thousands of times per call, and on a
busy machine every handover can wait for a scheduler slice: LSTM BPTT at B = 1, H = 64 took
344 µs a step instead of 3.8 on one thread (2-core machine, load ~3). Kernels whose
per-step products are below that size run them on one thread (``threadpoolctl``); larger
ones keep the threads, where they pay.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager, nullcontext

import numpy as np

#: per-step multiply-adds below which a kernel's BLAS calls run on one thread (OpenBLAS's
#: own threshold for splitting a product)
SMALL = 65_536 * 4
_libs = None
_inside = threading.local()  # depth of _one_thread on this thread


def blas_threads_for(per_step: int):
    """Context manager: one BLAS thread if a kernel's per-step products have fewer than
    ``SMALL`` multiply-adds (or it runs BLAS from several numba threads), else a no-op; a
    no-op too inside another such switch (``bptt``'s around its runner's: ~3 us a call)."""
    if per_step >= SMALL or getattr(_inside, "depth", 0):
        return nullcontext()
    global _libs
    if _libs is None:
        import scipy.linalg.cython_blas  # noqa: F401  numba's BLAS: loaded before looking
        from threadpoolctl import ThreadpoolController
        _libs = ThreadpoolController().select(user_api="blas").lib_controllers
    return _one_thread(_libs)


@contextmanager
def _one_thread(libs):
    """The BLAS libraries on one thread, then back. The libraries' own get/set calls: ~8 us
    a switch and back, where ``ThreadpoolController.limit`` (which re-reads every library's
    info) cost ~11 us a call, ~20 us of each short ``bptt`` call (LSTM, H = 16, B = 1)."""
    depth = getattr(_inside, "depth", 0)
    old = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    _inside.depth = depth + 1
    try:
        yield
    finally:
        _inside.depth = depth
        for lib, n in zip(libs, old):
            lib.set_num_threads(n)


def sum_squares(x) -> float:
    """sum(x^2) over all entries, summed by numpy (einsum), not by BLAS: numpy's ``dot``,
    ``vdot`` and ``linalg.norm`` of a long vector call OpenBLAS's threaded dot, which left
    its threads in a state that made the next kernel's ~1000 small matrix products 1.6x
    slower (LSTM BPTT at H = 64, B = 32, float64: 79 -> 129 us a step after a norm of a
    19 000-entry gradient)."""
    x = np.ravel(x)
    return float(np.einsum("i,i->", x, x))


def norm(x) -> float:
    """Euclidean norm of all entries (``sum_squares``: no OpenBLAS)."""
    return math.sqrt(sum_squares(x))
