"""HMDB-51: read its split files and unpack its archive of per-class archives.

HMDB-51 ships as ``hmdb51_org.rar``, a RAR holding 51 RARs (one per class, ``brush_hair.rar``
...), and ``test_train_splits.rar``, whose 153 files ``<class>_test_split<k>.txt`` (k = 1..3)
list every video of the class with an id: 1 = train, 2 = test, 0 = not used in that split.
Each official split uses 70 train and 30 test videos per class (3,570 / 1,530).

The table :func:`read_hmdb51_split_files` returns has the same columns and order as
:func:`mict_pipeline.datasets.ucf101.load_split_lists` (``video`` is ``<class>/<file stem>``),
so the rest of the pipeline (``find_videos``, ``build_split_index``) can take either dataset.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import NonNegativeInt, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.datasets.ucf101 import SPLIT_COLUMNS, SPLITS, SplitListError, read_list_lines, sort_split_table
from mict_pipeline.io.archives import ArchiveError, archive_format, describe_content, extract_archive
from mict_pipeline.io.atomic import atomic_path

#: Split ids in the files: 1 = train, 2 = test, 0 = unused in that split.
SUBSET_BY_ID: dict[int, str | None] = {0: None, 1: "train", 2: "test"}
#: HMDB-51 has no groups (people or settings) like UCF-101; ``group`` is this constant.
NO_GROUP = 0

_SPLIT_FILE = re.compile(r"(?P<class_name>[A-Za-z0-9_\-]+)_test_split(?P<split>[0-9]+)\.txt")
_SPLIT_LINE = re.compile(r"(?P<file>\S+)\s+(?P<id>\S+)")
_VIDEO_SUFFIX = ".avi"
_RESTORE = "restore the file from test_train_splits.rar"
_FIX_LINE = f"correct the line, or {_RESTORE}"


class HMDB51Counts(Params):
    """Sizes HMDB-51-format split files must have: ``classes`` classes and, in every split,
    ``per_class["train"]`` / ``per_class["test"]`` videos of each class."""

    classes: PositiveInt
    per_class: dict[Literal["train", "test"], NonNegativeInt]

    def per_split(self) -> dict[str, int]:
        """Videos per subset in one split (all classes together), e.g. 3,570 train, 1,530 test."""
        return {subset: self.classes * n for subset, n in self.per_class.items()}


HMDB51_COUNTS = HMDB51Counts(classes=51, per_class={"train": 70, "test": 30})


def split_file_name(class_name: str, split: int) -> str:
    """``brush_hair_test_split1.txt``: the official name of one class's file for one split."""
    return f"{class_name}_test_split{split}.txt"


def read_hmdb51_split_files(
    folder: str | os.PathLike[str], *, expected_counts: HMDB51Counts | None = HMDB51_COUNTS,
    counts_key: str = "expected_counts",
) -> pd.DataFrame:
    """Read and validate the ``<class>_test_split<k>.txt`` files in ``folder``.

    Returns one row per (video, split) with id 1 or 2, with :data:`SPLIT_COLUMNS` like UCF-101's
    reader: ``video`` is ``<class>/<file stem>``, ``label`` is 0-based in sorted class-name order,
    ``group`` is :data:`NO_GROUP`, ``subset`` is ``train`` or ``test``; rows sorted (split, train
    before test, label, video). Id-0 rows are left out; how many per split is in
    ``table.attrs["unused"]`` (``{split: n}``), for the report. Raises :class:`SplitListError`
    naming the file, line and fix for malformed lines, ids other than 0/1/2, unexpected file
    names, missing splits, videos that differ between a class's splits, and (unless
    ``expected_counts`` is ``None``) counts per class and split other than expected (``counts_key``:
    where a user gives them, for the error).
    """
    folder = Path(folder)
    files = _split_files(folder)
    classes = sorted(files)
    records: list[tuple[str, str, int, int, int, str]] = []
    unused = dict.fromkeys(SPLITS, 0)
    for label, class_name in enumerate(classes):
        listed: dict[int, dict[str, int]] = {}
        for split in SPLITS:
            listed[split] = _read_split_file(files[class_name][split])
            for stem, split_id in listed[split].items():
                subset = SUBSET_BY_ID[split_id]
                if subset is None:
                    unused[split] += 1
                else:
                    records.append((f"{class_name}/{stem}", class_name, label, NO_GROUP, split, subset))
        _check_same_videos(files[class_name], listed)
    table = pd.DataFrame.from_records(records, columns=SPLIT_COLUMNS).astype(
        {"label": "int64", "group": "int64", "split": "int64"}
    )
    table = sort_split_table(table, ["split", "subset", "label", "video"])
    table.attrs["unused"] = unused
    if expected_counts is not None:
        check_hmdb51_counts(table, expected_counts, source=folder, counts_key=counts_key)
    return table


