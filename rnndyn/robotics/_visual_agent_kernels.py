"""Numba kernels of Beer's visual agent (Beer 2003): ray geometry and whole episodes.

The network step is the CTRNN's own right-hand side (``_ctrnn_kernels.rhs_sigmoid_driven``,
the function every rnndyn integrator calls for a sigmoid CTRNN) followed by the Euler update
``y += h dy`` of the shared integrator template (``integrate/_flow_template._advance``).
That template is bound to a model family at run time, and a kernel calling a bound function
would miss numba's disk cache in every process (see ``rnndyn/_jit.py``), so the two-line
Euler update is repeated here instead; ``tests/test_robotics.py`` checks that an episode
equals the same episode driven through ``rnndyn.Stepper`` to rounding.
"""
import numpy as np
from numba import njit, prange

from .._config import JIT, JIT_PARALLEL
from ..models._ctrnn_kernels import member, output_sigmoid, rhs_sigmoid_driven, work_size

CIRCLE, DIAMOND = 0, 1
# geometry vector g: [ray_length, input_gain, radius, half_diagonal, fall_speed, drop_height,
# motor_gain]
_L, _GAIN, _RADIUS, _HALF_DIAG, _FALL, _DROP, _MOTOR = range(7)


@njit(**JIT)
def ray_circle(ox, oy, ux, uy, cx, cy, r):
    """Distance along the ray (ox, oy) + t (ux, uy) (unit direction) to a circle of centre
    (cx, cy) and radius r: the smallest t >= 0 on it (0 if the origin is inside), inf if
    the ray misses it."""
    px, py = ox - cx, oy - cy
    b = ux * px + uy * py
    c = px * px + py * py - r * r
    disc = b * b - c
    if disc < 0.0:
        return np.inf
    root = np.sqrt(disc)
    if -b - root >= 0.0:
        return -b - root
    if -b + root >= 0.0:
        return 0.0  # origin inside the circle
    return np.inf


@njit(**JIT)
def ray_segment(ox, oy, ux, uy, ax, ay, bx, by):
    """Distance along the ray to the segment a-b (inf if it misses it or runs parallel)."""
    ex, ey = bx - ax, by - ay
    den = ux * ey - uy * ex  # cross(u, e)
    if den == 0.0:
        return np.inf
    wx, wy = ax - ox, ay - oy
    t = (wx * ey - wy * ex) / den  # cross(w, e) / cross(u, e)
    s = (wx * uy - wy * ux) / den  # cross(w, u) / cross(u, e)
    if t >= 0.0 and 0.0 <= s <= 1.0:
        return t
    return np.inf


@njit(**JIT)
def ray_diamond(ox, oy, ux, uy, cx, cy, a):
    """Distance along the ray to the diamond |x - cx| + |y - cy| <= a (a square standing on
    a corner, half-diagonal a): the nearest of its four edges (0 if the origin is inside)."""
    if abs(ox - cx) + abs(oy - cy) <= a:
        return 0.0
    d = ray_segment(ox, oy, ux, uy, cx + a, cy, cx, cy + a)
    d = min(d, ray_segment(ox, oy, ux, uy, cx, cy + a, cx - a, cy))
    d = min(d, ray_segment(ox, oy, ux, uy, cx - a, cy, cx, cy - a))
    return min(d, ray_segment(ox, oy, ux, uy, cx, cy - a, cx + a, cy))


@njit(**JIT)
def sensors(x, obj_x, obj_y, shape, dirs, g, u):
    """Ray inputs of an agent at (x, 0) seeing an object at (obj_x, obj_y): for ray i of
    direction dirs[i], u[i] = input_gain (L - d) / L with d the distance to the object
    clipped to the ray length L (0 when the ray misses)."""
    L = g[_L]
    for i in range(dirs.shape[0]):
        if shape == CIRCLE:
            d = ray_circle(x, 0.0, dirs[i, 0], dirs[i, 1], obj_x, obj_y, g[_RADIUS])
        else:
            d = ray_diamond(x, 0.0, dirs[i, 0], dirs[i, 1], obj_x, obj_y, g[_HALF_DIAG])
        u[i] = g[_GAIN] * (L - min(d, L)) / L


@njit(**JIT_PARALLEL)
def episodes(p, y0, dirs, g, offsets, shapes, n_ticks, dt, n_sub, DX, rec_row, REC):
    """Every trial of every individual of a sigmoid-CTRNN population, in parallel.

    p : the population's kernel parameters (A (P, n, n + n_in + 3), W (P, n, n), out_idx (2,)).
    y0 (n,): initial network state. dirs (n_rays, 2): unit ray directions. g: geometry.
    offsets (M,), shapes (M,): horizontal start of the object and its shape in each trial.
    Tick: sensors -> n_sub Euler steps of dt / n_sub -> outputs o -> the agent moves by
    dt motor_gain (o_0 - o_1), the object falls by dt fall_speed. DX (P, M) gets the final
    object - agent horizontal offset. Individuals with rec_row[k] >= 0 write
    (agent x, object y, y_1..y_n) after every tick to REC[rec_row[k], m, tick].
    """
    P, M = DX.shape
    n = y0.shape[0]
    h = dt / n_sub
    for km in prange(P * M):
        k, m = km // M, km % M
        pk = member(p, k)
        y = y0.copy()
        u = np.empty(dirs.shape[0])
        dy = np.empty(n)
        work = np.empty(work_size(pk))
        out = np.empty(2)
        x, oy, ox = 0.0, g[_DROP], offsets[m]
        r = rec_row[k]
        for tick in range(n_ticks):
            sensors(x, ox, oy, shapes[m], dirs, g, u)
            for s in range(n_sub):
                rhs_sigmoid_driven(0.0, y, u, pk, dy, work)
                for i in range(n):
                    y[i] += h * dy[i]
            output_sigmoid(y, pk, out)
            x += dt * g[_MOTOR] * (out[0] - out[1])
            oy -= dt * g[_FALL]
            if r >= 0:
                REC[r, m, tick, 0] = x
                REC[r, m, tick, 1] = oy
                for i in range(n):
                    REC[r, m, tick, 2 + i] = y[i]
        DX[k, m] = ox - x
