"""`dvc repro conf/demo/dvc.yaml` end to end on the tiny demo project (tests/conftest.py: reproduced
once per session).

The first repro ran every stage and its outputs are committable; a second runs none; another
environment has its own stages and outputs (the real download still has to run); one experiment's
changed recipe reruns that experiment's training alone; `dvc exp run -S` sets a parameter and reruns
what reads it; training killed mid-run resumes under `dvc repro` and ends with the bytes of an
uninterrupted run; `dvc metrics show` is readable, `dvc plots show` overlays the runs; `dvc push` and
`dvc pull` round-trip a model through the default local remote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from demo_project import EXPERIMENTS, SPLITS, project_env

DEMO = "conf/demo/dvc.yaml"
PER_RUN = {f"{kind}-split_{split}-{experiment}" for kind in ("train", "evaluate") for split in SPLITS for experiment in EXPERIMENTS}
EVERY_STAGE = {"synthetic", "download", "prepare", "benchmark", "report"} | PER_RUN


def _stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '(?:[^':]+:)?([^']+)'", output))


def _changed(repo) -> set[str]:
    """Stages of the demo whose own inputs changed, by name."""
    return {name.rsplit(":", 1)[-1] for name in json.loads(repo.run("dvc", "status", "--json", DEMO).stdout)}


def _set(repo, relpath: str, *keys_and_value) -> None:
    """Set one key of a parameter file, as a user edits it."""
    path = repo.path / relpath
    params = yaml.safe_load(path.read_text())
    *keys, last, value = keys_and_value
    node = params
    for key in keys:
        node = node.setdefault(key, {})
    node[last] = value
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_first_repro_runs_every_stage_and_its_outputs_are_committable(demo_repo):
    assert _stages_run(demo_repo.repro_output) == EVERY_STAGE
    metrics = json.loads((demo_repo.data / "08_reporting/cross_split_metrics.json").read_text())
    assert set(metrics) == set(EXPERIMENTS)
    assert set(metrics["mict_resnet18"]["clip_top1"]["per_split"]) == {str(s) for s in SPLITS}
    assert demo_repo.model("resnet3d_18", split=2).is_file()

    # The lock, reports, metrics and training logs are committable; the large outputs are not.
    status = demo_repo.run("git", "status", "--porcelain", "--untracked-files=all").stdout
    assert "conf/demo/dvc.lock" in status and "data/demo/08_reporting/metrics/resnet3d_18.json" in status
    assert "data/demo/08_reporting/training/split_1/mict_resnet18/plots/metrics/val_top1.tsv" in status
    assert "best.pt" not in status and ".frames" not in status and "UCF101.zip" not in status


def test_second_repro_runs_nothing(demo_repo):
    assert _stages_run(demo_repo.run("dvc", "repro", DEMO).stdout) == set()
    assert _changed(demo_repo) == set()


def test_the_root_pipeline_is_conf_base_with_its_own_stages_and_outputs(demo_repo):
    """`dvc repro` and `dvc status` in the root are about conf/base (the paper's experiments on
    UCF-101): after the demo they still have everything to do, starting with the download, and
    `dvc status` names no other environment's stage (the demo's are up to date)."""
    # --force: without it DVC 3.67 stops its dry run at the first stage whose inputs are not made yet
    # (it hashes them for the run cache; treeverse/dvc#9818), here prepare's.
    dry = demo_repo.run("dvc", "repro", "--dry", "--force").stdout
    assert "Running stage 'download'" in dry and "kedro run --env base --pipelines=download" in dry
    assert _stages_run(dry) == set(yaml.safe_load((demo_repo.path / "dvc.yaml").read_text())["stages"])
    assert "--env demo" not in dry
    status = json.loads(demo_repo.run("dvc", "status", "--json").stdout)
    assert "download" in status and "evaluate-split_2-mict_resnet18" in status
    assert not [name for name in status if ":" in name], "dvc status in the root names another file's stages"
    assert "data/01_raw/archives" in (demo_repo.path / "dvc.yaml").read_text()


def test_one_experiments_recipe_reruns_that_experiment_alone(shared_demo, tmp_path):
    repo = shared_demo.copy(tmp_path / "project")
    _set(repo, "conf/demo/parameters.yml", "experiments", "resnet3d_18", "recipe", "epochs", 2)
    # Stages whose own inputs changed; its evaluation and the report follow from the new models.
    assert _changed(repo) == {f"train-split_{split}-resnet3d_18" for split in SPLITS}


def test_exp_run_sets_a_parameter_and_reruns_what_reads_it(shared_demo, tmp_path):
    repo = shared_demo.copy(tmp_path / "project")
    repo.run("git", "add", "-A")
    repo.run("git", "commit", "-q", "-m", "reproduced")
    before = (repo.path / "conf/demo/parameters_benchmark.yml").read_text().splitlines()
    changed = _stages_run(repo.run("dvc", "exp", "run", DEMO, "-S", "conf/demo/parameters_benchmark.yml:benchmark.iters=2").stdout)
    assert changed == {"benchmark", "report"}
    assert json.loads((repo.data / "08_reporting/benchmark.json").read_text())["models"]
    # DVC rewrote the file it set: that line alone changed (tests/test_dvc_stages.py: every file, every key).
    after = (repo.path / "conf/demo/parameters_benchmark.yml").read_text().splitlines()
    assert [b for a, b in zip(before, after) if a != b] == ["  iters: 2"] and len(after) == len(before)
    # The documented way to read experiments at a terminal's width (docs/dvc.md): what differs.
    header = repo.run("dvc", "exp", "show", "--only-changed", "--csv").stdout.splitlines()[0].split(",")
    assert "conf/demo/parameters_benchmark.yml:benchmark.iters" in header and len(header) <= 12, header


def test_training_killed_under_dvc_resumes_to_the_bytes_of_an_uninterrupted_run(shared_demo, tmp_path):
    stage = "train-split_1-resnet3d_18"
    runs = {name: shared_demo.copy(tmp_path / name) for name in ("straight", "killed")}
    for repo in runs.values():
        _set(repo, "conf/demo/parameters.yml", "experiments", "resnet3d_18", "recipe", "epochs", 3)
    runs["straight"].run("dvc", "repro", "-s", f"{DEMO}:{stage}")

    killed = runs["killed"]
    last = killed.model("resnet3d_18", 1, "last.pt")
    mtime = last.stat().st_mtime_ns
    process = subprocess.Popen(
        ["dvc", "repro", "-s", f"{DEMO}:{stage}"], cwd=killed.path, env=project_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not (last.is_file() and last.stat().st_mtime_ns != mtime):  # the new run wrote its first epoch
        assert process.poll() is None and time.monotonic() < deadline, "the stage ended before it could be killed"
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # dvc and the kedro run it started
    process.wait()
    killed.run("dvc", "repro", "-s", f"{DEMO}:{stage}")  # the run folder persisted: training resumes

    for name in ("best.pt", "last.pt"):
        assert killed.model("resnet3d_18", 1, name).read_bytes() == runs["straight"].model("resnet3d_18", 1, name).read_bytes(), name
    assert "evaluate-split_1-resnet3d_18" in _changed(killed)  # evaluates the new model next


def test_metrics_and_overlaid_plots(demo_repo, tmp_path):
    # A row per experiment (a file each; base's not made yet), a column per metric.
    shown = demo_repo.run("dvc", "metrics", "show").stdout.splitlines()
    assert shown[0].split() == ["Path", "clip_top1", "clip_top5", "video_top1", "video_top5"]
    rows = {line.split()[0]: line.split()[1:] for line in shown[1:]}
    assert {f"data/demo/08_reporting/metrics/{e}.json" for e in EXPERIMENTS} <= set(rows)
    demo = json.loads((demo_repo.data / "08_reporting/metrics/resnet3d_18.json").read_text())
    shown_values = [float(value) for value in rows["data/demo/08_reporting/metrics/resnet3d_18.json"]]
    assert shown_values == pytest.approx([demo[m] for m in ("clip_top1", "clip_top5", "video_top1", "video_top5")], abs=1e-5)
    demo_repo.run("dvc", "plots", "show", "--out", str(tmp_path / "plots_html"))
    page = (tmp_path / "plots_html" / "index.html").read_text()
    # One chart per metric with every experiment and split in it; the report's PNGs for offline reading.
    assert "validation clip top-1, every experiment and split" in page
    assert "split_1/mict_resnet18" in page and "split_3/resnet3d_18" in page
    assert "training_curves/val_top1.png" in page and "confusion_matrices/split_2.mict_resnet18.png" in page


def test_push_and_pull_round_trip_a_model(shared_demo, tmp_path):
    repo = shared_demo.copy(tmp_path / "project")  # the default remote is ../mict-pipeline-dvc-remote: in tmp_path
    repo.run("dvc", "push", DEMO)
    model = repo.model("mict_resnet18")
    content = model.read_bytes()
    shutil.rmtree(model.parent)
    shutil.rmtree(repo.path / ".dvc" / "cache")
    repo.run("dvc", "pull", DEMO)
    assert model.read_bytes() == content
