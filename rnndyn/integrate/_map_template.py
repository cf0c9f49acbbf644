# needs: _step _output _member _work_size _jac
# Kernel template for discrete-time models (see rnndyn/_jit.py): specialised per model
# family, where _step, _output, _member and _work_size are that family's jitted functions:
#   _step(h, x, p, h_new, work)   next state written into h_new
#   _output(h, p, out)            model outputs written into out
#   _member(p, k)                  parameters of batch member / individual k
#   _work_size(p)                 scratch length for one member's parameters
#   _jac(h, x, p, J, work)        dh_new/dh (only step_jacobians uses it)
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
        s, t, unit = iterate(_member(p, k), H0[k], X[k], Y[k], OUT[k])
        info[k, 0] = s
        info[k, 1] = t
        info[k, 2] = unit


# -- sequence runners for discrete cells (rnndyn.integrate.run) -------------------------------
@njit(**_JIT)
def run_member(p, H0, X, Y, OUT, info, b):
    """Sequence b of a time-major batch: X (T, B, n_in), H0 (B, n) -> Y[:, b] = h_1..h_T,
    OUT[:, b]; uses _member(p, b) (one shared parameter set, or individual b of a population).
    info[b] = (status, step of failure or T, first bad unit or -1); a diverged member stops."""
    T, n = X.shape[0], H0.shape[1]
    pk = _member(p, b)
    work = np.empty(_work_size(pk), dtype=Y.dtype)
    info[b, 0], info[b, 1], info[b, 2] = 0, T, -1
    h = H0[b]
    for t in range(T):
        _step(h, X[t, b], pk, Y[t, b], work)
        acc = 0.0
        for i in range(n):
            acc += Y[t, b, i]
        if not np.isfinite(acc):  # confirm: finite entries near float max overflow too
            for i in range(n):
                if not np.isfinite(Y[t, b, i]):
                    info[b, 0] = 1
                    info[b, 1] = t + 1
                    info[b, 2] = i
                    return
        _output(Y[t, b], pk, OUT[t, b])
        h = Y[t, b]


@njit(**_JIT)
def run_batch_serial(p, H0, X, Y, OUT, info):
    """All B sequences one after the other (no thread launch: best for small batches)."""
    for b in range(H0.shape[0]):
        run_member(p, H0, X, Y, OUT, info, b)


@njit(**_JIT_PARALLEL)
def run_batch(p, H0, X, Y, OUT, info):
    """All B sequences, in parallel over the batch (prange)."""
    for b in prange(H0.shape[0]):
        run_member(p, H0, X, Y, OUT, info, b)


@njit(**_JIT)
def advance_member(p, H, X, H_new, OUT, work, status, b):
    pk = _member(p, b)
    _step(H[b], X[b], pk, H_new[b], work[b])
    acc = 0.0
    for i in range(H.shape[1]):
        acc += H_new[b, i]
    status[b] = 0
    if not np.isfinite(acc):  # confirm: finite entries near float max overflow too
        for i in range(H.shape[1]):
            if not np.isfinite(H_new[b, i]):
                status[b] = 1
    _output(H_new[b], pk, OUT[b])


@njit(**_JIT)
def outputs_of(p, H, OUT):
    """OUT[b] = the outputs of state H[b] (B, n) under member b's parameters (or the shared
    ones): a stepper's outputs after a reset."""
    for b in range(H.shape[0]):
        _output(H[b], _member(p, b), OUT[b])


@njit(**_JIT)
def advance_batch_serial(p, H, X, H_new, OUT, work, status):
    """One step of B members: H (B, n), X (B, n_in) -> H_new (B, n), OUT (B, n_out); work
    (B, work size) is caller-owned so a step allocates nothing; status[b] = 1 if non-finite."""
    for b in range(H.shape[0]):
        advance_member(p, H, X, H_new, OUT, work, status, b)


@njit(**_JIT_PARALLEL)
def advance_batch(p, H, X, H_new, OUT, work, status):
    """``advance_batch_serial`` in parallel over the members (for large batches)."""
    for b in prange(H.shape[0]):
        advance_member(p, H, X, H_new, OUT, work, status, b)


@njit(**_JIT_PARALLEL)
def final_states(p, H, X, member, n_steps, h, method, status):
    """Iterate every row of H (S, n) in place n_steps times under its constant input X
    (S, n_in) with the parameters of population member member[s], keeping only the end
    state; status[s] = 1 if row s became non-finite (it stops there). h and method are
    unused: the signature of the flow template's."""
    for s in prange(H.shape[0]):
        pk = _member(p, member[s])
        work = np.empty(_work_size(pk), dtype=H.dtype)
        h_new = np.empty_like(H[s])
        status[s] = 0
        for it in range(n_steps):
            _step(H[s], X[s], pk, h_new, work)
            H[s, :] = h_new
            if it % 64 == 63 and not np.all(np.isfinite(H[s])):
                break
        if not np.all(np.isfinite(H[s])):
            status[s] = 1


@njit(**_JIT)
def step_jacobians(p, h0, X, Y, JS):
    """States and step Jacobians along one sequence: JS[t] = dh_{t+1}/dh_t evaluated at
    (h_t, x_t), Y[t] = h_{t+1}; X (T, n_in), Y (T, n), JS (T, n, n). Needs _jac."""
    work = np.empty(_work_size(p), dtype=Y.dtype)
    h = h0
    for t in range(X.shape[0]):
        _jac(h, X[t], p, JS[t], work)
        _step(h, X[t], p, Y[t], work)
        h = Y[t]
