"""UCF-101 split lists: read and validate ``ucfTrainTestlist``, find the videos, index the splits.

The official lists (``UCF101TrainTestSplits-RecognitionTask.zip``) have quirks a naive reader gets
wrong: CRLF line ends, test lists without labels (other copies add them, or use LF), and class 37
written ``HandStandPushups`` in the lists and in the file names while ``classInd.txt`` and the
folder inside ``UCF101.rar`` say ``HandstandPushups``. List folders are therefore matched to
``classInd.txt`` case-insensitively and ``video`` uses the classInd spelling for the folder; file
stems keep their spelling because that is how the files are named on disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import NonNegativeInt, PositiveInt

from mict_pipeline.config import Params
from mict_pipeline.errors import UserError

SPLITS = (1, 2, 3)  # UCF-101's three official train/test splits
SUBSETS = ("train", "test")
CLASS_INDEX_FILE = "classInd.txt"

SPLIT_COLUMNS = ["video", "class_name", "label", "group", "split", "subset"]
INDEX_COLUMNS = ["video", "frame_store", "n_frames", "label", "class_name", "subset"]
EXCLUDED_COLUMNS = ["video", "class_name", "label", "split", "subset", "reason"]
#: The split-list table of datasets whose videos lie anywhere (Kinetics, a folder): plus ``path``.
LIST_COLUMNS = [*SPLIT_COLUMNS, "path"]
FRAMES_COLUMNS = ["video", "frame_store", "n_frames", "error"]

_CLASS_LINE = re.compile(r"(?P<number>[0-9]+)\s+(?P<name>[A-Za-z0-9]+)")
_LIST_LINE = re.compile(r"(?P<folder>[^/\s]+)/(?P<file>[^/\s]+)(?:\s+(?P<label>[0-9]+))?")
_FILE_NAME = re.compile(r"v_(?P<class_name>[A-Za-z0-9]+)_g(?P<group>[0-9]{2})_c[0-9]{2}\.avi")
_VIDEO_SUFFIX = ".avi"

_ZIP = "UCF101TrainTestSplits-RecognitionTask.zip"
_RESTORE = f"restore the file from {_ZIP}"
_FIX_LINE = f"correct the line, or restore the file from {_ZIP}"


#: UCF-101's classes in ``classInd.txt`` order (label 0 first): what a model trained on UCF-101
#: predicts, such as an original MiCT-Net-PyTorch checkpoint, which carries no class names.
CLASS_NAMES: tuple[str, ...] = (
    "ApplyEyeMakeup", "ApplyLipstick", "Archery", "BabyCrawling", "BalanceBeam", "BandMarching",
    "BaseballPitch", "Basketball", "BasketballDunk", "BenchPress", "Biking", "Billiards",
    "BlowDryHair", "BlowingCandles", "BodyWeightSquats", "Bowling", "BoxingPunchingBag",
    "BoxingSpeedBag", "BreastStroke", "BrushingTeeth", "CleanAndJerk", "CliffDiving",
    "CricketBowling", "CricketShot", "CuttingInKitchen", "Diving", "Drumming", "Fencing",
    "FieldHockeyPenalty", "FloorGymnastics", "FrisbeeCatch", "FrontCrawl", "GolfSwing", "Haircut",
    "Hammering", "HammerThrow", "HandstandPushups", "HandstandWalking", "HeadMassage", "HighJump",
    "HorseRace", "HorseRiding", "HulaHoop", "IceDancing", "JavelinThrow", "JugglingBalls",
    "JumpingJack", "JumpRope", "Kayaking", "Knitting", "LongJump", "Lunges", "MilitaryParade",
    "Mixing", "MoppingFloor", "Nunchucks", "ParallelBars", "PizzaTossing", "PlayingCello",
    "PlayingDaf", "PlayingDhol", "PlayingFlute", "PlayingGuitar", "PlayingPiano", "PlayingSitar",
    "PlayingTabla", "PlayingViolin", "PoleVault", "PommelHorse", "PullUps", "Punch", "PushUps",
    "Rafting", "RockClimbingIndoor", "RopeClimbing", "Rowing", "SalsaSpin", "ShavingBeard",
    "Shotput", "SkateBoarding", "Skiing", "Skijet", "SkyDiving", "SoccerJuggling", "SoccerPenalty",
    "StillRings", "SumoWrestling", "Surfing", "Swing", "TableTennisShot", "TaiChi", "TennisSwing",
    "ThrowDiscus", "TrampolineJumping", "Typing", "UnevenBars", "VolleyballSpiking",
    "WalkingWithDog", "WallPushups", "WritingOnBoard", "YoYo",
)


#: How many clips (c01, c02, ...) each class has in each group g01-g25, in :data:`CLASS_NAMES`
#: order, one digit per group: the shape of UCF-101's 13,320 videos. With the group protocol
#: (split k tests groups 7k-6 to 7k) and :data:`LIST_SPELLING` this gives the official split lists
#: byte for byte (``tests/datasets/test_ucf101.py`` checks it against them), so the synthetic
#: replica (:mod:`mict_pipeline.datasets.synthetic`) has UCF-101's exact names, lists and counts.
CLIPS_PER_GROUP: tuple[str, ...] = (
    "6467777575566575554655677", "5445554444454455544557454", "7755566577747475474745767", "4644566465466466565747466",
    "4444474444445444644454544", "7774747777765677467665667", "6475777775547476775447777", "7664444455554576457767647",
    "7464646555554776764644554", "6777777774577765776747577", "4745756646646455664775474", "6757654675777775577475467",
    "4555577747764554554564744", "4445574444464444444444446", "4454454475444444444644457", "7474777777746574757767775",
    "7777777774574777467777777", "4457557574657675745544547", "4444444444444444454444444", "4754556645464544575547677",
    "5465445444474644444644444", "6454776467674744577746554", "7745454574765567567567447", "7777777777777777655767577",
    "5445654447444444444444446", "7777674677677475444776674", "7757667547777677767774777", "6555544465554444444444444",
    "5647774457464764444444456", "5445477475464564674554445", "6555556556454546556656444", "4467457565744744774766764",
    "6476745644744444766766777", "4465446677544445456747774", "4455465477457774776477674", "6777675677677654557557745",
    "4444444544677467574765547", "4445746444444444474444464", "5774675744774774775567747", "5746546554745445445545655",
    "4456466544745445566554574", "7777777667774766667767677", "7455445564466556544745645", "7767667767475646567777777",
    "4444645445644666544444565", "4675567564554544444446445", "7444675476447444447444447", "4747556774755467574776576",
    "6447474665744477675777664", "4556545457645575644444447", "7567545667666555556444444", "7444477446756744457454644",
    "7444446575554574567444447", "7677765575776774444444444", "4646545444444444664444444", "4676444756657464764464556",
    "4447576564644444444444444", "4547454444544444445444765", "7747775677777477777757777", "4747775757654776477777647",
    "7777777777767746767477757", "7777767776655676757465657", "6477577747777777777765747", "4444444444444447644444444",
    "4677767777744747777776774", "4456444455455445464444445", "4444444444444444444444444", "5777554447575747777674777",
    "7445447444477444646747444", "4444444444444444444444444", "5445777776777767777477777", "5445444444444444444444444",
    "4444444645445547645444444", "5574677747466545744677677", "4644745445447555557444445", "4676445467677774746454556",
    "7766656566664665444555454", "4774777777466676777777776", "7765777776774477544445745", "4645445547564464465545455",
    "6577474765447455446775465", "4444444444444444444444444", "4454545445444454564644444", "5646657474665747777657676",
    "6555776655576675454555664", "5474444446444444444474447", "4444477744455444575444444", "7644444756475477744644444",
    "5547777564644575444665554", "6457764474544577447747777", "4444444444444444444444444", "7777777677777777766666666",
    "4744577465765454574474555", "4645445466654456446546444", "7674676777774744444744444", "4444444444444475444444444",
    "4447547664647444444444444", "4655556565555445545744464", "4454576555655557755674445", "7774677467646457574777777",
    "7565544565645446646466645",
)

#: Where the lists and the file names spell a class otherwise than ``classInd.txt`` and its folder.
LIST_SPELLING: dict[str, str] = {"HandstandPushups": "HandStandPushups"}

#: Groups (people or settings) per class, and the groups each split tests (split k: 7k-6 to 7k).
GROUPS = 25
TEST_GROUPS_PER_SPLIT = 7


def split_test_groups(split: int) -> range:
    """Groups in the test set of official split ``split``: 1-7, 8-14, 15-21 (22-25 always train)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split}")
    first = (split - 1) * TEST_GROUPS_PER_SPLIT + 1
    return range(first, first + TEST_GROUPS_PER_SPLIT)


