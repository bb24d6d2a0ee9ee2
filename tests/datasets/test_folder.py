"""Folder datasets: class sub-folders with list files or a seeded stratified split (empty files)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mict_pipeline.datasets.folder import read_folder_dataset, stratified_split, write_split_lists
from mict_pipeline.datasets.ucf101 import LIST_COLUMNS
from mict_pipeline.datasets.ucf101 import SplitListError

COUNTS = {"cats": 5, "dogs": 2, "birds": 10}


def _make(root: Path, counts: dict[str, int] = COUNTS) -> Path:
    for name, n in counts.items():
        (root / name).mkdir(parents=True)
        for i in range(n):
            (root / name / f"{name}{i:02d}{'.mp4' if i % 2 else '.avi'}").touch()
    (root / "cats" / "notes.txt").touch()  # not a video: ignored
    return root


def test_split_is_stratified_and_has_the_ucf101_table_shape(tmp_path):
    table = read_folder_dataset(_make(tmp_path / "v"), test_fraction=0.3, seed=0)
    assert list(table.columns) == LIST_COLUMNS
    assert len(table) == sum(COUNTS.values()) and set(table["split"]) == {1}
    tests = table[table["subset"] == "test"].groupby("class_name").size().to_dict()
    assert tests == {"birds": 3, "cats": 2, "dogs": 1}  # round half up, >= 1 each side
    assert table.groupby("class_name")["subset"].nunique().eq(2).all()
    assert dict(zip(table["class_name"], table["label"])) == {"birds": 0, "cats": 1, "dogs": 2}
    assert table.loc[table["video"] == "cats/cats01", "path"].item().endswith("cats/cats01.mp4")


def test_split_depends_on_the_seed_not_the_listing_order(tmp_path):
    videos = {c: [Path(c) / f"{c}{i}.mp4" for i in range(n)] for c, n in COUNTS.items()}
    shuffled = {c: random.Random(1).sample(v, len(v)) for c, v in reversed(videos.items())}
    assert stratified_split(videos, 0.3, 7) == stratified_split(shuffled, 0.3, 7)
    seeds = {tuple(sorted(stratified_split(videos, 0.3, s).items())) for s in range(5)}
    assert len(seeds) > 1
    root = _make(tmp_path / "v")
    assert read_folder_dataset(root, seed=3).equals(read_folder_dataset(root, seed=3))


def test_written_lists_read_back_to_the_same_table(tmp_path):
    root = _make(tmp_path / "v")
    table = read_folder_dataset(root, seed=1)
    lists = write_split_lists(table, root, tmp_path / "lists")
    assert lists["train"].read_text().splitlines()[0] == "birds/birds00.avi 0"
    assert read_folder_dataset(root, lists=lists).equals(table)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("cats/cats00.avi", "expected '<path> <label>'"),
        ("cats/cats00.avi one", "expected '<path> <label>'"),
        ("cats/cats00.avi 3", "label 3 is outside the 3 classes"),
        ("cats/cats00.avi 0", "label 0 is birds, but the video is in folder cats"),
        ("cats00.avi 1", "not a video in a class folder"),
        ("cats/nope.avi 1", "not a video in a class folder"),
        ("birds/birds00.avi 0", "already listed at .*train.txt:1"),
    ],
)
def test_list_errors_name_file_and_line(tmp_path, line, message):
    root = _make(tmp_path / "v")
    train = tmp_path / "train.txt"
    train.write_text("birds/birds00.avi 0\ndogs/dogs00.avi 2\n\ncats/cats01.mp4 1\n")
    test = tmp_path / "test.txt"
    test.write_text(f"dogs/dogs01.mp4 2\n{line}\n")
    with pytest.raises(SplitListError, match=rf"test\.txt:2: .*{message}"):
        read_folder_dataset(root, lists={"train": train, "test": test})


def test_class_folder_in_no_list_is_an_error(tmp_path):
    root = _make(tmp_path / "v")
    train = tmp_path / "train.txt"
    train.write_text("birds/birds00.avi 0\ncats/cats00.avi 1\n")
    with pytest.raises(SplitListError, match="class folders dogs .* appear in no list"):
        read_folder_dataset(root, lists={"train": train})


def test_empty_class_folder_is_an_error(tmp_path):
    root = _make(tmp_path / "v")
    (root / "fish").mkdir()
    with pytest.raises(SplitListError, match="fish: class folder without videos"):
        read_folder_dataset(root)
