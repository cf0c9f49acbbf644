"""The NTM tasks (Graves et al. 2014, arXiv:1410.5401, section 4) follow their definitions,
checked against plain-Python references built from the inputs alone; they are reproducible
from the seed and refuse bad sizes."""
import numpy as np
import pytest

from rnndyn.errors import ValidationError
from rnndyn.tasks.ntm import (associative_recall, copy, dynamic_ngrams, ngram_bayes,
                              ngram_tables, priority_sort, repeat_copy)
from rnndyn.train.losses import Bits

GENERATORS = [copy, repeat_copy, associative_recall, dynamic_ngrams, priority_sort]


@pytest.mark.parametrize("gen", GENERATORS, ids=lambda g: g.__name__)
def test_seeded_shaped_and_binary(gen):
    a, b, c = gen(9, seed=1), gen(9, seed=1), gen(9, seed=2)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))
    X, Y, M = a
    assert X.ndim == Y.ndim == 3 and M.shape == X.shape[:2] == Y.shape[:2] and M.dtype == bool
    assert np.all(Y[~M] == 0) and M.any(axis=0).all()  # every sequence is scored
    assert np.all((Y == 0) | (Y == 1))  # binary targets: the "bits" loss applies
    Bits().check_targets(Y, M, "test")


def test_copy_target_is_the_input_after_the_delimiter():
    X, Y, M = copy(50, (1, 20), seed=0)
    assert X.shape[2] == 9 and Y.shape[2] == 8
    lengths = set()
    for k in range(50):
        d = np.flatnonzero(X[:, k, 8])
        assert len(d) == 1
        L = int(d[0])
        lengths.add(L)
        assert 1 <= L <= 20
        data = X[:L, k, :8]
        assert np.all((data == 0) | (data == 1)) and np.all(X[:L, k, 8] == 0)
        assert np.all(X[L + 1:, k] == 0)  # blank inputs while the copy is due
        np.testing.assert_array_equal(np.flatnonzero(M[:, k]), np.arange(L + 1, 2 * L + 1))
        np.testing.assert_array_equal(Y[L + 1:2 * L + 1, k], data)  # delayed by L + 1
    assert len(lengths) > 10
    assert X.shape[0] == 2 * max(lengths) + 1


def test_repeat_copy_repeats_and_ends_with_a_marker():
    X, Y, M = repeat_copy(40, (1, 10), (1, 10), seed=0)
    assert X.shape[2] == 10 and Y.shape[2] == 9
    counts = np.arange(1, 11)
    mean, std = counts.mean(), counts.std()
    for k in range(40):
        L = int(np.flatnonzero(X[:, k, 8])[0])
        r = X[L + 1, k, 9] * std + mean  # the normalised count back to an integer
        R = int(round(r))
        assert abs(r - R) < 1e-9 and 1 <= R <= 10
        data = X[:L, k, :8]
        out = np.flatnonzero(M[:, k])
        np.testing.assert_array_equal(out, np.arange(L + 2, L + 2 + L * R + 1))
        for rep in range(R):
            s = L + 2 + rep * L
            np.testing.assert_array_equal(Y[s:s + L, k, :8], data)
            assert np.all(Y[s:s + L, k, 8] == 0)
        end = L + 2 + L * R
        assert Y[end, k, 8] == 1 and np.all(Y[end, k, :8] == 0)


def test_associative_recall_target_is_the_item_after_the_query():
    il, w = 3, 6
    X, Y, M = associative_recall(60, (2, 6), seed=0)
    assert X.shape[2] == w + 2 and Y.shape[2] == w
    for k in range(60):
        starts = np.flatnonzero(X[:, k, w])
        items = [X[s + 1:s + 1 + il, k, :w] for s in starts]
        q0, q1 = np.flatnonzero(X[:, k, w + 1])
        assert q1 == q0 + il + 1 and 2 <= len(items) <= 6
        query = X[q0 + 1:q1, k, :w]
        hits = [i for i, item in enumerate(items[:-1]) if np.array_equal(item, query)]
        assert hits  # the query is one of the items but the last
        out = np.flatnonzero(M[:, k])
        np.testing.assert_array_equal(out, np.arange(q1 + 1, q1 + 1 + il))
        # the item after the (first) matching item; random 18-bit items rarely repeat
        np.testing.assert_array_equal(Y[out, k], items[hits[0] + 1])


