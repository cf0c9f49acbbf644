"""Fixed points, slow points and their linear stability, for any model.

Equilibria of a flow solve ``f(t, x, u) = 0``; fixed points of a map solve ``F(x, u) = x``.
Both are zeros of ``G`` and global minima of the speed ``q(x) = |G(x)|^2 / 2``. From many
starting states, each start is refined by damped Newton (quadratic convergence; the default
for n <= 512, where an n x n LAPACK solve per iterate is cheap) or by L-BFGS minimisation of
q (Sussillo & Barak 2013, Neural Computation 25:626; needs only G and J^T G per iterate) with
a final Newton polish. Local minima of q that are not zeros are *slow points* (Sussillo &
Barak): they are kept when their speed is below ``slow_speed``. Solutions are de-duplicated,
and each fixed point is classified from the eigenvalues of the model Jacobian: for flows by
the signs of the real parts, for maps by the moduli relative to 1 (slow points are labelled
"slow point", not by a stability class: they are not invariant).

Random starts come from a box chosen per model kind unless ``bounds`` is given: flows use
(-10, 10) in every unit; maps use the range of the states they visit (see ``map_box``),
since every fixed point of a map lies in its image, e.g. in (-1, 1) for tanh and gated cells.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import front_door, positive, positive_int, warn
from ..integrate.plumbing import check_model, integrator
from .._summary import summary_repr
from ..errors import ConvergenceWarning, ValidationError
from ..executors import check_executor, map_population
from ..models.base import Model, as_array
from . import _kernels
from ._common import analysis_module, constant_input

METHODS = ("auto", "newton", "minimize")
STABILITY = ("stable", "unstable", "saddle", "marginal")
#: the stability label of a slow point (not fixed: no stability class applies)
SLOW = "slow point"
#: start box of flows in every unit (state units), and the limit of a map's box
GENERIC_BOUNDS = (-10.0, 10.0)
#: a map's box is probed by iterating its starts 1, 10 and 100 steps (see ``map_box``)
_PROBE_STEPS = (1, 9, 90)
#: warn when more than this fraction of the starts converge to no kept point
FAIL_WARNING_FRACTION = 0.75


class FixedPointWarning(ConvergenceWarning):
    """Most starts of ``find_fixed_points`` converged to neither a fixed nor a slow point."""


@dataclass(frozen=True, eq=False, repr=False)
class FixedPoints:
    """Result of :func:`find_fixed_points` (rows sorted by member, fixed before slow, then
    by number of unstable directions).

    Attributes
    ----------
    points : array (K, n)
        The distinct fixed (and slow) points found.
    speed : array (K,)
        ``|G(x)|``: ``|f(x)|`` (state units per time unit) for flows, ``|F(x) - x|`` for maps.
    is_fixed : array (K,) of bool
        True for fixed points (speed <= tol), False for slow points.
    eigenvalues : array (K, n) complex
        Eigenvalues of the model Jacobian at each point (of df/dx for flows, dF/dx for maps),
        sorted by decreasing real part (flows) or modulus (maps).
    stability : array (K,) of str
        Fixed points: "stable" (every mode decays), "unstable" (every mode grows), "saddle"
        (both) or "marginal" (some mode within ``eig_tol`` of neutral: Re = 0 / |mu| = 1).
        Slow points (``is_fixed`` False): "slow point", whatever their linearisation (it
        is in ``eigenvalues`` and ``n_unstable``): a point that moves is not stable.
    n_unstable : array (K,) of int
        Number of growing modes (the index of a saddle), for slow points as well.
    hits : array (K,) of int
        How many starts converged to each point (a rough basin size under the solver).
    member : array (K,) of int
        Population member of each point (all 0 for a single model).
    kind : {"flow", "map"}
    u : array (n_in,)
        The constant input under which the points were found.
    n_failed : int
        Starts that converged to neither a fixed nor a slow point.
    """

    __repr__ = summary_repr

    points: np.ndarray
    speed: np.ndarray
    is_fixed: np.ndarray
    eigenvalues: np.ndarray
    stability: np.ndarray
    n_unstable: np.ndarray
    hits: np.ndarray
    member: np.ndarray
    kind: str
    u: np.ndarray
    n_failed: int

    def __len__(self) -> int:
        return len(self.points)

    @property
    def is_stable(self) -> np.ndarray:
        """(K,) bool: stable fixed points (slow points are never called stable)."""
        return self.is_fixed & (self.stability == "stable")

    @property
    def stable(self) -> np.ndarray:
        """(K_s, n) the stable fixed points."""
        return self.points[self.is_stable]

    def select(self, mask) -> "FixedPoints":
        """The rows where ``mask`` (bool (K,) or index array) holds."""
        idx = np.arange(len(self))[mask]
        return FixedPoints(self.points[idx], self.speed[idx], self.is_fixed[idx],
                           self.eigenvalues[idx], self.stability[idx], self.n_unstable[idx],
                           self.hits[idx], self.member[idx], self.kind, self.u,
                           self.n_failed)

    def for_member(self, k: int) -> "FixedPoints":
        """The points of population member k."""
        return self.select(self.member == k)

    def count(self, P: int | None = None, stable_only: bool = False) -> np.ndarray:
        """Number of fixed points per member (P,) (slow points excluded)."""
        mask = self.is_stable if stable_only else self.is_fixed
        return np.bincount(self.member[mask], minlength=P or (int(self.member.max()) + 1
                                                               if len(self) else 1))


@front_door()
def classify(eigenvalues, kind: str, eig_tol: float = 1e-8):
    """Stability labels and numbers of unstable modes from Jacobian eigenvalues.

    Parameters
    ----------
    eigenvalues : array (K, n) complex
    kind : {"flow", "map"}
        Flows grow along Re(lambda) > 0; maps along |mu| > 1.
    eig_tol : float
        Modes within eig_tol of neutral make the point "marginal".

    Returns
    -------
    stability : array (K,) of str, n_unstable : array (K,) of int
    """
    ev = np.asarray(eigenvalues)
    rate = ev.real if kind == "flow" else np.abs(ev) - 1.0
    grow = rate > eig_tol
    decay = rate < -eig_tol
    n_up = grow.sum(axis=-1)
    stab = np.where(grow.any(-1) & decay.any(-1), "saddle",
                    np.where(grow.all(-1), "unstable", np.where(decay.all(-1), "stable",
                                                                 "marginal")))
    stab = np.where(~(grow | decay).all(-1), "marginal", stab)
    return stab.astype(object), n_up.astype(np.int64)


def sort_eigenvalues(ev, kind: str):
    """Sort (K, n) eigenvalues by decreasing real part (flows) or modulus (maps), then by
    decreasing imaginary part so conjugate pairs sit together."""
    ev = np.asarray(ev)
    key = ev.real if kind == "flow" else np.abs(ev)
    order = np.lexsort((-ev.imag, -np.round(key, 12)), axis=-1)
    return np.take_along_axis(ev, order, axis=-1)


@front_door()
def jacobian_eigenvalues(model: Model, points, u=None, t: float = 0.0, member=None):
    """Eigenvalues (K, n) of the model Jacobian at points (K, n), sorted as in
    :func:`sort_eigenvalues`; one kernel call for all points (and members of a population)."""
    X = np.array(points, dtype=float).reshape(-1, model.n)
    K = analysis_module(model, population=model.P is not None)
    m = np.zeros(len(X), np.int64) if member is None else np.asarray(member, np.int64)
    U = np.array(np.broadcast_to(constant_input(model, u, "jacobian_eigenvalues"),
                                 (len(X), model.n_in)))
    J = np.empty((len(X), model.n, model.n))
    K.jacobians(float(t), X, m, U, model.kernel_params, model.discrete, J)
    return sort_eigenvalues(np.linalg.eigvals(J), model.kind) if len(X) else \
        np.empty((0, model.n), complex)


@front_door()
def vector_field(model: Model, points, u=None, t: float = 0.0) -> np.ndarray:
    """dy/dt (flows) or the next state F(x) (maps) at each of ``points`` (K, n) of a single
    model, under the constant input ``u``, in one parallel kernel call.

    Returns
    -------
    array (K, n)
    """
    check_model(model, "vector_field", single=True)
    X = as_array(points, "vector_field.points", (None, model.n)).copy()
    U = np.array(np.broadcast_to(constant_input(model, u, "vector_field"), (len(X), model.n_in)))
    out = np.empty_like(X)
    analysis_module(model, population=False).evaluate(
        float(t), X, np.zeros(len(X), np.int64), U, model.kernel_params, model.discrete,
        out)
    return out


@front_door()
def random_starts(model: Model, n_starts: int, bounds=None, seed=None, u=None) -> np.ndarray:
    """Starting states drawn uniformly from a box.

    Parameters
    ----------
    model : Model
    n_starts : int
        Starts per member.
    bounds : (low, high) or array (2, n), optional
        The box. Default: (-10, 10) for a flow; for a map, the box ``map_box`` finds by
        iterating the same draws, taken in [-1, 1], under the constant input ``u``.
    seed : int, Generator or None
    u : array (n_in,), optional
        Constant input of a map's box probe (default zeros).

    Returns
    -------
    array (n_starts, n), or (P, n_starts, n) for a population
    """
    check_model(model, "random_starts")
    rng = np.random.default_rng(seed)
    shape = (n_starts, model.n) if model.P is None else (model.P, n_starts, model.n)
    if bounds is None and model.discrete:
        R = rng.random(shape)
        lo, hi = map_box(model, 2.0 * R - 1.0, constant_input(model, u, "random_starts"))
        return lo + (hi - lo) * R
    b = as_array(GENERIC_BOUNDS if bounds is None else bounds, "bounds")
    if b.shape not in ((2,), (2, model.n)) or np.any(b[0] >= b[-1]):
        raise ValidationError("bounds", f"expected (low, high) with low < high, as shape (2,) "
                              f"or (2, {model.n}), got {b.tolist()}", bounds)
    lo, hi = b[0], b[1]
    return lo + (hi - lo) * rng.random(shape)


@front_door()
def map_box(model: Model, probes, u=None):
    """The start box of a map: [-1, 1] in every unit, widened to the range of the states the
    map visits from ``probes`` within 100 iterations (after 1, 10 and 100) under the
    constant input ``u``, and clipped to ``GENERIC_BOUNDS``.

    Every fixed point x = F(x) lies in the image of F. Cells squash their states: tanh
    units and GRUs (a convex mix of h and a tanh) stay in [-1, 1], sigmoid units in [0, 1],
    so fixed points lie there; a wider box only adds starts where saturated gates make
    F(x) - x vanish numerically (a GRU whose update gate z -> 1 gives |F(x) - x| ~ 1e-11 at
    |h| ~ 100) or stall Newton. States that are not squashed (an LSTM's cell state c, which
    settles near i g / (1 - f) and may exceed 1; relu units; user maps) reach their own
    range within the probe, whose visited states set the box (diverging probes are ignored).

    Parameters
    ----------
    model : Model
        A map, single or a population (one box for all members).
    probes : array (S, n) or (P, S, n)
        Initial states of the probe, e.g. uniform in [-1, 1].
    u : array (n_in,), optional
        Constant input (default zeros).

    Returns
    -------
    (low, high) : arrays (n,)
    """
    check_model(model, "map_box", kind="map")
    n, P = model.n, model.P
    X = np.array(probes, dtype=float).reshape(-1, n)  # a copy: advanced in place
    M = P or 1
    member = np.repeat(np.arange(M, dtype=np.int64), len(X) // M)
    U = np.array(np.broadcast_to(constant_input(model, u, "map_box"), (len(X), model.n_in)))
    status = np.empty(len(X), np.int64)
    K = integrator(model, population=P is not None)
    lo, hi = np.full(n, -1.0), np.full(n, 1.0)
    for steps in _PROBE_STEPS:
        K.final_states(model.kernel_params, X, U, member, steps, 1.0, 0, status)
        ok = np.all(np.isfinite(X), axis=1)
        if ok.any():
            lo, hi = np.minimum(lo, X[ok].min(axis=0)), np.maximum(hi, X[ok].max(axis=0))
    return np.maximum(lo, GENERIC_BOUNDS[0]), np.minimum(hi, GENERIC_BOUNDS[1])


@front_door()
def find_fixed_points(model: Model, n_starts: int = 64, *, starts=None, bounds=None,
                      u=None, t: float = 0.0, method: str = "auto", tol: float = 1e-10,
                      slow_speed: float | None = None, dedup_tol: float = 1e-6,
                      max_iter: int = 200, gtol: float = 1e-12, eig_tol: float = 1e-8,
                      seed=None, executor=None) -> FixedPoints:
    """Find fixed points (and slow points) of a flow or map under a constant input.

    Parameters
    ----------
    model : Model
        Any model with a Jacobian (CTRNN, Flow, Map, ...), single or a population (then
        every member gets its own starts, all solved in one parallel kernel call).
    n_starts : int
        Number of random starts per member (ignored when ``starts`` is given).
    starts : array (S, n) or (P, S, n), optional
        Explicit starting states, e.g. states visited by a trajectory (Sussillo & Barak).
    bounds : (low, high) or array (2, n), optional
        Box from which random starts are drawn uniformly. Default: (-10, 10) in every unit
        for a flow (CTRNN, user flows); for a map, [-1, 1] widened to the range of the states
        the map visits under ``u`` (``map_box``): [-1, 1] for tanh/sigmoid and gated cells,
        plus an LSTM's cell-state range.
    u : array (n_in,), optional
        Constant input (default zeros).
    t : float
        Time at which a non-autonomous flow is evaluated.
    method : {"auto", "newton", "minimize"}
        "newton": damped Newton; "minimize": L-BFGS on q then Newton polish (no factorisation;
        finds slow points better); "auto": newton for n <= 512, else minimize.
    tol : float
        A point is fixed when ``|G(x)|_2 <= tol``.
    slow_speed : float, optional
        Keep stationary points of q with ``|G| <= slow_speed`` as slow points (default: none
        kept; Sussillo & Barak use small values relative to the typical speed).
    dedup_tol : float
        Points closer than ``dedup_tol (1 + |x|_inf)`` in max-norm are one point.
    max_iter : int
        Iteration budget per start.
    gtol : float
        A start stops at a stationary point of q (a slow point, or a failure) when
        ``|grad q| = |J_G^T G| <= gtol``.
    eig_tol : float
        Neutrality band of the stability classification.
    seed : int, Generator or None
        Seed of the random starts.
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        None: every start in one in-process kernel; otherwise the starts (or the members of
        a population) are split in chunks over the executor's workers
        (``rnndyn.integrate.executors``), with identical results.

    Returns
    -------
    FixedPoints

    Raises
    ------
    ValidationError
        If n_starts < 1, starts have the wrong shape, or another
        argument is out of range.

    Warns
    -----
    FixedPointWarning
        (a RuntimeWarning) if more than 75% of the starts converge to no kept point: the
        points found may be a small part of those there are.
    """
    where = "find_fixed_points"
    check_model(model, where)
    if method not in METHODS:
        raise ValidationError(f"{where}.method", f"unknown method {method!r}; choose one of "
                              f"{METHODS}", method)
    tol = positive(tol, f"{where}.tol")
    dedup_tol = positive(dedup_tol, f"{where}.dedup_tol")
    max_iter = positive_int(max_iter, f"{where}.max_iter")
    if slow_speed is not None:
        slow_speed = positive(slow_speed, f"{where}.slow_speed")
    n, P = model.n, model.P
    u = constant_input(model, u, where)
    if starts is None:
        n_starts = positive_int(n_starts, f"{where}.n_starts")
        X = random_starts(model, n_starts, bounds, seed, u)
    else:
        X = as_array(starts, f"{where}.starts")
        want = (None, n) if P is None else (P, None, n)
        if P is not None and X.ndim == 2 and X.shape[1] == n:
            X = np.broadcast_to(X, (P,) + X.shape)
        if X.ndim != len(want) or X.shape[-1] != n or (P is not None and X.shape[0] != P) \
                or X.shape[-2] < 1:
            shape = f"(S, {n})" if P is None else f"(S, {n}) or ({P}, S, {n})"
            raise ValidationError(f"{where}.starts", f"expected shape {shape} with S >= 1, got "
                                  f"{X.shape}", starts)
    S = X.shape[-2]
    M = P or 1
    member = np.repeat(np.arange(M, dtype=np.int64), S)
    gtol = positive(gtol, f"{where}.gtol")
    check_executor(executor, f"{where}.executor")
    use_newton = method == "newton" or (method == "auto" and n <= 512)
    X, Q, status = map_population(
        _refine, executor, model, (X if P is None else X.reshape(M, S, n),),
        (float(t), u, tol, gtol, max_iter, use_newton))
    X, Q, status = X.reshape(M * S, n), Q.ravel(), status.ravel()
    speed = np.sqrt(2.0 * np.maximum(Q, 0.0))
    finite = np.isfinite(speed) & np.all(np.isfinite(X), axis=1)
    fixed = finite & (speed <= tol)
    slow = finite & ~fixed & (status == 2) & (speed <= (slow_speed or 0.0))
    ok = fixed | slow
    rep = np.empty(M * S, np.int64)
    # slow points rank after fixed points so a fixed point represents its neighbourhood
    rank = np.where(fixed, Q, 1.0 + speed)
    _kernels.dedup(X, rank, ok, np.arange(M + 1, dtype=np.int64) * S, dedup_tol, rep)
    reps = np.flatnonzero(rep == np.arange(M * S))
    hits = np.bincount(rep[rep >= 0], minlength=M * S)[reps]
    pts, mem = X[reps], member[reps]
    ev = jacobian_eigenvalues(model, pts, u, t, mem)
    stab, n_up = classify(ev, model.kind, eig_tol)
    stab = np.where(fixed[reps], stab, SLOW).astype(object)
    n_failed = int((~ok).sum())
    if n_failed > FAIL_WARNING_FRACTION * (M * S):
        warn(
            f"{where}: {n_failed} of {M * S} starts ({100 * n_failed / (M * S):.0f}%) "
            f"converged to neither a fixed point (|G| <= tol={tol:g}) nor a kept slow point, "
            "so points may be missing; try starts near states the model visits (starts=...), "
            f"a box matching its state range (bounds=...), a larger max_iter (now {max_iter}), "
            "method='minimize', or slow_speed=... to keep slow points", FixedPointWarning)
    order = np.lexsort((pts[:, 0] if len(pts) else pts, n_up, ~fixed[reps], mem)) \
        if len(pts) else np.arange(0)
    return FixedPoints(points=pts[order], speed=speed[reps][order], is_fixed=fixed[reps][order],
                       eigenvalues=ev[order], stability=stab[order], n_unstable=n_up[order],
                       hits=hits[order], member=mem[order], kind=model.kind, u=u,
                       n_failed=n_failed)


def _refine(model, X, t, u, tol, gtol, max_iter, newton):
    """Newton or L-BFGS on q = |G|^2 / 2 from the starts X: (S, n) of a single model, or
    (m, S, n) of a population of m. Returns the refined X, q and the solver status, shaped
    like the starts."""
    lead = X.shape[:-1]
    m, S = (1, X.shape[0]) if X.ndim == 2 else X.shape[:2]
    Xf = np.array(X.reshape(m * S, model.n), dtype=float)  # writeable: refined in place
    U = np.array(np.broadcast_to(u, (m * S, model.n_in)))
    Q = np.empty(m * S)
    status = np.empty(m * S, np.int64)
    iters = np.empty(m * S, np.int64)
    K = analysis_module(model, population=model.P is not None)
    solver = K.newton_many if newton else K.lbfgs_many
    solver(t, Xf, np.repeat(np.arange(m, dtype=np.int64), S), U, model.kernel_params,
           model.discrete, tol, gtol, max_iter, Q, status, iters)
    return Xf.reshape(X.shape), Q.reshape(lead), status.reshape(lead)
