"""Tests of rnndyn.graphs.io: versioned JSON save/load."""
from __future__ import annotations

import copy
import json
import os
import stat
import tempfile

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnndyn.graphs.io as gio
from rnndyn.errors import ValidationError
from rnndyn.graphs import (
    ctrnn_network,
    from_arrays,
    load,
    modular,
    random_network,
    save,
    small_world,
    to_arrays,
)

# ~100 examples per property keeps the whole graphs suite well under 20 s
FAST = settings(max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def assert_same_graph(G, H):
    """Exact equality: node/edge order, attribute types and float bits (via repr)."""
    assert type(H) is nx.DiGraph
    assert repr(list(H.nodes(data=True))) == repr(list(G.nodes(data=True)))
    assert repr(list(H.edges(data=True))) == repr(list(G.edges(data=True)))
    assert repr(H.graph) == repr(G.graph)


def roundtrip(G, path):
    save(G, path)
    return load(path)


def example():
    G = ctrnn_network([[4.5, 1.0], [-1.0, 4.5]], tau=[1.0, 0.1 + 0.2], bias=[-2.75, -1.75],
                      W_in=[[1 / 3], [0.0]], output=[1])
    G.graph["description"] = "Beer (1995) oscillator, ünïcode ok"
    G.graph["meta"] = {"seed": 3, "list": [1, 2.5, None, True, {"x": "y"}]}
    G.nodes[0]["label"] = "left"
    G.edges[0, 1]["plastic"] = False
    return G


# ------------------------------------------------------------------ round trips
@pytest.mark.parametrize("make", [
    example,
    lambda: random_network(50, p=0.3, seed=0),
    lambda: small_world(20, 4, 0.2, seed=1),
    lambda: modular(3, 4, 0.8, 0.1, seed=2),       # extra int node attribute "module"
    lambda: from_arrays(np.array([[5e-324, -1e308], [np.pi, -0.0]]), nodes=["a", 10**20],
                        bias=[-0.0, 1e-310]),
], ids=["example", "random", "small_world", "modular", "extreme_floats"])
def test_save_load_exact(tmp_path, make):
    G = make()
    H = roundtrip(G, tmp_path / "g.json")
    assert_same_graph(G, H)


def test_file_layout(tmp_path):
    p = tmp_path / "g.json"
    save(example(), p)
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert doc["format"] == "rnndyn.graph"
    assert doc["schema_version"] == 1
    assert isinstance(doc["rnndyn_version"], str) and doc["rnndyn_version"]
    assert doc["graph"]["directed"] is True and doc["graph"]["multigraph"] is False
    assert {"source": "in0", "target": 0, "weight": 1 / 3} in doc["graph"]["edges"]
    assert os.listdir(tmp_path) == ["g.json"]  # no temp file left behind


def test_numpy_scalars_saved_as_python_values(tmp_path):
    G = from_arrays(np.eye(2))
    G.nodes[0]["tau"] = np.float32(0.1)
    G.nodes[1]["count"] = np.int64(7)
    G.graph["flag"] = np.bool_(True)
    H = roundtrip(G, tmp_path / "g.json")
    assert H.nodes[0]["tau"] == float(np.float32(0.1))  # exact float32 value, as a float
    assert H.nodes[1]["count"] == 7 and type(H.nodes[1]["count"]) is int
    assert H.graph["flag"] is True


@FAST
@given(n=st.integers(1, 5), n_in=st.integers(0, 2), data=st.data())
def test_random_arrays_round_trip_through_file(n, n_in, data):
    finite = st.floats(allow_nan=False, allow_infinity=False)
    w = st.one_of(st.just(0.0), finite)
    ids = data.draw(st.lists(st.one_of(st.integers(), st.text(max_size=5)),
                             min_size=n + n_in, max_size=n + n_in, unique_by=str))
    G = from_arrays(
        data.draw(hnp.arrays(np.float64, (n, n), elements=w)),
        W_in=data.draw(hnp.arrays(np.float64, (n, n_in), elements=w)),
        tau=data.draw(hnp.arrays(np.float64, (n,), elements=st.floats(
            min_value=0.0, exclude_min=True, allow_infinity=False))),
        bias=data.draw(hnp.arrays(np.float64, (n,), elements=finite)),
        gain=data.draw(hnp.arrays(np.float64, (n,), elements=finite)),
        roles=data.draw(st.lists(st.sampled_from(["hidden", "output"]), min_size=n, max_size=n)),
        nodes=ids[:n], input_nodes=ids[n:],
        activation=data.draw(st.sampled_from(["sigmoid", "tanh"])),
        graph_attrs={"note": data.draw(st.text(max_size=8)), "x": data.draw(finite)},
    )
    with tempfile.TemporaryDirectory() as d:
        H = roundtrip(G, os.path.join(d, "g.json"))
    assert_same_graph(G, H)
    a, b = to_arrays(G), to_arrays(H)
    for name in ("W", "W_in", "tau", "bias", "gain"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    assert a[5:] == b[5:]  # roles, nodes, inputs, activation, graph_attrs


# ------------------------------------------------------------------ save errors
@pytest.mark.parametrize("mutate, fragment", [
    (lambda G: G.graph.__setitem__("t", (1, 2)), "use a list"),
    (lambda G: G.graph.__setitem__("s", {1, 2}), "cannot be saved"),
    (lambda G: G.graph.__setitem__("d", {1: "a"}), "keys must be str"),
    (lambda G: G.graph.__setitem__("x", float("nan")), "finite"),
    (lambda G: G.graph.__setitem__("a", np.zeros(2)), "cannot be saved"),
    (lambda G: G.nodes[0].__setitem__("id", 5), "reserved"),
    (lambda G: G.edges[0, 1].__setitem__("source", 5), "reserved"),
    (lambda G: G.nodes[0].__setitem__("obj", object()), "cannot be saved"),
    (lambda G: G.edges[0, 1].__setitem__("weight", np.nan), "finite"),
])
def test_save_rejects_unsaveable_graphs(tmp_path, mutate, fragment):
    G = example()
    mutate(G)
    with pytest.raises(ValidationError, match=fragment):
        save(G, tmp_path / "g.json")
    assert os.listdir(tmp_path) == []


def test_save_rejects_circular_attribute(tmp_path):
    G = example()
    loop = []
    loop.append(loop)
    G.graph["loop"] = loop
    with pytest.raises(ValidationError, match="circular"):
        save(G, tmp_path / "g.json")


def test_save_bad_paths(tmp_path):
    with pytest.raises(ValidationError) as e:
        save(example(), tmp_path / "missing_dir" / "g.json")
    assert e.value.attr == "save.path" and "does not exist" in str(e.value)
    with pytest.raises(ValidationError) as e:
        save(example(), tmp_path)
    assert e.value.attr == "save.path" and "directory" in str(e.value)
    with pytest.raises(ValidationError) as e:
        save(example(), 3.5)
    assert e.value.attr == "save.path"


# ------------------------------------------------------------------ atomicity
def test_invalid_graph_leaves_old_file_intact(tmp_path):
    p = tmp_path / "g.json"
    save(example(), p)
    before = p.read_bytes()
    bad = example()
    bad.nodes[0]["tau"] = -1.0
    with pytest.raises(ValidationError):
        save(bad, p)
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["g.json"]
    assert_same_graph(example(), load(p))


@pytest.mark.parametrize("target", ["replace", "fsync", "chmod"])
def test_failure_while_writing_leaves_old_file_intact(tmp_path, monkeypatch, target):
    p = tmp_path / "g.json"
    save(example(), p)
    before = p.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk on fire")

    monkeypatch.setattr(gio.os, target, boom)
    with pytest.raises(OSError, match="disk on fire"):
        save(random_network(5, seed=0), p)
    monkeypatch.undo()
    assert p.read_bytes() == before
    assert os.listdir(tmp_path) == ["g.json"]  # the temp file was removed


def test_save_keeps_permissions_of_existing_file(tmp_path):
    p = tmp_path / "g.json"
    save(example(), p)
    os.chmod(p, 0o640)
    save(example(), p)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o640


# ------------------------------------------------------------------ load errors
def _valid_doc():
    G = ctrnn_network([[1.0, -2.0], [0.5, 0.0]], W_in=[[1.0], [0.0]], output=[1])
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "g.json")
        save(G, p)
        with open(p, encoding="utf-8") as f:
            text = f.read()
    return text, json.loads(text)


VALID_TEXT, VALID_DOC = _valid_doc()


def _write(path, content):
    if isinstance(content, str):
        content = content.encode("utf-8")
    with open(path, "wb") as f:
        f.write(content)


def test_load_missing_file(tmp_path):
    with pytest.raises(ValidationError) as e:
        load(tmp_path / "nope.json")
    assert e.value.attr == "load.path" and "no such file" in str(e.value)
    with pytest.raises(ValidationError) as e:
        load(tmp_path)
    assert e.value.attr == "load.path"


def test_load_newer_schema_says_upgrade(tmp_path):
    doc = copy.deepcopy(VALID_DOC)
    doc["schema_version"] = 2
    p = tmp_path / "g.json"
    _write(p, json.dumps(doc))
    with pytest.raises(ValidationError, match="upgrade rnndyn") as e:
        load(p)
    assert e.value.attr == "file['schema_version']"


@pytest.mark.parametrize("edit, attr", [
    (lambda d: d.pop("schema_version"), "file['schema_version']"),
    (lambda d: d.__setitem__("schema_version", "1"), "file['schema_version']"),
    (lambda d: d.__setitem__("schema_version", True), "file['schema_version']"),
    (lambda d: d.__setitem__("schema_version", 0), "file['schema_version']"),
    (lambda d: d.__setitem__("format", "networkx"), "file['format']"),
    (lambda d: d.pop("format"), "file['format']"),
    (lambda d: d.pop("graph"), "file['graph']"),
    (lambda d: d["graph"].__setitem__("directed", False), "file['graph']"),
    (lambda d: d["graph"]["nodes"].append(dict(d["graph"]["nodes"][0])), "file['graph']['nodes'][3]"),
    (lambda d: d["graph"]["nodes"][0].pop("id"), "file['graph']['nodes'][0]"),
    (lambda d: d["graph"]["edges"][0].__setitem__("target", 99), "file['graph']['edges'][0]"),
    (lambda d: d["graph"]["edges"].append(dict(d["graph"]["edges"][0])), "file['graph']['edges'][4]"),
    (lambda d: d["graph"]["edges"][0].__setitem__("weight", "1"), "graph.edge(0, 0).weight"),
    (lambda d: d["graph"]["nodes"][1].__setitem__("tau", 0), "graph.node(1).tau"),
])
def test_load_rejects_malformed_documents(tmp_path, edit, attr):
    doc = copy.deepcopy(VALID_DOC)
    edit(doc)
    p = tmp_path / "g.json"
    _write(p, json.dumps(doc))
    with pytest.raises(ValidationError) as e:
        load(p)
    assert e.value.attr == attr
    assert str(p) in str(e.value)  # the message says which file


@pytest.mark.parametrize("text", [
    VALID_TEXT.replace('"weight": 1.0', '"weight": NaN', 1),
    VALID_TEXT.replace('"weight": 1.0', '"weight": Infinity', 1),
    VALID_TEXT.replace('"weight": 1.0', '"weight": 1e999', 1),
    VALID_TEXT.replace('"weight": 1.0', '"weight": ' + "9" * 5000, 1),
    "[" * 100000,
    "",
    b"\xff\xfe garbage",
])
def test_load_rejects_bad_json(tmp_path, text):
    p = tmp_path / "g.json"
    _write(p, text)
    with pytest.raises(ValidationError) as e:
        load(p)
    assert e.value.attr == "load.path"


# hypothesis: corrupt files of every kind raise ValidationError and nothing else
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(),
                        st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))
