"""Nodes of the train pipeline: thin adapters over mict_pipeline.training."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import torch

from mict_pipeline.config import require
from mict_pipeline.data.clips import ClipConfig, ClipDataset
from mict_pipeline.data.device_clips import EncodedClipDataset
from mict_pipeline.models import build_model, save_model
from mict_pipeline.training import Recipe, distributed_context, train

CONF_FILE = "conf/<env>/parameters.yml (experiments) and parameters_train.yml (training)"


def experiment_setup(experiment: dict[str, Any], training: dict[str, Any], name: str) -> tuple[Recipe, ClipConfig, dict[str, Any]]:
    """The recipe (training defaults overridden by the experiment's), clip config and model options."""
    require(experiment, ["arch"], f"experiments.{name}", CONF_FILE)
    recipe = Recipe.from_params({**training.get("defaults", {}), **experiment.get("recipe", {})}, where=f"experiments.{name}.recipe")
    return recipe, clip_config(experiment, training), dict(experiment.get("model", {}))


def clip_config(experiment: dict[str, Any], training: dict[str, Any]) -> ClipConfig:
    """The clip settings of ``training.clips`` overridden by the experiment's ``clips``."""
    return ClipConfig.from_params({**training.get("clips", {}), **experiment.get("clips", {})})


def training_clips(index: pd.DataFrame, recipe: Recipe, clips: ClipConfig) -> ClipDataset:
    """The training set: decoded in the loader workers, or read there and decoded on the device."""
    if recipe.decode == "device":
        return EncodedClipDataset(index, clips, seed=recipe.seed)
    return ClipDataset(index, "train", clips, seed=recipe.seed)


def checkpoint_dir(training: dict[str, Any], name: str, split: int) -> Path:
    """Where experiment ``name`` keeps its checkpoints (``last.pt``, ``best.pt``) for ``split``."""
    # split first: each split's outputs are one folder, a DVC out of that split's train stage
    return Path(training.get("checkpoint_dir", "data/06_models")) / f"split_{split}" / name


def train_experiment(
    train_index: pd.DataFrame,
    test_index: pd.DataFrame,
    experiment: dict[str, Any],
    training: dict[str, Any],
    num_classes: int,
    *,
    name: str,
    split: int,
) -> dict[str, Any]:
    """Train experiment ``name`` on split ``split``; resumes from its last checkpoint if one exists."""
    recipe, clips, options = experiment_setup(experiment, training, name)
    torch.manual_seed(recipe.seed)  # the initial weights: a rerun starts from the same model
    model = build_model(experiment["arch"], num_classes, **options)
    saved_options = {k: v for k, v in options.items() if k != "pretrained"}
    with distributed_context():
        summary = train(
            model,
            training_clips(train_index, recipe, clips),
            ClipDataset(test_index, "clip", clips),  # validation on the test split, as the original
            recipe,
            checkpoint_dir(training, name, split),
            save_best=lambda m, path: save_model(path, m, experiment["arch"], num_classes, **saved_options),
            log_dir=Path(training.get("log_dir", "data/08_reporting/training")) / f"split_{split}" / name,
        )
    return {"experiment": name, "split": split, "arch": experiment["arch"], "options": saved_options, **summary}
