"""IIR-MLP (locally recurrent network) and its learning rules RBP / CRBP (Campolucci, Uncini,
Piazza & Rao 1999, IEEE TNN 10(2):253): the forward pass against scipy.signal.lfilter, the
model protocol (conformance), RBP == BPTT, CRBP at full depth == BPTT, the truncation
semantics, on-line convergence on a system-identification task, bad input."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from scipy.signal import lfilter

from conformance import check_model
from rnndyn.errors import ValidationError
from rnndyn.integrate import run
from rnndyn.models.discrete import Elman
from rnndyn.models.iir_mlp import IIRMLP
from rnndyn.train.crbp import crbp, crbp_online, rbp
from rnndyn.train.gradients import bptt

ORDERS = ((2, 2), (1, 3))


def _net(feedback, seed=1, orders=ORDERS):
    return IIRMLP.random(2, 3, 2, orders, feedback=feedback, seed=seed)


def _reference(model, X):
    """Plain numpy/scipy forward pass from zero memories: every synapse an lfilter."""
    act = {"tanh": np.tanh, "identity": lambda s: s}
    x = X
    for W, V, b, a in ((model.W1, model.V1, model.b1, model.activation),
                       (model.W2, model.V2, model.b2, model.output_activation)):
        s = np.tile(b, (len(x), 1))
        for n in range(W.shape[0]):
            if model.feedback == "synapse":
                for m in range(W.shape[1]):
                    s[:, n] += lfilter(W[n, m], np.r_[1.0, -V[n, m]], x[:, m])
            else:
                fir = sum(lfilter(W[n, m], [1.0], x[:, m]) for m in range(W.shape[1]))
                s[:, n] += lfilter([1.0], np.r_[1.0, -V[n]], fir)
        x = act[a](s)
    return x


@pytest.mark.parametrize("feedback", ["synapse", "activation"])
def test_forward_matches_lfilter_reference(feedback):
    model = _net(feedback)
    X = np.random.default_rng(0).standard_normal((40, 2))
    np.testing.assert_allclose(run(model, X).outputs, _reference(model, X), rtol=1e-12,
                               atol=1e-12)


def test_activation_feedback_is_iir_mlp_with_shared_poles():
    af = _net("activation")
    iir = IIRMLP(W1=af.W1, W2=af.W2, V1=np.repeat(af.V1[:, None], 2, axis=1),
                 V2=np.repeat(af.V2[:, None], 3, axis=1), b1=af.b1, b2=af.b2)
    X = np.random.default_rng(1).standard_normal((30, 2))
    np.testing.assert_allclose(run(af, X).outputs, run(iir, X).outputs, rtol=1e-12, atol=1e-13)


def test_static_orders_give_the_mlp():
    model = _net("synapse", orders=((0, 0), (0, 0)))
    assert model.n == model.n_out  # no memory but the output
    x = np.random.default_rng(2).standard_normal(2)
    want = model.W2[..., 0] @ np.tanh(model.W1[..., 0] @ x + model.b1) + model.b2
    np.testing.assert_allclose(model.output(model.step(np.zeros(model.n), x)), want,
                               rtol=1e-13)


@pytest.mark.parametrize("feedback", ["synapse", "activation"])
def test_conformance(feedback):
    check_model(_net(feedback), members=[_net(feedback, 2), _net(feedback, 3)])


def _problem(model, T=12, B=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((T, B, model.n_in)), rng.standard_normal((T, B, model.n_out)),
            0.3 * rng.standard_normal((B, model.n)))


def _rel(a, b):
    return np.abs(a - b).max() / np.abs(b).max()


@pytest.mark.parametrize("feedback", ["synapse", "activation"])
def test_rbp_and_full_depth_crbp_equal_bptt(feedback):
    model = _net(feedback)
    X, Y, h0 = _problem(model)
    ref = bptt(model, X, Y, h0=h0)
    for got in (rbp(model, X, Y, h0=h0), crbp(model, X, Y, depth=X.shape[0], h0=h0),
                crbp(model, X, Y, depth=50, h0=h0)):
        assert got.loss == pytest.approx(ref.loss, rel=1e-14)
        assert _rel(got.gradient, ref.gradient) < 1e-6
    fields = ["V1", "b2"]
    assert _rel(crbp(model, X, Y, fields=fields, depth=12, h0=h0).gradient,
                bptt(model, X, Y, fields=fields, h0=h0).gradient) < 1e-6


@pytest.mark.parametrize("feedback", ["synapse", "activation"])
def test_crbp_truncation(feedback):
    """The output layer's gradient is exact at any depth (its neurons need no future); the
    hidden layer's is exact once the depth exceeds the reach of the output synapses: with FIR
    output synapses of order L2 = 2 (I2 = 0), depth 3 is exact and depth 2 is not."""
    model = _net(feedback)
    X, Y, h0 = _problem(model)
    out = ["W2", "V2", "b2"]
    assert _rel(crbp(model, X, Y, fields=out, depth=1, h0=h0).gradient,
                bptt(model, X, Y, fields=out, h0=h0).gradient) < 1e-12
    assert _rel(crbp(model, X, Y, depth=3, h0=h0).gradient,
                bptt(model, X, Y, h0=h0).gradient) > 1e-3  # IIR output synapses: truncated
    fir = _net(feedback, orders=((2, 2), (2, 0)))
    X, Y, h0 = _problem(fir)
    ref = bptt(fir, X, Y, h0=h0).gradient
    assert _rel(crbp(fir, X, Y, depth=3, h0=h0).gradient, ref) < 1e-12
    assert _rel(crbp(fir, X, Y, depth=2, h0=h0).gradient, ref) > 1e-3


def _plant(u):
    """Wiener system: a third-order low-pass IIR filter followed by sin (Back & Tsoi 1993's
    benchmark plant, used for the IIR-MLP by Campolucci et al. 1999)."""
    z = lfilter([0.0154, 0.0462, 0.0462, 0.0154], [1.0, -1.99, 1.572, -0.4583], u)
    return np.sin(z)


def test_crbp_online_identifies_a_system():
    """On-line CRBP(5), an update per sample, identifies the Wiener plant: the normalised
    error falls from ~0.15 to below 1% of the plant output's variance."""
    rng = np.random.default_rng(0)
    u = rng.uniform(-1.0, 1.0, 20000)
    d = _plant(u)
    model = IIRMLP.random(1, 4, 1, ((2, 2), (2, 2)), seed=3, pole_radius=0.3)
    res = crbp_online(model, u[:, None], d[:, None], depth=5, lr=0.1)
    first, last = (res.errors[s].mean() / d.var() for s in (slice(0, 2000), slice(-2000, None)))
    assert first > 0.05
    assert last < 0.01
    # only the fields named learn
    part = crbp_online(model, u[:200, None], d[:200, None], depth=5, lr=0.1, fields="b2")
    for f in ("W1", "V1", "b1", "W2", "V2"):
        np.testing.assert_array_equal(part.model.to_vector(f), model.to_vector(f))
    assert np.any(part.model.b2 != model.b2)


