"""Associative memories: Hopfield networks (discrete, continuous, modern) and the BAM.

* ``Hopfield``: the discrete network (Hopfield 1982, PNAS 79:2554), units s_i = +-1 updated by
  ``s_i <- sgn(sum_j W[i, j] s_j + b_i)`` asynchronously (one unit at a time) or synchronously,
  with energy ``E = -1/2 s^T W s - b^T s``. Storage rules: Hebbian, pseudo-inverse
  (projection; Personnaz, Guyon & Dreyfus 1985; Kanter & Sompolinsky 1987) and Storkey (1997).
* ``ContinuousHopfield``: the graded-response network (Hopfield 1984, PNAS 81:3088), a flow
  ``C_i du_i/dt = -u_i / R_i + sum_j T[i, j] V_j + I_i``, ``V_j = g(gain_j u_j)``.
* ``ModernHopfield``: continuous states and exponential capacity (Ramsauer et al. 2020,
  "Hopfield Networks is All You Need", arXiv:2008.02217), a map ``xi <- X softmax(beta X^T xi)``.
* ``BAM``: bidirectional associative memory (Kosko 1988, IEEE Trans. SMC 18:49).

Row = target: ``W[i, j]`` is the weight j -> i; a symmetric network is a networkx DiGraph
with both edge directions. Discrete recall is its own batched numba kernel (the sign has no
derivative to speak of, so it is neither a flow nor a map of the model protocol); the
continuous and modern networks follow the protocol, so ``simulate``/``run`` and every analysis
tool (fixed points, Lyapunov spectra) work on them unchanged.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .._summary import summary_repr
from .._validate import check_seed, choice, positive_int
from ..errors import ValidationError
from . import _base_kernels
from . import _hopfield_kernels as hk
from .base import Functions, Model, as_array

RULES = ("hebbian", "pseudo_inverse", "storkey")
MODES = ("async", "sync")
ORDERS = ("random", "fixed")
#: probes per tile of the recall kernel: the tile shares its update orders and its reads of W
TILE = 32


# ---------------------------------------------------------------------------- patterns, rules
def as_patterns(value, name: str, n: int | None = None) -> np.ndarray:
    """Bipolar patterns as a read-only float64 array (p, n) (a single (n,) pattern becomes
    (1, n)). Entries other than +1 and -1, ragged rows or a width other than ``n`` are a
    ValidationError naming ``name``: nothing is silently passed through sign()."""
    arr = _bipolar(value, name, n)
    arr.flags.writeable = False
    return arr


def _bipolar(value, name: str, n: int | None = None) -> np.ndarray:
    """``as_patterns`` as a new writable array."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValidationError(name, "must be a rectangular array of +1/-1 entries (all "
                              "patterns of the same length), got ragged or non-numeric "
                              "input", value) from None
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValidationError(name, f"expected shape (p, n) (one pattern a row), got "
                              f"{arr.shape}", value)
    if n is not None and arr.shape[1] != n:
        raise ValidationError(name, f"patterns have {arr.shape[1]} units, the network has "
                              f"{n}; pass rows of width {n}", value)
    if np.count_nonzero(arr == 1.0) + np.count_nonzero(arr == -1.0) != arr.size:
        at = tuple(int(i) for i in np.argwhere(np.abs(arr) != 1.0)[0])
        raise ValidationError(name, f"entries must be +1 or -1, got {arr[at]} at {at}; "
                              "binarise explicitly (np.where(x > 0, 1, -1)) if that is "
                              "what you mean", value)
    return arr


def hebbian(patterns) -> np.ndarray:
    """Hebbian weights ``W = (1/n) sum_mu xi^mu xi^mu^T`` with zero diagonal (Hopfield 1982).

    Parameters
    ----------
    patterns : array (p, n) of +-1

    Returns
    -------
    W : array (n, n), symmetric
    """
    X = as_patterns(patterns, "hebbian.patterns")
    W = X.T @ X / X.shape[1]
    np.fill_diagonal(W, 0.0)
    return W


def pseudo_inverse(patterns) -> np.ndarray:
    """Projection weights ``W = X^+ X`` (the orthogonal projector onto the span of the
    patterns; Personnaz, Guyon & Dreyfus 1985) with the diagonal removed (Kanter & Sompolinsky
    1987: self-couplings shrink the basins). Every pattern stays a fixed point while p < n:
    ``(W xi)_i = (1 - P_ii) xi_i`` with ``P_ii < 1``. Linearly dependent patterns are fine.

    Parameters
    ----------
    patterns : array (p, n) of +-1

    Returns
    -------
    W : array (n, n), symmetric
    """
    X = as_patterns(patterns, "pseudo_inverse.patterns")
    lam, V = np.linalg.eigh(X @ X.T)  # X^+ X = X^T (X X^T)^+ X: a p x p problem, not an SVD
    keep = lam > lam.max() * X.shape[1] * np.finfo(float).eps
    A = (X.T @ V[:, keep]) / np.sqrt(lam[keep])
    W = A @ A.T
    W = (W + W.T) / 2.0  # exactly symmetric
    np.fill_diagonal(W, 0.0)
    return W


