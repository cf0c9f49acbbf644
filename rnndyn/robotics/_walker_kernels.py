"""Numba kernels of the single-leg walker (Beer & Gallagher 1992; Beer, Chiel & Gallagher
1999): the leg's mechanics and whole walks of a CTRNN population.

The body follows Beer's LeggedAgent (its "one-way limits" version): a leg of length L
hinged to the body at angle theta (0 vertical, positive forward, mechanical limits
+-theta_max). Each tick the three motor outputs set the foot (down when o_foot > 1/2) and
the forward / backward swing forces ``F = o * max_leg_force``:

* foot down (stance): the foot stays where it was put; the net force F_fwd - F_bwd
  accelerates the body (velocity clipped to +-max_velocity) as long as the leg is inside
  its limits, or outside them and the force pushes it back in; theta follows the geometry.
* foot up (swing): the body stops (after this tick's move); the leg turns with angular
  velocity omega += dt max_torque (F_bwd - F_fwd), clipped to +-max_omega, theta to
  the limits (where omega is zeroed).
* a foot left more than ``stability`` behind the hip makes the body unstable: it stops.

The walks run on the lane kernels of ``rnndyn/integrate/_lanes_kernels.py``, as the visual
agent's episodes (``_visual_agent_kernels``): the lanes are (individual, initial angle) pairs
in blocks of ``LANES``, angle-major, each lane with its individual's packed parameters
(``lanes_params`` of A gathered per pair). Per control tick the angle sensors fill u
(1, LANES), the network makes ``n_sub`` lane Euler steps (``_lanes_kernels._step``: the CTRNN
rhs in the same order), the three motor rates are computed over the lanes (SIMD code) and
each lane's leg moves by ``leg_step``, scalar and branchy, lane by lane. The blocks are
split over numba's threads. A walk equals the same walk driven through
``rnndyn.robotics.Controller`` (and so ``rnndyn.Stepper``) and a plain-numpy Euler loop to
rounding (``tests/test_robotics_walker.py``). The network runs in float64 or float32
(the body stays float64).

Speed: the walks of one population of Beer & Gallagher's 5-neuron controllers (random
genomes, 2200 ticks, one Euler step a tick), interleaved best of 5 on the shared 2-core
machine (load ~3.5), one run: P = 100 from the forward limit (the study's generation)
38 ms in float64 and 27 ms in float32 against 75 ms for the kernel it replaces (each pair
on its own with the scalar CTRNN rhs): 2.0x and 2.8x; P = 1000: 192 / 147 ms against 465
ms (2.4x, 3.2x); P = 100 from 5 angles: 116 / 129 ms against 356 ms (3.1x, 2.8x). The
distances agreed with the old kernel's to 1e-9 (of distances up to ~140). Computing the
three motor rates in a lane loop of their own, instead of inside the scalar leg loop, took
a population of 1000 from 1.7x to 2.4x (float32 2.0x to 3.2x; two runs). Compile (an empty
numba cache, the lane rhs included): ~10 s for the float64 kernel, ~9 s more the first time
float32 is used.
"""
import math

import numpy as np
from numba import njit, prange

from .._config import JIT
from ..integrate.plumbing import EULER, SIGMOID
from ..integrate.plumbing import LANE_JIT as _JIT
from ..integrate.plumbing import LANE_JIT_PARALLEL as _JIT_PARALLEL
from ..integrate.plumbing import lane_activation as _act
from ..integrate.plumbing import lane_bad_unit as _lane_bad_unit
from ..integrate.plumbing import lane_scratch
from ..integrate.plumbing import lane_step as _step

# body parameter vector g
(_LEG, _FORCE, _LIMIT, _VMAX, _TORQUE, _OMEGA, _STABLE, _SENSOR) = range(8)
# body state vector s
(X, V, THETA, OMEGA, FOOT_X, FOOT_Y, FOOT) = range(7)
#: columns of a recorded tick: body x, leg angle, foot state, then the n network states
REC_X, REC_THETA, REC_FOOT, REC_Y = 0, 1, 2, 3


@njit(**JIT)
def reset(s, theta, g):
    """Body at x = 0, at rest, foot up, leg at angle ``theta``."""
    s[X] = 0.0
    s[V] = 0.0
    s[THETA] = theta
    s[OMEGA] = 0.0
    s[FOOT_X] = g[_LEG] * math.sin(theta)  # relative to the hip, which starts at x = 0
    s[FOOT_Y] = g[_LEG] * math.cos(theta)
    s[FOOT] = 0.0


@njit(**JIT)
def leg_step(s, foot, fwd, bwd, g, dt):
    """One tick of the body under motor outputs (foot, forward, backward) in [0, 1]."""
    limit = g[_LIMIT]
    if foot > 0.5:
        s[FOOT] = 1.0
        s[OMEGA] = 0.0
    else:
        s[FOOT] = 0.0
    f = (fwd - bwd) * g[_FORCE]
    force = 0.0
    th = s[THETA]
    if s[FOOT] == 1.0 and ((-limit <= th <= limit) or (th < -limit and f < 0.0)
                            or (th > limit and f > 0.0)):
        force = f
    v = min(max(s[V] + dt * force, -g[_VMAX]), g[_VMAX])
    s[X] += dt * v
    if s[FOOT] == 1.0:
        th_new = math.atan2(s[FOOT_X] - s[X], s[FOOT_Y])
        s[OMEGA] = (th_new - th) / dt
        s[THETA] = th_new
    else:
        v = 0.0
        w = s[OMEGA] + dt * g[_TORQUE] * (bwd - fwd) * g[_FORCE]
        w = min(max(w, -g[_OMEGA]), g[_OMEGA])
        th += dt * w
        if th < -limit:
            th, w = -limit, 0.0
        if th > limit:
            th, w = limit, 0.0
        s[THETA], s[OMEGA] = th, w
        s[FOOT_X] = s[X] + g[_LEG] * math.sin(th)
        s[FOOT_Y] = g[_LEG] * math.cos(th)
    if s[X] - s[FOOT_X] > g[_STABLE]:
        v = 0.0
    s[V] = v


