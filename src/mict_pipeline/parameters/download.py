"""The ``download`` block: which archives to fetch from where, and how to verify them."""

from __future__ import annotations

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator

from mict_pipeline.config import Params


class ArchiveSpec(Params):
    """One archive to download: URLs tried in order, and what to verify (unpinned: recorded, and
    fetched again when the source changes)."""

    filename: str  # the name it is saved as; a ZIP or RAR archive is told by its content, not this name
    urls: tuple[str, ...] = Field(min_length=1)
    sha256: str | None = None
    md5: str | None = None
    size: PositiveInt | None = None

    @field_validator("urls", mode="before")
    @classmethod
    def _one_url_is_a_list(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class DownloadParams(Params):
    """The ``download`` block."""

    retries: NonNegativeInt = 5
    timeout: PositiveFloat = 60.0  # seconds without data before a retry
    ca_bundle: str | None = None  # a PEM file for a TLS-intercepting proxy; verification is never disabled
    # By name; the datasets' sources refer to them (`archive: videos`), and a run fetches those of its dataset.
    archives: dict[str, ArchiveSpec] = {}
