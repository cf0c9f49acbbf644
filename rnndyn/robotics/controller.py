"""A controller API for external simulators: observations in, actions out, tick by tick.

An evolutionary-robotics simulator (a physics engine, a gymnasium environment, a numpy world)
owns the bodies; rnndyn owns the nervous systems. Each control tick the simulator passes the
observations of all P bodies, ``(P, n_obs)``, and gets back their actions ``(P, n_act)``.
In between, the network population advances ``substeps`` integration steps with the
observations held constant -- through the shared ``rnndyn.Stepper`` (one kernel call per
tick for the whole population), never a private integrator. A discrete-time population
(Elman, fully recurrent, LSTM, ...: a map) advances ``substeps`` updates a tick through the
shared ``DiscreteStepper`` instead (Elman and fully recurrent populations on SIMD lanes).

Sensor and motor mapping. Observation ``sensors[k]`` times ``sensor_gain[k]`` drives model
input k (model inputs reach the units through ``W_in``: a one-hot ``W_in`` makes them
Beer-style *sensory units*). The actions are a linear readout of the model's outputs (the
firing rates of its output units): ``actions = motor_gain * (M @ outputs) + motor_bias``
where ``motors`` gives M either as output indices (one-hot rows) or as a matrix, e.g.
``[[1, -1]]`` for the differential drive of Beer's agents (velocity ~ o_1 - o_2).
"""
from __future__ import annotations

import numpy as np

from .._validate import front_door, positive_int
from ..errors import ValidationError
from ..integrate import DiscreteStepper, Stepper
from ..models.base import Model


def _vector(value, size: int, name: str) -> np.ndarray:
    """A finite scalar broadcast to (size,) or a finite (size,) array."""
    try:
        a = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(name, f"must be a number or a sequence of {size} numbers, got "
                              f"{value!r}", value) from None
    if a.shape not in ((), (size,)) or not np.all(np.isfinite(a)):
        raise ValidationError(name, f"must be a finite number or {size} finite numbers, got "
                              f"shape {a.shape}", value)
    return np.array(np.broadcast_to(a, (size,)))


