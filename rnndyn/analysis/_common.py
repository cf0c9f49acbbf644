"""Shared plumbing of rnndyn.analysis: template specialisation and argument checks."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from .._jit import bind
from ..errors import ValidationError
from ..models.base import Model, as_array

_TEMPLATE = Path(__file__).parent / "_analysis_template.py"


def analysis_module(model: Model, population: bool):
    """The analysis template specialised to the model's family (see _analysis_template.py)."""
    return bind(_TEMPLATE, model, population)


def constant_input(model, u, where: str) -> np.ndarray:
    """Constant input u as an (n_in,) array (zeros if None)."""
    if u is None:
        return np.zeros(model.n_in)
    return as_array(u, f"{where}.u", (model.n_in,)).copy()


def family(model: Model, param, where: str):
    """A function value -> model built from ``param``.

    ``param`` is a callable ``value -> Model``, a field name of a scalar-valued field, or a
    pair ``(field, index)`` selecting one entry of an array field, e.g. ``("bias", 0)`` of a
    CTRNN or ``("p", 1)`` of a user Flow (rho of ``lorenz()``).
    """
    if callable(param):
        def build(v):
            m = param(float(v))
            if not isinstance(m, Model):
                raise ValidationError(f"{where}.param", f"the callable returned "
                                      f"{type(m).__name__}, not a model")
            return m
        return build
    name, index = (param, None) if isinstance(param, str) else (tuple(param) + (None,))[:2]
    names = [f.name for f in dataclasses.fields(model)] if dataclasses.is_dataclass(model) else []
    if name not in names:
        raise ValidationError(f"{where}.param", f"{type(model).__name__} has no field {name!r}; "
                              f"choose one of {names} (with an index for arrays) or pass a "
                              "callable value -> model", param)
    try:
        base = np.array(getattr(model, name), dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(f"{where}.param", f"field {name!r} of {type(model).__name__} is "
                              f"not numeric; choose one of {list(model.param_fields)} (with an "
                              "index for arrays) or pass a callable value -> model",
                              param) from None
    if index is None and base.ndim:
        raise ValidationError(f"{where}.param", f"field {name!r} is an array of shape "
                              f"{base.shape}; pass ({name!r}, index)", param)
    if index is not None:
        try:
            base[index]
        except (IndexError, TypeError):
            raise ValidationError(f"{where}.param", f"index {index!r} is out of range for "
                                  f"field {name!r} of shape {base.shape}", param) from None

    def build(v):
        arr = base.copy()
        if index is None:
            arr = float(v)
        else:
            arr[index] = v
        return dataclasses.replace(model, **{name: arr})
    return build


def population_over(model: Model, param, values, where: str) -> Model:
    """A population whose member k is ``model`` with the parameter set to ``values[k]``.

    For ``(field, index)`` / field-name parameters the stacked arrays are built directly
    (broadcast the single model's batched fields, write the values), with no per-value
    Python work; a callable ``param`` is called once per value and stacked.
    """
    values = np.asarray(values, dtype=float)
    if callable(param):
        return type(model).stack([family(model, param, where)(v) for v in values])
    family(model, param, where)  # validates the field and index
    name, index = (param, None) if isinstance(param, str) else (tuple(param) + (None,))[:2]
    P = len(values)
    changes = {}
    for f in type(model)._batched:
        a = np.asarray(getattr(model, f))
        changes[f] = np.array(np.broadcast_to(a, (P,) + a.shape))
    if name in changes:
        arr = changes[name]
        if index is None:
            arr[...] = values.reshape((P,) + (1,) * (arr.ndim - 1))
        else:
            idx = (slice(None),) + (index if isinstance(index, tuple) else (index,))
            arr[idx] = values
    else:  # a shared (non-population) field cannot vary across members
        raise ValidationError(f"{where}.param", f"field {name!r} is shared by all members of a "
                              f"population; vary one of {type(model)._batched} or pass a "
                              "callable", param)
    return dataclasses.replace(model, **changes)
