"""Seeded synthetic stand-ins for UCF-101, HMDB-51 and Kinetics: real MPEG-4 videos, each dataset's
names, official split files.

The UCF-101 layouts (:func:`generate_dataset`, :func:`generate_replica`) write the two archives the
real pipeline downloads, so every stage after the download runs unchanged on them:

* ``UCF101.zip`` (stands in for ``UCF101.rar``, which cannot be written here): top folder
  ``UCF-101/<Class>/v_<Class>_gGG_cCC.avi``; 320x240, 25 fps, MPEG-4 Part 2 with fourcc ``XVID``
  like the originals.
* ``UCF101TrainTestSplits-RecognitionTask.zip``: ``ucfTrainTestlist/classInd.txt``,
  ``trainlist0N.txt`` and ``testlist0N.txt`` (N = 1..3) in the official format, CRLF line endings,
  with the official group protocol: split 1 tests groups g01-g07, split 2 g08-g14, split 3 g15-g21;
  g22-g25 are always training groups.

The HMDB-51 layout (:func:`generate_hmdb51`) writes HMDB-51's two archives, as ZIPs:

* ``hmdb51_org.zip`` (stands in for ``hmdb51_org.rar``, a RAR of 51 per-class RARs): one inner
  ``<class>.zip`` per class holding ``<class>/<video>.avi``; classes spelt HMDB-style (``move_up``),
  videos named like HMDB-51's (``Dotfield007_move_up_f_nm_np1_fr_med_0.avi``).
* ``test_train_splits.zip``: ``testTrainMulti_7030_splits/<class>_test_split<k>.txt`` (k = 1..3)
  in the official format: every video of the class in every file, one ``<video>.avi <id> `` line
  each (trailing space, LF), id 1 = train, 2 = test, 0 = unused; a seeded draw per (class, split).

The Kinetics layout (:func:`generate_kinetics`) writes ``annotations.csv`` (``label, youtube_id,
time_start, time_end, split``; labels spelt ``move up``) and the clips as a downloader leaves them,
``clips/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4`` (MPEG-4 Part 2 in MP4), with a few listed
train/val clips left out, as real Kinetics downloads always miss some. Its classes are the motions,
or any names such as Kinetics-400's 400 (:func:`kinetics400_labels`), each moving as one motion.

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

Every video is generated from its own random stream derived from (seed, class name, group, clip)
(HMDB-51: class and index; Kinetics: label, split and index), so a video does not change when
others are added or removed. OpenCV's FFmpeg writer is byte-deterministic for the same frames, and
the archives use fixed timestamps and sorted entries, so the same seed and options give the same
archive (and clip) checksums with the same OpenCV/FFmpeg build.
The encoder embeds its FFmpeg version, so the checksums are computed at generation time and
returned rather than hard-coded.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import itertools
import math
import re
import statistics
import string
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any

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
from mict_pipeline.io.atomic import atomic_path, write_bytes_atomic
from mict_pipeline.io.digest import file_digest
from mict_pipeline.io.workers import available_cores, opencv_pool

WIDTH = 320
HEIGHT = 240
FPS = 25.0
FOURCC = "XVID"
VIDEOS_ARCHIVE = "UCF101.zip"
SPLITS_ARCHIVE = "UCF101TrainTestSplits-RecognitionTask.zip"
VIDEOS_TOP = "UCF-101"
SPLITS_TOP = "ucfTrainTestlist"

# HMDB-51's and Kinetics' names, spelt out here rather than imported from datasets.hmdb51 and
# datasets.kinetics so the synthetic DVC stage does not depend on the readers; the tests read the
# output back through them.
HMDB51_VIDEOS_ARCHIVE = "hmdb51_org.zip"
HMDB51_SPLITS_ARCHIVE = "test_train_splits.zip"
HMDB51_SPLITS_TOP = "testTrainMulti_7030_splits"
HMDB51_PER_CLASS: Mapping[str, int] = MappingProxyType({"train": 5, "test": 3})
_HMDB51_IDS = {"train": 1, "test": 2}  # in the split files; 0 = unused in that split
_HMDB51_NO_GROUP = 0  # HMDB-51 has no groups; its videos are numbered within the class instead

KINETICS_CSV = "annotations.csv"
KINETICS_CLIPS_DIR = "clips"
KINETICS_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
KINETICS_CLIPS: Mapping[str, int] = MappingProxyType({"train": 6, "val": 2, "test": 1})
KINETICS_FOURCC = "mp4v"  # MPEG-4 Part 2 in an MP4 container
_YOUTUBE_ID = string.ascii_letters + string.digits + "-_"
_YOUTUBE_ID_LENGTH = 11

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
    file_name: str | None = None  # the video's file name; None: UCF-101's v_Class_gGG_cCC.avi

    @property
    def name(self) -> str:
        """The file name; its suffix picks the container (``.avi``, ``.mp4``)."""
        return self.file_name or f"v_{self.class_name}_g{self.group:02d}_c{self.clip:02d}.avi"

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
        """Path inside the top folder of the video archive: ``<class folder>/<name>``."""
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
    """Write BGR ``frames`` ``(T, H, W, 3)`` as a video, atomically; the suffix of ``path`` picks
    the container (``.avi``, ``.mp4``), ``fourcc`` the codec."""
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
        class_key = _key(class_name)
        for group in range(1, groups + 1):
            group_rng = np.random.default_rng([seed, class_key, group])
            for clip in range(1, int(group_rng.integers(clips_per_group[0], clips_per_group[1] + 1)) + 1):
                video_seed = _stream_seed(seed, class_name, group, clip)
                n_frames = _draw_length(video_seed, frames, short_frames, short_fraction)
                specs.append(VideoSpec(class_name, group, clip, n_frames, video_seed))
    return specs


def _key(part: str | int) -> int:
    """A seed component: strings by CRC-32, not hash(), which is salted per process."""
    return zlib.crc32(part.encode()) if isinstance(part, str) else part


def _stream_seed(seed: int, *identity: str | int) -> int:
    """The seed of one video's own random stream, derived from the dataset seed and what names the
    video (class, group, clip, ...), so the video does not change when others are added."""
    return int(np.random.SeedSequence([seed, *map(_key, identity)]).generate_state(1)[0])


def _draw_length(
    video_seed: int, frames: tuple[int, int], short_frames: tuple[int, int] = (1, 1), short_fraction: float = 0.0
) -> int:
    """A video's length in frames: uniform in ``frames`` or, with probability ``short_fraction``,
    in ``short_frames`` (both inclusive), from the video's own stream."""
    rng = np.random.default_rng([video_seed, 1])
    lo, hi = short_frames if rng.random() < short_fraction else frames
    return int(rng.integers(lo, hi + 1))


