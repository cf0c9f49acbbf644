"""A minimal legged walker: one leg of Beer & Gallagher's (1992) insect.

Beer, R. D. & Gallagher, J. C. (1992). Evolving dynamical neural networks for adaptive
behavior. Adaptive Behavior 1(1):91-122. Each leg of their six-legged agent has a foot that
is up or down and two swing motors, forward and backward, driven by the motor units of a
5-neuron CTRNN, and an angle sensor; the fitness is the distance walked. The single-leg
version here is the body of Beer, Chiel & Gallagher (1999, J. Comput. Neurosci. 7:99-118),
with the constants of Beer's LeggedAgent code: leg length 15, angle limits +-pi/6, maximum
leg force 0.05, velocity +-6, torque factor 0.5, angular velocity +-1, the body stops when
the foot is more than 20 behind the hip; Euler dt 0.1, walks of 220 time units starting at
rest, foot up, leg at the forward limit. The angle sensor reads ``5 theta / (pi/6)`` (so +-5
at the limits). The body mechanics are in ``_walker_kernels.leg_step``.

``Walker.run`` runs a whole population's walks -- network and body -- in one numba kernel
whose SIMD lanes are (individual, initial angle) pairs, stepped by the lane kernels of
``simulate`` and ``Stepper`` (see ``_walker_kernels``), in float64 or float32 (``dtype=``):
2.0-3.1x (float64) and 2.8-3.2x (float32) faster than the per-pair kernel it replaced.
``beer_gallagher1992_network`` / ``beer_gallagher1992_genome`` give the 5-neuron, fully
interconnected leg controller and its genome (weights and sensor weights +-16, biases +-16,
tau in [0.5, 10], log scale).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .._validate import front_door, positive, positive_int
from ..errors import ValidationError
from ..integrate.plumbing import lanes_params
from ..models.ctrnn import CTRNN
from . import _episodes
from . import _walker_kernels as _k


class Walks(NamedTuple):
    """Result of ``Walker.run``.

    distance : array (P, M)
        Distance walked by every individual from every initial leg angle.
    velocity : array (P, M)
        Average velocity, distance / duration.
    fitness : array (P,)
        Mean average velocity over the M walks (Beer & Gallagher's distance walked, per unit
        time).
    trajectories : array (R, M, T, 3 + n) or None
        For the recorded individuals, after every tick: body position x, leg angle theta,
        foot state (1 down, 0 up) and the n network states.
    """
    distance: np.ndarray
    velocity: np.ndarray
    fitness: np.ndarray
    trajectories: np.ndarray | None


@dataclass(frozen=True)
class Walker:
    """Body and world of the single-leg walker (lengths, time in the CTRNN's units).

    Parameters
    ----------
    leg_length : float
        L (15).
    angle_limit : float
        Mechanical limits +-theta_max of the leg (pi/6).
    max_leg_force : float
        Force of a swing motor whose unit fires at rate 1 (0.05).
    max_velocity, max_torque, max_omega : float
        Body speed limit (6), swing torque factor (0.5), leg angular speed limit (1).
    stability : float
        The body stops when the foot is more than this behind the hip (20).
    sensor_gain : float
        Angle sensor = sensor_gain theta (5 / theta_max: +-5 at the limits).
    duration : float
        Length of a walk (220).
    dt : float
        Control tick (0.1); the network makes ``substeps`` Euler steps per tick.
    substeps : int
    motors : (int, int, int)
        Output indices of the foot, forward-swing and backward-swing units (0, 1, 2).
    """

    leg_length: float = 15.0
    angle_limit: float = math.pi / 6
    max_leg_force: float = 0.05
    max_velocity: float = 6.0
    max_torque: float = 0.5
    max_omega: float = 1.0
    stability: float = 20.0
    sensor_gain: float = 5.0 / (math.pi / 6)
    duration: float = 220.0
    dt: float = 0.1
    substeps: int = 1
    motors: tuple = (0, 1, 2)

    def __post_init__(self):
        positive_int(self.substeps, "Walker.substeps")
        for f in ("leg_length", "max_leg_force", "max_velocity", "max_torque", "max_omega",
                  "stability", "duration", "dt"):
            positive(getattr(self, f), f"Walker.{f}")
        if not 0.0 < positive(self.angle_limit, "Walker.angle_limit") < math.pi / 2:
            raise ValidationError("Walker.angle_limit", f"must be in (0, pi/2), got "
                                  f"{self.angle_limit}", self.angle_limit)
        if not (isinstance(self.sensor_gain, (int, float)) and math.isfinite(self.sensor_gain)):
            raise ValidationError("Walker.sensor_gain", f"must be a finite number, got "
                                  f"{self.sensor_gain!r}", self.sensor_gain)
        m = self.motors
        if not (isinstance(m, (tuple, list)) and len(m) == 3 and
                all(isinstance(i, (int, np.integer)) and i >= 0 for i in m) and
                len(set(m)) == 3):
            raise ValidationError("Walker.motors", "must be 3 distinct output indices (foot, "
                                  f"forward swing, backward swing), got {m!r}", m)

    @property
    def ticks(self) -> int:
        """Control ticks of a walk."""
        return math.ceil(self.duration / self.dt - 1e-9)

    @property
    def _body(self) -> np.ndarray:
        return np.array([self.leg_length, self.max_leg_force, self.angle_limit,
                         self.max_velocity, self.max_torque, self.max_omega, self.stability,
                         self.sensor_gain])

    def _check(self, model) -> CTRNN:
        if not isinstance(model, CTRNN) or model.activation != "sigmoid":
            raise ValidationError("model", "must be a sigmoid CTRNN (Beer & Gallagher's "
                                  f"controller), got {type(model).__name__}", model)
        if model.n_in != 1 or model.n_out <= max(self.motors):
            raise ValidationError("model", f"needs n_in = 1 (the angle sensor) and at least "
                                  f"{max(self.motors) + 1} outputs (motors {self.motors}), got "
                                  f"n_in = {model.n_in}, n_out = {model.n_out}", model)
        return model if model.P is not None else CTRNN.stack([model])

    @front_door()
    def run(self, model: CTRNN, angles=None, *, record=None, y0=None,
            dtype=np.float64) -> Walks:
        """Every walk of every individual (one parallel kernel call).

        Parameters
        ----------
        model : CTRNN (sigmoid), single or population of P
            One input (the angle sensor); outputs include the three motor units.
        angles : array (M,), optional
            Initial leg angles, one walk each (default: the forward limit only).
        record : sequence of int, optional
            Individuals whose walks and neural traces are kept.
        y0 : array (n,), optional
            Initial network state (default zeros).
        dtype : {numpy.float64, numpy.float32}
            Precision of the network (the body is float64): float32 runs the same kernel
            with twice the SIMD lanes a register.
        """
        pop = self._check(model)
        if angles is None:
            th = np.array([self.angle_limit])
        else:
            try:
                th = np.ascontiguousarray(np.asarray(angles, dtype=float).reshape(-1)) \
                    if np.ndim(angles) <= 1 else None
            except (TypeError, ValueError):
                th = None
            if th is None or not len(th) or not np.all(np.abs(th) <= self.angle_limit):
                raise ValidationError("angles", f"must be a non-empty 1-D array of leg angles "
                                      f"in [-{self.angle_limit:.4g}, {self.angle_limit:.4g}], "
                                      f"got {angles!r}", angles)
        dtype = _episodes.check_dtype(dtype, pop.kernel_params[0])
        n, P, M, T = pop.n, pop.P, len(th), self.ticks
        rows, R, y = _episodes.prepare(pop, record, y0, self.dt, self.substeps)
        REC = np.zeros((R, M, T, 3 + n))
        D = np.empty((P, M))
        A, _, out_idx = pop.kernel_params
        # the lanes: (individual, angle) pairs, angle-major
        ind, trial = np.tile(np.arange(P), M), np.repeat(np.arange(M), P)
        _k.walks(lanes_params(A[ind], dtype), ind, trial, y, th, self._body, out_idx,
                 np.array(self.motors, dtype=np.int64), T, self.dt,
                 np.array([self.dt / self.substeps], dtype), self.substeps, D, rows, REC)
        _episodes.check_finite(D)
        V = D / (T * self.dt)
        return Walks(D, V, V.mean(axis=1), REC if record is not None else None)

    @front_door()
    def fitness(self, model: CTRNN, angles=None, *, dtype=np.float64) -> np.ndarray:
        """Average velocity (P,) (a float for a single network), mean over the walks.
        ``dtype``: as in ``run``."""
        f = self.run(model, angles, dtype=dtype).fitness
        return f if model.P is not None else float(f[0])

    def optimal(self, angle: float | None = None) -> np.ndarray:
        """Beer's hand-designed "optimal" gait on this body (the ``PerfectStep`` pattern
        generator of his LeggedAgent code: swing at full force to the forward limit, stance
        at full force until the foot is ``stability`` behind the hip), the reference of
        evolved walkers: (T, 3) of x, theta, foot after every tick; its average velocity is
        ``x[-1] / duration`` (0.6264 with the defaults; evolved controllers come within a
        fraction of a percent of it and may pass it slightly: it is not a proven optimum)."""
        th = self.angle_limit if angle is None else float(angle)
        REC = np.empty((self.ticks, 3))
        _k.optimal_walk(th, self._body, self.ticks, self.dt, REC)
        return REC


# ------------------------------------------------------- Beer & Gallagher's leg controller
@front_door()
def beer_gallagher1992_network(n: int = 5) -> CTRNN:
    """Template of a leg controller: ``n`` fully interconnected sigmoid units (self-connections
    included), all fed by the angle sensor; units 0, 1, 2 are the foot, forward-swing and
    backward-swing motor units (the outputs). Weights start at 0, tau 1, bias 0, gain 1:
    decode a genome (``beer_gallagher1992_genome``) to set them."""
    n = positive_int(n, "n", minimum=3)
    return CTRNN(W=np.zeros((n, n)), W_in=np.zeros((n, 1)), outputs=(0, 1, 2))


def beer_gallagher1992_genome(network: CTRNN | None = None, weight: float = 16.0,
                              bias: float = 16.0, tau=(0.5, 10.0)):
    """The genome (``rnndyn.train.Genome``) of a leg controller: W and the sensor weights
    W_in in [-weight, weight], biases in [-bias, bias], tau on a log scale over ``tau``
    (gains stay 1), the ranges of Beer, Chiel & Gallagher (1999)."""
    from ..train.genome import Genome

    net = beer_gallagher1992_network() if network is None else network
    return Genome(net, {"W": weight, "W_in": weight, "bias": bias,
                        "tau": (tau[0], tau[1], "log")})
