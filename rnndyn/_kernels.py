"""Array-only kernels shared by the templates of every layer (integrators, analysis)."""
import numpy as np
from numba import njit

from ._config import JIT


@njit(**JIT)
def input_at(tu, U, t, pos, hold, out):
    """Input at time t from samples U (Tu, n_in) at times tu; returns the new search position.

    Linear interpolation (hold=False) or zero-order hold (hold=True; fixed-step kernels then
    keep the step-start value for every stage); constant outside [tu[0], tu[-1]].
    """
    n_in = U.shape[1]
    if n_in == 0:
        return pos
    last = tu.shape[0] - 1
    while pos < last and tu[pos + 1] <= t:
        pos += 1
    while pos > 0 and tu[pos] > t:
        pos -= 1
    if pos == last or t <= tu[pos] or hold:
        for i in range(n_in):
            out[i] = U[pos, i]
    else:
        a = (t - tu[pos]) / (tu[pos + 1] - tu[pos])
        for i in range(n_in):
            out[i] = (1.0 - a) * U[pos, i] + a * U[pos + 1, i]
    return pos


@njit(**dict(JIT, inline="always"))
def finite(y):
    """All entries finite.

    Fast path: one sum (inf and nan survive addition). A non-finite sum may also come from
    finite entries near the float maximum overflowing, so it is confirmed entry by entry."""
    acc = 0.0
    for i in range(y.shape[0]):
        acc += y[i]
    if np.isfinite(acc):
        return True
    for i in range(y.shape[0]):
        if not np.isfinite(y[i]):
            return False
    return True


@njit(**JIT)
def first_bad(y):
    """Index of the first non-finite entry (0 if none)."""
    for i in range(y.shape[0]):
        if not np.isfinite(y[i]):
            return i
    return 0


@njit(**JIT)
def any_nonzero(v):
    """True if some entry of v (n,) is not 0 (an error to backpropagate at this step)."""
    for i in range(v.shape[0]):
        if v[i] != 0.0:
            return True
    return False
