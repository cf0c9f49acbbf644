"""Specialise a kernel template to one model family, keeping numba's on-disk cache.

Numba's ``cache=True`` misses in every new process for kernels that take jitted functions as
arguments or close over them (the function object is part of the cache key). Generic
kernels (integrators, runners, tangent dynamics) are therefore written as *templates*: files
whose code calls free names such as ``_rhs``, ``_jac``, ``_output`` and ``_member`` and
decorates with ``@njit(**_JIT)``. ``specialize`` writes a module that imports the family's
functions under those names followed by the template's source into a cache folder and
imports it, so numba caches it like any other file.

Numba does not notice when a *called* function's file changes, so the generated file's name
hashes the template, every file the functions come from, ``_config.py`` and the rnndyn module
files these import (an explicit, import-derived list): an edit yields a new module. The plain
kernel modules (``models/_gated_kernels.py`` inlining ``_base_kernels.py``'s functions, ...)
get the same guarantee from ``refresh_kernel_caches``, which drops a module's compiled code
when a file it imports changed.

The cache is verified rather than trusted: the generated file must hold exactly the text it
was generated from (else it is rewritten atomically and its compiled files deleted), an
unreadable numba cache file is deleted and the kernel recompiled, and an unusable cache folder
(``RNNDYN_CACHE_DIR`` read-only, a file, ...) falls back to in-memory compilation with one
warning per process.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import os
import re
import sys
import time
import warnings
from pathlib import Path
from types import ModuleType

from ._atomic import write_atomically
from ._config import JIT, JIT_PARALLEL

_loaded: dict[tuple, ModuleType] = {}


def cache_dir() -> Path:
    """Folder of generated kernel modules: ``$RNNDYN_CACHE_DIR`` or ``~/.cache/rnndyn``."""
    root = os.environ.get("RNNDYN_CACHE_DIR") or Path.home() / ".cache" / "rnndyn"
    return Path(root) / "kernels"


def _source_file(fn) -> str | None:
    """The file defining ``fn`` if it can be imported back by name, else None."""
    py = getattr(fn, "py_func", fn)
    mod = sys.modules.get(getattr(py, "__module__", None) or "")
    if mod is None or mod.__name__ == "__main__" or getattr(mod, py.__name__, None) is not fn:
        return None
    return inspect.getsourcefile(mod)


_PKG = Path(__file__).resolve().parent
_imports_of: dict[str, frozenset] = {}
_fallback_warned = False


def _module_file(folder: Path, parts: list) -> Path | None:
    """``folder/a/b.py`` for ``parts == ["a", "b"]`` if that file exists (never a package)."""
    if not parts or not all(parts):
        return None
    f = folder.joinpath(*parts[:-1], parts[-1] + ".py")
    return f.resolve() if f.is_file() else None


#: the first line of an import statement (at any indentation: imports inside functions count)
_IMPORT_LINE = re.compile(r"^[ \t]*(?:from[ \t]+[.\w]+[ \t]+import|import[ \t]+\w)", re.M)


def _import_statements(text: str):
    """The import statements of a source text, parsed one by one: parsing and walking whole
    files took 0.4 s for rnndyn's kernel modules at every ``import rnndyn``. A statement's
    extent is its line, continued by backslashes or to its closing parenthesis; a line that
    only looks like an import (inside a docstring) fails to parse and is skipped."""
    for m in _IMPORT_LINE.finditer(text):
        end = m.start()
        while True:
            end = text.find("\n", end + 1)
            end = len(text) if end < 0 else end
            line = text[m.start():end]
            if line.endswith("\\") or line.count("(") > line.count(")"):
                if end < len(text):
                    continue
            break
        first = text.find("\n", m.start())
        for extent in (end, len(text) if first < 0 else first):  # then the line alone (a
            try:                                              # "(" in a comment)
                yield from ast.parse(text[m.start():extent].strip()).body
                break
            except SyntaxError:
                pass


def _imports(file: Path) -> frozenset:
    """Module files a source file imports: ``rnndyn.*`` modules (absolute imports) and, in
    any package, relative imports. Package ``__init__`` files are not followed (they only
    re-export), nor are imports of other packages (numpy, numba, a user's own package)."""
    key = str(file)
    if key not in _imports_of:
        found = set()
        try:
            text = file.read_bytes().decode("utf-8")
        except (OSError, ValueError):
            text = ""
        for node in _import_statements(text):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    parts = alias.name.split(".")
                    if parts[0] == "rnndyn":
                        found.add(_module_file(_PKG, parts[1:]))
            elif isinstance(node, ast.ImportFrom):
                parts = node.module.split(".") if node.module else []
                if node.level:
                    base = file.parent
                    for _ in range(node.level - 1):
                        base = base.parent
                elif parts and parts[0] == "rnndyn":
                    base, parts = _PKG, parts[1:]
                else:
                    continue
                found.add(_module_file(base, parts))
                for alias in node.names:  # from package import submodule
                    found.add(_module_file(base, parts + [alias.name]))
        found.discard(None)
        _imports_of[key] = frozenset(found)
    return _imports_of[key]


def _dependencies(template, files) -> list:
    """Every source file a specialised kernel is compiled from, as sorted absolute paths:
    the template, the files of the bound functions, ``_config.py`` (the numba flags) and,
    transitively, the module files these import (see ``_imports``). numba itself notices
    none of them changing, so the generated module's name hashes all of them."""
    todo = [Path(template).resolve(), _PKG / "_config.py"] + [Path(f).resolve() for f in files]
    seen: set = set()
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo.extend(_imports(f))
    return sorted(str(f) for f in seen)


def refresh_kernel_caches(modules) -> list[str]:
    """Delete numba's cached machine code of each module in ``modules`` whose dependencies
    changed since it was compiled; returns the names of the modules cleared.

    Numba keys a module's cache on that file's own time stamp, so a kernel module kept the
    code it compiled from an older version of a file it imports (``_gated_kernels`` inlines
    ``_base_kernels``' product and sigmoid; every kernel module takes ``_config``'s flags):
    after a ``git pull`` into an editable install that edits only the imported file, the
    kernels ran the old code. Each cache folder keeps ``<module>.deps``, the digest of the
    module's ``_dependencies``; when it differs, the module's .nbi/.nbc files there go, and
    numba compiles afresh at the next call. Call before any kernel of ``modules`` runs."""
    cleared = []
    for module in modules:
        folders = {getattr(getattr(obj, "_cache", None), "cache_path", None)
                   for obj in vars(module).values()  # its own kernels, not imported ones
                   if getattr(getattr(obj, "py_func", None), "__module__", "") == module.__name__}
        folders.discard(None)
        if not folders or not getattr(module, "__file__", None):
            continue
        source = Path(module.__file__).resolve()
        digest = hashlib.sha1()
        for file in _dependencies(source, []):
            digest.update(file.encode("utf-8") + b"\0" + Path(file).read_bytes())
        digest = digest.hexdigest().encode("ascii")
        for folder in sorted(folders):
            stamp = Path(folder) / f"{source.stem}.deps"
            try:
                if stamp.read_bytes() == digest:
                    continue
            except OSError:
                pass
            _clear_compiled(source.stem, [folder], (".nbi", ".nbc"))
            try:  # numba creates its folder only when it first saves
                stamp.parent.mkdir(parents=True, exist_ok=True)
                _write_atomically(stamp, digest)
                os.chmod(stamp, 0o644)  # readable as numba's own files are (mkstemp: 0600)
            except OSError:
                pass  # an unwritable cache folder: numba does not write there either
            cleared.append(module.__name__)
    return cleared


def _warn_fallback(folder: Path, reason: str) -> None:
    global _fallback_warned
    if not _fallback_warned:  # once per process, however many kernels are compiled
        _fallback_warned = True
        warnings.warn(
            f"rnndyn kernel cache {str(folder)!r} is unusable ({reason}); compiling kernels in "
            "memory instead (slower start-up, nothing is saved). Set RNNDYN_CACHE_DIR to a "
            "writable directory to cache them.", RuntimeWarning, stacklevel=4)


def _unusable(folder: Path) -> str | None:
    """Why generated modules cannot be written into ``folder`` (created if missing), or None."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return "it exists and is not a directory"
    except OSError as e:
        return f"cannot create it: {e.strerror or e}"
    if not folder.is_dir():
        return "it is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "it is not writable"
    return None


def _clear_compiled(name: str, folders, suffixes=(".nbi", ".nbc", ".pyc")) -> None:
    """Delete the bytecode and numba cache files (index .nbi, data .nbc) of module ``name``."""
    for folder in folders:
        for f in Path(folder).glob(f"{name}.*"):
            if f.suffix in suffixes:
                try:
                    f.unlink()
                except OSError:
                    pass


def _write_atomically(path: Path, data: bytes) -> None:
    now = time.time()
    for old in path.parent.glob(f".{path.name}.*.tmp"):  # left by a killed process
        try:
            if now - old.lstat().st_mtime > 60.0:
                old.unlink()
        except OSError:
            pass
    write_atomically(path, lambda fh: fh.write(data))


def _exec_file(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _guard_numba_cache(module: ModuleType, clear) -> None:
    """Make the module's cached kernels treat an unreadable numba cache entry (a truncated
    or corrupted index/data file fails with UnpicklingError, EOFError, ...) as a miss: the
    module's cache files are deleted, the load retried once, and else the kernel compiled
    afresh (and saved again)."""
    for obj in list(vars(module).values()):
        cache = getattr(obj, "_cache", None)
        load = getattr(cache, "load_overload", None)
        if load is None or getattr(getattr(obj, "py_func", None), "__module__", None) != module.__name__:
            continue

        def load_overload(sig, target_context, _load=load):
            try:
                return _load(sig, target_context)
            except Exception:
                clear()
                try:
                    return _load(sig, target_context)
                except Exception:
                    return None

        cache.load_overload = load_overload


def _cached_module(name: str, text: str, folder: Path) -> ModuleType | None:
    """Import the generated module ``folder/name.py`` holding ``text``, (re)writing it when
    missing or when its content differs (truncated, corrupted or edited: the name hashes the
    intended text, so any other content is damage). None if the folder is unusable."""
    path = folder / f"{name}.py"
    data = text.encode("utf-8")
    pycache = folder / "__pycache__"
    try:
        intact = path.read_bytes() == data
    except OSError:
        intact = False
    if not intact:  # rewrite only then: a new mtime voids numba's cache of the module
        reason = _unusable(folder)
        if reason is None:
            try:
                _write_atomically(path, data)
            except OSError as e:
                reason = f"cannot write {path.name}: {e.strerror or e}"
        if reason is not None:
            _warn_fallback(folder, reason)
            return None
        _clear_compiled(name, [pycache])  # compiled from the damaged file, or stale

    def clear():
        dirs = {pycache} | {getattr(getattr(obj, "_cache", None), "cache_path", None)
                            for obj in vars(module).values()}
        _clear_compiled(name, [d for d in dirs if d])

    try:
        module = _exec_file(name, path)
    except Exception:  # e.g. a corrupted bytecode file: drop the compiled files, retry once
        _clear_compiled(name, [pycache])
        module = _exec_file(name, path)
    _guard_numba_cache(module, clear)
    return module


def serial_only(p) -> bool:
    """True if kernel parameters ``p`` hold a tuple inside a tuple (a ``Stacked`` model: one
    parameter tuple per layer). numba's parallel (prange) kernels hand their arguments to
    gufunc-like workers that flatten one level of tuples but not more, so such parameters
    fail to compile there ("scalar type Tuple(...) given for non scalar argument", numba
    issues #5703, #9098): specialise with ``serial=True``."""
    return isinstance(p, tuple) and any(isinstance(q, tuple) for q in p)


def declared_names(source: str) -> tuple[set, set]:
    """(required, optional) free names of a template, from its header lines
    ``# needs: _rhs _jac ...`` and ``# optional: _jac ...``."""
    need, opt = set(), set()
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        key, _, names = line[1:].partition(":")
        if key.strip() == "needs":
            need |= set(names.split())
        elif key.strip() == "optional":
            opt |= set(names.split())
    return need, opt


#: template free name -> (model kind it exists for, or None for both; ``Functions`` field)
_ROLES = {"_rhs": ("flow", "rhs"), "_step": ("map", "step"), "_fjac": ("flow", "jacobian"),
          "_mjac": ("map", "jacobian"), "_jac": (None, "jacobian"), "_output": (None, "output"),
          "_work_size": (None, "work_size"), "_vjp": (None, "vjp"),
          "_pjac": (None, "param_jacobian"), "_output_vjp": (None, "output_vjp"),
          "_param_size": (None, "param_size"), "_jvp": ("flow", "jvp")}


def bind(template, model, population: bool = False, **extra) -> ModuleType:
    """``specialize`` a template for ``model``'s family: each free name the template declares
    (``declared_names``) is taken from the model's kernels by its role (``_rhs``,
    ``_step``, ``_jac``, ``_output``, ``_member``, ...), ``_member`` being the member selector
    for a population (``population=True``) or the shared-parameters one. A name of the other
    kind (``_step`` for a flow) gets a placeholder of the right signature, which a runtime
    flow/map switch needs. ``extra`` binds the remaining names (shared kernels)."""
    from .models import _base_kernels as bk  # models sits above this module

    need, opt = declared_names(Path(template).read_text(encoding="utf-8"))
    k = model.functions
    funcs = {}
    for name in sorted((need | opt) - set(extra)):
        if name == "_member":
            funcs[name] = k.member if population and model.P is not None else bk.member_same
        elif name in _ROLES:
            kind, field = _ROLES[name]
            if (kind is None or kind == model.kind) and getattr(k, field) is not None:
                funcs[name] = getattr(k, field)
            else:  # the other kind's name, or an optional function the family lacks
                funcs[name] = getattr(bk, f"no{name}")
    return specialize(template, serial_only(model.kernel_params), **funcs, **extra)


def specialize(template: str, serial: bool = False, **funcs) -> ModuleType:
    """Compile the template file ``template`` (a path) against ``funcs``.

    Parameters
    ----------
    template : str or Path
        Path of the template source (e.g. ``integrate/_flow_template.py``).
    serial : bool
        Compile the template's ``_JIT_PARALLEL`` kernels without ``parallel`` (prange runs
        as range): for parameters numba cannot pass to parallel kernels (``serial_only``).
    **funcs
        Jitted functions bound to the template's free names, e.g. ``_rhs=ctrnn_rhs``.

    Returns
    -------
    module
        The specialised module. Functions defined at module level in an importable module
        give a module numba caches on disk; others (typed into ``__main__``, closures) give an
        in-memory module compiled afresh in each process. So does an unusable cache folder
        (read-only, not a directory, cannot be created), with one RuntimeWarning per process.

    Notes
    -----
    The cache is checked, not trusted: a generated module whose content is not the text it
    should hold is rewritten (and its compiled files deleted), and a numba cache file that
    cannot be read is deleted and the kernel compiled again.
    """
    key = (str(template), serial) + tuple((k, id(f)) for k, f in sorted(funcs.items()))
    if key in _loaded:
        return _loaded[key]
    source = Path(template).read_text(encoding="utf-8")
    need, opt = declared_names(source)
    if need or opt:  # a template that declares its names gets exactly those
        missing, unknown = need - set(funcs), set(funcs) - need - opt
        if missing or unknown:
            raise TypeError(f"template {Path(template).name} needs {sorted(need)} (optional "
                            f"{sorted(opt)}); missing {sorted(missing)}, unknown "
                            f"{sorted(unknown)}")
    files = [_source_file(f) for f in funcs.values()]
    module = None
    if all(files):
        parallel = "JIT" if serial else "JIT_PARALLEL"
        header = f"from rnndyn._config import JIT as _JIT, {parallel} as _JIT_PARALLEL\n"
        header += "".join(f"from {getattr(f, 'py_func', f).__module__} import "
                          f"{getattr(f, 'py_func', f).__name__} as {k}\n"
                          for k, f in sorted(funcs.items()))
        text = header + source
        stamp = hashlib.sha1(text.encode("utf-8"))
        # numba would not notice an edit of any file the kernel is compiled from
        for file in _dependencies(template, files):
            stamp.update(Path(file).read_bytes())
        name = f"_rnndyn_{Path(template).stem.strip('_')}_{stamp.hexdigest()[:16]}"
        module = _cached_module(name, text, cache_dir())
    if module is None:
        module = ModuleType(f"rnndyn_dynamic_{Path(template).stem}_{len(_loaded)}")
        module.__dict__.update(funcs, _JIT=dict(JIT, cache=False),
                               _JIT_PARALLEL=dict(JIT if serial else JIT_PARALLEL, cache=False))
        exec(compile(source, str(template), "exec"), module.__dict__)
    _loaded[key] = module
    return module