def _split_files(folder: Path) -> dict[str, dict[int, Path]]:
    """Split files by class and split; every ``.txt`` must be one, and every class needs all three."""
    if not folder.is_dir():
        raise SplitListError(
            f"{folder}: HMDB-51 split folder not found. Fix: extract test_train_splits.rar and "
            "point to the folder holding the <class>_test_split<k>.txt files."
        )
    files: dict[str, dict[int, Path]] = {}
    for path in sorted(folder.glob("*.txt")):
        match = _SPLIT_FILE.fullmatch(path.name)
        if match is None or int(match["split"]) not in SPLITS:
            raise SplitListError(
                f"{path}: expected a file name '<class>_test_split<k>.txt' with k in "
                f"{', '.join(map(str, SPLITS))}. Fix: rename or remove the file."
            )
        files.setdefault(match["class_name"], {})[int(match["split"])] = path
    if not files:
        raise SplitListError(
            f"{folder}: no <class>_test_split<k>.txt files. Fix: extract test_train_splits.rar "
            "and point to the folder that holds them."
        )
    for class_name, by_split in files.items():
        missing = [split_file_name(class_name, k) for k in SPLITS if k not in by_split]
        if missing:
            raise SplitListError(
                f"{folder}: class {class_name} lacks {', '.join(missing)}. Fix: {_RESTORE}; every "
                f"class needs splits {', '.join(map(str, SPLITS))}."
            )
    return files


def _read_split_file(path: Path) -> dict[str, int]:
    """Split id by video file stem, in file order; LF/CRLF and blank lines are accepted."""
    ids: dict[str, int] = {}
    first_line: dict[str, int] = {}
    for number, line in read_list_lines(path, fix=_RESTORE):
        where = f"{path}:{number}"
        match = _SPLIT_LINE.fullmatch(line)
        if match is None or "/" in match["file"] or not match["file"].endswith(_VIDEO_SUFFIX):
            raise SplitListError(
                f"{where}: expected '<video>.avi <id>' (id 0, 1 or 2), got {line!r}. Fix: {_FIX_LINE}."
            )
        written = match["id"]
        if not written.isdigit() or int(written) not in SUBSET_BY_ID:
            raise SplitListError(
                f"{where}: id {written!r} is not 0 (unused), 1 (train) or 2 (test). Fix: {_FIX_LINE}."
            )
        stem = match["file"].removesuffix(_VIDEO_SUFFIX)
        if stem in ids:
            raise SplitListError(
                f"{where}: {match['file']} is already listed at line {first_line[stem]}. "
                "Fix: remove the duplicate line."
            )
        ids[stem], first_line[stem] = int(written), number
    return ids


def _check_same_videos(files: dict[int, Path], listed: dict[int, dict[str, int]]) -> None:
    """Every split file of a class must list the same videos (only the ids differ)."""
    reference = SPLITS[0]
    for split in SPLITS[1:]:
        only_here = sorted(listed[split].keys() - listed[reference].keys())
        only_there = sorted(listed[reference].keys() - listed[split].keys())
        if only_here or only_there:
            example, where = (only_here[0], files[split]) if only_here else (only_there[0], files[reference])
            raise SplitListError(
                f"{files[split]} and {files[reference]} list different videos "
                f"({len(only_here) + len(only_there)} differ; e.g. {example}.avi is only in {where.name}). "
                f"Fix: {_RESTORE}; each split file of a class lists all its videos, id 0 for unused."
            )


