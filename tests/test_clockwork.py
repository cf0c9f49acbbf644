"""The clockwork RNN (Koutník, Greff, Gomez & Schmidhuber 2014, arXiv:1402.3511): the kernel
equals a plain numpy transcription of the paper's update rule (modules update when
t mod T_g == 0, else keep their state; connections only from slower to faster modules); the
hand-written Jacobian and VJPs pass the conformance suite; BPTT over sequences crossing
several periods matches central differences (relative error < 1e-6, float64); with every
period 1 it is the Elman network with the same weights (states, outputs, gradients, Lyapunov
spectrum plus the counter's zero exponent); bad input is refused."""
import networkx as nx
import numpy as np
import pytest

from conformance import (check_batch, check_finite, check_graph_roundtrip, check_jacobian,
                         check_param_derivatives, check_param_vector, check_population,
                         check_population_derivatives, check_shapes)
from rnndyn.analysis import lyapunov_spectrum
from rnndyn.errors import ValidationError
from rnndyn.graphs import load, save
from rnndyn.integrate import run
from rnndyn.models.clockwork import ClockworkRNN
from rnndyn.models.discrete import Elman
from rnndyn.train.gradients import bptt, rtrl


def reference_run(m: ClockworkRNN, X, h0=None, step0=0):
    """The paper's forward pass (section 3) in plain numpy: at step t the modules with
    t mod T_i == 0 compute y_H = tanh(W_H y_H + W_I x + b), the others keep their values;
    the output is W_O y_H + b_O at every step."""
    T = np.array(m.periods)
    W = m.W * m.mask
    h = np.zeros(m.H) if h0 is None else np.array(h0, dtype=float)
    states, outputs = [], []
    for t, x in enumerate(X, start=step0):
        active = t % T == 0
        h = np.where(active, np.tanh(W @ h + m.W_in @ x + m.bias), h)
        states.append(h)
        outputs.append(m.W_y @ h + m.b_y if m.W_y.shape[0] else h)
    return np.array(states), np.array(outputs)


def small(seed=0, **kw):
    """Six units in modules of periods 1, 2, 4 (cycle 4), two inputs, two outputs."""
    return ClockworkRNN.random(2, 2, 2, periods=(1, 2, 4), seed=seed, **kw)


def clock_sample(model, rng):
    """A state with an integer counter anywhere in the cycle (the counter is a step number)."""
    h = 0.5 * rng.standard_normal(model.n)
    h[-1] = rng.integers(0, model.cycle)
    return h, rng.standard_normal(model.n_in)


