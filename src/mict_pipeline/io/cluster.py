"""Frame extraction on a Dask distributed cluster, the one that ``prepare.cluster`` names.

``tcp://<host>:<port>`` is a running scheduler (``dask scheduler``) whose workers (``dask worker
tcp://<host>:<port>`` on each machine) have this project installed and see the project folder, the
videos and the data root at the same paths, on a shared filesystem; they work in the run's working
folder, so the project's relative paths mean there what they mean here. ``local:<N>`` is a cluster
of N worker processes on this machine that the run starts and closes (Dask's ``LocalCluster``).
Either way the jobs are the local pool's: :func:`mict_pipeline.io.frame_store.extract_many` submits
the same per-video function through Dask's ``concurrent.futures`` executor, so the stores and
results do not depend on what ran them.

A worker that dies loses only the videos it was running: the scheduler runs them again on another
worker, and a video is reported as failed (``KilledWorker``) only once it has taken
``distributed.scheduler.allowed-failures`` workers (3) down with it. Stores are written under a
temporary name and renamed (:mod:`mict_pipeline.io.atomic`), so a store cut off with its worker never
passes as complete, and the next extraction of that video removes its temporary file. A lost
scheduler ends the run (:func:`scheduler_lost`); a rerun skips the finished stores.

Dask is imported only by :func:`cluster_executor`: a run without a cluster never loads it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Iterator
from concurrent.futures import Executor

from mict_pipeline.errors import UserError
# The local pool's initializer: the cluster's workers run OpenCV as the pool's processes do.
from mict_pipeline.io.workers import _single_threaded_opencv

logger = logging.getLogger(__name__)

LOCAL = "local:"
# A scheduler's address as `dask worker` takes it: <protocol>://<host>:<port>.
_SCHEDULER = re.compile(r"(tcp|tls|ws|wss|ucx)://[^:/\s]+:[0-9]+")
CONF_FILE = "conf/<env>/parameters_prepare.yml"


class ClusterError(UserError, ConnectionError):
    """The Dask cluster that ``prepare.cluster`` names cannot be reached, or was lost mid-run."""


def scheduler_lost(written: int) -> ClusterError:
    """The error of a run whose client lost the scheduler, which cancels every job it had (so a
    video is never reported as failed for it); ``written``: the stores this run saw complete."""
    return ClusterError(
        f"prepare.cluster: the connection to the Dask scheduler was lost mid-run, and with it the jobs it held. Fix: "
        f"start the scheduler and its workers again and rerun; the complete stores are kept ({written} seen complete in this run)"
    )


def check_address(address: str) -> str:
    """``address`` if it names a cluster (``local:<N>``, N >= 1, or ``<protocol>://<host>:<port>``),
    else ValueError saying which do."""
    if _SCHEDULER.fullmatch(address) or re.fullmatch(rf"{LOCAL}[1-9][0-9]*", address):
        return address
    raise ValueError(
        f"{address!r} names no Dask cluster (in {CONF_FILE}). Fix: `cluster: tcp://<scheduler host>:8786` (a running "
        f"`dask scheduler`), `cluster: local:<N>` (N worker processes on this machine) or `cluster: null` (this "
        f"machine's process pool)"
    )


def _restore_environment(saved: dict[str, str]) -> None:
    os.environ.clear()
    os.environ.update(saved)


@contextlib.contextmanager
def cluster_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """A ``concurrent.futures`` executor whose jobs run on the cluster ``address`` names (started
    here and closed afterwards for ``local:<N>``), and the number of jobs its workers run at once.

    A scheduler that does not answer, or workers that cannot import this project or see its folder,
    are a :class:`ClusterError` naming ``prepare.cluster``.
    """
    import dask
    from dask.distributed import Client, LocalCluster, WorkerPlugin

    class ProjectWorker(WorkerPlugin):
        """Set up on every worker, those that join or restart later too: OpenCV single-threaded, as
        in the local pool's processes (each worker thread runs a job), and the run's working folder."""

        def __init__(self, folder: str) -> None:
            self.folder = folder

        def setup(self, worker) -> None:
            _single_threaded_opencv()
            os.chdir(self.folder)

    with contextlib.ExitStack() as stack:
        # A local cluster's nannies set their workers' variables (OMP_NUM_THREADS=1, ...) in this
        # process's environment too: put it back, or the run's later stages (training) inherit them.
        stack.callback(_restore_environment, dict(os.environ))
        # Dask's INFO lines (each worker's start, each connection) would bury the run's log; its
        # warnings still show. The environment variable quiets a local cluster's worker processes.
        dask_log = logging.getLogger("distributed")
        stack.callback(dask_log.setLevel, dask_log.level)
        dask_log.setLevel(logging.WARNING)
        stack.enter_context(dask.config.set({"distributed.nanny.pre-spawn-environ.DASK_LOGGING__DISTRIBUTED": "warning"}))
        if check_address(address).startswith(LOCAL):
            workers = int(address.removeprefix(LOCAL))
            cluster = stack.enter_context(LocalCluster(n_workers=workers, processes=True, threads_per_worker=1))
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(address))
            except OSError as e:
                raise ClusterError(
                    f"prepare.cluster: no Dask scheduler answers at {address} ({e}). Fix: start it (`dask scheduler` "
                    f"on that machine, `dask worker {address}` on each worker machine), or extract on this machine "
                    f"with `cluster: null` under prepare in {CONF_FILE}"
                ) from None
        try:
            client.register_plugin(ProjectWorker(os.getcwd()), name="mict-pipeline-project-worker")
        except (ImportError, OSError) as e:
            raise ClusterError(
                f"prepare.cluster: the Dask workers at {address} cannot run this project ({type(e).__name__}: {e}). "
                f"Fix: install the project in the workers' environment and put its folder ({os.getcwd()}) on the "
                f"filesystem they share, at the same path; or extract on this machine with `cluster: null` under "
                f"prepare in {CONF_FILE}"
            ) from None
        threads = sum(client.nthreads().values())
        # The scheduler serves its dashboard's pages only with bokeh installed; a terminal shows a progress bar either way.
        logger.info(
            "frame extraction on the Dask cluster at %s (workers: %d, threads: %d); its dashboard, where the scheduler has bokeh: %s",
            client.scheduler.address, len(client.nthreads()), threads, client.dashboard_link,
        )
        if not threads:
            logger.warning("the Dask cluster at %s has no worker yet: the videos wait for one", address)
        # pure=False: extraction writes files, so Dask must run every job it is given. Closing the
        # client releases the jobs left (a stopped batch's), so the executor needs no shutdown.
        yield client.get_executor(pure=False), max(threads, 1)
