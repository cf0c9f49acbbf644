# needs: _vjp _output_vjp _work_size _rhs
# Kernel template (see rnndyn/_jit.py): backpropagation through time for ANY model,
# specialised per family with its hand-written derivative kernels:
#   _vjp  maps:  (h, x, p, v, gh, gx, gp, work)     v^T d h_new/d(h, x, theta_raw)
#         flows: (t, y, u, p, v, gy, gu, gp, work)  v^T d(dy/dt)/d(y, u, theta_raw)
#   _rhs(t, y, u, p, dy, work)           flows: dy/dt (a placeholder for maps)
#   _output_vjp(h, p, v, gh, gp)         overwrites gh, gp with v^T d out/d(h, theta_raw)
#   _work_size(p)                        scratch length of one step
# numba compiles only the kernels called, so the map kernels never meet a flow's _vjp.
# Flows are differentiated as the discrete map of one Euler or RK4 step with the input held
# over the step (discretise-then-optimise): the exact gradient of the trajectory that
# rnndyn.simulate(method="euler"|"rk4", hold="previous") computes.
# The forward pass is the shared runner (rnndyn.run); these kernels only run backwards over
# the states it stored. Truncated BPTT(h, h') follows Williams & Peng (1990), Neural
# Computation 2(4):490: every h' steps (block end e), the errors of the last h' outputs are
# backpropagated h steps, down to step e - h; h = h' = T is exact BPTT.
import numpy as np
from numba import njit, prange

from rnndyn._kernels import any_nonzero


@njit(**_JIT)
def backward_member(p, H0, X, Y, GO, h, hp, G, GH0, b):
    """Sequence b of a time-major batch.

    H0 (B, n) initial states, X (T, B, n_in) inputs, Y (T, B, n) states h_1..h_T, GO
    (T, B, n_out) the loss gradient with respect to each output. Writes G[b] (d_raw,) = the
    BPTT(h, h') gradient with respect to theta_raw and GH0[b] (n,) = dL/dh_0 (the part that
    reaches step 0; exact when h >= T)."""
    T, n, m = X.shape[0], Y.shape[2], X.shape[2]
    d = G.shape[1]
    work = np.empty(_work_size(p), dtype=Y.dtype)
    v = np.zeros(n, dtype=Y.dtype)  # cotangent of the state h_tau
    gh = np.empty(n, dtype=Y.dtype)
    gy = np.empty(n, dtype=Y.dtype)
    gx = np.empty(m, dtype=Y.dtype)
    gp = np.empty(d, dtype=Y.dtype)
    G[b, :] = 0.0
    GH0[b, :] = 0.0
    done = 0  # outputs 1..done have been injected
    while done < T:
        e = min(done + hp, T)
        lo = max(e - h, 0)
        v[:] = 0.0
        for tau in range(e, lo, -1):
            if tau > done and any_nonzero(GO[tau - 1, b]):  # inject this block's errors
                _output_vjp(Y[tau - 1, b], p, GO[tau - 1, b], gy, gp)
                v += gy
                G[b, :] += gp
            if tau == 1:
                _vjp(H0[b], X[0, b], p, v, gh, gx, gp, work)
            else:
                _vjp(Y[tau - 2, b], X[tau - 1, b], p, v, gh, gx, gp, work)
            G[b, :] += gp
            v[:] = gh
        if lo == 0:
            GH0[b, :] += v
        done = e


@njit(**_JIT)
def backward_serial(p, H0, X, Y, GO, h, hp, G, GH0):
    """Every sequence one after the other (no thread launch: best for small work)."""
    for b in range(H0.shape[0]):
        backward_member(p, H0, X, Y, GO, h, hp, G, GH0, b)


@njit(**_JIT_PARALLEL)
def backward(p, H0, X, Y, GO, h, hp, G, GH0):
    """``backward_serial`` in parallel over the sequences (prange)."""
    for b in prange(H0.shape[0]):
        backward_member(p, H0, X, Y, GO, h, hp, G, GH0, b)


# -- flows discretised by Euler or RK4 (input held over each step) ----------------------------
EULER, RK4 = 0, 1


@njit(**_JIT)
def _euler_vjp(p, t, dt, y, u, v, Gb, gy, gu, gp, work):
    """y' = y + dt f(t, y, u): v <- v + dt f_y^T v, Gb += dt f_theta^T v."""
    _vjp(t, y, u, p, v, gy, gu, gp, work)
    v += dt * gy
    Gb += dt * gp


