"""The Neural Turing Machine (Graves et al. 2014, arXiv:1410.5401): one step equals a plain
numpy transcription of the paper's equations; the hand-written Jacobian and VJPs pass the
conformance suite (central differences); BPTT through 10 steps of a tiny machine (N = 8,
W = 4, one read and one write head) matches central differences of the loss (relative error
< 1e-6, float64, as issue 14 asks); no NaN on zero memory or saturated heads; bad input is
refused."""
import numpy as np
import pytest

from conformance import (check_batch, check_finite, check_jacobian, check_model,
                         check_param_derivatives, check_param_vector, check_population,
                         check_population_derivatives, check_shapes)
from rnndyn.errors import ValidationError
from rnndyn.integrate import run
from rnndyn.models.ntm import NTM
from rnndyn.tasks.ntm import copy
from rnndyn.train.gradients import bptt
from rnndyn.train.loop import evaluate, train


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def reference_step(m: NTM, h, x):
    """One NTM step written from the paper (eqs. 2-9) in plain numpy."""
    H, W, R, Wh, sr = m.H, m.W, m.read_heads, m.write_heads, m.shift_range
    S, lstm = 2 * sr + 1, m.controller == "lstm"
    s = m.unpack(h)
    Mem, w_prev = s["memory"], np.concatenate([s["write_weights"], s["read_weights"]])
    z = np.concatenate([x, s["reads"].ravel()])
    if lstm:
        a = m.W_in @ z + m.W_hh @ s["h"] + m.b
        i, f, g, o = _sigmoid(a[:H]), _sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), \
            _sigmoid(a[3 * H:])
        c = f * s["c"] + i * g
        hc = o * np.tanh(c)
        ctrl = np.concatenate([hc, c])
    else:
        hc = np.tanh(m.W_in @ z + m.b)
        ctrl = hc
    P = m.W_head @ hc + m.b_head
    Pa = W + 3 + S

    def address(j, M):
        q = P[j * Pa:(j + 1) * Pa]
        k, beta, g = np.tanh(q[:W]), 1 + _softplus(q[W]), _sigmoid(q[W + 1])
        shift, gamma = _softmax(q[W + 2:W + 2 + S]), 1 + _softplus(q[W + 2 + S])
        eps = 1e-8
        K = M @ k / (np.sqrt(k @ k + eps ** 2) * np.sqrt((M * M).sum(1) + eps ** 2))
        wg = g * _softmax(beta * K) + (1 - g) * w_prev[j]
        ws = sum(shift[t] * np.roll(wg, t - sr) for t in range(S))
        return ws ** gamma / np.sum(ws ** gamma)

    w_new = [None] * (R + Wh)
    M = Mem.copy()
    for q in range(Wh):
        w_new[q] = address(q, Mem)
    for q in range(Wh):
        e = _sigmoid(P[(R + Wh) * Pa + 2 * q * W:][:W])
        M = M * (1 - np.outer(w_new[q], e))
    for q in range(Wh):
        a = np.tanh(P[(R + Wh) * Pa + 2 * q * W + W:][:W])
        M = M + np.outer(w_new[q], a)
    reads = []
    for q in range(Wh, Wh + R):
        w_new[q] = address(q, M)
        reads.append(w_new[q] @ M)
    w = np.stack(w_new)
    w[:, 0] -= 1.0
    return np.concatenate([ctrl, (M - m.memory_init).ravel(), w.ravel(), np.ravel(reads)])


def simplex_sample(m: NTM):
    """States in the machine's domain: weightings on the simplex, memory and reads
    anywhere."""
    def sample(model, rng):
        h = 0.5 * rng.standard_normal(model.n)
        nc = 2 * m.H if m.controller == "lstm" else m.H
        o = nc + m.N * m.W
        for j in range(m.read_heads + m.write_heads):
            w = rng.dirichlet(np.ones(m.N))
            w[0] -= 1.0
            h[o + j * m.N:o + (j + 1) * m.N] = w
        return h, rng.standard_normal(model.n_in)
    return sample


def tiny(controller="lstm", seed=0, **kw):
    kw = dict(dict(N=8, W=4), **kw)
    return NTM.random(3, 2, 5, controller=controller, seed=seed, **kw)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
@pytest.mark.parametrize("heads", [(1, 1), (2, 2)])
def test_step_matches_the_papers_equations(controller, heads):
    m = tiny(controller, read_heads=heads[0], write_heads=heads[1], shift_range=2)
    rng = np.random.default_rng(1)
    sample = simplex_sample(m)
    for _ in range(5):
        h, x = sample(m, rng)
        np.testing.assert_allclose(m.step(h, x), reference_step(m, h, x), rtol=1e-12,
                                   atol=1e-13)


