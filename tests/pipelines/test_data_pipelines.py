"""Data pipeline nodes on their own: the demo's pinned checksums and bad videos in prepare.

The whole path through Kedro and DVC is tests/pipelines/test_end_to_end.py."""

from __future__ import annotations

import pandas as pd
import pytest

from mict_pipeline.datasets.synthetic import generate_dataset
from mict_pipeline.io.archives import extract_archive
from mict_pipeline.parameters.prepare import PrepareParams
from mict_pipeline.parameters.synthetic import SyntheticParams
from mict_pipeline.pipelines.prepare.nodes import (
    DataQualityError, check_data_quality, data_quality_report, extract_video_frames, list_unusable_videos, split_tables,
)
from mict_pipeline.pipelines.synthetic.nodes import generate_synthetic_archives
from mict_pipeline.project import configuration

from demo_project import ROOT


@pytest.mark.parametrize("env", ["demo", "demo_hmdb51"])
def test_pinned_synthetic_checksums_are_what_the_generator_writes(tmp_path, env):
    parameters = configuration(ROOT, env)["parameters"]
    manifest = generate_synthetic_archives(SyntheticParams.model_validate(parameters["synthetic"]), str(tmp_path))["archives"]
    pinned = {spec["filename"]: spec["sha256"] for spec in parameters["download"]["archives"].values()}
    assert pinned == {name: archive["sha256"] for name, archive in manifest.items()}


def test_corrupt_video_is_reported_not_fatal(tmp_path):
    generate_dataset(tmp_path / "src", classes=["MoveUp", "ZoomIn"], groups=15, clips_per_group=(1, 1), frames=(16, 20))
    extract_archive(tmp_path / "src" / "UCF101.zip", tmp_path / "tree")
    good = sorted((tmp_path / "tree" / "UCF-101" / "MoveUp").glob("*.avi"))[:3]
    bad = tmp_path / "tree" / "UCF-101" / "MoveUp" / "v_MoveUp_g99_c01.avi"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage")
    empty = bad.with_name("v_MoveUp_g98_c01.avi")
    empty.write_bytes(b"")
    paths = good + [bad, empty]
    video_files = pd.DataFrame({"video": [f"MoveUp/{p.stem}" for p in paths], "path": [str(p) for p in paths]})
    prepare = PrepareParams(workers=1, max_failed_fraction=0.5)
    dataset = {"format": "ucf101", "name": "test", "expected_counts": None, "splits": [1]}

    frame_index = extract_video_frames(video_files, prepare, str(tmp_path / "frames"))
    assert frame_index["frame_store"].tolist() == [f"{video}.frames" for video in video_files["video"]]  # relative to the folder
    assert (tmp_path / "frames" / frame_index["frame_store"][0]).is_file()
    errors = dict(zip(frame_index["video"], frame_index["error"]))
    assert pd.isna(errors[f"MoveUp/{good[0].stem}"])
    assert str(bad) in errors["MoveUp/v_MoveUp_g99_c01"] and str(empty) in errors["MoveUp/v_MoveUp_g98_c01"]

    split_lists = pd.DataFrame({"video": video_files["video"], "class_name": "MoveUp", "label": 0, "group": 1, "split": 1,
                                "subset": ["train", "train", "test", "train", "train"]})
    no_videos = pd.DataFrame({"video": [], "reason": []})
    stray = pd.DataFrame({"path": ["UCF-101/MoveUp/notes.txt"], "reason": ["not a video (.txt): ignored"]})
    unusable = list_unusable_videos(no_videos, frame_index)
    assert unusable["video"].tolist() == ["MoveUp/v_MoveUp_g99_c01", "MoveUp/v_MoveUp_g98_c01"]
    assert unusable["reason"].str.startswith("extraction failed: ").all()
    # 40% unusable, up to 50% allowed; with 10%, only up to max_failed_videos (2 are not more than 5, 1 is).
    checked = check_data_quality(split_lists, no_videos, unusable, frame_index, dataset, "test", prepare)
    assert checked["frame_index"] is frame_index and checked["dataset_spec"]["class_names"] == ["MoveUp"]
    strict = prepare.model_copy(update={"max_failed_fraction": 0.1})
    assert check_data_quality(split_lists, no_videos, unusable, frame_index, dataset, "test", strict)["frame_index"] is frame_index
    with pytest.raises(DataQualityError, match=r"2 of 5 listed videos are unusable \(40.0%; more than prepare.max_failed_fraction = 10.0% and "
                       r"prepare.max_failed_videos = 1 in conf/<env>/parameters_prepare.yml\): 08_reporting/unusable_videos.csv names each"):
        check_data_quality(split_lists, no_videos, unusable, frame_index, dataset, "test", strict.model_copy(update={"max_failed_videos": 1}))

    tables = split_tables(split_lists, frame_index, (1,))
    report, _ = data_quality_report(split_lists, no_videos, stray, frame_index, dataset, **tables)
    assert {f["video"] for f in report["failures"]} == {"MoveUp/v_MoveUp_g99_c01", "MoveUp/v_MoveUp_g98_c01"}
    assert report["unlisted_files"] == [{"path": "UCF-101/MoveUp/notes.txt", "reason": "not a video (.txt): ignored"}]
    assert report["usable_videos"] == 3
    assert report["lists"] == {"classes": 1, "per_split": {"1": {"test": 1, "train": 4}}, "checked_against": None}
    assert report["tables"] == {"1": {"train": 2, "test": 1, "excluded": 2}}
