"""Inference-only rewrites of a trained model that keep its outputs (up to float rounding).

``fold_batchnorm`` folds each eval-mode BatchNorm into the convolution before it: the convolution
gets ``w * gamma / sqrt(var + eps)`` and a bias, the BatchNorm becomes an identity. That removes a
full read and write of every feature map per BatchNorm, which on a CPU is most of the time not
spent in convolutions (docs/benchmarks.md, the batch-8 profile). It returns a copy, so the model
that is trained or saved keeps its parameters and ``state_dict`` keys.
"""

from __future__ import annotations

import copy

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

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
