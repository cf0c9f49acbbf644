"""Numba kernels of memristive networks (Caravelli, Traversa & Di Ventra 2017). Arrays only.

Parameter tuple ``p = (A, topo, inp, cfg)``:

- ``A`` (E, 5) float, a leading population axis P in a stacked model: per edge
  ``[R_on, R_off, alpha, beta, S]`` (S the constant source voltage in series with the edge);
- ``topo`` (E, 2) int: positions of the edge's tail and head node in the reduced (grounded)
  nodal system, -1 for a ground node (one per connected component);
- ``inp`` (n_in,) int: the edge whose source input k adds to;
- ``cfg`` int: ``[sign, solver, bandwidth, n_reduced]``; sign +1 for the growth convention
  ``dw/dt = alpha w - (R_on/beta) i``, -1 for the decay convention (the same field reversed);
  solver 0 = banded Cholesky, 1 = conjugate gradients.

Currents come from nodal analysis: with conductances ``g = 1/R(w)``, the reduced weighted
Laplacian ``L = B_r G B_r^T`` (V - c unknown potentials) solves ``L phi = -B_r G s`` and
``i = G (B^T phi + s)``. This equals the projector form ``(I - Omega + Omega R)^{-1} Omega s``
(``(1/R_on)(I + xi Omega W)^{-1} Omega s`` for a uniform R_on) without any E x E matrix:
a banded Cholesky in reverse Cuthill-McKee order (cost V b^2, b the bandwidth: lattices,
planar and small graphs) or Jacobi-preconditioned conjugate gradients from phi = 0 (cost
E x iterations: random graphs, whose bandwidth is ~V). The memory variables seen by the
circuit are ``min(max(w, 0), 1)``; see ``memristive.py`` for the boundary handling.
"""
import math

import numpy as np
from numba import njit

from .._config import JIT

_INLINE = dict(JIT, inline="always")
BANDED, CG = 0, 1
#: CG stops at |r| <= CG_RTOL |b| (b the nodal right-hand side)
CG_RTOL = 1e-13


@njit(**JIT)
def member(p, k):
    return (p[0][k], p[1], p[2], p[3])


@njit(**JIT)
def param_size(p):
    """theta_raw = [R_on (E), R_off (E), alpha (E), beta (E), S (E)]."""
    return 5 * p[0].shape[0]


@njit(**JIT)
def work_size(p):
    E, n, b = p[0].shape[0], p[3][3], p[3][2]
    return 2 * E + 6 * n + n * (b + 1) + b + 1


@njit(**_INLINE)
def clip01(x):
    return min(max(x, 0.0), 1.0)


@njit(**_INLINE)
def _at(phi, k):
    return phi[k] if k >= 0 else 0.0


@njit(**JIT)
def _banded_solve(Ab, col, r, phi, n, b):
    """Cholesky of the band ``Ab[i (b+1) + d] = L(i, i - d)`` in place, then L L^T phi = r."""
    b1 = b + 1
    for j in range(n):
        ljj = math.sqrt(Ab[j * b1])
        Ab[j * b1] = ljj
        m = min(b, n - 1 - j)
        for d in range(1, m + 1):
            Ab[(j + d) * b1 + d] /= ljj
            col[d] = Ab[(j + d) * b1 + d]
        for d1 in range(1, m + 1):
            l1 = col[d1]
            if l1 == 0.0:
                continue
            base = (j + d1) * b1 + d1
            for d2 in range(1, d1 + 1):
                Ab[base - d2] -= l1 * col[d2]
    for i in range(n):  # forward: L y = r
        s = r[i]
        for d in range(1, min(b, i) + 1):
            s -= Ab[i * b1 + d] * phi[i - d]
        phi[i] = s / Ab[i * b1]
    for i in range(n - 1, -1, -1):  # backward: L^T phi = y
        s = phi[i]
        for d in range(1, min(b, n - 1 - i) + 1):
            s -= Ab[(i + d) * b1 + d] * phi[i + d]
        phi[i] = s / Ab[i * b1]


@njit(**JIT)
def _laplace(topo, g, x, q, n):
    """q = L x for the reduced weighted Laplacian (an edge loop: O(E))."""
    for i in range(n):
        q[i] = 0.0
    for e in range(g.shape[0]):
        a, c = topo[e, 0], topo[e, 1]
        f = g[e] * (_at(x, a) - _at(x, c))
        if a >= 0:
            q[a] += f
        if c >= 0:
            q[c] -= f


