"""BPTT, truncated BPTT(h, h') and RTRL against central finite differences of the loss (the
parameters moved through the public ``from_vector``), against each other, and against
PyTorch autograd for LSTM/GRU; bad input raises ValidationError."""
import numpy as np
import pytest
from numba import njit

from rnndyn.errors import ValidationError
from rnndyn.integrate import run, simulate
from rnndyn.models.ctrnn import CTRNN
from rnndyn.models.deep import Stacked
from rnndyn.models.discrete import Elman, FullyRecurrent, IndRNN, Jordan, SecondOrderRNN
from rnndyn.models.gated import GRU, LSTM
from rnndyn.models.user import Map
from rnndyn.train.gradients import OnlineRTRL, bptt, rtrl, truncated_bptt
from rnndyn.train.losses import get_loss

M, H, T, B = 3, 4, 6, 2


def _fully(seed):
    mask = np.random.default_rng(99).random((H, H)) < 0.6
    rng = np.random.default_rng(seed)
    return FullyRecurrent(W=rng.normal(0, 0.7, (H, H)) * mask, mask=mask,
                          W_in=rng.normal(size=(H, M)), bias=rng.normal(size=H),
                          outputs=(1, 3))


@njit
def _step(h, x, p, h_new, work):  # a two-unit map with a product term
    h_new[0] = np.tanh(p[0] * h[0] + p[1] * h[1] + p[3] * x[0])
    h_new[1] = p[2] * h[0] * h[1] + x[2]


@njit
def _jac(h, x, p, J, work):
    s = 1.0 - np.tanh(p[0] * h[0] + p[1] * h[1] + p[3] * x[0]) ** 2
    J[0, 0], J[0, 1] = s * p[0], s * p[1]
    J[1, 0], J[1, 1] = p[2] * h[1], p[2] * h[0]


@njit
def _vjp(h, x, p, v, gh, gx, gp, work):
    d = v[0] * (1.0 - np.tanh(p[0] * h[0] + p[1] * h[1] + p[3] * x[0]) ** 2)
    gh[0] = d * p[0] + v[1] * p[2] * h[1]
    gh[1] = d * p[1] + v[1] * p[2] * h[0]
    gx[0], gx[1], gx[2] = d * p[3], 0.0, v[1]
    gp[0], gp[1], gp[2], gp[3] = d * h[0], d * h[1], v[1] * h[0] * h[1], d * x[0]


MODELS = {
    "elman_readout": lambda: Elman.random(M, H, 2, seed=0, output_activation="tanh"),
    "elman_relu": lambda: Elman.random(M, H, seed=1, activation="relu"),
    "fully_recurrent_masked": lambda: _fully(0),
    "jordan": lambda: Jordan.random(M, H, 2, seed=0),
    "indrnn": lambda: IndRNN.random(M, H, seed=0, activation="tanh"),
    "second_order": lambda: SecondOrderRNN.random(M, H, seed=0),
    "lstm_peephole": lambda: LSTM.random(M, H, seed=0, peephole=True),
    "lstm_masked": lambda: LSTM.random(M, H, seed=0, mask=np.eye(H, dtype=bool)
                                       | np.eye(H, k=1, dtype=bool)),
    "lstm_no_input": lambda: LSTM.random(0, H, seed=2),
    "gru": lambda: GRU.random(M, H, seed=0),
    "gru_cho": lambda: GRU.random(M, H, seed=0, reset_after=False),
    "gru1": lambda: GRU.random(M, H, seed=0, variant=1),
    "gru2": lambda: GRU.random(M, H, seed=0, variant=2),
    "gru3": lambda: GRU.random(M, H, seed=0, variant=3, reset_after=False),
    "stacked_lstm_readout": lambda: Stacked((LSTM.random(M, 3, seed=0), LSTM.random(3, 3, seed=1)),
                                            W_out=np.random.default_rng(2).normal(size=(2, 3)),
                                            output_activation="tanh"),
    "user_map": lambda: Map(_step, _jac, p=[0.8, -0.5, 0.3, 1.1], dim=2, n_in=M, vjp_fn=_vjp),
}


def _data(model, seed=0, T=T, B=B):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((T, B, model.n_in))
    Y = rng.standard_normal((T, B, model.n_out))
    h0 = 0.3 * rng.standard_normal((B, model.n))
    return X, Y, h0


