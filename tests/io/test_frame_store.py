"""Frame store: round trip, random access, determinism, incremental reruns, corrupt inputs."""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import re
import threading
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mict_pipeline.io import frame_store as frames_module
from mict_pipeline.io.disk import InsufficientSpaceError
from mict_pipeline.io.frame_store import (
    video_frames,
    FrameStoreError,
    VideoDecodeError,
    extract_frames,
    extract_many,
    load_frames,
    remove_stale_stores,
    store_info,
)
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video

N_FRAMES = 20


def _make_video(path: Path, n_frames: int = N_FRAMES, seed: int = 7) -> Path:
    return write_video(path, render_frames(VideoSpec("Twist", 1, 1, n_frames, seed)))


def _decode_directly(video: Path, width: int = 256, height: int = 192) -> np.ndarray:
    resized = (cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA) for frame in video_frames(video))
    return np.stack([cv2.cvtColor(frame, cv2.COLOR_BGR2RGB) for frame in resized])


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _make_video(tmp_path_factory.mktemp("videos") / "v_Twist_g01_c01.avi")


@pytest.fixture(scope="module")
def reference(video: Path) -> np.ndarray:
    return _decode_directly(video)


@pytest.fixture(scope="module")
def store(video: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stores") / "v_Twist_g01_c01.frames"
    assert extract_frames(video, out) == N_FRAMES
    return out


def test_round_trip_matches_direct_decode_within_jpeg_tolerance(store: Path, reference: np.ndarray) -> None:
    indices = [0, 13, N_FRAMES - 1, 5]
    frames = load_frames(store, indices)
    assert frames.shape == (4, 192, 256, 3) and frames.dtype == np.uint8
    assert _psnr(frames, reference[indices]) > 35.0
    # RGB, not BGR: swapping channels back must make the match worse.
    assert _psnr(frames[..., ::-1], reference[indices]) < _psnr(frames, reference[indices])


def test_jpeg_frames_decode_exactly_as_opencv(video: Path, store: Path) -> None:
    """The loader's own JPEG decoding gives OpenCV's pixels, bit for bit, for the bytes extraction wrote."""
    resized = [cv2.resize(frame, (256, 192), interpolation=cv2.INTER_AREA) for frame in video_frames(video)]
    encoded = [cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 90])[1] for frame in resized]
    expected = np.stack([cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for data in encoded])
    np.testing.assert_array_equal(load_frames(store, range(N_FRAMES)), expected)


def test_frame_of_the_wrong_size_is_reported(tmp_path: Path) -> None:
    """A frame with intact checksums that decodes to another size than the header's names store and frame."""
    options = frames_module._Options(32, 24, "jpeg", 90, cv2.INTER_AREA)
    small = cv2.imencode(".jpg", np.zeros((24, 32, 3), np.uint8))[1].tobytes()
    large = cv2.imencode(".jpg", np.zeros((48, 32, 3), np.uint8))[1].tobytes()
    out = tmp_path / "mixed.frames"
    frames_module._write_store(out, [small, large], options, frames_module.VideoSource(0, bytes(32)))
    assert load_frames(out, [0]).shape == (1, 24, 32, 3)
    with pytest.raises(FrameStoreError, match=re.escape(str(out)) + ".*frame 1 does not decode to 32x24"):
        load_frames(out, [1])


def test_png_store_is_lossless(video: Path, reference: np.ndarray, tmp_path: Path) -> None:
    out = tmp_path / "lossless.frames"
    extract_frames(video, out, image_format="png")
    np.testing.assert_array_equal(load_frames(out, range(N_FRAMES)), reference)


def test_custom_size_and_header(video: Path, tmp_path: Path) -> None:
    out = tmp_path / "small.frames"
    extract_frames(video, out, width=160, height=120, quality=75, interpolation=cv2.INTER_LINEAR)
    info = store_info(out)
    assert (info.n_frames, info.width, info.height, info.image_format, info.quality) == (N_FRAMES, 160, 120, "jpeg", 75)
    assert load_frames(out, [3]).shape == (1, 120, 160, 3)


@settings(max_examples=30, deadline=None)
@given(indices=st.lists(st.integers(0, N_FRAMES - 1), max_size=20))
def test_random_access_equals_full_decode(store: Path, indices: list[int]) -> None:
    full = load_frames(store, range(N_FRAMES))
    subset = load_frames(store, indices)
    assert subset.shape == (len(indices), 192, 256, 3)
    np.testing.assert_array_equal(subset, full[indices])


