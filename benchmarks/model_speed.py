"""Model speed: MiCT-ResNet-18 against 3D-ResNet-18 and against the original MiCT-Net-PyTorch code.

Both protocols in one run, by default batch 1 x 16 x 160 x 160 (the original's speed test) and
batch 8 x 16 x 112 x 112 (a training-size batch): each model, in each variant, is timed in
interleaved rounds (every round times every model once per protocol and variant, so a machine
that gets busier slows all of them alike). FPS = clips x frames / median latency; the spread is
the range of the per-round medians; ratios are taken within each round, then their median.

Models: this project's ``mict_resnet18`` and ``resnet3d_18``, and with ``--original PATH`` the
original's own ``MiCTResNet`` imported from a checkout of github.com/fmahoudeau/MiCT-Net-PyTorch
(``git clone https://github.com/fmahoudeau/MiCT-Net-PyTorch PATH``; its model code runs unpatched
under torch 2.x), with the same weights as this project's MiCT, whose logits are compared.

Variants (``--variant``, repeatable; tokens joined with ``+``; every variant applies to every model):
  plain    fp32, contiguous memory: as the original runs
  cl       channels_last (3D) weights and input
  fold     BatchNorm folded into the convolutions (``mict_pipeline.models.inference``)
  bf16     / fp16: autocast to that dtype
  compile  torch.compile (``--compile-mode``; on the CPU with inductor freezing, which prepacks
           the weights and fuses the elementwise ops into the convolutions)

Usage: python benchmarks/model_speed.py [--device cuda] [--variant plain --variant cl+fold]
       [--original /path/to/MiCT-Net-PyTorch] [--rounds 5] [--json out.json]
For the speed of an AVX2-only CPU on an AVX-512 one, run it under
``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2`` (read when torch loads; printed in the header).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from mict_pipeline.models import build_model
from mict_pipeline.models.speed import cpu_name, prepare_for_inference, time_forward
from mict_pipeline.models.weights import load_state_into, rename_keys

TOKENS = {"plain", "cl", "fold", "bf16", "fp16", "compile"}
AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}
ISA_VARIABLES = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA")
RATIO_LABELS = {  # FPS of this project's MiCT over: ...
    "mict_over_resnet3d_18": "MiCT/3D-ResNet",
    "mict_over_original": "MiCT/original",  # the original in the same variant
    "mict_over_original_plain": "MiCT/original plain",  # the original as it runs
}


@dataclass(frozen=True)
class Protocol:
    batch: int
    frames: int
    size: int

    @classmethod
    def parse(cls, text: str) -> Protocol:
        """``"8x16x112"``: batch x frames x size."""
        batch, frames, size = (int(v) for v in text.split("x"))
        return cls(batch, frames, size)

    def __str__(self) -> str:
        return f"{self.batch}x{self.frames}x{self.size}"


def parse_variant(spec: str) -> frozenset[str]:
    tokens = frozenset(spec.split("+")) - {"plain"}
    unknown = tokens - TOKENS
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown variant token(s) {sorted(unknown)}; valid: {sorted(TOKENS)}")
    return tokens


def variant_name(tokens: frozenset[str]) -> str:
    return "+".join(t for t in ("cl", "fold", "bf16", "fp16", "compile") if t in tokens) or "plain"


def load_original(path: str, mict: nn.Module) -> nn.Module:
    """The original's MiCT-ResNet-18 (v1) from its checkout at ``path``; its weights are copied into ``mict``."""
    sys.path.insert(0, str(Path(path).resolve()))
    models = importlib.import_module("mictnet.models")
    original = models.get_mictresnet("resnet18", "v1", n_classes=mict.fc.out_features).eval()
    load_state_into(mict, rename_keys(original.state_dict(), "mict"), "the original's state_dict")
    return original


def build_models(width: int, original_path: str | None) -> dict[str, nn.Module]:
    models = {}
    for arch in ("mict_resnet18", "resnet3d_18"):
        torch.manual_seed(0)
        models[arch] = build_model(arch, width=width).eval()
    if not original_path:
        print("original skipped: give --original PATH, a checkout of https://github.com/fmahoudeau/MiCT-Net-PyTorch")
    elif width != 64:
        print("original skipped: it has width 64 only (--width 64)")
    else:
        models["original"] = load_original(original_path, models["mict_resnet18"])
    return models


def machine(device: torch.device) -> dict[str, str | int]:
    info = {"torch": torch.__version__, "device": str(device), "date": time.strftime("%Y-%m-%d")}
    if device.type == "cuda":
        return info | {"gpu": torch.cuda.get_device_name(device)}
    isa = {name: os.environ.get(name, "") for name in ISA_VARIABLES}
    return info | {"cpu": cpu_name(), "threads": torch.get_num_threads(), "aten_isa": torch.backends.cpu.get_cpu_capability(), **isa}


