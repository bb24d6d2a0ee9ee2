"""Nodes of the report pipeline: a thin adapter over mict_pipeline.evaluation.reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from mict_pipeline.evaluation import (
    TRAINING_CURVES,
    architecture_name,
    cross_split_metrics,
    results_markdown,
    results_table,
    split_results_table,
    training_curves_figure,
)

# Input names: <experiment>__split_<n> (metrics or training summaries), <experiment>__summary.
SPLIT, SUMMARY = "__split_", "__summary"


def metrics_input(experiment: str, split: int) -> str:
    return f"{experiment}{SPLIT}{split}"


def summary_input(experiment: str) -> str:
    return f"{experiment}{SUMMARY}"


def _row_names(experiments: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Each experiment's architecture name; experiments that share one are told apart by their own name."""
    names = {name: architecture_name(description) for name, description in experiments.items()}
    shared = {title for title, count in Counter(names.values()).items() if count > 1}
    return {name: f"{title} [{name}]" if title in shared else title for name, title in names.items()}


def cross_split_report(benchmark: dict[str, Any], **inputs: dict[str, Any]) -> tuple[dict, pd.DataFrame, str]:
    """``cross_split_metrics.json`` and the results table (CSV; markdown, followed by every experiment
    on every split): each experiment's rows named by what its checkpoints say it is (its training
    summary), Memory and FPS from the benchmark."""
    per_split: dict[str, dict[int, dict[str, float]]] = {}
    experiments: dict[str, dict[str, Any]] = {}
    for key, value in inputs.items():
        if key.endswith(SUMMARY):
            experiments[key.removesuffix(SUMMARY)] = value["experiment"]
        else:
            experiment, split = key.rsplit(SPLIT, 1)
            per_split.setdefault(experiment, {})[int(split)] = value
    cross = cross_split_metrics(per_split)
    params = {name: model["params"] for name, model in benchmark.get("models", {}).items()}
    names = _row_names(experiments)
    table = results_table(cross, benchmark, params, names)
    devices = sorted({m.get("device", "?") for m in benchmark.get("models", {}).values()})
    caption = (
        "Top1 / Top5: clip level (first 16 frames), mean of the splits, percent. Video: up to the configured "
        f"number of frames per video, clip scores averaged. Memory and FPS: batch 1, 16x160x160, on {', '.join(devices)}."
    )
    split_table = results_markdown(split_results_table(cross, names), "Clip / video top-1 on each split, percent; mean and sample std over the splits.")
    return cross, table, results_markdown(table, caption) + "\n" + split_table


def mean_metrics(cross: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Each experiment's means of the splits, ``{experiment: {metric: mean}}``: one small file per
    experiment, so `dvc metrics show` has a row per experiment and a column per metric."""
    return {experiment: {metric: block["mean"] for metric, block in metrics.items()} for experiment, metrics in cross.items()}


def plot_training_curves(**summaries: dict[str, Any]) -> dict[str, Figure]:
    """``<metric>.png`` for each of ``TRAINING_CURVES``: the per-epoch history of every run (inputs
    ``<experiment>__split_<n>``: training summaries), overlaid."""
    histories = {}
    for key, summary in summaries.items():
        experiment, split = key.rsplit(SPLIT, 1)
        history = pd.DataFrame(summary["history"])
        histories[experiment, int(split)] = history.assign(step=history["epoch"] - 1)
    names = _row_names({key.rsplit(SPLIT, 1)[0]: s["experiment"] for key, s in summaries.items()})
    return {f"{metric}.png": training_curves_figure(histories, metric, names) for metric in TRAINING_CURVES}
