"""Weights from outside the project, kept apart from the architectures: ImageNet transfer and the
key layout of the original MiCT-Net-PyTorch checkpoints.

Two outside key layouts map onto this project's modules:

* torchvision's 2D ResNet (``conv1``, ``bn1``, ``layerN.I.*``): ImageNet initialisation. MiCT copies
  it into its 2D branch; the 3D-ResNet inflates every 2D kernel along time.
* the original MiCT-Net-PyTorch checkpoints (``{'epoch', 'state_dict', 'optimizer', 'best_pred'}``):
  MiCT uses ``conv1``/``bn1`` (2D stem), ``conv2``/``bn2`` (3D stem),
  ``layerN.bottlenecks.I.*``, ``layerN.conv``/``layerN.bn`` (stage 3D conv); the 3D-ResNet uses
  torchvision's names. Reading such a file is :func:`mict_pipeline.checkpoint.import_seed_checkpoint`.

One rename table per architecture family serves both.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch
from torch import nn

from mict_pipeline.errors import UserError

# (pattern, replacement) applied in order, first match wins.
_MICT_RENAMES = [
    (r"^conv1\.", "stem.stem_2d.0."),
    (r"^bn1\.", "stem.stem_2d.1."),
    (r"^conv2\.", "stem.stem_3d.0."),
    (r"^bn2\.", "stem.stem_3d.1."),
    (r"^(layer\d)\.(?:bottlenecks\.)?(\d+)\.", r"\1.blocks.\2."),
    (r"^(layer\d)\.conv\.", r"\1.conv3d.0."),
    (r"^(layer\d)\.bn\.", r"\1.conv3d.1."),
]
_RESNET3D_RENAMES = [
    (r"^conv1\.", "stem.0."),
    (r"^bn1\.", "stem.1."),
]
RENAMES = {"mict": _MICT_RENAMES, "resnet3d": _RESNET3D_RENAMES}

# torchvision's ImageNet ResNets have 64 channels in their first stage.
IMAGENET_WIDTH = 64


def rename_keys(state_dict: dict[str, torch.Tensor], family: str) -> dict[str, torch.Tensor]:
    """Map an outside ResNet / MiCT-Net state_dict onto this project's module names."""
    renamed = {}
    for key, value in state_dict.items():
        key = key.removeprefix("module.")  # saved from nn.DataParallel / DDP
        for pattern, replacement in RENAMES[family]:
            new_key, hits = re.subn(pattern, replacement, key)
            if hits:
                key = new_key
                break
        renamed[key] = value
    return renamed


def inflate_kernel(weight_2d: torch.Tensor, depth: int) -> torch.Tensor:
    """Repeat a 2D kernel ``depth`` times along time and divide by ``depth``.

    A clip of one repeated frame then gives the same response as the 2D kernel on that frame.
    """
    return weight_2d.unsqueeze(2).repeat(1, 1, depth, 1, 1) / depth


class PretrainedWeightsError(UserError, OSError):
    """ImageNet weights that cannot be had: no network, no such file, not a state_dict."""


#: Where ``pretrained`` is set, and how to give it a file or turn it off.
PRETRAINED_FIX = (
    "in conf/<env>/parameters.yml, under experiments.<name>.model, point `pretrained:` at a downloaded torchvision file "
    "(`pretrained: /path/to/{file}`) or turn it off (`pretrained: false`)"
)


def load_imagenet_resnet(depth: int, source: bool | str | Path) -> dict[str, torch.Tensor]:
    """torchvision's ImageNet ResNet-``depth`` state_dict (hash-checked download, or torch's cache),
    or one from a file (read without running code from it). Weights that cannot be had are a
    :class:`PretrainedWeightsError` naming them and the fix."""
    from torchvision.models import ResNet18_Weights, ResNet34_Weights

    weights = {18: ResNet18_Weights.IMAGENET1K_V1, 34: ResNet34_Weights.IMAGENET1K_V1}[depth]
    file = Path(weights.url).name
    fix = PRETRAINED_FIX.format(file=file)
    if source is True:
        try:
            return weights.get_state_dict(progress=True, check_hash=True)
        except OSError as error:  # URLError, no route, a cache folder that cannot be written
            raise PretrainedWeightsError(
                f"model.pretrained: true: torchvision's ImageNet ResNet-{depth} weights ({weights.url}) cannot be fetched "
                f"({getattr(error, 'reason', None) or error}). Fix: {fix}"
            ) from None
    path = Path(source)
    if not path.is_file():
        raise PretrainedWeightsError(f"model.pretrained: {source}: no such file. Fix: {fix}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # not a torch file, or pickled code that weights_only refuses to run
        raise PretrainedWeightsError(
            f"model.pretrained: {source}: not a ResNet-{depth} state_dict ({str(error).splitlines()[0]}). Fix: {fix}"
        ) from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise PretrainedWeightsError(f"model.pretrained: {source}: holds no state_dict of tensors. Fix: {fix}")
    return state


def transfer_imagenet_weights(model: nn.Module, resnet_state: dict[str, torch.Tensor], family: str) -> None:
    """Copy ImageNet ResNet weights into ``model`` (inflating 2D kernels into 3D ones where needed).

    The classifier is not copied: it has 1000 ImageNet classes. Every other ResNet tensor must find
    its place; layers without a 2D counterpart (MiCT's 3D convolutions) keep their initialisation.
    """
    own = model.state_dict()
    mapped = rename_keys({k: v for k, v in resnet_state.items() if not k.startswith("fc.")}, family)
    missing = sorted(set(mapped) - set(own))
    if missing:
        raise ValueError(f"ImageNet state_dict has keys this model lacks (is it a ResNet of the right depth?): {missing[:5]}")
    for key, value in mapped.items():
        target = own[key]
        if value.dim() == 4 and target.dim() == 5:
            value = inflate_kernel(value, target.shape[2])
        if value.shape != target.shape:
            raise ValueError(f"ImageNet weight {key!r} has shape {tuple(value.shape)}, model expects {tuple(target.shape)}")
        target.copy_(value)


def load_state_into(model: nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """``load_state_dict(strict=True)`` whose error says which keys and shapes did not fit."""
    own = model.state_dict()
    # Checkpoints from PyTorch < 0.4.1 have no BatchNorm step counters; they are not weights.
    state_dict = {**{k: v for k, v in own.items() if k.endswith("num_batches_tracked")}, **state_dict}
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    wrong_shape = [
        f"{k}: {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state_dict))
        if state_dict[k].shape != own[k].shape
    ]
    if missing or unexpected or wrong_shape:
        raise ValueError(
            f"{source} does not fit this model (wrong architecture, options or number of classes?). "
            f"missing keys: {missing[:5]}{' ...' if len(missing) > 5 else ''}; "
            f"unexpected keys: {unexpected[:5]}{' ...' if len(unexpected) > 5 else ''}; "
            f"shape mismatches: {wrong_shape[:5]}"
        )
    model.load_state_dict(state_dict)


#: The classifier of every architecture here; everything else is the backbone.
CLASSIFIER = "fc."


def transfer_backbone(model: nn.Module, state_dict: dict[str, torch.Tensor], source: str) -> None:
    """Load every weight of ``state_dict`` but the classifier's into ``model`` (same architecture
    and options, any class count); ``model`` keeps its own, new classifier."""
    own_classifier = {k: v for k, v in model.state_dict().items() if k.startswith(CLASSIFIER)}
    backbone = {k: v for k, v in state_dict.items() if not k.startswith(CLASSIFIER)}
    load_state_into(model, {**backbone, **own_classifier}, source)
