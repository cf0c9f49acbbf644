"""The robotics backend: the controller API and Beer's (2003) visual agent."""
import dataclasses
import math
import warnings

import numpy as np
import pytest

from rnndyn.errors import DivergenceError, StabilityWarning, ValidationError
from rnndyn.integrate.run import run
from rnndyn.integrate.stepper import Stepper
from rnndyn.models.ctrnn import CTRNN
from rnndyn.models.discrete import Elman
from rnndyn.robotics import _visual_agent_kernels as K
from rnndyn.robotics.controller import Controller
from rnndyn.robotics.visual_agent import VisualAgent, beer2003_genome, beer2003_network
from rnndyn.train.search import GA

R2 = math.sqrt(2.0)


# ------------------------------------------------------------------------- ray geometry
def test_ray_circle_hand_computed():
    # vertical ray from the origin, circle of radius 15 centred on it at height 100
    assert K.ray_circle(0.0, 0.0, 0.0, 1.0, 0.0, 100.0, 15.0) == pytest.approx(85.0)
    # centre 10 to the side: the ray enters at height 100 - sqrt(15^2 - 10^2)
    assert K.ray_circle(0.0, 0.0, 0.0, 1.0, 10.0, 100.0, 15.0) == pytest.approx(
        100.0 - math.sqrt(125.0))
    # oblique ray at angle a from the vertical; centre at distance 90 along it, 6 off it
    a = math.pi / 12
    ux, uy = math.sin(a), math.cos(a)
    cx, cy = 90 * ux + 6 * uy, 90 * uy - 6 * ux
    assert K.ray_circle(0.0, 0.0, ux, uy, cx, cy, 15.0) == pytest.approx(
        90.0 - math.sqrt(15.0 ** 2 - 6.0 ** 2))
    assert K.ray_circle(0.0, 0.0, 0.0, 1.0, 20.0, 100.0, 15.0) == math.inf   # passes by
    assert K.ray_circle(0.0, 0.0, 0.0, -1.0, 0.0, 100.0, 15.0) == math.inf   # behind
    assert K.ray_circle(0.0, 0.0, 0.0, 1.0, 0.0, 5.0, 15.0) == 0.0           # inside


def test_ray_diamond_hand_computed():
    a = 30.0 / R2  # half-diagonal of a square of side 30 on its corner
    # vertical ray: hits the bottom corner
    assert K.ray_diamond(0.0, 0.0, 0.0, 1.0, 0.0, 100.0, a) == pytest.approx(100.0 - a)
    # centre 10 to the right: the lower-left edge (10 - x) + (100 - y) = a at x = 0
    assert K.ray_diamond(0.0, 0.0, 0.0, 1.0, 10.0, 100.0, a) == pytest.approx(100.0 - (a - 10))
    # ray at pi/12 to the right, centre (20, 100): the lower-right edge
    # (x - 20) + (100 - y) = a with (x, y) = t (sin, cos) gives t = (80 - a) / (cos - sin)
    # and cos(pi/12) - sin(pi/12) = sqrt(2) sin(pi/6) = 1/sqrt(2): t = 80 sqrt(2) - 30
    t = math.pi / 12
    d = K.ray_diamond(0.0, 0.0, math.sin(t), math.cos(t), 20.0, 100.0, a)
    assert d == pytest.approx(80 * R2 - 30.0)
    x, y = d * math.sin(t), d * math.cos(t)
    assert 20.0 <= x <= 20.0 + a and abs(x - 20.0) + abs(y - 100.0) == pytest.approx(a)
    assert K.ray_diamond(0.0, 0.0, 0.0, 1.0, 30.0, 100.0, a) == math.inf   # |x - c| > a
    assert K.ray_diamond(0.0, 0.0, 0.0, 1.0, 0.0, 10.0, a) == 0.0         # inside
    # a segment parallel to the ray is never hit
    assert K.ray_segment(0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 10.0) == math.inf