def test_out_of_range_index_raises(store: Path) -> None:
    with pytest.raises(IndexError, match=re.escape(str(store))):
        load_frames(store, [0, N_FRAMES])
    with pytest.raises(IndexError):
        load_frames(store, [-1])


def test_re_extraction_is_bit_identical(video: Path, store: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.frames"
    extract_frames(video, again)
    assert again.read_bytes() == store.read_bytes()


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "file not found"), (b"", "empty file"), (b"RIFF" + bytes(range(256)) * 40, "cannot be opened")],
)
def test_bad_video_raises_decode_error_naming_file(tmp_path: Path, content: bytes | None, reason: str) -> None:
    bad = tmp_path / "v_Bad_g01_c01.avi"
    if content is not None:
        bad.write_bytes(content)
    out = tmp_path / "bad.frames"
    with pytest.raises(VideoDecodeError, match=re.escape(str(bad)) + ".*" + reason):
        extract_frames(bad, out)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ([bad.name] if content is not None else [])


def test_truncated_and_corrupt_stores_are_detected(store: Path, tmp_path: Path) -> None:
    data = store.read_bytes()
    assert store_info(store).n_frames == N_FRAMES  # what a rerun checks before it skips a store

    truncated = tmp_path / "truncated.frames"
    truncated.write_bytes(data[:-100])
    header_only = tmp_path / "header_only.frames"
    header_only.write_bytes(data[:20])
    not_a_store = tmp_path / "not_a_store.frames"
    not_a_store.write_bytes(b"\0" * len(data))
    for broken in (truncated, header_only, not_a_store, tmp_path / "missing.frames"):
        with pytest.raises(FrameStoreError, match=re.escape(str(broken))):
            store_info(broken)  # so a rerun extracts it again
        with pytest.raises(FrameStoreError, match=re.escape(str(broken))):
            load_frames(broken, [0])

    # A flipped byte in the last frame leaves the index intact: found by the frame checksum.
    flipped = tmp_path / "flipped.frames"
    flipped.write_bytes(data[:-50] + bytes([data[-50] ^ 0xFF]) + data[-49:])
    assert store_info(flipped).n_frames == N_FRAMES
    load_frames(flipped, [0])
    with pytest.raises(FrameStoreError, match=re.escape(str(flipped)) + ".*frame 19"):
        load_frames(flipped, [N_FRAMES - 1])


def test_extract_many_reports_bad_videos_and_skips_on_rerun(tmp_path: Path) -> None:
    videos = [_make_video(tmp_path / f"v_Twist_g01_c0{i}.avi", n_frames=10 + i, seed=i) for i in (1, 2)]
    corrupt = tmp_path / "v_Twist_g01_c03.avi"
    corrupt.write_bytes(b"not a video")
    missing = tmp_path / "v_Twist_g01_c04.avi"
    jobs = [(v, tmp_path / "frames" / f"{v.stem}.frames") for v in [videos[0], corrupt, videos[1], missing]]

    seen: list[str] = []
    first = extract_many(jobs, workers=2, progress=lambda r: seen.append(r.status))
    assert [r.status for r in first] == ["extracted", "failed", "extracted", "failed"]
    assert sorted(seen) == sorted(r.status for r in first)
    assert [r.video for r in first] == [v for v, _ in jobs]
    assert [r.frames for r in first] == [11, 0, 12, 0]
    assert str(corrupt) in (first[1].error or "") and "file not found" in (first[3].error or "")
    assert not jobs[1][1].exists()

    stamps = {out: out.stat().st_mtime_ns for _, out in jobs if out.exists()}
    second = extract_many(jobs, workers=1)
    assert [r.status for r in second] == ["skipped", "failed", "skipped", "failed"]
    assert [r.frames for r in second] == [11, 0, 12, 0]
    # A skipped store reports what its extraction did: a resumed run's index equals a fresh one's.
    assert [dataclasses.replace(r, status="extracted") for r in second if r.status == "skipped"] == [first[0], first[2]]
    assert {out: out.stat().st_mtime_ns for out in stamps} == stamps

    # Other options, or a damaged store, mean the work is redone.
    jobs[2][1].write_bytes(jobs[2][1].read_bytes()[:-10])
    third = extract_many(jobs[:3], workers=1, quality=80)
    assert [r.status for r in third] == ["extracted", "failed", "extracted"]
    assert store_info(jobs[0][1]).quality == 80 and store_info(jobs[2][1]).n_frames == 12


