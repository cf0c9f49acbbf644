"""The gymnasium adapter: populations of controllers on vectorised gymnasium environments."""
import pickle

import numpy as np
import pytest

gym = pytest.importorskip("gymnasium")

from rnndyn.errors import ValidationError  # noqa: E402
from rnndyn.models.ctrnn import CTRNN  # noqa: E402
from rnndyn.models.discrete import Elman  # noqa: E402
from rnndyn.robotics.controller import Controller  # noqa: E402
from rnndyn.robotics.gym import GymTask  # noqa: E402


def _reflex(w, tau=0.1):
    """Two output units driven by -w.u and +w.u; with tau = dt one Euler step from rest sets
    y = +-w.u, so the action (the larger unit) is 1 iff w.u > 0: a linear CartPole policy."""
    w = np.asarray(w, dtype=float)
    return CTRNN(W=np.zeros((2, 2)), W_in=np.stack([-w, w]), tau=tau, outputs=(0, 1))


def _slow_returns(pop, episodes, seed, dt):
    """Each individual and episode on its own gymnasium env, driven through the Controller."""
    R = np.zeros((pop.P, episodes))
    for k in range(pop.P):
        for e in range(episodes):
            env = gym.make("CartPole-v1")
            obs, _ = env.reset(seed=seed + e)
            ctl = Controller(pop[k], dt=dt)
            ctl.reset()
            done = False
            while not done:
                a = ctl.step(np.asarray(obs, dtype=float))
                obs, r, term, trunc, _ = env.step(int(np.argmax(a)))
                R[k, e] += r
                done = term or trunc
    return R


def test_vectorised_equals_one_env_per_episode():
    rng = np.random.default_rng(0)
    nets = [CTRNN(W=rng.normal(0, 2, (3, 3)), W_in=rng.normal(0, 3, (3, 4)), tau=0.5,
                  bias=rng.normal(0, 1, 3), outputs=(1, 2)) for _ in range(3)]
    w = np.array([0.0, 0.5, 10.0, 1.0])  # the reflex of _reflex, on units 1, 2 of three
    reflex = CTRNN(W=np.zeros((3, 3)), W_in=np.stack([np.zeros(4), -w, w]), tau=0.1,
                   outputs=(1, 2))
    pop = CTRNN.stack(nets + [reflex])
    task = GymTask("CartPole-v1", episodes=2, seed=7, vectorization_mode="sync")
    r = task.run(pop, record=[3])
    ref = _slow_returns(pop, 2, 7, 0.1)
    np.testing.assert_array_equal(r.returns, ref)
    np.testing.assert_array_equal(r.lengths, ref)  # CartPole pays 1 per step
    np.testing.assert_array_equal(r.fitness, ref.mean(axis=1))
    assert len(np.unique(ref)) > 2  # the networks differ: the comparison is not trivial
    assert r.returns[3].tolist() == [500.0, 500.0]  # the linear policy balances to the limit
    assert r.observations.shape == (1, 2, 500, 4)
    # the recorded pole angle stays inside CartPole's termination bound (12 degrees)
    assert np.abs(r.observations[0, :, :, 2]).max() < 12 * 2 * np.pi / 360


def test_native_vector_env_and_determinism():
    """CartPole's own vectorised implementation: one seed for the whole generation."""
    pop = CTRNN.stack([_reflex([0, 0, 1, 1]), _reflex([0, 0.5, 10, 1]), _reflex([0, 0, 0, 0])])
    task = GymTask("CartPole-v1", episodes=3, seed=1)
    assert type(task._vector(9)).__name__ == "CartPoleVectorEnv"
    a, b = task.run(pop), task.run(pop)
    np.testing.assert_array_equal(a.returns, b.returns)
    assert a.returns[1].tolist() == [500.0] * 3
    assert a.fitness[2] < 100  # a constant action loses the pole quickly
    assert task.fitness(_reflex([0, 0.5, 10, 1])) == 500.0
    assert pickle.loads(pickle.dumps(task)).fitness(pop).tolist() == a.fitness.tolist()


def test_discrete_time_controllers():
    """Elman controllers through the same vector environment: the linear reflex as an Elman
    net (two tanh units fed -w.u and +w.u, outputs the units) balances the pole; a loop over
    individuals and episodes through the Controller gives the same returns."""
    w = np.array([0.0, 0.5, 10.0, 1.0])
    rng = np.random.default_rng(3)
    nets = [Elman(W_ih=rng.normal(0, 3, (2, 4)), W_hh=rng.normal(0, 1, (2, 2)))
            for _ in range(2)]
    reflex = Elman(W_ih=np.stack([-w, w]), W_hh=np.zeros((2, 2)))  # tanh keeps the order
    pop = Elman.stack(nets + [reflex])
    task = GymTask("CartPole-v1", episodes=2, seed=7, vectorization_mode="sync")
    r = task.run(pop)
    assert r.returns[2].tolist() == [500.0, 500.0]
    for k in range(3):
        for e in range(2):
            env = gym.make("CartPole-v1")
            obs, _ = env.reset(seed=7 + e)
            ctl = Controller(pop[k])
            ctl.reset()
            done, R = False, 0.0
            while not done:
                obs, rew, term, trunc, _ = env.step(int(np.argmax(ctl.step(np.asarray(obs)))))
                R += rew
                done = term or trunc
            assert r.returns[k, e] == R


