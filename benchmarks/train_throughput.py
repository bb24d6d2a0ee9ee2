"""Training throughput and where the input pipeline bounds it: clips/s and GPU busy fraction.

For MiCT-ResNet-18 training (the training loop's own ``train_epoch``: normalisation, autocast,
cross-entropy, backward, SGD, loss and top-k sums kept on the device) at ``--batch`` clips of
16 x ``--size`` x ``--size``:

1. ``model``: steps on one batch already on the device: the device's ceiling, no input at all.
2. ``loader``: the input pipeline alone, per setting: clips/s of ``DataLoader`` batches made
   ready on the device (``decode=worker``: workers decode + augment, the batch is moved;
   ``decode=device``: workers only read JPEG bytes, the batch is decoded and augmented on the
   device), for each number of workers.
3. ``train``: both together, as training runs; ``busy`` = the steps' time alone (from 1) / the
   wall time, i.e. the share of the time the device spends on training steps. When CUDA is
   present, NVML's utilisation is sampled too.

The input pipeline bounds training where ``loader`` clips/s falls below ``model`` clips/s.
Synthetic UCF-101-format videos (frame stores at 256 x 192) are generated first.

Usage (GPU):  python benchmarks/train_throughput.py --workers 4 8 15 --json out.json
Smoke (CPU):  python benchmarks/train_throughput.py --device cpu --batch 2 --size 32 --steps 2 --workers 0 1
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import shutil
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import torch
import torchvision
from torch.utils.data import RandomSampler

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.device import EncodedClipDataset
from mict_pipeline.datasets.synthetic import MOTIONS
from mict_pipeline.models import build_model
from mict_pipeline.models.layout import to_channels_last
from mict_pipeline.experiment import Recipe
from mict_pipeline.training import batch_to_device, train_epoch, train_loader

from loader_speed import make_data  # the same synthetic frame stores as the loader benchmark


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _Utilisation:
    """NVML GPU utilisation sampled every 50 ms in a thread (CUDA only)."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.samples, self.stop = device, [], threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True) if device.type == "cuda" else None

    def _run(self) -> None:
        while not self.stop.wait(0.05):
            self.samples.append(torch.cuda.utilization(self.device))

    def __enter__(self) -> _Utilisation:
        if self.thread:
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()

    def mean(self) -> float | None:
        return float(np.mean(self.samples)) if self.samples else None


