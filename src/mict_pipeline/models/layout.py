"""Conversions between clip tensors (N, C, T, H, W) and frame batches (N*T, C, H, W).

MiCT runs its 2D ResNet blocks on every frame of every clip at once. The original stacks the
frames with a per-sample split and concatenation; here each direction is one transpose plus one
reshape. When the clip tensor is in ``channels_last_3d`` memory format the frame batch comes out
in ``channels_last`` (and back) without copying, so no layout conversion happens between the 3D
and 2D branches.
"""

from __future__ import annotations

import torch


def clips_to_frames(x: torch.Tensor, temporal_stride: int = 1) -> torch.Tensor:
    """(N, C, T, H, W) -> (N * T', C, H, W) with frames ``0, s, 2s, ...`` of each clip, clip-major."""
    if temporal_stride > 1:
        x = x[:, :, ::temporal_stride]
    n, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(n * t, c, h, w)


def frames_to_clips(x: torch.Tensor, batch_size: int) -> torch.Tensor:
    """(N * T, C, H, W) -> (N, C, T, H, W), the inverse of :func:`clips_to_frames`."""
    nt, c, h, w = x.shape
    return x.reshape(batch_size, nt // batch_size, c, h, w).transpose(1, 2)


def to_channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """Put 2D kernels in ``channels_last`` and 3D kernels in ``channels_last_3d``, in place.

    ``Module.to(memory_format=...)`` takes one format for all weights, which fails on MiCT's mix of
    4D and 5D kernels. Call it before creating the optimizer: parameters keep their identity.
    """
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    for param in model.parameters():
        if param.dim() in formats:
            param.data = param.data.contiguous(memory_format=formats[param.dim()])
    return model
