"""The single-leg walker of Beer & Gallagher (1992) (body of Beer, Chiel & Gallagher 1999)."""
import dataclasses
import math

import numpy as np
import pytest

from rnndyn.errors import DivergenceError, StabilityWarning, ValidationError
from rnndyn.models.ctrnn import CTRNN
from rnndyn.robotics.controller import Controller
from rnndyn.robotics.walker import Walker, beer_gallagher1992_genome, beer_gallagher1992_network
from rnndyn.train.search import GA

LIMIT = math.pi / 6


class Leg:
    """Plain-Python transcription of Beer's LeggedAgent::Step (body only), the reference."""

    def __init__(self, theta=LIMIT):
        self.cx, self.vx, self.angle, self.omega, self.foot = 0.0, 0.0, theta, 0.0, 0
        self.jx, self.jy = 0.0, 12.5
        self.fx = self.jx + 15 * math.sin(theta)
        self.fy = self.jy + 15 * math.cos(theta)

    def step(self, o_foot, o_fwd, o_bwd, dt=0.1):
        if o_foot > 0.5:
            self.foot, self.omega = 1, 0.0
        else:
            self.foot = 0
        fwd, bwd = o_fwd * 0.05, o_bwd * 0.05
        f, force = fwd - bwd, 0.0
        a = self.angle
        if self.foot == 1 and ((-LIMIT <= a <= LIMIT) or (a < -LIMIT and f < 0) or
                               (a > LIMIT and f > 0)):
            force = f
        self.vx = min(max(self.vx + dt * force, -6.0), 6.0)
        self.cx += dt * self.vx
        self.jx += dt * self.vx
        if self.foot == 1:
            angle = math.atan2(self.fx - self.jx, self.fy - self.jy)
            self.omega = (angle - self.angle) / dt
            self.angle = angle
        else:
            self.vx = 0.0
            self.omega = min(max(self.omega + dt * 0.5 * (bwd - fwd), -1.0), 1.0)
            self.angle += dt * self.omega
            if self.angle < -LIMIT:
                self.angle, self.omega = -LIMIT, 0.0
            if self.angle > LIMIT:
                self.angle, self.omega = LIMIT, 0.0
            self.fx = self.jx + 15 * math.sin(self.angle)
            self.fy = self.jy + 15 * math.cos(self.angle)
        if self.cx - self.fx > 20:
            self.vx = 0.0


def _slow_walks(w, pop, theta0):
    """The same walks in Python, through the public Controller (and so Stepper)."""
    ctl = Controller(pop, dt=w.dt, substeps=w.substeps, n_obs=1, sensor_gain=w.sensor_gain)
    legs = [Leg(theta0) for _ in range(pop.P)]
    ctl.reset()
    rec = []
    for _ in range(w.ticks):
        a = ctl.step(np.array([[leg.angle] for leg in legs]))
        for leg, (foot, fwd, bwd) in zip(legs, a):
            leg.step(foot, fwd, bwd, w.dt)
        rec.append([[leg.cx, leg.angle, leg.foot, *y] for leg, y in zip(legs, ctl.state)])
    return np.array(rec).transpose(1, 0, 2)  # (P, T, 3 + n)