def check_hmdb51_counts(
    table: pd.DataFrame, expected: HMDB51Counts, *, source: str | os.PathLike[str] = "split files",
    counts_key: str = "expected_counts",
) -> None:
    """Raise :class:`SplitListError` unless ``table`` has ``expected.classes`` classes and, in each
    split, ``expected.per_class[subset]`` videos of every class in both subsets."""
    deviations = []
    n_classes = table["class_name"].nunique()
    if n_classes != expected.classes:
        deviations.append(f"{n_classes} classes (expected {expected.classes})")
    sizes = table.groupby(["split", "class_name", "subset"]).size()
    for split in SPLITS:
        for class_name in sorted(table["class_name"].unique()):
            for subset, count in expected.per_class.items():
                found = int(sizes.get((split, class_name, subset), 0))
                if found != count:
                    deviations.append(f"split {split} {class_name} {subset} {found} (expected {count})")
    if deviations:
        shown = "; ".join(deviations[:10]) + (f"; and {len(deviations) - 10} more" if len(deviations) > 10 else "")
        raise SplitListError(
            f"{source}: the split files do not have the expected sizes: {shown}. Fix: use "
            f"test_train_splits.rar unchanged, or give the dataset's own counts under {counts_key} (`expected_counts: null` skips the check)."
        )


def check_class_folders(video_root: str | os.PathLike[str], splits: pd.DataFrame) -> None:
    """Raise :class:`SplitListError` when the extracted video folders and the split files name
    different classes: a folder no split file lists, or a listed class without a folder."""
    video_root = Path(video_root)
    folders = {path.name for path in video_root.iterdir() if path.is_dir()} if video_root.is_dir() else set()
    listed = set(splits["class_name"])
    unlisted, absent = sorted(folders - listed), sorted(listed - folders)
    if unlisted or absent:
        problems = [f"folders in no split file: {', '.join(unlisted)}"] if unlisted else []
        problems += [f"classes without a folder: {', '.join(absent)}"] if absent else []
        raise SplitListError(
            f"{video_root}: {'; '.join(problems)}. Fix: extract hmdb51_org.rar and "
            "test_train_splits.rar of the same release, or remove the extra folders."
        )


def extract_nested_archives(
    archive: str | os.PathLike[str], dest: str | os.PathLike[str], *, progress: bool = False
) -> list[Path]:
    """Extract an archive of archives (``hmdb51_org.rar``): each inner ``.rar``/``.zip`` becomes
    the folder ``dest/<its stem>`` (the class), whatever its suffix says; return the extracted files
    under ``dest``.

    Both levels go through :func:`mict_pipeline.io.archives.extract_archive`, so an inner archive
    with an escaping name or a link is refused like an outer one (the error names both archives).
    An inner archive holding a single folder of its own name (``brush_hair.rar`` ->
    ``brush_hair/...``) is not nested twice. All or nothing: ``dest`` is replaced only on success.
    An outer entry that is not an archive, or two inner archives with one stem, is an error.
    """
    archive, dest = Path(archive), Path(dest)
    with atomic_path(dest, directory=True) as tmp:
        outer = tmp / ".outer"
        inner_archives = extract_archive(archive, outer, progress=progress)
        stray = [path for path in inner_archives if archive_format(path) is None]
        if stray:
            raise ArchiveError(
                f"{archive}: expected only inner archives (ZIP or RAR), found "
                f"{stray[0].relative_to(outer).as_posix()} ({describe_content(stray[0])}). Fix: use the original archive."
            )
        for inner in inner_archives:
            _extract_inner(archive, inner, outer, tmp / inner.stem)
        shutil.rmtree(outer)
        relative = [path.relative_to(tmp) for path in sorted(tmp.rglob("*")) if not path.is_dir()]
    return [dest / path for path in relative]


def _extract_inner(archive: Path, inner: Path, outer: Path, target: Path) -> None:
    """Extract one inner archive into ``target``, naming both archives in any error."""
    name = inner.relative_to(outer).as_posix()
    if target.exists():
        raise ArchiveError(f"{archive}: two inner archives are named {inner.stem}. Fix: use the original archive.")
    try:
        extract_archive(inner, target, progress=False)
    except ArchiveError as exc:
        raise type(exc)(f"{archive}: inner archive {name}: {exc}") from exc
    content = list(target.iterdir())
    if len(content) == 1 and content[0].is_dir() and content[0].name == target.name:
        flat = target.with_name(f".{target.name}.flat")
        content[0].rename(flat)
        target.rmdir()
        flat.rename(target)
