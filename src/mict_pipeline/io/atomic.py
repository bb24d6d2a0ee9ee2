"""Atomic file and folder writes: build under a temporary name beside the target, then rename.

A reader never sees a half-written output. A run killed mid-write leaves a hidden
``.<name>.<random>.tmp`` entry; the next write of the same target removes it first, so a
killed extraction of a 6.5 GB archive does not leave its half behind for good. A target has one
writer at a time (each frame store, archive and checkpoint is written by one process).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_stale_temporaries(target: Path) -> None:
    """Delete ``.<name>.<8 random characters>.tmp`` siblings that killed runs left for ``target``."""
    pattern = re.compile(rf"\.{re.escape(target.name)}\.[a-z0-9_]{{8}}\.tmp")
    for entry in target.parent.iterdir():
        if pattern.fullmatch(entry.name):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``, on error it is removed.

    With ``directory=True`` the temporary path is an empty folder, and an existing ``target``
    folder is replaced as a whole.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(target)
    if directory:
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    else:
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        # mkstemp/mkdtemp create owner-only entries; give the result the usual umask permissions.
        os.chmod(tmp, (0o777 if directory else 0o666) & ~_umask())
        if directory and target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def write_atomic(target: str | os.PathLike, write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write`` with a binary file that replaces ``target`` once it returns.

    ``write`` gets a file object, not the temporary path, so writers that record their file's name
    (``torch.save`` names the folder inside its zip after the file) give the same bytes for the
    same content: reproducible outputs keep their DVC hash.
    """
    with atomic_path(target) as tmp, tmp.open("wb") as f:
        write(f)
    return Path(target)


def write_bytes_atomic(target: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically."""
    return write_atomic(target, lambda f: f.write(data))
