"""Numba kernels of Beer's visual agent (Beer 2003): ray geometry and whole episodes.

The episodes run on the lane kernels of ``rnndyn/integrate/_lanes_kernels.py`` (the kernels of
``simulate`` and ``Stepper`` for populations of small CTRNNs): the lanes are (individual,
trial) pairs in blocks of ``LANES``, each lane with its individual's packed parameters
(``lanes_params`` of the population's A gathered per pair). The pairs run trial-major with
the trials sorted by shape (``pair_order``), so a block is mostly one trial's individuals
(large populations) or several trials of a few individuals (one agent on many held-out
drops), and holds at most one change of shape. Per control tick the ray sensors fill u
(n_in, LANES), the network makes ``n_sub`` lane Euler steps (``_lanes_kernels._step``: the
CTRNN rhs in the same order) and the motor rates move each lane's body; every loop runs
over the lanes of the block -- the ray geometry too, branch-free, in one loop per shape --
and becomes SIMD code. The blocks are split over numba's threads. The network arithmetic is
the CTRNN rhs's, so an episode equals the same episode driven through ``rnndyn.Stepper``,
and a plain-numpy Euler loop, to rounding (``tests/test_robotics.py``; the lane sigmoid is
within 4 ulp of libm's). The kernel is generic over the network's dtype (float64 or
float32; the body and world stay float64).

Speed: a generation of 1000 agents of N = 10 (``benchmarks/evolution.py``'s: 7 rays, 8
trials of 817 ticks, one Euler step a tick), interleaved best of 7 on the shared 2-core
machine (load ~4): ``VisualAgent.run`` took 0.88 s in float64 and 0.48 s in float32 against
2.34 s for the kernel it replaces (each (individual, trial) pair on its own with the scalar
CTRNN rhs and scalar ray geometry): 2.7x and 4.9x (2.9x float64 in a second run); all 8000
final offsets agreed with the old kernel's to 1e-6. One agent on 200 drops: 2.4x; 8 agents
on 48: 2.3x. Single-threaded, the network step is about three quarters of an episode: the
ray geometry, ~70% of the time when it ran scalar lane by lane inside a lane kernel (2.1x
the old kernel then), became ~10x cheaper branch-free over the lanes (``ray_segment``'s one
reciprocal, hoisted out of the lane loop, took the divisions out of the diamond); gathering
the parameters per pair (``lanes_params``) costs 15-30 ms of a generation. In the
benchmark's own run (one run, load ~4): 1.00 s a generation in float64 and 0.66 s in
float32, against 1.65 s and 1.18 s for evosax + JAX ``jit(vmap(scan))`` of the same fitness
(1.66x and 1.80x rnndyn's time in the same dtype) and 616 s for DEAP + neat-python (620x).
Compile (cold cache): ~11 s for the float64 kernel, ~17 s more the first time float32 is
used.
"""
import numpy as np
from numba import njit, prange

from .._config import JIT_SIMD
from ..integrate.plumbing import EULER, SIGMOID
from ..integrate.plumbing import LANE_JIT as _JIT
from ..integrate.plumbing import LANE_JIT_PARALLEL as _JIT_PARALLEL
from ..integrate.plumbing import lane_activation as _act
from ..integrate.plumbing import lane_bad_unit as _lane_bad_unit
from ..integrate.plumbing import lane_scratch
from ..integrate.plumbing import lane_step as _step

CIRCLE, DIAMOND = 0, 1
# The geometry is branch-free (selects, a division by zero giving inf) and inlined, so that
# the loops over the lanes of a block become SIMD code like the network's; error_model
# "numpy" (JIT_SIMD) for the same reason.
_GEOMETRY = dict(JIT_SIMD, inline="always")
# geometry vector g: [ray_length, input_gain, radius, half_diagonal, fall_speed, drop_height,
# motor_gain]
_L, _GAIN, _RADIUS, _HALF_DIAG, _FALL, _DROP, _MOTOR = range(7)