def test_forward_equals_the_papers_update_rule():
    m = ClockworkRNN.random(3, 2, [2, 3, 1, 2], periods=(1, 2, 4, 8), seed=1)
    X = np.random.default_rng(0).standard_normal((37, 3))
    res = run(m, X)
    states, outputs = reference_run(m, X)
    np.testing.assert_allclose(res.states[:, :m.H], states, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(res.outputs, outputs, rtol=1e-13, atol=1e-14)
    np.testing.assert_array_equal(res.states[:, -1], (np.arange(37) + 1) % 8)
    # a module of period 8 changes only at steps 0, 8, 16, ...: constant in between
    slow = res.states[:, m.modules[8]]
    changed = np.flatnonzero(np.any(np.diff(slow, axis=0) != 0, axis=1)) + 1
    assert set(changed) <= {8, 16, 24, 32}
    # starting at step 3 (h0's counter) shifts the schedule
    h0 = m.initial_state(np.full(m.H, 0.1), step=3)
    states, outputs = reference_run(m, X, h0[:-1], step0=3)
    np.testing.assert_allclose(run(m, X, h0=h0).states[:, :m.H], states, rtol=1e-13,
                               atol=1e-14)


def test_one_step_against_reference_at_every_phase():
    m = small()
    rng = np.random.default_rng(2)
    for t in range(2 * m.cycle):
        h, x = clock_sample(m, rng)
        h[-1] = t
        states, _ = reference_run(m, x[None], h[:-1], step0=t)
        new = m.step(h, x)
        np.testing.assert_allclose(new[:-1], states[0], rtol=1e-13, atol=1e-14)
        assert new[-1] == (t + 1) % m.cycle


def test_conformance():
    members = [small(seed=s) for s in range(3)]
    m = members[0]
    check_shapes(m, clock_sample)
    check_finite(m, clock_sample)
    check_jacobian(m, clock_sample, draws=8)
    check_param_vector(m, members)
    check_param_derivatives(m, clock_sample, draws=4)
    check_batch(m, clock_sample)
    check_population(members, clock_sample)
    check_population_derivatives(members, clock_sample)
    check_graph_roundtrip(m, clock_sample)
    # without a readout (outputs = units) and without inputs
    bare = ClockworkRNN.random(0, None, [2, 1], seed=3)
    check_param_derivatives(bare, clock_sample)
    check_graph_roundtrip(bare, clock_sample)


def test_default_sample_counter_is_read_rounded():
    # conformance's default sample puts a non-integer counter: read as its rounding, kept
    # as an offset; derivatives stay exact (the update pattern is locally constant)
    m = small()
    h = np.linspace(-0.5, 0.5, m.n)
    h[-1] = 2.3
    g = h.copy()
    g[-1] = 2.0
    np.testing.assert_array_equal(m.step(h)[:-1], m.step(g)[:-1])
    assert m.step(h)[-1] == pytest.approx(3.3)
    h[-1] = 3.4  # step 3: wraps to 0, offset kept
    assert m.step(h)[-1] == pytest.approx(0.4)
    check_jacobian(m)
    check_param_derivatives(m, draws=1)


def test_non_integer_step_counter_in_h0_is_refused():
    # the kernels would read 2.3 as step 2 and keep 0.3 as an offset: a silent change of
    # the schedule, so run and the trainers refuse it and name the fix
    m = small()
    X = np.zeros((4, m.n_in))
    h0 = m.initial_state(step=2)
    h0[-1] = 2.3
    with pytest.raises(ValidationError, match="step counter.*initial_state"):
        run(m, X, h0=h0)
    with pytest.raises(ValidationError, match="step counter"):
        bptt(m, X, np.zeros((4, m.n_out)), "mse", h0=h0)
    h0[-1] = -7.0  # any integer is a step (taken mod the cycle)
    run(m, X, h0=h0)


def _bptt_vs_fd(m, X, Y, h0=None):
    loss, g = bptt(m, X, Y, "mse", h0=h0)
    theta = m.to_vector()
    fd = np.empty(theta.size)

    def value(th):
        return bptt(m.from_vector(th), X, Y, "mse", h0=h0).loss
    for k in range(theta.size):
        e = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += e
        tm[k] -= e
        fd[k] = (value(tp) - value(tm)) / (2 * e)
    assert np.abs(g - fd).max() < 1e-6 * max(1.0, np.abs(fd).max())
    return loss, g


def test_bptt_matches_central_differences_across_several_periods():
    # periods 1, 2, 4, 8 over 30 steps: the slowest module updates 4 times, and gradients
    # flow through its held values; two sequences, one starting mid-cycle
    m = ClockworkRNN.random(2, 1, 2, periods=(1, 2, 4, 8), seed=4)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((30, 2, 2))
    Y = np.sin(np.arange(30) / 4.0)[:, None, None] * np.ones((1, 2, 1))
    h0 = np.stack([m.initial_state(), m.initial_state(0.3 * rng.standard_normal(m.H), 5)])
    _, g = _bptt_vs_fd(m, X, Y, h0)
    # RTRL carries the sensitivities forward with the hand-written parameter Jacobian
    np.testing.assert_allclose(rtrl(m, X, Y, h0=h0).gradient, g, rtol=1e-10, atol=1e-14)
    # no input at all, the paper's sequence generation setting
    gen = ClockworkRNN.random(0, 1, 2, periods=(1, 4, 16), seed=6)
    _bptt_vs_fd(gen, np.zeros((40, 0)), np.cos(np.arange(40) / 6.0)[:, None])


def test_all_periods_one_is_elman():
    m = ClockworkRNN.random(3, 2, [4], periods=(1,), seed=7)
    e = Elman(W_ih=m.W_in, W_hh=m.W, b_ih=m.bias, W_y=m.W_y, b_y=m.b_y)
    X = np.random.default_rng(8).standard_normal((25, 4, 3))
    a, b = run(m, X), run(e, X, method="loop")  # both cells stepped by the generic runner
    np.testing.assert_array_equal(a.states[..., :-1], b.states)
    np.testing.assert_array_equal(a.outputs, b.outputs)
    # Elman's own batched kernel: a BLAS product a step, another summation order
    np.testing.assert_allclose(run(e, X).outputs, b.outputs, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(a.states[..., -1], 0.0)  # L = 1: the counter stays 0
    Y = np.random.default_rng(9).standard_normal((25, 4, 2))
    ga, gb = bptt(m, X, Y).gradient, bptt(e, X, Y, fields=("W_ih", "W_hh", "b_ih", "W_y",
                                                            "b_y")).gradient
    np.testing.assert_allclose(ga, gb, rtol=1e-12, atol=1e-14)
    # the analysis layer runs unchanged: Elman's spectrum plus the counter's exponent 0 (the
    # sums agree exactly: both average log|det J| along the same trajectory)
    free = ClockworkRNN.random(0, None, [5], periods=(1,), seed=7)
    ef = Elman(W_ih=free.W_in, W_hh=free.W, b_ih=free.bias)
    h0 = np.full(free.n, 0.1)
    h0[-1] = 0.0  # the step counter
    la = lyapunov_spectrum(free, h0, t_total=500, t_transient=100, seed=0).exponents
    lb = lyapunov_spectrum(ef, h0[:-1], t_total=500, t_transient=100, seed=0).exponents
    assert la[0] == pytest.approx(0.0, abs=1e-12)
    assert la.sum() == pytest.approx(lb.sum(), rel=1e-9)
    np.testing.assert_allclose(la[1:], lb, atol=3e-3)  # a complex pair: finite-time spread


def test_stacking_jacobians_match_central_differences():
    # jac_input (d h'/d x) and output_jac (d y/d h), the kernels deep stacks use
    m = small()
    p, rng, eps = m.kernel_params, np.random.default_rng(12), 1e-6
    work = np.empty(m.functions.work_size(p))
    for _ in range(4):
        h, x = clock_sample(m, rng)
        Jx, Jo = np.empty((m.n, m.n_in)), np.empty((m.n_out, m.n))
        m.jac_input(h, x, p, Jx, work)
        m.output_jac(h, p, Jo)
        fd_x = np.stack([(m.step(h, x + eps * e) - m.step(h, x - eps * e)) / (2 * eps)
                         for e in np.eye(m.n_in)], axis=1)
        fd_o = np.stack([(m.output(h + eps * e) - m.output(h - eps * e)) / (2 * eps)
                         for e in np.eye(m.n)], axis=1)
        np.testing.assert_allclose(Jx, fd_x, atol=1e-8)
        np.testing.assert_allclose(Jo, fd_o, atol=1e-8)


def test_float32_runs_like_float64():
    m = ClockworkRNN.random(2, 1, 3, periods=(1, 2, 4, 8), seed=10)
    X = np.random.default_rng(11).standard_normal((50, 2))
    r32, r64 = run(m, X.astype(np.float32)), run(m, X)
    assert r32.outputs.dtype == np.float32
    np.testing.assert_array_equal(r32.states[:, -1], r64.states[:, -1])
    np.testing.assert_allclose(r32.outputs, r64.outputs, atol=1e-5)
    Y = np.sin(np.arange(50) / 5.0)[:, None]
    g32, g64 = bptt(m, X, Y, dtype=np.float32), bptt(m, X, Y)
    assert g32.loss == pytest.approx(g64.loss, rel=1e-5)
    assert np.abs(g32.gradient - g64.gradient).max() < 1e-5 * np.abs(g64.gradient).max()


def _graph():
    G = nx.DiGraph(activation="tanh")
    G.add_node("x", role="input")
    G.add_node("fast", period=1, bias=0.1)
    G.add_node("slow", period=4, bias=-0.2)
    G.add_node("y", role="output", bias=0.05)
    G.add_edge("x", "fast", weight=0.5)
    G.add_edge("x", "slow", weight=-0.3)
    G.add_edge("slow", "fast", weight=0.7)
    G.add_edge("slow", "slow", weight=0.4)
    G.add_edge("fast", "y", weight=1.2)
    G.add_edge("slow", "y", weight=-0.6)
    return G


def test_from_graph_reads_periods_and_readout():
    m = ClockworkRNN.from_graph(_graph())
    assert m.periods == (1, 4) and m.nodes == ("fast", "slow", "y")
    np.testing.assert_array_equal(m.W, [[0.0, 0.7], [0.0, 0.4]])
    np.testing.assert_array_equal(m.mask, [[False, True], [False, True]])
    np.testing.assert_array_equal(m.W_y, [[1.2, -0.6]])
    assert m.n_params == 2 + 2 + 2 + 2 + 1
    back = ClockworkRNN.from_graph(m.to_graph())
    X = np.random.default_rng(0).standard_normal((9, 1))
    np.testing.assert_array_equal(run(back, X).outputs, run(m, X).outputs)


def test_graph_json_round_trip(tmp_path):
    m = ClockworkRNN.random(2, 1, 2, periods=(1, 2, 4), seed=0, output_activation="tanh")
    save(m.to_graph(), tmp_path / "cw.json")
    back = ClockworkRNN.from_graph(load(tmp_path / "cw.json"))
    assert back.periods == m.periods and back.output_activation == "tanh"
    X = np.random.default_rng(1).standard_normal((20, 2))
    np.testing.assert_array_equal(run(back, X).outputs, run(m, X).outputs)


def test_bad_input():
    m = small()
    with pytest.raises(ValidationError, match=r"ClockworkRNN.periods\[2\]"):
        ClockworkRNN(W=np.zeros((3, 3)), periods=(1, 2, 0))
    with pytest.raises(ValidationError, match=r"ClockworkRNN.periods\[0\]"):
        ClockworkRNN(W=np.zeros((3, 3)), periods=(2.5, 2, 1))
    with pytest.raises(ValidationError, match="ClockworkRNN.periods"):
        ClockworkRNN(W=np.zeros((3, 3)), periods=(1, 2))
    with pytest.raises(ValidationError, match="least common multiple"):
        ClockworkRNN(W=np.zeros((3, 3)), periods=(4099, 4111, 4127))
    W = np.zeros((2, 2))
    W[1, 0] = 0.5  # from the fast unit 0 (period 1) to the slow unit 1 (period 2)
    with pytest.raises(ValidationError, match="ClockworkRNN.W.*faster module"):
        ClockworkRNN(W=W, periods=(1, 2))
    with pytest.raises(ValidationError, match="ClockworkRNN.mask.*faster module"):
        ClockworkRNN(W=np.zeros((2, 2)), periods=(1, 2), mask=np.ones((2, 2), bool))
    with pytest.raises(ValidationError, match="ClockworkRNN.W"):
        ClockworkRNN(W=np.full((2, 2), np.nan), periods=(1, 1))
    with pytest.raises(ValidationError, match="inputs"):
        run(m, np.zeros((5, 3)))
    with pytest.raises(ValidationError, match="ClockworkRNN.initial_state.step"):
        m.initial_state(step=0.5)
    with pytest.raises(ValidationError, match="ClockworkRNN.initial_state.h"):
        m.initial_state(np.full(m.H, np.nan))
    with pytest.raises(ValidationError, match="ClockworkRNN.random.periods"):
        ClockworkRNN.random(1, 1, [2, 2], periods=(1,))
    G = _graph()
    del G.nodes["slow"]["period"]
    with pytest.raises(ValidationError, match="'slow'.*no 'period'"):
        ClockworkRNN.from_graph(G)
    G = _graph()
    G.nodes["slow"]["period"] = 0
    with pytest.raises(ValidationError, match="period 0"):
        ClockworkRNN.from_graph(G)
    G = _graph()
    G.add_edge("fast", "slow", weight=0.1)
    with pytest.raises(ValidationError, match="faster module"):
        ClockworkRNN.from_graph(G)
    G = _graph()
    G.nodes["y"]["period"] = 1
    with pytest.raises(ValidationError, match="output node"):
        ClockworkRNN.from_graph(G)
    G = _graph()
    G.add_edge("y", "fast", weight=0.1)
    with pytest.raises(ValidationError, match="output node"):
        ClockworkRNN.from_graph(G)


def test_koutnik2014_clockwork_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).parents[1] / "studies" / "koutnik2014_clockwork.py"
    spec = importlib.util.spec_from_file_location("koutnik2014_clockwork", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"koutnik2014_clockwork.{ext}").exists()
    assert json.loads((tmp_path / "koutnik2014_clockwork.json").read_text()) == res
    # the paper's ordering (section 4.1): the CW-RNN generates the waveform far better than
    # an LSTM or an SRN of about the same size (here 0.04 vs 0.72 and 1.00 after 200 updates)
    nmse = res["nmse_mean"]
    assert nmse["CW-RNN"] < 0.2 * nmse["LSTM"] and nmse["LSTM"] < nmse["SRN"]