json_value = st.recursive(json_scalar, lambda c: st.one_of(
    st.lists(c, max_size=3), st.dictionaries(st.text(max_size=4), c, max_size=3)), max_leaves=8)
bad_weight = st.one_of(st.text(max_size=4), st.none(), st.booleans(), st.lists(json_scalar, max_size=2),
                       st.dictionaries(st.text(max_size=3), json_scalar, max_size=2),
                       st.sampled_from([10 ** 400, -(10 ** 400)]))
bad_id = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                   st.lists(json_scalar, max_size=2), st.dictionaries(st.text(max_size=3), json_scalar))


@st.composite
def corrupt_documents(draw):
    """A valid document with one defect that must make it unloadable."""
    doc = copy.deepcopy(VALID_DOC)
    g = doc["graph"]
    kind = draw(st.sampled_from([
        "top", "format", "version_new", "version_bad", "drop_key", "graph_payload",
        "payload_flags", "payload_field", "node", "node_id", "edge_end", "weight",
        "tau", "role", "into_input", "duplicate_node", "duplicate_edge", "activation"]))
    if kind == "top":
        return draw(json_value.filter(lambda v: not isinstance(v, dict)))
    if kind == "format":
        doc["format"] = draw(json_value.filter(lambda v: v != "rnndyn.graph"))
    elif kind == "version_new":
        doc["schema_version"] = draw(st.integers(min_value=2))
    elif kind == "version_bad":
        doc["schema_version"] = draw(st.one_of(
            st.integers(max_value=0), st.text(max_size=3), st.none(), st.booleans(),
            st.floats(allow_nan=False, allow_infinity=False), st.lists(json_scalar, max_size=2)))
    elif kind == "drop_key":
        del doc[draw(st.sampled_from(["format", "schema_version", "graph"]))]
    elif kind == "graph_payload":
        doc["graph"] = draw(json_value.filter(lambda v: not isinstance(v, dict)))
    elif kind == "payload_flags":
        key = draw(st.sampled_from(["directed", "multigraph"]))
        good = g[key]
        g[key] = draw(json_value.filter(lambda v: v is not good))
    elif kind == "payload_field":
        key = draw(st.sampled_from(["graph", "nodes", "edges"]))
        want = dict if key == "graph" else list
        g[key] = draw(json_value.filter(lambda v: not isinstance(v, want)))
    elif kind == "node":
        g["nodes"][draw(st.integers(0, 2))] = draw(json_value.filter(
            lambda v: not (isinstance(v, dict) and "id" in v)))
    elif kind == "node_id":
        g["nodes"][draw(st.integers(0, 2))]["id"] = draw(bad_id)
    elif kind == "edge_end":
        e = g["edges"][draw(st.integers(0, len(g["edges"]) - 1))]
        e[draw(st.sampled_from(["source", "target"]))] = draw(st.one_of(
            bad_id, st.integers(min_value=2), st.text(max_size=4).filter(lambda s: s != "in0")))
    elif kind == "weight":
        e = g["edges"][draw(st.integers(0, len(g["edges"]) - 1))]
        if draw(st.booleans()):
            del e["weight"]
        else:
            e["weight"] = draw(bad_weight)
    elif kind == "tau":
        g["nodes"][draw(st.integers(0, 1))]["tau"] = draw(st.one_of(
            bad_weight, st.floats(max_value=0.0, allow_nan=False, allow_infinity=False),
            st.integers(max_value=0)))
    elif kind == "role":
        g["nodes"][draw(st.integers(0, 2))]["role"] = draw(json_value.filter(
            lambda v: v not in ("input", "hidden", "output")))
    elif kind == "into_input":
        g["edges"].append({"source": draw(st.sampled_from([0, 1])), "target": "in0", "weight": 1.0})
    elif kind == "duplicate_node":
        g["nodes"].append(dict(draw(st.sampled_from(g["nodes"]))))
    elif kind == "duplicate_edge":
        g["edges"].append(dict(draw(st.sampled_from(g["edges"]))))
    else:
        g["graph"]["activation"] = draw(json_value.filter(lambda v: v not in ("sigmoid", "tanh")))
    return doc


def _load_bytes(content: bytes):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "g.json")
        _write(p, content)
        return load(p)


@FAST
@given(corrupt_documents())
def test_corrupt_documents_raise_validation_error(doc):
    with pytest.raises(ValidationError):
        _load_bytes(json.dumps(doc).encode())


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_raise_validation_error(content):
    with pytest.raises(ValidationError):
        _load_bytes(content)


@FAST
@given(st.integers(0, len(VALID_TEXT.rstrip()) - 1))
def test_truncated_file_raises_validation_error(cut):
    # any prefix that loses the closing brace is invalid JSON
    with pytest.raises(ValidationError) as e:
        _load_bytes(VALID_TEXT[:cut].encode())
    assert e.value.attr == "load.path"


def test_valid_text_loads():
    G = _load_bytes(VALID_TEXT.encode())
    assert G.number_of_nodes() == 3 and G.edges["in0", 0]["weight"] == 1.0
