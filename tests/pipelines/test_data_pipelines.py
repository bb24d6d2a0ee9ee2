"""synthetic -> download -> prepare through Kedro, on a small synthetic dataset."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import yaml
from nbclient import NotebookClient

from mict_pipeline.io.archives import extract_archive
from mict_pipeline.io.frame_store import video_frames
from mict_pipeline.datasets.synthetic import generate_dataset, write_video
from mict_pipeline.pipelines.prepare.nodes import DataQualityError, data_quality_report, extract_video_frames
from mict_pipeline.predict import main as predict_main

from conftest import ROOT, SMALL_SYNTHETIC

UNPINNED = {"download": {"archives": {"videos": {"sha256": None}, "splits": {"sha256": None}}}}
TINY_TRAINING = {
    "num_classes": 3,
    "training": {"defaults": {"workers": 0, "eval_batch_size": 8}, "clips": {"clip_len": 8, "crop_sizes": [32, 40], "output_size": 16, "video_frames": 24}},
    "experiments": {name: {"recipe": {"epochs": 1, "batch_size": 4, "lr_milestones": []}} for name in ("mict_resnet18", "r3d_18")},
    "benchmark": {"frames": 8, "size": 32, "warmup": 1, "iters": 1},
}


def test_demo_checksums_are_what_the_generator_writes(tmp_path):
    synthetic = yaml.safe_load((ROOT / "conf/base/parameters_synthetic.yml").read_text())["synthetic"]
    download = yaml.safe_load((ROOT / "conf/demo/parameters_download.yml").read_text())["download"]
    options = {k: tuple(v) if isinstance(v, list) else v for k, v in synthetic.items() if k != "out_dir"}
    manifest = generate_dataset(tmp_path, **options)["archives"]
    assert manifest["UCF101.zip"]["sha256"] == download["archives"]["videos"]["sha256"]
    assert manifest["UCF101TrainTestSplits-RecognitionTask.zip"]["sha256"] == download["archives"]["splits"]["sha256"]


def _check_notebooks(project: Path) -> None:
    """Every notebook in notebooks/ runs top to bottom against the project's outputs."""
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    shutil.copytree(ROOT / "notebooks", project / "notebooks")
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(project / "notebooks")}}).execute()
        images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 3, f"{path.name}: expected its figures, got {len(images)}"


