"""``simulate``: one front door for integrating any model, single or population."""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable

import numpy as np

from .._blas import blas_threads_for
from .._validate import front_door, real_number, warn
from .._summary import summary_repr
from ..errors import ConvergenceError, DivergenceError, RnndynError, StabilityWarning, ValidationError
from ..models.base import Model, as_array
from ..executors import check_executor, map_population
from ..models import ctrnn as _ctrnn
from . import _lanes_kernels as _lanes
from ._common import initial_state, integrator, writable

METHODS = {"euler": 0, "rk4": 1, "rk45": 2}
STATUS = {0: "success", 1: "diverged: the state became non-finite",
          2: "step size underflow: the adaptive step became too small",
          3: "step budget exhausted: rk45 made max_steps steps"}
#: Most euler/rk4 steps ``simulate`` takes (per member): more is a mistyped dt, not a plan
#: (days of computation; past 9.2e18 the int64 step counter itself overflows).
MAX_FIXED_STEPS = 10**12
#: Most samples of a callable input (it is called in Python once per sample).
MAX_CALLABLE_SAMPLES = 10**8
#: Default budget of rk45 steps (accepted and rejected) per member.
MAX_STEPS = 1_000_000
#: Smallest rtol of rk45, as in scipy.integrate.solve_ivp: below it rounding errors of the
#: step dominate the error estimate, and the step size collapses.
MIN_RTOL = 100 * np.finfo(float).eps
#: Largest h/tau for which a fixed step damps the leak -y/tau (the stability interval of the
#: method on the negative real axis: |1 - h/tau| <= 1 for Euler, 2.785 for classical RK4).
STABILITY_LIMIT = {"euler": 2.0, "rk4": 2.785}
#: Smallest population that euler/rk4 step in the lane kernels (``_lanes_kernels``: the
#: individuals on the SIMD lanes), and the largest network: below half a block of lanes the
#: idle lanes cost more than they save, and from BLAS_FROM units on a network's own
#: matrix-vector product is long enough for SIMD code.
LANES_FROM_P = _lanes.LANES // 2
LANES_MAX_N = _ctrnn.BLAS_FROM - 1
_LANE_ACTIVATIONS = {"sigmoid": _lanes.SIGMOID, "tanh": _lanes.TANH}
#: the CTRNN family's rhs kernels (and subclasses' that keep them): its packed parameters
_CTRNN_RHS = {f.rhs for f in _ctrnn.KERNELS.values()}


@dataclass(frozen=True, eq=False, repr=False)
class Trajectory:
    """Result of ``simulate``.

    Attributes
    ----------
    t : array (T,)
        Output times (time units; step indices for maps).
    y : array (T, n) or (T, P, n)
        States at ``t``.
    outputs : array (T, n_out) or (T, P, n_out)
        Model outputs at ``t`` (CTRNN: firing rates of the output units).
    status : int or array (P,) of int
        0 success, 1 diverged (non-finite state), 2 step-size underflow (rk45), 3 rk45 made
        ``max_steps`` steps before the end of ``t``.
    message : str
        Human-readable status. After a divergence with ``on_divergence="return"`` a single
        trajectory stops at its last finite sample; a population member's later rows are NaN.
    """

    __repr__ = summary_repr

    t: np.ndarray
    y: np.ndarray
    status: int | np.ndarray
    message: str
    _outputs: Callable[[], np.ndarray] = field(repr=False, default=None)

    @cached_property
    def outputs(self) -> np.ndarray:
        # computed on first use: the stepping kernels never pay for outputs nobody reads
        return self._outputs()

    @property
    def success(self) -> bool:
        return bool(np.all(np.asarray(self.status) == 0))


