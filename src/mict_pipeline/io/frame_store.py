"""Frame store: every frame of a video, resized and image-encoded, packed into one file per video.

One file per video instead of one per frame: UCF-101 has about 2.5 million frames, and DVC and
file systems slow down on millions of small files. Every frame is a separately encoded image
(JPEG by default), so any frame is read and decoded without touching the others.

File layout (little-endian)::

    header   magic b"MICTFRM\\0", u32 version (2), 4-byte codec ("JPEG" or lossless "PNG "),
             u32 quality, u32 n_frames, u32 width, u32 height,
             u64 size and 32-byte sha256 of the video it was extracted from,
             u32 crc32 of the header (this field zeroed) and the index
    index    u64 offsets[n_frames + 1] (absolute; offsets[n] is the file size),
             u32 crc32[n_frames] of each frame's bytes
    payload  the encoded frames, back to back

Why JPEG (quality 90): measured at 256x192 on one core (``benchmarks/frame_store_formats.py``,
docs/benchmarks.md) on a procedural natural-looking video and on a synthetic one, JPEG q90 takes
4.9 / 6.3 KiB per frame (14.0 on a pan over a real photograph) and 0.18 ms to read and decode a
random frame (0.23 on the photograph), at 37.6 / 42.9 dB PSNR against the lossless frames. Raw
uint8 ``.npy`` (memory-mapped) reads in 0.02 ms but takes 144 KiB per frame, 20-30x more (about
340 GiB for UCF-101's 2.5 million frames); lossless PNG takes 30 / 53 KiB and 0.8-1.2 ms; WebP q90
is about half JPEG's size but 1.3-1.9x slower to decode and 25x slower to encode.

There is no timestamp or path in the file, so the same video and options give a bit-identical
store. The video is recorded by size and sha256, not modification time (which would make stores
differ by when a video was unpacked): a rerun reuses a store only while its video has the same
bytes, so a replaced video is extracted again even at the same size and time, and one unpacked
again unchanged keeps its store. Version 1 stores, which did not record their video, are still
read; extraction redoes them once. The index checksum and ``offsets[n] == file size`` catch
truncated or overwritten stores without decoding anything; the per-frame checksums catch
corrupted frame bytes when they are read.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import struct
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Executor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import cv2
import numpy as np
import simplejpeg
from pydantic import Field, PositiveInt
from tqdm import tqdm

from mict_pipeline.config import Params
from mict_pipeline.errors import UserError
from mict_pipeline.io.atomic import atomic_path
from mict_pipeline.io.cluster import cluster_executor, scheduler_lost
from mict_pipeline.io.digest import file_digest
from mict_pipeline.io.disk import InsufficientSpaceError, format_bytes, free_space
from mict_pipeline.io.workers import available_cores, opencv_pool

logger = logging.getLogger(__name__)

#: File name suffixes taken as videos where a folder is searched (prediction, a folder dataset).
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v", ".wmv", ".flv")

# FFmpeg's own log lines (e.g. "moov atom not found" for a file that is no video) would come on top of
# the error naming the file that every unreadable video gets here; set the variable to see them.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

MAGIC = b"MICTFRM\x00"
VERSION = 2
_HEADERS = {1: struct.Struct("<8sI4sIIIII"), 2: struct.Struct("<8sI4sIIIIQ32sI")}
_HEADER = _HEADERS[VERSION]
_PREFIX = struct.Struct("<8sI")  # magic and version: which header follows

ImageFormat = Literal["jpeg", "png"]
_CODECS: dict[ImageFormat, bytes] = {"jpeg": b"JPEG", "png": b"PNG "}
_FORMATS: dict[bytes, ImageFormat] = {codec: name for name, codec in _CODECS.items()}


class VideoDecodeError(ValueError):
    """A video cannot be opened or yields no frames; the message names the file and the reason."""


class FrameStoreError(UserError, ValueError):
    """A frame store file is missing, truncated or corrupt; the message names the file."""


class FrameSpec(Params):
    """How the frames of every video are stored: resized to ``width`` x ``height`` and JPEG-encoded
    at ``quality``. The defaults are the original recipe's frames."""

    width: PositiveInt = 256
    height: PositiveInt = 192
    quality: int = Field(90, ge=1, le=100)


