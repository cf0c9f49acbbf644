"""Recursive backpropagation (RBP) and causal recursive backpropagation (CRBP) for locally
recurrent networks: the IIR-MLP and the activation-feedback MLP
(``rnndyn.models.iir_mlp.IIRMLP``).

Campolucci, Uncini, Piazza & Rao (1999), "On-line learning algorithms for locally recurrent
neural networks", IEEE Trans. Neural Networks 10(2):253. Both algorithms are local in space:
each filter's parameters get the product of its neuron's backpropagated error delta_n[t] and
the derivative d^+ y[t] / d theta of the filter's output through its own recursion, computed
forward in time. RBP (batch) obtains delta by filtering the errors backward in time through
the transposed synapses over the whole sequence, and equals BPTT; CRBP is its causal,
on-line form: at time t the error of t is sent back Q steps (the truncation depth), and the
increments are applied at every step. The recursions are in ``_crbp_kernels``. (The
equations are derived here from the network's forward equations; we could not check the
paper's equation numbers against its text.)

``rbp`` and ``crbp`` follow the gradient signature of ``rnndyn.train`` (``bptt``,
``truncated_bptt``): ``(loss, gradient shaped like model.to_vector(fields))`` at fixed
parameters, CRBP's being the sum of its on-line increments. ``crbp_online`` trains on one
stream with an update after every sample.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import positive, positive_int
from ..errors import DivergenceError, ValidationError
from ..models.iir_mlp import IIRMLP
from ..integrate.plumbing import initial_state
from . import _crbp_kernels as ck
from .gradients import Gradient, forward, prepare


def _check(model, where):
    if not isinstance(model, IIRMLP):
        raise ValidationError(f"{where}.model", "RBP/CRBP differentiate a locally recurrent "
                              f"network: pass an rnndyn.models.iir_mlp.IIRMLP, got "
                              f"{type(model).__name__} (use rnndyn.train.bptt for others)",
                              model)


def _params(model):
    """Writable float64 copies of the kernel parameters (the on-line kernel updates them in
    place; one compiled signature for both uses)."""
    return tuple(np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a
                 for a in model.kernel_params)


def rbp(model, inputs, targets, loss="mse", fields=None, *, mask=None, h0=None) -> Gradient:
    """Exact gradient of a sequence loss by batch recursive backpropagation.

    Parameters are those of ``rnndyn.train.bptt`` (float64 only): ``inputs`` (T, B, n_in)
    or (T, n_in), ``targets`` (T, B, n_out) or (T, n_out), ``loss``, ``fields``, ``mask``,
    ``h0`` (the filter memories, default zeros).

    Returns
    -------
    Gradient
        ``(loss, gradient)`` shaped like ``model.to_vector(fields)``; equal to BPTT's.

    Raises
    ------
    ValidationError
        For a model that is not a single IIRMLP, or as ``bptt`` (shapes, loss, fields).
    """
    _check(model, "rbp")
    pb = prepare(model, inputs, targets, loss, fields, mask, h0, np.float64, "rbp",
                 flows=False)
    _, value, GO = forward(pb)
    G = np.empty((pb.X.shape[1], ck.iir_param_size(model.kernel_params)))
    ck.rbp_batch(_params(model), pb.H0, pb.X, GO, G)
    return Gradient(value, G.sum(axis=0)[pb.index])


def crbp(model, inputs, targets, loss="mse", fields=None, *, depth: int, mask=None,
         h0=None) -> Gradient:
    """Causal recursive backpropagation CRBP(Q) at fixed parameters: the sum over the
    sequence of the on-line gradients, each error sent back ``depth`` = Q steps.

    Parameters are those of ``rbp`` plus ``depth`` (int >= 1). The output layer's part is
    exact at any depth; depth >= T gives the exact (RBP = BPTT) gradient; depth 1 is the
    Back-Tsoi rule.

    Raises
    ------
    ValidationError
        As ``rbp``; also for depth <= 0 or not an int.
    """
    _check(model, "crbp")
    Q = positive_int(depth, "crbp.depth")
    pb = prepare(model, inputs, targets, loss, fields, mask, h0, np.float64, "crbp",
                 flows=False)
    _, value, GO = forward(pb)
    G = np.empty((pb.X.shape[1], ck.iir_param_size(model.kernel_params)))
    ck.crbp_batch(_params(model), pb.H0, pb.X, GO, Q, G)
    return Gradient(value, G.sum(axis=0)[pb.index])


class OnlineResult(NamedTuple):
    """Result of ``crbp_online``: the trained model and the squared error (mean over the
    outputs) of every step, measured before that step's update."""

    model: IIRMLP
    errors: np.ndarray


def crbp_online(model, inputs, targets, *, depth: int, lr: float, fields=None,
                h0=None) -> OnlineResult:
    """On-line learning by CRBP(Q) on one stream: after each sample t the parameters move by
    ``-lr`` times that step's gradient of the squared error (mean over the outputs), as in
    the paper's on-line experiments; the sensitivities carry over with the changing weights.

    Parameters
    ----------
    model : IIRMLP, single
    inputs : array (T, n_in)
    targets : array (T, n_out)
    depth : int >= 1
        Truncation depth Q.
    lr : float > 0
        Learning rate.
    fields : str or sequence of str, optional
        The parameter fields that learn (default: all).
    h0 : array (n,), optional

    Returns
    -------
    OnlineResult
        ``(model, errors (T,))``.

    Raises
    ------
    ValidationError
        Bad shapes, depth <= 0, lr <= 0, unknown fields.
    DivergenceError
        If the error becomes non-finite (an unstable filter), naming the step.
    """
    _check(model, "crbp_online")
    Q = positive_int(depth, "crbp_online.depth")
    lr = positive(lr, "crbp_online.lr")
    X = np.asarray(inputs, dtype=float)
    if X.ndim != 2 or X.shape[1] != model.n_in or X.shape[0] == 0 or \
            not np.all(np.isfinite(X)):
        raise ValidationError("crbp_online.inputs", f"expected finite values of shape (T, "
                              f"{model.n_in}) with T >= 1, got {X.shape}", inputs)
    Y = np.asarray(targets, dtype=float)
    if Y.shape != (X.shape[0], model.n_out) or not np.all(np.isfinite(Y)):
        raise ValidationError("crbp_online.targets", f"expected finite values of shape "
                              f"({X.shape[0]}, {model.n_out}), got {Y.shape}", targets)
    if model.P is not None:
        raise ValidationError("crbp_online.model", "pass a single network (model[k])", model)
    sel = np.zeros(ck.iir_param_size(model.kernel_params))
    sel[model.theta_index(fields)] = 1.0
    p = _params(model)
    err = np.empty(X.shape[0])
    G = np.zeros(sel.size)
    ck.crbp_sequence(p, initial_state(model, h0, None, np.float64, "crbp_online.h0"),
                     np.ascontiguousarray(X), np.ascontiguousarray(Y), 1, Q, lr, sel, G, err)
    bad = np.flatnonzero(~np.isfinite(err))
    if bad.size:
        raise DivergenceError(f"crbp_online: the error became non-finite at step "
                              f"{int(bad[0])}; lower lr or keep the feedback filters stable",
                              t=float(bad[0]))
    theta = np.concatenate([a.reshape(-1) for a in p[:6]])
    return OnlineResult(model.from_vector(theta[model.theta_index()]), err)
