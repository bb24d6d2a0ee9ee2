"""Every parameter of the project as one model: the project context validates it once per session,
so a misspelt key anywhere (also a top-level key no node reads) is named before anything runs."""

from __future__ import annotations

from pydantic import Field, model_validator

from mict_pipeline.config import Params
from mict_pipeline.datasets.formats import DatasetFormat
from mict_pipeline.experiment import ExperimentConfig, TrainingParams

from .benchmark import BenchmarkParams
from .download import DownloadParams
from .evaluation import EvaluationParams
from .prepare import PrepareParams
from .synthetic import SyntheticParams


class ProjectParameters(Params):
    """Every parameter of the project: each top-level key of ``conf/*/parameters*.yml``."""

    run_experiments: tuple[str, ...] = Field(min_length=1)
    experiments: dict[str, ExperimentConfig]
    training: TrainingParams
    benchmark: BenchmarkParams
    evaluation: EvaluationParams
    download: DownloadParams
    prepare: PrepareParams
    synthetic: SyntheticParams
    dataset: str  # the block of `datasets` this environment prepares, trains on and evaluates
    datasets: dict[str, DatasetFormat]
    # Where the run's outputs go instead of the data root (conf/base/catalog.yml): only ever given on
    # the command line (`--params=run_root=...`, as `make smoke` does), which Kedro adds to the parameters.
    run_root: str | None = None

    @model_validator(mode="after")
    def _run_experiments_are_defined(self) -> ProjectParameters:
        unknown = [name for name in self.run_experiments if name not in self.experiments]
        if unknown:
            raise ValueError(
                f"run_experiments names {', '.join(unknown)}, not defined under experiments "
                f"(defined: {', '.join(self.experiments)})"
            )
        return self

    @model_validator(mode="after")
    def _dataset_is_defined(self) -> ProjectParameters:
        if self.dataset not in self.datasets:
            raise ValueError(f"dataset {self.dataset!r} is not defined under datasets (defined: {', '.join(self.datasets)})")
        unknown = sorted(set(self.run_dataset.archives()) - set(self.download.archives))
        if unknown:
            raise ValueError(
                f"datasets.{self.dataset} reads archive {', '.join(unknown)}, not defined under download.archives "
                f"(defined: {', '.join(self.download.archives)})"
            )
        return self

    @property
    def run_dataset(self) -> DatasetFormat:
        """The dataset block this environment runs."""
        return self.datasets[self.dataset]
