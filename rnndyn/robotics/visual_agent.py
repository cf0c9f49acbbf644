"""Beer's visual agent: active categorical perception of falling circles and diamonds.

Beer, R. D. (2003). The dynamics of active categorical perception in an evolved model agent.
Adaptive Behavior 11(4):209-243. A circular agent (diameter 30) moves horizontally along the
bottom of a 2-D world (its centre at height 0) and sees with 7 distance rays spread evenly
over a fan of pi/6 around the vertical, each of length 220. An object -- a circle of
diameter 30 or a diamond (a square of side 30 standing on a corner) -- falls straight down
at speed 3 from height 275 at some horizontal offset; the agent must catch circles (end
under them) and avoid diamonds. Ray i reads ``input_gain (L - d_i) / L`` with d_i the
distance from the agent's centre to the object along the ray (clipped to L = 220; input 0
when the ray misses). The controller is a sigmoid CTRNN with 7 inputs (the rays) and 2
outputs (the motor units); the agent's velocity is ``motor_gain (o_1 - o_2)``. A trial
lasts until the object's centre has fallen to the contact height (sum of the radii, 30);
its score is Beer's: with d = min(|dx|, 45) / 45 for the final horizontal separation dx,
``1 - d`` for a circle and ``d`` for a diamond, averaged over trials.

Numbers from /work/shared/MODELS.md (after Beer 2003): ray fan pi/6, length 220, input gain
10, fall speed 3, motor gain 5, Euler dt 0.1; genome ranges weights +-5, biases +-10,
tau in [1, 2], gains in [1, 5]. Beer's world has side walls and measures the separation
when the object reaches the agent's line; here the world is unbounded horizontally and the
end time is the same for both shapes (it does not betray the shape).

``VisualAgent.run`` runs a whole population's trials -- network, body and world -- in one
numba kernel whose SIMD lanes are (individual, trial) pairs, stepped by the lane kernels of
``simulate`` and ``Stepper`` (see ``_visual_agent_kernels``), in float64 or float32
(``dtype=``): 2.7-2.9x (float64) and 4.9x (float32) faster than the per-(individual, trial)
kernel it replaced on a generation of 1000 agents.
``beer2003_network`` / ``beer2003_genome`` give Beer's 7 sensory + 5 inter + 2 motor
architecture and its (bilaterally symmetric) genome.
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
from . import _visual_agent_kernels as _k

SHAPES = {"circle": _k.CIRCLE, "diamond": _k.DIAMOND}


class Episodes(NamedTuple):
    """Result of ``VisualAgent.run``.

    dx : array (P, M)
        Final horizontal offset object - agent of every individual in every trial.
    shapes : array (M,) of int
        0 circle, 1 diamond.
    caught : array (P, M) of bool
        |dx| <= (body_diameter + object_diameter) / 2: the object lands on the agent.
    correct : array (P, M) of bool
        Circles caught and diamonds avoided.
    fitness : array (P,)
        Beer's score averaged over the trials (1 is perfect).
    trajectories : array (R, M, T, 2 + n) or None
        For the recorded individuals: after every tick, agent x, object height and the n
        network states.
    """
    dx: np.ndarray
    shapes: np.ndarray
    caught: np.ndarray
    correct: np.ndarray
    fitness: np.ndarray
    trajectories: np.ndarray | None


@dataclass(frozen=True)
class VisualAgent:
    """The world and body of Beer's (2003) visual agent (lengths in body-diameter units of
    1/30, time in the CTRNN's units).

    Parameters
    ----------
    rays : int
        Number of distance rays (7).
    fan : float
        Angle spanned by the rays (pi/6), symmetric about the vertical.
    ray_length : float
        L (220).
    input_gain : float
        Input of a ray touching the agent (10): input = gain (L - d) / L.
    body_diameter, object_diameter, diamond_side : float
        30, 30, 30.
    fall_speed, drop_height : float
        Object speed (3) and initial height of its centre (275).
    motor_gain : float
        Velocity = motor_gain (o_1 - o_2) (5).
    max_distance : float
        Separation at which the score saturates (45).
    dt : float
        Control tick (0.1); the network makes ``substeps`` Euler steps per tick.
    substeps : int
    """

    rays: int = 7
    fan: float = math.pi / 6
    ray_length: float = 220.0
    input_gain: float = 10.0
    body_diameter: float = 30.0
    object_diameter: float = 30.0
    diamond_side: float = 30.0
    fall_speed: float = 3.0
    drop_height: float = 275.0
    motor_gain: float = 5.0
    max_distance: float = 45.0
    dt: float = 0.1
    substeps: int = 1

    def __post_init__(self):
        positive_int(self.rays, "VisualAgent.rays")
        positive_int(self.substeps, "VisualAgent.substeps")
        if not 0.0 <= positive(self.fan, "VisualAgent.fan", allow_zero=True) < math.pi:
            raise ValidationError("VisualAgent.fan", f"must be in [0, pi), got {self.fan}",
                                  self.fan)
        for f in ("ray_length", "input_gain", "body_diameter", "object_diameter",
                  "diamond_side", "fall_speed", "drop_height", "motor_gain", "max_distance",
                  "dt"):
            positive(getattr(self, f), f"VisualAgent.{f}")
        if self.drop_height <= self.contact_height:
            raise ValidationError("VisualAgent.drop_height", f"must be above the contact height "
                                  f"{self.contact_height}, got {self.drop_height}",
                                  self.drop_height)

    # -- geometry -------------------------------------------------------------------------
    @property
    def contact_height(self) -> float:
        """Height of the object's centre at the end of a trial (sum of the radii)."""
        return (self.body_diameter + self.object_diameter) / 2.0

    @property
    def directions(self) -> np.ndarray:
        """Unit directions (rays, 2) of the rays, left to right, angles from the vertical
        evenly spaced over [-fan/2, fan/2]."""
        a = np.linspace(-self.fan / 2, self.fan / 2, self.rays) if self.rays > 1 else \
            np.zeros(1)
        return np.ascontiguousarray(np.stack([np.sin(a), np.cos(a)], axis=1))

    @property
    def ticks(self) -> int:
        """Control ticks of a trial: until the object falls to the contact height."""
        return math.ceil((self.drop_height - self.contact_height) /
                         (self.fall_speed * self.dt) - 1e-9)

    @property
    def _geometry(self) -> np.ndarray:
        return np.array([self.ray_length, self.input_gain, self.object_diameter / 2.0,
                         self.diamond_side / math.sqrt(2.0), self.fall_speed, self.drop_height,
                         self.motor_gain])

    def sensors(self, x: float, obj_x: float, obj_y: float, shape: str = "circle") -> np.ndarray:
        """Ray inputs (rays,) of an agent at (x, 0) seeing a ``shape`` at (obj_x, obj_y)."""
        u = np.empty((self.rays, 1))
        _k.sensors(np.array([float(x)]), np.array([float(obj_x)]), float(obj_y),
                   _shape_code(shape), self.directions, self._geometry, u, 0, 1)
        return u[:, 0]

    @staticmethod
    def trials(n: int = 24, spread: float = 50.0) -> tuple[np.ndarray, np.ndarray]:
        """``n`` evenly spaced offsets in [-spread, spread] for each shape: (offsets (2n,),
        shapes (2n,)), circles first."""
        n = positive_int(n, "VisualAgent.trials.n")
        off = np.linspace(-spread, spread, n) if n > 1 else np.zeros(1)
        return np.concatenate([off, off]), np.repeat(["circle", "diamond"], n)

    # -- episodes -------------------------------------------------------------------------
    def _check(self, model) -> CTRNN:
        if not isinstance(model, CTRNN) or model.activation != "sigmoid":
            raise ValidationError("model", "must be a sigmoid CTRNN (Beer's controller), got "
                                  f"{type(model).__name__}", model)
        if model.n_in != self.rays or model.n_out != 2:
            raise ValidationError("model", f"needs n_in = {self.rays} (one input per ray) and "
                                  f"2 outputs (the motor units), got n_in = {model.n_in}, "
                                  f"n_out = {model.n_out}", model)
        return model if model.P is not None else CTRNN.stack([model])

    @front_door()
    def run(self, model: CTRNN, offsets, shapes, *, record=None, y0=None,
            dtype=np.float64) -> Episodes:
        """Every trial of every individual (one parallel kernel call).

        Parameters
        ----------
        model : CTRNN (sigmoid), single or population of P
            n_in = rays, 2 outputs (motor units).
        offsets : array (M,)
            Horizontal offset of the object from the agent's start (0) in each trial.
        shapes : sequence of {"circle", "diamond"} (M,)
        record : sequence of int, optional
            Individuals whose trajectories and neural traces are kept.
        y0 : array (n,), optional
            Initial network state of every trial (default zeros).
        dtype : {numpy.float64, numpy.float32}
            Precision of the network (the body and world are float64): float32 runs the
            same kernel with twice the SIMD lanes a register.
        """
        pop = self._check(model)
        try:
            off = np.ascontiguousarray(np.asarray(offsets, dtype=float).reshape(-1)) \
                if np.ndim(offsets) <= 1 else None
        except (TypeError, ValueError):
            off = None
        if off is None or not len(off) or not np.all(np.isfinite(off)):
            raise ValidationError("offsets", "must be a non-empty 1-D array of finite numbers",
                                  offsets)
        codes = np.array([_shape_code(s) for s in np.atleast_1d(shapes)], dtype=np.int64)
        if codes.shape != off.shape:
            raise ValidationError("shapes", f"needs one shape per trial ({len(off)}), got "
                                  f"{len(codes)}", shapes)
        dtype = _episodes.check_dtype(dtype, pop.kernel_params[0])
        n, P, M, T = pop.n, pop.P, len(off), self.ticks
        rows, R, y = _episodes.prepare(pop, record, y0, self.dt, self.substeps)
        REC = np.zeros((R, M, T, 2 + n))
        DX = np.empty((P, M))
        A, _, out_idx = pop.kernel_params
        ind, trial = _k.pair_order(P, codes)  # the lanes: (individual, trial) pairs
        _k.episodes(lanes_params(A[ind], dtype), ind, trial, y, self.directions,
                    self._geometry, off, codes, out_idx, T, self.dt,
                    np.array([self.dt / self.substeps], dtype), self.substeps, DX, rows, REC)
        _episodes.check_finite(DX)
        d = np.minimum(np.abs(DX), self.max_distance) / self.max_distance
        circle = codes == _k.CIRCLE
        caught = np.abs(DX) <= self.contact_height
        return Episodes(DX, codes, caught, np.where(circle, caught, ~caught),
                        np.where(circle, 1.0 - d, d).mean(axis=1),
                        REC if record is not None else None)

    @front_door()
    def fitness(self, model: CTRNN, offsets, shapes, *, dtype=np.float64) -> np.ndarray:
        """Beer's score (P,) (or a float for a single network): mean over the trials of
        1 - d (circles) and d (diamonds), d = min(|dx|, max_distance) / max_distance.
        ``dtype``: as in ``run``."""
        f = self.run(model, offsets, shapes, dtype=dtype).fitness
        return f if model.P is not None else float(f[0])


