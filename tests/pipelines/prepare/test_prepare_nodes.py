"""The prepare nodes' data-quality limits on a small dataset of real videos, with the default settings."""

from __future__ import annotations

import pandas as pd
import pytest

from mict_pipeline.datasets.synthetic import generate_kinetics
from mict_pipeline.datasets.ucf101 import SPLIT_COLUMNS
from mict_pipeline.parameters.prepare import PrepareParams
from mict_pipeline.pipelines.prepare import nodes


@pytest.mark.parametrize(
    ("unusable", "listed", "stops"),
    [(1, 33, False), (5, 33, False), (6, 33, True), (6, 1000, False), (11, 1000, True)],
)
def test_the_run_stops_only_above_both_the_fraction_and_the_count(unusable, listed, stops):
    assert PrepareParams().too_many(unusable, listed) is stops  # defaults: 1% and 5 videos


def test_a_small_folder_dataset_with_one_bad_video_prepares_with_the_defaults(tmp_path):
    # 3 classes of 11 videos: 33, as a user's first own dataset.
    generate_kinetics(tmp_path / "k", classes=["MoveUp", "Twist", "ZoomIn"], clips={"train": 10, "val": 1, "test": 0},
                      missing=0, size=(32, 24), frames=(16, 16), workers=1)
    videos = tmp_path / "k" / "clips"
    bad = sorted(videos.rglob("*.mp4"))[0]
    bad.write_bytes(b"not a video")
    dataset = {"format": "folder", "name": "mine", "videos": {"path": str(videos)}}
    settings = PrepareParams(frames={"width": 32, "height": 24}, workers=1)  # the default limits
    read = nodes.read_dataset(nodes.locate_dataset({}, dataset, str(tmp_path / "raw"), "mine"), dataset, str(tmp_path / "raw"), "mine")
    extracted = nodes.extract_video_frames(read["video_files"], settings, str(tmp_path / "frames"))
    unusable = nodes.list_unusable_videos(read["missing_videos"], extracted)
    frame_index = nodes.check_data_quality(read["split_lists"], read["missing_videos"], unusable, extracted, dataset, "mine", settings)["frame_index"]
    tables = nodes.split_tables(read["split_lists"], frame_index, (1,))
    train, test = tables["split_1.train_index"], tables["split_1.test_index"]
    report, summary = nodes.data_quality_report(read["split_lists"], read["missing_videos"], read["unlisted_videos"], frame_index, dataset, **tables)

    assert unusable["video"].tolist() == [f"{bad.parent.name}/{bad.stem}"]
    assert (report["listed_videos"], report["unusable_videos"], report["usable_videos"]) == (33, 1, 32)
    assert report["tables"] == {"1": {"train": len(train), "test": len(test), "excluded": 1}} and len(train) + len(test) == 32
    # split_summary counts what the tables hold, beside what the lists name.
    for subset, table in (("train", train), ("test", test)):
        rows = summary[summary["subset"] == subset].set_index("class_name")
        assert rows["n_videos"].to_dict() == {**dict.fromkeys(rows.index, 0), **table.groupby("class_name").size().to_dict()}
    assert summary["n_listed"].sum() - summary["n_videos"].sum() == 1


KINETICS = {"format": "kinetics", "name": "k", "videos": {"path": "clips"}, "lists": [{"path": "train.csv"}]}


def _lists(rows: list[tuple[str, str, str]], split: int = 1) -> pd.DataFrame:
    """A split-list table of ``(video, class_name, subset)`` rows; labels in sorted class order."""
    labels = {name: n for n, name in enumerate(sorted({c for _, c, _ in rows}))}
    return pd.DataFrame([(v, c, labels[c], 0, split, s) for v, c, s in rows], columns=SPLIT_COLUMNS)


def _frames(videos: list[str], failed: tuple[str, ...] = ()) -> pd.DataFrame:
    """Frame-extraction results: 20 frames each, ``failed`` ones with an error."""
    return pd.DataFrame({"video": videos, "frame_store": [f"{v}.frames" for v in videos], "n_frames": 20,
                         "error": [("corrupt" if v in failed else None) for v in videos]})


