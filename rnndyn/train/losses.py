"""Losses over sequences of model outputs, with their gradients (for BPTT and RTRL).

Every loss takes the outputs ``Y`` (T, B, n_out), the targets of the same shape and a mask
(T, B) of the steps that carry a target (steps outside it neither count nor need a finite
target), and returns ``(value, dL/dY)``:

=================  ===========================================================================
``"mse"``          mean over targeted (step, sequence) pairs and outputs of (y - target)^2
``"cross_entropy"`` mean over targeted (step, sequence) pairs of -sum_k target_k log softmax(y)_k;
                   the outputs are logits (a linear readout), the targets distributions (one-hot)
``"bits"``         bits per sequence: sum over targeted steps and outputs of the binary
                   cross-entropy in bits, -t log2 p - (1 - t) log2 (1 - p) with p = sigma(y),
                   averaged over the sequences (Graves et al. 2014 report it for the copy task);
                   the outputs are logits, the targets in [0, 1]
=================  ===========================================================================

The log-sum-exp and log-sigmoid forms used here stay finite for any finite logits.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from .._blas import sum_squares
from ..errors import ValidationError


class Loss(ABC):
    """Base of the losses: ``loss(Y, targets, mask) -> (value, gradient)``."""

    name = ""

    @abstractmethod
    def __call__(self, Y, targets, mask):
        """(value, dvalue/dY) of the outputs Y against the targets on the masked steps."""

    def check_targets(self, targets, mask, where: str) -> None:
        """Targets of the steps in ``mask`` are finite (and in range for this loss)."""
        sel = targets if mask.all() else targets[mask]
        if not np.isfinite(sel).all():
            raise ValidationError(f"{where}.targets", "must be finite at every targeted step "
                                  "(steps outside mask are ignored)", targets)

    def __repr__(self):
        return f"{type(self).__name__}()"


class MSE(Loss):
    """Mean squared error over the targeted entries."""

    name = "mse"

    def __call__(self, Y, targets, mask):
        count = max(float(mask.sum()) * Y.shape[-1], 1.0)
        with np.errstate(invalid="ignore"):  # untargeted steps may hold NaN targets
            diff = Y - targets
        if not mask.all():
            diff[~mask] = 0.0
        value = sum_squares(diff) / count  # not np.vdot: see _blas.sum_squares
        diff *= 2.0 / count
        return value, diff


class CrossEntropy(Loss):
    """Softmax cross-entropy of logits against target distributions (PyTorch's
    ``CrossEntropyLoss`` with probability targets, mean reduction)."""

    name = "cross_entropy"

    def check_targets(self, targets, mask, where):
        super().check_targets(targets, mask, where)
        sel = targets[mask]
        if np.any(sel < 0) or not np.allclose(sel.sum(axis=-1), 1.0, atol=1e-6):
            raise ValidationError(f"{where}.targets", "cross_entropy needs distributions "
                                  "(entries >= 0 summing to 1, e.g. one-hot) at targeted "
                                  "steps", targets)

    def __call__(self, Y, targets, mask):
        count = max(float(mask.sum()), 1.0)
        z = Y - Y.max(axis=-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
        t = np.where(mask[..., None], targets, 0.0)
        value = -float(np.sum(t * logp)) / count
        grad = np.where(mask[..., None], np.exp(logp) * t.sum(axis=-1, keepdims=True) - t, 0.0)
        return value, grad / count


class Bits(Loss):
    """Binary cross-entropy of logits in bits, summed over steps and outputs, averaged over
    the sequences (bits per sequence)."""

    name = "bits"

    def check_targets(self, targets, mask, where):
        super().check_targets(targets, mask, where)
        sel = targets[mask]
        if np.any((sel < 0) | (sel > 1)):
            raise ValidationError(f"{where}.targets", "bits needs targets in [0, 1] at "
                                  "targeted steps", targets)

    def __call__(self, Y, targets, mask):
        B = Y.shape[1]
        m = mask[..., None]
        t = np.where(m, targets, 0.0)
        # -log sigma(y) = softplus(-y), -log(1 - sigma(y)) = softplus(y)
        nats = t * np.logaddexp(0.0, -Y) + (1.0 - t) * np.logaddexp(0.0, Y)
        value = float(np.sum(np.where(m, nats, 0.0))) / (B * np.log(2.0))
        p = 0.5 * (1.0 + np.tanh(0.5 * Y))  # sigma(y) without overflow
        grad = np.where(m, p - t, 0.0) / (B * np.log(2.0))
        return value, grad


LOSSES = {cls.name: cls for cls in (MSE, CrossEntropy, Bits)}


def get_loss(loss, where: str = "loss") -> Loss:
    """A ``Loss`` from its name (``"mse"``, ``"cross_entropy"``, ``"bits"``) or itself."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    raise ValidationError(where, f"unknown loss {loss!r}; choose one of {sorted(LOSSES)} or "
                          "pass a rnndyn.train.losses.Loss", loss)
