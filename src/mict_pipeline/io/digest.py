"""Digests of files, read in blocks (no Kedro): what the downloader verifies, manifests record and
checkpoints name their source with."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

CHUNK_SIZE = 1 << 20


def file_digests(path: str | os.PathLike, algorithms: Sequence[str]) -> dict[str, str]:
    """Hex digests of the file at ``path``, read once whatever the number of algorithms."""
    hashers = {name: hashlib.new(name) for name in algorithms}
    if hashers:
        with Path(path).open("rb") as file:
            for block in iter(lambda: file.read(CHUNK_SIZE), b""):
                for hasher in hashers.values():
                    hasher.update(block)
    return {name: hasher.hexdigest() for name, hasher in hashers.items()}


def file_digest(path: str | os.PathLike, algorithm: str = "sha256") -> str:
    """Hex digest of the file at ``path``; ``algorithm`` is any :mod:`hashlib` name."""
    return file_digests(path, [algorithm])[algorithm]
