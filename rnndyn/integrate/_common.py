"""Helpers shared by simulate, run and the steppers (and, through ``plumbing``, by the layers
above): the one model check, the one initial-state check, and the integrator template bound
to a model family."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._jit import bind
from ..errors import ValidationError
from ..models.base import Model

_HERE = Path(__file__).parent


def check_model(model, where: str, single: bool = False, kind: str | None = None) -> Model:
    """``model`` if it is an rnndyn model (a single one if ``single``, of ``kind`` "flow" or
    "map" if given), else a ValidationError naming ``where``."""
    if not isinstance(model, Model):
        raise ValidationError(f"{where}.model", f"expected an rnndyn model (CTRNN, Flow, Map, "
                              f"LSTM, ...), got {type(model).__name__}", model)
    if single and model.P is not None:
        raise ValidationError(f"{where}.model", f"got a population of {model.P}; {where} "
                              "analyses one network: pass model[k]", model)
    if kind is not None and model.kind != kind:
        use = "rnndyn.simulate" if model.kind == "flow" else "rnndyn.run"
        raise ValidationError(f"{where}.model", f"needs a {kind} model, got a {model.kind} "
                              f"({type(model).__name__}); use {use} for it", model)
    return model


def initial_state(model, y0, count: int | None = None, dtype=np.float64,
                  name: str = "y0") -> np.ndarray:
    """Initial state(s) as a C-contiguous array: (n,) if ``count`` is None, else (count, n)
    (a (n,) state is shared by every member); None gives zeros."""
    n = model.n
    shape = (n,) if count is None else (count, n)
    if y0 is None:
        return np.zeros(shape, dtype=dtype)
    try:
        arr = np.asarray(y0, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(name, f"must be a numeric array of shape {shape}, got {y0!r}",
                              y0) from None
    if count is not None and arr.shape == (n,):
        arr = np.broadcast_to(arr, shape)
    if arr.shape != shape:
        alt = f" or ({n},)" if count is not None else ""
        raise ValidationError(name, f"expected shape {shape}{alt} for this model, got "
                              f"{arr.shape}", y0)
    if not np.all(np.isfinite(arr)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
        raise ValidationError(name, f"must be finite, got {arr[bad]} at index {bad}", y0)
    model.check_state(arr, name)
    return writable(np.ascontiguousarray(arr, dtype=dtype))


def check_fits(a: np.ndarray, dtype, name: str = "dtype") -> None:
    """ValidationError naming ``name`` if finite entries of the parameters ``a`` lie beyond
    ``dtype``'s range (float32: |x| > 3.4e38), which a cast would turn into inf: the run would
    then report a divergence at its first step, and the fix is the precision."""
    top, most = float(np.max(np.abs(a), initial=0.0, where=np.isfinite(a))), \
        float(np.finfo(dtype).max)  # compared as Python floats: no cast to float32
    if top > most:
        raise ValidationError(name, f"{np.dtype(dtype).name} cannot hold the model's "
                              f"parameters (largest |entry| {top:.3g}, the type's maximum "
                              f"{most:.3g}): run in float64 or scale the weights down",
                              np.dtype(dtype).name)


def writable(a: np.ndarray) -> np.ndarray:
    """a, or a copy where it is read-only (a broadcast view, a caller's frozen array): numba
    types read-only arrays apart, and each kernel would be compiled a second time for them
    (7-10 s an LSTM kernel)."""
    return a if a.flags.writeable else a.copy()


def integrator(model: Model, population: bool):
    """The integrator template (flow or map) specialised to ``model``'s family, with
    per-member parameters if ``population`` (else every batch row shares them)."""
    template = "_flow_template.py" if model.kind == "flow" else "_map_template.py"
    return bind(_HERE / template, model, population)
