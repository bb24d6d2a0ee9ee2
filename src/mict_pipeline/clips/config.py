"""The clip recipe: sizes and ranges of clip sampling and augmentation."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from mict_pipeline.config import Params


class ClipConfig(Params):
    """Sizes and ranges of the clip recipe; the defaults are the original's (16-frame clips, 160 x 160
    crops of 256 x 192 frames, temporal down-sampling 1-4, flips, colour jitter 0.5-1.5, video-level
    evaluation over up to 300 frames)."""

    clip_len: PositiveInt = 16
    max_temporal_stride: PositiveInt = 4
    crop_sizes: tuple[PositiveInt, ...] = Field((128, 144, 160, 176, 192), min_length=1)
    output_size: PositiveInt = 160
    flip: bool = True
    jitter: tuple[float, float] = (0.5, 1.5)
    video_frames: PositiveInt = 300
