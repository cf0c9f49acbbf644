"""Recursive networks over trees and DAGs (rnndyn.models.recursive) and the tree tasks.

Known truth: the forward pass equals a plain-numpy recursion over the networkx graph; BPTS
gradients match central differences of the loss (< 1e-6 relative, float64) for every
composition rule, at the root and at every node, on a DAG with a shared child; a
sub-forest computes what the forest computed for its trees; parity labels are the XOR of
the leaf bits; a net trained on parity trees of depths 1-3 labels held-out depth-4 trees.
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from rnndyn.errors import ValidationError
from rnndyn.models.recursive import Forest, RecursiveNet, forest
from rnndyn.train.recursive import fit, gradient
from rnndyn.tasks.trees import BOOLEAN_OPS, PARITY_SYMBOLS, boolean_trees, parity_trees

SYMBOLS = ("a", "b", "c")


def tree(spec, G=None, counter=None):
    """A DiGraph (edges child -> parent) from nested tuples of leaf symbols."""
    G = nx.DiGraph() if G is None else G
    counter = [0] if counter is None else counter
    v = counter[0]
    counter[0] += 1
    if isinstance(spec, tuple):
        G.add_node(v)
        kids = [tree(s, G, counter)[1] for s in spec]
        for c in kids:
            G.add_edge(c, v)
    else:
        G.add_node(v, symbol=spec)
    return G, v


def dag():
    """Three internal nodes sharing the leaf 1 and the node 'p': edges child -> parent."""
    G = nx.DiGraph()
    G.add_node(0, symbol="a")
    G.add_node(1, symbol="c")
    G.add_node(2, symbol="b")
    G.add_edges_from([(0, "p"), (1, "p"), (1, "q"), (2, "q"), ("p", "r"), ("q", "r")])
    return G


def reference(model, G, symbols):
    """Every node's vector by plain recursion over the graph (children in edge order)."""
    vec = {}
    for v in nx.topological_sort(G):
        kids = [vec[u] for u in G.pred[v]]
        if not kids:
            vec[v] = model.E[symbols.index(G.nodes[v]["symbol"])]
            continue
        x = {"concat": lambda: np.concatenate(kids), "sum": lambda: np.sum(kids, axis=0),
             "mean": lambda: np.mean(kids, axis=0)}[model.combine]()
        vec[v] = np.tanh(model.W @ x + model.b)
    return vec


def binary_forest():
    specs = [("a", "b"), (("a", "c"), "b"), ("c", (("b", "b"), ("a", "c"))), "b"]
    return forest([tree(s)[0] for s in specs], SYMBOLS)


def net(combine="concat", arity=2, d=3, seed=0):
    m = RecursiveNet.random(len(SYMBOLS), d, 2, arity=arity, combine=combine, seed=seed)
    rng = np.random.default_rng(seed + 1)  # nonzero biases: every term of the gradient
    return RecursiveNet(E=m.E, W=m.W, b=rng.normal(0, 0.3, d), W_out=m.W_out,
                        b_out=rng.normal(0, 0.3, 2), combine=combine)


def test_forward_matches_plain_recursion():
    specs = [("a", "b"), (("a", "c"), "b"), ("c", (("b", "b"), ("a", "c"))), "b"]
    graphs = [tree(s)[0] for s in specs]
    f = forest(graphs, SYMBOLS)
    for combine in ("concat", "sum", "mean"):
        m = net(combine)
        Y = m.forward(f)
        assert Y.shape == (4, 2)
        for t, G in enumerate(graphs):
            root = [v for v in G if G.out_degree(v) == 0][0]
            h = reference(m, G, SYMBOLS)[root]
            np.testing.assert_allclose(Y[t], m.W_out @ h + m.b_out, rtol=1e-13, atol=1e-14)
    # a leaf-only tree is its embedding; the DAG and variable arity (sum)
    m = net("sum")
    np.testing.assert_allclose(m.states(f)[f.roots[3]], m.E[1])
    G = dag()
    G.add_node(3, symbol="a")
    G.add_edge(3, "r")  # the root now has three children
    np.testing.assert_allclose(m.states(forest(G, SYMBOLS))[-1], reference(m, G, SYMBOLS)["r"],
                               rtol=1e-13)


