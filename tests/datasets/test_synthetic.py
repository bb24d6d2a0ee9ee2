"""Synthetic UCF-101: layout, official split-list format and protocol, determinism, real videos,
and that the class is in the motion, not in any single frame."""

from __future__ import annotations

import itertools
import re
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from mict_pipeline.io.frame_store import video_frames
from mict_pipeline.datasets.synthetic import (
    DEFAULT_CLASSES,
    MOTIONS,
    SPLITS_ARCHIVE,
    VIDEOS_ARCHIVE,
    generate_dataset,
    video_specs,
)
from mict_pipeline.datasets.ucf101 import split_test_groups

OPTIONS = {"clips_per_group": (1, 1), "frames": (10, 16), "short_fraction": 0.05, "seed": 3}
VIDEO_NAME = re.compile(r"UCF-101/(\w+)/v_\1_g(\d\d)_c(\d\d)\.avi")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return generate_dataset(tmp_path_factory.mktemp("synthetic"), **OPTIONS)


@pytest.fixture(scope="module")
def videos_dir(dataset: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("extracted")
    with zipfile.ZipFile(dataset["archives"][VIDEOS_ARCHIVE]["path"]) as archive:
        archive.extractall(root)
    return root / "UCF-101"


@pytest.fixture(scope="module")
def lists(dataset: dict) -> dict[str, bytes]:
    with zipfile.ZipFile(dataset["archives"][SPLITS_ARCHIVE]["path"]) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _lines(content: bytes) -> list[str]:
    text = content.decode("ascii")
    assert text.endswith("\r\n") and text.count("\n") == text.count("\r\n"), "lists use CRLF line endings"
    return text.split("\r\n")[:-1]


def test_video_archive_layout_and_names(dataset: dict) -> None:
    with zipfile.ZipFile(dataset["archives"][VIDEOS_ARCHIVE]["path"]) as archive:
        names = archive.namelist()
    assert all(n.startswith("UCF-101/") for n in names)
    videos = [n for n in names if not n.endswith("/")]
    matches = [VIDEO_NAME.fullmatch(n) for n in videos]
    assert all(matches), [n for n, m in zip(videos, matches, strict=True) if not m]
    assert sorted({m.group(1) for m in matches}) == sorted(DEFAULT_CLASSES) == dataset["classes"]
    for class_name in DEFAULT_CLASSES:
        groups = {int(m.group(2)) for m in matches if m.group(1) == class_name}
        assert groups == set(range(1, 26))
    assert {int(m.group(3)) for m in matches} == {1}
    assert len(videos) == dataset["videos"] and videos == sorted(videos)


def test_split_lists_official_format(lists: dict[str, bytes], dataset: dict) -> None:
    expected = {"ucfTrainTestlist/", "ucfTrainTestlist/classInd.txt"} | {
        f"ucfTrainTestlist/{kind}list0{k}.txt" for kind in ("train", "test") for k in (1, 2, 3)
    }
    assert set(lists) == expected
    class_ind = [line.split(" ") for line in _lines(lists["ucfTrainTestlist/classInd.txt"])]
    assert [int(i) for i, _ in class_ind] == list(range(1, len(DEFAULT_CLASSES) + 1))
    label = {name: int(i) for i, name in class_ind}
    for k in (1, 2, 3):
        for line in _lines(lists[f"ucfTrainTestlist/trainlist0{k}.txt"]):
            path, index = line.split(" ")
            assert VIDEO_NAME.fullmatch("UCF-101/" + path) and label[path.split("/")[0]] == int(index)
        for line in _lines(lists[f"ucfTrainTestlist/testlist0{k}.txt"]):
            assert " " not in line and VIDEO_NAME.fullmatch("UCF-101/" + line)


def test_split_protocol_by_group(lists: dict[str, bytes], dataset: dict) -> None:
    def group(path: str) -> int:
        return int(re.search(r"_g(\d\d)_", path).group(1))  # type: ignore[union-attr]

    assert [list(split_test_groups(k)) for k in (1, 2, 3)] == [[*range(1, 8)], [*range(8, 15)], [*range(15, 22)]]
    for k in (1, 2, 3):
        train = [line.split(" ")[0] for line in _lines(lists[f"ucfTrainTestlist/trainlist0{k}.txt"])]
        test = _lines(lists[f"ucfTrainTestlist/testlist0{k}.txt"])
        assert {group(p) for p in test} == set(split_test_groups(k))
        assert {group(p) for p in train} == set(range(1, 26)) - set(split_test_groups(k))
        assert len(train) + len(test) == dataset["videos"] and not set(train) & set(test)


def test_videos_are_real_mpeg4_avi(videos_dir: Path) -> None:
    video = next(videos_dir.glob("ZoomIn/*.avi"))
    assert b"vidsXVID" in video.read_bytes()[:512]  # stream header: MPEG-4 Part 2 tagged like UCF-101's
    capture = cv2.VideoCapture(str(video))
    assert capture.isOpened()
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (320, 240)
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0)
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    capture.release()
    spec = next(s for s in video_specs(**OPTIONS) if s.name == video.name)
    assert decoded == spec.n_frames


