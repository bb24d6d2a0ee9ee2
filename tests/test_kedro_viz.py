"""`kedro viz build` writes a static site with the nodes a session of its environment runs, and
headless Chromium renders it."""

from __future__ import annotations

import functools
import http.server
import json
import os
import re
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
# The README's picture: every pipeline of the default run, nodes only (datasets would triple its width)
# and each split's and the benchmark's namespaces collapsed (Kedro-Viz's default) to one box.
URL_QUERY = "?pid=__default__&types=nodes"
# What kedro-viz remembers in the browser: the onboarding tour dismissed (it would cover a quarter of
# the picture), sidebar and minimap closed so the graph gets the width and its names read.
VIEW = {"showFeatureHints": False, "visible": {"sidebar": False, "miniMap": False}}
VIEW_SCRIPT = f"<script>localStorage.setItem('KedroViz', '{json.dumps(VIEW)}');</script>"
# Kedro-Viz fits the graph to the window; this graph is about 750 x 1160 CSS px at zoom 1, and a
# 900 x 1300 window (less the 136 px toolbar) draws it at zoom 1, twice over at device scale 2.
WINDOW, SCALE = (900, 1300), 2
CHROME = (140, 40)  # CSS px left of and above the graph: the toolbar, the version label
# The README shows the picture at DISPLAY_WIDTH CSS px (its <img width>), from a PNG twice as wide
# (sharp on HiDPI screens). There the bright part of a label's glyphs must be MIN_TEXT_PX high,
# which is what an 11-12 px font gives. It does not depend on Kedro-Viz's zoom (the picture is cut
# to the graph and scaled to the width): only on the graph's width, about 750 CSS px, so 900 px
# gives about 8.4 px (680 px: 6.4) in a picture about 1470 px high, within GitHub's column.
DISPLAY_WIDTH, MIN_TEXT_PX = 900, 7.5


@pytest.fixture(scope="module")
def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        missing = f"no headless Chromium found (looked for {', '.join(BROWSERS)}): `apt-get install chromium`"
        if os.environ.get("MICT_DAG_PNG"):  # `make dag-image` asked for the picture: not rendering it is an error
            pytest.fail(f"{missing}, then `make dag-image` renders {os.environ['MICT_DAG_PNG']}")
        pytest.skip(f"{missing} runs this test")
    return found


def _chromium(browser: str, *args: str) -> subprocess.CompletedProcess:
    flags = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={WINDOW[0]},{WINDOW[1]}",
             f"--force-device-scale-factor={SCALE}", "--virtual-time-budget=15000")
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


def readme_picture(screenshot: Image.Image) -> Image.Image:
    """The graph alone, cut out of Kedro-Viz's window with a margin, at twice DISPLAY_WIDTH and 64
    colours (a few greys and the parameter markers' yellow: a small PNG). Raises AssertionError when the
    graph touches the window's edge, i.e. the window cut it."""
    pixels = np.asarray(screenshot.convert("RGB")).astype(int)
    left, top = (SCALE * c for c in CHROME)
    drawn = np.abs(pixels[top:, left:] - pixels[-1, -1]).max(axis=2) > 8  # differs from the canvas (a corner)
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    assert rows.size and 0 < rows[0] and rows[-1] < drawn.shape[0] - 1 and 0 < cols[0] and cols[-1] < drawn.shape[1] - 1, (
        "the graph is cut by the window's edge"
    )
    margin = 12 * SCALE
    box = (left + cols[0] - margin, top + rows[0] - margin, left + cols[-1] + 1 + margin, top + rows[-1] + 1 + margin)
    graph = screenshot.convert("RGB").crop(box)
    width = 2 * DISPLAY_WIDTH
    graph = graph.resize((width, round(graph.height * width / graph.width)), Image.Resampling.LANCZOS)
    return graph.quantize(64, dither=Image.Dither.NONE)


def label_line_height(picture: Image.Image) -> float:
    """The height in pixels of a line of label text: runs of rows holding light grey pixels (edges
    are darker, the yellow parameter markers not grey). Labels side by side at slightly different
    heights make longer runs, stray pixels shorter ones, so the lower quartile of the runs of a few
    pixels or more is one line's."""
    text_rows = (np.asarray(picture.convert("RGB")).min(axis=2) > 170).any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], text_rows.astype(int), [0]])))
    runs = (edges[1::2] - edges[::2])
    return float(np.percentile(runs[runs >= 4], 25))


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
    """The default pipeline rendered, cut to the graph, with names that read at the README's width.
    `make dag-image` writes the picture to docs/images/kedro_viz_dag.png (MICT_DAG_PNG)."""
    tasks = [n for n in json.loads((viz_site / "api" / "main").read_text())["nodes"] if n["type"] == "task"]
    # A node outside any namespace shows its name; a namespaced one, its collapsed top namespace.
    expected = {n["full_name"].split(".")[0] for n in tasks if "__default__" in n["pipelines"]}
    assert {"download_archives", "extract_video_frames", "split_1", "split_3", "benchmark", "cross_split_report"} <= expected
    index = viz_site / "index.html"
    index.write_text(index.read_text().replace("<head>", "<head>" + VIEW_SCRIPT, 1))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=viz_site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{URL_QUERY}"
    try:
        dom = _chromium(browser, "--dump-dom", url).stdout
        screenshot = tmp_path / "kedro_viz_dag.png"
        drawn = _screenshot(browser, url, screenshot)
    finally:
        server.shutdown()
    assert set(re.findall(r'class="pipeline-node__text"[^>]*>([^<]+)<', dom)) == expected  # no dataset, nothing expanded
    assert "Workflow run status" not in dom  # the tour is dismissed
    assert drawn, f"the screenshot shows no graph: {screenshot}"
    picture = readme_picture(Image.open(screenshot))
    text_px = label_line_height(picture) * DISPLAY_WIDTH / picture.width
    assert text_px >= MIN_TEXT_PX, f"labels {text_px:.1f} px high at the README's {DISPLAY_WIDTH} px width"
    if os.environ.get("MICT_DAG_PNG"):
        picture.save(os.environ["MICT_DAG_PNG"], optimize=True)
        print(f"{os.environ['MICT_DAG_PNG']}: {picture.width}x{picture.height}, labels {text_px:.1f} px high at width {DISPLAY_WIDTH}")
