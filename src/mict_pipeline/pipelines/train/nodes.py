"""Nodes of the train pipeline: thin adapters over mict_pipeline.experiment and mict_pipeline.training."""

from __future__ import annotations

from typing import Any

import pandas as pd
import torch

from mict_pipeline.checkpoint import describe_source
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.datasets.prepared import check_same_prepare
from mict_pipeline.experiment import DatasetSpec, Experiment, ExperimentConfig, TrainingParams
from mict_pipeline.sources import module_code
from mict_pipeline.training import distributed_context, train, training_dataset


def train_experiment(
    train_index: pd.DataFrame,
    test_index: pd.DataFrame,
    dataset_spec: dict[str, Any],
    prepared: dict[str, Any],
    frames_dir: str,
    run_dir: str,
    training_log_dir: str,
    experiment: ExperimentConfig,
    training: TrainingParams,
    *,
    name: str,
    split: int,
) -> dict[str, Any]:
    """Train experiment ``name`` on split ``split``, checkpoints in ``run_dir``; resumes from its
    last checkpoint if one exists (of the same experiment: see ``training.on_other_experiment``).
    A fine-tuning run's summary names the checkpoint it started from (``init_from``). The tables and
    the description must be those of one prepare, ``prepared``."""
    check_same_prepare(prepared, {"dataset_spec": dataset_spec, f"split_{split}.train_index": train_index, f"split_{split}.test_index": test_index})
    run = Experiment.create(name, experiment, training, DatasetSpec.model_validate(dataset_spec, where="dataset_spec"), split)
    torch.manual_seed(run.recipe.seed)  # the initial weights: a rerun starts from the same model
    model = run.build_model()
    with distributed_context():
        summary = train(
            model,
            training_dataset(train_index, run, frames_dir),
            ClipDataset(test_index, "clip", run.clips, root=frames_dir),  # validation on the test split, as the original
            run,
            run_dir,
            log_dir=training_log_dir,
            on_other_experiment=training.on_other_experiment,
            code=module_code([__name__]),  # this module's sources: the train stage's DVC deps
        )
    source = {} if run.model.init_from is None else {"init_from": describe_source(run.model.init_from)}
    return {"experiment": run.describe(), **source, **summary}
