"""Dataset blocks (mict_pipeline.datasets.formats): validation, and every format read into one shape.

The files are generated and tiny; videos are empty files (nothing is decoded here: the prepare
pipeline's tests extract real ones)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mict_pipeline.config import ParameterError
from mict_pipeline.datasets.formats import (
    MISSING_COLUMNS,
    DatasetLocation,
    FolderFormat,
    HMDB51Format,
    KineticsFormat,
    UCF101Format,
    dataset_format,
    list_videos,
)
from mict_pipeline.datasets.hmdb51 import split_file_name
from mict_pipeline.datasets.kinetics import clip_file_name
from mict_pipeline.datasets.ucf101 import SPLIT_COLUMNS, SplitListError


def test_a_block_becomes_its_formats_model_with_the_formats_defaults():
    ucf = dataset_format({"format": "ucf101"})
    assert isinstance(ucf, UCF101Format) and ucf.name == "UCF-101" and ucf.run_splits == (1, 2, 3)
    assert ucf.archives() == {"videos", "splits"} and ucf.expected_counts == "official"
    hmdb = dataset_format({"format": "hmdb51", "splits": [1]})
    assert isinstance(hmdb, HMDB51Format) and hmdb.run_splits == (1,) and hmdb.lists.path == "testTrainMulti_7030_splits"
    kinetics = dataset_format({"format": "kinetics", "name": "k", "videos": {"path": "clips"}, "lists": [{"path": "a.csv"}, {"path": "b.csv"}]})
    assert isinstance(kinetics, KineticsFormat) and kinetics.run_splits == (1,) and set(kinetics.sources()) == {"videos", "lists.0", "lists.1"}
    assert not kinetics.MISSING_IS_FAILURE and kinetics.archives() == set()
    one = dataset_format({"format": "kinetics", "name": "k", "videos": {"path": "clips"}, "lists": {"path": "a.csv"}})
    assert one.lists == kinetics.lists[:1]  # one CSV as a mapping: a plain key tree for `dvc exp run -S`


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"format": "mp4"}, r"dataset: Input tag 'mp4' found using 'format' does not match any of the expected tags"),
        ({"format": "ucf101", "splits": [4]}, r"dataset.ucf101.splits: splits must be distinct splits of the format, 1, 2, 3; got \[4\]"),
        ({"format": "folder", "name": "mine", "videos": {}}, r"dataset.folder.videos: give archive .* path .*"),
        ({"format": "folder", "name": "mine", "videos": {"path": "v"}, "lists": {"train": {"path": "t"}}},
         r"lists needs both train and test list files, got train"),
        ({"format": "kinetics", "name": "k", "videos": {"path": "v"}, "lists": [], "max_missing_fraction": 2},
         r"dataset.kinetics.lists: .*at least 1 item.*dataset.kinetics.max_missing_fraction: Input should be less than or equal to 1"),
        ({"format": "ucf101", "video": {"path": "v"}}, r"unknown key 'video'"),
    ],
)
def test_a_wrong_block_is_named_key_by_key(block, message):
    with pytest.raises(ParameterError, match=message):
        dataset_format(block)


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


def test_hmdb51_lists_and_folders_read_into_the_split_list_table(tmp_path):
    videos, lists = tmp_path / "videos", tmp_path / "splits"
    lists.mkdir()
    for class_name in ("wave", "clap"):
        for i in range(3):
            _touch(videos / class_name / f"{class_name}_{i}.avi")
        for split in (1, 2, 3):
            ids = [(1, 2, 0), (2, 1, 0), (0, 1, 2)][split - 1]
            lines = "".join(f"{class_name}_{i}.avi {ids[i]} \n" for i in range(3))
            (lists / split_file_name(class_name, split)).write_text(lines)
    spec = dataset_format({"format": "hmdb51", "expected_counts": {"classes": 2, "per_class": {"train": 1, "test": 1}}})
    found = list_videos(spec, DatasetLocation(videos, lists), tmp_path / "written")
    assert list(found.split_lists.columns) == SPLIT_COLUMNS and len(found.split_lists) == 3 * 2 * 2
    assert found.missing.empty and list(found.missing.columns) == MISSING_COLUMNS
    # Each video unused in some split is still on disk and listed in another: nothing is unlisted.
    assert found.unlisted.empty and len(found.video_files) == 6
    (videos / "jump").mkdir()  # a class folder no split file lists
    with pytest.raises(SplitListError, match=r"folders in no split file: jump"):
        list_videos(spec, DatasetLocation(videos, lists), tmp_path / "written")


def test_kinetics_missing_clips_are_listed_with_a_reason_and_test_rows_left_out(tmp_path):
    rows = [("swim", "aaaaaaaaaaa", 0, 10, "train"), ("run", "bbbbbbbbbbb", 5, 15, "train"), ("run", "ccccccccccc", 0, 10, "train"),
            ("swim", "ddddddddddd", 1, 11, "val"), ("run", "eeeeeeeeeee", 2, 12, "val"), ("swim", "fffffffffff", 3, 13, "test")]
    train_csv, val_csv = tmp_path / "train.csv", tmp_path / "validate.csv"
    header = "label,youtube_id,time_start,time_end,split\n"
    train_csv.write_text(header + "".join(f"{','.join(map(str, r))}\n" for r in rows if r[4] == "train"))
    val_csv.write_text(header + "".join(f"{','.join(map(str, r))}\n" for r in rows if r[4] != "train"))
    for label, youtube_id, start, end, _ in rows:
        if youtube_id != "ccccccccccc":  # one clip could not be downloaded
            _touch(tmp_path / "clips" / label / clip_file_name(youtube_id, start, end))
    spec = KineticsFormat(format="kinetics", name="k", videos={"path": "clips"}, lists=[{"path": "t"}, {"path": "v"}], max_missing_fraction=0.25)
    found = list_videos(spec, DatasetLocation(tmp_path / "clips", (train_csv, val_csv)), tmp_path / "written")
    assert found.split_lists.groupby("subset").size().to_dict() == {"train": 2, "test": 2}  # the CSV test row is left out
    assert found.missing.to_dict("records") == [{"video": "ccccccccccc_000000_000010", "reason": f"clip file not found in {tmp_path / 'clips'}"}]
    assert set(found.video_files["video"]) == set(found.split_lists["video"])


def test_a_folder_without_lists_gets_a_written_seeded_split_and_reads_back_from_it(tmp_path):
    for class_name, n in (("b_class", 5), ("a_class", 4)):
        for i in range(n):
            _touch(tmp_path / "videos" / class_name / f"clip {i}.mp4")
    spec = FolderFormat(format="folder", name="mine", videos={"path": "videos"}, test_fraction=0.4, seed=3)
    where = DatasetLocation(tmp_path / "videos", None)
    found = list_videos(spec, where, tmp_path / "written")
    again = list_videos(spec, where, tmp_path / "again")
    pd.testing.assert_frame_equal(found.split_lists, again.split_lists)  # deterministic
    assert (tmp_path / "written" / "trainlist01.txt").read_text() == (tmp_path / "again" / "trainlist01.txt").read_text()
    assert found.split_lists.groupby(["class_name", "subset"]).size().to_dict() == {
        ("a_class", "test"): 2, ("a_class", "train"): 2, ("b_class", "test"): 2, ("b_class", "train"): 3,
    }
    lists = {"train": tmp_path / "written" / "trainlist01.txt", "test": tmp_path / "written" / "testlist01.txt"}
    from_lists = list_videos(spec.model_copy(update={"lists": {s: {"path": str(p)} for s, p in lists.items()}}),
                             DatasetLocation(tmp_path / "videos", lists), tmp_path / "unused")
    pd.testing.assert_frame_equal(from_lists.split_lists, found.split_lists)
    assert not (tmp_path / "unused").exists()  # given lists are read, not rewritten


def test_counts_other_than_expected_name_the_key_and_the_conf_file(tmp_path):
    lists = tmp_path / "splits"
    lists.mkdir()
    for split in (1, 2, 3):
        (lists / split_file_name("wave", split)).write_text("wave_1.avi 1\nwave_2.avi 2\n")
    with pytest.raises(SplitListError, match=r"1 classes \(expected 51\).* Fix: use test_train_splits.rar unchanged, or give the dataset's own "
                       r"counts under datasets.mine.expected_counts in conf/<env>/parameters_datasets.yml \(`expected_counts: null`"):
        list_videos(dataset_format({"format": "hmdb51"}), DatasetLocation(tmp_path / "videos", lists), tmp_path / "written", "mine")