def test_sensor_values():
    va = VisualAgent()
    dirs = va.directions
    assert dirs.shape == (7, 2)
    np.testing.assert_allclose(np.arctan2(dirs[:, 0], dirs[:, 1]),
                               np.linspace(-math.pi / 12, math.pi / 12, 7))
    u = va.sensors(0.0, 0.0, 100.0, "circle")
    assert u[3] == pytest.approx(10 * (220 - 85) / 220)  # centre ray, input gain 10
    np.testing.assert_allclose(u, u[::-1])              # symmetric scene
    assert u[0] == 0.0  # the outer rays (15 deg) pass 26 units beside the circle
    assert va.sensors(0.0, 0.0, 100.0, "diamond")[3] == pytest.approx(
        10 * (220 - (100 - 30 / R2)) / 220)
    np.testing.assert_array_equal(va.sensors(0.0, 0.0, 260.0, "circle"), 0.0)  # beyond L
    with pytest.raises(ValidationError, match="shapes"):
        va.sensors(0.0, 0.0, 100.0, "square")


# ------------------------------------------------------------------------ episodes
def test_still_agent_scores_by_hand():
    """All weights zero: both motors fire at sigmoid(0) = 1/2, the agent stays at 0 and the
    final separation is the offset; Beer's score is then 1 - min(|o|, 45)/45 (circles) and
    min(|o|, 45)/45 (diamonds)."""
    va = VisualAgent()
    off = np.array([0.0, 20.0, -60.0, 30.0])
    shapes = ["circle", "circle", "diamond", "diamond"]
    e = va.run(beer2003_network(), off, shapes)
    np.testing.assert_allclose(e.dx[0], off, atol=1e-12)
    assert e.fitness[0] == pytest.approx(np.mean([1.0, 1 - 20 / 45, 1.0, 30 / 45]))
    np.testing.assert_array_equal(e.caught[0], [True, True, False, True])
    np.testing.assert_array_equal(e.correct[0], [True, True, True, False])
    assert va.ticks == math.ceil((275 - 30) / 0.3)
    assert va.fitness(beer2003_network(), off, shapes) == pytest.approx(e.fitness[0])


def _slow_episode(va, pop, offset, shape):
    """The same trial, in Python, through the public Controller (and so Stepper)."""
    ctl = Controller(pop, dt=va.dt, substeps=va.substeps, motors=[[1.0, -1.0]],
                     motor_gain=va.motor_gain)
    P = pop.P
    x, oy = np.zeros(P), va.drop_height
    ctl.reset()
    xs, states = [], []
    for _ in range(va.ticks):
        obs = np.array([va.sensors(x[k], offset, oy, shape) for k in range(P)])
        x = x + va.dt * ctl.step(obs)[:, 0]
        oy -= va.dt * va.fall_speed
        xs.append(x)
        states.append(ctl.state)
    return np.array(xs), np.array(states)


