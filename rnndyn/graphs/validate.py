"""Validation of rnndyn network graphs.

A valid graph is a :class:`networkx.DiGraph` (not a multigraph) whose

- node ids are ``str`` or ``int`` (not ``bool``), with no ``1`` / ``"1"`` pair (they
  would collide once written to JSON);
- node attributes ``tau`` (> 0, default 1.0), ``bias`` (default 0.0), ``gain``
  (default 1.0) are finite real numbers and ``role`` is one of ``"input"``,
  ``"hidden"``, ``"output"`` (default ``"hidden"``);
- edges carry a finite real ``weight``; no edge points into an input node;
- graph attribute ``activation`` is ``"sigmoid"`` or ``"tanh"`` (default ``"sigmoid"``);
- at least one node is a state (non-input) node.
"""
from __future__ import annotations

import math

import networkx as nx
import numpy as np

from ..errors import ValidationError

__all__ = ["validate_graph", "ROLES", "ACTIVATIONS", "NODE_DEFAULTS", "DEFAULT_ACTIVATION"]

ROLES = ("input", "hidden", "output")
ACTIVATIONS = ("sigmoid", "tanh")
DEFAULT_ACTIVATION = "sigmoid"
NODE_DEFAULTS = {"tau": 1.0, "bias": 0.0, "gain": 1.0, "role": "hidden"}

# Accepted numeric types. bool is an int subclass but a weight of True is almost always a
# bug (a mask passed instead of weights), so it is rejected explicitly; Decimal/Fraction
# and 0-d arrays are rejected so that everything stored is a plain float/int.
_REAL_TYPES = (int, float, np.integer, np.floating)


def as_real(value) -> float | None:
    """Return ``value`` as a Python float, or None if it is not an accepted real number.

    Integers too large for a float become ``inf`` (and are then rejected as non-finite)
    instead of raising OverflowError.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, _REAL_TYPES):
        return None
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _type_name(value) -> str:
    return type(value).__name__


def _node_label(n) -> str:
    try:
        return f"graph.node({n!r})"
    except Exception:  # a user object with a broken __repr__ must not mask the real error
        return f"graph.node(<{_type_name(n)}>)"


def _check_node_id(n) -> None:
    if isinstance(n, bool) or not isinstance(n, (str, int)):
        raise ValidationError(
            _node_label(n),
            f"node ids must be str or int (not bool), got {_type_name(n)} {n!r}; "
            "relabel with nx.relabel_nodes(G, mapping) so the graph can be saved as JSON",
            n,
        )


def _check_real_attr(where: str, name: str, value, *, positive: bool = False) -> None:
    x = as_real(value)
    if x is None:
        raise ValidationError(
            f"{where}.{name}",
            f"must be a real number (int or float, not bool), got {_type_name(value)} "
            f"{value!r}; set a float or delete the attribute to use the default "
            f"{NODE_DEFAULTS[name]!r}",
            value,
        )
    if not math.isfinite(x):
        raise ValidationError(
            f"{where}.{name}", f"must be finite, got {value!r}; set a finite value", value
        )
    if positive and not x > 0:
        raise ValidationError(
            f"{where}.{name}",
            f"must be > 0, got {value!r}; time constants are positive (default 1.0)",
            value,
        )


def validate_graph(G) -> None:
    """Check that ``G`` is a valid rnndyn network graph.

    Parameters
    ----------
    G : networkx.DiGraph
        The network. See the module docstring for the rules.

    Returns
    -------
    None

    Raises
    ------
    ValidationError
        On the first problem found; ``attr`` names its location, e.g.
        ``"graph.node('h3').tau"`` or ``"graph.edge(0, 1).weight"``, and the message
        gives the offending value and the fix.
    """
    if not isinstance(G, nx.DiGraph) or G.is_multigraph():
        hint = ""
        if isinstance(G, nx.Graph) and G.is_multigraph():
            hint = (" (a multigraph: merge parallel edges into one edge whose weight is "
                    "their sum, then build a DiGraph)")
        elif isinstance(G, nx.Graph):
            hint = " (convert with nx.DiGraph(G); an undirected edge becomes two directed ones)"
        raise ValidationError(
            "graph",
            f"must be a networkx.DiGraph, got {_type_name(G)}{hint}",
            G,
        )

    act = G.graph.get("activation", DEFAULT_ACTIVATION)
    if not isinstance(act, str) or act not in ACTIVATIONS:
        raise ValidationError(
            "graph.graph['activation']",
            f"must be one of {ACTIVATIONS}, got {act!r}",
            act,
        )

    seen_as_str: dict[str, object] = {}
    inputs = set()
    n_state = 0
    for n, data in G.nodes(data=True):
        _check_node_id(n)
        try:
            key = str(n)
        except ValueError:  # int beyond sys.get_int_max_str_digits(); json cannot write it
            raise ValidationError(
                "graph.node(<int>)", "integer node id has too many digits to write as JSON", n
            ) from None
        if key in seen_as_str:
            raise ValidationError(
                _node_label(n),
                f"ids {seen_as_str[key]!r} and {n!r} are both present; they collide in JSON, "
                "relabel one of them",
                n,
            )
        seen_as_str[key] = n

        where = _node_label(n)
        role = data.get("role", NODE_DEFAULTS["role"])
        if not isinstance(role, str) or role not in ROLES:
            raise ValidationError(
                f"{where}.role", f"must be one of {ROLES}, got {role!r}", role
            )
        for name in ("tau", "bias", "gain"):
            if name in data:
                _check_real_attr(where, name, data[name], positive=(name == "tau"))
        if role == "input":
            inputs.add(n)
        else:
            n_state += 1

    if n_state == 0:
        raise ValidationError(
            "graph",
            f"has no state node ({G.number_of_nodes()} nodes, all with role 'input'); "
            "add at least one 'hidden' or 'output' node",
            G,
        )

    for u, v, data in G.edges(data=True):
        where = f"graph.edge({u!r}, {v!r})"
        if v in inputs:
            raise ValidationError(
                where,
                f"points into input node {v!r}; input nodes are driven externally, "
                "remove the edge or change the node's role",
                (u, v),
            )
        if "weight" not in data:
            raise ValidationError(
                f"{where}.weight", "is missing; every edge needs a finite real 'weight'", None
            )
        w = data["weight"]
        x = as_real(w)
        if x is None:
            raise ValidationError(
                f"{where}.weight",
                f"must be a real number (int or float, not bool), got {_type_name(w)} {w!r}; "
                "set a float weight (e.g. float(value))",
                w,
            )
        if not math.isfinite(x):
            raise ValidationError(
                f"{where}.weight",
                f"must be finite, got {w!r}; set a finite weight or remove the edge",
                w,
            )