@njit(**_JIT)
def _rk4_vjp(p, t, dt, y, u, v, Gb, gy, gu, gp, work, k, ys, a, acc):
    """Reverse of one classical RK4 step (stages recomputed): with stage states y_1 = y,
    y_2 = y + dt/2 k_1, y_3 = y + dt/2 k_2, y_4 = y + dt k_3 and y' = y + dt/6 (k_1 + 2 k_2 +
    2 k_3 + k_4), the cotangent of k_4 is dt/6 v, and that of k_s (s < 4) is c_s dt v plus
    what stage s+1 sends back through y_{s+1}. k (3, n) and ys (3, n) are scratch."""
    half = 0.5 * dt
    # forward: stage states y_2..y_4 (ys[0..2]) from k_1..k_3
    _rhs(t, y, u, p, k[0], work)
    ys[0] = y + half * k[0]
    _rhs(t + half, ys[0], u, p, k[1], work)
    ys[1] = y + half * k[1]
    _rhs(t + half, ys[1], u, p, k[2], work)
    ys[2] = y + dt * k[2]
    # backward: stage 4, 3, 2, 1
    acc[:] = v
    a[:] = (dt / 6.0) * v
    _vjp(t + dt, ys[2], u, p, a, gy, gu, gp, work)  # k_4 = f(y_4)
    acc += gy
    Gb += gp
    a[:] = (dt / 3.0) * v + dt * gy  # cotangent of k_3 (y_4 = y + dt k_3)
    _vjp(t + half, ys[1], u, p, a, gy, gu, gp, work)
    acc += gy
    Gb += gp
    a[:] = (dt / 3.0) * v + half * gy  # of k_2 (y_3 = y + dt/2 k_2)
    _vjp(t + half, ys[0], u, p, a, gy, gu, gp, work)
    acc += gy
    Gb += gp
    a[:] = (dt / 6.0) * v + half * gy  # of k_1 (y_2 = y + dt/2 k_1)
    _vjp(t, y, u, p, a, gy, gu, gp, work)
    acc += gy
    Gb += gp
    v[:] = acc


@njit(**_JIT)
def flow_backward_member(p, Y, U, tt, GO, scheme, h, hp, G, GH0, b):
    """BPTT(h, h') through the discretised flow, sequence b: Y (T+1, B, n) the states on the
    grid tt (T+1,), U (T, B, n_in) the input held over step k, GO (T, B, n_out) = dL/d out at
    tt[1..T]. Writes G[b] and GH0[b] as ``backward_member``."""
    T, n, m = U.shape[0], Y.shape[2], U.shape[2]
    d = G.shape[1]
    dtp = Y.dtype
    work = np.empty(_work_size(p), dtype=dtp)
    v, gy = np.zeros(n, dtype=dtp), np.empty(n, dtype=dtp)
    gu, gp = np.empty(m, dtype=dtp), np.empty(d, dtype=dtp)
    k, ys = np.empty((3, n), dtype=dtp), np.empty((3, n), dtype=dtp)
    a, acc = np.empty(n, dtype=dtp), np.empty(n, dtype=dtp)
    G[b, :] = 0.0
    GH0[b, :] = 0.0
    done = 0
    while done < T:
        e = min(done + hp, T)
        lo = max(e - h, 0)
        v[:] = 0.0
        for tau in range(e, lo, -1):
            if tau > done and any_nonzero(GO[tau - 1, b]):
                _output_vjp(Y[tau, b], p, GO[tau - 1, b], gy, gp)
                v += gy
                G[b, :] += gp
            t, dt = tt[tau - 1], tt[tau] - tt[tau - 1]
            if scheme == EULER:
                _euler_vjp(p, t, dt, Y[tau - 1, b], U[tau - 1, b], v, G[b], gy, gu, gp, work)
            else:
                _rk4_vjp(p, t, dt, Y[tau - 1, b], U[tau - 1, b], v, G[b], gy, gu, gp, work,
                         k, ys, a, acc)
        if lo == 0:
            GH0[b, :] += v
        done = e


@njit(**_JIT)
def flow_backward_serial(p, Y, U, tt, GO, scheme, h, hp, G, GH0):
    for b in range(Y.shape[1]):
        flow_backward_member(p, Y, U, tt, GO, scheme, h, hp, G, GH0, b)


@njit(**_JIT_PARALLEL)
def flow_backward(p, Y, U, tt, GO, scheme, h, hp, G, GH0):
    for b in prange(Y.shape[1]):
        flow_backward_member(p, Y, U, tt, GO, scheme, h, hp, G, GH0, b)