class SplitListError(UserError, ValueError):
    """A split list (UCF-101 or HMDB-51) is missing, malformed or inconsistent."""


class DatasetPathError(UserError, FileNotFoundError):
    """A dataset's video or list folder is not where its configuration says."""


class ExpectedCounts(Params):
    """Sizes a set of split lists must have; ``per_split`` maps a split number to
    ``{"train": n, "test": n}``."""

    classes: PositiveInt
    videos: PositiveInt
    per_split: dict[int, dict[Literal["train", "test"], NonNegativeInt]]


OFFICIAL_COUNTS = ExpectedCounts(
    classes=101,
    videos=13_320,
    per_split={
        1: {"train": 9_537, "test": 3_783},
        2: {"train": 9_586, "test": 3_734},
        3: {"train": 9_624, "test": 3_696},
    },
)


@dataclass(frozen=True)
class _ClassIndex:
    names: tuple[str, ...]  # classInd spelling; position = 0-based label
    label_by_folder: Mapping[str, int]  # casefolded name -> 0-based label


@dataclass(frozen=True)
class _Entry:
    video: str
    label: int
    group: int
    where: str  # "<file>:<line>" for error messages


def list_file_name(subset: str, split: int) -> str:
    """``trainlist01.txt`` / ``testlist03.txt``: the official name of one split list."""
    return f"{subset}list{split:02d}.txt"


