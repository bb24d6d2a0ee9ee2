"""The ``synthetic`` block: the built-in synthetic UCF-101-format dataset."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.datasets.synthetic import DEFAULT_CLASSES, MOTIONS, N_GROUPS


class SyntheticParams(Params):
    """The ``synthetic`` block: the built-in synthetic UCF-101-format dataset."""

    seed: int = 0
    classes: tuple[Literal[tuple(MOTIONS)], ...] = DEFAULT_CLASSES  # type: ignore[valid-type]
    groups: PositiveInt = N_GROUPS
    clips_per_group: tuple[PositiveInt, PositiveInt] = (1, 2)
    frames: tuple[PositiveInt, PositiveInt] = (20, 60)
    short_frames: tuple[PositiveInt, PositiveInt] = (8, 15)
    short_fraction: float = Field(0.05, ge=0.0, le=1.0)
