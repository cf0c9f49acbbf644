"""Tests of rnndyn.graphs: conversion, validation and generators."""
from __future__ import annotations

import math
import os
import tempfile
from decimal import Decimal

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from rnndyn.errors import ValidationError
from rnndyn.graphs import (
    NetworkArrays,
    center_crossing,
    ctrnn_network,
    erdos_renyi,
    from_arrays,
    from_weights,
    fully_connected,
    modular,
    random_network,
    ring,
    save,
    small_world,
    to_arrays,
    to_weights,
    validate_graph,
)

# ~100 examples per property keeps the whole graphs suite well under 20 s
FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def assert_same_graph(G, H):
    """Exact equality: node order, edge order, attribute types and float bits.

    repr() of a float is its shortest round-tripping form, so equal reprs mean equal
    bits (and -0.0 != 0.0); reprs also differ between int/float/numpy scalar types.
    """
    assert type(H) is nx.DiGraph
    assert repr(list(H.nodes(data=True))) == repr(list(G.nodes(data=True)))
    assert repr(list(H.edges(data=True))) == repr(list(G.edges(data=True)))
    assert repr(H.graph) == repr(G.graph)


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float64).view(np.int64)


def assert_same_arrays(a: NetworkArrays, b: NetworkArrays):
    # W/W_in: a -0.0 entry is "no edge" and comes back as +0.0; every other entry
    # (in particular every nonzero weight) must be bit-identical.
    for name in ("W", "W_in"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.shape == y.shape and x.dtype == y.dtype == np.float64
        assert np.array_equal(x, y)
        nz = x != 0
        assert np.array_equal(bits(x)[nz], bits(y)[nz])
    for name in ("tau", "bias", "gain"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype == np.float64
        assert np.array_equal(bits(x), bits(y)), name
    assert a.roles == b.roles and a.nodes == b.nodes and a.input_nodes == b.input_nodes
    assert a.activation == b.activation
    assert repr(a.graph_attrs) == repr(b.graph_attrs)


# ------------------------------------------------------------------ strategies
finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.0, exclude_min=True, allow_infinity=False)
node_id = st.one_of(st.integers(), st.text(max_size=6))
json_value = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), finite, st.text(max_size=6)),
    lambda c: st.one_of(st.lists(c, max_size=3),
                        st.dictionaries(st.text(max_size=4), c, max_size=3)),
    max_leaves=6,
)


@st.composite
def network_arrays(draw):
    """Keyword arguments for from_arrays: any valid network up to 6 units, 3 inputs."""
    n = draw(st.integers(1, 6))
    n_in = draw(st.integers(0, 3))
    weight = st.one_of(st.just(0.0), finite)  # zeros: absent edges
    kw = dict(
        W=draw(hnp.arrays(np.float64, (n, n), elements=weight)),
        W_in=draw(hnp.arrays(np.float64, (n, n_in), elements=weight)),
        tau=draw(hnp.arrays(np.float64, (n,), elements=positive)),
        bias=draw(hnp.arrays(np.float64, (n,), elements=finite)),
        gain=draw(hnp.arrays(np.float64, (n,), elements=finite)),
        roles=tuple(draw(st.lists(st.sampled_from(["hidden", "output"]),
                                  min_size=n, max_size=n))),
        activation=draw(st.sampled_from(["sigmoid", "tanh"])),
        graph_attrs=draw(st.dictionaries(st.text(max_size=6).filter(lambda k: k != "activation"),
                                         json_value, max_size=3)),
    )
    if draw(st.booleans()):  # custom ids; unique_by=str also excludes the 1 / "1" clash
        ids = draw(st.lists(node_id, min_size=n + n_in, max_size=n + n_in, unique_by=str))
        kw["nodes"], kw["input_nodes"] = ids[:n], ids[n:]
    return kw


# ------------------------------------------------------------------ conversion
def example_graph():
    """A hand-built graph: inputs inserted first, some attributes left at defaults."""
    G = nx.DiGraph(name="demo")
    G.add_node("x", role="input")
    G.add_node("h1", tau=2.0, bias=-0.5)
    G.add_node("h2", gain=3, role="hidden")
    G.add_node("out", role="output", tau=0.25)
    G.add_edge("h1", "h2", weight=1.5)   # W[h2, h1]
    G.add_edge("h2", "h1", weight=-2)    # int weights are accepted
    G.add_edge("h2", "out", weight=0.75)
    G.add_edge("out", "out", weight=np.float64(0.1))
    G.add_edge("x", "h1", weight=4.0)    # W_in[h1, x]
    return G


