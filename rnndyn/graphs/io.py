"""Versioned JSON files for network graphs, models and populations.

File layout (schema version 1), one graph::

    {"format": "rnndyn.graph", "schema_version": 1, "rnndyn_version": "0.1.0",
     "graph": <networkx.node_link_data(G, edges="edges")>}

or several graphs (a population, or a list of graphs), same header::

    {"format": "rnndyn.graph", "schema_version": 1, "rnndyn_version": "0.1.0",
     "graphs": [<node-link data>, <node-link data>, ...]}

:func:`load` returns a :class:`networkx.DiGraph` for the first kind and a list of them
for the second. (rnndyn releases that predate the ``"graphs"`` variant reject such a file
with "file['graph']: is missing".) A population saved with ``save(pop, path)`` is rebuilt
with ``CTRNN.stack([CTRNN.from_graph(g) for g in load(path)])`` (any model family with
``from_graph`` and ``stack`` likewise).

Floats are written with ``repr`` and so read back bit-identical; NaN/inf are never
written or accepted. Saving is atomic: the file is written to a temporary file
``.<name>.<random>.tmp`` in the target's directory, flushed to disk, then renamed over
the target, so a failed save leaves any existing file untouched. A temporary file left
by a killed process is removed by a later save to the same target once it is older than
:data:`STALE_TEMP_SECONDS` and (where ``fcntl`` exists) no live saver holds its lock.
"""
from __future__ import annotations

import importlib.metadata
import json
import math
import os
import re
import stat
import sys
import tempfile
import time

try:
    import fcntl
except ImportError:  # Windows: stale temporary files are recognised by their age alone
    fcntl = None

import networkx as nx
import numpy as np

from .._atomic import resolve_target
from .._validate import front_door
from ..errors import ValidationError
from .validate import validate_graph

__all__ = ["save", "load", "FORMAT", "SCHEMA_VERSION", "STALE_TEMP_SECONDS"]

FORMAT = "rnndyn.graph"
SCHEMA_VERSION = 1
#: age (seconds since the last write) after which an unlocked ``.<name>.<random>.tmp``
#: file next to a save target counts as left behind by a killed save, and is removed
STALE_TEMP_SECONDS = 60.0


def _rnndyn_version() -> str:
    # Read lazily, at save time: graphs/ must not import the top-level package.
    v = getattr(sys.modules.get("rnndyn"), "__version__", None)
    if isinstance(v, str):
        return v
    try:
        return importlib.metadata.version("rnndyn")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------- save
_NUMPY_SCALARS = (np.integer, np.floating, np.bool_)


def _check_json(value, where: str, stack: set) -> None:
    """Reject values whose JSON round trip would not be exact (or would fail).

    json silently turns tuples into lists and int dict keys into strings, so those are
    errors here rather than surprises after ``load``.
    """
    if value is None or isinstance(value, (bool, str, int, np.integer, np.bool_)):
        return
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(value):
            raise ValidationError(where, f"must be finite to be saved, got {value!r}", value)
        return
    if isinstance(value, (list, dict)):
        if id(value) in stack:
            raise ValidationError(where, "contains itself (circular reference)", value)
        stack.add(id(value))
        if isinstance(value, list):
            for i, item in enumerate(value):
                _check_json(item, f"{where}[{i}]", stack)
        else:
            for k, item in value.items():
                if not isinstance(k, str):
                    raise ValidationError(
                        where, f"dict keys must be str to be saved as JSON, got {k!r}", value
                    )
                _check_json(item, f"{where}[{k!r}]", stack)
        stack.discard(id(value))
        return
    hint = " (use a list)" if isinstance(value, tuple) else ""
    raise ValidationError(
        where,
        f"{type(value).__name__} {value!r} cannot be saved exactly as JSON{hint}; "
        "use None, bool, int, float, str, list or dict with str keys",
        value,
    )


def _check_attrs(data: dict, where, stack: set) -> None:
    # Fast path for the common flat case (str keys, float/int/str values), which keeps
    # saving a million-edge graph cheap; anything else gets the full recursive check.
    for k, v in data.items():
        t = type(v)
        if type(k) is str and (t is str or t is int or (t is float and v - v == 0)):
            continue  # v - v == 0 is False for nan and +-inf
        _check_json(data, where(), stack)
        return


