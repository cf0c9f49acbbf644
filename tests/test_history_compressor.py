"""The neural history compressor (Schmidhuber 1992, Neural Computation 4(2):234): gradients
of every level against central finite differences, the compression against a plain per-
sequence loop, the task generators, learning (the upper level sees few inputs; a lag of
1199 steps is bridged), and validation."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rnndyn import cli
from rnndyn.errors import ValidationError
from rnndyn.integrate import run
from rnndyn.tasks.compressor import chunk_stream, long_lag_classes
from rnndyn.train.compressor import (Events, HistoryCompressor, PredictAndImitate,
                                     next_symbol_data)
from rnndyn.train.gradients import bptt
from rnndyn.train.loop import evaluate

STUDIES = Path(__file__).resolve().parents[1] / "studies"


def fd_gradient(model, data, loss, eps=1e-6):
    """Central finite differences of the loss over model.to_vector()."""
    theta = model.to_vector()
    g = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = eps
        g[i] = (evaluate(model.from_vector(theta + e), data, loss) -
                evaluate(model.from_vector(theta - e), data, loss)) / (2 * eps)
    return g


def check_gradient(model, data, loss):
    X, Y, M = data
    value, g = bptt(model, X, Y, loss, mask=M)
    assert value == pytest.approx(evaluate(model, data, loss), rel=1e-12)
    fd = fd_gradient(model, data, loss)
    assert np.linalg.norm(g - fd) / np.linalg.norm(fd) < 1e-6


class small_stream:
    """Random symbols: an untrained level gives them probabilities near 1/6, so a threshold
    of 1/6 sends about half of them up, a different number per sequence."""

    def __init__(self, seed=0, T=30, N=3):
        self.n_symbols = 6
        self.symbols = np.random.default_rng(seed).integers(0, 6, (T, N))


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("cell", ["elman", "lstm"])
def test_upper_level_gradient_on_compressed_sequence(cell):
    """Level 1 trained on the events level 0 failed to predict, with time-stamp inputs and
    the padding masked out."""
    d = small_stream()
    hc = HistoryCompressor(d.n_symbols, 2, 4, cell=cell, threshold=1 / 6, seed=1)
    seen = hc.compress(d.symbols)
    ev = seen[1]
    assert 1 < ev.counts.min() < ev.counts.max() < d.symbols.shape[0]  # padding present
    X, Y, M = data = hc.level_data(1, ev)
    assert X.shape[-1] == d.n_symbols + 1 and np.any(X[..., -1] > 0)  # time stamps
    check_gradient(hc.nets[1], data, hc.loss)


def test_automatizer_combined_loss_gradient():
    """A's loss: next-symbol cross-entropy + weight * MSE of imitating C's held state."""
    d = small_stream()
    hc = HistoryCompressor(d.n_symbols, 2, [4, 3], collapse=True, imitation_weight=0.7,
                           threshold=1 / 6, seed=2)
    seen = hc.compress(d.symbols)
    held = hc._held(seen[1], d.symbols.shape[0])
    held[5:9, 1] = np.nan  # entries without a target are skipped
    data = hc.level_data(0, seen[0], held)
    assert hc.nets[0].n_out == d.n_symbols + 3
    check_gradient(hc.nets[0], data, hc.loss)
    # the loss value against a plain numpy reference
    X, Y, M = data
    out = run(hc.nets[0], X).outputs
    K = d.n_symbols
    z = out[..., :K]
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    ce = -np.sum(Y[..., :K] * logp * M[..., None]) / M.sum()
    have = np.isfinite(Y[..., K:])
    mse = np.sum(np.where(have, out[..., K:] - np.nan_to_num(Y[..., K:]), 0.0) ** 2) / have.sum()
    assert evaluate(hc.nets[0], data, hc.loss) == pytest.approx(ce + 0.7 * mse, rel=1e-12)


def test_held_state_is_chunker_state_after_its_last_event():
    d = small_stream(T=20, N=2)
    hc = HistoryCompressor(d.n_symbols, 2, 3, collapse=True, threshold=1 / 6, seed=3)
    ev = hc.compress(d.symbols)[1]
    states = run(hc.nets[1], hc.level_inputs(1, ev)).states
    held = hc._held(ev, 20)
    for b in range(2):
        steps = ev.steps[ev.mask[:, b], b]
        for t in range(20):
            k = np.searchsorted(steps, t, side="right") - 1
            np.testing.assert_array_equal(held[t, b], states[k, b])


# --------------------------------------------------------------------------- compression
def test_compress_matches_a_per_sequence_loop():
    """Every level's events against a plain loop: run the level on one sequence, keep the
    first event and each event whose predicted probability is below the threshold."""
    rng = np.random.default_rng(0)
    K, T, N, thr = 5, 40, 4, 0.25
    S = rng.integers(0, K, (T, N))
    hc = HistoryCompressor(K, 3, 6, threshold=thr, seed=4)
    seen = hc.compress(S)
    assert len(seen) == 3
    np.testing.assert_array_equal(seen[0].symbols, S)
    for b in range(N):
        steps = np.arange(T)
        for l in range(1, 3):
            sym = S[steps, b]
            dt = np.diff(np.concatenate([[-1], steps]))
            X = np.eye(K)[sym]
            if l > 1:
                X = np.column_stack([X, np.log1p(dt)])
            z = run(hc.nets[l - 1], X).outputs
            p = np.exp(z - z.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            keep = np.concatenate([[True], p[np.arange(len(sym) - 1), sym[1:]] < thr])
            steps = steps[keep]
            ev = seen[l]
            c = ev.counts[b]
            np.testing.assert_array_equal(ev.steps[:c, b], steps)
            np.testing.assert_array_equal(ev.symbols[:c, b], S[steps, b])
            assert np.all(ev.symbols[c:, b] == -1) and not ev.mask[c:, b].any()


def test_time_stamps():
    ev = Events(np.array([[3, 1], [2, 0], [4, -1]]), np.array([[0, 2], [5, 9], [6, -1]]),
                np.array([[True, True], [True, True], [True, False]]))
    np.testing.assert_allclose(ev.stamps, np.log1p([[1, 3], [5, 7], [1, 0]]))
    np.testing.assert_array_equal(ev.counts, [3, 2])


def test_next_symbol_data():
    X, Y = next_symbol_data([0, 2, 1], 3)
    np.testing.assert_array_equal(X[:, 0], np.eye(3)[[0, 2]])
    np.testing.assert_array_equal(Y[:, 0], np.eye(3)[[2, 1]])


# --------------------------------------------------------------------------- tasks
def test_chunk_stream():
    d = chunk_stream(5, 300, n_chunks=3, chunk_length=6, n_body=7, n_events=2, p_event=0.1,
                     seed=1)
    assert d.symbols.shape == (300, 5) and d.n_symbols == 9
    assert d.symbols.min() >= 0 and d.symbols.max() < 9
    again = chunk_stream(5, 300, n_chunks=3, chunk_length=6, n_body=7, n_events=2,
                         p_event=0.1, seed=1)
    np.testing.assert_array_equal(d.symbols, again.symbols)
    # inside a chunk (not informative), each symbol follows its predecessor in a chunk;
    # another stream seed (same chunk_seed) uses the same chunks
    other = chunk_stream(5, 300, n_chunks=3, chunk_length=6, n_body=7, n_events=2,
                         p_event=0.1, seed=2)
    np.testing.assert_array_equal(other.chunks, d.chunks)
    assert d.chunks.shape == (3, 6) and len(set(d.chunks[:, 0])) == 3
    assert all(len(set(c)) == 6 for c in d.chunks)
    allowed = {(a, b) for c in d.chunks for a, b in zip(c[:-1], c[1:])}
    for s in (d, other):
        prev, cur = s.symbols[:-1][~s.informative[1:]], s.symbols[1:][~s.informative[1:]]
        assert set(zip(prev, cur)) <= allowed
        assert np.all(np.isin(s.symbols[s.informative], np.r_[d.chunks[:, 0], 7, 8]))
    # events are informative; the informative fraction is (1 + p) / (L + p)
    assert np.all(d.informative[d.symbols >= 7])
    big = chunk_stream(200, 600, chunk_length=8, p_event=0.05, seed=3)
    assert big.informative.mean() == pytest.approx(1.05 / 8.05, rel=0.05)


def test_long_lag_classes():
    d = long_lag_classes(50, 1100, n_classes=3, period=5, seed=0)
    S = d.symbols
    assert S.shape == (1100, 50) and d.n_symbols == 9
    np.testing.assert_array_equal(S[0], d.classes[d.labels])
    np.testing.assert_array_equal(S[-1], S[0])
    assert np.all(S[-2] == 8)
    np.testing.assert_array_equal(S[2:-2], (S[1:-3] + 1) % 5)  # the deterministic cycle
    assert set(d.labels) == {0, 1, 2}


# --------------------------------------------------------------------------- learning
def test_long_lag_solved_by_the_stack():
    """A lag of 1199 steps: A learns the cycle on short windows; C sees the class, the phase
    (step 1), the end marker and the answer, at most one more early step, and recalls the
    class."""
    d = long_lag_classes(32, 1200, seed=0)
    hc = HistoryCompressor(d.n_symbols, 2, 12, seed=0)
    hc.fit(d.symbols, updates=[120, 80], window=40, batch_size=16, seed=0)
    test = long_lag_classes(100, 1200, seed=1)
    seen = hc.compress(test.symbols)
    ev = seen[1]
    assert np.all((ev.counts >= 4) & (ev.counts <= 5))
    np.testing.assert_array_equal(ev.steps[:2], [[0] * 100, [1] * 100])
    last = np.take_along_axis(ev.steps, ev.counts[None] - 1 + np.array([[-1], [0]]), 0)
    np.testing.assert_array_equal(last, [[1198] * 100, [1199] * 100])
    assert seen[1].counts.sum() / test.symbols.size < 0.01
    assert np.mean(hc.classify(test.symbols[:-1], test.classes) == test.labels) > 0.9


def test_predictable_stream_compressed():
    """On chunks in random order, level 1 sees the chunk starts and events only."""
    d = chunk_stream(32, 200, chunk_length=6, n_body=6, n_chunks=3, seed=0)
    hc = HistoryCompressor(d.n_symbols, 2, 16, seed=0)
    hc.fit(d.symbols, updates=[150, 1], window=30, batch_size=32, seed=0)
    test = chunk_stream(32, 200, chunk_length=6, n_body=6, n_chunks=3, seed=5)
    ev = hc.compress(test.symbols)[1]
    assert ev.counts.sum() / test.symbols.size < 0.3
    # what goes up is what no predictor can foresee
    up = np.zeros(test.symbols.shape, bool)
    rows, cols = np.nonzero(ev.mask)
    up[ev.steps[rows, cols], cols] = True
    assert np.mean(up[test.informative]) > 0.8


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("threshold", [0.0, 1.0, -0.1, 1.5, np.nan, "x"])
def test_threshold_outside_range(threshold):
    with pytest.raises(ValidationError, match="threshold"):
        HistoryCompressor(4, threshold=threshold)
    hc = HistoryCompressor(4, threshold=0.3)
    with pytest.raises(ValidationError, match="threshold"):
        hc.threshold = threshold
    assert hc.threshold == 0.3


@pytest.mark.parametrize("symbols, what", [
    (np.array([0.0, 1.5, 2.0]), "integers"),
    (np.array([0.0, np.nan, 2.0]), "integers"),
    (np.zeros((0, 3), int), "empty"),
    (np.zeros((5, 0), int), "empty"),
    (np.array([0, 4, 1]), r"\[0, 4\)"),
    (np.array([0, -1, 1]), r"\[0, 4\)"),
    (np.array(["a", "b"]), "integer"),
    (np.zeros((2, 2, 2), int), "shape"),
])
def test_bad_symbols(symbols, what):
    hc = HistoryCompressor(4, seed=0)
    for call in (hc.compress, hc.predict, lambda s: hc.fit(s, updates=1)):
        with pytest.raises(ValidationError, match=what):
            call(symbols)


def test_other_bad_input():
    with pytest.raises(ValidationError, match="collapse"):
        HistoryCompressor(4, levels=1, collapse=True)
    with pytest.raises(ValidationError, match="hidden"):
        HistoryCompressor(4, levels=2, hidden=[3, 4, 5])
    with pytest.raises(ValidationError, match="cell"):
        HistoryCompressor(4, cell="transformer")
    with pytest.raises(ValidationError, match="n_symbols"):
        HistoryCompressor(1)
    hc = HistoryCompressor(4, seed=0)
    with pytest.raises(ValidationError, match="too short"):
        hc.fit(np.array([1]), updates=1)
    with pytest.raises(ValidationError, match="level"):
        hc.predict(np.array([1, 2]), level=5)
    with pytest.raises(ValidationError, match="collapse"):
        hc.chunker_states(np.array([1, 2]))
    with pytest.raises(ValidationError, match="targets"):
        PredictAndImitate(3).check_targets(np.full((2, 1, 4), np.inf), np.ones((2, 1), bool),
                                           "t")
    with pytest.raises(ValidationError, match="chunk_length"):
        chunk_stream(2, 10, chunk_length=9, n_body=8)
    with pytest.raises(ValidationError, match="p_event"):
        chunk_stream(2, 10, p_event=np.nan)
    with pytest.raises(ValidationError, match="T"):
        long_lag_classes(2, 3)


# --------------------------------------------------------------------------- study
@pytest.mark.slow
def test_study_quick(tmp_path):
    name = "schmidhuber1992_history_compressor"
    res = cli.load(STUDIES / f"{name}.py").run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"{name}.{ext}").exists()
    assert json.loads((tmp_path / f"{name}.json").read_text()) == res
    assert res["fraction_seen_by_level1"] < 0.3
    assert res["stack_accuracy"] > 0.9
    assert abs(res["single_accuracy"] - 0.5) < 0.1  # chance with 2 classes
    assert res["lag"] > 1000
    assert res["fraction_seen_after_collapse"] < 0.3  # the collapse keeps A predicting
