"""conf/rehearsal on a slice of the UCF-101 replica (3 classes, all three splits): the same
stages as `make rehearsal` (synthetic, download, prepare), the slice's counts asserted, and a
prepare killed part-way that resumes to the index tables of an uninterrupted one."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time

from mict_pipeline.datasets.ucf101 import CLASS_NAMES, CLIPS_PER_GROUP, SPLITS, split_test_groups
from mict_pipeline.io.frame_store import store_info

from demo_project import copy_project, project_env

SLICE = ["Archery", "HandstandPushups", "YoYo"]


def _counts() -> dict:
    """The slice's official counts: its classes' clips in the test groups of each split, and the rest."""
    clips = {name: [int(c) for c in CLIPS_PER_GROUP[CLASS_NAMES.index(name)]] for name in SLICE}
    total = sum(map(sum, clips.values()))
    per_split = {}
    for split in SPLITS:
        test = sum(counts[g - 1] for counts in clips.values() for g in split_test_groups(split))
        per_split[split] = {"train": total - test, "test": test}
    return {"classes": len(SLICE), "videos": total, "per_split": per_split}


SLICE_OVERLAY = {
    "rehearsal/parameters_synthetic.yml": {"synthetic": {"ucf101": {"classes": SLICE, "length_scale": 0.05}}},
    "rehearsal/parameters_datasets.yml": {"datasets": {"ucf101": {"expected_counts": _counts()}}},
    "rehearsal/parameters_prepare.yml": {"prepare": {"workers": 1}},
}
OUTPUTS = ("03_primary/frame_index.csv", *(f"05_model_input/split_{s}/{t}.csv" for s in SPLITS for t in ("train", "test", "excluded")))


def _kedro(project, *args: str) -> subprocess.Popen:
    return subprocess.Popen(["kedro", "run", "--env", "rehearsal", *args], cwd=project, env=project_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _run(project, *args: str) -> None:
    process = _kedro(project, *args)
    _, errors = process.communicate()
    assert process.returncode == 0, errors


def test_a_replica_slice_prepares_with_its_counts_and_a_killed_prepare_resumes(tmp_path):
    project = copy_project(tmp_path / "project", SLICE_OVERLAY)
    data = project / "data" / "rehearsal"
    _run(project, "--pipelines=synthetic")
    _run(project, "--pipelines=download")

    # Killed while extracting frame stores (the lists are read and the counts asserted by then).
    stores = data / "03_primary" / "frames"
    process = _kedro(project, "--pipelines=prepare")
    deadline = time.monotonic() + 120
    while len(list(stores.glob("*/*.frames"))) < 40:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "prepare did not get under way"
        time.sleep(0.01)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished = {store: store.stat().st_mtime_ns for store in stores.glob("*/*.frames")}
    assert 40 <= len(finished) < _counts()["videos"]  # killed part-way
    assert all(store_info(store).n_frames > 0 for store in finished)  # no store half-written
    _run(project, "--pipelines=prepare")
    assert {store: store.stat().st_mtime_ns for store in finished} == finished  # finished ones skipped
    resumed = {name: (data / name).read_bytes() for name in OUTPUTS}

    shutil.rmtree(stores)  # the same prepare, never interrupted
    _run(project, "--pipelines=prepare")
    assert {name: (data / name).read_bytes() for name in OUTPUTS} == resumed
    assert sorted(p.name for p in stores.rglob("*") if p.name.endswith(".tmp")) == []
    quality = (data / "08_reporting" / "data_quality.json").read_text()
    assert '"classes": 3' in quality and f'"test": {_counts()["per_split"][1]["test"]}' in quality
