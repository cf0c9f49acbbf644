"""Symbol streams for the neural history compressor (Schmidhuber 1992, Neural Computation
4(2):234): long predictable stretches and rare informative events (data only; every
generator takes ``seed=``). Symbols are ints, time-major: (T, N) for N sequences.

=========================  ===================================================================
``chunk_stream``           fixed sub-sequences (chunks) in random order, with rare random event
                           symbols between them: only chunk starts and events are unpredictable
``long_lag_classes``       a class symbol, then > 1000 steps of a deterministic cycle, an end
                           marker, and the class symbol again: predicting it needs the lag
=========================  ===================================================================
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import check_seed, in_range, positive_int
from ..errors import ValidationError


class SymbolStream(NamedTuple):
    """``symbols`` (T, N) int in [0, n_symbols), ``n_symbols``, ``informative`` (T, N) bool:
    the steps that no predictor can foresee (chunk starts and events), ``chunks``
    (n_chunks, chunk_length) the chunks."""

    symbols: np.ndarray
    n_symbols: int
    informative: np.ndarray
    chunks: np.ndarray


class LongLag(NamedTuple):
    """``symbols`` (T, N) int, ``labels`` (N,) int in [0, n_classes), ``classes`` (n_classes,)
    the class symbols (the answer at step T-1 is ``classes[labels]``), ``n_symbols``."""

    symbols: np.ndarray
    labels: np.ndarray
    classes: np.ndarray
    n_symbols: int


def chunk_stream(n: int, T: int = 1000, *, n_chunks: int = 4, chunk_length: int = 8,
                 n_body: int = 8, n_events: int = 2, p_event: float = 0.05,
                 chunk_seed=0, seed=None) -> SymbolStream:
    """Streams of fixed chunks in random order with rare informative events.

    ``n_chunks`` chunks of ``chunk_length`` distinct symbols each are drawn once (by
    ``chunk_seed``: the same chunks for training and test streams) from the body alphabet
    0..n_body-1, with distinct first symbols (so a chunk is known from its first symbol, and
    within a chunk the next symbol depends on which chunk it is: a predictor
    needs memory). A stream is a sequence of chunks drawn uniformly at random; before each
    chunk, with probability ``p_event``, one of the event symbols n_body..n_body+n_events-1
    (uniform) is inserted. Only chunk starts and events are unpredictable: a fraction about
    ``(1 + p_event) / (chunk_length + p_event)`` of the steps.

    Parameters
    ----------
    n, T : int
        Number of streams and their length.
    n_chunks, chunk_length : int
        Number of chunks (<= n_body) and their length (2 <= chunk_length <= n_body).
    n_body, n_events : int
        Body and event alphabet sizes; n_symbols = n_body + n_events.
    p_event : float in [0, 1]
    chunk_seed : int or Generator
        Draws the chunks (the task); ``seed`` draws the streams.

    Returns
    -------
    SymbolStream
    """
    n = positive_int(n, "chunk_stream.n")
    T = positive_int(T, "chunk_stream.T")
    n_body = positive_int(n_body, "chunk_stream.n_body", 2)
    L = positive_int(chunk_length, "chunk_stream.chunk_length", 2)
    C = positive_int(n_chunks, "chunk_stream.n_chunks")
    n_events = positive_int(n_events, "chunk_stream.n_events", 0)
    p_event = in_range(p_event, "chunk_stream.p_event", 0.0, 1.0)
    if L > n_body:
        raise ValidationError("chunk_stream.chunk_length", f"a chunk has distinct symbols, so "
                              f"it must be <= n_body = {n_body}, got {L}", chunk_length)
    if C > n_body:
        raise ValidationError("chunk_stream.n_chunks", f"chunks start with distinct symbols, "
                              f"so at most n_body = {n_body}, got {C}", n_chunks)
    if p_event > 0 and n_events == 0:
        raise ValidationError("chunk_stream.n_events", "p_event > 0 needs event symbols; pass "
                              "n_events >= 1", n_events)
    rng = check_seed(seed, "chunk_stream.seed")
    task = check_seed(chunk_seed, "chunk_stream.chunk_seed")
    firsts = task.permutation(n_body)[:C]
    chunks = np.empty((C, L), int)
    for c in range(C):  # C short draws: the rest of each chunk avoids its first symbol
        rest = task.permutation(np.delete(np.arange(n_body), firsts[c]))[:L - 1]
        chunks[c] = np.concatenate([[firsts[c]], rest])
    S = -(-T // L) + 1  # slots: enough chunks to fill T steps
    slots = np.full((n, S, L + 1), -1)
    slots[:, :, 1:] = chunks[rng.integers(0, C, (n, S))]
    has = rng.random((n, S)) < p_event
    slots[:, :, 0] = np.where(has, n_body + rng.integers(0, max(n_events, 1), (n, S)), -1)
    info = np.zeros_like(slots, bool)
    info[:, :, :2] = True  # the event (if any) and the chunk's first symbol
    flat = slots.reshape(n, -1)
    order = np.argsort(flat < 0, axis=1, kind="stable")[:, :T]
    symbols = np.take_along_axis(flat, order, axis=1)
    informative = np.take_along_axis(info.reshape(n, -1), order, axis=1)
    return SymbolStream(np.ascontiguousarray(symbols.T), n_body + n_events,
                        np.ascontiguousarray(informative.T), chunks)


def long_lag_classes(n: int, T: int = 1200, *, n_classes: int = 2, period: int = 8,
                     seed=None) -> LongLag:
    """A classification with a lag of T - 1 steps, made of predictable chunks.

    Step 0 shows the class symbol; steps 1..T-3 run a deterministic cycle 0, 1, ...,
    period-1, 0, ... from a random phase; step T-2 is an end marker; step T-1 repeats the
    class symbol. Predicting the last symbol from the end marker needs the first one, T - 1
    steps back; everything in between is predictable (Schmidhuber 1992's setting, where
    history compression turns the long lag into a short one).

    Symbols: 0..period-1 the cycle, period..period+n_classes-1 the classes, period+n_classes
    the end marker.

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int >= 5
        Length (the lag is T - 1).
    n_classes : int >= 2
    period : int >= 2
        Period of the cycle.

    Returns
    -------
    LongLag
        symbols (T, n), labels (n,), classes (n_classes,), n_symbols = period + n_classes + 1.
    """
    n = positive_int(n, "long_lag_classes.n")
    T = positive_int(T, "long_lag_classes.T", 5)
    n_classes = positive_int(n_classes, "long_lag_classes.n_classes", 2)
    period = positive_int(period, "long_lag_classes.period", 2)
    rng = check_seed(seed, "long_lag_classes.seed")
    labels = rng.integers(0, n_classes, n)
    classes = period + np.arange(n_classes)
    phase = rng.integers(0, period, n)
    S = np.empty((T, n), int)
    S[1:T - 2] = (phase[None, :] + np.arange(T - 3)[:, None]) % period
    S[0] = S[T - 1] = classes[labels]
    S[T - 2] = period + n_classes
    return LongLag(S, labels, classes, period + n_classes + 1)
