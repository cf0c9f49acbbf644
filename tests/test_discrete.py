"""Discrete-time cells, the sequence runner and the gradient diagnostics (issue #3)."""
import dataclasses

import networkx as nx
import numpy as np
import pytest
from numba import types

from rnndyn.analysis.gradients import jacobian_product_norms
from rnndyn.errors import DivergenceError, ValidationError
from rnndyn.integrate.run import DiscreteStepper, run
from rnndyn.models.deep import Bidirectional, Stacked
from rnndyn.models.discrete import Elman, FullyRecurrent
from rnndyn.models import _gated_kernels as gk
from rnndyn.models.gated import GRU, LSTM

RNG = np.random.default_rng(0)
X = RNG.normal(size=(60, 3, 4))  # (T, B, n_in)


def sig(a):
    return 1 / (1 + np.exp(-a))


NP_ACT = {"tanh": np.tanh, "sigmoid": sig, "relu": lambda a: np.maximum(a, 0.0),
          "identity": lambda a: a, "hard_tanh": lambda a: np.clip(a, -1.0, 1.0),
          "hard_sigmoid": lambda a: np.clip(a / 6 + 0.5, 0.0, 1.0)}


def lstm_reference(cell, x, h, c):
    """Plain numpy LSTM with peepholes (Gers & Schmidhuber 2000), PyTorch gate order."""
    H, act, gate = cell.H, NP_ACT[cell.activation], NP_ACT[cell.gate_activation]
    out = []
    for xt in x:
        a = cell.W_ih @ xt + cell.b_ih + cell.W_hh @ h + cell.b_hh
        i = gate(a[:H] + cell.peephole[0] * c)
        f = gate(a[H:2 * H] + cell.peephole[1] * c)
        c = f * c + i * act(a[2 * H:3 * H])
        o = gate(a[3 * H:] + cell.peephole[2] * c)
        h = o * act(c)
        out.append(h)
    return np.array(out)


def gru_reference(cell, x, h):
    """Plain numpy GRU, either reset placement."""
    H, act, gate = cell.H, NP_ACT[cell.activation], NP_ACT[cell.gate_activation]
    Wi, Wh, bi, bh = cell.W_ih, cell.W_hh, cell.b_ih, cell.b_hh
    out = []
    for xt in x:
        r = gate(Wi[:H] @ xt + bi[:H] + Wh[:H] @ h + bh[:H])
        z = gate(Wi[H:2 * H] @ xt + bi[H:2 * H] + Wh[H:2 * H] @ h + bh[H:2 * H])
        if cell.reset_after:
            n = act(Wi[2 * H:] @ xt + bi[2 * H:] + r * (Wh[2 * H:] @ h + bh[2 * H:]))
        else:
            n = act(Wi[2 * H:] @ xt + bi[2 * H:] + Wh[2 * H:] @ (r * h) + bh[2 * H:])
        h = (1 - z) * n + z * h
        out.append(h)
    return np.array(out)


