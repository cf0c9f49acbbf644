"""CTRNN: published behaviour (Beer 1995), Jacobian, graph round trips, Stepper, validation."""
import importlib.util
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnndyn as rd
from reference import ctrnn_rhs, finite_difference_jacobian

STUDIES = Path(__file__).resolve().parent.parent / "studies"


def study(name):
    spec = importlib.util.spec_from_file_location(name, STUDIES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_oscillator_period_and_range(tmp_path):
    """MODELS.md / Beer 1995: W = [[4.5, 1], [-1, 4.5]], theta = (-2.75, -1.75): a stable limit
    cycle of period about 29, outputs swinging ~0.19..0.81."""
    result = study("beer1995_oscillator").run(quick=True, out=tmp_path)
    assert result["period"] == pytest.approx(29.0, abs=0.5)
    assert result["output_min"] == pytest.approx(0.19, abs=0.01)
    assert result["output_max"] == pytest.approx(0.81, abs=0.01)
    assert (tmp_path / "beer1995_oscillator.png").stat().st_size > 10_000


def test_oscillator_biases_are_center_crossing():
    net = study("beer1995_oscillator").oscillator()
    np.testing.assert_allclose(net.bias, [-2.75, -1.75])


def test_one_neuron_fold_edges_match_formula(tmp_path):
    """Bistable range of one neuron with w = 8 (MODELS.md formula), measured by simulation
    from a low and a high start on an I grid: edges agree within one grid step."""
    mod = study("beer1995_bistability")
    result = mod.run(quick=True, out=tmp_path)
    lo, hi = mod.fold_edges(8.0)
    step = result["grid_step"]
    assert abs(result["fold_measured"][0] - lo) <= step
    assert abs(result["fold_measured"][1] - hi) <= step
    # the closed form equals the fold of I(y) = y - w sigma(y), where w sigma'(y) = 1
    y = np.linspace(-10, 10, 200001)
    s = 1 / (1 + np.exp(-y))
    I_eq = y - 8 * s
    folds = np.sort(I_eq[np.flatnonzero(np.diff(np.sign(np.diff(I_eq)))) + 1])
    np.testing.assert_allclose(folds, [lo, hi], atol=1e-6)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_rhs_and_jacobian_match_numpy_and_finite_differences(activation):
    rng = np.random.default_rng(4)
    n = 5
    net = rd.CTRNN(W=rng.normal(0, 2, (n, n)), tau=rng.uniform(0.5, 2, n),
                   bias=rng.normal(0, 1, n), gain=rng.uniform(0.5, 2, n),
                   W_in=rng.normal(0, 1, (n, 2)), activation=activation)
    y, u = rng.normal(0, 1, n), rng.normal(0, 1, 2)
    f = lambda z: ctrnn_rhs(z, net.W, net.tau, net.bias, net.gain, net.W_in, u,  # noqa: E731
                            activation)
    np.testing.assert_allclose(net.rhs(0.0, y, u), f(y), rtol=1e-13)
    np.testing.assert_allclose(net.jacobian(0.0, y, u), finite_difference_jacobian(f, y),
                               rtol=1e-6, atol=1e-8)


def test_graph_model_graph_json_graph_round_trip(tmp_path):
    G = rd.graphs.random_network(12, g=1.5, p=0.5, seed=3)
    G.add_node("in0", role="input")
    G.add_edge("in0", 0, weight=0.75)
    G.nodes[3]["role"] = "output"
    G.nodes[4]["tau"] = 2.5
    net = rd.CTRNN.from_graph(G)
    assert net.activation == "tanh" and net.n == 12 and net.n_in == 1 and net.outputs == (3,)
    G2 = net.to_graph()
    rd.graphs.save(G2, tmp_path / "net.json")
    G3 = rd.graphs.load(tmp_path / "net.json")
    for H in (G2, G3):
        assert nx.utils.graphs_equal(H, G2)
        back = rd.CTRNN.from_graph(H)
        for field in ("W", "W_in", "tau", "bias", "gain"):
            np.testing.assert_array_equal(getattr(back, field), getattr(net, field))
        assert back.outputs == net.outputs and back.nodes == net.nodes
    assert set(G3.edges) == set(G.edges) and all(
        G3.edges[e]["weight"] == G.edges[e]["weight"] for e in G.edges)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 6), st.integers(0, 3), st.integers(0, 2**32 - 1))