def storkey(patterns) -> np.ndarray:
    """Storkey's (1997) incremental rule, one pattern at a time:
    ``W_ij += (xi_i xi_j - xi_i h_ji - h_ij xi_j) / n`` with the local field
    ``h_ij = sum_{k != i, j} W_ik xi_k``; the diagonal stays zero. Capacity ~ n / sqrt(2 ln n)
    (Storkey 1997, ICANN), above Hebbian's n / (2 ln n).

    Parameters
    ----------
    patterns : array (p, n) of +-1

    Returns
    -------
    W : array (n, n), symmetric
    """
    X = as_patterns(patterns, "storkey.patterns")
    n = X.shape[1]
    W = np.zeros((n, n))
    for xi in X:  # the rule is sequential in the patterns; each step is O(n^2) numpy
        h = W @ xi
        # h_ij = h_i - W_ij xi_j (W_ii = 0, xi_j^2 = 1) turns the update into
        # (xi xi^T - xi h^T - h xi^T + 2 W) / n for symmetric W
        dW = np.outer(xi - h, xi) - np.outer(xi, h) + 2.0 * W
        np.fill_diagonal(dW, 0.0)
        W += dW / n
    return (W + W.T) / 2.0  # symmetric to the last bit


STORAGE = {"hebbian": hebbian, "pseudo_inverse": pseudo_inverse, "storkey": storkey}


def _symmetric(W: np.ndarray, name: str):
    """ValidationError unless W (..., n, n) is symmetric (to rounding)."""
    asym = np.abs(W - np.swapaxes(W, -1, -2))
    tol = 1e-12 * max(1.0, float(np.abs(W).max(initial=0.0)))
    if asym.max(initial=0.0) > tol:
        at = tuple(int(i) for i in np.unravel_index(np.argmax(asym), asym.shape))
        raise ValidationError(name, f"the energy needs symmetric weights, but W{list(at)} = "
                              f"{W[at]} differs from its transpose by {asym[at]:.3g}; "
                              "symmetrise ((W + W.T) / 2) or do not use the energy", W)


# ---------------------------------------------------------------------------- discrete
class Recall(NamedTuple):
    """Result of ``Hopfield.recall`` (leading axes those of the probes).

    Attributes
    ----------
    states : array (..., n)
        Final states (+-1).
    sweeps : int array (...)
        Sweeps done: asynchronous, n single-unit updates each; synchronous, one update each.
    converged : bool array (...)
        The last sweep changed no unit: the state is a fixed point (a stored memory or a
        spurious one).
    cycle : bool array (...)
        Synchronous mode: the state alternates between two states (always False
        asynchronously, where a symmetric network always converges).
    """

    states: np.ndarray
    sweeps: np.ndarray
    converged: np.ndarray
    cycle: np.ndarray


