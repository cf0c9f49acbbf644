"""The model protocol shared by every model family.

A model is an immutable container of parameter arrays plus the family's pure jitted
functions, which generic kernels (integrators, runners, tangent dynamics, training) call:

=========  ==============================================  ==================================
kind       function                                        meaning
=========  ==============================================  ==================================
"flow"     ``rhs(t, y, u, p, dy, work)``                   writes dy/dt into ``dy`` (n,)
"flow"     ``jacobian(t, y, u, p, J, work)``               d(dy/dt)/dy into ``J`` (n, n)
"flow"     ``vjp(t, y, u, p, v, gy, gu, gp, work)``        v^T d(dy/dt)/d(y, u, theta_raw)
"flow"     ``param_jacobian(t, y, u, p, Jp, work)``        d(dy/dt)/dtheta_raw into (n, d_raw)
"flow"     ``jvp(t, y, u, p, Y, A, M, work)`` (optional)   A (n, k) = d(dy/dt)/dy @ Y, matrix-free
"map"      ``step(h, x, p, h_new, work)``                  the next state into ``h_new`` (n,)
"map"      ``jacobian(h, x, p, J, work)``                  d h_new / d h into ``J`` (n, n)
"map"      ``vjp(h, x, p, v, gh, gx, gp, work)``           v^T d h_new / d(h, x, theta_raw)
"map"      ``param_jacobian(h, x, p, Jp, work)``           d h_new / d theta_raw (n, d_raw)
both       ``output(y, p, out)``                           the model's outputs (n_out,)
both       ``output_vjp(y, p, v, gy, gp)``                 v^T d out / d(y, theta_raw)
both       ``param_size(p)``                               d_raw, the length of theta_raw
both       ``member(p, k)``                                 parameters of individual k
both       ``work_size(p)``                                length of the scratch ``work``
=========  ==============================================  ==================================

Kernel-level functions write into (overwrite) caller-owned buffers instead of returning
arrays, so a step allocates nothing; the pure, allocating forms are the methods
``Model.rhs``, ``Model.step``, ``Model.jacobian``, ``Model.vjp``, ``Model.param_jacobian``.
``p`` is ``model.kernel_params``; in a population (stacked model) its arrays carry a leading
axis P that ``member`` strips.

Parameters as vectors. ``model.param_fields`` names the parameter arrays that can vary;
``to_vector(fields)`` flattens the free entries of the named fields (entries outside a
topology mask are not free) into theta, and ``from_vector(theta, fields)`` returns a new
model. Functions differentiate with respect to ``theta_raw``, the family's own flat layout of
the arrays its kernels read (``_raw_layout``); theta is a selection of theta_raw, so a
gradient with respect to theta is ``g_raw[model.theta_index(fields)]``.

A family writes ``jacobian`` and ``vjp`` by hand; ``complete`` derives what is missing:
central differences inside a generated kernel for user models without analytic derivatives
(``_fd_template.py``) and ``param_jacobian`` from n VJPs (``_derived_template.py``).
A flow may add ``jvp`` (returns True): tangent products for a few directions at O(n^2 k)
without writing the n x n Jacobian, which the Lyapunov kernels otherwise form every stage.
"""
from __future__ import annotations

import dataclasses
import weakref
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Callable, ClassVar, NamedTuple

import numpy as np

from .._jit import specialize
from .._summary import summary_repr
from .._validate import as_array, front_door  # noqa: F401  (as_array: families import it here)
from ..errors import ValidationError
from . import _base_kernels


class Functions(NamedTuple):
    """The jitted functions of one model family (see the module docstring)."""

    rhs: Callable | None  # flows
    step: Callable | None  # maps
    jacobian: Callable | None
    output: Callable
    member: Callable
    work_size: Callable
    vjp: Callable | None = None
    param_jacobian: Callable | None = None
    output_vjp: Callable | None = None
    param_size: Callable | None = None
    jvp: Callable | None = None  # optional: tangent products without the Jacobian


