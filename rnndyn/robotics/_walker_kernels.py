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

The network step is the CTRNN's own right-hand side (``_ctrnn_kernels.rhs_sigmoid_driven``)
followed by the Euler update ``y += h dy`` of the shared integrator template, repeated here
for the reason given in ``_visual_agent_kernels`` (a kernel calling a run-time bound function
would miss numba's disk cache); ``tests/test_robotics_walker.py`` checks that a walk equals
the same walk driven through ``rnndyn.robotics.Controller`` (and so ``rnndyn.Stepper``).
"""
import math

import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_PARALLEL
from ..models._ctrnn_kernels import member, output_sigmoid, rhs_sigmoid_driven, work_size

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


@njit(**JIT_PARALLEL)
def walks(p, y0, thetas, g, n_ticks, dt, n_sub, motors, DIST, rec_row, REC):
    """Every walk (individual k, initial leg angle thetas[m]) of a sigmoid-CTRNN population.

    p : the population's kernel parameters. y0 (n,): initial network state. motors (3,):
    positions of the foot, forward and backward units among the outputs. Tick: angle sensor
    u = sensor_gain theta -> n_sub Euler steps of dt / n_sub -> outputs -> ``leg_step``.
    DIST (P, M) gets the distance walked. Individuals with rec_row[k] >= 0 write (x, theta,
    foot, y_1..y_n) after every tick to REC[rec_row[k], m, tick].
    """
    P, M = DIST.shape
    n = y0.shape[0]
    h = dt / n_sub
    for km in prange(P * M):
        k, m = km // M, km % M
        pk = member(p, k)
        y = y0.copy()
        u = np.empty(1)
        dy = np.empty(n)
        work = np.empty(work_size(pk))
        out = np.empty(pk[2].shape[0])
        s = np.empty(7)
        reset(s, thetas[m], g)
        r = rec_row[k]
        for tick in range(n_ticks):
            u[0] = s[THETA] * g[_SENSOR]
            for _ in range(n_sub):
                rhs_sigmoid_driven(0.0, y, u, pk, dy, work)
                for i in range(n):
                    y[i] += h * dy[i]
            output_sigmoid(y, pk, out)
            leg_step(s, out[motors[0]], out[motors[1]], out[motors[2]], g, dt)
            if r >= 0:
                REC[r, m, tick, REC_X] = s[X]
                REC[r, m, tick, REC_THETA] = s[THETA]
                REC[r, m, tick, REC_FOOT] = s[FOOT]
                for i in range(n):
                    REC[r, m, tick, REC_Y + i] = y[i]
        DIST[k, m] = s[X]


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
