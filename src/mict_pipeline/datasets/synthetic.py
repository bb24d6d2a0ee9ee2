"""Seeded synthetic stand-in for UCF-101: real MPEG-4 AVI videos, UCF-101 names, official split lists.

The output is the two archives the real pipeline downloads, so every stage after the download runs
unchanged on it:

* ``UCF101.zip`` (stands in for ``UCF101.rar``, which cannot be written here): top folder
  ``UCF-101/<Class>/v_<Class>_gGG_cCC.avi``; 320x240, 25 fps, MPEG-4 Part 2 with fourcc ``XVID``
  like the originals.
* ``UCF101TrainTestSplits-RecognitionTask.zip``: ``ucfTrainTestlist/classInd.txt``,
  ``trainlist0N.txt`` and ``testlist0N.txt`` (N = 1..3) in the official format, CRLF line endings,
  with the official group protocol: split 1 tests groups g01-g07, split 2 g08-g14, split 3 g15-g21;
  g22-g25 are always training groups.

Each video is a random-dot kinematogram, the classic motion-only stimulus: a moving view of a
field of soft-edged coloured dots on black that fills the whole frame, like a camera moving over
a starry wall. Dot positions, sizes and colours, the base scale and orientation, the centre of
zooms and twists, and the video length are drawn at random for every video, independently of the
class. Classes differ only in how the field moves, so no single frame tells the class; only
temporal modelling can. A full-frame field rather than an object on a background is deliberate:
an object moving up would sit low in the first frames and high in the last, so its position alone
would hint at the class. Dots rather than a rich texture, because every frame of every video then
looks alike to a network learning from scratch: with textures of varied colour and scale, a
ResNet-18 trained from scratch for minutes fits the textures and never finds the motion
(measured in ``docs/benchmarks.md``). The motions are chosen to survive the training augmentations:

* horizontal flips map every class onto itself (so there is no left/right or clockwise/
  counter-clockwise pair, which a flip would swap);
* temporal down-sampling by 1-4x keeps every class recognisable (speeds and amplitudes are drawn
  at random and are never the cue; oscillations last 10-16 frames per period, so any 16-frame
  clip holds a full period and a reversal, which tells a sway from a move and a pulse from a zoom);
* random 128-192 px crops of the 256x192 frames all show the motion, as every pixel moves;
* motions are small (a few pixels per frame at 320x240), so after the demo shrinks frames to
  64x48 and a 4x temporal down-sampling, a dot still moves less than its own spacing between the
  frames a 3D kernel sees.

Classes (:data:`MOTIONS`):

==================  ========================================================================
``MoveUp``          the field moves upwards at a constant speed (2.5-4.5 px/frame, 500 px at most)
``MoveDown``        the field moves downwards at a constant speed
``ZoomIn``          the field grows steadily (scale rate 1.5-3 %/frame, at most 4x in all)
``ZoomOut``         the field shrinks steadily
``SwayHorizontal``  the field swings left and right (sine, amplitude 30-50 px)
``BobVertical``     the field swings up and down (sine, amplitude 30-50 px)
``Pulse``           the field periodically grows and shrinks (sine in log-scale, +-17-30 %)
``Twist``           the field rotates back and forth (sine, +-22-40 degrees)
==================  ========================================================================

Every video is generated from its own random stream derived from (seed, class name, group,
clip), so a video does not change when others are added or removed. OpenCV's FFmpeg writer is
byte-deterministic for the same frames, and the archives use fixed timestamps and sorted entries,
so the same seed and options give the same archive checksums with the same OpenCV/FFmpeg build.
The encoder embeds its FFmpeg version, so the checksums are computed at generation time and
returned rather than hard-coded.
"""

from __future__ import annotations

import functools
import math
import statistics
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from mict_pipeline.datasets.ucf101 import (
    CLASS_NAMES,
    CLIPS_PER_GROUP,
    GROUPS,
    LIST_SPELLING,
    SPLITS,
    TEST_GROUPS_PER_SPLIT,
    split_test_groups,
)
from mict_pipeline.io.atomic import atomic_path
from mict_pipeline.io.download import file_digest
from mict_pipeline.io.workers import available_cores, opencv_pool

WIDTH = 320
HEIGHT = 240
FPS = 25.0
FOURCC = "XVID"
VIDEOS_ARCHIVE = "UCF101.zip"
SPLITS_ARCHIVE = "UCF101TrainTestSplits-RecognitionTask.zip"
VIDEOS_TOP = "UCF-101"
SPLITS_TOP = "ucfTrainTestlist"

