"""The ``prepare`` block: unpacking, split lists, frame stores and the data-quality limit."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.datasets.ucf101 import ExpectedCounts
from mict_pipeline.io.frame_store import FrameSpec


class PrepareParams(Params):
    """The ``prepare`` block."""

    dataset_name: str  # what checkpoints and reports call the dataset
    videos_folder: str  # the top folder inside the video archive
    splits_folder: str
    # official: UCF-101's counts (101 classes, 13,320 videos, per split); null: no check.
    expected_counts: Literal["official"] | ExpectedCounts | None = "official"
    frames: FrameSpec = FrameSpec()
    workers: PositiveInt | None = None  # frame-extraction processes; null = all cores
    max_failed_fraction: float = Field(0.01, ge=0.0, le=1.0)
