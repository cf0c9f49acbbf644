"""Tree-structured tasks for recursive networks (``rnndyn.models.recursive``): data only,
every generator takes ``seed=``.

Structures are networkx DiGraphs with edges child -> parent (in argument order: the left
child's edge first), leaves carrying the node attribute ``symbol`` and every node the
attribute ``label`` (the task's answer for the subtree under it), so a forest can be
trained at the root or at every node (``forest(graphs, symbols, labels="label")``).

==================  ========================================================================
``parity_trees``    random binary trees of a given depth over the bits {0, 1}; the label is
                    the parity (XOR) of the leaf bits below the node. No single layer
                    computes the XOR of two bits, so the network must invent a code that the
                    same layer can keep combining.
``boolean_trees``   Boolean expressions (and, or, xor, nand, nor) as ternary trees
                    ``(operator, left, right)``, the operator a leaf (as the functor comes
                    first in Pollack 1990's trees); the label is the truth value.
==================  ========================================================================

Both grow trees of an exact depth with random shapes, so a study can train on shallow trees
and test on deeper ones.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import check_seed, positive_int
from ..errors import ValidationError

#: the leaf vocabulary of ``parity_trees``: symbol k is embedding row k
PARITY_SYMBOLS = (0, 1)


class Trees(NamedTuple):
    """``graphs`` (list of networkx.DiGraph, edges child -> parent), ``labels`` (n,) int:
    each root's label, and ``symbols``: the leaf vocabulary in embedding-row order."""

    graphs: list
    labels: np.ndarray
    symbols: tuple


def _depths(value, name: str) -> tuple[int, int]:
    """(lo, hi) from an int or an inclusive range of ints >= 0."""
    pair = (value, value) if isinstance(value, (int, np.integer)) else value
    try:
        lo, hi = pair
        lo, hi = positive_int(lo, name, 0), positive_int(hi, name, 0)
    except (TypeError, ValueError, ValidationError):
        raise ValidationError(name, f"expected an int >= 0 or a range (lo, hi) of ints >= 0, "
                              f"got {value!r}", value) from None
    if lo > hi:
        raise ValidationError(name, f"the range ({lo}, {hi}) is empty; pass lo <= hi", value)
    return lo, hi


def parity_trees(n: int, depth=3, *, full: bool = False, seed=None) -> Trees:
    """``n`` random binary trees labelled with the parity of their leaf bits.

    A tree of depth (height) h has a root whose two children are subtrees, one of depth
    exactly h - 1 and the other of a depth drawn uniformly from 0..h - 1 (which side is
    random), so shapes vary while the depth is exact; ``full=True`` grows complete trees
    (2^h leaves). Leaf bits are uniform.

    Parameters
    ----------
    n : int
        Number of trees.
    depth : int or (int, int)
        The depth, or the inclusive range each tree's depth is drawn from uniformly.
    full : bool
        Complete binary trees instead of random shapes.
    seed : int, Generator or None

    Returns
    -------
    Trees
        graphs with node attributes ``symbol`` (leaves: 0 or 1) and ``label`` (every node:
        the XOR of the bits below it), root labels (n,), symbols ``(0, 1)``.
    """
    import networkx as nx

    n = positive_int(n, "parity_trees.n")
    lo, hi = _depths(depth, "parity_trees.depth")
    rng = check_seed(seed, "parity_trees.seed")
    heights = rng.integers(lo, hi + 1, n)

    def grow(G, h):
        v = len(G)
        if h == 0:
            bit = int(rng.integers(2))
            G.add_node(v, symbol=bit, label=bit)
            return v, bit
        G.add_node(v)
        other = h - 1 if full else int(rng.integers(h))
        hs = (h - 1, other) if rng.integers(2) == 0 else (other, h - 1)
        left, a = grow(G, hs[0])
        right, b = grow(G, hs[1])
        G.add_edge(left, v)
        G.add_edge(right, v)
        G.nodes[v]["label"] = a ^ b
        return v, a ^ b

    graphs, labels = [], np.empty(n, dtype=np.int64)
    for k in range(n):
        G = nx.DiGraph()
        labels[k] = grow(G, int(heights[k]))[1]
        graphs.append(G)
    return Trees(graphs, labels, PARITY_SYMBOLS)


#: the operators of ``boolean_trees``: name -> truth function of two bits
BOOLEAN_OPS = {"and": lambda a, b: a & b, "or": lambda a, b: a | b, "xor": lambda a, b: a ^ b,
               "nand": lambda a, b: 1 - (a & b), "nor": lambda a, b: 1 - (a | b)}


def boolean_trees(n: int, depth=3, *, ops=("and", "or", "xor"), seed=None) -> Trees:
    """``n`` random Boolean expressions as ternary trees ``(operator, left, right)``, the
    operator a leaf like the operands (Pollack 1990's RAAM trees put the functor first the
    same way), labelled with their truth value.

    Shapes follow ``parity_trees`` (one operand subtree of depth h - 1, the other of a
    uniform depth 0..h - 1); operators and bits are uniform. A recursive net with
    ``combine="concat"`` and arity 3 reads the operator through ``W [e_op; c_l; c_r]``:
    the operator only shifts the pre-activation, which suffices for and, or, xor, nand and
    nor with a two-unit code of the truth value.

    Parameters
    ----------
    n : int
    depth : int or (int, int)
        Depth of the expression (operator nesting), or the inclusive range it is drawn from.
    ops : sequence of str
        Operators among ``"and"``, ``"or"``, ``"xor"``, ``"nand"``, ``"nor"``.
    seed : int, Generator or None

    Returns
    -------
    Trees
        graphs with ``symbol`` on leaves (0, 1 or an operator name) and ``label`` on every
        node (the truth value of the subexpression; -1 on operator leaves, which have none),
        root labels (n,), symbols ``(0, 1) + ops``.
    """
    import networkx as nx

    n = positive_int(n, "boolean_trees.n")
    lo, hi = _depths(depth, "boolean_trees.depth")
    try:
        ops = tuple(ops)
        bad = [o for o in ops if o not in BOOLEAN_OPS]
    except TypeError:
        bad = [ops]
    if bad or not ops or len(set(ops)) != len(ops):
        raise ValidationError("boolean_trees.ops", f"expected distinct operators among "
                              f"{list(BOOLEAN_OPS)}, got {ops!r}", ops)
    rng = check_seed(seed, "boolean_trees.seed")
    heights = rng.integers(lo, hi + 1, n)

    def grow(G, h):
        v = len(G)
        if h == 0:
            bit = int(rng.integers(2))
            G.add_node(v, symbol=bit, label=bit)
            return v, bit
        G.add_node(v)
        op = ops[int(rng.integers(len(ops)))]
        G.add_node(v + 1, symbol=op, label=-1)
        other = int(rng.integers(h))
        hs = (h - 1, other) if rng.integers(2) == 0 else (other, h - 1)
        left, a = grow(G, hs[0])
        right, b = grow(G, hs[1])
        G.add_edges_from([(v + 1, v), (left, v), (right, v)])
        G.nodes[v]["label"] = value = BOOLEAN_OPS[op](a, b)
        return v, value

    graphs, labels = [], np.empty(n, dtype=np.int64)
    for k in range(n):
        G = nx.DiGraph()
        labels[k] = grow(G, int(heights[k]))[1]
        graphs.append(G)
    return Trees(graphs, labels, (0, 1) + ops)
