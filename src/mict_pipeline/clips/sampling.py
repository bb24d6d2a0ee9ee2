"""Which frames make a clip: random training windows, the first clip, and every clip of a video."""

from __future__ import annotations

import numpy as np


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