def _loss(model, X, Y, h0, loss="mse", mask=None):
    out = run(model, X, h0).outputs
    m = np.ones(Y.shape[:2], bool) if mask is None else np.broadcast_to(
        np.reshape(mask, (Y.shape[0], -1)), Y.shape[:2])
    return get_loss(loss)(out, Y, m)[0]


def _fd(model, X, Y, h0, fields=None, loss="mse", mask=None, eps=1e-6):
    theta = model.to_vector(fields)
    g = np.empty(theta.size)
    for k in range(theta.size):
        e = eps * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += e
        tm[k] -= e
        g[k] = (_loss(model.from_vector(tp, fields), X, Y, h0, loss, mask)
                - _loss(model.from_vector(tm, fields), X, Y, h0, loss, mask)) / (2 * e)
    return g


def _rel(a, b):
    return np.abs(a - b).max() / max(np.abs(b).max(), 1e-300)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_bptt_and_rtrl_equal_finite_differences(name):
    model = MODELS[name]()
    X, Y, h0 = _data(model)
    loss, g = bptt(model, X, Y, h0=h0)
    assert g.shape == model.to_vector().shape
    assert loss == pytest.approx(_loss(model, X, Y, h0), rel=1e-14)
    assert _rel(g, _fd(model, X, Y, h0)) < 1e-6, name
    loss_r, g_r = rtrl(model, X, Y, h0=h0)
    assert loss_r == loss
    assert _rel(g_r, g) < 1e-10, name
    # BPTT(h, h') with h = h' >= T is exact BPTT
    np.testing.assert_allclose(truncated_bptt(model, X, Y, h=T, h0=h0).gradient, g,
                               rtol=0, atol=1e-14 * np.abs(g).max())


def test_fields_mask_and_cross_entropy():
    model = MODELS["elman_readout"]()
    X, _, h0 = _data(model, T=9)
    rng = np.random.default_rng(3)
    Y = np.eye(2)[rng.integers(0, 2, (9, B))]  # one-hot classes
    mask = np.zeros(9, bool)
    mask[[4, 8]] = True
    fields = ["W_hh", "b_y"]
    loss, g = bptt(model, X, Y, "cross_entropy", fields, mask=mask, h0=h0)
    assert g.shape == model.to_vector(fields).shape
    assert _rel(g, _fd(model, X, Y, h0, fields, "cross_entropy", mask)) < 1e-6
    assert _rel(rtrl(model, X, Y, "cross_entropy", fields, mask=mask, h0=h0).gradient, g) < 1e-10


def test_bits_loss_and_single_sequence():
    model = MODELS["gru"]()
    X, _, h0 = _data(model, B=1)
    Y = (np.random.default_rng(4).random((T, 1, H)) < 0.5).astype(float)
    loss, g = bptt(model, X[:, 0], Y[:, 0], "bits", h0=h0[0])
    # bits: sum over steps and outputs of -log2 p(target), p = sigma(output)
    out = run(model, X[:, 0], h0[0]).outputs
    p = 1.0 / (1.0 + np.exp(-out))
    assert loss == pytest.approx(-np.sum(Y[:, 0] * np.log2(p) + (1 - Y[:, 0]) * np.log2(1 - p)),
                                 rel=1e-12)
    assert _rel(g, _fd(model, X, Y, h0, loss="bits")) < 1e-6


def _truncated_reference(model, X, Y, h0, h, hp):
    """Williams & Peng's BPTT(h, h') from its definition: for each block end e, the states
    before e - h are constants, and the block's losses (outputs e - h' + 1 .. e) are
    differentiated by central differences. 'bits' sums over steps, so block losses add."""
    T = X.shape[0]
    states = run(model, X, h0).states
    theta = model.to_vector()
    total = np.zeros(theta.size)
    done = 0
    while done < T:
        e = min(done + hp, T)
        lo = max(e - h, 0)
        start = h0 if lo == 0 else states[lo - 1]
        mask = np.zeros((e - lo, X.shape[1]), bool)
        mask[done - lo:] = True

        def f(th):
            out = run(model.from_vector(th), X[lo:e], start).outputs
            return get_loss("bits")(out, Y[lo:e], mask)[0]
        for k in range(theta.size):
            d = 1e-6 * max(1.0, abs(theta[k]))
            tp, tm = theta.copy(), theta.copy()
            tp[k] += d
            tm[k] -= d
            total[k] += (f(tp) - f(tm)) / (2 * d)
        done = e
    return total