# Fixed archive metadata: entries must not depend on when or where they were written.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_UNIX = 3

_CANVAS = 512  # side of the square dot field each video is a moving view of
_DOTS = 1500
_MAX_TRAVEL_PX = 500.0  # beyond the canvas the view continues into its mirror image
_MAX_ZOOM_LOG = math.log(4.0)


@dataclass(frozen=True)
class Trajectory:
    """Per-frame motion of the pattern, relative to its random initial pose (pixels at 320x240)."""

    dx: np.ndarray  # right is positive
    dy: np.ndarray  # down is positive
    log_scale: np.ndarray
    angle: np.ndarray  # degrees, counter-clockwise


def _centred(n_frames: int) -> np.ndarray:
    """Frame times centred on the middle frame, so monotone motions are symmetric about the initial pose."""
    return np.arange(n_frames, dtype=np.float64) - (n_frames - 1) / 2


def _oscillation(rng: np.random.Generator, n_frames: int) -> np.ndarray:
    period = rng.uniform(10.0, 16.0)
    phase = rng.uniform(0.0, 2 * math.pi)
    return np.sin(2 * math.pi * np.arange(n_frames) / period + phase)


def _trajectory(
    n_frames: int, *, dx: np.ndarray | None = None, dy: np.ndarray | None = None,
    log_scale: np.ndarray | None = None, angle: np.ndarray | None = None,
) -> Trajectory:
    zero = np.zeros(n_frames)
    return Trajectory(
        dx=zero if dx is None else dx,
        dy=zero if dy is None else dy,
        log_scale=zero if log_scale is None else log_scale,
        angle=zero if angle is None else angle,
    )


def _translation(sign: float) -> Callable[[np.random.Generator, int], Trajectory]:
    def motion(rng: np.random.Generator, n_frames: int) -> Trajectory:
        speed = min(rng.uniform(2.5, 4.5), _MAX_TRAVEL_PX / max(n_frames - 1, 1))
        return _trajectory(n_frames, dy=sign * speed * _centred(n_frames))

    return motion


def _zoom(sign: float) -> Callable[[np.random.Generator, int], Trajectory]:
    def motion(rng: np.random.Generator, n_frames: int) -> Trajectory:
        rate = min(rng.uniform(0.015, 0.03), _MAX_ZOOM_LOG / max(n_frames - 1, 1))
        return _trajectory(n_frames, log_scale=sign * rate * _centred(n_frames))

    return motion


def _sway(rng: np.random.Generator, n_frames: int) -> Trajectory:
    return _trajectory(n_frames, dx=rng.uniform(30.0, 50.0) * _oscillation(rng, n_frames))


def _bob(rng: np.random.Generator, n_frames: int) -> Trajectory:
    return _trajectory(n_frames, dy=rng.uniform(30.0, 50.0) * _oscillation(rng, n_frames))


def _pulse(rng: np.random.Generator, n_frames: int) -> Trajectory:
    return _trajectory(n_frames, log_scale=rng.uniform(0.175, 0.3) * _oscillation(rng, n_frames))


def _twist(rng: np.random.Generator, n_frames: int) -> Trajectory:
    return _trajectory(n_frames, angle=rng.uniform(22.5, 40.0) * _oscillation(rng, n_frames))


MOTIONS: dict[str, Callable[[np.random.Generator, int], Trajectory]] = {
    "MoveUp": _translation(-1.0),
    "MoveDown": _translation(1.0),
    "ZoomIn": _zoom(1.0),
    "ZoomOut": _zoom(-1.0),
    "SwayHorizontal": _sway,
    "BobVertical": _bob,
    "Pulse": _pulse,
    "Twist": _twist,
}
"""Class name -> motion; see the module docstring for what each one does."""

DEFAULT_CLASSES: tuple[str, ...] = tuple(MOTIONS)

#: The replica's classes: 13 dot colours (hues 27.7 degrees apart) times the 8 motions. A class of
#: UCF-101 with label ``l`` moves as ``MOTIONS`` number ``l % 8`` in hue ``HUES[l // 8]``.
HUES: tuple[float, ...] = tuple(i * 360.0 / 13 for i in range(13))
_HUE_SPREAD = 6.0  # degrees either side of a class's hue

