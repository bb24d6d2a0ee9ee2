"""What a model needs to know of the dataset it is trained on."""

from __future__ import annotations

from pydantic import Field

from mict_pipeline.config import Params
from mict_pipeline.io.frame_store import FrameSpec


class DatasetSpec(Params):
    """A prepared dataset as a model sees it: its name, class names in label order and frame storage."""

    name: str
    class_names: tuple[str, ...] = Field(min_length=1)
    frames: FrameSpec = FrameSpec()
