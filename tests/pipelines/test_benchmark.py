"""The benchmark pipeline's nodes on tiny inputs."""

from __future__ import annotations

import pandas as pd
import torch

from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.experiment import ModelOptions
from mict_pipeline.io.frame_store import extract_frames
from mict_pipeline.models.speed import cpu_name
from mict_pipeline.parameters.benchmark import BenchmarkParams
from mict_pipeline.pipelines.benchmark.nodes import add_loader_benchmark, benchmark_model, collect_model_benchmarks

TINY = BenchmarkParams(device="cpu", frames=8, size=32, warmup=1, iters=2)
DATASET = {"name": "ten", "class_names": [str(i) for i in range(10)], "frames": {"width": 64, "height": 48, "quality": 90}}


def test_benchmark_model_measures_the_experiments_model():
    model = ModelOptions.model_validate({"version": "v1", "pretrained": True})
    result = benchmark_model(DATASET, "mict_resnet18", model, TINY)  # pretrained weights are not needed to time a model
    assert result["params"] == 16_051_685 - 91 * 513  # 10 classes instead of 101
    assert result["fps"] > 0 and result["latency_ms"] > 0 and result["peak_memory_mb"] > 0
    # A figure names its machine: the processor, threads and the kernels ATen dispatched to.
    assert result["device"] == f"{cpu_name()} ({torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()} kernels)"
    assert collect_model_benchmarks(mict=result, other={}) == {"models": {"mict": result, "other": {}}}


def test_loader_benchmark_adds_clips_per_second(tmp_path):
    video = write_video(tmp_path / "v.avi", render_frames(VideoSpec("Twist", 1, 1, 20, 3)))
    n_frames = extract_frames(video, tmp_path / "v.frames", width=64, height=48)
    index = pd.DataFrame({"frame_store": ["v.frames"] * 4, "n_frames": n_frames, "label": 0})  # relative to the frames folder
    clips = ClipConfig(crop_sizes=(32, 48), output_size=32)
    report = add_loader_benchmark({"models": {}}, index, tmp_path, clips, BenchmarkParams(loader_clips=4))
    assert report["loader"]["clips"] == 4 and report["loader"]["clips_per_s_per_worker"] > 0
    assert report["loader"]["clip_shape"] == [3, 16, 32, 32] and report["models"] == {}
