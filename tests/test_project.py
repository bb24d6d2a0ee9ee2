"""The Kedro project: configuration environments, pipeline registry, DVC stage parameters, no telemetry."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml
from kedro.framework.project import configure_project

from mict_pipeline.models import build_model
from mict_pipeline.pipelines import experiments
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


def _parameters_read(pipeline_name: str, parameter_loads: list) -> set[str]:
    """Top-level parameter keys a pipeline's nodes read, plus ``run_experiments`` where building the
    pipeline loaded the parameters (it is built once per configured experiment: its shape depends
    on that key). ``parameter_loads`` records those loads."""
    parameter_loads.clear()
    pipeline = importlib.import_module(f"mict_pipeline.pipelines.{pipeline_name}").create_pipeline()
    read = {name.removeprefix("params:").split(".")[0] for name in pipeline.inputs() if name.startswith("params:")}
    return read | ({"run_experiments"} if parameter_loads else set())


@pytest.mark.parametrize("env", ["base", "demo"])
def test_dvc_stages_list_exactly_the_parameters_their_pipeline_reads(env, monkeypatch):
    # A key a stage reads but does not list would not rerun it; one it lists but does not read reruns it for nothing.
    monkeypatch.setenv("KEDRO_ENV", env)
    parameter_loads, load = [], experiments.load_parameters  # what configured_experiments calls, however imported
    monkeypatch.setattr(experiments, "load_parameters", lambda *a, **k: parameter_loads.append(1) or load(*a, **k))
    defined = {
        path.relative_to(ROOT).as_posix(): set(yaml.safe_load(path.read_text()) or {})
        for path in sorted((ROOT / "conf").glob("*/parameters*.yml"))
        if path.parent.name in ("base", "demo")
    }
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        stage = stage.get("do", stage)
        read = _parameters_read(re.search(r"--pipeline=(\w+)", stage["cmd"]).group(1), parameter_loads)
        listed = {file: set(keys) for entry in stage.get("params", []) for file, keys in entry.items()}
        assert set(listed) <= set(defined), (name, sorted(set(listed) - set(defined)))
        for file, keys in defined.items():
            assert listed.get(file, set()) == read & keys, f"dvc.yaml stage {name!r}, {file}: lists {sorted(listed.get(file, []))}, reads {sorted(read & keys)}"


def test_pipelines_are_registered():
    configure_project("mict_pipeline")
    from kedro.framework.project import pipelines

    assert "benchmark" in pipelines and "__default__" in pipelines


def test_telemetry_is_off_by_default():
    assert yaml.safe_load((ROOT / ".telemetry").read_text()) == {"consent": False}