class _DiskFillsAfter:
    """A file whose disk fills up after ``room`` bytes (OSError ENOSPC), like a real full disk."""

    def __init__(self, file, room: int) -> None:
        self.file, self.room = file, room

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.file.write(bytes(data[: self.room]))
            raise OSError(errno.ENOSPC, "No space left on device")
        self.room -= len(data)
        return self.file.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.file.close()


def test_a_full_disk_stops_extraction_naming_the_space_and_leaves_no_partial_store(tmp_path: Path, monkeypatch) -> None:
    videos = [_make_video(tmp_path / "videos" / f"v{i}.avi", seed=i) for i in range(5)]
    stores = [tmp_path / "stores" / f"v{i}.frames" for i in range(5)]
    victim = stores[2]
    real_open = Path.open

    def open_on_a_filling_disk(self, mode="r", *args, **kwargs):
        file = real_open(self, mode, *args, **kwargs)
        return _DiskFillsAfter(file, 1000) if "w" in mode and self.name.startswith(f".{victim.name}.") else file

    monkeypatch.setattr(Path, "open", open_on_a_filling_disk)
    with pytest.raises(InsufficientSpaceError) as raised:
        extract_many(list(zip(videos, stores)), 64, 48, workers=1)
    message = str(raised.value)
    assert message.startswith(f"{victim}: no space left on the device while writing frame stores (")
    assert re.search(r"the 3 stores not yet written need about [0-9.]+ KiB more \([0-9.]+ KiB a store so far\)", message)
    assert "rerun: the complete stores are kept (2 seen complete in this run), and no partial store was left" in message
    # Nothing half-written: the store is absent, no temporary file is left, those before are complete.
    assert not victim.exists() and sorted(p.name for p in victim.parent.iterdir()) == ["v0.frames", "v1.frames"]
    assert all(store_info(s).n_frames == N_FRAMES for s in stores[:2])

    monkeypatch.undo()  # space freed: the rerun keeps the finished stores and writes the rest
    statuses = [r.status for r in extract_many(list(zip(videos, stores)), 64, 48, workers=1)]
    assert statuses == ["skipped", "skipped", "extracted", "extracted", "extracted"]


def test_extract_many_keeps_only_a_few_jobs_per_worker_queued(tmp_path: Path, monkeypatch) -> None:
    """Jobs go to the pool a few at a time (memory stays flat however many videos), results in order."""
    from concurrent.futures import ThreadPoolExecutor

    videos = [_make_video(tmp_path / "videos" / f"v{i}.avi", n_frames=4, seed=i) for i in range(3)]
    pairs = [(videos[i % 3], tmp_path / "stores" / f"v{i}.frames") for i in range(40)]
    queued, most = [0], [0]

    class CountingPool(ThreadPoolExecutor):
        def submit(self, fn, *args):
            queued[0] += 1
            most[0] = max(most[0], queued[0])
            future = super().submit(fn, *args)
            future.add_done_callback(lambda _: queued.__setitem__(0, queued[0] - 1))
            return future

    monkeypatch.setattr(frames_module, "opencv_pool", CountingPool)
    results = extract_many(pairs, 32, 24, workers=2)
    assert [r.out for r in results] == [out for _, out in pairs] and {r.status for r in results} == {"extracted"}
    assert 2 <= most[0] <= frames_module.JOBS_PER_WORKER * 2


def test_a_rerun_checks_each_video_in_its_job_not_in_the_caller(tmp_path: Path, monkeypatch, caplog) -> None:
    """Whether a store is of its video as it is now reads the whole video: on a cluster that is the
    workers' work, not the caller's, one video after another (worker threads stand in for them)."""
    from concurrent.futures import ThreadPoolExecutor

    videos = [_make_video(tmp_path / f"v{i}.avi", n_frames=4, seed=i) for i in range(3)]
    pairs = [(v, tmp_path / "stores" / f"{v.stem}.frames") for v in videos]
    extract_many(pairs, 32, 24, workers=1)
    _make_video(videos[1], n_frames=5, seed=9)  # another video copied over one
    real_digest, hashed_by = frames_module.file_digest, []

    def digest(path):
        hashed_by.append("caller" if threading.current_thread() is threading.main_thread() else "job")
        return real_digest(path)

    monkeypatch.setattr(frames_module, "file_digest", digest)
    monkeypatch.setattr(frames_module, "opencv_pool", ThreadPoolExecutor)
    with caplog.at_level(logging.INFO, logger=frames_module.__name__):
        results = extract_many(pairs, 32, 24, workers=2)
    assert [(r.status, r.frames) for r in results] == [("skipped", 4), ("extracted", 5), ("skipped", 4)]
    assert hashed_by == ["job"] * 3  # the two kept stores' videos, and the changed one as it is extracted
    assert "1 frame stores were of videos changed since they were written (or recorded none): extracted again" in caplog.text


