"""The model protocol (DESIGN.md §3) shared by every model family.

A model is an immutable container of parameter arrays plus the family's pure jitted
functions, which generic kernels (integrators, runners, tangent dynamics) call:

=========  ===================================  ========================================
kind       function                             meaning
=========  ===================================  ========================================
"flow"     ``rhs(t, y, u, p, dy, work)``        writes dy/dt into ``dy`` (n,)
"flow"     ``jacobian(t, y, u, p, J, work)``    writes d(dy/dt)/dy into ``J`` (n, n)
"map"      ``step(h, x, p, h_new, work)``       writes the next state into ``h_new`` (n,)
"map"      ``jacobian(h, x, p, J, work)``       writes d h_new / d h into ``J`` (n, n)
both       ``output(y, p, out)``                writes the model's outputs (n_out,)
both       ``index(p, k)``                      parameters of individual k of a population
both       ``work_size(p)``                     length of the scratch vector ``work``
=========  ===================================  ========================================

Kernel-level functions write into caller-owned buffers instead of returning arrays so a
step allocates nothing (DESIGN.md asks for ``rhs(t, y, u, p)``; the pure, allocating form is
the method ``Model.rhs``). ``p`` is ``model.kernel_params``; in a population (stacked model)
its arrays carry a leading axis P that ``index`` strips.
"""
from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar, NamedTuple

import numpy as np

from ..errors import ValidationError


class Kernels(NamedTuple):
    """The jitted functions of one model family (see the module docstring)."""

    rhs: Callable | None  # flows
    step: Callable | None  # maps
    jacobian: Callable | None
    output: Callable
    index: Callable
    work_size: Callable


def as_array(value, name: str, shape: tuple | None = None, dtype=np.float64) -> np.ndarray:
    """Read-only float64 copy of ``value``, checked for shape and finiteness.

    ``shape`` entries may be None (any length). Raises ValidationError naming ``name``.
    """
    try:
        arr = np.array(value, dtype=dtype, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, f"must be a numeric array, got {value!r} ({exc})",
                              value) from None
    if shape is not None and (arr.ndim != len(shape) or any(
            s is not None and s != a for s, a in zip(shape, arr.shape))):
        want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
        raise ValidationError(name, f"expected shape {want}, got {arr.shape}", value)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(name, f"must be finite, got {arr[bad]} at index {bad}", value)
    arr.flags.writeable = False
    return arr


