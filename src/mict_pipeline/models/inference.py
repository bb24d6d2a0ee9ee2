"""Inference-only rewrites of a trained model that keep its outputs (up to float rounding).

``fold_batchnorm`` folds each eval-mode BatchNorm into the convolution before it: the convolution
gets ``w * gamma / sqrt(var + eps)`` and a bias, the BatchNorm becomes an identity. That removes a
full read and write of every feature map per BatchNorm, which on a CPU is most of the time not
spent in convolutions (docs/benchmarks.md, the batch-8 profile). It returns a copy, so the model
that is trained or saved keeps its parameters and ``state_dict`` keys.

``inference_model`` is the one place that decides what evaluation and ``predict`` run: on a CPU,
the folded copy with channels-last weights (oneDNN's pooling and convolutions are fastest in that
layout, and the clips already arrive in it), for the architectures checked to keep the outputs.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .layout import to_channels_last

_CONVOLUTIONS = (nn.Conv2d, nn.Conv3d)
_BATCHNORMS = (nn.BatchNorm2d, nn.BatchNorm3d)


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy of ``model`` with every BatchNorm folded into the convolution before it.

    "Before it" is the previous child of the same parent in registration order, which is the data
    flow in this project's models (``conv1``/``bn1``, ``Sequential(conv, bn, relu)``) and in the
    original MiCT-Net-PyTorch's; the tests check the outputs stay the same. Only for inference:
    the folded copy has no BatchNorm statistics to train or save.
    """
    folded = copy.deepcopy(model).eval()
    for parent in list(folded.modules()):
        previous_name, previous = None, None
        for name, child in list(parent.named_children()):
            if isinstance(child, _BATCHNORMS) and isinstance(previous, _CONVOLUTIONS):
                setattr(parent, previous_name, fuse_conv_bn_eval(previous, child))
                setattr(parent, name, nn.Identity())
            previous_name, previous = name, child
    return folded


#: Whether the folded, channels-last copy of each architecture keeps its outputs (top-1 identical,
#: softmax scores within 1e-5): folding trusts that each BatchNorm follows its convolution in
#: registration order, which is an architecture's property, not a model's. Every architecture of
#: ``mict_pipeline.models.ARCHITECTURES`` must be decided here, and the tests check each True entry
#: (tests/models/test_inference.py); a new architecture runs as trained until it is added.
FAST_PATH_KEEPS_OUTPUTS: dict[str, bool] = {
    "mict_resnet18": True,
    "mict_resnet34": True,
    "resnet3d_18": True,
    "resnet3d_34": True,
}


def uses_fast_path(arch: str, device: torch.device | str, fast: bool = True) -> bool:
    """Whether :func:`inference_model` folds ``arch`` on ``device``: on a CPU only, where BatchNorm
    and layout conversions cost a large share of the time; on a GPU the model runs as trained."""
    return fast and torch.device(device).type == "cpu" and FAST_PATH_KEEPS_OUTPUTS.get(arch, False)


def inference_model(model: nn.Module, arch: str, device: torch.device | str, fast: bool = True) -> nn.Module:
    """The model that evaluation and ``predict`` run: ``model`` in eval mode on ``device`` or, when
    :func:`uses_fast_path`, a copy with BatchNorm folded and channels-last weights. ``model`` keeps
    its parameters and ``state_dict`` (it is moved to ``device``, as any evaluation does)."""
    model = model.eval().to(device)
    return to_channels_last(fold_batchnorm(model)) if uses_fast_path(arch, device, fast) else model