@njit(**JIT)
def _cg_solve(topo, g, r, phi, z, pp, q, diag, n):
    """Jacobi-preconditioned conjugate gradients for L phi = r from phi = 0 (r overwritten).
    No convergence within 20 n + 100 iterations leaves phi = NaN (reported upstream)."""
    for i in range(n):
        diag[i] = 0.0
        phi[i] = 0.0
    for e in range(g.shape[0]):
        a, c = topo[e, 0], topo[e, 1]
        if a == c:
            continue
        if a >= 0:
            diag[a] += g[e]
        if c >= 0:
            diag[c] += g[e]
    bn = 0.0
    rz = 0.0
    for i in range(n):
        bn += r[i] * r[i]
        z[i] = r[i] / diag[i]
        pp[i] = z[i]
        rz += r[i] * z[i]
    tol = (CG_RTOL * CG_RTOL) * bn
    if bn == 0.0:
        return
    for it in range(20 * n + 100):
        _laplace(topo, g, pp, q, n)
        pq = 0.0
        for i in range(n):
            pq += pp[i] * q[i]
        a = rz / pq
        rn = 0.0
        for i in range(n):
            phi[i] += a * pp[i]
            r[i] -= a * q[i]
            rn += r[i] * r[i]
        if rn <= tol:
            return
        rz_new = 0.0
        for i in range(n):
            z[i] = r[i] / diag[i]
            rz_new += r[i] * z[i]
        beta = rz_new / rz
        rz = rz_new
        for i in range(n):
            pp[i] = z[i] + beta * pp[i]
    for i in range(n):
        phi[i] = np.nan


@njit(**JIT)
def currents(y, u, p, cur, work):
    """Edge currents ``cur`` (E,) at memory ``y`` (clipped to [0, 1]) and input ``u``;
    ``work[:E]`` keeps the conductances on return."""
    A, topo, inp, cfg = p
    E, n, b = y.shape[0], cfg[3], cfg[2]
    g = work[:E]
    r = work[E:E + n]
    phi = work[E + n:E + 2 * n]
    for e in range(E):
        w = clip01(y[e])
        g[e] = 1.0 / (A[e, 0] * (1.0 - w) + A[e, 1] * w)
        cur[e] = A[e, 4]  # the source, for now
    for k in range(inp.shape[0]):
        cur[inp[k]] += u[k]
    for i in range(n):
        r[i] = 0.0
    for e in range(E):
        gs = g[e] * cur[e]
        a, c = topo[e, 0], topo[e, 1]
        if a >= 0:
            r[a] -= gs
        if c >= 0:
            r[c] += gs
    o = E + 2 * n
    if cfg[1] == BANDED:
        Ab = work[o:o + n * (b + 1)]
        Ab[:] = 0.0
        for e in range(E):
            a, c = topo[e, 0], topo[e, 1]
            if a == c:  # a self-loop: no term in the node equations
                continue
            if a >= 0:
                Ab[a * (b + 1)] += g[e]
            if c >= 0:
                Ab[c * (b + 1)] += g[e]
            if a >= 0 and c >= 0:
                hi, lo = max(a, c), min(a, c)
                Ab[hi * (b + 1) + hi - lo] -= g[e]
        _banded_solve(Ab, work[o + n * (b + 1):], r, phi, n, b)
    else:
        _cg_solve(topo, g, r, phi, work[o:o + n], work[o + n:o + 2 * n],
                  work[o + 2 * n:o + 3 * n], work[o + 3 * n:o + 4 * n], n)
    for e in range(E):
        cur[e] = g[e] * (_at(phi, topo[e, 0]) - _at(phi, topo[e, 1]) + cur[e])


@njit(**_INLINE)
def _clipped(w, f):
    """The paper's clipping as a flow: no motion out of [0, 1] through a face."""
    return (w >= 1.0 and f > 0.0) or (w <= 0.0 and f < 0.0)


@njit(**JIT)
def rhs(t, y, u, p, dy, work):
    """dw_e/dt = sign (alpha_e w_e - (R_on,e / beta_e) i_e), zero outward on the faces."""
    A, cfg = p[0], p[3]
    currents(y, u, p, dy, work)
    sign = float(cfg[0])
    for e in range(y.shape[0]):
        f = sign * (A[e, 2] * clip01(y[e]) - A[e, 0] / A[e, 3] * dy[e])
        dy[e] = 0.0 if _clipped(y[e], f) else f


