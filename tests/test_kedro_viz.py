"""`kedro viz build` writes a static site with the nodes a session of its environment runs, and
headless Chromium renders it."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from PIL import Image

from mict_pipeline.pipelines import experiments

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# The data path as the README shows it: the prepare pipeline, its per-split namespaces collapsed.
EXPECTED = ("locate_dataset", "extract_video_frames", "check_data_quality", "frames_dir", "split_1")
# What kedro-viz remembers in the browser: the onboarding tour dismissed (it would cover a quarter of
# the picture), sidebar and minimap closed so the graph gets the width and its names read.
VIEW = {"showFeatureHints": False, "visible": {"sidebar": False, "miniMap": False}}
VIEW_SCRIPT = f"<script>localStorage.setItem('KedroViz', '{json.dumps(VIEW)}');</script>"

@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(f"no headless Chromium found (looked for {', '.join(BROWSERS)}): `apt-get install chromium` runs this test")
    return found


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1100,1300",
             "--force-device-scale-factor=2", "--virtual-time-budget=15000")
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def _graph_drawn(png: Path) -> bool:
    """Node labels (light text) cover the graph area; a screenshot taken while the layout still
    runs in its web worker shows only the spinner."""
    pixels = np.asarray(Image.open(png).convert("L"))
    graph = pixels[pixels.shape[0] // 20 :, pixels.shape[1] // 5 :]  # below the version label, right of the toolbar
    return (graph > 180).mean() > 0.001


def _screenshot(browser: str, url: str, path: Path, attempts: int = 3) -> bool:
    """Headless Chromium's virtual time does not always wait for kedro-viz's layout worker: retry."""
    for _ in range(attempts):
        _chromium(browser, f"--screenshot={path}", url)
        if path.is_file() and _graph_drawn(path):
            return True
    return False


@pytest.fixture(scope="module")
def viz_site(tmp_path_factory) -> Path:
    """`KEDRO_ENV=demo kedro viz build` (it has no --env) of a copy of the project: the static site."""
    project = tmp_path_factory.mktemp("viz") / "project"
    shutil.copytree(ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    (project / "src").mkdir()  # the package is installed; Kedro only checks the folder
    for name in ("pyproject.toml", ".telemetry"):
        shutil.copy(ROOT / name, project / name)
    env = {**os.environ, "KEDRO_ENV": "demo", "KEDRO_DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1"}
    kedro = Path(sys.executable).parent / "kedro"
    built = subprocess.run([kedro, "viz", "build"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    site = project / "build"
    assert (site / "index.html").is_file() and (site / "api" / "main").is_file()
    yield site
    shutil.rmtree(project.parent, ignore_errors=True)


def test_viz_build_shows_the_pipelines_a_session_of_the_environment_runs(viz_site, monkeypatch):
    tasks = [n for n in json.loads((viz_site / "api" / "main").read_text())["nodes"] if n["type"] == "task"]
    shown = {n["full_name"] for n in tasks if "__default__" in n["pipelines"]}
    project = viz_site.parent
    # The session hands its experiments to the registry; put back what was there before, at teardown.
    monkeypatch.setattr(experiments, "_session_plan", None)
    bootstrap_project(project)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    with KedroSession.create(project_path=project, env="demo") as session:
        session.load_context()
        assert shown == {node.name for node in pipelines["__default__"].nodes}
    assert "split_2.resnet3d_18.evaluate" in shown


def test_static_viz_build_renders_the_dag(browser, viz_site, tmp_path):
    """The prepare pipeline rendered at a zoom where its names read, nothing over it.
    `make dag-image` writes the screenshot to docs/images/kedro_viz_dag.png (MICT_DAG_PNG)."""
    index = viz_site / "index.html"
    index.write_text(index.read_text().replace("<head>", "<head>" + VIEW_SCRIPT, 1))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=viz_site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/?pid=prepare"
    try:
        dom = _chromium(browser, "--dump-dom", url).stdout
        screenshot = tmp_path / "kedro_viz_dag.png"
        drawn = _screenshot(browser, url, screenshot)
    finally:
        server.shutdown()
    rendered = {name for name in EXPECTED if f">{name}<" in dom}
    assert rendered == set(EXPECTED), f"nodes missing from the rendered DAG: {sorted(set(EXPECTED) - rendered)}"
    assert 'class="pipeline-node__text"' in dom  # drawn by the app, not just listed
    assert "Workflow run status" not in dom  # the tour is dismissed
    assert drawn, f"the screenshot shows no graph: {screenshot}"
    if os.environ.get("MICT_DAG_PNG"):
        shutil.copy(screenshot, os.environ["MICT_DAG_PNG"])
