"""The original's clip transforms in uint8 with OpenCV/NumPy, and normalisation on the training device.

Training: one random crop (width and height each from ``crop_sizes``, at a corner or the centre)
resized to ``output_size``, a horizontal flip, and colour (saturation), brightness and contrast
factors from ``jitter``, all the same for every frame of the clip. Testing: a centre crop. Each
frame is cropped, resized, mirrored and jittered in turn while it is in cache; the result is the
original's PIL pipeline up to rounding (bilinear resizing without PIL's anti-aliasing, and
OpenCV's grey levels).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import cv2
import numpy as np
import torch

from .config import ClipConfig

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CROP_POSITIONS = ("c", "tl", "tr", "bl", "br")


def crop_box(width: int, height: int, crop_w: int, crop_h: int, position: str) -> tuple[int, int, int, int]:
    """(x1, y1, x2, y2) of a crop at a corner or the centre, as the original's corner cropping.

    A crop larger than the frame is clamped to the frame.
    """
    if position not in CROP_POSITIONS:
        raise ValueError(f"crop position must be one of {CROP_POSITIONS}, got {position!r}")
    crop_w, crop_h = min(crop_w, width), min(crop_h, height)
    if position == "c":
        x1, y1 = width // 2 - crop_w // 2, height // 2 - crop_h // 2
    else:
        x1 = 0 if position[1] == "l" else width - crop_w
        y1 = 0 if position[0] == "t" else height - crop_h
    return x1, y1, x1 + crop_w, y1 + crop_h


# OpenCV rounds to nearest; PIL truncates. Adding this offset before rounding truncates every value
# that is not within 2^-12 below an integer (float32 error on these values is ~1e-5).
_TRUNCATE = -0.5 + 2.0**-12


class _Jitter:
    """PIL's ImageEnhance Color, Brightness then Contrast, in place on one uint8 (H, W, 3) RGB frame at a time.

    Each step is PIL's ``Image.blend(degenerate, image, factor)``: ``degenerate + factor * (image -
    degenerate)`` in float32, truncated into [0, 255], with the degenerate image Color: the pixel's
    grey level (ITU-R 601-2 luma); Brightness: black; Contrast: the frame's mean grey level,
    rounded. OpenCV rounds where PIL truncates, so each step adds :data:`_TRUNCATE`: with factors as
    training draws them, 99.9% of the values are PIL's and the rest one level off (rarely two or
    three, where OpenCV's grey level rounds differently from PIL's and the later factors amplify
    it). A factor a hair from 1 (within ~1e-4) can put up to half the values one or two levels off,
    as PIL's truncation moves values that OpenCV keeps. On large flat areas (the synthetic videos'
    black background) one such rounding case moves the whole area one level. The grey scratch
    buffers are allocated once per clip and stay in cache.
    """

    def __init__(self, height: int, width: int, colour: float, brightness: float, contrast: float) -> None:
        self.colour, self.brightness, self.contrast = colour, brightness, contrast
        self.grey = np.empty((height, width), np.uint8)
        self.grey3 = np.empty((height, width, 3), np.uint8)

    def __call__(self, frame: np.ndarray) -> None:
        grey, grey3 = self.grey, self.grey3
        # Color: colour * pixel + (1 - colour) * grey.
        cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY, dst=grey)
        cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB, dst=grey3)
        cv2.addWeighted(frame, self.colour, grey3, 1.0 - self.colour, _TRUNCATE, dst=frame)
        # Brightness: brightness * value; never negative, so convertScaleAbs's absolute value is harmless.
        cv2.convertScaleAbs(frame, dst=frame, alpha=self.brightness, beta=_TRUNCATE)
        # Contrast: contrast * value + (1 - contrast) * mean, with the mean of the frame's rounded grey
        # levels (not the grey level of the mean colour: values quantised by the steps above make
        # the two differ), rounded.
        cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY, dst=grey)
        mean = int(cv2.mean(grey)[0] + 0.5)
        cv2.addWeighted(frame, self.contrast, frame, 0.0, (1.0 - self.contrast) * mean + _TRUNCATE, dst=frame)


def _crop_resize_jitter(
    frames: np.ndarray, box: tuple[int, int, int, int], size: int, flip: bool, factors: tuple[float, float, float] | None
) -> np.ndarray:
    """Crop, resize to ``size``, mirror and jitter each frame in turn: every step after the resize
    works in place on a frame that is still in cache, instead of in passes over the whole clip."""
    x1, y1, x2, y2 = box
    crop = frames[:, y1:y2, x1:x2]
    out = np.empty((len(frames), size, size, 3), np.uint8)
    jitter = None if factors is None or factors == (1.0, 1.0, 1.0) else _Jitter(size, size, *factors)
    same_size = crop.shape[1:3] == (size, size)
    for src, dst in zip(crop, out, strict=True):
        if same_size:
            dst[...] = src
        else:
            cv2.resize(src, (size, size), dst=dst, interpolation=cv2.INTER_LINEAR)
        if flip:
            cv2.flip(dst, 1, dst=dst)
        if jitter is not None:
            jitter(dst)
    return out


def crop_resize(frames: np.ndarray, box: tuple[int, int, int, int], size: int, flip: bool = False) -> np.ndarray:
    """Crop ``box`` of every uint8 (T, H, W, 3) frame, resize it to ``size`` x ``size`` (bilinear), optionally mirror.

    Returns a new C-contiguous (T, size, size, 3) array; the resize writes straight into it.
    """
    return _crop_resize_jitter(frames, box, size, flip, None)


@dataclasses.dataclass(frozen=True)
class TrainAugment:
    """One draw of the training transform, applied identically to every frame of a clip."""

    crop_w: int
    crop_h: int
    position: str
    flip: bool
    colour: float
    brightness: float
    contrast: float

    @classmethod
    def draw(cls, config: ClipConfig, rng: np.random.Generator) -> TrainAugment:
        crop_w, crop_h = (int(v) for v in rng.choice(config.crop_sizes, size=2))
        position = CROP_POSITIONS[int(rng.integers(len(CROP_POSITIONS)))]
        flip = bool(config.flip and rng.random() < 0.5)
        colour, brightness, contrast = (float(v) for v in rng.uniform(*config.jitter, size=3))
        return cls(crop_w, crop_h, position, flip, colour, brightness, contrast)

    def box(self, width: int, height: int) -> tuple[int, int, int, int]:
        return crop_box(width, height, self.crop_w, self.crop_h, self.position)

    def apply(self, frames: np.ndarray, output_size: int) -> np.ndarray:
        """Crop, resize, mirror and colour-jitter uint8 (T, H, W, 3) frames into (T, size, size, 3).

        The original's order (crop, resize, flip, jitter): jittering after the resize touches
        fewer pixels, and the per-frame contrast mean does not depend on the mirroring.
        """
        height, width = frames.shape[1:3]
        factors = (self.colour, self.brightness, self.contrast)
        return _crop_resize_jitter(frames, self.box(width, height), output_size, self.flip, factors)


def centre_crop(frames: np.ndarray, size: int) -> np.ndarray:
    """Centre ``size`` x ``size`` crop of uint8 (..., H, W, 3) frames (resized when the frame is smaller)."""
    height, width = frames.shape[-3:-1]
    box = crop_box(width, height, size, size, "c")
    flat = frames.reshape(-1, height, width, 3)
    return crop_resize(flat, box, size).reshape(*frames.shape[:-3], size, size, 3)


@functools.lru_cache(maxsize=32)
def _normalize_tables(
    mean: tuple[float, ...], std: tuple[float, ...], width: int, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) per channel, tiled along a row of ``width`` RGB pixels."""
    scale = torch.tensor([1.0 / (255.0 * s) for s in std], dtype=torch.float32, device=device)
    shift = torch.tensor([-m / s for m, s in zip(mean, std, strict=True)], dtype=torch.float32, device=device)
    return scale.repeat(width), shift.repeat(width)


def normalize_clips(
    clips: torch.Tensor, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
) -> torch.Tensor:
    """uint8 (..., T, H, W, 3) -> normalised float (..., 3, T, H, W), channels_last_3d for 5D input.

    ``(x / 255 - mean) / std`` as ToTensor + Normalize, computed as one fused ``x * a + b`` over
    rows of W * 3 values (a per-channel table tiled along the row), so the inner loop is long and
    contiguous rather than 3 values long. The result's memory stays T, H, W, C ordered.
    """
    if clips.shape[-1] != 3:
        raise ValueError(f"clips must end with 3 RGB channels, got shape {tuple(clips.shape)}")
    width = clips.shape[-2]
    scale, shift = _normalize_tables(tuple(mean), tuple(std), width, clips.device)
    rows = clips.contiguous().view(*clips.shape[:-2], width * 3)
    return torch.addcmul(shift, rows, scale).view(clips.shape).movedim(-1, -4)
