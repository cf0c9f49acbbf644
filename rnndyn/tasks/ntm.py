"""The five algorithmic tasks of the Neural Turing Machine paper (Graves, Wayne & Danihelka
2014, arXiv:1410.5401, section 4), as data (every generator takes ``seed=``).

Each generator returns ``Sequences(inputs, targets, mask)`` (``rnndyn.tasks.sequences``),
time-major: inputs (T, N, n_in), targets (T, N, n_out), mask (T, N) bool marking the steps
whose targets are scored. Sequences of different lengths in one batch are right-padded with
zero steps outside the mask. The targets are bits, scored with the ``"bits"`` loss of
``rnndyn.train.losses`` (bits per sequence; the model's outputs are logits).

=========================  =============================================================  =====
generator                  task (Graves et al. 2014)                                      n_in
=========================  =============================================================  =====
``copy``                   a sequence of random ``width``-bit vectors, a delimiter, then   w + 1
                           the sequence again (4.1)
``repeat_copy``            the sequence, then the number of copies on its own channel;     w + 2
                           the target repeats it that often and ends with a marker (4.2)
``associative_recall``     items of 3 vectors between delimiters, then a query item; the   w + 2
                           target is the item that followed the query (4.3)
``dynamic_ngrams``         bits from a random 6-gram table (2^5 probabilities ~ Beta(1/2,     1
                           1/2)); predict each next bit (4.4)
``priority_sort``          vectors with priorities in [-1, 1]; the target is the           w + 2
                           ``n_out`` highest, sorted by priority, highest first (4.5)
=========================  =============================================================  =====
"""
from __future__ import annotations

import numpy as np

from .._validate import check_seed, positive_int
from ..errors import ValidationError
from .sequences import Sequences


