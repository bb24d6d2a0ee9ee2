"""The DVC remote workflow between machines (docs/dvc.md, "Moving data and weights between
machines"), on the tiny demo project (tests/conftest.py: reproduced once per session).

A remote that is a folder stands for a shared filesystem or an object store. The machine that made
the frame stores and checkpoints pushes them; another (a `git clone`: no data, no cache) pulls only
the prepare stage's outputs and one checkpoint, byte for byte, and DVC calls those stages up to date
and the checkpoints it did not pull missing; a training stage rerun there, without rerunning what it
did not pull, is pushed and pulled back on the first machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from demo_project import DemoRepo, merge

DEMO = "conf/demo/dvc.yaml"
TRAINING = f"{DEMO}:train-split_1-mict_resnet18"
CHECKPOINT = "data/demo/06_models/split_1/mict_resnet18"  # the training stage's output in DVC's cache
PREPARED = ("data/demo/03_primary/frames", "data/demo/01_raw/unpacked")  # prepare's outputs in DVC's cache


def _files(folder: Path) -> dict[str, bytes]:
    return {str(path.relative_to(folder)): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def _on_remote(repo: DemoRepo, remote: Path) -> None:
    """The machine's own remote setting (.dvc/config.local, git-ignored): a folder's path differs between machines."""
    repo.run("dvc", "remote", "add", "--local", "-d", "cluster", str(remote))


def test_a_second_machine_pulls_what_it_needs_and_its_rerun_comes_back(shared_demo, tmp_path):
    first = shared_demo.copy(tmp_path / "first")
    first.run("git", "add", "-A")
    first.run("git", "commit", "-q", "-m", "reproduced")  # the lock and small outputs, as a user commits them
    remote = tmp_path / "remote"
    _on_remote(first, remote)
    first.run("dvc", "push", DEMO)
    assert first.run("git", "status", "--porcelain").stdout == ""  # no machine's path is committed

    second = DemoRepo(tmp_path / "second")
    first.run("git", "clone", "-q", ".", str(second.path))
    _on_remote(second, remote)
    # The checkpoint by its stage: a path after a stage target would be skipped (treeverse/dvc#11075).
    second.run("dvc", "pull", f"{DEMO}:prepare", TRAINING)
    for relpath in (*PREPARED, CHECKPOINT):
        assert _files(second.path / relpath) == _files(first.path / relpath), relpath
    status = json.loads(second.run("dvc", "status", "--json", DEMO).stdout)
    pulled = {"prepare", "benchmark", "train-split_1-mict_resnet18", "evaluate-split_1-mict_resnet18"}
    assert not pulled & {name.rsplit(":", 1)[-1] for name in status}, status
    not_pulled = "data/demo/06_models/split_2/mict_resnet18"
    assert status[f"{DEMO}:train-split_2-mict_resnet18"] == [{"changed outs": {not_pulled: "not in cache"}}]

    # Another seed for one experiment: its split-1 training reruns on the second machine alone;
    # --allow-missing skips the stages before it whose outputs were not pulled (download, ...).
    parameters = second.path / "conf/demo/parameters.yml"
    reseeded = {"experiments": {"mict_resnet18": {"recipe": {"seed": 1}}}}
    parameters.write_text(yaml.safe_dump(merge(yaml.safe_load(parameters.read_text()), reseeded), sort_keys=False))
    output = second.run("dvc", "repro", "--allow-missing", TRAINING).stdout
    assert output.count("Running stage") == 1 and f"Running stage '{TRAINING}'" in output, output
    retrained = _files(second.path / CHECKPOINT)
    assert retrained != _files(first.path / CHECKPOINT)
    second.run("dvc", "push", TRAINING)
    second.run("git", "add", "-A")
    second.run("git", "commit", "-q", "-m", "split 1 of mict_resnet18 reseeded")

    first.run("git", "pull", "-q", "--ff-only", str(second.path), "HEAD")
    first.run("dvc", "pull", TRAINING)
    assert _files(first.path / CHECKPOINT) == retrained
