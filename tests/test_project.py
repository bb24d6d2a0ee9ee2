"""The Kedro project: environments, one parameter reader, pipelines shaped by the session whatever
made it, validation before anything runs, DVC stage parameters, no telemetry."""

from __future__ import annotations

import importlib
import re

import pytest
import yaml
from kedro.config import OmegaConfigLoader
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from mict_pipeline import settings
from mict_pipeline.datasets.ucf101 import CLASS_NAMES
from mict_pipeline.models import build_model
from mict_pipeline.pipelines import experiments
from mict_pipeline.project import load_parameters

from demo_project import ROOT


@pytest.mark.parametrize("env", ["base", "demo"])
def test_the_plain_reader_gives_what_kedro_loads(env):
    args = {k: v for k, v in settings.CONFIG_LOADER_ARGS.items() if k != "default_run_env"}
    assert load_parameters(ROOT, env) == OmegaConfigLoader(conf_source=str(ROOT / "conf"), env=env, **args)["parameters"]


def test_demo_env_overrides_single_keys_not_whole_blocks():
    base, demo = load_parameters(ROOT, "base"), load_parameters(ROOT, "demo")
    assert demo["run_experiments"] == ["mict_resnet18", "resnet3d_18"]
    assert set(demo["experiments"]) == set(base["experiments"])  # soft merge keeps the other experiments
    assert demo["experiments"]["mict_resnet18"]["model"] == {
        **base["experiments"]["mict_resnet18"]["model"], "pretrained": False, "zero_init_residual": True
    }
    assert demo["benchmark"]["size"] == base["benchmark"]["size"] == 160


def test_every_configured_experiment_builds_with_its_published_size():
    params = load_parameters(ROOT, "base")
    expected = {
        "mict_resnet18": 16_051_685,
        "resnet3d_18": 33_255_717,
        "mict_resnet18_k3": 16_014_053,
        "mict_resnet18_k5": 16_032_869,
        "mict_resnet18_v2": 16_051_685,
        "mict_resnet34_v2": 26_159_845,
    }
    assert params["run_experiments"] == list(expected)
    for name, experiment in params["experiments"].items():
        options = {k: v for k, v in experiment["model"].items() if k != "pretrained"}
        model = build_model(experiment["arch"], len(CLASS_NAMES), **options)
        assert sum(p.numel() for p in model.parameters()) == expected[name], name


def test_parameter_files_are_plain_yaml_for_dvc():
    # `dvc exp run -S` cannot set keys in files with ${...} interpolation or YAML anchors.
    for path in (ROOT / "conf").rglob("parameters*.yml"):
        text = path.read_text()
        assert "${" not in text, path
        events = list(yaml.parse(text))
        assert not [e for e in events if isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None)], path


def _node_names(pipeline) -> set[str]:
    return {node.name for node in pipeline.nodes}


def test_pipelines_follow_the_session_however_it_is_made(demo_repo, monkeypatch):
    """`kedro run --env demo` and a notebook's `KedroSession.create(env="demo")` are the same call;
    `KEDRO_ENV=demo` and `kedro viz run --env demo` (kedro-viz's load_data) are the others
    (`KEDRO_ENV=demo kedro viz build`: tests/test_kedro_viz.py). A session of another environment in
    the same process gets its own pipelines."""
    from kedro_viz.integrations.kedro.data_loader import load_data

    monkeypatch.chdir(demo_repo.path)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    # Sessions hand their experiments to the registry; put back what was there before, at teardown.
    monkeypatch.setattr(experiments, "_session_experiments", None)
    bootstrap_project(demo_repo.path)
    shapes = {}
    for how, env in [("env", "base"), ("env", "demo"), ("KEDRO_ENV", "demo")]:
        if how == "KEDRO_ENV":
            monkeypatch.setenv("KEDRO_ENV", env)
        with KedroSession.create(project_path=demo_repo.path, env=env if how == "env" else None) as session:
            session.load_context()
            shapes[how, env] = _node_names(pipelines["__default__"])
    _, viz_pipelines, _ = load_data(demo_repo.path, env="demo")
    shapes["viz", "demo"] = _node_names(viz_pipelines["__default__"])
    assert shapes["env", "demo"] == shapes["KEDRO_ENV", "demo"] == shapes["viz", "demo"]
    assert "split_3.resnet3d_18.train" in shapes["env", "demo"] and "split_3.mict_resnet18_k3.train" not in shapes["env", "demo"]
    assert "split_3.mict_resnet18_k3.train" in shapes["env", "base"]


def test_a_typo_stops_the_run_before_any_node_in_a_few_lines(demo_repo):
    done = demo_repo.run("kedro", "run", "--pipelines=report", "--params=trainin.defaults.lr=0.5", check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output and "Running node" not in output
    error = [line for line in output.splitlines() if "unknown key" in line]
    assert error and "unknown key 'trainin'; valid keys: run_experiments, experiments, training" in error[0]
    assert len(output.strip().splitlines()) <= 10, output


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
    monkeypatch.setattr(experiments, "_session_experiments", None)
    parameter_loads, load = [], experiments.load_parameters
    monkeypatch.setattr(experiments, "load_parameters", lambda *a, **k: parameter_loads.append(1) or load(*a, **k))
    defined = {
        path.relative_to(ROOT).as_posix(): set(yaml.safe_load(path.read_text()) or {})
        for path in sorted((ROOT / "conf").glob("*/parameters*.yml"))
        if path.parent.name in ("base", "demo")
    }
    for name, stage in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"].items():
        stage = stage.get("do", stage)
        read = _parameters_read(re.search(r"--pipelines=(\w+)", stage["cmd"]).group(1), parameter_loads)
        listed = {file: set(keys) for entry in stage.get("params", []) for file, keys in entry.items()}
        assert set(listed) <= set(defined), (name, sorted(set(listed) - set(defined)))
        for file, keys in defined.items():
            assert listed.get(file, set()) == read & keys, f"dvc.yaml stage {name!r}, {file}: lists {sorted(listed.get(file, []))}, reads {sorted(read & keys)}"


def test_telemetry_is_off_by_default():
    assert yaml.safe_load((ROOT / ".telemetry").read_text()) == {"consent": False}
