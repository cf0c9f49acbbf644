"""Regression tests for bugs reported by a new user and a fuzzer: graph files (symlinks,
special files, stale temporary files, odd paths and ids), saving models and populations,
the unit order of ``to_arrays``, and the robustness of the on-disk kernel cache."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnndyn as rd
from rnndyn import _jit
from rnndyn.errors import ValidationError
from rnndyn.graphs import from_arrays, load, save, to_arrays

ROOT = Path(__file__).resolve().parent.parent
posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX file types and signals")


def small_graph():
    return from_arrays([[0.0, 1.5], [-2.0, 0.5]], W_in=[[1.0], [0.0]], roles=["hidden", "output"],
                       activation="tanh")


def same(G, H):
    return (repr(list(G.nodes(data=True))) == repr(list(H.nodes(data=True)))
            and repr(list(G.edges(data=True))) == repr(list(H.edges(data=True)))
            and repr(G.graph) == repr(H.graph))


# ================================================================== 1. save: targets and paths
@posix_only
def test_save_through_symlink_writes_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.json"
    save(from_arrays(np.eye(2)), target)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    G = small_graph()
    save(G, link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert same(load(target), G)
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]  # no temp left


@posix_only
def test_save_through_dangling_symlink_creates_the_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "new.json")
    save(small_graph(), link)
    assert link.is_symlink() and same(load(tmp_path / "new.json"), small_graph())


@posix_only
def test_save_refuses_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(ValidationError) as e:
        save(small_graph(), fifo)
    assert e.value.attr == "save.path" and "FIFO" in str(e.value) and "regular file" in str(e.value)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["pipe"]


@posix_only
def test_save_refuses_a_device_node(tmp_path):
    # a private copy of /dev/null (never the real one: as root the bug replaced it)
    dev = tmp_path / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, AttributeError, OSError):
        pytest.skip("cannot create a device node here (needs root)")
    with pytest.raises(ValidationError) as e:
        save(small_graph(), dev)
    assert e.value.attr == "save.path" and "device" in str(e.value)
    assert stat.S_ISCHR(os.lstat(dev).st_mode)
    # and through a symlink to it
    link = tmp_path / "link"
    link.symlink_to(dev)
    with pytest.raises(ValidationError, match="device"):
        save(small_graph(), link)
    assert stat.S_ISCHR(os.lstat(dev).st_mode) and link.is_symlink()


@posix_only
def test_save_refuses_symlink_to_directory(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "d")
    with pytest.raises(ValidationError, match="directory") as e:
        save(small_graph(), tmp_path / "link")
    assert e.value.attr == "save.path"


@pytest.mark.parametrize("path", ["", "sub/", "missing/", "."])
def test_save_rejects_empty_and_directory_like_paths(tmp_path, monkeypatch, path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    with pytest.raises(ValidationError) as e:
        save(small_graph(), path)
    assert e.value.attr == "save.path" and repr(path) in str(e.value)
    assert sorted(os.listdir(tmp_path)) == ["sub"] and os.listdir(tmp_path / "sub") == []


@pytest.mark.parametrize("where", ["node", "node_attr", "edge_attr", "graph_attr", "key"])
def test_lone_surrogate_is_a_validation_error(tmp_path, where):
    G = small_graph()
    bad = "\ud800"
    if where == "node":
        G.add_node(bad)
    elif where == "node_attr":
        G.nodes[0]["label"] = ["ok", bad]
    elif where == "edge_attr":
        G.edges[1, 0]["note"] = bad
    elif where == "graph_attr":
        G.graph["name"] = {"x": bad}
    else:
        G.nodes[0][bad] = 1.0
    with pytest.raises(ValidationError) as e:
        save(G, tmp_path / "g.json")
    assert "surrogate" in str(e.value) and "\\ud800" in str(e.value)
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ stale temporary files
def _old(path, age=3600):
    t = time.time() - age
    os.utime(path, (t, t))


def test_stale_temp_files_of_the_target_are_removed(tmp_path):
    p = tmp_path / "g.json"
    stale = tmp_path / ".g.json.abcd1234.tmp"
    fresh = tmp_path / ".g.json.zzzz9999.tmp"        # a concurrent save in progress
    other = tmp_path / ".h.json.abcd1234.tmp"         # another target's
    unrelated = tmp_path / ".g.json.notours.tmp.bak"
    for f in (stale, fresh, other, unrelated):
        f.write_text("{")
    for f in (stale, other, unrelated):
        _old(f)
    save(small_graph(), p)
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["g.json", fresh.name, other.name, unrelated.name])


def test_locked_temp_file_of_a_live_saver_is_kept(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    tmp = tmp_path / ".g.json.abcd1234.tmp"
    tmp.write_text("{")
    _old(tmp)
    with open(tmp, "rb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a (slow) saver still writing
        save(small_graph(), tmp_path / "g.json")
        assert tmp.exists()
    save(small_graph(), tmp_path / "g.json")  # lock released: now it is stale
    assert os.listdir(tmp_path) == ["g.json"]


CHILD_SAVE = """
import sys, time
import rnndyn.graphs.io as gio
from rnndyn.graphs import from_arrays
def slow_fsync(fd):
    print("writing", flush=True)
    time.sleep(120)