def _shape_code(shape) -> int:
    if isinstance(shape, (str, np.str_)) and str(shape) in SHAPES:
        return SHAPES[str(shape)]
    raise ValidationError("shapes", f"must be 'circle' or 'diamond', got {shape!r}", shape)


# ------------------------------------------------------------------- Beer's architecture
@front_door()
def beer2003_network(rays: int = 7, inter: int = 5) -> CTRNN:
    """Template of Beer's controller: ``rays`` sensory units (unit i integrates ray i,
    ``W_in`` one-hot and fixed), ``inter`` fully interconnected interneurons (self-connections
    included) fed by every sensory unit, and 2 motor units (the outputs, the last two units)
    fed by every interneuron. All weights start at 0, tau 1, bias 0, gain 1: decode a genome
    (``beer2003_genome``) to set them."""
    rays = positive_int(rays, "rays")
    inter = positive_int(inter, "inter")
    n = rays + inter + 2
    S, H, O = slice(0, rays), slice(rays, rays + inter), slice(rays + inter, n)
    mask = np.zeros((n, n), dtype=bool)
    mask[H, S] = True
    mask[H, H] = True
    mask[O, H] = True
    W_in = np.zeros((n, rays))
    W_in[np.arange(rays), np.arange(rays)] = 1.0
    return CTRNN(W=np.zeros((n, n)), W_in=W_in, outputs=(n - 2, n - 1), mask=mask,
                 input_mask=W_in != 0)


def beer2003_genome(network: CTRNN | None = None, symmetric: bool = True, weight: float = 5.0,
                    bias: float = 10.0, tau=(1.0, 2.0), gain=(1.0, 5.0)):
    """The genome of ``beer2003_network`` (``rnndyn.train.Genome``): W in [-weight, weight],
    biases in [-bias, bias], tau on a log scale over ``tau``, gains over ``gain``. With
    ``symmetric`` the controller is bilaterally symmetric (Beer 2003): sensory unit i mirrors
    rays - 1 - i, interneuron j mirrors inter - 1 - j and the two motor units mirror each
    other, which mirrors the agent's velocity."""
    from ..train.genome import Genome

    net = beer2003_network() if network is None else network
    ranges = {"W": weight, "bias": bias, "tau": (tau[0], tau[1], "log"),
              "gain": (gain[0], gain[1])}
    if not symmetric:
        return Genome(net, ranges)
    rays, n = net.n_in, net.n
    inter = n - rays - 2
    mirror = np.concatenate([np.arange(rays)[::-1], rays + np.arange(inter)[::-1],
                             [n - 1, n - 2]])
    return Genome(net, ranges, mirror=mirror, input_mirror=np.arange(rays)[::-1])
