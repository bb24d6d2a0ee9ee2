"""The report nodes on fabricated runs: every run's metrics, predictions, training summary and DVCLive
log folder, as the train and evaluate pipelines write them (validated every second epoch)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mict_pipeline.evaluation import PREDICTION_COLUMNS
from mict_pipeline.evaluation.runs import TrainingLogError
from mict_pipeline.pipelines.report.nodes import (
    LOG,
    METRICS,
    PREDICTIONS,
    SUMMARY,
    cross_split_report,
    mean_metrics,
    plot_time_accuracy,
    plot_training_curves,
    run_input,
)

SPLITS = (1, 2, 3)
BENCHMARK = {"models": {"mict": {"params": 16_051_685, "fps": 10.0, "peak_memory_mb": 100.0, "device": "cpu (2 threads)"}}}


def _videos(split: int) -> int:
    return 18 + 2 * split  # 20, 22, 24 test videos


def _predictions(split: int, right: int) -> pd.DataFrame:
    """The split's test videos, the first ``right`` classified correctly (clip and video level)."""
    n = _videos(split)
    labels = [i % 4 for i in range(n)]
    predicted = [label if i < right else (label + 1) % 4 for i, label in enumerate(labels)]
    top5 = [" ".join(str((p + k) % 4) for k in range(4)) for p in predicted]
    return pd.DataFrame(
        {"video": [f"class_{label}/v_{split}_{i:02d}" for i, label in enumerate(labels)], "label": labels,
         "class_name": [f"class_{label}" for label in labels], "clip_pred": predicted, "clip_top5": top5,
         "video_pred": predicted, "video_top5": top5, "clip_prob": 0.6, "video_prob": 0.7},
        columns=list(PREDICTION_COLUMNS),
    )


def _summary(experiment: dict, epochs: int, last_top1: float) -> dict:
    history = []
    for epoch in range(1, epochs + 1):
        row = {"epoch": epoch, "train_loss": 2.0 / epoch, "train_top1": 0.2 * epoch, "train_top5": 0.9, "lr": 0.001, "train_clips": 40}
        if epoch % 2 == 0 or epoch == epochs:  # val_every: 2, and always the last epoch
            row.update(val_loss=1.0 / epoch, val_top1=last_top1 * epoch / epochs, val_top5=1.0)
        history.append(row)
    best = max(row.get("val_top1", 0.0) for row in history)
    experiment = {"dataset": {"name": "toy set"}, **experiment}
    return {"experiment": experiment, "epochs": epochs, "best_epoch": epochs, "best_val_top1": best, "history": history}


def _log(folder: Path, summary: dict, seconds_per_epoch: float) -> Path:
    """DVCLive's files of the run: a row per epoch, val_* only on validated epochs."""
    metrics = folder / "plots" / "metrics"
    metrics.mkdir(parents=True)
    history = summary["history"]
    (metrics / "train_seconds.tsv").write_text("step\ttrain_seconds\n" + "".join(f"{r['epoch'] - 1}\t{seconds_per_epoch}\n" for r in history))
    (metrics / "val_top1.tsv").write_text("step\tval_top1\n" + "".join(f"{r['epoch'] - 1}\t{r['val_top1']}\n" for r in history if "val_top1" in r))
    return folder


def _runs(tmp_path: Path, name: str, experiment: dict, right: dict[int, int], epochs: int = 4, seconds_per_epoch: float = 15.0) -> dict:
    """The report's inputs of one experiment on every split; ``right[split]`` test videos right."""
    inputs = {}
    for split in SPLITS:
        predictions = _predictions(split, right[split])
        top1 = right[split] / len(predictions)
        summary = _summary(experiment, epochs, top1)
        inputs[run_input(METRICS, name, split)] = {"clip_top1": top1, "clip_top5": 1.0, "video_top1": top1, "video_top5": 1.0}
        inputs[run_input(PREDICTIONS, name, split)] = predictions
        inputs[run_input(SUMMARY, name, split)] = summary
        inputs[run_input(LOG, name, split)] = str(_log(tmp_path / name / f"split_{split}", summary, seconds_per_epoch))
    return inputs


MICT = {"arch": "mict_resnet18", "model": {"version": "v1"}}
R3D = {"arch": "resnet3d_18", "model": {"width": 8}}


@pytest.fixture
def two_models(tmp_path) -> dict:
    """MiCT right on 18, 20, 22 of 20, 22, 24 videos; 3D-ResNet on 10, 11, 12, half as fast."""
    return {
        **_runs(tmp_path, "mict", MICT, {1: 18, 2: 20, 3: 22}),
        **_runs(tmp_path, "r3d", R3D, {1: 10, 2: 11, 3: 12}, seconds_per_epoch=30.0),
    }


def test_rows_are_named_by_architecture_and_told_apart_by_experiment(tmp_path):
    inputs = {
        **_runs(tmp_path, "mict", MICT, {1: 10, 2: 11, 3: 12}),
        **_runs(tmp_path, "mict_lr", MICT, {1: 10, 2: 11, 3: 12}),
        **_runs(tmp_path, "r3d", R3D, {1: 10, 2: 11, 3: 12}),
    }
    cross, table, markdown = cross_split_report(BENCHMARK, **inputs)
    assert mean_metrics(cross)["mict"] == {"clip_top1": 0.5, "clip_top5": 1.0, "video_top1": 0.5, "video_top5": 1.0}
    assert set(cross) == {"mict", "mict_lr", "r3d"} and cross["r3d"]["clip_top1"]["mean"] == 0.5
    assert table["Architecture"].tolist() == ["MiCT-ResNet-18 [mict]", "MiCT-ResNet-18 [mict_lr]", "3D-ResNet-18 (width 8)"]
    assert "on cpu (2 threads)" in markdown and "| 3D-ResNet-18 (width 8) |" in markdown
    # Equally accurate on the same videos: no video tells them apart.
    assert "No significant difference between MiCT-ResNet-18 [mict] and 3D-ResNet-18 (width 8) at equal budget" in markdown
    assert "McNemar p = 1)" in markdown


