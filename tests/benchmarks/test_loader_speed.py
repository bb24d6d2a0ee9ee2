"""benchmarks/loader_speed.py runs end to end at a tiny size, and its PIL baseline is the same recipe as ours."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_run_reports_every_side_and_matches_the_pil_recipe(tmp_path: Path) -> None:
    out = tmp_path / "loader.json"
    command = [sys.executable, "-W", "ignore", str(ROOT / "benchmarks" / "loader_speed.py"), "--videos", "3",
               "--frames", "20", "40", "--clips", "6", "--rounds", "2", "--fidelity-clips", "3", "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    speed = report["throughput"]
    for side in ("ours", "original", "ours_uint8", "read_only", "ours_decode_only", "original_decode_only"):
        assert speed[f"{side}_clips_per_s"] > 0, side
    assert speed["ms_per_clip_at_5x"] > 0 and speed["ms_per_clip_decode_only"] > 0
    assert set(report["stages_ms_per_clip"]) >= {"sample", "read_decode", "augment", "normalize"}
    # The same draws through both recipes give the same clips up to resampling and rounding: a
    # misapplied crop, flip or factor would put whole regions tens of levels apart.
    for path in ("worker", "device"):
        assert report["fidelity"][path]["mean_abs_diff_levels"] < 1.0, report["fidelity"]
        assert report["fidelity"][path]["max_abs_diff_levels"] < 32, report["fidelity"]
    assert set(report["augmentation_floor"]) == {"resize_us_per_frame", "colour_brightness_us_per_frame"}
    assert "5x budget" in result.stdout