def _check(lists: pd.DataFrame, frames: pd.DataFrame, dataset: dict, missing: pd.DataFrame | None = None) -> dict:
    missing = pd.DataFrame({"video": [], "reason": []}) if missing is None else missing
    unusable = nodes.list_unusable_videos(missing, frames)
    return nodes.check_data_quality(lists, missing, unusable, frames, dataset, "mine", PrepareParams())


def test_a_split_without_test_videos_stops_prepare_naming_the_split_and_the_lists_to_give():
    lists = _lists([("a1", "a", "train"), ("b1", "b", "train")])  # a Kinetics train.csv alone
    with pytest.raises(nodes.DataQualityError, match=r"^split 1 has no test videos: the lists of datasets.mine in "
                       r"conf/<env>/parameters_datasets.yml name none. Fix: add the annotation CSV with the `val` rows "
                       r"\(Kinetics' validate.csv\) to `lists:` under datasets.mine, e.g. `- path: <folder>/validate.csv`"):
        _check(lists, _frames(["a1", "b1"]), KINETICS)


def test_a_split_whose_test_videos_are_all_unusable_stops_prepare_naming_the_list_of_them():
    lists = _lists([("a1", "a", "train"), ("b1", "b", "train"), ("a2", "a", "test")])
    dataset = {"format": "folder", "name": "mine", "videos": {"path": "videos"}}
    with pytest.raises(nodes.DataQualityError, match=r"^split 1 has no usable test videos \(1 listed, all unusable\). Fix: repair "
                       r"or replace the test videos of split 1 that 08_reporting/unusable_videos.csv names$"):
        _check(lists, _frames(["a1", "b1", "a2"], failed=("a2",)), dataset)


def test_a_class_without_usable_train_videos_stops_prepare_naming_it():
    lists = _lists([("a1", "a", "train"), ("b1", "b", "train"), ("c1", "c", "train"), ("a2", "a", "test"), ("b2", "b", "test")])
    with pytest.raises(nodes.DataQualityError, match=r"^class b of split 1 has no usable train videos, so a model would have classes "
                       r"it never saw. Fix: repair or replace their videos that 08_reporting/unusable_videos.csv names"):
        _check(lists, _frames(["a1", "b1", "c1", "a2", "b2"], failed=("b1",)), KINETICS)


def test_the_report_accounts_for_every_listed_video_of_the_splits_prepared(caplog):
    # Two splits listed, split 1 prepared: c1 is used only by split 2 (as HMDB-51's id 0 in split 1);
    # b2 failed, m1 is a missing Kinetics-style clip (not held to max_failed_fraction, still unusable).
    lists = pd.concat([_lists([("a1", "a", "train"), ("b1", "b", "train"), ("a2", "a", "test"), ("b2", "b", "test")]),
                       _lists([("c1", "a", "train"), ("a1", "a", "test")], split=2)], ignore_index=True)
    missing = pd.DataFrame({"video": ["m1"], "reason": ["clip file not found"]})
    frames = _frames(["a1", "b1", "a2", "b2", "c1"], failed=("b2",))
    tables = nodes.split_tables(lists, frames, (1,))
    report, summary = nodes.data_quality_report(lists, missing, pd.DataFrame(columns=["path", "reason"]), frames, KINETICS, **tables)
    assert (report["listed_videos"], report["usable_videos"], report["unusable_videos"], report["in_no_prepared_split"]) == (6, 3, 2, 1)
    assert (report["missing_videos"], report["failed_videos"], report["held_to_max_failed_fraction"]["videos"]) == (1, 1, 1)
    assert report["classes_without_test_videos"] == {"1": ["b"]} and "split 1: no usable test videos of b" in caplog.text
    assert set(summary["split"]) == {1} and summary["n_videos"].sum() == 3
