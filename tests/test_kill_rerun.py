"""Kill and rerun: a step killed with SIGKILL in the middle completes on rerun with exactly the
outputs of an uninterrupted run, and leaves no temporary files behind.

Each test starts the step in a subprocess, waits until it is visibly under way (a partial
download, a temporary extraction folder, some frame stores, a first checkpoint), kills it, reruns
it, and compares with a run that was never interrupted.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from mict_pipeline.checkpoint import read_checkpoint
from mict_pipeline.io.archives import extract_archive
from mict_pipeline.io.download import download_file
from mict_pipeline.io.frame_store import extract_many
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video

TESTS = Path(__file__).resolve().parent


def _start(code: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS / "training"), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, stderr=subprocess.PIPE, text=True)


def _kill_when(process: subprocess.Popen, under_way: Callable[[], bool], timeout: float = 120.0) -> None:
    """SIGKILL ``process`` as soon as ``under_way()``; fail if it ends or stalls first."""
    deadline = time.monotonic() + timeout
    while not under_way():
        if process.poll() is not None:
            pytest.fail(f"the step ended (exit {process.returncode}) before it could be killed: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the step did not get under way in time")
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL


def _leftovers(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.endswith((".tmp", ".part")))


class _SlowRangeServer(http.server.ThreadingHTTPServer):
    """Serves one payload slowly (so a download can be killed midway), honouring ``Range: bytes=N-``."""

    def __init__(self, payload: bytes) -> None:
        self.payload, self.ranges = payload, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                start = 0
                if (header := self.headers.get("Range")) and header.startswith("bytes="):
                    start = int(header[len("bytes="):].split("-")[0])
                    server.ranges.append(start)
                body = server.payload[start:]
                self.send_response(206 if start else 200)
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(server.payload) - 1}/{len(server.payload)}")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                try:
                    for i in range(0, len(body), 16384):
                        self.wfile.write(body[i : i + 16384])
                        time.sleep(0.004)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed

            def log_message(self, *args) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_killed_download_resumes_with_range_to_the_same_bytes(tmp_path):
    payload = np.random.default_rng(0).integers(0, 256, 4 << 20, dtype=np.uint8).tobytes()  # ~1 s to serve
    sha256 = hashlib.sha256(payload).hexdigest()
    server = _SlowRangeServer(payload)
    url = f"http://127.0.0.1:{server.server_address[1]}/UCF101.rar"
    dest = tmp_path / "UCF101.rar"
    try:
        process = _start(f"""
            from mict_pipeline.io.download import download_file
            download_file({url!r}, {str(dest)!r}, sha256={sha256!r}, progress=False, retries=0)
        """, tmp_path)
        partial = tmp_path / ".UCF101.rar.part"
        _kill_when(process, lambda: partial.is_file() and partial.stat().st_size > 1 << 20)
        assert not dest.exists()  # only a verified download is ever renamed into place
        kept = partial.stat().st_size

        download_file(url, dest, sha256=sha256, progress=False, retries=0)
    finally:
        server.shutdown()
    assert dest.read_bytes() == payload
    assert server.ranges and server.ranges[-1] >= kept  # resumed, not restarted
    assert _leftovers(tmp_path) == []


def test_killed_archive_extraction_reruns_to_the_same_tree(tmp_path):
    rng = np.random.default_rng(1)
    archive = tmp_path / "UCF101.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(60):  # deflated random bytes: slow enough to kill in the middle
            zf.writestr(f"UCF-101/Class{i % 6}/v_{i:03d}.avi", rng.integers(0, 256, 1 << 20, dtype=np.uint8).tobytes())
    reference = tmp_path / "reference"
    extract_archive(archive, reference)

    dest = tmp_path / "out" / "videos"
    process = _start(f"""
        from mict_pipeline.io.archives import extract_archive
        extract_archive({str(archive)!r}, {str(dest)!r})
    """, tmp_path)
    _kill_when(process, lambda: any(p.name.endswith(".tmp") and any(p.rglob("*.avi")) for p in dest.parent.glob(".videos.*")))
    assert not dest.exists()  # no half tree under the final name
    assert _leftovers(tmp_path / "out")  # the killed run's temporary folder...

    extract_archive(archive, dest)
    assert _leftovers(tmp_path / "out") == []  # ...is removed by the rerun
    files = sorted(p.relative_to(reference) for p in reference.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(dest) for p in dest.rglob("*") if p.is_file())
    assert all((reference / f).read_bytes() == (dest / f).read_bytes() for f in files)


def test_killed_frame_extraction_reruns_to_bit_identical_stores(tmp_path):
    videos = [write_video(tmp_path / "videos" / f"v{i}.avi", render_frames(VideoSpec("ZoomIn", 1, i + 1, 150, 50 + i))) for i in range(12)]

    def pairs(root: Path) -> list[tuple[Path, Path]]:
        return [(v, root / f"{v.stem}.frames") for v in videos]

    extract_many(pairs(tmp_path / "reference"), 256, 192, workers=1)
    stores = tmp_path / "stores"
    process = _start(f"""
        from pathlib import Path
        from mict_pipeline.io.frame_store import extract_many
        videos = sorted(Path({str(tmp_path / "videos")!r}).glob("*.avi"), key=lambda p: int(p.stem[1:]))
        extract_many([(v, Path({str(stores)!r}) / f"{{v.stem}}.frames") for v in videos], 256, 192, workers=1)
    """, tmp_path)
    _kill_when(process, lambda: len(list(stores.glob("*.frames"))) >= 3)
    done_before = len(list(stores.glob("*.frames")))
    assert done_before < len(videos)

    results = extract_many(pairs(stores), 256, 192, workers=1)
    assert sum(r.status == "skipped" for r in results) == done_before  # finished stores are kept
    for (_, ref), (_, out) in zip(pairs(tmp_path / "reference"), pairs(stores), strict=True):
        assert ref.read_bytes() == out.read_bytes(), out.name
    assert _leftovers(stores) == []


TRAIN_SCRIPT = """
    import torch
    from mict_pipeline.clips.dataset import ClipDataset
    from mict_pipeline.training import train
    from tiny_training import CLIPS, index_table, moving_bar_frames, tiny_experiment

    torch.set_num_threads(1)
    experiment = tiny_experiment(epochs=5, lr_milestones=(3,), eval_batch_size=4, seed=3)
    torch.manual_seed(0)
    train(
        experiment.build_model(),
        ClipDataset(index_table(32), "train", CLIPS, seed=3, loader=moving_bar_frames),
        ClipDataset(index_table(4), "clip", CLIPS, loader=moving_bar_frames),
        experiment, {out!r}, progress=False,
    )
"""


def test_killed_training_resumes_to_the_same_final_weights(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert _start(TRAIN_SCRIPT.format(out=str(straight)), tmp_path).wait(timeout=600) == 0

    process = _start(TRAIN_SCRIPT.format(out=str(resumed)), tmp_path)
    _kill_when(process, lambda: (resumed / "last.pt").is_file(), timeout=600)  # killed after its first epoch
    assert 1 <= read_checkpoint(resumed / "last.pt").training["epoch"] < 5
    assert _start(TRAIN_SCRIPT.format(out=str(resumed)), tmp_path).wait(timeout=600) == 0

    final = [read_checkpoint(d / "last.pt") for d in (straight, resumed)]
    assert final[0].training["epoch"] == final[1].training["epoch"] == 5
    for key, value in final[0].state_dict.items():
        assert torch.equal(value, final[1].state_dict[key]), key
    for name in ("best.pt", "last.pt"):  # the same bytes: DVC sees the same output
        assert (straight / name).read_bytes() == (resumed / name).read_bytes(), name
    assert _leftovers(tmp_path) == []
