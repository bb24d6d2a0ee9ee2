"""The Kedro project: environments, pipelines shaped by the session whatever made it, validation
and missing inputs stopping a run before any node, no telemetry."""

from __future__ import annotations

import json
import re

import pandas as pd
import yaml
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from mict_pipeline.datasets.ucf101 import CLASS_NAMES
from mict_pipeline.datasets.ucf101 import SPLITS
from mict_pipeline.dvc_stages import ENVIRONMENTS
from mict_pipeline.experiment import DatasetSpec, Experiment, ExperimentConfig, TrainingParams
from mict_pipeline.models import build_model
from mict_pipeline.pipelines import experiments
from mict_pipeline.project import configuration

from demo_project import ROOT


def test_demo_env_overrides_single_keys_not_whole_blocks():
    base, demo = configuration(ROOT, "base")["parameters"], configuration(ROOT, "demo")["parameters"]
    assert demo["run_experiments"] == ["mict_resnet18", "resnet3d_18"]
    assert set(demo["experiments"]) == set(base["experiments"])  # soft merge keeps the other experiments
    assert demo["experiments"]["mict_resnet18"]["model"] == {
        **base["experiments"]["mict_resnet18"]["model"], "pretrained": False, "zero_init_residual": True
    }
    assert demo["benchmark"]["size"] == base["benchmark"]["size"] == 160


def test_the_demo_trains_both_architectures_by_the_same_recipe():
    """The demo's comparison is the paper's: same epochs, batch, schedule, optimiser, clips and data
    on every split; only the architecture differs."""
    params = configuration(ROOT, "demo")["parameters"]
    training = TrainingParams.model_validate(params["training"])
    runs = {}
    for name in params["run_experiments"]:
        config = ExperimentConfig.model_validate(params["experiments"][name])
        for split in SPLITS:
            run = Experiment.create(name, config, training, DatasetSpec(name="demo", class_names=("a", "b")), split)
            runs[name, split] = (run.recipe, run.clips, run.model.model_dump(exclude={"first_kernel_depth", "version"}))
    assert {arch for arch in (params["experiments"][n]["arch"] for n in params["run_experiments"])} == {"mict_resnet18", "resnet3d_18"}
    assert len(set(map(repr, runs.values()))) == 1, runs
    assert next(iter(runs.values()))[0].epochs == 5


def test_every_configured_experiment_builds_with_its_published_size():
    params = configuration(ROOT, "base")["parameters"]
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
    monkeypatch.setattr(experiments, "_session_plan", None)
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


def test_environments_keep_their_data_apart():
    roots = {env: configuration(ROOT, env)["globals"]["data_root"] for env in ENVIRONMENTS}
    assert roots == {"base": "data", "demo": "data/demo", "rehearsal": "data/rehearsal", "rehearsal_kinetics": "data/rehearsal_kinetics", "demo_hmdb51": "data/demo_hmdb51", "hmdb51": "data/hmdb51"}
    catalogs = {env: configuration(ROOT, env)["catalog"] for env in ENVIRONMENTS}
    for env, catalog in catalogs.items():
        paths = [entry.get("filepath") or entry.get("data") for entry in catalog.values() if isinstance(entry, dict)]
        assert paths and all(str(path).startswith(f"{roots[env]}/") for path in paths), env


def test_a_missing_input_stops_the_run_in_one_line_naming_what_makes_it(shared_demo, tmp_path):
    repo = shared_demo.copy(tmp_path / "project")
    (repo.data / "05_model_input/split_1/train.csv").unlink()
    done = repo.run("kedro", "run", "--pipelines=train", "--namespaces=split_1.mict_resnet18", check=False)
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert (
        "Error: input split_1.train_index (data/demo/05_model_input/split_1/train.csv) is missing: "
        "make it with `kedro run --env demo --pipelines=prepare` first"
    ) in done.stderr


def test_a_project_error_in_a_node_ends_the_run_in_one_line(shared_demo, tmp_path):
    repo = shared_demo.copy(tmp_path / "project")
    done = repo.run("kedro", "run", "--pipelines=train", "--namespaces=split_1.mict_resnet18", "--params=experiments.mict_resnet18.recipe.epochs=2", check=False)
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert done.returncode == 2 and "Traceback" not in done.stdout + done.stderr
    assert errors == [errors[0]] and "last.pt was written by another experiment than the one asked for (recipe.epochs: 1 -> 2)" in errors[0]


def test_smoke_runs_beside_a_finished_run_without_touching_it_and_says_so(shared_demo, tmp_path):
    """`make smoke` after `make demo`: every stage with one short epoch and a few test videos, its
    runs written to data/smoke/demo; the demo's checkpoints, outputs and DVC status are as they were,
    and the smoke report names its runs smoke runs."""
    params = re.search(r"^SMOKE_PARAMS := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1).replace("$(KEDRO_ENV)", "demo")
    repo = shared_demo.copy(tmp_path / "project")
    models = {path: path.read_bytes() for path in sorted((repo.data / "06_models").rglob("*.pt"))}
    repo.run("kedro", "run", f"--params={params}")
    assert models and {path: path.read_bytes() for path in models} == models
    assert json.loads(repo.run("dvc", "status", "--json", "conf/demo/dvc.yaml").stdout) == {}
    smoke = repo.path / "data/smoke/demo"
    summary = json.loads((smoke / "06_models/split_1/mict_resnet18/summary.json").read_text())
    assert [h["epoch"] for h in summary["history"]] == [1]
    predictions = pd.read_csv(smoke / "07_model_output/split_1/mict_resnet18/predictions.csv")
    assert len(predictions) == 2 * 4  # two batches' worth (the tiny demo's batch_size 4) of test videos
    results = (smoke / "08_reporting/results.md").read_text()
    assert "(width 8, smoke run: epochs 1, batches per epoch 2, test batches 2)" in results


def test_a_typo_stops_the_run_before_any_node_in_a_few_lines(demo_repo):
    done = demo_repo.run("kedro", "run", "--pipelines=report", "--params=trainin.defaults.lr=0.5", check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 2 and "Traceback" not in output and "Running node" not in output
    error = [line for line in output.splitlines() if "unknown key" in line]
    assert error and "unknown key 'trainin'; valid keys: run_experiments, experiments, training" in error[0]
    assert len(output.strip().splitlines()) <= 10, output


def test_telemetry_is_off_by_default():
    assert yaml.safe_load((ROOT / ".telemetry").read_text()) == {"consent": False}
