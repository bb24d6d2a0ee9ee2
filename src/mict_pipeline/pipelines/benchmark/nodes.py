"""Nodes of the benchmark pipeline: thin adapters over mict_pipeline.models.speed."""

from __future__ import annotations

import logging
from typing import Any

import torch

from mict_pipeline.models.speed import measure_inference

log = logging.getLogger(__name__)


def resolve_device(device: str) -> str:
    """``auto`` means CUDA when available, else the CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def select_experiments(experiments: dict[str, Any], run_experiments: list[str]) -> dict[str, Any]:
    """The experiment blocks named in ``run_experiments``, with a clear error for an unknown name."""
    unknown = [name for name in run_experiments if name not in experiments]
    if unknown:
        raise KeyError(
            f"parameters 'run_experiments' names {unknown}, which are not under 'experiments' "
            f"(defined: {sorted(experiments)}); fix the name or add the experiment to conf/base/parameters.yml"
        )
    return {name: experiments[name] for name in run_experiments}


def benchmark_models(
    experiments: dict[str, Any], run_experiments: list[str], num_classes: int, benchmark: dict[str, Any]
) -> dict[str, Any]:
    """Parameters, FPS and peak memory of each selected experiment's model on the current device."""
    options = dict(benchmark)
    device = resolve_device(options.pop("device"))
    models = {}
    for name, experiment in select_experiments(experiments, run_experiments).items():
        result = measure_inference(experiment["arch"], num_classes, experiment.get("model", {}), device=device, **options)
        log.info("%s: %s params, %.1f FPS, %.0f MB peak on %s", name, f"{result['params']:,}", result["fps"], result["peak_memory_mb"], result["device"])
        models[name] = {k: result[k] for k in ("params", "fps", "latency_ms", "peak_memory_mb", "device")}
    return {"models": models}
