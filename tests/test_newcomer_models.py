"""Newcomer traps in the model layer: silent casts and unreadable reprs."""
import numpy as np
import pytest

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