def _times(t, kind) -> np.ndarray:
    t = as_array(t, "t")
    if t.ndim != 1 or t.size < 1:
        raise ValidationError("t", f"expected a 1-D array of output times, got shape {t.shape}", t)
    if t.size > 1 and not np.all(np.diff(t) > 0):
        k = int(np.argmin(np.diff(t) > 0))
        raise ValidationError("t", f"must be strictly increasing, but t[{k}]={t[k]} >= "
                              f"t[{k + 1}]={t[k + 1]}", t)
    if kind == "map" and not np.array_equal(t, np.round(t)):
        raise ValidationError("t", "a map runs on integer steps; pass e.g. np.arange(T + 1)", t)
    return t


def input_samples(model, inputs, t, dt, method, P):
    """Input samples (tu (Tu,), U (P', Tu, n_in)) on which the kernels interpolate."""
    m = max(P or 1, 1)
    if model.n_in == 0:
        if inputs is not None:
            raise ValidationError("inputs", "this model has no inputs (n_in = 0); pass None "
                                  "or build it with input weights", None)
        return t[:1].copy(), np.zeros((m, 1, 0))
    if inputs is None:  # a driven model without a signal: zero input
        return t[:1].copy(), np.zeros((m, 1, model.n_in))
    if callable(inputs):
        tu = _callable_grid(t, dt, method, model.kind)
        values = [np.asarray(inputs(float(s)), dtype=float) for s in tu]
        U = as_array(np.stack(values), "inputs(t)")
    else:
        tu, U = t, as_array(inputs, "inputs")
        if model.discrete:  # the input at step k drives the transition k -> k+1
            tu = t[:-1]
            if U.shape[:1] == (len(t),):
                U = U[:-1]
    want = (len(tu), model.n_in) if P is None else f"({len(tu)}, {model.n_in}) or ({len(tu)}, {P}, {model.n_in})"
    if U.ndim == 2 and U.shape == (len(tu), model.n_in):
        U = np.broadcast_to(U[None], (m,) + U.shape)
    elif P is not None and U.shape == (len(tu), P, model.n_in):
        U = U.transpose(1, 0, 2)
    else:
        raise ValidationError("inputs", f"expected shape {want}, got {U.shape}", inputs)
    return tu, writable(np.ascontiguousarray(U))  # a broadcast view is read-only


def _steps(t, dt):
    """Steps per interval of ``t`` as floats (the count may not fit an int64)."""
    return np.maximum(1, np.ceil(np.diff(t) / dt * (1 - 1e-12)))


def step_grid(t, dt):
    """(C, H): each interval of ``t`` is split into ceil(span/dt) equal steps of size H[k],
    so outputs land exactly on ``t``; C[k] counts the steps before output k."""
    M = _steps(t, dt)
    if not M.sum() <= MAX_FIXED_STEPS:  # simulate rejects these first, with the fix
        raise ValidationError("dt", f"dt={dt!r} needs {M.sum():.3g} steps over t, more than "
                              f"{MAX_FIXED_STEPS:.0e}; use a larger dt", dt)
    M = M.astype(np.int64)
    return np.concatenate([[0], np.cumsum(M)]), np.diff(t) / M


def _check_step_count(t, dt, method):
    """ValidationError if euler/rk4 with step ``dt`` would take more than MAX_FIXED_STEPS."""
    total = float(_steps(t, dt).sum()) if len(t) > 1 else 0.0
    if not total <= MAX_FIXED_STEPS:
        why = ("more than a 64-bit step counter holds" if not total < 2.0**63 else
               f"more than the limit of {MAX_FIXED_STEPS:.0e} (days of computation)")
        raise ValidationError("dt", f"dt={dt!r} splits t from {t[0]:g} to {t[-1]:g} into "
                              f"{total:.3g} {method} steps, {why}; use a larger dt "
                              f"(>= {(t[-1] - t[0]) / MAX_FIXED_STEPS:.3g} for this t)", dt)


