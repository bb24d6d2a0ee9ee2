"""Nodes of the evaluate pipeline: a thin adapter over mict_pipeline.evaluation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from mict_pipeline.checkpoint import BEST
from mict_pipeline.datasets.prepared import check_same_prepare
from mict_pipeline.evaluation import architecture_name, confusion_matrix_figure, confusion_matrix_table, top_confusions
from mict_pipeline.evaluation.evaluate import evaluate_checkpoint
from mict_pipeline.parameters.evaluation import EvaluationParams


def evaluate_experiment(
    train_summary: dict[str, Any], run_dir: str, test_index: pd.DataFrame, prepared: dict[str, Any], frames_dir: str,
    settings: EvaluationParams, *, split: int,
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, Figure]:
    """Clip- and video-level scores of the run's best checkpoint (in ``run_dir``, once training
    summarised it) on the split's test videos; the checkpoint says what the model is and how its
    clips are made, ``settings`` (the ``evaluation`` block) how it is run. Returns the metrics, predictions,
    per-class accuracy, the confusion matrix (table, largest confusions, figure). The test table must
    be that of the last prepare, ``prepared``."""
    check_same_prepare(prepared, {f"split_{split}.test_index": test_index})
    evaluation = evaluate_checkpoint(Path(run_dir) / BEST, test_index, frames_dir, fast=settings.fast)
    experiment, names = evaluation.experiment, list(evaluation.experiment.dataset.class_names)
    title = f"{architecture_name(experiment.describe())}, split {experiment.split}: video-level confusion"
    return (
        evaluation.metrics,
        evaluation.predictions,
        evaluation.per_class_accuracy,
        confusion_matrix_table(evaluation.confusion_matrix, names),
        top_confusions(evaluation.confusion_matrix, names),
        confusion_matrix_figure(evaluation.confusion_matrix, names, title),
    )