def test_dynamic_ngrams_follow_the_table():
    # one fixed table, many bits: the frequency of a one after each five-bit context is the
    # table's probability (binomial standard error)
    table = ngram_tables(1, seed=3)[0]
    X, Y, M = dynamic_ngrams(200, 400, tables=table, seed=4)
    bits = np.concatenate([X[:, :, 0], Y[-1:, :, 0]]).astype(int)  # bits 0..T
    np.testing.assert_array_equal(X[5:, :, 0], Y[4:-1, :, 0])  # the target is the next input
    ones, total = np.zeros(32), np.zeros(32)
    for t in range(5, bits.shape[0]):
        ctx = np.zeros(bits.shape[1], int)
        for j in range(t - 5, t):
            ctx = 2 * ctx + bits[j]
        np.add.at(ones, ctx, bits[t])
        np.add.at(total, ctx, 1)
    assert total.min() > 50
    freq = ones / total
    se = np.sqrt(table * (1 - table) / total) + 1e-3
    assert np.all(np.abs(freq - table) < 5 * se)
    assert np.array_equal(np.flatnonzero(M[:, 0]), np.arange(4, 400))
    # per-sequence tables are Beta(1/2, 1/2): mean 1/2, variance 1/8
    P = ngram_tables(2000, seed=0).ravel()
    assert abs(P.mean() - 0.5) < 0.01 and abs(P.var() - 0.125) < 0.005


def test_ngram_bayes_counts_the_context():
    X, _, _ = dynamic_ngrams(3, 60, seed=1)
    P = ngram_bayes(X)
    b = X[:, :, 0].astype(int)
    for k in range(3):
        for t in range(4, 60):
            ctx = tuple(b[t - 4:t + 1, k])
            follow = [b[s + 1, k] for s in range(4, t) if tuple(b[s - 4:s + 1, k]) == ctx]
            want = (sum(follow) + 0.5) / (len(follow) + 1)
            assert P[t, k, 0] == pytest.approx(want)
    assert np.all(P[:4] == 0.5)


def test_priority_sort_target_is_sorted_by_priority():
    X, Y, M = priority_sort(30, 20, 16, seed=0)
    assert X.shape == (37, 30, 10) and Y.shape == (37, 30, 8)
    assert np.all(M[21:]) and not M[:21].any()
    for k in range(30):
        prio = X[:20, k, 8]
        assert np.all((-1 <= prio) & (prio <= 1)) and X[20, k, 9] == 1
        ranked = sorted(range(20), key=lambda i: -prio[i])[:16]
        np.testing.assert_array_equal(Y[21:, k], X[ranked, k, :8])


def test_bits_per_sequence_of_chance_is_one_bit_per_target_bit():
    # logits 0 predict p = 1/2: every scored bit costs exactly one bit
    X, Y, M = copy(10, 5, seed=0)
    value, _ = Bits()(np.zeros(Y.shape), Y, M)
    assert value == pytest.approx(5 * 8)


def test_bad_input():
    with pytest.raises(ValidationError, match="copy.lengths"):
        copy(3, (5, 2))
    with pytest.raises(ValidationError, match="copy.lengths"):
        copy(3, 0)
    with pytest.raises(ValidationError, match="copy.n"):
        copy(0)
    with pytest.raises(ValidationError, match="associative_recall.items"):
        associative_recall(3, (1, 4))
    with pytest.raises(ValidationError, match="priority_sort.outputs"):
        priority_sort(3, 5, 6)
    with pytest.raises(ValidationError, match="dynamic_ngrams.tables"):
        dynamic_ngrams(3, tables=np.full(32, 1.5))
    with pytest.raises(ValidationError, match="ngram_bayes.inputs"):
        ngram_bayes(np.full((5, 2, 1), 0.5))
    with pytest.raises(ValidationError, match="seed"):
        copy(3, seed="x")