gio.os.fsync = slow_fsync
gio.save(from_arrays([[0.0, 1.0], [1.0, 0.0]]), sys.argv[1])
"""


@posix_only
def test_sigkill_during_save_leaves_no_temp_file_forever(tmp_path):
    p = tmp_path / "g.json"
    save(small_graph(), p)
    before = p.read_bytes()
    child = subprocess.Popen([sys.executable, "-c", CHILD_SAVE, str(p)], cwd=ROOT,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "writing"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
        child.stdout.close()
    left = [f for f in os.listdir(tmp_path) if f != "g.json"]
    assert len(left) == 1 and left[0].startswith(".g.json.") and left[0].endswith(".tmp")
    assert p.read_bytes() == before  # the target itself was never touched
    save(small_graph(), p)  # unlocked but young: could be a saver that just closed it
    assert (tmp_path / left[0]).exists()
    _old(tmp_path / left[0])  # a minute later it is stale
    save(small_graph(), p)
    assert os.listdir(tmp_path) == ["g.json"]


# ================================================================== 2. models and populations
def ctrnn(seed, n=3, n_in=1):
    rng = np.random.default_rng(seed)
    return rd.CTRNN(W=rng.normal(size=(n, n)), W_in=rng.normal(size=(n, n_in)),
                    tau=rng.uniform(0.5, 2, n), bias=rng.normal(size=n),
                    gain=rng.uniform(0.5, 2, n), outputs=(n - 1,))


def assert_same_ctrnn(a, b):
    for f in ("W", "W_in", "tau", "bias", "gain"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert a.outputs == b.outputs and a.activation == b.activation


def test_save_a_model(tmp_path):
    net = ctrnn(0)
    save(net, tmp_path / "net.json")
    G = load(tmp_path / "net.json")
    assert isinstance(G, nx.DiGraph) and same(G, net.to_graph())
    assert_same_ctrnn(rd.CTRNN.from_graph(G), net)


def test_save_a_population_as_one_file_and_rebuild_it(tmp_path):
    nets = [ctrnn(s) for s in range(4)]
    pop = rd.CTRNN.stack(nets)
    p = tmp_path / "pop.json"
    save(pop, p)
    doc = json.loads(p.read_text(encoding="utf-8"))
    assert doc["format"] == "rnndyn.graph" and doc["schema_version"] == 1
    assert "graph" not in doc and len(doc["graphs"]) == 4
    graphs = load(p)
    assert isinstance(graphs, list) and len(graphs) == 4
    for G, net in zip(graphs, nets):
        assert same(G, net.to_graph())
    back = rd.CTRNN.stack([rd.CTRNN.from_graph(g) for g in graphs])
    assert back.P == 4
    assert_same_ctrnn(back, pop)


def test_save_a_list_of_graphs_and_load_it_back(tmp_path):
    gs = [small_graph(), from_arrays(np.eye(3), nodes=["a", "b", "c"])]
    save(gs, tmp_path / "gs.json")
    out = load(tmp_path / "gs.json")
    assert isinstance(out, list) and len(out) == 2
    assert all(same(a, b) for a, b in zip(gs, out))
    save(out, tmp_path / "again.json")  # what load returns can be saved again
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "gs.json").read_bytes()


class _DuckPopulation:
    """Not an rnndyn model: save only relies on .P, [k] and to_graph()."""

    def __init__(self, graphs):
        self.graphs, self.P = graphs, len(graphs)

    def __getitem__(self, k):
        g = self.graphs[k]
        return type("One", (), {"P": None, "to_graph": lambda self: g})()


def test_save_duck_typed_population(tmp_path):
    save(_DuckPopulation([small_graph(), small_graph()]), tmp_path / "p.json")
    assert len(load(tmp_path / "p.json")) == 2


@pytest.mark.parametrize("obj, attr, fragment", [
    (object(), "graph", "to_graph"),
    ([], "graph", "empty"),
    ([small_graph(), 3], "graph[1]", "to_graph"),
    ([small_graph(), nx.Graph([(0, 1)])], "graph[1]", "DiGraph"),
])
def test_save_rejects_what_is_not_a_graph(tmp_path, obj, attr, fragment):
    with pytest.raises(ValidationError) as e:
        save(obj, tmp_path / "g.json")
    assert e.value.attr == attr and fragment in str(e.value)
    assert os.listdir(tmp_path) == []


def test_save_population_names_the_bad_member(tmp_path):
    gs = [small_graph(), small_graph()]
    gs[1].nodes[0]["tau"] = -1.0
    with pytest.raises(ValidationError) as e:
        save(gs, tmp_path / "g.json")
    assert e.value.attr == "graph[1].node(0).tau"


@pytest.mark.parametrize("edit, attr", [
    (lambda d: d.__setitem__("graph", d["graphs"][0]), "file"),
    (lambda d: d.__setitem__("graphs", {}), "file['graphs']"),
    (lambda d: d.__setitem__("graphs", []), "file['graphs']"),
    (lambda d: d["graphs"][1].__setitem__("directed", False), "file['graphs'][1]"),
    (lambda d: d["graphs"][1]["nodes"][0].__setitem__("tau", -1.0), "graph[1].node(0).tau"),
])
def test_load_rejects_malformed_multi_graph_files(tmp_path, edit, attr):
    p = tmp_path / "g.json"
    save([small_graph(), small_graph()], p)
    doc = json.loads(p.read_text(encoding="utf-8"))
    edit(doc)
    p.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ValidationError) as e:
        load(p)
    assert e.value.attr == attr and str(p) in str(e.value)


# ================================================================== 3. unit order, warnings
def test_from_graph_with_unsorted_int_ids_keeps_the_users_matrix():
    J = np.array([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0], [0.0, 4.0, 5.0]])
    G = nx.DiGraph(activation="sigmoid")
    for i in (2, 0, 1):  # nodes added in a non-sorted order
        G.add_node(i, role="hidden")
    for i, j in zip(*np.nonzero(J)):
        G.add_edge(int(j), int(i), weight=float(J[i, j]))  # edge j -> i carries W[i, j]
    a = to_arrays(G)
    assert a.nodes == (0, 1, 2)
    np.testing.assert_array_equal(a.W, J)
    np.testing.assert_array_equal(rd.CTRNN.from_graph(G).W, J)


def test_default_order_rules():
    G = nx.DiGraph(activation="tanh")
    G.add_nodes_from(["h2", "h10", "h1"], role="hidden")
    G.add_nodes_from([3, 1], role="input")
    G.add_edge(3, "h1", weight=1.0)
    G.add_edge(1, "h10", weight=2.0)
    a = to_arrays(G)
    assert a.nodes == ("h1", "h2", "h10")  # digit runs compare as numbers
    assert a.input_nodes == (1, 3)
    np.testing.assert_array_equal(a.W_in, [[0.0, 1.0], [0.0, 0.0], [2.0, 0.0]])
    # ids that cannot be compared with each other: insertion order
    H = nx.DiGraph(activation="tanh")
    H.add_nodes_from(["b", 2, "a", 1], role="hidden")
    assert to_arrays(H).nodes == ("b", 2, "a", 1)
    # an explicit nodelist always wins
    assert to_arrays(G, nodelist=["h10", "h2", "h1"]).nodes == ("h10", "h2", "h1")


def test_many_default_input_names_keep_their_order():
    W_in = np.arange(1.0, 13.0)[None, :]  # 12 inputs: "in0" ... "in11"
    a = to_arrays(from_arrays([[0.5]], W_in=W_in))
    assert a.input_nodes == tuple(f"in{k}" for k in range(12))
    np.testing.assert_array_equal(a.W_in, W_in)


def test_warns_about_source_node_without_role():
    G = nx.DiGraph(activation="sigmoid")
    G.add_edge("x", "h", weight=1.0)  # x: out-edges only, no role
    with pytest.warns(UserWarning, match="role") as rec:
        to_arrays(G)
    msg = str(rec[0].message)
    assert "'x'" in msg and "role='input'" in msg
    G.nodes["x"]["role"] = "hidden"  # stated explicitly: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_arrays(G)


def test_warns_about_missing_activation():
    G = nx.DiGraph()
    G.add_node(0, role="hidden")
    with pytest.warns(UserWarning, match="activation") as rec:
        net = rd.CTRNN.from_graph(G)
    assert "'sigmoid'" in str(rec[0].message) and net.activation == "sigmoid"
    assert rec[0].filename == __file__  # points at the caller, not inside rnndyn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_arrays(small_graph())
        rd.CTRNN.from_graph(ctrnn(1).to_graph())


# ================================================================== 4. kernel cache
CACHE_SCRIPT = """
import numpy as np, rnndyn as rd
net = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]]).center_crossing()
for m in ("euler", "rk4"):
    tr = rd.simulate(net, [0.1, -0.2], np.linspace(0, 1, 5), dt=0.1, method=m)
    print(m, repr(tr.y.tolist()))
