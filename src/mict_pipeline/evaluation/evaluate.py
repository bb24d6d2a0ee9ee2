"""Evaluating a trained model on test videos, from its checkpoint alone.

Clip level: the first 16 frames of each video, centre crop. Video level: consecutive clips over up
to ``clips.video_frames`` frames, softmax scores averaged. The clip settings, class names and
evaluation batch come from the checkpoint's experiment, so evaluating a ``best.pt`` anywhere gives
the scores the pipeline's evaluation gave.

On a CPU the model is run folded and channels-last (``models.inference.inference_model``): the
same top-1 and scores within 1e-5 of the model as trained, in less time; ``fast=False`` runs it as
trained (the pipeline's ``evaluation.fast``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
from torch import nn

from mict_pipeline.checkpoint import load_checkpoint
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.experiment import Experiment
from mict_pipeline.models.inference import inference_model
from mict_pipeline.training import predict_scores

from .metrics import confusion_matrix, metrics_from_scores, per_class_accuracy, predictions_table


@dataclass(frozen=True)
class Evaluation:
    """Scores of one model (its experiment named) on one test set."""

    experiment: Experiment
    metrics: dict[str, float]  # clip_top1, clip_top5, video_top1, video_top5 (fractions)
    predictions: pd.DataFrame  # one row per video (metrics.PREDICTION_COLUMNS)
    per_class_accuracy: pd.DataFrame
    confusion_matrix: np.ndarray  # (classes, classes) video-level counts, rows = true class


def evaluate_model(
    model: nn.Module,
    experiment: Experiment,
    test_index: pd.DataFrame,
    frames_dir: str | os.PathLike | None = None,
    fast: bool = True,
) -> Evaluation:
    """Clip- and video-level scores of ``model`` on the videos of ``test_index`` (columns
    ``video``, ``frame_store`` relative to ``frames_dir``, ``n_frames``, ``label``), or on the part
    the recipe's ``limit_val_batches`` keeps (a smoke run). ``fast``: on a CPU, run the folded,
    channels-last copy (``model`` itself is left as it is)."""
    recipe = experiment.recipe
    test_index = test_index.iloc[recipe.validation_rows(len(test_index))].reset_index(drop=True)
    model = inference_model(model, experiment.arch, recipe.resolve_device(), fast)
    clip_scores = predict_scores(model, ClipDataset(test_index, "clip", experiment.clips, root=frames_dir), recipe)
    video_scores = predict_scores(model, ClipDataset(test_index, "video", experiment.clips, root=frames_dir), recipe)
    labels = test_index["label"].to_numpy()
    names = list(experiment.dataset.class_names)
    predictions = predictions_table(test_index["video"].tolist(), labels, names, clip_scores, video_scores)
    video_pred = predictions["video_pred"].to_numpy()
    return Evaluation(
        experiment=experiment,
        metrics=metrics_from_scores(clip_scores, video_scores, labels),
        predictions=predictions,
        per_class_accuracy=per_class_accuracy(video_pred, labels, names),
        confusion_matrix=confusion_matrix(video_pred, labels, len(names)),
    )


def evaluate_checkpoint(
    path: str | os.PathLike, test_index: pd.DataFrame, frames_dir: str | os.PathLike | None = None, fast: bool = True
) -> Evaluation:
    """:func:`evaluate_model` of the model and experiment a checkpoint holds."""
    model, experiment = load_checkpoint(path)
    return evaluate_model(model, experiment, test_index, frames_dir, fast)