def test_remove_stale_stores_keeps_the_dataset_and_other_files(tmp_path: Path) -> None:
    """After a dataset change only the stores of its videos stay, so the folder equals a fresh extraction."""
    for name in ("A/v_A_g01_c01.frames", "A/v_A_g25_c01.frames", "B/v_B_g25_c01.frames", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    removed = remove_stale_stores(tmp_path, ["A/v_A_g01_c01.frames"])
    assert removed == [tmp_path / "A/v_A_g25_c01.frames", tmp_path / "B/v_B_g25_c01.frames"]
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["A", "A/v_A_g01_c01.frames", "notes.txt"]


def test_a_store_is_reused_only_while_its_video_is_unchanged(tmp_path: Path) -> None:
    video = _make_video(tmp_path / "v_Twist_g01_c01.avi", n_frames=8)
    out = tmp_path / "frames" / "v_Twist_g01_c01.frames"
    jobs = [(video, out)]
    assert [r.status for r in extract_many(jobs, workers=1)] == ["extracted"]
    os.utime(video, ns=(1, 1))  # touched, or unpacked again from the same archive: same bytes
    assert [r.status for r in extract_many(jobs, workers=1)] == ["skipped"]

    _make_video(video, n_frames=9, seed=3)  # another video copied over it
    assert [(r.status, r.frames) for r in extract_many(jobs, workers=1)] == [("extracted", 9)]
    assert out.read_bytes() == _store_of(video, tmp_path / "fresh.frames")

    # Same size and modification time, other bytes: a member of an archive that changed can be that.
    before, data = video.stat(), bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0xFF
    video.write_bytes(data)
    os.utime(video, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert [r.status for r in extract_many(jobs, workers=1)] == ["extracted"]
    assert out.read_bytes() == _store_of(video, tmp_path / "fresh.frames")

    # A video the job cannot see (a cluster worker without its mount) fails, and its store is left for
    # a rerun that sees it again.
    kept, hidden = out.read_bytes(), video.rename(tmp_path / "elsewhere.avi")
    assert [r.status for r in extract_many(jobs, workers=1)] == ["failed"] and out.read_bytes() == kept
    hidden.rename(video)
    assert [r.status for r in extract_many(jobs, workers=1)] == ["skipped"]

    video.write_bytes(b"junk")  # a video that no longer decodes leaves no store of what it was
    assert [r.status for r in extract_many(jobs, workers=1)] == ["failed"]
    assert not out.exists()


def _store_of(video: Path, out: Path) -> bytes:
    extract_frames(video, out)
    return out.read_bytes()


def test_a_version_1_store_is_read_and_extracted_again(video: Path, store: Path, tmp_path: Path) -> None:
    """Version 1 had no record of the video: its frames still load, and extraction redoes it once."""
    data, v1, v2 = store.read_bytes(), frames_module._HEADERS[1], frames_module._HEADERS[2]
    magic, _, *fields = v2.unpack(data[: v2.size])[:7]
    n = fields[2]
    offsets = np.frombuffer(data, "<u8", n + 1, v2.size) - (v2.size - v1.size)
    index = offsets.astype("<u8").tobytes() + data[v2.size + 8 * (n + 1) : v2.size + 12 * n + 8]
    old = tmp_path / "old.frames"
    crc = zlib.crc32(index, zlib.crc32(v1.pack(magic, 1, *fields, 0)))
    old.write_bytes(v1.pack(magic, 1, *fields, crc) + index + data[v2.size + len(index) :])

    assert store_info(old).source is None
    np.testing.assert_array_equal(load_frames(old, range(N_FRAMES)), load_frames(store, range(N_FRAMES)))
    assert [r.status for r in extract_many([(video, old)], workers=1)] == ["extracted"]
    assert old.read_bytes() == data
