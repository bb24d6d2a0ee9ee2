"""Tiny in-memory video datasets for training tests (no files, deterministic). A module of its own
name, not conftest: the processes a test spawns import it by name, and `conftest` there could be
another folder's."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.experiment import DatasetSpec, Experiment, ModelOptions, Recipe
from mict_pipeline.io.frame_store import FrameSpec, FrameStoreInfo

SIZE = 24


def moving_bar_frames(path: str, indices: np.ndarray) -> np.ndarray:
    """Frames of video ``path`` ("<label>/<n>"): a bar moving down (label 0) or up (label 1)."""
    label, seed = (int(v) for v in path.split("/"))
    frames = np.random.default_rng(seed).integers(0, 60, (len(indices), SIZE, SIZE, 3), dtype=np.uint8)
    for row, t in enumerate(indices):
        y = (2 * int(t) if label == 0 else SIZE - 1 - 2 * int(t)) % SIZE
        frames[row, y : y + 3] = 255
    return frames


def moving_bar_jpegs(path: str, indices: np.ndarray) -> tuple[FrameStoreInfo, list[bytes]]:
    """The moving-bar frames as a JPEG frame store would hold them (for recipe.decode: device)."""
    frames = moving_bar_frames(path, indices)
    info = FrameStoreInfo(n_frames=12, width=SIZE, height=SIZE, image_format="jpeg", quality=95)
    return info, [cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes() for f in frames]


def index_table(n_videos: int, n_frames: int = 12) -> pd.DataFrame:
    labels = [i % 2 for i in range(n_videos)]
    return pd.DataFrame({"frame_store": [f"{l}/{i}" for i, l in enumerate(labels)], "n_frames": n_frames, "label": labels})


CLIPS = ClipConfig(clip_len=8, crop_sizes=(20, 24), output_size=16, video_frames=16)


def tiny_experiment(**recipe) -> Experiment:
    """A narrow MiCT-ResNet-18 (width 8) on the moving bars: the plumbing of a real run, in seconds."""
    settings = {"epochs": 3, "batch_size": 4, "lr": 0.01, "lr_milestones": (2,), "workers": 0, "eval_batch_size": 3, "seed": 7}
    return Experiment(
        name="tiny",
        arch="mict_resnet18",
        model=ModelOptions(dropout=0.5, width=8),
        recipe=Recipe(**{**settings, **recipe}),
        clips=CLIPS,
        dataset=DatasetSpec(name="moving bars", class_names=("down", "up"), frames=FrameSpec(width=SIZE, height=SIZE)),
        split=1,
    )
