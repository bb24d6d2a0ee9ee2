"""Evaluation: top-k accuracy, per-class accuracy, confusion matrices, the per-video predictions
table (CSV-friendly), cross-split aggregation and the results table in the original's layout.

Pure numpy / pandas / matplotlib (Figure API, no pyplot); no Kedro. Scoring a trained model is
:mod:`mict_pipeline.evaluation.evaluate` (it needs torch).
"""

from __future__ import annotations

from .metrics import (
    METRIC_NAMES,
    PREDICTION_COLUMNS,
    TOP_K,
    confusion_matrix,
    confusion_matrix_figure,
    confusion_matrix_table,
    metrics_from_scores,
    per_class_accuracy,
    predictions_table,
    row_normalise,
    top_confusions,
    topk_accuracy,
    topk_labels,
)
from .reports import (
    RESULTS_COLUMNS,
    TRAINING_CURVES,
    architecture_name,
    cross_split_metrics,
    results_markdown,
    results_table,
    split_results_table,
    training_curves_figure,
)

__all__ = [
    "METRIC_NAMES",
    "PREDICTION_COLUMNS",
    "RESULTS_COLUMNS",
    "TOP_K",
    "TRAINING_CURVES",
    "architecture_name",
    "confusion_matrix",
    "confusion_matrix_figure",
    "confusion_matrix_table",
    "cross_split_metrics",
    "metrics_from_scores",
    "per_class_accuracy",
    "predictions_table",
    "results_markdown",
    "results_table",
    "row_normalise",
    "split_results_table",
    "top_confusions",
    "topk_accuracy",
    "topk_labels",
    "training_curves_figure",
]
