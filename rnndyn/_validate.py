"""Argument checks shared by every layer. Each raises ``ValidationError(name, message, value)``
with the parameter's qualified name first (``func.param`` or ``Class.field``), the bad value
and the fix in the message."""
from __future__ import annotations

import numpy as np

from .errors import ValidationError


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
