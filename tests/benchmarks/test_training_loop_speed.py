"""benchmarks/training_loop_speed.py runs end to end at a tiny size and reports both sides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_run_reports_before_and_after(tmp_path: Path) -> None:
    out = tmp_path / "loop.json"
    command = [sys.executable, "-W", "ignore", str(ROOT / "benchmarks" / "training_loop_speed.py"), "--batch", "2",
               "--batches", "2", "--epochs", "1", "--rounds", "1", "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"step", "loader", "train"}
    for row in results.values():
        assert row["before_clips_per_s"] > 0 and row["after_clips_per_s"] > 0
        assert row["ratio"] == row["after_clips_per_s"] / row["before_clips_per_s"]
    assert "after/before" in result.stdout
