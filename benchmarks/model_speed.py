"""Model speed benchmark: MiCT-ResNet-18 against 3D-ResNet-18, and against the original's mechanics.

1. The original's protocol (batch 1, 16 x 160 x 160, FPS = 16 / mean latency after warm-up) for
   each architecture: parameters, FPS and peak memory, plus the FPS ratio MiCT / 3D-ResNet.
2. This project's MiCT-ResNet-18 against the same weights run the way the original code runs them
   (per-sample split/concatenate 5D <-> 4D conversions, explicit padding, FC loop over time:
   ``tests/reference.py``, a stand-in written for the tests, not the original's own code), at
   batch 8, 16 x 112 x 112, timed alternately in one process, with the largest output difference.

Usage: python benchmarks/model_speed.py [--device cuda] [--iters 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
from pathlib import Path

import torch

from mict_pipeline.models import build_model
from mict_pipeline.models.layout import to_channels_last
from mict_pipeline.models.speed import measure_inference, time_forward
from mict_pipeline.models.weights import load_state_into, rename_keys

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from reference import OriginalMiCTResNet  # noqa: E402 - the tests' stand-in for the original's mechanics


def compare_with_reference(
    device: str, batch_size: int, frames: int, size: int, warmup: int, iters: int, rounds: int, channels_last: bool = False
) -> dict:
    """This project's model (in channels_last memory with ``channels_last``) against the original's
    mechanics with the same weights, run as the original runs them (contiguous fp32)."""
    torch.manual_seed(0)
    original = OriginalMiCTResNet((2, 2, 2, 2)).eval()
    model = build_model("mict_resnet18").eval()
    load_state_into(model, rename_keys(original.state_dict(), "mict"), "the reference model")
    original, model = original.to(device), model.to(device)
    x = torch.randn(batch_size, 3, frames, size, size, device=device)
    x_fast = x
    if channels_last:
        to_channels_last(model)
        x_fast = x.contiguous(memory_format=torch.channels_last_3d)
    with torch.inference_mode():
        max_diff = (model(x_fast) - original(x)).abs().max().item()
    fast, ref = [], []
    for _ in range(rounds):  # alternate so both see the same machine state
        fast += time_forward(model, x_fast, warmup, iters)
        ref += time_forward(original, x, warmup, iters)
    fps_fast = batch_size * frames / statistics.mean(fast)
    fps_ref = batch_size * frames / statistics.mean(ref)
    return {"batch_size": batch_size, "input": [3, frames, size, size], "channels_last": channels_last, "fps": fps_fast, "fps_reference": fps_ref,
            "speedup": fps_fast / fps_ref, "max_abs_output_diff": max_diff}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--amp-dtype", choices=["bfloat16", "float16"], default=None)
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--skip-reference", action="store_true", help="skip part 2")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, device {args.device}")
    results = {}
    for arch in ("mict_resnet18", "resnet3d_18"):
        results[arch] = measure_inference(
            arch, device=args.device, warmup=args.warmup, iters=args.iters, amp_dtype=args.amp_dtype,
            channels_last=args.channels_last, compile=args.compile,
        )
    print(f"\nOriginal protocol: batch 1, 16x160x160, {args.iters} timed calls after {args.warmup} warm-up")
    print(f"{'model':<15}{'params':>12}{'latency ms':>12}{'FPS':>10}{'peak MB':>10}  device")
    for arch, r in results.items():
        print(f"{arch:<15}{r['params']:>12,}{r['latency_ms']:>12.1f}{r['fps']:>10.1f}{r['peak_memory_mb']:>10.0f}  {r['device']}")
    ratio = results["mict_resnet18"]["fps"] / results["resnet3d_18"]["fps"]
    print(f"FPS ratio mict_resnet18 / resnet3d_18: {ratio:.2f}x")
    report = {"protocol": results, "fps_ratio_mict_over_resnet3d": ratio}

    if not args.skip_reference:
        ref = compare_with_reference(
            args.device, 8, 16, 112, max(1, args.warmup // 2), max(2, args.iters // 4), rounds=3, channels_last=args.channels_last
        )
        print("\nMiCT-ResNet-18, batch 8, 16x112x112: this project vs the original's split/concat mechanics")
        print(f"this project {ref['fps']:.1f} FPS, original mechanics {ref['fps_reference']:.1f} FPS, "
              f"speedup {ref['speedup']:.2f}x, max |output difference| {ref['max_abs_output_diff']:.2e}")
        report["reference_comparison"] = ref

    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