@dataclass(frozen=True)
class VideoSource:
    """What a frame store was extracted from: the video's size and the sha256 of its bytes."""

    size: int
    sha256: bytes

    @classmethod
    def of(cls, video: Path) -> VideoSource:
        """The record of ``video`` as it is now; OSError when it cannot be read."""
        return cls(video.stat().st_size, bytes.fromhex(file_digest(video)))


@dataclass(frozen=True)
class FrameStoreInfo:
    """Header of a frame store; ``source`` is None in a version 1 store, which did not record it."""

    n_frames: int
    width: int
    height: int
    image_format: ImageFormat
    quality: int
    source: VideoSource | None = None


@dataclass(frozen=True)
class _Index:
    info: FrameStoreInfo
    offsets: np.ndarray  # int64, n_frames + 1
    crcs: np.ndarray  # uint32, n_frames


@dataclass(frozen=True)
class ExtractResult:
    """Outcome of extracting one video in :func:`extract_many`: the same for a store extracted now
    and one skipped as complete, so a resumed run reports what an uninterrupted one does."""

    video: Path
    out: Path
    status: Literal["extracted", "skipped", "failed"]
    frames: int = 0
    error: str | None = None
    #: The store there was of these options but not of the video as it is now (or recorded none), so
    #: it was redone; how the run went, not what it made, so results compare equal without it.
    video_changed: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class _Options:
    width: int
    height: int
    image_format: ImageFormat
    quality: int
    interpolation: int

    def __post_init__(self) -> None:
        if self.width < 1 or self.height < 1:
            raise ValueError(f"frame size must be positive, got {self.width}x{self.height}")
        if self.image_format not in _CODECS:
            raise ValueError(f"image_format must be one of {sorted(_CODECS)}, got {self.image_format!r}")
        if not 0 <= self.quality <= 100:
            raise ValueError(f"quality must be in [0, 100], got {self.quality}")

    def encoder(self) -> tuple[str, list[int]]:
        """cv2.imencode extension and parameters."""
        if self.image_format == "jpeg":
            return ".jpg", [cv2.IMWRITE_JPEG_QUALITY, self.quality]
        return ".png", [cv2.IMWRITE_PNG_COMPRESSION, 3]  # lossless: quality does not apply

    def matches(self, info: FrameStoreInfo) -> bool:
        """Whether a store with header ``info`` was written with these options."""
        return (info.width, info.height, info.image_format, info.quality) == (
            self.width, self.height, self.image_format, self.quality,
        )


@contextlib.contextmanager
def _open_video(video: Path) -> Iterator[cv2.VideoCapture]:
    """An opened capture of ``video``, or :class:`VideoDecodeError` naming why it cannot be read."""
    if not video.is_file():
        raise VideoDecodeError(f"{video}: file not found")
    if video.stat().st_size == 0:
        raise VideoDecodeError(f"{video}: empty file (0 bytes)")
    capture = cv2.VideoCapture(str(video))
    try:
        if not capture.isOpened():
            raise VideoDecodeError(f"{video}: cannot be opened as a video (corrupt or unsupported format)")
        yield capture
    finally:
        capture.release()


def _read_frames(capture: cv2.VideoCapture, video: Path) -> Iterator[np.ndarray]:
    """Frames until decoding stops (the container's frame count is often wrong); at least one."""
    decoded = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        decoded += 1
        yield frame
    if not decoded:
        raise VideoDecodeError(f"{video}: no frame could be decoded")


def video_frames(video: str | os.PathLike) -> Iterator[np.ndarray]:
    """Every frame of ``video`` as OpenCV decodes it (BGR uint8), read until decoding stops.

    Raises :class:`VideoDecodeError` naming the file when it is missing, empty, cannot be opened or
    yields no frame.
    """
    video = Path(video)
    with _open_video(video) as capture:
        yield from _read_frames(capture, video)


def _decode_video(video: Path, options: _Options) -> tuple[VideoSource, list[bytes]]:
    """The record of ``video`` and its encoded frames."""
    ext, params = options.encoder()
    size = (options.width, options.height)
    payloads: list[bytes] = []
    with _open_video(video) as capture:
        source = VideoSource.of(video)  # before decoding: a video replaced meanwhile is found changed next time
        for frame in _read_frames(capture, video):
            if frame.shape[1::-1] != size:
                frame = cv2.resize(frame, size, interpolation=options.interpolation)
            ok, encoded = cv2.imencode(ext, frame, params)
            if not ok:
                raise RuntimeError(f"{video}: cv2.imencode failed on frame {len(payloads)}")
            payloads.append(encoded.tobytes())
    return source, payloads