#: UCF-101's video lengths in seconds at 25 fps: mean, shortest, longest (Soomro et al., 2012).
UCF101_SECONDS = (7.21, 1.06, 71.04)
# The replica draws lengths from a log-normal truncated to that range with its mean fitted to
# 7.21 s; the spread of the logarithm is an assumption (only the three figures are published).
_LOG_SPREAD = 0.6


@dataclass(frozen=True)
class VideoSpec:
    """Everything needed to render one synthetic video."""

    class_name: str  # as file names and split lists spell it
    group: int
    clip: int
    n_frames: int
    seed: int
    motion: str | None = None  # a key of MOTIONS; None: the class name
    hue: float | None = None  # the dots' hue in degrees; None: random colours
    folder: str | None = None  # the class folder (classInd spelling); None: the class name

    @property
    def name(self) -> str:
        return f"v_{self.class_name}_g{self.group:02d}_c{self.clip:02d}.avi"

    @property
    def relpath(self) -> str:
        """Path as written in the split lists: ``Class/v_Class_gGG_cCC.avi``."""
        return f"{self.class_name}/{self.name}"

    @property
    def class_folder(self) -> str:
        """The class's folder and ``classInd.txt`` name."""
        return self.folder or self.class_name

    @property
    def archive_path(self) -> str:
        """Path inside the top folder of the video archive: ``<classInd name>/v_Class_gGG_cCC.avi``."""
        return f"{self.class_folder}/{self.name}"


def _canvas(rng: np.random.Generator, hue: float | None = None) -> np.ndarray:
    """Random dot field: 1,500 antialiased dots (radius 3-5 px; random bright colours, or bright
    shades of ``hue``) on black, ``_CANVAS`` pixels square, slightly blurred so MPEG-4 does not ring
    on the edges.

    At the demo's 64x48 frames a dot is 1-3 px across and dots lie about 5 px apart.
    """
    field = np.zeros((_CANVAS, _CANVAS, 3), np.float32)
    centres = rng.integers(0, _CANVAS, size=(_DOTS, 2))
    radii = np.rint(rng.uniform(3.0, 5.0, size=_DOTS)).astype(int)
    if hue is None:
        colours = rng.uniform(0.5, 1.0, size=(_DOTS, 3))
    else:
        hsv = np.stack(
            [(hue + rng.uniform(-_HUE_SPREAD, _HUE_SPREAD, _DOTS)) % 360, rng.uniform(0.6, 1.0, _DOTS), rng.uniform(0.6, 1.0, _DOTS)],
            axis=1,
        ).astype(np.float32)
        colours = cv2.cvtColor(hsv[None], cv2.COLOR_HSV2BGR)[0].astype(np.float64)
    for centre, radius, colour in zip(centres.tolist(), radii.tolist(), colours.tolist(), strict=True):
        cv2.circle(field, centre, radius, colour, thickness=-1, lineType=cv2.LINE_AA)
    return cv2.GaussianBlur(cv2.convertScaleAbs(field, alpha=255.0), (0, 0), 1.0)