class Bench:
    def __init__(self, args: argparse.Namespace, index: pd.DataFrame) -> None:
        self.args, self.index = args, index
        self.device = torch.device(args.device)
        self.recipe = Recipe(epochs=1, batch_size=args.batch, amp="bf16" if self.device.type == "cuda" else "off",
                             device=args.device, workers=0)
        self.amp = self.recipe.autocast_dtype(self.device)
        self.config = ClipConfig(output_size=args.size, crop_sizes=tuple(int(args.size * f) for f in (0.8, 0.9, 1.0, 1.1, 1.2)))
        torch.manual_seed(0)
        model = build_model("mict_resnet18", len(MOTIONS), dropout=0.5).to(self.device).train()
        if self.device.type == "cuda":
            to_channels_last(model)
        self.net = torch.compile(model) if args.compile else model
        self.optimizer = self.recipe.make_optimizer(model.parameters())
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=False)

    def epoch(self, batches, to_device, limit: int) -> None:
        """``limit`` batches of the training loop's own epoch (``train_epoch``: steps, sums kept on the device)."""
        train_epoch(self.net, batches, self.optimizer, self.scaler, self.amp, to_device, self.device, limit=limit)

    def model_only(self) -> float:
        """Seconds per step on a batch already on the device."""
        n, size = self.args.batch, self.args.size
        clips = torch.randint(0, 256, (n, 16, size, size, 3), dtype=torch.uint8, device=self.device)
        labels = torch.randint(0, len(MOTIONS), (n,), device=self.device)
        on_device = lambda batch, device: batch  # noqa: E731 - already there
        self.epoch([(clips, labels)] * self.args.warmup, on_device, self.args.warmup)
        _sync(self.device)
        t0 = time.perf_counter()
        self.epoch([(clips, labels)] * self.args.steps, on_device, self.args.steps)
        _sync(self.device)
        return (time.perf_counter() - t0) / self.args.steps

    def dataset(self, decode: str) -> ClipDataset:
        if decode == "device":
            return EncodedClipDataset(self.index, self.config, seed=0)
        return ClipDataset(self.index, "train", self.config, seed=0)

    def run(self, decode: str, workers: int, train: bool) -> dict:
        """Clips/s over ``steps`` batches after ``warmup``; with ``train``, each batch also trains."""
        dataset = self.dataset(decode)
        recipe = Recipe(epochs=1, batch_size=self.args.batch, workers=workers, prefetch_factor=self.args.prefetch)
        sampler = RandomSampler(dataset, replacement=True, num_samples=self.args.batch * max(self.args.steps, self.args.warmup),
                                generator=torch.Generator().manual_seed(0))
        to_device = batch_to_device(dataset)
        loader = train_loader(dataset, recipe, self.args.batch, sampler, self.device)  # its workers persist

        def batches(limit: int) -> None:
            if train:
                self.epoch(loader, to_device, limit)
                return
            for clips, labels in itertools.islice(loader, limit):
                to_device(clips, self.device), labels.to(self.device, non_blocking=True)

        batches(self.args.warmup)
        _sync(self.device)
        with _Utilisation(self.device) as nvml:
            t0 = time.perf_counter()
            batches(self.args.steps)
            _sync(self.device)
            seconds = time.perf_counter() - t0
        return {"decode": decode, "workers": workers, "clips_per_s": self.args.batch * self.args.steps / seconds,
                "seconds": seconds, "nvml_utilisation": nvml.mean()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=112)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--steps", type=int, default=20, help="timed batches per measurement")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[4, 8, 15])
    parser.add_argument("--decode", nargs="+", default=["worker", "device"], choices=["worker", "device"])
    parser.add_argument("--prefetch", type=int, default=4, help="batches each worker prepares ahead")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--videos", type=int, default=64)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    root = Path(tempfile.mkdtemp(prefix="train_throughput_"))
    try:
        index = make_data(root, args.videos, (60, 150), seed=0, jpeg_files=False)
        bench = Bench(args, index)
        name = torch.cuda.get_device_name(bench.device) if bench.device.type == "cuda" else platform.processor() or "cpu"
        print(f"{name}; torch {torch.__version__}, torchvision {torchvision.__version__}; batch {args.batch} x 16 x "
              f"{args.size}^2, {'bf16' if bench.amp else 'fp32'}, compile={args.compile}; {len(index)} videos")
        step = bench.model_only()
        ceiling = args.batch / step
        print(f"model only     {ceiling:8.1f} clips/s ({1e3 * step:.1f} ms/step)")
        if bench.device.type == "cuda":
            print(f"peak memory    {torch.cuda.max_memory_allocated(bench.device) / 2**20:8.0f} MiB")
        rows = []
        for decode in args.decode:
            for workers in args.workers:
                loader = bench.run(decode, workers, train=False)
                train = bench.run(decode, workers, train=True)
                busy = args.steps * step / train["seconds"]
                rows.append({"decode": decode, "workers": workers, "loader_clips_per_s": loader["clips_per_s"],
                             "train_clips_per_s": train["clips_per_s"], "busy": busy, "nvml_utilisation": train["nvml_utilisation"]})
                nvml = "" if train["nvml_utilisation"] is None else f", NVML {train['nvml_utilisation']:.0f}%"
                bound = "input-bound" if loader["clips_per_s"] < ceiling else "device-bound"
                print(f"decode={decode:6s} workers={workers:2d}: loader {loader['clips_per_s']:8.1f} clips/s, "
                      f"train {train['clips_per_s']:8.1f} clips/s, busy {100 * busy:5.1f}%{nvml} ({bound})")
        if args.json:
            Path(args.json).write_text(json.dumps({"device": name, "batch": args.batch, "size": args.size,
                                                   "compile": args.compile, "model_clips_per_s": ceiling,
                                                   "model_ms_per_step": 1e3 * step, "runs": rows}, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
