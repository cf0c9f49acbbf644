"""What every reference environment's ``run`` checks before its kernel and after it."""
from __future__ import annotations

import numpy as np

from .._validate import warn
from ..errors import DivergenceError, StabilityWarning, ValidationError
from ..integrate.plumbing import check_fits, stability_warning, tau_min


def prepare(pop, record, y0, dt: float, substeps: int):
    """(rows (P,), R, y (n,)) for a population's episodes: rows[k] is individual k's row in
    the recording (-1: not recorded), R the number recorded, y the initial network state;
    warns if the Euler step exceeds the stability limit of the fastest tau."""
    P, n = pop.P, pop.n
    rows = np.full(P, -1, dtype=np.int64)
    R = 0
    if record is not None:
        rec = np.atleast_1d(np.asarray(record))
        if rec.dtype.kind not in "iu" or rec.ndim != 1 or ((rec < 0) | (rec >= P)).any() \
                or len(np.unique(rec)) != len(rec):
            raise ValidationError("record", f"must be distinct individual indices in [0, "
                                  f"{P}), got {record!r}", record)
        rows[rec] = np.arange(len(rec))
        R = len(rec)
    y = np.zeros(n) if y0 is None else np.array(y0, dtype=float)
    if y.shape != (n,) or not np.all(np.isfinite(y)):
        raise ValidationError("y0", f"must be {n} finite numbers, got {y0!r}", y0)
    h = dt / substeps
    msg = stability_warning("euler", h, tau_min(pop), f"dt={dt:.4g}" + (
        f" and substeps={substeps} (step {h:.4g})" if substeps > 1 else ""),
        " or more substeps", substeps)
    if msg:
        warn(msg, StabilityWarning)
    return rows, R, y


def check_finite(D) -> None:
    """DivergenceError naming the first individual whose episodes ended non-finite."""
    if not np.all(np.isfinite(D)):
        k = int(np.argwhere(~np.isfinite(D))[0, 0])
        raise DivergenceError(f"the network of individual {k} diverged (non-finite state); "
                              "reduce dt or use more substeps", individual=k)


def check_dtype(dtype, params):
    """The network precision of an environment's run: numpy.float64 or numpy.float32, one
    that holds the population's packed parameters ``params``."""
    try:
        t = np.dtype(dtype).type
    except TypeError:
        t = None
    if t not in (np.float64, np.float32):
        raise ValidationError("dtype", f"must be numpy.float64 or numpy.float32, got {dtype!r}",
                              dtype)
    check_fits(params, t)
    return t
