"""The ``prepare`` block: frame stores, extraction processes and the data-quality limits (what is
prepared is the ``datasets`` block that ``dataset`` names)."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveInt, field_validator

from mict_pipeline.config import Params
from mict_pipeline.io.cluster import check_address
from mict_pipeline.io.frame_store import FrameSpec


class PrepareParams(Params):
    """The ``prepare`` block."""

    frames: FrameSpec = FrameSpec()
    workers: PositiveInt | None = None  # frame-extraction processes; null = all cores
    # Frame extraction on a Dask cluster (mict_pipeline.io.cluster): a scheduler's tcp://<host>:<port>,
    # or local:<N> worker processes; null = the local processes of `workers`.
    cluster: str | None = None
    # Unusable videos (listed but missing, or failing to decode): the run stops only when they are
    # more than both this share of the listed videos and this many, so one bad file of a small
    # dataset does not stop it.
    max_failed_fraction: float = Field(0.01, ge=0.0, le=1.0)
    max_failed_videos: NonNegativeInt = 5

    @field_validator("cluster")
    @classmethod
    def _cluster_is_an_address(cls, value: str | None) -> str | None:
        return value if value is None else check_address(value)

    def too_many(self, unusable: int, listed: int, fraction_limit: float | None = None) -> bool:
        """Whether ``unusable`` of ``listed`` videos exceed both limits (``fraction_limit`` in place
        of ``max_failed_fraction``, as Kinetics' ``max_missing_fraction`` for its missing clips)."""
        limit = self.max_failed_fraction if fraction_limit is None else fraction_limit
        return unusable > self.max_failed_videos and unusable > limit * listed