def _check_classes(classes: Sequence[str]) -> None:
    """Classes must be at least two distinct names of :data:`MOTIONS`."""
    unknown = sorted(set(classes) - set(MOTIONS))
    if unknown:
        raise ValueError(f"unknown classes {unknown}; choose from {sorted(MOTIONS)}")
    if len(set(classes)) != len(classes) or len(classes) < 2:
        raise ValueError(f"need at least two distinct classes, got {list(classes)}")


def _check_range(name: str, bounds: tuple[int, int]) -> None:
    """``bounds`` must be ``(min, max)`` with ``1 <= min <= max``."""
    lo, hi = bounds
    if not 1 <= lo <= hi:
        raise ValueError(f"{name} must be (min, max) with 1 <= min <= max, got {(lo, hi)}")


def _check_options(
    classes: Sequence[str], groups: int, clips_per_group: tuple[int, int],
    frames: tuple[int, int], short_frames: tuple[int, int], short_fraction: float,
) -> None:
    _check_classes(classes)
    # Split 3 tests groups 15-21, so fewer groups would leave it without a test set.
    first_group_of_last_test = (len(SPLITS) - 1) * TEST_GROUPS_PER_SPLIT + 1
    if not first_group_of_last_test <= groups <= GROUPS:
        raise ValueError(f"groups must be in [{first_group_of_last_test}, {GROUPS}], got {groups}")
    ranges = {"clips_per_group": clips_per_group, "frames": frames, "short_frames": short_frames}
    for name, bounds in ranges.items():
        _check_range(name, bounds)
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
        look = {"motion": motions[label % len(motions)], "hue": HUES[label // len(motions)], "folder": folder}
        for group, count in enumerate(clips, start=1):
            for clip in range(1, min(int(count), max_clips_per_group or int(count)) + 1):
                video_seed = _stream_seed(seed, folder, group, clip)
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


def _write_zip(target: Path | IO[bytes], files: Iterable[tuple[str, bytes]], *, deflate: bool) -> None:
    """Write ``files`` (path inside, content), in their order, as a deterministic ZIP: fixed
    timestamps and modes, each folder's entry just before its first file. Deflated, or stored
    (videos and inner archives, which do not compress further)."""
    compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
    folders: set[str] = set()
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in files:
            parts = name.split("/")[:-1]
            for depth in range(1, len(parts) + 1):
                folder = "/".join(parts[:depth]) + "/"
                if folder not in folders:
                    folders.add(folder)
                    archive.writestr(_zip_info(folder, zipfile.ZIP_STORED), b"")
            archive.writestr(_zip_info(name, compress_type), data)


def _write_zip_file(path: Path, files: Iterable[tuple[str, bytes]], *, deflate: bool) -> Path:
    """:func:`_write_zip` to ``path``, atomically."""
    with atomic_path(path) as tmp:
        _write_zip(tmp, files, deflate=deflate)
    return path


def _zip_bytes(files: Iterable[tuple[str, bytes]], *, deflate: bool) -> bytes:
    """:func:`_write_zip` in memory: an inner archive of an archive of archives."""
    buffer = io.BytesIO()
    _write_zip(buffer, files, deflate=deflate)
    return buffer.getvalue()


def _text_files(top: str, files: Mapping[str, str]) -> Iterator[tuple[str, bytes]]:
    """Zip entries ``<top>/<name>`` for text ``files`` (ASCII), sorted by name."""
    for name, content in sorted(files.items()):
        yield f"{top}/{name}", content.encode("ascii")


def _encoded_video(spec: VideoSpec, size: tuple[int, int], scratch: str, fourcc: str = FOURCC) -> bytes:
    """The video file of ``spec`` (rendered, encoded through a scratch file, removed again)."""
    video = write_video(Path(scratch) / spec.name, render_frames(spec, size), fourcc=fourcc)
    try:
        return video.read_bytes()
    finally:
        video.unlink()


@contextlib.contextmanager
def _encoded_videos(
    specs: Sequence[VideoSpec], out_dir: Path, *, size: tuple[int, int], workers: int | None, fourcc: str = FOURCC
) -> Iterator[Iterator[bytes]]:
    """Yield the encoded files of ``specs`` in spec order, rendered and encoded in ``workers``
    processes (default: every core) through a scratch folder in ``out_dir``. The order, not the
    worker count, decides what the caller writes, so outputs do not depend on the worker count."""
    workers = max(1, min(workers or available_cores(), len(specs)))
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir) as scratch, opencv_pool(workers) as pool:
        n = len(specs)
        yield pool.map(_encoded_video, specs, [size] * n, [scratch] * n, [fourcc] * n, chunksize=8)


def _file_record(path: Path) -> dict[str, Any]:
    """A written file for the manifest: its path, size and SHA-256."""
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": file_digest(path)}


def _video_summary(specs: Sequence[VideoSpec]) -> dict[str, Any]:
    """The manifest's video count, total frames and lengths in seconds (at :data:`FPS`)."""
    seconds = np.array([s.n_frames for s in specs]) / FPS
    return {
        "videos": len(specs),
        "frames": int(sum(s.n_frames for s in specs)),
        "seconds": {"mean": float(seconds.mean()), "min": float(seconds.min()), "max": float(seconds.max())},
    }


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
    with _encoded_videos(specs, out_dir, size=size, workers=workers) as videos:
        entries = ((f"{VIDEOS_TOP}/{spec.archive_path}", video) for spec, video in zip(specs, videos, strict=True))
        _write_zip_file(videos_zip, entries, deflate=False)
    _write_zip_file(splits_zip, _text_files(SPLITS_TOP, split_lists(specs, classes)), deflate=True)
    return {
        "archives": {path.name: _file_record(path) for path in (videos_zip, splits_zip)},
        "classes": list(classes),
        **_video_summary(specs),
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


# --- HMDB-51 -------------------------------------------------------------------------------------


def _spelt(motion: str, separator: str) -> str:
    """A motion's name in lowercase words: ``SwayHorizontal`` -> ``sway<separator>horizontal``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", separator, motion).lower()


def hmdb51_class_name(motion: str) -> str:
    """HMDB-51's spelling of a motion's class: ``MoveUp`` -> ``move_up``."""
    return _spelt(motion, "_")


def check_hmdb51_options(
    classes: Sequence[str], videos_per_class: int, per_class: Mapping[str, int], frames: tuple[int, int]
) -> None:
    """Raise ValueError unless the HMDB-51 layout's options can be generated: at least two distinct
    known motions, ``per_class`` giving ``train`` and ``test`` counts of at least 1 that the class's
    ``videos_per_class`` videos can fill, and a valid ``frames`` range."""
    _check_classes(classes)
    if set(per_class) != set(_HMDB51_IDS):
        raise ValueError(f"per_class must give exactly the 'train' and 'test' counts, got {dict(per_class)}")
    if min(per_class.values()) < 1:
        raise ValueError(f"per_class train and test must each be at least 1, got {dict(per_class)}")
    used = per_class["train"] + per_class["test"]
    if videos_per_class < used:
        raise ValueError(
            f"videos_per_class ({videos_per_class}) must be at least per_class train + test ({used}): every split "
            "takes that many videos of each class"
        )
    _check_range("frames", frames)


def _hmdb51_specs(classes: Sequence[str], videos_per_class: int, frames: tuple[int, int], seed: int) -> list[VideoSpec]:
    """``videos_per_class`` videos per motion in ``classes``, sorted by HMDB-51 class name and index;
    each a random length in ``frames`` from its own stream (seed, class, index). Names follow
    HMDB-51's ``<title>_<class>_<tags>_<n>.avi``; the title numbers the videos, zero-padded so
    name order is index order."""
    width = max(3, len(str(videos_per_class)))
    specs: list[VideoSpec] = []
    for motion in sorted(classes, key=hmdb51_class_name):
        class_name = hmdb51_class_name(motion)
        for index in range(1, videos_per_class + 1):
            video_seed = _stream_seed(seed, "hmdb51", class_name, index)
            name = f"Dotfield{index:0{width}d}_{class_name}_f_nm_np1_fr_med_0.avi"
            n_frames = _draw_length(video_seed, frames)
            specs.append(VideoSpec(class_name, _HMDB51_NO_GROUP, index, n_frames, video_seed, motion=motion, file_name=name))
    return specs


def _hmdb51_split_ids(n_videos: int, per_class: Mapping[str, int], rng: np.random.Generator) -> list[int]:
    """Ids of a class's videos in one split: ``per_class["train"]`` ids 1 and ``per_class["test"]``
    ids 2 at the positions of a random permutation, 0 (unused) elsewhere."""
    ids = np.zeros(n_videos, dtype=int)
    order = iter(rng.permutation(n_videos).tolist())
    for subset, split_id in _HMDB51_IDS.items():
        ids[list(itertools.islice(order, per_class[subset]))] = split_id
    return ids.tolist()


def hmdb51_split_files(specs: Sequence[VideoSpec], per_class: Mapping[str, int], seed: int) -> dict[str, str]:
    """File name -> content of HMDB-51's ``<class>_test_split<k>.txt`` for ``specs`` (grouped by
    class): as the official files, every video of the class in every split in the same order, one
    ``<video>.avi <id> `` line each (trailing space, LF); ids from a draw seeded by (seed, class,
    split), so the splits differ."""
    files: dict[str, str] = {}
    for class_name, class_specs in itertools.groupby(specs, key=lambda spec: spec.class_name):
        names = [spec.name for spec in class_specs]
        for split in SPLITS:
            rng = np.random.default_rng(_stream_seed(seed, "hmdb51 split", class_name, split))
            ids = _hmdb51_split_ids(len(names), per_class, rng)
            files[f"{class_name}_test_split{split}.txt"] = "".join(f"{name} {i} \n" for name, i in zip(names, ids, strict=True))
    return files


def _class_archives(specs: Sequence[VideoSpec], videos: Iterable[bytes]) -> Iterator[tuple[str, bytes]]:
    """One stored ``<class>.zip`` of ``<class>/<video>`` per class of ``specs`` (grouped by class),
    for an archive of archives like ``hmdb51_org.rar``."""
    pairs = zip(specs, videos, strict=True)
    for folder, group in itertools.groupby(pairs, key=lambda pair: pair[0].class_folder):
        yield f"{folder}.zip", _zip_bytes(((spec.archive_path, video) for spec, video in group), deflate=False)


def generate_hmdb51(
    out_dir: str | Path, *, classes: Sequence[str] = DEFAULT_CLASSES, videos_per_class: int = 10,
    per_class: Mapping[str, int] = HMDB51_PER_CLASS, frames: tuple[int, int] = (20, 60), seed: int = 0,
    size: tuple[int, int] = (WIDTH, HEIGHT), workers: int | None = None,
) -> dict[str, Any]:
    """The motion dataset in HMDB-51's format in ``out_dir``: ``hmdb51_org.zip`` (one ``<class>.zip``
    per motion in ``classes``, HMDB-51 spelling, of ``videos_per_class`` AVIs each, lengths in
    ``frames``) and ``test_train_splits.zip`` (three split files per class, ``per_class`` train and
    test videos each). Videos are encoded in ``workers`` processes (default: every core). Returns the
    manifest: per archive its path, size and SHA-256, the classes, counts, lengths, frame size, seed."""
    check_hmdb51_options(classes, videos_per_class, per_class, frames)
    specs = _hmdb51_specs(classes, videos_per_class, frames, seed)
    out_dir = Path(out_dir)
    videos_zip, splits_zip = out_dir / HMDB51_VIDEOS_ARCHIVE, out_dir / HMDB51_SPLITS_ARCHIVE
    with _encoded_videos(specs, out_dir, size=size, workers=workers) as videos:
        _write_zip_file(videos_zip, _class_archives(specs, videos), deflate=False)
    _write_zip_file(splits_zip, _text_files(HMDB51_SPLITS_TOP, hmdb51_split_files(specs, per_class, seed)), deflate=True)
    return {
        "archives": {path.name: _file_record(path) for path in (videos_zip, splits_zip)},
        "classes": sorted({spec.class_name for spec in specs}),
        **_video_summary(specs),
        "frame_size": list(size),
        "seed": seed,
        "per_class": dict(per_class),
    }


# --- Kinetics ------------------------------------------------------------------------------------

KINETICS_CLASSES: tuple[str, ...] = DEFAULT_CLASSES[:4]
_KINETICS_SPLITS = ("train", "val", "test")


def kinetics_label(motion: str) -> str:
    """Kinetics' spelling of a motion's class: ``MoveUp`` -> ``move up``."""
    return _spelt(motion, " ")


@dataclass(frozen=True)
class KineticsClip:
    """One annotated segment (a CSV row) and the video that stands in for its clip."""

    spec: VideoSpec  # class_name and folder: the label; name: the clip's file name
    youtube_id: str
    time_start: int
    time_end: int
    split: str  # train, val or test

    @property
    def relpath(self) -> str:
        """Path under the clips folder: ``<label>/<youtube_id>_<start:06d>_<end:06d>.mp4``."""
        return self.spec.archive_path

    def row(self) -> tuple[str, str, int, int, str]:
        """The CSV row, in :data:`KINETICS_COLUMNS` order."""
        return self.spec.class_name, self.youtube_id, self.time_start, self.time_end, self.split


def kinetics400_labels() -> tuple[str, ...]:
    """Kinetics-400's 400 class names as published (Kay et al., 2017), sorted: torchvision ships the
    list in its Kinetics-400 weights' metadata (reading it downloads nothing)."""
    from torchvision.models.video import R3D_18_Weights  # torchvision only for the list

    return tuple(R3D_18_Weights.KINETICS400_V1.meta["categories"])


