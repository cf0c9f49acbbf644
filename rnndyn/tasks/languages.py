"""Context-free languages as next-symbol prediction (data only; every generator takes
``seed=``), the benchmarks of the neural network pushdown automaton (Sun, Giles, Chen & Lee
1993; Das, Giles & Sun 1992) and of neural stacks (Grefenstette et al. 2015).

Each generator returns ``Sequences(inputs, targets, mask)`` (``rnndyn.tasks.sequences``),
time-major: a string ``$ w`` (``$`` the boundary symbol) is fed one symbol per step, one-hot
over the language's alphabet; the target at each step is the *set* of symbols the language
allows next (multi-hot over the same alphabet; ``$`` = the string may end here), so the
model's outputs are logits scored with the ``"bits"`` loss. Strings of different lengths are
right-padded with zero steps outside the mask.

**Recognition** (Gers & Schmidhuber 2001, IEEE TNN 12(6):1333; Rodriguez, Wiles & Elman
1999): a string is recognised when at every step each output is on the right side of 0.5
(after the logistic) — every allowed symbol predicted, every other one excluded.
``recognised(outputs, targets, mask)`` applies it. For a^n b^n this means: a's and the first
b may come in any order of a, b (target {a, b}); after the first b every symbol is determined,
so the n-th b and the end must be predicted exactly: the network must count.

=====================  ===================================================  ============
generator              strings (next-symbol sets)                           alphabet
=====================  ===================================================  ============
``anbn``               a^n b^n, n >= 1                                      a b $
``dyck``               balanced brackets of ``kinds`` types (Dyck-1: one)   ( ) [ ] $
``palindrome``         w c w^R, w in {a, b}^n, c the centre marker          a b c $
=====================  ===================================================  ============
"""
from __future__ import annotations

import numpy as np

from .._validate import check_seed, positive_int
from ..errors import ValidationError
from .ntm import _lengths
from .sequences import Sequences

ANBN_SYMBOLS = ("a", "b", "$")
DYCK_SYMBOLS = ("(", ")", "[", "]", "$")
PALINDROME_SYMBOLS = ("a", "b", "c", "$")


def _encode(strings, allowed, alphabet) -> Sequences:
    """One-hot inputs of ``$ + s`` and multi-hot targets ``allowed[k][t]`` (the set after
    symbol t of ``$ + s``), padded to the longest string."""
    idx = {a: k for k, a in enumerate(alphabet)}
    T = max(len(s) for s in strings) + 1
    n, A = len(strings), len(alphabet)
    X = np.zeros((T, n, A))
    Y = np.zeros((T, n, A))
    mask = np.zeros((T, n), bool)
    for k, (s, nexts) in enumerate(zip(strings, allowed)):
        X[np.arange(len(s) + 1), k, [idx[a] for a in "$" + s]] = 1.0
        for t, sset in enumerate(nexts):
            Y[t, k, [idx[a] for a in sset]] = 1.0
        mask[:len(s) + 1, k] = True
    return Sequences(X, Y, mask)


def anbn(n: int, lengths=(1, 10), *, seed=None) -> Sequences:
    """a^n b^n (the canonical context-free language): ``$ a^k b^k``, k uniform in ``lengths``,
    as next-symbol prediction. Targets: {a} after $, {a, b} after each a, {b} after the
    first k - 1 b's, {$} after the k-th.

    Parameters
    ----------
    n : int
        Number of strings.
    lengths : int or (int, int)
        k, or the inclusive range it is drawn from (k >= 1).

    Returns
    -------
    Sequences
        inputs (2 k_max + 1, n, 3) one-hot over ``ANBN_SYMBOLS``, targets the same shape,
        mask over the 2k + 1 steps of each string.
    """
    n = positive_int(n, "anbn.n")
    lo, hi = _lengths(lengths, "anbn.lengths")
    rng = check_seed(seed, "anbn.seed")
    ks = rng.integers(lo, hi + 1, n)
    strings = ["a" * k + "b" * k for k in ks]
    allowed = [["a"] + ["ab"] * k + ["b"] * (k - 1) + ["$"] for k in ks]
    return _encode(strings, allowed, ANBN_SYMBOLS)


