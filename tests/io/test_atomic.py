"""Atomic writes: all or nothing, usual permissions."""

from __future__ import annotations

import os

import pytest

from mict_pipeline.io.atomic import atomic_path, write_bytes_atomic


def test_file_written_whole_with_umask_permissions(tmp_path):
    target = write_bytes_atomic(tmp_path / "a" / "out.bin", b"data")
    assert target.read_bytes() == b"data"
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert os.listdir(target.parent) == ["out.bin"]


def test_failure_leaves_old_output_and_no_temporary(tmp_path):
    target = write_bytes_atomic(tmp_path / "out.bin", b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


def test_directory_replaced_as_a_whole(tmp_path):
    target = tmp_path / "tree"
    (target / "stale").mkdir(parents=True)
    with atomic_path(target, directory=True) as tmp:
        (tmp / "new.txt").write_text("x")
    assert sorted(p.name for p in target.iterdir()) == ["new.txt"]
    assert os.listdir(tmp_path) == ["tree"]


@pytest.mark.parametrize("directory", [False, True])
def test_temporaries_of_killed_runs_are_removed_by_the_next_write(tmp_path, directory):
    stale_dir, stale_file = tmp_path / ".out.abc_1234.tmp", tmp_path / ".out.zzzzzzzz.tmp"
    stale_dir.mkdir()
    (stale_dir / "half.avi").write_bytes(b"half")
    stale_file.write_bytes(b"half")
    others = [tmp_path / ".out.old.abcdefgh.tmp", tmp_path / ".other.abcdefgh.tmp", tmp_path / "out.tmp"]
    for path in others:
        path.write_bytes(b"not ours")
    with atomic_path(tmp_path / "out", directory=directory) as tmp:
        (tmp / "f").write_bytes(b"new") if directory else tmp.write_bytes(b"new")
    assert sorted(os.listdir(tmp_path)) == sorted(["out", *(p.name for p in others)])
