"""Nodes of the evaluate pipeline: thin adapters over mict_pipeline.training and .evaluation."""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from mict_pipeline.data.clips import ClipDataset
from mict_pipeline.evaluation import (
    confusion_matrix,
    confusion_matrix_figure,
    confusion_matrix_table,
    display_name,
    metrics_from_scores,
    per_class_accuracy,
    predictions_table,
)
from mict_pipeline.models import import_seed_checkpoint
from mict_pipeline.training import predict_scores

from ..train.nodes import experiment_setup


def class_names(split_lists: pd.DataFrame) -> list[str]:
    """Class names in label order (classInd order)."""
    names = split_lists.drop_duplicates("label").sort_values("label")
    return names["class_name"].tolist()


def evaluate_experiment(
    train_summary: dict[str, Any],
    test_index: pd.DataFrame,
    split_lists: pd.DataFrame,
    experiment: dict[str, Any],
    training: dict[str, Any],
    num_classes: int,
) -> tuple[dict[str, float], pd.DataFrame, pd.DataFrame, pd.DataFrame, Figure]:
    """Clip level (first 16 frames, centre crop) and video level (up to ``clips.video_frames``
    frames in consecutive clips, softmax averaged) scores of the best checkpoint on the test videos.
    """
    name, split = train_summary["experiment"], train_summary["split"]
    recipe, clips, options = experiment_setup(experiment, training, name)
    options.pop("pretrained", None)
    model = import_seed_checkpoint(train_summary["best_checkpoint"], experiment["arch"], num_classes, **options)
    model = model.to(recipe.resolve_device())
    clip_scores = predict_scores(model, ClipDataset(test_index, "clip", clips), recipe)
    video_scores = predict_scores(model, ClipDataset(test_index, "video", clips), recipe)
    labels = test_index["label"].to_numpy()
    names = class_names(split_lists)

    metrics = metrics_from_scores(clip_scores, video_scores, labels)
    predictions = predictions_table(test_index["video"].tolist(), labels, names, clip_scores, video_scores)
    per_class = per_class_accuracy(predictions["video_pred"].to_numpy(), labels, names)
    cm = confusion_matrix(predictions["video_pred"].to_numpy(), labels, len(names))
    figure = confusion_matrix_figure(cm, names, f"{display_name(name)}, split {split}: video-level confusion")
    return metrics, predictions, per_class, confusion_matrix_table(cm, names), figure