class VJP(NamedTuple):
    """Result of ``Model.vjp``: v^T dF with respect to the state, the input and theta."""

    state: np.ndarray
    input: np.ndarray
    params: np.ndarray


_HERE = Path(__file__).parent
#: model -> {fields: theta_index(fields)}; models are immutable (eq=False: keyed by identity)
_THETA_INDEX = weakref.WeakKeyDictionary()
_complete: dict[tuple, Functions] = {}


def complete(k: Functions, kind: str) -> Functions:
    """``k`` with every slot filled: what the family does not write is derived.

    A missing Jacobian, parameter Jacobian or output VJP becomes central differences inside
    a generated kernel (``_fd_template.py``: only for models whose parameters are one flat
    array, the user models); a missing VJP is built from the two Jacobians, a missing
    parameter Jacobian from n VJPs (``_derived_template.py``). Memoised per family.
    """
    key = (kind,) + tuple(id(f) for f in k)
    if key in _complete:
        return _complete[key]
    f = k.rhs if kind == "flow" else k.step
    fd = None
    if k.jacobian is None or k.output_vjp is None or (k.vjp is None and k.param_jacobian is None):
        fd = specialize(_HERE / "_fd_template.py", _f=f, _output=k.output)
    jac = k.jacobian or getattr(fd, f"{kind}_jacobian")
    vjp, pjac = k.vjp, k.param_jacobian
    psize = k.param_size or _base_kernels.vector_param_size
    if vjp is None:
        pjac = pjac or getattr(fd, f"{kind}_param_jacobian")
        mod = specialize(_HERE / "_derived_template.py", _f=f, _jac=jac, _pjac=pjac, _vjp=f,
                         _psize=psize)
        vjp = getattr(mod, f"{kind}_vjp")
    elif pjac is None:
        mod = specialize(_HERE / "_derived_template.py", _f=f, _jac=f, _pjac=f, _vjp=vjp,
                         _psize=psize)
        pjac = getattr(mod, f"{kind}_param_jacobian")
    full = k._replace(jacobian=jac, vjp=vjp, param_jacobian=pjac, param_size=psize,
                      output_vjp=k.output_vjp or fd.output_vjp)
    _complete[key] = full
    return full


def unit_indices(value, n: int, name: str) -> tuple:
    """Distinct unit indices in [0, n) as a tuple of int; anything else (0.7, "a", True, a
    repeat, out of range) is a ValidationError."""
    items = list(value) if np.ndim(value) == 1 or isinstance(value, (list, tuple)) else None
    ok = items is not None and all(isinstance(i, (int, np.integer)) and not isinstance(
        i, (bool, np.bool_)) and 0 <= i < n for i in items) and len(set(items)) == len(items)
    if not ok:
        raise ValidationError(name, f"must be a sequence of distinct int unit indices in "
                              f"[0, {n}), got {value!r}", value)
    return tuple(int(i) for i in items)


