"""Clip sampling and augmentation: index functions, crops, the colour jitter against PIL, normalisation,
and ClipDataset on real frame stores (modes, determinism, DataLoader workers)."""

from __future__ import annotations

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageEnhance
from torchvision import transforms

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.sampling import test_clip_indices as first_clip_indices
from mict_pipeline.clips.sampling import train_clip_indices, video_clip_indices
from mict_pipeline.clips.transforms import (
    CROP_POSITIONS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    TrainAugment,
    _Jitter,
    centre_crop,
    crop_box,
    crop_resize,
    normalize_clips,
)
from mict_pipeline.config import ParameterError
from mict_pipeline.io.frame_store import load_frames

from frame_stores import store_index

hypothesis_settings = settings(max_examples=60, deadline=None)
CONFIG = ClipConfig()


def jitter_colour(frames: np.ndarray, colour: float, brightness: float, contrast: float) -> np.ndarray:
    """The training jitter on uint8 (..., H, W, 3) frames, one frame at a time, into a new array."""
    out = np.array(frames, dtype=np.uint8, order="C", copy=True)
    height, width = out.shape[-3:-1]
    jitter = _Jitter(height, width, colour, brightness, contrast)
    for frame in out.reshape(-1, height, width, 3):
        jitter(frame)
    return out


