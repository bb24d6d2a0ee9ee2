"""The report node: rows named by what each experiment is, told apart when two are the same architecture."""

from __future__ import annotations

from mict_pipeline.pipelines.report.nodes import cross_split_report, mean_metrics, metrics_input, summary_input

METRICS = {"clip_top1": 0.5, "clip_top5": 0.9, "video_top1": 0.6, "video_top5": 0.95}


def _summary(arch: str, **model) -> dict:
    return {"experiment": {"arch": arch, "model": model}}


def test_rows_are_named_by_architecture_and_told_apart_by_experiment():
    inputs = {metrics_input(e, s): METRICS for e in ("mict", "mict_lr", "r3d") for s in (1, 2, 3)}
    inputs.update({
        summary_input("mict"): _summary("mict_resnet18", version="v1"),
        summary_input("mict_lr"): _summary("mict_resnet18", version="v1"),
        summary_input("r3d"): _summary("resnet3d_18", width=8),
    })
    benchmark = {"models": {"mict": {"params": 16_051_685, "fps": 10.0, "peak_memory_mb": 100.0, "device": "cpu (2 threads)"}}}
    cross, table, markdown = cross_split_report(benchmark, **inputs)
    assert mean_metrics(cross)["mict"] == METRICS
    assert set(cross) == {"mict", "mict_lr", "r3d"} and cross["r3d"]["clip_top1"]["mean"] == 0.5
    assert table["Architecture"].tolist() == ["MiCT-ResNet-18 [mict]", "MiCT-ResNet-18 [mict_lr]", "3D-ResNet-18 (width 8)"]
    assert "on cpu (2 threads)" in markdown and "| 3D-ResNet-18 (width 8) |" in markdown