def test_to_arrays_follows_row_target_convention_and_defaults():
    a = to_arrays(example_graph())
    assert a.nodes == ("h1", "h2", "out") and a.input_nodes == ("x",)
    np.testing.assert_array_equal(a.W, [[0, -2, 0], [1.5, 0, 0], [0, 0.75, 0.1]])
    np.testing.assert_array_equal(a.W_in, [[4.0], [0], [0]])
    np.testing.assert_array_equal(a.tau, [2.0, 1.0, 0.25])
    np.testing.assert_array_equal(a.bias, [-0.5, 0.0, 0.0])
    np.testing.assert_array_equal(a.gain, [1.0, 3.0, 1.0])
    assert a.roles == ("hidden", "hidden", "output")
    assert a.activation == "sigmoid" and a.graph_attrs == {"name": "demo"}
    for arr in (a.W, a.W_in, a.tau, a.bias, a.gain):
        assert arr.dtype == np.float64


def test_nodelist_and_inputs_order():
    G = example_graph()
    G.add_node("y", role="input")
    G.add_edge("y", "out", weight=-1.0)
    a = to_arrays(G)
    b = to_arrays(G, nodelist=["out", "h1", "h2"], input_nodes=["y", "x"])
    perm = [2, 0, 1]
    np.testing.assert_array_equal(b.W, a.W[np.ix_(perm, perm)])
    np.testing.assert_array_equal(b.W_in, a.W_in[perm][:, [1, 0]])
    np.testing.assert_array_equal(b.tau, a.tau[perm])
    assert b.nodes == ("out", "h1", "h2") and b.input_nodes == ("y", "x")
    np.testing.assert_array_equal(to_weights(G, nodelist=["out", "h1", "h2"]), b.W)


@pytest.mark.parametrize("nodelist, fragment", [
    (["h1", "h2"], "exactly once"),                    # missing a node
    (["h1", "h2", "out", "out"], "exactly once"),      # duplicate
    (["h1", "h2", "x"], "input node"),                 # an input node is not a state
    (["h1", "h2", "nope"], "not one"),                 # unknown
    (["h1", "h2", ["unhashable"]], "not one"),
])
def test_bad_nodelist(nodelist, fragment):
    with pytest.raises(ValidationError, match=fragment) as e:
        to_arrays(example_graph(), nodelist=nodelist)
    assert e.value.attr == "to_arrays.nodelist"


def test_bad_inputs_order():
    with pytest.raises(ValidationError) as e:
        to_arrays(example_graph(), input_nodes=["h1"])
    assert e.value.attr == "to_arrays.input_nodes"


def test_canonical_round_trip_is_exact():
    W = np.array([[0.0, 0.1, -3e-300], [2.5, 0.0, 0.0], [1 / 3, -7.0, 1e300]])
    G = from_arrays(W, W_in=[[1.0, 0.0], [0.0, -0.2], [0.0, 0.0]], tau=[0.1, 2.0, 1 / 7],
                    bias=[-0.0, 1e-320, 3.0], gain=[1.0, 0.5, 2.0],
                    roles=["hidden", "output", "hidden"], nodes=["a", 7, "c"],
                    input_nodes=["u", "v"], activation="tanh", graph_attrs={"seed": 3, "tag": [1, "x"]})
    a = to_arrays(G)
    H = from_arrays(*a)  # NetworkArrays' field order is from_arrays' parameter order
    assert_same_graph(G, H)
    assert_same_arrays(a, to_arrays(H))
    np.testing.assert_array_equal(a.W, W)
    assert bits(a.bias)[0] == bits(-0.0)  # the sign of zero survives


def test_from_arrays_builds_expected_graph():
    G = from_arrays([[0.0, 2.0], [0.0, -1.0]], W_in=[[0.0], [3.0]])
    assert list(G.nodes) == [0, 1, "in0"]
    assert list(G.edges(data="weight")) == [(1, 0, 2.0), (1, 1, -1.0), ("in0", 1, 3.0)]
    assert G.nodes[0] == {"tau": 1.0, "bias": 0.0, "gain": 1.0, "role": "hidden"}
    assert G.nodes["in0"] == {"role": "input"}
    assert G.graph == {"activation": "sigmoid"}
    for _, _, w in G.edges(data="weight"):
        assert type(w) is float
    # numpy integer ids become plain ints (JSON-serialisable)
    H = from_arrays(np.eye(2), nodes=np.array([5, 6]))
    assert all(type(v) is int for v in H)