def _callable_grid(t, dt, method, kind):
    """Times at which a callable input is sampled: every step and half step of a fixed-step
    method (so its stages see exact values), or a grid of dt/4 for rk45."""
    if kind == "map":
        return t[:-1] if len(t) > 1 else t
    if len(t) == 1:
        return t
    M = _steps(t, (dt or np.diff(t).min() / 8) / 4) if method == "rk45" else 2 * _steps(t, dt)
    if not M.sum() <= MAX_CALLABLE_SAMPLES:
        raise ValidationError("inputs", f"a callable input would be called {M.sum():.3g} times "
                              f"(on the step grid of dt={dt!r}); pass an array of "
                              f"samples on t instead, or a larger dt", dt)
    M = M.astype(np.int64)
    pieces = [t0 + np.arange(k) * (s / k) for t0, s, k in zip(t[:-1], np.diff(t), M)]
    return np.concatenate(pieces + [t[-1:]])


def _check_dt(dt, method):
    """The step of a flow method as a float (None for rk45's automatic initial step)."""
    if dt is None and method == "rk45":
        return None
    what = "a step > 0 (time units)" if method != "rk45" else "None or an initial step > 0"
    h = real_number(dt, "dt", what)
    if not (np.isfinite(h) and h > 0):
        raise ValidationError("dt", f"{method} needs a finite {'initial ' * (method == 'rk45')}"
                              f"step dt > 0, got {dt!r}", dt)
    return h


def tau_min(model) -> float | None:
    """Smallest time constant of a model with a ``tau`` attribute (CTRNN), else None.

    Raises
    ------
    ValidationError
        If 1/tau overflows float64 (tau < ~5.6e-309): the kernels multiply by 1/tau.
    """
    tau = getattr(model, "tau", None)
    if tau is None:
        return None
    try:
        tau = np.asarray(tau, dtype=float)
    except (TypeError, ValueError):
        return None
    if tau.size == 0 or np.isnan(tau).any():
        return None
    k = np.unravel_index(int(np.argmin(tau)), tau.shape)
    lo = float(tau[k])
    smallest = 1.0 / np.finfo(float).max
    if not lo >= smallest:
        nodes = getattr(model, "nodes", None)
        unit = k[-1] if k else 0
        where = (f" in individual {k[0]}" if len(k) == 2 else "") + \
            (f" at node {nodes[unit]!r}" if nodes else f" at unit {unit}")
        raise ValidationError(f"{type(model).__name__}.tau", f"got {lo!r}{where}: 1/tau overflows "
                              f"float64 (tau must be >= {smallest:.3g}), so the dynamics cannot be "
                              "computed; use a larger time constant, or measure time in smaller "
                              "units (scale every tau and t up)", tau)
    return lo


def stability_warning(method: str, h: float, tau_lo: float | None, step: str, fix: str,
                      substeps: int = 1):
    """Message if a fixed step ``h`` of ``method`` amplifies the fastest leak -y/tau_min
    (h / tau_min > STABILITY_LIMIT[method]), else None. ``step`` describes h for the message
    (e.g. "dt=0.05"); ``fix`` lists the remedies besides a smaller dt (a tick of ``substeps``
    steps)."""
    limit = STABILITY_LIMIT.get(method)
    if limit is None or tau_lo is None or not h / tau_lo > limit:
        return None
    return (f"method={method!r} with {step} is beyond its stability limit for the fastest time "
            f"constant tau_min={tau_lo:.4g}: step/tau_min = {h / tau_lo:.3g} > {limit:g}, where "
            f"each step amplifies the leak -y/tau instead of damping it, so the result is "
            f"wrong (it oscillates or blows up). Use a smaller dt "
            f"(<= {limit * tau_lo * substeps:.3g}){fix}.")


