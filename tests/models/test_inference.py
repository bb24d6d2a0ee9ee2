"""Inference-only rewrites keep the outputs and leave the trained model alone."""

from __future__ import annotations

import pytest
import torch

from reference import OriginalMiCTResNet

from mict_pipeline.models import build_model
from mict_pipeline.models.inference import fold_batchnorm
from mict_pipeline.models.layout import to_channels_last
from mict_pipeline.models.speed import prepare_for_inference


@pytest.mark.parametrize("arch", ["mict_resnet18", "resnet3d_18"])
def test_folded_batchnorm_gives_the_same_logits_and_leaves_the_model_alone(arch, randomize_batchnorm):
    torch.manual_seed(0)
    model = build_model(arch, 7, width=16).eval()
    randomize_batchnorm(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in folded.modules())
    x = torch.randn(2, 3, 16, 48, 48)
    with torch.inference_mode():
        expected = model(x)
        torch.testing.assert_close(folded(x), expected, rtol=0, atol=1e-5)
        fast = prepare_for_inference(model, torch.device("cpu"), channels_last=True, fold_batchnorm=True)
        torch.testing.assert_close(fast(x.contiguous(memory_format=torch.channels_last_3d)), expected, rtol=0, atol=1e-5)
    assert model.state_dict().keys() == state.keys()
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_folding_applies_to_the_original_layout_too(randomize_batchnorm):
    # The benchmark folds the original's model as well, to compare like with like.
    torch.manual_seed(0)
    original = OriginalMiCTResNet((2, 2, 2, 2), num_classes=5).eval()
    randomize_batchnorm(original)
    folded = to_channels_last(fold_batchnorm(original))
    x = torch.randn(1, 3, 16, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(folded(x.contiguous(memory_format=torch.channels_last_3d)), original(x), rtol=0, atol=1e-5)