def _header(options: _Options, n_frames: int, source: VideoSource, index_crc: int) -> bytes:
    codec = _CODECS[options.image_format]
    return _HEADER.pack(
        MAGIC, VERSION, codec, options.quality, n_frames, options.width, options.height, source.size, source.sha256,
        index_crc,
    )


def _write_store(out: Path, payloads: Sequence[bytes], options: _Options, source: VideoSource) -> None:
    n = len(payloads)
    start = _HEADER.size + 8 * (n + 1) + 4 * n
    offsets = np.zeros(n + 1, "<u8")
    offsets[0] = start
    offsets[1:] = start + np.cumsum([len(p) for p in payloads])
    crcs = np.array([zlib.crc32(p) for p in payloads], "<u4")
    index = offsets.tobytes() + crcs.tobytes()
    # The checksum covers the header too (with its own field zeroed), so a damaged header is caught.
    index_crc = zlib.crc32(index, zlib.crc32(_header(options, n, source, 0)))
    with atomic_path(out) as tmp, tmp.open("wb") as f:
        f.write(_header(options, n, source, index_crc))
        f.write(index)
        for payload in payloads:
            f.write(payload)


def _extract(video: Path, out: Path, options: _Options) -> int:
    source, payloads = _decode_video(video, options)
    _write_store(out, payloads, options, source)
    return len(payloads)


def extract_frames(
    video: str | os.PathLike,
    out: str | os.PathLike,
    width: int = 256,
    height: int = 192,
    *,
    image_format: ImageFormat = "jpeg",
    quality: int = 90,
    interpolation: int = cv2.INTER_AREA,
) -> int:
    """Decode every frame of ``video``, resize to ``width`` x ``height`` and write the store ``out``.

    ``quality`` is the JPEG quality (ignored by lossless ``"png"``); ``interpolation`` a cv2 flag.
    Returns the number of frames written. The store is written atomically, so ``out`` is either
    absent, the previous version, or complete. Raises :class:`VideoDecodeError` when the video is
    missing, empty, cannot be opened or yields no frame.
    """
    options = _Options(width, height, image_format, quality, interpolation)
    return _extract(Path(video), Path(out), options)


def _read_index(f: BinaryIO, path: Path) -> _Index:
    size = os.fstat(f.fileno()).st_size
    header = f.read(_PREFIX.size)
    magic, version = _PREFIX.unpack(header) if len(header) == _PREFIX.size else (header, None)
    if version is not None and magic != MAGIC:
        raise FrameStoreError(f"{path}: not a frame store (bad magic)")
    layout = _HEADERS.get(version, _HEADER)
    header += f.read(layout.size - len(header))
    if len(header) < layout.size:
        raise FrameStoreError(f"{path}: truncated frame store ({size} bytes, no complete header)")
    if version not in _HEADERS:
        raise FrameStoreError(f"{path}: frame store version {version}, this code reads versions up to {VERSION}")
    *fields, index_crc = layout.unpack(header)
    codec, quality, n, width, height = fields[2:7]
    source = VideoSource(*fields[7:]) if version >= 2 else None
    if codec not in _FORMATS:
        raise FrameStoreError(f"{path}: unknown image codec {codec!r}")
    index_size = 8 * (n + 1) + 4 * n
    if layout.size + index_size > size:
        raise FrameStoreError(f"{path}: truncated frame store ({size} bytes, index of {n} frames does not fit)")
    index = f.read(index_size)
    unsealed = layout.pack(*fields, 0)
    if zlib.crc32(index, zlib.crc32(unsealed)) != index_crc:
        raise FrameStoreError(f"{path}: corrupt frame store (index checksum mismatch)")
    offsets = np.frombuffer(index, "<u8", count=n + 1).astype(np.int64)
    crcs = np.frombuffer(index, "<u4", offset=8 * (n + 1))
    if offsets[-1] != size:
        raise FrameStoreError(f"{path}: truncated frame store ({size} bytes, index expects {offsets[-1]})")
    info = FrameStoreInfo(
        n_frames=n, width=width, height=height, image_format=_FORMATS[codec], quality=quality, source=source,
    )
    return _Index(info, offsets, crcs)


