"""Clips decoded and augmented on the training device: the same draws as the worker path, PIL's
jitter, batches through DataLoader workers, bad stores; run on the CPU (and on CUDA when present)."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image, ImageEnhance

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.clips.dataset import ClipDataset
from mict_pipeline.clips.device import EncodedBatch, EncodedClipDataset, collate_encoded, jitter_like_pil
from mict_pipeline.io.frame_store import extract_frames
from mict_pipeline.datasets.synthetic import VideoSpec, render_frames, write_video

from frame_stores import store_index

VIDEO_LENGTHS = (40, 10, 1)  # long, shorter than a clip, a single frame


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    return store_index(tmp_path_factory.mktemp("device_clips"), "SwayHorizontal", VIDEO_LENGTHS, seed=200, first_label=1)


def _device_batch(dataset: EncodedClipDataset, device: str = "cpu", epoch: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    batch, labels = collate_encoded([dataset[epoch, i] for i in range(len(dataset))])
    return dataset.batch_to_device(batch, torch.device(device)), labels


@pytest.mark.parametrize("crop_sizes", [(160,), (128, 144, 160, 176, 192)])
def test_same_clips_as_the_worker_path(index: pd.DataFrame, crop_sizes: tuple[int, ...]) -> None:
    """Same frames, crops, flips and factors as ClipDataset. Without resizing (crops of the output
    size) only the jitter's rounding differs; with it, also the resampling (anti-aliased here)."""
    config = ClipConfig(crop_sizes=crop_sizes)
    for epoch in range(3):
        worker, encoded = ClipDataset(index, "train", config, seed=5), EncodedClipDataset(index, config, seed=5)
        clips, labels = _device_batch(encoded, epoch=epoch)
        expected = torch.stack([worker[epoch, i][0] for i in range(len(worker))])
        assert clips.dtype == torch.uint8 and clips.shape == expected.shape == (3, 16, 160, 160, 3)
        assert labels.tolist() == [1, 2, 3]
        diff = (clips.int() - expected.int()).abs()
        if crop_sizes == (160,):
            assert diff.max() <= 3 and (diff == 0).float().mean() > 0.99
        else:
            assert diff.float().mean() < 1.0 and (diff > 8).float().mean() < 0.01


def test_looped_clips_repeat_decoded_frames(index: pd.DataFrame) -> None:
    dataset = EncodedClipDataset(index, seed=1)
    clip, _ = dataset[2]  # a single-frame video: one frame read, repeated 16 times
    assert len(clip.frames) == 1 and clip.order.tolist() == [0] * 16
    clips, _ = _device_batch(dataset)
    assert all(torch.equal(clips[2, 0], frame) for frame in clips[2])
    indices, _ = dataset.train_draw(0, 1)  # 10 frames: the window loops
    short = clips[1]
    for a in range(16):
        for b in range(16):
            if indices[a] == indices[b]:
                assert torch.equal(short[a], short[b])


def test_resize_and_flip_follow_pil() -> None:
    """With neutral colour factors a clip is PIL's crop, BILINEAR resize and mirror, within one level."""
    rng = np.random.default_rng(3)
    frames = cv2.resize(rng.uniform(0, 255, (12, 16, 3 * 4)).astype(np.float32), (256, 192), interpolation=cv2.INTER_CUBIC)
    frames = np.clip(frames, 0, 255).astype(np.uint8).reshape(192, 256, 4, 3).transpose(2, 0, 1, 3).copy()
    for box, flip in [((0, 0, 192, 192), False), ((128, 64, 256, 192), True), ((40, 8, 216, 152), True)]:
        encoded = [cv2.imencode(".png", f[..., ::-1])[1] for f in frames]  # lossless: compare resizing only
        decoded = np.stack([cv2.imdecode(e, cv2.IMREAD_COLOR)[..., ::-1] for e in encoded])
        jpeg = [cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 100])[1].tobytes() for f in decoded]
        reference_frames = np.stack([cv2.imdecode(np.frombuffer(j, np.uint8), cv2.IMREAD_COLOR)[..., ::-1] for j in jpeg])
        lengths = np.cumsum([0] + [len(j) for j in jpeg])
        batch = EncodedBatch(
            data=torch.frombuffer(bytearray(b"".join(jpeg)), dtype=torch.uint8),
            offsets=torch.tensor(lengths), first=torch.tensor([0, 4]), order=torch.arange(4)[None],
            boxes=torch.tensor([box]), flips=torch.tensor([flip]), factors=torch.tensor([[1.0, 1.0, 1.0]], dtype=torch.float64),
            output_size=160,
        )
        clip = batch.to_clips("cpu")[0].numpy()
        x1, y1, x2, y2 = box
        for frame, out in zip(reference_frames, clip, strict=True):
            image = Image.fromarray(np.ascontiguousarray(frame[y1:y2, x1:x2])).resize((160, 160), Image.Resampling.BILINEAR)
            if flip:
                image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            assert np.abs(out.astype(int) - np.asarray(image).astype(int)).max() <= 1


