"""3D-ResNet (Hara et al., CVPR 2018), the baseline MiCT-ResNet is compared with.

ResNet-18/34 with every 2D convolution replaced by a 3D one: 7 x 7 x 7 stem with stride (1, 2, 2),
3 x 3 x 3 max-pool with stride 2, 3D basic blocks, 1 x 1 x 1 projection shortcuts ("shortcut B").
It is not torchvision's ``r3d_18`` (Tran et al., CVPR 2018: a 3 x 7 x 7 stem and no max-pool), so
its builders are named ``resnet3d_18`` and ``resnet3d_34``.
"""

from __future__ import annotations

import torch
from torch import nn

from .blocks import BasicBlock


def _make_stage(in_planes: int, planes: int, num_blocks: int, stride: int) -> nn.Sequential:
    downsample = None
    if stride != 1 or in_planes != planes:
        downsample = nn.Sequential(
            nn.Conv3d(in_planes, planes, kernel_size=1, stride=stride, bias=False), nn.BatchNorm3d(planes)
        )
    return nn.Sequential(
        BasicBlock(in_planes, planes, stride, downsample, dims=3), *(BasicBlock(planes, planes, dims=3) for _ in range(1, num_blocks))
    )


class ResNet3d(nn.Module):
    """3D-ResNet for clips (N, 3, T, H, W) -> logits (N, num_classes).

    ``width``: channels of the stem and first stage (64 in the paper), doubled by each later stage.
    """

    def __init__(self, layers: tuple[int, int, int, int], num_classes: int = 101, dropout: float = 0.5, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, width, kernel_size=7, stride=(1, 2, 2), padding=3, bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool3d(kernel_size=3, stride=2, padding=1),
        )
        self.layer1 = _make_stage(width, width, layers[0], stride=1)
        self.layer2 = _make_stage(width, 2 * width, layers[1], stride=2)
        self.layer3 = _make_stage(2 * width, 4 * width, layers[2], stride=2)
        self.layer4 = _make_stage(4 * width, 8 * width, layers[3], stride=2)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(8 * width, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        return self.fc(self.dropout(x.mean(dim=(2, 3, 4))))
