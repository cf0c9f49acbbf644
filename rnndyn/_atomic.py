"""Atomic file writes shared by every layer (kernel cache, checkpoints, saved graphs): a
reader, or a process that resumes after a kill, sees the old file or the new one, never a
partial one; a symlink stays a symlink (its target is replaced)."""
from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import Callable

from .errors import ValidationError

_FILE_KINDS = ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
               (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))


def resolve_target(path, name: str = "path") -> tuple[str, os.stat_result | None]:
    """The real file behind ``path`` (symlinks resolved) and its stat, if it exists.

    Refuses paths that do not name a regular file: empty, ending in a separator, a
    directory, or a FIFO/device/socket (which a rename would silently replace).
    """
    try:
        path = os.fspath(path)
    except TypeError:
        raise ValidationError(name, f"must be a str or os.PathLike, got {path!r}", path) from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path:
        raise ValidationError(name, "got '' (an empty path); give a file name", path)
    if "\0" in path:
        raise ValidationError(name, f"contains a NUL character: {path!r}; give a valid file name",
                              path)
    if path.endswith(tuple(s for s in (os.sep, os.altsep) if s)):
        raise ValidationError(
            name, f"{path!r} ends with a path separator, so it names a directory; give a file "
            f"name inside it", path)
    real = os.path.realpath(path)
    via = f" (a symlink to {real!r})" if real != os.path.abspath(path) else ""
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as e:  # symlink loop, permission denied on a parent, ...
        raise ValidationError(
            name, f"{path!r}{via} cannot be used: {getattr(e, 'strerror', None) or e}; give "
            "a path to a regular file", path) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise ValidationError(name, f"{path!r}{via} is a directory; give a file name", path)
        if not stat.S_ISREG(st.st_mode):
            kind = next((k for test, k in _FILE_KINDS if test(st.st_mode)), "special file")
            raise ValidationError(
                name, f"{path!r}{via} is a {kind}, not a regular file; save to a regular "
                "file path (saving never replaces special files)", path)
    target_dir = os.path.dirname(real)
    if not os.path.isdir(target_dir):
        raise ValidationError(name, f"directory {target_dir!r} does not exist; create it first",
                              path)
    return real, st


def write_atomically(path, write: Callable) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path`` (same file system), fsync it and
    rename it over ``path``; on any error (or KeyboardInterrupt) the temporary file is removed
    and ``path`` is untouched. A symlink's target is written, the link kept."""
    path = Path(os.path.realpath(path))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
