"""Nodes of the prepare pipeline: archives -> video folder and split lists -> frame stores -> split tables.

Thin adapters over ``mict_pipeline.data``; every output is written atomically, and reruns skip
finished work (extracted archives are stamped with their digest, complete frame stores are kept).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pandas as pd

from mict_pipeline.atomic import write_bytes_atomic
from mict_pipeline.config import require
from mict_pipeline.data.archives import extract_archive
from mict_pipeline.data.frames import extract_many
from mict_pipeline.data.ucf101 import OFFICIAL_COUNTS, ExpectedCounts, build_split_index, find_videos, load_split_lists, split_summary

log = logging.getLogger(__name__)
CONF_FILE = "conf/<env>/parameters_prepare.yml"
STAMP = ".extracted-from.json"


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


def extract_dataset_archives(archives: dict[str, Any], prepare: dict[str, Any]) -> dict[str, str]:
    """Unpack the video and split-list archives under ``prepare.raw_dir``; return the two folders."""
    require(prepare, ["raw_dir", "videos_folder", "splits_folder"], "prepare", CONF_FILE)
    missing = {"videos", "splits"} - set(archives)
    if missing:
        raise KeyError(f"download manifest lacks archive(s) {sorted(missing)}: declare them under download.archives")
    raw = Path(prepare["raw_dir"])
    folders = {}
    for name, inner in (("videos", prepare["videos_folder"]), ("splits", prepare["splits_folder"])):
        _extract_once(archives[name], raw / name)
        folder = raw / name / inner
        if not folder.is_dir():
            raise FileNotFoundError(
                f"{archives[name]['path']} holds no top folder {inner!r} (found {sorted(p.name for p in (raw / name).iterdir())}); "
                f"set prepare.{name}_folder in {CONF_FILE}"
            )
        folders[f"{name}_root"] = str(folder)
    return folders


def _expected_counts(setting: Any) -> ExpectedCounts | None:
    if setting == "official":
        return OFFICIAL_COUNTS
    if setting is None:
        return None
    return ExpectedCounts(classes=setting["classes"], videos=setting["videos"], per_split={int(k): v for k, v in setting["per_split"].items()})


def read_split_lists(folders: dict[str, str], prepare: dict[str, Any]) -> pd.DataFrame:
    """The official split lists as one table, validated (official counts on the real dataset)."""
    return load_split_lists(folders["splits_root"], expected_counts=_expected_counts(prepare.get("expected_counts", "official")))


def locate_videos(folders: dict[str, str], split_lists: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Video files of the listed videos, with the listed-but-missing ones and the other files on disk
    (unlisted videos, non-video files) with the reason each is left out."""
    found = find_videos(folders["videos_root"], split_lists)
    return {"video_files": found["found"], "missing_videos": found["missing"], "unlisted_videos": found["unlisted"]}


def extract_video_frames(video_files: pd.DataFrame, prepare: dict[str, Any]) -> pd.DataFrame:
    """Frame store per video (parallel, incremental); bad videos are reported, not fatal."""
    frames = prepare.get("frames", {})
    frames_dir = Path(prepare.get("frames_dir", "data/03_primary/frames"))
    pairs = [(Path(p), frames_dir / f"{v}.frames") for v, p in zip(video_files["video"], video_files["path"])]
    results = extract_many(
        pairs,
        frames.get("width", 256),
        frames.get("height", 192),
        workers=frames.get("workers") or None,
        quality=frames.get("quality", 90),
    )
    counts = pd.Series([r.status for r in results]).value_counts().to_dict()
    log.info("frame extraction: %s", counts)
    return pd.DataFrame(
        {
            "video": video_files["video"].to_numpy(),
            "frame_store": [os.fspath(r.out) for r in results],
            "n_frames": [r.frames for r in results],
            "declared_frames": [r.declared_frames for r in results],
            "error": [r.error for r in results],
        }
    )


def data_quality_report(
    split_lists: pd.DataFrame,
    missing_videos: pd.DataFrame,
    unlisted_videos: pd.DataFrame,
    frame_index: pd.DataFrame,
    prepare: dict[str, Any],
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Failures with reasons, counts per class/split/subset and frame statistics.

    Fails the run (after the report is built) when more than ``prepare.max_failed_fraction`` of the
    listed videos are unusable.
    """
    failed = frame_index[frame_index["error"].notna()]
    failures = [{"video": v, "reason": "missing from the video folder"} for v in missing_videos["video"]]
    failures += [{"video": v, "reason": e} for v, e in zip(failed["video"], failed["error"])]
    listed = split_lists["video"].nunique()
    ok = frame_index[frame_index["error"].isna()]["n_frames"]
    report = {
        "listed_videos": int(listed),
        "usable_videos": int(listed - len(failures)),
        "failed_fraction": len(failures) / listed if listed else 0.0,
        "failures": failures,
        "unlisted_files": unlisted_videos[["path", "reason"]].astype(str).to_dict("records") if len(unlisted_videos) else [],
        "frames": {
            "total": int(ok.sum()),
            "min": int(ok.min()) if len(ok) else 0,
            "median": float(ok.median()) if len(ok) else 0.0,
            "max": int(ok.max()) if len(ok) else 0,
            "shorter_than_clip": int((ok < prepare.get("clip_len", 16)).sum()),
        },
    }
    summary = split_summary(split_lists)
    limit = prepare.get("max_failed_fraction", 0.01)
    if report["failed_fraction"] > limit:
        # The report is the useful output here: write it before failing so the user can read it.
        path = Path(prepare.get("report_dir", "data/08_reporting")) / "data_quality.json"
        write_bytes_atomic(path, json.dumps(report, indent=2).encode())
        raise DataQualityError(
            f"{len(failures)} of {listed} listed videos are unusable ({report['failed_fraction']:.1%} > "
            f"prepare.max_failed_fraction = {limit:.1%}); see {path} for each video and reason"
        )
    return report, summary


def split_tables(split_lists: pd.DataFrame, frame_index: pd.DataFrame, split: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Train and test index tables of one split (usable videos only) and the excluded ones."""
    tables = build_split_index(split_lists, frame_index[["video", "frame_store", "n_frames", "error"]], split)
    return tables["train"], tables["test"], tables["excluded"]
