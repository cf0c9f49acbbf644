"""Long-time-lag benchmark sequences (data only; every generator takes ``seed=``).

Each generator returns ``Sequences(inputs, targets, mask)``, time-major like ``rnndyn.run``:
inputs (T, N, n_in), targets (T, N, n_out), mask (T, N) bool marking the steps that carry a
target (the others are zero and ignored by the losses of ``rnndyn.train``). Pass the tuple
straight to ``rnndyn.train.loop.train``.

============================  ======================================================  =======
generator                     task (source)                                           loss
============================  ======================================================  =======
``adding_problem``            sum of two marked values, target at the end             mse
                              (Hochreiter & Schmidhuber 1997, Exp. 4)
``temporal_order``            order of two symbols X/Y far apart, 4 classes at the    c.e.
                              end (Hochreiter & Schmidhuber 1997, Exp. 6a)
``latch``                     class of the first L steps, then noise; target at the   mse
                              end (Bengio, Simard & Frasconi 1994, "latching")
``parity``                    parity of a bit string, at the end or running           bits
                              (Bengio et al. 1994; Hochreiter & Schmidhuber 1997)
``delayed_xor``               XOR of the bits ``delay`` and ``delay + 1`` steps back   bits
``embedded_reber``            next-symbol sets of the embedded Reber grammar          bits
                              (Hochreiter & Schmidhuber 1997, Exp. 1)
``flip_flop``                 3-bit flip-flop: hold the sign of each channel's last   mse
                              pulse (Sussillo & Barak 2013, Neural Comput. 25:626)
============================  ======================================================  =======
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import check_seed, in_range, positive, positive_int
from ..errors import ValidationError


class Sequences(NamedTuple):
    """``inputs`` (T, N, n_in), ``targets`` (T, N, n_out), ``mask`` (T, N) bool."""

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray


def _last_step_mask(T, N):
    mask = np.zeros((T, N), bool)
    mask[-1] = True
    return mask


def adding_problem(n: int, T: int = 100, *, seed=None, vary_length: bool = False) -> Sequences:
    """The adding problem (Hochreiter & Schmidhuber 1997, Neural Comput. 9(8):1735, Exp. 4).

    Each step is a pair (value in U[-1, 1], marker). One of the first ten pairs is marked
    (marker 1, its value X1), then one of the still unmarked pairs among the first T/2 - 1
    (X2); the first and the last pair carry marker -1 (unless marked). If the first pair is
    marked, its value is set to 0 (the paper's "X1 = 0"). The target at the end is
    ``0.5 + (X1 + X2) / 4`` in [0, 1]; a sequence counts as solved when the absolute error
    there is below 0.04.

    Parameters
    ----------
    n : int
        Number of sequences.
    T : int
        Minimal sequence length (>= 20).
    vary_length : bool
        As in the paper, draw each length from [T, T + T/10] and left-pad shorter sequences
        with zero pairs (the padded steps come before the start marker); default: length T.

    Returns
    -------
    Sequences
        inputs (T_max, n, 2), targets (T_max, n, 1), mask: the last step only.
    """
    n = positive_int(n, "adding_problem.n")
    T = positive_int(T, "adding_problem.T", 20)
    rng = check_seed(seed, "adding_problem.seed")
    T_max = T + T // 10 if vary_length else T
    lengths = rng.integers(T, T_max + 1, n) if vary_length else np.full(n, T)
    X = np.zeros((T_max, n, 2))
    Y = np.zeros((T_max, n, 1))
    values = rng.uniform(-1.0, 1.0, (T_max, n))
    first = rng.integers(0, 10, n)
    # the second marked pair: uniform over the first T/2 - 1 positions other than `first`
    second = rng.integers(0, T // 2 - 2, n)
    second += second >= first
    for k in range(n):  # one short loop per sequence, vectorised within it
        L = lengths[k]
        off = T_max - L
        x = X[off:, k]
        x[:, 0] = values[off:, k]
        x[0, 1] = x[L - 1, 1] = -1.0
        x[first[k], 1] = x[second[k], 1] = 1.0
        x[0, 0] = 0.0 if x[0, 1] == 1.0 else x[0, 0]  # the paper's "X1 = 0" case
        Y[-1, k, 0] = 0.5 + (x[first[k], 0] + x[second[k], 0]) / 4.0
    return Sequences(X, Y, _last_step_mask(T_max, n))


SYMBOLS_ORDER = ("a", "b", "c", "d", "X", "Y", "B", "E")


def temporal_order(n: int, T: int = 100, *, seed=None) -> Sequences:
    """Temporal order (Hochreiter & Schmidhuber 1997, Exp. 6a): a sequence of length T
    starts with B, ends with E and is otherwise made of a, b, c, d, except at two random
    times t1 in [10, 20] and t2 in [50, 60] (scaled by T/100) where the symbol is X or Y.
    The class at the end is the order: XX, XY, YX, YY (one-hot over 4).

    Returns
    -------
    Sequences
        inputs (T, n, 8) one-hot over ``SYMBOLS_ORDER``, targets (T, n, 4), mask: last step.
    """
    n = positive_int(n, "temporal_order.n")
    T = positive_int(T, "temporal_order.T", 20)
    rng = check_seed(seed, "temporal_order.seed")
    sym = rng.integers(0, 4, (T, n))
    sym[0], sym[-1] = 6, 7
    s = T / 100.0
    t1 = rng.integers(int(10 * s), int(20 * s) + 1, n)
    t2 = rng.integers(int(50 * s), int(60 * s) + 1, n)
    a, b = rng.integers(0, 2, n), rng.integers(0, 2, n)
    cols = np.arange(n)
    sym[t1, cols] = 4 + a
    sym[t2, cols] = 4 + b
    X = np.eye(8)[sym]
    Y = np.zeros((T, n, 4))
    Y[-1, cols, 2 * a + b] = 1.0
    return Sequences(X, Y, _last_step_mask(T, n))


def latch(n: int, T: int = 50, *, L: int = 3, noise: float = 0.2, seed=None) -> Sequences:
    """Information latching (Bengio, Simard & Frasconi 1994, IEEE TNN 5(2):157): the first
    L inputs are one of two fixed patterns (drawn once from ``seed``, entries U[-1, 1]),
    the remaining T - L are Gaussian noise N(0, noise^2); the target at the end is the
    class, 0 or 1. A network must latch one bit for T - L steps against the noise.

    Returns
    -------
    Sequences
        inputs (T, n, 1), targets (T, n, 1), mask: last step.
    """
    n = positive_int(n, "latch.n")
    T = positive_int(T, "latch.T", 2)
    L = positive_int(L, "latch.L")
    if L >= T:
        raise ValidationError("latch.L", f"must be < T = {T}, got {L}", L)
    noise = positive(noise, "latch.noise", allow_zero=True)
    rng = check_seed(seed, "latch.seed")
    patterns = rng.uniform(-1.0, 1.0, (2, L))
    cls = rng.integers(0, 2, n)
    X = noise * rng.standard_normal((T, n, 1))
    X[:L, :, 0] = patterns[cls].T
    Y = np.zeros((T, n, 1))
    Y[-1, :, 0] = cls
    return Sequences(X, Y, _last_step_mask(T, n))


def parity(n: int, T: int = 20, *, running: bool = False, seed=None) -> Sequences:
    """Parity of a random bit string (inputs 0/1): the target is 1 if the number of ones is
    odd, at the end (``running=False``) or after every step (the running parity, a target
    at every step).

    Returns
    -------
    Sequences
        inputs (T, n, 1), targets (T, n, 1), mask: last step or every step.
    """
    n = positive_int(n, "parity.n")
    T = positive_int(T, "parity.T")
    rng = check_seed(seed, "parity.seed")
    bits = rng.integers(0, 2, (T, n))
    Y = (np.cumsum(bits, axis=0) % 2).astype(float)[..., None]
    mask = np.ones((T, n), bool) if running else _last_step_mask(T, n)
    if not running:
        Y[:-1] = 0.0
    return Sequences(bits[..., None].astype(float), Y, mask)


def delayed_xor(n: int, T: int = 30, *, delay: int = 5, seed=None) -> Sequences:
    """Delayed XOR: inputs are random bits u_t; the target at step t is
    ``u_{t-delay} XOR u_{t-delay-1}``, defined (and masked in) from t = delay + 1 on. The net
    must hold two bits for ``delay`` steps and combine them nonlinearly.

    Returns
    -------
    Sequences
        inputs (T, n, 1), targets (T, n, 1), mask (T, n).
    """
    n = positive_int(n, "delayed_xor.n")
    delay = positive_int(delay, "delayed_xor.delay", 0)
    T = positive_int(T, "delayed_xor.T", delay + 2)
    rng = check_seed(seed, "delayed_xor.seed")
    u = rng.integers(0, 2, (T, n))
    Y = np.zeros((T, n, 1))
    Y[delay + 1:, :, 0] = u[1:T - delay] ^ u[:T - delay - 1]
    mask = np.zeros((T, n), bool)
    mask[delay + 1:] = True
    return Sequences(u[..., None].astype(float), Y, mask)


REBER_SYMBOLS = ("B", "T", "P", "S", "X", "V", "E")
# Reber (1967) grammar as in Hochreiter & Schmidhuber 1997, Fig. 5: state -> [(symbol, next)]
_REBER = {0: [("T", 1), ("P", 2)], 1: [("S", 1), ("X", 3)], 2: [("T", 2), ("V", 4)],
          3: [("X", 2), ("S", 5)], 4: [("P", 3), ("V", 5)]}


def _reber_string(rng) -> str:
    out, s = ["B"], 0
    while s != 5:
        sym, s = _REBER[s][rng.integers(0, 2)]
        out.append(sym)
    return "".join(out + ["E"])


def embedded_reber(n: int, *, seed=None) -> Sequences:
    """Embedded Reber grammar (Hochreiter & Schmidhuber 1997, Exp. 1): strings
    ``B T <reber> T E`` or ``B P <reber> P E``; at each step the target is the set of
    symbols the grammar allows next (multi-hot), so the second-to-last prediction needs the
    symbol seen right after the first B, an arbitrarily long lag. A string is processed
    correctly when every allowed next symbol is predicted.

    Returns
    -------
    Sequences
        inputs (T_max, n, 7) one-hot over ``REBER_SYMBOLS``, targets (T_max, n, 7), mask
        (T_max, n): every step of each string but its last (strings are right-padded with
        zeros to the longest, T_max).
    """
    n = positive_int(n, "embedded_reber.n")
    rng = check_seed(seed, "embedded_reber.seed")
    idx = {s: k for k, s in enumerate(REBER_SYMBOLS)}
    seqs, nexts = [], []
    for _ in range(n):
        branch = "T" if rng.integers(0, 2) == 0 else "P"
        inner = _reber_string(rng)
        s = "B" + branch + inner + branch + "E"
        allowed = [{"T", "P"}, {"B"}]
        st = 0
        for sym in inner[1:-1]:  # allowed after each inner symbol, from the grammar state
            allowed.append({a for a, _ in _REBER[st]})
            st = dict(_REBER[st])[sym]
        allowed += [{"E"}, {branch}, {"E"}]
        # allowed[i] is the set after symbol i of s, i = 0 .. len(s) - 2
        seqs.append(s)
        nexts.append(allowed[:len(s) - 1])
    T = max(len(s) for s in seqs)
    X = np.zeros((T, n, 7))
    Y = np.zeros((T, n, 7))
    mask = np.zeros((T, n), bool)
    for k, (s, nx) in enumerate(zip(seqs, nexts)):
        for t, sym in enumerate(s):
            X[t, k, idx[sym]] = 1.0
        for t, allowed in enumerate(nx):
            Y[t, k, [idx[a] for a in allowed]] = 1.0
        mask[:len(s) - 1, k] = True
    return Sequences(X, Y, mask)


def flip_flop(n: int, T: int = 100, *, bits: int = 3, p: float = 0.05, seed=None) -> Sequences:
    """The 3-bit flip-flop (Sussillo & Barak 2013, Neural Computation 25(3):626): each of
    ``bits`` input channels carries rare pulses of +1 or -1 (probability ``p`` per step);
    output i holds the sign of the last pulse on channel i (0 before the first one).

    Returns
    -------
    Sequences
        inputs (T, n, bits), targets (T, n, bits), mask: every step.
    """
    n = positive_int(n, "flip_flop.n")
    T = positive_int(T, "flip_flop.T")
    bits = positive_int(bits, "flip_flop.bits")
    p = in_range(p, "flip_flop.p", 0.0, 1.0, "right")
    rng = check_seed(seed, "flip_flop.seed")
    pulse = rng.random((T, n, bits)) < p
    X = np.where(pulse, rng.choice([-1.0, 1.0], (T, n, bits)), 0.0)
    last = np.where(pulse, np.arange(T)[:, None, None], -1)
    last = np.maximum.accumulate(last, axis=0)  # time of the latest pulse so far
    held = np.take_along_axis(X, np.maximum(last, 0), axis=0)
    Y = np.where(last >= 0, held, 0.0)
    return Sequences(X, Y, np.ones((T, n), bool))