@pytest.mark.parametrize("h, hp", [(3, 1), (3, 2), (4, 4), (5, 3)])
@pytest.mark.parametrize("name", ["jordan", "elman_readout", "lstm_peephole",
                                  "stacked_lstm_readout"])
def test_truncated_bptt_equals_its_definition(name, h, hp):
    # the per-step template (Jordan) and the windows on the batched kernels (Elman, LSTM,
    # stacks)
    model = MODELS[name]()
    X, _, h0 = _data(model, T=10)
    Y = (np.random.default_rng(5).random((10, B, model.n_out)) < 0.5).astype(float)
    _, g = truncated_bptt(model, X, Y, "bits", h=h, h_prime=hp, h0=h0)
    assert _rel(g, _truncated_reference(model, X, Y, h0, h, hp)) < 1e-6
    # h >= T gives every output its full history: BPTT(T, h') is exact for any h'
    exact = bptt(model, X, Y, "bits", h0=h0).gradient
    for hp_full in (1, 3, 10):
        assert _rel(truncated_bptt(model, X, Y, "bits", h=10, h_prime=hp_full, h0=h0).gradient,
                    exact) < 1e-12


@pytest.mark.parametrize("name", ["lstm_peephole", "lstm_no_input", "gru_cho",
                                  "stacked_lstm_readout"])
def test_truncated_bptt_windows_equal_the_per_step_template(name, monkeypatch):
    """LSTM/GRU and their stacks run BPTT(h, h') on the batched kernels: as exact BPTT over
    windows of min(h, T) steps (h' < h), or with the recursion cut at every h-th step (h' =
    h; a shorter last block as a window); the per-step template is the reference, with a
    mask, T not a multiple of h', h > T, windows gathered one group at a time, and float32."""
    from rnndyn.train import gradients

    model = MODELS[name]()
    X, Y, h0 = _data(model, seed=1, T=11, B=3)
    mask = np.random.default_rng(2).random((11, 3)) < 0.7
    cases = [(3, 1), (4, 3), (5, 5), (2, 2), (10, 10), (20, 3)]  # T = 11
    fast = [truncated_bptt(model, X, Y, h=h, h_prime=hp, h0=h0, mask=mask) for h, hp in cases]
    monkeypatch.setattr(gradients, "WINDOW_BYTES", 1)  # one window a group
    for (h, hp), g in zip(cases, fast):
        one = truncated_bptt(model, X, Y, h=h, h_prime=hp, h0=h0, mask=mask)
        assert one.loss == g.loss
        assert _rel(one.gradient, g.gradient) < 1e-13
        g32 = truncated_bptt(model, X, Y, h=h, h_prime=hp, h0=h0, mask=mask, dtype=np.float32)
        assert _rel(g32.gradient, g.gradient) < 1e-5
    monkeypatch.setattr(gradients, "_batched_bptt", lambda model: False)  # the template
    for (h, hp), g in zip(cases, fast):
        ref = truncated_bptt(model, X, Y, h=h, h_prime=hp, h0=h0, mask=mask)
        assert _rel(g.gradient, ref.gradient) < 1e-13, (h, hp)


@pytest.mark.parametrize("cell", [LSTM, GRU])
def test_stacks_with_one_wide_layers_run_on_the_stack_template(cell):
    # a layer of one unit or one input: its transposed weights were read-only views where
    # the other layer's were copies, two numba types in one homogeneous tuple (TypingError)
    model = Stacked((cell.random(1, 1, seed=0), cell.random(1, 3, seed=1)),
                    W_out=np.random.default_rng(2).normal(size=(2, 3)))
    X, Y, h0 = _data(model)
    g = bptt(model, X, Y, h0=h0).gradient  # batched kernels
    assert _rel(rtrl(model, X, Y, h0=h0).gradient, g) < 1e-10  # the stack template
    assert _rel(g, _fd(model, X, Y, h0)) < 1e-6


def test_stacks_of_template_cells_differentiate_in_float32():
    # a Stacked of second-order cells runs on the stack template, whose scratch arrays once
    # were float64 whatever the run's dtype (a numba typing error in float32)
    model = Stacked((SecondOrderRNN.random(M, 3, seed=0), SecondOrderRNN.random(3, 3, seed=1)),
                    W_out=np.random.default_rng(2).normal(size=(2, 3)))
    X, Y, h0 = _data(model)
    for method, opts in ((bptt, {}), (truncated_bptt, {"h": 3, "h_prime": 2}), (rtrl, {})):
        g = method(model, X, Y, h0=h0, **opts).gradient
        g32 = method(model, X, Y, h0=h0, dtype=np.float32, **opts).gradient
        assert _rel(g32, g) < 1e-5, method.__name__