@pytest.mark.parametrize("substeps", [1, 2])
def test_kernel_equals_python_loop(substeps):
    va = VisualAgent(substeps=substeps, drop_height=150.0)  # shorter trials
    g = beer2003_genome()
    pop = g.decode(np.random.default_rng(3).uniform(-1, 1, (3, g.dim)))
    off, shapes = np.array([-20.0, 35.0]), ["circle", "diamond"]
    e = va.run(pop, off, shapes, record=[0, 1, 2])
    moved = False
    for m in range(2):
        xs, ys = _slow_episode(va, pop, off[m], shapes[m])
        np.testing.assert_allclose(e.trajectories[:, m, :, 0], xs.T, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(e.trajectories[:, m, :, 2:], ys.transpose(1, 0, 2),
                                   rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(e.trajectories[:, m, :, 1],
                                   150.0 - va.fall_speed * va.dt * np.arange(1, va.ticks + 1)
                                   [None].repeat(3, 0))
        np.testing.assert_allclose(e.dx[:, m], off[m] - xs[-1], rtol=1e-10, atol=1e-9)
        moved |= np.abs(xs[-1]).max() > 1.0
    assert moved  # the agents did move: the comparison is not trivial


def _numpy_episodes(va, pop, offsets, shapes):
    """Plain-numpy reference of ``VisualAgent.run``: Euler steps of the CTRNN equation
    tau dy/dt = -y + W sigmoid(gain (y + bias)) + W_in u for all P agents at once, libm's
    exp, the sensors of all P agents in one ``sensors`` call a tick (the geometry is
    checked by hand above). Returns dx (P, M) and the trajectories (P, M, T, 2 + n)."""
    W, W_in, tau, bias, gain = (np.asarray(getattr(pop, f)) for f in
                                ("W", "W_in", "tau", "bias", "gain"))
    out = list(pop.outputs)
    P, n, T, h = pop.P, pop.n, va.ticks, va.dt / va.substeps
    rate = lambda y: 1.0 / (1.0 + np.exp(-gain * (y + bias)))  # noqa: E731
    rec = np.empty((P, len(offsets), T, 2 + n))
    for m, (ox, shape) in enumerate(zip(offsets, shapes)):
        y, x, oy = np.zeros((P, n)), np.zeros(P), va.drop_height
        u = np.empty((va.rays, P))
        for tick in range(T):
            K.sensors(x, np.full(P, ox), oy, 0 if shape == "circle" else 1, va.directions,
                      va._geometry, u, 0, P)
            for _ in range(va.substeps):
                y = y + h * (-y + np.einsum("pij,pj->pi", W, rate(y))
                             + np.einsum("pik,kp->pi", W_in, u)) / tau
            o = rate(y)[:, out]
            x = x + va.dt * va.motor_gain * (o[:, 0] - o[:, 1])
            oy -= va.dt * va.fall_speed
            rec[:, m, tick, 0], rec[:, m, tick, 1], rec[:, m, tick, 2:] = x, oy, y
    return offsets[None] - rec[:, :, -1, 0], rec


def test_lanes_kernel_equals_numpy_reference():
    """The SIMD-lane episodes (blocks of LANES (individual, trial) pairs) equal a
    plain-numpy Euler loop over the population to rounding (measured 2.3e-13 on offsets up
    to 180), with a population that is not a whole number of blocks: 3 x 37 pairs, so
    blocks hold two trials, one of them a change of shape (circle -> diamond), and the last
    is part-idle; individuals recorded in both of a trial's blocks, out of index order."""
    from rnndyn.integrate._lanes_kernels import LANES

    va = VisualAgent(substeps=2, drop_height=120.0)
    g = beer2003_genome(symmetric=False)
    P = LANES + 5
    pop = g.decode(np.random.default_rng(5).uniform(-1, 1, (P, g.dim)))
    off, shapes = np.array([-30.0, 12.0, 25.0]), ["circle", "diamond", "circle"]
    e = va.run(pop, off, shapes, record=[P - 1, 3])
    dx, rec = _numpy_episodes(va, pop, off, shapes)
    np.testing.assert_allclose(e.dx, dx, rtol=0, atol=1e-11)
    np.testing.assert_allclose(e.trajectories, rec[[P - 1, 3]], rtol=0, atol=1e-11)
    assert np.abs(dx - off).max() > 1.0  # the agents moved: the comparison is not trivial
    # float32 network (body and world float64): the same episodes to float32 rounding
    e32 = va.run(pop, off, shapes, record=[P - 1, 3], dtype=np.float32)
    np.testing.assert_allclose(e32.dx, dx, atol=5e-3)  # measured 5.5e-4
    np.testing.assert_allclose(e32.trajectories, rec[[P - 1, 3]], atol=5e-3)
    assert e32.dx.dtype == np.float64 and e32.fitness.shape == (P,)
    assert va.fitness(pop, off, shapes, dtype="float32") == pytest.approx(e32.fitness)
    with pytest.raises(ValidationError, match="VisualAgent.run.dtype"):
        va.run(pop, off, shapes, dtype=np.int64)
    W = pop.W.copy()
    W[(2, *np.argwhere(W[2])[0])] = 1e39  # beyond float32: cast to inf, it had been
    # reported as a divergence
    with pytest.raises(ValidationError, match="VisualAgent.run.dtype: float32 cannot hold"):
        va.run(dataclasses.replace(pop, W=W), off, shapes, dtype=np.float32)


def test_symmetric_agent_mirrors():
    """A bilaterally symmetric controller (Beer 2003) ends at the mirror image of where it
    ends for the mirrored drop: dx(-o) = -dx(o)."""
    va = VisualAgent(drop_height=150.0)
    g = beer2003_genome(symmetric=True)
    pop = g.decode(np.random.default_rng(1).uniform(-1, 1, (4, g.dim)))
    off = np.array([-25.0, 25.0, -10.0, 10.0])
    e = va.run(pop, off, ["circle", "circle", "diamond", "diamond"])
    np.testing.assert_allclose(e.dx[:, 0::2], -e.dx[:, 1::2], atol=1e-8)
    assert np.abs(e.dx - off).max() > 1.0


def test_run_validation():
    va = VisualAgent()
    net = beer2003_network()
    with pytest.raises(ValidationError, match="VisualAgent.run.model.*n_in = 7"):
        va.run(CTRNN(W=np.zeros((3, 3)), W_in=np.zeros((3, 2)), outputs=[0, 1]), [0.0],
               ["circle"])
    with pytest.raises(ValidationError, match="sigmoid CTRNN"):
        va.run(CTRNN(W=np.zeros((9, 9)), W_in=np.zeros((9, 7)), outputs=[0, 1],
                     activation="tanh"), [0.0], ["circle"])
    with pytest.raises(ValidationError, match="VisualAgent.run.shapes"):
        va.run(net, [0.0, 1.0], ["circle"])
    with pytest.raises(ValidationError, match="VisualAgent.run.offsets"):
        va.run(net, [np.nan], ["circle"])
    with pytest.raises(ValidationError, match="VisualAgent.run.record"):
        va.run(net, [0.0], ["circle"], record=[1])
    with pytest.raises(ValidationError, match="VisualAgent.run.record"):
        va.run(CTRNN.stack([net, net]), [0.0], ["circle"], record=[1, 1])
    with pytest.raises(ValidationError, match="VisualAgent.run.offsets"):
        va.run(net, "left", ["circle"])
    with pytest.raises(ValidationError, match="VisualAgent.dt"):
        VisualAgent(dt=0.0)
    # Euler at dt = 0.1 with tau = 0.02: each step multiplies the leak by |1 - 5| = 4
    fast = CTRNN(W=np.zeros((9, 9)), W_in=np.ones((9, 7)), tau=0.02, outputs=[7, 8])
    with pytest.warns(StabilityWarning, match="tau_min=0.02"), \
            pytest.raises(DivergenceError, match="individual 0"):
        va.run(fast, [0.0], ["circle"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        VisualAgent(substeps=5).run(fast, [0.0], ["circle"])  # step 0.02 = tau: stable
    with pytest.raises(ValidationError, match="VisualAgent.drop_height"):
        VisualAgent(drop_height=20.0)


def test_evolution_is_deterministic_with_seed():
    va = VisualAgent(drop_height=120.0)
    g = beer2003_genome()
    off, shapes = va.trials(3)

    def evolve(seed):
        ga = GA(g.dim, 12, direction="maximize", seed=seed, elitism=2)
        return ga.run(lambda X: va.run(g.decode(X), off, shapes).fitness, 3,
                      progress=False)

    a, b = evolve(7), evolve(7)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.fitness == b.fitness
    np.testing.assert_array_equal(a.history.best, b.history.best)


# ----------------------------------------------------------------------- controller API
def _population(P=3, n=4, n_in=3, seed=0):
    rng = np.random.default_rng(seed)
    return CTRNN(W=rng.normal(0, 2, (P, n, n)), W_in=rng.normal(0, 1, (P, n, n_in)),
                 bias=rng.normal(0, 1, (P, n)), tau=rng.uniform(0.5, 2, (P, n)),
                 outputs=[1, 3])


def test_controller_mapping_equals_stepper():
    """sensors, gains and the motor readout are exactly the documented linear maps around
    Stepper with the same substeps."""
    pop = _population()
    ctl = Controller(pop, dt=0.2, substeps=3, sensors=[4, 0, 2], n_obs=5,
                     sensor_gain=[1.0, 2.0, -1.0], motors=[[1.0, -1.0], [0.5, 0.5], [0, 1]],
                     motor_gain=[2.0, 1.0, 1.0], motor_bias=[0.0, 0.0, 0.25])
    ref = Stepper(pop, dt=0.2, substeps=3)
    M = np.array([[1.0, -1.0], [0.5, 0.5], [0, 1]])
    act = lambda o: np.array([2.0, 1.0, 1.0]) * (o @ M.T) + [0.0, 0.0, 0.25]  # noqa: E731
    np.testing.assert_allclose(ctl.reset(), act(ref.reset()))
    obs = np.random.default_rng(1).normal(size=(6, 3, 5))
    for o in obs:
        a = ctl.step(o)
        assert a.shape == (3, 3)
        np.testing.assert_allclose(a, act(ref.step(o[:, [4, 0, 2]] * [1.0, 2.0, -1.0])),
                                   rtol=1e-13)
    np.testing.assert_allclose(ctl.state, ref.state)
    assert ctl.n_obs == 5 and ctl.n_act == 3 and ctl.dt == 0.2


def test_controller_shapes_single_and_indices():
    net = _population()[0]
    ctl = Controller(net, dt=0.1, motors=[1])
    assert ctl.reset().shape == (1,)
    assert ctl.step(np.ones(3)).shape == (1,)
    assert ctl.state.shape == (4,)
    ctl = Controller(_population(P=5), dt=0.1, y0=np.arange(4.0))
    assert ctl.reset().shape == (5, 2) and ctl.step(np.zeros((5, 3))).shape == (5, 2)
    ctl.reset()  # back to the constructor's initial state
    np.testing.assert_array_equal(ctl.state, np.tile(np.arange(4.0), (5, 1)))
    ctl.reset(np.ones(4))
    np.testing.assert_array_equal(ctl.state, 1.0)


def test_controller_errors():
    pop = _population()
    ctl = Controller(pop, dt=0.1)
    with pytest.raises(ValidationError, match=r"Controller.step.observations.*\(3, 3\)"):
        ctl.step(np.zeros((3, 4)))  # an environment with 4 observations, controller reads 3
    with pytest.raises(ValidationError, match="Controller.step.observations"):
        ctl.step(np.zeros(3))       # a population needs one row per network
    with pytest.raises(ValidationError, match="finite"):
        ctl.step(np.full((3, 3), np.nan))
    with pytest.raises(ValidationError, match="Controller.sensors"):
        Controller(pop, sensors=[0, 1])
    with pytest.raises(ValidationError, match="Controller.n_obs"):
        Controller(pop, sensors=[0, 1, 5], n_obs=4)
    with pytest.raises(ValidationError, match="Controller.motors"):
        Controller(pop, motors=[2])
    with pytest.raises(ValidationError, match="Controller.motors"):
        Controller(pop, motors=np.ones((1, 3)))
    with pytest.raises(ValidationError, match="Controller.motor_gain"):
        Controller(pop, motor_gain=[1.0, 2.0, 3.0])
    with pytest.raises(ValidationError, match="Controller.model"):
        Controller(CTRNN(W=np.zeros((2, 2))))  # no inputs
    with pytest.raises(ValidationError, match="Controller.dt"):
        Controller(pop, dt=-1.0)


def _elman_population(P=40):
    return Elman.stack([Elman.random(3, 5, 2, seed=s, output_activation="tanh")
                        for s in range(P)])


@pytest.mark.parametrize("P", [3, 40])  # the per-member loops, the SIMD lanes
def test_discrete_controller_equals_the_run_on_held_observations(P):
    """A map advances `substeps` updates a tick under the held observation: the actions are
    the documented readout of ``run`` over each observation repeated substeps times; reset's
    actions are those of the initial state's outputs."""
    pop = _elman_population(P)
    ctl = Controller(pop, substeps=2, sensors=[2, 0, 1], motors=[[1.0, -1.0]],
                     motor_gain=2.0, motor_bias=0.5)
    assert ctl.dt is None and ctl.substeps == 2
    h0 = np.random.default_rng(0).normal(size=(P, 5))
    a0 = ctl.reset(h0)
    out0 = np.array([pop[k].output(h0[k]) for k in range(P)])
    np.testing.assert_allclose(a0, 2.0 * (out0 @ [[1.0], [-1.0]]) + 0.5, rtol=1e-13)
    obs = np.random.default_rng(1).normal(size=(8, P, 3))
    acts = np.array([ctl.step(o) for o in obs])
    ref = run(pop, np.repeat(obs[:, :, [2, 0, 1]], 2, axis=0), h0, method="loop")
    np.testing.assert_allclose(acts, 2.0 * (ref.outputs[1::2] @ [[1.0], [-1.0]]) + 0.5,
                               rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ctl.state, ref.final, rtol=1e-12, atol=1e-13)
    with pytest.raises(ValidationError, match="Controller.step.dt.*no time step"):
        ctl.step(obs[0], dt=0.1)
    single = Controller(pop[0], substeps=1)
    assert single.reset().shape == (2,) and single.step(np.ones(3)).shape == (2,)
    with pytest.raises(ValidationError, match="Controller.substeps"):
        Controller(pop, substeps=0)


# ---------------------------------------------------------------------------- study
def test_study_beer2003_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "studies" / "beer2003_categorization.py"
    spec = importlib.util.spec_from_file_location("beer2003_categorization", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    r = study.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"beer2003_categorization.{ext}").is_file()
    assert json.loads((tmp_path / "beer2003_categorization.json").read_text()) == r
    data = np.load(tmp_path / "beer2003_categorization.npz")
    # evolution improved on the first generation's best, and the best-so-far never drops
    assert np.all(np.diff(data["best"]) >= 0)
    assert r["best_fitness"] == data["best"][-1] > r["first_generation_best"] + 0.05
    # the held-out numbers follow from the saved final separations (Beer's score)
    n = r["held_out"]
    dx = data["held_out_dx"]
    d = np.minimum(np.abs(dx), 45.0) / 45.0
    assert r["held_out_fitness"] == pytest.approx(np.mean(np.r_[1 - d[:n], d[n:]]))
    assert r["circles_caught"] == pytest.approx(np.mean(np.abs(dx[:n]) <= 30.0))
    assert r["diamonds_avoided"] == pytest.approx(np.mean(np.abs(dx[n:]) > 30.0))
    # the recorded trajectories start under the drop and fall at speed 3
    traj = data["trajectories"]
    np.testing.assert_allclose(traj[:, 0, 1], 275.0 - 0.3)
    rates = data["rates"]
    assert np.all((rates >= 0) & (rates <= 1))
    # each tick the agent moved by dt motor_gain (o_1 - o_2), the saved motor rates
    np.testing.assert_allclose(np.diff(traj[:, :, 0], axis=1),
                               0.1 * 5.0 * (rates[:, 1:, -2] - rates[:, 1:, -1]), atol=1e-12)
