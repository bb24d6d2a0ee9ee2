"""The model zoo: MiCT-ResNet-18/34 and 3D-ResNet-18/34, one builder per variant.

``build_model(arch, num_classes=101, **options)`` is the entry point; options are validated against
the builder's signature so an unknown one is named with the valid ones.
"""

from __future__ import annotations

import functools
import inspect
import os
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock

from ..atomic import write_atomic
from .mict_resnet import FIRST_KERNEL_DEPTHS, TEMPORAL_STRIDES, MiCTResNet
from .resnet3d import BasicBlock3d, ResNet3d
from .weights import (
    CHECKPOINT_FORMAT,
    load_imagenet_resnet,
    load_state_into,
    read_checkpoint,
    rename_keys,
    transfer_imagenet_weights,
)

_LAYERS = {18: (2, 2, 2, 2), 34: (3, 4, 6, 3)}

Pretrained = bool | str | os.PathLike


def _validate_common(num_classes: int, dropout: float) -> None:
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer, got {num_classes!r}")
    if not 0.0 <= float(dropout) < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")


def _zero_init_residual(model: nn.Module) -> None:
    """Zero the last BatchNorm scale of every residual block, so each block starts as the identity.

    torchvision's ``zero_init_residual`` (Goyal et al., 2017): it makes training from scratch start
    from a shallow network and take off within an epoch. ImageNet weights, loaded after, replace it.
    """
    for module in model.modules():
        if isinstance(module, (BasicBlock, BasicBlock3d)):
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
    depth: int, num_classes: int, version: str, first_kernel_depth: int, dropout: float, zero_init_residual: bool, pretrained: Pretrained
) -> MiCTResNet:
    _validate_common(num_classes, dropout)
    if version not in TEMPORAL_STRIDES:
        raise ValueError(f"version must be one of {sorted(TEMPORAL_STRIDES)}, got {version!r}")
    if first_kernel_depth not in FIRST_KERNEL_DEPTHS:
        raise ValueError(f"first_kernel_depth must be one of {list(FIRST_KERNEL_DEPTHS)}, got {first_kernel_depth!r}")
    model = MiCTResNet(_LAYERS[depth], num_classes, version, first_kernel_depth, dropout)
    return _initialise(model, depth, "mict", zero_init_residual, pretrained)


def _r3d(depth: int, num_classes: int, dropout: float, zero_init_residual: bool, pretrained: Pretrained) -> ResNet3d:
    _validate_common(num_classes, dropout)
    model = ResNet3d(_LAYERS[depth], num_classes, dropout)
    return _initialise(model, depth, "r3d", zero_init_residual, pretrained)


def mict_resnet18(
    num_classes: int = 101,
    version: str = "v1",
    first_kernel_depth: int = 7,
    dropout: float = 0.5,
    zero_init_residual: bool = False,
    pretrained: Pretrained = False,
) -> MiCTResNet:
    """MiCT-ResNet-18: 16,051,685 parameters with 101 classes and first_kernel_depth=7."""
    return _mict_resnet(18, num_classes, version, first_kernel_depth, dropout, zero_init_residual, pretrained)


def mict_resnet34(
    num_classes: int = 101,
    version: str = "v1",
    first_kernel_depth: int = 7,
    dropout: float = 0.5,
    zero_init_residual: bool = False,
    pretrained: Pretrained = False,
) -> MiCTResNet:
    """MiCT-ResNet-34: 26,159,845 parameters with 101 classes and first_kernel_depth=7."""
    return _mict_resnet(34, num_classes, version, first_kernel_depth, dropout, zero_init_residual, pretrained)


def r3d_18(
    num_classes: int = 101, dropout: float = 0.5, zero_init_residual: bool = False, pretrained: Pretrained = False
) -> ResNet3d:
    """3D-ResNet-18 (Hara et al.): 33,255,717 parameters with 101 classes."""
    return _r3d(18, num_classes, dropout, zero_init_residual, pretrained)


def r3d_34(
    num_classes: int = 101, dropout: float = 0.5, zero_init_residual: bool = False, pretrained: Pretrained = False
) -> ResNet3d:
    """3D-ResNet-34 (Hara et al.)."""
    return _r3d(34, num_classes, dropout, zero_init_residual, pretrained)


