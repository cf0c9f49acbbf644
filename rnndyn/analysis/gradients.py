"""Vanishing and exploding gradients: how strongly the state at time T depends on the state
``k`` steps earlier (Hochreiter 1991; Bengio, Simard & Frasconi 1994; Pascanu, Mikolov &
Bengio 2013). Data only; plotting lives elsewhere.

For a map ``h_{t+1} = F(h_t, x_t)`` the backpropagated error of a loss at time T reaches
time T - k multiplied by ``dh_T/dh_{T-k} = J_{T-1} J_{T-2} ... J_{T-k}``, where
``J_t = dF/dh (h_t, x_t)`` is the model's step Jacobian. Its norm decaying
(growing) geometrically in k is the vanishing (exploding) gradient problem.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import front_door
from ..errors import ValidationError
from ..integrate.plumbing import check_model, initial_state, integrator, sequence_inputs


class GradientNorms(NamedTuple):
    """``lags`` (T + 1,) = 0..T and ``norms`` (T + 1,) = ||dh_T / dh_{T-lag}||
    (lag 0: the identity, norm 1); ``log_norms`` = their natural logarithms, finite even
    where the norms under- or overflow."""

    lags: np.ndarray
    norms: np.ndarray
    log_norms: np.ndarray


@front_door()
def jacobian_product_norms(model, inputs, h0=None, ord=2) -> GradientNorms:
    """Norm of the product of step Jacobians ``dh_T/dh_{T-k}`` as a function of the lag k.

    Parameters
    ----------
    model : discrete model (``kind == "map"``)
        A single cell (e.g. LSTM, GRU, Elman, or a user ``Map``).
    inputs : array (T, n_in)
        One input sequence (for a model without inputs, ``np.zeros((T, 0))``).
    h0 : array (n,), optional
        Initial state; default zeros.
    ord : {2, "fro"}
        Spectral norm (largest singular value; the worst-case gain of an error vector) or
        the Frobenius norm.

    Returns
    -------
    GradientNorms
        ``lags`` 0..T, ``norms`` and ``log_norms`` (T + 1,).

    Raises
    ------
    ValidationError
        For a flow, a population, or a bad ``inputs``/``h0``/``ord``.
    """
    check_model(model, "jacobian_product_norms", single=True, kind="map")
    if ord not in (2, "fro"):
        raise ValidationError("ord", f"must be 2 or 'fro', got {ord!r}", ord)
    X, single = sequence_inputs(model, inputs, np.float64, "jacobian_product_norms.inputs")
    if not single:
        raise ValidationError("inputs", f"expected one sequence of shape (T, {model.n_in}), got "
                              f"{np.shape(inputs)}", inputs)
    X = np.ascontiguousarray(X[:, 0])
    T, n = X.shape[0], model.n
    h = initial_state(model, h0, 1, np.float64)[0]
    Y = np.empty((T, n))
    JS = np.empty((T, n, n))
    if T:
        integrator(model, False).step_jacobians(model.kernel_params, h, X, Y, JS)
    logs = np.zeros(T + 1)
    M = np.eye(n)
    scale = 0.0  # log of the factor divided out of M so far (keeps M representable)
    for k in range(1, T + 1):
        M = M @ JS[T - k]
        s = np.linalg.norm(M, ord)
        if s == 0.0:
            logs[k:] = -np.inf
            break
        scale += np.log(s)
        logs[k] = scale
        M /= s
    with np.errstate(over="ignore"):
        return GradientNorms(np.arange(T + 1), np.exp(logs), logs)
