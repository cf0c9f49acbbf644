"""Versioned JSON files for network graphs.

File layout (schema version 1)::

    {"format": "rnndyn.graph", "schema_version": 1, "rnndyn_version": "0.1.0",
     "graph": <networkx.node_link_data(G, edges="edges")>}

Floats are written with ``repr`` and so read back bit-identical; NaN/inf are never
written or accepted. Saving is atomic: the file is written to a temporary file in the
same directory, flushed to disk, then renamed over the target, so a failed save leaves
any existing file untouched.
"""
from __future__ import annotations

import importlib.metadata
import json
import math
import os
import sys
import tempfile

import networkx as nx
import numpy as np

from ..errors import ValidationError
from .validate import validate_graph

__all__ = ["save", "load", "FORMAT", "SCHEMA_VERSION"]

FORMAT = "rnndyn.graph"
SCHEMA_VERSION = 1


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


def _check_saveable(G) -> None:
    stack: set = set()
    _check_json(G.graph, "graph.graph", stack)
    for n, data in G.nodes(data=True):
        if "id" in data:
            raise ValidationError(
                f"graph.node({n!r})", "attribute 'id' is reserved for the node id in the file; rename it",
                data["id"],
            )
        _check_attrs(data, lambda: f"graph.node({n!r})", stack)
    for u, v, data in G.edges(data=True):
        if "source" in data or "target" in data:
            key = "source" if "source" in data else "target"
            raise ValidationError(
                f"graph.edge({u!r}, {v!r})",
                f"attribute {key!r} is reserved for the edge endpoints in the file; rename it",
                data[key],
            )
        _check_attrs(data, lambda: f"graph.edge({u!r}, {v!r})", stack)


def _json_default(obj):
    if isinstance(obj, _NUMPY_SCALARS):  # np.float32, np.int64, ...: exact as Python scalars
        return obj.item()
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def _dumps(doc: dict) -> str:
    """JSON text with one node / edge per line (readable, diff-friendly, still plain JSON)."""
    # one encoder for all records: json.dumps would build a new one per call
    enc = json.JSONEncoder(allow_nan=False, default=_json_default, ensure_ascii=False).encode

    g = doc["graph"]
    lines = ["{"]
    lines += [f" {enc(k)}: {enc(v)}," for k, v in doc.items() if k != "graph"]
    lines.append(' "graph": {')
    lines += [f"  {enc(k)}: {enc(v)}," for k, v in g.items() if k not in ("nodes", "edges")]
    # the id / endpoints first in each record, then the attributes in their own order
    nodes = [enc({"id": d["id"], **{k: v for k, v in d.items() if k != "id"}}) for d in g["nodes"]]
    edges = [enc({"source": d["source"], "target": d["target"],
                  **{k: v for k, v in d.items() if k not in ("source", "target")}})
             for d in g["edges"]]
    for key, items, sep in (("nodes", nodes, ","), ("edges", edges, "")):
        body = "\n   " + ",\n   ".join(items) + "\n  " if items else ""
        lines.append(f'  "{key}": [{body}]{sep}')
    lines += [" }", "}"]
    return "\n".join(lines)


def _umask() -> int:
    # os.umask can only be read by setting it; restored at once (not thread-safe for
    # files created by other threads in this instant, an accepted trade-off)
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(G, path) -> None:
    """Write ``G`` to ``path`` as versioned JSON, atomically.

    Parameters
    ----------
    G : networkx.DiGraph
        A valid network graph. Every attribute value must be a JSON value (None, bool,
        int, finite float, str, list, dict with str keys; numpy scalars are written as
        their Python equivalents) so that :func:`load` returns an equal graph.
    path : str or os.PathLike
        Target file; its directory must exist. An existing file is replaced only once
        the new content is completely on disk (and keeps its permission bits).

    Returns
    -------
    None

    Raises
    ------
    ValidationError
        If ``G`` is invalid (see :func:`validate_graph`), holds a value JSON cannot
        represent exactly, uses a reserved attribute name (node ``id``, edge
        ``source``/``target``), or ``path`` is a directory or in a missing directory.
        Nothing is written then.
    OSError
        If writing fails for another reason (permissions, disk full); the temporary
        file is removed and an existing file at ``path`` is left as it was.
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValidationError("path", f"must be a str or os.PathLike, got {path!r}", path) from None
    validate_graph(G)
    _check_saveable(G)
    doc = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "rnndyn_version": _rnndyn_version(),
        "graph": nx.node_link_data(G, edges="edges"),
    }
    # Serialise fully before touching the file system: a failure here writes nothing.
    try:
        text = _dumps(doc)
    except (TypeError, ValueError) as e:  # backstop; _check_saveable should catch these first
        raise ValidationError("graph", f"cannot be written as JSON: {e}", G) from None

    target_dir = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ValidationError("path", f"{path!r} is a directory; give a file name", path)
    if not os.path.isdir(target_dir):
        raise ValidationError(
            "path", f"directory {target_dir!r} does not exist; create it first", path
        )
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # what a plain open() would have created
    tmp = tempfile.NamedTemporaryFile(
        "w", encoding="utf-8", dir=target_dir, prefix=f".{os.path.basename(path)}.",
        suffix=".tmp", delete=False,
    )
    try:
        with tmp:
            tmp.write(text)
            tmp.write("\n")
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp.name, mode)
        os.replace(tmp.name, path)
    except BaseException:
        try:
            os.unlink(tmp.name)
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


def load(path) -> nx.DiGraph:
    """Read a graph written by :func:`save`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    networkx.DiGraph
        Equal to the saved graph: same nodes (in order), attributes, edges, and
        bit-identical float values.

    Raises
    ------
    ValidationError
        ``attr="path"`` if the file is missing, is a directory, or is not UTF-8 JSON
        (including truncated files and NaN/Infinity literals); ``attr="file[...]"`` if
        ``format`` is not "rnndyn.graph", ``schema_version`` is missing or newer than
        this rnndyn supports (upgrade rnndyn), or the graph payload is malformed; or
        the error of :func:`validate_graph` on the loaded graph.
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
    if "graph" not in doc:
        raise ValidationError("file['graph']", f"is missing (in {path!r})", None)
    G = _graph_from_payload(doc["graph"], "file['graph']", path)
    try:
        validate_graph(G)
    except ValidationError as e:
        msg = str(e)[len(e.attr) + 2:]
        raise ValidationError(e.attr, f"{msg} (in {path!r})", e.obj) from None
    return G
