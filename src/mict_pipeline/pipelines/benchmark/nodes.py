"""Nodes of the benchmark pipeline: thin adapters over mict_pipeline.models.speed."""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2
import pandas as pd
import torch

from mict_pipeline.data.clips import ClipConfig, ClipDataset, normalize_clips
from mict_pipeline.models.speed import measure_inference
from mict_pipeline.training.recipe import resolve_device

log = logging.getLogger(__name__)


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
    options = {k: v for k, v in benchmark.items() if k != "loader_clips"}  # that one is the loader's
    device = str(resolve_device(options.pop("device")))
    models = {}
    for name, experiment in select_experiments(experiments, run_experiments).items():
        result = measure_inference(experiment["arch"], num_classes, experiment.get("model", {}), device=device, **options)
        log.info("%s: %s params, %.1f FPS, %.0f MB peak on %s", name, f"{result['params']:,}", result["fps"], result["peak_memory_mb"], result["device"])
        models[name] = {k: result[k] for k in ("params", "fps", "latency_ms", "peak_memory_mb", "device")}
    return {"models": models}


def add_loader_benchmark(
    report: dict[str, Any], train_index: pd.DataFrame, training: dict[str, Any], benchmark: dict[str, Any]
) -> dict[str, Any]:
    """Add the training loader's clips/s per worker: read + decode + the full augmentation on one
    thread as a DataLoader worker runs it, plus the normalisation that training leaves to its
    device (so a little below a training worker's rate; docs/benchmarks.md has both)."""
    dataset = ClipDataset(train_index, "train", ClipConfig.from_params(training.get("clips", {})))
    n = min(len(dataset), int(benchmark.get("loader_clips", 200)))
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        normalize_clips(dataset[0][0][None])  # warm-up
        start = time.perf_counter()
        for i in range(n):
            clip = normalize_clips(dataset[i][0][None])
        seconds = time.perf_counter() - start
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv_threads)
    loader = {"clips_per_s_per_worker": n / seconds, "clips": n, "clip_shape": list(clip.shape[1:]), "device": "cpu (1 thread)"}
    log.info("training loader: %.1f clips/s per worker", loader["clips_per_s_per_worker"])
    return {**report, "loader": loader}
