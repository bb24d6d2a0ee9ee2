"""The model zoo: MiCT-ResNet-18/34 and 3D-ResNet-18/34, one builder per variant (no Kedro).

``build_model(arch, num_classes=101, **options)`` is the entry point (:mod:`.builders`); the
architectures are in :mod:`.mict_resnet` and :mod:`.resnet3d`, outside weights (ImageNet, the
original's key names) in :mod:`.weights`, speed measurement in :mod:`.speed`. Checkpoints, which
carry an experiment as well as weights, are :mod:`mict_pipeline.checkpoint`.
"""

from .builders import (
    ARCHITECTURES,
    architecture_family,
    build_model,
    mict_resnet18,
    mict_resnet34,
    model_options,
    resnet3d_18,
    resnet3d_34,
)

__all__ = [
    "ARCHITECTURES",
    "architecture_family",
    "build_model",
    "mict_resnet18",
    "mict_resnet34",
    "model_options",
    "resnet3d_18",
    "resnet3d_34",
]
