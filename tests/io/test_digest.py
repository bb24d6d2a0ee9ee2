"""File digests: every hashlib algorithm asked for, from one read."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from mict_pipeline.io.digest import CHUNK_SIZE, file_digest, file_digests

CONTENT = random.Random(0).randbytes(CHUNK_SIZE + 1000)  # more than one block


def test_file_digests_are_hashlib_s(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(CONTENT)

    assert file_digest(path) == hashlib.sha256(CONTENT).hexdigest()
    assert file_digests(path, ["md5", "sha1"]) == {"md5": hashlib.md5(CONTENT).hexdigest(), "sha1": hashlib.sha1(CONTENT).hexdigest()}
    assert file_digests(path, []) == {}