def _textured_frames(n: int = 4, seed: int = 0, size: tuple[int, int] = (192, 256)) -> np.ndarray:
    """Distinct, smooth-ish RGB frames (like decoded video) with a full range of values."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (n, size[0] // 8, size[1] // 8, 3), dtype=np.uint8)
    big = small.repeat(8, axis=1).repeat(8, axis=2)
    noise = rng.integers(-12, 13, big.shape)
    return np.clip(big.astype(int) + noise, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Index functions
# --------------------------------------------------------------------------------------------


def _stride(indices: np.ndarray) -> int | None:
    """The step of a training clip (None when it shows a single frame)."""
    steps = np.diff(indices)
    positive = steps[steps > 0]
    return int(positive[0]) if positive.size else None


@hypothesis_settings
@given(
    n_frames=st.integers(1, 400),
    clip_len=st.integers(1, 32),
    max_stride=st.integers(1, 4),
    seed=st.integers(0, 2**32 - 1),
)
def test_train_indices_in_range_strided_and_looped(n_frames: int, clip_len: int, max_stride: int, seed: int) -> None:
    indices = train_clip_indices(n_frames, clip_len, np.random.default_rng(seed), max_stride)
    assert indices.shape == (clip_len,) and indices.dtype.kind == "i"
    assert indices.min() >= 0 and indices.max() < n_frames
    stride = _stride(indices)
    if stride is None:  # a single distinct frame: a one-frame window, or a down-sampled video of one frame
        assert clip_len == 1 or indices[0] == 0
        return
    assert 1 <= stride <= max_stride
    assert indices[0] % stride == 0  # windows start on the down-sampled grid
    available = len(range(0, n_frames, stride))
    window = min(available, clip_len)
    # The first `window` indices are consecutive on the grid, then the window repeats.
    np.testing.assert_array_equal(np.diff(indices[:window]), np.full(window - 1, stride))
    np.testing.assert_array_equal(indices, indices[np.arange(clip_len) % window])
    if available < clip_len:
        assert indices[0] == 0  # the whole down-sampled video, looped
    # Same seed, same clip.
    np.testing.assert_array_equal(indices, train_clip_indices(n_frames, clip_len, np.random.default_rng(seed), max_stride))


def test_train_indices_short_videos_loop() -> None:
    rng = np.random.default_rng(0)
    for _ in range(50):
        indices = train_clip_indices(10, 16, rng)
        stride = _stride(indices)
        window = np.arange(0, 10, stride)
        np.testing.assert_array_equal(indices, np.resize(window, 16))
    np.testing.assert_array_equal(train_clip_indices(1, 16, rng), np.zeros(16, int))
    np.testing.assert_array_equal(train_clip_indices(16, 16, np.random.default_rng(1), max_temporal_stride=1), np.arange(16))


def test_train_indices_reach_every_stride_and_window_start() -> None:
    rng = np.random.default_rng(0)
    draws = [train_clip_indices(40, 16, rng) for _ in range(2000)]
    strides = {_stride(d) for d in draws}
    assert strides == {1, 2, 3, 4}
    starts = {}
    for d in draws:
        starts.setdefault(_stride(d), set()).add(int(d[0]))
    # Stride 1: 40 frames, windows start at 0..24; stride 2: 20 frames, starts 0, 2, .., 8.
    assert starts[1] == set(range(0, 25))
    assert starts[2] == set(range(0, 9, 2))
    # Strides 3 and 4 leave 14 and 10 frames: always the whole video, looped.
    assert starts[3] == starts[4] == {0}


def test_train_indices_deterministic_and_seed_dependent() -> None:
    a = [train_clip_indices(200, 16, np.random.default_rng([5, 0, i])) for i in range(20)]
    b = [train_clip_indices(200, 16, np.random.default_rng([5, 0, i])) for i in range(20)]
    c = [train_clip_indices(200, 16, np.random.default_rng([6, 0, i])) for i in range(20)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


@hypothesis_settings
@given(n_frames=st.integers(1, 400), clip_len=st.integers(1, 32))
def test_test_indices_first_frames_looped(n_frames: int, clip_len: int) -> None:
    indices = first_clip_indices(n_frames, clip_len)
    assert indices.shape == (clip_len,)
    window = min(n_frames, clip_len)
    np.testing.assert_array_equal(indices, np.arange(clip_len) % window)


def test_test_indices_examples() -> None:
    np.testing.assert_array_equal(first_clip_indices(100, 16), np.arange(16))
    np.testing.assert_array_equal(first_clip_indices(5, 8), [0, 1, 2, 3, 4, 0, 1, 2])
    np.testing.assert_array_equal(first_clip_indices(1, 4), [0, 0, 0, 0])


@hypothesis_settings
@given(n_frames=st.integers(1, 700), clip_len=st.integers(1, 32), max_frames=st.integers(1, 400))
def test_video_indices_cover_every_frame(n_frames: int, clip_len: int, max_frames: int) -> None:
    clips = video_clip_indices(n_frames, clip_len, max_frames)
    covered = min(n_frames, max_frames)
    assert clips.ndim == 2 and clips.shape[1] == clip_len
    assert clips.min() >= 0 and clips.max() < covered
    assert set(clips.ravel().tolist()) == set(range(covered))
    if covered <= clip_len:
        np.testing.assert_array_equal(clips, first_clip_indices(covered, clip_len)[None])
    else:
        assert len(clips) == -(-covered // clip_len)
        for row in clips:  # consecutive frames
            np.testing.assert_array_equal(row, np.arange(row[0], row[0] + clip_len))
        starts = clips[:, 0]
        np.testing.assert_array_equal(starts[: covered // clip_len], np.arange(covered // clip_len) * clip_len)
        assert clips[-1, -1] == covered - 1


def test_video_indices_examples() -> None:
    clips = video_clip_indices(1000, 16, 300)  # UCF-101 video level: up to 300 frames
    assert clips.shape == (19, 16)
    assert clips[-2, 0] == 272 and clips[-1, 0] == 284
    assert video_clip_indices(32, 16, 300).tolist() == [list(range(16)), list(range(16, 32))]
    np.testing.assert_array_equal(video_clip_indices(10, 16, 300), [np.resize(np.arange(10), 16)])


# --------------------------------------------------------------------------------------------
# Crops
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "expected"),
    [
        ("c", (48, 32, 208, 160)),
        ("tl", (0, 0, 160, 128)),
        ("tr", (96, 0, 256, 128)),
        ("bl", (0, 64, 160, 192)),
        ("br", (96, 64, 256, 192)),
    ],
)
def test_crop_box_positions(position: str, expected: tuple[int, int, int, int]) -> None:
    assert crop_box(256, 192, 160, 128, position) == expected


@pytest.mark.parametrize("position", CROP_POSITIONS)
def test_crop_box_larger_than_frame_clamps(position: str) -> None:
    assert crop_box(100, 80, 160, 128, position) == (0, 0, 100, 80)
    x1, y1, x2, y2 = crop_box(256, 192, 300, 128, position)  # only the width clamps
    assert (x1, x2, y2 - y1) == (0, 256, 128)


def test_crop_box_centre_matches_the_original_test_crop() -> None:
    # The original's test crop: x1 = round((w - 160) / 2), y1 = round((h - 160) / 2) at 256x192.
    assert crop_box(256, 192, 160, 160, "c") == (48, 16, 208, 176)
    with pytest.raises(ValueError, match="crop position"):
        crop_box(256, 192, 160, 160, "middle")


def test_crop_resize_exact_crop_resize_and_flip() -> None:
    frames = _textured_frames(3)
    box = crop_box(256, 192, 160, 160, "br")
    out = crop_resize(frames, box, 160)
    assert out.shape == (3, 160, 160, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    np.testing.assert_array_equal(out, frames[:, 32:192, 96:256])  # no resize needed: the crop itself
    np.testing.assert_array_equal(crop_resize(frames, box, 160, flip=True), out[:, :, ::-1])
    big = crop_resize(frames, crop_box(256, 192, 192, 144, "tl"), 160, flip=True)
    assert big.shape == (3, 160, 160, 3)
    np.testing.assert_array_equal(big, crop_resize(frames, crop_box(256, 192, 192, 144, "tl"), 160)[:, :, ::-1])


def test_centre_crop_any_leading_shape() -> None:
    frames = _textured_frames(6)
    np.testing.assert_array_equal(centre_crop(frames, 160), frames[:, 16:176, 48:208])
    nested = centre_crop(frames.reshape(2, 3, 192, 256, 3), 160)
    assert nested.shape == (2, 3, 160, 160, 3)
    np.testing.assert_array_equal(nested.reshape(6, 160, 160, 3), frames[:, 16:176, 48:208])


# --------------------------------------------------------------------------------------------
# Augmentation: one draw for the whole clip
# --------------------------------------------------------------------------------------------


def test_identical_frames_stay_identical() -> None:
    frame = _textured_frames(1)[0]
    clip = np.repeat(frame[None], 16, axis=0)
    for seed in range(10):
        out = TrainAugment.draw(CONFIG, np.random.default_rng(seed)).apply(clip, CONFIG.output_size)
        assert out.shape == (16, 160, 160, 3) and out.dtype == np.uint8
        assert (out == out[0]).all()


def test_same_transform_on_every_frame() -> None:
    clip = _textured_frames(16, seed=1)
    clip[9] = clip[2]
    clip[15] = clip[0]
    for seed in range(10):
        augment = TrainAugment.draw(CONFIG, np.random.default_rng(seed))
        out = augment.apply(clip, 160)
        np.testing.assert_array_equal(out[9], out[2])
        np.testing.assert_array_equal(out[15], out[0])
        assert not np.array_equal(out[1], out[2])
        # Frame by frame gives the same: the draw, not the neighbours, decides each frame.
        for t in (0, 5, 9):
            np.testing.assert_array_equal(augment.apply(clip[t : t + 1], 160)[0], out[t])


def test_draws_cover_the_recipe() -> None:
    rng = np.random.default_rng(0)
    draws = [TrainAugment.draw(CONFIG, rng) for _ in range(500)]
    assert {d.crop_w for d in draws} == {d.crop_h for d in draws} == set(CONFIG.crop_sizes)
    assert {d.position for d in draws} == set(CROP_POSITIONS)
    assert 0.4 < np.mean([d.flip for d in draws]) < 0.6
    factors = np.array([(d.colour, d.brightness, d.contrast) for d in draws])
    assert factors.min() >= 0.5 and factors.max() < 1.5 and factors.min() < 0.55 and factors.max() > 1.45
    no_flip = ClipConfig(flip=False)
    assert not any(TrainAugment.draw(no_flip, rng).flip for _ in range(50))


def test_flip_mirrors_the_whole_output() -> None:
    clip = _textured_frames(5, seed=3)
    augment = TrainAugment(176, 144, "tr", False, 1.3, 0.8, 1.2)
    mirrored = TrainAugment(176, 144, "tr", True, 1.3, 0.8, 1.2)
    np.testing.assert_array_equal(mirrored.apply(clip, 160), augment.apply(clip, 160)[:, :, ::-1])


def test_neutral_factors_leave_colours() -> None:
    clip = _textured_frames(3, seed=4)
    augment = TrainAugment(160, 160, "c", False, 1.0, 1.0, 1.0)
    np.testing.assert_array_equal(augment.apply(clip, 160), clip[:, 16:176, 48:208])
    np.testing.assert_array_equal(jitter_colour(clip, 1.0, 1.0, 1.0), clip)


# --------------------------------------------------------------------------------------------
# Colour jitter against PIL
# --------------------------------------------------------------------------------------------


def _pil_jitter(frames: np.ndarray, colour: float, brightness: float, contrast: float) -> np.ndarray:
    out = []
    for frame in frames:
        image = ImageEnhance.Color(Image.fromarray(frame)).enhance(colour)
        image = ImageEnhance.Brightness(image).enhance(brightness)
        out.append(np.asarray(ImageEnhance.Contrast(image).enhance(contrast)))
    return np.stack(out)


@pytest.fixture(scope="module")
def natural_frames() -> np.ndarray:
    """Smooth colour textures with soft edges, like photographs (the synthetic videos are dots on
    black, mostly one grey level), two of them darkened/brightened."""
    rng = np.random.default_rng(11)
    coarse = rng.uniform(0, 255, (4, 12, 12, 3)).astype(np.float32)
    fine = rng.normal(0, 12, (4, 160, 160, 3)).astype(np.float32)
    smooth = np.stack([cv2.resize(c, (160, 160), interpolation=cv2.INTER_CUBIC) for c in coarse])
    frames = np.clip(smooth + fine, 0, 255).astype(np.uint8)
    frames[1] = frames[1] // 3
    frames[2] = 255 - (255 - frames[2]) // 3
    return frames


@settings(max_examples=25, deadline=None)
@given(factors=st.tuples(*[st.floats(0.5, 1.5)] * 3), noise_seed=st.integers(0, 1000))
def test_jitter_within_three_levels_of_pil(
    natural_frames: np.ndarray, factors: tuple[float, float, float], noise_seed: int
) -> None:
    noise = np.random.default_rng(noise_seed).integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    for frames in (natural_frames, noise):
        diff = np.abs(jitter_colour(frames, *factors).astype(int) - _pil_jitter(frames, *factors).astype(int))
        assert diff.max() <= 3


def test_jitter_equals_pil_almost_everywhere(natural_frames: np.ndarray) -> None:
    """Factors as training draws them, plus the extremes: nearly every value is exactly PIL's."""
    rng = np.random.default_rng(0)
    draws = [tuple(rng.uniform(0.5, 1.5, 3)) for _ in range(30)]
    extremes = [(0.5, 0.5, 0.5), (1.5, 1.5, 1.5), (0.5, 1.5, 1.5), (1.5, 0.5, 0.5), (1.0, 1.3, 0.7)]
    noise = rng.integers(0, 256, (2, 48, 64, 3), dtype=np.uint8)
    identical = []
    for factors in draws + extremes:
        for frames in (natural_frames, noise):
            diff = np.abs(jitter_colour(frames, *factors).astype(int) - _pil_jitter(frames, *factors).astype(int))
            assert diff.max() <= 3
            identical.append((diff == 0).mean())
    assert min(identical) >= 0.98
    assert np.mean(identical) >= 0.998


