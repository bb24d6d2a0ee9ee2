"""benchmarks/train_throughput.py runs end to end at a tiny size on the CPU, so a GPU session can use it as is."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_tiny_cpu_run_reports_every_setting(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    command = [sys.executable, "-W", "ignore", str(ROOT / "benchmarks" / "train_throughput.py"), "--device", "cpu",
               "--batch", "2", "--size", "32", "--steps", "2", "--warmup", "1", "--workers", "0", "1",
               "--videos", "4", "--json", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["model_clips_per_s"] > 0 and report["batch"] == 2
    assert [(r["decode"], r["workers"]) for r in report["runs"]] == [("worker", 0), ("worker", 1), ("device", 0), ("device", 1)]
    for run in report["runs"]:
        assert run["loader_clips_per_s"] > 0 and run["train_clips_per_s"] > 0 and run["busy"] > 0
    assert "model only" in result.stdout and "decode=device workers= 1" in result.stdout
