"""Parameter and state vector-Jacobian products of the gated kernels (LSTM, GRU): against
central finite differences (parameters) and the existing analytic Jacobians (state, input)."""
import numpy as np
import pytest

from rnndyn.models import _gated_kernels as gk
from rnndyn.models.gated import GRU, LSTM

H, M = 4, 3
EPS = 1e-6
SENTINEL = 12345.0

LSTM_CASES = [
    dict(),
    dict(peephole=True),
    dict(peephole=True, gate_activation="hard_sigmoid"),
    dict(peephole=True, activation="hard_tanh", gate_activation="hard_sigmoid"),
    dict(activation="identity"),
]
GRU_CASES = ([dict(variant=v, reset_after=ra) for v in range(4) for ra in (True, False)]
             + [dict(reset_after=ra, activation="hard_tanh", gate_activation="hard_sigmoid")
                for ra in (True, False)]
             + [dict(reset_after=False, activation="relu")])
KINKS = {"tanh": (), "sigmoid": (), "identity": (), "relu": (0.0,), "hard_tanh": (-1.0, 1.0),
         "hard_sigmoid": (-3.0, 3.0)}


# -- raw parameter vectors <-> kernel tuples ------------------------------------------------
def lstm_raw(p):
    return np.concatenate([p[0].ravel(), p[1].ravel(), p[2].ravel(), p[3].ravel()])


def lstm_tuple(raw, p):
    H, m = p[1].shape[1], p[0].shape[1]
    sizes = [4 * H * m, 4 * H * H, 4 * H, 3 * H]
    W_ih, W_hh, b, P = np.split(raw, np.cumsum(sizes)[:-1])
    W_ih, W_hh, P = W_ih.reshape(4 * H, m), W_hh.reshape(4 * H, H), P.reshape(3, H)
    return (W_ih, W_hh, b.copy(), P, p[4], p[5], np.ascontiguousarray(W_ih.T),
            np.ascontiguousarray(W_hh.T))


def gru_raw(p):
    return np.concatenate([p[0].ravel(), p[1].ravel(), p[2].ravel(), p[3].ravel()])


def gru_tuple(raw, p):
    H, m = p[1].shape[1], p[0].shape[1]
    sizes = [3 * H * m, 3 * H * H, 3 * H, 3 * H]
    W_ih, W_hh, b_ih, b_hh = np.split(raw, np.cumsum(sizes)[:-1])
    W_ih, W_hh = W_ih.reshape(3 * H, m), W_hh.reshape(3 * H, H)
    return (W_ih, W_hh, b_ih.copy(), b_hh.copy(), p[4], p[5], p[6],
            np.ascontiguousarray(W_ih.T), np.ascontiguousarray(W_hh.T))


FAMILIES = {
    "lstm": dict(cls=LSTM, cases=LSTM_CASES, n=lambda: 2 * H, raw=lstm_raw, tuple=lstm_tuple,
                 step=gk.lstm_step, jac=gk.lstm_jacobian, jac_x=gk.lstm_jac_input,
                 vjp=gk.lstm_vjp, size=gk.lstm_param_size, work=gk.lstm_work_size,
                 d=4 * H * M + 4 * H * H + 4 * H + 3 * H),
    "gru": dict(cls=GRU, cases=GRU_CASES, n=lambda: H, raw=gru_raw, tuple=gru_tuple,
                step=gk.gru_step, jac=gk.gru_jacobian, jac_x=gk.gru_jac_input,
                vjp=gk.gru_vjp, size=gk.gru_param_size, work=gk.gru_work_size,
                d=3 * H * M + 3 * H * H + 6 * H),
}
CASES = [(fam, i) for fam, spec in FAMILIES.items() for i in range(len(spec["cases"]))]


def _ids(case):
    fam, i = case
    kw = FAMILIES[fam]["cases"][i]
    return fam + ("-" + "-".join(f"{k}={v}" for k, v in kw.items()) if kw else "")


@pytest.fixture(params=CASES, ids=[_ids(c) for c in CASES])
def setup(request):
    fam, i = request.param
    spec = FAMILIES[fam]
    kw = spec["cases"][i]
    cell = spec["cls"].random(M, H, seed=10 + i, **kw)
    rng = np.random.default_rng(100 + i)
    n = spec["n"]()
    h = rng.normal(0.0, 0.5, n)
    x = rng.normal(size=M)
    v = rng.normal(size=n)
    p = spec["tuple"](spec["raw"](cell.kernel_params), cell.kernel_params)
    return spec, cell, p, h, x, v


def _work(spec, p):
    """Exactly work_size entries, NaN-filled, followed by sentinels that catch overruns."""
    size = spec["work"](p)
    buf = np.full(size + 8, SENTINEL)
    buf[:size] = np.nan
    return buf, size


def _vjp(spec, h, x, p, v):
    n, d = h.shape[0], spec["d"]
    gh, gx, gp = np.full(n, np.nan), np.full(M, np.nan), np.full(d, np.nan)
    buf, size = _work(spec, p)
    spec["vjp"](h, x, p, v, gh, gx, gp, buf[:size])
    assert np.all(buf[size:] == SENTINEL), "vjp wrote past work_size"
    return gh, gx, gp


