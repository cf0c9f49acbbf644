"""The neural network pushdown automaton (Sun et al. 1993) with the continuous stack of
Grefenstette et al. (2015, arXiv:1506.02516): a run equals a plain numpy transcription of
eqs. 1-3 on an unbounded list of (value, strength) pairs; the hand-written Jacobian and VJPs
pass the conformance suite (central differences); BPTT through 12 steps matches central
differences of the loss (relative error < 1e-6, float64, issue 15); the bottom of a full
stack is dropped; BPTT through the stack lowers the loss on Dyck and palindromes too; the
language generators give the right continuation sets; bad input is refused."""
import dataclasses

import numpy as np
import pytest

from conformance import (check_batch, check_finite, check_jacobian, check_model,
                         check_param_derivatives, check_param_vector, check_population,
                         check_population_derivatives, check_shapes)
from rnndyn.errors import ValidationError
from rnndyn.integrate import run
from rnndyn.models.nnpda import NNPDA
from rnndyn.tasks.languages import anbn, dyck, palindrome, recognised
from rnndyn.train.gradients import bptt
from rnndyn.train.loop import evaluate, train


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_run(m: NNPDA, X, keep=None):
    """States of a run written from Grefenstette et al. (2015) eqs. 1-3 on a Python list of
    (value, strength) pairs that grows by one entry a step; ``keep`` entries kept (the
    newest), None: all."""
    H, lstm = m.H, m.controller == "lstm"
    h, c, r = np.zeros(H), np.zeros(H), np.zeros(m.m)
    V, s, out = [], [], []
    for x in X:
        z = np.concatenate([x, r])
        if lstm:
            a = m.W_in @ z + m.W_hh @ h + m.b
            i, f = _sigmoid(a[:H]), _sigmoid(a[H:2 * H])
            g, o = np.tanh(a[2 * H:3 * H]), _sigmoid(a[3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            h = np.tanh(m.W_in @ z + m.W_hh @ h + m.b)
        P = m.W_head @ h + m.b_head
        d, u, v = _sigmoid(P[0]), _sigmoid(P[1]), np.tanh(P[2:])
        # eq. 2: pop u from the top down, then push (v, d)
        s = [max(0.0, s[i] - max(0.0, u - sum(s[i + 1:]))) for i in range(len(s))] + [d]
        V = V + [v]
        if keep is not None:
            V, s = V[-keep:], s[-keep:]
        # eq. 3: read the top unit of strength
        r = sum(min(s[i], max(0.0, 1.0 - sum(s[i + 1:]))) * V[i] for i in range(len(s)))
        K = m.depth
        SV, ss = np.zeros((K, m.m)), np.zeros(K)
        SV[K - len(V):], ss[K - len(s):] = V[-K:], s[-K:]
        ctrl = np.concatenate([h, c]) if lstm else h
        out.append(np.concatenate([ctrl, SV.ravel(), ss, r]))
    return np.array(out)


def tiny(controller="lstm", seed=0, **kw):
    kw = dict(dict(m=2, depth=5), **kw)
    return NNPDA.random(3, 2, 4, controller=controller, seed=seed, **kw)


def stack_sample(m: NNPDA):
    """States in the machine's domain: strengths in [0, 1], the rest anywhere."""
    def sample(model, rng):
        h = 0.5 * rng.standard_normal(model.n)
        o = m._nc + m.depth * m.m
        h[o:o + m.depth] = rng.uniform(0.0, 1.0, m.depth)
        return h, rng.standard_normal(model.n_in)
    return sample


@pytest.mark.parametrize("controller", ["lstm", "elman"])
def test_run_matches_the_papers_equations(controller):
    # depth 30 >= T: the bounded stack is the paper's unbounded one
    m = tiny(controller, depth=30, seed=2)
    X = 2.0 * np.random.default_rng(1).standard_normal((30, 3))
    np.testing.assert_allclose(run(m, X).states, reference_run(m, X), rtol=1e-12, atol=1e-13)


def test_a_full_stack_drops_its_bottom():
    m = tiny(depth=4, seed=1)
    X = 2.0 * np.random.default_rng(2).standard_normal((15, 3))
    np.testing.assert_allclose(run(m, X).states, reference_run(m, X, keep=4), rtol=1e-12,
                               atol=1e-13)
    # a trained machine's depth is free: the same parameters with a deeper stack
    deep = m.with_depth(20)
    assert np.array_equal(deep.to_vector(), m.to_vector()) and deep.n == m.n + 16 * 3


def test_zero_state_is_the_empty_stack_and_strengths_stay_in_0_1():
    m = tiny(depth=40)
    s = m.unpack(np.zeros(m.n))
    assert not s["strengths"].any() and not s["values"].any() and not s["read"].any()
    out = m.unpack(run(m, 3.0 * np.random.default_rng(0).standard_normal((40, 3))).states)
    st = out["strengths"]
    assert np.all((st >= 0) & (st <= 1)) and st[-1, -1] > 0  # the top is the last push
    # the read is a combination of values with weights summing to at most 1 (eq. 3): |r| <= 1
    assert np.all(np.abs(out["read"]) <= 1.0 + 1e-12)


def test_initial_state_reads_its_stack():
    m = tiny(depth=4)
    h0 = m.initial_state(values=[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]],
                         strengths=[0.9, 0.6, 0.3])
    s = m.unpack(h0)
    # top 0.3 of [0.5, 0.5], then 0.6 of [0, 1], then the remaining 0.1 of [1, 0]
    np.testing.assert_allclose(s["read"], [0.3 * 0.5 + 0.1, 0.3 * 0.5 + 0.6])
    np.testing.assert_array_equal(s["strengths"], [0.0, 0.9, 0.6, 0.3])
    assert run(m, np.zeros((3, 3)), h0).states.shape == (3, m.n)


@pytest.mark.parametrize("controller", ["lstm", "elman"])
def test_conformance(controller):
    members = [tiny(controller, seed=s) for s in range(3)]
    m, sample = members[0], stack_sample(members[0])
    check_shapes(m, sample)
    check_finite(m, sample)
    check_jacobian(m, sample)
    check_param_vector(m, members)
    check_param_derivatives(m, sample)
    check_batch(m, sample)
    check_population(members, sample)
    check_population_derivatives(members, sample)


@pytest.mark.slow  # the full suite with its graph and round-trip checks, a deeper stack
def test_conformance_full():
    for controller in ("lstm", "elman"):
        members = [tiny(controller, seed=s, m=3, depth=8) for s in range(3)]
        check_model(members[0], sample=stack_sample(members[0]), members=members)


def _bptt_vs_fd(controller, per_field):
    # issue 15: < 1e-6 relative, float64. Strings of a^n b^n (11 steps); pops (u ~ 0.2) are
    # weaker than pushes (d ~ 0.45): entries are popped partially and pile up past the
    # read's unit of strength, so every branch of eqs. 2-3 is exercised, away from the kinks
    m = tiny(controller, seed=3, depth=12)
    b_head = m.b_head.copy()
    b_head[1] -= 1.5
    m = dataclasses.replace(m, b_head=b_head)
    X, Y, M = anbn(3, (3, 5), seed=0)
    assert X.shape[0] == 11
    X = 3.0 * X  # larger inputs: the stack controls move away from 1/2
    Y = Y[:, :, :2]
    loss, g = bptt(m, X, Y, "bits", mask=M)
    theta = m.to_vector()
    rng = np.random.default_rng(0)
    cols, off = [], 0
    for shape in m.param_fields.values():  # up to per_field positions of every field
        size = int(np.prod(shape))
        cols += list(off + (rng.choice(size, min(size, per_field), replace=False)
                            if per_field else np.arange(size)))
        off += size
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
    # the gradient really flows through the stack: the pop and push rows are not zero
    off = sum(int(np.prod(s)) for f, s in m.param_fields.items() if f in ("W_in", "W_hh", "b"))
    assert np.abs(g[off:off + 2 * m.H]).min() > 1e-4
    st = m.unpack(run(m, X).states)["strengths"]
    assert (st[-1] > 0.01).sum(-1).min() >= 3  # several partly popped entries


@pytest.mark.parametrize("controller", ["lstm", "elman"])
def test_bptt_matches_central_differences(controller):
    _bptt_vs_fd(controller, per_field=6)


@pytest.mark.slow
@pytest.mark.parametrize("controller", ["lstm", "elman"])
def test_bptt_matches_central_differences_every_parameter(controller):
    _bptt_vs_fd(controller, per_field=None)


@pytest.mark.parametrize("language", ["dyck", "palindrome"])
def test_bptt_through_the_stack_learns_dyck_and_palindromes(language):
    # issue 15: trained by BPTT on context-free languages beyond a^n b^n. The gradient
    # reaches the push strength and the values (which act on the loss only through the
    # stack's read), and 32 Adam updates lower the loss on held-out strings of the language
    # (measured: Dyck-2 32.9 -> 16.0 bits per string, palindromes 27.9 -> 20.0)
    gen, A = {"dyck": (lambda n, s: dyck(n, (1, 4), kinds=2, seed=s), 5),
              "palindrome": (lambda n, s: palindrome(n, (1, 4), seed=s), 4)}[language]
    m = NNPDA.random(A, A, 6, m=2, depth=10, controller="elman", seed=0)
    data, held_out = gen(64, 0), gen(64, 1)
    X, Y, M = data
    _, g = bptt(m, X, Y, "bits", mask=M)
    off = sum(int(np.prod(s)) for f, s in m.param_fields.items() if f in ("W_in", "W_hh", "b"))
    W_head = g[off:off + m.W_head.size].reshape(m.W_head.shape)
    # the push strength and the values reach the loss only through the stack's read
    assert np.abs(W_head[0]).min() > 1e-6 and np.abs(W_head[2:]).min() > 1e-6
    before = evaluate(m, held_out, "bits")
    tr = train(m, data, loss="bits", optimizer="adam", lr=1e-2, batch_size=16, epochs=8,
               seed=0)
    assert len(tr.history.loss) == 32
    after = evaluate(tr.model, held_out, "bits")
    assert after < 0.8 * before


def test_languages_continuation_sets():
    # a^3 b^3: after $ {a}; after each a {a, b}; after b, b {b}; after the third b {$}
    X, Y, M = anbn(1, 3, seed=0)
    assert "".join("ab$"[i] for i in X[:, 0].argmax(1)) == "$aaabbb"
    assert ["".join(np.array(list("ab$"))[y > 0.5]) for y in Y[:, 0]] == \
        ["a", "ab", "ab", "ab", "b", "b", "$"]
    assert M.all()
    # Dyck-2: after every prefix, the opening brackets and the match of the top (or $)
    X, Y, M = dyck(50, (1, 6), kinds=2, seed=1)
    sym = np.array(list("()[]$"))
    for k in range(50):
        s = "".join(sym[X[M[:, k], k].argmax(1)])
        stack = []
        for t, ch in enumerate(s):
            if ch in "([":
                stack.append(ch)
            elif ch in ")]":
                assert stack and {"(": ")", "[": "]"}[stack.pop()] == ch
            want = "([" + ({"(": ")", "[": "]"}[stack[-1]] if stack else "$")
            assert set(sym[Y[t, k] > 0.5]) == set(want)
        assert not stack and s.count("(") + s.count("[") <= 6
    # palindromes: the second half and the end are determined
    X, Y, M = palindrome(20, (1, 5), seed=2)
    sym = np.array(list("abc$"))
    for k in range(20):
        s = "".join(sym[X[M[:, k], k].argmax(1)])[1:]
        w, _, rest = s.partition("c")
        assert rest == w[::-1]
        det = [sym[Y[t, k] > 0.5] for t in range(len(w) + 1, len(s) + 1)]
        assert "".join("".join(d) for d in det) == w[::-1] + "$"
    # recognised: perfect logits pass, one wrong sign at a masked step fails that string
    X, Y, M = anbn(4, (1, 4), seed=3)
    perfect = np.where(Y > 0.5, 5.0, -5.0)
    assert recognised(perfect, Y, M).all()
    perfect[2, 1, 0] *= -1
    assert list(recognised(perfect, Y, M)) == [True, False, True, True]
    assert np.array_equal(anbn(5, seed=7).inputs, anbn(5, seed=7).inputs)


def test_bad_input():
    m = tiny()
    with pytest.raises(ValidationError, match="NNPDA.initial_state.strengths"):
        m.initial_state(values=[[0.0, 1.0]], strengths=[1.5])
    with pytest.raises(ValidationError, match="NNPDA.initial_state.strengths"):
        m.initial_state(values=[[0.0, 1.0]], strengths=[-0.1])
    with pytest.raises(ValidationError, match="NNPDA.initial_state.strengths"):
        m.initial_state(strengths=np.full(6, 0.5))  # deeper than depth = 5
    with pytest.raises(ValidationError, match="NNPDA.initial_state.values"):
        m.initial_state(values=[[np.nan, 1.0]], strengths=[0.5])
    with pytest.raises(ValidationError, match="NNPDA.random.depth"):
        NNPDA.random(3, 2, 4, depth=0)
    with pytest.raises(ValidationError, match="NNPDA.depth"):
        NNPDA(**{**m.__dict__, "depth": 0})
    with pytest.raises(ValidationError, match="NNPDA.random.controller"):
        NNPDA.random(3, 2, 4, controller="gru")
    with pytest.raises(ValidationError, match="NNPDA.W_head"):
        NNPDA(**{**m.__dict__, "W_head": m.W_head[:2], "b_head": m.b_head[:2]})
    with pytest.raises(ValidationError, match="inputs"):  # wrong input width
        run(m, np.zeros((5, 2, 4)))
    with pytest.raises(ValidationError, match="inputs"):  # NaN input
        run(m, np.full((5, 3), np.nan))
    with pytest.raises(ValidationError, match="inputs"):
        bptt(m, np.zeros((5, 2, 4)), np.zeros((5, 2, 2)), "bits")
    with pytest.raises(ValidationError, match="h0"):  # NaN initial state
        run(m, np.zeros((5, 3)), np.full(m.n, np.nan))
    bad = np.zeros(m.n)
    bad[m._nc + m.depth * m.m] = 1.5  # a strength outside [0, 1] in a raw h0
    with pytest.raises(ValidationError, match="h0"):
        run(m, np.zeros((5, 3)), bad)
    with pytest.raises(ValidationError, match="bptt.h0"):
        bptt(m, np.zeros((5, 1, 3)), np.zeros((5, 1, 2)), "bits", h0=bad)
    with pytest.raises(ValidationError, match="NNPDA.unpack"):
        m.unpack(np.zeros(3))
    with pytest.raises(ValidationError, match="anbn.lengths"):
        anbn(3, (0, 4))
    with pytest.raises(ValidationError, match="dyck.kinds"):
        dyck(3, kinds=3)
    with pytest.raises(ValidationError, match="recognised"):
        recognised(np.zeros((3, 2, 3)), np.zeros((3, 2, 2)), np.ones((3, 2), bool))


@pytest.mark.slow  # ~10 s of CPU: the study in quick mode (four trainings of 320 updates)
def test_sun1993_nnpda_quick(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).parents[1] / "studies" / "sun1993_nnpda.py"
    spec = importlib.util.spec_from_file_location("sun1993_nnpda", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"sun1993_nnpda.{ext}").exists()
    assert json.loads((tmp_path / "sun1993_nnpda.json").read_text()) == res
    # same strings (n = 1-10) and 320 updates each: the NNPDA recognises a^n b^n for every
    # n up to 24 (measured: 24, the largest tested), the LSTM stops before 2 x 10 (measured:
    # 18)
    assert res["updates"] == 320 and res["train_n"] == [1, 10]
    assert res["nnpda_selected_largest_n"] >= 20 and res["nnpda_recognised_to_2x"] > 0.95
    assert not res["lstm_recognised_at_2x"]
    assert res["lstm_selected_largest_n"] < res["nnpda_selected_largest_n"]
    # quick mode also trains both on Dyck-1 (k = 1-10 bracket pairs; the NNPDA with an LSTM
    # controller of 16 units), 320 updates each, 32 test strings per k: the NNPDA recognises
    # every string of the training lengths (measured: largest k with >= 95% 15, 84% at k =
    # 20), neither 95% at k = 20; palindromes are not run. The one LSTM run of quick mode is
    # a baseline whose outcome hangs on rounding: gradients equal to 1e-12 (its forward's
    # gates kept for BPTT since session 21, not recomputed) took it from every training
    # string and k = 16 to 63 of 64 and k = 8 (validation 1.12 -> 0.79 bits), so it is held
    # to the training strings, >= 95%
    d = res["dyck"]
    assert d["label"] == "Dyck-1" and d["updates"] == 320 and "palindrome" not in res
    assert d["ks"] == list(range(1, 21)) and d["test_strings_per_k"] == 32
    assert d["nnpda_recognised_train"] == [1.0] and d["nnpda_largest_k"][0] >= 10
    assert d["lstm_recognised_train"][0] >= 0.95
    for net in ("nnpda", "lstm"):
        assert d[f"{net}_recognised_at_2x"][0] < 0.95
