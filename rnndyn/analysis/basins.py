"""Basins of attraction on a 2-D grid of initial states (one parallel kernel call)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import front_door, positive, positive_int
from ..integrate.plumbing import check_model, integrator
from .._summary import summary_repr
from ..errors import ValidationError
from ..executors import check_executor, map_population
from ..models.base import Model, as_array
from . import _kernels
from ._common import constant_input

DIVERGED, UNASSIGNED = -2, -1


@dataclass(frozen=True, eq=False, repr=False)
class BasinMap:
    """Result of :func:`basins`.

    Attributes
    ----------
    xs, ys : arrays (nx,), (ny,)
        Grid of the two varied state components ``dims``.
    labels : array (ny, nx) of int
        Index of the attractor reached from each grid state; -1 none within tolerance,
        -2 diverged. Row = ys, column = xs (``imshow``/``pcolormesh`` order).
    attractors : list of arrays (m_k, n)
        Attractor k as a set of states (one row for a fixed point).
    final : array (ny, nx, n)
        State after ``t_total``.
    dims : (int, int)
    """

    __repr__ = summary_repr

    xs: np.ndarray
    ys: np.ndarray
    labels: np.ndarray
    attractors: list
    final: np.ndarray
    dims: tuple

    def fractions(self) -> np.ndarray:
        """Fraction of the grid in each basin (K,)."""
        return np.bincount(self.labels[self.labels >= 0].ravel(),
                           minlength=len(self.attractors)) / self.labels.size


@front_door()
def basins(model: Model, xs, ys, t_total: float, dt: float | None = None, *, dims=(0, 1),
           base=None, u=None, method: str = "rk4", attractors=None,
           tol: float = 1e-3, executor=None) -> BasinMap:
    """Label each initial state of a 2-D grid by the attractor its orbit reaches.

    Every grid state is advanced by ``t_total`` in one parallel kernel (prange over grid
    points) that keeps only the end state. End states are then labelled by the nearest
    given attractor within ``tol (1 + |a|)`` (max-norm; an attractor given as a set of
    points, e.g. a sampled limit cycle, is as near as its nearest point), or, without
    ``attractors``, clustered: each cluster of end states closer than the tolerance is one
    (fixed-point) attractor, numbered in order of first appearance on the grid.

    Parameters
    ----------
    model : Model
        A single model (flow or map).
    xs, ys : array (nx,), (ny,)
        Values of the state components ``dims[0]`` and ``dims[1]``.
    t_total : float
        Time (flows) or number of steps (maps) to run.
    dt : float
        RK4/Euler step of flows; ignored for maps.
    dims : (int, int)
        The two state components spanning the grid.
    base : array (n,), optional
        Values of the other components (default zeros).
    u : array (n_in,), optional
        Constant input.
    method : {"rk4", "euler"}
    attractors : array (K, n) or list of arrays (m_k, n), optional
        Known attractors.
    tol : float
        Relative distance counted as "on the attractor".
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        None: one in-process kernel; otherwise the grid is split in chunks over the
        executor's workers (``rnndyn.integrate.executors``), with identical results.

    Returns
    -------
    BasinMap

    Raises
    ------
    ValidationError
        If a grid is not 1-D with at least one value, dims are invalid, or the model is a
        population.
    """
    where = "basins"
    check_model(model, where, single=True)
    xs = as_array(xs, f"{where}.xs")
    ys = as_array(ys, f"{where}.ys")
    for name, g in (("xs", xs), ("ys", ys)):
        if g.ndim != 1 or g.size < 1:
            raise ValidationError(f"{where}.{name}", f"expected a 1-D array of grid values, got "
                                  f"shape {g.shape}; pass e.g. np.linspace(-1, 1, 101)", g)
    dims = tuple(dims)
    if len(dims) != 2 or dims[0] == dims[1] or not all(
            isinstance(d, (int, np.integer)) and 0 <= d < model.n for d in dims):
        raise ValidationError(f"{where}.dims", f"expected two different state indices in "
                              f"[0, {model.n}), got {dims!r}", dims)
    if method not in ("rk4", "euler"):
        raise ValidationError(f"{where}.method", f"must be 'rk4' or 'euler', got {method!r}")
    tol = positive(tol, f"{where}.tol")
    if model.discrete:
        n_steps, h = positive_int(int(t_total), f"{where}.t_total"), 1.0
    else:
        t_total = positive(t_total, f"{where}.t_total")
        h = positive(dt, f"{where}.dt")
        n_steps = int(np.ceil(t_total / h - 1e-9))
        h = t_total / n_steps
    base = np.zeros(model.n) if base is None else as_array(base, f"{where}.base", (model.n,))
    YY, XX = np.meshgrid(ys, xs, indexing="ij")
    X = np.array(np.broadcast_to(base, (XX.size, model.n)))
    X[:, dims[0]] = XX.ravel()
    X[:, dims[1]] = YY.ravel()
    uu = constant_input(model, u, where)
    U = np.array(np.broadcast_to(uu, (len(X), model.n_in)))
    check_executor(executor, f"{where}.executor")
    X, status = map_population(_final_states, executor, model, (X, U),
                               (n_steps, h, 1 if method == "rk4" else 0))
    bad = (status != 0) | ~np.all(np.isfinite(X), axis=1)
    labels = np.full(len(X), UNASSIGNED, np.int64)
    if attractors is None:
        rep = np.empty(len(X), np.int64)
        order_key = np.arange(len(X), dtype=float)  # first appearance on the grid
        _kernels.dedup(X, order_key, ~bad, np.array([0, len(X)], np.int64), tol, rep)
        reps = np.flatnonzero(rep == np.arange(len(X)))
        lookup = np.full(len(X), UNASSIGNED, np.int64)
        lookup[reps] = np.arange(len(reps))
        labels[~bad] = lookup[rep[~bad]]
        att = [X[r][None].copy() for r in reps]
    else:
        if isinstance(attractors, np.ndarray) or (
                len(attractors) and np.ndim(attractors[0]) == 1):
            att = [a[None] for a in as_array(attractors, f"{where}.attractors", (None, model.n))]
        else:
            att = [as_array(a, f"{where}.attractors[{k}]", (None, model.n))
                   for k, a in enumerate(attractors)]
        best = np.full(len(X), np.inf)
        for k, a in enumerate(att):  # loop over attractors, vectorised over the grid
            d = np.full(len(X), np.inf)
            scale = 1.0 + np.abs(a).max()
            for chunk in range(0, len(a), 256):
                diff = np.abs(X[:, None, :] - a[None, chunk:chunk + 256]).max(axis=2)
                d = np.minimum(d, diff.min(axis=1))
            hit = (d <= tol * scale) & (d < best)
            labels[hit] = k
            best = np.where(hit, d, best)
    labels[bad] = DIVERGED
    shape = (len(ys), len(xs))
    return BasinMap(xs, ys, labels.reshape(shape), att, X.reshape(shape + (model.n,)),
                    (int(dims[0]), int(dims[1])))


def _final_states(model, X, U, n_steps, h, method):
    """End states of the rows of X (m, n) after n_steps (in place) and their status (m,):
    the integrators' own euler/rk4 steps (method 0/1) or map iterations."""
    status = np.zeros(len(X), np.int64)
    integrator(model, population=False).final_states(
        model.kernel_params, X, U, np.zeros(len(X), np.int64), n_steps, h, method, status)
    return X, status