@front_door()
def simulate(model: Model, y0, t, dt: float | None = None, method: str = "rk4", inputs=None, *,
             rtol: float = 1e-6, atol: float = 1e-9, max_step: float = np.inf,
             max_steps: int = MAX_STEPS, hold: str = "linear", on_divergence: str = "raise",
             executor=None) -> Trajectory:
    """Integrate a flow (or iterate a map) from ``y0``, reporting states at the times ``t``.

    Parameters
    ----------
    model : Model
        Any model (CTRNN, Flow, Map, ...), single or a population (``Model.stack``).
    y0 : array (n,) or (P, n)
        Initial state; a (n,) state is shared by every member of a population.
    t : array (T,)
        Output times, strictly increasing; integration starts at ``t[0]``. For a map, integer
        step indices (e.g. ``np.arange(T + 1)``).
    dt : float
        Internal step of euler/rk4 (each output interval is split into equal steps of at most
        dt); initial step of rk45 (default: Hairer's heuristic). Ignored for maps.
    method : {"euler", "rk4", "rk45"}
        Fixed-step Euler (order 1), classical Runge-Kutta (order 4) or adaptive Dormand-Prince
        5(4) with dense output.
    inputs : None, array (T, n_in) or (T, P, n_in), or callable u(t) -> (n_in,)
        External input. Arrays are samples at ``t``, interpolated linearly (``hold="linear"``)
        or held (``hold="previous"``); a callable is sampled once on the solver's step grid
        (a convenience: arrays are faster). For a map, row k drives the step k -> k+1.
    rtol, atol, max_step : float
        Error control of rk45. An rtol below 100 * machine epsilon (2.2e-14) is raised to it
        with a warning, as ``scipy.integrate.solve_ivp`` does.
    max_steps : int
        Most rk45 steps (accepted or rejected) per trajectory (default 1e6). When they run
        out, the run stops as a failure with status 3 (see ``on_divergence``); raise it for
        very long spans, or loosen rtol/atol.
    on_divergence : {"raise", "return"}
        A non-finite state raises DivergenceError, or returns a Trajectory that says so.
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        Where a population runs: None, one in-process kernel on numba's threads; otherwise
        split into chunks over the executor's workers (``rnndyn.integrate.executors``), with
        results identical to the in-process run. A single model always runs in process.

    Returns
    -------
    Trajectory

    Raises
    ------
    ValidationError
        On bad arguments (the message names the parameter and the fix), e.g. a dt that
        needs more than 1e12 euler/rk4 steps.
    DivergenceError
        If the state becomes non-finite (or rk45's step underflows) and
        ``on_divergence="raise"``.
    ConvergenceError
        If rk45 runs out of ``max_steps`` and ``on_divergence="raise"``.

    Warns
    -----
    StabilityWarning
        (a RuntimeWarning) If euler/rk4 steps are beyond the method's stability limit for
        the fastest time constant of the model (``tau`` of a CTRNN): dt/tau_min > 2 (euler)
        or 2.785 (rk4).
    UserWarning
        If rk45's rtol is below 100 * machine epsilon (it is raised to that).

    Notes
    -----
    euler and rk4 step a population of small sigmoid or tanh CTRNNs (at least 16 members,
    fewer than 128 units) with its individuals on the SIMD lanes (``_lanes_kernels``): faster
    than one individual at a time (2.2x at P = 1000, n = 10; 4.6x in float32), equal to it to
    rounding.
    """
    if not isinstance(model, Model):
        raise ValidationError("model", f"expected an rnndyn model, got {type(model).__name__}")
    if on_divergence not in ("raise", "return"):
        raise ValidationError("on_divergence", f"must be 'raise' or 'return', got {on_divergence!r}")
    if hold not in ("linear", "previous"):
        raise ValidationError("hold", f"must be 'linear' or 'previous', got {hold!r}")
    P = model.P
    t = _times(t, model.kind)
    if not model.discrete:
        if method not in METHODS:
            raise ValidationError("method", f"unknown method {method!r}; choose one of "
                                  f"{sorted(METHODS)}", method)
        dt = _check_dt(dt, method)
        for name, v in (("rtol", rtol), ("atol", atol), ("max_step", max_step)):
            if not real_number(v, name, "a number > 0") > 0:
                raise ValidationError(name, f"must be > 0, got {v!r}", v)
        if isinstance(max_steps, (bool, np.bool_)) or not isinstance(
                max_steps, numbers.Integral) or max_steps < 1:
            raise ValidationError("max_steps", f"must be an int >= 1, got {max_steps!r}",
                                  max_steps)
        rtol, atol, max_step = float(rtol), float(atol), float(max_step)
        if method == "rk45" and rtol < MIN_RTOL:
            warn(f"rtol={rtol!r} is below 100 * eps = {MIN_RTOL:.3g}, where rounding "
                          f"errors dominate the error estimate; using rtol={MIN_RTOL:.3g} (as "
                          "scipy.integrate.solve_ivp does). Pass rtol >= 2.3e-14, or use "
                          "method='rk4' with a small dt")
            rtol = MIN_RTOL
        tau_lo = tau_min(model)
        if method != "rk45":
            _check_step_count(t, dt, method)
            h = float(np.max(np.diff(t) / _steps(t, dt))) if len(t) > 1 else 0.0
            rk4_ok = method == "euler" and tau_lo and h / tau_lo <= STABILITY_LIMIT["rk4"]
            fix = " or method='rk4'" if rk4_ok else " or method='rk45'"
            msg = stability_warning(method, h, tau_lo, f"dt={h:.4g}", fix)
            if msg:
                warn(msg, StabilityWarning)
    check_executor(executor)
    y0 = initial_state(model, y0, P)
    tu, U = input_samples(model, inputs, t, dt, method, P)
    pop = P is not None
    # decided on the whole population, so that chunks on an executor run the same kernel
    lanes = lanes_activation(model) if not model.discrete and method != "rk45" else None
    Y, OUT, info = map_population(_integrate, executor if pop else None, model,
                                  (y0 if pop else y0[None], U),
                                  (t, dt, method, tu, hold == "previous", max_step, rtol, atol,
                                   int(max_steps), lanes))
    if OUT is None:  # a flow's outputs: computed here, on first use
        def OUT():
            out = np.full(Y.shape[:2] + (model.n_out,), np.nan)
            integrator(model, population=pop).outputs(model.kernel_params, Y, out)
            return out
    return _result(model, t, Y, OUT, info, pop, on_divergence)


