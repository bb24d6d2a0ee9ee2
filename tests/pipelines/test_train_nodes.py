"""The train node: two runs of the same experiment end with bit-identical weights (and byte-identical
checkpoints), with clips decoded in the loader workers or (recipe.decode: device) by the training loop."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from mict_pipeline.io.frame_store import extract_frames
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video
from mict_pipeline.data.clips import ClipConfig, ClipDataset
from mict_pipeline.clips.device import EncodedClipDataset
from mict_pipeline.pipelines.train.nodes import train_experiment, training_clips
from mict_pipeline.training import Recipe


@pytest.mark.parametrize("decode", ["worker", "device"])
def test_reruns_of_an_experiment_give_identical_weights(tmp_path, decode):
    rows = []
    for i, motion in enumerate(["MoveUp", "ZoomIn"] * 3):
        video = write_video(tmp_path / f"v{i}.avi", render_frames(VideoSpec(motion, 1, i + 1, 20, 10 + i)))
        store = tmp_path / f"v{i}.frames"
        rows.append({"frame_store": str(store), "n_frames": extract_frames(video, store, 32, 24), "label": i % 2})
    index = pd.DataFrame(rows)
    experiment = {"arch": "mict_resnet18", "model": {"zero_init_residual": True},
                  "recipe": {"epochs": 2, "batch_size": 2, "optimizer": "adamw", "lr": 1e-3}}
    weights, best = [], []
    for run in ("first", "second"):
        torch.manual_seed(1234 if run == "first" else 99)  # whatever the global RNG holds before the node
        training = {"checkpoint_dir": str(tmp_path / run), "log_dir": str(tmp_path / "logs" / run), "defaults": {"workers": 0, "decode": decode},
                    "clips": {"clip_len": 8, "crop_sizes": [16, 24], "output_size": 16, "video_frames": 16}}
        train_experiment(index, index, experiment, training, 2, name="mict", split=1)
        weights.append(torch.load(tmp_path / run / "split_1" / "mict" / "last.pt", weights_only=False)["model"])
        best.append([(tmp_path / run / "split_1" / "mict" / name).read_bytes() for name in ("best.pt", "last.pt")])
    for key, value in weights[0].items():
        assert torch.equal(value, weights[1][key]), key
    assert best[0] == best[1]  # the same bytes too (no timings inside), so DVC sees an unchanged output


def test_decode_setting_picks_the_training_set(tmp_path):
    index = pd.DataFrame({"frame_store": ["a.frames"], "n_frames": [20], "label": [0]})
    for decode, kind in (("worker", ClipDataset), ("device", EncodedClipDataset)):
        dataset = training_clips(index, Recipe(epochs=1, batch_size=1, decode=decode), ClipConfig())
        assert type(dataset) is kind and dataset.mode == "train"
