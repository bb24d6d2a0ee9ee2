"""A run as the report reads it: DVCLive's per-epoch log and the run's figures from its outputs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mict_pipeline.evaluation import Run, read_training_log


def _write_metric(folder, name, rows):
    path = folder / "plots" / "metrics" / f"{name}.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"step\t{name}\n" + "".join(f"{step}\t{value}\n" for step, value in rows))


def test_training_log_has_a_row_per_epoch_and_nan_where_not_validated(tmp_path):
    _write_metric(tmp_path, "train_seconds", [(0, 10.0), (1, 12.5), (2, 11.0), (3, 9.5)])
    _write_metric(tmp_path, "val_top1", [(1, 0.5), (3, 0.75)])  # validated every second epoch
    log = read_training_log(tmp_path, ("train_seconds", "val_top1"))
    assert log.columns.tolist() == ["epoch", "train_seconds", "val_top1"]
    assert log["epoch"].tolist() == [1, 2, 3, 4]
    assert log["train_seconds"].tolist() == [10.0, 12.5, 11.0, 9.5]
    assert math.isnan(log["val_top1"][0]) and log["val_top1"][1] == 0.5 and log["val_top1"][3] == 0.75


def test_training_log_keeps_the_last_row_of_an_epoch_logged_twice(tmp_path):
    # Killed after logging epoch 2 but before its checkpoint: epoch 2 was trained again on resuming.
    _write_metric(tmp_path, "train_seconds", [(0, 10.0), (1, 99.0), (1, 12.0), (2, 11.0)])
    log = read_training_log(tmp_path, ("train_seconds",))
    assert log["train_seconds"].tolist() == [10.0, 12.0, 11.0]


def test_training_log_without_a_metric_names_its_file_and_the_fix(tmp_path):
    _write_metric(tmp_path, "val_top1", [(0, 0.5)])
    with pytest.raises(FileNotFoundError, match=r"plots/metrics/train_seconds\.tsv is missing.*rerun the run.s training stage.*leaves the trained checkpoints"):
        read_training_log(tmp_path, ("val_top1", "train_seconds"))


def test_training_log_of_another_layout_is_refused(tmp_path):
    path = tmp_path / "plots" / "metrics" / "val_top1.tsv"
    path.parent.mkdir(parents=True)
    path.write_text("epoch,val_top1\n1,0.5\n")
    with pytest.raises(ValueError, match="expected the columns step and val_top1"):
        read_training_log(tmp_path, ("val_top1",))


def _predictions(labels, clip_preds, video_preds):
    return pd.DataFrame(
        {"video": [f"c/v{i}" for i in range(len(labels))], "label": labels, "class_name": "c", "clip_pred": clip_preds,
         "clip_top5": "0 1", "video_pred": video_preds, "video_top5": "0 1", "clip_prob": 0.5, "video_prob": 0.5}
    )


SUMMARY = {
    "experiment": {"arch": "mict_resnet18", "dataset": {"name": "toy"}},
    "epochs": 3,
    "best_epoch": 2,
    "best_val_top1": 0.75,
    "history": [
        {"epoch": 1, "train_loss": 2.0, "train_top1": 0.1, "train_top5": 0.5, "lr": 0.1, "train_clips": 40, "val_top1": 0.25},
        {"epoch": 2, "train_loss": 1.0, "train_top1": 0.5, "train_top5": 0.9, "lr": 0.1, "train_clips": 40},
        {"epoch": 3, "train_loss": 0.5, "train_top1": 0.7, "train_top5": 1.0, "lr": 0.01, "train_clips": 38, "val_top1": 0.5},
    ],
}
LOG = pd.DataFrame({"epoch": [1, 2, 3], "train_seconds": [10.0, 20.0, 30.5]})


def test_run_from_its_outputs():
    run = Run.from_outputs(_predictions([0, 1, 2, 3], [0, 1, 0, 0], [0, 1, 2, 0]), SUMMARY, LOG)
    assert run.correct.index.tolist() == ["c/v0", "c/v1", "c/v2", "c/v3"]
    assert run.correct["clip_top1"].tolist() == [True, True, False, False]
    assert run.correct["video_top1"].tolist() == [True, True, True, False]
    assert (run.videos, run.best_epoch, run.last_top1, run.epochs, run.clip_steps, run.train_seconds) == (4, 2, 0.5, 3, 118, 60.5)


def test_run_from_outputs_written_before_clips_were_counted_or_not_validated_last():
    predictions = _predictions([0, 1], [0, 1], [0, 1])
    old = {**SUMMARY, "history": [{k: v for k, v in row.items() if k != "train_clips"} for row in SUMMARY["history"]]}
    with pytest.raises(ValueError, match=r"split_2\.mict: .*no train_clips at epoch 1, epoch 2, epoch 3.*retrain"):
        Run.from_outputs(predictions, old, LOG, name="split_2.mict")
    unvalidated = {**SUMMARY, "history": SUMMARY["history"][:2]}
    with pytest.raises(ValueError, match=r"last epoch \(2\) has no val_top1"):
        Run.from_outputs(predictions, unvalidated, LOG)
    twice = pd.concat([predictions, predictions.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="'c/v0' is predicted twice"):
        Run.from_outputs(twice, SUMMARY, LOG)