@pytest.mark.parametrize("substeps", [1, 2])
def test_kernel_equals_python_loop(substeps):
    w = Walker(duration=40.0, substeps=substeps)
    g = beer_gallagher1992_genome()
    pop = g.decode(np.random.default_rng(5).uniform(-1, 1, (6, g.dim)))
    angles = np.array([LIMIT, -0.2])
    r = w.run(pop, angles, record=range(6))
    for m, th in enumerate(angles):
        ref = _slow_walks(w, pop, th)
        np.testing.assert_allclose(r.trajectories[:, m], ref, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(r.distance[:, m], ref[:, -1, 0], rtol=1e-10, atol=1e-10)
    traj = r.trajectories
    # not trivial: feet went up and down and some body moved
    assert (np.diff(traj[..., 2], axis=2) != 0).any() and np.abs(r.distance).max() > 1.0
    np.testing.assert_allclose(r.velocity, r.distance / 40.0)
    np.testing.assert_allclose(r.fitness, r.velocity.mean(axis=1))


def _numpy_walks(w, pop, theta0, y0):
    """The same walks as a plain-numpy Euler loop over the population and the Python legs."""
    P, n = pop.P, pop.n
    W, W_in = pop.W, pop.W_in[:, :, 0]
    tau, bias, gain = (np.broadcast_to(np.asarray(a, float), (P, n)) for a in
                       (pop.tau, pop.bias, pop.gain))
    motors = np.asarray(pop.outputs)[list(w.motors)]
    y = np.tile(y0, (P, 1))
    legs = [Leg(theta0) for _ in range(P)]
    h = w.dt / w.substeps
    rec = []
    for _ in range(w.ticks):
        u = w.sensor_gain * np.array([leg.angle for leg in legs])
        for _ in range(w.substeps):
            a = 1.0 / (1.0 + np.exp(-gain * (y + bias)))
            y = y + h * (-y + np.einsum("pij,pj->pi", W, a) + W_in * u[:, None]) / tau
        o = (1.0 / (1.0 + np.exp(-gain * (y + bias))))[:, motors]
        for leg, (foot, fwd, bwd) in zip(legs, o):
            leg.step(foot, fwd, bwd, w.dt)
        rec.append([[leg.cx, leg.angle, leg.foot, *yk] for leg, yk in zip(legs, y)])
    return np.array(rec).transpose(1, 0, 2)  # (P, T, 3 + n)


def test_lanes_equal_numpy_reference():
    """The lane kernel (individual, angle) pairs over blocks of LANES: a population that is
    not a whole number of blocks (37 x 2 walks: the last block is part idle), recorded
    individuals on either side of a block boundary, permuted motors, a non-zero y0, equal
    a plain-numpy Euler loop with the Python legs to rounding."""
    w = Walker(duration=30.0, substeps=2, motors=(2, 0, 1))
    g = beer_gallagher1992_genome()
    pop = g.decode(np.random.default_rng(11).uniform(-1, 1, (37, g.dim)))
    y0 = np.linspace(-0.5, 0.5, pop.n)
    angles = np.array([0.3, -LIMIT])
    rec = [36, 0, 31, 32]
    r = w.run(pop, angles, record=rec, y0=y0)
    for m, th in enumerate(angles):
        ref = _numpy_walks(w, pop, th, y0)
        np.testing.assert_allclose(r.trajectories[:, m], ref[rec], rtol=1e-11, atol=1e-11)
        np.testing.assert_allclose(r.distance[:, m], ref[:, -1, 0], rtol=1e-11, atol=1e-11)
    assert (np.diff(r.trajectories[..., 2], axis=2) != 0).any()
    assert np.abs(r.distance).max() > 1.0 and np.ptp(r.distance) > 1.0


def test_float32_walks_follow_float64():
    """dtype=float32 runs the network in single precision: the network states of a walk
    stay within float32 rounding of the float64 walk's while the gait is the same."""
    w = Walker(duration=20.0)
    g = beer_gallagher1992_genome()
    pop = g.decode(np.random.default_rng(5).uniform(-1, 1, (6, g.dim)))
    r64 = w.run(pop, record=range(6))
    r32 = w.run(pop, record=range(6), dtype=np.float32)
    assert r32.trajectories.dtype == np.float64  # the body stays float64
    same = (r32.trajectories[..., 2] == r64.trajectories[..., 2]).all(axis=(1, 2))
    assert same.sum() >= 4  # gaits whose foot events coincide (none on a threshold)
    np.testing.assert_allclose(r32.trajectories[same], r64.trajectories[same], atol=1e-4)
    with pytest.raises(ValidationError, match="Walker.run.dtype"):
        w.run(pop, dtype=np.int32)
    with pytest.raises(ValidationError, match="Walker.fitness.dtype"):
        w.fitness(pop, dtype="float16")
    W = pop.W.copy()
    W[1, 2, 3] = -1e39  # beyond float32
    with pytest.raises(ValidationError, match="Walker.run.dtype: float32 cannot hold"):
        w.run(dataclasses.replace(pop, W=W), dtype=np.float32)


def test_diverged_network_raises():
    """An Euler step 100x the smallest tau blows up: DivergenceError naming the individual
    (after the stability warning)."""
    net = CTRNN(W=np.full((3, 3), 5.0), W_in=np.zeros((3, 1)), tau=[1.0, 0.001, 1.0],
                outputs=(0, 1, 2))
    pop = CTRNN.stack([beer_gallagher1992_network(3), net])
    with pytest.warns(StabilityWarning), pytest.raises(DivergenceError, match="individual 1"):
        Walker(duration=20.0).run(pop)


def test_optimal_gait_matches_reference():
    """Beer's optimal pattern generator: the kernel equals the Python transcription, the
    gait is periodic (stance, swing) with the stride set by the leg geometry."""
    w = Walker()
    opt = w.optimal()
    leg = Leg()
    for t in range(w.ticks):
        down = leg.foot == 0 and leg.angle >= LIMIT or leg.foot == 1 and \
            not leg.cx - leg.fx > 20
        leg.step(float(down), float(down), 1.0 - down)
        np.testing.assert_allclose(opt[t], [leg.cx, leg.angle, leg.foot], rtol=1e-12,
                                   atol=1e-12)
    v = opt[-1, 0] / w.duration
    assert 0.55 < v < 0.7
    # each stance carries the body until the foot is 20 behind the hip, from 15 sin(pi/6)
    # ahead: 27.5 and at most one more tick of sliding (speed < 1.3)
    stances = 1 + np.count_nonzero(np.diff(opt[:, 2]) == 1)  # the first starts at tick 0
    assert stances == 5
    assert 27.5 < opt[-1, 0] / stances < 27.5 + 0.13
    # stance only pushes forward, the body never moves during swing (after its coast tick)
    assert np.all(np.diff(opt[:, 0]) >= 0)
    # a constant "push" controller (foot down, forward force) slides once and stops when
    # the foot is 20 behind the hip: at 15 sin(pi/6) + 20 = 27.5 (+ less than a tick)
    net = CTRNN(W=np.zeros((3, 3)), W_in=np.zeros((3, 1)), bias=[10.0, 10.0, -10.0],
                outputs=(0, 1, 2))
    assert 27.5 < w.run(net).distance[0, 0] < 27.5 + 0.1 * 1.3


def test_still_leg_goes_nowhere():
    """All weights zero: every unit fires 1/2 -> foot up (0.5 is not > 0.5), equal swing
    forces: the leg never moves and the walker stays at 0."""
    r = Walker(duration=10.0).run(beer_gallagher1992_network(), record=[0])
    assert r.distance[0, 0] == 0.0
    np.testing.assert_array_equal(r.trajectories[0, 0, :, 1], LIMIT)
    np.testing.assert_array_equal(r.trajectories[0, 0, :, 2], 0.0)


def test_evolution_improves_and_is_deterministic():
    w = Walker(duration=60.0)
    g = beer_gallagher1992_genome()

    def evolve(seed):
        ga = GA(g.dim, 30, direction="maximize", seed=seed, elitism=2, mutation=0.05)
        return ga.run(lambda X: w.run(g.decode(X)).fitness, 8, progress=False)

    a, b = evolve(3), evolve(3)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.fitness == b.fitness == w.fitness(g.decode(a.x))
    assert a.history.best[-1] >= a.history.best[0]


def test_validation():
    w = Walker()
    g = beer_gallagher1992_genome()
    with pytest.raises(ValidationError, match="Walker.run.model.*n_in = 1"):
        w.run(CTRNN(W=np.zeros((3, 3)), W_in=np.zeros((3, 2)), outputs=[0, 1, 2]))
    with pytest.raises(ValidationError, match="Walker.run.model.*sigmoid"):
        w.run(CTRNN(W=np.zeros((3, 3)), W_in=np.zeros((3, 1)), outputs=[0, 1, 2],
                    activation="tanh"))
    with pytest.raises(ValidationError, match="Walker.run.angles"):
        w.run(beer_gallagher1992_network(), [1.0])
    with pytest.raises(ValidationError, match="Walker.run.angles"):
        w.run(beer_gallagher1992_network(), [np.nan])
    with pytest.raises(ValidationError, match="Walker.run.record"):
        w.run(beer_gallagher1992_network(), record=[1])
    with pytest.raises(ValidationError, match="Walker.run.y0"):
        w.run(beer_gallagher1992_network(), y0=np.zeros(4))
    with pytest.raises(ValidationError, match="Walker.motors"):
        Walker(motors=(0, 0, 1))
    with pytest.raises(ValidationError, match="Walker.dt"):
        Walker(dt=-0.1)
    with pytest.raises(ValidationError, match="beer_gallagher1992_network.n"):
        beer_gallagher1992_network(2)
    # a genome of the wrong length, a population of one, a NaN fitness
    with pytest.raises(ValidationError, match="Genome.values.genome"):
        g.decode(np.zeros((4, g.dim + 1)))
    with pytest.raises(ValidationError, match="GA.popsize"):
        GA(g.dim, 1, direction="maximize")
    ga = GA(g.dim, 4, direction="maximize", seed=0)
    ga.ask()
    ga.tell([np.nan, 0.1, np.nan, 0.0])
    assert ga.best_fitness == 0.1


# ---------------------------------------------------------------------------- study
def test_study_beer_gallagher1992_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "studies" / "beer_gallagher1992_walker.py"
    spec = importlib.util.spec_from_file_location("beer_gallagher1992_walker", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    r = study.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"beer_gallagher1992_walker.{ext}").is_file()
    assert json.loads((tmp_path / "beer_gallagher1992_walker.json").read_text()) == r
    data = np.load(tmp_path / "beer_gallagher1992_walker.npz")
    for k in ("ga", "sep_cmaes"):
        assert np.all(np.diff(data[f"{k}_best"]) >= 0)
        assert r[f"{k}_velocity"] == data[f"{k}_best"][-1] > r[f"{k}_first_generation_best"]
    # the evolved walker walks: a gait of several steps near Beer's optimal gait's speed
    assert r["optimal_gait_velocity"] == pytest.approx(data["optimal"][-1, 0] / 220.0)
    assert r["fraction_of_optimal"] > 0.9 and r["steps"] >= 4  # foot placements
    assert r["steps"] == np.count_nonzero(np.diff(np.r_[0.0, data["trajectory"][:, 2]]) == 1)
    # the saved walk replays: its distance / duration is the reported velocity, and the
    # saved genome decodes to a walker of that velocity
    traj = data["trajectory"]
    assert r["evolved_velocity"] == pytest.approx(traj[-1, 0] / 220.0)
    g = beer_gallagher1992_genome()
    assert Walker().fitness(g.decode(data["genome"])) == pytest.approx(r["evolved_velocity"],
                                                                        abs=1e-12)
    assert r["held_out_velocity"] == pytest.approx(data["held_out_velocity"].mean())
    assert np.all((data["rates"] >= 0) & (data["rates"] <= 1))
