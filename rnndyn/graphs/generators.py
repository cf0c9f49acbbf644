"""Network generators.

Every generator returns a :class:`networkx.DiGraph` in rnndyn's conventions (state nodes
``0..n-1`` with ``tau=1.0``, ``bias=0.0``, ``gain=1.0``, ``role="hidden"``; edge
``(j, i)`` carries ``weight=W[i, j]``) and draws from ``numpy.random.default_rng(seed)``,
so the same seed gives the same graph. Topology generators draw weights from
``N(0, scale**2 / n)`` (so the spectral radius is about ``scale * sqrt(density)``)
unless a constant ``weight`` is given.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np

from .._validate import front_door, positive_int
from .._validate import check_seed
from ..errors import ValidationError
from .convert import from_arrays, to_arrays
from .validate import DEFAULT_ACTIVATION, as_real

__all__ = [
    "random_network",
    "erdos_renyi",
    "small_world",
    "ring",
    "modular",
    "fully_connected",
    "center_crossing",
    "ctrnn_network",
]


# --------------------------------------------------------------------------- checks
def _real(name: str, value, lo: float, hi: float = math.inf, *, lo_open: bool = False) -> float:
    x = as_real(value)
    if x is None or not math.isfinite(x):
        raise ValidationError(name, f"must be a finite real number, got {value!r}", value)
    if x < lo or x > hi or (lo_open and x == lo):
        lo_text = f"{'>' if lo_open else '>='} {lo}"
        hi_text = "" if hi == math.inf else f" and <= {hi}"
        raise ValidationError(name, f"must be {lo_text}{hi_text}, got {value!r}", value)
    return x


def _draw_weights(rng, m: int, n: int, weight, scale) -> np.ndarray:
    """``m`` weights: the constant ``weight`` if given, else N(0, scale^2 / n) draws."""
    if weight is not None:
        w = as_real(weight)
        if w is None or not math.isfinite(w) or w == 0:
            # a zero weight would be no edge at all (topology = nonzero pattern)
            raise ValidationError(
                "weight", f"must be a finite nonzero real number or None, got {weight!r}", weight
            )
        return np.full(m, w)
    s = _real("scale", scale, 0.0, lo_open=True)
    return rng.normal(0.0, s / math.sqrt(n), size=m)


def _graph_from_edges(n: int, edges, rng, weight, scale, activation) -> nx.DiGraph:
    """Graph on nodes 0..n-1 with the directed ``edges`` (source, target) and drawn weights.

    Edges are sorted first so the weight drawn for an edge does not depend on the order
    networkx happened to produce them in.
    """
    edges = sorted(set(edges))
    w = _draw_weights(rng, len(edges), n, weight, scale)
    W = np.zeros((n, n))
    if edges:
        src, tgt = np.array(edges, dtype=np.intp).T
        W[tgt, src] = w  # row = target
    return from_arrays(W, activation=activation)


# ----------------------------------------------------------------------- generators
@front_door()
def random_network(n, g=1.5, p=1.0, seed=None, activation="tanh", self_connections=False):
    """Random rate network of Sompolinsky, Crisanti & Sommers (1988).

    ``dx/dt = -x + J tanh(x)`` with ``J[i, j] ~ N(0, g^2 / (p n))`` on each ordered pair
    present with probability ``p``, so each row's weights have total variance ~g^2 and
    the spectral radius of J is ~g (circular law); the network turns chaotic at g = 1
    as n -> inf.

    Parameters
    ----------
    n : int
        Number of units, >= 1.
    g : float
        Gain (coupling strength), >= 0.
    p : float
        Connection probability, in (0, 1].
    seed : int, numpy.random.Generator or None
    activation : {"tanh", "sigmoid"}
    self_connections : bool
        If False (default, as in the paper) ``J[i, i] = 0``.

    Returns
    -------
    networkx.DiGraph
        Nodes ``0..n-1`` with tau=1, bias=0, gain=1; ``G.graph["activation"]``.

    Raises
    ------
    ValidationError
        If ``n``, ``g`` or ``p`` is out of range.
    """
    n = positive_int(n, "n", 1)
    g = _real("g", g, 0.0)
    p = _real("p", p, 0.0, 1.0, lo_open=True)
    rng = check_seed(seed)
    J = rng.normal(0.0, g / math.sqrt(p * n), size=(n, n))
    if p < 1.0:
        J[rng.random((n, n)) >= p] = 0.0
    if not self_connections:
        np.fill_diagonal(J, 0.0)
    return from_arrays(J, activation=activation)


@front_door()
def erdos_renyi(n, p, *, weight=None, scale=1.0, seed=None, activation=DEFAULT_ACTIVATION):
    """Directed Erdos-Renyi G(n, p) network without self-connections.

    Parameters
    ----------
    n : int
        Number of nodes, >= 1.
    p : float
        Probability of each ordered pair (i != j), in [0, 1].
    weight : float, optional
        Constant nonzero weight for every edge; default: draw N(0, scale^2 / n).
    scale : float
        Standard deviation scale of drawn weights (> 0).
    seed : int, numpy.random.Generator or None
    activation : {"sigmoid", "tanh"}

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    ValidationError
        If an argument is out of range.
    """
    n = positive_int(n, "n", 1)
    p = _real("p", p, 0.0, 1.0)
    rng = check_seed(seed)
    H = nx.gnp_random_graph(n, p, seed=rng, directed=True)
    return _graph_from_edges(n, H.edges(), rng, weight, scale, activation)


@front_door()
def small_world(n, k, p, *, weight=None, scale=1.0, seed=None, activation=DEFAULT_ACTIVATION):
    """Watts-Strogatz small-world network, each undirected edge made two directed edges.

    Parameters
    ----------
    n : int
        Number of nodes, >= 1.
    k : int
        Each node is joined to its ``k`` nearest ring neighbours (``k // 2`` per side),
        0 <= k < n.
    p : float
        Rewiring probability, in [0, 1].
    weight, scale, seed, activation
        As :func:`erdos_renyi`; the two directions get independent weights.

    Returns
    -------
    networkx.DiGraph
        ``n * 2 * (k // 2)`` edges (rewiring keeps the count).

    Raises
    ------
    ValidationError
        If an argument is out of range.
    """
    n = positive_int(n, "n", 1)
    k = positive_int(k, "k", 0)
    p = _real("p", p, 0.0, 1.0)
    if k >= n:
        raise ValidationError("k", f"must be < n = {n}, got {k}", k)
    rng = check_seed(seed)
    H = nx.watts_strogatz_graph(n, k, p, seed=rng)
    edges = [e for u, v in H.edges() for e in ((u, v), (v, u))]
    return _graph_from_edges(n, edges, rng, weight, scale, activation)


@front_door()
def ring(n, k=1, bidirectional=False, *, weight=None, scale=1.0, seed=None,
         activation=DEFAULT_ACTIVATION):
    """Directed ring lattice: node i projects to i+1, ..., i+k (mod n).

    Parameters
    ----------
    n : int
        Number of nodes, >= 2.
    k : int
        Forward neighbours per node, 1 <= k <= n - 1.
    bidirectional : bool
        Also project to i-1, ..., i-k.
    weight, scale, seed, activation
        As :func:`erdos_renyi`; ``weight=1.0`` gives an unweighted ring.

    Returns
    -------
    networkx.DiGraph
        ``n * k`` edges (up to ``2 n k`` when bidirectional; coinciding edges merge).

    Raises
    ------
    ValidationError
        If an argument is out of range.
    """
    n = positive_int(n, "n", 2)
    k = positive_int(k, "k", 1)
    if k > n - 1:
        raise ValidationError("k", f"must be <= n - 1 = {n - 1}, got {k}", k)
    rng = check_seed(seed)
    steps = list(range(1, k + 1)) + ([-d for d in range(1, k + 1)] if bidirectional else [])
    edges = [(i, (i + d) % n) for i in range(n) for d in steps]
    return _graph_from_edges(n, edges, rng, weight, scale, activation)


@front_door()
def modular(n_modules, module_size, p_in, p_out, *, weight=None, scale=1.0, seed=None,
            activation=DEFAULT_ACTIVATION):
    """Modular network (directed stochastic block model, no self-connections).

    Parameters
    ----------
    n_modules : int
        Number of modules, >= 1.
    module_size : int
        Nodes per module, >= 1; node ``i`` belongs to module ``i // module_size``.
    p_in, p_out : float
        Connection probability within / between modules, in [0, 1].
    weight, scale, seed, activation
        As :func:`erdos_renyi` (``n = n_modules * module_size``).

    Returns
    -------
    networkx.DiGraph
        Each node also carries ``module`` (int); like any extra attribute it is saved
        to JSON but not carried through :func:`to_arrays`.

    Raises
    ------
    ValidationError
        If an argument is out of range.
    """
    n_modules = positive_int(n_modules, "n_modules", 1)
    module_size = positive_int(module_size, "module_size", 1)
    p_in = _real("p_in", p_in, 0.0, 1.0)
    p_out = _real("p_out", p_out, 0.0, 1.0)
    n = n_modules * module_size
    rng = check_seed(seed)
    probs = np.full((n_modules, n_modules), p_out)
    np.fill_diagonal(probs, p_in)
    H = nx.stochastic_block_model([module_size] * n_modules, probs.tolist(), seed=rng,
                                  directed=True, selfloops=False)
    G = _graph_from_edges(n, H.edges(), rng, weight, scale, activation)
    for i in range(n):
        G.nodes[i]["module"] = i // module_size
    return G


@front_door()
def fully_connected(n, self_connections=True, *, weight=None, scale=1.0, seed=None,
                    activation=DEFAULT_ACTIVATION):
    """All-to-all network.

    Parameters
    ----------
    n : int
        Number of nodes, >= 1.
    self_connections : bool
        Include the n self-loops (default True).
    weight, scale, seed, activation
        As :func:`erdos_renyi`.

    Returns
    -------
    networkx.DiGraph
        ``n**2`` edges, or ``n (n - 1)`` without self-connections.

    Raises
    ------
    ValidationError
        If an argument is out of range.
    """
    n = positive_int(n, "n", 1)
    rng = check_seed(seed)
    H = nx.complete_graph(n, create_using=nx.DiGraph)
    edges = list(H.edges()) + ([(i, i) for i in range(n)] if self_connections else [])
    return _graph_from_edges(n, edges, rng, weight, scale, activation)


# ------------------------------------------------------------------ transformations
@front_door()
def center_crossing(G) -> nx.DiGraph:
    """Return a copy of ``G`` with center-crossing biases (Mathayomchan & Beer 2002).

    ``bias_i = -sum_j W[i, j] / 2`` for every state node i (recurrent weights only;
    input weights are external drive). With all outputs at 1/2 every unit then sits
    at the centre of its sigmoid, the most dynamically rich region of parameter space.

    Parameters
    ----------
    G : networkx.DiGraph
        A valid network graph with ``activation == "sigmoid"``.

    Returns
    -------
    networkx.DiGraph
        A copy; only the state nodes' ``bias`` changes.

    Raises
    ------
    ValidationError
        If ``G`` is invalid, or its activation is not "sigmoid" (for tanh the centre is
        already bias 0 with outputs 0, so the formula does not apply).
    """
    arrays = to_arrays(G)
    if arrays.activation != "sigmoid":
        raise ValidationError(
            "graph.graph['activation']",
            f"center-crossing biases -sum_j W[i, j]/2 assume sigmoid units, got "
            f"{arrays.activation!r}; for tanh units the centre is bias 0",
            arrays.activation,
        )
    bias = -arrays.W.sum(axis=1) / 2.0
    H = G.copy()
    for v, b in zip(arrays.nodes, bias.tolist()):
        H.nodes[v]["bias"] = b
    return H


@front_door()
def ctrnn_network(W, tau=1.0, bias=0.0, gain=1.0, W_in=None, output=None,
                  activation=DEFAULT_ACTIVATION) -> nx.DiGraph:
    """Build a CTRNN graph (Beer 1995) from arrays or scalars.

    Parameters
    ----------
    W : array_like, shape (n, n)
        ``W[i, j]`` = weight j -> i; zeros are no edge.
    tau, bias, gain : float or array_like, shape (n,)
        Scalars broadcast to every node; ``tau > 0``.
    W_in : array_like, shape (n, n_in), optional
        Input weights from input nodes ``"in0", "in1", ...``.
    output : sequence of int, optional
        Indices of the state nodes given ``role="output"`` (others are "hidden").
    activation : {"sigmoid", "tanh"}

    Returns
    -------
    networkx.DiGraph
        State nodes ``0..n-1``, input nodes ``"in0"...``.

    Raises
    ------
    ValidationError
        Bad shapes or values, or an ``output`` index outside ``0..n-1``.
    """
    n = np.shape(W)[0] if np.ndim(W) == 2 else None
    roles = None
    if output is not None:
        if n is None:
            raise ValidationError("W", f"must be a 2-D array of shape (n, n), got shape {np.shape(W)}", W)
        roles = ["hidden"] * n
        for i in np.atleast_1d(np.asarray(output, dtype=object)).tolist():
            if isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer)) \
                    or not 0 <= i < n:
                raise ValidationError(
                    "output", f"must hold state indices in 0..{n - 1}, got {i!r}", output
                )
            roles[int(i)] = "output"
    return from_arrays(W, W_in=W_in, tau=tau, bias=bias, gain=gain, roles=roles,
                       activation=activation)
