"""Shared helpers for the model tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture
def randomize_batchnorm():
    """Give BatchNorm non-trivial statistics so eval-mode outputs depend on every tensor."""

    def randomize(model: torch.nn.Module, seed: int = 0) -> None:
        g = torch.Generator().manual_seed(seed)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.data.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.data.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)

    return randomize
