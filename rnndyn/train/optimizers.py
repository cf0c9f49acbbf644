"""First-order optimizers, gradient clipping and learning-rate schedules.

An optimizer is a small object with state: ``theta = opt.step(theta, grad, lr)`` returns the
new parameter vector; ``state_dict()`` / ``load_state_dict()`` save and restore its
accumulators exactly (checkpoints resume bit-identically).

References: Polyak (1964) heavy-ball momentum; Tieleman & Hinton (2012), Coursera lecture
6.5 (RMSProp); Graves (2013), arXiv:1308.0850, eqs. 38-41 (centred RMSProp with momentum);
Kingma & Ba (2015), arXiv:1412.6980, Algorithm 1 (Adam); Pascanu, Mikolov & Bengio (2013),
ICML, arXiv:1211.5063, Algorithm 2 (clipping by norm).
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from .._blas import norm
from .._validate import in_range, positive, positive_int
from ..errors import ValidationError


class Optimizer(ABC):
    """Base class: ``step(theta, grad, lr) -> new theta``; its accumulators live in
    ``self.state`` (a dict of arrays and numbers) for checkpoints."""

    name = ""

    def __init__(self, lr: float):
        self.lr = positive(lr, f"{type(self).__name__}.lr")
        self.state: dict = {}

    @abstractmethod
    def step(self, theta: np.ndarray, grad: np.ndarray, lr: float | None = None) -> np.ndarray:
        """The parameters after one update (a new array)."""

    def _zeros(self, key, like):
        if key not in self.state:
            self.state[key] = np.zeros_like(like, dtype=float)
        return self.state[key]

    def state_dict(self) -> dict:
        """Copies of the accumulators (arrays and the step count)."""
        return {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.state.items()}

    def load_state_dict(self, state: dict) -> None:
        self.state = {k: (np.array(v, dtype=float) if np.ndim(v) else
                          (int(v) if k == "t" else float(v))) for k, v in state.items()}

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr})"


class SGD(Optimizer):
    """Gradient descent with (heavy-ball) momentum: ``v <- mu v - lr g``, ``theta <- theta +
    v``; ``nesterov=True`` takes the look-ahead step ``theta <- theta + mu v - lr g``."""

    name = "sgd"

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__(lr)
        self.momentum = in_range(momentum, "SGD.momentum", 0.0, 1.0, "left")
        self.nesterov = bool(nesterov)

    def step(self, theta, grad, lr=None):
        lr = self.lr if lr is None else lr
        if self.momentum == 0.0:
            return theta - lr * grad
        v = self._zeros("v", theta)
        v *= self.momentum
        v -= lr * grad
        return theta + (self.momentum * v - lr * grad if self.nesterov else v)


class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012): ``n <- rho n + (1 - rho) g^2``, ``theta <- theta -
    lr g / (sqrt(n) + eps)``.

    ``centered=True`` divides by the standard deviation instead, ``sqrt(n - gbar^2 + eps)``
    with ``gbar <- rho gbar + (1 - rho) g``, and ``momentum`` adds ``Delta <- momentum Delta
    - lr g / ...``: Graves (2013) eqs. 38-41. ``RMSProp.graves()`` returns that variant
    with the paper's constants (rho 0.95, momentum 0.9, lr 1e-4, eps 1e-4).
    """

    name = "rmsprop"

    def __init__(self, lr: float = 0.001, rho: float = 0.9, eps: float = 1e-8,
                 centered: bool = False, momentum: float = 0.0):
        super().__init__(lr)
        self.rho = in_range(rho, "RMSProp.rho", 0.0, 1.0, "left")
        self.eps = positive(eps, "RMSProp.eps")
        self.centered = bool(centered)
        self.momentum = in_range(momentum, "RMSProp.momentum", 0.0, 1.0, "left")

    @classmethod
    def graves(cls, lr: float = 1e-4, rho: float = 0.95, momentum: float = 0.9,
               eps: float = 1e-4) -> "RMSProp":
        """Graves (2013), arXiv:1308.0850, eqs. 38-41."""
        return cls(lr=lr, rho=rho, eps=eps, centered=True, momentum=momentum)

    def step(self, theta, grad, lr=None):
        lr = self.lr if lr is None else lr
        n = self._zeros("n", theta)
        n *= self.rho
        n += (1.0 - self.rho) * grad * grad
        if self.centered:
            gbar = self._zeros("gbar", theta)
            gbar *= self.rho
            gbar += (1.0 - self.rho) * grad
            scaled = grad / np.sqrt(np.maximum(n - gbar * gbar, 0.0) + self.eps)
        else:
            scaled = grad / (np.sqrt(n) + self.eps)
        if self.momentum == 0.0:
            return theta - lr * scaled
        delta = self._zeros("delta", theta)
        delta *= self.momentum
        delta -= lr * scaled
        return theta + delta


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba 2015, Algorithm 1)."""

    name = "adam"

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        super().__init__(lr)
        self.beta1 = in_range(beta1, "Adam.beta1", 0.0, 1.0, "left")
        self.beta2 = in_range(beta2, "Adam.beta2", 0.0, 1.0, "left")
        self.eps = positive(eps, "Adam.eps")

    def step(self, theta, grad, lr=None):
        lr = self.lr if lr is None else lr
        m, v = self._zeros("m", theta), self._zeros("v", theta)
        t = self.state["t"] = self.state.get("t", 0) + 1
        m *= self.beta1
        m += (1.0 - self.beta1) * grad
        v *= self.beta2
        v += (1.0 - self.beta2) * grad * grad
        m_hat = m / (1.0 - self.beta1 ** t)
        v_hat = v / (1.0 - self.beta2 ** t)
        return theta - lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {cls.name: cls for cls in (SGD, RMSProp, Adam)}
OPTIMIZERS["rmsprop_graves"] = RMSProp.graves


def get_optimizer(optimizer, lr: float | None = None, where: str = "optimizer") -> Optimizer:
    """An ``Optimizer`` from a name (``"sgd"``, ``"rmsprop"``, ``"rmsprop_graves"``,
    ``"adam"``; ``lr`` overrides its default learning rate) or the object itself."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, str) and optimizer in OPTIMIZERS:
        return OPTIMIZERS[optimizer]() if lr is None else OPTIMIZERS[optimizer](lr=lr)
    raise ValidationError(where, f"unknown optimizer {optimizer!r}; choose one of "
                          f"{sorted(OPTIMIZERS)} or pass a rnndyn.train.optimizers.Optimizer",
                          optimizer)


