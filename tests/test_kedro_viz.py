"""`kedro viz build` writes a static site that headless Chromium renders with the pipeline's nodes."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
# Nodes of every pipeline of the default DAG, and a per-split namespace (collapsed by default).
EXPECTED = ("download_archives", "extract_video_frames", "benchmark", "cross_split_report", "split_1")


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        pytest.skip(f"no headless Chromium found (looked for {', '.join(BROWSERS)}): `apt-get install chromium` runs this test")
    return found


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1600,1000",
             "--virtual-time-budget=15000")
    return subprocess.run([browser, *flags, *args], capture_output=True, text=True, timeout=120)


def test_static_viz_build_renders_the_dag(browser, tmp_path):
    project = tmp_path / "project"
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

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        dom = _chromium(browser, "--dump-dom", url).stdout
        screenshot = tmp_path / "kedro_viz_dag.png"
        _chromium(browser, f"--screenshot={screenshot}", url)
    finally:
        server.shutdown()
    rendered = {name for name in EXPECTED if f">{name}<" in dom}
    assert rendered == set(EXPECTED), f"nodes missing from the rendered DAG: {sorted(set(EXPECTED) - rendered)}"
    assert 'class="pipeline-node__text"' in dom  # drawn by the app, not just listed
    assert screenshot.stat().st_size > 20_000
