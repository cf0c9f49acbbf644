"""Atomic file writes shared by every layer (kernel cache, checkpoints): a reader, or a
process that resumes after a kill, sees the old file or the new one, never a partial one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path, write: Callable) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path`` (same file system), fsync it and
    rename it over ``path``; on any error (or KeyboardInterrupt) the temporary file is removed
    and ``path`` is untouched."""
    path = Path(path)
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
