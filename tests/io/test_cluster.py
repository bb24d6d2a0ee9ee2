"""Frame extraction on a real Dask cluster of worker processes: the local pool's stores and results,
and a worker that dies mid-run costs nothing but a retry."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from concurrent.futures import Executor, Future
from pathlib import Path
from unittest import mock

import pytest

from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
from mict_pipeline.io.cluster import ClusterError, check_address, cluster_executor
from mict_pipeline.io import frame_store as frames_module
from mict_pipeline.io.frame_store import ExtractResult, extract_many, store_info

SIZE = (32, 24)


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Six short videos of different lengths, a file that is no video and a missing one."""
    folder = tmp_path_factory.mktemp("videos")
    made = [write_video(folder / f"v{i}.avi", render_frames(VideoSpec("Twist", 1, i, 6 + i, seed=i), size=(64, 48))) for i in range(6)]
    (folder / "corrupt.avi").write_bytes(b"not a video")
    return [*made, folder / "corrupt.avi", folder / "missing.avi"]


@pytest.fixture(scope="module")
def local(videos: list[Path], tmp_path_factory: pytest.TempPathFactory) -> list[ExtractResult]:
    """What the local path extracts, in this process."""
    folder = tmp_path_factory.mktemp("local")
    return extract_many([(v, folder / f"{v.stem}.frames") for v in videos], *SIZE, workers=1)


def _same_as_local(results: list[ExtractResult], local: list[ExtractResult]) -> None:
    """The results of ``local`` but for the stores' folder, and the stores byte for byte."""
    assert [(r.video, r.out.name, r.frames, r.error) for r in results] == [(r.video, r.out.name, r.frames, r.error) for r in local]
    assert [r.status for r in results] == ["extracted"] * 6 + ["failed"] * 2
    assert all(r.out.read_bytes() == ours.out.read_bytes() for r, ours in zip(results[:6], local[:6]))
    folder = results[0].out.parent
    assert sorted(p.name for p in folder.iterdir()) == [f"v{i}.frames" for i in range(6)]  # no temporary file left


def test_a_worker_that_dies_mid_run_loses_only_its_video_to_a_retry(videos, local, tmp_path: Path, monkeypatch, caplog) -> None:
    """A cluster of 2 worker processes gives the local path's results and stores byte for byte, though
    a worker dies. Also: the workers, started elsewhere (as a cluster's on other machines), work in
    the run's folder, so the stores' relative paths mean what they mean here; a rerun skips the
    finished stores. (tests/pipelines/test_prepare_formats.py compares whole prepare runs.)"""
    from dask.distributed import Client, LocalCluster, WorkerPlugin

    died = tmp_path / "died"

    class DieOnFirstVideo(WorkerPlugin):
        """The first worker to start a video exits at once, as one the kernel kills."""

        def transition(self, key, start, finish, **kwargs) -> None:
            if finish == "executing":
                try:
                    os.close(os.open(died, os.O_CREAT | os.O_EXCL))
                except FileExistsError:
                    return
                os._exit(1)

    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    pairs = [(v, Path("stores") / f"{v.stem}.frames") for v in videos]
    # patch.dict: the nannies set OMP_NUM_THREADS=1 (and more) in this process too, which later tests would inherit.
    with mock.patch.dict(os.environ), LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster) as client:
        client.register_plugin(DieOnFirstVideo())
        monkeypatch.chdir(tmp_path)
        with caplog.at_level(logging.INFO, logger="mict_pipeline.io.cluster"):
            results = extract_many(pairs, *SIZE, cluster=cluster.scheduler_address)
        again = extract_many(pairs, *SIZE, cluster=cluster.scheduler_address)
    assert (
        f"frame extraction on the Dask cluster at {cluster.scheduler_address} (workers: 2, threads: 2); its dashboard, where the "
        "scheduler has bokeh: http"
    ) in caplog.text
    assert died.is_file()  # a worker died with a video in flight
    assert not any((tmp_path / "elsewhere").iterdir())
    assert [r.status for r in again] == ["skipped"] * 6 + ["failed"] * 2 and [r.frames for r in again] == [r.frames for r in local]
    _same_as_local(results, local)
    assert all(store_info(r.out).n_frames == r.frames for r in results[:6])