def test_study_campolucci1999_crbp(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "campolucci1999_crbp", Path(__file__).parents[1] / "studies" / "campolucci1999_crbp.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"campolucci1999_crbp.{ext}").exists()
    assert json.loads((tmp_path / "campolucci1999_crbp.json").read_text()) == res
    # full depth is exact; the truncated gradients converge to it as the depth grows
    assert res["rbp_vs_bptt_max_rel_err"] < 1e-6
    assert res["crbp_full_depth_vs_bptt_max_rel_err"] < 1e-6
    assert res["crbp_grad_rel_err"][-1] < 1e-6 and res["crbp_grad_rel_err"][0] > 0.1
    # every method learns the plant; CRBP(5) does as well as exact BPTT within 10%
    final = res["final_test_nmse"]
    assert all(v < 0.2 * res["initial_test_nmse"] for v in final.values())
    assert final["crbp:5"] < 1.1 * final["bptt"]
    assert res["online_final_window_nmse"]["5"] < 0.01


def test_bad_input():
    model = _net("synapse")
    X, Y, _ = _problem(model)
    for depth in (0, -1, 1.5, True):
        with pytest.raises(ValidationError, match="depth"):
            crbp(model, X, Y, depth=depth)
    with pytest.raises(ValidationError, match="targets"):
        crbp(model, X, Y[:, :, :1], depth=2)
    with pytest.raises(ValidationError, match="inputs"):
        rbp(model, X[..., :1], Y)
    with pytest.raises(ValidationError, match="fields"):
        rbp(model, X, Y, fields="W3")
    with pytest.raises(ValidationError, match="model"):
        crbp(Elman.random(2, 3, seed=0), X, Y[..., :1].repeat(3, -1), depth=2)
    with pytest.raises(ValidationError, match="orders"):
        IIRMLP.random(2, 3, 1, ((2, -1), (1, 1)))
    with pytest.raises(ValidationError, match="orders"):
        IIRMLP.random(2, 3, 1, ((2, 1.5), (1, 1)))
    with pytest.raises(ValidationError, match="pole_radius"):
        IIRMLP.random(2, 3, 1, pole_radius=1.5)
    with pytest.raises(ValidationError, match="n_hidden"):
        IIRMLP.random(2, 0, 1)
    with pytest.raises(ValidationError, match="V1"):
        IIRMLP(W1=model.W1, V1=model.V1[:, 0], W2=model.W2, V2=model.V2)
    with pytest.raises(ValidationError, match="W2"):
        IIRMLP(W1=model.W1, V1=model.V1, W2=model.W2[:, :2], V2=model.V2)
    with pytest.raises(ValidationError, match="feedback"):
        IIRMLP(W1=model.W1, V1=model.V1, W2=model.W2, V2=model.V2, feedback="output")
    with pytest.raises(ValidationError, match="lr"):
        crbp_online(model, X[:, 0], Y[:, 0], depth=2, lr=0.0)
    with pytest.raises(ValidationError, match="depth"):
        crbp_online(model, X[:, 0], Y[:, 0], depth=0, lr=0.1)
    with pytest.raises(ValidationError, match="targets"):
        crbp_online(model, X[:, 0], Y[:-1, 0], depth=2, lr=0.1)
