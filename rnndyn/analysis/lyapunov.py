"""Lyapunov exponents of any model through the model protocol (``rnndyn.models.base``).

``lyapunov_spectrum`` computes the k largest exponents (or the full spectrum) with the
QR method of Benettin, Galgani, Giorgilli & Strelcyn (1980, Meccanica 15:9) and Shimada &
Nagashima (1979, Prog. Theor. Phys. 61:1605): a basis of k tangent vectors is propagated by
the Jacobian (analytic, else central differences) alongside the trajectory and re-orthonormalised (QR) at fixed
intervals; the exponents are the time averages of ln|diag R|. For a flow the tangent system
``dY/dt = J(t, y) Y`` is integrated with the model's fixed-step integrator (the same
euler/rk4 stages as the state, so Y is the exact derivative of the discrete flow map); for a
map ``Y <- J Y`` each step. ``largest_lyapunov`` estimates the largest exponent from two
nearby trajectories (no Jacobian needed), as a cross-check. Driven models give conditional
exponents under the given input. Populations (``Model.stack``) run in one parallel kernel.

``kaplan_yorke_dimension`` (Kaplan & Yorke 1979) and ``ks_entropy`` (Pesin 1977: the
Kolmogorov-Sinai entropy rate equals the sum of the positive exponents for an SRB measure)
turn a spectrum into attractor dimension and entropy rate.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._blas import blas_threads_for
from .._validate import front_door, positive, warn
from .._summary import summary_repr
from .._jit import bind
from . import _lyapunov_kernels
from ..errors import ConvergenceWarning, DivergenceError, ValidationError
from ..executors import check_executor, map_population
from ..integrate.plumbing import initial_state, input_samples
from ..models.base import Model

__all__ = ["lyapunov_spectrum", "largest_lyapunov", "kaplan_yorke_dimension", "ks_entropy",
           "LyapunovResult", "ConvergenceWarning"]

_HERE = Path(__file__).parent
_METHODS = {"euler": 0, "rk4": 1}
#: at most this many running estimates are stored per exponent (evenly spaced checkpoints)
MAX_HISTORY = 1000
#: ln of the growth ratio between the strongest and weakest tangent vector beyond which one
#: re-orthonormalisation interval loses the weak directions to rounding (e^25 ~ 7e10)
_MAX_LOG_SPREAD = 25.0


@dataclass(frozen=True, eq=False, repr=False)
class LyapunovResult:
    """Lyapunov exponents with their convergence history.

    Attributes
    ----------
    exponents : array (k,) or (P, k)
        Exponents sorted in descending order, in 1/time units (a map: per step divided by dt,
        i.e. per step for dt = 1). A population carries a leading axis P.
    history : array (n_checkpoints, k) or (P, n_checkpoints, k)
        Running estimates at the checkpoints (columns in the order of ``exponents``).
    times : array (n_checkpoints,)
        Elapsed measuring time (after the transient) at each checkpoint; steps * dt for maps.
    converged : bool or array (P,) of bool
        Whether the running estimate of every exponent i settled to within
        ``tol * max(1, |lambda_i|)`` over the last half of the run.
    message : str
        Human-readable account of the convergence (what to change if it did not converge).
    method : str
        ``"qr"`` (Benettin/QR on the tangent dynamics) or ``"two-trajectory"``.
    n : int
        State dimension of the model (a spectrum with ``k == n`` is complete).
    """

    __repr__ = summary_repr

    exponents: np.ndarray
    history: np.ndarray
    times: np.ndarray
    converged: bool | np.ndarray
    message: str
    method: str
    n: int

    @property
    def largest(self) -> float | np.ndarray:
        """The largest exponent (float, or (P,) for a population)."""
        top = self.exponents[..., 0]
        return float(top) if np.ndim(top) == 0 else top

    @property
    def complete(self) -> bool:
        """True if all n exponents were computed."""
        return self.exponents.shape[-1] == self.n

    def kaplan_yorke(self) -> float | np.ndarray:
        """Kaplan-Yorke dimension of the spectrum (see ``kaplan_yorke_dimension``)."""
        return kaplan_yorke_dimension(self.exponents)

    def ks_entropy(self) -> float | np.ndarray:
        """Kolmogorov-Sinai entropy rate, the sum of the positive exponents (see ``ks_entropy``)."""
        return ks_entropy(self.exponents)


# -- spectrum -> invariants -----------------------------------------------------------------
def _spectrum_array(spectrum, name):
    s = np.asarray(spectrum, dtype=float)
    if s.ndim < 1 or s.shape[-1] < 1:
        raise ValidationError(name, f"expected a non-empty array of exponents (k,) or (P, k), "
                              f"got shape {s.shape}", spectrum)
    if np.isnan(s).any():
        raise ValidationError(name, "contains NaN; compute the spectrum first (a diverged run "
                              "has no exponents)", spectrum)
    return -np.sort(-s, axis=-1)


@front_door()
def kaplan_yorke_dimension(spectrum) -> float | np.ndarray:
    """Kaplan-Yorke (Lyapunov) dimension ``D = j + (lambda_1 + ... + lambda_j) / |lambda_{j+1}|``.

    j is the largest number of exponents (sorted descending) whose sum is >= 0 (Kaplan &
    Yorke 1979, Lecture Notes in Math. 730:204).

    Parameters
    ----------
    spectrum : array (k,) or (..., k)
        Lyapunov exponents, any order.

    Returns
    -------
    float or array (...)
        0 if the largest exponent is negative. If the partial sums never turn negative the
        dimension is k: exact for a complete spectrum, a lower bound for a partial one.

    Raises
    ------
    ValidationError
        If the spectrum is empty or contains NaN.
    """
    s = _spectrum_array(spectrum, "spectrum")
    cums = np.cumsum(s, axis=-1)
    k = s.shape[-1]
    # partial sums of a descending spectrum rise while exponents are positive, then fall:
    # the sums >= 0 form a prefix, whose length is j
    j = np.sum(cums >= 0, axis=-1)
    jj = np.minimum(j, k - 1)
    num = np.take_along_axis(cums, np.maximum(jj - 1, 0)[..., None], axis=-1)[..., 0]
    den = np.abs(np.take_along_axis(s, jj[..., None], axis=-1)[..., 0])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # unused j = 0 lanes
        frac = np.where(j > 0, num / den, 0.0)
    D = np.where(j >= k, float(k), j + frac)
    D = np.where(s[..., 0] < 0, 0.0, D)
    return float(D) if D.ndim == 0 else D


@front_door()
def ks_entropy(spectrum) -> float | np.ndarray:
    """Kolmogorov-Sinai entropy rate from Pesin's identity: the sum of the positive exponents.

    Parameters
    ----------
    spectrum : array (k,) or (..., k)
        Lyapunov exponents (1/time units); a partial spectrum must contain every positive one.

    Returns
    -------
    float or array (...)
        Entropy rate in nats per time unit (per step for a map).
    """
    s = _spectrum_array(spectrum, "spectrum")
    h = np.sum(np.where(s > 0, s, 0.0), axis=-1)
    return float(h) if h.ndim == 0 else h


# -- kernels --------------------------------------------------------------------------------
def _kernels(model: Model):
    template = "_lyapunov_map_template.py" if model.discrete else "_lyapunov_template.py"
    return bind(_HERE / template, model, population=True,
                _matmul=_lyapunov_kernels.matmul,
                _orthonormalise=_lyapunov_kernels.orthonormalise)


# -- validation -----------------------------------------------------------------------------
def _steps(name, value, dt, kind, allow_zero=False):
    """Whole number of steps in a duration (time units for flows, steps for maps)."""
    v = positive(value, name, allow_zero)
    if kind == "map":
        if v != round(v):
            raise ValidationError(name, f"counts steps for a map; pass a whole number, got "
                                  f"{value!r}", value)
        return int(round(v))
    m = int(round(v / dt))
    if m == 0 and not allow_zero:
        raise ValidationError(name, f"got {value!r}, shorter than one step dt={dt!r}; make "
                              "it at least dt", value)
    return m


def _plan(model, t_total, dt, t_transient, interval, interval_name, method):
    if not isinstance(model, Model):
        raise ValidationError("model", f"expected an rnndyn model, got {type(model).__name__}",
                              model)
    flow = not model.discrete
    if flow:
        if dt is None:
            raise ValidationError("dt", "a flow needs an integration step dt > 0 (time units)")
        dt = positive(dt, "dt")
        if method not in _METHODS:
            raise ValidationError("method", f"unknown method {method!r}; the tangent dynamics "
                                  f"need a fixed step: choose one of {sorted(_METHODS)}", method)
    else:
        dt = 1.0 if dt is None else positive(dt, "dt")
    n_total = _steps("t_total", t_total, dt, model.kind)
    n_transient = _steps("t_transient", t_transient, dt, model.kind, allow_zero=True)
    if interval is None:
        interval = 1.0 if flow else 1
    # an interval longer than the run is clamped to it (one checkpoint, at the end)
    every = min(max(1, _steps(interval_name, interval, dt, model.kind)), n_total)
    return dt, n_total, n_transient, every


def _inputs(model, inputs, t0, dt, n_steps, method, P):
    """Input samples: flows (tu (Tu,), U (P', Tu, n_in)); maps X (P', n_steps, n_in)."""
    t = np.arange(n_steps + 1.0) if model.discrete else t0 + dt * np.arange(n_steps + 1)
    tu, U = input_samples(model, inputs, t, dt, method, P)
    if model.discrete:
        m = U.shape[0]
        if model.n_in == 0 or inputs is None:  # zero input: one row per step (the map
            return np.zeros((m, n_steps, model.n_in))  # kernels index a row every step)
        return np.ascontiguousarray(U)
    return np.ascontiguousarray(tu, dtype=float), U


def _random_frame(rng, n, k):
    """Random orthonormal (n, k) frame: Q of a standard Gaussian (n, k) matrix (uniform on
    the Stiefel manifold up to column signs)."""
    Q, _ = np.linalg.qr(rng.standard_normal((n, k)))
    return Q


def _checkpoints(n_total, every, record_every, dt):
    """Measuring times of the recorded checkpoints, matching the kernels' rule."""
    m = np.arange(every, n_total + 1, every)
    if m.size == 0 or m[-1] != n_total:
        m = np.append(m, n_total)
    q = np.arange(1, m.size + 1)
    keep = (q % record_every == 0) | (q == m.size)
    return m[keep] * dt, int(m.size)


def _assess(history, times, tol, pop, what):
    """Converged if the running estimate of every exponent varies over the last half of the
    run by at most its own tolerance ``tol * max(1, |lambda_i|)`` (lambda_i its final value).

    One absolute tolerance would judge a spectrum such as Lorenz's (0.9, 0, -14.6) by its
    largest-magnitude exponents, whose running estimates fluctuate most in absolute terms.
    Returns (converged, message, spread / tolerance (m, k))."""
    hist = history if pop else history[None]  # (m, checkpoints, k)
    late = times >= 0.5 * times[-1]
    if late.sum() < 4:
        conv = np.zeros(hist.shape[0], bool)
        msg = (f"not converged: only {int(late.sum())} checkpoint(s) in the last half of the run, "
               f"too few to judge; increase t_total or shorten {what}")
        return (conv if pop else bool(conv[0])), msg, np.full(hist.shape[::2], np.inf)
    seg = hist[:, late]
    final = hist[:, -1]
    allowed = tol * np.maximum(1.0, np.abs(final))
    with np.errstate(invalid="ignore"):  # an infinite exponent (ln 0) spreads by NaN
        spread = seg.max(axis=1) - seg.min(axis=1)  # (m, k)
        ratio = np.where(np.isfinite(spread), spread / allowed, np.inf)
    conv = np.all(ratio <= 1.0, axis=-1)
    if conv.all():
        msg = (f"converged: every running estimate varies over the last half of the run by at "
               f"most {ratio.max():.2g} of its tolerance tol * max(1, |lambda_i|) (tol={tol:g})")
    else:
        w = int(np.argmax(ratio.max(axis=-1)))
        bad = np.flatnonzero(ratio[w] > 1.0)
        i = int(bad[np.argmax(ratio[w, bad])])
        who = f"individual {w}: " if pop else ""
        msg = (f"not converged: {who}exponent {i + 1} ({final[w, i]:.4g}) still varies by "
               f"{spread[w, i]:.3g} over the last half of the run, above its tolerance "
               f"{allowed[w, i]:.3g} = tol * max(1, |lambda_{i + 1}|) (tol={tol:g})")
        others = [j + 1 for j in bad if j != i]
        if others:
            msg += f"; also exponent{'s' * (len(others) > 1)} {', '.join(map(str, others))}"
        msg += "; increase t_total (and t_transient)"
        if pop:
            msg += f"; {int((~conv).sum())} of {conv.size} individuals did not converge"
    return (conv if pop else bool(conv[0])), msg, ratio


def _raise_divergence(info, pop, kind):
    bad = np.flatnonzero(info[:, 0])
    if bad.size:
        k = int(bad[0])
        at = f"step {int(info[k, 1])}" if kind == "map" else f"t={info[k, 1]:.6g}"
        who = f" in individual {k}" if pop else ""
        if info[k, 0] == 2:  # documented as a DivergenceError too: the estimate is lost
            raise DivergenceError(
                f"the perturbed trajectory merged with the reference by {at}{who} (their "
                "separation rounded to 0): either the state grew until d0 fell below its "
                "floating-point resolution (runaway growth: check the model), or lambda_1 "
                "is too negative to measure from two trajectories (a strongly contracting "
                "or constant map: use lyapunov_spectrum, which reaches -inf, or a shorter "
                "t_renorm)",
                t=float(info[k, 1]), individual=k if pop else None)
        raise DivergenceError(f"state or tangent basis became non-finite by {at}{who}; reduce "
                              "dt or t_ortho, or check the model for runaway growth",
                              t=float(info[k, 1]), individual=k if pop else None)


# -- front doors ----------------------------------------------------------------------------
@front_door()
def lyapunov_spectrum(model: Model, y0, t_total: float, dt: float | None = None,
                      k: int | None = None, t_transient: float = 0.0,
                      t_ortho: float | None = None, inputs=None, method: str = "rk4",
                      seed=None, tol: float = 1e-2, t0: float = 0.0,
                      executor=None) -> LyapunovResult:
    """The k largest Lyapunov exponents by the QR (Benettin) method on the tangent dynamics.

    Parameters
    ----------
    model : Model
        Any flow or map, single or a population; without an analytic Jacobian the tangent
        dynamics use central differences inside the kernel (``rnndyn.Flow``)
        (``Model.stack``; e.g. networks of different gain g, all run in one kernel).
    y0 : array (n,) or (P, n)
        Initial state (a (n,) state is shared by a population).
    t_total : float
        Measuring time after the transient (time units, rounded to whole steps dt; the
        exponents divide by the time actually run); for a map, a number of steps.
    dt : float
        Integration step of a flow (time units). For a map, the duration of one step
        (default 1, exponents per step); exponents are then per unit time.
    k : int, optional
        Number of exponents (the k largest); default all n.
    t_transient : float
        Discarded time (steps for a map) before measuring; state and tangent basis both
        evolve during it, so the basis relaxes towards the most expanding directions.
    t_ortho : float, optional
        Re-orthonormalisation interval (time units, rounded to whole steps; default 1.0). For
        a map, in steps (default 1). Longer is faster but must keep
        ``(lambda_1 - lambda_k) t_ortho`` well below ~25 or the weak directions drown in
        rounding (a ConvergenceWarning says so). An interval longer than ``t_total`` is
        clamped to it.
    inputs : None, array or callable, optional
        Drive of a driven model (the exponents are then conditional on it). Flows: an array
        (n_steps + 1, n_in) or (n_steps + 1, P, n_in) sampled at ``t0 + dt * arange(n_steps
        + 1)`` with ``n_steps`` = transient plus measuring steps (linear interpolation between
        samples), or a callable ``u(t) -> (n_in,)``. Maps: an array (n_steps, n_in), row s
        driving step s -> s+1, or a callable of the step index.
    method : {"rk4", "euler"}
        Fixed-step integrator of a flow (state and tangent basis). Ignored for maps.
    seed : int, Generator or None
        Draws the initial orthonormal tangent basis: Q of the QR of a standard Gaussian
        (n, k) matrix, shared by every member of a population.
    tol : float
        Convergence tolerance: the running estimate of exponent i must vary by at most
        ``tol * max(1, |lambda_i|)`` over the last half of the run (absolute, in exponent
        units, for |lambda_i| <= 1; relative above), so a strongly contracting direction is
        judged by its own size, not by the scale of the smallest exponents.
    t0 : float
        Start time of a flow (matters for a time-dependent input).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where a population runs: None, one in-process kernel; otherwise in chunks on the
        executor's workers, with identical results (``rnndyn.integrate.executors``).

    Returns
    -------
    LyapunovResult
        Exponents sorted descending, convergence history, ``converged`` and ``message``.

    Raises
    ------
    ValidationError
        Bad arguments: k outside [1, n], non-positive durations or intervals, an unknown
        method, misshapen y0 or inputs.
    DivergenceError
        If the state or tangent basis becomes non-finite.

    Warns
    -----
    ConvergenceWarning
        If the estimates have not converged (the message names the exponent, how much its
        estimate still varies and its tolerance), or t_ortho is too long for the spectrum's
        spread.

    Examples
    --------
    >>> res = lyapunov_spectrum(rd.lorenz(), [1.0, 1.0, 20.0], t_total=3000, dt=0.01,
    ...                         t_transient=10, seed=0)
    >>> res.exponents          # ~ (0.906, 0, -14.57)
    """
    dt, n_total, n_transient, every = _plan(model, t_total, dt, t_transient, t_ortho,
                                            "t_ortho", method)
    n, P = model.n, model.P
    if k is None:
        k = n
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 1 <= k <= n:
        raise ValidationError("k", f"must be an int in [1, n={n}], got {k!r}", k)
    k = int(k)
    tol = positive(tol, "tol")
    pop = P is not None
    sums, hist, times = _run(model, y0, inputs, t0, dt, method, n_transient, n_total, every, k,
                             None, seed, executor)
    order = np.argsort(-sums, axis=-1, kind="stable")
    sums = np.take_along_axis(sums, order, axis=-1)
    hist = np.take_along_axis(hist, order[:, None, :], axis=-1)
    converged, message, _ = _assess(hist if pop else hist[0], times, tol, pop, "t_ortho")
    spread = (sums[:, 0] - sums[:, -1]) * every * dt
    if np.max(spread) > _MAX_LOG_SPREAD:
        message += (f"; warning: (lambda_1 - lambda_k) * t_ortho = {np.max(spread):.3g} > "
                    f"{_MAX_LOG_SPREAD:g}, the weakest exponents may be inaccurate: lower t_ortho")
    if not np.all(converged) or np.max(spread) > _MAX_LOG_SPREAD:
        warn(message, ConvergenceWarning)
    return LyapunovResult(sums if pop else sums[0], hist if pop else hist[0], times,
                          converged, message, "qr", n)


def _run(model, y0, inputs, t0, dt, method, n_transient, n_total, every, k, d0, seed,
         executor):
    """Both front doors after validation: the QR spectrum of k exponents (d0 None) or the
    two-trajectory estimate (k = 1), on the executor. Returns the exponents (m, k), the
    running estimates (m, checkpoints, k) and the checkpoint times; m = P or 1."""
    check_executor(executor)
    P = model.P
    y0 = initial_state(model, y0, P)
    # one random frame for all members, so member j of a population == a single run of it
    frame = _random_frame(np.random.default_rng(seed), model.n, k)
    n_steps = n_transient + n_total
    record_every = max(1, math.ceil(math.ceil(n_total / every) / MAX_HISTORY))
    times, _ = _checkpoints(n_total, every, record_every, dt)
    if not model.discrete:
        tu, U = _inputs(model, inputs, float(t0), dt, n_steps, method, P)
    else:
        tu, U = None, _inputs(model, inputs, 0.0, dt, n_steps, method, P)
    sums, hist, info = map_population(
        _measure, None if P is None else executor, model,
        (y0 if P is not None else y0[None], U),
        (tu, frame, d0, float(t0), dt, method, n_transient, n_total, every, record_every,
         times.size))
    _raise_divergence(info, P is not None, model.kind)
    return sums, hist, times


def _measure(model, Y0, U, tu, frame, d0, t0, dt, method, n_transient, n_total, every,
             record_every, n_records):
    """The kernel call of both front doors for m = len(Y0) members: the QR spectrum (d0 None,
    frame (n, k) the initial tangent basis) or two trajectories (frame (n, 1) the initial
    separation direction, d0 its length). U holds a flow's input samples or a map's inputs
    (rows: members, or one shared row). Returns the exponents (m, k) (unsorted, per unit
    time), the running estimates (m, n_records, k) and info (m, 2)."""
    pop = model.P is not None
    m, k = Y0.shape[0], frame.shape[1]
    K = _kernels(model)
    p = model.kernel_params
    if d0 is None:
        F0 = np.ascontiguousarray(np.broadcast_to(frame, (m,) + frame.shape))
        many, one, lead, lead_one = K.spectrum_population, K.spectrum, (F0,), (F0[0],)
    else:
        F0 = np.ascontiguousarray(np.broadcast_to(frame[:, 0], (m, frame.shape[0])))
        many, one = K.two_trajectory_population, K.two_trajectory
        lead, lead_one = (F0, d0), (F0[0], d0)
    sums = np.zeros((m, k))
    hist = np.full((m, n_records, k), np.nan)
    info = np.zeros((m, 2))
    # members run on numba's threads, each calling BLAS (large n): one BLAS thread each, or
    # the two thread pools fight (N = 2000, 4 members: 3x slower)
    with blas_threads_for(0 if pop and m > 1 else model.n ** 2 * k):
        if not model.discrete:
            args = (t0, dt, _METHODS[method], n_transient, n_total, every, record_every, tu)
            if pop:
                many(p, Y0, *lead, *args, U, False, sums, hist, info)
            else:
                info[0] = one(p, Y0[0], *lead_one, *args, U[0], False, sums[0], hist[0])
            return sums, hist, info
        X = np.ascontiguousarray(np.broadcast_to(U, (m,) + U.shape[1:]))
        if pop:
            many(p, Y0, *lead, X, n_transient, every, record_every, sums, hist, info)
        else:
            info[0] = one(p, Y0[0], *lead_one, X[0], n_transient, every, record_every,
                          sums[0], hist[0])
    return sums / dt, hist / dt, info


@front_door()
def largest_lyapunov(model: Model, y0, t_total: float, dt: float | None = None,
                     t_transient: float = 0.0, t_renorm: float | None = None, inputs=None,
                     method: str = "rk4", d0: float = 1e-8, seed=None, tol: float = 1e-2,
                     t0: float = 0.0, executor=None) -> LyapunovResult:
    """Largest Lyapunov exponent from two nearby trajectories (Benettin et al. 1976).

    A perturbed copy starts at distance d0 in a random direction (drawn with ``seed``) after
    the transient; both evolve with the model's integrator; every ``t_renorm`` the
    separation d is measured, ``ln(d / d0)`` accumulated and the separation rescaled to d0.
    Needs no Jacobian, so it cross-checks ``lyapunov_spectrum`` (agreement to
    O(d0 * curvature) plus sampling error).

    Parameters
    ----------
    model, y0, t_total, dt, t_transient, inputs, method, seed, tol, t0, executor
        As in ``lyapunov_spectrum`` (the transient evolves the reference trajectory only).
    t_renorm : float, optional
        Renormalisation interval (time units; steps for a map). Default 1.0 (1 step); one
        longer than ``t_total`` is clamped to it.
    d0 : float
        Separation after each renormalisation (state units), small enough to stay linear
        over ``t_renorm``: ``d0 * exp(lambda_1 t_renorm)`` must remain small.

    Returns
    -------
    LyapunovResult
        ``exponents`` has shape (1,) or (P, 1); ``method == "two-trajectory"``.

    Raises
    ------
    ValidationError
        On bad arguments (non-positive d0, durations or intervals, ...).
    DivergenceError
        If a trajectory becomes non-finite, or the two trajectories coincide (a strongly
        contracting or constant map; the message says which).
    """
    dt, n_total, n_transient, every = _plan(model, t_total, dt, t_transient, t_renorm,
                                            "t_renorm", method)
    d0 = positive(d0, "d0")
    tol = positive(tol, "tol")
    n, P = model.n, model.P
    pop = P is not None
    out, hist, times = _run(model, y0, inputs, t0, dt, method, n_transient, n_total, every, 1,
                            d0, seed, executor)
    converged, message, _ = _assess(hist if pop else hist[0], times, tol, pop, "t_renorm")
    if not np.all(converged):
        warn(message, ConvergenceWarning)
    return LyapunovResult(out if pop else out[0], hist if pop else hist[0], times, converged,
                          message, "two-trajectory", n)
