"""The Elman cell's batched kernels (``models/_elman_kernels.py``: one matrix product a step,
BLAS for a batch, ``vecmat`` for one sequence; FullyRecurrent nets run on them too) and the
IndRNN's (``models/_indrnn_kernels.py``), against
the generic runner and BPTT template, which step the cell through its own step and vjp
kernels, and against PyTorch's ``nn.RNN`` autograd (issue #12: BPTT for every discrete cell,
batches, float32 and float64)."""
import dataclasses

import numpy as np
import pytest

from rnndyn.errors import DivergenceError
from rnndyn.integrate.plumbing import kernel_params_as
from rnndyn.integrate.run import run
from rnndyn.models import _elman_kernels as ek
from rnndyn.models.deep import BidirectionalStack, Stacked
from rnndyn.models.discrete import Elman, FullyRecurrent, IndRNN
from rnndyn.train import gradients
from rnndyn.train.gradients import bptt, truncated_bptt

ACTS = ["tanh", "relu", "sigmoid", "identity", "hard_tanh", "hard_sigmoid"]


def _cell(act, n_out=None, m=3, H=6, seed=1):
    return Elman.random(m, H, n_out, seed=seed, activation=act,
                        output_activation="sigmoid" if n_out else "identity")


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n_out, m", [(None, 3), (2, 3), (None, 0)])
@pytest.mark.parametrize("B", [1, 4])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-13), (np.float32, 2e-6)])
def test_batched_run_equals_the_stepped_cell(act, n_out, m, B, dtype, tol):
    # 150 steps, h0 given; the readout (n_out = 2) runs on the kernel's rows too
    cell = _cell(act, n_out, m)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(150, B, m))
    h0 = 0.5 * rng.normal(size=(B, cell.n))
    fast = run(cell, x, h0, dtype=dtype, method="blas")
    ref = run(cell, x, h0, dtype=dtype, method="loop")
    np.testing.assert_allclose(fast.states, ref.states, rtol=0, atol=tol)
    np.testing.assert_allclose(fast.outputs, ref.outputs, rtol=0, atol=tol)
    last = run(cell, x, h0, dtype=dtype, states=False)  # "auto" picks the batched kernel
    assert last.states is None
    np.testing.assert_array_equal(last.outputs, fast.outputs)
    np.testing.assert_array_equal(last.final, fast.final)


@pytest.mark.parametrize("B", [1, 3])
def test_batched_run_reports_divergence_where_the_stepped_cell_does(B):
    # a linear cell with a strong positive loop overflows (float64 at step 109, float32 at 14)
    cell = dataclasses.replace(_cell("identity"), W_hh=8 * np.eye(6))
    x = np.random.default_rng(5).normal(size=(400, B, 3))
    for dtype in (np.float64, np.float32):
        fast, ref = (run(cell, x, dtype=dtype, method=method, on_divergence="return")
                     for method in ("blas", "loop"))
        np.testing.assert_array_equal(fast.status, ref.status)
        assert fast.status.all()
        first = [np.flatnonzero(np.isnan(r.states[:, 0]).any(axis=1))[0] for r in (fast, ref)]
        assert first[0] == first[1] and 0 < first[0] < 399
        with pytest.raises(DivergenceError, match=f"step {first[0] + 1} "):
            run(cell, x, dtype=dtype)


def test_blocks_of_sequences_equal_one_block():
    # the batch cut into blocks (threads): states, outputs, gradient, GH0 and GX alike
    cell = _cell("tanh", 2)
    p = kernel_params_as(cell, np.float64)
    rng = np.random.default_rng(3)
    T, B = 70, 7
    X, H0, GO = rng.normal(size=(T, B, 3)), 0.3 * rng.normal(size=(B, 6)), \
        rng.normal(size=(T, B, 2))
    out = []
    for cuts in ([(0, B)], [(0, 2), (2, 5), (5, 7)]):
        Y, OUT = np.empty((T, B, 6)), np.empty((T, B, 2))
        info = np.zeros((B, 3), dtype=np.int64)
        G, GH0, GX = np.zeros(cell.n_params), np.empty((B, 6)), np.empty((T, B, 3))
        for lo, hi in cuts:
            ek.elman_run_batch(p, H0, X, Y, OUT, info, lo, hi)
        for lo, hi in cuts:
            g = np.empty_like(G)
            ek.elman_bptt(p, H0, X, Y, GO, g, GH0, GX, lo, hi)
            G += g
        out.append((Y, OUT, G, GH0, GX))
    for a, b in zip(*out):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("n_out, m", [(None, 3), (2, 3), (None, 0)])
