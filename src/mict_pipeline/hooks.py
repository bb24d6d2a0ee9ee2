"""Kedro hooks: a run fails fast, in one line that names what is wrong and how to fix it.

* Before any node runs, every input the run reads but does not make must exist; a missing one is
  named with its file and the command that makes it.
* Before any node runs, every folder the run writes (its outputs' folders, the ``*_dir`` folders of
  the pipelines it runs) must take a file and have :data:`MIN_FREE_BYTES` free: a read-only or
  full data folder is named then, not after minutes of work.
* One run writes a folder set at a time: the run takes a lock on the folders' common root (the
  environment's data root, or ``run_root``) and a second run there is refused, naming the holder.
* A node that fails with a :class:`~mict_pipeline.errors.UserError` (whose message names the file
  or key and the fix: a bad archive, a failed download, too many unusable videos, a checkpoint of
  another experiment, ...) ends the command with that message, its ``conf/<env>/`` naming the
  session's environment, not a traceback. Other errors keep theirs.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click
from kedro.framework.hooks import hook_impl

from mict_pipeline.errors import UserError, for_environment
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.disk import InsufficientSpaceError, ensure_free_space, free_space
from mict_pipeline.project import shown_path

#: Free space a run needs before it starts; the large writes (archives, frame stores) check their own sizes.
MIN_FREE_BYTES = 64 * 2**20
#: Where the run locks are: outside the data root, which git and DVC list; one folder per user,
#: whose files other users could not open.
LOCK_FOLDER = Path(tempfile.gettempdir()) / f"mict-pipeline-locks-{os.getuid()}"


class RunError(click.ClickException):
    """Kedro's command line prints the message alone (``Error: ...``), without a traceback."""

    exit_code = 2


def _maker(dataset: str) -> str | None:
    """The registered pipeline that outputs ``dataset`` (the first, default pipeline aside)."""
    from kedro.framework.project import pipelines

    pipelines.set_requested(None)  # a run loads only the pipelines it asked for
    return next((name for name, pipe in pipelines.items() if name != "__default__" and dataset in pipe.all_outputs()), None)


def written_folders(pipeline: Any, catalog: Any, pipeline_names: list[str] | None) -> list[Path]:
    """The folders a run of ``pipeline`` writes: its outputs' folders, and the ``*_dir`` folders
    (``metadata.written_by``) of the pipelines it runs (``pipeline_names``; none: the default, all)."""
    folders = set()
    for name in pipeline.all_outputs():
        path = getattr(catalog.get(name), "_filepath", None)
        if path is not None:
            folders.add(Path(str(path)).parent)
    for name in pipeline.inputs():
        dataset = catalog.get(name)
        written_by = (getattr(dataset, "metadata", None) or {}).get("written_by")
        if written_by and (not pipeline_names or written_by in pipeline_names):
            folders.add(Path(dataset.load()))  # the folder's path; not catalog.load, which logs
    return sorted(folder.absolute() for folder in folders)


def check_writable(folders: list[Path]) -> None:
    """Each of ``folders`` (or its nearest existing parent) takes a file and has :data:`MIN_FREE_BYTES` free."""
    fix = "make it writable, or point the environment elsewhere (`data_root: <a writable folder>` in conf/<env>/globals.yml)"
    for folder in folders:
        _, probe = free_space(folder)
        try:
            tempfile.TemporaryFile(dir=probe).close()
        except OSError as error:
            raise RunError(f"{shown_path(folder)}: the run cannot write there ({error.strerror or error}: {shown_path(probe)}). Fix: {fix}") from None
        try:
            ensure_free_space(folder, MIN_FREE_BYTES, purpose=f"start a run writing {shown_path(folder)}")
        except InsufficientSpaceError as error:
            raise RunError(f"{error}. Fix: free some space there, or {fix.split(', or ', 1)[1]}") from None


