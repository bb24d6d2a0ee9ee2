"""Training clips decoded and augmented on the training device instead of in the loader workers.

On a GPU machine the loader workers can become the bound of training: decoding 16 JPEG frames per
clip is over half of a worker's time (``benchmarks/loader_speed.py``). With ``recipe.decode: device``
the workers only read: :class:`EncodedClipDataset` returns each clip's distinct frames as their
JPEG bytes together with the clip's draws (the same frame indices, crop, flip and colour factors
as :class:`~mict_pipeline.clips.dataset.ClipDataset` draws for the same seed, epoch and sample), and
:func:`collate_encoded` packs a batch into a few tensors (one shared-memory block per tensor, not
one per frame). :meth:`EncodedBatch.to_clips` then decodes every frame of the batch in one
``torchvision.io.decode_jpeg`` call (nvJPEG on CUDA) and augments on the device, giving uint8
(N, T, H, W, 3) clips with the worker path's draws, layout and pixels within a few levels, ready
for ``normalize_clips``.

The augmentation follows the original's PIL recipe more closely than the worker path: the resize
is torch's anti-aliased bilinear (PIL's BILINEAR, within a level), and the colour jitter repeats
PIL's arithmetic exactly (fixed-point grey levels; ``Image.blend``: ``a + f * (b - a)`` in float32,
truncated into [0, 255]). The decoder is ``torchvision.io.decode_jpeg`` (deprecated in torchvision
0.29 in favour of TorchCodec's ``decode_jpeg``, which takes the same arguments).
The same code runs on the CPU, which is how it is tested without a GPU.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from mict_pipeline.io.frame_store import FrameStoreInfo, read_encoded_frames

from .config import ClipConfig
from .dataset import ClipDataset, epoch_and_index
from .transforms import TrainAugment

# PIL's convert("L"): ITU-R 601-2 luma in 16-bit fixed point, rounded (exact in float32: sums < 2^24).
_LUMA_FIXED = (19595.0, 38470.0, 7471.0)


@dataclasses.dataclass(frozen=True)
class EncodedClip:
    """One training clip before decoding: its distinct frames' JPEG bytes and the draws to apply."""

    frames: list[bytes]  # JPEG bytes of each distinct frame, in frame order
    order: np.ndarray  # (clip_len,) rows of ``frames`` in clip order (looped clips repeat rows)
    augment: TrainAugment
    frame_size: tuple[int, int]  # (width, height) of the stored frames
    output_size: int