@contextlib.contextmanager
def _open_store(path: Path) -> Iterator[tuple[BinaryIO, _Index]]:
    try:
        f = path.open("rb")
    except OSError as e:
        raise FrameStoreError(f"{path}: cannot open frame store ({e.strerror})") from e
    with f:
        yield f, _read_index(f, path)


def _read_frame(f: BinaryIO, path: Path, index: _Index, frame: int) -> bytes:
    start, end = int(index.offsets[frame]), int(index.offsets[frame + 1])
    f.seek(start)
    data = f.read(end - start)
    if len(data) != end - start or zlib.crc32(data) != int(index.crcs[frame]):
        raise FrameStoreError(f"{path}: corrupt frame store (frame {frame} checksum mismatch)")
    return data


def store_info(path: str | os.PathLike) -> FrameStoreInfo:
    """Header of the store ``path``; reads only the header and index. Raises :class:`FrameStoreError`."""
    with _open_store(Path(path)) as (_, index):
        return index.info


def read_encoded_frames(path: str | os.PathLike, indices: Sequence[int] | np.ndarray) -> tuple[FrameStoreInfo, list[bytes]]:
    """The store's header and the encoded bytes of frames ``indices`` (checksums verified), not decoded.

    Reads only the header, the index and the requested frames. Raises :class:`FrameStoreError` on a
    corrupt store and IndexError on an index outside ``[0, n_frames)``.
    """
    path = Path(path)
    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    with _open_store(path) as (f, index):
        info = index.info
        if wanted.size and (wanted.min() < 0 or wanted.max() >= info.n_frames):
            raise IndexError(
                f"{path}: frame indices must be in [0, {info.n_frames}), got {wanted.min()}..{wanted.max()}"
            )
        return info, [_read_frame(f, path, index, frame) for frame in wanted.tolist()]


def load_frames(path: str | os.PathLike, indices: Sequence[int] | np.ndarray) -> np.ndarray:
    """Frames ``indices`` of the store ``path`` as a ``(len(indices), height, width, 3)`` uint8 RGB array.

    Reads only the header, the index and the requested frames; a frame repeated in ``indices``
    (looped short videos) is read and decoded once. Raises :class:`FrameStoreError` on a corrupt
    store and IndexError on an index outside ``[0, n_frames)``.
    """
    wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
    unique, inverse = np.unique(wanted, return_inverse=True)
    info, encoded = read_encoded_frames(path, unique)
    frames = np.empty((len(unique), info.height, info.width, 3), np.uint8)
    for row, (frame, data) in enumerate(zip(unique.tolist(), encoded, strict=True)):
        if not _decode_into(data, info.image_format, frames[row]):
            raise FrameStoreError(
                f"{path}: corrupt frame store (frame {frame} does not decode to {info.width}x{info.height})"
            )
    return frames if np.array_equal(unique, wanted) else frames[inverse]


def _decode_into(data: bytes, image_format: ImageFormat, out: np.ndarray) -> bool:
    """Decode one encoded frame as RGB into the uint8 (H, W, 3) array ``out``; False if it does not fit exactly.

    JPEG goes through simplejpeg: the same libjpeg-turbo decoding as ``cv2.imdecode`` (bit-identical
    pixels), but straight into ``out`` and in RGB, 20-25% faster than ``cv2.imdecode`` followed by a
    BGR -> RGB pass (``benchmarks/loader_speed.py``); decoding is over half of a training clip's cost.
    """
    if image_format == "jpeg":
        try:
            image = simplejpeg.decode_jpeg(data, "RGB", buffer=out)
        except ValueError:
            return False
        return image.shape == out.shape
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if image is None or image.shape != out.shape:
        return False
    cv2.cvtColor(image, cv2.COLOR_BGR2RGB, dst=out)
    return True


def _disk_full(error: BaseException) -> bool:
    return isinstance(error, OSError) and error.errno == errno.ENOSPC