# -- PyTorch equality (same weights, float64) -----------------------------------------------
@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_equals_pytorch_to_1e10(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    mod = getattr(torch.nn, name)(4, 6).double()
    cls = {"LSTM": LSTM, "GRU": GRU, "RNN": Elman}[name]
    cell = cls.from_torch(mod.state_dict())
    h0 = RNG.normal(size=(3, 6)) * 0.5
    c0 = RNG.normal(size=(3, 6)) * 0.5
    state0 = np.concatenate([h0, c0], axis=1) if name == "LSTM" else h0
    with torch.no_grad():
        hx = torch.from_numpy(h0)[None]
        hx = (hx, torch.from_numpy(c0)[None]) if name == "LSTM" else hx
        ref, _ = mod(torch.from_numpy(X), hx)
    methods = ["loop", "blas"] if name != "RNN" else ["loop"]
    for method in methods:
        res = run(cell, X, h0=state0, method=method)
        np.testing.assert_allclose(res.outputs, ref.numpy(), rtol=0, atol=1e-10)
    # export goes back into PyTorch unchanged
    mod2 = getattr(torch.nn, name)(4, 6).double()
    mod2.load_state_dict({k: torch.from_numpy(v) for k, v in cell.to_torch().items()})
    with torch.no_grad():
        np.testing.assert_array_equal(mod2(torch.from_numpy(X), hx)[0].numpy(), ref.numpy())


def test_peephole_lstm_matches_numpy_reference():
    cell = LSTM.random(4, 5, seed=1, peephole=True)
    h0, c0 = RNG.normal(size=5), RNG.normal(size=5)
    res = run(cell, X[:, 0], h0=np.concatenate([h0, c0]))
    np.testing.assert_allclose(res.outputs, lstm_reference(cell, X[:, 0], h0, c0), atol=1e-12)


# The kernels take a vectorised path for PyTorch's (tanh, sigmoid) and a generic one for
# other activations; the BLAS batch runner has both as well.
@pytest.mark.parametrize("activation, gate", [("tanh", "sigmoid"), ("relu", "hard_sigmoid"),
                                              ("hard_tanh", "sigmoid"), ("tanh", "tanh")])
@pytest.mark.parametrize("method", ["loop", "blas"])
def test_gated_activations_match_numpy_reference(activation, gate, method):
    kw = dict(activation=activation, gate_activation=gate)
    lstm = LSTM.random(4, 5, seed=3, peephole=True, **kw)
    gru = GRU.random(4, 5, seed=3, **kw)
    h0, c0 = RNG.normal(size=(3, 5)), RNG.normal(size=(3, 5))
    for b in range(3):
        res = run(lstm, X, h0=np.concatenate([h0, c0], axis=1), method=method)
        np.testing.assert_allclose(res.outputs[:, b], lstm_reference(lstm, X[:, b], h0[b], c0[b]),
                                   rtol=0, atol=1e-12)
        res = run(gru, X, h0=h0, method=method)
        np.testing.assert_allclose(res.outputs[:, b], gru_reference(gru, X[:, b], h0[b]),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("variant", [0, 1, 2, 3])
@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_variants_match_numpy_reference(variant, reset_after):
    cell = GRU.random(4, 5, seed=2, variant=variant, reset_after=reset_after)
    h0 = RNG.normal(size=5)
    res = run(cell, X[:, 1], h0=h0)
    np.testing.assert_allclose(res.outputs, gru_reference(cell, X[:, 1], h0), atol=1e-12)


@pytest.mark.parametrize("n, m", [(5, 4), (16, 8), (32, 3)])
def test_gru_variant_parameter_counts_dey_salem(n, m):
    # Dey & Salem 2017, Sec. III: GRU has 3(n^2 + nm + n) parameters; GRU1 2nm fewer,
    # GRU2 2(nm + n) fewer, GRU3 2(nm + n^2) fewer (single bias per gate: reset_after=False).
    full = 3 * (n * n + n * m + n)
    expected = {0: full, 1: full - 2 * n * m, 2: full - 2 * (n * m + n),
                3: full - 2 * (n * m + n * n)}
    for v, count in expected.items():
        assert GRU.random(m, n, seed=0, variant=v, reset_after=False).n_params == count


def test_gru_pytorch_parameter_count():
    torch = pytest.importorskip("torch")
    n, m = 7, 3
    total = sum(p.numel() for p in torch.nn.GRU(m, n).parameters())
    # PyTorch stores b_ih and b_hh; for r and z only their sum is free (2n redundant)
    assert GRU.random(m, n, seed=0).n_params == total - 2 * n


@pytest.mark.parametrize("cls", [LSTM, GRU])
@pytest.mark.parametrize("readout", [None, "identity", "tanh", "sigmoid", "relu", "hard_tanh",
                                     "hard_sigmoid"])
def test_stacked_batched_cells_run_layer_by_layer_as_the_stack_steps(cls, readout):
    # a Stacked of LSTM/GRU runs each layer's batched kernel over the whole sequence and the
    # readout in numpy; the generic runner steps the stack. 130 steps: the batched kernels'
    # input projection works in chunks of 64 (three chunks, the last one short).
    layers = (cls.random(4, 5, seed=0), cls.random(5, 3, seed=1))
    ro = {} if readout is None else dict(W_out=RNG.normal(size=(2, 3)), b_out=0.2,
                                         output_activation=readout)
    net = Stacked(layers, **ro)
    x = np.random.default_rng(9).normal(size=(130, 3, 4))
    h0 = 0.3 * np.random.default_rng(10).normal(size=(3, net.n))
    fast, ref = run(net, x, h0), run(net, x, h0, method="loop")
    np.testing.assert_allclose(fast.states, ref.states, rtol=0, atol=1e-13)
    np.testing.assert_allclose(fast.outputs, ref.outputs, rtol=0, atol=1e-13)
    # no inputs at all (m = 0): the batched kernels skip the projection
    cell = cls.random(0, 4, seed=2)
    np.testing.assert_allclose(run(cell, np.zeros((130, 2, 0))).states,
                               run(cell, np.zeros((130, 2, 0)), method="loop").states,
                               rtol=0, atol=1e-13)


SINGLE = {"lstm": lambda m, H: LSTM.random(m, H, seed=4, peephole=True),
          "gru": lambda m, H: GRU.random(m, H, seed=4),
          "gru2_relu": lambda m, H: GRU.random(m, H, seed=4, variant=2, activation="relu")}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m, H", [(0, 5), (3, 5), (8, 64), (3, 100)])
@pytest.mark.parametrize("kind", SINGLE)
def test_single_sequence_equals_the_stepped_cell(kind, m, H, dtype):
    # one sequence runs its own kernel path: W_ih x + b from chunks computed ahead (LSTM 32,
    # 20, 10 steps here, GRU 42, 27, 14: 150 ends inside a chunk), the recurrent product alone
    # (at H = 64 in float32 the prefetching one); the generic runner steps the cell
    cell = SINGLE[kind](m, H)
    x = np.random.default_rng(5).normal(size=(150, m))
    h0 = 0.5 * np.random.default_rng(6).normal(size=cell.n)
    fast = run(cell, x, h0, dtype=dtype)
    ref = run(cell, x, h0, dtype=dtype, method="loop")
    tol = 1e-13 if dtype == np.float64 else 2e-6  # float32: a few ulp through 150 steps
    np.testing.assert_allclose(fast.states, ref.states, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.outputs, ref.outputs, rtol=0, atol=tol)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_single_sequence_reports_divergence_where_the_stepped_cell_does(cls):
    # relu cells with a strong positive loop overflow (LSTM: float64 at step 189, float32 at
    # 24; GRU 192 and 25: its update gate's weights negative, else z -> 1 holds h)
    cell = cls.random(3, 5, seed=4, activation="relu")
    W_hh = 40 * np.abs(cell.W_hh)
    if cls is GRU:
        W_hh[5:10] *= -1
    cell = dataclasses.replace(cell, W_hh=W_hh, b_ih=np.abs(cell.b_ih) + 1)
    x = np.random.default_rng(5).normal(size=(400, 3))
    for dtype in (np.float64, np.float32):
        fast, ref = (run(cell, x, dtype=dtype, method=method, on_divergence="return")
                     for method in ("auto", "loop"))
        assert fast.status[0] == ref.status[0] == 1
        first = [np.flatnonzero(np.isnan(r.states).any(axis=1))[0] for r in (fast, ref)]
        assert first[0] == first[1] and 0 < first[0] < 399
        np.testing.assert_allclose(fast.states[:first[0]], ref.states[:first[0]], rtol=1e-5)


@pytest.mark.skipif(not hasattr(gk._lstm_single_standard, "signatures"), reason="no JIT")
@pytest.mark.parametrize("cls, paths", [(LSTM, (gk._LSTM_SINGLE, gk._LSTM_ROWS)),
                                        (GRU, (gk._GRU_SINGLE, gk._GRU_ROWS))])
def test_paths_compile_once_for_single_batched_and_frozen_inputs(cls, paths):
    # each path of lstm_run_batch is its own numba kernel, compiled when first used; a single
    # sequence (a broadcast view), a batch of one and a caller's read-only arrays all reach it
    # as writable arrays: numba types read-only arrays apart (one more compile, 7-10 s)
    cell = cls.random(3, 5, seed=0)
    x = np.random.default_rng(1).normal(size=(6, 3))
    frozen, h0 = x.copy(), np.zeros(cell.n)
    frozen.flags.writeable = h0.flags.writeable = False
    first = run(cell, x).states
    np.testing.assert_array_equal(run(cell, frozen, h0).states, first)
    np.testing.assert_array_equal(run(cell, x[:, None]).states[:, 0], first)
    run(cell, np.stack([frozen, frozen], 1), np.zeros((2, cell.n)))
    for kernel in (paths[0][1], paths[1][1]):  # the (tanh, sigmoid) versions
        assert kernel.signatures
        for sig in kernel.signatures:
            assert all(a.mutable for a in sig[1:] if isinstance(a, types.Array)), sig


# -- runner ---------------------------------------------------------------------------------
def test_parameters_beyond_float32_are_named_not_reported_as_divergence():
    # a float32 run casts the parameters once: weights past its range became inf and the run
    # "diverged at step 1"; each front door now names its dtype
    from rnndyn.train.gradients import bptt, rtrl
    cell = LSTM.random(3, 4, seed=0)
    big = dataclasses.replace(cell, W_hh=cell.W_hh * 1e300)
    x, y = np.ones((5, 3)), np.ones((5, 4))
    calls = {"run": lambda: run(big, x, dtype=np.float32),
             "bptt": lambda: bptt(big, x, y, dtype=np.float32),
             "rtrl": lambda: rtrl(big, x, y, dtype=np.float32),
             "DiscreteStepper": lambda: DiscreteStepper(big, batch=2, dtype=np.float32)}
    for name, call in calls.items():
        with pytest.raises(ValidationError, match=rf"^{name}\.dtype: float32 cannot hold"):
            call()
    assert np.isfinite(run(big, x).states).all()  # float64 holds them
    assert run(cell, x, dtype=np.float32).states.dtype == np.float32


def test_float32_run_close_to_float64():
    cell = LSTM.random(4, 8, seed=3)
    r64 = run(cell, X)
    r32 = run(cell, X.astype(np.float32))
    assert r32.outputs.dtype == np.float32
    np.testing.assert_allclose(r32.outputs, r64.outputs, atol=1e-5)
    r32b = run(cell, X.astype(np.float32), method="blas")
    np.testing.assert_allclose(r32b.outputs, r64.outputs, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make, B", [
    # the LSTM's three kernels (one sequence, rows, columns at H >= 128; a 20-sequence block
    # of columns has whole 16 x 16 tiles in float32), the GRU's two, and paths without a batched
    # kernel (the stepped runner, a stack, a bidirectional pair), which drop the states after
    (lambda: LSTM.random(3, 5, seed=0, peephole=True), 1),
    (lambda: LSTM.random(3, 5, seed=0, activation="relu"), 4),
    (lambda: LSTM.random(3, 130, seed=0), 20), (lambda: GRU.random(3, 6, seed=0), 3),
    (lambda: GRU.random(3, 130, seed=0), 20),
    (lambda: Elman.random(3, 4, seed=0), 2),
    (lambda: Stacked((LSTM.random(3, 4, seed=0), LSTM.random(4, 2, seed=1))), 2),
    (lambda: Bidirectional(LSTM.random(3, 4, seed=0), GRU.random(3, 2, seed=1)), 2)])
def test_run_without_states_equals_the_run_with_them(make, B, dtype):
    model = make()
    x = np.random.default_rng(2).normal(size=(37, B, 3))
    for xs in (x, x[:, 0]):  # a batch, one sequence
        full, lean = (run(model, xs, dtype=dtype, states=k) for k in (True, False))
        assert lean.states is None
        np.testing.assert_array_equal(lean.outputs, full.outputs)
        np.testing.assert_array_equal(lean.final, full.final)


def test_run_without_states_reports_divergence_alike():
    # sequence 1's inputs start the relu loop, which overflows mid-run; the others (no input,
    # no bias) stay at 0
    cell = LSTM.random(3, 5, seed=4, activation="relu")
    cell = dataclasses.replace(cell, W_hh=40 * np.abs(cell.W_hh), W_ih=np.abs(cell.W_ih),
                               b_ih=np.zeros(20), b_hh=np.zeros(20))
    x = np.zeros((300, 3, 3))
    x[:, 1] = 1.0
    for xs, status in ((x, [0, 1, 0]), (x[:, 1:2], [1])):  # rows' kernel, one sequence
        full, lean = (run(cell, xs, on_divergence="return", states=k) for k in (True, False))
        np.testing.assert_array_equal(full.status, status)
        np.testing.assert_array_equal(lean.status, status)
        np.testing.assert_array_equal(lean.outputs, full.outputs)
        np.testing.assert_array_equal(lean.final, full.final)
        assert np.isnan(lean.final[-2 if len(status) == 3 else 0]).all()
    h0 = np.random.default_rng(6).normal(size=cell.n)  # no steps: the final state is h0
    np.testing.assert_array_equal(run(cell, np.zeros((0, 3)), h0, states=False).final, h0)
    with pytest.raises(ValidationError, match="states"):
        run(cell, x, states="no")


def test_single_sequence_shapes_and_continuation():
    cell = GRU.random(4, 6, seed=4)
    x = X[:, 0]
    whole = run(cell, x)
    assert whole.states.shape == (60, 6) and whole.final.shape == (6,)
    first = run(cell, x[:25])
    rest = run(cell, x[25:], h0=first.final)
    np.testing.assert_allclose(rest.states, whole.states[25:], atol=1e-14)


def test_stepper_equals_run():
    cell = LSTM.random(4, 5, seed=5)
    ref = run(cell, X)
    st = DiscreteStepper(cell, batch=3)
    for t in range(X.shape[0]):
        out = st.step(X[t])
    np.testing.assert_allclose(out, ref.outputs[-1], atol=1e-14)
    np.testing.assert_allclose(st.state, ref.final, atol=1e-14)


def test_stepper_refuses_models_it_cannot_step():
    from rnndyn.models.deep import Bidirectional

    with pytest.raises(ValidationError, match="DiscreteStepper.model.*not causal"):
        DiscreteStepper(Bidirectional(GRU.random(4, 3, seed=0), GRU.random(4, 3, seed=1)))
    with pytest.raises(ValidationError, match="DiscreteStepper.model.*rnndyn model"):
        DiscreteStepper("lstm")


def test_divergence_is_reported():
    cell = Elman(W_ih=np.ones((2, 4)), W_hh=3.0 * np.eye(2), activation="relu")
    x = np.ones((1000, 4))
    with pytest.raises(DivergenceError):
        run(cell, x)
    res = run(cell, x, on_divergence="return")
    assert res.status[0] == 1 and np.isnan(res.states[-1]).all()


# -- graphs ---------------------------------------------------------------------------------
def _graph():
    G = nx.DiGraph(activation="tanh")
    for v, b in (("a", 0.1), ("b", -0.2), ("c", 0.3)):
        G.add_node(v, bias=b, role="hidden")
    G.nodes["c"]["role"] = "output"
    G.add_node("u", role="input")
    for s, t, w in (("a", "b", 0.5), ("b", "c", -1.2), ("c", "a", 0.8), ("a", "a", 0.3),
                    ("u", "a", 1.5), ("u", "c", -0.7)):
        G.add_edge(s, t, weight=w)
    return G


def test_cell_from_graph_equals_from_arrays():
    G = _graph()
    W = np.array([[0.3, 0, 0.8], [0.5, 0, 0], [0, -1.2, 0]])
    W_in = np.array([[1.5], [0.0], [-0.7]])
    bias = np.array([0.1, -0.2, 0.3])
    x = X[:, 0, :1]
    e1, e2 = Elman.from_graph(G), Elman(W_ih=W_in, W_hh=W, b_ih=bias)
    np.testing.assert_array_equal(run(e1, x).states, run(e2, x).states)
    f1 = FullyRecurrent.from_graph(G)
    f2 = FullyRecurrent(W=W, W_in=W_in, bias=bias, outputs=(2,))
    np.testing.assert_array_equal(run(f1, x).outputs, run(f2, x).outputs)
    assert f1.n_out == 1 and f1.nodes == ("a", "b", "c")
    # gated cells: the graph is the topology mask; same seed, same weights
    l1 = LSTM.from_graph(G, seed=7)
    l2 = LSTM.random(1, 3, seed=7, mask=W != 0, input_mask=W_in != 0)
    np.testing.assert_array_equal(l1.W_hh, l2.W_hh)
    assert np.all(l1.W_hh[:, 1].reshape(4, 3)[:, [0, 1]] == 0)  # unit b feeds only c
    np.testing.assert_array_equal(run(l1, x).states, run(l2, x).states)


def test_relu_fully_recurrent_graph_round_trip_keeps_activation():
    net = FullyRecurrent(W=np.array([[0, 1.0], [-0.5, 0.2]]), activation="relu")
    again = FullyRecurrent.from_graph(net.to_graph())
    assert again.activation == "relu"


# -- deep and bidirectional -----------------------------------------------------------------
def test_stacked_equals_chained_runs_and_bidirectional_equals_two_runs():
    l1, l2 = GRU.random(4, 5, seed=8), GRU.random(5, 3, seed=9)
    W_out = RNG.normal(size=(2, 3))
    deep = Stacked((l1, l2), W_out=W_out)
    out = run(deep, X).outputs
    top = run(l2, run(l1, X).outputs).outputs
    np.testing.assert_allclose(out, top @ W_out.T, atol=1e-13)
    bi = Bidirectional(l1, GRU.random(4, 2, seed=10))
    res = run(bi, X)
    y = res.outputs
    np.testing.assert_allclose(y[..., :5], run(l1, X).outputs, atol=1e-14)
    np.testing.assert_allclose(y[..., 5:], run(bi.backward, X[::-1]).outputs[::-1], atol=1e-14)
    np.testing.assert_allclose(res.states[..., 5:], run(bi.backward, X[::-1]).states[::-1],
                               atol=1e-14)
    assert res.final.shape[-1] == 7 and res.status.shape == (X.shape[1],)


# -- gradient diagnostics -------------------------------------------------------------------
def test_jacobian_product_norms_linear_network_exact():
    # identity activation, W = a Q (Q orthogonal): dh_T/dh_{T-k} = (a Q)^k, norm a^k exactly
    Q, _ = np.linalg.qr(RNG.normal(size=(6, 6)))
    for a in (0.8, 1.1):
        cell = Elman(W_ih=RNG.normal(size=(6, 2)), W_hh=a * Q, activation="identity")
        g = jacobian_product_norms(cell, RNG.normal(size=(40, 2)))
        np.testing.assert_allclose(g.norms, a ** g.lags, rtol=1e-10)
        np.testing.assert_allclose(g.log_norms, g.lags * np.log(a), atol=1e-10)


def test_jacobian_product_norms_matches_dense_products():
    cell = LSTM.random(2, 3, seed=11)
    x = RNG.normal(size=(12, 2))
    g = jacobian_product_norms(cell, x, ord="fro")
    hs = [np.zeros(6)]
    for xt in x:
        hs.append(cell.step(hs[-1], xt))
    M = np.eye(6)
    for k in range(1, 13):
        M = M @ cell.jacobian(hs[12 - k], x[12 - k])
        np.testing.assert_allclose(g.norms[k], np.linalg.norm(M, "fro"), rtol=1e-10)


# -- bad input ------------------------------------------------------------------------------
def test_bad_input_names_array_and_expected_shape():
    cell = LSTM.random(4, 5, seed=0)
    with pytest.raises(ValidationError, match=r"run.inputs: expected shape \(T, B, 4\)"):
        run(cell, np.zeros((10, 2, 3)))
    with pytest.raises(ValidationError, match=r"LSTM\.W_hh: expected shape \(4\*H, H\) = \(20, 5\)"):
        LSTM(W_ih=np.zeros((20, 4)), W_hh=np.zeros((15, 5)))
    with pytest.raises(ValidationError, match=r"LSTM\.W_ih: expected shape \(20, any\)"):
        LSTM(W_ih=np.zeros((16, 4)), W_hh=np.zeros((20, 5)))
    with pytest.raises(ValidationError, match=r"Elman\.activation: unknown activation 'swish'"):
        Elman(W_ih=np.zeros((2, 1)), W_hh=np.zeros((2, 2)), activation="swish")
    bad = np.zeros((15, 5))
    bad[3, 1] = np.nan
    with pytest.raises(ValidationError, match=r"GRU\.W_hh: must be finite, got nan at index \(3, 1\)"):
        GRU(W_ih=np.zeros((15, 2)), W_hh=bad)
    with pytest.raises(ValidationError, match=r"GRU\.W_ih: GRU1 gates take no input"):
        GRU(W_ih=np.ones((15, 2)), W_hh=np.zeros((15, 5)), variant=1)
    with pytest.raises(ValidationError, match=r"h0: expected shape"):
        run(cell, X, h0=np.zeros(5))


def test_bidirectional_h0_must_be_pairs():
    # a flat state vector for a Bidirectional used to raise a bare ValueError
    b = Bidirectional(Elman.random(2, 3, seed=0), Elman.random(2, 3, seed=1))
    x = np.zeros((5, 2))
    for h0 in (np.zeros(6), 5, (np.zeros(3),)):
        with pytest.raises(ValidationError, match="run.h0"):
            run(b, x, h0)
    np.testing.assert_array_equal(run(b, x, (np.zeros(3), None)).outputs, run(b, x).outputs)