"""


def run_cache_script(cache, check=True):
    env = dict(os.environ, RNNDYN_CACHE_DIR=str(cache))
    env.pop("NUMBA_DISABLE_JIT", None)
    done = subprocess.run([sys.executable, "-c", CACHE_SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def warm_cache(tmp_path_factory):
    """A kernel cache filled by one run, and that run's output."""
    cache = tmp_path_factory.mktemp("warm")
    out = run_cache_script(cache).stdout
    assert "euler" in out
    return cache, out


def flow_module(cache):
    mods = sorted((cache / "kernels").glob("_rnndyn_flow_template_*.py"),
                  key=lambda f: f.stat().st_mtime)
    assert mods
    return mods[-1]


def numba_files(module, suffix):
    files = sorted((module.parent / "__pycache__").glob(f"{module.stem}.*{suffix}"))
    assert files
    return files


@pytest.fixture
def cache(tmp_path, warm_cache):
    shutil.copytree(warm_cache[0], tmp_path / "c")  # copy2 keeps mtimes: numba's stamps hold
    return tmp_path / "c", warm_cache[1]


@pytest.mark.parametrize("damage", ["edit", pytest.param("truncate", marks=pytest.mark.slow),
                                    pytest.param("garbage", marks=pytest.mark.slow)])