def _extract_result(video: Path, out: Path, options: _Options, skip_existing: bool) -> ExtractResult:
    """The job of one video: its store kept when ``skip_existing`` and it is complete, of ``options``
    and of the video as it is now, else extracted. The check reads the whole video, so it runs here,
    wherever the job runs, and not serially in the caller."""
    info = _existing_info(out) if skip_existing else None
    matching = info is not None and options.matches(info)
    if matching and _made_from(info, video):
        return ExtractResult(video, out, "skipped", frames=info.n_frames)
    try:
        frames = _extract(video, out, options)
    # One bad video must not stop a batch of thousands: every failure becomes a reported result,
    # except a full disk, which would fail every video after it (extract_many stops the batch).
    except Exception as e:
        if _disk_full(e):
            raise
        reason = str(e) if isinstance(e, VideoDecodeError) else f"{video}: {type(e).__name__}: {e}"
        # A store of what the video was before is none of it now; one whose video this worker cannot
        # see (a cluster worker without the videos' mount) may still be good, and is left.
        if video.is_file():
            with contextlib.suppress(OSError):
                out.unlink(missing_ok=True)
        return ExtractResult(video, out, "failed", error=reason)
    return ExtractResult(video, out, "extracted", frames=frames, video_changed=matching)


def _existing_info(path: Path) -> FrameStoreInfo | None:
    try:
        return store_info(path)
    except (FrameStoreError, OSError):  # one that cannot be read (say EIO) is redone; its job reports
        return None


def _made_from(info: FrameStoreInfo, video: Path) -> bool:
    """Whether a store with header ``info`` was extracted from ``video`` as it is now: same size,
    then same digest (a version 1 store recorded neither)."""
    try:
        same_size = info.source is not None and info.source.size == video.stat().st_size
        return same_size and info.source == VideoSource.of(video)
    except OSError:  # a missing video: its extraction says so
        return False


def _seen_complete(results: Sequence[ExtractResult | None]) -> list[ExtractResult]:
    """The results of this run whose store is complete: extracted, or skipped as finished before.
    (Stores whose jobs have not reported are not read here: that would read them all in this process.)"""
    return [r for r in results if r is not None and r.frames > 0 and r.out.is_file()]


def _out_of_space(out: Path, results: Sequence[ExtractResult | None]) -> InsufficientSpaceError:
    """The error of a batch stopped by a full disk at store ``out``: free space, and an estimate of
    what the stores not yet reported need from the mean size of those seen complete."""
    complete = [r.out.stat().st_size for r in _seen_complete(results)]
    remaining = sum(r is None for r in results)
    free, probe = free_space(out.parent)
    if complete:
        mean = sum(complete) / len(complete)
        need = f"about {format_bytes(int(mean * remaining))} more ({format_bytes(int(mean))} a store so far)"
    else:
        need = "more than is free (no store was complete yet to measure)"
    return InsufficientSpaceError(
        f"{out}: no space left on the device while writing frame stores ({format_bytes(free)} free in {probe}); "
        f"the {remaining} stores not yet written need {need}. Free the space or point frames_dir at a larger "
        f"disk, then rerun: the complete stores are kept ({len(complete)} seen complete in this run), and no partial store was left."
    )


JOBS_PER_WORKER = 4


def _worker_failed(pair: tuple[Path, Path], error: Exception) -> ExtractResult:
    """A worker that dies (say, a codec segfault) breaks the pool, or on a cluster kills a video's
    every retry: its videos are reported, not raised."""
    return ExtractResult(*pair, "failed", error=f"{pair[0]}: worker failed: {type(error).__name__}: {error}")


def _extract_in_parallel(
    pairs: Sequence[tuple[Path, Path]], options: _Options, skip_existing: bool, workers: int, cluster: str | None,
    record: Callable[[int, ExtractResult], None], results: Sequence[ExtractResult | None],
) -> None:
    """Run every pair's job on :func:`_executor`'s executor, ``record``-ing each result as it comes;
    a full disk or a lost Dask scheduler stops the batch, its error counting the stores seen complete."""
    with _executor(workers, cluster) as (pool, slots):
        # A few jobs per worker in flight, not every video at once: memory stays flat however
        # many videos there are (13,320 queued jobs cost about 130 MB).
        queue, futures = deque(range(len(pairs))), {}
        while queue or futures:
            while queue and len(futures) < JOBS_PER_WORKER * slots:
                i = queue.popleft()
                try:
                    futures[pool.submit(_extract_result, *pairs[i], options, skip_existing)] = i
                except BrokenProcessPool as e:
                    record(i, _worker_failed(pairs[i], e))
            finished, _ = wait(futures, return_when=FIRST_COMPLETED)
            for future in finished:
                i = futures.pop(future)
                try:
                    result = future.result()
                except CancelledError as e:  # only a Dask client cancels jobs itself: when it lost its scheduler
                    raise scheduler_lost(len(_seen_complete(results))) from e
                except Exception as e:
                    if _disk_full(e):
                        for queued in futures:
                            queued.cancel()
                        raise _out_of_space(pairs[i][1], results) from e
                    result = _worker_failed(pairs[i], e)
                record(i, result)


