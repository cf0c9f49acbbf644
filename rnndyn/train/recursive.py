"""Backpropagation through structure (Goller & Kuechler 1996) for ``RecursiveNet``
(``rnndyn.models.recursive``): ``gradient`` returns ``(loss, gradient shaped like
model.to_vector(fields))`` over a whole ``Forest`` in one numba call, as the sequence
gradients of ``rnndyn.train`` do; ``fit`` trains on mini-batches of trees (sub-forests) with
the shared optimizers, a tqdm bar and a ``History``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._blas import norm
from .._validate import check_seed, choice, front_door, positive, positive_int
from ..errors import DivergenceError, ValidationError
from ..models import _recursive_kernels as rk
from ..models.recursive import AT, COMBINE, Forest, RecursiveNet
from .gradients import Gradient
from .loop import History
from .losses import get_loss
from .optimizers import clip_by_norm, get_optimizer


def _targets(model, f, targets, mask, at):
    """(targets (n, n_out), mask (n,)) with n the trees (``at="root"``) or the nodes;
    their finiteness is the loss's check (rows outside the mask may hold NaN)."""
    n = f.n_trees if at == "root" else f.n_nodes
    try:
        T = np.asarray(targets, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError("targets", f"must be a numeric array, got {targets!r}",
                              targets) from None
    if T.shape != (n, model.n_out):
        raise ValidationError("targets", f"expected shape ({n}, {model.n_out}) (one row per "
                              f"{'tree' if at == 'root' else 'node'}), got {T.shape}", targets)
    M = np.ones(n, bool) if mask is None else np.asarray(mask)
    if M.dtype != bool or M.shape != (n,):
        raise ValidationError("mask", f"expected a bool array of shape ({n},), got "
                              f"{M.dtype} {M.shape}", mask)
    return T, M


@front_door()
def gradient(model: RecursiveNet, forest: Forest, targets, loss="mse", fields=None, *,
             at: str = "root", mask=None):
    """Loss and its gradient by backpropagation through structure over the whole forest.

    Parameters
    ----------
    model : RecursiveNet
    forest : Forest
    targets : array (n_trees, n_out), or (N, n_out) with ``at="nodes"``
        One row per root (per node in node order).
    loss : {"mse", "cross_entropy", "bits"} or rnndyn.train.losses.Loss
        Averaged over the targeted roots (nodes); the outputs are logits for the last two.
    fields : str or sequence, optional
        The parameter fields to differentiate (default: all, in ``to_vector`` order).
    at : {"root", "nodes"}
    mask : bool array (n_trees,) or (N,), optional
        Which rows carry a target (others are ignored and may hold NaN).

    Returns
    -------
    Gradient
        ``(loss, gradient)``, the gradient shaped like ``model.to_vector(fields)``.
    """
    if not isinstance(model, RecursiveNet):
        raise ValidationError("model", f"expected a RecursiveNet, got {type(model).__name__}",
                              model)
    model._check(forest, "forest")
    choice(at, "at", AT)
    fields = model._fields(fields, "gradient")
    lf = get_loss(loss, "loss")
    T, M = _targets(model, forest, targets, mask, at)
    lf.check_targets(T[None], M[None], "gradient")
    H = model._states(forest)
    sel = forest.roots if at == "root" else slice(None)
    Hs = H[sel]
    value, GY = lf((Hs @ model.W_out.T + model.b_out)[None], T[None], M[None])  # as (T=1, B)
    GY = GY[0]
    g = {"E": np.zeros_like(model.E), "W": np.zeros_like(model.W), "b": np.zeros(model.d),
         "W_out": GY.T @ Hs, "b_out": GY.sum(axis=0)}
    GH = np.zeros_like(H)
    GH[sel] = GY @ model.W_out  # roots are distinct nodes: no accumulation needed
    rk.recursive_backward(model.W, forest.symbol, forest.child_ptr, forest.child_idx,
                          COMBINE[model.combine], H, GH, g["E"], g["W"], g["b"])
    return Gradient(float(value), np.concatenate([g[f].ravel() for f in fields]))


class FitResult(NamedTuple):
    """``model`` after training and its ``history`` (``rnndyn.train.loop.History``: loss
    and gradient norm per update, ``metric`` per epoch when one was given)."""

    model: RecursiveNet
    history: object


@front_door()
def fit(model: RecursiveNet, forest: Forest, targets, *, loss="cross_entropy",
        at: str = "root", fields=None, epochs: int = 10, batch_size: int = 32,
        optimizer="adam", lr: float | None = None, clip_norm: float | None = None,
        metric=None, seed=None, progress: bool = False) -> FitResult:
    """Mini-batch training: each epoch shuffles the trees and takes one optimizer step per
    sub-forest of ``batch_size`` trees.

    Parameters
    ----------
    model, forest, targets, loss, at, fields
        As in ``gradient`` (targets per root, or per node with ``at="nodes"``).
    epochs, batch_size : int
    optimizer : str or rnndyn.train.optimizers.Optimizer
        ``"adam"`` (default), ``"sgd"``, ``"rmsprop"``; ``lr`` overrides its rate.
    clip_norm : float, optional
        Rescale each gradient to norm <= clip_norm (Pascanu et al. 2013).
    metric : callable model -> float, optional
        Evaluated after every epoch into ``history.metric`` (e.g. held-out accuracy).
    seed : int, Generator or None
        The shuffling.
    progress : bool
        Show a tqdm progress bar.

    Raises
    ------
    DivergenceError
        If a loss or gradient becomes non-finite.
    """
    if not isinstance(model, RecursiveNet):
        raise ValidationError("model", f"expected a RecursiveNet, got {type(model).__name__}",
                              model)
    model._check(forest, "forest")
    choice(at, "at", AT)
    fields = model._fields(fields, "fit")
    T, _ = _targets(model, forest, targets, None, at)
    epochs = positive_int(epochs, "epochs")
    batch_size = positive_int(batch_size, "batch_size")
    clip_norm = None if clip_norm is None else positive(clip_norm, "clip_norm")
    if metric is not None and not callable(metric):
        raise ValidationError("metric", f"expected a callable model -> float, got {metric!r}",
                              metric)
    opt = get_optimizer(optimizer, lr, "optimizer")
    rng = check_seed(seed, "seed")
    n = forest.n_trees
    n_batches = -(-n // batch_size)
    theta = model.to_vector(fields)
    history = History()
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=epochs * n_batches, unit="update", desc="RecursiveNet")
    try:
        for epoch in range(epochs):
            order = rng.permutation(n)
            for k in range(n_batches):
                trees = order[k * batch_size:(k + 1) * batch_size]
                sub, keep = forest._take(trees, "trees")
                value, g = gradient(model, sub, T[trees] if at == "root" else T[keep],
                                    loss, fields, at=at)
                gnorm = norm(g)
                if not (np.isfinite(value) and np.isfinite(gnorm)):
                    raise DivergenceError(f"fit: the loss or gradient became non-finite at "
                                          f"update {len(history)} (epoch {epoch}); lower the "
                                          "learning rate or set clip_norm=")
                if clip_norm is not None:
                    g = clip_by_norm(g, clip_norm)
                theta = opt.step(theta, g)
                model = model.from_vector(theta, fields)
                history.step.append(len(history.step) + 1)
                history.epoch.append(epoch)
                history.loss.append(value)
                history.grad_norm.append(gnorm)
                history.update_norm.append(norm(g))
                history.lr.append(opt.lr)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{value:.4g}")
            if metric is not None:
                history.val_epoch.append(epoch + 1)
                history.metric.append(float(metric(model)))
    finally:
        if bar is not None:
            bar.close()
    return FitResult(model, history)
