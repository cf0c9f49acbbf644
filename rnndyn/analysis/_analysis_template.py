# needs: _rhs _step _fjac _mjac _member _work_size
# Kernel template of rnndyn.analysis (see rnndyn/_jit.py), specialised per model family.
# Free names: _rhs/_fjac (flows) or _step/_mjac (maps) -- the other pair is bound to the
# placeholders of models/_base_kernels.py, since a runtime is_map switch types both branches --
# plus _member (population member k, or the shared parameters) and _work_size.
# Fixed points solve G(x) = 0 with G = f(t, x, u) for flows and G = F(x, u) - x for maps;
# q = |G|^2 / 2 is the "speed" function of Sussillo & Barak (2013).
import numpy as np
from numba import njit, prange

CONVERGED, MAX_ITER, STATIONARY, NONFINITE = 0, 1, 2, 3


@njit(**_JIT)
def residual(t, x, u, p, is_map, G, work):
    if is_map:
        _step(x, u, p, G, work)
        for i in range(x.shape[0]):
            G[i] -= x[i]
    else:
        _rhs(t, x, u, p, G, work)
    q = 0.0
    for i in range(x.shape[0]):
        q += G[i] * G[i]
    return 0.5 * q


@njit(**_JIT)
def model_jac(t, x, u, p, is_map, J, work):
    """The model's own Jacobian: d(dx/dt)/dx (flows) or dF/dx (maps)."""
    if is_map:
        _mjac(x, u, p, J, work)
    else:
        _fjac(t, x, u, p, J, work)


@njit(**_JIT)
def residual_jac(t, x, u, p, is_map, JG, work):
    model_jac(t, x, u, p, is_map, JG, work)
    if is_map:
        for i in range(x.shape[0]):
            JG[i, i] -= 1.0


@njit(**_JIT)
def solve(A, b, d):
    """d = A^-1 b via LAPACK (blocked, fast for large n); False if A is singular."""
    try:
        x = np.linalg.solve(A, b)
    except Exception:  # numba raises LinAlgError for an exactly singular matrix
        return False
    ok = True
    for i in range(b.shape[0]):
        if not np.isfinite(x[i]):
            ok = False
        d[i] = x[i]
    return ok


@njit(**_JIT)
def grad_q(JG, G, g):
    """g = JG^T G, the gradient of q."""
    n = G.shape[0]
    for j in range(n):
        g[j] = 0.0
    for i in range(n):
        gi = G[i]
        for j in range(n):
            g[j] += JG[i, j] * gi
    s = 0.0
    for j in range(n):
        s += g[j] * g[j]
    return np.sqrt(s)


@njit(**_JIT)
def newton(t, x, u, p, is_map, tol, gtol, max_iter, work):
    """Damped Newton on G(x) = 0 with Armijo backtracking on q; a gradient step on q where
    the Newton step fails. Converges quadratically to roots and linearly to other local
    minima of q (slow points). x is updated in place. Returns (status, q, iterations)."""
    n = x.shape[0]
    G = np.empty(n)
    JG = np.empty((n, n))
    A = np.empty((n, n))
    b = np.empty(n)
    d = np.empty(n)
    g = np.empty(n)
    xt = np.empty(n)
    Gt = np.empty(n)
    q = residual(t, x, u, p, is_map, G, work)
    if not np.isfinite(q):
        return NONFINITE, q, 0
    descents = 0  # consecutive gradient steps: many mean a slow point, where Newton is useless
    for it in range(max_iter):
        if np.sqrt(2.0 * q) <= tol:
            return CONVERGED, q, it
        if descents >= 25:
            return STATIONARY, q, it
        residual_jac(t, x, u, p, is_map, JG, work)
        gnorm = grad_q(JG, G, g)
        if gnorm <= gtol:
            return STATIONARY, q, it
        for i in range(n):
            b[i] = -G[i]
            for j in range(n):
                A[i, j] = JG[i, j]
        accepted = False
        if solve(A, b, d):
            alpha = 1.0
            while alpha >= 1e-4:
                for i in range(n):
                    xt[i] = x[i] + alpha * d[i]
                qt = residual(t, xt, u, p, is_map, Gt, work)
                if qt <= (1.0 - 1e-4 * alpha) * q:  # Armijo: dq/dalpha = -2q along d
                    accepted = True
                    break
                alpha *= 0.5
        descents = 0 if accepted else descents + 1
        if not accepted:  # steepest descent on q, first trial = the Gauss-Newton length
            alpha = q / (gnorm * gnorm)
            while alpha * gnorm >= 1e-16 * (1.0 + np.abs(x).max()):
                for i in range(n):
                    xt[i] = x[i] - alpha * g[i]
                qt = residual(t, xt, u, p, is_map, Gt, work)
                if qt <= q - 1e-4 * alpha * gnorm * gnorm:
                    accepted = True
                    break
                alpha *= 0.5
        if not accepted:
            return STATIONARY, q, it
        for i in range(n):
            x[i] = xt[i]
            G[i] = Gt[i]
        q = qt
    if np.sqrt(2.0 * q) <= tol:
        return CONVERGED, q, max_iter
    return MAX_ITER, q, max_iter


