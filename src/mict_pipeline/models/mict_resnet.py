"""MiCT-ResNet: a 2D ResNet with five 3D convolutions beside it (Zhou et al., CVPR 2018).

The 2019 PyTorch MiCT-ResNet puts a k x 7 x 7 3D stem beside the 2D stem and a 3 x 3 x 3 3D
convolution beside the first 2D block of each of the four stages; each 3D output is added to the
2D output ("cross-domain residual"). Everything else runs per frame with the 2D ResNet weights,
which is why the model is both small and fast.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from .blocks import BasicBlock
from .layout import clips_to_frames, frames_to_clips

# Temporal strides of (stem, layer1, layer2, layer3, layer4). v1 reduces 16 frames to 1,
# v2 to 4 (more accurate, more compute).
TEMPORAL_STRIDES = {"v1": (1, 1, 2, 2, 2), "v2": (1, 1, 1, 2, 1)}
FIRST_KERNEL_DEPTHS = (3, 5, 7)


def _conv3d_bn_relu(
    in_planes: int, planes: int, kernel_size: tuple[int, int, int], stride: tuple[int, int, int], padding: tuple[int, int, int]
) -> nn.Sequential:
    conv = nn.Conv3d(in_planes, planes, kernel_size, stride=stride, padding=padding, bias=False)
    nn.init.kaiming_normal_(conv.weight, mode="fan_out")
    return nn.Sequential(conv, nn.BatchNorm3d(planes), nn.ReLU(inplace=True))


def _pad_time_end(x: torch.Tensor, frames: int) -> torch.Tensor:
    # As the original: time is padded only at the end, so the output at t sees frames t..t+k-1.
    # Space is padded symmetrically by the convolution itself.
    return F.pad(x, (0, 0, 0, 0, 0, frames))


class MiCTStem(nn.Module):
    """2D ResNet stem on every other frame, summed with a k x 7 x 7 3D stem on the whole clip."""

    def __init__(self, first_kernel_depth: int, temporal_stride: int, width: int = 64) -> None:
        super().__init__()
        self.first_kernel_depth = first_kernel_depth
        self.stem_2d = nn.Sequential(
            nn.Conv2d(3, width, kernel_size=7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        )
        self.stem_3d = nn.Sequential(
            *_conv3d_bn_relu(3, width, (first_kernel_depth, 7, 7), (temporal_stride, 2, 2), (0, 3, 3)),
            nn.MaxPool3d(kernel_size=3, stride=2, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out_3d = self.stem_3d(_pad_time_end(x, self.first_kernel_depth - 1))
        # The 3D max-pool halves time, so the 2D stem sees every other frame.
        out_2d = frames_to_clips(self.stem_2d(clips_to_frames(x, 2)), x.shape[0])
        return out_3d + out_2d


class MiCTStage(nn.Module):
    """One ResNet stage whose first block is paired with a 3 x 3 x 3 3D convolution."""

    def __init__(self, in_planes: int, planes: int, num_blocks: int, temporal_stride: int, spatial_stride: int) -> None:
        super().__init__()
        self.temporal_stride = temporal_stride
        downsample = None
        if spatial_stride != 1 or in_planes != planes:
            downsample = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=spatial_stride, bias=False),
                nn.BatchNorm2d(planes),
            )
        self.blocks = nn.ModuleList(
            [BasicBlock(in_planes, planes, spatial_stride, downsample)]
            + [BasicBlock(planes, planes) for _ in range(1, num_blocks)]
        )
        self.conv3d = _conv3d_bn_relu(
            in_planes, planes, (3, 3, 3), (temporal_stride, spatial_stride, spatial_stride), (0, 1, 1)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        out_3d = self.conv3d(_pad_time_end(x, 2))
        out = clips_to_frames(x, self.temporal_stride)
        out = frames_to_clips(self.blocks[0](out), n) + out_3d
        out = clips_to_frames(out)
        for block in self.blocks[1:]:
            out = block(out)
        return frames_to_clips(out, n)


class MiCTResNet(nn.Module):
    """MiCT-ResNet for clips (N, 3, T, H, W) -> logits (N, num_classes).

    ``width``: channels of the stem and first stage (64 in the paper), doubled by each later stage.
    """

    def __init__(
        self,
        layers: tuple[int, int, int, int],
        num_classes: int = 101,
        version: str = "v1",
        first_kernel_depth: int = 7,
        dropout: float = 0.5,
        width: int = 64,
    ) -> None:
        super().__init__()
        t = TEMPORAL_STRIDES[version]
        self.stem = MiCTStem(first_kernel_depth, t[0], width)
        widths = (width, 2 * width, 4 * width, 8 * width)
        in_planes = width
        for i, (planes, blocks) in enumerate(zip(widths, layers)):
            spatial_stride = 1 if i == 0 else 2
            setattr(self, f"layer{i + 1}", MiCTStage(in_planes, planes, blocks, t[i + 1], spatial_stride))
            in_planes = planes
        self.dropout = nn.Dropout3d(dropout)  # drops whole channels of the 5D features
        self.fc = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(x).mean(dim=(3, 4))  # (N, C, T): spatial average pool
        # FC per time step, then the average over time, as the original.
        return self.fc(x.transpose(1, 2)).mean(dim=1)