def _pil_jitter(frame: np.ndarray, colour: float, brightness: float, contrast: float) -> np.ndarray:
    image = ImageEnhance.Color(Image.fromarray(frame)).enhance(colour)
    image = ImageEnhance.Brightness(image).enhance(brightness)
    return np.asarray(ImageEnhance.Contrast(image).enhance(contrast))


def test_jitter_is_pils_exactly() -> None:
    """PIL's fixed-point grey levels and float32 blends, repeated: every value is PIL's."""
    rng = np.random.default_rng(0)
    smooth = cv2.resize(rng.uniform(0, 255, (8, 8, 3)).astype(np.float32), (64, 48), interpolation=cv2.INTER_CUBIC)
    frames = [np.clip(smooth, 0, 255).astype(np.uint8), rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)]
    factors = [tuple(rng.uniform(0.5, 1.5, 3)) for _ in range(30)] + [(0.5, 1.5, 1.5), (1.5, 0.5, 0.5), (1.5, 1.5, 0.5)]
    for frame in frames:
        x = torch.from_numpy(frame).permute(2, 0, 1)[None].float()
        for f in factors:
            ours = jitter_like_pil(x, *f)[0].permute(1, 2, 0).numpy().astype(np.uint8)
            np.testing.assert_array_equal(ours, _pil_jitter(frame, *f), err_msg=str(f))


def test_batches_through_workers_equal_in_process(index: pd.DataFrame) -> None:
    dataset = EncodedClipDataset(index, seed=2)
    keys = [(4, i) for i in range(len(dataset))]
    loader = torch.utils.data.DataLoader(dataset, batch_size=3, sampler=keys, num_workers=2, collate_fn=dataset.collate_fn)
    (batch, labels), = list(loader)
    clips = dataset.batch_to_device(batch, torch.device("cpu"))
    expected, expected_labels = _device_batch(dataset, epoch=4)
    assert torch.equal(clips, expected) and torch.equal(labels, expected_labels)


def test_png_store_is_refused_naming_the_file(tmp_path) -> None:
    video = write_video(tmp_path / "v.avi", render_frames(VideoSpec("SwayHorizontal", 1, 1, 20, 1)))
    store = tmp_path / "v.frames"
    extract_frames(video, store, image_format="png")
    dataset = EncodedClipDataset(pd.DataFrame([{"frame_store": str(store), "n_frames": 20, "label": 0}]))
    with pytest.raises(ValueError, match=re.escape(str(store)) + ".*decode: worker"):
        dataset[0]


def test_small_config(index: pd.DataFrame) -> None:
    config = ClipConfig(clip_len=8, crop_sizes=(32, 48), output_size=24)
    clips, _ = _device_batch(EncodedClipDataset(index, config, seed=0))
    assert clips.shape == (3, 8, 24, 24, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_matches_cpu(index: pd.DataFrame) -> None:
    """nvJPEG's decoding differs from libjpeg-turbo's by a level or two at most."""
    dataset = EncodedClipDataset(index, seed=9)
    gpu, _ = _device_batch(dataset, "cuda")
    cpu, _ = _device_batch(dataset, "cpu")
    assert gpu.device.type == "cuda"
    diff = (gpu.cpu().int() - cpu.int()).abs()
    assert diff.float().mean() < 0.5 and diff.max() <= 8