@njit(**_JIT)
def lbfgs(t, x, u, p, is_map, tol, gtol, max_iter, work, m):
    """Minimise q by limited-memory BFGS (memory m) with Armijo backtracking, needing only
    G and JG^T G per iterate (no factorisation): the method of choice for large n. Returns
    as ``newton``; roots are then polished by a few Newton steps."""
    n = x.shape[0]
    G = np.empty(n)
    JG = np.empty((n, n))
    g = np.empty(n)
    gt = np.empty(n)
    d = np.empty(n)
    xt = np.empty(n)
    Gt = np.empty(n)
    S = np.zeros((m, n))
    Yv = np.zeros((m, n))
    rho = np.zeros(m)
    a = np.zeros(m)
    q = residual(t, x, u, p, is_map, G, work)
    if not np.isfinite(q):
        return NONFINITE, q, 0
    residual_jac(t, x, u, p, is_map, JG, work)
    gnorm = grad_q(JG, G, g)
    k = 0
    status = MAX_ITER
    it = 0
    for it in range(max_iter):
        if np.sqrt(2.0 * q) <= 1e-3 * (1.0 + np.abs(x).max()) and np.sqrt(2.0 * q) > tol:
            break  # close to a root: Newton finishes faster
        if np.sqrt(2.0 * q) <= tol:
            status = CONVERGED
            break
        if gnorm <= gtol:
            status = STATIONARY
            break
        # two-loop recursion: d = -H g
        for i in range(n):
            d[i] = -g[i]
        kk = min(k, m)
        for c in range(kk):
            j = (k - 1 - c) % m
            s = 0.0
            for i in range(n):
                s += S[j, i] * d[i]
            a[j] = rho[j] * s
            for i in range(n):
                d[i] -= a[j] * Yv[j, i]
        if kk > 0:
            j = (k - 1) % m
            sy = 0.0
            yy = 0.0
            for i in range(n):
                sy += S[j, i] * Yv[j, i]
                yy += Yv[j, i] * Yv[j, i]
            gamma = sy / yy
        else:
            gamma = min(1.0, 1.0 / gnorm)
        for i in range(n):
            d[i] *= gamma
        for c in range(kk - 1, -1, -1):
            j = (k - 1 - c) % m
            s = 0.0
            for i in range(n):
                s += Yv[j, i] * d[i]
            bb = rho[j] * s
            for i in range(n):
                d[i] += (a[j] - bb) * S[j, i]
        slope = 0.0
        for i in range(n):
            slope += g[i] * d[i]
        if slope >= 0.0:  # not a descent direction: restart with steepest descent
            k = 0
            for i in range(n):
                d[i] = -g[i] / gnorm
            slope = -gnorm
        alpha = 1.0
        accepted = False
        qt = q
        while alpha > 1e-12:
            for i in range(n):
                xt[i] = x[i] + alpha * d[i]
            qt = residual(t, xt, u, p, is_map, Gt, work)
            if qt <= q + 1e-4 * alpha * slope:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            status = STATIONARY
            break
        residual_jac(t, xt, u, p, is_map, JG, work)
        gtn = grad_q(JG, Gt, gt)
        j = k % m
        sy = 0.0
        for i in range(n):
            S[j, i] = xt[i] - x[i]
            Yv[j, i] = gt[i] - g[i]
            sy += S[j, i] * Yv[j, i]
        if sy > 1e-300:
            rho[j] = 1.0 / sy
            k += 1
        for i in range(n):
            x[i] = xt[i]
            G[i] = Gt[i]
            g[i] = gt[i]
        q = qt
        gnorm = gtn
    if status == MAX_ITER and np.sqrt(2.0 * q) <= 1e-3 * (1.0 + np.abs(x).max()):
        status, q, extra = newton(t, x, u, p, is_map, tol, gtol, 20, work)
        it += extra
    return status, q, it


@njit(**_JIT_PARALLEL)
def newton_many(t, X, member, U, p, is_map, tol, gtol, max_iter, Q, STATUS, ITERS):
    """Refine every row of X (S, n) in place by ``newton``. member (S,) population member
    of each start, U (S, n_in) constant inputs. (One kernel per method, so only the method
    used gets compiled.)"""
    for s in prange(X.shape[0]):
        pk = _member(p, member[s])
        work = np.empty(_work_size(pk))
        st, q, it = newton(t, X[s], U[s], pk, is_map, tol, gtol, max_iter, work)
        STATUS[s] = st
        Q[s] = q
        ITERS[s] = it


@njit(**_JIT_PARALLEL)
def lbfgs_many(t, X, member, U, p, is_map, tol, gtol, max_iter, Q, STATUS, ITERS):
    """As ``newton_many`` with ``lbfgs`` (memory 10)."""
    for s in prange(X.shape[0]):
        pk = _member(p, member[s])
        work = np.empty(_work_size(pk))
        st, q, it = lbfgs(t, X[s], U[s], pk, is_map, tol, gtol, max_iter, work, 10)
        STATUS[s] = st
        Q[s] = q
        ITERS[s] = it


@njit(**_JIT_PARALLEL)
def jacobians(t, X, member, U, p, is_map, J):
    """J[s] = the model Jacobian at X[s] (S, n, n)."""
    for s in prange(X.shape[0]):
        pk = _member(p, member[s])
        work = np.empty(_work_size(pk))
        model_jac(t, X[s], U[s], pk, is_map, J[s], work)


@njit(**_JIT_PARALLEL)
def evaluate(t, X, member, U, p, is_map, OUT):
    """OUT[s] = f(t, X[s], U[s]) (flows) or F(X[s], U[s]) (maps)."""
    for s in prange(X.shape[0]):
        pk = _member(p, member[s])
        work = np.empty(_work_size(pk))
        if is_map:
            _step(X[s], U[s], pk, OUT[s], work)
        else:
            _rhs(t, X[s], U[s], pk, OUT[s], work)