def test_child_order_by_position_attribute():
    G = nx.DiGraph()
    G.add_node(0, symbol="a")
    G.add_node(1, symbol="b")
    G.add_edge(1, 2, position=0)  # added first but given position 0 either way
    G.add_edge(0, 2, position=1)
    H = nx.DiGraph()
    H.add_node(1, symbol="b")
    H.add_node(0, symbol="a")
    H.add_edge(1, 2)
    H.add_edge(0, 2)
    m = net()
    np.testing.assert_array_equal(m.forward(forest(G, SYMBOLS)), m.forward(forest(H, SYMBOLS)))
    assert not np.allclose(m.forward(forest(G, SYMBOLS)),
                           m.forward(forest(tree(("a", "b"))[0], SYMBOLS)))


def _fd_check(m, f, T, loss, at, fields=None):
    value, g = gradient(m, f, T, loss, fields, at=at)
    theta = m.to_vector(fields)
    eps = 1e-6
    fd = np.empty_like(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = eps
        up = gradient(m.from_vector(theta + e, fields), f, T, loss, fields, at=at).loss
        down = gradient(m.from_vector(theta - e, fields), f, T, loss, fields, at=at).loss
        fd[i] = (up - down) / (2 * eps)
    assert g.shape == theta.shape
    assert np.abs(g - fd).max() < 1e-6 * np.abs(fd).max()
    return value, g


@pytest.mark.parametrize("combine,arity", [("concat", 2), ("concat", 3), ("sum", 2),
                                           ("mean", 2)])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_bpts_matches_central_differences(combine, arity, loss):
    rng = np.random.default_rng(3)
    if arity == 3:
        specs = [("a", "b", "c"), (("a", "c", "a"), "b", ("c", "c", "b")), "a"]
        f = forest([tree(s)[0] for s in specs], SYMBOLS)
    elif combine == "concat":
        f = forest([tree(s)[0] for s in
                    [("a", "b"), (("a", "c"), "b"), ("c", (("b", "b"), ("a", "c")))]] +
                   [dag()], SYMBOLS)
    else:  # variable arity, a DAG with shared nodes
        G = dag()
        G.add_node(3, symbol="b")
        G.add_edge(3, "r")
        f = forest([G, tree(("a", ("b", "c", "a"), "c"))[0], tree(("b",))[0]], SYMBOLS)
    m = net(combine, arity)
    for at, n in (("root", f.n_trees), ("nodes", f.n_nodes)):
        T = np.eye(2)[rng.integers(0, 2, n)] if loss == "cross_entropy" else \
            rng.normal(size=(n, 2))
        _fd_check(m, f, T, loss, at)


def test_gradient_fields_and_mask():
    f = binary_forest()
    m = net()
    T = np.eye(2)[[0, 1, 1, 0]]
    full = gradient(m, f, T, "cross_entropy")
    part = gradient(m, f, T, "cross_entropy", ["W_out", "E"])
    sizes = {k: int(np.prod(s)) for k, s in m.param_fields.items()}
    off = np.cumsum([0] + list(sizes.values()))
    at = dict(zip(sizes, off))
    np.testing.assert_array_equal(part.gradient, np.concatenate(
        [full.gradient[at["W_out"]:at["W_out"] + sizes["W_out"]],
         full.gradient[at["E"]:at["E"] + sizes["E"]]]))
    _fd_check(m, f, T, "mse", "root", ["W", "b"])
    # a mask: rows outside it may be NaN and do not count
    mask = np.array([True, False, True, True])
    Tn = T.copy()
    Tn[1] = np.nan
    a = gradient(m, f, Tn, "mse", mask=mask)
    b = gradient(m, f.subset([0, 2, 3]), T[[0, 2, 3]], "mse")
    assert a.loss == pytest.approx(b.loss, rel=1e-14)
    np.testing.assert_allclose(a.gradient, b.gradient, rtol=1e-12, atol=1e-15)


def test_subset_is_the_same_computation():
    data = parity_trees(30, (0, 4), seed=2)
    f = forest(data.graphs, data.symbols, labels="label")
    m = RecursiveNet.random(2, 4, 2, seed=1)
    pick = np.array([7, 3, 29, 3, 0])
    sub = f.subset(pick)
    np.testing.assert_array_equal(m.forward(sub), m.forward(f)[pick])
    np.testing.assert_array_equal(sub.labels[sub.roots], data.labels[pick])
    np.testing.assert_array_equal(sub.depth, f.depth[pick])
    again = forest([data.graphs[i] for i in pick], data.symbols, labels="label")
    for name in ("symbol", "child_ptr", "child_idx", "tree_ptr", "height", "labels"):
        np.testing.assert_array_equal(getattr(sub, name), getattr(again, name))
    nodes = m.forward(f, at="nodes")
    _, keep = f._take(pick, "trees")
    np.testing.assert_array_equal(m.forward(sub, at="nodes"), nodes[keep])
    assert not f.symbol.flags.writeable and isinstance(sub, Forest)


def test_vector_round_trip_and_repr():
    m = net("concat", 3)
    theta = m.to_vector()
    assert theta.size == m.n_params == 3 * 3 + 3 * 9 + 3 + 2 * 3 + 2
    back = m.from_vector(theta)
    for name in m.param_fields:
        np.testing.assert_array_equal(getattr(back, name), getattr(m, name))
    assert back.combine == "concat" and back.arity == 3
    assert "RecursiveNet(" in repr(m) and "Forest(4 trees" in repr(binary_forest())


def test_parity_trees():
    data = parity_trees(40, (0, 5), seed=0)
    again = parity_trees(40, (0, 5), seed=0)
    assert all(nx.utils.graphs_equal(a, b) for a, b in zip(data.graphs, again.graphs))
    f = forest(data.graphs, PARITY_SYMBOLS, labels="label")
    assert set(f.depth) <= set(range(6)) and len(set(f.depth)) > 3
    for G, label, h in zip(data.graphs, data.labels, f.depth):
        root = [v for v in G if G.out_degree(v) == 0][0]
        bits = [G.nodes[v]["symbol"] for v in G if G.in_degree(v) == 0]
        assert label == sum(bits) % 2 == G.nodes[root]["label"]
        assert nx.dag_longest_path_length(G) == h
        assert all(G.in_degree(v) in (0, 2) for v in G)
        for v in G:  # every node's label is the parity of the leaves below it
            below = [G.nodes[u]["symbol"] for u in nx.ancestors(G, v) | {v}
                     if G.in_degree(u) == 0]
            assert G.nodes[v]["label"] == sum(below) % 2
    full = parity_trees(5, 3, full=True, seed=1)
    assert all(sum(1 for v in G if G.in_degree(v) == 0) == 8 for G in full.graphs)
    with pytest.raises(ValidationError, match="parity_trees.depth"):
        parity_trees(3, (4, 2))


def evaluate_expression(G, v):
    """Truth value of the subexpression at v by plain recursion: children (op, left, right)."""
    kids = list(G.pred[v])
    if not kids:
        return G.nodes[v]["symbol"]
    op, left, right = kids
    a, b = evaluate_expression(G, left), evaluate_expression(G, right)
    return {"and": a and b, "or": a or b, "xor": a != b, "nand": not (a and b),
            "nor": not (a or b)}[G.nodes[op]["symbol"]]


def test_boolean_trees():
    ops = ("and", "or", "xor", "nand", "nor")
    data = boolean_trees(60, (0, 4), ops=ops, seed=3)
    assert data.symbols == (0, 1) + ops
    f = forest(data.graphs, data.symbols, labels="label")
    assert set(f.depth) == set(range(5))
    for G, label in zip(data.graphs, data.labels):
        root = [v for v in G if G.out_degree(v) == 0][0]
        assert label == int(evaluate_expression(G, root))
        for v in G:
            if G.in_degree(v):  # an operator node: (op, left, right), op a leaf
                op = list(G.pred[v])[0]
                assert G.nodes[op]["symbol"] in ops and G.nodes[op]["label"] == -1
                assert G.nodes[v]["label"] == int(evaluate_expression(G, v))
    # each operator and bit occurs; a ternary concat net takes these trees
    assert set(f.symbol[f.symbol >= 0]) == set(range(2 + len(ops)))
    m = RecursiveNet.random(len(data.symbols), 4, 2, arity=3, seed=0)
    assert m.forward(f).shape == (60, 2)
    assert set(BOOLEAN_OPS) == set(ops)
    with pytest.raises(ValidationError, match="boolean_trees.ops"):
        boolean_trees(3, 2, ops=("and", "implies"))


def test_fit_learns_parity_beyond_training_depth():
    """Trees of depths 1-3 (root labels only); held-out depth-4 trees are labelled right."""
    data = parity_trees(1000, (1, 3), seed=1)
    f = forest(data.graphs, data.symbols)
    test = parity_trees(300, 4, seed=7)
    ft = forest(test.graphs, test.symbols)

    def acc(m):
        return float((m.forward(ft).argmax(axis=1) == test.labels).mean())
    res = fit(RecursiveNet.random(2, 8, 2, seed=0), f, np.eye(2)[data.labels],
              epochs=20, lr=1e-2, seed=0, metric=acc)
    assert len(res.history.loss) == 20 * 32 and len(res.history.metric) == 20
    assert res.history.metric[0] < 0.7  # it starts near chance
    assert acc(res.model) > 0.95
    assert np.mean(res.history.loss[-32:]) < 0.1 * np.mean(res.history.loss[:32])
    # training at every node uses the per-node labels
    fl = forest(data.graphs[:200], data.symbols, labels="label")
    r2 = fit(RecursiveNet.random(2, 8, 2, seed=0), fl, np.eye(2)[fl.labels], at="nodes",
             epochs=2, seed=0)
    assert r2.history.loss[-1] < r2.history.loss[0]


# -- bad input ---------------------------------------------------------------------------------
def test_bad_structures():
    cyc = nx.DiGraph([(0, 1), (1, 2), (2, 0), (2, 3)])
    with pytest.raises(ValidationError, match=r"forest\.graphs\[1\].*cycle"):
        forest([tree(("a", "b"))[0], cyc], SYMBOLS)
    with pytest.raises(ValidationError, match="forest.graphs: the forest is empty"):
        forest([], SYMBOLS)
    G = tree(("a", "d"))[0]
    with pytest.raises(ValidationError, match="leaf 2 has symbol 'd'"):
        forest(G, SYMBOLS)
    G = tree(("a", "b"))[0]
    del G.nodes[1]["symbol"]
    with pytest.raises(ValidationError, match="leaf 1 has symbol None"):
        forest(G, SYMBOLS)
    two = nx.DiGraph([(0, 1), (0, 2)])
    nx.set_node_attributes(two, "a", "symbol")
    with pytest.raises(ValidationError, match="2 roots"):
        forest(two, SYMBOLS)
    G = tree(("a", "b"))[0]
    G.nodes[0]["symbol"] = "and"
    with pytest.raises(ValidationError, match="internal node 0 has symbol"):
        forest(G, SYMBOLS)
    with pytest.raises(ValidationError, match="forest.graphs"):
        forest([nx.Graph([(0, 1)])], SYMBOLS)
    with pytest.raises(ValidationError, match="forest.graphs"):
        forest([nx.DiGraph()], SYMBOLS)
    with pytest.raises(ValidationError, match="forest.symbols"):
        forest(tree(("a", "b"))[0], ["a", "a"])
    with pytest.raises(ValidationError, match="forest.labels|no attribute 'label'"):
        forest(tree(("a", "b"))[0], SYMBOLS, labels="label")
    G = nx.DiGraph()
    G.add_nodes_from([(0, {"symbol": "a"}), (1, {"symbol": "b"})])
    G.add_edge(0, 2, position=0)
    G.add_edge(1, 2)
    with pytest.raises(ValidationError, match="positions"):
        forest(G, SYMBOLS)
    with pytest.raises(ValidationError, match="Forest.subset.trees"):
        binary_forest().subset([4])


def test_bad_arity_and_forest_for_the_model():
    ternary = forest(tree(("a", ("b", "c", "a"), "c"))[0], SYMBOLS)
    m = net("concat", 2)
    with pytest.raises(ValidationError, match=r"RecursiveNet.forward.forest: node 2 of tree 0 "
                                              r"has 3 children.*exactly 2"):
        m.forward(ternary)
    with pytest.raises(ValidationError, match="gradient.forest: .*has 3 children"):
        gradient(m, ternary, np.zeros((1, 2)))
    net("sum").forward(ternary)  # variable arity is fine for sum and mean
    with pytest.raises(ValidationError, match="built with 2 symbols but E has 3 rows"):
        m.forward(forest(tree(("a", "b"))[0], ["a", "b"]))
    with pytest.raises(ValidationError, match="expected a Forest"):
        m.forward([tree(("a", "b"))[0]])
    f = binary_forest()
    with pytest.raises(ValidationError, match=r"gradient.targets: expected shape \(4, 2\)"):
        gradient(m, f, np.zeros((3, 2)))
    with pytest.raises(ValidationError, match="gradient.targets"):
        gradient(m, f, np.full((4, 2), np.nan))
    with pytest.raises(ValidationError, match="gradient.at"):
        gradient(m, f, np.zeros((4, 2)), at="leaves")
    with pytest.raises(ValidationError, match="gradient.loss"):
        gradient(m, f, np.zeros((4, 2)), loss="hinge")
    with pytest.raises(ValidationError, match="fit.epochs"):
        fit(m, f, np.zeros((4, 2)), epochs=0)


def test_bad_parameters():
    m = net()
    E = m.E.copy()
    E[1, 2] = np.nan
    with pytest.raises(ValidationError, match="RecursiveNet.E: must be finite"):
        RecursiveNet(E=E, W=m.W, b=m.b, W_out=m.W_out)
    with pytest.raises(ValidationError, match=r"RecursiveNet.W: has shape \(3, 7\)"):
        RecursiveNet(E=m.E, W=np.zeros((3, 7)), b=0.0, W_out=m.W_out)
    with pytest.raises(ValidationError, match="RecursiveNet.W: .*needs \\(3, 3\\)"):
        RecursiveNet(E=m.E, W=m.W, b=0.0, W_out=m.W_out, combine="sum")
    with pytest.raises(ValidationError, match="RecursiveNet.combine"):
        RecursiveNet(E=m.E, W=m.W, b=0.0, W_out=m.W_out, combine="max")
    with pytest.raises(ValidationError, match="RecursiveNet.b_out"):
        RecursiveNet(E=m.E, W=m.W, b=0.0, W_out=m.W_out, b_out=[1.0, 2.0, 3.0])
    theta = m.to_vector()
    theta[0] = np.inf
    with pytest.raises(ValidationError, match="from_vector.theta"):
        m.from_vector(theta)


@pytest.mark.slow  # ~15 s: the study in quick mode
def test_socher2011_recursive_quick(tmp_path):
    path = Path(__file__).parents[1] / "studies" / "socher2011_recursive.py"
    spec = importlib.util.spec_from_file_location("socher2011_recursive", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    res = mod.run(quick=True, out=tmp_path)
    for ext in ("png", "npz", "json"):
        assert (tmp_path / f"socher2011_recursive.{ext}").exists()
    assert json.loads((tmp_path / "socher2011_recursive.json").read_text()) == res
    # trained on depths 1-3 for 20 epochs: the parity training depths are solved and
    # held-out parity trees one level deeper labelled right (the full run: depths 1-4 -> 5,
    # 5 seeds, every task > 95%); expressions need more than the quick budget
    acc, deeper = res["accuracy"], res["deeper_accuracy_min"]
    assert res["train_depth_accuracy_min"]["parity, concat"] == 1.0
    assert res["train_depth_accuracy_min"]["parity, sum"] == 1.0
    assert deeper["parity, concat"] > 0.95 and deeper["parity, sum"] > 0.95
    assert res["train_depth_accuracy_min"]["expressions, concat"] > 0.95
    assert deeper["expressions, concat"] > 0.9
    assert all(a[-1] > 0.85 for a in acc.values())  # depth 6, twice the training depth
