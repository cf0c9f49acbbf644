"""Measures of reservoirs: short-term memory capacity, an echo-state-property check, the
conditional (input-driven) Lyapunov exponent, and the error measures NRMSE / NMSE.

* Memory capacity (Jaeger 2002, "Short term memory in echo state networks", GMD Report 152):
  ``MC = sum_{k>=1} MC_k``, ``MC_k = r^2(u(n-k), y_k(n))`` with y_k a linear readout of the
  state trained to recall the input k steps back, for iid input. MC <= N; a linear
  reservoir reaches MC = N in exact arithmetic. In float64 an orthogonal W (White, Lee &
  Sompolinsky 2004, Phys Rev Lett 92:148102) comes within 2% of N; a random W, whose state
  covariance is far worse conditioned, measures 0.85-0.9 N at rho = 0.9.
* Echo state property (Jaeger 2001, GMD Report 148): the state forgets its initial
  condition, so two runs from different initial states under the same input converge.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import as_array, check_seed, positive, positive_int
from ..errors import ValidationError
from ..integrate import run
from ..models.reservoir import ESN
from .lyapunov import largest_lyapunov


def _pair(y, d, where):
    y = np.asarray(y, dtype=float)
    d = np.asarray(d, dtype=float)
    if y.shape != d.shape or y.ndim not in (1, 2) or y.shape[0] < 2:
        raise ValidationError(f"{where}.y", f"prediction {y.shape} and target {d.shape} must "
                              "have the same shape (T,) or (T, O) with T >= 2", y)
    for name, a in (("y", y), ("target", d)):
        if not np.all(np.isfinite(a)):
            raise ValidationError(f"{where}.{name}", "must be finite (NaN or inf found)", a)
    return y.reshape(len(y), -1), d.reshape(len(d), -1)


def nmse(y, target) -> float:
    """Normalised mean squared error ``mean((y - d)^2) / var(d)``, averaged over outputs.
    0 is perfect, 1 is as good as predicting the mean."""
    y, d = _pair(y, target, "nmse")
    var = d.var(axis=0)
    if np.any(var == 0):
        raise ValidationError("nmse.target", "is constant: its variance is 0, so the error "
                              "cannot be normalised", target)
    return float(np.mean(np.mean((y - d) ** 2, axis=0) / var))


def nrmse(y, target) -> float:
    """Normalised root mean squared error ``sqrt(mean((y - d)^2) / var(d))`` (averaged over
    outputs of the per-output values)."""
    y, d = _pair(y, target, "nrmse")
    var = d.var(axis=0)
    if np.any(var == 0):
        raise ValidationError("nrmse.target", "is constant: its variance is 0, so the error "
                              "cannot be normalised", target)
    return float(np.mean(np.sqrt(np.mean((y - d) ** 2, axis=0) / var)))


def _single_esn(esn, where):
    if not isinstance(esn, ESN) or esn.P is not None:
        raise ValidationError(f"{where}.esn", f"expected a single rnndyn ESN, got "
                              f"{type(esn).__name__}", esn)
    return esn


class MemoryCapacity(NamedTuple):
    """Result of ``memory_capacity``: ``total`` = sum of ``curve`` (MC_k for the delays
    ``delays``, measured on held-out data)."""

    total: float
    curve: np.ndarray
    delays: np.ndarray


def memory_capacity(esn: ESN, k_max: int | None = None, *, n_train: int = 5000,
                    n_test: int = 2000, washout: int | None = None, input_range: float = 1.0,
                    inputs=None, ridge: float = 0.0, seed=None) -> MemoryCapacity:
    """Short-term memory capacity (Jaeger 2002): ``MC = sum_{k=1}^{k_max} MC_k``.

    The ESN (one input, no feedback) is driven by iid input u ~ U(-input_range,
    input_range); after ``washout`` steps one linear readout per delay k (all solved at once,
    least squares (QR) or ridge regression with ``ridge`` > 0) is fit on ``n_train`` steps
    to u(n-k) from x(n), and
    ``MC_k = corr(y_k, u(n-k))^2`` on the following ``n_test`` steps.

    Parameters
    ----------
    esn : ESN with n_u = 1 and n_fb = 0
    k_max : int, optional
        Largest delay (default 2 n, past which MC_k of a reservoir of n units is ~0).
    n_train, n_test : int
    washout : int, optional
        Steps discarded before training; at least k_max (the readouts look that far back).
        Default max(500, k_max).
    input_range : float
        Half-width of the uniform input distribution.
    inputs : array (washout + n_train + n_test,), optional
        Your own input sequence instead of the random one.
    ridge : float
        Readout regularisation (0: plain least squares).
    seed : int, Generator or None

    Returns
    -------
    MemoryCapacity
    """
    from ..train.readout import Ridge  # train and analysis are siblings; imported on use

    esn = _single_esn(esn, "memory_capacity")
    if esn.n_u != 1 or esn.n_fb != 0:
        raise ValidationError("memory_capacity.esn", f"needs one input and no feedback, got "
                              f"n_u = {esn.n_u}, n_fb = {esn.n_fb}", esn)
    k_max = positive_int(2 * esn.n if k_max is None else k_max, "memory_capacity.k_max")
    n_train = positive_int(n_train, "memory_capacity.n_train", minimum=2)
    n_test = positive_int(n_test, "memory_capacity.n_test", minimum=2)
    washout = positive_int(max(500, k_max) if washout is None else washout,
                           "memory_capacity.washout", minimum=0)
    if washout < k_max:
        raise ValidationError("memory_capacity.washout", f"is {washout} but the longest delay "
                              f"is {k_max}: the washout must hold the delayed inputs; use "
                              f"washout >= k_max", washout)
    T = washout + n_train + n_test
    if inputs is None:
        rng = check_seed(seed, "memory_capacity.seed")
        u = rng.uniform(-1.0, 1.0, T) * positive(input_range, "memory_capacity.input_range")
    else:
        u = as_array(inputs, "memory_capacity.inputs", (T,))
    X = run(esn, u[:, None]).states
    delays = np.arange(1, k_max + 1)
    idx = np.arange(washout, T)
    targets = u[idx[:, None] - delays[None, :]]  # (T - washout, k_max): u(n - k)
    tr = slice(0, n_train)
    te = slice(n_train, None)
    if ridge == 0.0:  # least squares through QR: the conditioning of X, not of X^T X
        A = np.concatenate([np.ones((len(idx), 1)), X[idx]], axis=1)
        Y = A[te] @ np.linalg.lstsq(A[tr], targets[tr], rcond=None)[0]
    else:
        Y = Ridge(ridge).fit(X[idx][tr], targets[tr]).predict(X[idx][te])
    D = targets[te]
    Yc, Dc = Y - Y.mean(axis=0), D - D.mean(axis=0)
    cov = (Yc * Dc).sum(axis=0)
    curve = cov ** 2 / ((Yc ** 2).sum(axis=0) * (Dc ** 2).sum(axis=0))
    return MemoryCapacity(float(curve.sum()), curve, delays)


class EchoStateCheck(NamedTuple):
    """Result of ``echo_state_check``.

    Attributes
    ----------
    holds : bool
        True if every pair of runs converged: the final distance is below ``tol`` times the
        initial one (the state forgets where it started, for this input).
    distance : array (T, n_pairs)
        ||x_a(t) - x_b(t)|| of each pair after each step.
    rate : float
        Mean contraction factor per step over the second half, (d_end / d_mid)^(1/steps)
        of the slowest pair (< 1: contracting).
    """

    holds: bool
    distance: np.ndarray
    rate: float


def echo_state_check(esn: ESN, inputs=None, *, n_steps: int = 1000, n_pairs: int = 4,
                     tol: float = 1e-6, seed=None) -> EchoStateCheck:
    """Empirical echo-state-property check: pairs of runs from different random initial
    states (uniform in [-1, 1]^n) under the same input, distance over time, verdict.

    Parameters
    ----------
    esn : ESN
    inputs : array (T, n_in), optional
        The common input; default zero input for ``n_steps`` steps (the case in which
        rho(W) > 1 rules the property out).
    n_pairs : int
        Pairs of initial states (all must converge).
    tol : float
        Relative final distance below which a pair counts as converged.

    Returns
    -------
    EchoStateCheck
    """
    esn = _single_esn(esn, "echo_state_check")
    n_pairs = positive_int(n_pairs, "echo_state_check.n_pairs")
    tol = positive(tol, "echo_state_check.tol")
    if inputs is None:
        U = np.zeros((positive_int(n_steps, "echo_state_check.n_steps", minimum=2), esn.n_in))
    else:
        U = as_array(inputs, "echo_state_check.inputs", (None, esn.n_in))
        if U.shape[0] < 2:
            raise ValidationError("echo_state_check.inputs", "needs at least 2 steps", inputs)
    rng = check_seed(seed, "echo_state_check.seed")
    H0 = rng.uniform(-1.0, 1.0, (2 * n_pairs, esn.n))
    X = run(esn, np.broadcast_to(U[:, None], (U.shape[0], 2 * n_pairs, esn.n_in)), H0,
            on_divergence="return").states
    d = np.linalg.norm(X[:, :n_pairs] - X[:, n_pairs:], axis=-1)
    d0 = np.linalg.norm(H0[:n_pairs] - H0[n_pairs:], axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        holds = bool(np.all(np.isfinite(d[-1])) and np.all(d[-1] <= tol * d0))
        mid = len(d) // 2
        ratio = np.where(d[mid] > 0, d[-1] / d[mid], 0.0)
        rate = float(np.nanmax(ratio) ** (1.0 / (len(d) - 1 - mid))) if np.all(
            np.isfinite(ratio)) else float("inf")
    return EchoStateCheck(holds, d, rate)


def conditional_lyapunov(esn: ESN, inputs, h0=None, *, washout: int = 100, seed=None):
    """Largest conditional Lyapunov exponent (per step) of the reservoir driven by
    ``inputs`` (T, n_in): < 0 means the driven reservoir is contracting (the echo state
    property in the sense of generalised synchronisation). Uses
    ``rnndyn.analysis.largest_lyapunov`` on the map with the input."""
    esn = _single_esn(esn, "conditional_lyapunov")
    U = as_array(inputs, "conditional_lyapunov.inputs", (None, esn.n_in))
    washout = positive_int(washout, "conditional_lyapunov.washout", minimum=0)
    if washout >= U.shape[0] - 1:
        raise ValidationError("conditional_lyapunov.washout", f"is {washout} but the input has "
                              f"{U.shape[0]} steps", washout)
    y0 = np.zeros(esn.n) if h0 is None else h0
    return largest_lyapunov(esn, y0, t_total=float(U.shape[0] - 1 - washout),
                            t_transient=float(washout), inputs=U, seed=seed).largest
