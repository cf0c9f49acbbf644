"""Non-template kernels of the Lyapunov analysis (arrays only), compiled and cached once and
shared by every specialisation of the tangent-dynamics templates: LAPACK's QR alone takes
numba several seconds to compile, which would otherwise be paid per model family."""
import numpy as np
from numba import njit

from .._config import JIT

#: below n * k elements explicit loops beat the BLAS call overhead
SMALL = 4096


@njit(**JIT)
def matmul(J, Y, out):
    """out = J @ Y; BLAS for large blocks, loops for small ones."""
    n, k = Y.shape
    if n * k >= SMALL:
        np.dot(J, Y, out)
        return
    for i in range(n):
        for c in range(k):
            out[i, c] = 0.0
        for j in range(n):
            a = J[i, j]
            if a != 0.0:
                for c in range(k):
                    out[i, c] += a * Y[j, c]


@njit(**JIT)
def orthonormalise(Y, logs):
    """Y <- Q of Y = QR (Householder, via LAPACK; a norm for one vector); logs += ln|diag R|.

    Returns False if the basis became degenerate or non-finite."""
    n, k = Y.shape
    if k == 1:
        s = 0.0
        for i in range(n):
            s += Y[i, 0] * Y[i, 0]
        s = np.sqrt(s)
        if not (s > 0.0 and np.isfinite(s)):
            return False
        logs[0] += np.log(s)
        for i in range(n):
            Y[i, 0] /= s
        return True
    for i in range(n):
        for c in range(k):
            if not np.isfinite(Y[i, c]):
                return False
    q, r = np.linalg.qr(Y)
    for c in range(k):
        logs[c] += np.log(np.abs(r[c, c]))
    Y[:, :] = q
    return True