def dyck(n: int, lengths=(1, 10), *, kinds: int = 2, p_open: float = 0.5,
         seed=None) -> Sequences:
    """Balanced brackets (the Dyck language D_kinds): strings of k bracket pairs, k uniform
    in ``lengths``, drawn as random walks (open with probability ``p_open`` while fewer than
    k pairs have been opened and always when none is open, close otherwise; bracket types
    uniform). Targets are the continuation sets of the language of *all* balanced strings:
    every opening bracket, plus the closing bracket matching the top of the stack, or ``$``
    when the stack is empty (the string may end there). For Dyck-2 the closing bracket
    needs the whole stack of open types (a stack); for Dyck-1 a counter suffices.

    Parameters
    ----------
    kinds : {1, 2}
        Bracket types: 1 (Dyck-1, "(" ")") or 2 (Dyck-2, also "[" "]").

    Returns
    -------
    Sequences
        inputs (2 k_max + 1, n, 5) one-hot over ``DYCK_SYMBOLS`` (Dyck-1 leaves "[" "]"
        unused), targets the same shape, mask over the 2k + 1 steps of each string.
    """
    n = positive_int(n, "dyck.n")
    lo, hi = _lengths(lengths, "dyck.lengths")
    if kinds not in (1, 2):
        raise ValidationError("dyck.kinds", f"must be 1 or 2, got {kinds!r}", kinds)
    if not (0.0 < float(p_open) < 1.0):
        raise ValidationError("dyck.p_open", f"must lie in (0, 1), got {p_open!r}", p_open)
    rng = check_seed(seed, "dyck.seed")
    pairs = ("()", "[]")[:kinds]
    opens = "".join(p[0] for p in pairs)
    close = {p[0]: p[1] for p in pairs}
    strings, allowed = [], []
    for k in rng.integers(lo, hi + 1, n):
        stack, s, sets, opened = [], [], [], 0
        while opened < k or stack:
            sets.append(opens + (close[stack[-1]] if stack else "$"))
            if stack and (opened == k or rng.random() >= p_open):
                s.append(close[stack.pop()])
            else:
                stack.append(opens[rng.integers(len(opens))])
                s.append(stack[-1])
                opened += 1
        sets.append(opens + "$")
        strings.append("".join(s))
        allowed.append(sets)
    return _encode(strings, allowed, DYCK_SYMBOLS)


def palindrome(n: int, lengths=(1, 10), *, seed=None) -> Sequences:
    """Palindromes with a centre marker: ``w c w^R``, w uniform in {a, b}^k, k uniform in
    ``lengths``. Targets: {a, b} after $, {a, b, c} after each symbol of w, then the
    mirrored symbol after c and after each symbol of w^R, and {$} at the end: the second
    half is determined, so recognising it means remembering w in reverse (a stack).

    Returns
    -------
    Sequences
        inputs (2 k_max + 2, n, 4) one-hot over ``PALINDROME_SYMBOLS``, targets the same
        shape, mask over the 2k + 2 steps of each string.
    """
    n = positive_int(n, "palindrome.n")
    lo, hi = _lengths(lengths, "palindrome.lengths")
    rng = check_seed(seed, "palindrome.seed")
    strings, allowed = [], []
    for k in rng.integers(lo, hi + 1, n):
        w = "".join("ab"[i] for i in rng.integers(0, 2, k))
        strings.append(w + "c" + w[::-1])
        allowed.append(["ab"] + ["abc"] * k + list(w[::-1]) + ["$"])
    return _encode(strings, allowed, PALINDROME_SYMBOLS)


def recognised(outputs, targets, mask) -> np.ndarray:
    """Which strings are recognised: at every masked step, every logit of ``outputs`` is
    > 0 exactly where ``targets`` is 1 (Gers & Schmidhuber 2001's criterion).

    Parameters
    ----------
    outputs : array (T, N, A)
        Logits (the outputs of ``rnndyn.run``).
    targets : array (T, N, A)
    mask : array (T, N) bool

    Returns
    -------
    array (N,) bool
    """
    O, Y, M = np.asarray(outputs), np.asarray(targets), np.asarray(mask, bool)
    if O.shape != Y.shape or O.ndim != 3 or M.shape != O.shape[:2]:
        raise ValidationError("recognised.outputs", f"expected outputs and targets of one "
                              f"shape (T, N, A) and mask (T, N), got {O.shape}, {Y.shape}, "
                              f"{M.shape}", outputs)
    right = np.all((O > 0.0) == (Y > 0.5), axis=2) | ~M
    return np.all(right, axis=0)