def load_split_lists(
    split_dir: str | os.PathLike[str],
    *,
    expected_counts: ExpectedCounts | None = OFFICIAL_COUNTS,
    counts_key: str = "expected_counts",
) -> pd.DataFrame:
    """Read and validate ``classInd.txt`` and the three train/test lists in ``split_dir``.

    Returns one row per (video, split) with :data:`SPLIT_COLUMNS`: ``video`` is
    ``<classInd folder>/<file stem as written>``, ``label`` is 0-based in classInd order, ``subset``
    is ``train`` or ``test``. Rows are sorted (split, train before test, label, video), so the table
    does not depend on the order of lines in the files. Raises :class:`SplitListError` naming the
    file, line and fix for anything malformed or inconsistent, and when the sizes differ from
    ``expected_counts`` (``None`` skips that check, e.g. for the synthetic dataset; ``counts_key``:
    where a user gives them, for the error).
    """
    split_dir = Path(split_dir)
    _check_files_present(split_dir)
    classes = _read_class_index(split_dir / CLASS_INDEX_FILE)
    spellings: dict[str, _Entry] = {}
    records = []
    for split in SPLITS:
        train, test = (
            _read_list(split_dir / list_file_name(subset, split), subset, classes, spellings)
            for subset in SUBSETS
        )
        _check_disjoint(split, train, test)
        for subset, entries in zip(SUBSETS, (train, test)):
            records += [
                (e.video, classes.names[e.label], e.label, e.group, split, subset)
                for e in entries.values()
            ]
    table = pd.DataFrame.from_records(records, columns=SPLIT_COLUMNS).astype(
        {"label": "int64", "group": "int64", "split": "int64"}
    )
    table = sort_split_table(table, ["split", "subset", "label", "video"])
    if expected_counts is not None:
        _check_counts(split_dir, table, len(classes.names), expected_counts, counts_key)
    return table


def _check_files_present(split_dir: Path) -> None:
    required = [CLASS_INDEX_FILE] + [list_file_name(s, k) for k in SPLITS for s in SUBSETS]
    missing = [name for name in required if not (split_dir / name).is_file()]
    if missing:
        raise SplitListError(
            f"{split_dir}: missing {', '.join(missing)}. Fix: extract {_ZIP} there so that the "
            f"folder holds {', '.join(required)}."
        )


def read_list_lines(path: Path, *, fix: str = _RESTORE) -> list[tuple[int, str]]:
    """Non-blank lines, stripped, with 1-based line numbers; LF, CRLF and a BOM are all accepted.

    Shared by the UCF-101 and HMDB-51 readers; ``fix`` ends the error for a file that is not
    UTF-8 or is empty (how to get a good copy back).
    """
    if not path.is_file():
        raise SplitListError(f"{path}: file not found. Fix: {fix}.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise SplitListError(f"{path}: not UTF-8 text ({err}). Fix: {fix}.") from err
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1)]
    lines = [(number, line) for number, line in lines if line]
    if not lines:
        raise SplitListError(f"{path}: the file is empty. Fix: {fix}.")
    return lines


