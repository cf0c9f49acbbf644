"""The long-lag tasks follow their definitions (checked by independent plain-Python rules),
are reproducible from the seed, and refuse bad sizes."""
import numpy as np
import pytest

from rnndyn.errors import ValidationError
from rnndyn.tasks.sequences import (REBER_SYMBOLS, SYMBOLS_ORDER, adding_problem,
                                    delayed_xor, embedded_reber, flip_flop, latch, parity,
                                    temporal_order)

GENERATORS = [adding_problem, temporal_order, latch, parity, delayed_xor, embedded_reber,
              flip_flop]


@pytest.mark.parametrize("gen", GENERATORS, ids=lambda g: g.__name__)
def test_seeded_and_shaped(gen):
    a, b, c = gen(7, seed=1), gen(7, seed=1), gen(7, seed=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))
    X, Y, M = a
    assert X.ndim == Y.ndim == 3 and M.shape == X.shape[:2] == Y.shape[:2] and M.dtype == bool
    assert np.all(Y[~M] == 0) and M.any()


@pytest.mark.parametrize("vary", [False, True])
def test_adding_problem_follows_hochreiter1997_exp4(vary):
    T = 50
    X, Y, M = adding_problem(300, T, seed=0, vary_length=vary)
    assert M[-1].all() and not M[:-1].any()
    for k in range(300):
        x = X[:, k]
        start = np.flatnonzero(np.any(x != 0, axis=1))[0]  # left padding is all zero
        x = x[start:]
        L = len(x)
        assert T <= L <= T + T // 10
        assert np.all((-1 <= x[:, 0]) & (x[:, 0] <= 1))
        marked = np.flatnonzero(x[:, 1] == 1.0)
        assert len(marked) == 2 and marked[0] < 10 and marked[1] < T // 2 - 1
        ends = {0, L - 1} - set(marked)
        assert all(x[i, 1] == -1.0 for i in ends)
        assert np.sum(x[:, 1] == 0.0) == L - 2 - len(ends)
        if marked[0] == 0:  # "in the rare case where the first pair gets marked, X1 = 0"
            assert x[0, 0] == 0.0
        assert Y[-1, k, 0] == pytest.approx(0.5 + x[marked, 0].sum() / 4.0, abs=1e-15)
    assert (Y[-1, :, 0].min() >= 0) and (Y[-1, :, 0].max() <= 1)


def test_temporal_order():
    X, Y, M = temporal_order(200, 100, seed=0)
    sym = X.argmax(-1)
    assert np.all(X.sum(-1) == 1)
    assert np.all(sym[0] == SYMBOLS_ORDER.index("B"))
    assert np.all(sym[-1] == SYMBOLS_ORDER.index("E"))
    for k in range(200):
        where = np.flatnonzero(sym[:, k] >= 4)
        where = where[(where > 0) & (where < 99)]
        assert len(where) == 2 and 10 <= where[0] <= 20 and 50 <= where[1] <= 60
        a, b = sym[where, k] - 4
        assert Y[-1, k].argmax() == 2 * a + b and Y[-1, k].sum() == 1


def test_latch_parity_xor():
    X, Y, _ = latch(100, 20, L=3, noise=0.1, seed=0)
    first = X[:3, :, 0].T
    patterns = np.unique(first, axis=0)
    assert len(patterns) == 2  # two classes, each one fixed pattern
    for p in patterns:  # the class is a function of the pattern, and both occur
        same = (first == p).all(1)
        assert len(np.unique(Y[-1, same, 0])) == 1
    assert set(Y[-1, :, 0]) == {0.0, 1.0}
    X, Y, M = parity(50, 12, running=True, seed=0)
    for k in range(50):
        bits = X[:, k, 0].astype(int)
        np.testing.assert_array_equal(Y[:, k, 0], [sum(bits[:t + 1]) % 2 for t in range(12)])
    X, Y, M = parity(50, 12, seed=0)
    assert M[-1].all() and not M[:-1].any()
    np.testing.assert_array_equal(Y[-1, :, 0], X[:, :, 0].sum(0) % 2)
    X, Y, M = delayed_xor(20, 15, delay=3, seed=0)
    u = X[:, :, 0].astype(int)
    for t in range(15):
        assert M[t].all() == (t >= 4)
        if t >= 4:
            np.testing.assert_array_equal(Y[t, :, 0], u[t - 3] ^ u[t - 4])


def test_embedded_reber_targets_are_the_grammars_next_symbols():
    X, Y, M = embedded_reber(100, seed=0)
    # Reber grammar (Reber 1967) as transitions: state -> {symbol: next state}
    grammar = {1: {"T": 2, "P": 3}, 2: {"S": 2, "X": 4}, 3: {"T": 3, "V": 5},
               4: {"X": 3, "S": 6}, 5: {"P": 4, "V": 6}}
    for k in range(100):
        n = int(M[:, k].sum()) + 1
        s = "".join(REBER_SYMBOLS[i] for i in X[:n, k].argmax(-1))
        assert np.all(X[n:, k] == 0)
        assert s[0] == "B" and s[-1] == "E" and s[1] in "TP" and s[-2] == s[1] and s[2] == "B"
        state = 1
        for sym in s[3:-3]:
            state = grammar[state][sym]
        assert state == 6 and s[-3] == "E"
        allowed = [set(REBER_SYMBOLS[i] for i in np.flatnonzero(Y[t, k])) for t in range(n - 1)]
        assert allowed[0] == {"T", "P"} and allowed[1] == {"B"} and allowed[-1] == {"E"}
        assert allowed[-2] == {s[1]} and allowed[-3] == {"E"}
        state = 1
        for t in range(2, n - 4):  # after the inner B up to its last symbol but one
            assert allowed[t] == set(grammar[state]), (s, t)
            state = grammar[state][s[t + 1]]


def test_flip_flop_holds_the_last_pulse():
    X, Y, M = flip_flop(10, 200, p=0.05, seed=0)
    assert M.all() and set(np.unique(X)) <= {-1.0, 0.0, 1.0}
    held = np.zeros((10, 3))
    for t in range(200):
        held = np.where(X[t] != 0, X[t], held)
        np.testing.assert_array_equal(Y[t], held)


def test_bad_sizes():
    with pytest.raises(ValidationError, match="adding_problem.T"):
        adding_problem(10, T=5)
    with pytest.raises(ValidationError, match="latch.L"):
        latch(10, T=5, L=5)
    with pytest.raises(ValidationError, match="parity.n"):
        parity(0)
    with pytest.raises(ValidationError, match="flip_flop.p"):
        flip_flop(3, p=1.5)
    with pytest.raises(ValidationError, match="seed"):
        delayed_xor(3, seed="x")
