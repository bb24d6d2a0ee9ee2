"""The prepare pipeline's nodes on each dataset format, from the sources to the per-split tables.

Synthetic sets in HMDB-51's format (a ZIP of per-class ZIPs, the split files as the real ones),
in a Kinetics download's layout (an annotation CSV, MP4 clips, some missing) and as a folder of
class sub-folders: tiny, real videos, so frames are extracted and counted as in a real run."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from mict_pipeline.datasets.synthetic import generate_hmdb51, generate_kinetics
from mict_pipeline.datasets.ucf101 import INDEX_COLUMNS
from mict_pipeline.errors import UserError
from mict_pipeline.io.digest import file_digest
from mict_pipeline.parameters.prepare import PrepareParams
from mict_pipeline.pipelines.prepare import nodes

TINY = {"size": (48, 36), "frames": (16, 20), "workers": 1}
PREPARE = PrepareParams(frames={"width": 32, "height": 24}, workers=1, max_failed_fraction=0.0)


def prepare(tmp_path: Path, dataset: dict, archives: dict | None = None, splits=(1, 2, 3), settings: PrepareParams = PREPARE) -> dict:
    """Every prepare node in the pipeline's order; the outputs by name (split tables ``<split>.<table>``).
    A :class:`~mict_pipeline.pipelines.prepare.nodes.DataQualityError` carries the outputs saved before it (``.outputs``)."""
    raw, frames = tmp_path / "raw", tmp_path / "frames"
    folders = nodes.locate_dataset(archives or {}, dataset, str(raw), "test")
    read = nodes.read_dataset(folders, dataset, str(raw), "test")
    extracted = nodes.extract_video_frames(read["video_files"], settings, str(frames))
    unusable = nodes.list_unusable_videos(read["missing_videos"], extracted)
    outputs = {**read, "dataset_folders": folders, "extracted_frames": extracted, "unusable_videos": unusable}
    try:
        checked = nodes.check_data_quality(read["split_lists"], read["missing_videos"], unusable, extracted, dataset, "test", settings)
    except nodes.DataQualityError as error:
        error.outputs = outputs
        raise
    frame_index = checked["frame_index"]
    tables = nodes.split_tables(read["split_lists"], frame_index, splits)
    report, summary = nodes.data_quality_report(read["split_lists"], read["missing_videos"], read["unlisted_videos"], frame_index, dataset, **tables)
    outputs.update(checked, data_quality=report, split_summary=summary)
    outputs["prepared"] = nodes.publish_prepared_set(str(frames), **checked, data_quality=report, split_summary=summary, **tables)
    for name, table in tables.items():
        split, _, kind = name.partition(".")
        outputs[f"{split.removeprefix('split_')}.{kind.removesuffix('_index')}"] = table
    return outputs


def _archive(path: Path) -> dict:
    return {"path": str(path), "sha256": file_digest(path)}


def test_hmdb51_format_nested_archives_and_split_files_to_split_tables(tmp_path):
    generate_hmdb51(tmp_path / "src", classes=["MoveUp", "Twist", "ZoomIn"], videos_per_class=5, per_class={"train": 3, "test": 1}, **TINY)
    archives = {"videos": _archive(tmp_path / "src/hmdb51_org.zip"), "splits": _archive(tmp_path / "src/test_train_splits.zip")}
    dataset = {"format": "hmdb51", "name": "tiny HMDB-51 format", "expected_counts": {"classes": 3, "per_class": {"train": 3, "test": 1}}}
    out = prepare(tmp_path, dataset, archives)
    assert out["dataset_spec"]["name"] == "tiny HMDB-51 format"
    assert out["dataset_spec"]["class_names"] == ["move_up", "twist", "zoom_in"]  # sorted class order
    for split in (1, 2, 3):
        train, test = out[f"{split}.train"], out[f"{split}.test"]
        assert list(train.columns) == INDEX_COLUMNS and (train["n_frames"] >= 16).all()
        assert train.groupby("class_name").size().tolist() == [3, 3, 3] and test.groupby("class_name").size().tolist() == [1, 1, 1]
        assert out[f"{split}.excluded"].empty
    # The splits differ (each class's ids are drawn per split), and id-0 videos are in no table of that split.
    assert out["1.test"]["video"].tolist() != out["2.test"]["video"].tolist()
    assert len(out["frame_index"]) == 15 and out["data_quality"]["held_to_max_failed_fraction"] == {"videos": 0, "fraction": 0.0}
    assert out["data_quality"]["lists"]["checked_against"] == {"classes": 3, "per_class": {"train": 3, "test": 1}}
    # The nested archive was unpacked once: a rerun finds it stamped and keeps it.
    stamp = tmp_path / "raw/videos/.extracted-from.json"
    before = stamp.stat().st_mtime_ns
    assert nodes.locate_dataset(archives, dataset, str(tmp_path / "raw"), "test") == out["dataset_folders"]
    assert stamp.stat().st_mtime_ns == before


def test_hmdb51_counts_other_than_expected_stop_prepare_naming_the_file(tmp_path):
    generate_hmdb51(tmp_path / "src", classes=["MoveUp", "Twist"], videos_per_class=4, per_class={"train": 2, "test": 1}, **TINY)
    archives = {"videos": _archive(tmp_path / "src/hmdb51_org.zip"), "splits": _archive(tmp_path / "src/test_train_splits.zip")}
    folders = nodes.locate_dataset(archives, {"format": "hmdb51"}, str(tmp_path / "raw"), "hmdb51")
    with pytest.raises(ValueError, match=r"testTrainMulti_7030_splits: the split files do not have the expected sizes: 2 classes \(expected 51\)"):
        nodes.read_dataset(folders, {"format": "hmdb51"}, str(tmp_path / "raw"), "hmdb51")


def test_kinetics_layout_with_missing_clips_to_split_tables(tmp_path):
    manifest = generate_kinetics(tmp_path / "k", classes=["MoveUp", "Twist"], clips={"train": 4, "val": 2, "test": 1}, missing=2, **TINY)
    dataset = {"format": "kinetics", "name": "tiny Kinetics layout", "videos": {"path": str(tmp_path / "k/clips")},
               "lists": [{"path": str(tmp_path / "k/annotations.csv")}], "max_missing_fraction": 0.2}
    out = prepare(tmp_path, dataset, splits=(1,))
    report = out["data_quality"]
    # 12 train/val clips listed, 2 missing: reported with their reason, not fatal (up to 20%), unusable as
    # unusable_videos.csv says, but not held to prepare.max_failed_fraction (0 here); the CSV's test rows are left out.
    assert (report["listed_videos"], report["missing_videos"], report["unusable_videos"], report["usable_videos"]) == (12, 2, 2, 10)
    assert report["held_to_max_failed_fraction"] == {"videos": 0, "fraction": 0.0} and len(out["unusable_videos"]) == 2
    assert {f["video"] for f in report["failures"]} == {Path(m).stem for m in manifest["missing"]}
    assert all("clip file not found" in f["reason"] for f in report["failures"])
    assert len(out["1.train"]) + len(out["1.test"]) == 10 and set(out["1.train"]["class_name"]) == {"move up", "twist"}
    # Above the limits prepare stops, once missing_videos.csv names the clips (read_dataset's output).
    strict = {**dataset, "max_missing_fraction": 0.1}
    with pytest.raises(nodes.DataQualityError, match=r"2 of 12 listed clips are missing .*datasets.test.max_missing_fraction = 10.0% .*missing_videos.csv lists them") as stopped:
        prepare(tmp_path / "strict", strict, splits=(1,), settings=PREPARE.model_copy(update={"max_failed_videos": 1}))
    assert sorted(stopped.value.outputs["missing_videos"]["video"]) == sorted(Path(m).stem for m in manifest["missing"])
    assert prepare(tmp_path / "two", strict, splits=(1,))["data_quality"]["missing_videos"] == 2  # not more than max_failed_videos


def test_a_folder_of_class_folders_gets_a_deterministic_stratified_split(tmp_path):
    generate_kinetics(tmp_path / "k", classes=["MoveUp", "Twist", "ZoomIn"], clips={"train": 4, "val": 1, "test": 0}, missing=0, **TINY)
    videos = tmp_path / "k" / "clips"  # <label>/<clip>.mp4: a folder of class sub-folders
    dataset = {"format": "folder", "name": "my videos", "videos": {"path": str(videos)}, "test_fraction": 0.4, "seed": 7}
    out = prepare(tmp_path / "first", dataset, splits=(1,))
    again = prepare(tmp_path / "second", dataset, splits=(1,))
    for table in ("1.train", "1.test"):
        pd.testing.assert_frame_equal(out[table], again[table])
        assert out[table].groupby("class_name").size().tolist() == ([3, 3, 3] if table == "1.train" else [2, 2, 2])
    written = tmp_path / "first" / "raw" / nodes.WRITTEN_LISTS
    assert sorted(p.name for p in written.iterdir()) == ["testlist01.txt", "trainlist01.txt"]
    # The written lists, given back as the dataset's lists, give the same split.
    lists = {"train": {"path": str(written / "trainlist01.txt")}, "test": {"path": str(written / "testlist01.txt")}}
    from_lists = prepare(tmp_path / "third", {**dataset, "lists": lists}, splits=(1,))
    pd.testing.assert_frame_equal(from_lists["1.test"], out["1.test"])
    # Another seed, another split.
    other = prepare(tmp_path / "fourth", {**dataset, "seed": 8}, splits=(1,))
    assert other["1.test"]["video"].tolist() != out["1.test"]["video"].tolist()


def test_a_source_that_is_not_there_is_named_with_the_fix(tmp_path):
    with pytest.raises(UserError, match=r"nowhere not found \(datasets.mine.videos.path in conf/<env>/parameters_datasets.yml\). Fix: .*`path: "):
        nodes.locate_dataset({}, {"format": "folder", "name": "x", "videos": {"path": str(tmp_path / "nowhere")}}, str(tmp_path), "mine")


def test_a_dask_cluster_prepares_what_this_machine_prepares_byte_for_byte(tmp_path):
    """prepare.cluster: local:2, a real Dask cluster of two worker processes, on a Kinetics layout
    with a missing clip and a broken one: the same tables, reports and manifest, the same stores."""
    generate_kinetics(tmp_path / "k", classes=["MoveUp", "Twist"], clips={"train": 3, "val": 1, "test": 0}, missing=1, **TINY)
    sorted((tmp_path / "k/clips").rglob("*.mp4"))[0].write_bytes(b"not a video")
    dataset = {"format": "kinetics", "name": "tiny Kinetics layout", "videos": {"path": str(tmp_path / "k/clips")},
               "lists": [{"path": str(tmp_path / "k/annotations.csv")}], "max_missing_fraction": 0.2}
    settings = PREPARE.model_copy(update={"max_failed_videos": 1})
    here = prepare(tmp_path / "here", dataset, splits=(1,), settings=settings)
    environment = dict(os.environ)
    cluster = prepare(tmp_path / "cluster", dataset, splits=(1,), settings=settings.model_copy(update={"cluster": "local:2"}))
    # Dask's nannies set OMP_NUM_THREADS=1 (and more) here too: the run's later stages must not inherit them.
    assert dict(os.environ) == environment
    assert [failure["reason"].split(": ")[-1] for failure in here["data_quality"]["failures"]] == [
        f"clip file not found in {tmp_path / 'k/clips'}", "cannot be opened as a video (corrupt or unsupported format)"]
    assert here.keys() == cluster.keys()
    for name, output in here.items():
        if isinstance(output, pd.DataFrame):
            pd.testing.assert_frame_equal(output, cluster[name])
        elif name != "dataset_folders":  # the folders of each run's own raw_dir
            assert output == cluster[name], name
    stores = {run: {p.relative_to(tmp_path / run / "frames"): p.read_bytes() for p in (tmp_path / run / "frames").rglob("*")} for run in ("here", "cluster")}
    assert len(stores["here"]) == 6 and stores["here"] == stores["cluster"]
