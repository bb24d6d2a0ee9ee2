"""`dvc repro` end to end on the tiny demo project (tests/conftest.py: reproduced once for the session).

The first `dvc repro` ran every stage; the outputs are committable and a second `dvc repro` runs
none; a changed training parameter marks the training stages and the benchmark changed, not the
data stages; `dvc exp run -S` sets a parameter and reruns what reads it; `dvc metrics show` and
`dvc plots show` read the results; `dvc push` and `dvc pull` round-trip a model through the default
local remote.
"""

from __future__ import annotations

import json
import re
import shutil

import yaml

from demo_project import EXPERIMENTS, SPLITS

PER_SPLIT = {f"{stage}@{split}" for stage in ("train", "evaluate") for split in SPLITS}
EVERY_STAGE = {"synthetic", "download", "prepare", "benchmark", "report"} | PER_SPLIT


def _stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def test_first_repro_runs_every_stage_and_its_outputs_are_committable(demo_repo):
    assert _stages_run(demo_repo.repro_output) == EVERY_STAGE
    metrics = json.loads((demo_repo.path / "data/08_reporting/cross_split_metrics.json").read_text())
    assert set(metrics) == set(EXPERIMENTS)
    assert set(metrics["mict_resnet18"]["clip_top1"]["per_split"]) == {str(s) for s in SPLITS}
    assert demo_repo.model("resnet3d_18", split=2).is_file()

    # Reports that DVC tracks with cache: false are committable (not git-ignored); data is not.
    status = demo_repo.run("git", "status", "--porcelain", "--untracked-files=all").stdout
    assert "dvc.lock" in status and "data/08_reporting/cross_split_metrics.json" in status
    assert "data/08_reporting/training/split_1/mict_resnet18/plots/metrics/val_top1.tsv" in status
    assert "best.pt" not in status and "frames" not in status


def test_second_repro_runs_nothing(demo_repo):
    assert _stages_run(demo_repo.run("dvc", "repro").stdout) == set()
    assert "up to date" in demo_repo.run("dvc", "status").stdout


def test_a_training_parameter_changes_training_not_data(demo_repo, tmp_path):
    repo = demo_repo.copy(tmp_path / "project")
    path = repo.path / "conf/demo/parameters_train.yml"
    params = yaml.safe_load(path.read_text())
    params["training"]["clips"]["output_size"] = 24
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    # Stages whose own inputs changed; evaluation and the report follow from the new models.
    assert set(json.loads(repo.run("dvc", "status", "--json").stdout)) == {"train@1", "train@2", "train@3", "benchmark"}


def test_exp_run_sets_a_parameter_and_reruns_what_reads_it(demo_repo, tmp_path):
    repo = demo_repo.copy(tmp_path / "project")
    repo.run("git", "add", "-A")
    repo.run("git", "commit", "-q", "-m", "reproduced")
    changed = _stages_run(repo.run("dvc", "exp", "run", "-S", "conf/demo/parameters_benchmark.yml:benchmark.iters=2").stdout)
    assert changed == {"benchmark", "report"}
    assert json.loads((repo.path / "data/08_reporting/benchmark.json").read_text())["models"]


def test_metrics_and_plots_show(demo_repo, tmp_path):
    shown = demo_repo.run("dvc", "metrics", "show", "--json").stdout
    assert "cross_split_metrics.json" in shown and "clip_top1" in shown
    demo_repo.run("dvc", "plots", "show", "--out", str(tmp_path / "plots_html"))
    page = (tmp_path / "plots_html" / "index.html").read_text()
    assert "val_top1" in page and "confusion_matrix.png" in page


def test_push_and_pull_round_trip_a_model(demo_repo, tmp_path):
    repo = demo_repo.copy(tmp_path / "project")  # the default remote is ../mict-pipeline-dvc-remote: in tmp_path
    repo.run("dvc", "push")
    model = repo.model("mict_resnet18")
    content = model.read_bytes()
    shutil.rmtree(model.parent.parent)
    shutil.rmtree(repo.path / ".dvc" / "cache")
    repo.run("dvc", "pull")
    assert model.read_bytes() == content