@pytest.mark.parametrize("factors", [(1.0, 1.0, 0.99999), (1.00001, 1.0, 1.0), (0.99999, 0.99999, 0.99999)])
def test_jitter_factors_next_to_one(natural_frames: np.ndarray, factors: tuple[float, float, float]) -> None:
    # PIL truncates, so a factor a hair from 1 moves many values by one level (0.99999 * 200 -> 199);
    # OpenCV's rounding cannot follow it that closely, but stays within two levels.
    diff = np.abs(jitter_colour(natural_frames, *factors).astype(int) - _pil_jitter(natural_frames, *factors).astype(int))
    assert diff.max() <= 2


def test_jitter_per_frame_contrast_and_no_side_effects(natural_frames: np.ndarray) -> None:
    before = natural_frames.copy()
    together = jitter_colour(natural_frames, 1.2, 1.1, 1.5)
    np.testing.assert_array_equal(natural_frames, before)
    assert together.dtype == np.uint8 and together.shape == natural_frames.shape
    # The contrast pivots on each frame's own mean: frames are independent of each other.
    for t in range(len(natural_frames)):
        np.testing.assert_array_equal(jitter_colour(natural_frames[t : t + 1], 1.2, 1.1, 1.5)[0], together[t])
    # A single (H, W, 3) frame works too; non-contiguous input is accepted.
    np.testing.assert_array_equal(jitter_colour(natural_frames[0], 1.2, 1.1, 1.5), together[0])
    np.testing.assert_array_equal(jitter_colour(natural_frames[:, :, ::-1], 1.2, 1.1, 1.5), together[:, :, ::-1])