@pytest.mark.parametrize("B", [1, 3])
def test_batched_bptt_equals_the_generic_template(act, n_out, m, B, monkeypatch):
    # exact BPTT over 130 steps (three chunks of 64, the first short), with a mask and h0;
    # truncated BPTT(h, h) (the recursion cut in the kernel) and BPTT(h, h') (windows);
    # float32 against the float64 template
    cell = _cell(act, n_out, m)
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(130, B, m)), rng.normal(size=(130, B, cell.n_out))
    h0 = 0.3 * rng.normal(size=(B, cell.n))
    mask = rng.random((130, B)) < 0.7
    calls = [lambda **k: bptt(cell, X, Y, h0=h0, mask=mask, **k),
             lambda **k: truncated_bptt(cell, X, Y, h=9, h_prime=9, h0=h0, mask=mask, **k),
             lambda **k: truncated_bptt(cell, X, Y, h=7, h_prime=3, h0=h0, mask=mask, **k)]
    assert gradients._batched_bptt(cell)
    fast = [c() for c in calls]
    fast32 = [c(dtype=np.float32) for c in calls]
    monkeypatch.setattr(gradients, "_batched_bptt", lambda model: False)
    for f, f32, c in zip(fast, fast32, calls):
        ref = c()
        assert f.loss == pytest.approx(ref.loss, rel=1e-14)
        assert _rel(f.gradient, ref.gradient) < 1e-12
        assert _rel(f32.gradient, ref.gradient) < 2e-5


@pytest.mark.parametrize("outputs", [None, (1, 3)])
@pytest.mark.parametrize("B", [1, 4])
def test_fully_recurrent_nets_take_the_same_kernels(outputs, B, monkeypatch):
    # Elman's kernels with W * mask as W_hh and the outputs as a 0/1 readout: the gradient
    # of the masked weights (and input mask) is the template's, the rest not parameters
    rng = np.random.default_rng(7)
    mask, in_mask = rng.random((6, 6)) < 0.5, rng.random((6, 3)) < 0.7
    net = FullyRecurrent(W=rng.normal(0, 0.6, (6, 6)) * mask, mask=mask,
                         W_in=rng.normal(size=(6, 3)) * in_mask, input_mask=in_mask,
                         bias=rng.normal(size=6), activation="relu", outputs=outputs)
    X, Y = rng.normal(size=(80, B, 3)), rng.normal(size=(80, B, net.n_out))
    fast, ref = run(net, X, method="blas"), run(net, X, method="loop")
    np.testing.assert_allclose(fast.states, ref.states, rtol=0, atol=1e-13)
    np.testing.assert_allclose(fast.outputs, ref.outputs, rtol=0, atol=1e-13)
    g = bptt(net, X, Y)
    assert g.gradient.shape == net.to_vector().shape
    monkeypatch.setattr(gradients, "_batched_bptt", lambda model: False)
    assert _rel(g.gradient, bptt(net, X, Y).gradient) < 1e-12


def test_stacks_of_elman_layers_take_the_batched_kernels(monkeypatch):
    # layer by layer from the top, each layer's input cotangents (GX) passed down; a layer
    # with its own readout (its outputs are not its state) sends the stack to the template
    rng = np.random.default_rng(6)
    stacks = [Stacked((_cell("tanh", m=4, H=5, seed=0), _cell("relu", m=5, H=4, seed=1),
                       _cell("sigmoid", m=4, H=3, seed=2)),
                      W_out=rng.normal(size=(2, 3)), b_out=0.1, output_activation="tanh"),
              Stacked((_cell("tanh", 3, m=4, H=5, seed=0), _cell("tanh", m=3, H=4, seed=1)))]
    assert [gradients._batched_bptt(s) for s in stacks] == [True, False]
    X = rng.normal(size=(70, 3, 4))
    Ys = [rng.normal(size=(70, 3, s.n_out)) for s in stacks]
    fast = [bptt(s, X, Y) for s, Y in zip(stacks, Ys)]
    for s in stacks:
        np.testing.assert_allclose(run(s, X).outputs, run(s, X, method="loop").outputs,
                                   rtol=0, atol=1e-13)
    monkeypatch.setattr(gradients, "_batched_bptt", lambda model: False)
    for s, Y, f in zip(stacks, Ys, fast):
        assert _rel(f.gradient, bptt(s, X, Y).gradient) < 1e-12


