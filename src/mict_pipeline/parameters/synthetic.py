"""The ``synthetic`` block: the built-in synthetic UCF-101-format datasets."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.datasets.synthetic import DEFAULT_CLASSES, HEIGHT, MOTIONS, WIDTH
from mict_pipeline.datasets.ucf101 import CLASS_NAMES, GROUPS


class MotionsParams(Params):
    """``synthetic.motions``: the demo's dataset, one class per motion."""

    classes: tuple[Literal[tuple(MOTIONS)], ...] = DEFAULT_CLASSES  # type: ignore[valid-type]
    groups: PositiveInt = GROUPS
    clips_per_group: tuple[PositiveInt, PositiveInt] = (1, 2)
    frames: tuple[PositiveInt, PositiveInt] = (20, 60)
    short_frames: tuple[PositiveInt, PositiveInt] = (8, 15)
    short_fraction: float = Field(0.05, ge=0.0, le=1.0)


class ReplicaParams(Params):
    """``synthetic.ucf101``: UCF-101's exact shape (names, groups, clips, lists, lengths)."""

    classes: tuple[Literal[CLASS_NAMES], ...] | None = None  # type: ignore[valid-type]  # None: all 101
    length_scale: float = Field(1.0, gt=0.0, le=1.0)  # UCF-101's lengths (mean 7.21 s) times this
    max_clips_per_group: PositiveInt | None = None  # None: every official clip; n: at most n per group


class SyntheticParams(Params):
    """The ``synthetic`` block: which layout, and the settings of each."""

    seed: int = 0
    layout: Literal["motions", "ucf101"] = "motions"
    size: tuple[PositiveInt, PositiveInt] = (WIDTH, HEIGHT)  # frame width, height of the videos
    workers: PositiveInt | None = None  # encoding processes; None = every core
    motions: MotionsParams = MotionsParams()
    ucf101: ReplicaParams = ReplicaParams()
