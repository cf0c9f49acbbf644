"""Genomes in [-1, 1]^d <-> model parameters, the encoding of evolutionary robotics.

Following Beer & Gallagher (1992, Adaptive Behavior 1(1):91-122), a genome is a vector of
real genes in [-1, 1], each mapped linearly (or logarithmically, for time constants) onto
the range of one parameter: weights in [-w, w], biases in [-b, b], tau in [1, tau_max] on a
log scale, gains in [g_lo, g_hi]. ``Genome`` does this for any model through the model
protocol (``to_vector`` / ``from_vector``), so it also decodes a whole (P, d) generation into
a population of P networks in one call, ready for one vectorised simulation.

Bilaterally symmetric controllers (Beer 2003; Beer & Gallagher 1992) share parameters
between mirrored units: given the left-right pairing of units (and of inputs), the weight
j -> i equals the weight m(j) -> m(i) and unit parameters equal their mirror's, so one gene
sets every parameter of an orbit and the genome is about half as long.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import ValidationError

#: axis kinds of the parameter fields of the built-in families: "u" a unit axis, "i" an input
#: axis (mirrored by ``mirror`` and ``input_mirror``); other fields need ``axes=``
AXES = {"W": "uu", "W_in": "ui", "tau": "u", "bias": "u", "gain": "u",  # CTRNN, FullyRecurrent
        "W_hh": "uu", "W_ih": "ui", "b_ih": "u", "b_hh": "u"}  # Elman


def _range(spec, field: str):
    """(low, high, log) from ``w`` (-> [-w, w]), ``(low, high)`` or ``(low, high, "log")``."""
    name = f"Genome.ranges[{field!r}]"
    log = False
    if isinstance(spec, (int, float, np.integer, np.floating)) and not isinstance(spec, bool):
        low, high = -float(spec), float(spec)
    elif isinstance(spec, (tuple, list)) and len(spec) in (2, 3):
        if len(spec) == 3:
            if spec[2] not in ("log", "linear"):
                raise ValidationError(name, f"the third entry must be 'log' or 'linear', got "
                                      f"{spec[2]!r}", spec)
            log = spec[2] == "log"
        try:
            low, high = float(spec[0]), float(spec[1])
        except (TypeError, ValueError):
            raise ValidationError(name, f"must be numbers (low, high), got {spec!r}",
                                  spec) from None
    else:
        raise ValidationError(name, "must be w (for [-w, w]), (low, high) or (low, high, "
                              f"'log'), got {spec!r}", spec)
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValidationError(name, f"needs finite low < high, got ({low}, {high})", spec)
    if log and low <= 0:
        raise ValidationError(name, f"a log-scale range needs low > 0, got {low}", spec)
    return low, high, log


def _involution(perm, size: int, name: str) -> np.ndarray:
    try:
        m = np.asarray(perm)
    except (TypeError, ValueError):
        m = None
    ok = m is not None and m.shape == (size,) and m.dtype.kind in "iu" and \
        np.array_equal(np.sort(m), np.arange(size)) and np.array_equal(m[m], np.arange(size))
    if not ok:
        raise ValidationError(name, f"must pair up the {size} indices: a permutation of "
                              f"0..{size - 1} that is its own inverse (m[m[i]] == i), e.g. "
                              f"{list(range(size))[::-1]}, got {perm!r}", perm)
    return m


class Genome:
    """The genome of a model's chosen parameter fields.

    Parameters
    ----------
    model : Model
        A single network (not a population): its other parameters are kept as they are.
    ranges : dict
        ``{field: range}`` for every field in the genome, in genome order: ``w`` means
        [-w, w]; ``(low, high)`` linear; ``(low, high, "log")`` geometric (time constants).
        Gene -1 maps to low, +1 to high.
    mirror : sequence of int, optional
        Left-right pairing of the units (``mirror[i]`` is i's mirror, itself for a unit on
        the midline): parameters of mirrored entries share one gene.
    input_mirror : sequence of int, optional
        Pairing of the inputs; required with ``mirror`` when a field has an input axis.
    axes : dict, optional
        Axis kinds of fields not in ``AXES`` (a string with one letter per axis: "u" unit,
        "i" input, "." not mirrored).

    Examples
    --------
    >>> g = Genome(rd.CTRNN(W=np.zeros((3, 3)), W_in=np.zeros((3, 1))),
    ...            {"W": 16, "W_in": 16, "bias": 16, "tau": (1, 50, "log")})
    >>> pop = g.decode(rng.uniform(-1, 1, (1000, g.dim)))   # a population of 1000 CTRNNs
    """

    bounds = (-1.0, 1.0)

    def __init__(self, model, ranges: dict, *, mirror=None, input_mirror=None, axes=None):
        if getattr(model, "P", None) is not None:
            raise ValidationError("Genome.model", f"must be a single network, got a population "
                                  f"of {model.P}; pass model[0]", model)
        if not isinstance(ranges, dict) or not ranges:
            raise ValidationError("Genome.ranges", "must be a non-empty dict {field: range}, "
                                  f"got {ranges!r}", ranges)
        shapes = model.param_fields
        for f in ranges:
            if f not in shapes:
                raise ValidationError("Genome.ranges", f"{type(model).__name__} has no "
                                      f"parameter field {f!r}; choose from {list(shapes)}",
                                      ranges)
        self.model = model
        self.fields = tuple(ranges)
        self.ranges = {f: _range(ranges[f], f) for f in self.fields}
        n, n_in = model.n, model.n_in
        perms = None
        if mirror is not None:
            perms = {"u": _involution(mirror, n, "Genome.mirror"), ".": None}
            if input_mirror is not None:
                perms["i"] = _involution(input_mirror, n_in, "Genome.input_mirror")
        elif input_mirror is not None:
            raise ValidationError("Genome.input_mirror", "needs mirror (the pairing of the "
                                  "units) as well", input_mirror)
        kinds = dict(AXES) | dict(axes or {})
        gene_of, names, low, high, log = [], [], [], [], []
        for f in self.fields:
            shape = shapes[f]
            free = model._free_flat(f, shape)  # C-order flat indices of the free entries
            if perms is None or len(shape) == 0:
                rep = free
            else:
                rep = self._orbits(f, shape, free, kinds.get(f), perms)
            reps, inverse = np.unique(rep, return_inverse=True)
            gene_of.append(len(names) + inverse.reshape(-1))
            for r in reps:
                at = np.unravel_index(int(r), shape) if shape else ()
                names.append(f"{f}[{', '.join(str(int(i)) for i in at)}]" if shape else f)
            lo, hi, lg = self.ranges[f]
            low += [lo] * len(reps)
            high += [hi] * len(reps)
            log += [lg] * len(reps)
        self._gene_of = np.concatenate(gene_of).astype(np.intp)  # theta column -> gene
        self.names = tuple(names)
        self._low, self._high, self._log = np.array(low), np.array(high), np.array(log)
        # genes act linearly on t = log(value) for log-scale ranges, t = value otherwise
        self._tlo = np.where(self._log, np.log(np.where(self._log, self._low, 1.0)), self._low)
        self._thi = np.where(self._log, np.log(np.where(self._log, self._high, 1.0)), self._high)
        # first theta column of every gene (encode reads a gene from there)
        self._first = np.full(len(names), -1, dtype=np.intp)
        self._first[self._gene_of[::-1]] = np.arange(len(self._gene_of))[::-1]

    @staticmethod
    def _orbits(f, shape, free, kind, perms):
        """Representative (smallest flat index) of every free entry's mirror orbit."""
        if kind is None or len(kind) != len(shape) or any(k not in "ui." for k in kind):
            raise ValidationError("Genome.axes", f"field {f!r} of shape {shape} needs its axis "
                                  f"kinds for mirroring, e.g. axes={{{f!r}: "
                                  f"{'u' * len(shape)!r}}} ('u' unit, 'i' input, '.' none)",
                                  kind)
        if "i" in kind and "i" not in perms:
            raise ValidationError("Genome.input_mirror", f"field {f!r} has an input axis: give "
                                  "the pairing of the inputs as well (identity for inputs on "
                                  "the midline)", None)
        idx = np.unravel_index(free, shape)
        mirrored = tuple(i if perms[k] is None else perms[k][i] for i, k in zip(idx, kind))
        other = np.ravel_multi_index(mirrored, shape)
        lonely = ~np.isin(other, free)
        if lonely.any():
            at = np.unravel_index(int(free[np.argmax(lonely)]), shape)
            raise ValidationError("Genome.mirror", f"the connectivity is not mirror-symmetric: "
                                  f"{f}{list(map(int, at))} is a parameter but its mirror "
                                  f"{f}{[int(i) for i in np.unravel_index(int(other[np.argmax(lonely)]), shape)]}"
                                  " is not", None)
        return np.minimum(free, other)

    @property
    def dim(self) -> int:
        """Genome length d."""
        return len(self.names)

    def _check(self, genome, name: str) -> np.ndarray:
        try:
            g = np.asarray(genome, dtype=float)
        except (TypeError, ValueError):
            raise ValidationError(name, f"must be a numeric array (d,) or (P, d) with d = "
                                  f"{self.dim}, got {type(genome).__name__}", genome) from None
        if g.ndim not in (1, 2) or g.shape[-1] != self.dim:
            raise ValidationError(name, f"expected shape ({self.dim},) or (P, {self.dim}) "
                                  f"(genes: {', '.join(self.names[:6])}"
                                  f"{', ...' if self.dim > 6 else ''}), got {g.shape}", genome)
        bad = ~(np.abs(g) <= 1.0)
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValidationError(name, f"genes must lie in [-1, 1], got {g[at]} at {at} "
                                  f"({self.names[at[-1]]}); clip or reflect in the search, "
                                  "not here", genome)
        return g

    def values(self, genome) -> np.ndarray:
        """The parameter values the genes stand for, (d,) or (P, d), one per gene."""
        g = self._check(genome, "Genome.values.genome")
        t = self._tlo + (g + 1.0) / 2.0 * (self._thi - self._tlo)
        return np.where(self._log, np.exp(t), t)

    def decode(self, genome):
        """The network of a genome (d,), or the population of P networks of a (P, d) genome
        matrix (one ``from_vector`` call)."""
        theta = self.values(genome)[..., self._gene_of]
        return self.model.from_vector(theta, self.fields)

    def encode(self, model) -> np.ndarray:
        """The genome (d,) of a network built like ``self.model`` (inverse of ``decode``);
        a value outside its range, or a broken mirror symmetry, is a ValidationError."""
        theta = np.asarray(model.to_vector(self.fields), dtype=float)
        if theta.shape != self._gene_of.shape:
            raise ValidationError("Genome.encode.model", f"has {theta.shape[-1:]} parameters in "
                                  f"{list(self.fields)}, the genome expects "
                                  f"{len(self._gene_of)} (a single network like Genome.model)",
                                  model)
        v = theta[self._first]
        asym = np.flatnonzero(theta != v[self._gene_of])
        if asym.size:
            c = int(asym[0])
            raise ValidationError("Genome.encode.model", f"is not mirror-symmetric: parameter "
                                  f"{c} is {theta[c]} but its mirror gene "
                                  f"{self.names[self._gene_of[c]]} is {v[self._gene_of[c]]}",
                                  model)
        out = ~((v >= self._low) & (v <= self._high))
        if out.any():
            k = int(np.argmax(out))
            raise ValidationError("Genome.encode.model", f"{self.names[k]} = {v[k]} is outside "
                                  f"its range [{self._low[k]}, {self._high[k]}]", model)
        t = np.log(v, where=self._log, out=v.copy())
        u = (t - self._tlo) / (self._thi - self._tlo)
        return np.clip(2.0 * u - 1.0, -1.0, 1.0)  # rounding only: v was checked in range

    def to_graph(self, genome):
        """The network of one genome as a networkx DiGraph (``model.to_graph``)."""
        g = self._check(genome, "Genome.to_graph.genome")
        if g.ndim != 1:
            raise ValidationError("Genome.to_graph.genome", f"expected one genome ({self.dim},),"
                                  f" got {g.shape}; pick the individual first", genome)
        return self.decode(g).to_graph()

    def fitness(self, fn) -> "DecodedFitness":
        """``fn`` (a fitness of a population of networks, returning (P,)) as a fitness of a
        (P, d) genome matrix, for ``Search.run``; picklable when ``fn`` is (executors)."""
        if not callable(fn):
            raise ValidationError("Genome.fitness.fn", f"must be callable (population -> "
                                  f"(P,) fitness), got {type(fn).__name__}", fn)
        return DecodedFitness(self, fn)

    def save(self, genome, path) -> None:
        """Write the network of one genome to a JSON graph file (``rnndyn.graphs.save``)."""
        from .. import graphs

        graphs.save(self.to_graph(genome), path)


class DecodedFitness:
    """``fn(genome.decode(X))``: a fitness of populations applied to genome rows."""

    def __init__(self, genome: Genome, fn):
        self.genome, self.fn = genome, fn

    def __call__(self, X):
        return self.fn(self.genome.decode(X))