# -- clipping -----------------------------------------------------------------------------------
def clip_by_norm(grad: np.ndarray, threshold: float) -> np.ndarray:
    """Pascanu et al. (2013), Algorithm 2: if ||g|| > c then g <- c g / ||g||."""
    n = norm(grad)
    return grad * (threshold / n) if n > threshold else grad


def clip_by_value(grad: np.ndarray, threshold: float) -> np.ndarray:
    """Every entry clipped to [-c, c] (Mikolov 2012)."""
    return np.clip(grad, -threshold, threshold)


# -- learning-rate schedules: step k (0-based) -> factor of the base rate ------------------------
class Schedule(ABC):
    """Learning-rate factor as a function of the update count k (0-based): the rate of update
    k is ``lr * schedule(k)``. Pure functions of k, so a resumed run follows the same rates."""

    @abstractmethod
    def __call__(self, k: int) -> float:
        """The factor of the base rate at update k."""


class Constant(Schedule):
    def __call__(self, k):
        return 1.0

    def __repr__(self):
        return "Constant()"


class StepDecay(Schedule):
    """Multiply by ``factor`` every ``every`` updates."""

    def __init__(self, every: int, factor: float = 0.5):
        self.every = positive_int(every, "StepDecay.every")
        self.factor = in_range(factor, "StepDecay.factor", 0.0, 1.0, "right")

    def __call__(self, k):
        return self.factor ** (k // self.every)

    def __repr__(self):
        return f"StepDecay(every={self.every}, factor={self.factor})"


class ExponentialDecay(Schedule):
    """``gamma ** k``."""

    def __init__(self, gamma: float):
        self.gamma = in_range(gamma, "ExponentialDecay.gamma", 0.0, 1.0, "right")

    def __call__(self, k):
        return self.gamma ** k

    def __repr__(self):
        return f"ExponentialDecay(gamma={self.gamma})"


class Cosine(Schedule):
    """Cosine annealing to ``floor`` over ``total`` updates (Loshchilov & Hutter 2017)."""

    def __init__(self, total: int, floor: float = 0.0):
        self.total = positive_int(total, "Cosine.total")
        self.floor = in_range(floor, "Cosine.floor", 0.0, 1.0)

    def __call__(self, k):
        c = 0.5 * (1.0 + math.cos(math.pi * min(k, self.total) / self.total))
        return self.floor + (1.0 - self.floor) * c

    def __repr__(self):
        return f"Cosine(total={self.total}, floor={self.floor})"


def get_schedule(schedule, where: str = "schedule") -> Schedule:
    """A ``Schedule`` from None (constant), a ``Schedule`` or a callable k -> factor."""
    if schedule is None:
        return Constant()
    if isinstance(schedule, Schedule) or callable(schedule):
        return schedule
    raise ValidationError(where, f"must be a Schedule (StepDecay, ExponentialDecay, Cosine), "
                          f"a callable k -> factor or None, got {schedule!r}", schedule)
