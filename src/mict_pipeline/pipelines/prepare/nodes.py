"""Nodes of the prepare pipeline: the dataset's archives -> its videos and lists -> frame stores -> split tables.

Thin adapters over ``mict_pipeline.io`` and ``mict_pipeline.datasets``; the dataset is the
``datasets`` block that ``dataset`` names, in any format of :mod:`mict_pipeline.datasets.formats`.
Every output is written atomically, and reruns skip finished work (extracted archives are stamped
with their digest, complete frame stores are kept).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.datasets.formats import DatasetLocation, HMDB51Format, Source, dataset_format, list_videos
from mict_pipeline.datasets.hmdb51 import extract_nested_archives
from mict_pipeline.datasets.spec import DatasetSpec
from mict_pipeline.datasets.ucf101 import build_split_index, class_names, split_summary
from mict_pipeline.errors import UserError
from mict_pipeline.io.archives import extract_archive
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.frame_store import extract_many, remove_stale_stores
from mict_pipeline.parameters.prepare import PrepareParams

log = logging.getLogger(__name__)
CONF_FILE = "conf/<env>/parameters_datasets.yml"
STAMP = ".extracted-from.json"
WRITTEN_LISTS = "split_lists"  # in raw_dir: the split prepare made for a folder dataset without lists
# The report counts videos shorter than the recipe's clips, which training loops.
CLIP_LEN = ClipConfig.model_fields["clip_len"].default


class DataQualityError(UserError, RuntimeError):
    """Too many videos could not be used; the data-quality report lists them."""


def _extract_once(archive: dict[str, Any], dest: Path, extract: Callable[[Path, Path], Any]) -> None:
    """Extract ``archive`` into ``dest`` unless ``dest`` was already extracted from the same bytes."""
    stamp = dest / STAMP
    if stamp.is_file() and json.loads(stamp.read_text()).get("sha256") == archive["sha256"]:
        log.info("%s already extracted from %s; skipping", dest, archive["path"])
        return
    extract(Path(archive["path"]), dest)
    write_bytes_atomic(stamp, json.dumps({"archive": archive["path"], "sha256": archive["sha256"]}).encode())


def _resolve(source: Source, role: str, archives: dict[str, Any], raw: Path, nested: bool) -> str:
    """The path of one source: inside its extracted archive (extracted once into ``raw/<archive>``;
    ``nested``: an archive of archives), or the local path."""
    if source.archive is None:
        path = Path(source.path)
        if not path.exists():
            raise FileNotFoundError(f"{path}: the dataset's {role} not found. Fix: put them there, or set {role}.path in {CONF_FILE}")
        return str(path)
    dest = raw / source.archive
    _extract_once(archives[source.archive], dest, extract_nested_archives if nested else extract_archive)
    path = dest / source.path if source.path else dest
    if not path.exists():
        found = sorted(p.name for p in dest.iterdir() if p.name != STAMP)
        raise FileNotFoundError(
            f"{archives[source.archive]['path']} holds no {source.path!r} (found {found}); set {role}.path of the dataset in {CONF_FILE}"
        )
    return str(path)


def locate_dataset(archives: dict[str, Any], dataset: dict[str, Any], raw_dir: str) -> dict[str, str]:
    """Where the dataset's videos and lists are, by role (``videos``, ``lists``, ...): archives
    extracted into ``raw_dir``, local paths as given. HMDB-51's video archive holds an archive per
    class: both levels are extracted."""
    spec, raw = dataset_format(dataset), Path(raw_dir)
    nested = isinstance(spec, HMDB51Format)
    return {role: _resolve(source, role, archives, raw, nested and role == "videos") for role, source in spec.sources().items()}


def read_dataset(dataset_folders: dict[str, str], dataset: dict[str, Any], raw_dir: str) -> dict[str, pd.DataFrame]:
    """The dataset's split lists, checked, and its video files, with the listed-but-missing videos and
    the files on disk no list names (each with its reason). A folder dataset without lists gets a
    seeded stratified split, written as list files into ``raw_dir``/split_lists."""
    where = DatasetLocation.from_roles(dataset_folders)
    found = list_videos(dataset_format(dataset), where, Path(raw_dir) / WRITTEN_LISTS)
    return {
        "split_lists": found.split_lists, "video_files": found.video_files,
        "missing_videos": found.missing, "unlisted_videos": found.unlisted,
    }


def describe_dataset(split_lists: pd.DataFrame, dataset: dict[str, Any], prepare: PrepareParams) -> dict[str, Any]:
    """The prepared dataset as models see it (name, class names in label order, frame storage):
    part of every experiment trained on it."""
    name = dataset_format(dataset).name
    spec = DatasetSpec(name=name, class_names=tuple(class_names(split_lists)), frames=prepare.frames)
    return spec.model_dump(mode="json")


def extract_video_frames(video_files: pd.DataFrame, prepare: PrepareParams, frames_dir: str) -> pd.DataFrame:
    """Frame store per video in ``frames_dir`` (parallel, incremental); bad videos are reported, not
    fatal. The index gives each store's path relative to ``frames_dir``, so the folder can move."""
    stores = [f"{video}.frames" for video in video_files["video"]]
    pairs = [(Path(path), Path(frames_dir) / store) for path, store in zip(video_files["path"], stores)]
    spec = prepare.frames
    results = extract_many(pairs, spec.width, spec.height, workers=prepare.workers, quality=spec.quality)
    counts = pd.Series([r.status for r in results]).value_counts().to_dict()
    stale = remove_stale_stores(frames_dir, stores)
    log.info("frame extraction: %s; %d stores of videos no longer in the dataset removed", counts, len(stale))
    return pd.DataFrame(
        {
            "video": video_files["video"].to_numpy(),
            "frame_store": stores,
            "n_frames": [r.frames for r in results],
            "error": [r.error for r in results],
        }
    )


