"""The demo path through Kedro and DVC on the shared tiny demo project (tests/conftest.py):
synthetic -> download -> prepare -> benchmark -> train -> evaluate -> report, each a `kedro run`;
then what users do with it: the notebooks, evaluating a checkpoint alone, rerunning prepare."""

from __future__ import annotations

import json
import shutil

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from mict_pipeline.checkpoint import read_checkpoint
from mict_pipeline.evaluation.evaluate import evaluate_checkpoint

from demo_project import CLASSES, EXPERIMENTS, ROOT, SPLITS


def test_data_outputs(shared_demo):
    data = shared_demo.data
    archives = json.loads((data / "01_raw/archives.json").read_text())
    assert set(archives) == {"videos", "splits"} and len(archives["videos"]["sha256"]) == 64
    split_lists = pd.read_csv(data / "02_intermediate/split_lists.csv")
    assert sorted(split_lists["class_name"].unique()) == sorted(CLASSES)
    for split in SPLITS:
        train = pd.read_csv(data / f"05_model_input/split_{split}/train.csv")
        test = pd.read_csv(data / f"05_model_input/split_{split}/test.csv")
        assert len(train) + len(test) == 45 and not set(train["video"]) & set(test["video"])
        assert all((data / "03_primary/frames" / p).is_file() for p in train["frame_store"])
        assert (train["n_frames"] >= 16).all()
    quality = json.loads((data / "08_reporting/data_quality.json").read_text())
    assert quality["usable_videos"] == 45 and quality["failures"] == []
    spec = json.loads((data / "05_model_input/dataset.json").read_text())
    labels = split_lists.drop_duplicates("label").sort_values("label")["class_name"].tolist()
    assert spec == {"name": "synthetic motion (UCF-101 format)", "class_names": labels, "frames": {"width": 40, "height": 32, "quality": 90}}


def test_reports(shared_demo):
    reporting = shared_demo.data / "08_reporting"
    cross = json.loads((reporting / "cross_split_metrics.json").read_text())
    assert set(cross) == set(EXPERIMENTS)
    for metrics in cross.values():
        assert set(metrics) == {"clip_top1", "clip_top5", "video_top1", "video_top5"}
        for m in metrics.values():
            assert set(m) == {"per_split", "mean", "std"} and set(m["per_split"]) == {"1", "2", "3"}
            assert 0.0 <= m["mean"] <= 1.0 and m["mean"] == pytest.approx(sum(m["per_split"].values()) / 3)
    markdown = (reporting / "results.md").read_text()
    assert "| MiCT-ResNet-18 (width 8) |" in markdown and "| 3D-ResNet-18 (width 8) |" in markdown
    assert (reporting / "confusion_matrices/split_2.mict_resnet18.png").stat().st_size > 1000
    assert {p.name for p in (reporting / "training_curves").iterdir()} == {"val_top1.png", "train_loss.png", "val_loss.png"}
    means = {path.stem: json.loads(path.read_text()) for path in (reporting / "metrics").iterdir()}
    assert means == {e: {metric: block["mean"] for metric, block in cross[e].items()} for e in EXPERIMENTS}
    predictions = pd.read_csv(shared_demo.data / "07_model_output/split_3/resnet3d_18/predictions.csv")
    assert len(predictions) == len(pd.read_csv(shared_demo.data / "05_model_input/split_3/test.csv"))


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_checkpoints_carry_their_experiment(shared_demo, experiment):
    best, last = read_checkpoint(shared_demo.model(experiment, 2)), read_checkpoint(shared_demo.model(experiment, 2, "last.pt"))
    assert best.experiment == last.experiment
    run = best.experiment
    assert (run.name, run.split, run.arch, run.model.width) == (experiment, 2, experiment, 8)
    spec = json.loads((shared_demo.data / "05_model_input/dataset.json").read_text())
    assert list(run.dataset.class_names) == spec["class_names"] and run.dataset.frames.width == 40
    assert run.clips.output_size == 16 and run.recipe.epochs == 1 and run.recipe.optimizer == "adamw"
    assert best.training is None and last.training["epoch"] == 1


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_evaluating_a_checkpoint_alone_gives_the_pipeline_scores(shared_demo, experiment):
    output = shared_demo.data / "07_model_output/split_1" / experiment
    test_index = pd.read_csv(shared_demo.data / "05_model_input/split_1/test.csv")
    evaluation = evaluate_checkpoint(shared_demo.model(experiment, 1), test_index, shared_demo.data / "03_primary/frames")
    assert evaluation.metrics == json.loads((output / "metrics.json").read_text())
    pd.testing.assert_frame_equal(evaluation.predictions, pd.read_csv(output / "predictions.csv"), check_dtype=False)


def test_notebooks_run_against_the_outputs(demo_repo):
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        notebook = nbformat.read(path, as_version=4)
        folder = demo_repo.path / "notebooks"
        folder.mkdir(exist_ok=True)
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
        images = [o for cell in notebook.cells for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        assert len(images) >= 3, f"{path.name}: expected its figures, got {len(images)}"
    shutil.rmtree(folder)


def test_rerun_of_prepare_keeps_finished_work(demo_repo):
    stores = sorted((demo_repo.data / "03_primary/frames").rglob("*.frames"))
    before = {p: p.stat().st_mtime_ns for p in stores}
    demo_repo.run("kedro", "run", "--pipelines=download")  # present and valid: not fetched again
    demo_repo.run("kedro", "run", "--pipelines=prepare")
    assert {p: p.stat().st_mtime_ns for p in stores} == before  # frame stores were not rewritten
    # Every output was rewritten with the same bytes: DVC sees nothing to reproduce.
    assert json.loads(demo_repo.run("dvc", "status", "--json", "conf/demo/dvc.yaml").stdout) == {}
