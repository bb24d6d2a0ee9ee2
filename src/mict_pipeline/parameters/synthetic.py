"""The ``synthetic`` block: the built-in synthetic datasets (UCF-101, HMDB-51 and Kinetics formats)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from mict_pipeline.config import Params
from mict_pipeline.datasets.synthetic import (
    DEFAULT_CLASSES,
    HEIGHT,
    HMDB51_PER_CLASS,
    KINETICS_CLIPS,
    MOTIONS,
    WIDTH,
    check_hmdb51_options,
    check_kinetics_options,
    kinetics400_labels,
)
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


class HMDB51LayoutParams(Params):
    """``synthetic.hmdb51``: the motions in HMDB-51's format (archive of per-class archives, three
    split files per class)."""

    classes: tuple[Literal[tuple(MOTIONS)], ...] = DEFAULT_CLASSES  # type: ignore[valid-type]
    videos_per_class: PositiveInt = 10
    per_class: dict[Literal["train", "test"], PositiveInt] = dict(HMDB51_PER_CLASS)  # per split and class
    frames: tuple[PositiveInt, PositiveInt] = (20, 60)

    @model_validator(mode="after")
    def _generable(self) -> HMDB51LayoutParams:
        """Refuse what the generator would: e.g. fewer videos than a split takes per class."""
        check_hmdb51_options(self.classes, self.videos_per_class, self.per_class, self.frames)
        return self


class KineticsLayoutParams(Params):
    """``synthetic.kinetics``: a Kinetics download's layout (``annotations.csv`` and the clips
    folder, a few listed clips missing), its classes one per motion or Kinetics-400's names."""

    classes: tuple[Literal[tuple(MOTIONS)], ...] = DEFAULT_CLASSES  # type: ignore[valid-type]
    # motions: a class per motion, labelled `move up`, ...; kinetics400: Kinetics-400's 400 class
    # names, each moving as one of the motions in turn (its size and names, not its learnability).
    labels: Literal["motions", "kinetics400"] = "motions"
    clips: dict[Literal["train", "val", "test"], NonNegativeInt] = dict(KINETICS_CLIPS)  # per class and CSV split
    missing: NonNegativeInt = 2  # listed train/val clips left undownloaded
    frames: tuple[PositiveInt, PositiveInt] = (20, 40)

    def label_names(self) -> tuple[str, ...] | None:
        """The class names ``labels`` picks; None: the motions' own."""
        return kinetics400_labels() if self.labels == "kinetics400" else None

    @model_validator(mode="after")
    def _generable(self) -> KineticsLayoutParams:
        check_kinetics_options(self.classes, self.clips, self.missing, self.frames, self.label_names())
        return self


class SyntheticParams(Params):
    """The ``synthetic`` block: which layout, and the settings of each."""

    seed: int = 0
    layout: Literal["motions", "ucf101", "hmdb51", "kinetics"] = "motions"
    size: tuple[PositiveInt, PositiveInt] = (WIDTH, HEIGHT)  # frame width, height of the videos
    workers: PositiveInt | None = None  # encoding processes; None = every core
    motions: MotionsParams = MotionsParams()
    ucf101: ReplicaParams = ReplicaParams()
    hmdb51: HMDB51LayoutParams = HMDB51LayoutParams()
    kinetics: KineticsLayoutParams = KineticsLayoutParams()
