"""The experiment type and the parameter blocks: built from conf blocks, plain data both ways, what
changes a trained model, and errors that name the key path and the valid keys."""

from __future__ import annotations

import json

import pytest

from mict_pipeline.config import ParameterError
from mict_pipeline.experiment import DatasetSpec, Experiment, ExperimentConfig, TrainingParams
from mict_pipeline.parameters.project import ProjectParameters
from mict_pipeline.project import configuration

from demo_project import ROOT, merge

DATASET = DatasetSpec.model_validate({"name": "three", "class_names": ["a", "b", "c"], "frames": {"width": 64, "height": 48}})
TRAINING = TrainingParams.model_validate(
    {"defaults": {"lr": 0.02, "workers": 2}, "clips": {"output_size": 32, "crop_sizes": [32, 48]}}
)


def _experiment(block: dict, training: TrainingParams = TRAINING) -> Experiment:
    return Experiment.create("exp", ExperimentConfig.model_validate(block), training, DATASET, 1)


def test_experiment_keys_override_the_shared_training_block_key_by_key():
    run = _experiment({"arch": "mict_resnet18", "recipe": {"epochs": 3, "workers": 0}, "clips": {"clip_len": 8}})
    assert (run.recipe.epochs, run.recipe.lr, run.recipe.workers, run.recipe.batch_size) == (3, 0.02, 0, 112)
    assert (run.clips.clip_len, run.clips.output_size, run.clips.crop_sizes, run.clips.video_frames) == (8, 32, (32, 48), 300)
    assert run.num_classes == 3 and run.build_model().fc.out_features == 3


def test_description_is_plain_data_and_reads_back_equal():
    run = _experiment({"arch": "resnet3d_18", "model": {"dropout": 0.3, "width": 8}})
    description = run.describe()
    assert json.loads(json.dumps(description)) == description  # dicts, lists, strings, numbers only
    assert description["model"] == {"dropout": 0.3, "width": 8, "zero_init_residual": False, "pretrained": False}
    assert Experiment.from_description(description) == run


def test_differences_name_what_changes_the_model_not_how_it_runs():
    run = _experiment({"arch": "mict_resnet18"})
    other = _experiment({"arch": "mict_resnet18", "model": {"first_kernel_depth": 3}, "recipe": {"epochs": 2, "device": "cpu", "workers": 7}})
    assert run.differences(other) == ["model.first_kernel_depth: 7 -> 3", "recipe.epochs: 120 -> 2"]
    assert run.differences(run.model_copy(update={"split": 2})) == ["split: 1 -> 2"]


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"arch": "r3d_18"}, r"experiments.x.arch: Input should be 'mict_resnet18', 'mict_resnet34', 'resnet3d_18' or 'resnet3d_34' \(got 'r3d_18'\)"),
        ({"arch": "resnet3d_18", "model": {"version": "v2"}}, r"experiments.x: model option version does not apply to resnet3d_18; its options: dropout, width, zero_init_residual, pretrained"),
        ({"arch": "mict_resnet18", "model": {"first_kernel_depth": 4}}, r"experiments.x.model.first_kernel_depth: Input should be 3, 5 or 7 \(got 4\)"),
        ({"arch": "mict_resnet18", "recipe": {"batch_size": "abc"}}, r"experiments.x.recipe.batch_size: Input should be a valid integer"),
        ({"arch": "mict_resnet18", "recipe": {"lr_sched": 1}}, r"experiments.x.recipe: unknown key 'lr_sched'; valid keys: epochs, batch_size, optimizer, lr,"),
        ({"arch": "mict_resnet18", "clip": {}}, r"experiments.x: unknown key 'clip'; valid keys: arch, model, recipe, clips"),
        ({"model": {}}, r"experiments.x.arch: Field required"),
    ],
)
def test_errors_name_the_key_path_and_the_valid_keys(block, message):
    with pytest.raises(ParameterError, match=message):
        ExperimentConfig.model_validate(block, where="experiments.x")


@pytest.mark.parametrize("env", ["base", "demo", "rehearsal_kinetics"])
def test_every_environment_validates(env):
    parameters = ProjectParameters.model_validate(configuration(ROOT, env)["parameters"])
    assert set(parameters.run_experiments) <= set(parameters.experiments)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"trainin": {"defaults": {"lr": 0.5}}}, r"unknown key 'trainin'; valid keys: run_experiments, experiments, training, "),
        ({"training": {"defaults": {"batch_size": "abc"}}}, r"training.defaults.batch_size: Input should be a valid integer"),
        ({"run_experiments": ["mict_resnet50"]}, r"run_experiments names mict_resnet50, not defined under experiments \(defined: mict_resnet18,"),
        ({"prepare": {"frames": {"quality": 101}}}, r"prepare.frames.quality: Input should be less than or equal to 100"),
        ({"download": {"archives": {"videos": {"urls": []}}}}, r"download.archives.videos.urls: Tuple should have at least 1 item"),
    ],
)
def test_a_typo_anywhere_is_named(change, message):
    with pytest.raises(ParameterError, match=message):
        ProjectParameters.model_validate(merge(configuration(ROOT, "base")["parameters"], change))
