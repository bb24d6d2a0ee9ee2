"""The training loop before and after removing its per-step host reads and per-epoch worker start-up.

Before (the loop up to 91d0af0): every step read its loss and top-k counts back as Python numbers
(``loss.item()``, ``int(...)``: on a GPU, a wait for the device at every step), and every epoch made
a new DataLoader whose workers started afresh. After (``mict_pipeline.training.train_epoch`` over
``train_loader``): the sums stay on the device and are read once per epoch, and one DataLoader
keeps its workers, the epoch reaching them in the sampler's ``(epoch, index)`` keys.

Three figures per side, clips/s, over ``--epochs`` epochs of ``--batches`` batches each:
``step``: training steps on one batch already in memory (the loop's own bookkeeping included);
``loader``: the DataLoader alone; ``train``: both, as training runs. The sides alternate within
each of ``--rounds`` rounds (order rotated), so both see the same machine state; the ratio is
after / before of the summed times. Default: the demo's size on a CPU (MiCT-ResNet-18, batch 8,
16 x 32 x 32 clips cropped from 64 x 48 frames, 1 worker).

Usage: python benchmarks/training_loop_speed.py [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import torch
from torch.utils.data import DataLoader

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.datasets.synthetic import MOTIONS
from mict_pipeline.experiment import Recipe
from mict_pipeline.models import build_model
from mict_pipeline.training import EpochSampler, train_epoch, train_loader, train_step

from loader_speed import make_data  # the same synthetic frame stores as the loader benchmark

CPU = torch.device("cpu")


def epoch_before(net, batches: Iterable, optimizer, scaler) -> None:
    """One epoch as the loop ran it before: loss and top-k counts read back at every step."""
    totals = torch.zeros(4, dtype=torch.float64)
    for clips, labels in batches:
        loss, logits = train_step(net, clips, labels, optimizer, scaler, None)
        top = logits.detach().float().topk(min(5, logits.shape[1]), dim=1).indices == labels[:, None]
        top1, top5 = (int(top[:, :k].any(dim=1).sum()) for k in (1, 5))
        totals += torch.tensor([loss.item() * len(labels), top1, top5, len(labels)], dtype=torch.float64)


def epoch_after(net, batches: Iterable, optimizer, scaler) -> None:
    train_epoch(net, batches, optimizer, scaler, None, lambda clips, device: clips, CPU).tolist()


class Sides:
    """The before and after loaders and steps over one dataset, each side with its own model copy."""

    def __init__(self, dataset: ClipDataset, recipe: Recipe, epochs: int, batches: int, classes: int) -> None:
        self.dataset, self.recipe, self.epochs, self.batches = dataset, recipe, epochs, batches
        self.sampler = EpochSampler(batches * recipe.batch_size, seed=0)  # the first batches * batch_size videos
        self.persistent = train_loader(dataset, recipe, recipe.batch_size, self.sampler, CPU)
        self.models = {}
        for side in ("before", "after"):
            torch.manual_seed(0)
            model = build_model("mict_resnet18", classes).train()
            self.models[side] = (model, recipe.make_optimizer(model.parameters()), torch.amp.GradScaler("cpu", enabled=False))
        self.batch = next(iter(self.persistent))

    def loader(self, side: str, epoch: int) -> DataLoader:
        self.sampler.set_epoch(epoch)
        if side == "after":
            return self.persistent
        return DataLoader(self.dataset, batch_size=self.recipe.batch_size, sampler=self.sampler, drop_last=True,
                          num_workers=self.recipe.workers, persistent_workers=False,
                          prefetch_factor=self.recipe.prefetch_factor if self.recipe.workers else None)

    def timed(self, side: str, what: str) -> float:
        """Seconds for ``epochs`` epochs of ``what`` (step, loader or train) on ``side``."""
        run_epoch: Callable = epoch_before if side == "before" else epoch_after
        net, optimizer, scaler = self.models[side]
        started = time.perf_counter()
        for epoch in range(self.epochs):
            if what == "step":
                run_epoch(net, [self.batch] * self.batches, optimizer, scaler)
            elif what == "loader":
                for _ in self.loader(side, epoch):
                    pass
            else:
                run_epoch(net, self.loader(side, epoch), optimizer, scaler)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=32, help="clip side (crops of 1-1.5x it from the frames)")
    parser.add_argument("--frames", type=int, nargs=2, default=(64, 48), help="frame width and height of the stores")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per measurement")
    parser.add_argument("--batches", type=int, default=10, help="batches per epoch")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()

    cv2.setNumThreads(1)
    root = Path(tempfile.mkdtemp(prefix="training_loop_speed_"))
    try:
        index = make_data(root, args.batch * args.batches, (40, 80), seed=0, jpeg_files=False, size=tuple(args.frames))
        crops = tuple(int(args.size * f) for f in (1.0, 1.125, 1.25, 1.375, 1.5))
        dataset = ClipDataset(index, "train", ClipConfig(output_size=args.size, crop_sizes=crops, jitter=(0.8, 1.2)), seed=0)
        recipe = Recipe(batch_size=args.batch, optimizer="adamw", lr=1e-3, workers=args.workers, prefetch_factor=4)
        sides = Sides(dataset, recipe, args.epochs, args.batches, len(MOTIONS))
        for what in ("step", "loader", "train"):  # warm-up: allocators, page cache
            for side in ("before", "after"):
                sides.timed(side, what)
        seconds = {(side, what): 0.0 for side in ("before", "after") for what in ("step", "loader", "train")}
        per_round = []
        for r in range(args.rounds):
            order = ["before", "after"] if r % 2 == 0 else ["after", "before"]
            row = {}
            for what in ("step", "loader", "train"):
                for side in order:
                    row[side, what] = sides.timed(side, what)
                    seconds[side, what] += row[side, what]
            per_round.append({what: row["before", what] / row["after", what] for what in ("step", "loader", "train")})
        clips = args.rounds * args.epochs * args.batches * args.batch
        print(f"{platform.processor() or 'cpu'}, {torch.get_num_threads()} threads; torch {torch.__version__}; MiCT-ResNet-18, "
              f"batch {args.batch} x 16 x {args.size}^2 from {args.frames[0]}x{args.frames[1]} frames, {args.workers} worker(s), "
              f"{args.epochs} epochs of {args.batches} batches x {args.rounds} rounds")
        print(f"{'':8s} {'before clips/s':>15s} {'after clips/s':>14s} {'after/before':>13s}  per round")
        results = {}
        for what in ("step", "loader", "train"):
            before, after = clips / seconds["before", what], clips / seconds["after", what]
            results[what] = {"before_clips_per_s": before, "after_clips_per_s": after, "ratio": after / before,
                             "ratio_per_round": [r[what] for r in per_round]}
            rounds = " ".join(f"{r[what]:.2f}" for r in per_round)
            print(f"{what:8s} {before:15.1f} {after:14.1f} {after / before:12.2f}x  {rounds}")
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "torch": torch.__version__, "results": results}, indent=2))
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