def _read_class_index(path: Path) -> _ClassIndex:
    name_by_number: dict[int, str] = {}
    where_by_name: dict[str, str] = {}
    for number, line in read_list_lines(path):
        where = f"{path}:{number}"
        match = _CLASS_LINE.fullmatch(line)
        if match is None:
            raise SplitListError(
                f"{where}: expected '<1-based label> <ClassName>' (class names are letters and "
                f"digits), got {line!r}. Fix: {_FIX_LINE}."
            )
        label, name = int(match["number"]), match["name"]
        if label in name_by_number:
            raise SplitListError(
                f"{where}: label {label} is given twice ({name_by_number[label]}, {name}). "
                "Fix: give each class its own label."
            )
        # Names are compared casefolded because list folders are matched to them that way.
        if name.casefold() in where_by_name:
            raise SplitListError(
                f"{where}: class {name} is already listed at {where_by_name[name.casefold()]} "
                "(names are compared case-insensitively). Fix: remove the duplicate line."
            )
        name_by_number[label] = name
        where_by_name[name.casefold()] = where
    gaps = sorted(set(range(1, len(name_by_number) + 1)) - set(name_by_number))
    if gaps:
        raise SplitListError(
            f"{path}: labels must run 1..{len(name_by_number)} without gaps; missing "
            f"{', '.join(map(str, gaps))}. Fix: {_RESTORE}."
        )
    names = tuple(name_by_number[label] for label in range(1, len(name_by_number) + 1))
    return _ClassIndex(names, {name.casefold(): label for label, name in enumerate(names)})


def _read_list(
    path: Path, subset: str, classes: _ClassIndex, spellings: dict[str, _Entry]
) -> dict[str, _Entry]:
    """Entries of one list by video. ``spellings`` (casefolded video -> first entry, across all
    lists) makes a video spelt differently in two lists an error instead of two videos."""
    entries: dict[str, _Entry] = {}
    n_classes = len(classes.names)
    for number, line in read_list_lines(path):
        where = f"{path}:{number}"
        match = _LIST_LINE.fullmatch(line)
        if match is None or (subset == "train" and match["label"] is None):
            label_hint = " <1-based label>" if subset == "train" else " [<1-based label>]"
            raise SplitListError(
                f"{where}: expected 'Class/v_Class_gGG_cCC.avi{label_hint}', got {line!r}. "
                f"Fix: {_FIX_LINE}."
            )
        folder, file_name = match["folder"], match["file"]
        label = classes.label_by_folder.get(folder.casefold())
        if label is None:
            raise SplitListError(
                f"{where}: class {folder} is not in {CLASS_INDEX_FILE}. Fix: add it to "
                f"{CLASS_INDEX_FILE} or correct the folder name."
            )
        class_name = classes.names[label]
        file_match = _FILE_NAME.fullmatch(file_name)
        if file_match is None or file_match["class_name"].casefold() != class_name.casefold():
            raise SplitListError(
                f"{where}: file name {file_name!r} does not match v_{folder}_gGG_cCC.avi. "
                f"Fix: {_FIX_LINE}."
            )
        if match["label"] is not None:
            written = int(match["label"])
            if not 1 <= written <= n_classes:
                raise SplitListError(
                    f"{where}: label {written} is outside 1..{n_classes} of {CLASS_INDEX_FILE}. "
                    f"Fix: use label {label + 1} ({class_name})."
                )
            if written != label + 1:
                raise SplitListError(
                    f"{where}: label {written} is {classes.names[written - 1]} in "
                    f"{CLASS_INDEX_FILE}, but the folder is {class_name} (label {label + 1}). "
                    "Fix: correct the label or the folder."
                )
        entry = _Entry(
            video=f"{class_name}/{file_name.removesuffix(_VIDEO_SUFFIX)}",
            label=label,
            group=int(file_match["group"]),
            where=where,
        )
        first = spellings.setdefault(entry.video.casefold(), entry)
        if first.video != entry.video:
            raise SplitListError(
                f"{where}: {entry.video} names the same file as {first.video} at {first.where} "
                "but is spelt differently. Fix: spell each video the same way in every list."
            )
        if entry.video in entries:
            raise SplitListError(
                f"{where}: {entry.video} is already listed at {entries[entry.video].where}. "
                "Fix: remove the duplicate line."
            )
        entries[entry.video] = entry
    return entries


