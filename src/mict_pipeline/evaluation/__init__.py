"""Evaluation: top-k accuracy, per-class accuracy, confusion matrices, the per-video predictions
table (CSV-friendly), cross-split aggregation, the results table in the original's layout with
Wilson intervals, training budgets and paired McNemar tests, and the charts of every run.

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
    ALPHA,
    RESULTS_COLUMNS,
    SPLIT_COLUMNS,
    TIME_ACCURACY_METRICS,
    TRAINING_CURVES,
    architecture_name,
    budget_gap,
    comparison_conclusion,
    comparison_markdown,
    comparison_table,
    cross_split_metrics,
    paired_outcomes,
    results_markdown,
    results_report,
    results_table,
    split_results_table,
    time_accuracy_figure,
    training_curves_figure,
)
from .runs import CORRECTNESS, Run, read_training_log
from .stats import PairedOutcome, mcnemar_exact_p, paired_outcome, pooled, wilson_interval

__all__ = [
    "ALPHA",
    "CORRECTNESS",
    "METRIC_NAMES",
    "PREDICTION_COLUMNS",
    "PairedOutcome",
    "RESULTS_COLUMNS",
    "Run",
    "SPLIT_COLUMNS",
    "TIME_ACCURACY_METRICS",
    "TOP_K",
    "TRAINING_CURVES",
    "architecture_name",
    "budget_gap",
    "comparison_conclusion",
    "comparison_markdown",
    "comparison_table",
    "confusion_matrix",
    "confusion_matrix_figure",
    "confusion_matrix_table",
    "cross_split_metrics",
    "mcnemar_exact_p",
    "metrics_from_scores",
    "paired_outcome",
    "paired_outcomes",
    "per_class_accuracy",
    "pooled",
    "predictions_table",
    "read_training_log",
    "results_markdown",
    "results_report",
    "results_table",
    "row_normalise",
    "split_results_table",
    "time_accuracy_figure",
    "top_confusions",
    "topk_accuracy",
    "topk_labels",
    "training_curves_figure",
    "wilson_interval",
]
