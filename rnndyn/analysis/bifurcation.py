"""Attractors and bifurcations: orbit classification, orbit diagrams, continuation.

* :func:`classify_orbit` -- fixed point, limit cycle (with its period), or aperiodic, then
  chaotic vs quasi-periodic by the sign of the largest Lyapunov exponent.
* :func:`orbit_diagram` -- asymptotic local maxima (or Poincare-section values) of one
  variable over a range of one parameter, from ONE simulation of a stacked population whose
  members differ in that parameter.
* :func:`continuation` -- pseudo-arclength continuation of equilibria / fixed points along
  one parameter (Keller 1977; Kuznetsov, Elements of Applied Bifurcation Theory, ch. 10)
  with fold, Hopf (flows), flip and Neimark-Sacker (maps) points located from the Jacobian's
  eigenvalues.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import front_door, positive, positive_int
from ..integrate.plumbing import check_model
from .._summary import summary_repr
from ..errors import ValidationError
from ..integrate import simulate
from ..models.base import Model, as_array
from . import _kernels
from ._common import constant_input, family, population_over
from .fixed_points import classify, find_fixed_points, sort_eigenvalues

ORBIT_KINDS = ("fixed point", "periodic", "chaotic", "quasi-periodic", "aperiodic", "diverged")


@dataclass(frozen=True, eq=False, repr=False)
class OrbitClass:
    """Result of :func:`classify_orbit` (arrays (P,) for a population).

    Attributes
    ----------
    kind : str or array of str
        "fixed point", "periodic" (a limit cycle of a flow / a cycle of a map), "chaotic"
        (largest exponent > threshold), "quasi-periodic" (aperiodic with exponent ~ 0),
        "aperiodic" (no Lyapunov module available) or "diverged".
    period : float or array
        Period in time units (flows) or steps (maps); 0 for a fixed point, NaN otherwise.
    lyapunov : float or array
        Largest Lyapunov exponent (computed only for aperiodic orbits, else NaN).
    final_state : array (n,) or (P, n)
    """

    __repr__ = summary_repr

    kind: object
    period: object
    lyapunov: object
    final_state: np.ndarray


def _record(model, y0, t_transient, t_record, dt, u, method, where, executor=None):
    """Simulate the transient, then record every step: returns (times (T,), Y (P, T, n))."""
    if model.discrete:
        t_transient = int(positive_int(int(t_transient), f"{where}.t_transient", 0))
        n_rec = positive_int(int(t_record), f"{where}.t_record", 2)
        t = np.arange(t_transient + n_rec, dtype=float)  # a map runs every step
        step = 1.0
    else:
        dt = positive(dt, f"{where}.dt")
        if not (np.isfinite(t_transient) and t_transient >= 0):
            raise ValidationError(f"{where}.t_transient", f"must be >= 0, got {t_transient!r}")
        t_record = positive(t_record, f"{where}.t_record")
        n_rec = int(round(t_record / dt)) + 1
        rec = t_transient + dt * np.arange(n_rec)
        t = rec if t_transient == 0 else np.concatenate([[0.0], rec])
        step = dt
    inputs = None
    if model.n_in:
        uu = constant_input(model, u, where)
        inputs = np.broadcast_to(uu, (len(t), model.n_in)).copy()
    tr = simulate(model, y0, t, dt=None if model.discrete else dt, method=method,
                  inputs=inputs, on_divergence="return", executor=executor)
    Y = tr.y if model.P is not None else tr.y[:, None]
    Y = Y[-n_rec:] if len(Y) >= n_rec else np.full((n_rec,) + Y.shape[1:], np.nan)
    return t[-n_rec:], np.ascontiguousarray(Y.transpose(1, 0, 2)), step


def _largest_lyapunov(model, y0, t_total, dt, u, seed):
    try:
        from .lyapunov import largest_lyapunov
    except ImportError:
        return None
    inputs = None
    if model.n_in:
        uu = constant_input(model, u, "classify_orbit")
        inputs = lambda t: uu  # noqa: E731
    res = largest_lyapunov(model, y0, t_total, dt, inputs=inputs, seed=seed)
    return np.asarray(getattr(res, "largest", res), dtype=float)


@front_door()
def classify_orbit(model: Model, y0, t_transient: float, t_record: float,
                   dt: float | None = None, *, u=None, method: str = "rk4", tol: float = 1e-3,
                   max_period: int = 16, chaos_threshold: float = 0.01,
                   lyapunov_time: float | None = None, seed=None) -> OrbitClass:
    """Classify the attractor reached from ``y0``.

    After the transient the orbit is recorded every step. Its spread below
    ``tol (1 + |x|)`` means a fixed point. A map is periodic with the smallest period
    q <= max_period with ``|x_{t+q} - x_t| <= tol (1 + |x|)`` over the whole record. A flow's
    orbit is cut by a Poincare section (upward crossings of its widest-ranging coordinate
    through its mean); if the section points repeat after q crossings it is a limit cycle
    whose period is the mean return time of q crossings. Other orbits get the largest
    Lyapunov exponent (``rnndyn.analysis.lyapunov.largest_lyapunov`` over ``lyapunov_time``,
    default 10 t_record): above ``chaos_threshold`` "chaotic", else "quasi-periodic".

    Parameters
    ----------
    model : Model
        Any model, single or population (one simulation for all members).
    y0 : array (n,) or (P, n)
    t_transient, t_record : float
        Durations (time units; steps for maps) discarded and recorded. The record must hold
        at least a few periods of the slowest cycle of interest.
    dt : float
        Integration (and sampling) step of flows; ignored for maps.
    u : array (n_in,), optional
        Constant input.
    tol : float
        Relative recurrence tolerance; for flows it must exceed the O(dt^2) error of the
        linearly interpolated section points.
    max_period : int
        Largest period (in section crossings / map steps) looked for.

    Returns
    -------
    OrbitClass
    """
    where = "classify_orbit"
    check_model(model, where)
    tol = positive(tol, f"{where}.tol")
    max_period = positive_int(max_period, f"{where}.max_period")
    times, Y, step = _record(model, y0, t_transient, t_record, dt, u, method, where)
    P = Y.shape[0]
    code = np.empty(P, np.int64)
    period = np.empty(P)
    events = np.empty(P, np.int64)
    _kernels.classify_orbits(Y, model.discrete, tol, max_period, code, period, events)
    period = period * step
    names = np.array(["fixed point", "periodic", "aperiodic", "diverged"], dtype=object)[code]
    lyap = np.full(P, np.nan)
    sel = np.flatnonzero(code == 2)
    if sel.size:
        T_l = lyapunov_time or 10.0 * (max(t_record, 100) if model.discrete else t_record)
        if model.discrete:
            T_l = int(T_l)
        if model.P is None:
            sub, y_end = model, Y[0, -1]
        else:  # only the aperiodic members (usually few) pay for the exponent
            sub = type(model).stack([model[int(k)] for k in sel])
            y_end = Y[sel, -1]
        lam = _largest_lyapunov(sub, y_end, T_l, None if model.discrete else dt, u, seed)
        if lam is not None:
            lam = np.asarray(lam).reshape(-1)
            lyap[sel] = lam
            names[sel] = np.where(lam > chaos_threshold, "chaotic", "quasi-periodic")
    final = Y[:, -1]
    if model.P is None:
        return OrbitClass(str(names[0]), float(period[0]), float(lyap[0]), final[0])
    return OrbitClass(names, period, lyap, final)


@dataclass(frozen=True, eq=False, repr=False)
class OrbitDiagram:
    """Result of :func:`orbit_diagram`.

    Attributes
    ----------
    values : array (V,)
        Parameter values swept.
    param : array (K,)
        Parameter value of each point (for a scatter plot).
    points : array (K,)
        Local maxima / section values / map iterates of the chosen variable.
    variable : int
    mode : {"maxima", "section", "iterates"}
    diverged : array (V,) of bool
        Members whose orbit became non-finite (they contribute no points).
    """

    __repr__ = summary_repr

    values: np.ndarray
    param: np.ndarray
    points: np.ndarray
    variable: int
    mode: str
    diverged: np.ndarray

    def at(self, value) -> np.ndarray:
        """Points at the swept value nearest ``value``."""
        v = self.values[np.argmin(np.abs(self.values - value))]
        return self.points[self.param == v]


@front_door()
def orbit_diagram(model: Model, param, values, y0, t_transient: float, t_record: float,
                  dt: float | None = None, *, variable: int = 0, section=None, u=None,
                  method: str = "rk4", max_points: int | None = None,
                  executor=None) -> OrbitDiagram:
    """Orbit (bifurcation) diagram over one parameter from one population simulation.

    Parameters
    ----------
    model : Model
        A single model; the population of ``len(values)`` members differing in ``param`` is
        built from it (see ``param``) and simulated in one parallel call.
    param : (field, index), field name, or callable value -> Model
        The parameter: e.g. ``("bias", 0)`` of a CTRNN, ``("p", 0)`` of ``logistic_map()``.
    values : array (V,)
        Parameter values.
    y0 : array (n,) or (V, n)
        Initial state(s).
    t_transient, t_record : float
        Discarded and recorded durations (time units; steps for maps).
    dt : float
        Step of flows (ignored for maps).
    variable : int
        State component plotted.
    section : (int, float), optional
        Flows: plot ``variable`` at the upward crossings of coordinate ``section[0]`` through
        the level ``section[1]`` (a Poincare section) instead of at its local maxima.
    u : array (n_in,), optional
        Constant input.
    max_points : int, optional
        Keep at most this many (the last) points per parameter value.
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where the population runs (see ``simulate``); None: one in-process kernel.

    Returns
    -------
    OrbitDiagram
    """
    where = "orbit_diagram"
    check_model(model, where, single=True)
    values = as_array(values, f"{where}.values")
    if values.ndim != 1 or values.size < 1:
        raise ValidationError(f"{where}.values", f"expected a 1-D array of parameter values, "
                              f"got shape {values.shape}", values)
    if not isinstance(variable, (int, np.integer)) or not 0 <= variable < model.n:
        raise ValidationError(f"{where}.variable", f"must be a state index in [0, {model.n}), "
                              f"got {variable!r}", variable)
    pop = population_over(model, param, values, where)
    y0 = as_array(y0, f"{where}.y0")
    times, Y, _ = _record(pop, y0, t_transient, t_record, dt, u, method, where, executor)
    V, T, _ = Y.shape
    diverged = ~np.all(np.isfinite(Y), axis=(1, 2))
    x = Y[:, :, variable]
    if model.discrete:
        mode = "iterates"
        mask = np.ones_like(x, dtype=bool)
        pts = x
    elif section is None:
        mode = "maxima"
        a, b, c = x[:, :-2], x[:, 1:-1], x[:, 2:]
        inner = (b > a) & (b >= c)
        den = a - 2.0 * b + c
        with np.errstate(divide="ignore", invalid="ignore"):
            peak = np.where(den < 0, b - (a - c) ** 2 / (8.0 * den), b)  # parabolic refinement
        mask = np.zeros_like(x, dtype=bool)
        mask[:, 1:-1] = inner
        pts = np.zeros_like(x)
        pts[:, 1:-1] = peak
    else:
        mode = "section"
        c_idx, level = int(section[0]), float(section[1])
        if not 0 <= c_idx < model.n:
            raise ValidationError(f"{where}.section", f"coordinate must be in [0, {model.n}), "
                                  f"got {section!r}", section)
        s = Y[:, :, c_idx] - level
        up = (s[:, :-1] < 0) & (s[:, 1:] >= 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = np.where(up, s[:, :-1] / (s[:, :-1] - s[:, 1:]), 0.0)
            mask = np.zeros_like(x, dtype=bool)
            mask[:, :-1] = up
            pts = np.zeros_like(x)
            pts[:, :-1] = (1 - w) * x[:, :-1] + w * x[:, 1:]
    mask &= ~diverged[:, None]
    if max_points is not None:
        max_points = positive_int(max_points, f"{where}.max_points")
        keep = np.cumsum(mask[:, ::-1], axis=1)[:, ::-1] <= max_points
        mask &= keep
    rows, cols = np.nonzero(mask)
    return OrbitDiagram(values, values[rows], pts[rows, cols], int(variable), mode, diverged)


# -- continuation ---------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Bifurcation:
    """A located codimension-one bifurcation of equilibria / fixed points.

    kind: "fold" (a real eigenvalue crosses 0 for flows / +1 for maps: the branch turns),
    "hopf" (flows: a complex pair crosses the imaginary axis), "flip" (maps: an eigenvalue
    crosses -1), "neimark-sacker" (maps: a complex pair crosses the unit circle).
    """

    __repr__ = summary_repr

    kind: str
    param: float
    state: np.ndarray
    eigenvalues: np.ndarray
    index: int  # the branch point after which it lies


@dataclass(frozen=True, eq=False, repr=False)
class Branch:
    """Result of :func:`continuation`.

    Attributes
    ----------
    params : array (N,)
        Parameter along the branch.
    states : array (N, n)
    eigenvalues : array (N, n) complex
    stability : array (N,) of str
    bifurcations : list of Bifurcation
    message : str
        Why the continuation stopped.
    """

    __repr__ = summary_repr

    params: np.ndarray
    states: np.ndarray
    eigenvalues: np.ndarray
    stability: np.ndarray
    bifurcations: list = field(default_factory=list)
    message: str = ""

    def of(self, kind: str) -> list:
        """The bifurcations of one kind."""
        return [b for b in self.bifurcations if b.kind == kind]


def _param_column(model, param):
    """(field, position in ``to_vector(field)``) of a (field, index) / field-name parameter
    whose derivative the model's kernels give, else None (callables, non-parameter fields,
    entries outside a topology mask)."""
    if callable(param):
        return None
    name, index = (param, None) if isinstance(param, str) else (tuple(param) + (None,))[:2]
    shape = model.param_fields.get(name)
    if shape is None:
        return None
    flat = np.ravel_multi_index(index if isinstance(index, tuple) else
                                (() if index is None else (index,)), shape)
    free = model._free_flat(name, shape)
    pos = np.searchsorted(free, flat)
    return (name, int(pos)) if pos < len(free) and free[pos] == flat else None


class _Problem:
    """G(x; lam) and its derivatives for the continuation (single model, constant input)."""

    def __init__(self, build, u, t, h, column):
        self.build, self.u, self.t, self.h = build, u, t, h
        self.column = column

    def G(self, x, lam):
        return self.build(lam).residual(x, self.u, self.t)

    def GJ(self, x, lam):
        m = self.build(lam)
        return m.residual(x, self.u, self.t), m.residual_jacobian(x, self.u, self.t)

    def G_lam(self, x, lam):
        if self.column is not None:  # the model's parameter derivative dF/dtheta
            m = self.build(lam)
            field, pos = self.column
            return m.param_jacobian(*m.point(x, self.u, self.t), fields=field)[:, pos]
        h = self.h * (1.0 + abs(lam))  # a callable parameter: central difference in lam
        return (self.G(x, lam + h) - self.G(x, lam - h)) / (2.0 * h)

    def extended(self, z):
        x, lam = z[:-1], z[-1]
        G, JG = self.GJ(x, lam)
        return G, np.hstack([JG, self.G_lam(x, lam)[:, None]])

    def tangent(self, A, v_prev):
        """Unit null vector of A (n, n+1), oriented along v_prev."""
        _, _, Vt = np.linalg.svd(A)
        v = Vt[-1]
        return v if v @ v_prev >= 0 else -v

    def correct(self, zp, v, tol, max_iter=8):
        """Newton on [G(z); v.(z - zp)] = 0; returns (z, converged, iterations)."""
        z = zp.copy()
        for it in range(max_iter):
            G, A = self.extended(z)
            r = np.concatenate([G, [v @ (z - zp)]])
            if not np.all(np.isfinite(r)):
                return z, False, it
            if np.linalg.norm(G) <= tol and it > 0:
                return z, True, it
            M = np.vstack([A, v])
            try:
                dz = np.linalg.solve(M, -r)
            except np.linalg.LinAlgError:
                return z, False, it
            z = z + dz
            if np.linalg.norm(dz) <= 1e-13 * (1 + np.linalg.norm(z)):
                G = self.G(z[:-1], z[-1])
                return z, bool(np.linalg.norm(G) <= max(tol, 1e-9)), it + 1
        G = self.G(z[:-1], z[-1])
        return z, bool(np.linalg.norm(G) <= tol), max_iter

    def eig(self, z):
        m = self.build(z[-1])
        return np.linalg.eigvals(m.jacobian(*m.point(z[:-1], self.u, self.t)))


def _tests(kind, ev, v, im_tol=1e-7):
    """Test functions whose sign changes mark bifurcations (NaN = not defined here)."""
    scale = 1.0 + np.abs(ev).max()
    cplx = ev[np.abs(ev.imag) > im_tol * scale]
    out = {"fold": v[-1]}
    if kind == "flow":
        out["hopf"] = cplx.real.max() if cplx.size else np.nan
    else:
        real = ev[np.abs(ev.imag) <= im_tol * scale].real
        out["flip"] = np.prod(real + 1.0) if real.size else np.nan
        out["neimark-sacker"] = np.abs(cplx).max() - 1.0 if cplx.size else np.nan
    return out


@front_door()
def continuation(model: Model, param, start: float, stop: float, x0=None, *, u=None,
                 t: float = 0.0, ds: float = 0.01, ds_min: float = 1e-7, ds_max: float = 0.1,
                 max_steps: int = 5000, tol: float = 1e-10, fd_step: float = 1e-6,
                 eig_tol: float = 1e-8, seed=None) -> Branch:
    """Follow a branch of equilibria (flows) or fixed points (maps) along one parameter.

    Pseudo-arclength continuation: tangent predictor of length ds, Newton corrector on the
    extended system ``[G(x; lam) = 0, v . (z - z_pred) = 0]`` (so folds, where the branch
    turns back in lam, are passed), step size adapted to the corrector's effort. dG/dx is
    the model's Jacobian; dG/dlam is the model's parameter derivative (``param_jacobian``)
    for a (field, index) parameter, and a central difference for a callable one. Bifurcations are detected from sign
    changes of test functions between consecutive points and located by bisection in
    arclength: fold = the lam-component of the tangent; Hopf = the real part of the leading
    complex pair (flows); flip = prod(mu + 1) over real eigenvalues, Neimark-Sacker =
    |mu| - 1 of the leading complex pair (maps).

    Parameters
    ----------
    model : Model
        A single model.
    param : (field, index), field name or callable value -> Model
        The continuation parameter (see ``orbit_diagram``).
    start, stop : float
        The branch starts at lam = start heading towards stop, and ends when lam leaves the
        closed interval between them.
    x0 : array (n,), optional
        A state near an equilibrium at lam = start; default: the most stable equilibrium
        found by ``find_fixed_points`` there.
    u : array (n_in,), optional
        Constant input.
    ds, ds_min, ds_max : float
        Initial, smallest and largest arclength step (in (x, lam) space).
    max_steps : int
    tol : float
        Newton tolerance on |G|.
    fd_step : float
        Relative step of the dG/dlam difference quotient (callable ``param`` only).

    Returns
    -------
    Branch

    Raises
    ------
    ValidationError
        On a population, start == stop, bad step sizes, or if no
        equilibrium is found at ``start``.
    """
    where = "continuation"
    check_model(model, where, single=True)
    build = family(model, param, where)
    start, stop = float(start), float(stop)
    if not (np.isfinite(start) and np.isfinite(stop)) or start == stop:
        raise ValidationError(f"{where}.stop", f"needs finite start != stop, got {start!r}, "
                              f"{stop!r}", stop)
    ds, ds_min, ds_max = (positive(v, f"{where}.{k}") for k, v in
                          (("ds", ds), ("ds_min", ds_min), ("ds_max", ds_max)))
    max_steps = positive_int(max_steps, f"{where}.max_steps")
    uu = constant_input(model, u, where)
    prob = _Problem(build, uu, float(t), positive(fd_step, f"{where}.fd_step"),
                    _param_column(model, param))
    m0 = build(start)
    if x0 is None:
        fp = find_fixed_points(m0, 32, u=uu if model.n_in else None, t=t, seed=seed)
        if not len(fp):
            raise ValidationError(f"{where}.x0", f"no equilibrium found at {param!r} = {start};"
                                  " pass x0 near one", x0)
        x0 = fp.points[0]
    x0 = as_array(x0, f"{where}.x0", (model.n,)).copy()
    # converge at fixed lam first
    fp = find_fixed_points(m0, starts=x0[None], u=uu if model.n_in else None, t=t, tol=tol,
                           method="newton")
    if not (len(fp) and fp.is_fixed[0]):
        raise ValidationError(f"{where}.x0", f"Newton from x0 = {x0.tolist()} found no "
                              f"equilibrium at {param!r} = {start}; pass a better x0", x0)
    z = np.append(fp.points[0], start)
    direction = np.sign(stop - start)
    e = np.zeros(model.n + 1)
    e[-1] = direction
    _, A = prob.extended(z)
    v = prob.tangent(A, e)
    lo, hi = min(start, stop), max(start, stop)
    zs, evs, bifs = [z], [prob.eig(z)], []
    tests = [_tests(model.kind, evs[0], v)]
    tangents = [v]
    message = "reached max_steps"
    for _ in range(max_steps):
        z_new, ok, it = prob.correct(z + ds * v, v, tol)
        if not ok:
            ds *= 0.5
            if ds < ds_min:
                message = "step size underflow (the branch may end or turn sharply here)"
                break
            continue
        _, A = prob.extended(z_new)
        v_new = prob.tangent(A, v)
        ev = prob.eig(z_new)
        tst = _tests(model.kind, ev, v_new)
        for name, val in tst.items():
            old = tests[-1][name]
            if np.isfinite(old) and np.isfinite(val) and np.sign(old) != np.sign(val) \
                    and old != 0:
                b = _locate(prob, model.kind, name, z, v, ds, old, tol)
                if b is not None:
                    lam_b, x_b, ev_b = b
                    bifs.append(Bifurcation(name, lam_b, x_b, sort_eigenvalues(ev_b[None],
                                            model.kind)[0], len(zs) - 1))
        z, v = z_new, v_new
        zs.append(z)
        evs.append(ev)
        tests.append(tst)
        tangents.append(v)
        if not lo <= z[-1] <= hi:
            message = f"left the interval [{lo}, {hi}]"
            break
        ds = min(ds * 1.3, ds_max) if it <= 3 else max(ds * 0.7, ds_min)
    Z = np.array(zs)
    EV = sort_eigenvalues(np.array(evs), model.kind)
    stab, _ = classify(EV, model.kind, eig_tol)
    return Branch(Z[:, -1], Z[:, :-1], EV, stab, bifs, message)


def _locate(prob, kind, name, z, v, ds, f_a, tol, iters=60):
    """Bisection in arclength between z (sigma=0) and the next point (sigma=ds)."""
    a, b = 0.0, ds
    best = None
    for _ in range(iters):
        mid = 0.5 * (a + b)
        zm, ok, _ = prob.correct(z + mid * v, v, tol)
        if not ok:
            return best
        _, A = prob.extended(zm)
        vm = prob.tangent(A, v)
        ev = prob.eig(zm)
        f = _tests(kind, ev, vm)[name]
        if not np.isfinite(f):
            return best
        best = (float(zm[-1]), zm[:-1].copy(), ev)
        if np.sign(f) == np.sign(f_a):
            a = mid
        else:
            b = mid
        if b - a <= 1e-12 * (1 + abs(ds)):
            break
    return best