def run_variant(model: nn.Module, x: torch.Tensor, tokens: frozenset[str], warmup: int, iters: int) -> tuple[list[float], torch.Tensor | None]:
    """Seconds per call (``iters`` calls after ``warmup``) and, when ``iters`` is 0, the output."""
    dtype = next((AUTOCAST[t] for t in AUTOCAST if t in tokens), None)
    with torch.autocast(x.device.type, dtype=dtype, enabled=dtype is not None):
        times = time_forward(model, x, warmup, iters)
        if iters:
            return times, None
        with torch.inference_mode():
            return times, model(x).float()


def measure(
    models: dict[str, nn.Module], variants: list[frozenset[str]], protocols: list[Protocol], args: argparse.Namespace
) -> tuple[dict, dict, dict]:
    """The timings (``report``), and the prepared models and inputs, for profiling them."""
    device = torch.device(args.device)
    prepared = {
        (variant, name): prepare_for_inference(
            copy.deepcopy(model), device, "cl" in variant, "compile" in variant, "fold" in variant, args.compile_mode
        )
        for variant in variants for name, model in models.items()
    }
    report: dict = {}
    inputs = {}
    for protocol in protocols:
        torch.manual_seed(1)
        x = torch.randn(protocol.batch, 3, protocol.frames, protocol.size, protocol.size, device=device)
        with torch.inference_mode():
            reference = {name: model.to(device)(x) for name, model in models.items()}
        outputs = {}
        for variant in variants:
            inputs[protocol, variant] = x.contiguous(memory_format=torch.channels_last_3d) if "cl" in variant else x
            for name in models:  # warm-up: compilation, oneDNN's kernel choice, CUDA graph capture
                _, out = run_variant(prepared[variant, name], inputs[protocol, variant], variant, args.warmup, 0)
                outputs[f"{variant_name(variant)} {name}"] = (out - reference[name].float()).abs().max().item()
        report[str(protocol)] = {"max_abs_diff_to_plain": outputs, "rounds": {}}
        if "original" in models:
            report[str(protocol)]["original_vs_mict"] = {
                "max_abs_diff": (reference["original"] - reference["mict_resnet18"]).abs().max().item(),
                "bit_identical": torch.equal(reference["original"], reference["mict_resnet18"]),
            }
    rounds = {(str(p), variant_name(v), name): [] for p in protocols for v in variants for name in models}
    for _ in range(args.rounds):  # interleaved: each round times every model of every variant once
        for protocol in protocols:
            for variant in variants:
                for name in models:
                    times, _ = run_variant(prepared[variant, name], inputs[protocol, variant], variant, 0, args.iters)
                    rounds[str(protocol), variant_name(variant), name].append(statistics.median(times))
    for (protocol, variant, name), medians in rounds.items():
        report[protocol]["rounds"].setdefault(variant, {})[name] = medians
    return report, prepared, inputs


def summarise(report: dict, protocols: list[Protocol]) -> None:
    """Add FPS (median over rounds, and the range) and within-round ratios to ``report``, in place."""
    for protocol in protocols:
        entry = report[str(protocol)]
        clip_frames = protocol.batch * protocol.frames
        entry["fps"] = {
            variant: {name: {"median": clip_frames / statistics.median(m), "min": clip_frames / max(m), "max": clip_frames / min(m)}
                      for name, m in by_model.items()}
            for variant, by_model in entry["rounds"].items()
        }
        entry["ratios"] = {}
        for variant, by_model in entry["rounds"].items():
            mict = by_model["mict_resnet18"]
            against = {"resnet3d_18": by_model["resnet3d_18"], "original": by_model.get("original")}
            if "original" in entry["rounds"].get("plain", {}):
                against["original_plain"] = entry["rounds"]["plain"]["original"]
            entry["ratios"][variant] = {
                f"mict_over_{other}": statistics.median(o / m for o, m in zip(times, mict))
                for other, times in against.items() if times
            }