def test_box_actions_map_rates_onto_the_box():
    """Pendulum (Box action [-2, 2]): a silent network fires 1/2 -> torque 4 * 0.5 - 2 = 0,
    the same return as a plain loop applying zero torque from the same seed."""
    net = CTRNN(W=np.zeros((2, 2)), W_in=np.zeros((2, 3)), outputs=(0,))
    task = GymTask("Pendulum-v1", max_steps=30, seed=3, vectorization_mode="sync")
    r = task.run(CTRNN.stack([net, net]))
    env = gym.make("Pendulum-v1")
    env.reset(seed=3)
    ref = sum(env.step(np.zeros(1, dtype=np.float32))[1] for _ in range(30))
    np.testing.assert_allclose(r.returns, ref, rtol=1e-6)
    assert r.lengths.tolist() == [[30], [30]]


def test_validation():
    task = GymTask("CartPole-v1")
    wrong = CTRNN(W=np.zeros((2, 2)), W_in=np.zeros((2, 3)), outputs=(0, 1))
    with pytest.raises(ValidationError, match=r"GymTask.run.model.*n_in = 3.*observes 4"):
        task.run(wrong)
    with pytest.raises(ValidationError, match=r"GymTask.fitness.model.*n_in = 3"):
        task.fitness(wrong)
    with pytest.raises(ValidationError, match=r"GymTask.run.model.*Discrete\(2\)"):
        task.run(CTRNN(W=np.zeros((3, 3)), W_in=np.zeros((3, 4)), outputs=(0, 1, 2)))
    with pytest.raises(ValidationError, match="GymTask.sensors.*4 observations"):
        GymTask("CartPole-v1", sensors=[2, 4])
    # sensors= maps observations 2, 3 (pole angle and angular velocity) onto a 2-input net
    pole = GymTask("CartPole-v1", sensors=[2, 3])  # same seed as task
    assert pole.fitness(_reflex([10.0, 1.0])) == task.fitness(_reflex([0, 0, 10.0, 1.0])) > 9
    with pytest.raises(ValidationError, match="GymTask.run.record"):
        task.run(_reflex([0, 0, 1, 1]), record=[2])
    with pytest.raises(ValidationError, match="GymTask.env"):
        GymTask("NoSuchEnv-v0")
    with pytest.raises(ValidationError, match="GymTask.episodes"):
        GymTask("CartPole-v1", episodes=0)
    with pytest.raises(ValidationError, match="GymTask.vectorization_mode"):
        GymTask("CartPole-v1", vectorization_mode="gpu")
    # an environment made by a function has no registered time limit
    with pytest.raises(ValidationError, match="GymTask.max_steps"):
        GymTask(lambda: gym.make("CartPole-v1").unwrapped)
    t = GymTask(lambda: gym.make("CartPole-v1"), max_steps=20)
    assert t.fitness(_reflex([0, 0.5, 10, 1])) == 20.0


def test_study_cartpole_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "studies" / "cartpole_ctrnn.py"
    spec = importlib.util.spec_from_file_location("cartpole_ctrnn", path)
    study = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(study)
    r = study.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"cartpole_ctrnn.{ext}").is_file()
    assert json.loads((tmp_path / "cartpole_ctrnn.json").read_text()) == r
    data = np.load(tmp_path / "cartpole_ctrnn.npz")
    # CartPole-v1's maximum return, 500, reached in training and on held-out episodes
    assert r["solved"] and r["best_fitness"] == data["best"][-1] == 500.0
    assert np.all(np.diff(data["best"]) >= 0)
    assert r["held_out_mean_return"] == data["held_out_returns"].mean()
    assert r["held_out_mean_return"] >= 475.0  # gymnasium's reward threshold of CartPole-v1
    np.testing.assert_array_equal(data["held_out_returns"], data["held_out_lengths"])
    # the saved genome is the controller: re-evaluated on the held-out seeds it scores the same
    g = study.Genome(study.controller(), {"W": 10.0, "W_in": 10.0, "bias": 5.0,
                                          "tau": (0.1, 2.0, "log")})
    task = GymTask("CartPole-v1", episodes=r["held_out"], seed=10_000, dt=0.1,
                   sensor_gain=study.SENSOR_GAIN, vectorization_mode="sync")
    np.testing.assert_array_equal(task.run(g.decode(data["genome"][None])).returns[0],
                                  data["held_out_returns"])
