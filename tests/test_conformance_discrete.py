"""Every discrete cell (and the core's reference models) passes the conformance suite."""
import numpy as np
import pytest

from conformance import check_model
from rnndyn.models.ctrnn import CTRNN
from rnndyn.models.deep import Stacked, rmlp
from rnndyn.models.discrete import Elman, FullyRecurrent, IndRNN, Jordan, SecondOrderRNN
from rnndyn.models.gated import GRU, LSTM
from rnndyn.models.user import logistic_map, lorenz

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
}


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_discrete_cells_conform(name):
    build = BUILDERS[name]
    check_model(build(0), members=[build(1), build(2), build(3)])


def test_stacked_lstm_conforms():
    layers = (LSTM.random(M, 4, seed=0), LSTM.random(4, 3, seed=1))
    check_model(Stacked(layers, W_out=np.ones((2, 3)), output_activation="tanh"))


def test_rmlp_conforms():
    check_model(rmlp(M, [[4, 3], [3]], seed=0, n_out=2))


def test_core_models_conform():
    rng = np.random.default_rng(0)
    nets = [CTRNN(W=rng.normal(size=(4, 4)), tau=rng.uniform(0.5, 2, 4), W_in=rng.normal(size=(4, 2)),
                  activation="tanh") for _ in range(3)]
    check_model(nets[0], members=nets)
    check_model(lorenz(), sample=lambda m, r: (r.normal(0, 5, 3), np.zeros(0)))
    check_model(logistic_map(3.7), sample=lambda m, r: (r.uniform(0.1, 0.9, 1), np.zeros(0)),
                members=[logistic_map(3.7), logistic_map(3.9)])