def test_damaged_generated_module_is_rewritten(cache, damage):
    cache, expected = cache
    mod = flow_module(cache)
    good = mod.read_bytes()
    if damage == "truncate":
        mod.write_bytes(good[: len(good) // 2])
    elif damage == "garbage":
        mod.write_bytes(b"\x00\xff not python (")
    else:  # still valid Python, silently wrong: euler steps twice as far
        edited = good.replace(b"y[i] += h * k1[i]", b"y[i] += 2.0 * h * k1[i]")
        assert edited != good
        mod.write_bytes(edited)
    assert run_cache_script(cache).stdout == expected
    assert mod.read_bytes() == good


@pytest.mark.parametrize("suffix, damage", [
    (".nbi", "truncate"), pytest.param(".nbi", "garbage", marks=pytest.mark.slow),
    pytest.param(".nbc", "truncate", marks=pytest.mark.slow)])
def test_corrupted_numba_cache_files_are_dropped(cache, suffix, damage):
    cache, expected = cache
    for f in numba_files(flow_module(cache), suffix):
        data = f.read_bytes()
        f.write_bytes(data[:7] if damage == "truncate" else b"\x80\x05garbage" * 3)
    assert run_cache_script(cache).stdout == expected
    assert run_cache_script(cache).stdout == expected  # and the cache works again


FALLBACK_SCRIPT = """
import warnings
warnings.simplefilter("always")
import numpy as np, rnndyn as rd
net = rd.CTRNN(W=[[4.5, 1.0], [-1.0, 4.5]]).center_crossing()
pop = rd.CTRNN.stack([net, net])
for m in ("euler", "rk4"):
    print(m, repr(rd.simulate(net, [0.1, -0.2], np.linspace(0, 1, 5), dt=0.1, method=m).y.tolist()))
rd.simulate(pop, np.zeros(2), np.linspace(0, 1, 5), dt=0.1)
"""


@pytest.mark.parametrize("kind", ["file", pytest.param("under_file", marks=pytest.mark.slow),
                                  pytest.param("kernels_is_file", marks=pytest.mark.slow),
                                  "read_only"])
def test_unusable_cache_dir_falls_back_to_memory_with_one_warning(tmp_path, warm_cache, kind):
    if kind == "file":
        root = tmp_path / "afile"
        root.write_text("x")
    elif kind == "under_file":
        (tmp_path / "afile").write_text("x")
        root = tmp_path / "afile" / "sub"
    elif kind == "kernels_is_file":
        root = tmp_path / "c"
        root.mkdir()
        (root / "kernels").write_text("x")
    else:
        if os.name != "posix" or os.geteuid() == 0:
            pytest.skip("root (or Windows) can write to a read-only directory")
        root = tmp_path / "ro"
        root.mkdir()
        os.chmod(root, 0o555)
    env = dict(os.environ, RNNDYN_CACHE_DIR=str(root))
    done = subprocess.run([sys.executable, "-c", FALLBACK_SCRIPT], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if kind == "read_only":
        os.chmod(root, 0o755)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [l for l in done.stdout.splitlines() if l.startswith(("euler", "rk4"))]
    assert lines == warm_cache[1].splitlines()
    assert done.stderr.count("Warning: rnndyn kernel cache") == 1, done.stderr
    assert "RNNDYN_CACHE_DIR" in done.stderr


def test_cache_hash_covers_an_explicit_dependency_list():
    pkg = Path(_jit.__file__).resolve().parent
    from rnndyn.models import _ctrnn_kernels

    deps = {Path(f).resolve() for f in _jit._dependencies(
        pkg / "integrate" / "_flow_template.py", [_ctrnn_kernels.__file__])}
    must = {pkg / "integrate" / "_flow_template.py", pkg / "models" / "_ctrnn_kernels.py",
            pkg / "models" / "_base_kernels.py", pkg / "_kernels.py",
            pkg / "_config.py"}
    assert must <= deps, must - deps
    # kernel files the template does not use do not void its cache
    assert pkg / "analysis" / "_lyapunov_kernels.py" not in deps
    assert pkg / "models" / "_gated_kernels.py" not in deps
    assert not any(f.name == "__init__.py" for f in deps)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.data())
def test_default_order_is_a_consistent_permutation(n, data):
    """Whatever the insertion order, to_arrays' default order only relabels the units:
    W, W_in and the node parameters are permuted together, and ``nodes`` says how."""
    ids = data.draw(st.one_of(
        st.lists(st.integers(-50, 50), min_size=n + 1, max_size=n + 1, unique=True),
        st.lists(st.text("ab01", max_size=3), min_size=n + 1, max_size=n + 1, unique=True)))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    W, W_in = rng.normal(size=(n, n)), rng.normal(size=(n, 1))
    tau = rng.uniform(0.5, 2.0, n)
    G = from_arrays(W, W_in=W_in, tau=tau, nodes=ids[:n], input_nodes=ids[n:], activation="tanh")
    a = to_arrays(G)
    perm = [ids.index(v) for v in a.nodes]
    assert sorted(perm) == list(range(n))
    np.testing.assert_array_equal(a.W, W[np.ix_(perm, perm)])
    np.testing.assert_array_equal(a.W_in, W_in[perm])
    np.testing.assert_array_equal(a.tau, tau[perm])
    if all(isinstance(v, int) for v in ids[:n]):
        assert list(a.nodes) == sorted(ids[:n])
