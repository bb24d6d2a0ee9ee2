"""Synthetic UCF-101: layout, official split-list format and protocol, determinism, real videos,
and that the class is in the motion, not in any single frame. Synthetic HMDB-51 and Kinetics:
layout, official file formats, read back through the project's readers, determinism."""

from __future__ import annotations

import csv
import io
import itertools
import re
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from mict_pipeline.io.archives import extract_archive
from mict_pipeline.io.frame_store import video_frames
from mict_pipeline.datasets.hmdb51 import (
    HMDB51Counts,
    check_class_folders,
    extract_nested_archives,
    read_hmdb51_split_files,
    split_file_name,
)
from mict_pipeline.datasets.kinetics import CSV_COLUMNS, clip_file_name, read_kinetics_annotations
from mict_pipeline.datasets.synthetic import (
    DEFAULT_CLASSES,
    HMDB51_SPLITS_ARCHIVE,
    HMDB51_SPLITS_TOP,
    HMDB51_VIDEOS_ARCHIVE,
    HUES,
    KINETICS_CLIPS_DIR,
    KINETICS_CSV,
    MOTIONS,
    SPLITS_ARCHIVE,
    VIDEOS_ARCHIVE,
    generate_dataset,
    generate_hmdb51,
    generate_kinetics,
    hmdb51_class_name,
    kinetics400_labels,
    kinetics_clips,
    kinetics_label,
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


# --- HMDB-51 format ------------------------------------------------------------------------------

TINY = {"frames": (4, 6), "size": (32, 24), "workers": 1}
HMDB = {"classes": ["MoveUp", "SwayHorizontal", "Twist"], "videos_per_class": 6, "per_class": {"train": 3, "test": 2}, "seed": 4}
HMDB |= TINY
HMDB_CLASSES = ["move_up", "sway_horizontal", "twist"]
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
HMDB_LINE = re.compile(r"(?P<video>[A-Za-z0-9_\-]+\.avi) (?P<id>[012]) ")


@pytest.fixture(scope="module")
def hmdb(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return generate_hmdb51(tmp_path_factory.mktemp("hmdb51"), **HMDB)


@pytest.fixture(scope="module")
def hmdb_split_files(hmdb: dict) -> dict[str, str]:
    with zipfile.ZipFile(hmdb["archives"][HMDB51_SPLITS_ARCHIVE]["path"]) as archive:
        return {name: archive.read(name).decode("ascii") for name in archive.namelist()}


def test_hmdb51_class_names_are_hmdb_style() -> None:
    assert [hmdb51_class_name(m) for m in ("MoveUp", "SwayHorizontal", "Pulse")] == ["move_up", "sway_horizontal", "pulse"]
    assert [kinetics_label(m) for m in ("MoveUp", "BobVertical")] == ["move up", "bob vertical"]


def test_hmdb51_archive_of_class_archives(hmdb: dict, tmp_path: Path) -> None:
    outer_path = Path(hmdb["archives"][HMDB51_VIDEOS_ARCHIVE]["path"])
    assert sorted(p.name for p in outer_path.parent.iterdir()) == sorted([HMDB51_VIDEOS_ARCHIVE, HMDB51_SPLITS_ARCHIVE])
    assert hmdb["classes"] == HMDB_CLASSES and hmdb["videos"] == 3 * 6
    with zipfile.ZipFile(outer_path) as outer:
        assert outer.namelist() == [f"{c}.zip" for c in HMDB_CLASSES]
        for info in outer.infolist():
            assert info.date_time == FIXED_DATE and info.compress_type == zipfile.ZIP_STORED
            with zipfile.ZipFile(io.BytesIO(outer.read(info))) as inner:
                class_name = info.filename.removesuffix(".zip")
                names = inner.namelist()
                assert names[0] == f"{class_name}/" and names == sorted(names) and len(names) == 1 + 6
                assert all(re.fullmatch(rf"{class_name}/\w+_{class_name}_f_nm_np1_fr_med_0\.avi", n) for n in names[1:])
                assert all(i.compress_type == zipfile.ZIP_STORED and i.date_time == FIXED_DATE for i in inner.infolist())

    videos = extract_nested_archives(outer_path, tmp_path / "videos")
    assert sorted({v.parent.name for v in videos}) == HMDB_CLASSES and len(videos) == hmdb["videos"]
    assert all(v.parent.parent == tmp_path / "videos" and v.suffix == ".avi" for v in videos)
    extract_archive(hmdb["archives"][HMDB51_SPLITS_ARCHIVE]["path"], tmp_path / "splits", progress=False)
    table = read_hmdb51_split_files(tmp_path / "splits" / HMDB51_SPLITS_TOP, expected_counts=None)
    check_class_folders(tmp_path / "videos", table)
    assert {f"{v.parent.name}/{v.stem}" for v in videos} >= set(table["video"])

    capture = cv2.VideoCapture(str(videos[0]))
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (32, 24)
    decoded = 0
    while capture.read()[0]:
        decoded += 1
    capture.release()
    assert 4 <= decoded <= 6


def test_hmdb51_split_files_are_in_the_official_format(hmdb_split_files: dict[str, str]) -> None:
    expected = {f"{HMDB51_SPLITS_TOP}/"}
    expected |= {f"{HMDB51_SPLITS_TOP}/{split_file_name(c, k)}" for c in HMDB_CLASSES for k in (1, 2, 3)}
    assert set(hmdb_split_files) == expected
    for class_name in HMDB_CLASSES:
        ids_by_split = []
        videos_by_split = []
        for k in (1, 2, 3):
            text = hmdb_split_files[f"{HMDB51_SPLITS_TOP}/{class_name}_test_split{k}.txt"]
            assert text.endswith(" \n") and "\r" not in text
            matches = [HMDB_LINE.fullmatch(line) for line in text.split("\n")[:-1]]
            assert all(matches), text
            videos_by_split.append([m["video"] for m in matches])
            ids = [int(m["id"]) for m in matches]
            assert (ids.count(1), ids.count(2), ids.count(0)) == (3, 2, 1)
            ids_by_split.append(ids)
        assert videos_by_split[0] == videos_by_split[1] == videos_by_split[2] and len(videos_by_split[0]) == 6
        assert all(f"_{class_name}_" in video for video in videos_by_split[0])
        assert not ids_by_split[0] == ids_by_split[1] == ids_by_split[2], f"{class_name}: the three splits are the same"


def test_hmdb51_split_files_read_back(hmdb: dict, tmp_path: Path) -> None:
    extract_archive(hmdb["archives"][HMDB51_SPLITS_ARCHIVE]["path"], tmp_path, progress=False)
    counts = HMDB51Counts(classes=len(HMDB["classes"]), per_class=HMDB["per_class"])
    table = read_hmdb51_split_files(tmp_path / HMDB51_SPLITS_TOP, expected_counts=counts)
    assert sorted(table["class_name"].unique()) == HMDB_CLASSES
    assert len(table) == 3 * 3 * (3 + 2) and table.attrs["unused"] == {1: 3, 2: 3, 3: 3}


def test_hmdb51_is_deterministic_and_a_video_keeps_its_bytes_when_others_are_added(hmdb: dict, tmp_path: Path) -> None:
    again = generate_hmdb51(tmp_path / "again", **HMDB)
    assert {n: a["sha256"] for n, a in again["archives"].items()} == {n: a["sha256"] for n, a in hmdb["archives"].items()}
    more = generate_hmdb51(tmp_path / "more", **{**HMDB, "videos_per_class": 7})

    def videos(manifest: dict) -> dict[str, bytes]:
        with zipfile.ZipFile(manifest["archives"][HMDB51_VIDEOS_ARCHIVE]["path"]) as outer:
            inner = zipfile.ZipFile(io.BytesIO(outer.read("twist.zip")))
            return {name: inner.read(name) for name in inner.namelist() if name.endswith(".avi")}

    before, after = videos(hmdb), videos(more)
    assert len(after) == len(before) + 1 and all(after[name] == video for name, video in before.items())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"classes": ["MoveUp", "MoveLeft"]}, "unknown classes"),
        ({"classes": ["MoveUp"]}, "at least two distinct classes"),
        ({"videos_per_class": 4}, r"videos_per_class \(4\) must be at least per_class train \+ test \(5\)"),
        ({"per_class": {"train": 0, "test": 2}}, "at least 1"),
        ({"per_class": {"train": 3, "test": 0}}, "at least 1"),
        ({"per_class": {"train": 3}}, "'train' and 'test'"),
        ({"frames": (6, 4)}, "frames"),
    ],
)
def test_hmdb51_bad_options_are_refused(options: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        generate_hmdb51(tmp_path, **{**HMDB, **options})
    assert not any(tmp_path.iterdir())


# --- Kinetics layout -----------------------------------------------------------------------------

KINETICS = {"classes": ["MoveUp", "Pulse"], "clips": {"train": 3, "val": 2, "test": 1}, "missing": 2, "seed": 2, **TINY}


@pytest.fixture(scope="module")
def kinetics(tmp_path_factory: pytest.TempPathFactory) -> dict:
    return generate_kinetics(tmp_path_factory.mktemp("kinetics"), **KINETICS)


def _csv_rows(manifest: dict) -> list[dict[str, str]]:
    text = Path(manifest["annotations"]["path"]).read_bytes().decode("ascii")
    assert text.startswith(",".join(CSV_COLUMNS) + "\n") and text.endswith("\n") and "\r" not in text
    return list(csv.DictReader(io.StringIO(text)))


def test_kinetics_annotations_and_clips(kinetics: dict) -> None:
    rows = _csv_rows(kinetics)
    assert len(rows) == kinetics["listed"] == 2 * (3 + 2 + 1)
    assert sorted({r["label"] for r in rows}) == kinetics["classes"] == ["move up", "pulse"]
    for label in ("move up", "pulse"):
        assert [r["split"] for r in rows if r["label"] == label] == ["train"] * 3 + ["val"] * 2 + ["test"]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{11}", r["youtube_id"]) for r in rows)
    assert all(0 <= int(r["time_start"]) < int(r["time_end"]) for r in rows)

    clips_dir = Path(kinetics["clips_dir"])
    assert clips_dir == Path(kinetics["annotations"]["path"]).parent / KINETICS_CLIPS_DIR
    listed = {f"{r['label']}/{clip_file_name(r['youtube_id'], int(r['time_start']), int(r['time_end']))}": r for r in rows}
    written = {p.relative_to(clips_dir).as_posix() for p in clips_dir.rglob("*") if p.is_file()}
    assert len(kinetics["missing"]) == 2 and set(kinetics["missing"]) <= set(listed)
    assert written == set(listed) - set(kinetics["missing"]) == set(kinetics["clips"])
    assert all(listed[m]["split"] in ("train", "val") for m in kinetics["missing"])
    assert kinetics["videos"] == len(written)

    video = clips_dir / next(iter(sorted(written)))
    assert video.read_bytes()[4:8] == b"ftyp"  # an MP4 container
    capture = cv2.VideoCapture(str(video))
    frames = []
    while (frame := capture.read())[0]:
        frames.append(frame[1])
    capture.release()
    assert 4 <= len(frames) <= 6 and frames[0].shape == (24, 32, 3)


def test_kinetics_reads_back_with_the_missing_clips_reported(kinetics: dict) -> None:
    csv_path, clips_dir = kinetics["annotations"]["path"], kinetics["clips_dir"]
    found, missing = read_kinetics_annotations(csv_path, clips_dir)
    assert len(found) == kinetics["videos"] and len(missing) == 2
    assert sorted(found["class_name"].unique()) == ["move up", "pulse"]
    assert set(found["subset"]) == {"train", "test", "heldout"}  # CSV train, val, test


def test_kinetics_is_deterministic(kinetics: dict, tmp_path: Path) -> None:
    again = generate_kinetics(tmp_path, **KINETICS)
    assert again["annotations"]["sha256"] == kinetics["annotations"]["sha256"]
    assert {n: c["sha256"] for n, c in again["clips"].items()} == {n: c["sha256"] for n, c in kinetics["clips"].items()}
    assert again["missing"] == kinetics["missing"]
    assert (tmp_path / KINETICS_CSV).is_file()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"classes": ["MoveUp", "Spin"]}, "unknown classes"),
        ({"clips": {"train": 0, "val": 2}}, "at least 1 train"),
        ({"clips": {"train": 2, "validate": 1}}, "train, val, test"),
        ({"missing": 10}, r"missing must be in \[0, 10\)"),
        ({"missing": -1}, "missing"),
        ({"frames": (0, 4)}, "frames"),
    ],
)
def test_kinetics_bad_options_are_refused(options: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=message):
        generate_kinetics(tmp_path, **{**KINETICS, **options})
    assert not any(tmp_path.iterdir())


