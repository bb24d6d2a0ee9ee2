"""The ResNet basic block, in 2D (MiCT's per-frame branch) or 3D (the 3D-ResNet).

Attribute names are torchvision's (``conv1``, ``bn1``, ``conv2``, ``bn2``, ``downsample``), so
torchvision's ImageNet ResNet weights load into it by name. Defined here rather than imported from
torchvision: importing any part of torchvision costs every process about 1.6 s on a CPU, which
every ``kedro run`` and ``predict`` would pay.
"""

from __future__ import annotations

import torch
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 (x3) convolutions with BatchNorm and a residual connection; ``dims`` is 2 or 3."""

    def __init__(self, in_planes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None, dims: int = 2) -> None:
        super().__init__()
        conv, norm = {2: (nn.Conv2d, nn.BatchNorm2d), 3: (nn.Conv3d, nn.BatchNorm3d)}[dims]
        self.conv1 = conv(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = norm(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = norm(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)
