"""The DVC files (dvc.yaml: conf/base; conf/<env>/dvc.yaml): generated from the pipelines, current,
and with the deps the code really has."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from mict_pipeline import dvc_stages, sources
from mict_pipeline.pipelines import experiments

from demo_project import BIN, ROOT


@pytest.mark.parametrize("env", dvc_stages.COMMITTED)
def test_committed_stages_are_what_the_pipelines_give(env, monkeypatch):
    monkeypatch.setattr(experiments, "_session_plan", None)  # the writer sets the environment's
    writer = dvc_stages.StageWriter(ROOT, env)
    file = dvc_stages.pipeline_file(env)
    committed = yaml.safe_load((ROOT / file).read_text())
    expected = {"stages": writer.stages(), "plots": writer.plots()}
    for name in sorted(set(committed["stages"]) | set(expected["stages"])):
        assert committed["stages"].get(name) == expected["stages"].get(name), (
            f"{file} stage {name!r} differs from the pipelines: run `make dvc-stages`"
        )
    assert committed["plots"] == expected["plots"], f"{file} plots: run `make dvc-stages`"


def test_the_root_pipeline_is_conf_base_and_only_the_root_and_demo_files_are_committed():
    """`dvc repro` in the root reproduces conf/base; DVC reads every dvc.yaml it finds, so the
    environments not in use have none committed (`dvc status` speaks of the root pipeline)."""
    root = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    assert all(stage["cmd"].startswith("kedro run --env base ") and "wdir" not in stage for stage in root.values())
    assert {"download", "prepare", "benchmark", "report", "evaluate-split_3-resnet3d_18"} <= set(root)
    tracked = subprocess.run(["git", "ls-files", "dvc.yaml", "*/dvc.yaml"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert sorted(tracked.stdout.split()) == sorted(dvc_stages.pipeline_file(env) for env in dvc_stages.COMMITTED)


@pytest.mark.parametrize("env", sorted(set(dvc_stages.ENVIRONMENTS) - set(dvc_stages.COMMITTED)))
def test_an_environment_in_conf_writes_its_stages_where_dvc_runs_them(env, tmp_path, monkeypatch):
    monkeypatch.setattr(experiments, "_session_plan", None)
    written = dvc_stages.StageWriter(ROOT, env).write(tmp_path)
    assert written == tmp_path / "conf" / env / "dvc.yaml"
    stages = yaml.safe_load(written.read_text())["stages"]
    assert {stage["wdir"] for stage in stages.values()} == {"../.."} and "report" in stages
    # The synthetic stage only where the dataset is its output: archives to download, or a Kinetics CSV and clips to prepare.
    assert ("synthetic" in stages) == (env in {"rehearsal", "rehearsal_kinetics", "demo_hmdb51"})


def test_one_stage_per_split_and_experiment_with_its_own_parameters():
    stages = yaml.safe_load((ROOT / "conf/demo/dvc.yaml").read_text())["stages"]
    assert set(stages) == {
        "synthetic", "download", "prepare", "benchmark", "report",
        *(f"{kind}-split_{s}-{e}" for kind in ("train", "evaluate") for s in (1, 2, 3) for e in ("mict_resnet18", "resnet3d_18")),
    }
    train = stages["train-split_2-resnet3d_18"]
    assert train["cmd"].startswith("kedro run --env demo --pipelines=train --namespaces=split_2.resnet3d_18")
    assert {key for entry in train["params"] for keys in entry.values() for key in keys} == {"experiments.resnet3d_18", "training"}
    assert train["outs"][0] == {"data/demo/06_models/split_2/resnet3d_18": {"persist": True}}  # kept to resume
    # The benchmark reads the models' architecture and options, not their recipes.
    benchmark = {key for entry in stages["benchmark"]["params"] for keys in entry.values() for key in keys}
    assert "experiments.mict_resnet18.model" in benchmark and not any(key.endswith("recipe") for key in benchmark)
    assert "synthetic" not in yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]  # base downloads UCF-101


def test_a_training_stage_lists_every_project_module_its_nodes_load():
    """What the train nodes' module loads in a fresh interpreter is in the train stages' deps (loaded
    from its file: its package's __init__ would add the Kedro wiring; the walker also follows imports
    made inside functions, which this does not see)."""
    nodes = ROOT / "src/mict_pipeline/pipelines/train/nodes.py"
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('train_nodes', {str(nodes)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.startswith('mict_pipeline') and getattr(m, '__file__', None)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    deps = set(yaml.safe_load((ROOT / "conf/demo/dvc.yaml").read_text())["stages"]["train-split_1-mict_resnet18"]["deps"])
    for path in loaded:
        relative = (ROOT / path).resolve().relative_to(ROOT).as_posix() if path.startswith(str(ROOT)) else path
        module = relative.removeprefix("src/").removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        if sources.WIRING.match(module) or sources.wiring_only(ROOT / relative):
            continue
        assert relative in deps, f"{relative} is loaded by the train nodes but missing from the train stages' deps"
    assert "src/mict_pipeline/pipelines/train/nodes.py" in deps


def test_a_training_stage_depends_on_the_sources_its_checkpoints_record_and_not_on_the_downloader():
    """The train node records in its checkpoints the code of its module's sources (to resume only
    with that code), the very files its stage depends on; checkpoint.py reads file digests from
    io/digest.py, so a change to the downloader reruns no train or evaluate stage."""
    from mict_pipeline.pipelines.train.nodes import train_experiment

    stages = yaml.safe_load((ROOT / "conf/demo/dvc.yaml").read_text())["stages"]
    runs = [stage for name, stage in stages.items() if name.startswith(("train-", "evaluate-"))]
    assert len(runs) == 12 and not any("src/mict_pipeline/io/download.py" in stage["deps"] for stage in runs)
    recorded = sources.module_code([train_experiment.__module__])["files"]
    assert {f"src/{name}" for name in recorded} == {dep for dep in stages["train-split_1-mict_resnet18"]["deps"] if dep.startswith("src/")}


def test_a_folder_outside_the_project_is_left_to_its_disk(monkeypatch):
    """Frame stores on a scratch disk (the catalog's frames_dir at an absolute path): DVC tracks only
    what is inside the repository, so no stage writes or reads that folder, and the index tables
    that describe it still are outputs."""
    from kedro.io.catalog_config_resolver import CatalogConfigResolver

    monkeypatch.setattr(experiments, "_session_plan", None)
    writer = dvc_stages.StageWriter(ROOT, "demo")
    catalog = {**dvc_stages.configuration(ROOT, "demo")["catalog"], "frames_dir": {"type": "MemoryDataset", "data": "/scratch/frames", "metadata": {"written_by": "prepare"}}}
    writer.resolver = CatalogConfigResolver(catalog)
    stages = writer.stages()
    paths = [path for stage in stages.values() for entry in (*stage["deps"], *stage["outs"]) for path in ([entry] if isinstance(entry, str) else entry)]
    assert not any("frames" in path and not path.endswith(".csv") for path in paths), paths
    assert {"data/demo/03_primary/frame_index.csv": {"cache": False}} in stages["prepare"]["outs"]


def test_fine_tuning_stages_follow_the_stage_that_trains_their_source_checkpoint(tmp_path, monkeypatch):
    """conf/hmdb51 fine-tunes UCF-101's split-1 MiCT-ResNet-18 (conf/base, the root pipeline): DVC
    links the two files' stages, so `make repro KEDRO_ENV=hmdb51` trains the source first and
    fine-tunes again when it changes. (In a copy: conf/hmdb51/dvc.yaml is written when first run.)"""
    monkeypatch.setattr(experiments, "_session_plan", None)
    for name in ("dvc.yaml", ".dvc/config"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    hmdb51 = yaml.safe_load(dvc_stages.StageWriter(ROOT, "hmdb51").write(tmp_path).read_text())["stages"]
    source = "data/06_models/split_1/mict_resnet18/best.pt"
    finetuning = sorted(name for name, stage in hmdb51.items() if source in stage["deps"])
    assert finetuning == [f"train-split_{split}-mict_resnet18_from_ucf101" for split in (1, 2, 3)]
    dag = subprocess.run(
        [str(BIN / "dvc"), "dag", "--md", "conf/hmdb51/dvc.yaml:train-split_2-mict_resnet18_from_ucf101"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    ).stdout
    nodes = dict(re.findall(r'(node\d+)\["([^"]+)"\]', dag))
    edges = {(nodes[a], nodes[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", dag)}
    assert ("train-split_1-mict_resnet18", "conf/hmdb51/dvc.yaml:train-split_2-mict_resnet18_from_ucf101") in edges


def _leaves(params: dict, prefix: str = ""):
    for key, value in params.items():
        if isinstance(value, dict) and value:
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value


@pytest.mark.parametrize("path", sorted(ROOT.glob("conf/*/parameters*.yml")), ids=lambda p: p.relative_to(ROOT / "conf").as_posix())
def test_dvc_exp_run_set_param_rewrites_nothing_but_the_value_it_sets(path, tmp_path):
    """`dvc exp run -S file:key=value` rewrites the whole file with DVC's YAML writer (its own
    `apply_overrides`): every list and null is written anew, in block style, and a comment that
    follows a list is dropped with it. The parameter files are written as DVC writes them, with no
    comment after a list, so setting any key to its own value leaves the file as it was, byte for
    byte: a user's `-S` changes the value and nothing else, every comment kept."""
    from dvc.utils.hydra import apply_overrides

    text = path.read_text()
    copy = tmp_path / path.name
    for key, value in _leaves(yaml.safe_load(text) or {}):
        copy.write_text(text)
        apply_overrides(str(copy), [f"{key}='{value}'" if isinstance(value, str) else f"{key}={json.dumps(value)}"])
        assert copy.read_text() == text, f"{path.relative_to(ROOT)}: `dvc exp run -S {key}=...` rewrites more than {key}"


def test_an_unknown_environment_is_one_line_before_any_file_is_written(capsys):
    """`make repro KEDRO_ENV=<a typo>` writes the environment's stages first: a typo ends it there."""
    assert dvc_stages.main(["dmeo"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("Error: --env dmeo: no environment 'dmeo'") and "new-env dmeo" in err[0]
    assert not (ROOT / "conf" / "dmeo").exists()