ARCHITECTURES: dict[str, Callable[..., nn.Module]] = {
    "mict_resnet18": mict_resnet18,
    "mict_resnet34": mict_resnet34,
    "r3d_18": r3d_18,
    "r3d_34": r3d_34,
}


def _family(arch: str) -> str:
    return "mict" if arch.startswith("mict") else "r3d"


def model_options(arch: str) -> list[str]:
    """The option names ``build_model`` accepts for ``arch`` (besides ``num_classes``)."""
    return [p for p in inspect.signature(_builder(arch)).parameters if p != "num_classes"]


def _builder(arch: str) -> Callable[..., nn.Module]:
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; valid architectures: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch]


def build_model(arch: str, num_classes: int = 101, **options: Any) -> nn.Module:
    """Build ``arch`` for ``num_classes`` classes.

    Options: ``version`` ("v1" or "v2", MiCT only), ``first_kernel_depth`` (3, 5 or 7, MiCT only),
    ``dropout`` (0.5), ``zero_init_residual`` (False: True starts every residual block as the
    identity, for training from scratch) and ``pretrained`` (False; True = torchvision's ImageNet ResNet weights,
    hash-checked; or a path to a ResNet state_dict for offline machines).
    Input (N, 3, T, H, W) float, output (N, num_classes) logits.
    """
    builder = _builder(arch)
    unknown = sorted(set(options) - set(model_options(arch)))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {arch!r}; valid options: {model_options(arch)}")
    return builder(num_classes=num_classes, **options)


def save_model(path: str | os.PathLike, model: nn.Module, arch: str, num_classes: int, **options: Any) -> Path:
    """Write the model's weights with what is needed to rebuild it; atomic (temp file, then rename),
    and the same weights give the same bytes."""
    options = {k: v for k, v in options.items() if k != "pretrained"}
    payload = {"format": CHECKPOINT_FORMAT, "arch": arch, "num_classes": num_classes, "options": options, "model": model.state_dict()}
    return write_atomic(path, functools.partial(torch.save, payload))


def load_model(path: str | os.PathLike) -> nn.Module:
    """Rebuild the model a checkpoint written by ``save_model`` (such as a trained ``best.pt``) describes, in eval mode."""
    checkpoint = read_checkpoint(path)
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"checkpoint {path} was not written by this project (no {CHECKPOINT_FORMAT!r} format tag): "
            "load it with import_seed_checkpoint(path, arch, ...) and the architecture it holds"
        )
    model = build_model(checkpoint["arch"], checkpoint["num_classes"], **checkpoint["options"])
    load_state_into(model, checkpoint["model"], f"checkpoint {path}")
    return model.eval()


def import_seed_checkpoint(path: str | os.PathLike, arch: str, num_classes: int = 101, **options: Any) -> nn.Module:
    """Load a checkpoint of the original MiCT-Net-PyTorch (or one of this project's) into ``arch``.

    The original saves ``{'epoch', 'state_dict', 'optimizer', 'best_pred'}``; its key names are mapped
    one-to-one onto this project's modules. The model is returned in eval mode.
    """
    checkpoint = read_checkpoint(path)
    if not isinstance(checkpoint, dict):
        raise ValueError(f"checkpoint {path} holds a {type(checkpoint).__name__}, expected a dict with a state_dict")
    if checkpoint.get("format") == CHECKPOINT_FORMAT:
        if checkpoint["arch"] != arch:
            raise ValueError(f"checkpoint {path} is a {checkpoint['arch']!r} model, not {arch!r}: pass arch={checkpoint['arch']!r}")
        state_dict = checkpoint["model"]
    else:
        state_dict = rename_keys(checkpoint.get("state_dict", checkpoint), _family(arch))
    model = build_model(arch, num_classes, **options)
    load_state_into(model, state_dict, f"checkpoint {path}")
    return model.eval()


__all__ = [
    "ARCHITECTURES",
    "build_model",
    "import_seed_checkpoint",
    "load_model",
    "mict_resnet18",
    "mict_resnet34",
    "model_options",
    "r3d_18",
    "r3d_34",
    "save_model",
]
