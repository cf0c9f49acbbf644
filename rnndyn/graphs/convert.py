"""Conversion between network graphs and arrays.

Conventions: ``W[i, j]`` is the weight of the connection j -> i (row = target), so the
graph edge ``(j, i)`` carries ``weight=W[i, j]``. Input-role nodes are not state
variables: their outgoing edges form ``W_in[i, k]`` (state node i, input node k).

Unit order: unless given (``nodelist=``, ``input_nodes=``), the units of ``to_arrays`` are in
sorted node-id order when the ids can be compared (all ints, or all strings; strings
compare digit runs as numbers, so "h2" < "h10" and "in2" < "in10"), else in insertion
order. Unit ``i`` of a graph with int ids 0..n-1 is therefore node ``i``, however the
graph was built.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import networkx as nx
import numpy as np

from .._validate import front_door, warn
from ..errors import ValidationError
from .validate import (
    ACTIVATIONS,
    DEFAULT_ACTIVATION,
    NODE_DEFAULTS,
    as_real,
    validate_graph,
)

__all__ = ["NetworkArrays", "to_arrays", "from_arrays", "to_weights", "from_weights"]


class NetworkArrays(NamedTuple):
    """A network as arrays; the fields follow :func:`from_arrays`' parameter order, so
    ``from_arrays(*to_arrays(G))`` rebuilds the graph.

    Attributes
    ----------
    W : ndarray, shape (n, n), float64
        Recurrent weights, ``W[i, j]`` = weight j -> i.
    W_in : ndarray, shape (n, n_in), float64
        Input weights, ``W_in[i, k]`` = weight from input node ``input_nodes[k]`` to state node i.
    tau, bias, gain : ndarray, shape (n,), float64
        Per state node.
    roles : tuple of str, length n
        ``"hidden"`` or ``"output"`` per state node.
    nodes : tuple, length n
        State node ids, in array order.
    input_nodes : tuple, length n_in
        Input node ids, in column order of ``W_in``.
    activation : str
        ``"sigmoid"`` or ``"tanh"``.
    graph_attrs : dict
        The other graph attributes (everything in ``G.graph`` except ``activation``).
    """

    W: np.ndarray
    W_in: np.ndarray
    tau: np.ndarray
    bias: np.ndarray
    gain: np.ndarray
    roles: tuple
    nodes: tuple
    input_nodes: tuple
    activation: str
    graph_attrs: dict


def _safe_in(n, container) -> bool:
    try:
        return n in container
    except TypeError:
        return False


_DIGIT_RUNS = re.compile(r"([0-9]+)")


def _natural_key(s: str):
    """Sort key comparing digit runs as numbers ("h2" < "h10"); ties broken by the text."""
    parts = _DIGIT_RUNS.split(s)
    # digit runs (odd positions) compare by (length without leading zeros, digits): numeric
    # order without int(), which fails beyond sys.get_int_max_str_digits()
    return tuple((len(p.lstrip("0")), p.lstrip("0")) if i % 2 else p
                 for i, p in enumerate(parts)), s


def _default_order(ids: list) -> list:
    """Sorted ids when they are mutually orderable (all int or all str), else insertion order."""
    if all(isinstance(v, int) for v in ids):
        return sorted(ids)
    if all(isinstance(v, str) for v in ids):
        return sorted(ids, key=_natural_key)
    return ids


def _check_ambiguities(G) -> None:
    """Warn about what a graph leaves to defaults that often surprise (see to_arrays)."""
    sources = [v for v, d in G.nodes(data=True)
               if "role" not in d and G.succ[v] and not G.pred[v]]
    if sources:
        shown = ", ".join(repr(v) for v in sources[:5])
        more = f" and {len(sources) - 5} more" if len(sources) > 5 else ""
        warn(f"graph: node(s) {shown}{more} have outgoing edges, no incoming edge and no "
              "'role' attribute, so they become hidden state units (role 'hidden'); if they "
              f"are external inputs set role='input' (G.nodes[{sources[0]!r}]['role'] = "
              "'input'), else set role='hidden' to silence this warning")
    if "activation" not in G.graph:
        warn(f"graph: has no 'activation' graph attribute; using the default "
              f"{DEFAULT_ACTIVATION!r}. Set G.graph['activation'] = 'sigmoid' or 'tanh' to "
              "choose it and silence this warning")


def _order(name: str, requested, available: list, kind: str, all_nodes) -> tuple:
    """Return ``requested`` as a tuple after checking it is a permutation of ``available``
    (default: ``available`` in sorted order when orderable, see the module docstring)."""
    if requested is None:
        return tuple(_default_order(available))
    req = list(requested)
    avail = set(available)
    for n in req:
        try:
            known = n in avail
        except TypeError:  # unhashable entry
            known = False
        if not known:
            what = ("an input node, not one" if kind == "state" and _safe_in(n, all_nodes)
                    else "not one")
            raise ValidationError(
                name,
                f"contains {n!r}, which is {what} of the graph's {kind} nodes; "
                f"list exactly the {len(available)} {kind} nodes",
                requested,
            )
    if len(set(req)) != len(req) or len(req) != len(available):
        missing = [n for n in available if n not in set(req)]
        raise ValidationError(
            name,
            f"must list each of the {len(available)} {kind} nodes exactly once "
            f"(got {len(req)} entries; missing {missing!r})",
            requested,
        )
    return tuple(req)


@front_door()
def to_arrays(G, nodelist=None, input_nodes=None) -> NetworkArrays:
    """Convert a network graph to arrays.

    Parameters
    ----------
    G : networkx.DiGraph
        A valid network graph (see :func:`validate_graph`).
    nodelist : sequence, optional
        Order of the state (non-input) nodes, i.e. unit ``i`` of the arrays is
        ``nodelist[i]``; must list each exactly once. Default: sorted by node id when the
        ids are mutually orderable (all ints; or all strings, with digit runs compared as
        numbers: "h2" before "h10"), otherwise the graph's node insertion order. The
        order used is returned as ``nodes``.
    input_nodes : sequence, optional
        Order of the input nodes (columns of ``W_in``); must list each exactly once.
        Default: the same rule as ``nodelist``.

    Returns
    -------
    NetworkArrays
        ``W`` (n, n), ``W_in`` (n, n_in), ``tau``/``bias``/``gain`` (n,), all float64;
        missing node attributes take their defaults (tau 1, bias 0, gain 1, role
        "hidden"). Node attributes other than these and edge attributes other than
        ``weight`` are not carried over.

    Raises
    ------
    ValidationError
        If ``G`` is invalid, or ``nodelist``/``input_nodes`` is not a permutation of the
        state/input nodes.

    Warns
    -----
    UserWarning
        If a node without a ``role`` attribute has outgoing edges but no incoming one
        (it becomes a hidden state unit driven by nothing: usually an input missing
        ``role="input"``), or if ``G.graph`` has no ``activation`` (the default
        "sigmoid" is used).
    """
    validate_graph(G)
    _check_ambiguities(G)
    state_avail = [n for n, r in G.nodes(data="role", default="hidden") if r != "input"]
    input_avail = [n for n, r in G.nodes(data="role", default="hidden") if r == "input"]
    nodes = _order("nodelist", nodelist, state_avail, "state", G)
    ins = _order("input_nodes", input_nodes, input_avail, "input", G)

    n, n_in = len(nodes), len(ins)
    idx = {v: i for i, v in enumerate(nodes)}
    in_idx = {v: k for k, v in enumerate(ins)}
    W = np.zeros((n, n), dtype=np.float64)
    W_in = np.zeros((n, n_in), dtype=np.float64)
    for u, v, w in G.edges(data="weight"):
        # validate_graph guarantees v is a state node and w is a finite real
        if u in in_idx:
            W_in[idx[v], in_idx[u]] = as_real(w)
        else:
            W[idx[v], idx[u]] = as_real(w)

    def column(name):
        return np.array(
            [as_real(G.nodes[v].get(name, NODE_DEFAULTS[name])) for v in nodes],
            dtype=np.float64,
        )

    roles = tuple(G.nodes[v].get("role", NODE_DEFAULTS["role"]) for v in nodes)
    graph_attrs = {k: val for k, val in G.graph.items() if k != "activation"}
    return NetworkArrays(
        W=W,
        W_in=W_in,
        tau=column("tau"),
        bias=column("bias"),
        gain=column("gain"),
        roles=roles,
        nodes=nodes,
        input_nodes=ins,
        activation=G.graph.get("activation", DEFAULT_ACTIVATION),
        graph_attrs=graph_attrs,
    )


def _asarray(name: str, a) -> np.ndarray:
    try:
        return np.asarray(a)
    except (ValueError, TypeError) as e:  # ragged nested lists and the like
        raise ValidationError(name, f"is not a rectangular numeric array ({e})", a) from None


def _real_array(name: str, a, shape: tuple, shape_text: str) -> np.ndarray:
    """Convert ``a`` to a float64 array of ``shape`` (scalars broadcast when ndim 1)."""
    arr = _asarray(name, a)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise ValidationError(
            name,
            f"must be a real numeric array of shape {shape_text}, got dtype {arr.dtype}; "
            "convert with np.asarray(..., dtype=float)",
            a,
        )
    if arr.ndim == 0 and len(shape) == 1:
        arr = np.broadcast_to(arr, shape)
    if arr.shape != shape:
        raise ValidationError(
            name, f"must have shape {shape_text} = {shape}, got {arr.shape}", a
        )
    out = np.array(arr, dtype=np.float64)  # a copy: the caller's array is never aliased
    if not np.all(np.isfinite(out)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0])
        raise ValidationError(
            name, f"must be finite, got {out[bad].item()!r} at index {bad}", a
        )
    return out


def _ids(name: str, ids, count: int, default) -> list:
    if ids is None:
        return list(default)
    ids = [int(v) if isinstance(v, np.integer) else str(v) if isinstance(v, np.str_) else v
           for v in ids]
    if len(ids) != count:
        raise ValidationError(name, f"must have {count} ids, got {len(ids)}", ids)
    try:
        unique = len(set(ids)) == len(ids)
    except TypeError:
        raise ValidationError(name, "node ids must be hashable str or int values", ids) from None
    if not unique:
        raise ValidationError(name, "contains duplicate ids; each node needs its own id", ids)
    return ids


@front_door()
def from_arrays(
    W,
    W_in=None,
    tau=None,
    bias=None,
    gain=None,
    roles=None,
    nodes=None,
    input_nodes=None,
    activation: str = DEFAULT_ACTIVATION,
    graph_attrs=None,
) -> nx.DiGraph:
    """Build a network graph from arrays (inverse of :func:`to_arrays`).

    Parameters
    ----------
    W : array_like, shape (n, n)
        Recurrent weights, ``W[i, j]`` = weight j -> i. Zero entries produce no edge, so
        the graph's topology is the nonzero pattern of ``W``.
    W_in : array_like, shape (n, n_in), optional
        Input weights; ``W_in[i, k]`` becomes edge ``(input_nodes[k], nodes[i])``. Zeros
        produce no edge. Default: no inputs, or all-zero if ``input_nodes`` is given.
    tau, bias, gain : array_like, shape (n,) or scalar, optional
        Per-node parameters (defaults 1.0, 0.0, 1.0); ``tau`` must be > 0.
    roles : sequence of str, length n, optional
        ``"hidden"`` or ``"output"`` per state node (default all ``"hidden"``).
    nodes : sequence of str or int, length n, optional
        State node ids (default ``0..n-1``); numpy integers become ``int``.
    input_nodes : sequence of str or int, length n_in, optional
        Input node ids (default ``"in0", "in1", ...``).
    activation : {"sigmoid", "tanh"}
        Stored as ``G.graph["activation"]``.
    graph_attrs : dict, optional
        Further graph attributes (copied shallowly).

    Returns
    -------
    networkx.DiGraph
        State nodes first (in order, with ``tau``, ``bias``, ``gain``, ``role`` as Python
        floats/str), then input nodes (``role="input"`` only); edges with Python-float
        ``weight`` values bit-identical to the array entries.

    Raises
    ------
    ValidationError
        If an array has the wrong shape or dtype or a non-finite entry, ``tau <= 0``, a
        role is not "hidden"/"output", ids are duplicated or invalid, or
        ``activation`` is unknown (or contradicts ``graph_attrs["activation"]``).
    """
    nodes = None if nodes is None else list(nodes)
    input_nodes = None if input_nodes is None else list(input_nodes)
    Wa = _asarray("W", W)
    if Wa.ndim != 2 or Wa.shape[0] != Wa.shape[1] or Wa.shape[0] == 0:
        raise ValidationError(
            "W", f"must be a square 2-D array of shape (n, n) with n >= 1, got shape {Wa.shape}", W
        )
    n = Wa.shape[0]
    Wa = _real_array("W", Wa, (n, n), "(n, n)")

    if W_in is None:
        n_in = 0 if input_nodes is None else len(input_nodes)
        W_ina = np.zeros((n, n_in))
    else:
        W_ina = _asarray("W_in", W_in)
        if W_ina.ndim != 2:
            raise ValidationError(
                "W_in", f"must be a 2-D array of shape (n, n_in) = ({n}, n_in), got shape {W_ina.shape}",
                W_in,
            )
        n_in = W_ina.shape[1]
        W_ina = _real_array("W_in", W_ina, (n, n_in), "(n, n_in)")

    params = {}
    for name, value in (("tau", tau), ("bias", bias), ("gain", gain)):
        params[name] = _real_array(
            name, NODE_DEFAULTS[name] if value is None else value, (n,), "(n,)"
        )
    if not np.all(params["tau"] > 0):
        i = int(np.argmin(params["tau"]))
        raise ValidationError(
            "tau", f"must be > 0, got {params['tau'][i].item()!r} at index {i}; time constants "
            "are positive", tau
        )

    if roles is None:
        roles = ("hidden",) * n
    else:
        roles = tuple(roles)
        if len(roles) != n:
            raise ValidationError("roles", f"must have length n = {n}, got {len(roles)}", roles)
        for i, r in enumerate(roles):
            if r not in ("hidden", "output"):
                raise ValidationError(
                    "roles",
                    f"state nodes take role 'hidden' or 'output', got {r!r} at index {i} "
                    "(input nodes are given through W_in/input_nodes)",
                    roles,
                )

    node_ids = _ids("nodes", nodes, n, range(n))
    input_ids = _ids("input_nodes", input_nodes, n_in, (f"in{k}" for k in range(n_in)))
    overlap = set(node_ids) & set(input_ids)
    if overlap:
        raise ValidationError(
            "input_nodes", f"ids {sorted(map(repr, overlap))} are also state node ids; use distinct ids",
            input_nodes,
        )

    if not isinstance(activation, str) or activation not in ACTIVATIONS:
        raise ValidationError("activation", f"must be one of {ACTIVATIONS}, got {activation!r}", activation)
    if graph_attrs is not None and not isinstance(graph_attrs, Mapping):
        raise ValidationError(
            "graph_attrs", f"must be a dict, got {type(graph_attrs).__name__}", graph_attrs
        )
    extra = dict(graph_attrs or {})
    if "activation" in extra and extra.pop("activation") != activation:
        raise ValidationError(
            "graph_attrs",
            "contains an 'activation' different from the activation argument; pass it once",
            graph_attrs,
        )

    G = nx.DiGraph()
    G.graph.update(extra)
    G.graph["activation"] = activation
    tau_l, bias_l, gain_l = (params[k].tolist() for k in ("tau", "bias", "gain"))
    G.add_nodes_from(
        (node_ids[i], {"tau": tau_l[i], "bias": bias_l[i], "gain": gain_l[i], "role": roles[i]})
        for i in range(n)
    )
    G.add_nodes_from((k, {"role": "input"}) for k in input_ids)
    # Edges are added grouped by source (inputs' columns too), so G.edges iterates in a
    # fixed order that a later to_arrays/from_arrays round trip reproduces exactly.
    src, tgt = np.nonzero(Wa.T)  # Wa.T[j, i] = W[i, j]: sorted by source j, then target i
    G.add_weighted_edges_from(
        zip((node_ids[j] for j in src.tolist()), (node_ids[i] for i in tgt.tolist()),
            Wa.T[src, tgt].tolist())
    )
    if n_in:
        k_idx, i_idx = np.nonzero(W_ina.T)
        G.add_weighted_edges_from(
            zip((input_ids[k] for k in k_idx.tolist()), (node_ids[i] for i in i_idx.tolist()),
                W_ina.T[k_idx, i_idx].tolist())
        )
    validate_graph(G)  # catches bad ids (floats, tuples, "1" next to 1)
    return G


@front_door()
def to_weights(G, nodelist=None) -> np.ndarray:
    """Return the recurrent weight matrix of ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
        A valid network graph.
    nodelist : sequence, optional
        Order of the state nodes (default: sorted ids when orderable, see
        :func:`to_arrays`).

    Returns
    -------
    ndarray, shape (n, n), float64
        ``W[i, j]`` = weight of the edge ``nodelist[j] -> nodelist[i]`` (0 where absent);
        input nodes are excluded.

    Raises
    ------
    ValidationError
        As :func:`to_arrays`.
    """
    return to_arrays(G, nodelist=nodelist).W


@front_door()
def from_weights(W, nodes=None, *, tau=None, bias=None, gain=None, roles=None,
                 activation: str = DEFAULT_ACTIVATION) -> nx.DiGraph:
    """Build a graph from a weight matrix alone (no inputs).

    Parameters
    ----------
    W : array_like, shape (n, n)
        ``W[i, j]`` = weight j -> i; zeros produce no edge.
    nodes : sequence, length n, optional
        Node ids (default ``0..n-1``).
    tau, bias, gain : array_like, shape (n,) or scalar, optional
        Node parameters (defaults 1.0, 0.0, 1.0).
    roles : sequence of str, length n, optional
        ``"hidden"``/``"output"`` per node.
    activation : {"sigmoid", "tanh"}

    Returns
    -------
    networkx.DiGraph

    Raises
    ------
    ValidationError
        As :func:`from_arrays`.
    """
    return from_arrays(W, tau=tau, bias=bias, gain=gain, roles=roles, nodes=nodes,
                       activation=activation)

