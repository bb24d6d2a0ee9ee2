"""What an experiment is: everything needed to train a model, evaluate it and use it later.

:class:`Experiment` holds the architecture and its options, the training recipe, the clip recipe,
and the data it was trained on: the dataset's name, its class names in label order and how its
frames were stored, and the split. It is frozen, validated, and turns into plain data
(:meth:`Experiment.describe`) that every checkpoint carries, so a trained model can be used with
nothing else around it. :meth:`Experiment.create` builds one from an ``experiments.<name>`` block
of the parameters (:class:`ExperimentConfig`), the shared ``training`` block
(:class:`TrainingParams`) and the prepared dataset (:class:`DatasetSpec`).

No Kedro here: the pipelines are thin adapters over this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Literal

import numpy as np
import torch
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveFloat, PositiveInt, field_serializer, model_validator
from torch import nn

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.config import Params
from mict_pipeline.datasets.spec import DatasetSpec
from mict_pipeline.errors import UserError
from mict_pipeline.models import ARCHITECTURES, build_model, model_options
from mict_pipeline.models.weights import IMAGENET_WIDTH, transfer_backbone


class DeviceError(UserError, ValueError):
    """A device this machine does not have, or not a device at all."""


#: Where a recipe's device is set, and its fix (``resolve_device``'s ``key`` and ``fix`` for parameters).
RECIPE_DEVICE = "training.defaults.device (or experiments.<name>.recipe.device) in conf/<env>/parameters*.yml"
PARAMETER_FIX = "write `device: auto` (CUDA when there is one, else the CPU) or `device: cpu`"


def resolve_device(device: str, *, key: str = RECIPE_DEVICE, fix: str = PARAMETER_FIX) -> torch.device:
    """``auto`` means CUDA when available, else the CPU. A CUDA device this machine lacks (or a
    string that is no device) is a :class:`DeviceError` naming ``key``, where it was set, and ``fix``."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise DeviceError(f"{key}: {device!r} is not a device (cpu, cuda, cuda:1, ...). Fix: {fix}") from None
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        have = f"{torch.cuda.device_count()} CUDA devices" if torch.cuda.is_available() else "no CUDA device"
        raise DeviceError(f"{key}: {device!r}, but this machine has {have}. Fix: {fix}")
    return resolved


class Recipe(Params):
    """How a model is trained; the defaults are the original's MiCT-ResNet recipe: SGD with
    momentum, lr 0.01 divided by 10 after epoch 80 of 120, weight decay 5e-4, batches of 112 clips.

    ``optimizer: adamw`` (``momentum`` unused) is for short from-scratch runs such as the CPU demo,
    where SGD at the original's learning rate diverges without ImageNet weights.
    """

    epochs: PositiveInt = 120
    batch_size: PositiveInt = 112
    optimizer: Literal["sgd", "adamw"] = "sgd"
    lr: PositiveFloat = 0.01
    momentum: NonNegativeFloat = 0.9
    weight_decay: NonNegativeFloat = 5e-4
    lr_milestones: tuple[PositiveInt, ...] = (80,)
    lr_gamma: PositiveFloat = 0.1
    seed: int = 0
    # auto: bf16 where the GPU supports it, else fp16 with a grad scaler; always fp32 on the CPU.
    amp: Literal["auto", "off", "bf16", "fp16"] = "auto"
    # Where training clips are decoded and augmented: in the loader workers, or on the training
    # device (nvJPEG on a GPU), the workers only reading (mict_pipeline.clips.device).
    decode: Literal["worker", "device"] = "worker"
    # A smoke run, in the spirit of Lightning's limit_*_batches (null = no limit): at most this many
    # epochs of the recipe's schedule, training batches per epoch, and batches' worth (batch_size
    # videos each, spread evenly over the list) of validation and evaluation videos. They change what
    # a run trains, so a smoke run's checkpoint is never resumed as a full run's.
    limit_epochs: PositiveInt | None = None
    limit_train_batches: PositiveInt | None = None
    limit_val_batches: PositiveInt | None = None
    # Fine-tuning (model.init_from): only the classifier learns for this many first epochs. BatchNorm
    # statistics still adapt to the new data.
    freeze_backbone_epochs: NonNegativeInt = 0
    # Validation on the test list after every val_every-th epoch and after the last; best.pt is the
    # validated epoch with the best clip top-1 (the original's choice, which selects on the test set:
    # the report gives the last epoch's figures beside it).
    val_every: PositiveInt = 1
    # How a run is executed rather than what it trains (EXECUTION): a run may resume with others.
    workers: NonNegativeInt = 4
    prefetch_factor: PositiveInt = 4  # batches each worker prepares ahead
    eval_batch_size: PositiveInt = 32
    channels_last: bool = True  # on GPU only
    compile: bool = False
    device: str = "auto"

    #: Fields that change how a run executes, not the model it ends with (on one machine).
    EXECUTION: ClassVar[tuple[str, ...]] = ("workers", "prefetch_factor", "eval_batch_size", "channels_last", "compile", "device")

    def make_optimizer(self, parameters: Iterable[nn.Parameter]) -> torch.optim.Optimizer:
        if self.optimizer == "adamw":
            return torch.optim.AdamW(parameters, lr=self.lr, weight_decay=self.weight_decay)
        return torch.optim.SGD(parameters, lr=self.lr, momentum=self.momentum, weight_decay=self.weight_decay)

    def resolve_device(self) -> torch.device:
        return resolve_device(self.device)

    @property
    def epochs_to_run(self) -> int:
        return min(self.epochs, self.limit_epochs or self.epochs)

    def validates_after(self, epoch: int) -> bool:
        """Whether the run validates after (1-based) ``epoch``: every ``val_every``-th and the last."""
        return epoch % self.val_every == 0 or epoch == self.epochs_to_run

    def validation_rows(self, n: int) -> np.ndarray:
        """Positions of the validation or test items used of ``n``: all, or ``limit_val_batches``
        batches' worth spread evenly over them."""
        if self.limit_val_batches is None or self.limit_val_batches * self.batch_size >= n:
            return np.arange(n)
        return np.unique(np.linspace(0, n - 1, self.limit_val_batches * self.batch_size).round().astype(int))

    def autocast_dtype(self, device: torch.device) -> torch.dtype | None:
        """The autocast dtype on ``device``; None = plain fp32 (always on the CPU)."""
        if device.type != "cuda" or self.amp == "off":
            return None
        if self.amp == "auto":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return {"bf16": torch.bfloat16, "fp16": torch.float16}[self.amp]