@njit(**_JIT)
def _walk_block(Lb, lo, ind, trial, y0, thetas, g, out_idx, motors, n_ticks, dt, h, n_sub,
                DIST, rec_row, REC):
    """The walks of the lanes l of one block, the pairs lo + l: individual ind[lo + l] from
    initial leg angle thetas[trial[lo + l]], Lb (n, c + 3, LANES) their parameters."""
    n = y0.shape[0]
    # the lane count read from Lb, not the constant LANES (see _lanes_kernels.LANES)
    width = Lb.shape[2]
    c = Lb.shape[1] - 3
    count = min(width, ind.shape[0] - lo)
    y = lane_scratch(n, width, Lb)  # cache-line aligned: see _lanes_kernels.aligned_zeros
    S = lane_scratch(6 * n, width, Lb).reshape((6, n, width))
    u = lane_scratch(1, width, Lb)  # idle lanes: sensor 0
    body = np.empty((width, 7))
    for l in range(count):
        reset(body[l], thetas[trial[lo + l]], g)
        for i in range(n):
            y[i, l] = y0[i]
    o = np.empty((3, width), dtype=Lb.dtype)
    units = np.empty(3, dtype=np.int64)  # the foot, forward and backward units
    for k in range(3):
        units[k] = out_idx[motors[k]]
    for tick in range(n_ticks):
        for l in range(count):
            u[0, l] = body[l, THETA] * g[_SENSOR]
        for _ in range(n_sub):
            _step(Lb, y, u, h, EULER, S, SIGMOID)
        for k in range(3):  # the motor units' rates, over the lanes (SIMD)
            i = units[k]
            for l in range(width):
                o[k, l] = _act(Lb[i, c + 2, l] * (y[i, l] + Lb[i, c + 1, l]), SIGMOID)
        for l in range(count):  # move the legs (scalar, branchy)
            leg_step(body[l], float(o[0, l]), float(o[1, l]), float(o[2, l]), g, dt)
            r = rec_row[ind[lo + l]]
            if r >= 0:
                m = trial[lo + l]
                REC[r, m, tick, REC_X] = body[l, X]
                REC[r, m, tick, REC_THETA] = body[l, THETA]
                REC[r, m, tick, REC_FOOT] = body[l, FOOT]
                for i in range(n):
                    REC[r, m, tick, REC_Y + i] = y[i, l]
    for l in range(count):  # a diverged network ends its walk at NaN
        DIST[ind[lo + l], trial[lo + l]] = body[l, X] if _lane_bad_unit(y, l) < 0 else np.nan


@njit(**_JIT_PARALLEL)
def walks(L, ind, trial, y0, thetas, g, out_idx, motors, n_ticks, dt, h, n_sub, DIST, rec_row,
          REC):
    """Every walk (individual k, initial leg angle thetas[m]) of a sigmoid-CTRNN population,
    in parallel over blocks of lanes.

    ind (Q,), trial (Q,): the (individual, angle) pairs to run, in lane order. L (nb, n,
    n + 4, LANES): ``_lanes_kernels.lanes_params`` of the packed CTRNN parameters A[ind]
    (lane q: pair q), float64 or float32. y0 (n,): initial network state. out_idx: the
    output units; motors (3,): positions of the foot, forward and backward units among the
    outputs. h (1,): the Euler step dt / n_sub in L's dtype. Tick: angle sensor
    u = sensor_gain theta -> n_sub Euler steps of h -> motor rates -> ``leg_step``. DIST
    (P, M) gets the distance walked (NaN if the network diverged). Individuals with
    rec_row[k] >= 0 write (x, theta, foot, y_1..y_n) after every tick to
    REC[rec_row[k], m, tick].
    """
    for blk in prange(L.shape[0]):
        _walk_block(L[blk], blk * L.shape[3], ind, trial, y0, thetas, g, out_idx, motors,
                    n_ticks, dt, h[0], n_sub, DIST, rec_row, REC)


@njit(**JIT)
def optimal_walk(theta0, g, n_ticks, dt, REC):
    """The optimal gait of Beer's LeggedAgent (its ``PerfectStep``): swing forward at full
    force to the forward limit, put the foot down, push at full force until the foot is
    ``stability`` behind the hip, lift it. REC (n_ticks, 3) gets (x, theta, foot)."""
    s = np.empty(7)
    reset(s, theta0, g)
    for tick in range(n_ticks):
        if s[FOOT] == 0.0 and s[THETA] >= g[_LIMIT]:
            down = 1.0
        elif s[FOOT] == 1.0 and s[X] - s[FOOT_X] > g[_STABLE]:
            down = 0.0
        else:
            down = s[FOOT]
        leg_step(s, down, down, 1.0 - down, g, dt)
        REC[tick, REC_X] = s[X]
        REC[tick, REC_THETA] = s[THETA]
        REC[tick, REC_FOOT] = s[FOOT]