def print_report(report: dict, protocols: list[Protocol], models: list[str], rounds: int, iters: int) -> None:
    for protocol in protocols:
        entry = report[str(protocol)]
        print(f"\nbatch {protocol.batch}, {protocol.frames}x{protocol.size}x{protocol.size}: FPS, median of {rounds} "
              f"interleaved rounds of {iters} calls (range of the round medians)")
        ratio_names = [k for k in RATIO_LABELS if any(k in r for r in entry["ratios"].values())]
        print(f"{'variant':<22}" + "".join(f"{name:>24}" for name in models) + "".join(f"{RATIO_LABELS[k]:>22}" for k in ratio_names))
        for variant, fps in entry["fps"].items():
            cells = "".join(f"{v['median']:>10.1f} ({v['min']:.0f}-{v['max']:.0f})".rjust(24) for v in fps.values())
            ratios = entry["ratios"][variant]
            print(f"{variant:<22}{cells}" + "".join((f"{ratios[k]:.2f}x" if k in ratios else "-").rjust(22) for k in ratio_names))
        diffs = ", ".join(f"{key} {d:.1e}" for key, d in entry["max_abs_diff_to_plain"].items() if not key.startswith("plain "))
        print(f"max |logit difference| to the same model in plain fp32: {diffs or '-'}")
        if "original_vs_mict" in entry:
            same = entry["original_vs_mict"]
            print(f"original vs this project's MiCT, plain fp32: max |logit difference| {same['max_abs_diff']:.1e}, "
                  f"bit-identical: {same['bit_identical']}")


def profile_ops(model: nn.Module, x: torch.Tensor, tokens: frozenset[str], top: int) -> list[dict]:
    """The ``top`` operators by self CPU time over two calls, split by input rank (5D clips, 4D frames)."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        run_variant(model, x, tokens, 0, 2)
    per_op: dict[str, float] = {}
    for event in prof.key_averages(group_by_input_shape=True):
        rank = len(event.input_shapes[0]) if event.input_shapes and event.input_shapes[0] else 0
        key = f"{event.key} {rank}D" if rank >= 4 else event.key
        per_op[key] = per_op.get(key, 0.0) + event.self_cpu_time_total / 1e3 / 2
    total = sum(per_op.values())
    ranked = sorted(per_op.items(), key=lambda item: -item[1])[:top]
    return [{"op": op, "ms_per_call": ms, "share": ms / total} for op, ms in ranked]


def print_profiles(models: list[str], variants: list[str], protocol: Protocol, profiles: dict) -> None:
    for variant in variants:
        for name in models:
            rows = profiles[variant][name]
            print(f"\nprofile, {variant} {name}, batch {protocol.batch}, {protocol.frames}x{protocol.size}x{protocol.size}: "
                  f"self CPU ms per call (share)")
            for row in rows:
                print(f"  {row['op']:<42}{row['ms_per_call']:>9.1f} ({row['share']:.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--protocol", action="append", type=Protocol.parse, help="BATCHxFRAMESxSIZE (default: 1x16x160 and 8x16x112)")
    parser.add_argument("--variant", action="append", type=parse_variant, help="e.g. plain, cl+fold, cl+bf16+compile (default: plain and cl+fold)")
    parser.add_argument("--compile-mode", choices=["default", "reduce-overhead", "max-autotune"], default="default",
                        help="torch.compile mode of the compile variants (reduce-overhead: CUDA graphs)")
    parser.add_argument("--original", help="a checkout of MiCT-Net-PyTorch, to time the original's own model code")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iters", type=int, default=3, help="timed calls per model per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--width", type=int, default=64, help="channels of the first stage (narrow networks for smoke tests)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also print the N operators with the most self CPU time, per model and variant, at the last protocol")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    protocols = args.protocol or [Protocol(1, 16, 160), Protocol(8, 16, 112)]
    variants = list(dict.fromkeys(args.variant or [frozenset(), frozenset({"cl", "fold"})]))
    if args.compile_mode == "default":
        args.compile_mode = None
    device = torch.device(args.device)
    if device.type == "cpu" and any("compile" in v for v in variants):
        # Weights become constants: inductor prepacks them for oneDNN and fuses BatchNorm and the
        # elementwise ops into the convolutions. Inference only, which is all that is timed here.
        torch._inductor.config.freezing = True

    info = machine(device)
    print(", ".join(f"{k} {v}" for k, v in info.items()))
    models = build_models(args.width, args.original)
    print("parameters: " + ", ".join(f"{name} {sum(p.numel() for p in m.parameters()):,}" for name, m in models.items()))
    report, prepared, inputs = measure(models, variants, protocols, args)
    summarise(report, protocols)
    print_report(report, protocols, list(models), args.rounds, args.iters)
    profiles = {
        variant_name(v): {name: profile_ops(prepared[v, name], inputs[protocols[-1], v], v, args.profile) for name in models}
        for v in variants
    } if args.profile else {}
    if profiles:
        print_profiles(list(models), list(profiles), protocols[-1], profiles)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "protocols": report, "profile": profiles}, f, indent=2)


if __name__ == "__main__":
    main()