def test_zero_weights_make_no_edge():
    W = np.array([[0.0, -0.0], [1.0, 0.0]])
    G = from_weights(W)
    assert list(G.edges) == [(0, 1)]
    np.testing.assert_array_equal(to_weights(G), W)


def test_from_weights_passes_node_attributes():
    G = from_weights(np.ones((2, 2)), nodes=["a", "b"], tau=[1.0, 2.0], bias=0.5,
                     roles=["output", "hidden"], activation="tanh")
    assert G.nodes["b"]["tau"] == 2.0 and G.nodes["a"]["bias"] == 0.5
    assert G.nodes["a"]["role"] == "output" and G.graph["activation"] == "tanh"


@pytest.mark.parametrize("kwargs, attr, fragment", [
    (dict(W=np.ones((2, 3))), "W", "(n, n)"),
    (dict(W=np.ones(3)), "W", "(n, n)"),
    (dict(W=np.ones((0, 0))), "W", "n >= 1"),
    (dict(W=[[1, 2], [3]]), "W", "rectangular"),
    (dict(W=np.array([["a", "b"], ["c", "d"]])), "W", "dtype"),
    (dict(W=np.ones((2, 2), dtype=bool)), "W", "dtype"),
    (dict(W=np.ones((2, 2)) * 1j), "W", "dtype"),
    (dict(W=[[1.0, np.nan], [0, 0]]), "W", "finite"),
    (dict(W=np.eye(2), W_in=np.ones((3, 1))), "W_in", "(n, n_in) = (2, 1)"),
    (dict(W=np.eye(2), W_in=np.ones(2)), "W_in", "2-D"),
    (dict(W=np.eye(2), W_in=[[np.inf], [0]]), "W_in", "finite"),
    (dict(W=np.eye(2), tau=[1.0, 0.0]), "tau", "> 0"),
    (dict(W=np.eye(2), tau=-1.0), "tau", "> 0"),
    (dict(W=np.eye(2), tau=[1.0, 2.0, 3.0]), "tau", "(n,)"),
    (dict(W=np.eye(2), bias=[0.0, np.nan]), "bias", "finite"),
    (dict(W=np.eye(2), gain=[[1.0, 1.0]]), "gain", "(n,)"),
    (dict(W=np.eye(2), roles=["hidden"]), "roles", "length"),
    (dict(W=np.eye(2), roles=["hidden", "input"]), "roles", "'hidden' or 'output'"),
    (dict(W=np.eye(2), nodes=["a", "a"]), "nodes", "duplicate"),
    (dict(W=np.eye(2), nodes=["a"]), "nodes", "2 ids"),
    (dict(W=np.eye(2), nodes=[[1], [2]]), "nodes", "hashable"),
    (dict(W=np.eye(2), W_in=np.ones((2, 1)), nodes=["a", "b"], input_nodes=["a"]), "input_nodes", "distinct"),
    (dict(W=np.eye(2), input_nodes=["u", "v"], W_in=np.ones((2, 1))), "input_nodes", "1 ids"),
    (dict(W=np.eye(2), nodes=[1.5, 2]), "graph.node(1.5)", "str or int"),
    (dict(W=np.eye(2), nodes=[1, "1"]), "graph.node('1')", "collide"),
    (dict(W=np.eye(2), activation="relu"), "activation", "sigmoid"),
    (dict(W=np.eye(2), graph_attrs={"activation": "tanh"}), "graph_attrs", "activation"),
    (dict(W=np.eye(2), graph_attrs=[("a", 1)]), "graph_attrs", "dict"),
])
def test_from_arrays_rejects(kwargs, attr, fragment):
    with pytest.raises(ValidationError) as e:
        from_arrays(**kwargs)
    assert e.value.attr == (attr if "." in attr else f"from_arrays.{attr}")  # paths stay
    assert fragment in str(e.value)