def test_bidirectional_bptt_equals_finite_differences():
    from rnndyn.models.deep import Bidirectional

    bi = Bidirectional(GRU.random(M, 3, seed=0), LSTM.random(M, 2, seed=1))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((T, B, M)), rng.standard_normal((T, B, 3 + 2))
    fields = ["backward.W_hh", "forward.b_ih", "forward.W_ih"]

    def loss(th):
        return get_loss("mse")(run(bi.from_vector(th, fields), X).outputs, Y,
                               np.ones((T, B), bool))[0]
    theta = bi.to_vector(fields)
    fd = np.array([(loss(theta + 1e-6 * e) - loss(theta - 1e-6 * e)) / 2e-6
                   for e in np.eye(theta.size)])
    value, g = bptt(bi, X, Y, "mse", fields)
    assert value == pytest.approx(loss(theta), rel=1e-14) and _rel(g, fd) < 1e-6
    assert bptt(bi, X, Y).gradient.shape == bi.to_vector().shape
    with pytest.raises(ValidationError, match="bptt.targets"):
        bptt(bi, X, Y[..., :3])


def test_bidirectional_stack_bptt_equals_finite_differences():
    # PyTorch's num_layers = 2, bidirectional = True: layer 1 reads both directions of layer 0
    from rnndyn.models.deep import Bidirectional, BidirectionalStack

    stack = BidirectionalStack((Bidirectional(GRU.random(M, 3, seed=0), LSTM.random(M, 2, seed=1)),
                                Bidirectional(LSTM.random(5, 3, seed=2), GRU.random(5, 2, seed=3))))
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((T, B, M)), rng.standard_normal((T, B, stack.n_out))
    h0 = ((0.2 * rng.standard_normal(3), 0.2 * rng.standard_normal(4)),
          (0.2 * rng.standard_normal(6), None))

    def fd(fields):
        theta = stack.to_vector(fields)

        def loss(th):
            return get_loss("mse")(run(stack.from_vector(th, fields), X, h0).outputs, Y,
                                   np.ones((T, B), bool))[0]
        return np.array([(loss(theta + 1e-6 * e) - loss(theta - 1e-6 * e)) / 2e-6
                         for e in np.eye(theta.size)]), loss(theta)
    want, value = fd(None)
    got = bptt(stack, X, Y, h0=h0)
    assert got.loss == pytest.approx(value, rel=1e-14) and _rel(got.gradient, want) < 1e-6
    assert _rel(bptt(stack, X, Y, h0=h0, dtype=np.float32).gradient, got.gradient) < 1e-5
    fields = ["layers.1.backward.W_hh", "layers.0.forward.b_ih"]
    assert _rel(bptt(stack, X, Y, "mse", fields, h0=h0).gradient, fd(fields)[0]) < 1e-6
    with pytest.raises(ValidationError, match="bptt.h0"):
        bptt(stack, X, Y, h0=(None,))
    with pytest.raises(ValidationError, match="bptt.targets"):
        bptt(stack, X, Y[..., :3])
    template_on_top = BidirectionalStack((stack.layers[0], Bidirectional(
        SecondOrderRNN.random(5, 2, seed=0), SecondOrderRNN.random(5, 2, seed=1))))
    with pytest.raises(ValidationError, match="bptt.model: layer 1 .* SecondOrderRNN"):
        bptt(template_on_top, X, Y[..., :4])


@pytest.mark.parametrize("cells", [(LSTM, GRU), (GRU, Elman)])
def test_bidirectional_bptt_keeps_each_cells_gates(cells, monkeypatch):
    # each batched cell keeps its forward gates for its backward pass (Elman: the template)
    from rnndyn.models import gated
    from rnndyn.models.deep import Bidirectional

    bi = Bidirectional(cells[0].random(M, 3, seed=0), cells[1].random(M, 4, seed=1))
    rng = np.random.default_rng(1)
    X, Y = rng.standard_normal((9, 5, M)), rng.standard_normal((9, 5, bi.n_out))
    h0 = (0.3 * rng.standard_normal(bi.forward.n), 0.3 * rng.standard_normal(bi.backward.n))
    kept = {dt: bptt(bi, X, Y, h0=h0, dtype=dt) for dt in (np.float64, np.float32)}
    monkeypatch.setattr(gated, "GATE_STORE_BYTES", 0)  # recompute them
    for dt, g in kept.items():
        again = bptt(bi, X, Y, h0=h0, dtype=dt)
        assert again.loss == pytest.approx(g.loss, rel=1e-6)
        assert _rel(g.gradient, again.gradient) < (1e-12 if dt is np.float64 else 1e-5)


