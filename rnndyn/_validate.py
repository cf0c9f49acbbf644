"""Argument checks shared by every layer. Each raises ``ValidationError(name, message, value)``
with the parameter's qualified name first (``func.param`` or ``Class.field``), the bad value
and the fix in the message."""
from __future__ import annotations

import functools
import inspect
import numbers
import re
import sys
import threading
import warnings

import numpy as np

from .errors import ValidationError


_nesting = threading.local()  # how many front doors the current call is inside


def front_door(where: str | None = None):
    """Decorator for a public function or method: a ``ValidationError`` raised inside that
    names one of its parameters (``dt``) leaves it qualified (``simulate.dt``), so every
    message follows one rule (``func.param`` / ``Class.field``) while the validators stay
    plain. When front doors call each other (``ctrnn_network`` -> ``from_arrays``), the
    outermost one that has the parameter names it: that is the call the user wrote.
    Default ``where``: the function's name; for a method, the name of the class it was
    called on (``CTRNN.rhs``; ``Stepper`` for ``__init__``)."""
    def wrap(f):
        params = list(inspect.signature(f).parameters)
        method = params[:1] in (["self"], ["cls"])

        @functools.wraps(f)
        def checked(*args, **kwargs):
            depth = getattr(_nesting, "depth", 0)
            _nesting.depth = depth + 1
            try:
                return f(*args, **kwargs)
            except ValidationError as exc:
                if re.split(r"[.\[]", exc.attr, maxsplit=1)[0] in params:
                    name = where
                    if name is None and method and args:
                        owner = args[0] if isinstance(args[0], type) else type(args[0])
                        name = owner.__name__ + ("" if f.__name__ == "__init__" else
                                                 "." + f.__name__)
                    exc.owner = name or f.__name__  # an outer front door overrides
                if depth == 0 and getattr(exc, "owner", None):
                    exc.qualify(exc.owner)
                raise
            finally:
                _nesting.depth = depth
        return checked
    return wrap


def warn(message: str, category=UserWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside rnndyn (the user's line, not
    rnndyn's own calls and decorators), however deep inside rnndyn it is issued."""
    level, frame = 2, sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).split(".")[0] == "rnndyn":
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def check_seed(seed, name: str = "seed") -> np.random.Generator:
    """``numpy.random.default_rng(seed)`` for an int >= 0, a sequence of them, a Generator,
    a SeedSequence/BitGenerator or None; anything else is a ValidationError."""
    if isinstance(seed, (bool, np.bool_, float, np.floating, str, bytes)):
        raise ValidationError(name, f"must be an int >= 0, a numpy Generator or None, got "
                              f"{seed!r}", seed)
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, f"must be an int >= 0, a numpy Generator or None, got "
                              f"{seed!r} ({exc})", seed) from None


def real_number(value, name: str, what: str = "a real number") -> float:
    """``float(value)`` for a real scalar (not a bool, a string or a complex), else a
    ValidationError saying what was expected (``what``)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ValidationError(name, f"must be {what}, got {value!r} of type "
                              f"{type(value).__name__}; pass a float, e.g. "
                              f"{name.rsplit('.', 1)[-1]}=0.01", value)
    return float(value)


def positive(value, name: str, allow_zero: bool = False) -> float:
    """A finite real number > 0 (>= 0 with ``allow_zero``) as a float."""
    v = real_number(value, name, "a finite number " + (">= 0" if allow_zero else "> 0"))
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValidationError(name, f"must be a finite number {'>= 0' if allow_zero else '> 0'}"
                              f", got {value!r}", value)
    return v


def in_range(value, name: str, low: float, high: float, closed: str = "both") -> float:
    """A real number in [low, high]; ``closed`` in {"both", "left", "right", "neither"} says
    which ends belong to the interval."""
    v = real_number(value, name)
    lo_ok = v >= low if closed in ("both", "left") else v > low
    hi_ok = v <= high if closed in ("both", "right") else v < high
    if not (np.isfinite(v) and lo_ok and hi_ok):
        lb = "[" if closed in ("both", "left") else "("
        rb = "]" if closed in ("both", "right") else ")"
        raise ValidationError(name, f"must lie in {lb}{low:g}, {high:g}{rb}, got {value!r}", value)
    return v


def positive_int(value, name: str, minimum: int = 1) -> int:
    """An int (not a bool or a float) >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) \
            or value < minimum:
        raise ValidationError(name, f"must be an int >= {minimum}, got {value!r}", value)
    return int(value)


def choice(value, name: str, options) -> str:
    """``value`` if it is one of ``options`` (strings), else a ValidationError listing them."""
    if not isinstance(value, str) or value not in options:
        listed = ", ".join(repr(o) for o in options)
        raise ValidationError(name, f"must be one of {listed}, got {value!r}", value)
    return value


def as_array(value, name: str, shape: tuple | None = None, dtype=np.float64) -> np.ndarray:
    """Read-only float64 copy of ``value``, checked for shape and finiteness.

    ``shape`` entries may be None (any length). Raises ValidationError naming ``name``.
    """
    if np.iscomplexobj(value):  # numpy would drop the imaginary part with only a warning
        raise ValidationError(name, f"must be real, got a complex array ({np.asarray(value).dtype})"
                              "; pass the real part explicitly if that is what you mean", value)
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