class Controller:
    """Closed-loop control of a population of P networks by an external simulator.

    Parameters
    ----------
    model : Model (flow or map)
        A single network or a population of P (``CTRNN.stack``, ``Elman.stack``,
        ``Genome.decode``).
    dt : float
        Control tick (time units): the simulator's step between two ``step`` calls. A map
        has no time: it is not used there.
    substeps : int
        Integration steps of the network per tick (each dt / substeps long); for a map, its
        updates per tick.
    method : {"euler", "rk4"}
        Integration method of a flow (a map: not used).
    sensors : sequence of int, optional
        ``sensors[k]`` is the observation entry driving model input k (length n_in).
        Default: observation k drives input k.
    n_obs : int, optional
        Length of an observation vector. Default ``model.n_in`` without ``sensors``, else
        ``max(sensors) + 1``.
    sensor_gain : float or array (n_in,)
        Scale of each model input.
    motors : sequence of int or array (n_act, n_out), optional
        Output indices read as actions, or a readout matrix M (actions = M @ outputs).
        Default: every output is an action.
    motor_gain, motor_bias : float or array (n_act,)
    y0 : array (n,) or (P, n), optional
        State after ``reset`` (default zeros).
    threads : int or None
        Threads of a tick (see ``Stepper``; a map: not used).

    Examples
    --------
    >>> ctl = Controller(pop, dt=0.1, motors=[[1, -1]], motor_gain=5.0)
    >>> a = ctl.reset()                         # (P, 1) velocities
    >>> for tick in range(T):
    ...     a = ctl.step(world.observe(a))      # observations (P, n_obs)
    """

    @front_door()
    def __init__(self, model: Model, dt: float = 0.1, *, substeps: int = 1,
                 method: str = "euler", sensors=None, n_obs: int | None = None,
                 sensor_gain=1.0, motors=None, motor_gain=1.0, motor_bias=0.0, y0=None,
                 threads: int | None = None):
        if not isinstance(model, Model) or model.kind not in ("flow", "map"):
            raise ValidationError("model", "a Controller drives networks (flows such as "
                                  "CTRNN, maps such as Elman), got "
                                  f"{type(model).__name__}", model)
        n_in, n_out = model.n_in, model.n_out
        if n_in == 0:
            raise ValidationError("model", "has no inputs (n_in = 0): a controller needs "
                                  "input weights W_in for its sensors", model)
        if sensors is None:
            self.sensors = np.arange(n_in)
        else:
            s = np.asarray(sensors)
            if s.shape != (n_in,) or s.dtype.kind not in "iu" or (s < 0).any():
                raise ValidationError("sensors", f"must be {n_in} observation indices >= 0 "
                                      f"(one per model input), got {sensors!r}", sensors)
            self.sensors = s.astype(np.intp)
        if n_obs is None:
            self.n_obs = n_in if sensors is None else int(self.sensors.max()) + 1
        else:
            self.n_obs = positive_int(n_obs, "n_obs")
            if self.sensors.max() >= self.n_obs:
                raise ValidationError("n_obs", f"sensor index {int(self.sensors.max())} is out "
                                      f"of range for observations of length {n_obs}", n_obs)
        self.sensor_gain = _vector(sensor_gain, n_in, "sensor_gain")
        if motors is None:
            M = np.eye(n_out)
        else:
            m = np.asarray(motors)
            if m.ndim == 1 and m.dtype.kind in "iu" and len(m) and \
                    ((m >= 0) & (m < n_out)).all():
                M = np.eye(n_out)[m]
            elif m.ndim == 2 and m.shape[1] == n_out and len(m) and m.dtype.kind in "iuf" \
                    and np.all(np.isfinite(m)):
                M = m.astype(float)
            else:
                raise ValidationError("motors", f"must be output indices in [0, {n_out}) or a "
                                      f"readout matrix (n_act, {n_out}), got {motors!r}", motors)
        self.motors = M
        self.n_act = M.shape[0]
        self.motor_gain = _vector(motor_gain, self.n_act, "motor_gain")
        self.motor_bias = _vector(motor_bias, self.n_act, "motor_bias")
        if model.kind == "map":
            self.substeps = positive_int(substeps, "substeps")
            self.stepper = DiscreteStepper(model, h0=y0)
        else:
            self.stepper = Stepper(model, dt=dt, method=method, substeps=substeps, y0=y0,
                                   threads=threads)
            self.substeps = self.stepper.substeps
        self.model, self.P = model, model.P
        self._y0 = self.stepper.state  # the checked initial state, restored by reset()

    @property
    def dt(self) -> float | None:
        """The tick of a flow (None for a map)."""
        return None if self.model.kind == "map" else self.stepper.dt

    @property
    def state(self) -> np.ndarray:
        """Network state, (P, n) or (n,) (a copy)."""
        return self.stepper.state

    def _actions(self, out: np.ndarray) -> np.ndarray:
        return self.motor_gain * (out @ self.motors.T) + self.motor_bias

    @front_door()
    def reset(self, y0=None) -> np.ndarray:
        """Reset the networks (state ``y0``, default the constructor's) and time; returns the
        actions of the reset state, (P, n_act) or (n_act,) for a single network."""
        if self.model.kind == "map":
            self.stepper.reset(self._y0 if y0 is None else y0)
            return self._actions(self.stepper.outputs)
        return self._actions(self.stepper.reset(self._y0 if y0 is None else y0))

    @front_door()
    def step(self, observations, dt: float | None = None) -> np.ndarray:
        """One control tick: the networks integrate ``substeps`` steps (a map: updates)
        under the observations (held constant) and return the actions.

        Parameters
        ----------
        observations : array (P, n_obs), or (n_obs,) for a single network
        dt : float, optional
            This tick's length (default the constructor's ``dt``); a map takes none.

        Returns
        -------
        array (P, n_act) or (n_act,)
        """
        obs = np.asarray(observations, dtype=float) if not isinstance(observations, str) \
            else None
        want = (self.n_obs,) if self.P is None else (self.P, self.n_obs)
        if obs is None or obs.shape != want:
            got = None if obs is None else obs.shape
            raise ValidationError("observations", f"expected shape {want} (the controller "
                                  f"reads {self.n_obs} observations" + (
                                      f" for each of {self.P} networks" if self.P else "")
                                  + f"), got {got}", observations)
        if not np.all(np.isfinite(obs)):
            raise ValidationError("observations", "must be finite (a simulator produced NaN "
                                  "or inf)", observations)
        u = obs[..., self.sensors] * self.sensor_gain
        if self.model.kind == "flow":
            return self._actions(self.stepper.step(u, dt))
        if dt is not None:
            raise ValidationError("dt", "a discrete-time controller has no time step: it "
                                  f"updates {self.substeps} time(s) a tick; pass dt=None", dt)
        for _ in range(self.substeps):
            out = self.stepper.step(u)
        return self._actions(out)