@pytest.mark.parametrize("scheme", ["euler", "rk4"])
def test_ctrnn_discretised_gradient_equals_finite_differences(scheme):
    # discretise-then-optimise: the exact gradient of the trajectory rnndyn.simulate computes
    # (one step of size dt per input sample, the input held over the step)
    rng = np.random.default_rng(0)
    mask = rng.random((4, 4)) < 0.7
    net = CTRNN(W=rng.normal(size=(4, 4)) * mask, mask=mask, tau=rng.uniform(0.5, 2, 4),
                W_in=rng.normal(size=(4, 2)), bias=rng.normal(size=4),
                gain=rng.uniform(0.5, 2, 4), outputs=(1, 3))
    X, Y, h0 = rng.standard_normal((8, 3, 2)), rng.standard_normal((8, 3, 2)), \
        rng.standard_normal((3, 4))
    dt = 0.2
    t = dt * np.arange(9)

    def loss(th):
        pop = CTRNN.stack([net.from_vector(th)] * 3)
        out = simulate(pop, h0, t, dt=dt, method=scheme, hold="previous",
                       inputs=np.concatenate([X, X[-1:]])).outputs[1:]
        return get_loss("mse")(out, Y, np.ones((8, 3), bool))[0]
    theta = net.to_vector()
    fd = np.array([(loss(theta + 1e-6 * e) - loss(theta - 1e-6 * e)) / 2e-6
                   for e in np.eye(theta.size)])
    value, g = bptt(net, X, Y, h0=h0, dt=dt, scheme=scheme)
    assert value == pytest.approx(loss(theta), rel=1e-14)
    assert _rel(g, fd) < 1e-6
    np.testing.assert_array_equal(truncated_bptt(net, X, Y, h=8, h0=h0, dt=dt,
                                                 scheme=scheme).gradient, g)
    if scheme == "euler":  # RTRL of the Euler map (Williams & Zipser's forward sensitivities)
        assert _rel(rtrl(net, X, Y, h0=h0, dt=dt, scheme="euler").gradient, g) < 1e-10
    else:
        with pytest.raises(ValidationError, match="rtrl.scheme"):
            rtrl(net, X, Y, h0=h0, dt=dt, scheme=scheme)
    with pytest.raises(ValidationError, match="bptt.dt"):
        bptt(net, X, Y)


@pytest.mark.parametrize("name", ["lstm_peephole", "lstm_masked", "gru", "gru1", "gru2"])
@pytest.mark.parametrize("T_, n_in", [(130, M), (7, 0)])
def test_batched_gated_bptt_equals_the_generic_template(name, T_, n_in, monkeypatch):
    # LSTM and GRU (reset_after) take a batched kernel (chunks of 64 steps, matrix products);
    # the generic template runs each sequence through the cells' own vjp. 130 steps: three
    # chunks, the first one short; n_in = 0: no input projection.
    model = MODELS[name]()
    if n_in == 0:
        cls = type(model)
        model = cls.random(0, H, seed=4, **({"peephole": True} if cls is LSTM else {}))
    assert type(model).bptt_kernel.__get__(model) is not None
    X, Y, h0 = _data(model, seed=5, T=T_, B=3)
    mask = np.random.default_rng(6).random((T_, 3)) < 0.6
    fast = bptt(model, X, Y, h0=h0, mask=mask)
    monkeypatch.setattr(type(model), "bptt_kernel", None)
    ref = bptt(model, X, Y, h0=h0, mask=mask)
    assert fast.loss == ref.loss
    assert _rel(fast.gradient, ref.gradient) < 1e-12
    g32 = bptt(model, X.astype(np.float32), Y, h0=h0, mask=mask, dtype=np.float32).gradient
    assert _rel(g32, ref.gradient) < 1e-5


