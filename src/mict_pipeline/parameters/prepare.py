"""The ``prepare`` block: frame stores, extraction processes and the data-quality limits (what is
prepared is the ``datasets`` block that ``dataset`` names)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.io.frame_store import FrameSpec


class PrepareParams(Params):
    """The ``prepare`` block."""

    frames: FrameSpec = FrameSpec()
    workers: PositiveInt | None = None  # frame-extraction processes; null = all cores
    # Unusable videos (listed but missing, or failing to decode): the run stops only when they are
    # more than both this share of the listed videos and this many, so one bad file of a small
    # dataset does not stop it.
    max_failed_fraction: float = Field(0.01, ge=0.0, le=1.0)
    max_failed_videos: NonNegativeInt = 5

    def too_many(self, unusable: int, listed: int, fraction_limit: float | None = None) -> bool:
        """Whether ``unusable`` of ``listed`` videos exceed both limits (``fraction_limit`` in place
        of ``max_failed_fraction``, as Kinetics' ``max_missing_fraction`` for its missing clips)."""
        limit = self.max_failed_fraction if fraction_limit is None else fraction_limit
        return unusable > self.max_failed_videos and unusable > limit * listed