def small(controller="lstm", seed=0, **kw):
    """A machine small enough for checks that loop over parameters in Python."""
    kw = dict(dict(N=6, W=3), **kw)
    return NTM.random(2, 2, 3, controller=controller, seed=seed, **kw)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_conformance(controller):
    members = [small(controller, seed=s) for s in range(3)]
    m, sample = members[0], simplex_sample(members[0])
    check_shapes(m, sample)
    check_finite(m, sample)
    check_jacobian(m, sample)
    check_param_vector(m, members)
    check_param_derivatives(m, sample, columns=80)
    check_batch(m, sample)
    check_population(members, sample)
    check_population_derivatives(members, sample)


@pytest.mark.slow  # every parameter column, bigger machines, several heads
@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_conformance_full(controller):
    members = [tiny(controller, seed=s) for s in range(3)]
    check_model(members[0], sample=simplex_sample(members[0]), members=members)
    m = tiny(controller, read_heads=2, write_heads=2, shift_range=2)
    check_model(m, sample=simplex_sample(m))


def _fd_columns(m, per_field, rng):
    """Up to ``per_field`` random positions of every field in ``to_vector()``."""
    cols, off = [], 0
    for shape in m.param_fields.values():
        size = int(np.prod(shape))
        cols += list(off + rng.choice(size, min(size, per_field), replace=False))
        off += size
    return np.sort(cols)


def _bptt_vs_fd(controller, per_field):
    # issue 14: N = 8, W = 4, one read and one write head, 10 steps, relative error < 1e-6
    m = tiny(controller, seed=3)
    X, Y, M = copy(2, 4, width=2, seed=0)  # 2 + 1 inputs, 2 outputs, 9 steps
    X = np.concatenate([X, np.zeros((1, 2, 3))])
    Y = np.concatenate([Y, np.zeros((1, 2, 2))])
    M = np.concatenate([M, np.zeros((1, 2), bool)])
    assert X.shape[0] == 10
    loss, g = bptt(m, X, Y, "bits", mask=M)
    theta = m.to_vector()
    cols = _fd_columns(m, per_field, np.random.default_rng(0)) if per_field else \
        np.arange(theta.size)
    fd = np.empty(len(cols))
    for c, k in enumerate(cols):
        e = 1e-6 * max(1.0, abs(theta[k]))
        tp, tm = theta.copy(), theta.copy()
        tp[k] += e
        tm[k] -= e
        fd[c] = (evaluate(m.from_vector(tp), (X, Y, M), "bits") -
                 evaluate(m.from_vector(tm), (X, Y, M), "bits")) / (2 * e)
    assert loss == pytest.approx(evaluate(m, (X, Y, M), "bits"), rel=1e-12)
    assert np.abs(g[cols] - fd).max() < 1e-6 * max(1.0, np.abs(fd).max())


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_bptt_matches_central_differences_over_10_steps(controller):
    _bptt_vs_fd(controller, per_field=6)


@pytest.mark.slow
@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_bptt_matches_central_differences_every_parameter(controller):
    _bptt_vs_fd(controller, per_field=None)


def test_zero_state_is_the_collier_beel_start():
    m = tiny()
    s = m.unpack(np.zeros(m.n))
    np.testing.assert_array_equal(s["memory"], np.full((8, 4), 1e-6))
    np.testing.assert_array_equal(s["write_weights"], np.eye(8)[:1])
    np.testing.assert_array_equal(s["read_weights"], np.eye(8)[:1])
    # the weightings stay on the simplex along a run
    X = np.random.default_rng(0).standard_normal((30, 3))
    out = m.unpack(run(m, X).states)
    for w in (out["write_weights"], out["read_weights"]):
        assert np.all(w >= 0) and np.allclose(w.sum(-1), 1.0)


def test_no_nan_on_zero_memory_and_saturated_heads():
    # zero rows (memory_init = 0), huge key strength / sharpening and saturated gates and
    # erase: cosine similarity, softmax and sharpening stay finite, and so do gradients
    m = tiny(memory_init=0.0)
    big = m.b_head.copy()
    big[:] = 800.0 * np.sign(np.random.default_rng(0).standard_normal(big.size))
    for mod in (m, NTM(**{**m.__dict__, "b_head": big})):
        h = np.zeros(mod.n)
        x = np.ones(3)
        assert np.all(np.isfinite(mod.step(h, x)))
        r = mod.vjp(np.ones(mod.n), h, x)
        for part in r:
            assert np.all(np.isfinite(part))
        assert np.all(np.isfinite(mod.jacobian(h, x)))
    X, Y, M = copy(3, (1, 3), width=2, seed=1)
    loss, g = bptt(NTM(**{**m.__dict__, "b_head": big}), X, Y, "bits", mask=M)
    assert np.isfinite(loss) and np.all(np.isfinite(g))


def test_erase_keeps_memory_between_old_and_add():
    # a write with erase e in (0, 1): each entry moves from M towards M (1 - w e) + w a, so
    # with a = 0 and M >= 0 the memory stays >= 0 and never grows (erase in [0, 1])
    m = tiny("feedforward", memory_init=0.5)
    D = m.b_head.size
    b, W_head = m.b_head.copy(), m.W_head.copy()
    W_head[D - 4:] = 0.0  # the last W = 4 head outputs are the add vector: a = tanh(0) = 0
    b[D - 4:] = 0.0
    mod = NTM(**{**m.__dict__, "b_head": b, "W_head": W_head})
    states = run(mod, np.random.default_rng(2).standard_normal((20, 3))).states
    mem = mod.unpack(states)["memory"]
    assert np.all(mem >= 0) and np.all(np.diff(mem, axis=0) <= 1e-15) and mem.max() <= 0.5


