"""The reproduced tiny demo project that the end-to-end tests share (prepared and trained once).

``demo_repo`` copies the project into a throwaway git repository with the tiny demo environment of
:mod:`demo_project` and runs ``dvc repro`` once: every stage as a ``kedro run`` through the command
line. The DVC, pipeline, predict and notebook tests then read its outputs instead of preparing and
training again; a test that changes the project works on :meth:`DemoRepo.copy`. Also the fixtures
that tests in several folders share.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from demo_project import DemoRepo, copy_project


@pytest.fixture
def randomize_batchnorm():
    """Give BatchNorm non-trivial statistics so eval-mode outputs depend on every tensor."""

    def randomize(model: torch.nn.Module, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)

    return randomize


@pytest.hookimpl(wrapper=True)  # around pytest-xdist's own hook, which reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]):
    # Under pytest-xdist (--dist loadgroup), every test of the shared demo project runs on one worker,
    # which reproduces it once.
    for item in items:
        if "demo_repo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("demo_repo"))
    return (yield)


@pytest.fixture(scope="session")
def demo_repo(tmp_path_factory: pytest.TempPathFactory) -> DemoRepo:
    path = tmp_path_factory.mktemp("demo") / "project"
    repo = DemoRepo(copy_project(path))
    repo.run("git", "init", "-q")
    repo.run("git", "add", "-A")
    repo.run("git", "commit", "-q", "-m", "tiny demo project")
    repo.repro_output = repo.run("dvc", "repro", "conf/demo/dvc.yaml").stdout
    yield repo
    shutil.rmtree(path.parent, ignore_errors=True)
