"""Every model family passes the conformance suite: discrete cells, stacks, CTRNNs (masked
topologies, BLAS-sized), user flows and maps with and without derivative kernels."""
import numpy as np
import pytest
from numba import njit

from conformance import (check_jvp, check_model, check_param_derivatives, check_param_vector,
                         check_population_derivatives)
from rnndyn.models.ctrnn import CTRNN
from rnndyn.models.deep import Bidirectional, BidirectionalStack, Stacked, rmlp
from rnndyn.models.discrete import Elman, FullyRecurrent, IndRNN, Jordan, SecondOrderRNN
from rnndyn.models.gated import GRU, LSTM
from rnndyn.models.user import Flow, Map, _lorenz_rhs, logistic_map, lorenz

M, H = 3, 5


def _fully(seed):
    mask = np.random.default_rng(99).random((H, H)) < 0.6  # a population shares its topology
    rng = np.random.default_rng(seed)
    return FullyRecurrent(W=rng.normal(0, 0.7, (H, H)) * mask, mask=mask,
                          W_in=rng.normal(size=(H, M)), bias=rng.normal(size=H),
                          outputs=(1, 3))


def _peephole(seed):
    return LSTM.random(M, H, seed=seed, peephole=True)


BUILDERS = {
    "elman": lambda s: Elman.random(M, H, seed=s),
    "elman_readout_relu": lambda s: Elman.random(M, H, 2, seed=s, activation="relu",
                                                 output_activation="sigmoid"),
    "fully_recurrent": _fully,
    "jordan": lambda s: Jordan.random(M, H, 2, seed=s),
    "indrnn": lambda s: IndRNN.random(M, H, seed=s, activation="tanh"),
    "second_order": lambda s: SecondOrderRNN.random(M, H, seed=s),
    "lstm": lambda s: LSTM.random(M, H, seed=s),
    "lstm_peephole": _peephole,
    "lstm_hard": lambda s: LSTM.random(M, H, seed=s, gate_activation="hard_sigmoid"),
    "gru": lambda s: GRU.random(M, H, seed=s),
    "gru_cho": lambda s: GRU.random(M, H, seed=s, reset_after=False),
    "gru1": lambda s: GRU.random(M, H, seed=s, variant=1),
    "gru2": lambda s: GRU.random(M, H, seed=s, variant=2),
    "gru3": lambda s: GRU.random(M, H, seed=s, variant=3, reset_after=False),
    "gru_masked": lambda s: GRU.random(M, H, seed=s, mask=np.eye(H, k=1, dtype=bool) | np.eye(H, dtype=bool),
                                       input_mask=np.random.default_rng(5).random((H, M)) < 0.5),
    "lstm_masked": lambda s: LSTM.random(M, H, seed=s, peephole=True,
                                         mask=np.random.default_rng(7).random((H, H)) < 0.5),
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_discrete_cells_conform(name):
    build = BUILDERS[name]
    check_model(build(0), members=[build(1), build(2), build(3)])


def test_stacked_lstm_conforms():
    layers = (LSTM.random(M, 4, seed=0), LSTM.random(4, 3, seed=1))
    check_model(Stacked(layers, W_out=np.ones((2, 3)), output_activation="tanh"))


@pytest.mark.slow  # a Stacked of Elman layers: test_stacked_lstm_conforms covers Stacked
def test_rmlp_conforms():
    check_model(rmlp(M, [[4, 3], [3]], seed=0, n_out=2))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_core_models_conform(activation):
    rng = np.random.default_rng(0)
    nets = [CTRNN(W=rng.normal(size=(4, 4)), tau=rng.uniform(0.5, 2, 4), W_in=rng.normal(size=(4, 2)),
                  bias=rng.normal(size=4), gain=rng.uniform(0.5, 2, 4), activation=activation,
                  outputs=(1, 3)) for _ in range(3)]
    check_model(nets[0], members=nets)


def test_ctrnn_from_a_graph_with_missing_edges_conforms():
    # a graph's missing edges (recurrent and input) are outside the topology masks
    mask = np.random.default_rng(3).random((5, 5)) < 0.5
    in_mask = np.random.default_rng(4).random((5, 2)) < 0.5
    nets = [CTRNN(W=np.random.default_rng(s).normal(size=(5, 5)) * mask,
                  W_in=np.random.default_rng(s + 9).normal(size=(5, 2)) * in_mask,
                  tau=1.5, mask=mask, input_mask=in_mask) for s in range(3)]
    net = CTRNN.from_graph(nets[0].to_graph())
    assert np.array_equal(net.mask, mask) and np.array_equal(net.input_mask, in_mask)
    assert net.to_vector("W").size == mask.sum()
    check_model(net)
    check_model(nets[0], members=nets)


def test_big_ctrnn_blas_kernels_conform():
    rng = np.random.default_rng(0)
    nets = [CTRNN(W=rng.normal(0, 1 / 12, (130, 130)), activation="tanh") for _ in range(2)]
    check_param_derivatives(nets[0], draws=1, columns=300)  # of 17290 parameters
    check_jvp(nets[0])  # the BLAS branch of the matrix-free tangent product
    check_population_derivatives(nets)
    check_model(lorenz(), sample=lambda m, r: (r.normal(0, 5, 3), np.zeros(0)))
    check_model(logistic_map(3.7), sample=lambda m, r: (r.uniform(0.1, 0.9, 1), np.zeros(0)),
                members=[logistic_map(3.7), logistic_map(3.9)])


@njit
def _driven_rhs(t, y, u, p, dy, work):  # a driven damped oscillator with a cubic term
    dy[0] = y[1]
    dy[1] = -p[0] * y[1] - p[1] * y[0] - p[2] * y[0] ** 3 + p[3] * u[0] * u[1]


@njit
def _driven_out(y, p, out):
    out[0] = p[3] * np.tanh(y[0] + y[1])


@njit
def _map_step(h, x, p, h_new, work):
    h_new[0] = np.tanh(p[0] * h[0] + p[1] * h[1] + x[0])
    h_new[1] = p[2] * h[0] * h[1]


def test_user_models_without_derivatives_conform():
    # every derivative by central differences inside the kernels (rnndyn.models._fd_template)
    flows = [Flow(_driven_rhs, p=[0.3, 1.0, 0.2 + k, 0.7], dim=2, n_in=2, output_fn=_driven_out,
                  n_outputs=1) for k in range(3)]
    check_model(flows[0], members=flows)
    maps = [Map(_map_step, p=[0.8, -0.5, 0.3 * k], dim=2, n_in=1) for k in range(2)]
    check_model(maps[0], members=maps)
    lor = Flow(_lorenz_rhs, p=[10.0, 28.0, 8 / 3], dim=3)
    assert not lor.has_jacobian
    check_model(lor, sample=lambda m, r: (r.normal(0, 5, 3), np.zeros(0)))


def test_composites_param_vectors():
    bi = Bidirectional(GRU.random(M, H, seed=0, variant=2), LSTM.random(M, 4, seed=1))
    check_param_vector(bi)
    assert set(bi.param_fields) >= {"forward.W_ih", "backward.W_hh"}
    deep = BidirectionalStack((bi, Bidirectional(Elman.random(H + 4, 3, seed=2),
                                                 Elman.random(H + 4, 3, seed=3))))
    check_param_vector(deep)
    theta = deep.to_vector()
    again = deep.from_vector(theta * 2)
    np.testing.assert_array_equal(again.layers[1].backward.W_hh, 2 * deep.layers[1].backward.W_hh)
