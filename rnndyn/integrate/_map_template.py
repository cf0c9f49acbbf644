# Kernel template for discrete-time models (see rnndyn/_jit.py): specialised per model
# family, where _step, _output, _index and _work_size are that family's jitted functions:
#   _step(h, x, p, h_new, work)   next state written into h_new
#   _output(h, p, out)            model outputs written into out
#   _index(p, k)                  parameters of batch member / individual k
import numpy as np
from numba import njit, prange


@njit(**_JIT)
def iterate(p, h0, X, Y, OUT):
    """Y[0] = h0, Y[t+1] = F(Y[t], X[t]) for t < T; X (T, n_in), Y (T+1, n), OUT (T+1, n_out).

    Returns (status, step of failure or T, first bad unit or -1); status 1 = non-finite."""
    n = h0.shape[0]
    work = np.empty(_work_size(p))
    for i in range(n):
        Y[0, i] = h0[i]
    _output(Y[0], p, OUT[0])
    for t in range(X.shape[0]):
        _step(Y[t], X[t], p, Y[t + 1], work)
        acc = 0.0
        for i in range(n):
            acc += Y[t + 1, i]
        if not np.isfinite(acc):
            for i in range(n):
                if not np.isfinite(Y[t + 1, i]):
                    return 1, t + 1, i
        _output(Y[t + 1], p, OUT[t + 1])
    return 0, X.shape[0], -1


@njit(**_JIT_PARALLEL)
def iterate_population(p, H0, X, Y, OUT, info):
    """Batch/population version: H0 (B, n), X (B, T, n_in), Y (B, T+1, n), OUT (B, T+1, n_out);
    info (B, 3) receives (status, step, unit) per member."""
    for k in prange(H0.shape[0]):
        s, t, unit = iterate(_index(p, k), H0[k], X[k], Y[k], OUT[k])
        info[k, 0] = s
        info[k, 1] = t
        info[k, 2] = unit