def _check_saveable(G, where: str = "graph") -> None:
    stack: set = set()
    _check_json(G.graph, f"{where}.graph", stack)
    for n, data in G.nodes(data=True):
        if "id" in data:
            raise ValidationError(
                f"{where}.node({n!r})", "attribute 'id' is reserved for the node id in the file; rename it",
                data["id"],
            )
        _check_attrs(data, lambda: f"{where}.node({n!r})", stack)
    for u, v, data in G.edges(data=True):
        if "source" in data or "target" in data:
            key = "source" if "source" in data else "target"
            raise ValidationError(
                f"{where}.edge({u!r}, {v!r})",
                f"attribute {key!r} is reserved for the edge endpoints in the file; rename it",
                data[key],
            )
        _check_attrs(data, lambda: f"{where}.edge({u!r}, {v!r})", stack)


def _bad_text(value):
    """The first str in ``value`` (dict keys included) that UTF-8 cannot encode, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            bad = _bad_text(k)
            if bad is None:
                bad = _bad_text(v)
            if bad is not None:
                return bad
    elif isinstance(value, list):
        for v in value:
            bad = _bad_text(v)
            if bad is not None:
                return bad
    return None


def _unencodable_error(graphs, labels, err: UnicodeEncodeError) -> ValidationError:
    """Say where the string that UTF-8 cannot encode (a lone surrogate) is."""
    def error(where, s, what):
        i = next(i for i, ch in enumerate(s) if 0xD800 <= ord(ch) <= 0xDFFF)
        return ValidationError(
            where,
            f"{what} {s!r} contains a lone surrogate ({s[i]!r} at index {i}), which UTF-8 "
            "cannot encode; use valid Unicode text (such strings usually come from bytes "
            "decoded with errors='surrogateescape': decode them with their real encoding) "
            "or relabel the node (nx.relabel_nodes)",
            s,
        )

    for G, where in zip(graphs, labels):
        bad = _bad_text(G.graph)
        if bad is not None:
            return error(f"{where}.graph", bad, "graph attribute text")
        for n, data in G.nodes(data=True):
            if _bad_text(n) is not None:
                return error(f"{where}.node({n!r})", n, "node id")
            bad = _bad_text(data)
            if bad is not None:
                return error(f"{where}.node({n!r})", bad, "attribute text")
        for u, v, data in G.edges(data=True):
            bad = _bad_text(data)
            if bad is not None:
                return error(f"{where}.edge({u!r}, {v!r})", bad, "attribute text")
    return ValidationError("graph", f"cannot be encoded as UTF-8 ({err}); use valid Unicode text",
                           graphs)


def _json_default(obj):
    if isinstance(obj, _NUMPY_SCALARS):  # np.float32, np.int64, ...: exact as Python scalars
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _payload_lines(g: dict, enc, pad: str) -> list:
    """Lines of one node-link payload, from its "{" to its closing "}" (indented by pad)."""
    lines = ["{"]
    lines += [f"{pad} {enc(k)}: {enc(v)}," for k, v in g.items() if k not in ("nodes", "edges")]
    # the id / endpoints first in each record, then the attributes in their own order
    nodes = [enc({"id": d["id"], **{k: v for k, v in d.items() if k != "id"}}) for d in g["nodes"]]
    edges = [enc({"source": d["source"], "target": d["target"],
                  **{k: v for k, v in d.items() if k not in ("source", "target")}})
             for d in g["edges"]]
    for key, items, sep in (("nodes", nodes, ","), ("edges", edges, "")):
        body = f"\n{pad}  " + f",\n{pad}  ".join(items) + f"\n{pad} " if items else ""
        lines.append(f'{pad} "{key}": [{body}]{sep}')
    lines.append(f"{pad}}}")
    return lines


def _dumps(doc: dict) -> str:
    """JSON text with one node / edge per line (readable, diff-friendly, still plain JSON)."""
    # one encoder for all records: json.dumps would build a new one per call
    enc = json.JSONEncoder(allow_nan=False, default=_json_default, ensure_ascii=False).encode

    lines = ["{"]
    lines += [f" {enc(k)}: {enc(v)}," for k, v in doc.items() if k not in ("graph", "graphs")]
    if "graph" in doc:
        first, *rest = _payload_lines(doc["graph"], enc, " ")
        lines.append(f' "graph": {first}')
        lines += rest
    else:
        lines.append(' "graphs": [')
        for k, g in enumerate(doc["graphs"]):
            payload = _payload_lines(g, enc, "  ")
            payload[0] = "  " + payload[0]
            if k < len(doc["graphs"]) - 1:
                payload[-1] += ","
            lines += payload
        lines.append(" ]")
    lines.append("}")
    return "\n".join(lines)


def _umask() -> int:
    # os.umask can only be read by setting it; restored at once (not thread-safe for
    # files created by other threads in this instant, an accepted trade-off)
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _member_error(e: ValidationError, where: str) -> ValidationError:
    """``e`` re-labelled for list member ``where`` ("graph[k]"): graph.node(0) -> graph[k].node(0)."""
    attr = e.attr
    if attr == "graph" or attr.startswith(("graph.", "graph(")):
        attr = where + attr[len("graph"):]
    return ValidationError(attr, str(e)[len(e.attr) + 2:], e.obj)


def _one_graph(obj, where: str):
    """A graph as is, or a single model's ``to_graph()`` (duck typing: graphs/ never imports
    models/)."""
    if isinstance(obj, nx.Graph):
        return obj
    to_graph = getattr(obj, "to_graph", None)
    if callable(to_graph) and getattr(obj, "P", None) is None:
        return to_graph()
    raise ValidationError(
        where,
        f"must be a networkx.DiGraph, a model with to_graph(), a population (an object with "
        f"P and model[k]) or a list of graphs/models, got {type(obj).__name__}",
        obj,
    )


def _collect(obj) -> tuple[list, list, bool]:
    """(graphs, their labels for messages, whether the file holds a list of graphs)."""
    if isinstance(obj, nx.Graph):
        return [obj], ["graph"], False
    if isinstance(obj, (list, tuple)):
        if not obj:
            raise ValidationError("graph", "got an empty list; pass at least one graph or model",
                                  obj)
        labels = [f"graph[{k}]" for k in range(len(obj))]
        return [_one_graph(m, w) for m, w in zip(obj, labels)], labels, True
    P = getattr(obj, "P", None)
    if P is not None and hasattr(obj, "__getitem__"):  # a population: obj[k] are single models
        if isinstance(P, bool) or not isinstance(P, (int, np.integer)) or P < 1:
            raise ValidationError("graph", f"is a population with P = {P!r}; P must be an "
                                  "int >= 1", obj)
        labels = [f"graph[{k}]" for k in range(int(P))]
        return [_one_graph(obj[k], w) for k, w in enumerate(labels)], labels, True
    return [_one_graph(obj, "graph")], ["graph"], False


def _remove_stale_temps(folder: str, name: str) -> None:
    """Delete ``.<name>.<8 random chars>.tmp`` files left in ``folder`` by a killed save.

    A file is stale when it was last written more than STALE_TEMP_SECONDS ago and (with
    fcntl) nobody holds its lock: a live saver keeps its temporary file locked until the
    rename, so two concurrent saves never delete each other's file.
    """
    pattern = re.compile(re.escape(f".{name}.") + r"[a-z0-9_]{8}\.tmp")
    now = time.time()
    try:
        entries = [e for e in os.scandir(folder) if pattern.fullmatch(e.name)]
    except OSError:
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_TEMP_SECONDS:
                continue
            if fcntl is None:
                os.unlink(entry.path)
                continue
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # locked: a save in progress
                if os.fstat(fd).st_ino == os.lstat(entry.path).st_ino:
                    os.unlink(entry.path)
            finally:
                os.close(fd)
        except OSError:  # vanished meanwhile, not ours to delete, ...: leave it
            continue


@front_door()
def save(G, path) -> None:
    """Write a graph, a model or a population to ``path`` as versioned JSON, atomically.

    Parameters
    ----------
    G : networkx.DiGraph, model, population, or list of these
        A valid network graph. Every attribute value must be a JSON value (None, bool,
        int, finite float, str with valid Unicode, list, dict with str keys; numpy
        scalars are written as their Python equivalents) so that :func:`load` returns an
        equal graph. A single model (any object with a ``to_graph()`` method and ``P``
        None or absent, e.g. a ``CTRNN``) is saved as ``G.to_graph()``. A population
        (``P`` an int, ``G[k]`` a single model) or a list/tuple of graphs or models is
        saved as ONE file holding a list of graphs, which :func:`load` returns as a list;
        rebuild a population with ``CTRNN.stack([CTRNN.from_graph(g) for g in load(path)])``.
    path : str or os.PathLike
        Target file; its directory must exist. A symlink is followed: the file it points
        to is written and the link stays a link. An existing file is replaced only once
        the new content is completely on disk (and keeps its permission bits).

    Returns
    -------
    None

    Raises
    ------
    ValidationError
        If ``G`` is invalid (see :func:`validate_graph`; members of a list are named
        ``graph[k]``), holds a value JSON cannot represent exactly or a string with a lone
        surrogate, uses a reserved attribute name (node ``id``, edge
        ``source``/``target``), is neither a graph nor a model; or if ``path`` is empty,
        ends with a separator, is a directory, a FIFO, a device or a socket, or is in a
        missing directory. Nothing is written then.
    OSError
        If writing fails for another reason (permissions, disk full); the temporary
        file is removed and an existing file at ``path`` is left as it was.
    """
    real, st = resolve_target(path)
    graphs, labels, many = _collect(G)
    for H, where in zip(graphs, labels):
        try:
            validate_graph(H)
            _check_saveable(H, "graph")
        except ValidationError as e:
            raise (_member_error(e, where) if many else e) from None
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "rnndyn_version": _rnndyn_version(),
    }
    payloads = [nx.node_link_data(H, edges="edges") for H in graphs]
    if many:
        doc["graphs"] = payloads
    else:
        doc["graph"] = payloads[0]
    # Serialise fully before touching the file system: a failure here writes nothing.
    try:
        text = _dumps(doc)
    except (TypeError, ValueError) as e:  # backstop; _check_saveable should catch these first
        raise ValidationError("graph", f"cannot be written as JSON: {e}", G) from None
    try:
        data = (text + "\n").encode("utf-8")
    except UnicodeEncodeError as e:
        raise _unencodable_error(graphs, labels, e) from None

    target_dir, name = os.path.split(real)
    mode = st.st_mode & 0o7777 if st is not None else 0o666 & ~_umask()
    _remove_stale_temps(target_dir, name)
    fd, tmp = tempfile.mkstemp(dir=target_dir, prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            if fcntl is not None:
                try:  # marks the file as in use for _remove_stale_temps of other savers
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                except OSError:  # e.g. a file system without locks: the age rule remains
                    pass
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            if os.name == "posix":  # rename while still locked (POSIX renames open files)
                os.replace(tmp, real)
        if os.name != "posix":
            os.replace(tmp, real)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


# ---------------------------------------------------------------------------- load
def _reject_constant(name):
    raise ValidationError("path", f"contains {name}, which is not valid JSON; only finite numbers are allowed")


def _parse_float(text):
    x = float(text)
    if not math.isfinite(x):  # e.g. 1e999 overflows to inf
        raise ValidationError("path", f"contains the number {text[:40]}, which overflows a float")
    return x


def _is_id(v) -> bool:
    return isinstance(v, (str, int)) and not isinstance(v, bool)


def _graph_from_payload(payload, where: str, path: str) -> nx.DiGraph:
    """Build a DiGraph from node-link data, rejecting anything malformed.

    Unlike nx.node_link_graph this refuses edges to unlisted nodes and duplicate nodes
    or edges, which would otherwise be silently added or merged.
    """
    def bad(sub, msg, obj=None):
        return ValidationError(f"{where}{sub}", f"{msg} (in {path!r})", obj)

    if not isinstance(payload, dict):
        raise bad("", f"must be an object (node-link data), got {type(payload).__name__}")
    if payload.get("directed") is not True or payload.get("multigraph") is not False:
        raise bad("", "must describe a directed, non-multi graph "
                      "('directed': true, 'multigraph': false)")
    attrs = payload.get("graph", {})
    nodes = payload.get("nodes")
    edges = payload.get("edges")
    if not isinstance(attrs, dict):
        raise bad("['graph']", f"must be an object, got {type(attrs).__name__}")
    if not isinstance(nodes, list):
        raise bad("['nodes']", f"must be a list, got {type(nodes).__name__}")
    if not isinstance(edges, list):
        raise bad("['edges']", f"must be a list, got {type(edges).__name__}")

    node_list = []
    seen: set = set()
    for i, d in enumerate(nodes):
        if not isinstance(d, dict) or not _is_id(d.get("id")):
            raise bad(f"['nodes'][{i}]", "must be an object with an 'id' that is a str or int", d)
        n = d.pop("id")
        if n in seen:
            raise bad(f"['nodes'][{i}]", f"duplicate node id {n!r}", n)
        seen.add(n)
        node_list.append((n, d))
    edge_list = []
    pairs: set = set()
    for i, d in enumerate(edges):
        if not isinstance(d, dict) or not _is_id(d.get("source")) or not _is_id(d.get("target")):
            raise bad(f"['edges'][{i}]", "must be an object with str/int 'source' and 'target'", d)
        u, v = d.pop("source"), d.pop("target")
        for end in (u, v):
            if end not in seen:
                raise bad(f"['edges'][{i}]", f"refers to node {end!r}, which is not in 'nodes'", end)
        if (u, v) in pairs:
            raise bad(f"['edges'][{i}]", f"duplicate edge ({u!r}, {v!r})", (u, v))
        pairs.add((u, v))
        edge_list.append((u, v, d))
    G = nx.DiGraph()
    G.graph.update(attrs)
    G.add_nodes_from(node_list)
    G.add_edges_from(edge_list)
    return G


@front_door()
def load(path) -> nx.DiGraph | list:
    """Read a graph (or the list of graphs) written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    networkx.DiGraph, or list of networkx.DiGraph
        Equal to the saved graph: same nodes (in order), attributes, edges, and
        bit-identical float values. A file written from a population or a list (its
        ``"graphs"`` variant) gives a list of graphs, in order, even for one member;
        rebuild a population with ``CTRNN.stack([CTRNN.from_graph(g) for g in graphs])``.

    Raises
    ------
    ValidationError
        ``attr="path"`` if the file is missing, is a directory, or is not UTF-8 JSON
        (including truncated files and NaN/Infinity literals); ``attr="file[...]"`` if
        ``format`` is not "rnndyn.graph", ``schema_version`` is missing or newer than
        this rnndyn supports (upgrade rnndyn), the file has both or neither of ``graph``
        and ``graphs``, or a graph payload is malformed; or the error of
        :func:`validate_graph` on a loaded graph (``graph[k]...`` for list member k).
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValidationError("path", f"must be a str or os.PathLike, got {path!r}", path) from None
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise ValidationError("path", f"no such file {path!r}; check the path", path) from None
    except (IsADirectoryError, NotADirectoryError):
        raise ValidationError("path", f"{path!r} is not a file", path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ValidationError("path", f"{path!r} is not a UTF-8 text file ({e.reason} at byte {e.start})",
                              path) from None
    try:
        doc = json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float)
    except ValidationError as e:
        raise ValidationError("path", f"{path!r}: {str(e)[len('path: '):]}", path) from None
    except json.JSONDecodeError as e:
        raise ValidationError(
            "path", f"{path!r} is not valid JSON (truncated or corrupt?): {e.msg} at line "
                    f"{e.lineno} column {e.colno}", path) from None
    except (ValueError, RecursionError) as e:  # too-long int literal, absurd nesting
        raise ValidationError("path", f"{path!r} is not a readable JSON graph file: {e}", path) from None

    if not isinstance(doc, dict):
        raise ValidationError("file", f"{path!r} must hold a JSON object, got {type(doc).__name__}", doc)
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise ValidationError(
            "file['format']", f"must be {FORMAT!r}, got {fmt!r}: {path!r} is not an rnndyn graph file",
            fmt)
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValidationError(
            "file['schema_version']", f"must be a positive int, got {version!r} (in {path!r})", version)
    if version > SCHEMA_VERSION:
        raise ValidationError(
            "file['schema_version']",
            f"{path!r} has schema version {version}, written by a newer rnndyn "
            f"({doc.get('rnndyn_version', 'unknown')!r}); this rnndyn reads up to version "
            f"{SCHEMA_VERSION}: upgrade rnndyn",
            version)
    if "graph" in doc and "graphs" in doc:
        raise ValidationError("file", f"has both 'graph' and 'graphs' (in {path!r}); a file holds "
                              "one graph or a list of graphs, keep one of them", None)
    if "graphs" in doc:
        payloads = doc["graphs"]
        if not isinstance(payloads, list) or not payloads:
            raise ValidationError(
                "file['graphs']", f"must be a non-empty list of graphs, got "
                                  f"{type(payloads).__name__} {str(payloads)[:40]} (in {path!r})",
                payloads)
        graphs = [_graph_from_payload(p, f"file['graphs'][{k}]", path)
                  for k, p in enumerate(payloads)]
        for k, G in enumerate(graphs):
            try:
                validate_graph(G)
            except ValidationError as e:
                e = _member_error(e, f"graph[{k}]")
                raise ValidationError(e.attr, f"{str(e)[len(e.attr) + 2:]} (in {path!r})",
                                      e.obj) from None
        return graphs
    if "graph" not in doc:
        raise ValidationError("file['graph']", f"is missing (in {path!r}); the file holds "
                              "neither 'graph' nor 'graphs'", None)
    G = _graph_from_payload(doc["graph"], "file['graph']", path)
    try:
        validate_graph(G)
    except ValidationError as e:
        msg = str(e)[len(e.attr) + 2:]
        raise ValidationError(e.attr, f"{msg} (in {path!r})", e.obj) from None
    return G
