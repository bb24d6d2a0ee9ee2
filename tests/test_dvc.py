"""`dvc repro` end to end on a tiny demo environment, in a throwaway git repository.

One test, in order: a first `dvc repro` runs every stage; a second runs none; `dvc exp run -S` with a
training parameter reruns training, evaluation, the benchmark and the report but not the data
stages; `dvc metrics show` and `dvc plots show` read the results; `dvc push` and `dvc pull` round-trip
a model through the default local remote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SPLITS = ("1", "2", "3")

# Deep-merged into the copies of conf/ files: a 3-class dataset, tiny frames, one epoch.
TINY = {
    "base/parameters_synthetic.yml": {
        "synthetic": {"classes": ["MoveUp", "ZoomIn", "Twist"], "groups": 15, "clips_per_group": [1, 1], "frames": [16, 24], "short_fraction": 0.0}
    },
    "demo/parameters.yml": {
        "num_classes": 3,
        "experiments": {n: {"recipe": {"epochs": 1, "batch_size": 4, "lr_milestones": []}} for n in ("mict_resnet18", "r3d_18")},
    },
    "demo/parameters_download.yml": {"download": {"archives": {"videos": {"sha256": None}, "splits": {"sha256": None}}}},
    "demo/parameters_prepare.yml": {"prepare": {"frames": {"width": 40, "height": 32, "workers": 1}}},
    "demo/parameters_train.yml": {
        "training": {"defaults": {"workers": 0, "eval_batch_size": 8}, "clips": {"clip_len": 8, "crop_sizes": [24, 32], "output_size": 16, "video_frames": 16}}
    },
    "demo/parameters_benchmark.yml": {"benchmark": {"frames": 8, "size": 32, "warmup": 1, "iters": 1, "loader_clips": 4}},
}


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@pytest.fixture
def dvc_repo(tmp_path):
    repo = tmp_path / "project"
    repo.mkdir()
    for name in ("conf", "src", ".dvc"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "tmp", "cache"))
    shutil.rmtree(repo / "conf" / "local")
    (repo / "conf" / "local").mkdir()
    (repo / "conf" / "local" / ".gitkeep").touch()
    for name in ("pyproject.toml", ".telemetry", ".gitignore", ".dvcignore", "dvc.yaml"):
        shutil.copy(ROOT / name, repo / name)
    # The data layer folders as committed (placeholders only): a DVC out must not be tracked by git.
    tracked = subprocess.run(["git", "ls-files", "data"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in tracked:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, repo / name)
    for relpath, extra in TINY.items():
        path = repo / "conf" / relpath
        path.write_text(yaml.safe_dump(_merge(yaml.safe_load(path.read_text()), extra), sort_keys=False))
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "KEDRO_ENV": "demo",
        "KEDRO_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "GIT_AUTHOR_NAME": "test",
        "GIT_AUTHOR_EMAIL": "test@example.com",
        "GIT_COMMITTER_NAME": "test",
        "GIT_COMMITTER_EMAIL": "test@example.com",
    }

    def run(*args: str) -> str:
        done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout + done.stderr

    run("git", "init", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "tiny demo project")
    run.path = repo
    return run


def _stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def test_dvc_repro_reruns_only_what_changed(dvc_repo):
    repo = dvc_repo.path
    per_split = {f"{stage}@{split}" for stage in ("train", "evaluate") for split in SPLITS}
    everything = {"synthetic", "download", "prepare", "benchmark", "report"} | per_split
    assert _stages_run(dvc_repo("dvc", "repro")) == everything

    metrics = json.loads((repo / "data/08_reporting/cross_split_metrics.json").read_text())
    assert set(metrics) == {"mict_resnet18", "r3d_18"}
    assert set(metrics["mict_resnet18"]["clip_top1"]["per_split"]) == set(SPLITS)
    assert (repo / "data/06_models/split_2/r3d_18/best.pt").is_file()

    # Reports that DVC tracks with cache: false are committable (not git-ignored); data is not.
    status = dvc_repo("git", "status", "--porcelain", "--untracked-files=all")
    assert "dvc.lock" in status and "data/08_reporting/cross_split_metrics.json" in status
    assert "data/08_reporting/training/split_1/mict_resnet18/plots/metrics/val_top1.tsv" in status
    assert "best.pt" not in status and "frames" not in status
    dvc_repo("git", "add", "-A")
    dvc_repo("git", "commit", "-q", "-m", "reproduced")

    assert _stages_run(dvc_repo("dvc", "repro")) == set()

    changed = _stages_run(dvc_repo("dvc", "exp", "run", "-S", "conf/demo/parameters_train.yml:training.clips.output_size=24"))
    assert changed == per_split | {"benchmark", "report"}

    shown = dvc_repo("dvc", "metrics", "show", "--json")
    assert "cross_split_metrics.json" in shown and "clip_top1" in shown
    dvc_repo("dvc", "plots", "show", "--out", "plots_html")
    page = (repo / "plots_html" / "index.html").read_text()
    assert "val_top1" in page and "confusion_matrix.png" in page

    dvc_repo("dvc", "push")
    model = repo / "data/06_models/split_1/mict_resnet18/best.pt"
    content = model.read_bytes()
    shutil.rmtree(repo / "data/06_models/split_1")
    shutil.rmtree(repo / ".dvc" / "cache")
    dvc_repo("dvc", "pull")
    assert model.read_bytes() == content
