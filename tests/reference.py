"""MiCT-ResNet laid out and run as the original 2019 PyTorch code (MiCT-Net-PyTorch) does.

Module names are the original's (``conv1``/``bn1`` 2D stem, ``conv2``/``bn2`` 3D stem,
``layerN.bottlenecks.I``, ``layerN.conv``/``layerN.bn``, ``fc``), so its ``state_dict`` has the
key layout of the original checkpoints. The forward pass uses the original's mechanics: explicit
zero padding before unpadded 3D convolutions, 5D <-> 4D conversions by splitting and
concatenating per sample, and the classifier applied in a loop over time steps.

It exists to check this project against: the tests import its weights with
``import_seed_checkpoint`` and compare logits. It is a stand-in written for these tests, not the
original's own code; ``benchmarks/model_speed.py --original PATH`` times the original's own code
(this stand-in was timed before 2026-12-02; docs/benchmarks.md compares the two).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock

from mict_pipeline.models.mict_resnet import TEMPORAL_STRIDES


def _to_frames(x: torch.Tensor, temporal_stride: int = 1) -> tuple[torch.Tensor, int]:
    x = x.transpose(0, 2)[::temporal_stride]  # (T, C, N, H, W), subsampled in time
    depth = x.shape[0]
    x = x.permute(2, 0, 1, 3, 4)  # (N, T, C, H, W)
    return torch.cat(torch.split(x, 1, dim=0), dim=1).squeeze(0), depth  # (N*T, C, H, W), sample by sample


def _to_clips(x: torch.Tensor, depth: int) -> torch.Tensor:
    return torch.stack(torch.split(x, depth), dim=0).transpose(1, 2)  # (N, C, T, H, W)


class OriginalMiCTStage(nn.Module):
    def __init__(self, in_planes: int, planes: int, num_blocks: int, temporal_stride: int, spatial_stride: int) -> None:
        super().__init__()
        self.temporal_stride = temporal_stride
        downsample = None
        if spatial_stride != 1 or in_planes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=spatial_stride, bias=False), nn.BatchNorm2d(planes)
            )
        self.bottlenecks = nn.ModuleList(
            [BasicBlock(in_planes, planes, spatial_stride, downsample)] + [BasicBlock(planes, planes) for _ in range(1, num_blocks)]
        )
        self.conv = nn.Conv3d(in_planes, planes, 3, stride=(temporal_stride, spatial_stride, spatial_stride), bias=False)
        self.bn = nn.BatchNorm3d(planes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = F.relu(self.bn(self.conv(F.pad(x, (1, 1, 1, 1, 0, 2)))))
        frames, depth = _to_frames(x, self.temporal_stride)
        out = _to_clips(self.bottlenecks[0](frames), depth) + out1
        frames, depth = _to_frames(out)
        for block in self.bottlenecks[1:]:
            frames = block(frames)
        return _to_clips(frames, depth)


class OriginalMiCTResNet(nn.Module):
    def __init__(self, layers: tuple[int, int, int, int], num_classes: int = 101, version: str = "v1", first_kernel_depth: int = 7, dropout: float = 0.5) -> None:
        super().__init__()
        t = TEMPORAL_STRIDES[version]
        self.first_kernel_depth = first_kernel_depth
        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.conv2 = nn.Conv3d(3, 64, (first_kernel_depth, 7, 7), stride=(t[0], 2, 2), bias=False)
        self.bn2 = nn.BatchNorm3d(64)
        widths, in_planes = (64, 128, 256, 512), 64
        for i, (planes, blocks) in enumerate(zip(widths, layers)):
            setattr(self, f"layer{i + 1}", OriginalMiCTStage(in_planes, planes, blocks, t[i + 1], 1 if i == 0 else 2))
            in_planes = planes
        self.drop = nn.Dropout3d(dropout)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out1 = F.pad(x, (3, 3, 3, 3, 0, self.first_kernel_depth - 1))
        out1 = F.max_pool3d(F.relu(self.bn2(self.conv2(out1))), 3, stride=2, padding=1)
        frames, depth = _to_frames(x, 2)
        out2 = F.max_pool2d(F.relu(self.bn1(self.conv1(frames))), 3, stride=2, padding=1)
        out = out1 + _to_clips(out2, depth)
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = self.drop(out).mean(dim=(3, 4))
        logits = torch.cat([self.fc(out[:, :, i]).unsqueeze(2) for i in range(out.shape[2])], dim=2)
        return logits.mean(dim=2)