def _check_disjoint(split: int, train: dict[str, _Entry], test: dict[str, _Entry]) -> None:
    for video, entry in test.items():
        if video in train:
            raise SplitListError(
                f"split {split}: {video} is in both {train[video].where} and {entry.where}. "
                "Fix: list each video in one subset of a split only."
            )
    # Clips of one group share actor and scene, so a group on both sides leaks test data.
    train_groups = {(e.label, e.group): e for e in train.values()}
    for entry in test.values():
        clash = train_groups.get((entry.label, entry.group))
        if clash is not None:
            raise SplitListError(
                f"split {split}: group g{entry.group:02d} of {entry.video.split('/')[0]} is in "
                f"both train ({clash.where}) and test ({entry.where}). Fix: keep every group of a "
                "class on one side of the split."
            )


def _check_counts(
    split_dir: Path, table: pd.DataFrame, n_classes: int, expected: ExpectedCounts, counts_key: str
) -> None:
    found = {"classes": n_classes, "videos": table["video"].nunique()}
    wanted = {"classes": expected.classes, "videos": expected.videos}
    sizes = table.groupby(["split", "subset"]).size()
    for split, subsets in expected.per_split.items():
        for subset, count in subsets.items():
            key = f"split {split} {subset} videos"
            found[key], wanted[key] = int(sizes.get((split, subset), 0)), count
    deviations = [
        f"{key} {found[key]} (expected {wanted[key]})" for key in wanted if found[key] != wanted[key]
    ]
    if deviations:
        raise SplitListError(
            f"{split_dir}: the split lists do not have the expected sizes: "
            f"{'; '.join(deviations)}. Fix: use {_ZIP} unchanged, or give the dataset's "
            f"own counts under {counts_key} (`expected_counts: null` skips the check)."
        )


