"""Global (derivative-free) search over real vectors: one ask/tell interface for all methods.

==================  ===========================================================================
``GA``              generational real-valued genetic algorithm in the evolutionary-robotics style
                    (Beer & Gallagher 1992, Adaptive Behavior 1(1):91-122): rank, fitness-
                    proportionate or tournament selection, elitism, uniform or one-point
                    crossover, Gaussian mutation
``MicrobialGA``     steady-state microbial GA (Harvey 2009, ECAL, LNCS 5777:126-133): pairwise
                    tournaments, the loser is infected with the winner's genes and mutated
``Annealing``       simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983), many independent
                    Metropolis chains in parallel, exponential / logarithmic / fast schedules
``PSO``             particle swarm (Kennedy & Eberhart 1995) with the constriction coefficient of
                    Clerc & Kennedy 2002 (IEEE TEC 6(1):58-73); global or ring topology
``Guessing``        random weight guessing (Hochreiter & Schmidhuber 1996): uniform draws
``SepCMAES``        separable CMA-ES (Ros & Hansen 2008, PPSN X, LNCS 5199:296-305): diagonal
                    covariance, O(d) memory and time per sample, so it scales to thousands of
                    parameters where full CMA-ES runs out of memory
==================  ===========================================================================

Protocol: ``X = s.ask()`` returns the (P, d) generation to evaluate, ``s.tell(f)`` takes its
(P,) fitness. ``s.run(fitness, generations)`` repeats both, calling ``fitness`` once per
generation on the whole (P, d) matrix (one vectorised evaluation, or chunks of rows on an
``executor``), with a progress bar, atomic checkpoints and a ``History``. Every method is
told whether to ``direction="minimize"`` or ``"maximize"``; there is no default. A NaN
fitness counts as the worst possible value: it never becomes the best.

Search spaces are boxes ``bounds = (low, high)`` (default the genome box [-1, 1]^d of
``rnndyn.train.genome``); samples that leave the box are mirrored back into it.
"""
from __future__ import annotations

import concurrent.futures
import inspect
import math
import pickle
from abc import ABC, abstractmethod
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._validate import check_seed, choice, in_range, positive, positive_int, real_number
from .._atomic import resolve_target, write_atomically
from ..errors import ValidationError
from ..executors import check_executor, n_workers

DIRECTIONS = ("minimize", "maximize")
_CHECKPOINT_VERSION = 1


