"""Nodes of the benchmark pipeline: thin adapters over mict_pipeline.models.speed and the clip loader."""

from __future__ import annotations

import logging
import time
from typing import Any

import cv2
import pandas as pd
import torch

from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.transforms import normalize_clips
from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.experiment import ModelOptions, resolve_device
from mict_pipeline.models.speed import measure_inference
from mict_pipeline.parameters.benchmark import BenchmarkParams

log = logging.getLogger(__name__)


def benchmark_model(dataset_spec: dict[str, Any], arch: str, model: ModelOptions, benchmark: BenchmarkParams) -> dict[str, Any]:
    """Parameters, FPS and peak memory of one experiment's model (its ``arch`` and ``model`` options:
    all that the benchmark reads of it) on the benchmark device, by the original's protocol."""
    options = benchmark.model_dump(exclude={"device", "loader_clips"})
    result = measure_inference(
        arch,
        len(dataset_spec["class_names"]),
        model.for_arch(arch, initialise=False),
        device=str(resolve_device(benchmark.device, key="benchmark.device in conf/<env>/parameters_benchmark.yml")),
        **options,
    )
    log.info("%s: %s params, %.1f FPS, %.0f MB peak on %s", arch, f"{result['params']:,}", result["fps"], result["peak_memory_mb"], result["device"])
    return {k: result[k] for k in ("params", "fps", "latency_ms", "peak_memory_mb", "device")}


def collect_model_benchmarks(**models: dict[str, Any]) -> dict[str, Any]:
    """The per-experiment results as one report: ``{"models": {experiment: result}}``."""
    return {"models": models}


def add_loader_benchmark(
    report: dict[str, Any], train_index: pd.DataFrame, frames_dir: str, clips: ClipConfig, benchmark: BenchmarkParams
) -> dict[str, Any]:
    """Add the training loader's clips/s per worker: read + decode + the full augmentation on one
    thread as a DataLoader worker runs it, plus the normalisation that training leaves to its
    device (so a little below a training worker's rate; docs/benchmarks.md has both)."""
    dataset = ClipDataset(train_index, "train", clips, root=frames_dir)
    n = min(len(dataset), benchmark.loader_clips)
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
