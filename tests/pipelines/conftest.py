"""A throwaway copy of the Kedro project (conf + metadata) for running pipelines in tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

ROOT = Path(__file__).resolve().parents[2]

# A small synthetic dataset: 3 classes, 15 groups, 1 clip each, short videos.
SMALL_SYNTHETIC = {
    "classes": ["MoveUp", "ZoomIn", "Twist"],
    "groups": 15,
    "clips_per_group": [1, 1],
    "frames": [16, 24],
    "short_frames": [8, 12],
    "short_fraction": 0.1,
}


@pytest.fixture
def kedro_project(tmp_path, monkeypatch):
    """Run pipelines of a copy of this project in ``tmp_path``: ``run(pipeline, params=..., env=...)``."""
    shutil.copytree(ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # the package itself is installed; Kedro only checks the folder
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(ROOT / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)  # catalog and parameter paths are relative to the project root
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "1")
    bootstrap_project(tmp_path)

    def run(pipeline: str, params: dict | None = None, env: str = "demo", **kwargs):
        monkeypatch.setenv("KEDRO_ENV", env)  # the registry builds per-experiment pipelines for it
        bootstrap_project(tmp_path)  # forget pipelines registered for another environment
        with KedroSession.create(project_path=tmp_path, env=env, runtime_params=params or {}) as session:
            return session.run(pipeline_names=[pipeline], **kwargs)

    run.path = tmp_path
    return run