# ------------------------------------------------------------------------------- helpers
def reflect(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``x`` mirrored into the box [low, high] at its faces (a triangle wave of period
    2 (high - low)), so a step past a face comes back as far as it went out."""
    inside = (x >= low) & (x <= high)
    if inside.all():
        return x
    w = high - low
    y = np.mod(x - low, 2.0 * w)
    return np.where(inside, x, low + np.where(y > w, 2.0 * w - y, y))  # inside: untouched


def _box(bounds, dim: int, name: str, allow_none: bool = False):
    """(low, high) as read-only float arrays (dim,) with low < high, both finite."""
    if bounds is None and allow_none:
        return None, None
    try:
        low, high = bounds
        low = np.broadcast_to(np.asarray(low, dtype=float), (dim,)).copy()
        high = np.broadcast_to(np.asarray(high, dtype=float), (dim,)).copy()
    except (TypeError, ValueError):
        raise ValidationError(name, f"must be a pair (low, high) of numbers or arrays of length "
                              f"{dim}{' or None' if allow_none else ''}, got {bounds!r}",
                              bounds) from None
    if not (np.all(np.isfinite(low)) and np.all(np.isfinite(high))):
        raise ValidationError(name, f"must be finite, got {bounds!r}", bounds)
    bad = np.flatnonzero(~(low < high))
    if bad.size:
        i = int(bad[0])
        raise ValidationError(name, f"low must be < high in every coordinate, got low[{i}] = "
                              f"{low[i]} >= high[{i}] = {high[i]}; swap them", bounds)
    low.flags.writeable = high.flags.writeable = False
    return low, high


def _fitness_values(values, m: int, name: str = "fitness") -> np.ndarray:
    """The fitness of m individuals as a float array (m,); NaN allowed (it ranks last)."""
    try:
        f = np.asarray(values)
    except (TypeError, ValueError) as exc:
        raise ValidationError(name, f"must return a real array of shape ({m},), got {exc}",
                              values) from None
    if f.dtype.kind not in "biuf":
        raise ValidationError(name, f"must be a real array of shape ({m},), got dtype {f.dtype}",
                              values)
    if f.shape != (m,):
        raise ValidationError(name, f"expected shape ({m},) (one value per row of the (P, d) "
                              f"genome matrix), got {f.shape}", values)
    return np.array(f, dtype=float)


class History:
    """What ``tell`` saw, one row per generation.

    Attributes (arrays over generations)
    ------------------------------------
    evaluations : cumulative number of fitness evaluations
    best : best fitness so far (in the user's direction)
    generation_best, mean : best and mean of the finite values of the generation
    nan : number of NaN fitness values in the generation
    """

    _keys = ("evaluations", "best", "generation_best", "mean", "nan")

    def __init__(self):
        self._rows: list[tuple] = []

    def _append(self, *row):
        self._rows.append(tuple(float(v) for v in row))

    def __len__(self) -> int:
        return len(self._rows)

    def __getattr__(self, key):
        if key in History._keys:
            col = History._keys.index(key)
            return np.array([r[col] for r in self._rows])
        raise AttributeError(key)

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self._keys}

    def plot(self, ax=None, x: str = "evaluations", label: str | None = None):
        """Best-so-far (solid) and generation mean (faint) against ``x`` ("evaluations" or
        "generation"); returns the matplotlib Axes."""
        import matplotlib.pyplot as plt

        choice(x, "History.plot.x", ("evaluations", "generation"))
        if ax is None:
            ax = plt.gca()
        xs = self.evaluations if x == "evaluations" else np.arange(1, len(self) + 1)
        line, = ax.plot(xs, self.best, label=label or "best so far")
        ax.plot(xs, self.mean, color=line.get_color(), alpha=0.3, lw=0.8)
        ax.set_xlabel("fitness evaluations" if x == "evaluations" else "generation")
        ax.set_ylabel("fitness")
        return ax


class SearchResult(NamedTuple):
    """Result of ``Search.run``: the best genome ``x`` (d,) and its ``fitness``, the number of
    ``generations`` and ``evaluations`` done, ``solved`` (the target was reached; False without
    a target) and the ``history``."""

    x: np.ndarray
    fitness: float
    generations: int
    evaluations: int
    solved: bool
    history: History


# ------------------------------------------------------------------------------- executors
def _lost_worker(exc: BaseException) -> bool:
    """True for the errors of a worker that died (not of the fitness function itself)."""
    if isinstance(exc, (concurrent.futures.CancelledError, concurrent.futures.BrokenExecutor)):
        return True
    return type(exc).__name__ in ("KilledWorker", "CommClosedError", "FutureCancelledError")


def evaluate(fitness, X: np.ndarray, executor=None, chunks: int | None = None,
             retries: int = 3) -> np.ndarray:
    """``fitness`` of every row of X: one call in process, or chunks of rows on an executor.

    Parameters
    ----------
    fitness : callable
        ``fitness(X) -> (m,)`` for a block of m rows. On a process pool or a Dask cluster it
        is pickled: a module-level function (or a picklable callable object).
    X : array (P, d)
    executor : None, concurrent.futures.Executor or dask.distributed.Client
    chunks : int, optional
        Number of blocks (default: the executor's worker slots, at most P).
    retries : int
        A block whose worker died (Dask's KilledWorker, a broken pool) is submitted again up
        to this many times. Each block's values are written to its own rows once, so no
        individual is lost or counted twice, and the result equals the in-process one
        whenever ``fitness`` is a deterministic function of its rows.

    Returns
    -------
    f : array (P,)
    """
    X = np.asarray(X)
    P = len(X)
    if executor is None:
        return _fitness_values(fitness(X), P)
    n = n_workers(executor) if chunks is None else positive_int(chunks, "chunks")
    edges = np.linspace(0, P, min(P, n) + 1).round().astype(int)
    dask = not isinstance(executor, concurrent.futures.Executor)

    def submit(a, b):  # dask: pure=False, or a resubmission would return the failed future
        block = np.ascontiguousarray(X[a:b])
        return executor.submit(fitness, block, pure=False) if dask else \
            executor.submit(fitness, block)

    blocks = list(zip(edges[:-1], edges[1:]))
    futures = [submit(a, b) for a, b in blocks]
    out = np.empty(P)
    for k, (a, b) in enumerate(blocks):
        for attempt in range(retries + 1):
            try:
                values = futures[k].result()
                break
            except Exception as exc:  # noqa: BLE001 (only a lost worker is retried)
                if not _lost_worker(exc) or attempt == retries:
                    raise
                futures[k] = submit(a, b)
        out[a:b] = _fitness_values(values, b - a)
    return out


# ------------------------------------------------------------------------------- the base
class Search(ABC):
    """Base of every method: the ask/tell protocol, ``run``, the best individual, history
    and checkpoints. Subclasses implement ``_propose()`` (the next (P, d) generation, drawn
    from ``self.rng``) and ``_update(X, f)`` with f to be *minimised* (NaN already +inf).

    Parameters
    ----------
    dim : int
        Genome length d.
    popsize : int
        Individuals per generation P (>= 2).
    direction : {"minimize", "maximize"}
        Required: whether lower or higher fitness is better.
    bounds : (low, high)
        Box of the search space; scalars or arrays (d,). Default the genome box [-1, 1].
    seed : int, Generator or None
        Same seed, same result.
    """

    def __init__(self, dim, popsize, *, direction, bounds=(-1.0, 1.0), seed=None,
                 _allow_unbounded: bool = False):
        cls = type(self).__name__
        self.dim = positive_int(dim, f"{cls}.dim")
        self.popsize = positive_int(popsize, f"{cls}.popsize", minimum=2)
        self.direction = choice(direction, f"{cls}.direction", DIRECTIONS)
        self.low, self.high = _box(bounds, self.dim, f"{cls}.bounds", _allow_unbounded)
        self.rng = check_seed(seed, f"{cls}.seed")
        self._sign = 1.0 if self.direction == "minimize" else -1.0
        self._seed = seed if isinstance(seed, (int, np.integer)) else None
        self.generation = 0
        self.evaluations = 0
        self.best_x: np.ndarray | None = None
        self.best_fitness = math.nan
        self._best = math.inf  # internal (minimised) value of best_x
        self._pending: np.ndarray | None = None
        self.history = History()

    # -- what a subclass provides -----------------------------------------------------
    @abstractmethod
    def _propose(self) -> np.ndarray:
        """The next generation (P, d)."""

    @abstractmethod
    def _update(self, X: np.ndarray, f: np.ndarray) -> None:
        """Learn from the generation X and its values f (minimised; NaN is +inf)."""

    def _options(self) -> dict:
        """The method's settings (compared when a checkpoint is resumed)."""
        return {}

    # -- protocol ---------------------------------------------------------------------
    def _uniform(self, m: int) -> np.ndarray:
        return self.low + (self.high - self.low) * self.rng.random((m, self.dim))

    def ask(self) -> np.ndarray:
        """The generation to evaluate next, (P, d). Asking again before ``tell`` returns the
        same generation."""
        if self._pending is None:
            self._pending = np.asarray(self._propose(), dtype=float)
            self._pending.flags.writeable = False
        return self._pending.copy()

    def tell(self, fitness) -> None:
        """Fitness (P,) of the generation returned by the last ``ask``, in the user's
        direction; NaN entries rank last."""
        cls = type(self).__name__
        if self._pending is None:
            raise ValidationError(f"{cls}.tell", "no generation is pending; call ask() first",
                                  fitness)
        X = self._pending
        f = _fitness_values(fitness, len(X), f"{cls}.tell.fitness")
        nan = np.isnan(f)
        g = np.where(nan, np.inf, self._sign * f)
        i = int(np.argmin(g))
        if g[i] < self._best:  # NaN (+inf) never wins
            self._best = float(g[i])
            self.best_x = X[i].copy()
            self.best_fitness = float(f[i])
        self._update(X, g)
        self._pending = None
        self.generation += 1
        self.evaluations += len(X)
        finite = f[np.isfinite(f)]
        gen_best = self._sign * np.min(self._sign * finite) if finite.size else math.nan
        self.history._append(self.evaluations, self.best_fitness, gen_best,
                             finite.mean() if finite.size else math.nan, nan.sum())

    def _reached(self, target) -> bool:
        return target is not None and self.best_x is not None and \
            self._sign * self.best_fitness <= self._sign * target

    def run(self, fitness, generations, *, executor=None, chunks=None, target=None,
            checkpoint=None, checkpoint_every: int = 1, progress: bool = True) -> SearchResult:
        """Ask, evaluate and tell until ``generations`` generations are done in total.

        Parameters
        ----------
        fitness : callable
            ``fitness(X) -> f``: X is the whole (P, d) generation (or a block of its rows on
            an executor), f the (m,) fitness values. One call per generation: vectorise
            inside (e.g. decode X into a population with ``Genome.decode`` and simulate it).
        generations : int
            Total number of generations of this search (those already done count: a search
            resumed from a checkpoint stops at the same generation as an uninterrupted one).
        executor : None, concurrent.futures.Executor or dask.distributed.Client
            Where the blocks of rows are evaluated (see ``evaluate``); the results are
            identical to the in-process run.
        chunks : int, optional
            Number of blocks per generation on an executor (default: its worker slots).
        target : float, optional
            Stop as soon as the best fitness is at least this good.
        checkpoint : str or Path, optional
            File holding the whole state after every ``checkpoint_every`` generations,
            written atomically (a temporary file, then a rename). If it exists when ``run``
            starts, the search resumes from it and ends with the bit-identical result of an
            uninterrupted run; a checkpoint of a different search is a ValidationError.
        progress : bool
            Show a tqdm progress bar.

        Returns
        -------
        SearchResult
        """
        cls = type(self).__name__
        if not callable(fitness):
            raise ValidationError(f"{cls}.run.fitness", f"must be callable (X -> f), got "
                                  f"{type(fitness).__name__}", fitness)
        generations = positive_int(generations, f"{cls}.run.generations")
        every = positive_int(checkpoint_every, f"{cls}.run.checkpoint_every")
        executor = check_executor(executor, f"{cls}.run.executor")
        if target is not None:
            target = real_number(target, f"{cls}.run.target")
        if chunks is not None:
            chunks = positive_int(chunks, f"{cls}.run.chunks")
        path = None if checkpoint is None else \
            Path(resolve_target(checkpoint, f"{cls}.run.checkpoint")[0])
        if path is not None and path.exists():
            self._resume(path)
        from tqdm.auto import tqdm

        with tqdm(total=generations, initial=min(self.generation, generations), desc=cls,
                  disable=not progress, leave=False) as bar:
            while self.generation < generations and not self._reached(target):
                X = self.ask()
                self.tell(evaluate(fitness, X, executor, chunks))
                if path is not None and (self.generation % every == 0 or
                                         self.generation == generations or
                                         self._reached(target)):
                    self.save(path)
                bar.update(1)
                bar.set_postfix(best=f"{self.best_fitness:.4g}", refresh=False)
        return self.result(target)

    def result(self, target=None) -> SearchResult:
        """The best individual so far and the history."""
        x = None if self.best_x is None else self.best_x.copy()
        return SearchResult(x, self.best_fitness, self.generation, self.evaluations,
                            self._reached(target), self.history)

    # -- checkpoints ------------------------------------------------------------------
    def _signature(self) -> tuple:
        arr = lambda a: None if a is None else a.tolist()  # noqa: E731
        opts = {k: arr(v) if isinstance(v, np.ndarray) else v for k, v in self._options().items()}
        return (type(self).__name__, self.dim, self.popsize, self.direction, arr(self.low),
                arr(self.high), self._seed, sorted(opts.items()))

    def save(self, path) -> None:
        """Write the whole state to ``path`` atomically (temporary file, fsync, rename)."""
        path = Path(resolve_target(path, f"{type(self).__name__}.save.path")[0])
        blob = pickle.dumps({"version": _CHECKPOINT_VERSION, "class": type(self),
                             "signature": self._signature(), "state": self.__dict__},
                            protocol=pickle.HIGHEST_PROTOCOL)
        write_atomically(path, lambda fh: fh.write(blob))

    def _resume(self, path: Path) -> None:
        cls = type(self).__name__
        try:
            with open(path, "rb") as fh:
                doc = pickle.load(fh)
            ok = isinstance(doc, dict) and doc.get("version") == _CHECKPOINT_VERSION
        except Exception as exc:  # noqa: BLE001 (any unreadable file gets the same message)
            raise ValidationError(f"{cls}.run.checkpoint", f"{str(path)!r} is not a readable "
                                  f"checkpoint ({exc}); delete it to start afresh",
                                  path) from None
        if not ok:
            raise ValidationError(f"{cls}.run.checkpoint", f"{str(path)!r} is not a search "
                                  "checkpoint of this version; delete it to start afresh", path)
        if doc["signature"] != self._signature():
            raise ValidationError(f"{cls}.run.checkpoint", f"{str(path)!r} was written by a "
                                  f"different search ({doc['signature'][:4]}, not "
                                  f"{self._signature()[:4]} or other settings); pass "
                                  "another path or delete it", path)
        self.__dict__.update(doc["state"])

    @classmethod
    def load(cls, path) -> "Search":
        """The search saved in ``path`` (to inspect it or to continue with ``run``)."""
        with open(path, "rb") as fh:
            doc = pickle.load(fh)
        if not issubclass(doc["class"], cls):
            raise ValidationError(f"{cls.__name__}.load.path", f"holds a "
                                  f"{doc['class'].__name__}, not a {cls.__name__}", path)
        obj = object.__new__(doc["class"])
        obj.__dict__.update(doc["state"])
        return obj


# ------------------------------------------------------------------------------- selection
def _sus(rng, weights: np.ndarray, m: int) -> np.ndarray:
    """Stochastic universal sampling (Baker 1987): m indices drawn with probabilities
    proportional to ``weights`` with minimal spread, returned in random order."""
    c = np.cumsum(weights / weights.sum())
    c[-1] = 1.0
    picks = np.searchsorted(c, (rng.random() + np.arange(m)) / m, side="right")
    return rng.permutation(np.minimum(picks, len(weights) - 1))


def _mutate(rng, X, sigma, rate, low, high):
    """Gaussian mutation of each gene with probability ``rate``, mirrored into the box."""
    step = rng.normal(size=X.shape) * sigma
    if rate < 1.0:
        step *= rng.random(X.shape) < rate
    return reflect(X + step, low, high)


class GA(Search):
    """Generational real-valued genetic algorithm (Beer & Gallagher 1992).

    Each generation keeps the ``elitism`` best unchanged and fills the rest with children:
    two parents by ``selection``, ``crossover`` with probability ``crossover_rate``, then
    Gaussian mutation of every gene with probability ``mutation_rate`` and standard
    deviation ``mutation * (high - low)``.

    Parameters
    ----------
    selection : {"rank", "proportionate", "tournament"}
        "rank": linear ranking (best weight ``pressure``, worst ``2 - pressure``);
        "proportionate": weights ``f_worst - f`` (windowed fitness-proportionate selection);
        both sampled by stochastic universal sampling. "tournament": best of ``tournament``
        uniform draws.
    pressure : float in [1, 2]
        Linear-ranking selection pressure (expected offspring of the best).
    tournament : int >= 2
    elitism : int in [0, P - 1]
    crossover : {"uniform", "one_point", "none"}
    crossover_rate, mutation_rate : float in [0, 1]
    mutation : float > 0
        Mutation standard deviation as a fraction of the box width.
    """

    def __init__(self, dim, popsize, *, direction, bounds=(-1.0, 1.0), seed=None,
                 selection="rank", pressure=1.5, tournament=2, elitism=1,
                 crossover="uniform", crossover_rate=0.5, mutation=0.05, mutation_rate=1.0):
        super().__init__(dim, popsize, direction=direction, bounds=bounds, seed=seed)
        self.selection = choice(selection, "GA.selection", ("rank", "proportionate",
                                                            "tournament"))
        self.pressure = in_range(pressure, "GA.pressure", 1.0, 2.0)
        self.tournament = positive_int(tournament, "GA.tournament", minimum=2)
        self.elitism = positive_int(elitism, "GA.elitism", minimum=0)
        if self.elitism >= self.popsize:
            raise ValidationError("GA.elitism", f"must be < popsize = {self.popsize}, got "
                                  f"{elitism}", elitism)
        self.crossover = choice(crossover, "GA.crossover", ("uniform", "one_point", "none"))
        if self.crossover == "one_point" and self.dim < 2:
            raise ValidationError("GA.crossover", "one-point crossover needs dim >= 2; use "
                                  "'uniform' or 'none'", crossover)
        self.crossover_rate = in_range(crossover_rate, "GA.crossover_rate", 0.0, 1.0)
        self.mutation = positive(mutation, "GA.mutation")
        self.mutation_rate = in_range(mutation_rate, "GA.mutation_rate", 0.0, 1.0)
        self._pop: np.ndarray | None = None

    def _options(self):
        return {k: getattr(self, k) for k in ("selection", "pressure", "tournament", "elitism",
                                              "crossover", "crossover_rate", "mutation",
                                              "mutation_rate")}

    def _propose(self):
        if self._pop is None:
            self._pop = self._uniform(self.popsize)
        return self._pop

    def _parents(self, f: np.ndarray, m: int) -> np.ndarray:
        P, rng = self.popsize, self.rng
        order = np.argsort(f, kind="stable")  # best first; NaN (+inf) last
        if self.selection == "tournament":
            draws = rng.integers(P, size=(m, self.tournament))
            rank = np.empty(P, dtype=int)
            rank[order] = np.arange(P)
            return draws[np.arange(m), np.argmin(rank[draws], axis=1)]
        if self.selection == "rank":
            w = np.empty(P)
            w[order] = self.pressure - 2.0 * (self.pressure - 1.0) * np.arange(P) / (P - 1)
        else:
            finite = np.isfinite(f)
            worst = f[finite].max() if finite.any() else 0.0
            w = np.where(finite, worst - f, 0.0)
        if not w.sum() > 0:  # all equal (or all NaN): every individual alike
            w = np.ones(P)
        return _sus(rng, w, m)

    def _update(self, X, f):
        rng, m = self.rng, self.popsize - self.elitism
        elite = X[np.argsort(f, kind="stable")[:self.elitism]]
        pa, pb = X[self._parents(f, m)], X[self._parents(f, m)]
        if self.crossover == "uniform":
            child = np.where(rng.random((m, self.dim)) < 0.5, pa, pb)
        elif self.crossover == "one_point":
            cut = rng.integers(1, self.dim, size=m)
            child = np.where(np.arange(self.dim) < cut[:, None], pa, pb)
        else:
            child = pa
        if self.crossover != "none":
            child = np.where((rng.random(m) < self.crossover_rate)[:, None], child, pa)
        child = _mutate(rng, child, self.mutation * (self.high - self.low), self.mutation_rate,
                        self.low, self.high)
        self._pop = np.concatenate([elite, child])


class MicrobialGA(Search):
    """Microbial genetic algorithm (Harvey 2009), a steady-state GA.

    Each generation evaluates the population afresh and holds P/2 disjoint tournaments of two
    individuals drawn close together on a ring (Harvey's deme): the loser copies each gene
    of the winner with probability ``recombination`` and is then mutated (Gaussian, standard
    deviation ``mutation * (high - low)``); the winner is unchanged. Ties go to the first of
    the pair. Pairs are formed inside blocks of ``deme`` neighbouring places of the ring,
    rotated at random every generation (``deme=None``: anywhere in the population).
    """

    def __init__(self, dim, popsize, *, direction, bounds=(-1.0, 1.0), seed=None,
                 deme=None, recombination=0.5, mutation=0.05):
        super().__init__(dim, popsize, direction=direction, bounds=bounds, seed=seed)
        self.deme = None if deme is None else positive_int(deme, "MicrobialGA.deme", minimum=2)
        self.recombination = in_range(recombination, "MicrobialGA.recombination", 0.0, 1.0)
        self.mutation = positive(mutation, "MicrobialGA.mutation")
        self._pop: np.ndarray | None = None

    def _options(self):
        return {"deme": self.deme, "recombination": self.recombination,
                "mutation": self.mutation}

    def _propose(self):
        if self._pop is None:
            self._pop = self._uniform(self.popsize)
        return self._pop

    def _update(self, X, f):
        P, rng = self.popsize, self.rng
        if self.deme is None or self.deme >= P:
            order = rng.permutation(P)
        else:
            block = ((np.arange(P) + rng.integers(P)) % P) // self.deme
            order = np.lexsort((rng.random(P), block))
        a, b = order[0:P - 1:2], order[1:P:2]
        win = np.where(f[b] < f[a], b, a)
        lose = np.where(f[b] < f[a], a, b)
        pop = X.copy()
        infect = rng.random((len(lose), self.dim)) < self.recombination
        child = np.where(infect, X[win], X[lose])
        pop[lose] = _mutate(rng, child, self.mutation * (self.high - self.low), 1.0,
                            self.low, self.high)
        self._pop = pop


class Annealing(Search):
    """Simulated annealing (Kirkpatrick, Gelatt & Vecchi 1983): P independent Metropolis
    chains, one proposal per chain per generation.

    A chain at x proposes ``x + s_k z`` (mirrored into the box) and moves there with
    probability ``min(1, exp(-(f_new - f) / T_k))`` (minimising). The temperature follows
    ``schedule``:

    * "exponential": ``T_k = T0 * cooling**k`` (Kirkpatrick et al. 1983), z Gaussian;
    * "logarithmic": ``T_k = T0 / log(k + e)`` (Geman & Geman 1984), z Gaussian;
    * "fast": ``T_k = T0 / (1 + k)`` with Cauchy z (Szu & Hartley 1987).

    The proposal scale ``s_k = step * (high - low) * sqrt(T_k / T0)`` shrinks with the
    temperature so that the acceptance rate on a quadratic bowl stays roughly constant
    (at equilibrium the distance from the minimum scales as sqrt(T)).
    """

    def __init__(self, dim, popsize, *, direction, bounds=(-1.0, 1.0), seed=None,
                 T0=1.0, schedule="exponential", cooling=0.99, step=0.1):
        super().__init__(dim, popsize, direction=direction, bounds=bounds, seed=seed)
        self.T0 = positive(T0, "Annealing.T0")
        self.schedule = choice(schedule, "Annealing.schedule", ("exponential", "logarithmic",
                                                                 "fast"))
        self.cooling = in_range(cooling, "Annealing.cooling", 0.0, 1.0, closed="neither")
        self.step = positive(step, "Annealing.step")
        self._x = self._f = None
        self._k = 0

    def _options(self):
        return {k: getattr(self, k) for k in ("T0", "schedule", "cooling", "step")}

    @property
    def temperature(self) -> float:
        """The current temperature T_k."""
        k = self._k
        if self.schedule == "exponential":
            return self.T0 * self.cooling ** k
        if self.schedule == "logarithmic":
            return self.T0 / math.log(k + math.e)
        return self.T0 / (1.0 + k)

    def _propose(self):
        if self._x is None:
            return self._uniform(self.popsize)
        z = self.rng.standard_cauchy(self._x.shape) if self.schedule == "fast" else \
            self.rng.normal(size=self._x.shape)
        s = self.step * (self.high - self.low) * math.sqrt(self.temperature / self.T0)
        return reflect(self._x + s * z, self.low, self.high)

    def _update(self, X, f):
        if self._x is None:
            self._x, self._f = X.copy(), f.copy()
            return
        with np.errstate(over="ignore", invalid="ignore"):
            p = np.exp(-(f - self._f) / self.temperature)
        accept = (f <= self._f) | (self.rng.random(self.popsize) < p)
        self._x = np.where(accept[:, None], X, self._x)
        self._f = np.where(accept, f, self._f)
        self._k += 1


class PSO(Search):
    """Particle swarm optimisation (Kennedy & Eberhart 1995) with constriction (Clerc &
    Kennedy 2002):

    ``v <- chi (v + c1 r1 (p_i - x) + c2 r2 (g_i - x))``, ``x <- x + v``

    with r1, r2 ~ U(0, 1) per coordinate, p_i the particle's best position and g_i the best
    position of its neighbourhood: the whole swarm (``topology="global"``) or the
    ``neighbors`` particles on either side on a ring (``"ring"``, the lbest model).
    ``chi = 2 / |2 - phi - sqrt(phi^2 - 4 phi)|`` with ``phi = c1 + c2 > 4`` (0.7298 for the
    default 2.05 + 2.05: the same update as the inertia form with w = 0.7298 and
    c1 = c2 = 0.7298 * 2.05 = 1.49618). Velocities are clamped to the box width; a particle leaving the box
    is mirrored back and its velocity reversed in that coordinate.
    """

    def __init__(self, dim, popsize, *, direction, bounds=(-1.0, 1.0), seed=None,
                 topology="global", neighbors=1, c1=2.05, c2=2.05):
        super().__init__(dim, popsize, direction=direction, bounds=bounds, seed=seed)
        self.topology = choice(topology, "PSO.topology", ("global", "ring"))
        self.neighbors = positive_int(neighbors, "PSO.neighbors")
        self.c1, self.c2 = positive(c1, "PSO.c1"), positive(c2, "PSO.c2")
        phi = self.c1 + self.c2
        if phi <= 4.0:
            raise ValidationError("PSO.c1", f"Clerc-Kennedy constriction needs c1 + c2 > 4, got "
                                  f"{phi}", (c1, c2))
        self.chi = 2.0 / abs(2.0 - phi - math.sqrt(phi * phi - 4.0 * phi))
        self._x = self._v = self._p = self._pf = None

    def _options(self):
        return {k: getattr(self, k) for k in ("topology", "neighbors", "c1", "c2")}

    def _propose(self):
        if self._x is None:  # positions uniform; velocities U(low - x, high - x) (SPSO 2011)
            self._x = self._uniform(self.popsize)
            self._v = self._uniform(self.popsize) - self._x
        return self._x

    def _update(self, X, f):
        if self._p is None:
            self._p, self._pf = X.copy(), f.copy()
        else:
            better = f < self._pf
            self._p = np.where(better[:, None], X, self._p)
            self._pf = np.where(better, f, self._pf)
        if self.topology == "global":
            g = self._p[np.argmin(self._pf)][None, :]
        else:  # ring: the best of particles i-k..i+k
            k = min(self.neighbors, (self.popsize - 1) // 2) if self.popsize > 2 else 1
            idx = (np.arange(self.popsize)[:, None] + np.arange(-k, k + 1)) % self.popsize
            g = self._p[idx[np.arange(self.popsize), np.argmin(self._pf[idx], axis=1)]]
        r1, r2 = self.rng.random((2, self.popsize, self.dim))
        v = self.chi * (self._v + self.c1 * r1 * (self._p - X) + self.c2 * r2 * (g - X))
        width = self.high - self.low
        v = np.clip(v, -width, width)
        x = X + v
        out = (x < self.low) | (x > self.high)
        self._x = reflect(x, self.low, self.high)
        self._v = np.where(out, -v, v)


class Guessing(Search):
    """Random weight guessing (Hochreiter & Schmidhuber 1996): every generation P genomes
    drawn uniformly from the box, independent of everything seen; the baseline any search
    method must beat."""

    def _propose(self):
        return self._uniform(self.popsize)

    def _update(self, X, f):
        pass


class SepCMAES(Search):
    """Separable CMA-ES (Ros & Hansen 2008): CMA-ES (Hansen & Ostermeier 2001; Hansen 2016,
    "The CMA evolution strategy: a tutorial", arXiv:1604.00772) with a diagonal covariance
    matrix, learned (n + 2) / 3 times faster than the full matrix would be.

    Parameters
    ----------
    popsize : int, optional
        lambda; default ``4 + floor(3 ln d)``. mu = lambda // 2 parents, log-linear weights.
    bounds : (low, high) or None
        None: unbounded (then ``x0`` and ``sigma0`` are required). With a box, samples are
        mirrored into it for evaluation while the update uses the unmirrored step.
    x0 : array (d,), optional
        Initial mean; default the centre of the box.
    sigma0 : float, optional
        Initial step size; default 0.3 of the widest box side (per-coordinate widths set the
        initial diagonal).
    """

    def __init__(self, dim, popsize=None, *, direction, bounds=(-1.0, 1.0), seed=None,
                 x0=None, sigma0=None):
        d = positive_int(dim, "SepCMAES.dim")
        lam = 4 + int(3 * math.log(d)) if popsize is None else popsize
        super().__init__(d, lam, direction=direction, bounds=bounds, seed=seed,
                         _allow_unbounded=True)
        if self.low is None and (x0 is None or sigma0 is None):
            raise ValidationError("SepCMAES.bounds", "without bounds, give x0 and sigma0 (the "
                                  "initial mean and step size)", bounds)
        if x0 is None:
            self.mean = (self.low + self.high) / 2.0
        else:
            from .._validate import as_array

            self.mean = np.array(as_array(x0, "SepCMAES.x0", (d,)))
        width = None if self.low is None else self.high - self.low
        self.sigma = positive(sigma0, "SepCMAES.sigma0") if sigma0 is not None else \
            0.3 * float(width.max())
        self.C = np.ones(d) if width is None else (width / width.max()) ** 2
        lam = self.popsize
        mu = lam // 2
        w = math.log(mu + 0.5) - np.log(np.arange(1, mu + 1))
        self.weights = w / w.sum()
        self.mu, self.mueff = mu, 1.0 / np.sum(self.weights ** 2)
        n, me = float(d), self.mueff
        self.cs = (me + 2.0) / (n + me + 5.0)
        self.ds = 1.0 + 2.0 * max(0.0, math.sqrt((me - 1.0) / (n + 1.0)) - 1.0) + self.cs
        self.cc = (4.0 + me / n) / (n + 4.0 + 2.0 * me / n)
        c1 = 2.0 / ((n + 1.3) ** 2 + me)
        cmu = min(1.0 - c1, 2.0 * (me - 2.0 + 1.0 / me) / ((n + 2.0) ** 2 + me))
        self.c1 = min(1.0, c1 * (n + 2.0) / 3.0)  # Ros & Hansen: (n + 2) / 3 faster
        self.cmu = min(1.0 - self.c1, cmu * (n + 2.0) / 3.0)
        self.chiN = math.sqrt(n) * (1.0 - 1.0 / (4.0 * n) + 1.0 / (21.0 * n * n))
        self.ps, self.pc = np.zeros(d), np.zeros(d)
        self._z = None
        self._x0, self._sigma0 = self.mean.copy(), self.sigma

    def _options(self):
        return {"x0": self._x0, "sigma0": self._sigma0}

    def _propose(self):
        self._z = self.rng.normal(size=(self.popsize, self.dim))
        x = self.mean + self.sigma * np.sqrt(self.C) * self._z
        return x if self.low is None else reflect(x, self.low, self.high)

    def _update(self, X, f):
        z = self._z[np.argsort(f, kind="stable")[:self.mu]]
        y = np.sqrt(self.C) * z
        zw, yw = self.weights @ z, self.weights @ y
        self.mean = self.mean + self.sigma * yw
        self.ps = (1.0 - self.cs) * self.ps + math.sqrt(self.cs * (2.0 - self.cs) * self.mueff) * zw
        g = self.generation + 1
        hs = np.linalg.norm(self.ps) / math.sqrt(1.0 - (1.0 - self.cs) ** (2 * g)) < \
            (1.4 + 2.0 / (self.dim + 1.0)) * self.chiN
        self.pc = (1.0 - self.cc) * self.pc + hs * math.sqrt(self.cc * (2.0 - self.cc) *
                                                             self.mueff) * yw
        self.C = (1.0 - self.c1 - self.cmu) * self.C + self.c1 * (
            self.pc ** 2 + (1.0 - hs) * self.cc * (2.0 - self.cc) * self.C) + \
            self.cmu * (self.weights @ y ** 2)
        self.sigma *= math.exp(self.cs / self.ds * (np.linalg.norm(self.ps) / self.chiN - 1.0))


# ------------------------------------------------------------------------------- by name
METHODS = {"ga": GA, "microbial": MicrobialGA, "annealing": Annealing, "pso": PSO,
           "guessing": Guessing, "sep_cmaes": SepCMAES}


def make(method: str, dim, popsize, *, direction, **options) -> Search:
    """A search method by name (``METHODS``: "ga", "microbial", "annealing", "pso",
    "guessing", "sep_cmaes"); an unknown method or option is a ValidationError naming the
    options the method takes."""
    cls = METHODS[choice(method, "make.method", tuple(METHODS))]
    known = [p for p in inspect.signature(cls.__init__).parameters
             if p not in ("self", "dim", "popsize", "direction") and not p.startswith("_")]
    for k in options:
        if k not in known:
            raise ValidationError(f"make.{k}", f"{cls.__name__} has no option {k!r}; it takes "
                                  f"{known}", options[k])
    return cls(dim, popsize, direction=direction, **options)