def _F(spec, h, x, p):
    out = np.empty_like(h)
    buf, size = _work(spec, p)
    spec["step"](h, x, p, out, buf[:size])
    return out, buf[:size].copy()


def _kink_margin(spec, cell, h, x, p):
    """Smallest distance of an argument of a piecewise-linear activation from its kinks."""
    _, w = _F(spec, h, x, p)
    Hh = cell.H
    if spec["cls"] is LSTM:
        gates = np.concatenate([w[:2 * Hh], w[3 * Hh:4 * Hh]])
        cell_args = np.concatenate([w[2 * Hh:3 * Hh], w[4 * Hh:5 * Hh]])
    else:
        gates = np.concatenate([w[:2 * Hh] + w[3 * Hh:5 * Hh]])
        cell_args = w[6 * Hh:7 * Hh]
    margin = np.inf
    for args, name in ((gates, cell.gate_activation), (cell_args, cell.activation)):
        for k in KINKS[name]:
            margin = min(margin, np.abs(args - k).min())
    return margin


# -- tests ------------------------------------------------------------------------------------
def test_param_size_matches_layout(setup):
    spec, cell, p, *_ = setup
    assert spec["size"](p) == spec["d"] == spec["raw"](p).size
    assert spec["size"](cell.kernel_params) == spec["d"]


def test_tuple_round_trip_reproduces_the_step(setup):
    spec, cell, p, h, x, _ = setup
    np.testing.assert_array_equal(_F(spec, h, x, p)[0], _F(spec, h, x, cell.kernel_params)[0])


def test_state_and_input_vjp_match_jacobians(setup):
    spec, cell, p, h, x, v = setup
    n = h.shape[0]
    gh, gx, _ = _vjp(spec, h, x, p, v)
    J, Jx = np.empty((n, n)), np.empty((n, M))
    buf, size = _work(spec, p)
    spec["jac"](h, x, p, J, buf[:size])
    spec["jac_x"](h, x, p, Jx, buf[:size])
    np.testing.assert_allclose(gh, v @ J, rtol=0, atol=1e-12)
    np.testing.assert_allclose(gx, v @ Jx, rtol=0, atol=1e-12)


def test_param_vjp_matches_central_differences(setup):
    spec, cell, p, h, x, v = setup
    assert _kink_margin(spec, cell, h, x, p) > 1e-3  # FD stays on one linear piece
    _, _, gp = _vjp(spec, h, x, p, v)
    raw = spec["raw"](p)
    fd = np.empty_like(raw)
    for i in range(raw.size):
        up, dn = raw.copy(), raw.copy()
        up[i] += EPS
        dn[i] -= EPS
        fp = v @ _F(spec, h, x, spec["tuple"](up, p))[0]
        fm = v @ _F(spec, h, x, spec["tuple"](dn, p))[0]
        fd[i] = (fp - fm) / (2 * EPS)
    err = np.abs(gp - fd).max() / max(1.0, np.abs(fd).max())
    assert err < 1e-6, err


def test_vjp_is_linear_in_v(setup):
    spec, cell, p, h, x, v = setup
    w = np.random.default_rng(7).normal(size=v.shape)
    a = _vjp(spec, h, x, p, v)
    b = _vjp(spec, h, x, p, w)
    c = _vjp(spec, h, x, p, 2.0 * v - 3.0 * w)
    for ga, gb, gc in zip(a, b, c):
        np.testing.assert_allclose(gc, 2.0 * ga - 3.0 * gb, rtol=0, atol=1e-12)


def test_zero_peephole_gradient_is_still_the_derivative():
    """A zero peephole array means no peepholes in the step, yet gp holds the derivative with
    respect to those (zero) weights, which FD confirms above; here: dF/dpeep is nonzero."""
    spec = FAMILIES["lstm"]
    cell = LSTM.random(M, H, seed=1)
    rng = np.random.default_rng(1)
    h, x, v = rng.normal(0.0, 0.5, 2 * H), rng.normal(size=M), rng.normal(size=2 * H)
    _, _, gp = _vjp(spec, h, x, cell.kernel_params, v)
    assert np.all(cell.kernel_params[3] == 0)
    assert np.abs(gp[-3 * H:]).max() > 0


@pytest.mark.parametrize("fam", ["lstm", "gru"])
def test_hidden_output_vjp(fam):
    spec = FAMILIES[fam]
    cell = spec["cls"].random(M, H, seed=2)
    p = cell.kernel_params
    n = spec["n"]()
    rng = np.random.default_rng(3)
    h, v = rng.normal(size=n), rng.normal(size=H)
    gh, gp = np.full(n, np.nan), np.full(spec["d"], np.nan)
    gk.hidden_output_vjp(h, p, v, gh, gp)
    Jo = np.empty((H, n))
    gk.hidden_output_jac(h, p, Jo)
    np.testing.assert_array_equal(gh, v @ Jo)
    np.testing.assert_array_equal(gh[:H], v)
    np.testing.assert_array_equal(gh[H:], 0.0)
    np.testing.assert_array_equal(gp, 0.0)