def _kinetics_looks(classes: Sequence[str], labels: Sequence[str] | None) -> dict[str, dict[str, Any]]:
    """Each class's label (sorted) and how its clips look. Without ``labels``, one class per motion
    in ``classes``, labelled in Kinetics' spelling, in random colours. With ``labels``, the label
    ``i`` moves as ``classes[i % len(classes)]`` in hue ``HUES[i // len(classes) % len(HUES)]``: a
    dataset of Kinetics-400's names and size, not of its learnability (labels ``len(classes) *
    len(HUES)`` apart look alike)."""
    if labels is None:
        return {kinetics_label(motion): {"motion": motion} for motion in sorted(classes, key=kinetics_label)}
    if len(set(labels)) != len(labels) or len(labels) < 2 or not all(label.strip() == label != "" for label in labels):
        raise ValueError("labels must be at least two distinct non-empty names without surrounding spaces")
    return {
        label: {"motion": classes[i % len(classes)], "hue": HUES[i // len(classes) % len(HUES)]}
        for i, label in enumerate(sorted(labels))
    }


def check_kinetics_options(
    classes: Sequence[str], clips: Mapping[str, int], missing: int, frames: tuple[int, int], labels: Sequence[str] | None = None
) -> None:
    """Raise ValueError unless the Kinetics layout's options can be generated: at least two distinct
    known motions, ``clips`` per class for splits among train/val/test with at least one train clip,
    ``missing`` fewer than the listed train and val clips, and a valid ``frames`` range."""
    _check_classes(classes)
    unknown = sorted(set(clips) - set(_KINETICS_SPLITS))
    if unknown or clips.get("train", 0) < 1 or min(clips.values()) < 0:
        raise ValueError(f"clips must give counts >= 0 for {', '.join(_KINETICS_SPLITS)}, at least 1 train; got {dict(clips)}")
    droppable = len(_kinetics_looks(classes, labels)) * (clips.get("train", 0) + clips.get("val", 0))
    if not 0 <= missing < droppable:
        raise ValueError(f"missing must be in [0, {droppable}) (fewer than the listed train and val clips), got {missing}")
    _check_range("frames", frames)


def _kinetics_clip(label: str, look: dict[str, Any], split: str, index: int, frames: tuple[int, int], seed: int) -> KineticsClip:
    """Clip ``index`` of ``label`` in ``split``, moving as ``look`` says, from its own stream (seed,
    label, split, index): its length, YouTube id and start; the segment lasts the clip's length in
    whole seconds."""
    video_seed = _stream_seed(seed, "kinetics", label, split, index)
    n_frames = _draw_length(video_seed, frames)
    rng = np.random.default_rng([video_seed, 2])
    youtube_id = "".join(_YOUTUBE_ID[i] for i in rng.integers(0, len(_YOUTUBE_ID), _YOUTUBE_ID_LENGTH))
    start = int(rng.integers(0, 600))
    end = start + math.ceil(n_frames / FPS)
    name = f"{youtube_id}_{start:06d}_{end:06d}.mp4"
    spec = VideoSpec(label, 0, index, n_frames, video_seed, **look, file_name=name)
    return KineticsClip(spec, youtube_id, start, end, split)


def kinetics_clips(
    *, classes: Sequence[str] = KINETICS_CLASSES, clips: Mapping[str, int] = KINETICS_CLIPS,
    frames: tuple[int, int] = (20, 40), seed: int = 0, labels: Sequence[str] | None = None,
) -> list[KineticsClip]:
    """The annotated clips: ``clips[split]`` per class (a motion in ``classes``, or a name in
    ``labels``: see :func:`_kinetics_looks`) and split, sorted by label, split (train, val, test)
    and index."""
    return [
        _kinetics_clip(label, look, split, index, frames, seed)
        for label, look in _kinetics_looks(classes, labels).items()
        for split in _KINETICS_SPLITS
        for index in range(1, clips.get(split, 0) + 1)
    ]


def _missing_clips(clips: Sequence[KineticsClip], missing: int, seed: int) -> set[str]:
    """The relative paths of ``missing`` train/val clips, a seeded draw, to leave unwritten like the
    clips a real Kinetics download fails to get (test clips are held out, so they are all kept)."""
    candidates = [clip.relpath for clip in clips if clip.split != "test"]
    rng = np.random.default_rng(_stream_seed(seed, "kinetics missing"))
    return {candidates[i] for i in rng.choice(len(candidates), size=missing, replace=False).tolist()}


def _kinetics_csv(clips: Iterable[KineticsClip]) -> bytes:
    """The annotation CSV: header :data:`KINETICS_COLUMNS`, one row per clip, LF line endings."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(KINETICS_COLUMNS)
    writer.writerows(clip.row() for clip in clips)
    return text.getvalue().encode("ascii")


def generate_kinetics(
    out_dir: str | Path, *, classes: Sequence[str] = KINETICS_CLASSES, clips: Mapping[str, int] = KINETICS_CLIPS,
    missing: int = 2, frames: tuple[int, int] = (20, 40), seed: int = 0, size: tuple[int, int] = (WIDTH, HEIGHT),
    workers: int | None = None, labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The motion dataset in a Kinetics download's layout in ``out_dir``: ``annotations.csv``
    (``clips[split]`` rows per class and split: a motion in ``classes`` in Kinetics' label spelling,
    or, given ``labels`` such as :func:`kinetics400_labels`, each of those names) and
    ``clips/<label>/<youtube_id>_<start:06d>_<end:06d>.mp4`` for all of them but ``missing`` train/val
    clips (a seeded draw). The clips folder is replaced as a whole. Videos are encoded in ``workers``
    processes (default: every core). Returns the manifest: the CSV's and each clip's path, size and
    SHA-256, the missing clips (paths under ``clips/``), classes, counts, lengths, frame size, seed."""
    check_kinetics_options(classes, clips, missing, frames, labels)
    listed = kinetics_clips(classes=classes, clips=clips, frames=frames, seed=seed, labels=labels)
    absent = _missing_clips(listed, missing, seed)
    present = [clip for clip in listed if clip.relpath not in absent]
    out_dir = Path(out_dir)
    clips_dir = out_dir / KINETICS_CLIPS_DIR
    specs = [clip.spec for clip in present]
    with (
        _encoded_videos(specs, out_dir, size=size, workers=workers, fourcc=KINETICS_FOURCC) as videos,
        atomic_path(clips_dir, directory=True) as tmp,
    ):
        for clip, video in zip(present, videos, strict=True):
            (tmp / clip.relpath).parent.mkdir(exist_ok=True)
            (tmp / clip.relpath).write_bytes(video)
    csv_path = write_bytes_atomic(out_dir / KINETICS_CSV, _kinetics_csv(listed))
    return {
        "annotations": _file_record(csv_path),
        "clips_dir": str(clips_dir),
        "clips": {clip.relpath: _file_record(clips_dir / clip.relpath) for clip in present},
        "missing": sorted(absent),
        "listed": len(listed),
        "classes": sorted({clip.spec.class_name for clip in listed}),
        **_video_summary(specs),
        "frame_size": list(size),
        "seed": seed,
    }