def test_random_arrays_round_trip_through_graph(n, n_in, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, 1, (n, n)) * (rng.random((n, n)) < 0.6)
    net = rd.CTRNN(W=W, tau=rng.uniform(0.1, 3, n), bias=rng.normal(0, 1, n),
                   gain=rng.uniform(0.1, 3, n), W_in=rng.normal(0, 1, (n, n_in)))
    back = rd.CTRNN.from_graph(net.to_graph())
    for field in ("W", "W_in", "tau", "bias", "gain"):
        np.testing.assert_array_equal(getattr(back, field), getattr(net, field))


def test_center_crossing_and_stack_and_index():
    net = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]]).center_crossing()
    pop = rd.CTRNN.stack([net, net.center_crossing()])
    assert pop.P == 2 and len(pop) == 2 and pop.W.shape == (2, 2, 2)
    np.testing.assert_array_equal(pop[1].bias, net.bias)
    with pytest.raises(rd.ValidationError, match="differing shapes"):
        rd.CTRNN.stack([net, rd.CTRNN(W=np.eye(3))])
    with pytest.raises(rd.ValidationError, match="activation"):
        rd.CTRNN.stack([net, rd.CTRNN(W=np.eye(2), activation="tanh")])


def test_parameters_are_immutable():
    net = rd.CTRNN(W=np.eye(2))
    with pytest.raises(ValueError):
        net.W[0, 0] = 5.0
    with pytest.raises(AttributeError):
        net.tau = 2.0


@pytest.mark.parametrize("kwargs,attr", [
    (dict(W=np.ones((2, 3))), "CTRNN.W"),
    (dict(W=[[1.0, np.nan], [0.0, 1.0]]), "CTRNN.W"),
    (dict(W=np.eye(2), tau=[1.0, -0.5]), "CTRNN.tau"),
    (dict(W=np.eye(2), bias=[1.0, 2.0, 3.0]), "CTRNN.bias"),
    (dict(W=np.eye(2), gain="big"), "CTRNN.gain"),
    (dict(W=np.eye(2), W_in=np.ones((3, 1))), "CTRNN.W_in"),
    (dict(W=np.eye(2), activation="relu"), "CTRNN.activation"),
    (dict(W=np.eye(2), outputs=[2]), "CTRNN.outputs"),
])
def test_bad_parameters(kwargs, attr):
    with pytest.raises(rd.ValidationError) as err:
        rd.CTRNN(**kwargs)
    assert err.value.attr == attr


def test_tau_error_names_node():
    with pytest.raises(rd.ValidationError, match=r"CTRNN.tau: must be > 0, got -0.5 at node 'h3'"):
        rd.CTRNN(W=np.eye(2), tau=[1.0, -0.5], nodes=("h1", "h3"))


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_stepper_matches_simulate_for_a_population(method):
    rng = np.random.default_rng(5)
    nets = [rd.CTRNN(W=rng.normal(0, 3, (3, 3)), W_in=rng.normal(0, 1, (3, 2)), outputs=[0, 2])
            for _ in range(4)]
    pop = rd.CTRNN.stack(nets)
    U = rng.normal(0, 1, (50, 4, 2))
    ctl = rd.Stepper(pop, dt=0.1, method=method, substeps=5)
    first = ctl.reset(np.zeros(3))
    outs = [first] + [ctl.step(U[k]) for k in range(49)]
    t = np.arange(50) * 0.1
    tr = rd.simulate(pop, np.zeros(3), t, dt=0.02, method=method, inputs=U, hold="previous")
    np.testing.assert_allclose(np.array(outs), tr.outputs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ctl.state, tr.y[-1], rtol=1e-12, atol=1e-14)
    assert ctl.t == pytest.approx(4.9)


def test_stepper_single_and_errors():
    net = rd.CTRNN(W=[[0.0]], W_in=[[1.0]], tau=1e-3)
    ctl = rd.Stepper(net, dt=0.1)
    assert ctl.reset().shape == (1,)
    with pytest.raises(rd.ValidationError, match="u"):
        ctl.step([1.0, 2.0])
    with pytest.raises(rd.DivergenceError):
        ctl.step([1e308])
    with pytest.raises(rd.ValidationError, match="substeps"):
        rd.Stepper(net, substeps=0)
    with pytest.raises(rd.ValidationError, match="dt"):
        rd.Stepper(net, dt=-1.0)