def test_lengths_vary_and_some_are_shorter_than_16() -> None:
    lengths = [s.n_frames for s in video_specs()]
    assert 200 <= len(lengths) <= 500
    assert sum(n < 16 for n in lengths) >= 5
    assert sum(20 <= n <= 60 for n in lengths) >= 0.9 * len(lengths)
    assert len(set(lengths)) > 20


def test_same_seed_same_archives_other_seed_differs(tmp_path: Path) -> None:
    small = {"classes": ["MoveUp", "Pulse"], "groups": 15, "clips_per_group": (1, 3), "frames": (8, 8)}
    first = generate_dataset(tmp_path / "a", **small, seed=5)
    second = generate_dataset(tmp_path / "b", **small, seed=5)
    other = generate_dataset(tmp_path / "c", **small, seed=6)

    def checksums(summary: dict) -> dict[str, str]:
        return {name: archive["sha256"] for name, archive in summary["archives"].items()}

    assert checksums(first) == checksums(second)
    assert checksums(first)[VIDEOS_ARCHIVE] != checksums(other)[VIDEOS_ARCHIVE]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted([VIDEOS_ARCHIVE, SPLITS_ARCHIVE])

    # Clips are numbered c01, c02, ... within each group, and group counts vary.
    with zipfile.ZipFile(first["archives"][VIDEOS_ARCHIVE]["path"]) as archive:
        clips: dict[tuple[str, int], list[int]] = {}
        for match in filter(None, (VIDEO_NAME.fullmatch(n) for n in archive.namelist())):
            clips.setdefault((match.group(1), int(match.group(2))), []).append(int(match.group(3)))
    assert all(numbers == list(range(1, len(numbers) + 1)) for numbers in clips.values())
    assert {len(numbers) for numbers in clips.values()} == {1, 2, 3}


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown classes"):
        video_specs(classes=["MoveUp", "MoveLeft"])
    with pytest.raises(ValueError, match="groups"):
        video_specs(groups=10)
    with pytest.raises(ValueError, match="frames"):
        video_specs(frames=(30, 20))


# The one pose component each class moves, and its direction: +1 / -1 steadily, 0 oscillating.
MOTION_AXES = {
    "MoveUp": ("dy", -1), "MoveDown": ("dy", 1), "ZoomIn": ("log_scale", 1), "ZoomOut": ("log_scale", -1),
    "SwayHorizontal": ("dx", 0), "BobVertical": ("dy", 0), "Pulse": ("log_scale", 0), "Twist": ("angle", 0),
}