def test_report_shows_budgets_intervals_the_paired_test_and_both_ratios(two_models):
    cross, table, markdown = cross_split_report(BENCHMARK, **two_models)
    mict, r3d = table.to_dict("records")
    # 60 of 66 test videos; 4 epochs of 40 clips on 3 splits in 3 x 60 s.
    assert (mict["Top1 pooled [95% CI]"], mict["Epochs"], mict["Clip steps"], mict["Training time"], mict["Training clips/s"]) == (
        "90.9 [81.6, 95.8]", "4", "480", "3.0 min", "2.7"
    )
    assert (r3d["Top1 pooled [95% CI]"], r3d["Training time"], r3d["Training clips/s"]) == ("50.0 [38.3, 61.7]", "6.0 min", "1.3")
    assert mict["Last-epoch Top1 [95% CI]"] == mict["Top1 pooled [95% CI]"]  # the fabricated runs end at their best
    assert "| MiCT-ResNet-18 | 1 | 20 | 90.0 [69.9, 97.2] | 90.0 [69.9, 97.2] | 4 | 90.0 [69.9, 97.2] | 4 | 160 | 1.0 min |" in markdown
    assert "## MiCT-ResNet-18 vs 3D-ResNet-18 (width 8)" in markdown
    assert "| clip top-1 | pooled | 66 | 90.9 | 50.0 | +40.9 | 1.82 | 27 | 0 | < 0.0001 |" in markdown
    assert "ratio 2.00." in markdown  # training clips/s
    assert markdown.rstrip().endswith(
        "**Conclusion:** MiCT-ResNet-18 is more accurate than 3D-ResNet-18 (width 8) at equal budget on the pooled test videos "
        "(clip top-1 90.9 vs 50.0 %, McNemar p < 0.0001); per split: significant (p < 0.05) on 3 of 3. These tests take each "
        "split's trained models as given: every split was trained once, so how much another seed or another CPU's kernels "
        "would move a split's accuracy is not in them."
    )


def test_unequal_budgets_are_said(tmp_path):
    inputs = {**_runs(tmp_path, "mict", MICT, {1: 18, 2: 20, 3: 22}, epochs=6), **_runs(tmp_path, "r3d", R3D, {1: 10, 2: 11, 3: 12}, epochs=2)}
    markdown = cross_split_report(BENCHMARK, **inputs)[2]
    assert "Not at equal budget (6 vs 2 epochs per split)" in markdown and "at equal budget on" not in markdown


def test_training_logs_without_training_time_are_refused_with_the_fix(two_models):
    (Path(two_models[run_input(LOG, "r3d", 2)]) / "plots" / "metrics" / "train_seconds.tsv").unlink()
    # A user's error (one line from Kedro), whose fix keeps the trained checkpoints.
    with pytest.raises(TrainingLogError, match=r"r3d/split_2/plots/metrics/train_seconds\.tsv is missing.*rerun the run's training stage.*leaves the trained checkpoints as they are"):
        cross_split_report(BENCHMARK, **two_models)


def test_time_accuracy_plot_has_a_line_per_experiment_and_split(two_models):
    figure = plot_time_accuracy(**{key: value for key, value in two_models.items() if key.startswith((LOG, SUMMARY))})
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == [f"{name}, split {s}" for name in ("MiCT-ResNet-18", "3D-ResNet-18 (width 8)") for s in SPLITS]
    assert lines[0].get_xdata().tolist() == [0.5, 1.0]  # validated after epochs 2 and 4, 15 s each
    assert lines[3].get_xdata().tolist() == [1.0, 2.0]


def test_training_curves_join_the_validated_epochs(two_models):
    figures = plot_training_curves(**{key: value for key, value in two_models.items() if key.startswith(SUMMARY)})
    assert set(figures) == {"val_top1.png", "train_loss.png", "val_loss.png"}
    assert figures["val_top1.png"].axes[0].get_lines()[0].get_xdata().tolist() == [2, 4]
    assert figures["train_loss.png"].axes[0].get_lines()[0].get_xdata().tolist() == [1, 2, 3, 4]


def test_the_report_names_the_dataset_and_a_fine_tuned_experiments_source_checkpoint(tmp_path, two_models):
    source = {"path": "data/demo/06_models/split_1/mict_resnet18/best.pt", "sha256": "ab" * 32, "experiment": "mict_resnet18",
              "arch": "mict_resnet18", "dataset": "synthetic motion (UCF-101 format)", "classes": 8, "split": 1}
    inputs = dict(two_models)
    for split in SPLITS:
        inputs[run_input(SUMMARY, "mict", split)] = {**inputs[run_input(SUMMARY, "mict", split)], "init_from": source}
    _, _, markdown = cross_split_report(BENCHMARK, **inputs)
    assert markdown.startswith("Dataset: toy set; splits 1, 2, 3.\n")
    assert (
        "MiCT-ResNet-18: fine-tuned from `data/demo/06_models/split_1/mict_resnet18/best.pt` (sha256 abababababab), experiment "
        "mict_resnet18 trained on synthetic motion (UCF-101 format) split 1, 8 classes." in markdown
    )
    assert markdown.count("fine-tuned from") == 1  # once per experiment, not per split; 3D-ResNet-18 started otherwise
