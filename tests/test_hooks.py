"""The run lock's files: gone when a run ends, and a file removed by a run ending at that very
moment is never the one a new run holds. (Refusing a second run: tests/test_user_errors.py.)"""

from __future__ import annotations

import fcntl
import os

from mict_pipeline import hooks
from mict_pipeline.hooks import RunLock


def test_a_run_that_ends_leaves_no_lock_file(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "LOCK_FOLDER", tmp_path / "locks")
    for _ in range(2):  # and the next run takes it afresh
        lock = RunLock(tmp_path / "run")
        lock.acquire("demo")
        assert sorted(p.suffix for p in (tmp_path / "locks").iterdir()) == [".json", ".lock"]
        lock.release()
        assert not any((tmp_path / "locks").iterdir())


def test_a_lock_file_removed_between_open_and_lock_is_not_the_one_held(tmp_path, monkeypatch):
    monkeypatch.setattr(hooks, "LOCK_FOLDER", tmp_path / "locks")
    lock = RunLock(tmp_path / "run")
    real_lockf, calls = fcntl.lockf, []

    def a_run_ends_meanwhile(fd, operation):
        calls.append(fd)
        if len(calls) == 1:  # the holder released: it removed the file this run has just opened
            lock.path.unlink()
        real_lockf(fd, operation)

    monkeypatch.setattr(hooks.fcntl, "lockf", a_run_ends_meanwhile)
    lock.acquire("demo")
    assert len(calls) == 2  # the removed file was let go, and the one now at the path locked
    assert os.path.samestat(os.fstat(lock._fd), os.stat(lock.path))
    lock.release()
    assert not any((tmp_path / "locks").iterdir())