def test_kinetics400_labels_are_the_published_400_each_moving_as_a_motion_in_a_hue() -> None:
    labels = kinetics400_labels()
    assert len(set(labels)) == 400 and list(labels) == sorted(labels)
    assert {"abseiling", "playing guitar", "zumba"} <= set(labels)
    clips = kinetics_clips(classes=DEFAULT_CLASSES, labels=labels, clips={"train": 1, "val": 1})
    assert [clip.spec.class_name for clip in clips[::2]] == list(labels)
    looks = [(clip.spec.motion, clip.spec.hue) for clip in clips[::2]]
    assert looks[:8] == [(motion, HUES[0]) for motion in DEFAULT_CLASSES]  # label i moves as motion i % 8 ...
    assert looks[8] == (DEFAULT_CLASSES[0], HUES[1])  # ... in hue i // 8
    assert looks[8 * len(HUES)] == looks[0]  # 8 motions x 13 hues, then the looks come round again


def test_kinetics_with_named_classes_reads_back_under_those_names(tmp_path: Path) -> None:
    names = ["riding a bike", "massaging person's head", "passing American football (in game)"]
    manifest = generate_kinetics(tmp_path, labels=names, clips={"train": 2, "val": 1}, missing=1, **TINY)
    found, missing = read_kinetics_annotations(manifest["annotations"]["path"], manifest["clips_dir"])
    assert sorted(found["class_name"].unique()) == manifest["classes"] == sorted(names)
    assert len(found) == manifest["videos"] == 8 and len(missing) == 1
    with pytest.raises(ValueError, match="distinct"):
        generate_kinetics(tmp_path / "again", labels=[names[0], names[0]], **TINY)