def test_float32_gradient_close_to_float64():
    model = MODELS["lstm_peephole"]()
    X, Y, h0 = _data(model)
    g64 = bptt(model, X, Y, h0=h0).gradient
    g32 = bptt(model, X.astype(np.float32), Y, h0=h0, dtype=np.float32).gradient
    assert g32.dtype == np.float64 and _rel(g32, g64) < 1e-4


def test_online_rtrl_gives_each_steps_gradient():
    model = MODELS["elman_readout"]()
    X, Y, h0 = _data(model)
    learner = OnlineRTRL(model, "mse", batch=B, h0=h0)
    total, loss_sum = np.zeros(model.to_vector().size), 0.0
    for t in range(T):
        loss_t, g_t = learner.step(X[t], Y[t])
        total += g_t
        loss_sum += loss_t
    # the per-step mse losses (each a mean over B x n_out) sum to T times the sequence mean
    ref_loss, ref = bptt(model, X, Y, h0=h0)
    assert loss_sum / T == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(total / T, ref, rtol=1e-10, atol=1e-13)
    learner.update(learner.theta - 0.1 * g_t)  # online: parameters change between steps
    assert np.isfinite(learner.step(X[0], Y[0]).loss)


def _torch_grad(model, X, Y, h0, cls):
    torch = pytest.importorskip("torch")
    H = model.H
    net = getattr(torch.nn, cls)(model.n_in, H).double()
    net.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v))
                         for k, v in model.to_torch().items()})
    x = torch.from_numpy(X)
    if cls == "LSTM":
        init = (torch.from_numpy(h0[:, :H][None].copy()), torch.from_numpy(h0[:, H:][None].copy()))
    else:
        init = torch.from_numpy(h0[None].copy())
    out, _ = net(x, init)
    loss = torch.nn.functional.mse_loss(out, torch.from_numpy(Y))
    loss.backward()
    return loss.item(), np.concatenate([net.weight_ih_l0.grad.numpy().ravel(),
                                        net.weight_hh_l0.grad.numpy().ravel(),
                                        net.bias_ih_l0.grad.numpy().ravel(),
                                        net.bias_hh_l0.grad.numpy().ravel()])


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_bptt_equals_torch_autograd(cls):
    model = LSTM.random(M, 5, seed=3) if cls == "LSTM" else GRU.random(M, 5, seed=3)
    X, Y, h0 = _data(model, T=20, B=3)
    loss_t, g_t = _torch_grad(model, X, Y, h0, cls)
    loss, g = bptt(model, X, Y, h0=h0)
    assert loss == pytest.approx(loss_t, rel=1e-12)
    np.testing.assert_allclose(g, g_t, rtol=0, atol=1e-10 * np.abs(g_t).max())


@pytest.mark.parametrize("cls", ["LSTM", "GRU"])
def test_bidirectional_stack_bptt_equals_torch_autograd(cls):
    # nn.LSTM/nn.GRU(num_layers=2, bidirectional=True) and its BidirectionalStack
    torch = pytest.importorskip("torch")
    from rnndyn.models.deep import BidirectionalStack

    torch.manual_seed(0)
    net = getattr(torch.nn, cls)(M, 4, num_layers=2, bidirectional=True).double()
    model = BidirectionalStack.from_torch(net)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((9, 2, M)), rng.standard_normal((9, 2, 8))
    loss_t = torch.nn.functional.mse_loss(net(torch.from_numpy(X))[0], torch.from_numpy(Y))
    loss_t.backward()
    names, g_t = [], []
    for l in (0, 1):
        for d, suffix in (("forward", ""), ("backward", "_reverse")):
            for w in ("ih", "hh"):
                names.append(f"layers.{l}.{d}.W_{w}")
                g_t.append(getattr(net, f"weight_{w}_l{l}{suffix}").grad.numpy().ravel())
    g_t = np.concatenate(g_t)
    loss, g = bptt(model, X, Y, "mse", names)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(g, g_t, rtol=0, atol=1e-10 * np.abs(g_t).max())