@njit(**_GEOMETRY)
def ray_circle(ox, oy, ux, uy, cx, cy, r):
    """Distance along the ray (ox, oy) + t (ux, uy) (unit direction) to a circle of centre
    (cx, cy) and radius r: the smallest t >= 0 on it (0 if the origin is inside), inf if
    the ray misses it."""
    px, py = ox - cx, oy - cy
    b = ux * px + uy * py
    disc = b * b - (px * px + py * py - r * r)
    root = np.sqrt(max(disc, 0.0))
    near = -b - root
    d = near if near >= 0.0 else (0.0 if -b + root >= 0.0 else np.inf)  # 0: inside
    return d if disc >= 0.0 else np.inf


@njit(**_GEOMETRY)
def ray_segment(ox, oy, ux, uy, ax, ay, bx, by):
    """Distance along the ray to the segment a-b (inf if it misses it or runs parallel)."""
    ex, ey = bx - ax, by - ay
    den = ux * ey - uy * ex  # cross(u, e)
    # one reciprocal: it does not depend on the ray's origin, so in a loop over agents (lanes)
    # LLVM hoists it and the loop has no division
    inv = 1.0 / den
    wx, wy = ax - ox, ay - oy
    t = (wx * ey - wy * ex) * inv  # cross(w, e) / cross(u, e)
    s = (wx * uy - wy * ux) * inv  # cross(w, u) / cross(u, e)
    return t if (den != 0.0) & (t >= 0.0) & (s >= 0.0) & (s <= 1.0) else np.inf


@njit(**_GEOMETRY)
def ray_diamond(ox, oy, ux, uy, cx, cy, a):
    """Distance along the ray to the diamond |x - cx| + |y - cy| <= a (a square standing on
    a corner, half-diagonal a): the nearest of its four edges (0 if the origin is inside)."""
    d = min(min(ray_segment(ox, oy, ux, uy, cx + a, cy, cx, cy + a),
                ray_segment(ox, oy, ux, uy, cx, cy + a, cx - a, cy)),
            min(ray_segment(ox, oy, ux, uy, cx - a, cy, cx, cy - a),
                ray_segment(ox, oy, ux, uy, cx, cy - a, cx + a, cy)))
    return 0.0 if abs(ox - cx) + abs(oy - cy) <= a else d


@njit(**_GEOMETRY)
def sensors(x, obj_x, obj_y, shape, dirs, g, u, lo, hi):
    """Ray inputs u[:, l] of the agents l = lo .. hi - 1 at (x[l], 0) seeing a ``shape`` at
    (obj_x[l], obj_y): for ray i of direction dirs[i], u[i, l] = input_gain (L - d) / L with
    d the distance to the object clipped to the ray length L (0 when the ray misses)."""
    L = g[_L]
    scale = g[_GAIN] / L
    for i in range(dirs.shape[0]):
        ux, uy = dirs[i, 0], dirs[i, 1]
        if shape == CIRCLE:
            for l in range(lo, hi):
                d = ray_circle(x[l], 0.0, ux, uy, obj_x[l], obj_y, g[_RADIUS])
                u[i, l] = scale * (L - min(d, L))
        else:
            for l in range(lo, hi):
                d = ray_diamond(x[l], 0.0, ux, uy, obj_x[l], obj_y, g[_HALF_DIAG])
                u[i, l] = scale * (L - min(d, L))


