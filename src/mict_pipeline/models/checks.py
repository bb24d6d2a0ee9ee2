"""Models set up for checking what rewrites them (BatchNorm folding, weight mappings to and from
the original's code), in the tests and the benchmarks.

A freshly built model's BatchNorm is the identity (mean 0, variance 1, weight 1, bias 0), so a
rewrite that mishandled it would still give the same outputs; seeded, non-trivial statistics make
every BatchNorm tensor count.
"""

from __future__ import annotations

import torch
from torch import nn


def randomize_batchnorm(model: nn.Module, seed: int = 0) -> nn.Module:
    """Give every BatchNorm of ``model`` seeded non-trivial statistics and affine weights, in place."""
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return model