@pytest.mark.parametrize("cls, act", [(LSTM, "tanh"), (GRU, "sigmoid"), (LSTM, None)])
def test_batched_stacked_bptt_equals_the_generic_template(cls, act, monkeypatch):
    # a Stacked of batched cells: readout in numpy, then each layer's kernel from the top,
    # its input cotangents passed down (act None: no readout)
    import rnndyn.train.gradients as gm
    layers = (cls.random(M, 5, seed=0), cls.random(5, 4, seed=1), cls.random(4, 6, seed=2))
    ro = {} if act is None else dict(W_out=np.random.default_rng(2).normal(size=(2, 6)),
                                     b_out=0.3, output_activation=act)
    model = Stacked(layers, **ro)
    assert gm._batched_bptt(model)
    X, Y, h0 = _data(model, seed=7, T=70, B=3)
    mask = np.random.default_rng(8).random((70, 3)) < 0.7
    fast = bptt(model, X, Y, h0=h0, mask=mask)
    monkeypatch.setattr(gm, "_batched_bptt", lambda m: False)
    ref = bptt(model, X, Y, h0=h0, mask=mask)
    assert fast.loss == ref.loss
    assert _rel(fast.gradient, ref.gradient) < 1e-12


@pytest.mark.parametrize("cls, H", [(LSTM, 5), (LSTM, 16), (LSTM, 48), (GRU, 5)])
@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-12), (np.float32, 1e-5)])
def test_single_sequence_bptt_equals_the_generic_template(cls, H, dtype, tol, monkeypatch):
    # B = 1 runs the batched kernels' single-row products (backwards: dA_t W_hh by vecmat,
    # its rows in alternating order; the LSTM's weight gradient by rows of Z^T A
    # up to rows of A of 512 bytes (float32 H = 16, float64 H = 5 here), by BLAS above (H =
    # 48)); two chunks of steps (T = 70 > 64)
    import rnndyn.train.gradients as gm
    model = cls.random(M, H, seed=4)
    X, Y, h0 = _data(model, seed=9, T=70, B=1)
    fast = bptt(model, X, Y, h0=h0, dtype=dtype)
    monkeypatch.setattr(gm, "_batched_bptt", lambda m: False)
    ref = bptt(model, X, Y, h0=h0)  # the generic template, float64
    assert _rel(fast.gradient, ref.gradient) < tol


def test_online_methods_refuse_bidirectional_networks():
    from rnndyn.models.deep import Bidirectional
    model = Bidirectional(LSTM.random(M, 3, seed=0), LSTM.random(M, 3, seed=1))
    X, Y = np.zeros((T, M)), np.zeros((T, model.n_out))
    for call, name in ((lambda: truncated_bptt(model, X, Y, h=2), "truncated_bptt.model"),
                       (lambda: rtrl(model, X, Y), "rtrl.model"),
                       (lambda: OnlineRTRL(model), "OnlineRTRL.model")):
        with pytest.raises(ValidationError, match=name + ".*not causal"):
            call()


def test_bad_input_raises():
    model = MODELS["elman_readout"]()
    X, Y, _ = _data(model)
    with pytest.raises(ValidationError, match="bptt.targets"):
        bptt(model, X, Y[:, :, :1])
    with pytest.raises(ValidationError, match="bptt.targets"):
        bptt(model, X, Y[:-1])
    with pytest.raises(ValidationError, match="unknown loss"):
        bptt(model, X, Y, loss="hinge")
    with pytest.raises(ValidationError, match="no parameter field 'W_xx'"):
        bptt(model, X, Y, fields=["W_xx"])
    with pytest.raises(ValidationError, match="truncated_bptt.h"):
        truncated_bptt(model, X, Y, h=0)
    with pytest.raises(ValidationError, match="h_prime"):
        truncated_bptt(model, X, Y, h=2, h_prime=3)
    with pytest.raises(ValidationError, match="bptt.mask"):
        bptt(model, X, Y, mask=np.ones(T))  # not bool
    with pytest.raises(ValidationError, match="bptt.inputs"):
        bptt(model, X[..., :2], Y)
    with pytest.raises(ValidationError, match="cross_entropy needs distributions"):
        bptt(model, X, Y, loss="cross_entropy")
    with pytest.raises(ValidationError, match="bptt.model"):
        bptt(Elman.stack([model, model]), X, Y)
    with pytest.raises(ValidationError, match="bptt.dt"):
        bptt(model, X, Y, dt=0.1)
    big = Elman(W_ih=np.zeros((1500, 1)), W_hh=np.zeros((1500, 1500)))
    with pytest.raises(ValidationError, match=r"RTRL needs [\d,]+ bytes"):  # 27 GB
        rtrl(big, np.zeros((2, 1)), np.zeros((2, 1500)))
    with pytest.raises(ValidationError, match="limit is 1,000 bytes"):
        rtrl(model, X, Y, max_bytes=1000)