@dataclass(frozen=True, eq=False, repr=False)
class Hopfield:
    """A discrete Hopfield network (Hopfield 1982) or a population of them.

    Units s_i = +-1 with local fields ``h = W s + bias``; an update sets ``s_i = sgn(h_i)``,
    and a unit whose field is 0 keeps its state (0 up to rounding: ``|h_i| <= 1e-9 max|W|``,
    so that the exact ties of Hebbian weights stay ties in floating point). With symmetric W
    and W_ii >= 0 the energy ``E = -1/2 s^T W s - bias^T s`` never increases under
    asynchronous updates. Recall keeps the fields in float32 but takes every sign in float64
    (see ``rnndyn.models._hopfield_kernels``).

    Parameters
    ----------
    W : array (n, n) or (P, n, n)
        Weights, ``W[i, j]`` from unit j to unit i.
    bias : float or array (n,) / (P, n)
        Constant fields (minus the thresholds). Default 0.
    nodes : tuple, optional
        Graph node ids of the units (kept for ``to_graph``).
    """

    W: np.ndarray
    bias: np.ndarray = 0.0
    nodes: tuple | None = None

    __repr__ = summary_repr

    def __post_init__(self):
        W = as_array(self.W, "Hopfield.W")
        if W.ndim not in (2, 3) or W.shape[-1] != W.shape[-2] or W.shape[-1] == 0:
            raise ValidationError("Hopfield.W", f"expected shape (n, n) or (P, n, n) with "
                                  f"n >= 1, got {W.shape}", self.W)
        object.__setattr__(self, "W", W)
        shape = W.shape[:-1]
        try:
            b = np.broadcast_to(np.asarray(self.bias, dtype=float), shape)
        except (TypeError, ValueError):
            raise ValidationError("Hopfield.bias", f"expected a number or an array of shape "
                                  f"{shape}, got {self.bias!r}", self.bias) from None
        object.__setattr__(self, "bias", as_array(b, "Hopfield.bias"))
        if self.nodes is not None:
            if len(self.nodes) != self.n:
                raise ValidationError("Hopfield.nodes", f"needs {self.n} ids, got "
                                      f"{len(self.nodes)}", self.nodes)
            object.__setattr__(self, "nodes", tuple(self.nodes))

    @property
    def n(self) -> int:
        return self.W.shape[-1]

    @property
    def P(self) -> int | None:
        return self.W.shape[0] if self.W.ndim == 3 else None

    @classmethod
    def from_patterns(cls, patterns, rule: str = "hebbian") -> "Hopfield":
        """A network storing ``patterns`` (p, n) of +-1 by ``rule`` in {"hebbian",
        "pseudo_inverse", "storkey"} (see the functions of those names)."""
        rule = choice(rule, "Hopfield.from_patterns.rule", RULES)
        X = as_patterns(patterns, "Hopfield.from_patterns.patterns")
        return cls(W=STORAGE[rule](X))

    # -- populations ----------------------------------------------------------------------
    @classmethod
    def stack(cls, nets) -> "Hopfield":
        """A population (leading axis P) of single networks of equal size."""
        nets = list(nets)
        if not nets or any(type(m) is not cls or m.P is not None for m in nets):
            raise ValidationError("Hopfield.stack", "pass a non-empty sequence of single "
                                  "Hopfield networks", nets)
        if len({m.n for m in nets}) > 1:
            raise ValidationError("Hopfield.stack", f"networks differ in size "
                                  f"{sorted({m.n for m in nets})}; stack equal sizes", nets)
        return cls(W=np.stack([m.W for m in nets]), bias=np.stack([m.bias for m in nets]),
                   nodes=nets[0].nodes)

    def __len__(self) -> int:
        if self.P is None:
            raise TypeError("a single Hopfield network has no len(); it is not stacked")
        return self.P

    def __getitem__(self, k) -> "Hopfield":
        if self.P is None:
            raise TypeError("a single Hopfield network cannot be indexed")
        return dataclasses.replace(self, W=self.W[k], bias=self.bias[k])

    # -- dynamics -------------------------------------------------------------------------
    @cached_property
    def _kernel_weights(self) -> tuple:
        """What the recall kernel reads of every member m: (W (M, n, n), W^T in float32,
        W in float32 for the first fields, bias (M, n), R = sum_j |W_ij| + |b_i| (M, n), tie
        tolerances (M,)) (see ``_hopfield_kernels``)."""
        W = np.ascontiguousarray(self.W.reshape((-1, self.n, self.n)))
        b = np.ascontiguousarray(self.bias.reshape((-1, self.n)))
        return (W, np.ascontiguousarray(np.swapaxes(W, -1, -2), dtype=np.float32),
                W.astype(np.float32), b, np.abs(W).sum(axis=2) + np.abs(b),
                hk.TIE * np.abs(W).max(axis=(1, 2)))

    def _probes(self, probes, where: str) -> tuple:
        """Probes as (K, n) rows, the member of each row, and the leading result shape."""
        name = f"Hopfield.{where}.probes"
        try:
            shape = np.shape(np.asarray(probes, dtype=float))
        except (TypeError, ValueError):
            raise ValidationError(name, "must be a rectangular array of +1/-1 entries, got "
                                  "ragged or non-numeric input", probes) from None
        ok = (1, 2) if self.P is None else (1, 2, 3)
        if len(shape) not in ok or shape[-1] != self.n or (len(shape) == 3 and
                                                           shape[0] != self.P):
            want = f"(n,) or (B, n) with n = {self.n}" + (
                "" if self.P is None else f", or (P, B, n) with P = {self.P}")
            raise ValidationError(name, f"expected shape {want}, got {shape}", probes)
        S = _bipolar(np.reshape(probes, (-1, self.n)), name, self.n)
        lead = shape[:-1]
        if self.P is None:
            return S, np.zeros(len(S), np.int64), lead
        if len(shape) == 3:
            return S, np.repeat(np.arange(self.P), shape[1]), lead
        # (B, n) or (n,): the same probes in every member
        return np.tile(S, (self.P, 1)), np.repeat(np.arange(self.P), len(S)), (self.P,) + lead

    def fields(self, states) -> np.ndarray:
        """Local fields ``h = W s + bias`` of ``states`` (same shape rules as ``recall``)."""
        S, member, lead = self._probes(states, "fields")
        return self._fields(S, member).reshape(lead + (self.n,))

    def _fields(self, S, member) -> np.ndarray:
        if self.P is None:
            H = S @ self.W.T
            if np.any(self.bias):
                H += self.bias
            return H
        H = np.empty_like(S)
        for m in range(self.P):  # one BLAS product per member, not per probe
            rows = member == m
            H[rows] = S[rows] @ self.W[m].T + self.bias[m]
        return H

    def recall(self, probes, mode: str = "async", order: str = "random",
               max_sweeps: int = 100, seed=None) -> Recall:
        """Run the network from each probe until no unit changes (or ``max_sweeps``).

        All probes (and members of a population) run in one parallel numba kernel.

        Parameters
        ----------
        probes : array (n,), (B, n), or (P, B, n) for a population, of +-1
            Initial states. A population given (B, n) runs every probe in every member.
        mode : {"async", "sync"}
            "async": one unit at a time, each seeing the changes before it (the energy never
            increases for symmetric W with W_ii >= 0); "sync": all units at once (may end in
            a 2-cycle, flagged in ``cycle``).
        order : {"random", "fixed"}
            Asynchronous update order: a fresh random permutation every sweep (from
            ``seed``), or units 0, 1, ..., n-1.
        max_sweeps : int
            Budget per probe.
        seed : int, Generator or None
            Seed of the random orders. Consecutive probes form tiles of ``TILE`` (32) that
            share their random orders (each probe still sees a fresh random permutation every
            sweep); same seed and probes, same result, whatever the number of threads.

        Returns
        -------
        Recall
            ``states``, ``sweeps``, ``converged``, ``cycle`` with the probes' leading shape.

        Raises
        ------
        ValidationError
            If probes are not +-1 or have the wrong width, or an option is unknown.
        """
        mode = choice(mode, "Hopfield.recall.mode", MODES)
        order = choice(order, "Hopfield.recall.order", ORDERS)
        max_sweeps = positive_int(max_sweeps, "Hopfield.recall.max_sweeps")
        rng = check_seed(seed, "Hopfield.recall.seed")
        S, member, lead = self._probes(probes, "recall")
        S = np.ascontiguousarray(S)
        K = len(S)
        code = hk.SYNC if mode == "sync" else (hk.ASYNC_RANDOM if order == "random"
                                               else hk.ASYNC_FIXED)
        W, Wt, W32, b, R, tol = self._kernel_weights
        sweeps = np.empty(K, np.int64)
        converged = np.empty(K, np.bool_)
        cycle = np.empty(K, np.bool_)
        # tiles of TILE probes of one network each (member is sorted: probes come per member)
        cuts = np.flatnonzero(np.diff(member)) + 1
        tiles = np.unique(np.concatenate([np.arange(0, K, TILE), cuts, [K]])).astype(np.int64)
        seeds = rng.integers(0, 2**63, len(tiles) - 1, dtype=np.uint64)
        # the first fields of every probe in one float32 BLAS product (in chunks, alternating
        # with the kernel, the two libraries' idle threads spin and slow each other down 3x)
        S32 = S.astype(np.float32)
        if self.P is None:
            H = S32 @ W32[0].T
            if np.any(b):
                H += b[0].astype(np.float32)
        else:
            H = np.empty_like(S32)
            for m in range(self.P):  # one product per member, not per probe
                rows = member == m
                H[rows] = S32[rows] @ W32[m].T + b[m].astype(np.float32)
        hk.recall(W, Wt, b, R, tol, S, H, member, tiles, seeds, code, max_sweeps, sweeps,
                  converged, cycle)
        return Recall(S.reshape(lead + (self.n,)), sweeps.reshape(lead),
                      converged.reshape(lead), cycle.reshape(lead))

    def energy(self, states) -> np.ndarray:
        """``E = -1/2 s^T W s - bias^T s`` of each state (..., n); shape (...).

        Raises
        ------
        ValidationError
            If W is not symmetric (then no energy function exists), or states have the wrong
            width.
        """
        _symmetric(self.W, "Hopfield.W")
        S = as_array(states, "Hopfield.energy.states")
        if S.ndim == 0 or S.shape[-1] != self.n or (self.P is not None and S.ndim == 3 and
                                                    S.shape[0] != self.P):
            raise ValidationError("Hopfield.energy.states", f"expected shape (..., {self.n})"
                                  f" (a population: (P, B, n) or shared (B, n)), got "
                                  f"{S.shape}", states)
        if self.P is None:
            return -0.5 * np.einsum("...i,ij,...j->...", S, self.W, S) - S @ self.bias
        if S.ndim == 3:  # probes per member
            return -0.5 * np.einsum("pbi,pij,pbj->pb", S, self.W, S) - \
                np.einsum("pbi,pi->pb", S, self.bias)
        return -0.5 * np.einsum("...i,pij,...j->p...", S, self.W, S) - \
            np.einsum("...i,pi->p...", S, self.bias)

    def overlap(self, states, patterns) -> np.ndarray:
        """Overlaps ``m = s . xi / n`` of states (..., n) with patterns (p, n): (..., p)."""
        X = as_patterns(patterns, "Hopfield.overlap.patterns", self.n)
        S = as_array(states, "Hopfield.overlap.states")
        return S @ X.T / self.n

    # -- graphs ---------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, nodelist=None) -> "Hopfield":
        """From a networkx DiGraph: edge weights W (a symmetric network has both edge
        directions), node ``bias`` the bias."""
        from .. import graphs

        a = graphs.to_arrays(G, nodelist=nodelist)
        if a.W_in.shape[1]:
            raise ValidationError("Hopfield.from_graph", f"has {a.W_in.shape[1]} input-role "
                                  "nodes; a Hopfield network has no inputs (set the initial "
                                  "state through recall's probes)", G)
        return cls(W=a.W, bias=a.bias, nodes=a.nodes)

    def to_graph(self):
        """The network as a networkx DiGraph (single networks only)."""
        if self.P is not None:
            raise ValidationError("Hopfield.to_graph", "index the population first (net[k])")
        from .. import graphs

        return graphs.from_arrays(np.array(self.W), bias=np.array(self.bias), nodes=self.nodes,
                                  activation="tanh", graph_attrs={"model": "Hopfield"})


