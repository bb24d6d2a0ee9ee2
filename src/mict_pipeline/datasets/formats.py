"""Datasets as configuration: a named block says which format, where its videos and lists come from,
which splits to run and what sizes to expect; :func:`list_videos` reads any of them into one shape.

Four formats (``format:``):

* ``ucf101``: ``UCF101.rar`` and the official ``ucfTrainTestlist`` (three splits, official counts);
* ``hmdb51``: ``hmdb51_org.rar``, a RAR of per-class RARs, and the ``<class>_test_split<k>.txt``
  files of ``test_train_splits.rar`` (three splits, 70 / 30 videos per class and split);
* ``kinetics``: a CSV of ``label, youtube_id, time_start, time_end, split`` rows (one or more
  files, e.g. Kinetics' train.csv and validate.csv) and a folder of downloaded clips; one split;
* ``folder``: your own videos, ``<root>/<class>/...``, split by MMAction2-style list files or by a
  seeded stratified split that prepare writes as list files; one split.

Where videos and lists come from is a :class:`Source`: an archive of the ``download`` block (prepare
extracts it) and a path inside it, or a local path. Whatever the format, :func:`list_videos` returns
the split-list table of :func:`mict_pipeline.datasets.ucf101.load_split_lists` and the videos on disk,
so frame extraction, the split tables, training and evaluation never know which format it was.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import pandas as pd
from pydantic import Field, PositiveInt, TypeAdapter, ValidationError, field_validator, model_validator

from mict_pipeline.config import ParameterError, Params, describe_errors
from mict_pipeline.datasets import folder, hmdb51, kinetics, ucf101
from mict_pipeline.datasets.ucf101 import SPLIT_COLUMNS, SUBSETS
from mict_pipeline.errors import ENV_PLACEHOLDER

log = logging.getLogger(__name__)

#: Where datasets are configured, for errors (the command that ends with one names the environment).
CONF_FILE = f"conf/{ENV_PLACEHOLDER}/parameters_datasets.yml"
MISSING_COLUMNS = ["video", "reason"]
UNLISTED_COLUMNS = ["path", "reason"]


class Source(Params):
    """Where videos or lists are: ``archive`` (a key of ``download.archives``; prepare extracts it
    once) with ``path`` inside it, or ``path`` alone: a local file or folder, relative to the
    project root or absolute."""

    archive: str | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _archive_or_path(self) -> Source:
        if self.archive is None and self.path is None:
            raise ValueError("give archive (a key of download.archives), path (a local file or folder), or both")
        return self


class _Format(Params):
    """What every dataset block has: its name (what checkpoints and reports call it), its sources,
    and the splits to prepare, train and evaluate."""

    #: The splits the format defines; ``splits`` picks among them.
    SPLITS: ClassVar[tuple[int, ...]] = (1,)
    #: Whether a listed video that is not on disk counts as unusable (against
    #: ``prepare.max_failed_fraction``); Kinetics' missing clips have their own, ``max_missing_fraction``.
    MISSING_IS_FAILURE: ClassVar[bool] = True

    name: str
    videos: Source
    splits: tuple[PositiveInt, ...] = ()  # empty: every split of the format

    @field_validator("splits")
    @classmethod
    def _known_splits(cls, splits: tuple[int, ...]) -> tuple[int, ...]:
        unknown = sorted(set(splits) - set(cls.SPLITS))
        if unknown or len(set(splits)) != len(splits):
            raise ValueError(f"splits must be distinct splits of the format, {', '.join(map(str, cls.SPLITS))}; got {list(splits)}")
        return splits

    def sources(self) -> dict[str, Source]:
        """Every source by role: ``videos``, ``lists`` (or ``lists.<n>``, ``lists.<subset>``)."""
        lists = getattr(self, "lists", None)
        if isinstance(lists, tuple):
            lists = {f"lists.{n}": source for n, source in enumerate(lists)}
        elif isinstance(lists, dict):
            lists = {f"lists.{subset}": source for subset, source in lists.items()}
        else:
            lists = {} if lists is None else {"lists": lists}
        return {"videos": self.videos, **lists}

    def archives(self) -> set[str]:
        """The ``download.archives`` the dataset is read from."""
        return {source.archive for source in self.sources().values() if source.archive is not None}

    @property
    def run_splits(self) -> tuple[int, ...]:
        """The splits prepared, trained and evaluated, in order."""
        return tuple(sorted(self.splits)) or self.SPLITS


class UCF101Format(_Format):
    """``format: ucf101``: the official archives (defaults: ``download.archives`` ``videos`` and ``splits``)."""

    SPLITS: ClassVar[tuple[int, ...]] = ucf101.SPLITS

    format: Literal["ucf101"]
    name: str = "UCF-101"
    videos: Source = Source(archive="videos", path="UCF-101")
    lists: Source = Source(archive="splits", path="ucfTrainTestlist")
    # official: 101 classes, 13,320 videos, the published per-split counts; null: no check.
    expected_counts: Literal["official"] | ucf101.ExpectedCounts | None = "official"


class HMDB51Format(_Format):
    """``format: hmdb51``: ``hmdb51_org.rar`` (an archive of per-class archives, both levels extracted)
    and the split files of ``test_train_splits.rar``."""

    SPLITS: ClassVar[tuple[int, ...]] = ucf101.SPLITS

    format: Literal["hmdb51"]
    name: str = "HMDB-51"
    videos: Source = Source(archive="videos")
    lists: Source = Source(archive="splits", path="testTrainMulti_7030_splits")
    # official: 51 classes, 70 train and 30 test videos per class and split; null: no check.
    expected_counts: Literal["official"] | hmdb51.HMDB51Counts | None = "official"


class KineticsFormat(_Format):
    """``format: kinetics``: annotation CSVs (``lists``, one or more) and the clips folder (``videos``).
    CSV ``train`` rows train, ``val`` rows test (split 1); ``test`` rows are left out."""

    MISSING_IS_FAILURE: ClassVar[bool] = False

    format: Literal["kinetics"]
    lists: tuple[Source, ...] = Field(min_length=1)  # one CSV (`lists: {path: ...}`) or a list of them
    # Clips that could not be downloaded are normal: listed and reported; prepare stops when more
    # than this share of the listed (train and val) clips, and more than prepare.max_failed_videos, are missing.
    max_missing_fraction: float = Field(0.1, ge=0.0, le=1.0)

    @field_validator("lists", mode="before")
    @classmethod
    def _one_or_more(cls, lists: Any) -> Any:
        # One CSV as a mapping keeps the file a plain key tree, which `dvc exp run -S` can set.
        return [lists] if isinstance(lists, dict) else lists


class FolderFormat(_Format):
    """``format: folder``: ``videos`` holds one folder per class. With ``lists`` (``train`` and
    ``test`` list files, ``<path relative to videos> <label>`` per line) the split is theirs; without,
    prepare makes a stratified split (``test_fraction``, ``seed``) and writes it as list files."""

    format: Literal["folder"]
    lists: dict[Literal["train", "test"], Source] | None = None
    test_fraction: float = Field(0.3, gt=0.0, lt=1.0)
    seed: int = 0

    @field_validator("lists")
    @classmethod
    def _both_subsets(cls, lists: dict[str, Source] | None) -> dict[str, Source] | None:
        if lists is not None and set(lists) != set(SUBSETS):
            raise ValueError(f"lists needs both train and test list files, got {', '.join(lists) or 'none'}")
        return lists


DatasetFormat = Annotated[UCF101Format | HMDB51Format | KineticsFormat | FolderFormat, Field(discriminator="format")]
_ADAPTER = TypeAdapter(DatasetFormat)


def dataset_format(block: Any, where: str = "dataset") -> UCF101Format | HMDB51Format | KineticsFormat | FolderFormat:
    """A ``datasets.<name>`` block (plain data, or already one) as its format's model; a
    :class:`~mict_pipeline.config.ParameterError` names each wrong key."""
    if isinstance(block, _Format):
        return block
    try:
        return _ADAPTER.validate_python(block)
    except ValidationError as error:
        raise ParameterError(describe_errors(error, where)) from None


@dataclass(frozen=True)
class DatasetLocation:
    """A dataset's sources resolved to paths on disk (archives extracted)."""

    videos: Path
    lists: tuple[Path, ...] | dict[str, Path] | Path | None

    @classmethod
    def from_roles(cls, paths: Mapping[str, str | os.PathLike[str]]) -> DatasetLocation:
        """From a path per role of :meth:`_Format.sources` (``videos``, ``lists``, ``lists.<n>``,
        ``lists.<subset>``)."""
        parts = {role.removeprefix("lists."): Path(path) for role, path in paths.items() if role.startswith("lists.")}
        if "lists" in paths:
            lists: tuple[Path, ...] | dict[str, Path] | Path | None = Path(paths["lists"])
        elif parts:
            lists = tuple(parts[key] for key in sorted(parts, key=int)) if all(k.isdigit() for k in parts) else parts
        else:
            lists = None
        return cls(Path(paths["videos"]), lists)