def _torch_rnn(torch, nonlinearity, layers, bidirectional=False):
    torch.manual_seed(0)
    return torch.nn.RNN(3, 5, num_layers=layers, nonlinearity=nonlinearity,
                        bidirectional=bidirectional).double()


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("layers, bidirectional", [(1, False), (2, False), (2, True)])
def test_bptt_equals_torch_autograd(nonlinearity, layers, bidirectional):
    # nn.RNN (one or two layers, bidirectional or not) and its Elman / Stacked /
    # BidirectionalStack: the same loss and every weight's gradient to 1e-10
    torch = pytest.importorskip("torch")
    net = _torch_rnn(torch, nonlinearity, layers, bidirectional)
    cls = BidirectionalStack if bidirectional else Stacked if layers > 1 else Elman
    model = cls.from_torch(net)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 3, 3)), rng.normal(size=(40, 3, model.n_out))
    loss_t = torch.nn.functional.mse_loss(net(torch.from_numpy(X))[0], torch.from_numpy(Y))
    loss_t.backward()
    names, g_t = [], []
    for l in range(layers):
        for d, suffix in ((("forward", ""), ("backward", "_reverse")) if bidirectional
                          else ((None, ""),)):
            for w in ("ih", "hh"):
                prefix = "" if cls is Elman else f"layers.{l}."
                names.append(prefix + (f"{d}." if d else "") + f"W_{w}")
                g_t.append(getattr(net, f"weight_{w}_l{l}{suffix}").grad.numpy().ravel())
    g_t = np.concatenate(g_t)
    loss, g = bptt(model, X, Y, "mse", names)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(g, g_t, rtol=0, atol=1e-10 * np.abs(g_t).max())


@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("m", [3, 0])
@pytest.mark.parametrize("B", [1, 3])
def test_indrnn_batched_kernels_equal_the_template(act, m, B, monkeypatch):
    # the input projection of 64 steps one product (130 steps: three chunks), the elementwise
    # recurrence unit by unit: run against the stepped cell; exact and truncated BPTT against
    # the template, float32 against float64
    # a positive bias keeps the states off relu's kink: without inputs and bias a state
    # decaying as u^t underflows to exactly 0 in float32 (u = 0.13: after ~45 steps) and
    # relu'(0) = 0 there, where float64's is still 1 (a difference of the two models)
    rng = np.random.default_rng(8)
    cell = dataclasses.replace(IndRNN.random(m, 6, seed=1, activation=act, u_max=0.9),
                               b=rng.uniform(0.2, 0.5, 6))
    X, Y = rng.normal(size=(130, B, m)), rng.normal(size=(130, B, 6))
    h0 = 0.3 * rng.normal(size=(B, 6))
    for dtype, tol in ((np.float64, 1e-13), (np.float32, 2e-6)):
        fast = run(cell, X, h0, dtype=dtype, method="blas")
        ref = run(cell, X, h0, dtype=dtype, method="loop")
        np.testing.assert_allclose(fast.states, ref.states, rtol=0, atol=tol)
    calls = [lambda **k: bptt(cell, X, Y, h0=h0, **k),
             lambda **k: truncated_bptt(cell, X, Y, h=9, h_prime=9, h0=h0, **k),
             lambda **k: truncated_bptt(cell, X, Y, h=7, h_prime=3, h0=h0, **k)]
    fast = [c() for c in calls]
    fast32 = [c(dtype=np.float32) for c in calls]
    monkeypatch.setattr(gradients, "_batched_bptt", lambda model: False)
    for f, f32, c in zip(fast, fast32, calls):
        ref = c()
        assert _rel(f.gradient, ref.gradient) < 1e-12
        assert _rel(f32.gradient, ref.gradient) < 2e-5


def test_deep_indrnn_takes_the_batched_kernels(monkeypatch):
    # Li et al.'s deep IndRNN: a Stacked of IndRNN layers with a readout, layer by layer
    rng = np.random.default_rng(9)
    model = Stacked((IndRNN.random(3, 5, seed=0), IndRNN.random(5, 4, seed=1),
                     IndRNN.random(4, 4, seed=2, activation="tanh")),
                    W_out=rng.normal(size=(2, 4)))
    assert gradients._batched_bptt(model)
    X, Y = rng.normal(size=(70, 3, 3)), rng.normal(size=(70, 3, 2))
    np.testing.assert_allclose(run(model, X).outputs, run(model, X, method="loop").outputs,
                               rtol=0, atol=1e-13)
    fast = bptt(model, X, Y)
    monkeypatch.setattr(gradients, "_batched_bptt", lambda model: False)
    assert _rel(fast.gradient, bptt(model, X, Y).gradient) < 1e-12


def test_indrnn_reports_divergence_where_the_stepped_cell_does():
    cell = IndRNN(W_ih=np.ones((4, 2)), u=np.full(4, 3.0), activation="identity")
    x = np.random.default_rng(5).normal(size=(1000, 2, 2))
    for dtype in (np.float64, np.float32):
        fast, ref = (run(cell, x, dtype=dtype, method=method, on_divergence="return")
                     for method in ("blas", "loop"))
        np.testing.assert_array_equal(fast.status, ref.status)
        assert fast.status.all()
        first = [np.flatnonzero(np.isnan(r.states[:, 0]).any(axis=1))[0] for r in (fast, ref)]
        assert first[0] == first[1] and 0 < first[0] < 999