# ---------------------------------------------------------------------------- continuous
#: activations of the graded-response network: name -> kernel code (tanh: V in (-1, 1);
#: sigmoid, the logistic: V in (0, 1))
ACTIVATIONS = {"tanh": hk.TANH, "sigmoid": hk.LOGISTIC}
_CHN = Functions(rhs=hk.chn_rhs, step=None, jacobian=hk.chn_jacobian, output=hk.chn_output,
                 member=hk.chn_member, work_size=hk.chn_work_size, vjp=hk.chn_vjp,
                 output_vjp=hk.chn_output_vjp, param_size=hk.chn_param_size)


def _log_cosh(x):
    a = np.abs(x)
    return a + np.log1p(np.exp(-2.0 * a)) - np.log(2.0)


def _softplus(x):
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


@dataclass(frozen=True, eq=False, repr=False)
class ContinuousHopfield(Model):
    """The graded-response Hopfield network (Hopfield 1984, PNAS 81:3088), a flow:

    ``C_i du_i/dt = -u_i / R_i + sum_j T[i, j] V_j + I_i``, ``V_j = g(gain_j u_j)``

    with g = tanh (V in (-1, 1)) or the logistic sigmoid (V in (0, 1), Hopfield's form). For
    symmetric T its energy (``energy``)
    ``E = -1/2 V^T T V - I^T V + sum_i (1/R_i) int_0^{V_i} g_i^{-1}(v) dv``
    obeys ``dE/dt = -sum_i C_i g_i'(u_i) (du_i/dt)^2 <= 0``: every trajectory descends to an
    equilibrium. At high gain the stable equilibria approach the corners of the discrete
    network's hypercube: its memories. The state is u, the outputs are V. The time constant
    of unit i is ``R_i C_i`` (give ``C = tau`` with ``R = 1``).

    Parameter vector (``to_vector``/``from_vector``): fields T, I, C (> 0), R (> 0),
    gain (> 0).

    Parameters
    ----------
    T : array (n, n) or (P, n, n)
        Conductances, ``T[i, j]`` from unit j to unit i.
    I : float or array (n,) / (P, n)
        Bias currents. Default 0.
    C, R : float or array (n,) / (P, n)
        Capacitances and resistances, > 0. Default 1.
    gain : float or array (n,) / (P, n)
        Gains, > 0 (g_i^{-1} must exist). Default 1.
    activation : {"tanh", "sigmoid"}
        Default "tanh".
    nodes : tuple, optional
        Graph node ids (kept for ``to_graph``).
    """

    T: np.ndarray
    I: np.ndarray = 0.0  # noqa: E741 (Hopfield's name)
    C: np.ndarray = 1.0
    R: np.ndarray = 1.0
    gain: np.ndarray = 1.0
    activation: str = "tanh"
    nodes: tuple | None = None

    kind = "flow"
    _functions = _CHN
    _batched = ("T", "I", "C", "R", "gain")
    _params = ("T", "I", "C", "R", "gain")
    _bounds = {"C": 0.0, "R": 0.0, "gain": 0.0}

    def __post_init__(self):
        T = as_array(self.T, "ContinuousHopfield.T")
        if T.ndim not in (2, 3) or T.shape[-1] != T.shape[-2] or T.shape[-1] == 0:
            raise ValidationError("ContinuousHopfield.T", f"expected shape (n, n) or (P, n, n) "
                                  f"with n >= 1, got {T.shape}", self.T)
        object.__setattr__(self, "T", T)
        shape = T.shape[:-1]
        for name in ("I", "C", "R", "gain"):
            value = getattr(self, name)
            try:
                arr = np.broadcast_to(np.asarray(value, dtype=float), shape)
            except (TypeError, ValueError):
                raise ValidationError(f"ContinuousHopfield.{name}", f"expected a number or an "
                                      f"array of shape {shape}, got {value!r}", value) from None
            arr = as_array(arr, f"ContinuousHopfield.{name}")
            if name != "I" and not np.all(arr >= np.finfo(float).tiny):
                at = tuple(int(i) for i in np.argwhere(~(arr >= np.finfo(float).tiny))[0])
                raise ValidationError(f"ContinuousHopfield.{name}", f"must be > 0, got "
                                      f"{arr[at]} at {at}", value)
            object.__setattr__(self, name, arr)
        choice(self.activation, "ContinuousHopfield.activation", tuple(ACTIVATIONS))
        if self.nodes is not None:
            if len(self.nodes) != self.n:
                raise ValidationError("ContinuousHopfield.nodes", f"needs {self.n} ids, got "
                                      f"{len(self.nodes)}", self.nodes)
            object.__setattr__(self, "nodes", tuple(self.nodes))

    @property
    def n(self) -> int:
        return self.T.shape[-1]

    @property
    def P(self) -> int | None:
        return self.T.shape[0] if self.T.ndim == 3 else None

    @cached_property
    def kernel_params(self):
        Q = np.ascontiguousarray(np.stack([self.I, self.C, self.R, self.gain], axis=-1))
        Q.flags.writeable = False
        return (self.T, Q, ACTIVATIONS[self.activation])

    @property
    def tau(self) -> np.ndarray:
        """Time constants ``R C``."""
        return self.R * self.C

    @classmethod
    def from_patterns(cls, patterns, rule: str = "hebbian", gain: float = 1.0,
                      tau: float = 1.0) -> "ContinuousHopfield":
        """A tanh network whose conductances store ``patterns`` (p, n) of +-1 by a discrete
        rule (``Hopfield.from_patterns``); ``C = tau``, ``R = 1``."""
        return cls(T=Hopfield.from_patterns(patterns, rule).W, gain=gain, C=tau)

    def output_values(self, u) -> np.ndarray:
        """V = g(gain u) of states u (..., n), vectorised."""
        x = self.gain * as_array(u, "ContinuousHopfield.u")
        return np.tanh(x) if self.activation == "tanh" else 1.0 / (1.0 + np.exp(-x))

    def energy(self, u) -> np.ndarray:
        """Hopfield's (1984) Lyapunov function at states u (..., n) (a trajectory's ``tr.y``),
        with the integral term exact: for g = tanh, ``int_0^V artanh(v) dv / gain =
        (V x - ln cosh x) / gain``; for the logistic, ``int_0^V logit(v) dv / gain =
        (V x - ln(1 + e^x)) / gain``, where ``x = gain u``, evaluated from x so that it stays
        accurate where V saturates.

        Returns
        -------
        array (...)

        Raises
        ------
        ValidationError
            If T is not symmetric (no Lyapunov function exists then) or u has the wrong width.
        """
        _symmetric(self.T, "ContinuousHopfield.T")
        u = as_array(u, "ContinuousHopfield.energy.u")
        if u.ndim == 0 or u.shape[-1] != self.n:
            raise ValidationError("ContinuousHopfield.energy.u", f"expected shape (..., "
                                  f"{self.n}), got {u.shape}", u)
        if self.P is not None:
            raise ValidationError("ContinuousHopfield.energy", "evaluates one network; index "
                                  "the population first (model[k])")
        x = self.gain * u
        V = self.output_values(u)
        L = _log_cosh(x) if self.activation == "tanh" else _softplus(x)
        integral = (V * x - L) / self.gain
        return -0.5 * np.einsum("...i,ij,...j->...", V, self.T, V) - V @ self.I + \
            integral @ (1.0 / self.R)

    # -- graphs ---------------------------------------------------------------------------
    @classmethod
    def from_graph(cls, G, nodelist=None) -> "ContinuousHopfield":
        """From a networkx DiGraph: edge weights T, node ``bias`` I, ``gain``; node
        attributes ``capacitance`` and ``resistance`` if present, else C = ``tau``, R = 1.
        The graph's ``activation`` ("tanh" or "sigmoid") is g."""
        from .. import graphs

        a = graphs.to_arrays(G, nodelist=nodelist)
        if a.W_in.shape[1]:
            raise ValidationError("ContinuousHopfield.from_graph", "input-role nodes are not "
                                  "supported; give bias currents as node 'bias'", G)
        R = np.array([float(G.nodes[v].get("resistance", 1.0)) for v in a.nodes])
        C = np.array([float(G.nodes[v].get("capacitance", t)) for v, t in zip(a.nodes, a.tau)])
        return cls(T=a.W, I=a.bias, C=C, R=R, gain=a.gain, activation=a.activation,
                   nodes=a.nodes)

    def to_graph(self):
        """The network as a networkx DiGraph: node ``tau`` = R C, ``bias`` = I, ``gain``,
        ``capacitance``, ``resistance`` (single networks only)."""
        self._single("to_graph")
        from .. import graphs

        G = graphs.from_arrays(np.array(self.T), tau=np.array(self.tau), bias=np.array(self.I),
                               gain=np.array(self.gain), nodes=self.nodes,
                               activation=self.activation,
                               graph_attrs={"model": "ContinuousHopfield"})
        for v, c, r in zip(G.nodes, self.C, self.R):
            G.nodes[v]["capacitance"], G.nodes[v]["resistance"] = float(c), float(r)
        return G


