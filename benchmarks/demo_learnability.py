"""Can a model learn the demo's synthetic motion classes? A quick probe outside Kedro.

Trains on split 1 of the prepared demo data (run `make demo`, or the synthetic, download and
prepare pipelines with `--env demo`, first) with the training clip recipe, and prints
(epoch, train loss, train top-1, test clip top-1) every 5 epochs. Besides MiCT-ResNet-18 and
3D-ResNet-18 it trains a small 4-layer 3D CNN, a check that the classes are learnable at all.
Clips are loaded in the main process; on a GPU a run of 20 epochs takes seconds.

Usage: python benchmarks/demo_learnability.py [--models c3d,mict_resnet18,resnet3d_18] [--size 32]
       [--epochs 20] [--milestone 0] [--optimizer adamw|sgd] [--lr 0.001] [--clip-grad 1.0]
       [--zero-init] [--jitter 0.5 1.5] [--mode train|clip]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
import torch
from torch import nn

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.transforms import normalize_clips
from mict_pipeline.models import build_model
from mict_pipeline.experiment import Recipe


class SmallC3D(nn.Module):
    """Four 3x3x3 conv + BN + ReLU + 2x max-pool stages, global average pool, linear classifier."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        layers, channels = [], 3
        for width in (32, 64, 128, 128):
            layers += [nn.Conv3d(channels, width, 3, padding=1), nn.BatchNorm3d(width), nn.ReLU(), nn.MaxPool3d(2)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).mean(dim=(2, 3, 4)))


def probe(name: str, args: argparse.Namespace, device: str) -> list[tuple]:
    torch.manual_seed(0)
    train, test = (pd.read_csv(f"data/05_model_input/split_1/{s}.csv") for s in ("train", "test"))
    classes = int(max(train["label"].max(), test["label"].max())) + 1
    config = ClipConfig(output_size=args.size, crop_sizes=tuple(args.crop_sizes), jitter=tuple(args.jitter))
    train_set, test_set = ClipDataset(train, args.mode, config), ClipDataset(test, "clip", config)
    x_test = normalize_clips(torch.stack([test_set[i][0] for i in range(len(test_set))]).to(device))
    y_test = torch.tensor(test_set.labels, device=device)
    model = SmallC3D(classes) if name == "c3d" else build_model(name, classes, zero_init_residual=args.zero_init)
    model = model.to(device)
    recipe = Recipe(epochs=args.epochs, batch_size=args.batch_size, optimizer=args.optimizer, lr=args.lr)
    optimizer = recipe.make_optimizer(model.parameters())
    schedule = torch.optim.lr_scheduler.MultiStepLR(optimizer, [args.milestone] if args.milestone else [])
    rows = []
    for epoch in range(args.epochs):
        order = np.random.default_rng(epoch).permutation(len(train_set))
        losses, hits = [], []
        model.train()
        for start in range(0, len(order) - args.batch_size + 1, args.batch_size):
            items = [train_set[epoch, i] for i in order[start : start + args.batch_size]]
            x = normalize_clips(torch.stack([clip for clip, _ in items]).to(device))
            y = torch.tensor([label for _, label in items], device=device)
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            if args.clip_grad:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_grad)
            optimizer.step()
            losses.append(loss.item())
            hits.append((logits.argmax(1) == y).float().mean().item())
        schedule.step()
        if epoch % args.every == args.every - 1 or epoch == args.epochs - 1:
            model.eval()
            with torch.no_grad():
                accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
            rows.append((epoch + 1, round(float(np.mean(losses)), 2), round(float(np.mean(hits)), 2), round(accuracy, 2)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="c3d,mict_resnet18,resnet3d_18")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--crop-sizes", type=int, nargs="+", default=[32, 36, 40, 44, 48])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--milestone", type=int, default=0, help="epoch after which lr / 10 (0: none)")
    parser.add_argument("--optimizer", choices=["adamw", "sgd"], default="adamw")
    parser.add_argument("--zero-init", action="store_true", help="zero_init_residual (ResNets)")
    parser.add_argument("--jitter", type=float, nargs=2, default=[0.5, 1.5], help="colour jitter factor range")
    parser.add_argument("--every", type=int, default=5, help="report every N epochs")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--clip-grad", type=float, default=None)
    parser.add_argument("--mode", choices=["train", "clip"], default="train", help="clip = no augmentation")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    for name in args.models.split(","):
        print(name, args.mode, probe(name, args, device), flush=True)


if __name__ == "__main__":
    main()