@dataclass(frozen=True)
class VideoLists:
    """A dataset read: ``split_lists`` (:data:`~mict_pipeline.datasets.ucf101.SPLIT_COLUMNS`, the
    videos that train and test), ``video_files`` (``video``, ``path``) of those on disk,
    ``missing`` (``video``, ``reason``) of listed videos not on disk, and ``unlisted`` (``path``,
    ``reason``) of files on disk that no list names."""

    split_lists: pd.DataFrame
    video_files: pd.DataFrame
    missing: pd.DataFrame
    unlisted: pd.DataFrame


def list_videos(dataset: UCF101Format | HMDB51Format | KineticsFormat | FolderFormat, where: DatasetLocation,
                written_lists: str | os.PathLike[str], dataset_key: str = "<name>") -> VideoLists:
    """Read and check ``dataset``'s lists and find its videos; ``written_lists`` is the folder where
    a folder dataset without lists gets the stratified split written as list files; ``dataset_key``
    (the block's name under ``datasets``) names it in errors."""
    counts_key = f"datasets.{dataset_key}.expected_counts in {CONF_FILE}"
    if isinstance(dataset, UCF101Format):
        counts = ucf101.OFFICIAL_COUNTS if dataset.expected_counts == "official" else dataset.expected_counts
        return _found(ucf101.load_split_lists(where.lists, expected_counts=counts, counts_key=counts_key), where.videos)
    if isinstance(dataset, HMDB51Format):
        counts = hmdb51.HMDB51_COUNTS if dataset.expected_counts == "official" else dataset.expected_counts
        table = hmdb51.read_hmdb51_split_files(where.lists, expected_counts=counts, counts_key=counts_key)
        hmdb51.check_class_folders(where.videos, table)
        return _found(table, where.videos)
    if isinstance(dataset, KineticsFormat):
        return _kinetics(dataset, where)
    return _folder(dataset, where, Path(written_lists))


