"""Cross-split aggregation, the results table and its markdown rendering."""

from __future__ import annotations

import json
import math
import statistics

import pandas as pd
import pytest

from mict_pipeline.evaluation import (
    RESULTS_COLUMNS,
    architecture_name,
    cross_split_metrics,
    results_markdown,
    results_table,
    split_results_table,
)


def _metrics(clip_top1, clip_top5, video_top1, video_top5):
    return {"clip_top1": clip_top1, "clip_top5": clip_top5, "video_top1": video_top1, "video_top5": video_top5}


PER_SPLIT = {
    "mict_resnet18": {
        1: _metrics(0.62, 0.83, 0.70, 0.90),
        2: _metrics(0.64, 0.84, 0.72, 0.91),
        3: _metrics(0.63, 0.845, 0.71, 0.92),
    },
    "resnet3d_18": {"1": _metrics(0.60, 0.82, 0.66, 0.88), "2": _metrics(0.64, 0.85, 0.70, 0.90)},
    "mict_resnet18_k3": {"split_1": _metrics(0.5, 0.75, 0.55, 0.8)},
}


# --------------------------------------------------------------------------------------------- #
# cross-split metrics
# --------------------------------------------------------------------------------------------- #


def test_cross_split_shape_and_arithmetic():
    result = cross_split_metrics(PER_SPLIT)
    assert list(result) == ["mict_resnet18", "resnet3d_18", "mict_resnet18_k3"]
    for block in result.values():
        assert list(block) == ["clip_top1", "clip_top5", "video_top1", "video_top5"]
        for entry in block.values():
            assert set(entry) == {"per_split", "mean", "std"}
    top1 = result["mict_resnet18"]["clip_top1"]
    assert top1["per_split"] == {"1": 0.62, "2": 0.64, "3": 0.63}
    assert top1["mean"] == pytest.approx(0.63, abs=1e-15)
    # Sample std (ddof=1) of 0.62, 0.64, 0.63 is exactly 0.01.
    assert top1["std"] == pytest.approx(0.01, abs=1e-15)
    top5 = result["mict_resnet18"]["clip_top5"]
    assert top5["mean"] == pytest.approx((0.83 + 0.84 + 0.845) / 3, abs=1e-15)
    assert top5["std"] == pytest.approx(statistics.stdev([0.83, 0.84, 0.845]), abs=1e-15)
    # By hand: mean 0.8383..., deviations (-5, 1, 4) / 600, so std = sqrt(42 / 2) / 600 = sqrt(7/12) / 100.
    m = 2.515 / 3
    assert top5["std"] == pytest.approx(math.sqrt(((0.83 - m) ** 2 + (0.84 - m) ** 2 + (0.845 - m) ** 2) / 2), abs=1e-15)
    assert top5["std"] == pytest.approx(math.sqrt(7 / 12) / 100, abs=1e-15)
    # The whole result is plain JSON.
    assert json.loads(json.dumps(result)) == result


def test_cross_split_partial_splits():
    result = cross_split_metrics(PER_SPLIT)
    two = result["resnet3d_18"]["clip_top1"]
    assert two["per_split"] == {"1": 0.60, "2": 0.64}
    assert two["mean"] == pytest.approx(0.62, abs=1e-15)
    assert two["std"] == pytest.approx(math.sqrt(2) * 0.02, abs=1e-15)
    one = result["mict_resnet18_k3"]["video_top5"]
    assert one == {"per_split": {"1": 0.8}, "mean": 0.8, "std": 0.0}


def test_cross_split_sorts_split_keys_numerically_and_ignores_extra_metrics():
    per_split = {"e": {"10": {**_metrics(0.1, 0.2, 0.3, 0.4), "loss": 3.2}, 2: _metrics(0.3, 0.4, 0.5, 0.6)}}
    result = cross_split_metrics(per_split)
    assert list(result["e"]["clip_top1"]["per_split"]) == ["2", "10"]
    assert "loss" not in result["e"]


