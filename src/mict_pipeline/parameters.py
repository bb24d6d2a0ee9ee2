"""The parameter blocks of ``conf/*/parameters*.yml``, one Pydantic model each.

The pipelines' nodes declare these types on their ``params:`` inputs, and Kedro validates and
converts each block before any node runs. :class:`ProjectParameters` is the whole tree: the project
context checks it once per session, so a misspelt key anywhere, including at the top level where no
node would read it, is named with its path and the valid keys before anything runs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveFloat, PositiveInt, field_validator, model_validator

from mict_pipeline.config import Params
from mict_pipeline.datasets.synthetic import DEFAULT_CLASSES, MOTIONS, N_GROUPS
from mict_pipeline.datasets.ucf101 import ExpectedCounts
from mict_pipeline.experiment import ExperimentConfig, TrainingParams
from mict_pipeline.io.frame_store import FrameSpec

# Re-exported: every parameter block of the project is importable from here.
__all__ = [
    "ArchiveSpec", "BenchmarkParams", "DownloadParams", "ExperimentConfig", "PrepareParams", "ProjectParameters",
    "SyntheticParams", "TrainingParams",
]


class ArchiveSpec(Params):
    """One archive to download: URLs tried in order, and what to verify (unpinned: recorded)."""

    filename: str
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

    dest_dir: str
    retries: NonNegativeInt = 5
    timeout: PositiveFloat = 60.0  # seconds without data before a retry
    ca_bundle: str | None = None  # a PEM file for a TLS-intercepting proxy; verification is never disabled
    archives: dict[Literal["videos", "splits"], ArchiveSpec]

    @field_validator("archives")
    @classmethod
    def _both_archives(cls, archives: dict[str, ArchiveSpec]) -> dict[str, ArchiveSpec]:
        missing = sorted({"videos", "splits"} - set(archives))
        if missing:
            raise ValueError(f"archive {', '.join(missing)} missing: declare both videos and splits")
        return archives


class PrepareParams(Params):
    """The ``prepare`` block."""

    dataset_name: str  # what checkpoints and reports call the dataset
    raw_dir: str  # archives unpack to raw_dir/videos and raw_dir/splits
    videos_folder: str  # the top folder inside the video archive
    splits_folder: str
    # official: UCF-101's counts (101 classes, 13,320 videos, per split); null: no check.
    expected_counts: Literal["official"] | ExpectedCounts | None = "official"
    frames_dir: str
    frames: FrameSpec = FrameSpec()
    workers: PositiveInt | None = None  # frame-extraction processes; null = all cores
    max_failed_fraction: float = Field(0.01, ge=0.0, le=1.0)
    report_dir: str


class SyntheticParams(Params):
    """The ``synthetic`` block: the built-in synthetic UCF-101-format dataset."""

    out_dir: str
    seed: int = 0
    classes: tuple[Literal[tuple(MOTIONS)], ...] = DEFAULT_CLASSES  # type: ignore[valid-type]
    groups: PositiveInt = N_GROUPS
    clips_per_group: tuple[PositiveInt, PositiveInt] = (1, 2)
    frames: tuple[PositiveInt, PositiveInt] = (20, 60)
    short_frames: tuple[PositiveInt, PositiveInt] = (8, 15)
    short_fraction: float = Field(0.05, ge=0.0, le=1.0)


class BenchmarkParams(Params):
    """The ``benchmark`` block: the original's speed protocol and the loader benchmark."""

    device: str = "auto"
    batch_size: PositiveInt = 1
    frames: PositiveInt = 16
    size: PositiveInt = 160
    warmup: NonNegativeInt = 10
    iters: PositiveInt = 100
    amp_dtype: Literal["bfloat16", "float16"] | None = None  # null: fp32, as the original
    channels_last: bool = False
    compile: bool = False
    loader_clips: PositiveInt = 200  # training clips timed for the loader's clips/s per worker


class ProjectParameters(Params):
    """Every parameter of the project: each top-level key of ``conf/*/parameters*.yml``."""

    run_experiments: tuple[str, ...] = Field(min_length=1)
    experiments: dict[str, ExperimentConfig]
    training: TrainingParams
    benchmark: BenchmarkParams
    download: DownloadParams
    prepare: PrepareParams
    synthetic: SyntheticParams

    @model_validator(mode="after")
    def _run_experiments_are_defined(self) -> ProjectParameters:
        unknown = [name for name in self.run_experiments if name not in self.experiments]
        if unknown:
            raise ValueError(
                f"run_experiments names {', '.join(unknown)}, not defined under experiments "
                f"(defined: {', '.join(self.experiments)})"
            )
        return self