def find_videos(root: str | os.PathLike[str], splits: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Find the listed videos in an extracted UCF-101 folder (``root/<Class>/<file>.avi``).

    Names are matched case-insensitively, so both ``HandstandPushups/`` (UCF101.rar) and
    ``HandStandPushups/`` (the lists' spelling) folders are found. Returns

    - ``"found"``: ``video``, ``path`` (``root`` joined with the path on disk) per listed video;
    - ``"missing"``: ``video`` for list entries with no file;
    - ``"unlisted"``: ``path`` and ``reason`` of every other file in a class folder: ``.avi``
      files that no list names, and files that are not videos (they are left out, and named).
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetPathError(
            f"{root}: UCF-101 video folder not found. Fix: extract UCF101.rar so that this folder "
            "holds one folder per class."
        )
    on_disk: dict[str, Path] = {}
    not_videos: list[Path] = []
    for path in sorted(root.glob("*/*")):
        if not path.is_file():
            continue
        if path.suffix.lower() != _VIDEO_SUFFIX:
            not_videos.append(path)
            continue
        key = path.relative_to(root).with_suffix("").as_posix().casefold()
        if key in on_disk:
            raise SplitListError(
                f"{on_disk[key]} and {path} differ only in case, so a list entry would match both. "
                "Fix: keep one of them."
            )
        on_disk[key] = path
    videos = sorted(splits["video"].unique())
    listed = {video.casefold() for video in videos}
    found = [
        (video, str(on_disk[video.casefold()])) for video in videos if video.casefold() in on_disk
    ]
    return {
        "found": pd.DataFrame(found, columns=["video", "path"]),
        "missing": pd.DataFrame(
            {"video": [video for video in videos if video.casefold() not in on_disk]}, dtype="str"
        ),
        "unlisted": pd.DataFrame(
            [(str(path), "in no split list") for key, path in on_disk.items() if key not in listed]
            + [(str(path), f"not a video ({path.suffix or 'no extension'}): ignored") for path in not_videos],
            columns=["path", "reason"],
            dtype="str",
        ),
    }


def build_split_index(
    splits: pd.DataFrame, frames: pd.DataFrame, split: int
) -> dict[str, pd.DataFrame]:
    """Join one split's lists with the frame-extraction results into the tables training reads.

    ``frames`` has one row per video with :data:`FRAMES_COLUMNS` (``error`` None/NaN/empty when
    extraction succeeded). Returns ``"train"`` and ``"test"`` with :data:`INDEX_COLUMNS`, and
    ``"excluded"`` with :data:`EXCLUDED_COLUMNS`: the split's videos that have no result, an error,
    no frame store or no frames, each with a reason for the data-quality report.
    """
    missing_columns = [column for column in FRAMES_COLUMNS if column not in frames.columns]
    if missing_columns:
        raise ValueError(f"frame-extraction results lack columns {', '.join(missing_columns)}")
    repeated = frames.loc[frames["video"].duplicated(), "video"]
    if not repeated.empty:
        raise ValueError(
            f"frame-extraction results list {repeated.nunique()} videos more than once "
            f"(first: {repeated.iloc[0]}); expected one row per video"
        )
    listed = splits.loc[splits["split"] == split, ["video", "class_name", "label", "split", "subset"]]
    if listed.empty:
        raise ValueError(
            f"split {split} has no videos; the lists hold splits {sorted(splits['split'].unique())}"
        )
    merged = listed.merge(frames[FRAMES_COLUMNS], on="video", how="left", indicator=True)
    error = merged["error"].astype("object").where(merged["error"].notna(), "")
    error = error.astype("str").str.strip()
    n_frames = pd.to_numeric(merged["n_frames"], errors="coerce")
    # np.select takes the first condition that holds, so the most basic failure is reported.
    reason = np.select(
        [
            merged["_merge"] == "left_only",
            error != "",
            merged["frame_store"].isna() | (merged["frame_store"].astype("str").str.strip() == ""),
            ~(n_frames >= 1),
        ],
        [
            "no frame-extraction result",
            "extraction failed: " + error,
            "no frame store",
            "no frames extracted",
        ],
        default="",
    )
    usable = merged[reason == ""].astype({"n_frames": "int64", "frame_store": "str"})
    excluded = merged[reason != ""].assign(reason=reason[reason != ""])
    order = ["subset", "label", "video"]
    return {
        **{
            subset: sort_split_table(usable.loc[usable["subset"] == subset, INDEX_COLUMNS], order)
            for subset in SUBSETS
        },
        "excluded": sort_split_table(excluded[EXCLUDED_COLUMNS].astype({"reason": "str"}), order),
    }


def class_names(splits: pd.DataFrame) -> list[str]:
    """Class names of a split-list table (:func:`load_split_lists`) in label order."""
    names = splits.drop_duplicates("label").sort_values("label")
    return names["class_name"].tolist()


def split_summary(splits: pd.DataFrame, usable: pd.DataFrame | None = None) -> pd.DataFrame:
    """Videos and groups per class, split and subset (zeros included), for the validation report.

    Columns ``label``, ``class_name``, ``split``, ``subset``, ``n_listed`` (the videos the lists
    name), ``n_videos`` and ``n_groups`` (of those, the ones ``usable`` holds: ``video``, ``split``,
    ``subset`` rows, such as the split tables'; every listed one when None).
    """
    keys = ["label", "class_name", "split", "subset"]
    grid = (
        splits[["label", "class_name"]]
        .drop_duplicates()
        .merge(splits[["split"]].drop_duplicates(), how="cross")
        .merge(pd.DataFrame({"subset": list(SUBSETS)}, dtype="str"), how="cross")
    )
    kept = splits if usable is None else splits.merge(usable[["video", "split", "subset"]], on=["video", "split", "subset"])
    listed = splits.groupby(keys).size().rename("n_listed").reset_index()
    counts = kept.groupby(keys).agg(n_videos=("video", "size"), n_groups=("group", "nunique")).reset_index()
    summary = grid.merge(listed, on=keys, how="left").merge(counts, on=keys, how="left")
    summary = summary.fillna({"n_listed": 0, "n_videos": 0, "n_groups": 0}).astype({"n_listed": "int64", "n_videos": "int64", "n_groups": "int64"})
    return sort_split_table(summary, ["split", "subset", "label"])


def sort_split_table(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """``table`` sorted by the ``by`` columns, ascending except ``subset``: train before test."""
    return table.sort_values(by, ascending=[key != "subset" for key in by], ignore_index=True)


def video_list_table(records: list[tuple]) -> pd.DataFrame:
    """Records of :data:`LIST_COLUMNS` (the split-list table plus each video's file) as a table
    sorted like ``load_split_lists``' (split, train before test, label, video), so it does not
    depend on the order of lines or files: what the Kinetics and folder readers return."""
    table = pd.DataFrame.from_records(records, columns=LIST_COLUMNS)
    table = table.astype({"label": "int64", "group": "int64", "split": "int64"})
    return sort_split_table(table, ["split", "subset", "label", "video"])
