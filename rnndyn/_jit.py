"""Specialise a kernel template to one model family, keeping numba's on-disk cache.

Numba's ``cache=True`` misses in every new process for kernels that take jitted functions as
arguments or close over them (the function object is part of the cache key). Generic
kernels (integrators, runners, tangent dynamics) are therefore written as *templates*: files
whose code calls free names such as ``_rhs``, ``_jac``, ``_output`` and ``_index`` and
decorates with ``@njit(**_JIT)``. ``specialize`` writes a module that imports the family's
functions under those names followed by the template's source into a cache folder and
imports it, so numba caches it like any other file.

Numba does not notice when a *called* function's file changes, so the generated file's name
hashes the template and every file the functions come from: an edit yields a new module.
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType

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


def specialize(template: str, **funcs) -> ModuleType:
    """Compile the template file ``template`` (a path) against ``funcs``.

    Parameters
    ----------
    template : str or Path
        Path of the template source (e.g. ``integrate/_flow_template.py``).
    **funcs
        Jitted functions bound to the template's free names, e.g. ``_rhs=ctrnn_rhs``.

    Returns
    -------
    module
        The specialised module. Functions defined at module level in an importable module
        give a module numba caches on disk; others (typed into ``__main__``, closures) give an
        in-memory module compiled afresh in each process.
    """
    key = (str(template),) + tuple((k, id(f)) for k, f in sorted(funcs.items()))
    if key in _loaded:
        return _loaded[key]
    source = Path(template).read_text()
    files = [_source_file(f) for f in funcs.values()]
    if all(files):
        header = "from rnndyn._config import JIT as _JIT, JIT_PARALLEL as _JIT_PARALLEL\n"
        header += "".join(f"from {getattr(f, 'py_func', f).__module__} import "
                          f"{getattr(f, 'py_func', f).__name__} as {k}\n"
                          for k, f in sorted(funcs.items()))
        text = header + source
        stamp = hashlib.sha1(text.encode())
        # also every shared kernel file a template may import: numba would not notice an edit
        shared = {str(f) for f in Path(__file__).parent.rglob("_*kernels.py")}
        for file in sorted(set(files) | shared | {str(Path(__file__).with_name("_config.py"))}):
            stamp.update(Path(file).read_bytes())
        name = f"_rnndyn_{Path(template).stem.strip('_')}_{stamp.hexdigest()[:16]}"
        folder = cache_dir()
        path = folder / f"{name}.py"
        if not path.exists():  # never rewrite: a new mtime would void numba's cache
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    else:
        module = ModuleType(f"rnndyn_dynamic_{Path(template).stem}_{len(_loaded)}")
        module.__dict__.update(funcs, _JIT=dict(JIT, cache=False),
                               _JIT_PARALLEL=dict(JIT_PARALLEL, cache=False))
        exec(compile(source, str(template), "exec"), module.__dict__)
    _loaded[key] = module
    return module
