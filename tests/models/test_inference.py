"""Inference-only rewrites keep the outputs and leave the trained model alone."""

from __future__ import annotations

import pytest
import torch

from reference import OriginalMiCTResNet

from mict_pipeline.models import ARCHITECTURES, build_model
from mict_pipeline.models.inference import FAST_PATH_KEEPS_OUTPUTS, fold_batchnorm, inference_model, uses_fast_path
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


def has_batchnorm(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def is_channels_last(model: torch.nn.Module) -> bool:
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    return all(p.is_contiguous(memory_format=formats[p.dim()]) for p in model.parameters() if p.dim() in formats)


def test_every_architecture_is_decided():
    # A new architecture must be checked and entered in the table (it runs as trained until then).
    assert set(FAST_PATH_KEEPS_OUTPUTS) == set(ARCHITECTURES)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_the_fast_path_keeps_each_architectures_outputs(arch, randomize_batchnorm):
    torch.manual_seed(0)
    model = build_model(arch, 5, width=8).eval()
    randomize_batchnorm(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    fast = inference_model(model, arch, "cpu")
    if not FAST_PATH_KEEPS_OUTPUTS[arch]:
        assert fast is model and has_batchnorm(fast)
        return
    assert fast is not model and not has_batchnorm(fast) and is_channels_last(fast)
    # Clips as the loader hands them over: normalised, channels_last_3d.
    x = torch.randn(6, 3, 16, 32, 32).contiguous(memory_format=torch.channels_last_3d)
    with torch.inference_mode():
        expected, got = model(x).softmax(1), fast(x).softmax(1)
    assert torch.equal(got.argmax(1), expected.argmax(1))
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)
    assert has_batchnorm(model) and all(torch.equal(v, state[k]) for k, v in model.state_dict().items())


def test_the_fast_path_is_for_the_cpu_and_can_be_turned_off():
    model = build_model("mict_resnet18", 5, width=8)
    assert uses_fast_path("mict_resnet18", "cpu") and uses_fast_path("resnet3d_18", torch.device("cpu"))
    assert not uses_fast_path("mict_resnet18", "cpu", fast=False)
    assert not uses_fast_path("mict_resnet18", "cuda") and not uses_fast_path("mict_resnet18", "cuda:1")
    assert not uses_fast_path("an_unchecked_arch", "cpu")
    plain = inference_model(model, "mict_resnet18", "cpu", fast=False)
    assert plain is model and not plain.training and has_batchnorm(plain)
