"""Short reprs for dataclasses holding arrays: a 100-unit network or a branch of 5000 points
prints one line, not thousands."""
from __future__ import annotations

import dataclasses

import numpy as np

_SMALL = 8  # arrays and sequences up to this many entries are printed in full


def _short(value) -> str:
    if isinstance(value, np.ndarray):
        if value.size <= _SMALL:
            text = np.array2string(value, precision=4, separator=", ", threshold=_SMALL)
            return " ".join(text.split())
        return f"<{value.dtype} array {value.shape}>"
    if isinstance(value, (list, tuple)) and len(value) > _SMALL:
        return f"<{type(value).__name__} of {len(value)}>"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(_short(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' * (len(value) == 1)})"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return repr(value)
    if isinstance(value, dict):
        return "{}" if not value else f"<dict of {len(value)}>"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def summary_repr(obj) -> str:
    """``Name(field=value, ...)`` with large arrays and sequences shown by shape/length and
    fields holding None, an empty dict or an empty array left out."""
    parts = []
    for f in dataclasses.fields(obj):
        if not f.repr or f.name.startswith("_"):
            continue
        value = getattr(obj, f.name)
        if value is None or (isinstance(value, dict) and not value) or \
                (isinstance(value, np.ndarray) and value.size == 0):
            continue
        parts.append(f"{f.name}={_short(value)}")
    return f"{type(obj).__name__}({', '.join(parts)})"