def _check_predict_command(capsys) -> None:
    """`python -m mict_pipeline predict` on an AVI and an MP4 of a test video, and on a broken file."""
    avi = next(Path("data/01_raw/videos").rglob("v_ZoomIn_g01_c01.avi"))
    mp4 = Path("clip.mp4")
    write_video(mp4, np.stack(list(video_frames(avi))), fourcc="mp4v")
    capsys.readouterr()  # drop what the pipeline runs logged
    outputs = []
    for video in (avi, mp4):
        assert predict_main([str(video), "--experiment", "r3d_18", "--split", "1", "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    for out in outputs:
        assert out["checkpoint"].endswith("split_1/r3d_18/best.pt")
        assert {row["class"] for row in out["top"]} == {"MoveUp", "Twist", "ZoomIn"}  # 3 classes: top 5 is all
        assert sum(row["probability"] for row in out["top"]) == pytest.approx(1.0, abs=1e-5)
        assert out["top"] == sorted(out["top"], key=lambda row: -row["probability"])
    # The two files hold the same frames up to MPEG-4 re-encoding: same ranking.
    assert [row["class"] for row in outputs[0]["top"]] == [row["class"] for row in outputs[1]["top"]]

    broken = Path("broken.mp4")
    broken.write_bytes(b"not a video at all")
    assert predict_main([str(broken)]) == 2
    assert f"error: {broken}: cannot be opened as a video" in capsys.readouterr().err
    assert predict_main([str(avi), "--experiment", "mict_resnet34"]) == 2
    assert "split_1/mict_resnet34/best.pt not found: train it" in capsys.readouterr().err


def test_synthetic_download_prepare_end_to_end_and_rerun_skips(kedro_project, capsys):
    params = {"synthetic": SMALL_SYNTHETIC, **UNPINNED}
    kedro_project("synthetic", params)
    kedro_project("download", params)
    kedro_project("prepare", params)

    archives = json.loads(Path("data/01_raw/archives.json").read_text())
    assert set(archives) == {"videos", "splits"} and len(archives["videos"]["sha256"]) == 64
    split_lists = pd.read_csv("data/02_intermediate/split_lists.csv")
    assert sorted(split_lists["class_name"].unique()) == ["MoveUp", "Twist", "ZoomIn"]
    for split in (1, 2, 3):
        train = pd.read_csv(f"data/05_model_input/split_{split}/train.csv")
        test = pd.read_csv(f"data/05_model_input/split_{split}/test.csv")
        assert len(train) + len(test) == 45 and not set(train["video"]) & set(test["video"])
        assert all(Path(p).is_file() for p in train["frame_store"])
        assert (train["n_frames"] >= 8).all()
    quality = json.loads(Path("data/08_reporting/data_quality.json").read_text())
    assert quality["usable_videos"] == 45 and quality["failures"] == []

    kedro_project("benchmark", {**params, **TINY_TRAINING})
    kedro_project("train", {**params, **TINY_TRAINING})
    kedro_project("evaluate", {**params, **TINY_TRAINING})
    kedro_project("report", {**params, **TINY_TRAINING})
    cross = json.loads(Path("data/08_reporting/cross_split_metrics.json").read_text())
    assert set(cross) == {"mict_resnet18", "r3d_18"}
    for metrics in cross.values():
        assert set(metrics) == {"clip_top1", "clip_top5", "video_top1", "video_top5"}
        for m in metrics.values():
            assert set(m) == {"per_split", "mean", "std"} and set(m["per_split"]) == {"1", "2", "3"}
            assert 0.0 <= m["mean"] <= 1.0 and m["mean"] == pytest.approx(sum(m["per_split"].values()) / 3)
    assert "| MiCT-ResNet-18 |" in Path("data/08_reporting/results.md").read_text()
    assert Path("data/08_reporting/split_2/mict_resnet18/confusion_matrix.png").stat().st_size > 1000
    predictions = pd.read_csv("data/07_model_output/split_3/r3d_18/predictions.csv")
    assert len(predictions) == len(pd.read_csv("data/05_model_input/split_3/test.csv"))
    _check_predict_command(capsys)
    _check_notebooks(kedro_project.path)

    stores = sorted(Path("data/03_primary/frames").rglob("*.frames"))
    before = {p: p.stat().st_mtime_ns for p in stores}
    kedro_project("download", params)  # present and valid: not fetched again
    kedro_project("prepare", params)
    assert {p: p.stat().st_mtime_ns for p in stores} == before  # frame stores were not rewritten


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
    prepare = {"frames_dir": str(tmp_path / "frames"), "frames": {"workers": 1}, "max_failed_fraction": 0.5, "report_dir": str(tmp_path)}

    frame_index = extract_video_frames(video_files, prepare)
    errors = dict(zip(frame_index["video"], frame_index["error"]))
    assert pd.isna(errors[f"MoveUp/{good[0].stem}"])
    assert str(bad) in errors["MoveUp/v_MoveUp_g99_c01"] and str(empty) in errors["MoveUp/v_MoveUp_g98_c01"]

    split_lists = pd.DataFrame({"video": video_files["video"], "class_name": "MoveUp", "label": 0, "group": 1, "split": 1, "subset": "train"})
    no_videos = pd.DataFrame({"video": [], "path": []})
    stray = pd.DataFrame({"path": ["UCF-101/MoveUp/notes.txt"], "reason": ["not a video (.txt): ignored"]})
    report, _ = data_quality_report(split_lists, no_videos, stray, frame_index, prepare)
    assert {f["video"] for f in report["failures"]} == {"MoveUp/v_MoveUp_g99_c01", "MoveUp/v_MoveUp_g98_c01"}
    assert report["unlisted_files"] == [{"path": "UCF-101/MoveUp/notes.txt", "reason": "not a video (.txt): ignored"}]
    assert report["usable_videos"] == 3

    with pytest.raises(DataQualityError, match=r"2 of 5 listed videos are unusable \(40.0% > prepare.max_failed_fraction = 10.0%\)"):
        data_quality_report(split_lists, no_videos, no_videos, frame_index, {**prepare, "max_failed_fraction": 0.1})
    assert json.loads((tmp_path / "data_quality.json").read_text())["failed_fraction"] == 0.4
