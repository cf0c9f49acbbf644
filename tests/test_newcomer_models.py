"""Newcomer traps in the model layer: silent casts, unreadable reprs, user functions that do
not match their declared sizes."""
import numpy as np
import pytest
from numba import njit

import rnndyn as rd
from rnndyn.errors import ValidationError


def test_complex_weights_are_refused_not_cast():
    with pytest.raises(ValidationError, match=r"CTRNN.W: must be real.*complex"):
        rd.CTRNN(W=np.array([[1 + 1j, 0], [0, 1]]))
    with pytest.raises(ValidationError, match="Elman.W_hh: must be real"):
        rd.Elman(W_ih=np.ones((2, 1)), W_hh=np.eye(2) * (1 + 0j))


@pytest.mark.parametrize("outputs", [[0.7], ["a"], [1, 1], [5], [True], 3])
def test_output_indices_must_be_distinct_ints(outputs):
    with pytest.raises(ValidationError, match="outputs: must be a sequence of distinct int"):
        rd.CTRNN(W=np.ones((3, 3)), outputs=outputs)
    with pytest.raises(ValidationError, match="outputs"):
        rd.FullyRecurrent(W=np.ones((3, 3)), outputs=outputs)


def test_output_indices_accept_numpy_ints():
    assert rd.CTRNN(W=np.ones((3, 3)), outputs=np.array([2, 0])).outputs == (2, 0)


def test_reprs_are_one_short_line():
    big = rd.CTRNN.from_graph(rd.graphs.random_network(100, g=1.5, seed=0))
    text = repr(big)
    assert "\n" not in text and len(text) < 400 and "(100, 100)" in text
    small = repr(rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]]))
    assert "4.5" in small  # small arrays are shown in full
    fps = rd.analysis.find_fixed_points(big, 8, seed=0)
    assert "\n" not in repr(fps) and len(repr(fps)) < 600
    br = rd.analysis.continuation(rd.CTRNN(W=[[8.0]], bias=[-8.0]), ("bias", 0), -8.0, 0.0)
    assert len(br.params) > 50 and "\n" not in repr(br) and len(repr(br)) < 600
    lstm = rd.Stacked((rd.LSTM.random(3, 64, seed=0), rd.LSTM.random(64, 64, seed=1)))
    assert len(repr(lstm)) < 800


@pytest.mark.parametrize("seed", ["abc", -1, 1.5, True])
def test_bad_seeds_are_validation_errors(seed):
    with pytest.raises(ValidationError, match="seed: must be an int"):
        rd.graphs.random_network(4, seed=seed)
    with pytest.raises(ValidationError, match="seed"):
        rd.LSTM.random(2, 3, seed=seed)


def test_seeds_that_work():
    a = rd.Elman.random(2, 3, seed=np.random.default_rng(4))
    b = rd.Elman.random(2, 3, seed=4)
    np.testing.assert_array_equal(a.W_hh, b.W_hh)


@pytest.mark.parametrize("build", [
    lambda: rd.CTRNN(W=np.zeros((0, 0))),
    lambda: rd.FullyRecurrent(W=np.zeros((0, 0))),
    lambda: rd.LSTM(W_ih=np.zeros((0, 1)), W_hh=np.zeros((0, 0))),
    lambda: rd.GRU(W_ih=np.zeros((0, 1)), W_hh=np.zeros((0, 0))),
    lambda: rd.IndRNN(W_ih=np.zeros((0, 1)), u=np.zeros(0)),
    lambda: rd.Jordan(W_ih=np.zeros((2, 1)), U=np.zeros((2, 0)), W_y=np.zeros((0, 2))),
])
def test_empty_networks_are_refused(build):
    with pytest.raises(ValidationError, match="n >= 1|at least one unit"):
        build()


def test_executors_that_cannot_work_are_refused():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    pop = rd.CTRNN.stack([rd.CTRNN(W=np.eye(2))] * 2)
    t = [0.0, 1.0]
    with pytest.raises(ValidationError, match="class ThreadPoolExecutor.*instance"):
        rd.simulate(pop, [0, 0], t, dt=0.1, executor=ThreadPoolExecutor)
    ex = ThreadPoolExecutor(2)
    ex.shutdown()
    with pytest.raises(ValidationError, match="shut down"):
        rd.simulate(pop, [0, 0], t, dt=0.1, executor=ex)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
        with pytest.raises(ValidationError, match="spawn"):
            rd.simulate(pop, [0, 0], t, dt=0.1, executor=ex)


def test_continuation_in_a_non_numeric_field():
    with pytest.raises(ValidationError, match="'activation' of CTRNN is not numeric"):
        rd.analysis.continuation(rd.CTRNN(W=[[8.0]]), "activation", 0.0, 1.0)


@njit
def _two_rhs(t, y, u, p, dy, work):
    dy[0] = p[0] * y[1]
    dy[1] = -p[1] * y[0]


@njit
def _short_signature(t, y, p, dy):
    dy[0] = 1.0


@njit
def _step_with_input(h, x, p, h_new, work):
    h_new[0] = p[0] * h[0] + x[0]


def test_user_models_whose_sizes_do_not_match_their_functions_are_refused():
    from rnndyn.models.user import _lorenz_rhs

    with pytest.raises(ValidationError, match=r"Flow.rhs_fn: .*outside its arrays.*dim = 2"):
        rd.Flow(_lorenz_rhs, p=[10.0, 28.0, 8 / 3], dim=2)  # would write dy[2]
    with pytest.raises(ValidationError, match=r"outside its arrays.*len\(p\) = 2"):
        rd.Flow(_lorenz_rhs, p=[10.0, 28.0], dim=3)  # would read p[2]
    with pytest.raises(ValidationError, match=r"left entries \[2\] of its output unwritten"):
        rd.Flow(_two_rhs, p=[1.0, 1.0], dim=3)  # dy[2] would be garbage
    with pytest.raises(ValidationError, match=r"must take 6 arguments \(t, y, u, p, dy, work\)"):
        rd.Flow(_short_signature, p=[1.0], dim=1)
    with pytest.raises(ValidationError, match=r"Map.step_fn: .*outside.*n_in = 0"):
        rd.Map(_step_with_input, p=[0.5], dim=1)  # reads x[0] of an autonomous map
    assert rd.Map(_step_with_input, p=[0.5], dim=1, n_in=1).n_in == 1
    assert rd.Flow(_two_rhs, p=[1.0, 1.0], dim=2).n == 2
