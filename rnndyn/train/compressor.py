"""The neural history compressor (Schmidhuber 1992, "Learning complex, extended sequences using
the principle of history compression", Neural Computation 4(2):234, doi:10.1162/neco.1992.4.2.234).

A stack of recurrent predictors over a stream of symbols. Level 0 (the *automatizer* A)
reads every symbol and predicts the next one; a symbol whose predicted probability is below
``threshold`` is *unpredicted* and goes up to level 1 (the *chunker* C), together with a time
stamp, ``log(1 + dt)`` of the steps dt since the previous unpredicted symbol; level 1 predicts
its own next input, and what it fails to predict goes up to level 2, and so on. The first
symbol of a sequence is always unpredicted (nothing came before it). Predictable symbols are
redundant: the sequence of unpredicted symbols with their times is an unambiguous, shorter
description of the history, so an upper level bridges in a few steps what took the stream
thousands, and a long-lag dependence becomes a short one.

The *collapse* (Section 4 of the paper): A has extra outputs trained, at every step, to
predict C's current state (the state after C's last update: C's recurrent state, [h; c]
for an LSTM; the paper also counts C's output units, which are a function of it), so that
the internal representations C finds are reproduced by A; A's loss is its own next-symbol cross-entropy
plus ``imitation_weight`` times the mean squared error of this imitation
(``PredictAndImitate``).

Every level is an ordinary cell of ``rnndyn.models`` (Elman with a readout, or an LSTM/GRU
with a linear readout in a ``Stacked``) trained by the shared loop ``rnndyn.train.train``
(exact BPTT, Adam, clipping); the compression (choosing the unpredicted events, building
the upper levels' padded input sequences) is vectorised numpy.

Symbols are integers in [0, n_symbols), time-major like ``rnndyn.run``: a stream is (T, N)
(N sequences of T steps) or (T,) for one sequence.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._blas import sum_squares
from .._validate import check_seed, choice, in_range, positive, positive_int, warn
from ..errors import ValidationError
from ..integrate import run
from ..models.deep import Stacked
from ..models.discrete import Elman
from ..models.gated import GRU, LSTM
from .loop import train
from .losses import CrossEntropy, Loss

CELLS = ("elman", "lstm", "gru")


# ------------------------------------------------------------------------------ the loss
class PredictAndImitate(Loss):
    """Next-symbol cross-entropy on the first ``n_symbols`` outputs (logits) plus
    ``weight`` times the mean squared error of the other outputs (the imitation of the
    chunker's state, Schmidhuber 1992, Sec. 4) against their targets.

    The symbol part counts on the steps in ``mask`` (mean over them, as ``CrossEntropy``);
    the imitation part on every entry whose target is finite (mean over them; NaN marks an
    entry without a target, e.g. before the chunker was trained). With no imitation outputs
    it is ``CrossEntropy``.

    Parameters
    ----------
    n_symbols : int
        Number of symbol logits K; the outputs are (T, B, K + n_imitation).
    weight : float >= 0
        Weight of the imitation term.
    """

    name = "predict_and_imitate"

    def __init__(self, n_symbols: int, weight: float = 1.0):
        self.K = positive_int(n_symbols, "PredictAndImitate.n_symbols")
        self.weight = positive(weight, "PredictAndImitate.weight", allow_zero=True)
        self._ce = CrossEntropy()

    def __repr__(self):
        return f"PredictAndImitate(n_symbols={self.K}, weight={self.weight:g})"

    def check_targets(self, targets, mask, where):
        K = self.K
        if targets.shape[-1] < K:
            raise ValidationError(f"{where}.targets", f"needs at least n_symbols = {K} "
                                  f"outputs, got {targets.shape[-1]}", targets)
        self._ce.check_targets(targets[..., :K], mask, where)
        if np.isinf(targets[..., K:]).any():
            raise ValidationError(f"{where}.targets", "imitation targets must be finite, or "
                                  "NaN where there is no target", targets)

    def __call__(self, Y, targets, mask):
        K = self.K
        value, g_sym = self._ce(Y[..., :K], targets[..., :K], mask)
        grad = np.zeros_like(Y)
        grad[..., :K] = g_sym
        if Y.shape[-1] > K:
            have = np.isfinite(targets[..., K:])
            count = max(float(have.sum()), 1.0)
            diff = np.where(have, Y[..., K:] - np.where(have, targets[..., K:], 0.0), 0.0)
            value += self.weight * sum_squares(diff) / count
            grad[..., K:] = (2.0 * self.weight / count) * diff
        return value, grad


# ------------------------------------------------------------------------------ events
class Events(NamedTuple):
    """What one level sees: the unpredicted symbols of the level below, left-aligned and
    padded.

    ``symbols`` (E, N) int (-1 after a sequence's last event), ``steps`` (E, N) int (the time
    step of each event in the original stream, -1 padding) and ``mask`` (E, N) bool (a real
    event). E is the largest number of events of any sequence.
    """

    symbols: np.ndarray
    steps: np.ndarray
    mask: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        """(N,) number of events of each sequence."""
        return self.mask.sum(axis=0)

    @property
    def stamps(self) -> np.ndarray:
        """(E, N) time stamps ``log(1 + dt)``, dt the steps since the previous event (the step
        itself plus one for the first event); 0 on padding."""
        prev = np.vstack([np.full((1, self.steps.shape[1]), -1), self.steps[:-1]])
        return np.where(self.mask, np.log1p(np.maximum(self.steps - prev, 0)), 0.0)


def _stream(symbols, n_symbols: int, where: str, min_length: int = 1) -> np.ndarray:
    """Symbols as an int array (T, N) with entries in [0, n_symbols)."""
    try:
        arr = np.asarray(symbols)
    except (TypeError, ValueError):
        raise ValidationError(where, "must be an integer array (T, N) or (T,)", symbols) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.integer) or
                                   np.issubdtype(arr.dtype, np.floating)):
        raise ValidationError(where, f"must be an integer array (T, N) or (T,), got dtype "
                              f"{arr.dtype}", symbols)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValidationError(where, f"expected shape (T, N) or (T,), got {arr.shape}", symbols)
    if arr.shape[0] < min_length or arr.shape[1] == 0:
        raise ValidationError(where, f"is empty or too short (shape {arr.shape}); pass at least "
                              f"{min_length} step(s) of at least one sequence", symbols)
    if np.issubdtype(arr.dtype, np.floating):
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValidationError(where, f"symbols must be integers, got {arr[i]} at {i}",
                                  symbols)
    arr = arr.astype(np.int64)
    out = (arr < 0) | (arr >= n_symbols)
    if out.any():
        i = tuple(int(k) for k in np.argwhere(out)[0])
        raise ValidationError(where, f"symbols must lie in [0, {n_symbols}), got {arr[i]} at "
                              f"{i}; raise n_symbols or remap the symbols", symbols)
    return arr


def _one_hot(symbols, K):
    """(..., K) one-hot of int symbols; -1 (padding) gives zeros."""
    return np.where(symbols[..., None] >= 0, np.eye(K)[np.maximum(symbols, 0)], 0.0)


def next_symbol_data(symbols, n_symbols: int):
    """Next-symbol prediction data of a stream for one RNN: inputs the one-hot symbols
    0..T-2, targets the one-hot symbols 1..T-1.

    Parameters
    ----------
    symbols : int array (T, N) or (T,), T >= 2
    n_symbols : int

    Returns
    -------
    (inputs (T-1, N, K), targets (T-1, N, K)), for ``rnndyn.train.train`` with
    ``loss="cross_entropy"``.
    """
    S = _stream(symbols, positive_int(n_symbols, "next_symbol_data.n_symbols", 2),
                "next_symbol_data.symbols", 2)
    return _one_hot(S[:-1], n_symbols), _one_hot(S[1:], n_symbols)


def _surprised(probs, events: Events, threshold: float) -> np.ndarray:
    """(E, N) bool: event k is unpredicted, i.e. the probability the level gave its symbol
    after event k - 1 is below threshold; the first event always is."""
    E = events.symbols.shape[0]
    p = np.ones(events.symbols.shape)
    if E > 1:
        nxt = np.maximum(events.symbols[1:], 0)
        p[1:] = np.take_along_axis(probs[:-1], nxt[..., None], axis=-1)[..., 0]
    up = (p < threshold) & events.mask
    up[0] = events.mask[0]
    return up


def _select(events: Events, up: np.ndarray) -> Events:
    """The events flagged ``up``, left-aligned per sequence (stable: order kept)."""
    counts = up.sum(axis=0)
    E = max(int(counts.max()), 1)
    order = np.argsort(~up, axis=0, kind="stable")[:E]
    keep = np.arange(E)[:, None] < counts[None, :]
    return Events(np.where(keep, np.take_along_axis(events.symbols, order, 0), -1),
                  np.where(keep, np.take_along_axis(events.steps, order, 0), -1), keep)


def _softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


# ------------------------------------------------------------------------------ the stack
class HistoryCompressor:
    """A neural history compressor: ``levels`` recurrent predictors, each seeing only the
    symbols the level below failed to predict (Schmidhuber 1992).

    Parameters
    ----------
    n_symbols : int >= 2
        Alphabet size K; symbols are ints in [0, K).
    levels : int >= 1
        Number of levels (level 0 reads the stream, level l >= 1 the unpredicted events of
        level l - 1 with their time stamps).
    hidden : int or sequence of int
        Hidden units per level (one for all, or one per level).
    cell : {"elman", "lstm", "gru"}
        Cell of every level: an ``Elman`` with a linear readout, or an ``LSTM``/``GRU`` with a
        linear readout in a ``Stacked``.
    threshold : float in (0, 1)
        A symbol goes up when the probability its level predicted for it is below this.
    collapse : bool
        Give level 0 (the automatizer) extra outputs trained to predict level 1's (the
        chunker's) state at every step (needs levels >= 2).
    imitation_weight : float >= 0
        Weight of that imitation in the automatizer's loss (``PredictAndImitate``).
    seed : int, Generator or None
        Initial weights.

    Attributes
    ----------
    nets : list of models
        The level networks; level l takes K inputs (+1 time stamp for l >= 1) and gives K
        logits (+ the chunker's state size for a collapsing automatizer).
    histories : list of TrainHistory
        One per training phase of ``fit`` (levels bottom-up, then the collapse).

    Examples
    --------
    >>> hc = HistoryCompressor(n_symbols=12, levels=2, hidden=16, seed=0)
    >>> hc.fit(symbols, updates=200)
    >>> seen = hc.compress(symbols)       # what each level sees
    >>> hc.classify(symbols[:-1], classes=[8, 9])
    """

    def __init__(self, n_symbols: int, levels: int = 2, hidden=16, *, cell: str = "elman",
                 threshold: float = 0.5, collapse: bool = False,
                 imitation_weight: float = 1.0, seed=None):
        W = "HistoryCompressor"
        self.K = positive_int(n_symbols, f"{W}.n_symbols", 2)
        self.levels = positive_int(levels, f"{W}.levels")
        hs = [hidden] * self.levels if np.ndim(hidden) == 0 else list(hidden)
        if len(hs) != self.levels:
            raise ValidationError(f"{W}.hidden", f"give one size, or one per level "
                                  f"({self.levels}), got {len(hs)}", hidden)
        self.hidden = [positive_int(h, f"{W}.hidden") for h in hs]
        self.cell = choice(cell, f"{W}.cell", CELLS)
        self.threshold = threshold
        self.collapse = bool(collapse)
        if self.collapse and self.levels < 2:
            raise ValidationError(f"{W}.collapse", "the automatizer imitates the chunker "
                                  "(level 1): pass levels >= 2", collapse)
        self.imitation_weight = positive(imitation_weight, f"{W}.imitation_weight",
                                         allow_zero=True)
        rng = check_seed(seed, f"{W}.seed")
        self.nets = []
        for l, H in enumerate(self.hidden):
            n_extra = self._state_size(l + 1) if (l == 0 and self.collapse) else 0
            self.nets.append(self._net(self.K + (l > 0), H, self.K + n_extra, rng))
        self.histories = []

    @property
    def threshold(self) -> float:
        """A symbol goes up when its predicted probability is below this (0 < threshold < 1;
        settable, e.g. to sweep it after training)."""
        return self._threshold

    @threshold.setter
    def threshold(self, value):
        self._threshold = in_range(value, "HistoryCompressor.threshold", 0.0, 1.0, "neither")

    def _state_size(self, level):
        return self.hidden[level] * (2 if self.cell == "lstm" else 1)

    def _net(self, n_in, H, n_out, rng):
        seed = int(rng.integers(2 ** 31))
        if self.cell == "elman":
            return Elman.random(n_in, H, n_out, seed=seed)
        core = (LSTM if self.cell == "lstm" else GRU).random(n_in, H, seed=seed)
        k = 1.0 / np.sqrt(H)
        r = np.random.default_rng(seed + 1)
        return Stacked((core,), W_out=r.uniform(-k, k, (n_out, H)), b_out=r.uniform(-k, k, n_out))

    @property
    def loss(self) -> PredictAndImitate:
        """The loss of every level (an upper level has no imitation outputs: cross-entropy)."""
        return PredictAndImitate(self.K, self.imitation_weight)

    # -- data of one level ---------------------------------------------------------------
    def level_inputs(self, level: int, events: Events) -> np.ndarray:
        """(E, N, n_in) inputs of ``level``: one-hot symbols, and for l >= 1 the time stamp."""
        X = _one_hot(events.symbols, self.K)
        return X if level == 0 else np.concatenate([X, events.stamps[..., None]], axis=-1)

    def level_data(self, level: int, events: Events, imitate=None):
        """(inputs (E, N, n_in), targets (E, N, n_out), mask (E, N)) for training ``level``
        on its events: each event predicts the next one's symbol. ``imitate`` (E, N, n_C)
        holds the automatizer's imitation targets (NaN: none); default all NaN."""
        X = self.level_inputs(level, events)
        Y = _one_hot(np.vstack([events.symbols[1:], np.full((1, X.shape[1]), -1)]), self.K)
        M = np.vstack([events.mask[1:], np.zeros((1, X.shape[1]), bool)])
        extra = self.nets[level].n_out - self.K
        if extra:
            imitate = np.full(X.shape[:2] + (extra,), np.nan) if imitate is None else imitate
            Y = np.concatenate([Y, imitate], axis=-1)
        return X, Y, M

    # -- compression ---------------------------------------------------------------------
    def _level_run(self, level, events):
        return run(self.nets[level], self.level_inputs(level, events))

    def compress(self, symbols) -> list:
        """What each level sees.

        Parameters
        ----------
        symbols : int array (T, N) or (T,)

        Returns
        -------
        list of Events, one per level: level 0 sees every step; level l the events level
        l - 1 failed to predict (``counts / T`` is the fraction of the stream it sees).
        """
        S = _stream(symbols, self.K, "HistoryCompressor.compress.symbols")
        return self._compress(S)

    def _compress(self, S, upto=None):
        T, N = S.shape
        seen = [Events(S, np.broadcast_to(np.arange(T)[:, None], (T, N)).copy(),
                       np.ones((T, N), bool))]
        for l in range(1, self.levels if upto is None else upto + 1):
            probs = _softmax(self._level_run(l - 1, seen[-1]).outputs[..., :self.K])
            seen.append(_select(seen[-1], _surprised(probs, seen[-1], self.threshold)))
        return seen

    def predict(self, symbols, level: int = -1) -> np.ndarray:
        """(N, K) probabilities ``level`` (default the top) gives the next input it will
        see, after reading its events of the stream ``symbols`` (T, N) or (T,)."""
        S = _stream(symbols, self.K, "HistoryCompressor.predict.symbols")
        level = self._level(level, "HistoryCompressor.predict.level")
        ev = self._compress(S, level)[level]
        out = self._level_run(level, ev).outputs[..., :self.K]
        last = np.take_along_axis(out, (ev.counts - 1)[None, :, None], axis=0)[0]
        return _softmax(last)

    def classify(self, symbols, classes, level: int = -1) -> np.ndarray:
        """(N,) index into ``classes`` (symbol ids) of the most probable next symbol among
        them, by ``predict``: a class shown early in a long stream is recalled by the level
        at which the lag has become short."""
        cls = _stream(classes, self.K, "HistoryCompressor.classify.classes")[:, 0]
        return np.argmax(self.predict(symbols, level)[:, cls], axis=1)

    def _level(self, level, where):
        if not isinstance(level, (int, np.integer)) or not -self.levels <= level < self.levels:
            raise ValidationError(where, f"must be an int in [-{self.levels}, {self.levels})",
                                  level)
        return int(level) % self.levels

    def chunker_states(self, symbols):
        """(A's imitation outputs (T, N, n_C), C's state held between its updates (T, N,
        n_C)): at step t, C's state after its last event at or before t, the target of the
        collapse; needs ``collapse=True``."""
        if not self.collapse:
            raise ValidationError("HistoryCompressor.collapse", "is False: there is no "
                                  "imitation; build the compressor with collapse=True")
        S = _stream(symbols, self.K, "HistoryCompressor.chunker_states.symbols")
        seen = self._compress(S, 1)
        return self._level_run(0, seen[0]).outputs[..., self.K:], self._held(seen[1], S.shape[0])

    def _held(self, ev: Events, T):
        """C's state at every stream step (forward-filled from its updates)."""
        states = self._level_run(1, ev).states
        at = np.zeros((T, ev.mask.shape[1]), int)
        rows, cols = np.nonzero(ev.mask)
        at[ev.steps[rows, cols], cols] = 1
        idx = np.cumsum(at, axis=0) - 1  # the first step is always an event: idx >= 0
        return np.take_along_axis(states, idx[..., None], axis=0)

    # -- training ------------------------------------------------------------------------
    def fit(self, symbols, *, updates=200, batch_size: int = 32, lr: float = 1e-2,
            clip_norm: float | None = 1.0, window: int | None = None,
            collapse_updates: int | None = None, seed=None,
            progress: bool = False) -> "HistoryCompressor":
        """Train the levels bottom-up, each on what the (trained) level below failed to
        predict, then (``collapse``) the automatizer on its combined loss (``absorb``).

        Parameters
        ----------
        symbols : int array (T, N) or (T,), T >= 2
            Training streams.
        updates : int or sequence of int
            Weight updates (mini-batches) per level.
        batch_size, lr, clip_norm : as ``rnndyn.train.train`` (Adam)
        window : int, optional
            Train level 0 on windows of this many steps of the streams (each from a zero
            state) instead of whole streams: predicting the next symbol is local, and short
            windows are cheaper. Default: whole streams.
        collapse_updates : int >= 0, optional
            Updates of the collapse phase (default ``updates`` of level 0; 0 skips it, to
            call ``absorb`` later).
        seed : int, Generator or None
            Mini-batch shuffling.
        progress : bool
            Show tqdm progress bars.

        Returns
        -------
        self
        """
        W = "HistoryCompressor.fit"
        S = _stream(symbols, self.K, f"{W}.symbols", 2)
        ups = [updates] * self.levels if np.ndim(updates) == 0 else list(updates)
        if len(ups) != self.levels:
            raise ValidationError(f"{W}.updates", f"give one count, or one per level "
                                  f"({self.levels}), got {len(ups)}", updates)
        ups = [positive_int(u, f"{W}.updates") for u in ups]
        n_collapse = positive_int(ups[0] if collapse_updates is None else collapse_updates,
                                  f"{W}.collapse_updates", 0)
        opts = self._options(batch_size, lr, clip_norm, window, seed, progress, W, S)
        self.histories = []
        for l in range(self.levels):
            data = self.level_data(l, self._compress(S, l)[l])
            if l == 0:
                data = self._windows(data, opts["window"])
            if not data[2].any():
                warn(f"HistoryCompressor.fit: level {l} sees at most one event per sequence "
                     "and has nothing to predict; it is left untrained (lower the threshold "
                     "or use fewer levels)")
                continue
            self._train(l, data, ups[l], opts)
        if self.collapse and n_collapse:
            self._absorb(S, n_collapse, opts)
        return self

    def absorb(self, symbols, *, updates: int = 200, batch_size: int = 32, lr: float = 1e-2,
               clip_norm: float | None = 1.0, window: int | None = None, seed=None,
               progress: bool = False) -> "HistoryCompressor":
        """The collapse (Schmidhuber 1992, Sec. 4): train the automatizer on its own
        next-symbol prediction plus predicting the chunker's state at every step
        (``PredictAndImitate``), the chunker held fixed. Needs ``collapse=True``; parameters as
        ``fit``. Returns self."""
        W = "HistoryCompressor.absorb"
        if not self.collapse:
            raise ValidationError("HistoryCompressor.collapse", "is False: the automatizer "
                                  "has no imitation outputs; build it with collapse=True")
        S = _stream(symbols, self.K, f"{W}.symbols", 2)
        opts = self._options(batch_size, lr, clip_norm, window, seed, progress, W, S)
        self._absorb(S, positive_int(updates, f"{W}.updates"), opts)
        return self

    def _absorb(self, S, n, opts):
        seen = self._compress(S, 1)
        data = self.level_data(0, seen[0], self._held(seen[1], S.shape[0]))
        self._train(0, self._windows(data, opts["window"]), n, opts)

    def _options(self, batch_size, lr, clip_norm, window, seed, progress, W, S):
        window = None if window is None else positive_int(window, f"{W}.window")
        return dict(loss=self.loss, optimizer="adam", lr=positive(lr, f"{W}.lr"),
                    batch_size=positive_int(batch_size, f"{W}.batch_size"),
                    clip_norm=clip_norm, progress=progress, rng=check_seed(seed, f"{W}.seed"),
                    window=window if window is not None and window < S.shape[0] - 1 else None)

    def _train(self, level, data, n, opts):
        """``n`` updates of one level by the shared loop."""
        opts = dict(opts)
        rng, _ = opts.pop("rng"), opts.pop("window")
        batches = -(-data[0].shape[1] // opts["batch_size"])
        res = train(self.nets[level], data, epochs=-(-n // batches), max_updates=n,
                    seed=int(rng.integers(2 ** 31)), **opts)
        self.nets[level] = res.model
        self.histories.append(res.history)

    @staticmethod
    def _windows(data, window):
        """Cut (T, N, ...) sequences into windows of ``window`` steps (T // window per
        sequence, the rest dropped) stacked along the batch axis."""
        if window is None:
            return data
        T = data[0].shape[0]
        n = T // window

        def cut(A):
            A = A[:n * window].reshape((n, window) + A.shape[1:])
            return np.ascontiguousarray(np.moveaxis(A, 0, 1).reshape(
                (window, n * A.shape[2]) + A.shape[3:]))
        return tuple(cut(A) for A in data)
