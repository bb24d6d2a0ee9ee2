"""Disk space: checking it before large writes, and saying sizes the way people read them."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mict_pipeline.errors import UserError


class InsufficientSpaceError(UserError, RuntimeError):
    """The target file system has too little free space for the data about to be written."""


def free_space(directory: str | os.PathLike) -> tuple[int, Path]:
    """Bytes free on the file system of ``directory`` (or its nearest existing ancestor), and that folder."""
    probe = Path(directory).absolute()
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free, probe


def ensure_free_space(directory: str | os.PathLike, required: int, *, purpose: str) -> None:
    """Raise :class:`InsufficientSpaceError` unless ``directory`` (or its nearest existing
    ancestor) has ``required`` bytes free; ``purpose`` completes "Not enough free disk space to …".
    """
    free, probe = free_space(directory)
    if required > free:
        raise InsufficientSpaceError(
            f"Not enough free disk space to {purpose}: needs {format_bytes(required)}, "
            f"only {format_bytes(free)} free in {probe}"
        )


def format_bytes(count: int) -> str:
    """``count`` bytes in the largest binary unit that keeps the number at least 1 (``'6.5 GiB'``)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