def render_frames(spec: VideoSpec, size: tuple[int, int] = (WIDTH, HEIGHT)) -> np.ndarray:
    """Render ``spec`` as ``(n_frames, height, width, 3)`` uint8 frames (``size`` is width, height).

    Each frame is a rotated, scaled and shifted view of one random dot field, so the dots fill the
    whole frame in every class and only its motion differs. The motion is defined at 320x240, as
    UCF-101's videos; another ``size`` is that frame area-resized. Colours are random (or shades of
    ``spec.hue``); OpenCV treats the frames as BGR.
    """
    rng = np.random.default_rng(spec.seed)
    canvas = _canvas(rng, spec.hue)
    # Magnifying the canvas at least e^0.5 times keeps every view of every motion inside it: the
    # frame's corners come at most ~220 canvas pixels from its centre (worst case over all motions).
    log_scale0 = rng.uniform(0.5, 1.0)
    angle0 = rng.uniform(0.0, 360.0)
    # Zooms and twists turn about a random point near the frame centre.
    x0, y0 = WIDTH / 2 + rng.uniform(-20.0, 20.0), HEIGHT / 2 + rng.uniform(-20.0, 20.0)
    motion = MOTIONS[spec.motion or spec.class_name](rng, spec.n_frames)

    centre = (_CANVAS - 1) / 2
    full = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    frames = np.empty((spec.n_frames, size[1], size[0], 3), np.uint8)
    for t in range(spec.n_frames):
        scale = math.exp(log_scale0 + motion.log_scale[t])
        warp = cv2.getRotationMatrix2D((centre, centre), angle0 + motion.angle[t], scale)
        warp[:, 2] += (x0 + motion.dx[t] - centre, y0 + motion.dy[t] - centre)
        view = frames[t] if size == (WIDTH, HEIGHT) else full
        cv2.warpAffine(canvas, warp, (WIDTH, HEIGHT), dst=view, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        if view is full:
            cv2.resize(full, size, dst=frames[t], interpolation=cv2.INTER_AREA)
    return frames


def write_video(path: str | Path, frames: np.ndarray, fps: float = FPS, fourcc: str = FOURCC) -> Path:
    """Write BGR ``frames`` ``(T, H, W, 3)`` as an AVI video, atomically."""
    path = Path(path)
    height, width = frames.shape[1:3]
    with atomic_path(path) as tmp:
        # FFmpeg picks the container from the file name, so the scratch name keeps the suffix.
        tmp_video = tmp.with_name(tmp.name + path.suffix)
        writer = cv2.VideoWriter(str(tmp_video), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
        try:
            if not writer.isOpened():
                raise RuntimeError(f"OpenCV cannot write {fourcc} video to {path}")
            for frame in frames:
                writer.write(np.ascontiguousarray(frame))
            writer.release()
            tmp_video.replace(tmp)
        finally:
            writer.release()
            tmp_video.unlink(missing_ok=True)
    return path


def video_specs(
    *,
    classes: Sequence[str] = DEFAULT_CLASSES,
    groups: int = GROUPS,
    clips_per_group: tuple[int, int] = (1, 2),
    frames: tuple[int, int] = (20, 60),
    short_frames: tuple[int, int] = (8, 15),
    short_fraction: float = 0.05,
    seed: int = 0,
) -> list[VideoSpec]:
    """The dataset's videos, sorted by class, group and clip.

    Each (class, group) gets a random number of clips in ``clips_per_group`` (inclusive), each clip a
    random length in ``frames``, or, with probability ``short_fraction``, in ``short_frames``, to
    exercise videos shorter than the model's input clip.
    """
    _check_options(classes, groups, clips_per_group, frames, short_frames, short_fraction)
    specs: list[VideoSpec] = []
    for class_name in sorted(classes):
        # crc32, not hash(): the latter is salted per process.
        class_key = zlib.crc32(class_name.encode())
        for group in range(1, groups + 1):
            group_rng = np.random.default_rng([seed, class_key, group])
            for clip in range(1, int(group_rng.integers(clips_per_group[0], clips_per_group[1] + 1)) + 1):
                video_seed = int(np.random.SeedSequence([seed, class_key, group, clip]).generate_state(1)[0])
                length_rng = np.random.default_rng([video_seed, 1])
                lo, hi = short_frames if length_rng.random() < short_fraction else frames
                n_frames = int(length_rng.integers(lo, hi + 1))
                specs.append(VideoSpec(class_name, group, clip, n_frames, video_seed))
    return specs


def _check_options(
    classes: Sequence[str], groups: int, clips_per_group: tuple[int, int],
    frames: tuple[int, int], short_frames: tuple[int, int], short_fraction: float,
) -> None:
    unknown = sorted(set(classes) - set(MOTIONS))
    if unknown:
        raise ValueError(f"unknown classes {unknown}; choose from {sorted(MOTIONS)}")
    if len(set(classes)) != len(classes) or len(classes) < 2:
        raise ValueError(f"need at least two distinct classes, got {list(classes)}")
    # Split 3 tests groups 15-21, so fewer groups would leave it without a test set.
    first_group_of_last_test = (len(SPLITS) - 1) * TEST_GROUPS_PER_SPLIT + 1
    if not first_group_of_last_test <= groups <= GROUPS:
        raise ValueError(f"groups must be in [{first_group_of_last_test}, {GROUPS}], got {groups}")
    ranges = {"clips_per_group": clips_per_group, "frames": frames, "short_frames": short_frames}
    for name, (lo, hi) in ranges.items():
        if not 1 <= lo <= hi:
            raise ValueError(f"{name} must be (min, max) with 1 <= min <= max, got {(lo, hi)}")
    if not 0.0 <= short_fraction <= 1.0:
        raise ValueError(f"short_fraction must be in [0, 1], got {short_fraction}")


def replica_specs(
    *, classes: Sequence[str] | None = None, length_scale: float = 1.0, max_clips_per_group: int | None = None, seed: int = 0
) -> list[VideoSpec]:
    """UCF-101's videos, in classInd order: every class (or those in ``classes``, classInd
    spelling) with its official groups and clips (:data:`~mict_pipeline.datasets.ucf101.CLIPS_PER_GROUP`;
    at most ``max_clips_per_group`` of each group's, for fewer videos over the same classes and
    groups), file names spelt as the real ones, lengths drawn from UCF-101's
    (:data:`UCF101_SECONDS`) times ``length_scale``. A video, and a class's look, are the same
    whichever others are chosen (see :data:`HUES`)."""
    chosen = list(CLASS_NAMES) if classes is None else list(classes)
    unknown = sorted(set(chosen) - set(CLASS_NAMES))
    if unknown or len(set(chosen)) < 2:
        raise ValueError(f"replica classes must be at least two of UCF-101's classInd names; unknown: {unknown}")
    if not 0 < length_scale <= 1:
        raise ValueError(f"length_scale must be in (0, 1], got {length_scale}")
    motions = list(MOTIONS)
    specs: list[VideoSpec] = []
    for label, (folder, clips) in enumerate(zip(CLASS_NAMES, CLIPS_PER_GROUP, strict=True)):
        if folder not in chosen:
            continue
        class_key = zlib.crc32(folder.encode())
        look = {"motion": motions[label % len(motions)], "hue": HUES[label // len(motions)], "folder": folder}
        for group, count in enumerate(clips, start=1):
            for clip in range(1, min(int(count), max_clips_per_group or int(count)) + 1):
                video_seed = int(np.random.SeedSequence([seed, class_key, group, clip]).generate_state(1)[0])
                seconds = _ucf101_seconds(np.random.default_rng([video_seed, 1]))
                n_frames = max(1, round(seconds * FPS * length_scale))
                specs.append(VideoSpec(LIST_SPELLING.get(folder, folder), group, clip, n_frames, video_seed, **look))
    return specs


@functools.cache
def _log_mean() -> float:
    """The log-normal's mu whose truncation to UCF-101's shortest and longest has its mean."""
    mean, low, high = UCF101_SECONDS
    normal, s = statistics.NormalDist(), _LOG_SPREAD

    def truncated_mean(mu: float) -> float:
        a, b = (math.log(low) - mu) / s, (math.log(high) - mu) / s
        return math.exp(mu + s * s / 2) * (normal.cdf(b - s) - normal.cdf(a - s)) / (normal.cdf(b) - normal.cdf(a))

    lo, hi = math.log(low), math.log(high)
    for _ in range(100):  # the truncated mean grows with mu: bisect
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if truncated_mean(mid) < mean else (lo, mid)
    return (lo + hi) / 2


def _ucf101_seconds(rng: np.random.Generator) -> float:
    """One length in seconds from the truncated log-normal (inverse CDF of a uniform draw)."""
    _, low, high = UCF101_SECONDS
    mu, normal = _log_mean(), statistics.NormalDist()
    a, b = normal.cdf((math.log(low) - mu) / _LOG_SPREAD), normal.cdf((math.log(high) - mu) / _LOG_SPREAD)
    return math.exp(mu + _LOG_SPREAD * normal.inv_cdf(a + (b - a) * rng.random()))


def split_lists(specs: Sequence[VideoSpec], classes: Sequence[str]) -> dict[str, str]:
    """File name -> content of the official split lists (CRLF line endings) for ``specs``;
    ``classes``: the class folders in label order (``classInd.txt``)."""
    label = {c: i for i, c in enumerate(classes, start=1)}
    lists = {"classInd.txt": "".join(f"{label[c]} {c}\r\n" for c in classes)}
    for split in SPLITS:
        tests = split_test_groups(split)
        lists[f"trainlist{split:02d}.txt"] = "".join(
            f"{s.relpath} {label[s.class_folder]}\r\n" for s in specs if s.group not in tests
        )
        lists[f"testlist{split:02d}.txt"] = "".join(f"{s.relpath}\r\n" for s in specs if s.group in tests)
    return lists


def _zip_info(name: str, compress_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.create_system = _UNIX
    info.compress_type = compress_type
    info.external_attr = ((0o40755 << 16) | 0x10) if name.endswith("/") else (0o100644 << 16)
    return info


def _encoded_video(spec: VideoSpec, size: tuple[int, int], scratch: str) -> bytes:
    """The AVI file of ``spec`` (rendered, encoded through a scratch file, removed again)."""
    video = write_video(Path(scratch) / spec.name, render_frames(spec, size))
    try:
        return video.read_bytes()
    finally:
        video.unlink()


def write_archives(
    out_dir: str | Path, specs: Sequence[VideoSpec], classes: Sequence[str], *, size: tuple[int, int] = (WIDTH, HEIGHT),
    workers: int | None = None,
) -> dict[str, Any]:
    """Write ``UCF101.zip`` (``UCF-101/<folder>/<video>``) and the split-list zip for ``specs``
    into ``out_dir``; ``classes`` are the folders in label order. Videos are rendered and encoded in
    ``workers`` processes (default: every core) and stored in spec order, so the archives do not
    depend on the worker count. Returns their manifest: per archive its path, size and SHA-256, and
    the classes, video and frame counts."""
    out_dir = Path(out_dir)
    videos_zip, splits_zip = out_dir / VIDEOS_ARCHIVE, out_dir / SPLITS_ARCHIVE
    workers = max(1, min(workers or available_cores(), len(specs)))
    # Stored, not deflated: MPEG-4 does not compress further.
    with (
        atomic_path(videos_zip) as tmp_zip,
        tempfile.TemporaryDirectory(dir=out_dir) as scratch,
        zipfile.ZipFile(tmp_zip, "w") as archive,
        opencv_pool(workers) as pool,
    ):
        archive.writestr(_zip_info(f"{VIDEOS_TOP}/", zipfile.ZIP_STORED), b"")
        videos = pool.map(_encoded_video, specs, [size] * len(specs), [scratch] * len(specs), chunksize=8)
        folder = None
        for spec, video in zip(specs, videos, strict=True):
            if spec.class_folder != folder:  # each class folder before its videos
                folder = spec.class_folder
                archive.writestr(_zip_info(f"{VIDEOS_TOP}/{folder}/", zipfile.ZIP_STORED), b"")
            archive.writestr(_zip_info(f"{VIDEOS_TOP}/{spec.archive_path}", zipfile.ZIP_STORED), video)

    with atomic_path(splits_zip) as tmp_zip, zipfile.ZipFile(tmp_zip, "w") as archive:
        archive.writestr(_zip_info(f"{SPLITS_TOP}/", zipfile.ZIP_STORED), b"")
        for name, content in sorted(split_lists(specs, classes).items()):
            archive.writestr(_zip_info(f"{SPLITS_TOP}/{name}", zipfile.ZIP_DEFLATED), content.encode("ascii"))

    seconds = np.array([s.n_frames for s in specs]) / FPS
    return {
        "archives": {
            path.name: {"path": str(path), "bytes": path.stat().st_size, "sha256": file_digest(path)}
            for path in (videos_zip, splits_zip)
        },
        "classes": list(classes),
        "videos": len(specs),
        "frames": int(sum(s.n_frames for s in specs)),
        "seconds": {"mean": float(seconds.mean()), "min": float(seconds.min()), "max": float(seconds.max())},
        "frame_size": list(size),
    }


def generate_dataset(
    out_dir: str | Path, *, size: tuple[int, int] = (WIDTH, HEIGHT), workers: int | None = None, **spec_options: Any
) -> dict[str, Any]:
    """The motion dataset of :func:`video_specs` (``spec_options`` are its options) as the two
    archives in ``out_dir``; classes in sorted order. Returns :func:`write_archives`' manifest plus
    the seed."""
    specs = video_specs(**spec_options)
    classes = sorted(set(spec_options.get("classes", DEFAULT_CLASSES)))
    return {**write_archives(out_dir, specs, classes, size=size, workers=workers), "seed": spec_options.get("seed", 0)}


def generate_replica(
    out_dir: str | Path, *, classes: Sequence[str] | None = None, length_scale: float = 1.0,
    max_clips_per_group: int | None = None, seed: int = 0, size: tuple[int, int] = (WIDTH, HEIGHT), workers: int | None = None,
) -> dict[str, Any]:
    """The UCF-101 replica (see :func:`replica_specs`) as the two archives in ``out_dir``. Returns
    :func:`write_archives`' manifest plus the seed and the length scale."""
    specs = replica_specs(classes=classes, length_scale=length_scale, max_clips_per_group=max_clips_per_group, seed=seed)
    folders = [c for c in CLASS_NAMES if classes is None or c in classes]
    return {**write_archives(out_dir, specs, folders, size=size, workers=workers), "seed": seed, "length_scale": length_scale}