def _lengths(value, name: str, minimum: int = 1) -> tuple[int, int]:
    """(lo, hi) from an int (a fixed length) or an inclusive range (lo, hi)."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        lo, hi = pair
        lo, hi = positive_int(lo, name, minimum), positive_int(hi, name, minimum)
    except (TypeError, ValueError, ValidationError):
        raise ValidationError(name, f"expected an int >= {minimum} or a range (lo, hi) of ints "
                              f">= {minimum}, got {value!r}", value) from None
    if lo > hi:
        raise ValidationError(name, f"the range ({lo}, {hi}) is empty; pass lo <= hi", value)
    return lo, hi


def copy(n: int, lengths=(1, 20), *, width: int = 8, seed=None) -> Sequences:
    """Copy (section 4.1): L random ``width``-bit vectors (L uniform in ``lengths``), then
    the delimiter (its own input channel), then L blank steps during which the target is
    the input sequence again: target step L + 1 + t is input step t.

    Parameters
    ----------
    n : int
        Number of sequences.
    lengths : int or (int, int)
        Sequence length, or the inclusive range it is drawn from (the paper trains on 1-20).
    width : int
        Bits per vector (8 in the paper).

    Returns
    -------
    Sequences
        inputs (2 L_max + 1, n, width + 1), targets (2 L_max + 1, n, width), mask: the L
        output steps of each sequence.
    """
    n = positive_int(n, "copy.n")
    lo, hi = _lengths(lengths, "copy.lengths")
    width = positive_int(width, "copy.width")
    rng = check_seed(seed, "copy.seed")
    L = rng.integers(lo, hi + 1, n)
    bits = rng.integers(0, 2, (hi, n, width)).astype(float)
    T = 2 * int(L.max()) + 1
    X, Y = np.zeros((T, n, width + 1)), np.zeros((T, n, width))
    mask = np.zeros((T, n), bool)
    for k, l in enumerate(L):  # one short loop per sequence, vectorised within it
        X[:l, k, :width] = bits[:l, k]
        X[l, k, width] = 1.0
        Y[l + 1:2 * l + 1, k] = bits[:l, k]
        mask[l + 1:2 * l + 1, k] = True
    return Sequences(X, Y, mask)


def repeat_copy(n: int, lengths=(1, 10), repeats=(1, 10), *, width: int = 8,
                seed=None) -> Sequences:
    """Repeat copy (section 4.2): L random vectors, a start delimiter (channel ``width``),
    then the number of copies R on channel ``width + 1`` at the next step, normalised to
    mean 0 and variance 1 over the uniform distribution of ``repeats`` (0 if the range is a
    single value). The target is the sequence R times over, then an end marker on output
    channel ``width`` (the network must count).

    Returns
    -------
    Sequences
        inputs (T, n, width + 2), targets (T, n, width + 1), mask: the L R + 1 output steps
        (starting right after the repeat count), T = max over sequences of L + 2 + L R + 1.
    """
    n = positive_int(n, "repeat_copy.n")
    lo, hi = _lengths(lengths, "repeat_copy.lengths")
    rlo, rhi = _lengths(repeats, "repeat_copy.repeats")
    width = positive_int(width, "repeat_copy.width")
    rng = check_seed(seed, "repeat_copy.seed")
    L = rng.integers(lo, hi + 1, n)
    R = rng.integers(rlo, rhi + 1, n)
    bits = rng.integers(0, 2, (hi, n, width)).astype(float)
    mean = 0.5 * (rlo + rhi)
    std = np.sqrt(((rhi - rlo + 1) ** 2 - 1) / 12.0)  # of the discrete uniform on [rlo, rhi]
    T = int(np.max(L + 2 + L * R + 1))
    X, Y = np.zeros((T, n, width + 2)), np.zeros((T, n, width + 1))
    mask = np.zeros((T, n), bool)
    for k, (l, r) in enumerate(zip(L, R)):
        X[:l, k, :width] = bits[:l, k]
        X[l, k, width] = 1.0
        X[l + 1, k, width + 1] = (r - mean) / std if std > 0 else 0.0
        start = l + 2
        Y[start:start + l * r, k, :width] = np.tile(bits[:l, k], (r, 1))
        Y[start + l * r, k, width] = 1.0
        mask[start:start + l * r + 1, k] = True
    return Sequences(X, Y, mask)


def associative_recall(n: int, items=(2, 6), *, item_length: int = 3, width: int = 6,
                       seed=None) -> Sequences:
    """Associative recall (section 4.3): K items (K uniform in ``items``), each
    ``item_length`` random ``width``-bit vectors preceded by the item delimiter (channel
    ``width``); then the query delimiter (channel ``width + 1``), a copy of one of the first
    K - 1 items, the query delimiter again; the target is the item that followed the query
    item, over the ``item_length`` steps after that.

    Returns
    -------
    Sequences
        inputs (T, n, width + 2), targets (T, n, width), mask: the item_length output steps,
        T = (item_length + 1) K_max + item_length + 2 + item_length.
    """
    n = positive_int(n, "associative_recall.n")
    lo, hi = _lengths(items, "associative_recall.items", 2)
    il = positive_int(item_length, "associative_recall.item_length")
    width = positive_int(width, "associative_recall.width")
    rng = check_seed(seed, "associative_recall.seed")
    K = rng.integers(lo, hi + 1, n)
    data = rng.integers(0, 2, (hi, il, n, width)).astype(float)
    query = np.floor(rng.random(n) * (K - 1)).astype(int)  # item 0 .. K-2
    T = int((il + 1) * K.max() + 2 * il + 2)
    X, Y = np.zeros((T, n, width + 2)), np.zeros((T, n, width))
    mask = np.zeros((T, n), bool)
    for k in range(n):
        for i in range(K[k]):
            t = i * (il + 1)
            X[t, k, width] = 1.0
            X[t + 1:t + 1 + il, k, :width] = data[i, :, k]
        t = K[k] * (il + 1)
        X[t, k, width + 1] = 1.0
        X[t + 1:t + 1 + il, k, :width] = data[query[k], :, k]
        X[t + 1 + il, k, width + 1] = 1.0
        out = t + 2 + il
        Y[out:out + il, k] = data[query[k] + 1, :, k]
        mask[out:out + il, k] = True
    return Sequences(X, Y, mask)


NGRAM_CONTEXT = 5  # 6-grams: the next bit depends on the previous five


def ngram_tables(n: int, *, seed=None) -> np.ndarray:
    """n lookup tables of a 6-gram model (section 4.4): for each of the 2^5 contexts the
    probability that the next bit is 1, drawn from Beta(1/2, 1/2).

    Returns
    -------
    array (n, 32)
        Row k is sequence k's table, indexed by the context read as a binary number, the
        oldest bit most significant.
    """
    n = positive_int(n, "ngram_tables.n")
    rng = check_seed(seed, "ngram_tables.seed")
    return rng.beta(0.5, 0.5, (n, 2 ** NGRAM_CONTEXT))


def dynamic_ngrams(n: int, T: int = 200, *, tables=None, seed=None) -> Sequences:
    """Dynamic N-grams (section 4.4): each sequence draws its own 6-gram table
    (``ngram_tables``) unless ``tables`` is given; its first five bits are fair coin flips,
    every later bit is 1 with the table's probability for the five bits before it. The
    network sees bit t and predicts bit t + 1.

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Steps per sequence (the paper's 200 bits); T + 1 bits are drawn.
    tables : array (32,) or (n, 32), optional
        Probabilities in [0, 1] (one table shared, or one per sequence).

    Returns
    -------
    Sequences
        inputs (T, n, 1) = bits 0..T-1, targets (T, n, 1) = bits 1..T, mask: the steps
        t >= 4, whose target has a full five-bit context in the inputs so far (the targets
        before are 0).
    """
    n = positive_int(n, "dynamic_ngrams.n")
    T = positive_int(T, "dynamic_ngrams.T", NGRAM_CONTEXT)
    rng = check_seed(seed, "dynamic_ngrams.seed")
    C = 2 ** NGRAM_CONTEXT
    if tables is None:
        P = rng.beta(0.5, 0.5, (n, C))
    else:
        P = np.asarray(tables, dtype=float)
        if P.shape not in ((C,), (n, C)) or not np.all((P >= 0) & (P <= 1)):
            raise ValidationError("dynamic_ngrams.tables", f"expected probabilities in [0, 1] "
                                  f"of shape ({C},) or ({n}, {C}), got {P.shape}", tables)
        P = np.broadcast_to(P, (n, C))
    bits = np.zeros((T + 1, n), dtype=np.int64)
    bits[:NGRAM_CONTEXT] = rng.integers(0, 2, (NGRAM_CONTEXT, n))
    ctx = np.zeros(n, dtype=np.int64)
    for t in range(NGRAM_CONTEXT):
        ctx = (ctx << 1) | bits[t]
    u = rng.random((T + 1, n))
    cols = np.arange(n)
    for t in range(NGRAM_CONTEXT, T + 1):  # a loop over time, vectorised over sequences
        bits[t] = u[t] < P[cols, ctx]
        ctx = ((ctx << 1) | bits[t]) & (C - 1)
    mask = np.zeros((T, n), bool)
    mask[NGRAM_CONTEXT - 1:] = True
    Y = bits[1:, :, None].astype(float)
    Y[~mask] = 0.0  # as in every task: no target outside the mask
    return Sequences(bits[:-1, :, None].astype(float), Y, mask)


def ngram_bayes(inputs) -> np.ndarray:
    """The Bayes-optimal predictor of ``dynamic_ngrams`` (Graves et al. 2014, section 4.4;
    Murphy 2012): after the counts N_0, N_1 of zeros and ones that followed the current
    five-bit context so far, P(next = 1) = (N_1 + 1/2) / (N_0 + N_1 + 1).

    Parameters
    ----------
    inputs : array (T, n, 1)
        The bits, as ``dynamic_ngrams`` returns them.

    Returns
    -------
    array (T, n, 1)
        The predicted probability of bit t + 1 after seeing bits 0..t (1/2 before a full
        context).
    """
    bits = np.asarray(inputs, dtype=float)
    if bits.ndim != 3 or bits.shape[2] != 1 or not np.all((bits == 0) | (bits == 1)):
        raise ValidationError("ngram_bayes.inputs", f"expected bits of shape (T, n, 1), got "
                              f"{bits.shape}", inputs)
    b = bits[..., 0].astype(np.int64)
    T, n = b.shape
    C = 2 ** NGRAM_CONTEXT
    counts = np.zeros((n, C, 2))
    out = np.full((T, n, 1), 0.5)
    cols = np.arange(n)
    ctx = prev = np.zeros(n, dtype=np.int64)  # prev: the context before bit t
    for t in range(T):
        if t >= NGRAM_CONTEXT:  # the context before bit t has now been followed by bit t
            counts[cols, prev, b[t]] += 1
        ctx = ((ctx << 1) | b[t]) & (C - 1)
        if t >= NGRAM_CONTEXT - 1:
            c = counts[cols, ctx]
            out[t, :, 0] = (c[:, 1] + 0.5) / (c.sum(axis=1) + 1.0)
        prev = ctx
    return out


def priority_sort(n: int, items: int = 20, outputs: int = 16, *, width: int = 8,
                  seed=None) -> Sequences:
    """Priority sort (section 4.5): ``items`` random vectors, each with a priority drawn
    from U[-1, 1] on channel ``width``, then a delimiter (channel ``width + 1``); the target
    is the ``outputs`` vectors of highest priority, sorted by priority, highest first.

    Returns
    -------
    Sequences
        inputs (items + 1 + outputs, n, width + 2), targets (same T, n, width), mask: the
        last ``outputs`` steps.
    """
    n = positive_int(n, "priority_sort.n")
    items = positive_int(items, "priority_sort.items")
    outputs = positive_int(outputs, "priority_sort.outputs")
    if outputs > items:
        raise ValidationError("priority_sort.outputs", f"must be <= items = {items}, got "
                              f"{outputs}", outputs)
    width = positive_int(width, "priority_sort.width")
    rng = check_seed(seed, "priority_sort.seed")
    bits = rng.integers(0, 2, (items, n, width)).astype(float)
    prio = rng.uniform(-1.0, 1.0, (items, n))
    T = items + 1 + outputs
    X, Y = np.zeros((T, n, width + 2)), np.zeros((T, n, width))
    X[:items, :, :width] = bits
    X[:items, :, width] = prio
    X[items, :, width + 1] = 1.0
    order = np.argsort(-prio, axis=0, kind="stable")[:outputs]  # (outputs, n)
    Y[items + 1:] = np.take_along_axis(bits, order[..., None], axis=0)
    mask = np.zeros((T, n), bool)
    mask[items + 1:] = True
    return Sequences(X, Y, mask)
