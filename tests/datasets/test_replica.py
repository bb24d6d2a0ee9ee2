"""The UCF-101 replica: the official names, groups, clips and split lists (byte for byte), lengths
drawn from UCF-101's, and 101 classes that look and move differently."""

from __future__ import annotations

import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from mict_pipeline.datasets.synthetic import (
    HUES,
    MOTIONS,
    SPLITS_ARCHIVE,
    UCF101_SECONDS,
    VIDEOS_ARCHIVE,
    generate_replica,
    render_frames,
    replica_specs,
    split_lists,
)
from mict_pipeline.datasets.ucf101 import CLASS_NAMES, OFFICIAL_COUNTS, load_split_lists

from test_ucf101 import OFFICIAL_DIR, needs_official

SLICE = ["Archery", "HandstandPushups", "YoYo"]  # HandstandPushups: the lists spell it HandStandPushups


@pytest.fixture(scope="module")
def full() -> list:
    return replica_specs()


def test_the_replica_lists_pass_the_official_checks(full, tmp_path):
    for name, content in split_lists(full, CLASS_NAMES).items():
        (tmp_path / name).write_bytes(content.encode("ascii"))
    table = load_split_lists(tmp_path, expected_counts=OFFICIAL_COUNTS)  # 101 classes, 13,320 videos, per-split sizes
    assert table["video"].nunique() == 13_320


@needs_official
def test_the_replica_lists_are_the_official_files_byte_for_byte(full):
    for name, content in split_lists(full, CLASS_NAMES).items():
        assert content.encode("ascii") == (OFFICIAL_DIR / name).read_bytes(), name


def test_lengths_follow_ucf101s_and_scale(full):
    mean, shortest, longest = UCF101_SECONDS
    seconds = np.array([spec.n_frames for spec in full]) / 25
    assert abs(seconds.mean() - mean) < 0.1 and seconds.min() >= shortest - 0.04 and seconds.max() <= longest + 0.04
    assert 4.5 < np.median(seconds) < 7.0 and (seconds > 20).mean() < 0.05  # most short, a long tail
    scaled = np.array([spec.n_frames for spec in replica_specs(length_scale=1 / 6)])
    assert abs(scaled.mean() / 25 - mean / 6) < 0.05 and scaled.min() >= 1


def test_every_class_has_its_own_motion_and_colour_whatever_the_slice(full):
    looks = {(spec.folder, spec.motion, spec.hue) for spec in full}
    assert len(looks) == len({(motion, hue) for _, motion, hue in looks}) == 101
    assert {motion for _, motion, _ in looks} == set(MOTIONS) and {hue for _, _, hue in looks} == set(HUES)
    sliced = replica_specs(classes=SLICE)
    assert {s.name: (s.motion, s.hue, s.n_frames, s.seed) for s in sliced} == {
        s.name: (s.motion, s.hue, s.n_frames, s.seed) for s in full if s.folder in SLICE
    }
    with pytest.raises(ValueError, match=r"unknown: \['Handstandpushups'\]"):
        replica_specs(classes=["Archery", "Handstandpushups"])


def test_a_class_colour_is_its_hue():
    hues = []
    for spec in [s for s in replica_specs(classes=["ApplyEyeMakeup", "Haircut"]) if s.clip == 1][:: 25][:2]:  # 0 and 120 degrees
        frame = render_frames(spec, (80, 60))[0]
        hsv = cv2.cvtColor(frame, cv2.COLOR_BGR2HSV_FULL)
        bright = hsv[..., 2] > 100
        hues.append(np.median(hsv[..., 0][bright].astype(float)) * 360 / 256)
    assert hues[0] < 10 or hues[0] > 350
    assert abs(hues[1] - 4 * 360 / 13) < 12  # Haircut: label 33, hue number 4


def test_a_slice_of_the_replica_is_ucf101_in_miniature(tmp_path):
    manifest = generate_replica(tmp_path, classes=SLICE, length_scale=0.05, size=(80, 60), workers=2)
    with zipfile.ZipFile(tmp_path / VIDEOS_ARCHIVE) as archive:
        names = archive.namelist()
        video = archive.read("UCF-101/HandstandPushups/v_HandStandPushups_g01_c01.avi")
    assert manifest["videos"] == len([n for n in names if n.endswith(".avi")]) == len(replica_specs(classes=SLICE))
    assert [n for n in names if n.endswith("/")] == ["UCF-101/", "UCF-101/Archery/", "UCF-101/HandstandPushups/", "UCF-101/YoYo/"]
    path = tmp_path / "v.avi"
    path.write_bytes(video)
    capture = cv2.VideoCapture(str(path))
    assert (capture.get(cv2.CAP_PROP_FRAME_WIDTH), capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (80, 60)
    capture.release()
    with zipfile.ZipFile(tmp_path / SPLITS_ARCHIVE) as archive:
        lists = {Path(n).name: archive.read(n).decode("ascii") for n in archive.namelist() if n.endswith(".txt")}
    assert lists["classInd.txt"] == "1 Archery\r\n2 HandstandPushups\r\n3 YoYo\r\n"
    assert "HandStandPushups/v_HandStandPushups_g08_c01.avi 2\r\n" in lists["trainlist01.txt"]
    assert "HandStandPushups/v_HandStandPushups_g08_c01.avi\r\n" in lists["testlist02.txt"]
    assert manifest["length_scale"] == 0.05 and manifest["frame_size"] == [80, 60]


def test_fewer_clips_per_group_keep_every_class_group_and_video_as_it_was(full):
    capped = replica_specs(max_clips_per_group=1)
    assert len(capped) == 101 * 25 and {s.folder for s in capped} == set(CLASS_NAMES)
    assert {(s.folder, s.group) for s in capped} == {(s.folder, s.group) for s in full}
    assert set(capped) <= set(full)  # the same videos (lengths, seeds), fewer of them
    lists = split_lists(capped, CLASS_NAMES)
    assert lists["testlist01.txt"].count("\n") == 101 * 7 and lists["trainlist01.txt"].count("\n") == 101 * 18