def _found(split_lists: pd.DataFrame, videos_root: Path) -> VideoLists:
    """The videos of a UCF-101-layout folder (``<root>/<class>/<file>.avi``) that the lists name."""
    found = ucf101.find_videos(videos_root, split_lists)
    missing = found["missing"].assign(reason=f"missing from the video folder {videos_root}")
    return VideoLists(split_lists, found["found"], missing[MISSING_COLUMNS], found["unlisted"])


def _kinetics(dataset: KineticsFormat, where: DatasetLocation) -> VideoLists:
    lists, missing = kinetics.read_kinetics_annotations(where.lists, where.videos)
    used = lists[lists["subset"].isin(SUBSETS)]
    heldout = len(lists) - len(used)
    if heldout:
        log.info("%d clips of CSV split 'test' (Kinetics' unlabelled test set) are left out", heldout)
    missing = missing[missing["subset"].isin(SUBSETS)]
    return VideoLists(
        used[SPLIT_COLUMNS].reset_index(drop=True),
        used[["video", "path"]].reset_index(drop=True),
        missing[MISSING_COLUMNS].reset_index(drop=True),
        pd.DataFrame(columns=UNLISTED_COLUMNS, dtype="str"),
    )


def _folder(dataset: FolderFormat, where: DatasetLocation, written_lists: Path) -> VideoLists:
    table = folder.read_folder_dataset(where.videos, where.lists, dataset.test_fraction, dataset.seed)
    if where.lists is None:
        written = folder.write_split_lists(table, where.videos, written_lists)
        log.info("stratified split (seed %d) written to %s", dataset.seed, ", ".join(map(str, written.values())))
    return VideoLists(
        table[SPLIT_COLUMNS].reset_index(drop=True),
        table[["video", "path"]].reset_index(drop=True),
        pd.DataFrame(columns=MISSING_COLUMNS, dtype="str"),
        pd.DataFrame(columns=UNLISTED_COLUMNS, dtype="str"),
    )
