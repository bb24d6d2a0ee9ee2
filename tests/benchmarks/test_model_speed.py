"""benchmarks/model_speed.py runs both protocols at a tiny size, with and without an original checkout."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "model_speed.py"


def run(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-W", "ignore", str(SCRIPT), "--protocol", "1x8x32", "--protocol", "2x8x32",
               "--rounds", "2", "--iters", "1", "--warmup", "1", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result


def test_narrow_run_reports_both_protocols_and_skips_the_original(tmp_path: Path) -> None:
    result = run("--width", "8", "--variant", "plain", "--variant", "cl+fold", "--json", str(tmp_path / "speed.json"))
    assert "original skipped: give --original PATH" in result.stdout
    report = json.loads((tmp_path / "speed.json").read_text())
    assert set(report["protocols"]) == {"1x8x32", "2x8x32"}
    for entry in report["protocols"].values():
        assert set(entry["fps"]) == {"plain", "cl+fold"}
        assert entry["ratios"]["cl+fold"]["mict_over_resnet3d_18"] > 0
        assert entry["max_abs_diff_to_plain"]["cl+fold mict_resnet18"] < 1e-4


def test_original_checkout_is_imported_given_the_same_weights_and_compared(tmp_path: Path) -> None:
    # A stand-in checkout: the original's package layout and builder, over the tests' reference model.
    package = tmp_path / "checkout" / "mictnet" / "models"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'tests')!r})\n"
        "from reference import OriginalMiCTResNet\n\n"
        "def get_mictresnet(backbone, version, dropout=0.5, n_classes=101):\n"
        "    return OriginalMiCTResNet((2, 2, 2, 2), n_classes, version, 7, dropout)\n"
    )
    result = run("--original", str(tmp_path / "checkout"), "--variant", "plain", "--json", str(tmp_path / "speed.json"))
    assert "MiCT/original" in result.stdout
    entry = json.loads((tmp_path / "speed.json").read_text())["protocols"]["1x8x32"]
    assert entry["original_vs_mict"]["bit_identical"] and entry["original_vs_mict"]["max_abs_diff"] == 0
    assert entry["ratios"]["plain"]["mict_over_original"] > 0
