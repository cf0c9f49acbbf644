"""Recursive neural networks: one set of weights applied over trees and DAGs (Pollack 1990,
Artificial Intelligence 46:77, DOI 10.1016/0004-3702(90)90005-K; Socher, Lin, Ng & Manning
2011, ICML, "Parsing natural scenes and natural language with recursive neural networks").

A structure is a networkx ``DiGraph`` whose edges point from child to parent (information
flows along the edges, as in every rnndyn graph): leaves (no in-edges) carry the node
attribute ``symbol``, embedded by a row of ``E``; the root is the one node without
out-edges. Nodes are visited in topological order, each internal node combining its
children ``c_1 .. c_k`` into

============  ===============================  ================================================
combine       parent vector                    arity
============  ===============================  ================================================
``"concat"``  ``p = tanh(W [c_1; ...; c_k] + b)``   fixed: W (d, k d), every internal node has k
                                                    children, in edge order (or by the int edge
                                                    attribute ``position`` when edges carry it)
``"sum"``     ``p = tanh(W sum_k c_k + b)``        any: W (d, d)
``"mean"``    ``p = tanh(W mean_k c_k + b)``       any: W (d, d)
============  ===============================  ================================================

and a linear readout ``y = W_out h + b_out`` gives the outputs at the root (or at every
node; for ``"cross_entropy"`` they are logits). In a DAG a node shared by several parents
is computed once and receives the gradient of each.

Batching: ``forest(graphs, symbols)`` flattens many structures once into a small immutable
``Forest`` of index arrays (nodes numbered children first, each tree contiguous); the
forward pass and backpropagation through structure (BPTS, Goller & Kuechler 1996, ICNN,
DOI 10.1109/ICNN.1996.548916) each take the whole forest in one numba call, and a
mini-batch is a sub-forest (``Forest.subset``, index arithmetic only). The gradient and
the training loop are in ``rnndyn.train.recursive``.

A recursive net is not a map of sequences: it does not go through ``rnndyn.run``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validate import as_array, check_seed, choice, front_door, positive_int
from ..errors import ValidationError
from . import _recursive_kernels as rk
from .base import ParamVector
from .cell import uniform_init

COMBINE = {"concat": rk.CONCAT, "sum": rk.SUM, "mean": rk.MEAN}
AT = ("root", "nodes")


# -- forests ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class Forest:
    """Structures flattened for the kernels (build it with ``forest``; read-only arrays).

    Attributes
    ----------
    symbol : int array (N,)
        Embedding row of each leaf, -1 for internal nodes.
    child_ptr, child_idx : int arrays (N + 1,), (M,)
        Children of node i: ``child_idx[child_ptr[i]:child_ptr[i + 1]]``, in argument order.
    tree_ptr : int array (n_trees + 1,)
        Nodes of tree t are ``tree_ptr[t]:tree_ptr[t + 1]``, children before parents.
    roots : int array (n_trees,)
        The root (last node) of each tree.
    height : int array (N,)
        Longest path from a leaf to each node (0 at leaves); ``depth`` is the roots' height.
    nodes : object array (N,)
        The graph's node id of each node (for messages and for reading results back).
    symbols : tuple
        The vocabulary: symbol ``symbols[k]`` is row k of the embedding.
    labels : array (N,) or None
        The node attribute gathered by ``forest(..., labels=name)``, if any.
    """

    symbol: np.ndarray
    child_ptr: np.ndarray
    child_idx: np.ndarray
    tree_ptr: np.ndarray
    height: np.ndarray
    nodes: np.ndarray
    symbols: tuple
    labels: np.ndarray | None = None

    @property
    def n_trees(self) -> int:
        return len(self.tree_ptr) - 1

    @property
    def n_nodes(self) -> int:
        return len(self.symbol)

    @property
    def roots(self) -> np.ndarray:
        return self.tree_ptr[1:] - 1

    @property
    def depth(self) -> np.ndarray:
        """Height of each tree (edges on its longest leaf-to-root path), (n_trees,)."""
        return self.height[self.roots]

    @property
    def tree(self) -> np.ndarray:
        """Tree index of every node, (N,)."""
        return np.repeat(np.arange(self.n_trees), np.diff(self.tree_ptr))

    def __len__(self):
        return self.n_trees

    def __repr__(self):
        return (f"Forest({self.n_trees} trees, {self.n_nodes} nodes, depth "
                f"{self.depth.min()}-{self.depth.max()}, {len(self.symbols)} symbols)")

    @front_door()
    def subset(self, trees) -> "Forest":
        """The sub-forest of the trees ``trees`` (int indices, in that order)."""
        return self._take(trees, "trees")[0]

    def _take(self, trees, name: str):
        """(sub-forest, the nodes it keeps as indices into this forest)."""
        t = np.asarray(trees)
        if t.ndim != 1 or t.size == 0 or t.dtype.kind not in "iu" or \
                t.min() < 0 or t.max() >= self.n_trees:
            raise ValidationError(name, f"expected a non-empty 1-D array of tree indices in "
                                  f"[0, {self.n_trees}), got {trees!r}", trees)
        start, size = self.tree_ptr[t], np.diff(self.tree_ptr)[t]
        ptr = np.concatenate([[0], np.cumsum(size)])
        shift = ptr[:-1] - start  # new index = old index + shift of its tree
        keep = np.repeat(start - ptr[:-1], size) + np.arange(ptr[-1])
        n_child = np.diff(self.child_ptr)[keep]
        cptr = np.concatenate([[0], np.cumsum(n_child)])
        cstart = np.repeat(self.child_ptr[keep] - cptr[:-1], n_child) + np.arange(cptr[-1])
        cidx = self.child_idx[cstart] + np.repeat(np.repeat(shift, size), n_child)
        sub = Forest(symbol=_frozen(self.symbol[keep]), child_ptr=_frozen(cptr),
                     child_idx=_frozen(cidx), tree_ptr=_frozen(ptr),
                     height=_frozen(self.height[keep]), nodes=_frozen(self.nodes[keep]),
                     symbols=self.symbols,
                     labels=None if self.labels is None else _frozen(self.labels[keep]))
        return sub, keep


def _frozen(a, dtype=None) -> np.ndarray:
    a = np.array(a, dtype=dtype)
    a.flags.writeable = False
    return a


def _vocabulary(symbols) -> tuple:
    if isinstance(symbols, (int, np.integer)) and not isinstance(symbols, bool):
        return tuple(range(positive_int(symbols, "symbols")))
    try:
        vocab = tuple(symbols)
        index = {s: k for k, s in enumerate(vocab)}
    except TypeError:
        raise ValidationError("symbols", f"expected an int V (symbols 0..V-1) or a sequence of "
                              f"hashable symbols, got {symbols!r}", symbols) from None
    if not vocab or len(index) != len(vocab):
        raise ValidationError("symbols", f"expected distinct symbols, at least one, got "
                              f"{symbols!r}", symbols)
    return vocab


def _children(G, v, t):
    """The in-neighbours of v in argument order: by the edge attribute ``position`` if
    every in-edge has one, else in the order the edges were added."""
    preds = list(G.pred[v])
    pos = [G.edges[u, v].get("position") for u in preds]
    if all(p is None for p in pos):
        return preds
    if any(p is None for p in pos) or len(set(pos)) != len(pos):
        raise ValidationError(f"graphs[{t}]", f"the in-edges of node {v!r} have positions "
                              f"{pos}; give every in-edge of a node a distinct int position "
                              "or none of them", G)
    return [u for _, u in sorted(zip(pos, preds))]


@front_door()
def forest(graphs, symbols, *, labels: str | None = None) -> Forest:
    """Flatten trees or DAGs (edges child -> parent) into one ``Forest``.

    Parameters
    ----------
    graphs : networkx.DiGraph or sequence of them
        Each has exactly one root (a node without out-edges) and no cycle; every leaf (a
        node without in-edges) has the node attribute ``symbol``; internal nodes have none.
    symbols : int or sequence
        The vocabulary: V (symbols are the ints 0..V-1) or the symbols in embedding-row
        order.
    labels : str, optional
        A node attribute present on every node (e.g. a per-node class) to gather into
        ``Forest.labels`` in node order; sub-forests keep it aligned.

    Raises
    ------
    ValidationError
        An empty forest, a graph that is not a DiGraph, is empty, has a cycle or not exactly
        one root, a leaf without a known symbol, an internal node with a symbol.
    """
    import networkx as nx

    vocab = _vocabulary(symbols)
    index = {s: k for k, s in enumerate(vocab)}
    if isinstance(graphs, nx.Graph):
        graphs = [graphs]
    try:
        graphs = list(graphs)
    except TypeError:
        raise ValidationError("graphs", f"expected a networkx DiGraph or a sequence of them, "
                              f"got {type(graphs).__name__}", graphs) from None
    if not graphs:
        raise ValidationError("graphs", "the forest is empty; pass at least one graph", graphs)
    sym, ptr, idx, tree_ptr, height, names, labs = [], [0], [], [0], [], [], []
    for t, G in enumerate(graphs):
        where = f"graphs[{t}]"
        if not isinstance(G, nx.DiGraph) or G.is_multigraph():
            raise ValidationError(where, f"expected a networkx DiGraph, got "
                                  f"{type(G).__name__}", G)
        if len(G) == 0:
            raise ValidationError(where, "has no nodes; every structure needs at least a leaf", G)
        if not nx.is_directed_acyclic_graph(G):
            cycle = [u for u, _ in nx.find_cycle(G)]
            raise ValidationError(where, f"has the cycle {cycle}; a recursive net needs a tree "
                                  "or DAG with edges child -> parent", G)
        roots = [v for v in G if G.out_degree(v) == 0]
        if len(roots) != 1:
            raise ValidationError(where, f"has {len(roots)} roots (nodes without out-edges) "
                                  f"{roots[:5]}; give each tree its own graph with one root", G)
        base = tree_ptr[-1]
        local = {}
        for v in nx.topological_sort(G):
            local[v] = base + len(local)
            kids = _children(G, v, t)
            attrs = G.nodes[v]
            if kids:
                if "symbol" in attrs:
                    raise ValidationError(where, f"internal node {v!r} has symbol "
                                          f"{attrs['symbol']!r}; only leaves are embedded "
                                          "(remove it, or make the symbol a leaf child)", G)
                sym.append(-1)
                idx.extend(local[u] for u in kids)
                height.append(1 + max(height[local[u]] for u in kids))
            else:
                s = attrs.get("symbol", None)
                try:
                    k = index[s]
                except (KeyError, TypeError):
                    shown = list(vocab[:10]) + (["..."] if len(vocab) > 10 else [])
                    raise ValidationError(where, f"leaf {v!r} has symbol {s!r}, not in the "
                                          f"vocabulary {shown}; set the node attribute "
                                          "'symbol' or extend symbols", G) from None
                sym.append(k)
                height.append(0)
            ptr.append(len(idx))
            names.append(v)
            if labels is not None:
                if labels not in attrs:
                    raise ValidationError(where, f"node {v!r} has no attribute {labels!r} "
                                          "(labels= needs it on every node)", G)
                labs.append(attrs[labels])
        tree_ptr.append(base + len(local))
    nodes = np.empty(len(names), dtype=object)
    nodes[:] = names
    lab = None
    if labels is not None:
        lab = _frozen(labs)
        if lab.dtype.kind not in "biuf":
            raise ValidationError("labels", f"node attribute {labels!r} must be numeric, got "
                                  f"{lab.dtype}", labels)
    return Forest(symbol=_frozen(sym, np.int64), child_ptr=_frozen(ptr, np.int64),
                  child_idx=_frozen(idx, np.int64), tree_ptr=_frozen(tree_ptr, np.int64),
                  height=_frozen(height, np.int64), nodes=_frozen(nodes), symbols=vocab,
                  labels=lab)


# -- the model ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False, repr=False)
class RecursiveNet(ParamVector):
    """A recursive neural network (module docstring) with a linear readout.

    Parameters
    ----------
    E : array (V, d)
        Leaf embeddings, one row per symbol of the vocabulary.
    W : array (d, k d) for ``combine="concat"`` (arity k), (d, d) for "sum" and "mean"
        Composition weights, row = target unit; columns k d .. (k + 1) d - 1 read child k.
    b : array (d,) or float
        Composition bias.
    W_out, b_out : arrays (n_out, d), (n_out,)
        Readout ``y = W_out h + b_out``.
    combine : {"concat", "sum", "mean"}
    """

    E: np.ndarray
    W: np.ndarray
    b: np.ndarray
    W_out: np.ndarray
    b_out: np.ndarray = 0.0
    combine: str = "concat"

    _params = ("E", "W", "b", "W_out", "b_out")

    def __post_init__(self):
        name = type(self).__name__
        choice(self.combine, f"{name}.combine", tuple(COMBINE))
        E = self._array("E", (None, None))
        V, d = E.shape
        if V == 0 or d == 0:
            raise ValidationError(f"{name}.E", f"has shape {E.shape}; needs at least one "
                                  "symbol and one unit", E)
        W = self._array("W", (d, None))
        if self.combine == "concat" and (W.shape[1] == 0 or W.shape[1] % d):
            raise ValidationError(f"{name}.W", f"has shape {W.shape}; concat needs (d, k d) = "
                                  f"({d}, k * {d}) for arity k", W)
        if self.combine != "concat" and W.shape[1] != d:
            raise ValidationError(f"{name}.W", f"has shape {W.shape}; combine="
                                  f"{self.combine!r} needs ({d}, {d})", W)
        self._array("b", (d,))
        W_out = self._array("W_out", (None, d))
        if W_out.shape[0] == 0:
            raise ValidationError(f"{name}.W_out", "has no rows; the readout needs an output",
                                  W_out)
        self._array("b_out", (W_out.shape[0],))

    def _array(self, fname, shape):
        value = getattr(self, fname)
        if np.ndim(value) == 0 and len(shape) == 1 and shape[0] is not None:
            value = np.broadcast_to(np.asarray(value), shape)  # a scalar bias
        arr = as_array(value, f"{type(self).__name__}.{fname}", shape)
        object.__setattr__(self, fname, arr)
        return arr

    # -- sizes ------------------------------------------------------------------------------
    @property
    def d(self) -> int:
        """Units of a node vector."""
        return self.E.shape[1]

    @property
    def n_symbols(self) -> int:
        return self.E.shape[0]

    @property
    def n_out(self) -> int:
        return self.W_out.shape[0]

    @property
    def arity(self) -> int | None:
        """Children per internal node (``"concat"``), None for ``"sum"``/``"mean"``."""
        return self.W.shape[1] // self.d if self.combine == "concat" else None

    @property
    def n_params(self) -> int:
        return int(sum(np.prod(s) for s in self.param_fields.values()))

    @classmethod
    def random(cls, n_symbols: int, d: int, n_out: int, *, arity: int = 2,
               combine: str = "concat", seed=None) -> "RecursiveNet":
        """Embeddings N(0, 1); W, W_out uniform in +-1/sqrt(fan-in) (PyTorch's default for a
        linear layer); zero biases."""
        V = positive_int(n_symbols, "RecursiveNet.random.n_symbols")
        d = positive_int(d, "RecursiveNet.random.d")
        n_out = positive_int(n_out, "RecursiveNet.random.n_out")
        k = positive_int(arity, "RecursiveNet.random.arity")
        choice(combine, "RecursiveNet.random.combine", tuple(COMBINE))
        rng = check_seed(seed, "RecursiveNet.random.seed")
        cols = k * d if combine == "concat" else d
        return cls(E=rng.standard_normal((V, d)), W=uniform_init(rng, (d, cols), cols ** -0.5),
                   b=np.zeros(d), W_out=uniform_init(rng, (n_out, d), d ** -0.5),
                   b_out=np.zeros(n_out), combine=combine)

    # -- forward -----------------------------------------------------------------------------
    def _check(self, f, where: str) -> None:
        if not isinstance(f, Forest):
            raise ValidationError(where, f"expected a Forest (rnndyn.models.recursive.forest("
                                  f"graphs, symbols)), got {type(f).__name__}", f)
        if len(f.symbols) != self.n_symbols:
            raise ValidationError(where, f"was built with {len(f.symbols)} symbols but E has "
                                  f"{self.n_symbols} rows; build it with the model's vocabulary",
                                  f)
        if self.combine == "concat":
            n_child = np.diff(f.child_ptr)
            bad = np.flatnonzero((f.symbol < 0) & (n_child != self.arity))
            if bad.size:
                i = int(bad[0])
                t = int(np.searchsorted(f.tree_ptr, i, side="right") - 1)
                raise ValidationError(where, f"node {f.nodes[i]!r} of tree {t} has {n_child[i]} "
                                      f"children, but combine='concat' with W of shape "
                                      f"{self.W.shape} takes exactly {self.arity}; use "
                                      "combine='sum' or 'mean' for variable arity", f)

    def _states(self, f) -> np.ndarray:
        H = np.empty((f.n_nodes, self.d))
        rk.recursive_forward(self.E, self.W, self.b, f.symbol, f.child_ptr, f.child_idx,
                             COMBINE[self.combine], H)
        return H

    @front_door()
    def states(self, forest) -> np.ndarray:
        """The vector of every node, (N, d) in the forest's node order."""
        self._check(forest, "forest")
        return self._states(forest)

    @front_door()
    def forward(self, forest, *, at: str = "root") -> np.ndarray:
        """The readout at each tree's root, (n_trees, n_out), or with ``at="nodes"`` at every
        node, (N, n_out) in node order."""
        self._check(forest, "forest")
        choice(at, "at", AT)
        H = self._states(forest)
        if at == "root":
            H = H[forest.roots]
        return H @ self.W_out.T + self.b_out

    __call__ = forward
