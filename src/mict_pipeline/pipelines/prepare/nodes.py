"""Nodes of the prepare pipeline: archives -> video folder and split lists -> frame stores -> split tables.

Thin adapters over ``mict_pipeline.io`` and ``mict_pipeline.datasets``; every output is written
atomically, and reruns skip finished work (extracted archives are stamped with their digest,
complete frame stores are kept).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from mict_pipeline.clips.config import ClipConfig
from mict_pipeline.datasets.ucf101 import OFFICIAL_COUNTS, build_split_index, class_names, find_videos, load_split_lists, split_summary
from mict_pipeline.datasets.spec import DatasetSpec
from mict_pipeline.io.archives import extract_archive
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.frame_store import extract_many, remove_stale_stores
from mict_pipeline.parameters.prepare import PrepareParams

log = logging.getLogger(__name__)
CONF_FILE = "conf/<env>/parameters_prepare.yml"
STAMP = ".extracted-from.json"
# The report counts videos shorter than the recipe's clips, which training loops.
CLIP_LEN = ClipConfig.model_fields["clip_len"].default


class DataQualityError(RuntimeError):
    """Too many videos could not be used; the data-quality report lists them."""


def _extract_once(archive: dict[str, Any], dest: Path) -> None:
    """Extract ``archive`` into ``dest`` unless ``dest`` was already extracted from the same bytes."""
    stamp = dest / STAMP
    if stamp.is_file() and json.loads(stamp.read_text()).get("sha256") == archive["sha256"]:
        log.info("%s already extracted from %s; skipping", dest, archive["path"])
        return
    extract_archive(archive["path"], dest)
    write_bytes_atomic(stamp, json.dumps({"archive": archive["path"], "sha256": archive["sha256"]}).encode())


def extract_dataset_archives(archives: dict[str, Any], prepare: PrepareParams, raw_dir: str) -> dict[str, str]:
    """Unpack the video and split-list archives into ``raw_dir``/videos and /splits; return the two folders."""
    raw = Path(raw_dir)
    folders = {}
    for name, inner in (("videos", prepare.videos_folder), ("splits", prepare.splits_folder)):
        _extract_once(archives[name], raw / name)
        folder = raw / name / inner
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{archives[name]['path']} holds no top folder {inner!r} (found {sorted(p.name for p in (raw / name).iterdir())}); "
                f"set prepare.{name}_folder in {CONF_FILE}"
            )
        folders[f"{name}_root"] = str(folder)
    return folders


def read_split_lists(folders: dict[str, str], prepare: PrepareParams) -> pd.DataFrame:
    """The official split lists as one table, validated (official counts on the real dataset)."""
    expected = OFFICIAL_COUNTS if prepare.expected_counts == "official" else prepare.expected_counts
    return load_split_lists(folders["splits_root"], expected_counts=expected)


def describe_dataset(split_lists: pd.DataFrame, prepare: PrepareParams) -> dict[str, Any]:
    """The prepared dataset as models see it (name, class names in label order, frame storage):
    part of every experiment trained on it."""
    spec = DatasetSpec(name=prepare.dataset_name, class_names=tuple(class_names(split_lists)), frames=prepare.frames)
    return spec.model_dump(mode="json")


def locate_videos(folders: dict[str, str], split_lists: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Video files of the listed videos, with the listed-but-missing ones and the other files on disk
    (unlisted videos, non-video files) with the reason each is left out."""
    found = find_videos(folders["videos_root"], split_lists)
    return {"video_files": found["found"], "missing_videos": found["missing"], "unlisted_videos": found["unlisted"]}


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
    prepare: PrepareParams,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Failures with reasons, the lists' sizes (and the expected counts they were checked against),
    frame statistics; and the counts per class, split and subset."""
    failed = frame_index[frame_index["error"].notna()]
    failures = [{"video": v, "reason": "missing from the video folder"} for v in missing_videos["video"]]
    failures += [{"video": v, "reason": e} for v, e in zip(failed["video"], failed["error"])]
    listed = split_lists["video"].nunique()
    ok = frame_index[frame_index["error"].isna()]["n_frames"]
    report = {
        "listed_videos": int(listed),
        "usable_videos": int(listed - len(failures)),
        "failed_fraction": len(failures) / listed if listed else 0.0,
        "lists": {
            "classes": int(split_lists["label"].nunique()),
            "per_split": {str(split): {subset: int(n) for subset, n in counts.items()} for split, counts in
                          split_lists.groupby("split")["subset"].value_counts().unstack(fill_value=0).iterrows()},
            # read_split_lists stopped the run had they differed: "official" is UCF-101's published counts.
            "checked_against": prepare.model_dump()["expected_counts"],
        },
        "failures": failures,
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
            f"{len(data_quality['failures'])} of {data_quality['listed_videos']} listed videos are unusable "
            f"({data_quality['failed_fraction']:.1%} > prepare.max_failed_fraction = {limit:.1%}); the data_quality "
            "report (08_reporting/data_quality.json) names each video and reason"
        )
    return frame_index


def split_tables(split_lists: pd.DataFrame, frame_index: pd.DataFrame, split: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train and test index tables of one split (usable videos only) and the excluded ones."""
    tables = build_split_index(split_lists, frame_index[["video", "frame_store", "n_frames", "error"]], split)
    return tables["train"], tables["test"], tables["excluded"]
