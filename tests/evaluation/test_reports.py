"""Cross-split aggregation, the results table with intervals and budgets, the paired comparison, markdown and charts."""

from __future__ import annotations

import dataclasses
import json
import math
import statistics

import pandas as pd
import pytest

from mict_pipeline.evaluation import (
    RESULTS_COLUMNS,
    SPLIT_COLUMNS,
    PairedOutcome,
    Run,
    architecture_name,
    budget_gap,
    comparison_conclusion,
    comparison_markdown,
    comparison_table,
    cross_split_metrics,
    mcnemar_exact_p,
    paired_outcomes,
    results_markdown,
    results_report,
    results_table,
    split_results_table,
    time_accuracy_figure,
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


def _hits(right: int, videos: int) -> list[bool]:
    return [True] * right + [False] * (videos - right)


def _run(clip, video=None, *, last_top1=None, epochs=14, clip_steps=2912, seconds=90.0, best_epoch=12, videos=None):
    """A run whose videos ``v0, v1, ...`` (or ``videos``) are classified correctly as ``clip`` / ``video`` say."""
    video = clip if video is None else video
    correct = pd.DataFrame({"clip_top1": clip, "video_top1": video}, index=videos or [f"v{i}" for i in range(len(clip))])
    last_top1 = sum(clip) / len(clip) if last_top1 is None else last_top1
    return Run(correct=correct, best_epoch=best_epoch, last_top1=last_top1, epochs=epochs, clip_steps=clip_steps, train_seconds=seconds)


RUNS = {
    "mict_resnet18": {
        1: _run(_hits(25, 50), _hits(50, 50), last_top1=0.5, seconds=90.0),
        2: _run(_hits(25, 50), _hits(50, 50), last_top1=0.5, seconds=120.0),
    },
    "resnet3d_18": {1: _run(_hits(0, 20), epochs=3, clip_steps=624, seconds=45.0, best_epoch=2)},
    "mict_resnet18_k3": {1: _run(_hits(29, 29), seconds=7300.0)},
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


def test_split_results_table_shows_every_run_with_intervals_and_budget():
    runs = {
        "mict_resnet18": {
            2: _run(_hits(19, 20), _hits(20, 20), last_top1=0.9, seconds=30.0, best_epoch=13),
            1: _run(_hits(17, 20), _hits(18, 20), last_top1=0.8, seconds=125.0),
        },
        "resnet3d_18": {2: _run(_hits(16, 20), epochs=3, clip_steps=624, seconds=45.0, best_epoch=2)},
    }
    table = split_results_table(runs, {"mict_resnet18": "MiCT-ResNet-18"})
    assert tuple(table.columns) == SPLIT_COLUMNS
    assert table.fillna("–").to_dict("records") == [
        {"Architecture": "MiCT-ResNet-18", "Split": "1", "Test videos": "20", "Top1 [95% CI]": "85.0 [64.0, 94.8]",
         "Video Top1 [95% CI]": "90.0 [69.9, 97.2]", "Best epoch": "12", "Last-epoch Top1 [95% CI]": "80.0 [58.4, 91.9]",
         "Epochs": "14", "Clip steps": "2,912", "Training time": "2.1 min"},
        {"Architecture": "MiCT-ResNet-18", "Split": "2", "Test videos": "20", "Top1 [95% CI]": "95.0 [76.4, 99.1]",
         "Video Top1 [95% CI]": "100.0 [83.9, 100.0]", "Best epoch": "13", "Last-epoch Top1 [95% CI]": "90.0 [69.9, 97.2]",
         "Epochs": "14", "Clip steps": "2,912", "Training time": "30 s"},
        # Sample std of 85 and 95 (and of 90 and 100, 80 and 90): 5 * sqrt(2) = 7.1.
        {"Architecture": "MiCT-ResNet-18", "Split": "mean ± std", "Test videos": "–", "Top1 [95% CI]": "90.0 ± 7.1",
         "Video Top1 [95% CI]": "95.0 ± 7.1", "Best epoch": "–", "Last-epoch Top1 [95% CI]": "85.0 ± 7.1",
         "Epochs": "–", "Clip steps": "–", "Training time": "–"},
        {"Architecture": "resnet3d_18", "Split": "2", "Test videos": "20", "Top1 [95% CI]": "80.0 [58.4, 91.9]",
         "Video Top1 [95% CI]": "80.0 [58.4, 91.9]", "Best epoch": "2", "Last-epoch Top1 [95% CI]": "80.0 [58.4, 91.9]",
         "Epochs": "3", "Clip steps": "624", "Training time": "45 s"},
        {"Architecture": "resnet3d_18", "Split": "mean ± std", "Test videos": "–", "Top1 [95% CI]": "80.0 ± 0.0",
         "Video Top1 [95% CI]": "80.0 ± 0.0", "Best epoch": "–", "Last-epoch Top1 [95% CI]": "80.0 ± 0.0",
         "Epochs": "–", "Clip steps": "–", "Training time": "–"},
    ]


def test_results_table_with_benchmark_intervals_and_budgets():
    cross = cross_split_metrics(
        {
            "mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9), 2: _metrics(0.6329, 0.8381, 0.72, 0.92)},
            "resnet3d_18": {1: _metrics(0.618, 0.833, 0.65, 0.88)},
            "mict_resnet18_k3": {1: _metrics(0.5, 0.75, 0.55, 0.8)},
        }
    )
    names = {"mict_resnet18": "MiCT-ResNet-18", "resnet3d_18": "3D-ResNet-18", "mict_resnet18_k3": "MiCT-ResNet-18 (3x7x7 stem)"}
    table = results_table(cross, RUNS, BENCHMARK, PARAMS, names)
    assert tuple(table.columns) == RESULTS_COLUMNS
    assert table.to_dict("records") == [
        {
            "Architecture": "MiCT-ResNet-18",
            "Parameters": "16.05M",
            "Top1 / Top5": "63.3 / 83.8",
            # 50 of 100 test videos (two splits of 50): the textbook 40.4-59.6 %.
            "Top1 pooled [95% CI]": "50.0 [40.4, 59.6]",
            "Video Top1 / Top5": "71.0 / 91.0",
            "Video Top1 pooled [95% CI]": "100.0 [96.3, 100.0]",
            "Last-epoch Top1 [95% CI]": "50.0 [40.4, 59.6]",
            "Epochs": "14",
            "Clip steps": "5,824",
            "Training time": "3.5 min",
            "Training clips/s": "27.7",
            "Memory": "985 MB",
            "FPS": "1981",
        },
        {
            "Architecture": "3D-ResNet-18",
            "Parameters": "33.26M",
            "Top1 / Top5": "61.8 / 83.3",
            "Top1 pooled [95% CI]": "0.0 [0.0, 16.1]",
            "Video Top1 / Top5": "65.0 / 88.0",
            "Video Top1 pooled [95% CI]": "0.0 [0.0, 16.1]",
            "Last-epoch Top1 [95% CI]": "0.0 [0.0, 16.1]",
            "Epochs": "3",
            "Clip steps": "624",
            "Training time": "45 s",
            "Training clips/s": "13.9",
            "Memory": "1045 MB",
            "FPS": "644",
        },
        {
            "Architecture": "MiCT-ResNet-18 (3x7x7 stem)",
            "Parameters": "16.01M",
            "Top1 / Top5": "50.0 / 75.0",
            "Top1 pooled [95% CI]": "100.0 [88.3, 100.0]",
            "Video Top1 / Top5": "55.0 / 80.0",
            "Video Top1 pooled [95% CI]": "100.0 [88.3, 100.0]",
            "Last-epoch Top1 [95% CI]": "100.0 [88.3, 100.0]",
            "Epochs": "14",
            "Clip steps": "2,912",
            "Training time": "2.0 h",
            "Training clips/s": "0.4",
            "Memory": "–",
            "FPS": "–",
        },
    ]


def test_results_table_without_benchmark():
    cross = cross_split_metrics({"mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9)}, "resnet3d_18": {1: _metrics(0.1, 0.2, 0.3, 0.4)}})
    table = results_table(cross, RUNS, None, {"mict_resnet18": PARAMS["mict_resnet18"]}, {"mict_resnet18": "MiCT-ResNet-18"})
    assert table["Memory"].tolist() == ["–", "–"]
    assert table["FPS"].tolist() == ["–", "–"]
    assert table["Parameters"].tolist() == ["16.05M", "–"]
    assert table["Architecture"].tolist() == ["MiCT-ResNet-18", "resnet3d_18"]  # unnamed: the experiment's name
    assert table["Top1 / Top5"].tolist() == ["63.3 / 83.8", "10.0 / 20.0"]


def test_results_table_falls_back_to_benchmark_params():
    cross = cross_split_metrics({"resnet3d_18": {1: _metrics(0.5, 0.6, 0.7, 0.8)}})
    table = results_table(cross, RUNS, BENCHMARK, {})
    assert table.loc[0, "Parameters"] == "33.26M"


def test_results_table_round_trips_through_csv(tmp_path):
    cross = cross_split_metrics({"mict_resnet18": {1: _metrics(0.6331, 0.8379, 0.7, 0.9)}})
    table = results_table(cross, RUNS, BENCHMARK, PARAMS)
    table.to_csv(tmp_path / "results.csv", index=False)
    back = pd.read_csv(tmp_path / "results.csv", dtype=str)
    assert back.to_dict("records") == table.to_dict("records")


# --------------------------------------------------------------------------------------------- #
# paired comparison
# --------------------------------------------------------------------------------------------- #


def test_paired_outcomes_pair_videos_by_name_per_split_and_pooled():
    first = {1: _run([True, True, True, False]), 2: _run([True, False])}
    # The second experiment's table lists split 1's videos in another order: v3 is the one it gets right.
    second = {1: _run([True, False, False, False], videos=["v3", "v0", "v1", "v2"]), 2: _run([False, True]), 3: _run([True])}
    outcomes = paired_outcomes(first, second, "clip_top1")
    assert list(outcomes) == ["1", "2", "pooled"]  # the splits both have
    assert outcomes["1"] == PairedOutcome(videos=4, first_correct=3, second_correct=1, first_only=3, second_only=1)
    assert outcomes["2"] == PairedOutcome(videos=2, first_correct=1, second_correct=1, first_only=1, second_only=1)
    assert outcomes["pooled"] == PairedOutcome(videos=6, first_correct=4, second_correct=2, first_only=4, second_only=2)


def test_paired_outcomes_pair_the_videos_both_were_evaluated_on():
    # A smoke run's evaluation of a few test batches: its videos are paired, split 2 has none in common.
    smoke = {1: _run([True, False], videos=["v1", "v3"]), 2: _run([True], videos=["w0"])}
    outcomes = paired_outcomes(smoke, {1: _run([True, True, True, True]), 2: _run([True])}, "clip_top1")
    assert outcomes == {"1": PairedOutcome(2, 1, 2, 0, 1), "pooled": PairedOutcome(2, 1, 2, 0, 1)}
    with pytest.raises(ValueError, match="no common test video"):
        paired_outcomes({1: _run([True])}, {2: _run([True])}, "clip_top1")


def test_budget_gap_says_what_differs():
    equal = {1: _run([True]), 2: _run([True])}
    assert budget_gap(equal, {1: _run([False]), 2: _run([False])}) is None
    assert budget_gap(equal, {1: _run([True], epochs=3), 2: _run([True], epochs=3)}) == "14 vs 3 epochs per split"
    assert budget_gap(equal, {1: _run([True], clip_steps=2900), 2: _run([True])}) == "5,824 vs 5,812 clip steps"


def test_a_fine_tuned_experiment_is_never_compared_at_equal_budget():
    """Its pretraining is budget neither count holds: the conclusion names it, with its epochs."""
    source = {"path": "data/demo/06_models/split_1/mict_resnet18/best.pt", "sha256": "ab" * 32, "experiment": "mict_resnet18",
              "arch": "mict_resnet18", "dataset": "UCF-101", "classes": 101, "split": 1, "epochs": 5}
    scratch = {1: _run(_hits(3, 8))}
    finetuned = {1: dataclasses.replace(_run(_hits(7, 8)), source=source)}
    assert budget_gap(finetuned, scratch, ("tuned", "scratch")) == "plus tuned's pretraining: mict_resnet18 on UCF-101, 5 epochs"
    markdown = comparison_markdown(finetuned, scratch, "tuned", "scratch")
    assert "at equal budget" not in markdown.replace("Not at equal budget", "")
    assert "Not at equal budget (plus tuned's pretraining: mict_resnet18 on UCF-101, 5 epochs)" in markdown
    older = {1: dataclasses.replace(finetuned[1], source={k: v for k, v in source.items() if k != "epochs"})}
    assert budget_gap(scratch, older, ("scratch", "tuned")) == (
        "plus tuned's pretraining: mict_resnet18 on UCF-101, epochs not recorded (fine-tuned before they were)"
    )


def test_conclusion_claims_only_what_the_tests_support():
    significant = {"1": PairedOutcome(80, 68, 50, 20, 2), "2": PairedOutcome(76, 60, 55, 8, 3), "pooled": PairedOutcome(156, 128, 105, 28, 5)}
    assert mcnemar_exact_p(28, 5) < 1e-4 and mcnemar_exact_p(20, 2) < 0.05 < mcnemar_exact_p(8, 3)
    assert comparison_conclusion(significant, "MiCT-ResNet-18", "3D-ResNet-18", None) == (
        "**Conclusion:** MiCT-ResNet-18 is more accurate than 3D-ResNet-18 at equal budget on the pooled test videos "
        "(clip top-1 82.1 vs 67.3 %, McNemar p < 0.0001); per split: significant (p < 0.05) on 1 of 2."
    )
    # The second experiment the better one (named, and quoted, first), at unequal budgets: said, since the budget may be the difference.
    swapped = {split: PairedOutcome(o.videos, o.second_correct, o.first_correct, o.second_only, o.first_only) for split, o in significant.items()}
    assert comparison_conclusion(swapped, "3D-ResNet-18", "MiCT-ResNet-18", "3 vs 14 epochs per split") == (
        "**Conclusion:** MiCT-ResNet-18 is more accurate than 3D-ResNet-18 on the pooled test videos (clip top-1 82.1 vs 67.3 %, "
        "McNemar p < 0.0001); per split: significant (p < 0.05) on 1 of 2. Not at equal budget (3 vs 14 epochs per split): "
        "the difference is not the architectures' alone."
    )
    # b = 12, c = 7: p = 0.36, no claim of a winner.
    undecided = {"1": PairedOutcome(80, 60, 55, 12, 7), "pooled": PairedOutcome(80, 60, 55, 12, 7)}
    assert comparison_conclusion(undecided, "A", "B", "14 vs 3 epochs per split") == (
        "**Conclusion:** No significant difference between A and B on the pooled test videos (clip top-1 75.0 vs 68.8 %, "
        "McNemar p = 0.36); per split: significant (p < 0.05) on 0 of 1. Not at equal budget (14 vs 3 epochs per split): "
        "the difference is not the architectures' alone."
    )


def test_comparison_table_rows_per_level_and_split():
    outcomes = {"clip_top1": {"1": PairedOutcome(20, 17, 10, 8, 1), "pooled": PairedOutcome(20, 17, 10, 8, 1)},
                "video_top1": {"1": PairedOutcome(20, 18, 0, 18, 0), "pooled": PairedOutcome(20, 18, 0, 18, 0)}}
    table = comparison_table(outcomes, "A", "B")
    assert table.columns.tolist() == ["Level", "Split", "Test videos", "A", "B", "Difference (points)", "Ratio", "b", "c", "McNemar p"]
    assert table.iloc[0].tolist() == ["clip top-1", "1", "20", "85.0", "50.0", "+35.0", "1.70", "8", "1", "0.039"]
    assert table.iloc[3].tolist() == ["video top-1", "pooled", "20", "90.0", "0.0", "+90.0", "–", "18", "0", "< 0.0001"]


def test_results_report_has_the_tables_and_a_comparison_per_other_experiment():
    runs = {
        "mict_resnet18": RUNS["mict_resnet18"],
        "resnet3d_18": {split: _run(_hits(10, 50), epochs=3, clip_steps=624, seconds=45.0) for split in (1, 2)},
        "mict_resnet18_k3": {1: _run(_hits(40, 50), _hits(45, 50)), 2: _run(_hits(30, 50), seconds=7300.0)},
    }
    cross = cross_split_metrics({e: {s: _metrics(0.5, 0.8, 0.5, 0.8) for s in splits} for e, splits in runs.items()})
    table, markdown = results_report(cross, runs, BENCHMARK, PARAMS, {"mict_resnet18": "MiCT-ResNet-18"})
    assert table.equals(results_table(cross, runs, BENCHMARK, PARAMS, {"mict_resnet18": "MiCT-ResNet-18"}))
    assert "(k / n, n = 100 test videos)" in markdown and "on cuda: the machine that last ran the benchmark stage" in markdown
    assert "| Architecture | Split | Test videos | Top1 [95% CI] |" in markdown
    assert [line for line in markdown.splitlines() if line.startswith("## ")] == [
        "## MiCT-ResNet-18 vs resnet3d_18", "## MiCT-ResNet-18 vs mict_resnet18_k3",
    ]
    # Both experiments get the first 25 of split 1's and 2's videos right, the second also 15 and 5 more.
    assert "| clip top-1 | pooled | 100 | 50.0 | 70.0 | -20.0 | 0.71 | 0 | 20 | < 0.0001 |" in markdown
    assert "**Conclusion:** mict_resnet18_k3 is more accurate than MiCT-ResNet-18 at equal budget on the pooled test videos (clip top-1 70.0 vs 50.0 %" in markdown
    assert "**Conclusion:** MiCT-ResNet-18 is more accurate than resnet3d_18 on the pooled test videos" in markdown
    assert "Not at equal budget (14 vs 3 epochs per split)" in markdown
    assert "Training clips/s (clip steps / training time, all splits): MiCT-ResNet-18 27.7, mict_resnet18_k3 0.8; ratio 35.19." in markdown


# --------------------------------------------------------------------------------------------- #
# markdown
# --------------------------------------------------------------------------------------------- #


def test_results_markdown_renders_a_github_table():
    table = pd.DataFrame({"Architecture": ["MiCT-ResNet-18", "3D-ResNet-18"], "Top1 / Top5": ["63.3 / 83.8", "61.8 / 83.3"], "FPS": ["1981", "644"]})
    text = results_markdown(table, "UCF-101, 3-split mean")
    assert text == (
        "UCF-101, 3-split mean\n"
        "\n"
        "| Architecture | Top1 / Top5 | FPS |\n"
        "|---|---:|---:|\n"
        "| MiCT-ResNet-18 | 63.3 / 83.8 | 1981 |\n"
        "| 3D-ResNet-18 | 61.8 / 83.3 | 644 |\n"
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
    assert empty.splitlines()[-1] == "|" + "|".join(["---"] + ["---:"] * (len(RESULTS_COLUMNS) - 1)) + "|"


# --------------------------------------------------------------------------------------------- #
# charts
# --------------------------------------------------------------------------------------------- #


def test_time_accuracy_figure_draws_validated_epochs_against_cumulative_training_time():
    log = pd.DataFrame({"epoch": [1, 2, 3, 4], "train_seconds": [30.0, 30.0, 60.0, 120.0], "val_top1": [0.25, float("nan"), 0.5, 0.75]})
    figure = time_accuracy_figure({("mict", 1): log, ("mict", 2): log, ("r3d", 1): log}, {"mict": "MiCT-ResNet-18"})
    (ax,) = figure.axes
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["MiCT-ResNet-18, split 1", "MiCT-ResNet-18, split 2", "r3d, split 1"]
    assert lines[0].get_xdata().tolist() == [0.5, 2.0, 4.0]  # minutes at the end of epochs 1, 3, 4
    assert lines[0].get_ydata().tolist() == [25.0, 50.0, 75.0]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()  # a colour per experiment
    assert (lines[0].get_linestyle(), lines[0].get_marker()) != (lines[1].get_linestyle(), lines[1].get_marker())  # a style per split
    assert "minutes" in ax.get_xlabel() and "top-1" in ax.get_ylabel()
