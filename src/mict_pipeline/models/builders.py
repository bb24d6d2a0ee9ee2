"""One builder per architecture variant, and ``build_model(arch, num_classes, **options)``.

Options are validated against the builder's signature, so an unknown one is named with the valid
ones. Builders make the architecture and its initialisation; weights from files (checkpoints) are
loaded apart from them (:mod:`mict_pipeline.checkpoint`).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from .blocks import BasicBlock
from .mict_resnet import FIRST_KERNEL_DEPTHS, TEMPORAL_STRIDES, MiCTResNet
from .resnet3d import ResNet3d
from .weights import IMAGENET_WIDTH, load_imagenet_resnet, transfer_imagenet_weights

_LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

Pretrained = bool | str | os.PathLike


def _validate_common(num_classes: int, dropout: float, width: int, pretrained: Pretrained) -> None:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    if not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive integer, got {width!r}")
    if pretrained and width != IMAGENET_WIDTH:
        raise ValueError(f"pretrained ImageNet weights need width={IMAGENET_WIDTH}, got width={width}")


def _zero_init_residual(model: nn.Module) -> None:
    """Zero the last BatchNorm scale of every residual block, so each block starts as the identity.

    torchvision's ``zero_init_residual`` (Goyal et al., 2017): it makes training from scratch start
    from a shallow network and take off within an epoch. ImageNet weights, loaded after, replace it.
    """
    for module in model.modules():
        if isinstance(module, BasicBlock):
            nn.init.zeros_(module.bn2.weight)


def _initialise(model: nn.Module, depth: int, family: str, zero_init_residual: bool, pretrained: Pretrained) -> nn.Module:
    """Zero-init the residual blocks if asked, then copy (or inflate) ImageNet weights if asked."""
    if zero_init_residual:
        _zero_init_residual(model)
    if pretrained:
        with torch.no_grad():
            transfer_imagenet_weights(model, load_imagenet_resnet(depth, pretrained), family)
    return model


def _mict_resnet(
    depth: int, num_classes: int, version: str, first_kernel_depth: int, dropout: float, width: int,
    zero_init_residual: bool, pretrained: Pretrained,
) -> MiCTResNet:
    _validate_common(num_classes, dropout, width, pretrained)
    if version not in TEMPORAL_STRIDES:
        raise ValueError(f"version must be one of {sorted(TEMPORAL_STRIDES)}, got {version!r}")
    if first_kernel_depth not in FIRST_KERNEL_DEPTHS:
        raise ValueError(f"first_kernel_depth must be one of {list(FIRST_KERNEL_DEPTHS)}, got {first_kernel_depth!r}")
    model = MiCTResNet(_LAYERS[depth], num_classes, version, first_kernel_depth, dropout, width)
    return _initialise(model, depth, "mict", zero_init_residual, pretrained)


def _resnet3d(
    depth: int, num_classes: int, dropout: float, width: int, zero_init_residual: bool, pretrained: Pretrained
) -> ResNet3d:
    _validate_common(num_classes, dropout, width, pretrained)
    model = ResNet3d(_LAYERS[depth], num_classes, dropout, width)
    return _initialise(model, depth, "resnet3d", zero_init_residual, pretrained)


def mict_resnet18(
    num_classes: int = 101,
    version: str = "v1",
    first_kernel_depth: int = 7,
    dropout: float = 0.5,
    width: int = 64,
    zero_init_residual: bool = False,
    pretrained: Pretrained = False,
) -> MiCTResNet:
    """MiCT-ResNet-18: 16,051,685 parameters with 101 classes and first_kernel_depth=7."""
    return _mict_resnet(18, num_classes, version, first_kernel_depth, dropout, width, zero_init_residual, pretrained)


def mict_resnet34(
    num_classes: int = 101,
    version: str = "v1",
    first_kernel_depth: int = 7,
    dropout: float = 0.5,
    width: int = 64,
    zero_init_residual: bool = False,
    pretrained: Pretrained = False,
) -> MiCTResNet:
    """MiCT-ResNet-34: 26,159,845 parameters with 101 classes and first_kernel_depth=7."""
    return _mict_resnet(34, num_classes, version, first_kernel_depth, dropout, width, zero_init_residual, pretrained)


def resnet3d_18(
    num_classes: int = 101, dropout: float = 0.5, width: int = 64, zero_init_residual: bool = False, pretrained: Pretrained = False
) -> ResNet3d:
    """3D-ResNet-18 (Hara et al.): 33,255,717 parameters with 101 classes."""
    return _resnet3d(18, num_classes, dropout, width, zero_init_residual, pretrained)


def resnet3d_34(
    num_classes: int = 101, dropout: float = 0.5, width: int = 64, zero_init_residual: bool = False, pretrained: Pretrained = False
) -> ResNet3d:
    """3D-ResNet-34 (Hara et al.): 63,565,349 parameters with 101 classes."""
    return _resnet3d(34, num_classes, dropout, width, zero_init_residual, pretrained)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mict_resnet18": mict_resnet18,
    "mict_resnet34": mict_resnet34,
    "resnet3d_18": resnet3d_18,
    "resnet3d_34": resnet3d_34,
}


def architecture_family(arch: str) -> str:
    """``"mict"`` or ``"resnet3d"``: which key layout ``arch``'s weights have (:mod:`.weights`)."""
    return "mict" if _builder(arch) in (mict_resnet18, mict_resnet34) else "resnet3d"


def _builder(arch: str) -> Callable[..., nn.Module]:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; valid architectures: {', '.join(ARCHITECTURES)}")
    return ARCHITECTURES[arch]


def model_options(arch: str) -> list[str]:
    """The option names ``build_model`` accepts for ``arch`` (besides ``num_classes``)."""
    return [p for p in inspect.signature(_builder(arch)).parameters if p != "num_classes"]


def build_model(arch: str, num_classes: int = 101, **options: Any) -> nn.Module:
    """Build ``arch`` for ``num_classes`` classes.

    Options: ``version`` ("v1" or "v2", MiCT only), ``first_kernel_depth`` (3, 5 or 7, MiCT only),
    ``dropout`` (0.5), ``width`` (64: channels of the first stage, doubled by each later one; a
    narrow network for CPU smoke runs and tests), ``zero_init_residual`` (False: True starts every
    residual block as the identity, for training from scratch) and ``pretrained`` (False; True =
    torchvision's ImageNet ResNet weights, hash-checked; or a path to a ResNet state_dict for
    offline machines). Input (N, 3, T, H, W) float, output (N, num_classes) logits.
    """
    builder = _builder(arch)
    unknown = sorted(set(options) - set(model_options(arch)))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {arch!r}; valid options: {model_options(arch)}")
    return builder(num_classes=num_classes, **options)
