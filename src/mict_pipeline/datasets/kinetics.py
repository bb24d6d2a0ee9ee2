"""Kinetics-style annotations: a CSV of labelled YouTube segments and a folder of downloaded clips.

The CSV has the columns ``label, youtube_id, time_start, time_end, split`` (any order, header on
line 1), as the Kinetics-400/600/700 annotation files do; the clips are named
``<youtube_id>_<time_start:06d>_<time_end:06d>.mp4`` as the usual downloaders write them, either
directly in the clips folder or in sub-folders of it (e.g. one per label).

The result has the same columns and meaning as :func:`mict_pipeline.datasets.ucf101.load_split_lists`
(plus ``path``), so prepare can consume either format the same way. Kinetics has one official split;
it becomes split 1: CSV ``train`` rows are its ``train`` subset and CSV ``val`` rows its ``test``
subset (Kinetics' test labels were long withheld, so published results are on ``val``). CSV
``test`` rows are kept with subset ``heldout``: they are in no train/test subset, so nothing trains
or evaluates on them unless asked to.

Missing clips are normal for Kinetics (videos get taken down): they are returned with a reason for
the data-quality report; prepare stops only above the dataset's ``max_missing_fraction``, once it
has written them to ``missing_videos.csv``.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mict_pipeline.datasets.ucf101 import EXCLUDED_COLUMNS, DatasetPathError, SplitListError, read_list_lines, video_list_table

CSV_COLUMNS = ("label", "youtube_id", "time_start", "time_end", "split")
#: The CSV's split value -> (split, subset) in the split-list table.
SUBSET_BY_CSV_SPLIT = {"train": (1, "train"), "val": (1, "test"), "test": (1, "heldout")}
CLIP_SUFFIX = ".mp4"


def clip_file_name(youtube_id: str, time_start: int, time_end: int) -> str:
    """``<youtube_id>_<start:06d>_<end:06d>.mp4``: the name downloaders give a Kinetics segment."""
    return f"{youtube_id}_{time_start:06d}_{time_end:06d}{CLIP_SUFFIX}"


def read_kinetics_annotations(
    csv_paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    clips_dir: str | os.PathLike[str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and validate Kinetics-style CSVs (one file, or several such as Kinetics' train.csv and
    validate.csv, read as one) and find their clips in ``clips_dir``.

    Returns ``(lists, missing)``. ``lists`` has :data:`~mict_pipeline.datasets.ucf101.LIST_COLUMNS`,
    one row per clip found:
    ``video`` is the clip's file stem, ``class_name`` the CSV label, ``label`` its 0-based index in
    the class names (the sorted labels of the CSV's train rows), ``group`` the same number for all
    segments of one YouTube video (they share scene and people), ``split`` 1, ``subset`` as in
    :data:`SUBSET_BY_CSV_SPLIT`, ``path`` the file. ``missing`` has
    :data:`~mict_pipeline.datasets.ucf101.EXCLUDED_COLUMNS`, one row per clip not found.

    Raises :class:`SplitListError` naming the file and line for a malformed row, a duplicate clip,
    or a val/test label that no train row has.
    """
    paths = [Path(csv_paths)] if isinstance(csv_paths, (str, os.PathLike)) else [Path(p) for p in csv_paths]
    clips_dir = Path(clips_dir)
    first_where: dict[str, str] = {}
    rows = [row for path in paths for row in _read_rows(path, first_where)]
    if not any(row["split"] == "train" for row in rows):
        raise SplitListError(
            f"{', '.join(map(str, paths))}: no train rows, so there are no classes. Fix: add the "
            "training annotations (Kinetics' train.csv)."
        )
    classes = sorted({row["label"] for row in rows if row["split"] == "train"})
    label_of = {name: label for label, name in enumerate(classes)}
    for row in rows:
        if row["label"] not in label_of:
            raise SplitListError(
                f"{row['where']}: label {row['label']!r} of a {row['split']} row is not the label of "
                f"any train row, so a model trained on this CSV cannot predict it. Fix: correct the "
                "label, add train rows for it, or remove the row."
            )
    groups = {video: group for group, video in enumerate(sorted({r["youtube_id"] for r in rows}))}
    on_disk = _find_clips(clips_dir)
    records = []
    for row in rows:
        split, subset = SUBSET_BY_CSV_SPLIT[row["split"]]
        name = row["file"]
        path = on_disk.get(name)
        records.append(
            (Path(name).stem, row["label"], label_of[row["label"]], groups[row["youtube_id"]],
             split, subset, None if path is None else str(path))
        )
    table = video_list_table(records)
    found = table[table["path"].notna()].reset_index(drop=True)
    missing = table[table["path"].isna()].assign(reason="clip file not found in " + str(clips_dir))
    return found, missing[EXCLUDED_COLUMNS].reset_index(drop=True)


