"""The ``prepare`` block: frame stores, extraction processes and the data-quality limit (what is
prepared is the ``datasets`` block that ``dataset`` names)."""

from __future__ import annotations

from pydantic import Field, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.io.frame_store import FrameSpec


class PrepareParams(Params):
    """The ``prepare`` block."""

    frames: FrameSpec = FrameSpec()
    workers: PositiveInt | None = None  # frame-extraction processes; null = all cores
    # Unusable videos (listed but missing, or failing to decode) allowed before the run stops.
    max_failed_fraction: float = Field(0.01, ge=0.0, le=1.0)
