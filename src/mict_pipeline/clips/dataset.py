"""Clips of indexed videos for training and testing, as the original MiCT-ResNet recipe samples them.

Training clip: the video is down-sampled in time by a random factor (1-4), a random window of
``clip_len`` frames is taken and looped when the video is too short, then augmented
(:mod:`.transforms`). Test clips: clip level = the first ``clip_len`` frames, centre crop; video
level = up to ``video_frames`` frames covered by consecutive clips whose scores are averaged.

Only the distinct frames a clip needs are read and decoded, and a clip leaves the loader as uint8
(T, H, W, 3): 4x less to move than float; :func:`~.transforms.normalize_clips` turns a batch into
normalised float (N, 3, T, H, W) on the training device, already in channels_last_3d memory. This
runs at about 3x the speed of the original's PIL pipeline per worker (3.6-3.9x leaving
normalisation to the training device); reading and decoding the JPEG frames, which both pay, is
then over half of the time (``benchmarks/loader_speed.py``).
The randomness of sample ``i`` in epoch ``e`` comes from ``(seed, e, i)`` alone, so a run is
repeatable whatever the number of workers, and a resumed run sees the clips it would have seen.
Training items are addressed by ``(epoch, i)``: the epoch travels with each index from the sampler,
so loader workers that persist across epochs (each with its own copy of the dataset) draw the
clips of the right epoch.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from mict_pipeline.io.frame_store import load_frames

from .config import ClipConfig
from .sampling import test_clip_indices, train_clip_indices, video_clip_indices
from .transforms import TrainAugment, centre_crop


def epoch_and_index(key: int | tuple[int, int]) -> tuple[int, int]:
    """``(epoch, i)`` of a dataset key: ``(epoch, i)`` or a bare ``i`` (epoch 0)."""
    return (int(key[0]), int(key[1])) if isinstance(key, tuple) else (0, int(key))


class ClipDataset(torch.utils.data.Dataset):
    """Clips of the videos in an index table (columns ``frame_store``, ``n_frames``, ``label``);
    ``frame_store`` paths are relative to ``root`` when one is given (the prepared index tables').

    ``mode``: ``"train"`` (augmented random clips), ``"clip"`` (first clip, centre crop) or
    ``"video"`` (all clips of up to ``video_frames`` frames, centre crop: (K, T, H, W, 3)).
    Items are ``(uint8 tensor, label)``; in ``"train"`` mode, item ``(epoch, i)`` is video ``i``'s
    random clip of ``epoch`` (a bare ``i``: of epoch 0).
    """

    MODES = ("train", "clip", "video")

    def __init__(
        self,
        index: pd.DataFrame,
        mode: str,
        config: ClipConfig = ClipConfig(),
        seed: int = 0,
        loader: Callable[[str, np.ndarray], np.ndarray] = load_frames,
        root: str | os.PathLike | None = None,
    ) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        missing = {"frame_store", "n_frames", "label"} - set(index.columns)
        if missing:
            raise ValueError(f"index table lacks column(s) {sorted(missing)}")
        stores = index["frame_store"].astype(str).tolist()
        self.paths = [os.path.join(root, p) if root is not None else p for p in stores]
        self.n_frames = index["n_frames"].astype(int).to_numpy()
        self.labels = index["label"].astype(int).to_numpy()
        self.mode, self.config, self.seed, self.loader = mode, config, seed, loader
        # What the items are, wherever the stores lie: a run resumes only on the data it started on.
        rows = "\n".join(f"{s}\t{n}\t{label}" for s, n, label in zip(stores, self.n_frames, self.labels))
        self.fingerprint = hashlib.sha256(rows.encode()).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor, int]:
        c = self.config
        epoch, i = epoch_and_index(key)
        if self.mode == "train":
            indices, augment = self.train_draw(epoch, i)
            clip = self._load(i, indices, lambda frames: augment.apply(frames, c.output_size))
        elif self.mode == "clip":
            indices = test_clip_indices(self.n_frames[i], c.clip_len)
            clip = self._load(i, indices, lambda frames: centre_crop(frames, c.output_size))
        else:
            indices = video_clip_indices(self.n_frames[i], c.clip_len, c.video_frames)
            clip = self._load(i, indices.ravel(), lambda frames: centre_crop(frames, c.output_size))
            clip = clip.reshape(*indices.shape, *clip.shape[1:])
        return torch.from_numpy(clip), int(self.labels[i])

    def train_draw(self, epoch: int, i: int) -> tuple[np.ndarray, TrainAugment]:
        """Frame indices and augmentation of training sample ``i`` in ``epoch``."""
        rng = np.random.default_rng([self.seed, epoch, i])
        indices = train_clip_indices(self.n_frames[i], self.config.clip_len, rng, self.config.max_temporal_stride)
        return indices, TrainAugment.draw(self.config, rng)

    def _load(self, i: int, indices: np.ndarray, transform: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """``transform`` of frames ``indices`` of video ``i``, each distinct frame read and transformed once.

        Looped clips repeat frames; every transform here acts on each frame alone, so the output
        frames of the distinct indices are repeated instead (which also keeps their order).
        """
        unique, inverse = np.unique(indices, return_inverse=True)
        out = transform(self.loader(self.paths[i], unique))
        if len(unique) == len(indices) and np.array_equal(unique, indices):
            return np.ascontiguousarray(out)
        return out[inverse]
