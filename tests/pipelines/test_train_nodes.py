"""The train node: two runs of the same experiment end with bit-identical weights (and byte-identical
checkpoints), with clips decoded in the loader workers or (recipe.decode: device) by the training loop."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mict_pipeline.checkpoint import read_checkpoint
from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.device import EncodedClipDataset
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
from mict_pipeline.datasets.prepared import fingerprint
from mict_pipeline.experiment import DatasetSpec, Experiment, ExperimentConfig, TrainingParams
from mict_pipeline.io.frame_store import extract_frames
from mict_pipeline.pipelines.train.nodes import train_experiment
from mict_pipeline.sources import module_code
from mict_pipeline.training import training_dataset

DATASET = {"name": "two motions", "class_names": ["MoveUp", "ZoomIn"], "frames": {"width": 32, "height": 24, "quality": 90}}


@pytest.mark.parametrize("decode", ["worker", "device"])
def test_reruns_of_an_experiment_give_identical_weights(tmp_path, decode):
    rows = []
    for i, motion in enumerate(["MoveUp", "ZoomIn"] * 3):
        video = write_video(tmp_path / f"v{i}.avi", render_frames(VideoSpec(motion, 1, i + 1, 20, 10 + i)))
        store = tmp_path / f"v{i}.frames"
        rows.append({"frame_store": store.name, "n_frames": extract_frames(video, store, 32, 24), "label": i % 2})
    index = pd.DataFrame(rows)
    experiment = ExperimentConfig.model_validate(
        {"arch": "mict_resnet18", "model": {"zero_init_residual": True, "width": 8},
         "recipe": {"epochs": 2, "batch_size": 2, "optimizer": "adamw", "lr": 1e-3}}
    )
    weights, files = [], []
    for run in ("first", "second"):
        torch.manual_seed(1234 if run == "first" else 99)  # whatever the global RNG holds before the node
        training = TrainingParams.model_validate(
            {"defaults": {"workers": 0, "decode": decode}, "clips": {"clip_len": 8, "crop_sizes": [16, 24], "output_size": 16, "video_frames": 16}}
        )
        run_dir = tmp_path / run
        prepared = fingerprint({"dataset_spec": DATASET, "split_1.train_index": index, "split_1.test_index": index})
        summary = train_experiment(index, index, DATASET, prepared, str(tmp_path), str(run_dir), str(tmp_path / "logs" / run), experiment, training, name="mict", split=1)
        assert Experiment.from_description(summary["experiment"]).recipe.decode == decode
        weights.append(read_checkpoint(run_dir / "last.pt").state_dict)
        assert read_checkpoint(run_dir / "best.pt").code == module_code([train_experiment.__module__])  # its stage's source deps
        files.append([(run_dir / name).read_bytes() for name in ("best.pt", "last.pt")])
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key
    assert files[0] == files[1]  # the same bytes too (no timings inside), so DVC sees an unchanged output


def test_decode_setting_picks_the_training_set():
    index = pd.DataFrame({"frame_store": ["a.frames"], "n_frames": [20], "label": [0]})
    for decode, kind in (("worker", ClipDataset), ("device", EncodedClipDataset)):
        experiment = Experiment.model_validate(
            {"name": "x", "arch": "resnet3d_18", "recipe": {"decode": decode}, "dataset": DatasetSpec.model_validate(DATASET)}
        )
        dataset = training_dataset(index, experiment)
        assert type(dataset) is kind and dataset.mode == "train" and dataset.config == ClipConfig()