@njit(**JIT)
def transfer(y, p, K, work):
    """Transfer conductances ``K = G - G B^T L^+ B G`` (E, E): K[e, k] is the current in edge
    e per volt of source in edge k (symmetric). A dense inverse of the reduced Laplacian,
    O(V^3 + E^2): for derivatives, not for the rhs."""
    A, topo, cfg = p[0], p[1], p[3]
    E, n = y.shape[0], cfg[3]
    g = work[:E]
    for e in range(E):
        w = clip01(y[e])
        g[e] = 1.0 / (A[e, 0] * (1.0 - w) + A[e, 1] * w)
    Li = np.zeros((n, n))
    if n > 0:
        L = np.zeros((n, n))
        for e in range(E):
            a, c = topo[e, 0], topo[e, 1]
            if a >= 0:
                L[a, a] += g[e]
            if c >= 0:
                L[c, c] += g[e]
            if a >= 0 and c >= 0:
                L[a, c] -= g[e]
                L[c, a] -= g[e]
        Li = np.linalg.inv(L)
    for e in range(E):
        a, c = topo[e, 0], topo[e, 1]
        for k in range(E):
            ak, ck = topo[k, 0], topo[k, 1]
            m = 0.0
            if a >= 0:
                m += (Li[a, ak] if ak >= 0 else 0.0) - (Li[a, ck] if ck >= 0 else 0.0)
            if c >= 0:
                m -= (Li[c, ak] if ak >= 0 else 0.0) - (Li[c, ck] if ck >= 0 else 0.0)
            K[e, k] = -g[e] * g[k] * m
        K[e, e] += g[e]


@njit(**JIT)
def _derivatives(t, y, u, p, J, Jp, work, want_state):
    """State Jacobian (want_state) or parameter Jacobian of ``rhs``. With F_e = sign (alpha_e
    c_e - (R_on,e/beta_e) i_e), c = clip(w), R_k = R_on,k (1 - c_k) + R_off,k c_k and
    di/dR_k = -K[:, k] i_k (a resistance change acts as a source -i_k dR_k in edge k)."""
    A, cfg = p[0], p[3]
    E = y.shape[0]
    i = np.empty(E)
    currents(y, u, p, i, work)
    f = np.empty(E)
    for e in range(E):
        f[e] = cfg[0] * (A[e, 2] * clip01(y[e]) - A[e, 0] / A[e, 3] * i[e])
    K = np.empty((E, E))
    transfer(y, p, K, work)
    sign = float(cfg[0])
    for e in range(E):
        h = sign * A[e, 0] / A[e, 3]
        dead = _clipped(y[e], f[e])
        if want_state:
            for k in range(E):
                inside = 0.0 <= y[k] <= 1.0
                J[e, k] = 0.0 if dead or not inside else h * K[e, k] * i[k] * (A[k, 1] - A[k, 0])
            if not dead and 0.0 <= y[e] <= 1.0:
                J[e, e] += sign * A[e, 2]
            continue
        for k in range(5 * E):
            Jp[e, k] = 0.0
        if dead:
            continue
        for k in range(E):
            c = clip01(y[k])
            Jp[e, k] = h * K[e, k] * i[k] * (1.0 - c)
            Jp[e, E + k] = h * K[e, k] * i[k] * c
            Jp[e, 4 * E + k] = -h * K[e, k]
        Jp[e, e] -= sign * i[e] / A[e, 3]
        Jp[e, 2 * E + e] = sign * clip01(y[e])
        Jp[e, 3 * E + e] = sign * A[e, 0] * i[e] / (A[e, 3] * A[e, 3])


@njit(**JIT)
def jacobian(t, y, u, p, J, work):
    _derivatives(t, y, u, p, J, J, work, True)


@njit(**JIT)
def param_jacobian(t, y, u, p, Jp, work):
    _derivatives(t, y, u, p, Jp, Jp, work, False)


@njit(**JIT)
def output(y, p, out):
    """The memory variables as the circuit sees them: min(max(w, 0), 1)."""
    for e in range(y.shape[0]):
        out[e] = clip01(y[e])


@njit(**JIT)
def output_vjp(y, p, v, gy, gp):
    for e in range(y.shape[0]):
        gy[e] = v[e] if 0.0 <= y[e] <= 1.0 else 0.0
    for k in range(gp.shape[0]):
        gp[k] = 0.0
