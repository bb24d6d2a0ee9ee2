"""The model zoo: shapes, exact parameter counts, option errors, equivalence with the original."""

from __future__ import annotations

import pytest
import torch

from reference import OriginalMiCTResNet

from mict_pipeline.models import build_model, model_options
from mict_pipeline.models.layout import clips_to_frames, frames_to_clips, to_channels_last
from mict_pipeline.models.weights import load_state_into, rename_keys


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("arch", "options", "expected"),
    [
        ("mict_resnet18", {}, 16_051_685),
        ("mict_resnet18", {"first_kernel_depth": 5}, 16_032_869),
        ("mict_resnet18", {"first_kernel_depth": 3}, 16_014_053),
        ("mict_resnet18", {"version": "v2"}, 16_051_685),
        ("mict_resnet34", {}, 26_159_845),
        ("resnet3d_18", {}, 33_255_717),
    ],
)
def test_parameter_counts_match_the_original(arch, options, expected):
    assert n_params(build_model(arch, 101, **options)) == expected


@pytest.mark.parametrize(
    ("arch", "options"),
    [(a, {"version": v}) for a in ("mict_resnet18", "mict_resnet34") for v in ("v1", "v2")] + [("resnet3d_18", {}), ("resnet3d_34", {})],
)
@pytest.mark.parametrize("frames", [16, 7])
def test_output_shape(arch, options, frames):
    model = build_model(arch, num_classes=5, width=16, **options).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 3, frames, 64, 64))
    assert out.shape == (2, 5)
    assert torch.isfinite(out).all()


def test_clips_frames_round_trip_is_a_view_in_channels_last():
    x = torch.randn(2, 8, 6, 5, 4).contiguous(memory_format=torch.channels_last_3d)
    frames = clips_to_frames(x)
    assert frames.is_contiguous(memory_format=torch.channels_last)
    assert frames.data_ptr() == x.data_ptr()  # no copy
    assert torch.equal(frames[7], x[1, :, 1])  # clip-major: clip 1, frame 1
    back = frames_to_clips(frames, 2)
    assert torch.equal(back, x) and back.is_contiguous(memory_format=torch.channels_last_3d)
    assert torch.equal(clips_to_frames(x, 2)[4], x[1, :, 2])  # frames 0, 2, 4 of each clip


@pytest.mark.parametrize(
    ("arch", "options", "message"),
    [
        ("mict_resnet50", {}, "valid architectures: mict_resnet18, mict_resnet34, resnet3d_18, resnet3d_34"),
        ("mict_resnet18", {"depth": 3}, "valid options: ['version', 'first_kernel_depth', 'dropout', 'width', 'zero_init_residual', 'pretrained']"),
        ("resnet3d_18", {"version": "v2"}, "valid options: ['dropout', 'width', 'zero_init_residual', 'pretrained']"),
        ("mict_resnet18", {"version": "v3"}, "version must be one of ['v1', 'v2']"),
        ("mict_resnet18", {"first_kernel_depth": 4}, "first_kernel_depth must be one of [3, 5, 7]"),
        ("resnet3d_18", {"dropout": 1.5}, "dropout must be in [0, 1)"),
        ("resnet3d_18", {"width": 0}, "width must be a positive integer"),
        ("mict_resnet18", {"width": 16, "pretrained": True}, "pretrained ImageNet weights need width=64, got width=16"),
    ],
)
def test_bad_options_raise_value_error_listing_valid_ones(arch, options, message):
    with pytest.raises(ValueError) as err:
        build_model(arch, **options)
    assert message in str(err.value)


def test_bad_num_classes():
    with pytest.raises(ValueError, match="num_classes must be a positive integer"):
        build_model("mict_resnet18", num_classes=0)


def test_model_options_lists_builder_arguments():
    assert model_options("mict_resnet34") == ["version", "first_kernel_depth", "dropout", "width", "zero_init_residual", "pretrained"]


@pytest.mark.parametrize(("arch", "expected"), [("mict_resnet18", 266_069), ("resnet3d_18", 533_629)])
def test_width_scales_every_stage(arch, expected):
    # width 8 instead of 64: every convolution has 8x fewer inputs and outputs, the classifier 8x fewer inputs.
    model = build_model(arch, 101, width=8)
    assert n_params(model) == expected
    assert model.fc.in_features == 64 and model.layer1.state_dict()[next(iter(model.layer1.state_dict()))].shape[0] == 8


@pytest.mark.parametrize(("version", "k", "frames"), [("v1", 7, 16), ("v2", 3, 16), ("v1", 5, 9)])
def test_same_logits_as_the_original_mechanics(version, k, frames, randomize_batchnorm):
    torch.manual_seed(0)
    original = OriginalMiCTResNet((2, 2, 2, 2), num_classes=11, version=version, first_kernel_depth=k).eval()
    randomize_batchnorm(original)
    model = build_model("mict_resnet18", 11, version=version, first_kernel_depth=k).eval()
    load_state_into(model, rename_keys(original.state_dict(), "mict"), "reference")
    x = torch.randn(2, 3, frames, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), original(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("arch", ["mict_resnet18", "resnet3d_18"])
def test_channels_last_and_bf16_autocast_keep_outputs(arch):
    torch.manual_seed(0)
    model = build_model(arch, 7).eval()
    x = torch.randn(1, 3, 16, 64, 64)
    with torch.no_grad():
        expected = model(x)
        model_cl = to_channels_last(model)
        channels_last = model_cl(x.contiguous(memory_format=torch.channels_last_3d))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16 = model_cl(x.contiguous(memory_format=torch.channels_last_3d))
    torch.testing.assert_close(channels_last, expected, rtol=1e-4, atol=1e-4)
    assert bf16.dtype == torch.bfloat16
    assert torch.nn.functional.cosine_similarity(bf16.float(), expected).min() > 0.99


def test_torch_compile_captures_one_graph():
    torch._dynamo.reset()
    model = build_model("mict_resnet18", 5).eval()
    # fullgraph=True fails on any graph break; aot_eager traces forward without the C++ compiler.
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    x = torch.randn(1, 3, 16, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)


def test_training_step_updates_every_parameter():
    model = build_model("mict_resnet18", 4, dropout=0.0).train()
    loss = torch.nn.functional.cross_entropy(model(torch.randn(2, 3, 16, 32, 32)), torch.tensor([0, 3]))
    loss.backward()
    no_grad = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum()]
    assert no_grad == []


@pytest.mark.parametrize("arch", ["mict_resnet18", "resnet3d_18"])
def test_zero_init_residual_starts_every_block_as_identity(arch):
    """With the option, every residual branch's last BN scale is zero; without it, none is."""
    def residual_scales(model):
        return [m.bn2.weight for name, m in model.named_modules() if hasattr(m, "bn2") and hasattr(m, "conv2")]

    zeroed, plain = build_model(arch, 5, zero_init_residual=True), build_model(arch, 5)
    assert len(residual_scales(zeroed)) == 8
    assert all(torch.count_nonzero(w) == 0 for w in residual_scales(zeroed))
    assert all(torch.count_nonzero(w) == w.numel() for w in residual_scales(plain))