class ModelOptions(Params):
    """Options of :func:`mict_pipeline.models.build_model`; each architecture takes a subset
    (``version`` and ``first_kernel_depth`` are MiCT's)."""

    version: Literal["v1", "v2"] = "v1"
    first_kernel_depth: Literal[3, 5, 7] = 7
    dropout: float = Field(0.5, ge=0.0, lt=1.0)
    width: PositiveInt = 64
    zero_init_residual: bool = False
    # True: torchvision's ImageNet weights (downloaded, hash-checked); a path: a ResNet state_dict.
    pretrained: bool | str = False
    # Fine-tuning: a checkpoint of this project (another experiment's best.pt or last.pt, any
    # dataset and class count) whose backbone starts the model; the classifier is new.
    init_from: str | None = None

    #: Options that are not the builder's: how the weights start, not what the network is.
    STARTS: ClassVar[tuple[str, ...]] = ("init_from",)

    @model_validator(mode="after")
    def _imagenet_weights_fit_the_width(self) -> ModelOptions:
        if self.pretrained is not False and self.width != IMAGENET_WIDTH:
            raise ValueError(
                f"pretrained ImageNet weights need width: {IMAGENET_WIDTH}, not {self.width}: "
                f"write `width: {IMAGENET_WIDTH}` or `pretrained: false`"
            )
        return self

    def for_arch(self, arch: str, *, initialise: bool = True) -> dict[str, Any]:
        """The builder keyword arguments of ``arch``; without ``initialise``, no ImageNet weights
        (for weights that come from a checkpoint)."""
        options = {name: getattr(self, name) for name in model_options(arch)}
        if not initialise:
            options["pretrained"] = False
        return options


def _check_options(arch: str, model: ModelOptions) -> None:
    foreign = sorted(model.model_fields_set - set(model_options(arch)) - set(ModelOptions.STARTS))
    if foreign:
        raise ValueError(f"model option {', '.join(foreign)} does not apply to {arch}; its options: {', '.join(model_options(arch))}")


class ExperimentConfig(Params):
    """An ``experiments.<name>`` block: the architecture with its options, and the recipe and clip
    settings that differ from the shared ``training`` block."""

    arch: Literal[tuple(ARCHITECTURES)]  # type: ignore[valid-type]
    model: ModelOptions = ModelOptions()
    recipe: Recipe = Recipe()
    clips: ClipConfig = ClipConfig()

    @model_validator(mode="after")
    def _options_fit_the_arch(self) -> ExperimentConfig:
        _check_options(self.arch, self.model)
        return self


