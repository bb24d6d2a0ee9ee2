"""The Kedro project: configuration environments, pipeline registry, no telemetry."""

from __future__ import annotations

from pathlib import Path

import yaml
from kedro.framework.project import configure_project

from mict_pipeline.models import build_model
from mict_pipeline.pipelines.experiments import load_parameters

ROOT = Path(__file__).resolve().parents[1]


def test_demo_env_overrides_single_keys_not_whole_blocks():
    base, demo = load_parameters(ROOT / "conf", "base"), load_parameters(ROOT / "conf", "demo")
    assert demo["run_experiments"] == ["mict_resnet18", "r3d_18"]
    assert set(demo["experiments"]) == set(base["experiments"])  # soft merge keeps the other experiments
    assert demo["experiments"]["mict_resnet18"]["model"] == {
        **base["experiments"]["mict_resnet18"]["model"], "pretrained": False, "zero_init_residual": True
    }
    assert demo["benchmark"]["size"] == base["benchmark"]["size"] == 160


def test_every_configured_experiment_builds_with_its_published_size():
    params = load_parameters(ROOT / "conf", "base")
    expected = {
        "mict_resnet18": 16_051_685,
        "r3d_18": 33_255_717,
        "mict_resnet18_k3": 16_014_053,
        "mict_resnet18_k5": 16_032_869,
        "mict_resnet18_v2": 16_051_685,
        "mict_resnet34_v2": 26_159_845,
    }
    assert params["run_experiments"] == list(expected)
    for name, experiment in params["experiments"].items():
        options = {k: v for k, v in experiment["model"].items() if k != "pretrained"}
        model = build_model(experiment["arch"], params["num_classes"], **options)
        assert sum(p.numel() for p in model.parameters()) == expected[name], name


def test_parameter_files_are_plain_yaml_for_dvc():
    # `dvc exp run -S` cannot set keys in files with ${...} interpolation or YAML anchors.
    for path in (ROOT / "conf").rglob("parameters*.yml"):
        text = path.read_text()
        assert "${" not in text, path
        events = list(yaml.parse(text))
        assert not [e for e in events if isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)], path


def test_pipelines_are_registered():
    configure_project("mict_pipeline")
    from kedro.framework.project import pipelines

    assert "benchmark" in pipelines and "__default__" in pipelines


def test_telemetry_is_off_by_default():
    assert yaml.safe_load((ROOT / ".telemetry").read_text()) == {"consent": False}