def test_float32_runs_and_differentiates_like_float64():
    m = tiny()
    X, Y, M = copy(4, (1, 4), width=2, seed=0)
    out = run(m, X.astype(np.float32)).outputs
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, run(m, X).outputs, atol=1e-5)
    l64, g64 = bptt(m, X, Y, "bits", mask=M)
    l32, g32 = bptt(m, X, Y, "bits", mask=M, dtype=np.float32)
    assert l32 == pytest.approx(l64, rel=1e-5)
    assert np.abs(g32 - g64).max() < 1e-4 * np.abs(g64).max()


def test_memory_size_is_free():
    # no parameter depends on N: the same machine runs with a larger memory
    m = tiny(N=8)
    big = m.with_memory_size(32)
    assert big.N == 32 and np.array_equal(big.to_vector(), m.to_vector())
    assert big.n == m.n + (32 - 8) * (m.W + 2)
    with pytest.raises(ValidationError, match="NTM.shift_range"):
        tiny(N=8, shift_range=3).with_memory_size(5)


def test_bad_input():
    with pytest.raises(ValidationError, match="NTM.random.W"):
        NTM.random(3, 2, 5, N=8, W=0)
    with pytest.raises(ValidationError, match="NTM.shift_range"):
        NTM.random(3, 2, 5, N=4, W=2, shift_range=2)
    with pytest.raises(ValidationError, match="NTM.random.controller"):
        NTM.random(3, 2, 5, controller="gru")
    m = tiny()
    with pytest.raises(ValidationError, match="inputs"):
        run(m, np.zeros((5, 2, 4)))
    with pytest.raises(ValidationError, match="inputs"):
        bptt(m, np.zeros((5, 2, 4)), np.zeros((5, 2, 2)), "bits")
    with pytest.raises(ValidationError, match="NTM.W_head"):
        NTM(**{**m.__dict__, "W_head": m.W_head[:-1], "b_head": m.b_head[:-1]})
    with pytest.raises(ValidationError, match="NTM.unpack"):
        m.unpack(np.zeros(3))


def test_training_on_copy_lowers_bits_per_sequence():
    # a few Adam updates on short copies: the loss falls from chance (1 bit per target bit)
    m = NTM.random(5, 4, 16, N=8, W=6, controller="feedforward", seed=0)
    data = copy(400, (1, 3), width=4, seed=0)
    test = copy(100, (1, 3), width=4, seed=1)
    before = evaluate(m, test, "bits")
    res = train(m, data, loss="bits", optimizer="adam", lr=1e-2, epochs=4, batch_size=16,
                clip_norm=10.0, seed=0)
    after = evaluate(res.model, test, "bits")
    assert np.all(np.isfinite(res.history.loss)) and len(res.history) == 100
    assert after < 0.75 * before  # 8.1 -> 5.5 bits per sequence here


@pytest.mark.slow  # ~15 s: the study in quick mode (600 updates of 8 sequences)
def test_graves2014_copy_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).parents[1] / "studies" / "graves2014_copy.py"
    spec = importlib.util.spec_from_file_location("graves2014_copy", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"graves2014_copy.{ext}").exists()
    assert json.loads((tmp_path / "graves2014_copy.json").read_text()) == res
    # same sequences and updates (4800 fresh ones): the NTM's bits per sequence fall well
    # below the LSTM's (13 against 27 here), and it makes fewer bit errors at every length,
    # the untrained longer ones (12, 16) included
    assert res["training_sequences"] == 600 * 8
    assert res["ntm_final_bits"] < 0.7 * res["lstm_final_bits"]
    assert all(a < b for a, b in zip(res["ntm_error_per_bit"], res["lstm_error_per_bit"]))


@pytest.mark.slow  # ~15 s of CPU: the study in quick mode (it also runs in `rnndyn figures`)
def test_graves2014_tasks_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).parents[1] / "studies" / "graves2014_tasks.py"
    spec = importlib.util.spec_from_file_location("graves2014_tasks", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(quick=True, out=tmp_path)
    assert json.loads((tmp_path / "graves2014_tasks.json").read_text()) == res
    assert res["finite"]  # no NaN on any task with the default settings
    assert set(res["tasks"]) == {"repeat copy", "associative recall", "dynamic N-grams",
                                 "priority sort"}
    ngrams = res["tasks"]["dynamic N-grams"]
    # nothing beats the Bayes-optimal predictor on 50 test sequences of 36 scored bits
    assert ngrams["bayes_optimal_bits"] < min(ngrams["ntm_bits"], ngrams["lstm_bits"])
    for row in res["tasks"].values():  # the NTM has an order of magnitude fewer weights
        assert row["ntm_params"] < row["lstm_params"] / 5