def _read_rows(csv_path: Path, first_where: dict[str, str]) -> list[dict]:
    """Validated CSV rows as dicts (plus ``file`` and ``where``); blank lines are skipped.
    ``first_where`` (clip file -> ``file:line``, shared by the files read together) finds duplicates."""
    fix_file = f"give {csv_path} the header {','.join(CSV_COLUMNS)} and one row per clip"
    (header_number, header_line), *lines = read_list_lines(csv_path, fix=fix_file)
    header = [name.strip() for name in next(csv.reader([header_line]))]
    if sorted(header) != sorted(CSV_COLUMNS):
        raise SplitListError(
            f"{csv_path}:{header_number}: expected the header columns {', '.join(CSV_COLUMNS)}, got "
            f"{', '.join(header)}. Fix: {fix_file}."
        )
    rows: list[dict] = []
    for number, line in lines:  # one clip per line: Kinetics' CSVs have no multi-line cells
        cells = next(csv.reader([line]))
        where = f"{csv_path}:{number}"
        row = _parse_row(where, header, cells)
        if row["file"] in first_where:
            raise SplitListError(
                f"{where}: clip {row['file']} is already listed at {first_where[row['file']]}. "
                "Fix: remove the duplicate row."
            )
        first_where[row["file"]] = where
        rows.append(row)
    return rows


def _parse_row(where: str, header: list[str], cells: list[str]) -> dict:
    """One CSV row checked: column count, non-empty label and id, integer times, end after start,
    known split value."""
    if len(cells) != len(header):
        raise SplitListError(
            f"{where}: expected {len(header)} columns ({', '.join(header)}), got {len(cells)}. "
            "Fix: correct the row (quote a label that contains a comma)."
        )
    row = {name: cell.strip() for name, cell in zip(header, cells)}
    for key in ("label", "youtube_id"):
        if not row[key]:
            raise SplitListError(f"{where}: {key} is empty. Fix: fill it in or remove the row.")
    try:
        start, end = int(row["time_start"]), int(row["time_end"])
    except ValueError:
        raise SplitListError(
            f"{where}: time_start and time_end must be whole seconds, got {row['time_start']!r} "
            f"and {row['time_end']!r}. Fix: correct the row."
        ) from None
    if start < 0 or end <= start:
        raise SplitListError(
            f"{where}: time_end ({end}) must be after time_start ({start}) and both >= 0. "
            "Fix: correct the row."
        )
    if row["split"] not in SUBSET_BY_CSV_SPLIT:
        raise SplitListError(
            f"{where}: split {row['split']!r} is not one of {', '.join(SUBSET_BY_CSV_SPLIT)}. "
            "Fix: correct the row."
        )
    return {**row, "file": clip_file_name(row["youtube_id"], start, end), "where": where}


def _find_clips(clips_dir: Path) -> dict[str, Path]:
    """Clip file name -> path for every ``.mp4`` under ``clips_dir`` (flat or in sub-folders)."""
    if not clips_dir.is_dir():
        raise DatasetPathError(
            f"{clips_dir}: clips folder not found. Fix: download the clips there, named "
            "<youtube_id>_<start:06d>_<end:06d>.mp4."
        )
    found: dict[str, Path] = {}
    for path in sorted(clips_dir.rglob(f"*{CLIP_SUFFIX}")):
        if path.name in found:
            raise SplitListError(
                f"{found[path.name]} and {path} are the same clip, so it is unclear which to use. "
                "Fix: keep one of them."
            )
        found[path.name] = path
    return found

