"""The one exception hierarchy of rnndyn.

Every message names the parameter, the bad value and the fix, e.g.
``CTRNN.tau: must be > 0, got -0.5 at node 'h3'``.
"""
from __future__ import annotations


class RnndynError(Exception):
    """Base class of every error rnndyn raises on purpose."""


class ValidationError(RnndynError, ValueError):
    """Bad input: names the parameter (``attr``), the offending value and the fix.

    Parameters
    ----------
    attr : str
        Qualified name of the parameter, e.g. ``"CTRNN.tau"`` or ``"graph.edge('a', 'b').weight"``.
    msg : str
        What is wrong and how to fix it.
    obj : object, optional
        The offending value (kept for programmatic inspection).
    """

    def __init__(self, attr: str, msg: str, obj=None):
        self.attr = attr
        self.msg = msg
        self.obj = obj
        super().__init__(f"{attr}: {msg}")

    def qualify(self, where: str) -> None:
        """Prefix the parameter's name with the function or class that took it
        (``dt`` -> ``simulate.dt``): the one naming rule of every message."""
        self.attr = f"{where}.{self.attr}"
        self.args = (f"{self.attr}: {self.msg}",)


class DivergenceError(RnndynError, FloatingPointError):
    """A state became non-finite during integration.

    Attributes ``t`` (time of detection) and ``unit`` (index of the first non-finite unit)
    and ``individual`` (population index, or None) say where.
    """

    def __init__(self, msg: str, t: float | None = None, unit: int | None = None,
                 individual: int | None = None):
        self.t, self.unit, self.individual = t, unit, individual
        super().__init__(msg)


class ConvergenceError(RnndynError, RuntimeError):
    """An iterative method did not converge within its budget."""


class ConvergenceWarning(RuntimeWarning):
    """An estimate has not settled within its budget (a Lyapunov exponent still drifting,
    most fixed-point starts failing); the message says which and what to change."""


class StabilityWarning(RuntimeWarning):
    """A fixed-step method runs beyond its stability limit (e.g. Euler with dt > 2 tau)."""
