"""Nodes of the report pipeline: a thin adapter over mict_pipeline.evaluation.reports."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mict_pipeline.evaluation import cross_split_metrics, results_markdown, results_table

SEPARATOR = "__split_"  # input names: <experiment>__split_<n>


def metrics_input(experiment: str, split: int) -> str:
    return f"{experiment}{SEPARATOR}{split}"


def cross_split_report(benchmark: dict[str, Any], **split_metrics: dict[str, float]) -> tuple[dict, pd.DataFrame, str]:
    """``cross_split_metrics.json`` and the results table (CSV and markdown) with Memory and FPS
    from the benchmark report."""
    per_split: dict[str, dict[int, dict[str, float]]] = {}
    for key, metrics in split_metrics.items():
        experiment, split = key.rsplit(SEPARATOR, 1)
        per_split.setdefault(experiment, {})[int(split)] = metrics
    cross = cross_split_metrics(per_split)
    params = {name: model["params"] for name, model in benchmark.get("models", {}).items()}
    table = results_table(cross, benchmark, params)
    devices = sorted({m.get("device", "?") for m in benchmark.get("models", {}).values()})
    caption = (
        "Top1 / Top5: clip level (first 16 frames), mean of the splits, percent. Video: up to the configured "
        f"number of frames per video, clip scores averaged. Memory and FPS: batch 1, 16x160x160, on {', '.join(devices)}."
    )
    return cross, table, results_markdown(table, caption)
