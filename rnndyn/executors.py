"""Scale-out: split a population into chunks and run them on an executor.

Functions that work on a population take ``executor=``:

* ``None`` (default): one in-process numba kernel, parallel over members on numba's threads;
* a ``concurrent.futures`` executor (``ProcessPoolExecutor`` for several processes; prefer
  ``mp_context=multiprocessing.get_context("spawn")``, as numba's thread pool does not survive
  a fork);
* a ``dask.distributed.Client``, to run on a Dask cluster.

Each chunk is the same in-process kernel call on a sub-population (``model[a:b]``), so a
member's result does not depend on the executor or on the chunking. Workers import rnndyn
and load its compiled kernels from the on-disk cache.
"""
from __future__ import annotations

import concurrent.futures
import os

import numpy as np

from .errors import ValidationError


def check_executor(executor, where: str = "executor"):
    """The executor itself, or a ValidationError if it cannot take work: not an executor, a
    class instead of an instance, shut down, or a process pool that forks (numba's worker
    threads do not survive a fork: the children can hang)."""
    if executor is None:
        return None
    if isinstance(executor, type):
        raise ValidationError(where, f"got the class {executor.__name__}, not an executor; "
                              f"pass an instance, e.g. {executor.__name__}(2)", executor)
    if not callable(getattr(executor, "submit", None)):
        raise ValidationError(where, f"expected None, a concurrent.futures executor or a "
                              f"dask.distributed.Client (anything with .submit), got "
                              f"{type(executor).__name__}", executor)
    if isinstance(executor, concurrent.futures.Executor):  # private flags of the stdlib pools
        down = any(getattr(executor, a, False) for a in ("_shutdown", "_shutdown_thread",
                                                          "_broken"))
    else:  # a dask.distributed.Client
        down = str(getattr(executor, "status", "")) in ("closing", "closed")
    if down:
        raise ValidationError(where, f"the {type(executor).__name__} is shut down (or broken);"
                              " create a new one", executor)
    ctx = getattr(executor, "_mp_context", None)
    if ctx is not None and ctx.get_start_method() == "fork":
        raise ValidationError(where, "this ProcessPoolExecutor forks its workers, and numba's "
                              "threads do not survive a fork; use ProcessPoolExecutor(n, "
                              "mp_context=multiprocessing.get_context('spawn'))", executor)
    return executor


def n_workers(executor) -> int:
    """Parallel slots of an executor: a dask Client's total threads, a concurrent.futures
    pool's max_workers, else the machine's CPU count."""
    nthreads = getattr(executor, "nthreads", None)
    if callable(nthreads):  # dask.distributed.Client: {worker address: threads}
        return max(1, sum(nthreads().values()))
    return max(1, getattr(executor, "_max_workers", None) or os.cpu_count() or 1)


def map_population(fn, executor, model, members=(), shared=(), chunks: int | None = None):
    """``fn(model[a:b], *(m[a:b] for m in members), *shared)`` over chunks of a population
    (or of the members' rows).

    Parameters
    ----------
    fn : callable
        A module-level function (it is pickled by reference) returning a tuple of arrays with
        the population on axis 0 (or None entries).
    executor : None, concurrent.futures.Executor or dask.distributed.Client
        None calls ``fn`` once, in process, on the whole population.
    model : Model
        A population, split into sub-populations with the members; or a single model, sent
        whole with every chunk (then ``members[0]`` sets the length, e.g. a grid of states).
    members : sequence of arrays
        Per-member arrays, split along axis 0; an array whose axis 0 has length 1 is shared
        by every member and sent whole.
    shared : sequence
        Arguments every chunk receives unchanged.
    chunks : int, optional
        Number of chunks (default: the executor's worker slots, at most P).

    Returns
    -------
    tuple
        ``fn``'s outputs with the chunks concatenated along axis 0.
    """
    if executor is None:
        return fn(model, *members, *shared)
    n = n_workers(executor) if chunks is None else chunks
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValidationError("chunks", f"must be an int >= 1, got {chunks!r}", chunks)
    P = len(members[0]) if model.P is None else model.P
    n = min(P, int(n))
    bounds = np.linspace(0, P, n + 1).round().astype(int)
    futures = [executor.submit(fn, model if model.P is None else model[a:b],
                               *(m if len(m) == 1 else m[a:b] for m in members), *shared)
               for a, b in zip(bounds[:-1], bounds[1:])]
    parts = [f.result() for f in futures]
    return tuple(None if first is None else np.concatenate([part[i] for part in parts])
                 for i, first in enumerate(parts[0]))