@FAST
@given(network_arrays())
def test_arrays_round_trip_property(kw):
    G = from_arrays(**kw)
    expected = NetworkArrays(
        W=kw["W"], W_in=kw["W_in"], tau=kw["tau"], bias=kw["bias"], gain=kw["gain"],
        roles=kw["roles"], nodes=tuple(kw.get("nodes", range(len(kw["W"])))),
        input_nodes=tuple(kw.get("input_nodes", (f"in{k}" for k in range(kw["W_in"].shape[1])))),
        activation=kw["activation"], graph_attrs=kw["graph_attrs"],
    )
    # custom ids come in any order; to_arrays sorts orderable ids by default, so ask for
    # the order they were given in
    a = to_arrays(G, nodelist=expected.nodes, input_nodes=expected.input_nodes)
    assert_same_arrays(expected, a)
    assert G.number_of_edges() == np.count_nonzero(kw["W"]) + np.count_nonzero(kw["W_in"])
    assert_same_graph(G, from_arrays(*a))


# ------------------------------------------------------------------ validation
def _inputs_only():
    G = nx.DiGraph()
    G.add_nodes_from(["in", "in2"], role="input")
    return G


def _graph(**node_attrs):
    G = nx.DiGraph()
    G.add_node("h3", **node_attrs)
    G.add_node(0)
    G.add_edge(0, "h3", weight=1.0)
    return G


@pytest.mark.parametrize("G, attr, fragment", [
    (nx.Graph([(0, 1)]), "graph", "DiGraph"),
    (nx.MultiDiGraph([(0, 1)]), "graph", "DiGraph"),
    ({0: {1: {}}}, "graph", "DiGraph"),
    (nx.DiGraph(), "graph", "no state node"),
    (_inputs_only(), "graph", "no state node"),
    (_graph(tau=-0.5), "graph.node('h3').tau", "> 0, got -0.5"),
    (_graph(tau=0), "graph.node('h3').tau", "> 0"),
    (_graph(tau="1"), "graph.node('h3').tau", "real number"),
    (_graph(tau=None), "graph.node('h3').tau", "real number"),
    (_graph(tau=np.inf), "graph.node('h3').tau", "finite"),
    (_graph(bias=np.nan), "graph.node('h3').bias", "finite"),
    (_graph(gain=True), "graph.node('h3').gain", "not bool"),
    (_graph(gain=Decimal("1")), "graph.node('h3').gain", "real number"),
    (_graph(bias=10 ** 400), "graph.node('h3').bias", "finite"),
    (_graph(role="Hidden"), "graph.node('h3').role", "one of"),
    (_graph(role=None), "graph.node('h3').role", "one of"),
])
def test_validate_graph_rejects(G, attr, fragment):
    with pytest.raises(ValidationError) as e:
        validate_graph(G)
    assert e.value.attr == attr
    assert fragment in str(e.value)


@pytest.mark.parametrize("weight, fragment", [
    ("1.0", "real number"), (None, "real number"), (1 + 0j, "real number"),
    (True, "not bool"), (np.bool_(False), "not bool"), ([1.0], "real number"),
    (np.array(1.0), "real number"), (np.nan, "finite"), (-np.inf, "finite"),
    (np.float32("inf"), "finite"), (10 ** 400, "finite"),
])
def test_validate_bad_weights(weight, fragment):
    G = nx.DiGraph()
    G.add_edge(0, 1, weight=weight)
    with pytest.raises(ValidationError) as e:
        validate_graph(G)
    assert e.value.attr == "graph.edge(0, 1).weight"
    assert fragment in str(e.value)


def test_validate_missing_weight_edge_into_input_and_activation():
    G = nx.DiGraph([(0, 1)])
    with pytest.raises(ValidationError, match="missing") as e:
        validate_graph(G)
    assert e.value.attr == "graph.edge(0, 1).weight"

    G = nx.DiGraph()
    G.add_node("u", role="input")
    G.add_edge(0, "u", weight=1.0)
    with pytest.raises(ValidationError, match="into input node") as e:
        validate_graph(G)
    assert e.value.attr == "graph.edge(0, 'u')"

    G = from_weights(np.eye(2))
    G.graph["activation"] = "relu"
    with pytest.raises(ValidationError, match="sigmoid") as e:
        validate_graph(G)
    assert e.value.attr == "graph.graph['activation']"


