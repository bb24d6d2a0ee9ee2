"""Your own videos: a folder of class sub-folders, split by list files or by a seeded stratified split.

``root/<class>/.../<video>`` (any of ``io.frame_store.VIDEO_SUFFIXES``); the classes are the sorted sub-folder names
(hidden ones skipped) and label ``i`` is the ``i``-th of them. The split comes either from list
files in MMAction2's format (``<path relative to root> <label>`` per line) or, without lists, from a
deterministic stratified split that :func:`write_split_lists` writes as such list files, so the
split is reproducible, inspectable and editable.

The result has the columns and meaning of :func:`mict_pipeline.datasets.ucf101.load_split_lists`
plus ``path`` (see :data:`~mict_pipeline.datasets.ucf101.LIST_COLUMNS`): one split, 1, with
subsets ``train`` and ``test``; ``video`` is ``<class>/<path inside it without suffix>``; each
video is its own ``group`` (own videos carry no grouping).
"""

from __future__ import annotations

import math
import os
import zlib
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from mict_pipeline.datasets.ucf101 import SUBSETS, DatasetPathError, SplitListError, list_file_name, read_list_lines, video_list_table
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.frame_store import VIDEO_SUFFIXES

SPLIT = 1  # a folder dataset has one split


def read_folder_dataset(
    root: str | os.PathLike[str],
    lists: Mapping[str, str | os.PathLike[str]] | None = None,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> pd.DataFrame:
    """The split-list table of the videos under ``root``.

    ``lists`` maps ``train``/``test`` to list files (``<path> <label>`` per line, paths relative
    to ``root``); without it each class is split by :func:`stratified_split` with
    ``test_fraction`` and ``seed``. Raises :class:`SplitListError` naming file and line for a
    malformed line, a label outside the classes or disagreeing with the folder, a path not in a
    class folder or not on disk, a video listed twice, and a class folder whose videos are in no
    list.
    """
    root = Path(root)
    videos = find_class_videos(root)
    if lists is None:
        subset_of = stratified_split(videos, test_fraction, seed)
    else:
        subset_of = _read_lists(root, videos, lists)
    classes = sorted(videos)
    records = []
    for group, relative in enumerate(sorted(subset_of)):
        class_name = relative.parts[0]
        records.append(
            (relative.with_suffix("").as_posix(), class_name, classes.index(class_name), group,
             SPLIT, subset_of[relative], str(root / relative))
        )
    return video_list_table(records)


def find_class_videos(root: Path) -> dict[str, list[Path]]:
    """Class name -> sorted video paths relative to ``root``, for every non-hidden sub-folder.

    A class folder without videos, and two videos differing only in suffix, are errors: the first
    would be a class nothing can be learnt for, the second two videos with one id.
    """
    if not root.is_dir():
        raise DatasetPathError(f"{root}: video folder not found. Fix: put one folder per class there.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise SplitListError(f"{root}: no class folders. Fix: put each class's videos in root/<class>/.")
    videos: dict[str, list[Path]] = {}
    for folder in folders:
        found = sorted(
            p.relative_to(root) for p in folder.rglob("*")
            if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES
        )
        if not found:
            raise SplitListError(
                f"{folder}: class folder without videos ({', '.join(VIDEO_SUFFIXES)}). "
                "Fix: add its videos or remove the folder."
            )
        stems = [p.with_suffix("") for p in found]
        clash = next((p for p, s in zip(found, stems) if stems.count(s) > 1), None)
        if clash is not None:
            raise SplitListError(
                f"{root / clash}: another video in {folder} has the same name with another suffix, "
                "so both would get one id. Fix: rename or remove one of them."
            )
        videos[folder.name] = found
    return videos


def stratified_split(
    videos: Mapping[str, list[Path]], test_fraction: float, seed: int
) -> dict[Path, str]:
    """Video -> ``train``/``test``: per class, ``test_fraction`` of its videos (rounded half up)
    to test, at least one to each subset when the class has two or more.

    Each class is shuffled from its sorted videos with a generator seeded by ``seed`` and the
    class name, so the split depends only on the seed and the names: not on directory listing
    order, and adding a class does not change the others' split.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be between 0 and 1 (exclusive), got {test_fraction}")
    subset_of: dict[Path, str] = {}
    for class_name in sorted(videos):
        paths = sorted(videos[class_name])
        n = len(paths)
        n_test = math.floor(test_fraction * n + 0.5)
        n_test = min(max(n_test, 1), n - 1) if n >= 2 else 0
        rng = np.random.default_rng([seed, zlib.crc32(class_name.encode())])
        order = rng.permutation(n)
        for rank, index in enumerate(order):
            subset_of[paths[index]] = "test" if rank < n_test else "train"
    return subset_of


def _read_lists(
    root: Path, videos: Mapping[str, list[Path]], lists: Mapping[str, str | os.PathLike[str]]
) -> dict[Path, str]:
    """Video -> subset from MMAction2-style list files, every line checked against the folders."""
    unknown = sorted(set(lists) - set(SUBSETS))
    if unknown:
        raise ValueError(f"lists keys must be among {', '.join(SUBSETS)}, got {', '.join(unknown)}")
    classes = sorted(videos)
    on_disk = {path for paths in videos.values() for path in paths}
    subset_of: dict[Path, str] = {}
    where_of: dict[Path, str] = {}
    for subset, list_path in lists.items():
        list_path = Path(list_path)
        fix = f"write {list_path} as '<path relative to {root}> <label>' lines"
        for number, line in read_list_lines(list_path, fix=fix):
            where = f"{list_path}:{number}"
            relative, label = _parse_list_line(where, line, classes)
            if relative not in on_disk:
                raise SplitListError(
                    f"{where}: {relative.as_posix()} is not a video in a class folder of {root}. "
                    "Fix: correct the path (relative to the root, '<class>/<file>') or add the video."
                )
            if label != classes.index(relative.parts[0]):
                raise SplitListError(
                    f"{where}: label {label} is {classes[label]}, but the video is in folder "
                    f"{relative.parts[0]} (label {classes.index(relative.parts[0])}). "
                    "Fix: correct the label or move the video."
                )
            if relative in where_of:
                raise SplitListError(
                    f"{where}: {relative.as_posix()} is already listed at {where_of[relative]}. "
                    "Fix: list each video once."
                )
            where_of[relative], subset_of[relative] = where, subset
    unlisted = [name for name in classes if not any(p.parts[0] == name for p in subset_of)]
    if unlisted:
        raise SplitListError(
            f"class folders {', '.join(unlisted)} of {root} have videos but appear in no list "
            f"({', '.join(str(p) for p in lists.values())}). Fix: list their videos, or move the "
            "folders out of the root."
        )
    return subset_of


def _parse_list_line(where: str, line: str, classes: list[str]) -> tuple[Path, int]:
    """``<path> <label>`` (the path may contain spaces) as a relative path and a checked label."""
    parts = line.strip().rsplit(maxsplit=1)
    if len(parts) != 2 or not parts[1].isdigit():
        raise SplitListError(
            f"{where}: expected '<path> <label>' with an integer label, got {line.strip()!r}. "
            "Fix: correct the line."
        )
    label = int(parts[1])
    if label >= len(classes):
        raise SplitListError(
            f"{where}: label {label} is outside the {len(classes)} classes (0..{len(classes) - 1}: "
            f"{', '.join(classes)}). Fix: use the index of the video's class folder."
        )
    return Path(parts[0]), label


def write_split_lists(
    table: pd.DataFrame, root: str | os.PathLike[str], out_dir: str | os.PathLike[str]
) -> dict[str, Path]:
    """Write a table of :func:`read_folder_dataset` as list files, atomically.

    One ``trainlist01.txt``/``testlist01.txt`` per subset in ``out_dir``, lines
    ``<path relative to root> <label>`` sorted by path; returns subset -> file, which
    :func:`read_folder_dataset` accepts as ``lists`` to give the same table back.
    """
    root, out_dir = Path(root), Path(out_dir)
    written: dict[str, Path] = {}
    for subset in SUBSETS:
        rows = table[table["subset"] == subset]
        lines = sorted(
            f"{Path(path).relative_to(root).as_posix()} {label}"
            for path, label in zip(rows["path"], rows["label"])
        )
        target = out_dir / list_file_name(subset, SPLIT)
        written[subset] = write_bytes_atomic(target, "".join(f"{line}\n" for line in lines).encode())
    return written