@pytest.mark.parametrize("class_name", sorted(MOTIONS))
def test_motions_are_flip_invariant_and_move_one_axis(class_name: str) -> None:
    axis, direction = MOTION_AXES[class_name]
    rng = np.random.default_rng(0)
    t = np.arange(120)
    for _ in range(5):
        motion = MOTIONS[class_name](rng, len(t))
        # A horizontal flip negates dx and angle: only zero-mean oscillations there keep the class.
        for mirrored in (motion.dx, motion.angle):
            assert abs(np.polyfit(t, mirrored, 1)[0]) < 0.3
        moving = {name for name in ("dx", "dy", "log_scale", "angle") if np.ptp(getattr(motion, name)) > 1e-9}
        assert moving == {axis}
        signal = getattr(motion, axis)
        if direction:
            assert np.all(np.sign(np.diff(signal)) == direction)
        else:  # several swings, also when sampled every 4th frame
            for stride in (1, 4):
                assert np.count_nonzero(np.diff(np.sign(signal[::stride]))) >= 4


def _appearance(frame: np.ndarray) -> np.ndarray:
    """Colour statistics, texture scale (gradient energy) and a tiny thumbnail of one frame."""
    image = frame.astype(np.float32) / 255.0
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gradient = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1))
    thumb = cv2.resize(image, (8, 6), interpolation=cv2.INTER_AREA).ravel()
    return np.concatenate([image.mean(axis=(0, 1)), image.std(axis=(0, 1)), [gradient.mean()], thumb])


def _global_motion(frames: list[np.ndarray]) -> np.ndarray:
    """Mean signed and absolute frame-to-frame shift (phase correlation): a crude motion summary."""
    gray = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.float32) for f in frames]
    shifts = np.array([cv2.phaseCorrelate(a, b)[0] for a, b in itertools.pairwise(gray)])
    jerk = np.abs(np.diff(shifts, axis=0)).mean(axis=0)
    return np.concatenate([shifts.mean(axis=0), np.abs(shifts).mean(axis=0), jerk])


def _split1_accuracy(features: dict[str, np.ndarray], lists: dict[str, bytes]) -> float:
    """Test accuracy of a nearest-centroid classifier (standardised features) on split 1."""
    train = [line.split(" ")[0] for line in _lines(lists["ucfTrainTestlist/trainlist01.txt"])]
    test = _lines(lists["ucfTrainTestlist/testlist01.txt"])
    classes = sorted({p.split("/")[0] for p in train})
    x_train = np.stack([features[p] for p in train])
    y_train = np.array([classes.index(p.split("/")[0]) for p in train])
    mean, std = x_train.mean(axis=0), x_train.std(axis=0) + 1e-6
    centroids = np.stack([((x_train[y_train == c] - mean) / std).mean(axis=0) for c in range(len(classes))])
    x_test = (np.stack([features[p] for p in test]) - mean) / std
    predicted = np.argmin(((x_test[:, None] - centroids[None]) ** 2).sum(axis=2), axis=1)
    return float(np.mean(predicted == [classes.index(p.split("/")[0]) for p in test]))


def test_single_frames_do_not_reveal_the_class_but_motion_does(videos_dir: Path, lists: dict[str, bytes]) -> None:
    """Nearest-centroid on the first frame's appearance is near chance; on a crude global-motion
    summary of the same videos it is far above. The first frame is the worst case: a cue that
    depends on time (where a moving object starts, how large a zoom starts) would show there."""
    videos = {f"{p.parent.name}/{p.name}": list(video_frames(p)) for p in videos_dir.glob("*/*.avi")}
    chance = 1 / len(DEFAULT_CLASSES)
    appearance = _split1_accuracy({p: _appearance(frames[0]) for p, frames in videos.items()}, lists)
    motion = _split1_accuracy({p: _global_motion(frames) for p, frames in videos.items()}, lists)
    assert appearance < 2 * chance, f"single-frame accuracy {appearance:.2f}, chance {chance:.2f}"
    assert motion > 3 * chance, f"motion-feature accuracy {motion:.2f}, chance {chance:.2f}"