@pytest.mark.parametrize("bad", [(1, 2), 1.0, 0.5, True, False, frozenset(), b"x",
                                 np.int64(3), 2.5j, object()])
def test_validate_bad_node_ids(bad):
    G = nx.DiGraph()
    G.add_node("a")
    G.add_node(bad)
    with pytest.raises(ValidationError, match="str or int"):
        validate_graph(G)


def test_validate_id_collision_and_valid_ids():
    G = nx.DiGraph()
    G.add_nodes_from([1, "1"])
    with pytest.raises(ValidationError, match="collide"):
        validate_graph(G)
    G = nx.DiGraph()
    G.add_nodes_from([1, "a", -5, "", "1.0", 2 ** 80])  # all fine
    validate_graph(G)
    assert validate_graph(example_graph()) is None


BAD_NUMBERS = [math.nan, math.inf, -math.inf, "1.0", "", None, True, False, 1 + 0j,
               complex(math.nan, 0), [1.0], {"v": 1}, np.float32("nan"), np.array(1.0),
               10 ** 400, -(10 ** 400), Decimal("1.5"), np.bool_(True)]
bad_number = st.one_of(st.sampled_from(BAD_NUMBERS), st.text(max_size=4),
                       st.complex_numbers(min_magnitude=1e-3))
bad_tau = st.one_of(bad_number, st.floats(max_value=0.0, allow_nan=False),
                    st.integers(max_value=0))
bad_role = st.one_of(st.text(max_size=8).filter(lambda r: r not in ("input", "hidden", "output")),
                     st.sampled_from([None, 1, ["hidden"], "Hidden", "HIDDEN "]))
BAD_IDS = [(1, 2), 1.5, 0.0, -0.0, True, False, frozenset({1}), b"x", np.int64(3),
           float("nan"), 2j, object(), (), ("a",)]


@st.composite
def bad_graphs(draw):
    """A valid base network with exactly one defect injected."""
    n = draw(st.integers(1, 4))
    W = draw(hnp.arrays(np.float64, (n, n), elements=st.floats(0.5, 2.0)))
    G = from_arrays(W, W_in=np.ones((n, 1)), nodes=[f"s{i}" for i in range(n)],
                    input_nodes=["u"])
    state = [f"s{i}" for i in range(n)]
    edges = list(G.edges)
    kind = draw(st.sampled_from(["weight", "no_weight", "tau", "bias", "gain", "role",
                                 "node_id", "collision", "into_input", "activation",
                                 "empty", "type"]))
    if kind == "weight":
        u, v = draw(st.sampled_from(edges))
        G.edges[u, v]["weight"] = draw(bad_number)
    elif kind == "no_weight":
        u, v = draw(st.sampled_from(edges))
        del G.edges[u, v]["weight"]
    elif kind in ("tau", "bias", "gain"):
        G.nodes[draw(st.sampled_from(state))][kind] = draw(bad_tau if kind == "tau" else bad_number)
    elif kind == "role":
        G.nodes[draw(st.sampled_from(state))]["role"] = draw(bad_role)
    elif kind == "node_id":
        G = nx.relabel_nodes(G, {draw(st.sampled_from(state + ["u"])): draw(st.sampled_from(BAD_IDS))})
    elif kind == "collision":
        k = draw(st.integers(-3, 3))
        G = nx.relabel_nodes(G, {state[0]: k, "u": str(k)} if draw(st.booleans())
                             else {state[0]: str(k), "u": k})
    elif kind == "into_input":
        G.add_edge(draw(st.sampled_from(state + ["u"])), "u", weight=1.0)
    elif kind == "activation":
        G.graph["activation"] = draw(st.one_of(
            st.text(max_size=8).filter(lambda a: a not in ("sigmoid", "tanh")),
            st.sampled_from([None, 1, "Tanh", ["tanh"]])))
    elif kind == "empty":
        G.remove_nodes_from(state)
    else:
        G = draw(st.sampled_from([nx.Graph, nx.MultiDiGraph, nx.MultiGraph,
                                  nx.to_dict_of_dicts, lambda H: list(H.edges),
                                  lambda H: None, lambda H: to_weights(H)]))(G)
    return G