def data_quality_report(
    split_lists: pd.DataFrame, missing_videos: pd.DataFrame, unlisted_videos: pd.DataFrame, frame_index: pd.DataFrame,
    dataset: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Failures with reasons (missing videos and failed extractions), the lists' sizes (and the
    expected counts they were checked against), frame statistics; and the counts per class, split
    and subset."""
    spec = dataset_format(dataset)
    failed = frame_index[frame_index["error"].notna()]
    missing = [{"video": v, "reason": r} for v, r in zip(missing_videos["video"], missing_videos["reason"])]
    failures = [{"video": v, "reason": e} for v, e in zip(failed["video"], failed["error"])]
    listed = len(set(split_lists["video"]) | set(missing_videos["video"]))
    # Kinetics' missing clips were checked against their own limit when the lists were read.
    unusable = len(failures) + (len(missing) if spec.MISSING_IS_FAILURE else 0)
    ok = frame_index[frame_index["error"].isna()]["n_frames"]
    report = {
        "dataset": spec.name,
        "format": spec.format,
        "listed_videos": int(listed),
        "usable_videos": int(listed - len(failures) - len(missing)),
        "missing_videos": len(missing),
        "unusable_videos": unusable,
        "failed_fraction": unusable / listed if listed else 0.0,
        "lists": {
            "classes": int(split_lists["label"].nunique()),
            "per_split": {str(split): {subset: int(n) for subset, n in counts.items()} for split, counts in
                          split_lists.groupby("split")["subset"].value_counts().unstack(fill_value=0).iterrows()},
            # read_dataset stopped the run had they differed ("official": the dataset's published counts).
            "checked_against": spec.model_dump().get("expected_counts"),
        },
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
    return report, split_summary(split_lists)


def check_data_quality(data_quality: dict[str, Any], frame_index: pd.DataFrame, prepare: PrepareParams) -> pd.DataFrame:
    """``frame_index``, once the report (already saved) shows at most ``prepare.max_failed_fraction``
    of the listed videos unusable; else the run stops here, before the split tables."""
    limit = prepare.max_failed_fraction
    if data_quality["failed_fraction"] > limit:
        raise DataQualityError(
            f"{data_quality['unusable_videos']} of {data_quality['listed_videos']} listed videos are unusable "
            f"({data_quality['failed_fraction']:.1%} > prepare.max_failed_fraction = {limit:.1%}); the data_quality "
            "report (08_reporting/data_quality.json) names each video and reason"
        )
    return frame_index


def split_tables(split_lists: pd.DataFrame, frame_index: pd.DataFrame, split: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train and test index tables of one split (usable videos only) and the excluded ones."""
    tables = build_split_index(split_lists, frame_index[["video", "frame_store", "n_frames", "error"]], split)
    return tables["train"], tables["test"], tables["excluded"]
