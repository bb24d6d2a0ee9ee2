"""The prepare nodes' data-quality limits on a small dataset of real videos, with the default settings."""

from __future__ import annotations

import pytest

from mict_pipeline.datasets.synthetic import generate_kinetics
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
    read = nodes.read_dataset(nodes.locate_dataset({}, dataset, str(tmp_path / "raw"), "mine"), dataset, str(tmp_path / "raw"))
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