@pytest.mark.parametrize(
    ("per_split", "message"),
    [
        ({"exp_a": {1: {"clip_top1": 0.5, "clip_top5": 0.8, "video_top1": 0.6}}}, r"'exp_a', split 1: metric 'video_top5' is missing"),
        ({"exp_b": {2: _metrics(0.5, 80.0, 0.6, 0.9)}}, r"'exp_b', split 2, metric 'clip_top5'.*outside \[0, 1\]"),
        ({"exp_c": {3: _metrics(-0.01, 0.8, 0.6, 0.9)}}, r"'exp_c', split 3, metric 'clip_top1'.*outside"),
        ({"exp_d": {1: _metrics(0.5, 0.8, float("nan"), 0.9)}}, r"'exp_d', split 1, metric 'video_top1'"),
        ({"exp_e": {1: _metrics(0.5, 0.8, "high", 0.9)}}, r"'exp_e', split 1, metric 'video_top1'.*not a number"),
        ({"exp_f": {}}, r"'exp_f' has no split"),
        ({"exp_g": {1: _metrics(0.5, 0.8, 0.6, 0.9), "1": _metrics(0.5, 0.8, 0.6, 0.9)}}, r"'exp_g': two entries for split 1"),
        ({"exp_h": {"test": _metrics(0.5, 0.8, 0.6, 0.9)}}, r"'exp_h'.*'test' is not a split number"),
    ],
)
def test_cross_split_errors_name_the_culprit(per_split, message):
    with pytest.raises(ValueError, match=message):
        cross_split_metrics(per_split)


def test_cross_split_accepts_boundaries():
    result = cross_split_metrics({"e": {1: _metrics(0.0, 1.0, 0, 1)}})
    assert result["e"]["clip_top1"]["mean"] == 0.0 and result["e"]["clip_top5"]["mean"] == 1.0


# --------------------------------------------------------------------------------------------- #
# results table
# --------------------------------------------------------------------------------------------- #

PARAMS = {"mict_resnet18": 16_051_685, "resnet3d_18": 33_255_717, "mict_resnet18_k3": 16_014_053}
BENCHMARK = {
    "models": {
        "mict_resnet18": {"params": 16_051_685, "fps": 1981.4, "peak_memory_mb": 984.6, "device": "cuda"},
        "resnet3d_18": {"params": 33_255_717, "fps": 643.5, "peak_memory_mb": 1045.2, "device": "cuda"},
    },
    "loader": {"clips_per_s": 120.0},
}


def test_architecture_names():
    assert architecture_name({"arch": "mict_resnet18", "model": {"version": "v1", "first_kernel_depth": 7}}) == "MiCT-ResNet-18"
    assert architecture_name({"arch": "mict_resnet34", "model": {}}) == "MiCT-ResNet-34"
    assert architecture_name({"arch": "resnet3d_18", "model": {"dropout": 0.5, "width": 64}}) == "3D-ResNet-18"
    assert architecture_name({"arch": "mict_resnet18", "model": {"first_kernel_depth": 3}}) == "MiCT-ResNet-18 (k=3)"
    assert architecture_name({"arch": "mict_resnet34", "model": {"version": "v2"}}) == "MiCT-ResNet-34 (v2)"
    assert architecture_name({"arch": "mict_resnet18", "model": {"first_kernel_depth": 5, "version": "v2", "width": 8}}) == "MiCT-ResNet-18 (k=5, v2, width 8)"
    smoke = {"arch": "resnet3d_18", "model": {}, "recipe": {"limit_epochs": 1, "limit_train_batches": 2, "limit_val_batches": None}}
    assert architecture_name(smoke) == "3D-ResNet-18 (smoke run: epochs 1, batches per epoch 2)"


def test_split_results_table_shows_every_experiment_on_every_split():
    cross = cross_split_metrics({
        "mict_resnet18": {1: _metrics(0.5, 0.8, 0.6, 0.9), 2: _metrics(0.7, 0.9, 0.8, 1.0)},
        "resnet3d_18": {2: _metrics(0.4, 0.7, 0.45, 0.75)},
    })
    table = split_results_table(cross, {"mict_resnet18": "MiCT-ResNet-18"})
    assert table.columns.tolist() == ["Architecture", "Split 1", "Split 2", "Mean ± std"]
    assert table.to_dict("records") == [
        {"Architecture": "MiCT-ResNet-18", "Split 1": "50.0 / 60.0", "Split 2": "70.0 / 80.0", "Mean ± std": "60.0 ± 14.1 / 70.0 ± 14.1"},
        {"Architecture": "resnet3d_18", "Split 1": "–", "Split 2": "40.0 / 45.0", "Mean ± std": "40.0 ± 0.0 / 45.0 ± 0.0"},
    ]


