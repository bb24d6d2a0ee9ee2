"""The benchmark pipeline's node on tiny inputs."""

from __future__ import annotations

import pandas as pd
import pytest

from mict_pipeline.pipelines.benchmark.nodes import benchmark_models, select_experiments

EXPERIMENTS = {
    "mict": {"arch": "mict_resnet18", "model": {"version": "v1", "pretrained": True}},
    "r3d": {"arch": "r3d_18", "model": {"dropout": 0.5}},
}
TINY = {"device": "auto", "batch_size": 1, "frames": 8, "size": 32, "warmup": 1, "iters": 2}


def test_benchmark_models_reports_each_selected_experiment():
    report = benchmark_models(EXPERIMENTS, ["mict", "r3d"], 10, TINY)
    assert set(report["models"]) == {"mict", "r3d"}
    mict = report["models"]["mict"]
    assert mict["params"] == 16_051_685 - 91 * 513  # 10 classes instead of 101
    assert mict["fps"] > 0 and mict["latency_ms"] > 0 and mict["peak_memory_mb"] > 0
    assert mict["device"].startswith("cpu")


def test_unknown_experiment_names_the_key_and_fix():
    with pytest.raises(KeyError, match=r"'run_experiments' names \['mict_resnet50'\].*conf/base/parameters.yml"):
        select_experiments(EXPERIMENTS, ["mict", "mict_resnet50"])


def test_loader_benchmark_adds_clips_per_second(tmp_path):
    from mict_pipeline.io.frame_store import extract_frames
    from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
    from mict_pipeline.pipelines.benchmark.nodes import add_loader_benchmark

    video = write_video(tmp_path / "v.avi", render_frames(VideoSpec("Twist", 1, 1, 20, 3)))
    n_frames = extract_frames(video, tmp_path / "v.frames", width=64, height=48)
    index = pd.DataFrame({"frame_store": [str(tmp_path / "v.frames")] * 4, "n_frames": n_frames, "label": 0})
    training = {"clips": {"crop_sizes": [32, 48], "output_size": 32}}
    report = add_loader_benchmark({"models": {}}, index, training, {"loader_clips": 4})
    assert report["loader"]["clips"] == 4 and report["loader"]["clips_per_s_per_worker"] > 0
    assert report["loader"]["clip_shape"] == [3, 16, 32, 32] and report["models"] == {}