@contextlib.contextmanager
def _executor(workers: int, cluster: str | None) -> Iterator[tuple[Executor, int]]:
    """The executor of the extraction jobs, and how many it runs at once: the Dask cluster that
    ``cluster`` names (:mod:`mict_pipeline.io.cluster`), else a pool of ``workers`` local processes."""
    if cluster is None:
        with opencv_pool(workers) as pool:
            yield pool, workers
    else:
        with cluster_executor(cluster) as (executor, threads):
            yield executor, threads


def extract_many(
    videos: Sequence[tuple[str | os.PathLike, str | os.PathLike]],
    width: int = 256,
    height: int = 192,
    *,
    workers: int | None = None,
    cluster: str | None = None,
    skip_existing: bool = True,
    image_format: ImageFormat = "jpeg",
    quality: int = 90,
    interpolation: int = cv2.INTER_AREA,
    progress: Callable[[ExtractResult], None] | None = None,
) -> list[ExtractResult]:
    """Extract many ``(video, store)`` pairs in parallel; results come back in input order.

    Never raises for a bad video: its result has status ``"failed"`` and the reason. With
    ``skip_existing`` a store that is already complete and was written with the same size, format
    and quality from the video as it is now (same size and sha256: each such video is read once
    to check, by its own job, so on the workers or the cluster's workers) is not redone (status
    ``"skipped"``), so an interrupted run resumes where it stopped and a replaced video is
    extracted again; a video that fails loses its old store.
    ``workers`` defaults to every available core; 1 runs in this process. Workers are spawned, so
    a calling script needs the ``if __name__ == "__main__":`` guard. ``cluster``, a Dask
    scheduler's address (``tcp://<host>:<port>``) or ``local:<N>``, runs the same jobs on that
    cluster instead (:mod:`mict_pipeline.io.cluster`; ``workers`` does not apply). ``progress`` is
    called in this process with each result as it completes; a terminal also shows a progress bar.
    """
    options = _Options(width, height, image_format, quality, interpolation)  # validates before any work
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    pairs = [(Path(v), Path(o)) for v, o in videos]
    results: list[ExtractResult | None] = [None] * len(pairs)

    with tqdm(total=len(pairs), desc="frame stores", unit="video", disable=None, leave=False) as bar:

        def record(i: int, result: ExtractResult) -> None:
            results[i] = result
            bar.update()
            if progress:
                progress(result)

        workers = min(workers or available_cores(), len(pairs))
        if pairs and (workers > 1 or cluster is not None):
            _extract_in_parallel(pairs, options, skip_existing, workers, cluster, record, results)
        else:
            for i, pair in enumerate(pairs):
                try:
                    record(i, _extract_result(*pair, options, skip_existing))
                except OSError as e:  # only a full disk gets here
                    raise _out_of_space(pair[1], results) from e

    done = [r for r in results if r is not None]
    changed = sum(r.video_changed for r in done)
    if changed:
        logger.info("%d frame stores were of videos changed since they were written (or recorded none): extracted again", changed)
    counts = {s: sum(r.status == s for r in done) for s in ("extracted", "skipped", "failed")}
    logger.info("frame extraction: %(extracted)d extracted, %(skipped)d skipped, %(failed)d failed", counts)
    return done


def remove_stale_stores(folder: str | os.PathLike, keep: Sequence[str | os.PathLike]) -> list[Path]:
    """Delete the frame stores (``*.frames``) under ``folder`` that are not in ``keep`` (paths
    relative to ``folder``), and the folders they leave empty; returns what was deleted.

    Extraction keeps complete stores across reruns; after the dataset changes, stores of videos it
    no longer has would otherwise stay, and the folder would differ from one extracted afresh.
    """
    root = Path(folder)
    wanted = {Path(p) for p in keep}
    stale = sorted(p for p in root.rglob("*.frames") if p.relative_to(root) not in wanted)
    for path in stale:
        path.unlink()
    for directory in sorted({p.parent for p in stale}, key=lambda d: len(d.parts), reverse=True):
        if directory != root and not any(directory.iterdir()):
            directory.rmdir()
    return stale