@FAST
@given(bad_graphs())
def test_bad_graphs_always_raise_validation_error(G):
    """Every defect is reported as ValidationError (never KeyError/TypeError/...), by the
    validator and by everything built on it; save writes nothing."""
    with pytest.raises(ValidationError):
        validate_graph(G)
    with pytest.raises(ValidationError):
        to_arrays(G)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "g.json")
        with pytest.raises(ValidationError):
            save(G, path)
        assert os.listdir(d) == []


any_value = st.one_of(finite, st.integers(-10, 10), st.sampled_from(BAD_NUMBERS),
                      st.text(max_size=3), st.floats())


@FAST
@given(weight=any_value, tau=any_value, bias=any_value, gain=any_value,
       role=st.one_of(st.sampled_from(["hidden", "output", "input"]), bad_role))
def test_validation_never_lets_nan_through(weight, tau, bias, gain, role):
    """Arbitrary attribute values: either ValidationError or finite arrays with tau > 0."""
    G = nx.DiGraph()
    G.add_node("a", tau=tau, bias=bias, gain=gain, role=role)
    G.add_node("b")
    G.add_edge("a", "b", weight=weight)
    try:
        a = to_arrays(G)
    except ValidationError:
        return
    for arr in (a.W, a.W_in, a.tau, a.bias, a.gain):
        assert np.all(np.isfinite(arr))
    assert np.all(a.tau > 0)


# ------------------------------------------------------------------ generators
def test_random_network_statistics():
    n, g = 400, 1.5
    W = to_weights(random_network(n, g=g, seed=0))
    off = W[~np.eye(n, dtype=bool)]
    m = off.size                      # n (n - 1) independent N(0, g^2/n) draws
    var = g * g / n
    # Tolerances are 5 standard errors of the estimator (two-sided false-alarm rate
    # < 1e-6 for a random seed): sd(mean) = sqrt(var/m); for Gaussian samples the
    # relative sd of the sample variance is sqrt(2/(m-1)).
    assert abs(off.mean()) < 5 * math.sqrt(var / m)
    assert abs(off.var(ddof=1) / var - 1) < 5 * math.sqrt(2 / (m - 1))
    assert np.all(np.diag(W) == 0)
    assert np.count_nonzero(off) == m  # p = 1: every ordered pair i != j
    # Circular law: eigenvalues fill the disc of radius g; at n = 400 the finite-size
    # spread of the largest modulus is a few percent, 10% is a comfortable bound.
    rho = np.abs(np.linalg.eigvals(W)).max()
    assert abs(rho - g) < 0.1 * g


def test_random_network_sparse_statistics():
    n, g, p = 300, 1.2, 0.2
    G = random_network(n, g=g, p=p, seed=1)
    W = to_weights(G)
    m = n * (n - 1)
    E = G.number_of_edges()
    # edge count ~ Binomial(m, p): 5 standard deviations
    assert abs(E - p * m) < 5 * math.sqrt(m * p * (1 - p))
    w = W[W != 0]
    var = g * g / (p * n)  # so that each row's variance sums to ~g^2
    assert abs(w.var(ddof=1) / var - 1) < 5 * math.sqrt(2 / (E - 1))
    assert abs(w.mean()) < 5 * math.sqrt(var / E)
    assert np.all(np.diag(W) == 0)
    rho = np.abs(np.linalg.eigvals(W)).max()
    assert abs(rho - g) < 0.15 * g


def test_random_network_attributes_and_options():
    G = random_network(20, seed=3)
    assert G.graph["activation"] == "tanh"
    assert list(G.nodes) == list(range(20))
    assert all(d == {"tau": 1.0, "bias": 0.0, "gain": 1.0, "role": "hidden"}
               for _, d in G.nodes(data=True))
    W = to_weights(random_network(50, self_connections=True, seed=3))
    assert np.count_nonzero(np.diag(W)) == 50
    assert random_network(3, g=0.0, seed=0).number_of_edges() == 0
    assert random_network(1, seed=0).number_of_edges() == 0
    assert random_network(4, activation="sigmoid", seed=0).graph["activation"] == "sigmoid"


def _edges(G):
    return repr(list(G.edges(data=True)))


