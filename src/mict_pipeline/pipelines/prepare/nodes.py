"""Nodes of the prepare pipeline: the dataset's archives -> its videos and lists -> frame stores -> split tables.

Thin adapters over ``mict_pipeline.io`` and ``mict_pipeline.datasets``; the dataset is the
``datasets`` block that ``dataset`` names, in any format of :mod:`mict_pipeline.datasets.formats`.
Every output is written atomically, and reruns skip finished work (extracted archives are stamped
with their digest, complete frame stores are kept). The prepared set (the dataset's description, the
frame index, the split tables and their reports) is made only once the data-quality check has
passed, and its manifest (:mod:`mict_pipeline.datasets.prepared`) last; the lists of missing and
unusable videos come before the check, so a prepare it stops still names them.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.datasets.formats import (
    CONF_FILE, DatasetFormat, DatasetLocation, HMDB51Format, KineticsFormat, Source, dataset_format, list_videos,
)
from mict_pipeline.datasets.hmdb51 import extract_nested_archives
from mict_pipeline.datasets.prepared import fingerprint
from mict_pipeline.datasets.spec import DatasetSpec
from mict_pipeline.datasets.ucf101 import SUBSETS, DatasetPathError, build_split_index, class_names, split_summary
from mict_pipeline.errors import UserError
from mict_pipeline.io.archives import extract_archive
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.frame_store import extract_many, remove_stale_stores
from mict_pipeline.parameters.prepare import PrepareParams

log = logging.getLogger(__name__)
PREPARE_CONF_FILE = "conf/<env>/parameters_prepare.yml"
STAMP = ".extracted-from.json"
WRITTEN_LISTS = "split_lists"  # in raw_dir: the split prepare made for a folder dataset without lists
# The report counts videos shorter than the recipe's clips, which training loops.
CLIP_LEN = ClipConfig.model_fields["clip_len"].default


class DataQualityError(UserError, RuntimeError):
    """Too many videos could not be used (08_reporting/unusable_videos.csv lists them), or a split
    has a subset, or classes, without usable videos to train or test on."""


def _extract_once(archive: dict[str, Any], dest: Path, extract: Callable[[Path, Path], Any]) -> None:
    """Extract ``archive`` into ``dest`` unless ``dest`` was already extracted from the same bytes."""
    stamp = dest / STAMP
    if stamp.is_file() and json.loads(stamp.read_text()).get("sha256") == archive["sha256"]:
        log.info("%s already extracted from %s; skipping", dest, archive["path"])
        return
    extract(Path(archive["path"]), dest)
    write_bytes_atomic(stamp, json.dumps({"archive": archive["path"], "sha256": archive["sha256"]}).encode())


def _key(dataset_key: str, role: str) -> str:
    """The parameter key of a source: ``datasets.<name>.videos``, ``datasets.<name>.lists[0]``, ..."""
    role, _, part = role.partition(".")
    return f"datasets.{dataset_key}.{role}" + (f"[{part}]" if part.isdigit() else f".{part}" if part else "")


def _resolve(source: Source, key: str, archives: dict[str, Any], raw: Path, nested: bool) -> str:
    """The path of one source (``key``: its parameter key): inside its extracted archive (extracted
    once into ``raw/<archive>``; ``nested``: an archive of archives), or the local path."""
    if source.archive is None:
        path = Path(source.path)
        if not path.exists():
            raise DatasetPathError(
                f"{path} not found ({key}.path in {CONF_FILE}). Fix: put the files there, or set `path: <the folder "
                f"that holds them>` under {key}"
            )
        return str(path)
    dest = raw / source.archive
    _extract_once(archives[source.archive], dest, extract_nested_archives if nested else extract_archive)
    path = dest / source.path if source.path else dest
    if not path.exists():
        found = sorted(p.name for p in dest.iterdir() if p.name != STAMP)
        raise DatasetPathError(
            f"{archives[source.archive]['path']} holds no {source.path} (its top level: {', '.join(found) or 'nothing'}; "
            f"{key}.path in {CONF_FILE}). Fix: set `path: <the folder inside the archive>` under {key}"
        )
    return str(path)


def locate_dataset(archives: dict[str, Any], dataset: dict[str, Any], raw_dir: str, dataset_key: str) -> dict[str, str]:
    """Where the dataset's videos and lists are, by role (``videos``, ``lists``, ...): archives
    extracted into ``raw_dir``, local paths as given. HMDB-51's video archive holds an archive per
    class: both levels are extracted. ``dataset_key`` (the ``dataset`` parameter) names the block
    in errors."""
    spec, raw = dataset_format(dataset), Path(raw_dir)
    nested = isinstance(spec, HMDB51Format)
    return {
        role: _resolve(source, _key(dataset_key, role), archives, raw, nested and role == "videos")
        for role, source in spec.sources().items()
    }


def read_dataset(dataset_folders: dict[str, str], dataset: dict[str, Any], raw_dir: str, dataset_key: str) -> dict[str, pd.DataFrame]:
    """The dataset's split lists, checked, and its video files, with the listed-but-missing videos and
    the files on disk no list names (each with its reason). A folder dataset without lists gets a
    seeded stratified split, written as list files into ``raw_dir``/split_lists. ``dataset_key``
    (the ``dataset`` parameter) names the block in errors."""
    where = DatasetLocation.from_roles(dataset_folders)
    found = list_videos(dataset_format(dataset), where, Path(raw_dir) / WRITTEN_LISTS, dataset_key)
    return {
        "split_lists": found.split_lists, "video_files": found.video_files,
        "missing_videos": found.missing, "unlisted_videos": found.unlisted,
    }


def extract_video_frames(video_files: pd.DataFrame, prepare: PrepareParams, frames_dir: str) -> pd.DataFrame:
    """Frame store per video in ``frames_dir`` (parallel, incremental); bad videos are reported, not
    fatal. The table gives each store's path relative to ``frames_dir``, so the folder can move; it
    becomes the frame index once the data-quality check passes."""
    stores = [f"{video}.frames" for video in video_files["video"]]
    pairs = [(Path(path), Path(frames_dir) / store) for path, store in zip(video_files["path"], stores)]
    spec = prepare.frames
    results = extract_many(pairs, spec.width, spec.height, workers=prepare.workers, cluster=prepare.cluster, quality=spec.quality)
    log.info("frame extraction: %s", pd.Series([r.status for r in results]).value_counts().to_dict())
    return pd.DataFrame(
        {
            "video": video_files["video"].to_numpy(),
            "frame_store": stores,
            "n_frames": [r.frames for r in results],
            "error": [r.error for r in results],
        }
    )


def list_unusable_videos(missing_videos: pd.DataFrame, extracted_frames: pd.DataFrame) -> pd.DataFrame:
    """Every listed video that cannot be used (``video``, ``reason``): missing, or its frames failed
    to extract. Saved before the data-quality check, so that a prepare it stops still names them."""
    failed = extracted_frames[extracted_frames["error"].notna()]
    return pd.DataFrame(
        {
            "video": [*missing_videos["video"], *failed["video"]],
            "reason": [*missing_videos["reason"], *("extraction failed: " + failed["error"].astype(str))],
        },
        dtype="str",
    )


def check_data_quality(
    split_lists: pd.DataFrame, missing_videos: pd.DataFrame, unusable_videos: pd.DataFrame, extracted_frames: pd.DataFrame,
    dataset: dict[str, Any], dataset_key: str, prepare: PrepareParams,
) -> dict[str, Any]:
    """Once the unusable videos (``unusable_videos``, already saved) are within ``prepare``'s limits,
    :meth:`~PrepareParams.too_many` (Kinetics' missing clips: the dataset's ``max_missing_fraction``),
    the first of the prepared set: ``frame_index`` (``extracted_frames``) and ``dataset_spec``, the
    dataset as models see it (name, class names in label order, frame storage; part of every
    experiment trained on it), provided that every split run also has usable train and test videos and
    usable train videos of every class. Else the run stops here, before anything of the set is
    written, so the previous set stays whole."""
    spec = dataset_format(dataset)
    listed = len(set(split_lists["video"]) | set(missing_videos["video"]))
    n_missing, n_failed = len(missing_videos), len(unusable_videos) - len(missing_videos)
    counted = n_failed + (n_missing if spec.MISSING_IS_FAILURE else 0)
    limits = f"prepare.max_failed_fraction = {prepare.max_failed_fraction:.1%} and prepare.max_failed_videos = {prepare.max_failed_videos}"
    problems, fixes = [], []
    if not spec.MISSING_IS_FAILURE and prepare.too_many(n_missing, listed, spec.max_missing_fraction):
        problems.append(
            f"{n_missing} of {listed} listed clips are missing ({n_missing / listed:.1%}; more than datasets.{dataset_key}."
            f"max_missing_fraction = {spec.max_missing_fraction:.1%} in {CONF_FILE} and prepare.max_failed_videos = "
            f"{prepare.max_failed_videos}): 08_reporting/missing_videos.csv lists them"
        )
        fixes.append(f"fetch the missing clips, or allow them with `max_missing_fraction: {math.ceil(100 * n_missing / listed) / 100}` under datasets.{dataset_key}")
    if prepare.too_many(counted, listed):
        problems.append(
            f"{counted} of {listed} listed videos are unusable ({counted / listed:.1%}; more than {limits} in "
            f"{PREPARE_CONF_FILE}): 08_reporting/unusable_videos.csv names each with its reason"
        )
        fixes.append(f"repair or remove those videos, or allow them with `max_failed_videos: {counted}` under prepare")
    for split in spec.run_splits:
        _check_split_usable(build_split_index(split_lists, extracted_frames, split), split_lists, split, spec, dataset_key, problems, fixes)
    if problems:
        raise DataQualityError(f"{'; '.join(problems)}. Fix: {'; '.join(fixes)}")
    description = DatasetSpec(name=spec.name, class_names=tuple(class_names(split_lists)), frames=prepare.frames)
    return {"frame_index": extracted_frames, "dataset_spec": description.model_dump(mode="json")}


def _check_split_usable(
    tables: dict[str, pd.DataFrame], split_lists: pd.DataFrame, split: int, spec: DatasetFormat, dataset_key: str,
    problems: list[str], fixes: list[str],
) -> None:
    """Add to ``problems`` and ``fixes`` what would make ``split``'s ``tables`` (of
    :func:`build_split_index`) untrainable: a subset without usable videos (training would stop at its
    first validation), or classes without usable train videos (a model would have classes it never saw)."""
    for subset in SUBSETS:
        if not tables[subset].empty:
            continue
        listed = int(((split_lists["split"] == split) & (split_lists["subset"] == subset)).sum())
        problems.append(f"split {split} has no usable {subset} videos ({listed} listed, all unusable)" if listed
                        else f"split {split} has no {subset} videos: the lists of datasets.{dataset_key} in {CONF_FILE} name none")
        if listed:
            fixes.append(f"repair or replace the {subset} videos of split {split} that 08_reporting/unusable_videos.csv names")
        elif isinstance(spec, KineticsFormat):
            row, csv = ("train", "train.csv") if subset == "train" else ("val", "validate.csv")
            fixes.append(f"add the annotation CSV with the `{row}` rows (Kinetics' {csv}) to `lists:` under datasets.{dataset_key}, "
                         f"e.g. `- path: <folder>/{csv}` (with `mict-pipeline new-env`: --lists train.csv --lists validate.csv)")
        else:
            fixes.append(f"give lists that name {subset} videos for split {split} under datasets.{dataset_key}")
    if tables["train"].empty:
        return
    unseen = sorted(set(class_names(split_lists)) - set(tables["train"]["class_name"]))
    if unseen:
        problems.append(f"class{'es' if len(unseen) > 1 else ''} {', '.join(unseen)} of split {split} "
                        f"{'have' if len(unseen) > 1 else 'has'} no usable train videos, so a model would have classes it never saw")
        fixes.append(f"repair or replace their videos that 08_reporting/unusable_videos.csv names, or remove "
                     f"{'those classes' if len(unseen) > 1 else 'that class'} from the dataset's videos and lists")


def split_tables(split_lists: pd.DataFrame, frame_index: pd.DataFrame, splits: Sequence[int]) -> dict[str, pd.DataFrame]:
    """Per split of ``splits``, the train and test index tables (usable videos only) and the excluded
    videos, by catalog name (``split_<n>.train_index``, ``split_<n>.test_index``, ``split_<n>.excluded``)."""
    frames = frame_index[["video", "frame_store", "n_frames", "error"]]
    tables = {}
    for split in splits:
        built = build_split_index(split_lists, frames, split)
        tables.update({f"split_{split}.train_index": built["train"], f"split_{split}.test_index": built["test"], f"split_{split}.excluded": built["excluded"]})
    return tables


def _tables_by_split(tables: dict[str, pd.DataFrame]) -> dict[int, dict[str, pd.DataFrame]]:
    """``{"split_1.train_index": ..., "split_1.excluded": ...}`` (catalog names) as ``{1: {"train": ..., "excluded": ...}}``."""
    by_split: dict[int, dict[str, pd.DataFrame]] = {}
    for name, table in tables.items():
        namespace, _, table_name = name.partition(".")
        by_split.setdefault(int(namespace.removeprefix("split_")), {})[table_name.removesuffix("_index")] = table
    return dict(sorted(by_split.items()))


def data_quality_report(
    split_lists: pd.DataFrame, missing_videos: pd.DataFrame, unlisted_videos: pd.DataFrame, frame_index: pd.DataFrame,
    dataset: dict[str, Any], **tables: pd.DataFrame,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Once the split ``tables`` (by catalog name) are made: the data-quality report (failures with
    reasons, the lists' sizes and the expected counts they were checked against, what the tables
    hold per split, classes without test videos, frame statistics) and the split summary (listed and
    usable videos per class, subset and split prepared). Every usable count is the tables', every
    unusable one ``unusable_videos.csv``'s."""
    spec = dataset_format(dataset)
    by_split = _tables_by_split(tables)
    run_lists = split_lists[split_lists["split"].isin(by_split)]
    usable = pd.concat(
        [t[["video", "subset"]].assign(split=split) for split, ts in by_split.items() for subset, t in ts.items() if subset in SUBSETS],
        ignore_index=True,
    )
    failed = frame_index[frame_index["error"].notna()]
    missing = [{"video": v, "reason": r} for v, r in zip(missing_videos["video"], missing_videos["reason"])]
    failures = [{"video": v, "reason": e} for v, e in zip(failed["video"], failed["error"])]
    listed = set(split_lists["video"]) | set(missing_videos["video"])
    unusable = set(missing_videos["video"]) | set(failed["video"])  # the rows of unusable_videos.csv
    # Kinetics' missing clips are held to their own limit, max_missing_fraction, not to max_failed_fraction.
    held_to_limit = len(failures) + (len(missing) if spec.MISSING_IS_FAILURE else 0)
    without_test = {
        str(split): sorted(set(class_names(run_lists)) - set(ts["test"]["class_name"])) for split, ts in by_split.items()
    }
    for split, names in without_test.items():
        if names:
            log.warning("split %s: no usable test videos of %s, so its test scores leave them out", split, ", ".join(names))
    ok = frame_index[frame_index["error"].isna()]["n_frames"]
    report = {
        "dataset": spec.name,
        "format": spec.format,
        # Every listed video is usable (in a table of a split prepared), unusable, or in no split prepared.
        "listed_videos": len(listed),
        "usable_videos": int(usable["video"].nunique()),
        "unusable_videos": len(unusable),
        "missing_videos": len(missing),
        "failed_videos": len(failures),
        # Usable, but in none of the splits prepared (e.g. HMDB-51's id 0 in those splits, or only in other splits).
        "in_no_prepared_split": len(listed - unusable - set(usable["video"])),
        "held_to_max_failed_fraction": {"videos": held_to_limit, "fraction": held_to_limit / len(listed) if listed else 0.0},
        "classes_without_test_videos": {split: names for split, names in without_test.items() if names},
        "lists": {
            "classes": int(split_lists["label"].nunique()),
            "per_split": {str(split): {subset: int(n) for subset, n in counts.items()} for split, counts in
                          split_lists.groupby("split")["subset"].value_counts().unstack(fill_value=0).iterrows()},
            # read_dataset stopped the run had they differed ("official": the dataset's published counts).
            "checked_against": spec.model_dump().get("expected_counts"),
        },
        # What the split tables hold: the listed videos less the excluded ones.
        "tables": {str(split): {name: len(table) for name, table in ts.items()} for split, ts in by_split.items()},
        "failures": missing + failures,
        "unlisted_files": unlisted_videos[["path", "reason"]].astype(str).to_dict("records") if len(unlisted_videos) else [],
        "frames": {
            "total": int(ok.sum()),
            "min": int(ok.min()) if len(ok) else 0,
            "median": float(ok.median()) if len(ok) else 0.0,
            "max": int(ok.max()) if len(ok) else 0,
            f"shorter_than_{CLIP_LEN}": int((ok < CLIP_LEN).sum()),
        },
    }
    return report, split_summary(run_lists, usable)


def publish_prepared_set(frames_dir: str, **members: pd.DataFrame | dict[str, Any]) -> dict[str, Any]:
    """The manifest of the prepared set, its ``members`` as saved (by catalog name): what training
    and evaluation check their inputs against. Frame stores of videos no longer in the frame index
    are removed only now, so that a prepare that stopped earlier leaves the previous set whole."""
    stale = remove_stale_stores(frames_dir, list(members["frame_index"]["frame_store"]))
    log.info("%d frame stores of videos no longer in the dataset removed", len(stale))
    return fingerprint(members)