@njit(**_JIT)
def _episode_block(Lb, lo, ind, trial, y0, dirs, g, offsets, shapes, out_idx, n_ticks, dt, h,
                   n_sub, DX, rec_row, REC):
    """The episodes of the lanes l of one block, the pairs lo + l: individual ind[lo + l] in
    trial trial[lo + l] (pairs ordered so that a block holds at most one change of shape),
    Lb (n, c + 3, LANES) their parameters."""
    n, n_rays = y0.shape[0], dirs.shape[0]
    # the lane count read from Lb, not the constant LANES: scratch of constant width lets
    # LLVM unroll the lane loops into scalar code (see _lanes_kernels.LANES)
    width = Lb.shape[2]
    c = Lb.shape[1] - 3
    count = min(width, ind.shape[0] - lo)
    y = lane_scratch(n, width, Lb)  # cache-line aligned: see _lanes_kernels.aligned_zeros
    S = lane_scratch(6 * n, width, Lb).reshape((6, n, width))
    u = lane_scratch(n_rays, width, Lb)
    x = np.zeros(width)
    ox = np.zeros(width)  # idle lanes: an object at 0
    for l in range(count):
        ox[l] = offsets[trial[lo + l]]
        for i in range(n):
            y[i, l] = y0[i]
    first = shapes[trial[lo]]
    split = 1  # lanes [0, split) see the first lane's shape, [split, width) the other
    while split < count and shapes[trial[lo + split]] == first:
        split += 1
    if split == count:
        split = width
    a, b = out_idx[0], out_idx[1]
    oy = g[_DROP]
    for tick in range(n_ticks):
        sensors(x, ox, oy, first, dirs, g, u, 0, split)
        sensors(x, ox, oy, 1 - first, dirs, g, u, split, width)
        for s in range(n_sub):
            _step(Lb, y, u, h, EULER, S, SIGMOID)
        for l in range(width):  # the motor units' rates move the bodies
            o_a = _act(Lb[a, c + 2, l] * (y[a, l] + Lb[a, c + 1, l]), SIGMOID)
            o_b = _act(Lb[b, c + 2, l] * (y[b, l] + Lb[b, c + 1, l]), SIGMOID)
            x[l] += dt * g[_MOTOR] * (o_a - o_b)
        oy -= dt * g[_FALL]
        for l in range(count):
            r = rec_row[ind[lo + l]]
            if r >= 0:
                m = trial[lo + l]
                REC[r, m, tick, 0] = x[l]
                REC[r, m, tick, 1] = oy
                for i in range(n):
                    REC[r, m, tick, 2 + i] = y[i, l]
    for l in range(count):  # a diverged network ends its trial at NaN
        DX[ind[lo + l], trial[lo + l]] = ox[l] - x[l] if _lane_bad_unit(y, l) < 0 else np.nan


@njit(**_JIT_PARALLEL)
def episodes(L, ind, trial, y0, dirs, g, offsets, shapes, out_idx, n_ticks, dt, h, n_sub, DX,
             rec_row, REC):
    """Every trial of every individual of a sigmoid-CTRNN population, in parallel over
    blocks of lanes.

    ind (Q,), trial (Q,): the (individual, trial) pairs to run, in lane order, ordered so
    that the shape changes at most once in a block (``pair_order``). L (nb, n, n + n_in + 3,
    LANES): ``_lanes_kernels.lanes_params`` of the packed CTRNN parameters A[ind] (lane q:
    pair q), float64 or float32. y0 (n,): initial network state. dirs (n_rays, 2): unit ray
    directions. g: geometry. offsets (M,), shapes (M,): horizontal start of the object and
    its shape in each trial. out_idx (2,): the motor units. h (1,): the Euler step
    dt / n_sub in L's dtype. Tick: sensors -> n_sub Euler steps of h -> motor rates o -> the
    agent moves by dt motor_gain (o_0 - o_1), the object falls by dt fall_speed. DX (P, M)
    gets the final object - agent horizontal offset (NaN if the network diverged).
    Individuals with rec_row[k] >= 0 write (agent x, object y, y_1..y_n) after every tick
    to REC[rec_row[k], m, tick].
    """
    for blk in prange(L.shape[0]):
        _episode_block(L[blk], blk * L.shape[3], ind, trial, y0, dirs, g, offsets, shapes,
                       out_idx, n_ticks, dt, h[0], n_sub, DX, rec_row, REC)


def pair_order(P, shapes):
    """(ind, trial) (P M,): every (individual, trial) pair, trial-major with the trials
    sorted by shape, so that a block of consecutive lanes is mostly one trial's individuals
    (P >= LANES) or several trials of few individuals, and holds at most one change of
    shape."""
    order = np.argsort(shapes, kind="stable")
    return np.tile(np.arange(P), len(order)), np.repeat(order, P)