def test_results_table_with_benchmark():
    cross = cross_split_metrics(
        {
            "mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9), 2: _metrics(0.6329, 0.8381, 0.72, 0.92)},
            "resnet3d_18": {1: _metrics(0.618, 0.833, 0.65, 0.88)},
            "mict_resnet18_k3": {1: _metrics(0.5, 0.75, 0.55, 0.8)},
        }
    )
    names = {"mict_resnet18": "MiCT-ResNet-18", "resnet3d_18": "3D-ResNet-18", "mict_resnet18_k3": "MiCT-ResNet-18 (3x7x7 stem)"}
    table = results_table(cross, BENCHMARK, PARAMS, names)
    assert tuple(table.columns) == RESULTS_COLUMNS
    assert table.to_dict("records") == [
        {
            "Architecture": "MiCT-ResNet-18",
            "Parameters": "16.05M",
            "Top1 / Top5": "63.3 / 83.8",
            "Video Top1 / Top5": "71.0 / 91.0",
            "Memory": "985 MB",
            "FPS": "1981",
        },
        {
            "Architecture": "3D-ResNet-18",
            "Parameters": "33.26M",
            "Top1 / Top5": "61.8 / 83.3",
            "Video Top1 / Top5": "65.0 / 88.0",
            "Memory": "1045 MB",
            "FPS": "644",
        },
        {
            "Architecture": "MiCT-ResNet-18 (3x7x7 stem)",
            "Parameters": "16.01M",
            "Top1 / Top5": "50.0 / 75.0",
            "Video Top1 / Top5": "55.0 / 80.0",
            "Memory": "–",
            "FPS": "–",
        },
    ]


def test_results_table_without_benchmark():
    cross = cross_split_metrics({"mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9)}, "other": {1: _metrics(0.1, 0.2, 0.3, 0.4)}})
    table = results_table(cross, None, PARAMS, {"mict_resnet18": "MiCT-ResNet-18"})
    assert table["Memory"].tolist() == ["–", "–"]
    assert table["FPS"].tolist() == ["–", "–"]
    assert table["Parameters"].tolist() == ["16.05M", "–"]
    assert table["Architecture"].tolist() == ["MiCT-ResNet-18", "other"]  # unnamed: the experiment's name
    assert table["Top1 / Top5"].tolist() == ["63.3 / 83.8", "10.0 / 20.0"]


def test_results_table_falls_back_to_benchmark_params():
    cross = cross_split_metrics({"resnet3d_18": {1: _metrics(0.5, 0.6, 0.7, 0.8)}})
    table = results_table(cross, BENCHMARK, {})
    assert table.loc[0, "Parameters"] == "33.26M"


def test_results_table_round_trips_through_csv(tmp_path):
    cross = cross_split_metrics({"mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9)}})
    table = results_table(cross, BENCHMARK, PARAMS)
    table.to_csv(tmp_path / "results.csv", index=False)
    back = pd.read_csv(tmp_path / "results.csv", dtype=str)
    assert back.to_dict("records") == table.to_dict("records")


# --------------------------------------------------------------------------------------------- #
# markdown
# --------------------------------------------------------------------------------------------- #


def test_results_markdown_renders_a_github_table():
    cross = cross_split_metrics({"mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9)}, "resnet3d_18": {1: _metrics(0.618, 0.833, 0.65, 0.88)}})
    table = results_table(cross, BENCHMARK, PARAMS, {"mict_resnet18": "MiCT-ResNet-18", "resnet3d_18": "3D-ResNet-18"})
    text = results_markdown(table, "UCF-101, 3-split mean")
    assert text == (
        "UCF-101, 3-split mean\n"
        "\n"
        "| Architecture | Parameters | Top1 / Top5 | Video Top1 / Top5 | Memory | FPS |\n"
        "|---|---:|---:|---:|---:|---:|\n"
        "| MiCT-ResNet-18 | 16.05M | 63.3 / 83.8 | 70.0 / 90.0 | 985 MB | 1981 |\n"
        "| 3D-ResNet-18 | 33.26M | 61.8 / 83.3 | 65.0 / 88.0 | 1045 MB | 644 |\n"
    )


def test_results_markdown_escapes_and_handles_missing_values():
    table = pd.DataFrame({"name": ["a|b", "multi\nline"], "value": [1.5, float("nan")]})
    text = results_markdown(table, "")
    assert text.splitlines() == [
        "| name | value |",
        "|---|---:|",
        "| a\\|b | 1.5 |",
        "| multi line | – |",
    ]
    empty = results_markdown(pd.DataFrame(columns=list(RESULTS_COLUMNS)), "caption")
    assert empty.splitlines()[-1] == "|---|---:|---:|---:|---:|---:|"
