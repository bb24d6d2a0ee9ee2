"""The training recipe: optimiser, schedule, batch, precision, read from a parameters block."""

from __future__ import annotations

import dataclasses

import torch

from mict_pipeline.config import ConfigError, dataclass_from_params

AMP_MODES = ("auto", "off", "bf16", "fp16")
OPTIMIZERS = ("sgd", "adamw")
DECODERS = ("worker", "device")


def resolve_device(device: str) -> torch.device:
    """``auto`` means CUDA when available, else the CPU."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """SGD with momentum and a step schedule (lr / 10 at each milestone epoch), as the original.

    ``optimizer: adamw`` (``momentum`` unused) is for short from-scratch runs such as the CPU demo,
    where SGD at the original's learning rate diverges without ImageNet weights.
    """

    epochs: int
    batch_size: int
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    lr_milestones: tuple[int, ...] = ()
    lr_gamma: float = 0.1
    workers: int = 4
    prefetch_factor: int = 4  # batches each worker prepares ahead
    # Where training clips are decoded and augmented: in the loader workers, or on the training
    # device (nvJPEG on a GPU), the workers only reading (mict_pipeline.data.device_clips).
    decode: str = "worker"
    eval_batch_size: int = 32
    amp: str = "auto"  # auto: bf16 where the GPU supports it, else fp16 with a grad scaler; off on CPU
    channels_last: bool = True  # on GPU only
    compile: bool = False
    device: str = "auto"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"recipe.optimizer must be one of {list(OPTIMIZERS)}, got {self.optimizer!r}")
        if self.decode not in DECODERS:
            raise ConfigError(f"recipe.decode must be one of {list(DECODERS)}, got {self.decode!r}")
        if self.prefetch_factor < 1:
            raise ConfigError(f"recipe.prefetch_factor must be positive, got {self.prefetch_factor}")
        if self.amp not in AMP_MODES:
            raise ConfigError(f"recipe.amp must be one of {list(AMP_MODES)}, got {self.amp!r}")
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError(f"recipe.epochs and recipe.batch_size must be positive, got {self.epochs} and {self.batch_size}")

    @classmethod
    def from_params(cls, params: dict, where: str = "recipe") -> Recipe:
        """Build from a parameters block; a missing or unknown key is named with the valid ones."""
        return dataclass_from_params(cls, params, where)

    def make_optimizer(self, parameters) -> torch.optim.Optimizer:
        if self.optimizer == "adamw":
            return torch.optim.AdamW(parameters, lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.SGD(parameters, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)

    def resolve_device(self) -> torch.device:
        return resolve_device(self.device)

    def autocast_dtype(self, device: torch.device) -> torch.dtype | None:
        """The autocast dtype on ``device``; None = plain fp32 (always on the CPU)."""
        if device.type != "cuda" or self.amp == "off":
            return None
        if self.amp == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[self.amp]
