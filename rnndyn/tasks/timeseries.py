"""Time-series tasks of reservoir computing (data only; every random draw takes ``seed=``).

* ``mackey_glass``: the Mackey & Glass (1977, Science 197:287) delay ODE
  ``dx/dt = beta x(t - tau) / (1 + x(t - tau)^10) - gamma x(t)`` (beta 0.2, gamma 0.1;
  tau = 17 mildly chaotic, the benchmark of Jaeger & Haas 2004; tau = 30 more chaotic),
  integrated by RK4 with a proper history on [-tau, 0].
* ``narma``: NARMA10 / NARMA30 (Atiya & Parlos 2000, IEEE TNN 11:697).
* ``lorenz_series``, ``rossler_series``: chaotic flows sampled by ``rnndyn.simulate``.
* ``sine_to_square`` and ``timer_task``: tasks of Jaeger's tutorial (GMD Report 159,
  2002): a sine in, the square wave of the same phase out; and a timer, where a trigger
  pulse on input 1 starts an output pulse whose length is set by input 2.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_seed, in_range, positive, positive_int
from ..errors import ValidationError
from ..integrate import simulate
from ..models.user import lorenz, rossler
from . import _kernels as _K


def _multiple(value, dt, name):
    k = int(round(value / dt))
    if k < 1 or abs(k * dt - value) > 1e-9 * max(1.0, value):
        raise ValidationError(name, f"must be a positive multiple of dt = {dt:g}, got {value!r}"
                              "; change it or dt", value)
    return k


def mackey_glass(n_steps: int, *, tau: float = 17.0, dt: float = 0.1, sample: float = 1.0,
                 x0: float = 1.2, transient: float = 0.0, beta: float = 0.2,
                 gamma: float = 0.1, power: float = 10.0, seed=None) -> np.ndarray:
    """Mackey-Glass series sampled every ``sample`` time units.

    Integrated by classical RK4 with step ``dt`` (default 0.1 time units; tau and sample must
    be multiples of it), the delayed value at the half steps interpolated by the cubic
    through the four neighbouring grid values. The history on [-tau, 0] is the constant
    ``x0`` (seed None, the usual choice: 1.2), or x0 + U(-0.1, 0.1) at every grid point when a
    seed is given (a different trajectory per seed).

    Parameters
    ----------
    n_steps : int
        Number of samples returned, the first at t = transient.
    tau, dt, sample, transient : float
        Delay, integration step, sampling interval and the initial time discarded (time
        units).

    Returns
    -------
    array (n_steps,)
    """
    n_steps = positive_int(n_steps, "mackey_glass.n_steps")
    dt = positive(dt, "mackey_glass.dt")
    d = _multiple(positive(tau, "mackey_glass.tau"), dt, "mackey_glass.tau")
    if d < 3:
        raise ValidationError("mackey_glass.dt", f"must be at most tau / 3 = {tau / 3:g} (the "
                              f"delayed value is interpolated from 4 grid points), got {dt!r}", dt)
    every = _multiple(positive(sample, "mackey_glass.sample"), dt, "mackey_glass.sample")
    skip = int(round(positive(transient, "mackey_glass.transient", allow_zero=True) / dt))
    for name, v in (("x0", x0), ("beta", beta), ("gamma", gamma), ("power", power)):
        positive(v, f"mackey_glass.{name}", allow_zero=name == "gamma")
    total = skip + (n_steps - 1) * every
    out = np.empty(d + 1 + total)
    if seed is None:
        out[:d + 1] = x0
    else:
        out[:d + 1] = x0 + check_seed(seed, "mackey_glass.seed").uniform(-0.1, 0.1, d + 1)
    _K.mackey_glass(total, d, dt, float(beta), float(gamma), float(power), out)
    return out[d + skip::every][:n_steps].copy()


#: (alpha, beta, gamma, delta) of y(t+1) = alpha y + beta y sum y + gamma u u + delta
NARMA_COEFFICIENTS = {10: (0.3, 0.05, 1.5, 0.1), 30: (0.2, 0.004, 1.5, 0.001)}


def narma(n_steps: int, order: int = 10, *, seed=None) -> tuple:
    """NARMA task (Atiya & Parlos 2000): input u(t) ~ U(0, 0.5) iid and

    ``y(t+1) = alpha y(t) + beta y(t) sum_{i=0}^{order-1} y(t-i) + gamma u(t-order+1) u(t)
    + delta`` with (0.3, 0.05, 1.5, 0.1) for order 10 and (0.2, 0.004, 1.5, 0.001) for
    order 30 (Jaeger 2003; other orders use the order-10 coefficients).

    Returns
    -------
    (u (n_steps, 1), y (n_steps, 1))

    Raises
    ------
    ValidationError
        If the recursion diverged for this seed (NARMA10 does, rarely): take another seed.
    """
    n_steps = positive_int(n_steps, "narma.n_steps", minimum=2)
    order = positive_int(order, "narma.order")
    rng = check_seed(seed, "narma.seed")
    u = rng.uniform(0.0, 0.5, n_steps)
    y = np.empty(n_steps)
    _K.narma(u, order, *NARMA_COEFFICIENTS.get(order, NARMA_COEFFICIENTS[10]), y)
    if not np.all(np.isfinite(y)) or np.abs(y).max() > 1e3:
        raise ValidationError("narma.seed", f"the NARMA{order} recursion diverged for seed "
                              f"{seed!r}; use another seed", seed)
    return u[:, None], y[:, None]


def _flow_series(model, n_steps, dt, y0, transient, method, name):
    n_steps = positive_int(n_steps, f"{name}.n_steps")
    dt = positive(dt, f"{name}.dt")
    transient = positive(transient, f"{name}.transient", allow_zero=True)
    t = transient + dt * np.arange(n_steps)
    t = np.concatenate([[0.0], t]) if transient > 0 else t
    tr = simulate(model, y0, t, dt=min(dt, 0.01), method=method)
    return tr.y[1:] if transient > 0 else tr.y


def lorenz_series(n_steps: int, *, dt: float = 0.01, y0=(1.0, 1.0, 1.0),
                  transient: float = 10.0, sigma: float = 10.0, rho: float = 28.0,
                  beta: float = 8.0 / 3.0) -> np.ndarray:
    """Lorenz (1963) trajectory (n_steps, 3) sampled every dt after ``transient`` time units
    (``rnndyn.models.user.lorenz``, rk4 with step min(dt, 0.01))."""
    return _flow_series(lorenz(sigma, rho, beta), n_steps, dt, y0, transient, "rk4",
                        "lorenz_series")


def rossler_series(n_steps: int, *, dt: float = 0.05, y0=(1.0, 1.0, 1.0),
                   transient: float = 50.0, a: float = 0.2, b: float = 0.2,
                   c: float = 5.7) -> np.ndarray:
    """Rössler (1976, Phys Lett A 57:397) trajectory (n_steps, 3): ``dx = -y - z,
    dy = x + a y, dz = b + z (x - c)``, sampled every dt after ``transient``."""
    model = rossler(a, b, c)
    return _flow_series(model, n_steps, dt, y0, transient, "rk4", "rossler_series")


def sine_to_square(n_steps: int, *, period: float = 40.0, phase: float = 0.0) -> tuple:
    """Input sin(2 pi t / period + phase), target the square wave sign(...) of the same
    phase (+1 / -1).

    Returns
    -------
    (u (n_steps, 1), y (n_steps, 1))
    """
    n_steps = positive_int(n_steps, "sine_to_square.n_steps")
    period = positive(period, "sine_to_square.period")
    s = np.sin(2 * np.pi * np.arange(n_steps) / period + float(phase))
    return s[:, None], np.where(s >= 0.0, 1.0, -1.0)[:, None]


def timer_task(n_steps: int, *, max_duration: int = 20, min_gap: int = 10,
               p_trigger: float = 0.05, seed=None) -> tuple:
    """Jaeger's timer (tutorial, GMD Report 159, 2002): input 1 carries trigger spikes
    (1 for one step), input 2 the duration of the next pulse as a level in (0, 1]
    (``duration / max_duration``, drawn uniformly among 1 .. max_duration at each trigger
    and held until the next); the target is 1 during the ``duration`` steps that follow a
    trigger (the trigger step included), else 0. Triggers come with probability
    ``p_trigger`` per step once the previous pulse ended plus ``min_gap`` steps.

    Returns
    -------
    (u (n_steps, 2), y (n_steps, 1))
    """
    n_steps = positive_int(n_steps, "timer_task.n_steps")
    max_duration = positive_int(max_duration, "timer_task.max_duration")
    min_gap = positive_int(min_gap, "timer_task.min_gap", minimum=0)
    p = in_range(p_trigger, "timer_task.p_trigger", 0.0, 1.0, closed="right")
    rng = check_seed(seed, "timer_task.seed")
    u = np.zeros((n_steps, 2))
    y = np.zeros((n_steps, 1))
    draws = rng.random(n_steps)
    lengths = rng.integers(1, max_duration + 1, n_steps)
    level = lengths[0] / max_duration
    free = 0  # first step at which a new trigger may come
    # a pulse train is data generation of a few thousand steps, not a model's hot path
    for t in range(n_steps):
        if t >= free and draws[t] < p:
            level = lengths[t] / max_duration
            u[t, 0] = 1.0
            y[t:t + lengths[t], 0] = 1.0
            free = t + lengths[t] + min_gap
        u[t, 1] = level
    return u, y
