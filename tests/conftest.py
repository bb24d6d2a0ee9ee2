"""The reproduced tiny demo project that the end-to-end tests share (prepared and trained once).

``shared_demo`` copies the project into a throwaway git repository with the tiny demo environment
of :mod:`demo_project` and runs ``dvc repro`` once: every stage as a ``kedro run`` through the
command line. It is made once per test run, by the first pytest-xdist worker that needs it (the
others wait for it), so the DVC, pipeline, predict and notebook tests on every worker read its
outputs instead of preparing and training again; a test that changes the project works on
:meth:`DemoRepo.copy`. ``demo_repo`` is the same project for the tests that run commands in it
(DVC, Kedro, git): they all run on one worker, since two DVC commands in one repository at once
refuse each other. Also the fixtures that tests in several folders share.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from demo_project import DemoRepo, copy_project
from mict_pipeline.models.checks import randomize_batchnorm as randomize_batchnorm_statistics

# The shared project's folder, in the run's base folder (every worker's base is inside it), which
# pytest removes after a passing run (tmp_path_retention_policy = "failed").
SHARED_DEMO = "shared_demo"


@pytest.fixture
def randomize_batchnorm():
    """Give BatchNorm non-trivial statistics so eval-mode outputs depend on every tensor."""
    return randomize_batchnorm_statistics


def _uses_demo(item: pytest.Item) -> int:
    """0: the tests that run commands in the shared project (first: they reproduce it while the
    other workers run the unit tests); 2: those that read or copy it (last: by then it is made);
    1: the others."""
    names = getattr(item, "fixturenames", ())
    return 0 if "demo_repo" in names else 2 if "shared_demo" in names else 1


@pytest.hookimpl(wrapper=True)  # around pytest-xdist's own hook, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]):
    # Under pytest-xdist (--dist loadgroup) the tests that run commands in the shared demo project
    # run on one worker, one after another; the tests that read or copy it run on any.
    items.sort(key=_uses_demo)
    for item in items:
        if _uses_demo(item) == 0:
            item.add_marker(pytest.mark.xdist_group("demo_repo"))
    return (yield)


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of this test run that every pytest-xdist worker sees (each worker's base folder
    is inside it), or the run's base folder without xdist."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepo:
    """The reproduced tiny demo: read it or copy it (:meth:`DemoRepo.copy`), never change it."""
    folder = _run_folder(tmp_path_factory) / SHARED_DEMO
    folder.mkdir(exist_ok=True)
    repo, output = DemoRepo(folder / "project"), folder / "repro_output.txt"
    with open(folder / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker makes it, the others wait for it
        if not output.is_file():
            shutil.rmtree(repo.path, ignore_errors=True)  # left by a worker that failed to make it
            copy_project(repo.path)
            repo.run("git", "init", "-q")
            repo.run("git", "add", "-A")
            repo.run("git", "commit", "-q", "-m", "tiny demo project")
            output.write_text(repo.run("dvc", "repro", "conf/demo/dvc.yaml").stdout)
    repo.repro_output = output.read_text()
    return repo


@pytest.fixture(scope="session")
def demo_repo(shared_demo: DemoRepo) -> DemoRepo:
    """The shared demo for a test that runs commands in it (they all run on one worker)."""
    return shared_demo