@pytest.mark.parametrize("address", ["tcp://scheduler:8786", "tls://10.0.0.1:8786", "local:4"])
def test_cluster_addresses(address: str) -> None:
    assert check_address(address) == address


@pytest.mark.parametrize("address", ["scheduler:8786", "tcp://scheduler", "local:0", "local:", "local"])
def test_what_names_no_cluster_is_refused_with_the_fix(address: str) -> None:
    with pytest.raises(ValueError, match=rf"^'{address}' names no Dask cluster \(in conf/<env>/parameters_prepare.yml\)\. "
                                         r"Fix: `cluster: tcp://<scheduler host>:8786`.*`cluster: null`"):
        check_address(address)


def test_a_scheduler_that_does_not_answer_is_named_with_the_fix(monkeypatch) -> None:
    def no_answer(address):
        raise OSError(f"Timed out trying to connect to {address} after 30 s")

    monkeypatch.setattr("dask.distributed.Client", no_answer)
    with pytest.raises(ClusterError, match=r"^prepare.cluster: no Dask scheduler answers at tcp://nowhere:8786 \(Timed out .*\)\. "
                                           r"Fix: start it \(`dask scheduler` on that machine, `dask worker tcp://nowhere:8786` on each "
                                           r"worker machine\), or extract on this machine with `cluster: null` under prepare in "
                                           r"conf/<env>/parameters_prepare.yml$"):
        with cluster_executor("tcp://nowhere:8786"):
            pass


def test_a_lost_scheduler_ends_the_run_in_one_line_and_fails_no_video(videos, tmp_path: Path, monkeypatch) -> None:
    """A Dask client that loses its scheduler cancels every job it had (seen with a `dask scheduler`
    killed mid-run): the run ends, where it would otherwise wait for ever or call the videos failed."""

    class LostScheduler(Executor):
        def submit(self, fn, *args):
            future = Future()
            future.cancel()
            future.set_running_or_notify_cancel()
            return future

    @contextlib.contextmanager
    def lost(address):
        yield LostScheduler(), 2

    monkeypatch.setattr(frames_module, "cluster_executor", lost)
    extract_many([(videos[0], tmp_path / "v0.frames")], *SIZE, workers=1)
    pairs = [(v, tmp_path / f"{v.stem}.frames") for v in videos]
    with pytest.raises(ClusterError, match=r"^prepare.cluster: the connection to the Dask scheduler was lost mid-run, and with it "
                                           r"the jobs it held\. Fix: start the scheduler and its workers again and rerun; the complete "
                                           r"stores are kept \(0 seen complete in this run\)$"):
        extract_many(pairs, *SIZE, cluster="tcp://scheduler:8786")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v0.frames"]


def test_without_a_cluster_dask_is_never_imported(videos, tmp_path: Path) -> None:
    """Neither the command line, nor prepare's parameters (their cluster key), nor extraction on the
    local pool loads Dask. (The prepare nodes import nothing else that could: not imported, as they
    take seconds.)"""
    code = (
        "import sys\nfrom mict_pipeline.__main__ import main\ntry:\n    main(['--help'])\nexcept SystemExit as done:\n"
        "    assert done.code == 0\n"
        "from mict_pipeline.parameters.prepare import PrepareParams\nfrom mict_pipeline.io.frame_store import extract_many\n"
        "assert PrepareParams.model_validate({'cluster': None}).cluster is None\n"
        f"assert extract_many([({str(videos[0])!r}, {str(tmp_path / 'v.frames')!r})], 32, 24, workers=1)[0].frames\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.endswith("[]\n"), done.stdout + done.stderr
