"""Nodes of the report pipeline: a thin adapter over mict_pipeline.evaluation.reports."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from mict_pipeline.evaluation import architecture_name, cross_split_metrics, results_markdown, results_table

SPLIT, SUMMARY = "__split_", "__summary"  # input names: <experiment>__split_<n> (metrics), <experiment>__summary


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
    """``cross_split_metrics.json`` and the results table (CSV and markdown): each experiment's rows
    named by what its checkpoints say it is (its training summary), Memory and FPS from the benchmark."""
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
    table = results_table(cross, benchmark, params, _row_names(experiments))
    devices = sorted({m.get("device", "?") for m in benchmark.get("models", {}).values()})
    caption = (
        "Top1 / Top5: clip level (first 16 frames), mean of the splits, percent. Video: up to the configured "
        f"number of frames per video, clip scores averaged. Memory and FPS: batch 1, 16x160x160, on {', '.join(devices)}."
    )
    return cross, table, results_markdown(table, caption)