def test_the_synthetic_node_writes_the_hmdb51_layout(tmp_path: Path) -> None:
    from mict_pipeline.parameters.synthetic import SyntheticParams
    from mict_pipeline.pipelines.synthetic.nodes import generate_synthetic_archives

    hmdb51 = {"classes": ["ZoomIn", "Pulse"], "videos_per_class": 2, "per_class": {"train": 1, "test": 1}, "frames": [4, 4]}
    synthetic = SyntheticParams.model_validate({"layout": "hmdb51", "size": (32, 24), "workers": 1, "hmdb51": hmdb51})
    manifest = generate_synthetic_archives(synthetic, str(tmp_path))
    assert set(manifest["archives"]) == {HMDB51_VIDEOS_ARCHIVE, HMDB51_SPLITS_ARCHIVE}
    assert manifest["classes"] == ["pulse", "zoom_in"] and manifest["videos"] == 4


def test_the_synthetic_node_writes_the_kinetics_layout(tmp_path: Path) -> None:
    from mict_pipeline.parameters.synthetic import SyntheticParams
    from mict_pipeline.pipelines.synthetic.nodes import generate_synthetic_archives

    kinetics = {"classes": ["ZoomIn", "Pulse"], "clips": {"train": 2, "val": 1, "test": 0}, "missing": 1, "frames": [4, 4]}
    synthetic = SyntheticParams.model_validate({"layout": "kinetics", "size": (32, 24), "workers": 1, "kinetics": kinetics})
    manifest = generate_synthetic_archives(synthetic, str(tmp_path))
    assert (tmp_path / KINETICS_CSV).is_file() and manifest["classes"] == ["pulse", "zoom in"]
    assert manifest["listed"] == 6 and manifest["videos"] == 5
    with pytest.raises(ValueError, match="missing must be"):  # what the generator would refuse, at validation
        SyntheticParams.model_validate({"layout": "kinetics", "kinetics": {**kinetics, "missing": 6}})
