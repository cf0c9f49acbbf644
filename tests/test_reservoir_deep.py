"""Deep echo state networks (Gallicchio, Micheli & Pedrelli 2017, Neurocomputing 268:87):
the protocol (conformance), the stack equal to its layers run one after another in plain
numpy, readouts on the concatenated states, and bad input."""
import numpy as np
import pytest

import rnndyn as rd
from conformance import check_model
from rnndyn.errors import ValidationError
from rnndyn.models.reservoir import ESN, DeepESN
from rnndyn.train import readout as ro


def _deep(seed=0, units=(5, 4, 3), **kw):
    kw = dict(spectral_radius=(0.9, 1.1, 0.7), leak=(0.5, 0.3, 1.0), bias_scaling=0.2,
              inter_scaling=0.8, density=0.6, n_feedback=1, seed=seed) | kw
    return DeepESN.random(2, units, **kw)


def _numpy_layers(deep, X, h0=None):
    """Each layer over the whole sequence, one after another: layer 0 reads X (T, n_in),
    layer l the states of layer l-1 (Gallicchio et al. 2017, eqs. 1-2)."""
    inp, out = X, []
    h0 = np.zeros(deep.n) if h0 is None else h0
    for esn, h in zip(deep.layers, deep.layer_states(h0)):
        W_in = np.concatenate([esn.W_in, esn.W_fb], axis=1)
        S = np.empty((X.shape[0], esn.n))
        for t in range(X.shape[0]):
            h = (1 - esn.leak) * h + esn.leak * np.tanh(W_in @ inp[t] + esn.W @ h + esn.bias)
            S[t] = h
        out.append(S)
        inp = S
    return np.concatenate(out, axis=1)


def test_deep_esn_conforms():
    # mixed sparse (CSR) and dense layers share one kernel signature
    deep = _deep(sparse=None, density=(0.2, 0.6, 0.6))
    assert [esn.uses_sparse for esn in deep.layers] == [True, False, False]
    check_model(deep)


def test_stack_equals_the_layers_run_one_after_another():
    deep = _deep(1)
    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, (40, deep.n_in))
    h0 = rng.uniform(-0.5, 0.5, deep.n)
    res = rd.run(deep, X, h0)
    np.testing.assert_allclose(res.states, _numpy_layers(deep, X, h0), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(res.outputs, deep.layer_states(res.states)[-1], rtol=0, atol=0)
    assert deep.sizes == (5, 4, 3) and deep.n == 12 and (deep.n_u, deep.n_fb) == (2, 1)
    # the layers as ESNs run one after another through rnndyn.run, too
    inp, parts = X, []
    for esn, h in zip(deep.layers, deep.layer_states(h0)):
        inp = rd.run(esn, inp, h).states
        parts.append(inp)
    np.testing.assert_allclose(res.states, np.concatenate(parts, axis=1), rtol=1e-13,
                               atol=1e-14)


def test_readout_fits_the_concatenated_states():
    deep = DeepESN.random(1, (30, 30), spectral_radius=0.9, leak=(1.0, 0.5), seed=2)
    u = np.random.default_rng(0).uniform(-0.5, 0.5, (600, 1))
    d = np.vstack([np.zeros((2, 1)), u[:-2]])  # recall u(t - 2)
    res = ro.fit(deep, u, d, ro.Ridge(1e-5), washout=50)
    S = _numpy_layers(deep, u)
    want = ro.Ridge(1e-5).fit(S, d, washout=50)
    np.testing.assert_allclose(res.readout.coef, want.coef, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(res.final, S[-1], rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(ro.states(deep, u), S, rtol=1e-12, atol=1e-13)
    pred = res.readout.predict(S[50:])
    assert np.sqrt(np.mean((pred - d[50:]) ** 2)) / d.std() < 0.05


def test_bad_deep_esn():
    a = ESN.random(5, 1, density=0.6, seed=0)
    with pytest.raises(ValidationError, match="W_fb"):
        DeepESN((a, ESN.random(4, 5, n_feedback=1, density=0.6, seed=1)))
    with pytest.raises(ValidationError, match="takes 3 inputs"):
        DeepESN((a, ESN.random(4, 3, density=0.6, seed=1)))
    with pytest.raises(ValidationError, match="population"):
        DeepESN((ESN.stack([a, a]),))
    with pytest.raises(ValidationError, match="leak"):
        DeepESN.random(1, (5, 5), leak=(0.5, 0.5, 0.5), density=0.6)
    with pytest.raises(ValidationError, match="leak"):
        DeepESN.random(1, (5, 5), leak=(0.5, 1.5), density=0.6)
    with pytest.raises(ValidationError, match="units"):
        DeepESN.random(1, ())


def test_lyapunov_spectrum_is_the_union_of_the_layers():
    # at the fixed point 0 (no bias, zero input) the stack's Jacobian is block lower-
    # triangular with blocks (1 - a_l) I + a_l W_l: its Lyapunov exponents are the logs of
    # the moduli of the blocks' eigenvalues, all layers together (the analysis layer runs
    # the stack through its chain-rule Jacobian)
    deep = _deep(1, n_feedback=0, bias_scaling=0.0)
    res = rd.analysis.lyapunov_spectrum(deep, np.zeros(deep.n), 3000,
                                        inputs=np.zeros((3000, deep.n_in)))
    want = np.concatenate([np.log(np.abs(np.linalg.eigvals(
        np.diag(1 - e.leak) + e.leak[:, None] * e.W))) for e in deep.layers])
    np.testing.assert_allclose(res.exponents, np.sort(want)[::-1], atol=3e-3)