def lanes_activation(model) -> int | None:
    """The lane kernels' activation code if they step ``model`` (a CTRNN population of at
    least LANES_FROM_P members and at most LANES_MAX_N units, sigmoid or tanh), else None."""
    if (model.P is None or model.P < LANES_FROM_P or model.n > LANES_MAX_N
            or model.kind != "flow" or model._functions.rhs not in _CTRNN_RHS):
        return None
    return _LANE_ACTIVATIONS.get(getattr(model, "activation", None))


def _integrate(model, Y0, U, t, dt, method, tu, hold_previous, max_step, rtol, atol,
               max_steps=MAX_STEPS, lanes=None):
    """The kernel call of ``simulate`` for m = len(Y0) members (m = 1: a single model);
    ``lanes``: the activation code of the lane kernels if they step this population.

    Returns Y (m, T, n), OUT (m, T, n_out) for maps or None for flows, and info (m, 4) =
    (status, time of failure, unit, index of the last good sample)."""
    pop = model.P is not None
    K = integrator(model, population=pop)
    p = model.kernel_params
    m, T = Y0.shape[0], len(t)
    Y = np.full((m, T, model.n), np.nan)  # a row the kernel did not write stays NaN
    info = np.zeros((m, 4))
    OUT = None
    # members on numba's threads that call BLAS (large networks) get one BLAS thread each:
    # two thread pools on the same cores made a population of 4 CTRNNs of N = 1000 2.4x slower
    with blas_threads_for(0 if pop and m > 1 else model.n ** 2):
        if model.discrete:
            X = writable(np.ascontiguousarray(np.broadcast_to(U, (m, T - 1, model.n_in)))) \
                if model.n_in else np.zeros((m, T - 1, 0))
            info3 = np.zeros((m, 3))
            OUT = np.full((m, T, model.n_out), np.nan)
            if pop:
                K.iterate_population(p, Y0, X, Y, OUT, info3)
            else:
                info3[0] = K.iterate(p, Y0[0], X[0], Y[0], OUT[0])
            info[:, 0], info[:, 1], info[:, 2] = info3[:, 0], t[0] + info3[:, 1], info3[:, 2]
            info[:, 3] = np.where(info3[:, 0] == 0, T - 1, info3[:, 1] - 1)
        elif method == "rk45":
            h0 = 0.0 if dt is None else float(dt)
            args = (t, h0, float(max_step), float(rtol), float(atol), int(max_steps), tu)
            if pop:
                K.rk45_population(p, Y0, *args, U, hold_previous, Y, info)
            else:
                info[0] = K.rk45(p, Y0[0], *args, U[0], hold_previous, Y[0])
        elif pop and lanes is not None:  # a population of small CTRNNs
            L = _lanes.lanes_params(p[0])
            C, H = step_grid(t, dt)
            _lanes.fixed_step_lanes(L, lanes, Y0, t, C, H, H, METHODS[method], tu,
                                    _lanes.lanes_inputs(U, L.shape[0]), hold_previous, Y, info)
        else:
            args = (t, *step_grid(t, dt), METHODS[method], tu)
            if pop:
                K.fixed_step_population(p, Y0, *args, U, hold_previous, Y, info)
            else:
                info[0] = K.fixed_step(p, Y0[0], *args, U[0], hold_previous, Y[0])
    return Y, OUT, info