class Model(ABC):
    """Base of every model: a frozen dataclass of parameter arrays plus family kernels.

    Subclasses are ``@dataclass(frozen=True, eq=False)`` and set ``kind`` (``"flow"`` or
    ``"map"``), ``kernels`` and ``_batched`` (the fields that carry the population axis).
    """

    kind: ClassVar[str] = "flow"
    kernels: ClassVar[Kernels]
    _batched: ClassVar[tuple[str, ...]] = ()

    # -- sizes ----------------------------------------------------------------------------
    @property
    @abstractmethod
    def n(self) -> int:
        """State dimension."""

    @property
    def n_in(self) -> int:
        """Input width (0 for an autonomous model)."""
        return 0

    @property
    def n_out(self) -> int:
        """Number of outputs (``output`` writes this many values)."""
        return self.n

    @property
    @abstractmethod
    def P(self) -> int | None:
        """Population size, or None for a single model."""

    @property
    @abstractmethod
    def kernel_params(self) -> Any:
        """The parameter object ``p`` passed to the kernels."""

    @property
    def has_jacobian(self) -> bool:
        return self.kernels.jacobian is not None

    # -- populations ----------------------------------------------------------------------
    @classmethod
    def stack(cls, models):
        """Population (leading axis P) from single models of this family with equal shapes.

        Raises
        ------
        ValidationError
            If ``models`` is empty, mixes families, is already stacked, or differs in shapes or
            in the shared (non-population) settings.
        """
        models = list(models)
        if not models:
            raise ValidationError(f"{cls.__name__}.stack", "got no models; pass at least one")
        for k, m in enumerate(models):
            if type(m) is not cls or m.P is not None:
                raise ValidationError(f"{cls.__name__}.stack",
                                      f"item {k} is {type(m).__name__} (P={getattr(m, 'P', None)});"
                                      f" pass single {cls.__name__} models")
        first = models[0]
        changes = {}
        for f in dataclasses.fields(cls):
            values = [getattr(m, f.name) for m in models]
            if f.name in cls._batched:
                shapes = {v.shape for v in values}
                if len(shapes) > 1:
                    raise ValidationError(f"{cls.__name__}.stack",
                                          f"field {f.name!r} has differing shapes {sorted(shapes)};"
                                          " stack models of equal size")
                changes[f.name] = np.stack(values)
            elif not all(_same(v, values[0]) for v in values[1:]):
                raise ValidationError(f"{cls.__name__}.stack",
                                      f"field {f.name!r} differs between models; it is shared by "
                                      "a population, so make it equal")
        return dataclasses.replace(first, **changes)

    def __bool__(self) -> bool:  # a model is never falsy (len() is only for populations)
        return True

    def __len__(self) -> int:
        if self.P is None:
            raise TypeError(f"a single {type(self).__name__} has no len(); it is not stacked")
        return self.P

    def __getitem__(self, k: int | slice):
        """Individual ``k`` of a population as a single model; a slice gives a population."""
        if self.P is None:
            raise TypeError(f"a single {type(self).__name__} cannot be indexed")
        k = k if isinstance(k, slice) else range(self.P)[k]
        return dataclasses.replace(self, **{f: getattr(self, f)[k] for f in self._batched})

    # -- pure evaluation (convenience; kernels do the work) -------------------------------
    def _single(self, what: str):
        if self.P is not None:
            raise ValidationError(f"{type(self).__name__}.{what}",
                                  "evaluates one network; index the population first (model[k])")

    def _u(self, u):
        if u is None:
            if self.n_in:
                raise ValidationError("u", f"this model has {self.n_in} inputs; pass u of "
                                      f"shape ({self.n_in},)")
            return np.zeros(0)
        return as_array(u, "u", (self.n_in,)).copy()

    def rhs(self, t: float, y, u=None) -> np.ndarray:
        """dy/dt at (t, y) under input u (flows). Returns a new (n,) array."""
        self._single("rhs")
        y = as_array(y, "y", (self.n,)).copy()
        dy = np.empty(self.n)
        self.kernels.rhs(float(t), y, self._u(u), self.kernel_params, dy,
                         np.empty(self.kernels.work_size(self.kernel_params)))
        return dy

    def step(self, h, x=None) -> np.ndarray:
        """Next state of a map from state h under input x. Returns a new (n,) array."""
        self._single("step")
        h = as_array(h, "h", (self.n,)).copy()
        out = np.empty(self.n)
        self.kernels.step(h, self._u(x), self.kernel_params, out,
                          np.empty(self.kernels.work_size(self.kernel_params)))
        return out

    def jacobian(self, *args) -> np.ndarray:
        """Analytic Jacobian: ``jacobian(t, y, u=None)`` for flows, ``jacobian(h, x=None)`` for maps."""
        self._single("jacobian")
        if not self.has_jacobian:
            raise ValidationError(f"{type(self).__name__}.jacobian",
                                  "this model has no Jacobian; give one when building it")
        work = np.empty(self.kernels.work_size(self.kernel_params))
        J = np.empty((self.n, self.n))
        if self.kind == "flow":
            t, y, u = (list(args) + [None])[:3]
            y = as_array(y, "y", (self.n,)).copy()
            self.kernels.jacobian(float(t), y, self._u(u), self.kernel_params, J, work)
        else:
            h, x = (list(args) + [None])[:2]
            h = as_array(h, "h", (self.n,)).copy()
            self.kernels.jacobian(h, self._u(x), self.kernel_params, J, work)
        return J

    def output(self, y) -> np.ndarray:
        """Model outputs for state y (n,)."""
        self._single("output")
        y = as_array(y, "y", (self.n,)).copy()
        out = np.empty(self.n_out)
        self.kernels.output(y, self.kernel_params, out)
        return out


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a is b or a == b