GENERATORS = {
    "random_network": lambda s: random_network(30, p=0.3, seed=s),
    "erdos_renyi": lambda s: erdos_renyi(30, 0.2, seed=s),
    "small_world": lambda s: small_world(30, 4, 0.3, seed=s),
    "ring": lambda s: ring(30, 2, seed=s),
    "modular": lambda s: modular(3, 10, 0.5, 0.05, seed=s),
    "fully_connected": lambda s: fully_connected(10, seed=s),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_reproducible_and_valid(name):
    make = GENERATORS[name]
    G = make(0)
    validate_graph(G)
    assert _edges(G) == _edges(make(0))
    assert _edges(G) == _edges(make(np.random.default_rng(0)))  # int seed == Generator(seed)
    assert _edges(G) != _edges(make(1))
    assert G.graph["activation"] == ("tanh" if name == "random_network" else "sigmoid")
    assert _edges(from_arrays(*to_arrays(G))) == _edges(G)


def test_erdos_renyi():
    n, p = 200, 0.1
    G = erdos_renyi(n, p, seed=0)
    m = n * (n - 1)
    assert abs(G.number_of_edges() - p * m) < 5 * math.sqrt(m * p * (1 - p))
    assert nx.number_of_selfloops(G) == 0
    w = np.array([d for _, _, d in G.edges(data="weight")])
    # default weights N(0, scale^2/n): 5-standard-error bound on the variance
    assert abs(w.var(ddof=1) * n - 1) < 5 * math.sqrt(2 / (w.size - 1))
    G = erdos_renyi(50, 0.3, weight=0.5, seed=0)
    assert {d for _, _, d in G.edges(data="weight")} == {0.5}
    w = np.array([d for _, _, d in erdos_renyi(200, 0.1, scale=3.0, seed=0).edges(data="weight")])
    assert abs(w.std(ddof=1) * math.sqrt(200) / 3.0 - 1) < 0.05
    assert erdos_renyi(5, 0.0, seed=0).number_of_edges() == 0
    assert erdos_renyi(5, 1.0, seed=0).number_of_edges() == 20


def test_small_world():
    n, k = 40, 4
    lattice = small_world(n, k, 0.0, weight=1.0)
    assert lattice.number_of_edges() == n * k  # k neighbours, both directions
    assert all(lattice.has_edge(i, (i + d) % n) and lattice.has_edge((i + d) % n, i)
               for i in range(n) for d in (1, 2))
    G = small_world(n, k, 0.5, seed=2)
    assert G.number_of_edges() == n * k      # rewiring keeps the edge count
    assert all(G.has_edge(v, u) for u, v in G.edges)  # every link in both directions
    assert nx.number_of_selfloops(G) == 0


def test_ring():
    G = ring(5, weight=1.0)
    assert sorted(G.edges) == [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)]
    np.testing.assert_array_equal(to_weights(G), np.roll(np.eye(5), 1, axis=0))  # W[i, i-1] = 1
    G = ring(6, 2, bidirectional=True, seed=0)
    assert G.number_of_edges() == 24
    assert ring(4, 2, bidirectional=True, weight=1.0).number_of_edges() == 12  # i+2 == i-2
    assert ring(3, 1, weight=2.0).edges[0, 1]["weight"] == 2.0