# --------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------


def test_normalize_clips_matches_totensor_normalize() -> None:
    clips = torch.from_numpy(_textured_frames(8, seed=5, size=(40, 48))).view(2, 4, 40, 48, 3)
    out = normalize_clips(clips)
    assert out.shape == (2, 3, 4, 40, 48) and out.dtype == torch.float32
    assert out.is_contiguous(memory_format=torch.channels_last_3d)
    reference = transforms.Compose([transforms.ToTensor(), transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    for n in range(2):
        expected = torch.stack([reference(frame.numpy()) for frame in clips[n]], dim=1)  # (3, T, H, W)
        torch.testing.assert_close(out[n], expected, atol=1e-5, rtol=0)
    black = normalize_clips(torch.zeros(1, 1, 1, 1, 3, dtype=torch.uint8))
    white = normalize_clips(torch.full((1, 1, 1, 1, 3), 255, dtype=torch.uint8))
    mean, std = torch.tensor(IMAGENET_MEAN), torch.tensor(IMAGENET_STD)
    torch.testing.assert_close(black.flatten(), -mean / std)
    torch.testing.assert_close(white.flatten(), (1 - mean) / std)


def test_normalize_clips_shapes_and_options() -> None:
    clip = torch.from_numpy(_textured_frames(4, seed=6, size=(16, 24)))
    single = normalize_clips(clip)  # (T, H, W, 3) -> (3, T, H, W)
    assert single.shape == (3, 4, 16, 24)
    torch.testing.assert_close(single, normalize_clips(clip[None])[0])
    strided = clip[:, :, ::2]  # not contiguous
    torch.testing.assert_close(normalize_clips(strided), normalize_clips(strided.contiguous()))
    plain = normalize_clips(clip, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    torch.testing.assert_close(plain, clip.permute(3, 0, 1, 2).float() / 255)
    with pytest.raises(ValueError, match="3 RGB channels"):
        normalize_clips(torch.zeros(1, 4, 8, 8, 4, dtype=torch.uint8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_normalize_clips_on_cuda() -> None:
    clips = torch.from_numpy(_textured_frames(8, seed=7, size=(16, 24))).view(2, 4, 16, 24, 3)
    out = normalize_clips(clips.cuda())
    assert out.device.type == "cuda" and out.is_contiguous(memory_format=torch.channels_last_3d)
    torch.testing.assert_close(out.cpu(), normalize_clips(clips))


# --------------------------------------------------------------------------------------------
# ClipDataset on real frame stores
# --------------------------------------------------------------------------------------------

VIDEO_LENGTHS = (40, 10, 1)  # long, shorter than a clip, a single frame


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return store_index(tmp_path_factory.mktemp("clips"), "Twist", VIDEO_LENGTHS, seed=100, first_label=3)


class _CountingLoader:
    """load_frames that records what it was asked for."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, path: str, indices: np.ndarray) -> np.ndarray:
        self.calls.append(np.asarray(indices).tolist())
        return load_frames(path, indices)


def test_dataset_shapes_and_labels(index: pd.DataFrame) -> None:
    expected_clips = [len(video_clip_indices(n, 16, 300)) for n in VIDEO_LENGTHS]
    assert expected_clips == [3, 1, 1]
    for mode, shape in (("train", (16, 160, 160, 3)), ("clip", (16, 160, 160, 3))):
        dataset = ClipDataset(index, mode)
        assert len(dataset) == 3
        for i in range(3):
            clip, label = dataset[i]
            assert clip.shape == shape and clip.dtype == torch.uint8 and clip.is_contiguous()
            assert label == i + 3
    dataset = ClipDataset(index, "video")
    for i, k in enumerate(expected_clips):
        clip, label = dataset[i]
        assert clip.shape == (k, 16, 160, 160, 3) and clip.dtype == torch.uint8 and label == i + 3


def test_dataset_test_modes_are_centre_crops(index: pd.DataFrame) -> None:
    for i, n in enumerate(VIDEO_LENGTHS):
        path = index["frame_store"][i]
        clip, _ = ClipDataset(index, "clip")[i]
        expected = load_frames(path, first_clip_indices(n, 16))[:, 16:176, 48:208]
        np.testing.assert_array_equal(clip.numpy(), expected)
        video, _ = ClipDataset(index, "video")[i]
        rows = video_clip_indices(n, 16, 300)
        for k, row in enumerate(rows):
            np.testing.assert_array_equal(video[k].numpy(), load_frames(path, row)[:, 16:176, 48:208])


def test_dataset_video_frames_limit(index: pd.DataFrame) -> None:
    clip, _ = ClipDataset(index, "video", ClipConfig(video_frames=20))[0]
    assert clip.shape[0] == 2  # frames 0-15 and 4-19


def test_dataset_decodes_each_frame_once(index: pd.DataFrame) -> None:
    loader = _CountingLoader()
    dataset = ClipDataset(index, "train", loader=loader)
    for epoch in range(4):
        for i in range(3):
            dataset[epoch, i]
    for call in loader.calls:
        assert call == sorted(set(call))
    assert [0] in loader.calls  # the single-frame video: one decode for 16 frames


def test_dataset_looped_train_clips_repeat_frames(index: pd.DataFrame) -> None:
    for epoch in range(8):
        dataset = ClipDataset(index, "train", seed=1)
        rng = np.random.default_rng([1, epoch, 1])
        indices = train_clip_indices(10, 16, rng)
        clip = dataset[epoch, 1][0].numpy()
        for t in range(16):  # equal indices give equal frames, distinct ones distinct frames
            first = int(np.argmax(indices == indices[t]))
            np.testing.assert_array_equal(clip[t], clip[first])
        assert len({clip[t].tobytes() for t in range(16)}) == len(set(indices.tolist()))
        single = ClipDataset(index, "train", seed=1)[epoch, 2][0].numpy()
        assert (single == single[0]).all()


def test_dataset_train_matches_the_draw(index: pd.DataFrame) -> None:
    dataset = ClipDataset(index, "train", seed=7)
    rng = np.random.default_rng([7, 3, 0])
    indices = train_clip_indices(40, 16, rng)
    augment = TrainAugment.draw(CONFIG, rng)
    expected = augment.apply(load_frames(index["frame_store"][0], indices), 160)
    np.testing.assert_array_equal(dataset[3, 0][0].numpy(), expected)


def test_dataset_determinism_and_epochs(index: pd.DataFrame) -> None:
    def clips(seed: int, epoch: int, order: range | list[int] = range(3)) -> dict[int, bytes]:
        dataset = ClipDataset(index, "train", seed=seed)
        return {i: dataset[epoch, i][0].numpy().tobytes() for i in order}

    first = clips(0, 0)
    assert clips(0, 0, [2, 0, 1]) == first  # order of access does not matter
    assert clips(0, 0) == first  # a new instance: same clips
    assert clips(0, 1)[0] != first[0]  # another epoch: other clips
    assert clips(1, 0)[0] != first[0]  # another seed: other clips
    dataset = ClipDataset(index, "train")
    dataset[1, 0]
    assert dataset[0, 0][0].numpy().tobytes() == dataset[0][0].numpy().tobytes() == first[0]  # a bare index: epoch 0


@pytest.mark.parametrize("mode", ["train", "clip"])
def test_dataset_independent_of_workers(index: pd.DataFrame, mode: str) -> None:
    dataset = ClipDataset(index, mode, seed=3)
    keys = [(2, i) for i in range(len(dataset))]

    def batches(workers: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        loader = torch.utils.data.DataLoader(dataset, batch_size=2, sampler=keys, num_workers=workers)
        return list(loader)

    serial, parallel = batches(0), batches(2)
    assert len(serial) == len(parallel) == 2
    for (a, la), (b, lb) in zip(serial, parallel, strict=True):
        assert a.dtype == torch.uint8 and a.shape[1:] == (16, 160, 160, 3)
        assert torch.equal(a, b) and torch.equal(la, lb)


def test_dataset_rejects_bad_input(index: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="mode"):
        ClipDataset(index, "test")
    with pytest.raises(ValueError, match="n_frames"):
        ClipDataset(index.drop(columns="n_frames"), "train")


def test_config_from_params() -> None:
    config = ClipConfig.model_validate({"crop_sizes": [128, 160], "jitter": [0.8, 1.2], "clip_len": 8})
    assert config.crop_sizes == (128, 160) and config.jitter == (0.8, 1.2) and config.clip_len == 8
    with pytest.raises(ParameterError, match=r"training.clips: unknown key 'crop_size'; valid keys: clip_len, .*crop_sizes"):
        ClipConfig.model_validate({"crop_size": 160}, where="training.clips")
    with pytest.raises(ParameterError, match=r"training.clips.crop_sizes.1: Input should be greater than 0 \(got -4\)"):
        ClipConfig.model_validate({"crop_sizes": [32, -4]}, where="training.clips")


def test_dataset_small_config(index: pd.DataFrame) -> None:
    config = ClipConfig(clip_len=4, crop_sizes=(96,), output_size=112, jitter=(1.0, 1.0), flip=False)
    clip, _ = ClipDataset(index, "train", config)[0]
    assert clip.shape == (4, 112, 112, 3)
    clip, _ = ClipDataset(index, "clip", config)[0]
    assert clip.shape == (4, 112, 112, 3)