def _result(model, t, Y, OUT, info, pop, on_divergence):
    """Trajectory from the kernels' arrays; OUT is an array or a function computing it."""
    status = info[:, 0].astype(int)
    short = np.flatnonzero((status == 0) & (info[:, 3] != len(t) - 1))
    if short.size:  # never hand out rows the kernel did not write as a result
        k = int(short[0])
        raise RnndynError(f"internal error: the integrator reported success but wrote "
                          f"{int(info[k, 3]) + 1} of {len(t)} samples"
                          + (f" (individual {k})" if pop else "") + "; please report this "
                          "with the arguments of the call")
    bad = np.flatnonzero(status)
    message = STATUS[0]
    if bad.size:
        k = int(bad[0])
        unit = int(info[k, 2])
        nodes = getattr(model, "nodes", None)
        name = (f"unit {unit}" + (f" ({nodes[unit]!r})" if nodes else "")) if unit >= 0 else ""
        where = ", ".join(([f"individual {k}"] if pop else []) + ([name] if name else []))
        fix = {1: "reduce dt or rtol, or check the weights for runaway growth",
               2: "the system may be stiff or singular here",
               3: "increase max_steps (for a long span), loosen rtol/atol, or use "
                  "method='rk4' with a fixed dt"}[status[k]]
        message = (f"{STATUS[status[k]]} by t={info[k, 1]:.6g}"
                   + (f" ({where})" if where else "") + f"; {fix}")
        if pop:
            message += f"; {bad.size} of {len(status)} individuals failed"
        if on_divergence == "raise":
            message += " (pass on_divergence='return' to get the partial trajectory)"
            if status[k] == 3:  # the budget ran out: nothing diverged
                raise ConvergenceError(message)
            raise DivergenceError(message, t=float(info[k, 1]), unit=unit,
                                  individual=k if pop else None)
        for j in bad:  # rows after the last good sample are not results
            Y[j, int(info[j, 3]) + 1:] = np.nan
    out = OUT if callable(OUT) else (lambda: OUT)
    if pop:
        return Trajectory(t, Y.transpose(1, 0, 2), status, message,
                          lambda: np.where(np.isnan(Y[..., :1]), np.nan, out()).transpose(1, 0, 2))
    last = int(info[0, 3]) + 1
    return Trajectory(t[:last], Y[0, :last], int(status[0]), message, lambda: out()[0, :last])
