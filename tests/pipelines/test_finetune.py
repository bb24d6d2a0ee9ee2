"""Pretrain -> fine-tune through DVC (conf/demo_hmdb51 at the tiny demo's size): the tiny demo's
MiCT-ResNet-18 (3 classes, UCF-101 format) fine-tuned on a 2-class HMDB-51-format set trains and
evaluates, the report names the source checkpoint, and a new source checkpoint fine-tunes again."""

from __future__ import annotations

import json
import re

import torch
import yaml

from demo_project import TINY, merge
from mict_pipeline.checkpoint import load_checkpoint
from mict_pipeline.io.digest import file_digest

FINETUNE = "conf/demo_hmdb51/dvc.yaml"
SOURCE = "data/demo/06_models/split_1/mict_resnet18/best.pt"
EXPERIMENT = "mict_resnet18_finetuned"
# Split 1 and one experiment only, 2 classes instead of the demo's 3, tiny videos, frames and models.
TINY_FINETUNE = {
    "demo_hmdb51/parameters_synthetic.yml": {
        "synthetic": {"size": [80, 60], "hmdb51": {"classes": ["MoveDown", "Pulse"], "videos_per_class": 5,
                                                   "per_class": {"train": 3, "test": 2}, "frames": [16, 24]}}
    },
    "demo_hmdb51/parameters_download.yml": {"download": {"archives": {"videos": {"sha256": None}, "splits": {"sha256": None}}}},
    "demo_hmdb51/parameters_datasets.yml": {
        "datasets": {"motions_hmdb51": {"splits": [1], "expected_counts": {"classes": 2, "per_class": {"train": 3, "test": 2}}}}
    },
    "demo_hmdb51/parameters.yml": {
        "run_experiments": [EXPERIMENT],
        "experiments": {EXPERIMENT: {"model": {"width": 8}, "recipe": {"epochs": 2, "batch_size": 4, "lr_milestones": []}}},
    },
    "demo_hmdb51/parameters_prepare.yml": TINY["demo/parameters_prepare.yml"],
    "demo_hmdb51/parameters_train.yml": TINY["demo/parameters_train.yml"],
    "demo_hmdb51/parameters_benchmark.yml": TINY["demo/parameters_benchmark.yml"],
}


def _overlay(repo) -> None:
    for relpath, extra in TINY_FINETUNE.items():
        path = repo.path / "conf" / relpath
        path.write_text(yaml.safe_dump(merge(yaml.safe_load(path.read_text()), extra), sort_keys=False))
    # The stages of the overlaid plan, written by the copy's own code.
    repo.run("python", "-m", "mict_pipeline.dvc_stages", "demo_hmdb51", PYTHONPATH=str(repo.path / "src"))


def _stages_run(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def test_fine_tuning_a_demo_checkpoint_to_other_classes_trains_evaluates_and_names_its_source(shared_demo, tmp_path):
    repo = shared_demo.copy(tmp_path / "project")
    _overlay(repo)
    stages = yaml_stages(repo)
    assert set(stages) == {"synthetic", "download", "prepare", "benchmark", f"train-split_1-{EXPERIMENT}", f"evaluate-split_1-{EXPERIMENT}", "report"}
    assert SOURCE in stages[f"train-split_1-{EXPERIMENT}"]["deps"]

    ran = _stages_run(repo.run("dvc", "repro", FINETUNE).stdout)
    assert not any(stage.startswith("conf/demo/") for stage in ran)  # the demo was reproduced already
    data = repo.path / "data/demo_hmdb51"
    model, experiment = load_checkpoint(data / f"06_models/split_1/{EXPERIMENT}/best.pt")
    source_model, source = load_checkpoint(repo.path / SOURCE)
    assert (source.num_classes, experiment.num_classes) == (3, 2)
    assert experiment.dataset.name == "synthetic motion (HMDB-51 format)" and experiment.model.init_from == SOURCE
    assert model.fc.out_features == 2
    # The backbone trained on from the source's weights: the same tensors but the classifier, changed by the fine-tuning.
    weights, source_weights = model.state_dict(), source_model.state_dict()
    backbone = [key for key in weights if not key.startswith("fc.")]
    assert sorted(backbone) == sorted(key for key in source_weights if not key.startswith("fc."))
    assert all(weights[key].shape == source_weights[key].shape for key in backbone)
    assert not all(torch.equal(weights[key], source_weights[key]) for key in backbone)

    metrics = json.loads((data / f"07_model_output/split_1/{EXPERIMENT}/metrics.json").read_text())
    assert 0.0 <= metrics["clip_top1"] <= 1.0
    summary = json.loads((data / f"06_models/split_1/{EXPERIMENT}/summary.json").read_text())
    assert summary["init_from"] == {
        "path": SOURCE, "sha256": file_digest(repo.path / SOURCE), "experiment": "mict_resnet18", "arch": "mict_resnet18",
        "dataset": source.dataset.name, "classes": 3, "split": 1, "epochs": source.recipe.epochs_to_run,
    }
    results = (data / "08_reporting/results.md").read_text()
    assert results.startswith("Dataset: synthetic motion (HMDB-51 format); split 1.\n")
    assert f"fine-tuned from `{SOURCE}` (sha256 {summary['init_from']['sha256'][:12]}), experiment mict_resnet18 trained on " in results

    # A new pretraining (another seed for the demo's MiCT-ResNet-18) trains the source again, then
    # fine-tunes again from it; the other demo runs are not touched.
    assert _stages_run(repo.run("dvc", "repro", FINETUNE).stdout) == set()
    _set_seed(repo, 1)
    ran = _stages_run(repo.run("dvc", "repro", FINETUNE).stdout)
    assert {"conf/demo/dvc.yaml:train-split_1-mict_resnet18", f"conf/demo_hmdb51/dvc.yaml:train-split_1-{EXPERIMENT}"} <= ran
    assert not any("split_2" in stage or "resnet3d" in stage for stage in ran)
    again = json.loads((data / f"06_models/split_1/{EXPERIMENT}/summary.json").read_text())
    assert again["init_from"]["sha256"] == file_digest(repo.path / SOURCE) != summary["init_from"]["sha256"]


def yaml_stages(repo) -> dict:
    return yaml.safe_load((repo.path / FINETUNE).read_text())["stages"]


def _set_seed(repo, seed: int) -> None:
    path = repo.path / "conf/demo/parameters.yml"
    params = yaml.safe_load(path.read_text())
    params["experiments"]["mict_resnet18"]["recipe"]["seed"] = seed
    path.write_text(yaml.safe_dump(params, sort_keys=False))