def check_mask(mask, weights: np.ndarray, name: str, rows: int = 1):
    """A topology mask as a read-only bool array of one network's weight shape, or None.

    ``weights`` (with any leading population axis) must be zero outside the mask; ``rows``
    > 1 tiles the mask over stacked gate blocks (an (H, H) mask of a (4H, H) LSTM weight).
    """
    if mask is None:
        return None
    shape = weights.shape[-2:]
    m = np.asarray(mask)
    if m.dtype != bool or m.shape != (shape[0] // rows, shape[1]):
        raise ValidationError(name, f"expected a bool array of shape ({shape[0] // rows}, "
                              f"{shape[1]}), got {m.dtype} {m.shape}", mask)
    full = np.tile(m, (rows, 1))
    outside = np.argwhere((weights != 0) & ~full)
    if outside.size:
        where = tuple(int(i) for i in outside[0])
        raise ValidationError(name, f"the weight at {where} is {weights[where]} but the mask "
                              "excludes that connection; zero it or include it in the mask",
                              mask)
    m = m.copy()
    m.flags.writeable = False
    return m


def edge_masks(G, nodes, input_nodes) -> tuple:
    """(mask (n, n), input_mask (n, n_in)) of the connections present in graph G: entry
    [i, j] is True iff G has the edge nodes[j] -> nodes[i] (input_nodes[j] -> nodes[i])."""
    input_nodes = tuple(input_nodes or ())
    idx = {v: i for i, v in enumerate(nodes)}
    src = {v: j for j, v in enumerate(input_nodes)}
    mask = np.zeros((len(nodes), len(nodes)), dtype=bool)
    input_mask = np.zeros((len(nodes), len(input_nodes)), dtype=bool)
    for a, b in G.edges():
        if b in idx:
            if a in idx:
                mask[idx[b], idx[a]] = True
            elif a in src:
                input_mask[idx[b], src[a]] = True
    return mask, input_mask


class ParamVector:
    """Parameters as one flat vector (shared by models and composites such as Bidirectional).

    A class lists its varying parameter arrays in ``_params``; ``_param_arrays`` gives them
    (with a leading population axis where the model has one), ``_free(name)`` the mask of the
    entries that may vary (None: all), ``_with_params`` rebuilds the object from new arrays,
    and ``_bounds`` names fields with an exclusive lower bound (e.g. ``{"tau": 0.0}``).
    """

    _params: ClassVar[tuple[str, ...]] = ()
    _bounds: ClassVar[dict] = {}

    __repr__ = summary_repr  # one line, whatever the size of the arrays

    def _param_arrays(self) -> dict:
        return {f: getattr(self, f) for f in self._params}

    def _free(self, name: str) -> np.ndarray | None:
        return None

    def _with_params(self, arrays: dict):
        return dataclasses.replace(self, **arrays)

    def _lead_shape(self) -> tuple:
        P = getattr(self, "P", None)
        return () if P is None else (P,)

    @property
    def param_fields(self) -> dict:
        """``{name: shape}`` of the parameter arrays that can vary (one network's shapes)."""
        cut = len(self._lead_shape())
        return {k: tuple(np.shape(a)[cut:]) for k, a in self._param_arrays().items()}

    def _fields(self, fields, where: str) -> tuple:
        names = tuple(self.param_fields)
        if fields is None:
            return names
        fields = (fields,) if isinstance(fields, str) else tuple(fields)
        for f in fields:
            if f not in names:
                raise ValidationError(f"{type(self).__name__}.{where}.fields", f"no parameter "
                                      f"field {f!r}; choose from {list(names)}", fields)
        if len(set(fields)) != len(fields):
            raise ValidationError(f"{type(self).__name__}.{where}.fields", f"names a field "
                                  f"twice: {list(fields)}", fields)
        return fields

    def _free_flat(self, name: str, shape: tuple) -> np.ndarray:
        """Flat (C-order) indices of the free entries of field ``name``."""
        free = self._free(name)
        if free is None:
            return np.arange(int(np.prod(shape)))
        return np.flatnonzero(np.broadcast_to(free, shape))

    @front_door()
    def to_vector(self, fields=None) -> np.ndarray:
        """The free entries of ``fields`` (default: all of ``param_fields``) as one vector.

        Returns
        -------
        theta : array (d,), or (P, d) for a population
            Fields in the order given, each flattened in C order, masked entries left out.
        """
        fields = self._fields(fields, "to_vector")
        arrays, shapes, lead = self._param_arrays(), self.param_fields, self._lead_shape()
        parts = [np.asarray(arrays[f], dtype=float).reshape(lead + (-1,))[
                 ..., self._free_flat(f, shapes[f])] for f in fields]
        return np.concatenate(parts, axis=-1) if parts else np.zeros(lead + (0,))

    @front_door()
    def from_vector(self, theta, fields=None):
        """A new model whose ``fields`` take their free entries from ``theta``.

        Fields not named keep their values, and entries outside a topology mask stay zero.
        A single model given theta of shape (P, d) returns a population of P members.

        Raises
        ------
        ValidationError
            If theta has the wrong length, non-finite entries, or breaks a bound (tau > 0),
            naming the entry.
        """
        name = type(self).__name__
        fields = self._fields(fields, "from_vector")
        arrays, shapes, lead = self._param_arrays(), self.param_fields, self._lead_shape()
        idx = {f: self._free_flat(f, shapes[f]) for f in fields}
        d = sum(len(i) for i in idx.values())
        try:
            theta = np.asarray(theta, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError(f"{name}.from_vector.theta", f"must be a numeric array, got "
                                  f"{type(theta).__name__}", theta) from None
        if theta.shape[-1:] != (d,) or theta.ndim not in (1, 2) or \
                (lead and theta.shape[:-1] != lead) or (theta.ndim == 2 and not lead
                                                        and not self._stackable()):
            want = f"{lead + (d,)}" if lead or not self._stackable() else f"({d},) or (P, {d})"
            raise ValidationError(f"{name}.from_vector.theta", f"expected shape {want} for "
                                  f"fields {list(fields)}, got {theta.shape}", theta)
        owner = np.concatenate([np.full(len(idx[f]), k) for k, f in enumerate(fields)] or
                               [np.zeros(0, int)]).astype(int)
        entry = np.concatenate([idx[f] for f in fields] or [np.zeros(0, int)]).astype(int)

        def bad(mask, why):
            pos = np.argwhere(mask)[0]
            col = int(pos[-1])
            f = fields[owner[col]]
            at = tuple(int(i) for i in np.unravel_index(entry[col], shapes[f]))
            member = f" of member {int(pos[0])}" if theta.ndim == 2 else ""
            raise ValidationError(f"{name}.from_vector.theta", f"entry {col} ({f}{list(at)}"
                                  f"{member}) {why}, got {theta[tuple(pos)]}", theta)
        if not np.all(np.isfinite(theta)):
            bad(~np.isfinite(theta), "must be finite")
        new_lead = theta.shape[:-1]
        changes, off = {}, 0
        for f in fields:
            if f in self._bounds and np.any(theta[..., off:off + len(idx[f])] <= self._bounds[f]):
                mask = np.zeros(theta.shape, dtype=bool)
                mask[..., off:off + len(idx[f])] = theta[..., off:off + len(idx[f])] <= \
                    self._bounds[f]
                bad(mask, f"must be > {self._bounds[f]} ({f} is bounded)")
            arr = np.array(np.broadcast_to(arrays[f], new_lead + shapes[f]), dtype=float)
            arr.reshape(new_lead + (-1,))[..., idx[f]] = theta[..., off:off + len(idx[f])]
            changes[f] = arr
            off += len(idx[f])
        if new_lead and not lead:  # a single model becomes a population
            for f in self._batched:
                if f not in changes:
                    a = getattr(self, f)
                    changes[f] = np.array(np.broadcast_to(a, new_lead + np.shape(a)))
        return self._with_params(changes)

    _batched: ClassVar[tuple[str, ...]] = ()  # fields with a population axis (models)

    def _stackable(self) -> bool:
        return bool(self._batched)


class Composite(ParamVector, ABC):
    """Parameters of an object made of parts: part ``k``'s field ``f`` is named ``"k.f"``,
    followed by the object's own fields (``_params``). Subclasses give ``_parts()`` (an
    ordered ``{name: part}``) and ``_with_parts(parts, own)``."""

    @abstractmethod
    def _parts(self) -> dict:
        """The parts, in order: ``{name: part}``."""

    @abstractmethod
    def _with_parts(self, parts: dict, own: dict):
        """A copy with these parts and own fields."""

    def _param_arrays(self) -> dict:
        out = {f"{k}.{f}": a for k, c in self._parts().items()
               for f, a in c._param_arrays().items()}
        return out | {f: getattr(self, f) for f in self._params}

    def _route(self, name: str) -> tuple:
        """(part name, field name within the part), or ("", name) for an own field."""
        for k in self._parts():
            if name.startswith(k + "."):
                return k, name[len(k) + 1:]
        return "", name

    def _free(self, name):
        part, f = self._route(name)
        return self._parts()[part]._free(f) if part else None

    def _raw_layout(self) -> list:
        return [(tuple(f"{k}.{f}" for f in names), shape) for k, c in self._parts().items()
                for names, shape in c._raw_layout()]

    def _with_params(self, arrays: dict):
        parts = self._parts()
        changes = {k: {} for k in parts}
        own = {}
        for name, a in arrays.items():
            part, f = self._route(name)
            (changes[part] if part else own)[f] = a
        return self._with_parts({k: c._with_params(changes[k]) if changes[k] else c
                                 for k, c in parts.items()}, own)


class Model(ParamVector, ABC):
    """Base of every model: a frozen dataclass of parameter arrays plus family kernels.

    Subclasses are ``@dataclass(frozen=True, eq=False)`` and set ``kind`` (``"flow"`` or
    ``"map"``), ``_functions`` (the family's own jitted functions; ``functions`` completes them),
    ``_batched`` (the fields that carry the population axis) and ``_params`` (the fields
    that form the parameter vector).
    """

    kind: ClassVar[str] = "flow"
    _functions: ClassVar[Functions]

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
    def functions(self) -> Functions:
        """Every kernel of the family; those it does not write are derived (``complete``)."""
        return complete(self._functions, self.kind)

    @property
    def has_jacobian(self) -> bool:
        """True if the state Jacobian is analytic (else: central differences in a kernel)."""
        return self._functions.jacobian is not None

    # -- parameter derivatives --------------------------------------------------------------
    def _raw_layout(self) -> list:
        """``[(field names, shape), ...]``: the blocks of theta_raw in kernel order. A block
        read by several fields (e.g. a summed bias b_ih + b_hh) lists them all; a block of
        no field (a fixed array the kernels read) lists none. Default: ``_params`` in order."""
        return [((f,), shape) for f, shape in self.param_fields.items()]

    @front_door()
    def theta_index(self, fields=None) -> np.ndarray:
        """Positions in theta_raw of the entries of ``to_vector(fields)``: a kernel's
        parameter gradient ``g_raw`` gives the gradient with respect to theta as
        ``g_raw[theta_index(fields)]``."""
        fields = self._fields(fields, "theta_index")
        cached = _THETA_INDEX.setdefault(self, {})  # a function of shapes and read-only masks
        if fields not in cached:
            cached[fields] = self._theta_index(fields)
        return cached[fields]

    def _theta_index(self, fields: tuple) -> np.ndarray:
        offsets, off = {}, 0
        for names, shape in self._raw_layout():
            for f in names:
                offsets[f] = off
            off += int(np.prod(shape))
        shapes = self.param_fields
        parts = [offsets[f] + self._free_flat(f, shapes[f]) for f in fields]
        index = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        index.flags.writeable = False
        return index

    def _point(self, what, args, v=None):
        """Checked (parameters, t, state, input, v) of every member for a derivative call."""
        name = f"{type(self).__name__}.{what}"
        flow = not self.discrete
        n_args = 3 if flow else 2
        if not 1 + flow <= len(args) <= n_args:
            sig = "t, y, u=None" if flow else "h, u=None"
            raise ValidationError(name, f"takes ({sig}), got {len(args)} arguments")
        args = list(args) + [None] * (n_args - len(args))
        t = float(args[0]) if flow else 0.0
        y, u = args[-2], args[-1]
        lead = self._lead_shape()
        P = lead[0] if lead else 1
        Y = np.broadcast_to(as_array(y, f"{name}.{'y' if flow else 'h'}", lead + (self.n,)),
                            (P, self.n))
        if u is None:  # no input: zero input
            U = np.zeros((P, self.n_in))
        else:
            u = as_array(u, f"{name}.u")
            U = np.broadcast_to(u, (P, self.n_in)) if u.shape in ((self.n_in,), (P, self.n_in)) \
                else None
            if U is None:
                raise ValidationError(f"{name}.u", f"expected shape ({self.n_in},) or "
                                      f"({P}, {self.n_in}), got {u.shape}", u)
        V = None
        if v is not None:
            V = np.broadcast_to(as_array(v, f"{name}.v", lead + (self.n,)), (P, self.n))
        k = self.functions
        members = [k.member(self.kernel_params, i) for i in range(P)] if lead else \
            [self.kernel_params]
        return k, members, t, Y, U, V, bool(lead)

    @front_door()
    def vjp(self, v, *args, fields=None) -> VJP:
        """Vector-Jacobian product of one rhs evaluation (flows: ``vjp(v, t, y, u=None)``) or
        one step (maps: ``vjp(v, h, x=None)``).

        Parameters
        ----------
        v : array (n,) or (P, n)
            Cotangent of dy/dt (flows) or of the next state (maps).
        fields : str or sequence of str, optional
            Parameter fields of the theta part (default: all, as ``to_vector``).

        Returns
        -------
        VJP
            ``state`` = v^T dF/dy (n,), ``input`` = v^T dF/du (n_in,), ``params`` =
            v^T dF/dtheta (d,), with a leading axis P for a population.
        """
        k, members, t, Y, U, V, pop = self._point("vjp", args, v)
        sel = self.theta_index(fields)
        out = []
        for pk, y, u, w in zip(members, Y, U, V):
            gy, gu = np.empty(self.n), np.empty(self.n_in)
            gp = np.empty(k.param_size(pk))
            work = np.empty(k.work_size(pk))
            y, u, w = y.copy(), u.copy(), w.copy()
            if not self.discrete:
                k.vjp(t, y, u, pk, w, gy, gu, gp, work)
            else:
                k.vjp(y, u, pk, w, gy, gu, gp, work)
            out.append((gy, gu, gp[sel]))
        parts = [np.stack(a) if pop else a[0] for a in zip(*out)]
        return VJP(*parts)

    @front_door()
    def param_jacobian(self, *args, fields=None) -> np.ndarray:
        """dF/dtheta of one rhs evaluation (flows: ``param_jacobian(t, y, u=None)``) or one
        step (maps: ``param_jacobian(h, x=None)``).

        Returns
        -------
        array (n, d), or (P, n, d) for a population
            Columns in the order of ``to_vector(fields)``.
        """
        k, members, t, Y, U, _, pop = self._point("param_jacobian", args)
        sel = self.theta_index(fields)
        out = []
        for pk, y, u in zip(members, Y, U):
            Jp = np.empty((self.n, k.param_size(pk)))
            work = np.empty(k.work_size(pk))
            y, u = y.copy(), u.copy()
            if not self.discrete:
                k.param_jacobian(t, y, u, pk, Jp, work)
            else:
                k.param_jacobian(y, u, pk, Jp, work)
            out.append(Jp[:, sel])
        return np.stack(out) if pop else out[0]

    @front_door()
    def output_vjp(self, v, y, fields=None) -> tuple:
        """(v^T d out/dy (n,), v^T d out/dtheta (d,)) for output cotangent v (n_out,)
        (single models)."""
        self._single("output_vjp")
        k = self.functions
        y = as_array(y, "y", (self.n,)).copy()
        v = as_array(v, "v", (self.n_out,)).copy()
        p = self.kernel_params
        gy, gp = np.empty(self.n), np.empty(k.param_size(p))
        k.output_vjp(y, p, v, gy, gp)
        return gy, gp[self.theta_index(fields)]

    # -- populations ----------------------------------------------------------------------
    @classmethod
    @front_door()
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

    def check_state(self, states: np.ndarray, name: str) -> None:
        """Refuse finite states (..., n) outside the model's domain with a
        ``ValidationError`` naming ``name`` (``rnndyn.run``, ``simulate`` and the trainers
        call it on a given initial state). Any finite state is valid unless a family says
        otherwise (e.g. a neural stack's strengths lie in [0, 1])."""

    # -- pure evaluation (convenience; kernels do the work) -------------------------------
    def _single(self, what: str):
        if self.P is not None:
            raise ValidationError(f"{type(self).__name__}.{what}",
                                  "evaluates one network; index the population first (model[k])")

    def _u(self, u):
        if u is None:  # no input: zero input
            return np.zeros(self.n_in)
        if self.n_in == 0 and np.size(u):
            raise ValidationError("u", "this model has no inputs (n_in = 0); pass None", u)
        return as_array(u, "u", (self.n_in,)).copy()

    @front_door()
    def rhs(self, t: float, y, u=None) -> np.ndarray:
        """dy/dt at (t, y) under input u (flows). Returns a new (n,) array."""
        self._single("rhs")
        y = as_array(y, "y", (self.n,)).copy()
        dy = np.empty(self.n)
        self.functions.rhs(float(t), y, self._u(u), self.kernel_params, dy,
                           np.empty(self.functions.work_size(self.kernel_params)))
        return dy

    @front_door()
    def step(self, h, u=None) -> np.ndarray:
        """Next state of a map from state h under input u. Returns a new (n,) array."""
        self._single("step")
        h = as_array(h, "h", (self.n,)).copy()
        out = np.empty(self.n)
        self.functions.step(h, self._u(u), self.kernel_params, out,
                            np.empty(self.functions.work_size(self.kernel_params)))
        return out

    @front_door()
    def jacobian(self, *args) -> np.ndarray:
        """Analytic Jacobian: ``jacobian(t, y, u=None)`` for flows, ``jacobian(h, u=None)`` for maps."""
        self._single("jacobian")
        work = np.empty(self.functions.work_size(self.kernel_params))
        J = np.empty((self.n, self.n))
        if not self.discrete:
            t, y, u = (list(args) + [None])[:3]
            y = as_array(y, "y", (self.n,)).copy()
            self.functions.jacobian(float(t), y, self._u(u), self.kernel_params, J, work)
        else:
            h, u = (list(args) + [None])[:2]
            h = as_array(h, "h", (self.n,)).copy()
            self.functions.jacobian(h, self._u(u), self.kernel_params, J, work)
        return J

    # -- one signature for flows and maps ------------------------------------------------
    @property
    def discrete(self) -> bool:
        """True for a map (time counts steps), False for a flow (time is continuous)."""
        return self.kind == "map"

    def point(self, y, u=None, t: float = 0.0) -> tuple:
        """The arguments of this kind's pure functions at state y: ``(t, y, u)`` for a flow,
        ``(y, u)`` for a map, so ``model.jacobian(*model.point(y, u))`` serves both."""
        return (y, u) if self.discrete else (t, y, u)

    def residual(self, y, u=None, t: float = 0.0) -> np.ndarray:
        """The function whose zeros are the fixed points: dy/dt for a flow, F(y) - y for a
        map."""
        return self.step(y, u) - y if self.discrete else self.rhs(t, y, u)

    def residual_jacobian(self, y, u=None, t: float = 0.0) -> np.ndarray:
        """d residual / dy: the Jacobian of a flow, the Jacobian minus I of a map."""
        J = self.jacobian(*self.point(y, u, t))
        return J - np.eye(self.n) if self.discrete else J

    @front_door()
    def output(self, y) -> np.ndarray:
        """Model outputs for state y (n,)."""
        self._single("output")
        y = as_array(y, "y", (self.n,)).copy()
        out = np.empty(self.n_out)
        self.functions.output(y, self.kernel_params, out)
        return out


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    return a is b or a == b
