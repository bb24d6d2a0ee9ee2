"""Clips for training and testing, sampled and augmented as the original MiCT-ResNet recipe.

Training clip: the video is down-sampled in time by a random factor (1-4), a random window of
``clip_len`` frames is taken and looped when the video is too short; one random crop (width and
height each from ``crop_sizes``, at a corner or the centre) resized to ``output_size``, a
horizontal flip, and colour (saturation), brightness and contrast factors from ``jitter``, all the
same for every frame of the clip.

Test clips: clip level = the first ``clip_len`` frames, centre crop; video level = up to
``video_frames`` frames covered by consecutive clips whose scores are averaged.

Everything runs in uint8 with OpenCV/NumPy on only the frames a clip needs, and a clip leaves the
loader as uint8 (T, H, W, 3): 4x less to move than float, and :func:`normalize_clips` turns a batch
into normalised float (N, 3, T, H, W) on the training device, already in channels_last_3d memory.
The randomness of sample ``i`` in epoch ``e`` comes from ``(seed, e, i)`` alone, so a run is
repeatable whatever the number of workers, and a resumed run sees the clips it would have seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import cv2
import numpy as np
import pandas as pd
import torch

from .frames import load_frames

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_POSITIONS = ("c", "tl", "tr", "bl", "br")
# ITU-R 601-2 luma, as PIL's convert("L") used by ImageEnhance.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


@dataclasses.dataclass(frozen=True)
class ClipConfig:
    """Sizes and ranges of the clip recipe; the defaults are the original's."""

    clip_len: int = 16
    max_temporal_stride: int = 4
    crop_sizes: tuple[int, ...] = (128, 144, 160, 176, 192)
    output_size: int = 160
    flip: bool = True
    jitter: tuple[float, float] = (0.5, 1.5)
    video_frames: int = 300

    @classmethod
    def from_params(cls, params: dict) -> ClipConfig:
        """Build from a parameters block, naming any unknown key and the valid ones."""
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(params) - fields)
        if unknown:
            raise KeyError(f"unknown clip parameter(s) {unknown}; valid keys: {sorted(fields)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        return cls(**values)


def train_clip_indices(n_frames: int, clip_len: int, rng: np.random.Generator, max_temporal_stride: int = 4) -> np.ndarray:
    """Frame indices of a training clip: random down-sampling, random window, looped when short."""
    stride = int(rng.integers(1, max_temporal_stride + 1))
    frames = np.arange(0, n_frames, stride)
    start = int(rng.integers(0, max(0, len(frames) - clip_len) + 1))
    window = frames[start : start + clip_len]
    return np.resize(window, clip_len)  # np.resize repeats the window cyclically


def test_clip_indices(n_frames: int, clip_len: int) -> np.ndarray:
    """The first ``clip_len`` frames, looped when the video is shorter."""
    return np.resize(np.arange(min(n_frames, clip_len)), clip_len)


def video_clip_indices(n_frames: int, clip_len: int, max_frames: int) -> np.ndarray:
    """(n_clips, clip_len) consecutive clips covering the first ``min(n_frames, max_frames)`` frames.

    The last clip ends on the last covered frame (overlapping its neighbour) so every frame is seen.
    """
    covered = min(n_frames, max_frames)
    if covered <= clip_len:
        return test_clip_indices(covered, clip_len)[None]
    starts = list(range(0, covered - clip_len + 1, clip_len))
    if starts[-1] + clip_len < covered:
        starts.append(covered - clip_len)
    return np.stack([np.arange(s, s + clip_len) for s in starts])


def crop_box(width: int, height: int, crop_w: int, crop_h: int, position: str) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of a crop at a corner or the centre, as the original's corner cropping."""
    crop_w, crop_h = min(crop_w, width), min(crop_h, height)
    if position == "c":
        x1, y1 = width // 2 - crop_w // 2, height // 2 - crop_h // 2
    else:
        x1 = 0 if position[1] == "l" else width - crop_w
        y1 = 0 if position[0] == "t" else height - crop_h
    return x1, y1, x1 + crop_w, y1 + crop_h


def _crop_resize(frames: np.ndarray, box: tuple[int, int, int, int], size: int) -> np.ndarray:
    x1, y1, x2, y2 = box
    crop = frames[:, y1:y2, x1:x2]
    if crop.shape[1:3] == (size, size):
        return np.ascontiguousarray(crop)
    return np.stack([cv2.resize(f, (size, size), interpolation=cv2.INTER_LINEAR) for f in crop])


def jitter_colour(frames: np.ndarray, colour: float, brightness: float, contrast: float) -> np.ndarray:
    """PIL ImageEnhance Color, Brightness then Contrast on uint8 (T, H, W, 3) RGB frames.

    Each step blends with its degenerate image (grey, black, mean grey of each frame) and
    saturates to [0, 255], as PIL does.
    """
    x = frames.astype(np.float32)
    grey = x @ _LUMA
    x = np.clip(grey[..., None] + colour * (x - grey[..., None]), 0, 255)
    x = np.clip(brightness * x, 0, 255)
    mean = (x @ _LUMA).mean(axis=(1, 2), keepdims=True)[..., None]
    x = np.clip(mean + contrast * (x - mean), 0, 255)
    return x.round().astype(np.uint8)


def augment_train_clip(frames: np.ndarray, config: ClipConfig, rng: np.random.Generator) -> np.ndarray:
    """The original's training transform on uint8 (T, H, W, 3) frames, one draw for the whole clip."""
    height, width = frames.shape[1:3]
    crop_w, crop_h = (int(v) for v in rng.choice(config.crop_sizes, size=2))
    position = CROP_POSITIONS[int(rng.integers(len(CROP_POSITIONS)))]
    flip = config.flip and rng.random() < 0.5
    colour, brightness, contrast = rng.uniform(*config.jitter, size=3)
    clip = _crop_resize(frames, crop_box(width, height, crop_w, crop_h, position), config.output_size)
    if flip:
        clip = clip[:, :, ::-1]
    return jitter_colour(clip, colour, brightness, contrast)


def centre_crop(frames: np.ndarray, size: int) -> np.ndarray:
    height, width = frames.shape[-3:-1]
    x1, y1, x2, y2 = crop_box(width, height, size, size, "c")
    return _crop_resize(frames.reshape(-1, height, width, 3), (x1, y1, x2, y2), size).reshape(*frames.shape[:-3], size, size, 3)


def normalize_clips(clips: torch.Tensor, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> torch.Tensor:
    """uint8 (..., T, H, W, 3) -> normalised float (..., 3, T, H, W), channels_last_3d for 5D input."""
    x = clips.movedim(-1, -4).float().div_(255)  # a view: memory stays T, H, W, C ordered
    m = torch.tensor(mean, device=x.device).view(3, 1, 1, 1)
    s = torch.tensor(std, device=x.device).view(3, 1, 1, 1)
    return x.sub_(m).div_(s)


class ClipDataset(torch.utils.data.Dataset):
    """Clips of the videos in an index table (columns ``frame_store``, ``n_frames``, ``label``).

    ``mode``: ``"train"`` (augmented random clips), ``"clip"`` (first clip, centre crop) or
    ``"video"`` (all clips of up to ``video_frames`` frames, centre crop: (K, T, H, W, 3)).
    Items are ``(uint8 tensor, label)``.
    """

    MODES = ("train", "clip", "video")

    def __init__(
        self,
        index: pd.DataFrame,
        mode: str,
        config: ClipConfig = ClipConfig(),
        seed: int = 0,
        loader: Callable[[str, np.ndarray], np.ndarray] = load_frames,
    ) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, got {mode!r}")
        missing = {"frame_store", "n_frames", "label"} - set(index.columns)
        if missing:
            raise ValueError(f"index table lacks column(s) {sorted(missing)}")
        self.paths = index["frame_store"].astype(str).tolist()
        self.n_frames = index["n_frames"].astype(int).to_numpy()
        self.labels = index["label"].astype(int).to_numpy()
        self.mode, self.config, self.seed, self.loader = mode, config, seed, loader
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Draw the random clips of ``epoch`` (call before creating the epoch's iterator)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        c = self.config
        if self.mode == "train":
            rng = np.random.default_rng([self.seed, self.epoch, i])
            indices = train_clip_indices(self.n_frames[i], c.clip_len, rng, c.max_temporal_stride)
            clip = augment_train_clip(self._load(i, indices), c, rng)
        elif self.mode == "clip":
            clip = centre_crop(self._load(i, test_clip_indices(self.n_frames[i], c.clip_len)), c.output_size)
        else:
            indices = video_clip_indices(self.n_frames[i], c.clip_len, c.video_frames)
            frames = self._load(i, indices.ravel())
            clip = centre_crop(frames.reshape(*indices.shape, *frames.shape[1:]), c.output_size)
        return torch.from_numpy(np.ascontiguousarray(clip)), int(self.labels[i])

    def _load(self, i: int, indices: np.ndarray) -> np.ndarray:
        # Decode each distinct frame once (looped clips repeat frames).
        unique, inverse = np.unique(indices, return_inverse=True)
        return self.loader(self.paths[i], unique)[inverse]
