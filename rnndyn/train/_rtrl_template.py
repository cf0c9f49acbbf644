# needs: _step _mjac _pjac _output_vjp _work_size _fjac
# Kernel template (see rnndyn/_jit.py): real-time recurrent learning (Williams & Zipser 1989,
# Neural Computation 1(2):270) for ANY map model, specialised per family with its kernels:
#   _step(h, x, p, h_new, work)     next state
#   _mjac(h, x, p, J, work)         J = d h_new / d h (n, n)
#   _pjac(h, x, p, Jp, work)        Jp = d h_new / d theta_raw (n, d_raw)
#   _output_vjp(h, p, v, gh, gp)    v^T d out / d(h, theta_raw)
#   flows (Euler-discretised, ``flow_rtrl*``): _fjac(t, y, u, p, J, work) = d(dy/dt)/dy and
#   _pjac(t, y, u, p, Jp, work) = d(dy/dt)/dtheta_raw; the step y' = y + dt f(t, y, u) has
#   J = I + dt f_y and Jp = dt f_theta. numba compiles only the kernels called.
# The sensitivities S_t = d h_t / d theta_raw (n, d_raw) run forward with the state:
#   S_{t+1} = J_t S_t + Jp_t  (W&Z eq. 12 in matrix form; S_0 = 0, h_0 does not depend on theta)
# and the gradient of the loss at step t is available at once: go_t^T (dout/dh S_t + dout/dtheta).
# O(n^2 d_raw) time and O(n d_raw) memory per step and sequence.
import numpy as np
from numba import njit, prange

from rnndyn._kernels import any_nonzero


@njit(**_JIT)
def advance(p, h, x, S, h_new, S_new, J, Jp, work):
    """One step of state and sensitivities: h_new = F(h, x), S_new = J S + Jp."""
    _mjac(h, x, p, J, work)
    _pjac(h, x, p, Jp, work)
    _step(h, x, p, h_new, work)
    S_new[:, :] = J @ S
    S_new += Jp


@njit(**_JIT)
def gradient_at(p, h, S, go, g, gy, gp):
    """g += go^T d out_t / d theta_raw through the state (gy S) and directly (gp)."""
    _output_vjp(h, p, go, gy, gp)
    g += gy @ S
    g += gp


@njit(**_JIT)
def rtrl_member(p, H0, X, GO, G, b):
    """Sequence b: H0 (B, n), X (T, B, n_in), GO (T, B, n_out) = dL/d out_t; G[b] (d_raw,)
    receives the gradient, accumulated step by step as RTRL delivers it."""
    T, n = X.shape[0], H0.shape[1]
    d = G.shape[1]
    dt = H0.dtype
    work = np.empty(_work_size(p), dtype=dt)
    h, h_new = H0[b].copy(), np.empty(n, dtype=dt)
    S, S_new = np.zeros((n, d), dtype=dt), np.empty((n, d), dtype=dt)
    J, Jp = np.empty((n, n), dtype=dt), np.empty((n, d), dtype=dt)
    gy, gp = np.empty(n, dtype=dt), np.empty(d, dtype=dt)
    G[b, :] = 0.0
    for t in range(T):
        advance(p, h, X[t, b], S, h_new, S_new, J, Jp, work)
        h, h_new = h_new, h
        S, S_new = S_new, S
        if any_nonzero(GO[t, b]):
            gradient_at(p, h, S, GO[t, b], G[b], gy, gp)


@njit(**_JIT)
def rtrl_serial(p, H0, X, GO, G):
    for b in range(H0.shape[0]):
        rtrl_member(p, H0, X, GO, G, b)


@njit(**_JIT_PARALLEL)
def rtrl(p, H0, X, GO, G):
    for b in prange(H0.shape[0]):
        rtrl_member(p, H0, X, GO, G, b)


@njit(**_JIT)
def advance_batch(p, H, x, S, H_new, S_new):
    """One online step of B sequences: H (B, n), x (B, n_in), S (B, n, d_raw)."""
    n, d = H.shape[1], S.shape[2]
    dt = H.dtype
    work = np.empty(_work_size(p), dtype=dt)
    J, Jp = np.empty((n, n), dtype=dt), np.empty((n, d), dtype=dt)
    for b in range(H.shape[0]):
        advance(p, H[b], x[b], S[b], H_new[b], S_new[b], J, Jp, work)


@njit(**_JIT)
def gradient_batch(p, H, S, GO, g):
    """g (d_raw,) = sum over the B sequences of go_b^T d out / d theta_raw at the current
    state H (B, n) with sensitivities S (B, n, d_raw); GO (B, n_out)."""
    n, d = H.shape[1], S.shape[2]
    gy, gp = np.empty(n, dtype=H.dtype), np.empty(d, dtype=H.dtype)
    g[:] = 0.0
    for b in range(H.shape[0]):
        if any_nonzero(GO[b]):
            gradient_at(p, H[b], S[b], GO[b], g, gy, gp)


@njit(**_JIT)
def flow_rtrl_member(p, Y, U, tt, GO, G, b):
    """Euler-discretised flow, sequence b: Y (T+1, B, n) states on the grid tt (T+1,) (from
    the shared integrator), U (T, B, n_in) inputs held over each step, GO (T, B, n_out);
    S_{k+1} = S_k + dt (f_y S_k + f_theta)."""
    T, n = U.shape[0], Y.shape[2]
    d = G.shape[1]
    dt_ = Y.dtype
    work = np.empty(_work_size(p), dtype=dt_)
    S, S_new = np.zeros((n, d), dtype=dt_), np.empty((n, d), dtype=dt_)
    J, Jp = np.empty((n, n), dtype=dt_), np.empty((n, d), dtype=dt_)
    gy, gp = np.empty(n, dtype=dt_), np.empty(d, dtype=dt_)
    G[b, :] = 0.0
    for k in range(T):
        h = tt[k + 1] - tt[k]
        _fjac(tt[k], Y[k, b], U[k, b], p, J, work)
        _pjac(tt[k], Y[k, b], U[k, b], p, Jp, work)
        S_new[:, :] = J @ S
        S_new += Jp
        S_new *= h
        S_new += S
        S, S_new = S_new, S
        if any_nonzero(GO[k, b]):
            gradient_at(p, Y[k + 1, b], S, GO[k, b], G[b], gy, gp)


@njit(**_JIT)
def flow_rtrl_serial(p, Y, U, tt, GO, G):
    for b in range(Y.shape[1]):
        flow_rtrl_member(p, Y, U, tt, GO, G, b)


@njit(**_JIT_PARALLEL)
def flow_rtrl(p, Y, U, tt, GO, G):
    for b in prange(Y.shape[1]):
        flow_rtrl_member(p, Y, U, tt, GO, G, b)