class RunLock:
    """The lock of one folder set (their common root): held by one run, released when it ends.

    A POSIX record lock (``lockf``): the kernel releases it when the process ends, also on a
    crash, and the processes a run forks (loader workers, prepare's pool) do not hold it, unlike
    ``flock``'s, so a killed run does not keep its folder locked while its workers wind down.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        key = hashlib.sha256(str(folder).encode()).hexdigest()[:16]
        self.path, self.holder = LOCK_FOLDER / f"{key}.lock", LOCK_FOLDER / f"{key}.json"
        self._fd: int | None = None

    def acquire(self, env: str | None) -> None:
        """Take the lock, or raise :class:`RunError` naming the run that holds it."""
        LOCK_FOLDER.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise RunError(
                    f"{shown_path(self.folder)} (environment {env or 'local'}): another run is writing there ({self._holder()}). "
                    "Fix: wait for it to end (or stop it), then run again"
                ) from None
            # A run that released it between our open and our lock removed the file we hold: lock the one now there.
            if self._is_current(fd):
                break
            os.close(fd)
        self._fd = fd
        since = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": since}
        write_bytes_atomic(self.holder, json.dumps(holder).encode())

    def _holder(self) -> str:
        try:
            h = json.loads(self.holder.read_text())
            return f"pid {h['pid']} on {h['host']}, `{h['command']}`, since {h['since']}"
        except (OSError, ValueError, KeyError):  # taken an instant ago, its holder not written yet
            return "its holder not recorded yet"

    def _is_current(self, fd: int) -> bool:
        try:
            return os.path.samestat(os.fstat(fd), os.stat(self.path))
        except FileNotFoundError:
            return False

    def release(self) -> None:
        """Remove the lock's files (still holding it, so no other run has them) and release it."""
        if self._fd is not None:
            self.holder.unlink(missing_ok=True)
            self.path.unlink(missing_ok=True)
            os.close(self._fd)  # closing the file releases a POSIX lock
            self._fd = None


def _lock_holder() -> bool:
    """Whether this process locks its run: under torchrun, only rank 0 (the other ranks, on this machine
    or others, are processes of the same run; two machines' torchrun on one host would otherwise
    refuse each other)."""
    return os.environ.get("RANK", "0") == "0"


class ProjectHooks:
    env: str | None = None  # the running session's environment, for the messages' conf/<env>/
    lock: RunLock | None = None

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline: Any, catalog: Any) -> None:
        self.env = run_params.get("env")
        for name in sorted(pipeline.inputs()):
            if name.startswith("params:") or name == "parameters" or catalog.exists(name):
                continue
            dataset = catalog.get(name)
            path = getattr(dataset, "_filepath", None)
            where = shown_path(Path(str(path))) if path else ""
            maker = _maker(name)
            how = f"make it with `kedro run --env {run_params.get('env')} --pipelines={maker}`" if maker else "provide it"
            raise RunError(f"input {name} ({where}) is missing: {how} first")
        folders = written_folders(pipeline, catalog, run_params.get("pipeline_names"))
        try:
            check_writable(folders)
        except RunError as error:
            raise RunError(for_environment(error.message, self.env)) from None
        if folders and _lock_holder():
            self.lock = RunLock(Path(os.path.commonpath(folders)))
            self.lock.acquire(self.env)

    @hook_impl
    def after_pipeline_run(self, **_: Any) -> None:
        self._release()

    @hook_impl
    def on_pipeline_error(self, **_: Any) -> None:
        self._release()

    def _release(self) -> None:
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    @hook_impl
    def on_node_error(self, error: Exception, node: Any, **_: Any) -> None:
        if isinstance(error, UserError):
            # An experiment's nodes are namespaced <split or benchmark>.<experiment>.
            experiment = node.namespace.rpartition(".")[2] if node.namespace and "." in node.namespace else None
            raise RunError(f"node {node.name}: {for_environment(str(error), self.env, experiment)}") from None
