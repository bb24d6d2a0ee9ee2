"""Nodes of the report pipeline: a thin adapter over mict_pipeline.evaluation."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from mict_pipeline.evaluation import (
    TIME_ACCURACY_METRICS,
    TRAINING_CURVES,
    Run,
    architecture_name,
    cross_split_metrics,
    read_training_log,
    results_report,
    time_accuracy_figure,
    training_curves_figure,
)

# What a run input holds: its evaluation's metrics and predictions, its training summary, its
# DVCLive log folder. Input names are <kind>__<experiment>__split_<n>.
METRICS, PREDICTIONS, SUMMARY, LOG = "metrics", "predictions", "summary", "log"
_KIND, _SPLIT = "__", "__split_"


def run_input(kind: str, experiment: str, split: int) -> str:
    return f"{kind}{_KIND}{experiment}{_SPLIT}{split}"


def _by_kind(inputs: dict[str, Any]) -> dict[str, dict[str, dict[int, Any]]]:
    """Run inputs as ``{kind: {experiment: {split: value}}}``, experiments in the inputs' order."""
    grouped: dict[str, dict[str, dict[int, Any]]] = {}
    for key, value in inputs.items():
        kind, run = key.split(_KIND, 1)
        experiment, split = run.rsplit(_SPLIT, 1)
        grouped.setdefault(kind, {}).setdefault(experiment, {})[int(split)] = value
    return grouped


def _row_names(summaries: dict[str, dict[int, dict[str, Any]]]) -> dict[str, str]:
    """Each experiment's architecture name, from what its training summaries say it is (the same on
    every split); experiments that share one are told apart by their own name."""
    names = {name: architecture_name(next(iter(splits.values()))["experiment"]) for name, splits in summaries.items()}
    shared = {title for title, count in Counter(names.values()).items() if count > 1}
    return {name: f"{title} [{name}]" if title in shared else title for name, title in names.items()}


def cross_split_report(benchmark: dict[str, Any], **inputs: Any) -> tuple[dict, pd.DataFrame, str]:
    """``cross_split_metrics.json``, the results table (CSV) and ``results.md``, from every run's
    metrics, predictions, training summary and training log folder (inputs :func:`run_input`): rows
    named by what the runs' checkpoints say they are, Memory and FPS from the benchmark."""
    runs_by_kind = _by_kind(inputs)
    cross = cross_split_metrics(runs_by_kind[METRICS])
    runs = {
        experiment: {
            split: Run.from_outputs(
                runs_by_kind[PREDICTIONS][experiment][split], summary,
                read_training_log(runs_by_kind[LOG][experiment][split], ("train_seconds",)), name=f"split_{split}.{experiment}",
            )
            for split, summary in summaries.items()
        }
        for experiment, summaries in runs_by_kind[SUMMARY].items()
    }
    params = {name: model["params"] for name, model in benchmark.get("models", {}).items()}
    table, markdown = results_report(cross, runs, benchmark, params, _row_names(runs_by_kind[SUMMARY]))
    return cross, table, markdown


def mean_metrics(cross: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, float]]:
    """Each experiment's means of the splits, ``{experiment: {metric: mean}}``: one small file per
    experiment, so `dvc metrics show` has a row per experiment and a column per metric."""
    return {experiment: {metric: block["mean"] for metric, block in metrics.items()} for experiment, metrics in cross.items()}


def plot_training_curves(**summaries: dict[str, Any]) -> dict[str, Figure]:
    """``<metric>.png`` for each of ``TRAINING_CURVES``: the per-epoch history of every run (inputs
    :func:`run_input` of training summaries), overlaid."""
    by_experiment = _by_kind(summaries)[SUMMARY]
    histories = {}
    for experiment, splits in by_experiment.items():
        for split, summary in splits.items():
            history = pd.DataFrame(summary["history"])
            histories[experiment, split] = history.assign(step=history["epoch"] - 1)
    names = _row_names(by_experiment)
    return {f"{metric}.png": training_curves_figure(histories, metric, names) for metric in TRAINING_CURVES}


def plot_time_accuracy(**inputs: Any) -> Figure:
    """Validation top-1 against training wall time of every run, from its training log folder and
    named by its training summary (inputs :func:`run_input`)."""
    runs_by_kind = _by_kind(inputs)
    logs = {
        (experiment, split): read_training_log(folder, TIME_ACCURACY_METRICS)
        for experiment, folders in runs_by_kind[LOG].items()
        for split, folder in folders.items()
    }
    return time_accuracy_figure(logs, _row_names(runs_by_kind[SUMMARY]))