# ---------------------------------------------------------------------------- modern
_MHN = Functions(rhs=None, step=hk.mhn_step, jacobian=hk.mhn_jacobian,
                 output=_base_kernels.output_state, member=hk.mhn_member,
                 work_size=hk.mhn_work_size, vjp=hk.mhn_vjp,
                 output_vjp=_base_kernels.state_output_vjp, param_size=hk.mhn_param_size)


@dataclass(frozen=True, eq=False, repr=False)
class ModernHopfield(Model):
    """The modern (dense, continuous) Hopfield network of Ramsauer et al. (2020,
    arXiv:2008.02217), a map:

    ``xi <- X softmax(beta X^T xi)``

    the CCCP step of the energy ``E = -lse(beta, X^T xi) + xi^T xi / 2 + log(N) / beta + M^2 / 2``
    (``lse(beta, z) = log(sum_j exp(beta z_j)) / beta``, M the largest pattern norm), which
    therefore never increases. Well-separated patterns are retrieved in one update with
    exponentially small error, and the capacity grows exponentially with d. Fixed points sit
    near single patterns, at metastable averages of similar patterns, or (small beta) at the
    global mean; ``rnndyn.analysis.find_fixed_points`` finds them.

    Parameter vector: fields X (the patterns) and beta (> 0).

    Parameters
    ----------
    X : array (d, N) or (P, d, N)
        Stored patterns, one a column (the paper's layout; ``from_patterns`` takes rows).
    beta : float or array (P,)
        Inverse temperature, > 0.
    """

    X: np.ndarray
    beta: np.ndarray = 1.0

    kind = "map"
    _functions = _MHN
    _batched = ("X", "beta")
    _params = ("X", "beta")
    _bounds = {"beta": 0.0}

    def __post_init__(self):
        X = as_array(self.X, "ModernHopfield.X")
        if X.ndim not in (2, 3) or 0 in X.shape:
            raise ValidationError("ModernHopfield.X", f"expected shape (d, N) or (P, d, N) "
                                  f"with d, N >= 1, got {X.shape}", self.X)
        object.__setattr__(self, "X", X)
        lead = X.shape[:-2]
        try:
            beta = np.broadcast_to(np.asarray(self.beta, dtype=float), lead)
        except (TypeError, ValueError):
            raise ValidationError("ModernHopfield.beta", f"expected a number or an array of "
                                  f"shape {lead}, got {self.beta!r}", self.beta) from None
        beta = as_array(beta, "ModernHopfield.beta")
        if not np.all(beta > 0):
            raise ValidationError("ModernHopfield.beta", f"must be > 0 (an inverse "
                                  f"temperature), got {beta.min()}", self.beta)
        object.__setattr__(self, "beta", beta)

    @property
    def n(self) -> int:
        return self.X.shape[-2]

    @property
    def d(self) -> int:
        return self.X.shape[-2]

    @property
    def N(self) -> int:
        """Number of stored patterns."""
        return self.X.shape[-1]

    @property
    def P(self) -> int | None:
        return self.X.shape[0] if self.X.ndim == 3 else None

    @cached_property
    def kernel_params(self):
        return (self.X, np.ascontiguousarray(self.beta[..., None]))

    @classmethod
    def from_patterns(cls, patterns, beta: float = 1.0) -> "ModernHopfield":
        """A network storing ``patterns`` (N, d), one a row."""
        Y = as_array(patterns, "ModernHopfield.from_patterns.patterns", (None, None))
        return cls(X=Y.T, beta=beta)

    def _queries(self, xi, where):
        self._single(where)
        Q = as_array(xi, f"ModernHopfield.{where}.xi")
        if Q.ndim == 0 or Q.shape[-1] != self.d:
            raise ValidationError(f"ModernHopfield.{where}.xi", f"expected shape (..., "
                                  f"{self.d}), got {Q.shape}", xi)
        return Q

    def retrieve(self, xi, steps: int = 1) -> np.ndarray:
        """``steps`` updates of every state xi (..., d) at once (one matrix product each).

        Returns
        -------
        array (..., d)
        """
        Q = self._queries(xi, "retrieve")
        steps = positive_int(steps, "ModernHopfield.retrieve.steps")
        X, beta = self.X, float(self.beta)
        for _ in range(steps):
            A = beta * (Q @ X)
            A -= A.max(axis=-1, keepdims=True)
            E = np.exp(A)
            Q = (E / E.sum(axis=-1, keepdims=True)) @ X.T
        return Q

    def energy(self, xi) -> np.ndarray:
        """Ramsauer et al.'s energy (eq. 2) of states xi (..., d): shape (...)."""
        Q = self._queries(xi, "energy")
        beta = float(self.beta)
        A = beta * (Q @ self.X)
        top = A.max(axis=-1)
        lse = (top + np.log(np.exp(A - top[..., None]).sum(axis=-1))) / beta
        M = np.sqrt((self.X ** 2).sum(axis=0).max())
        return -lse + 0.5 * (Q * Q).sum(axis=-1) + np.log(self.N) / beta + 0.5 * M * M