class TrainingParams(Params):
    """The ``training`` block: the recipe and clip settings every experiment starts from, and what a
    run does with a ``last.pt`` of another experiment in its folder: stop, naming what differs
    (``refuse``), or replace it, training afresh (``restart``: DVC's stages, whose cache keeps the
    replaced run)."""

    on_other_experiment: Literal["refuse", "restart"] = "refuse"
    defaults: Recipe = Recipe()
    clips: ClipConfig = ClipConfig()


class Experiment(Params):
    """Everything needed to train, evaluate and later use one model (see the module docstring)."""

    name: str
    arch: Literal[tuple(ARCHITECTURES)]  # type: ignore[valid-type]
    model: ModelOptions = ModelOptions()
    recipe: Recipe = Recipe()
    clips: ClipConfig = ClipConfig()
    dataset: DatasetSpec
    split: PositiveInt | None = None  # None: not trained here (an imported checkpoint)

    @model_validator(mode="after")
    def _options_fit_the_arch(self) -> Experiment:
        _check_options(self.arch, self.model)
        return self

    @field_serializer("model")
    def _arch_options_only(self, model: ModelOptions) -> dict[str, Any]:
        starts = {name: getattr(model, name) for name in ModelOptions.STARTS if getattr(model, name) is not None}
        return {**{name: getattr(model, name) for name in model_options(self.arch)}, **starts}

    @classmethod
    def create(
        cls, name: str, config: ExperimentConfig, training: TrainingParams, dataset: DatasetSpec, split: int | None
    ) -> Experiment:
        """Experiment ``name`` of the parameters: the experiment's recipe and clip keys override the
        shared ``training`` block key by key."""
        return cls(
            name=name,
            arch=config.arch,
            model=config.model,
            recipe=training.defaults.updated(config.recipe),
            clips=training.clips.updated(config.clips),
            dataset=dataset,
            split=split,
        )

    @property
    def num_classes(self) -> int:
        return len(self.dataset.class_names)

    def build_model(self, *, initialise: bool = True) -> nn.Module:
        """The untrained model: ImageNet weights or (``model.init_from``) another checkpoint's backbone
        with a new classifier; ``initialise=False`` skips both (weights come from a checkpoint)."""
        model = build_model(self.arch, self.num_classes, **self.model.for_arch(self.arch, initialise=initialise))
        if initialise and self.model.init_from is not None:
            from mict_pipeline.checkpoint import CheckpointError, read_checkpoint  # the checkpoint format builds on this module

            fix = "point model.init_from at a best.pt or last.pt of an experiment with the same arch and model options"
            try:
                source = read_checkpoint(self.model.init_from)
            except CheckpointError as error:
                raise CheckpointError(
                    f"model.init_from: {error}. Fix: train the experiment it comes from first (`dvc repro` of the fine-tuning "
                    f"environment does), or {fix}"
                ) from None
            if source.experiment.arch != self.arch:
                raise CheckpointError(
                    f"model.init_from: {self.model.init_from} holds a {source.experiment.arch}, not a {self.arch}. Fix: {fix}"
                )
            try:
                transfer_backbone(model, source.state_dict, str(self.model.init_from))
            except ValueError as error:  # the same arch with other options (width, version, first kernel depth)
                raise CheckpointError(f"model.init_from: {error}. Fix: {fix}") from None
        return model

    def describe(self) -> dict[str, Any]:
        """Plain data (dicts, lists, strings, numbers): what checkpoints store, and what
        :meth:`from_description` reads back."""
        return self.model_dump(mode="json")

    @classmethod
    def from_description(cls, description: Any, where: str = "experiment") -> Experiment:
        return cls.model_validate(description, where=where)

    def differences(self, other: Experiment) -> list[str]:
        """``key: this -> other`` for every setting that changes the trained model (everything but
        :data:`Recipe.EXECUTION`)."""
        ignore = {"recipe": set(Recipe.EXECUTION)}
        return _differences(self.describe(), other.describe(), "", ignore)


def _differences(a: Any, b: Any, path: str, ignore: dict[str, set[str]]) -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        found = []
        for key in sorted(set(a) | set(b)):
            if key in ignore.get(path, ()):
                continue
            found += _differences(a.get(key), b.get(key), f"{path}.{key}" if path else key, ignore)
        return found
    return [] if a == b else [f"{path}: {a!r} -> {b!r}"]
