"""``simulate``: one front door for integrating any model, single or population."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np

from .._jit import specialize
from ..errors import DivergenceError, ValidationError
from ..models import _base_kernels
from ..models.base import Model, as_array
from .executors import check_executor, map_population

_TEMPLATES = Path(__file__).parent
METHODS = {"euler": 0, "rk4": 1, "rk45": 2}
STATUS = {0: "success", 1: "diverged: the state became non-finite",
          2: "step size underflow: the adaptive step became too small"}


def kernels(model: Model, population: bool):
    """The family's integrator module (flow or map template) for single or batched runs."""
    k = model.kernels
    index = k.index if population and model.P is not None else _base_kernels.index_same
    if model.kind == "flow":
        return specialize(_TEMPLATES / "_flow_template.py", _rhs=k.rhs, _output=k.output,
                          _index=index, _work_size=k.work_size)
    return specialize(_TEMPLATES / "_map_template.py", _step=k.step, _output=k.output,
                      _index=index, _work_size=k.work_size)


@dataclass(frozen=True, eq=False)
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
        0 success, 1 diverged (non-finite state), 2 step-size underflow (rk45).
    message : str
        Human-readable status. After a divergence with ``on_divergence="return"`` a single
        trajectory stops at its last finite sample; a population member's later rows are NaN.
    """

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


def initial_state(model, y0, P):
    shape = (model.n,) if P is None else (P, model.n)
    y0 = as_array(y0, "y0")
    if P is not None and y0.shape == (model.n,):
        y0 = np.broadcast_to(y0, shape)
    if y0.shape != shape:
        raise ValidationError("y0", f"expected shape {shape} for this model, got {y0.shape}", y0)
    return np.ascontiguousarray(y0, dtype=float)


def input_samples(model, inputs, t, dt, method, P):
    """Input samples (tu (Tu,), U (P', Tu, n_in)) on which the kernels interpolate."""
    m = max(P or 1, 1)
    if model.n_in == 0:
        if inputs is not None:
            raise ValidationError("inputs", "this model has no inputs (n_in = 0); pass None "
                                  "or build it with input weights", None)
        return t[:1].copy(), np.zeros((m, 1, 0))
    if inputs is None:
        raise ValidationError("inputs", f"this model has {model.n_in} inputs; pass an array "
                              f"({len(t)}, {model.n_in}) sampled on t, or a callable u(t)")
    if callable(inputs):
        tu = _callable_grid(t, dt, method, model.kind)
        values = [np.asarray(inputs(float(s)), dtype=float) for s in tu]
        U = as_array(np.stack(values), "inputs(t)")
    else:
        tu, U = t, as_array(inputs, "inputs")
        if model.kind == "map":  # the input at step k drives the transition k -> k+1
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
    return tu, np.ascontiguousarray(U)


def step_grid(t, dt):
    """(C, H): each interval of ``t`` is split into ceil(span/dt) equal steps of size H[k],
    so outputs land exactly on ``t``; C[k] counts the steps before output k."""
    span = np.diff(t)
    M = np.maximum(1, np.ceil(span / dt * (1 - 1e-12))).astype(np.int64)
    return np.concatenate([[0], np.cumsum(M)]), span / M


def _callable_grid(t, dt, method, kind):
    """Times at which a callable input is sampled: every step and half step of a fixed-step
    method (so its stages see exact values), or a grid of dt/4 for rk45."""
    if kind == "map":
        return t[:-1] if len(t) > 1 else t
    if len(t) == 1:
        return t
    if method == "rk45":
        M = np.diff(step_grid(t, (dt or np.diff(t).min() / 8) / 4)[0])
    else:
        M = 2 * np.diff(step_grid(t, dt)[0])
    pieces = [t0 + np.arange(k) * (s / k) for t0, s, k in zip(t[:-1], np.diff(t), M)]
    return np.concatenate(pieces + [t[-1:]])


def simulate(model: Model, y0, t, dt: float | None = None, method: str = "rk4", inputs=None, *,
             rtol: float = 1e-6, atol: float = 1e-9, max_step: float = np.inf,
             hold: str = "linear", on_divergence: str = "raise", executor=None) -> Trajectory:
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
        Error control of rk45.
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
        On bad arguments (the message names the parameter and the fix).
    DivergenceError
        If the state becomes non-finite and ``on_divergence="raise"``.
    """
    if not isinstance(model, Model):
        raise ValidationError("model", f"expected an rnndyn model, got {type(model).__name__}")
    if on_divergence not in ("raise", "return"):
        raise ValidationError("on_divergence", f"must be 'raise' or 'return', got {on_divergence!r}")
    if hold not in ("linear", "previous"):
        raise ValidationError("hold", f"must be 'linear' or 'previous', got {hold!r}")
    P = model.P
    t = _times(t, model.kind)
    if model.kind == "flow":
        if method not in METHODS:
            raise ValidationError("method", f"unknown method {method!r}; choose one of "
                                  f"{sorted(METHODS)}", method)
        if method != "rk45" and (dt is None or not np.isfinite(dt) or dt <= 0):
            raise ValidationError("dt", f"{method} needs a step dt > 0, got {dt!r}", dt)
        for name, v in (("rtol", rtol), ("atol", atol), ("max_step", max_step)):
            if not v > 0:
                raise ValidationError(name, f"must be > 0, got {v!r}", v)
    check_executor(executor)
    y0 = initial_state(model, y0, P)
    tu, U = input_samples(model, inputs, t, dt, method, P)
    pop = P is not None
    Y, OUT, info = map_population(_integrate, executor if pop else None, model,
                                  (y0 if pop else y0[None], U),
                                  (t, dt, method, tu, hold == "previous", max_step, rtol, atol))
    if OUT is None:  # a flow's outputs: computed here, on first use
        def OUT():
            out = np.full(Y.shape[:2] + (model.n_out,), np.nan)
            kernels(model, population=pop).outputs(model.kernel_params, Y, out)
            return out
    return _result(model, t, Y, OUT, info, pop, on_divergence)


def _integrate(model, Y0, U, t, dt, method, tu, hold_previous, max_step, rtol, atol):
    """The kernel call of ``simulate`` for m = len(Y0) members (m = 1: a single model).

    Returns Y (m, T, n), OUT (m, T, n_out) for maps or None for flows, and info (m, 4) =
    (status, time of failure, unit, index of the last good sample)."""
    pop = model.P is not None
    K = kernels(model, population=pop)
    p = model.kernel_params
    m, T = Y0.shape[0], len(t)
    Y = np.empty((m, T, model.n))  # every row is written (or NaN-ed after a failure)
    info = np.zeros((m, 4))
    OUT = None
    if model.kind == "map":
        X = np.ascontiguousarray(np.broadcast_to(U, (m, T - 1, model.n_in))) \
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
        args = (t, h0, float(max_step), float(rtol), float(atol), tu)
        if pop:
            K.rk45_population(p, Y0, *args, U, hold_previous, Y, info)
        else:
            info[0] = K.rk45(p, Y0[0], *args, U[0], hold_previous, Y[0])
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
    bad = np.flatnonzero(status)
    message = STATUS[0]
    if bad.size:
        k = int(bad[0])
        unit = int(info[k, 2])
        nodes = getattr(model, "nodes", None)
        name = f"unit {unit}" + (f" ({nodes[unit]!r})" if nodes and unit >= 0 else "")
        who = f"individual {k}, " if pop else ""
        message = (f"{STATUS[status[k]]} by t={info[k, 1]:.6g} ({who}{name}); "
                   + ("reduce dt or rtol, or check the weights for runaway growth"
                      if status[k] == 1 else "the system may be stiff or singular here"))
        if pop:
            message += f"; {bad.size} of {len(status)} individuals failed"
        if on_divergence == "raise":
            raise DivergenceError(message + " (pass on_divergence='return' to get the partial "
                                  "trajectory)", t=float(info[k, 1]), unit=unit,
                                  individual=k if pop else None)
        for j in bad:  # rows after the last good sample are not results
            Y[j, int(info[j, 3]) + 1:] = np.nan
    out = OUT if callable(OUT) else (lambda: OUT)
    if pop:
        return Trajectory(t, Y.transpose(1, 0, 2), status, message,
                          lambda: np.where(np.isnan(Y[..., :1]), np.nan, out()).transpose(1, 0, 2))
    last = int(info[0, 3]) + 1
    return Trajectory(t[:last], Y[0, :last], int(status[0]), message, lambda: out()[0, :last])