# ---------------------------------------------------------------------------- BAM
class BAMRecall(NamedTuple):
    """Result of ``BAM.recall``: final pairs x (..., n) and y (..., m), round trips done
    ``iterations`` (...) and ``converged`` (...) (neither layer changed in the last one)."""

    x: np.ndarray
    y: np.ndarray
    iterations: np.ndarray
    converged: np.ndarray


@dataclass(frozen=True, eq=False, repr=False)
class BAM:
    """Bidirectional associative memory (Kosko 1988, IEEE Trans. SMC 18:49).

    Pairs (x_k, y_k) of bipolar row vectors are stored in ``M = sum_k x_k^T y_k`` (n, m);
    recall alternates ``y <- sgn(x M)`` and ``x <- sgn(y M^T)`` (a unit with zero field keeps
    its state) until neither layer changes. Every update lowers (or keeps) the energy
    ``E(x, y) = -x M y^T``, so recall always converges.

    Parameters
    ----------
    M : array (n, m)
        Correlation matrix, x-layer unit i to y-layer unit j.
    """

    M: np.ndarray

    __repr__ = summary_repr

    def __post_init__(self):
        M = as_array(self.M, "BAM.M", (None, None))
        if 0 in M.shape:
            raise ValidationError("BAM.M", f"needs at least one unit per layer, got {M.shape}",
                                  self.M)
        object.__setattr__(self, "M", M)

    @property
    def n(self) -> int:
        return self.M.shape[0]

    @property
    def m(self) -> int:
        return self.M.shape[1]

    @classmethod
    def from_pairs(cls, x, y) -> "BAM":
        """Store pairs: x (K, n) and y (K, m) of +-1, row k of each forming pair k."""
        X = as_patterns(x, "BAM.from_pairs.x")
        Y = as_patterns(y, "BAM.from_pairs.y")
        if len(X) != len(Y):
            raise ValidationError("BAM.from_pairs.y", f"has {len(Y)} patterns but x has "
                                  f"{len(X)}; pass one y per x", y)
        return cls(M=X.T @ Y)

    def recall(self, x=None, y=None, max_iter: int = 100) -> BAMRecall:
        """Recall from probes of one layer: ``x`` (..., n) or ``y`` (..., m) of +-1 (exactly
        one of them). All probes run in one parallel numba kernel.

        Raises
        ------
        ValidationError
            If both or neither layer is given, or a probe is not +-1 or has the wrong width.
        """
        if (x is None) == (y is None):
            raise ValidationError("BAM.recall", "give exactly one of x (probes of the first "
                                  "layer) and y (of the second)")
        max_iter = positive_int(max_iter, "BAM.recall.max_iter")
        probe, width, name = (x, self.n, "x") if x is not None else (y, self.m, "y")
        shape = np.shape(probe)
        if len(shape) == 0 or shape[-1] != width:
            raise ValidationError(f"BAM.recall.{name}", f"expected shape (..., {width}), got "
                                  f"{shape}", probe)
        S = _bipolar(np.reshape(probe, (-1, width)), f"BAM.recall.{name}", width)
        lead = shape[:-1]
        K = len(S)
        X = S if x is not None else np.ones((K, self.n))
        Y = S if y is not None else np.ones((K, self.m))
        iters = np.empty(K, np.int64)
        conv = np.empty(K, np.bool_)
        hk.bam_recall(self.M, X, Y, x is not None, max_iter, iters, conv)
        return BAMRecall(X.reshape(lead + (self.n,)), Y.reshape(lead + (self.m,)),
                         iters.reshape(lead), conv.reshape(lead))

    def energy(self, x, y) -> np.ndarray:
        """``E = -x M y^T`` of pairs x (..., n), y (..., m): shape (...)."""
        X = as_array(x, "BAM.energy.x")
        Y = as_array(y, "BAM.energy.y")
        if X.shape[-1:] != (self.n,) or Y.shape[-1:] != (self.m,):
            raise ValidationError("BAM.energy", f"expected x (..., {self.n}) and y (..., "
                                  f"{self.m}), got {X.shape} and {Y.shape}")
        return -np.einsum("...i,ij,...j->...", X, self.M, Y)