@dataclasses.dataclass
class EncodedBatch:
    """A collated batch of :class:`EncodedClip`: every frame's bytes in one tensor, and the draws."""

    data: torch.Tensor  # uint8 (total bytes,): the frames' JPEG bytes back to back
    offsets: torch.Tensor  # int64 (n_frames + 1,): frame k is data[offsets[k]:offsets[k + 1]]
    first: torch.Tensor  # int64 (N + 1,): clip n's distinct frames are rows first[n]:first[n + 1]
    order: torch.Tensor  # int64 (N, T): rows of each clip's distinct frames, in clip order
    boxes: torch.Tensor  # int64 (N, 4): crop (x1, y1, x2, y2) in the stored frame
    flips: torch.Tensor  # bool (N,)
    factors: torch.Tensor  # float64 (N, 3): colour, brightness, contrast
    output_size: int

    def __len__(self) -> int:
        return len(self.order)

    def to_clips(self, device: torch.device | str) -> torch.Tensor:
        """Decode and augment on ``device``: uint8 (N, T, output_size, output_size, 3) clips."""
        from torchvision.io import ImageReadMode, decode_jpeg  # torchvision takes seconds to import: only when used

        offsets = self.offsets.tolist()
        encoded = [self.data[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
        frames = torch.stack(decode_jpeg(encoded, mode=ImageReadMode.RGB, device=device))  # (F, 3, H, W)
        size = self.output_size
        out = torch.empty((len(self), self.order.shape[1], size, size, 3), dtype=torch.uint8, device=frames.device)
        first, boxes, flips, factors = self.first.tolist(), self.boxes.tolist(), self.flips.tolist(), self.factors.tolist()
        order = self.order.to(frames.device, non_blocking=True)
        for n in range(len(self)):
            x1, y1, x2, y2 = boxes[n]
            clip = frames[first[n] : first[n + 1], :, y1:y2, x1:x2].float()
            if clip.shape[-2:] != (size, size):
                clip = F.interpolate(clip, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
                clip = clip.round_().clamp_(0, 255)  # PIL's resize gives uint8
            if flips[n]:
                clip = clip.flip(-1)
            clip = jitter_like_pil(clip, *factors[n])
            out[n] = clip[order[n]].permute(0, 2, 3, 1).to(torch.uint8)
        return out

    def pin_memory(self) -> EncodedBatch:
        """Page-locked bytes, for DataLoader(pin_memory=True)."""
        return dataclasses.replace(self, data=self.data.pin_memory())


def _grey(x: torch.Tensor) -> torch.Tensor:
    """PIL's convert("L") of float (..., 3, H, W) integral RGB, as (..., 1, H, W)."""
    r, g, b = x.unbind(-3)
    luma = r * _LUMA_FIXED[0] + g * _LUMA_FIXED[1] + b * _LUMA_FIXED[2] + 32768.0
    return (luma / 65536.0).floor_().unsqueeze(-3)


def _blend(degenerate: torch.Tensor, image: torch.Tensor, factor: float) -> torch.Tensor:
    """PIL's ``Image.blend(degenerate, image, factor)`` on float integral values: float32, truncated, clipped."""
    alpha = torch.tensor(factor, dtype=torch.float32)  # PIL's C float
    return (degenerate + alpha * (image - degenerate)).floor_().clamp_(0, 255)


def jitter_like_pil(frames: torch.Tensor, colour: float, brightness: float, contrast: float) -> torch.Tensor:
    """PIL ImageEnhance Color, Brightness then Contrast on float (F, 3, H, W) integral RGB frames in [0, 255].

    Contrast blends with each frame's mean grey level, rounded, as PIL's ImageStat + ``int(mean + 0.5)``.
    """
    frames = _blend(_grey(frames), frames, colour)
    frames = _blend(torch.zeros_like(frames), frames, brightness)
    mean = (_grey(frames).mean(dim=(-2, -1), keepdim=True, dtype=torch.float64) + 0.5).floor().float()
    return _blend(mean, frames, contrast)


class EncodedClipDataset(ClipDataset):
    """Training clips as :class:`EncodedClip` (read, not decoded), with ClipDataset's draws.

    ``reader(path, indices)`` returns the store header and the encoded frames; the store must
    hold JPEG frames (the device decoder reads JPEG only).
    """

    def __init__(
        self,
        index: pd.DataFrame,
        config: ClipConfig = ClipConfig(),
        seed: int = 0,
        reader: Callable[[str, np.ndarray], tuple[FrameStoreInfo, list[bytes]]] = read_encoded_frames,
        root: str | os.PathLike | None = None,
    ) -> None:
        super().__init__(index, "train", config, seed, root=root)
        self.reader = reader

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[EncodedClip, int]:  # type: ignore[override]
        epoch, i = epoch_and_index(key)
        indices, augment = self.train_draw(epoch, i)
        unique, order = np.unique(indices, return_inverse=True)
        info, frames = self.reader(self.paths[i], unique)
        if info.image_format != "jpeg":
            raise ValueError(
                f"{self.paths[i]}: recipe.decode: device needs JPEG frame stores, this one holds "
                f"{info.image_format.upper()} frames; set recipe.decode: worker or extract the frames as JPEG"
            )
        clip = EncodedClip(frames, order, augment, (info.width, info.height), self.config.output_size)
        return clip, int(self.labels[i])

    # How the training loop batches and moves these clips (mict_pipeline.training.loop).
    @staticmethod
    def collate_fn(items: Sequence[tuple[EncodedClip, int]]) -> tuple[EncodedBatch, torch.Tensor]:
        return collate_encoded(items)

    @staticmethod
    def batch_to_device(batch: EncodedBatch, device: torch.device) -> torch.Tensor:
        return batch.to_clips(device)


def collate_encoded(items: Sequence[tuple[EncodedClip, int]]) -> tuple[EncodedBatch, torch.Tensor]:
    """Pack encoded clips into an :class:`EncodedBatch` (run in the loader worker) and their labels."""
    clips = [clip for clip, _ in items]
    sizes = {clip.frame_size for clip in clips}
    output = {clip.output_size for clip in clips}
    if len(sizes) > 1 or len(output) > 1:
        raise ValueError(f"a batch needs one frame size and output size, got frame sizes {sorted(sizes)}")
    blobs = [frame for clip in clips for frame in clip.frames]
    counts = [len(clip.frames) for clip in clips]
    width, height = sizes.pop()
    return EncodedBatch(
        data=torch.frombuffer(bytearray(b"".join(blobs)), dtype=torch.uint8),
        offsets=torch.tensor(np.concatenate([[0], np.cumsum([len(b) for b in blobs])]), dtype=torch.int64),
        first=torch.tensor(np.concatenate([[0], np.cumsum(counts)]), dtype=torch.int64),
        order=torch.from_numpy(np.stack([clip.order for clip in clips]).astype(np.int64)),
        boxes=torch.tensor([clip.augment.box(width, height) for clip in clips], dtype=torch.int64),
        flips=torch.tensor([clip.augment.flip for clip in clips], dtype=torch.bool),
        factors=torch.tensor([[c.augment.colour, c.augment.brightness, c.augment.contrast] for c in clips], dtype=torch.float64),
        output_size=output.pop(),
    ), torch.tensor([label for _, label in items], dtype=torch.int64)