def test_modular():
    G = modular(4, 5, 1.0, 0.0, seed=0)
    W = to_weights(G)
    blocks = np.kron(np.eye(4), np.ones((5, 5))) - np.eye(20)
    np.testing.assert_array_equal(W != 0, blocks != 0)
    assert [G.nodes[i]["module"] for i in range(20)] == [i // 5 for i in range(20)]
    G = modular(2, 100, 0.3, 0.02, seed=1)
    module = np.arange(200) // 100
    same = module[:, None] == module[None, :]
    W = to_weights(G) != 0
    m_in, m_out = same.sum() - 200, (~same).sum()
    assert abs(W[same].sum() - 0.3 * m_in) < 5 * math.sqrt(m_in * 0.3 * 0.7)
    assert abs(W[~same].sum() - 0.02 * m_out) < 5 * math.sqrt(m_out * 0.02 * 0.98)


def test_fully_connected():
    assert fully_connected(6, seed=0).number_of_edges() == 36
    G = fully_connected(6, self_connections=False, weight=-1.0)
    np.testing.assert_array_equal(to_weights(G), -(np.ones((6, 6)) - np.eye(6)))


@pytest.mark.parametrize("call, attr", [
    (lambda: random_network(0), "n"),
    (lambda: random_network(2.0), "n"),
    (lambda: random_network(True), "n"),
    (lambda: random_network(5, g=-1), "g"),
    (lambda: random_network(5, g=np.nan), "g"),
    (lambda: random_network(5, p=0.0), "p"),
    (lambda: random_network(5, p=1.5), "p"),
    (lambda: random_network(5, activation="relu"), "activation"),
    (lambda: erdos_renyi(5, -0.1), "p"),
    (lambda: erdos_renyi(5, 0.5, weight=0.0), "weight"),
    (lambda: erdos_renyi(5, 0.5, weight="1"), "weight"),
    (lambda: erdos_renyi(5, 0.5, scale=0.0), "scale"),
    (lambda: small_world(5, 6, 0.1), "k"),
    (lambda: small_world(5, 5, 0.1), "k"),
    (lambda: small_world(5, 2, 2.0), "p"),
    (lambda: ring(1), "n"),
    (lambda: ring(4, 4), "k"),
    (lambda: ring(4, 0), "k"),
    (lambda: modular(0, 3, 0.5, 0.1), "n_modules"),
    (lambda: modular(2, 3, 0.5, 1.1), "p_out"),
    (lambda: fully_connected(0), "n"),
])
def test_generator_argument_errors(call, attr):
    with pytest.raises(ValidationError) as e:
        call()
    assert e.value.attr.split(".") == [e.value.attr.split(".")[0], attr]


# ------------------------------------------------------------------ center crossing
def test_center_crossing_two_neuron_oscillator():
    # MODELS.md (Beer 1995; Mathayomchan & Beer 2002): W = [[4.5, 1], [-1, 4.5]]
    # has center-crossing biases theta = (-2.75, -1.75).
    G = ctrnn_network([[4.5, 1.0], [-1.0, 4.5]])
    H = center_crossing(G)
    assert [H.nodes[i]["bias"] for i in (0, 1)] == [-2.75, -1.75]
    assert [G.nodes[i]["bias"] for i in (0, 1)] == [0.0, 0.0]  # input graph unchanged
    assert _edges(H) == _edges(G)


@given(hnp.arrays(np.float64, (5, 5), elements=st.floats(-10, 10)))
@settings(max_examples=50, deadline=None)
def test_center_crossing_formula(W):
    G = ctrnn_network(W, W_in=np.ones((5, 2)) * 3.0, tau=2.0)  # inputs must not count
    a = to_arrays(center_crossing(G))
    np.testing.assert_allclose(a.bias, -W.sum(axis=1) / 2, rtol=0, atol=1e-12)
    # sigma(y + theta) = 1/2 at y = -theta: with all outputs 1/2 the net input to
    # unit i, sum_j W[i, j] / 2, equals -theta_i, i.e. each unit sits at its centre.
    np.testing.assert_allclose(W @ np.full(5, 0.5) + a.bias, 0.0, atol=1e-12)
    np.testing.assert_array_equal(a.tau, 2.0)


def test_center_crossing_requires_sigmoid():
    with pytest.raises(ValidationError, match="sigmoid"):
        center_crossing(random_network(4, seed=0))  # tanh network
    with pytest.raises(ValidationError):
        center_crossing(nx.Graph())


def test_ctrnn_network():
    G = ctrnn_network(np.array([[0.0, 2.0], [1.0, 0.0]]), tau=[1.0, 3.0], bias=-1.0, gain=2.0,
                      W_in=[[0.5], [0.0]], output=[1], activation="tanh")
    a = to_arrays(G)
    np.testing.assert_array_equal(a.tau, [1.0, 3.0])
    np.testing.assert_array_equal(a.bias, [-1.0, -1.0])
    np.testing.assert_array_equal(a.gain, [2.0, 2.0])
    assert a.roles == ("hidden", "output") and a.input_nodes == ("in0",)
    assert G.has_edge("in0", 0) and not G.has_edge("in0", 1)
    assert G.has_edge(1, 0) and G.edges[1, 0]["weight"] == 2.0
    assert a.activation == "tanh"
    for bad in ([2], [-1], [0.5], [True]):
        with pytest.raises(ValidationError) as e:
            ctrnn_network(np.eye(2), output=bad)
        assert e.value.attr == "ctrnn_network.output"
    with pytest.raises(ValidationError) as e:
        ctrnn_network(np.eye(2), tau=0.0)
    assert e.value.attr == "ctrnn_network.tau"
