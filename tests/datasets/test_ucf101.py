"""UCF-101 split lists: the official lists (when present), small generated lists, and indexes."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mict_pipeline.datasets.ucf101 import (
    CLASS_INDEX_FILE,
    CLASS_NAMES,
    EXCLUDED_COLUMNS,
    INDEX_COLUMNS,
    OFFICIAL_COUNTS,
    SPLIT_COLUMNS,
    SPLITS,
    SUBSETS,
    ExpectedCounts,
    SplitListError,
    build_split_index,
    class_names,
    find_videos,
    list_file_name,
    load_split_lists,
    split_summary,
)

OFFICIAL_DIR = Path(__file__).resolve().parents[2] / ".." / "shared" / "ucf101" / "ucfTrainTestlist"
needs_official = pytest.mark.skipif(
    not OFFICIAL_DIR.is_dir(), reason=f"official UCF-101 split lists not at {OFFICIAL_DIR}"
)

# A miniature UCF-101: three classes, seven groups; the lists spell class 2 the official
# quirky way (folder and file stem ``HandStandPushups``, classInd ``HandstandPushups``).
CLASSES = ("ApplyEyeMakeup", "HandstandPushups", "YoYo")
LIST_SPELLING = {"HandstandPushups": "HandStandPushups"}
N_GROUPS = 7
TEST_GROUPS = {1: {1, 2}, 2: {3, 4}, 3: {5, 6}}  # g07 is always train, like g22-g25
VIDEOS = [
    (label, group, clip) for label in range(3) for group in range(1, N_GROUPS + 1) for clip in (1, 2)
]

Video = tuple[int, int, int]  # (0-based label, group, clip)

hypothesis_settings = settings(max_examples=25, deadline=None)


def write_text(path: Path, lines: Iterable[str], newline: str) -> None:
    path.write_bytes("".join(line + newline for line in lines).encode())


def write_lists(
    split_dir: Path,
    videos: Iterable[Video] = VIDEOS,
    test_groups: dict[int, set[int]] = TEST_GROUPS,
    *,
    newline: str = "\r\n",
    test_labels: bool = False,
) -> Path:
    """Write classInd.txt and the six lists for ``videos`` in the official format."""
    split_dir.mkdir(parents=True, exist_ok=True)
    write_text(split_dir / CLASS_INDEX_FILE, [f"{i + 1} {c}" for i, c in enumerate(CLASSES)], newline)
    for split in SPLITS:
        for subset in SUBSETS:
            lines = []
            for label, group, clip in videos:
                if (group in test_groups[split]) == (subset == "test"):
                    folder = LIST_SPELLING.get(CLASSES[label], CLASSES[label])
                    line = f"{folder}/v_{folder}_g{group:02d}_c{clip:02d}.avi"
                    lines.append(line + (f" {label + 1}" if subset == "train" or test_labels else ""))
            write_text(split_dir / list_file_name(subset, split), lines, newline)
    return split_dir


def write_table(table: pd.DataFrame, split_dir: Path) -> Path:
    """Write a split table back as lists: the inverse of load_split_lists."""
    split_dir.mkdir(parents=True, exist_ok=True)
    write_text(split_dir / CLASS_INDEX_FILE, [f"{i + 1} {c}" for i, c in enumerate(CLASSES)], "\n")
    for (split, subset), rows in table.groupby(["split", "subset"]):
        lines = [f"{row.video}.avi {row.label + 1}" for row in rows.itertuples()]
        write_text(split_dir / list_file_name(subset, split), lines, "\n")
    return split_dir


def lines_of(split_dir: Path, name: str) -> list[str]:
    return (split_dir / name).read_text().splitlines()


def insert_line(split_dir: Path, name: str, line_number: int, text: str) -> None:
    lines = lines_of(split_dir, name)
    lines.insert(line_number - 1, text)
    write_text(split_dir / name, lines, "\r\n")


@pytest.fixture
def lists(tmp_path: Path) -> Path:
    return write_lists(tmp_path / "ucfTrainTestlist")


# --- official lists -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def official() -> pd.DataFrame:
    return load_split_lists(OFFICIAL_DIR, expected_counts=OFFICIAL_COUNTS)


@needs_official
def test_official_counts(official: pd.DataFrame) -> None:
    sizes = official.groupby(["split", "subset"]).size()
    for split, subsets in OFFICIAL_COUNTS.per_split.items():
        for subset, count in subsets.items():
            assert sizes[(split, subset)] == count
    assert official["video"].nunique() == 13_320
    assert official.groupby("split")["video"].nunique().eq(13_320).all()
    classes = official[["label", "class_name"]].drop_duplicates().sort_values("label")
    assert classes["label"].tolist() == list(range(101))
    names = classes["class_name"].tolist()
    assert [names[0], names[36], names[100]] == ["ApplyEyeMakeup", "HandstandPushups", "YoYo"]
    assert class_names(official) == names == list(CLASS_NAMES)  # what an original checkpoint predicts
    assert list(official.columns) == SPLIT_COLUMNS


@needs_official
def test_official_handstand_pushups_keeps_folder_and_file_spelling(official: pd.DataFrame) -> None:
    rows = official[official["label"] == 36]
    assert len(rows) > 0
    assert (rows["class_name"] == "HandstandPushups").all()
    assert rows["video"].str.match(r"HandstandPushups/v_HandStandPushups_g\d\d_c\d\d$").all()


@needs_official
def test_official_test_groups(official: pd.DataFrame) -> None:
    for split, first in zip(SPLITS, (1, 8, 15)):
        rows = official[official["split"] == split]
        test = set(rows.loc[rows["subset"] == "test", "group"])
        train = set(rows.loc[rows["subset"] == "train", "group"])
        assert test == set(range(first, first + 7))
        assert train == set(range(1, 26)) - test
        assert set(range(22, 26)) <= train


@needs_official
def test_official_summary_has_seven_test_groups_per_class(official: pd.DataFrame) -> None:
    summary = split_summary(official)
    assert len(summary) == 101 * 3 * 2
    test = summary[summary["subset"] == "test"]
    assert (test["n_groups"] == 7).all()
    assert summary.groupby("split")["n_videos"].sum().eq(13_320).all()


@needs_official
def test_official_lists_fail_loudly_on_other_counts() -> None:
    per_split = {**OFFICIAL_COUNTS.per_split, 1: {"train": 9_538, "test": 3_783}}
    expected = ExpectedCounts(classes=101, videos=13_320, per_split=per_split)
    with pytest.raises(SplitListError, match=r"split 1 train videos 9537 \(expected 9538\)"):
        load_split_lists(OFFICIAL_DIR, expected_counts=expected)


# --- generated lists: formats -----------------------------------------------------------------


def test_generated_lists_read_as_expected(lists: Path) -> None:
    table = load_split_lists(lists, expected_counts=None)
    assert list(table.columns) == SPLIT_COLUMNS
    assert len(table) == len(VIDEOS) * 3
    video = "HandstandPushups/v_HandStandPushups_g03_c02"
    row = table[(table["split"] == 1) & (table["video"] == video)]
    assert row[["class_name", "label", "group", "subset"]].values.tolist() == [
        ["HandstandPushups", 1, 3, "train"]
    ]
    assert table.index.equals(pd.RangeIndex(len(table)))


def test_line_ends_labels_and_blank_space_do_not_change_the_table(tmp_path: Path) -> None:
    reference = load_split_lists(write_lists(tmp_path / "crlf"), expected_counts=None)
    lf = write_lists(tmp_path / "lf", newline="\n")
    labelled = write_lists(tmp_path / "labelled", test_labels=True)
    messy = write_lists(tmp_path / "messy", newline="  \t\n")  # trailing whitespace on every line
    for name in [CLASS_INDEX_FILE, "trainlist01.txt", "testlist03.txt"]:
        text = (messy / name).read_text().replace(" ", "\t  ")  # other field separators
        (messy / name).write_text("\n" + text + "\n \r\n\n")  # blank lines around the entries
    for split_dir in (lf, labelled, messy):
        pd.testing.assert_frame_equal(load_split_lists(split_dir, expected_counts=None), reference)


def test_expected_counts_from_parameters(lists: Path) -> None:
    params = {
        "classes": 3,
        "videos": len(VIDEOS),
        "per_split": {split: {"train": 30, "test": 12} for split in SPLITS},
    }
    load_split_lists(lists, expected_counts=ExpectedCounts(**params))
    with pytest.raises(SplitListError, match=r"classes 3 \(expected 101\)") as error:
        load_split_lists(lists)  # the official counts are the default
    assert str(lists) in str(error.value)


# --- generated lists: errors ------------------------------------------------------------------

def remove(name: str) -> Callable[[Path], None]:
    return lambda split_dir: (split_dir / name).unlink()


def insert(name: str, line_number: int, text: str) -> Callable[[Path], None]:
    return lambda split_dir: insert_line(split_dir, name, line_number, text)


def replace_file(name: str, lines: list[str]) -> Callable[[Path], None]:
    return lambda split_dir: write_text(split_dir / name, lines, "\r\n")


ERROR_CASES = {
    "missing classInd": (remove(CLASS_INDEX_FILE), ["classInd.txt", "missing"]),
    "missing trainlist": (remove("trainlist02.txt"), ["missing trainlist02.txt"]),
    "missing testlist": (remove("testlist03.txt"), ["missing testlist03.txt"]),
    "empty list": (replace_file("testlist02.txt", ["", "  "]), ["testlist02.txt", "empty"]),
    "classInd malformed": (insert(CLASS_INDEX_FILE, 2, "2 Apply Eye"), ["classInd.txt:2", "expected"]),
    "classInd label twice": (insert(CLASS_INDEX_FILE, 4, "3 Boxing"), ["classInd.txt:4", "label 3"]),
    "classInd class twice": (
        insert(CLASS_INDEX_FILE, 4, "4 yoyo"),
        ["classInd.txt:4", "classInd.txt:3", "case-insensitively"],
    ),
    "classInd gap": (
        replace_file(CLASS_INDEX_FILE, ["1 ApplyEyeMakeup", "2 HandstandPushups", "4 YoYo"]),
        ["classInd.txt", "missing 3"],
    ),
    "malformed line": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup v_ApplyEyeMakeup_g07_c09.avi 1"),
        ["trainlist01.txt:3", "expected"],
    ),
    "train line without label": (
        insert("trainlist02.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g07_c09.avi"),
        ["trainlist02.txt:3", "<1-based label>"],
    ),
    "extra field": (
        insert("testlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c09.avi 1 1"),
        ["testlist01.txt:3", "expected"],
    ),
    "class not in classInd": (
        insert("trainlist01.txt", 3, "Boxing/v_Boxing_g07_c01.avi 1"),
        ["trainlist01.txt:3", "Boxing is not in classInd.txt"],
    ),
    "train label disagrees": (
        insert("trainlist03.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g07_c09.avi 3"),
        ["trainlist03.txt:3", "label 3 is YoYo", "label 1"],
    ),
    "test label disagrees": (
        insert("testlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c09.avi 2"),
        ["testlist01.txt:3", "label 2 is HandstandPushups"],
    ),
    "label out of range": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g07_c09.avi 4"),
        ["trainlist01.txt:3", "outside 1..3"],
    ),
    "label zero": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g07_c09.avi 0"),
        ["trainlist01.txt:3", "outside 1..3"],
    ),
    "duplicate line": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g03_c01.avi 1"),
        ["trainlist01.txt:3", "already listed at", "trainlist01.txt:1"],
    ),
    "duplicate in the other folder spelling": (
        insert("trainlist01.txt", 20, "HandstandPushups/v_HandStandPushups_g03_c01.avi 2"),
        ["trainlist01.txt:20", "already listed at", "trainlist01.txt:11"],
    ),
    "video spelt two ways": (
        insert("trainlist02.txt", 3, "HandStandPushups/v_HANDSTANDPUSHUPS_g01_c01.avi 2"),
        ["trainlist02.txt:3", "testlist01.txt:5", "spell each video the same way"],
    ),
    "video in train and test": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 1"),
        ["split 1", "in both", "trainlist01.txt:3", "testlist01.txt:1"],
    ),
    "group in train and test": (
        insert("testlist02.txt", 3, "YoYo/v_YoYo_g07_c09.avi"),
        ["split 2", "group g07 of YoYo", "trainlist02.txt:", "testlist02.txt:3"],
    ),
    "file name: short group": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g7_c09.avi 1"),
        ["trainlist01.txt:3", "v_ApplyEyeMakeup_gGG_cCC.avi"],
    ),
    "file name: other class": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_YoYo_g07_c09.avi 1"),
        ["trainlist01.txt:3", "v_ApplyEyeMakeup_gGG_cCC.avi"],
    ),
    "file name: no v_ prefix": (
        insert("testlist03.txt", 3, "YoYo/YoYo_g05_c09.avi"),
        ["testlist03.txt:3", "v_YoYo_gGG_cCC.avi"],
    ),
    "file name: other extension": (
        insert("trainlist01.txt", 3, "ApplyEyeMakeup/v_ApplyEyeMakeup_g07_c09.mp4 1"),
        ["trainlist01.txt:3", "v_ApplyEyeMakeup_gGG_cCC.avi"],
    ),
}


@pytest.mark.parametrize("edit, fragments", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_invalid_lists_raise_naming_file_line_and_fix(
    lists: Path, edit: Callable[[Path], None], fragments: list[str]
) -> None:
    # The line numbers the cases expect:
    assert lines_of(lists, "trainlist01.txt")[10] == "HandStandPushups/v_HandStandPushups_g03_c01.avi 2"
    assert lines_of(lists, "testlist01.txt")[4] == "HandStandPushups/v_HandStandPushups_g01_c01.avi"
    edit(lists)
    with pytest.raises(SplitListError) as error:
        load_split_lists(lists, expected_counts=None)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message
    assert str(lists) in message
    assert "Fix:" in message


# --- generated lists: properties --------------------------------------------------------------


@hypothesis_settings
@given(data=st.data())
def test_any_line_order_gives_the_same_table(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    reference_dir = write_lists(tmp_path_factory.mktemp("reference"))
    reference = load_split_lists(reference_dir, expected_counts=None)
    shuffled = tmp_path_factory.mktemp("shuffled")
    for path in reference_dir.iterdir():
        lines = data.draw(st.permutations(path.read_text().splitlines()), label=path.name)
        write_text(shuffled / path.name, lines, "\n")
    pd.testing.assert_frame_equal(load_split_lists(shuffled, expected_counts=None), reference)


# Every list keeps at least one video: the anchor videos cover every group of class 0.
ANCHORS = {(0, group, 1) for group in range(1, N_GROUPS + 1)}
videos_strategy = st.sets(
    st.tuples(st.integers(0, 2), st.integers(1, N_GROUPS), st.integers(1, 3)), max_size=25
).map(ANCHORS.union)
test_groups_strategy = st.fixed_dictionaries(
    {split: st.sets(st.integers(1, N_GROUPS), min_size=1, max_size=N_GROUPS - 1) for split in SPLITS}
)


@hypothesis_settings
@given(videos=videos_strategy, test_groups=test_groups_strategy, test_labels=st.booleans())
def test_lists_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    videos: set[Video],
    test_groups: dict[int, set[int]],
    test_labels: bool,
) -> None:
    split_dir = tmp_path_factory.mktemp("lists")
    write_lists(split_dir, videos, test_groups, test_labels=test_labels)
    table = load_split_lists(split_dir, expected_counts=None)

    def stem(label: int, group: int, clip: int) -> str:
        spelling = LIST_SPELLING.get(CLASSES[label], CLASSES[label])
        return f"{CLASSES[label]}/v_{spelling}_g{group:02d}_c{clip:02d}"

    expected = {
        (stem(label, group, clip), CLASSES[label], label, group, split, subset)
        for label, group, clip in videos
        for split, groups in test_groups.items()
        for subset in ["test" if group in groups else "train"]
    }
    assert set(table.itertuples(index=False, name=None)) == expected
    rewritten_dir = write_table(table, tmp_path_factory.mktemp("rewritten"))
    rewritten = load_split_lists(rewritten_dir, expected_counts=None)
    pd.testing.assert_frame_equal(rewritten, table)


# --- finding videos -----------------------------------------------------------------------------


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    return path


@pytest.mark.parametrize("disk_folder", ["HandstandPushups", "HandStandPushups"])
def test_find_videos_matches_case_insensitively_and_reports_gaps(
    lists: Path, tmp_path: Path, disk_folder: str
) -> None:
    splits = load_split_lists(lists, expected_counts=None)
    root = tmp_path / "UCF-101"
    handstand = touch(root / disk_folder / "v_HandStandPushups_g01_c01.avi")
    apply = touch(root / "ApplyEyeMakeup" / "v_ApplyEyeMakeup_g01_c01.avi")
    extra = touch(root / "YoYo" / "v_YoYo_g99_c01.avi")
    notes = touch(root / "YoYo" / "notes.txt")

    result = find_videos(root, splits)

    assert result["found"].values.tolist() == [
        ["ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01", str(apply)],
        ["HandstandPushups/v_HandStandPushups_g01_c01", str(handstand)],
    ]
    assert result["unlisted"].values.tolist() == [[str(extra), "in no split list"], [str(notes), "not a video (.txt): ignored"]]
    missing = set(result["missing"]["video"])
    assert len(missing) == len(VIDEOS) - 2
    assert "YoYo/v_YoYo_g01_c01" in missing


def test_find_videos_refuses_names_that_differ_only_in_case(lists: Path, tmp_path: Path) -> None:
    root = tmp_path / "UCF-101"
    touch(root / "YoYo" / "v_YoYo_g01_c01.avi")
    touch(root / "YOYO" / "v_YoYo_g01_c01.avi")
    with pytest.raises(ValueError, match="differ only in case"):
        find_videos(root, load_split_lists(lists, expected_counts=None))


def test_find_videos_without_folder(lists: Path, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="UCF101.rar"):
        find_videos(tmp_path / "absent", load_split_lists(lists, expected_counts=None))


# --- split index and summary -------------------------------------------------------------------


def frames_for(videos: Iterable[str]) -> pd.DataFrame:
    videos = list(videos)
    return pd.DataFrame(
        {
            "video": videos,
            "frame_store": [f"frames/{video}.npy" for video in videos],
            "n_frames": pd.Series([100] * len(videos), dtype="float64"),  # as read from CSV
            "error": pd.Series([None] * len(videos), dtype="object"),
        }
    )


def test_build_split_index_excludes_failed_videos_with_reasons(lists: Path) -> None:
    splits = load_split_lists(lists, expected_counts=None)
    videos = sorted(set(splits["video"]))
    frames = frames_for(video for video in videos if video != "YoYo/v_YoYo_g01_c01")
    failures = {
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c02": ("error", "cannot decode"),
        "HandstandPushups/v_HandStandPushups_g04_c01": ("n_frames", 0),
        "HandstandPushups/v_HandStandPushups_g05_c01": ("frame_store", None),
        "YoYo/v_YoYo_g06_c02": ("n_frames", math.nan),
        "YoYo/v_YoYo_g07_c01": ("error", math.nan),  # NaN means no error, like None
    }
    for video, (column, value) in failures.items():
        frames.loc[frames["video"] == video, column] = value

    index = build_split_index(splits, frames, split=1)

    excluded = index["excluded"]
    assert list(excluded.columns) == EXCLUDED_COLUMNS
    assert dict(zip(excluded["video"], excluded["reason"])) == {
        "YoYo/v_YoYo_g01_c01": "no frame-extraction result",
        "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c02": "extraction failed: cannot decode",
        "HandstandPushups/v_HandStandPushups_g04_c01": "no frames extracted",
        "HandstandPushups/v_HandStandPushups_g05_c01": "no frame store",
        "YoYo/v_YoYo_g06_c02": "no frames extracted",
    }
    assert set(excluded["split"]) == {1}
    assert excluded.loc[excluded["video"] == "YoYo/v_YoYo_g01_c01", "subset"].item() == "test"
    for subset in SUBSETS:
        table = index[subset]
        assert list(table.columns) == INDEX_COLUMNS
        assert (table["subset"] == subset).all()
        assert table["n_frames"].dtype == "int64"
    split_1 = splits[splits["split"] == 1]
    kept = pd.concat([index["train"], index["test"]])
    assert len(kept) + len(excluded) == len(split_1)
    assert len(index["test"]) == (split_1["subset"] == "test").sum() - 2
    row = kept.set_index("video").loc["HandstandPushups/v_HandStandPushups_g07_c02"]
    assert (row["label"], row["class_name"], row["frame_store"]) == (
        1,
        "HandstandPushups",
        "frames/HandstandPushups/v_HandStandPushups_g07_c02.npy",
    )


def test_build_split_index_rejects_ambiguous_input(lists: Path) -> None:
    splits = load_split_lists(lists, expected_counts=None)
    frames = frames_for(splits["video"].unique())
    with pytest.raises(ValueError, match="more than once"):
        build_split_index(splits, pd.concat([frames, frames.iloc[:1]]), split=1)
    with pytest.raises(ValueError, match="split 4 has no videos"):
        build_split_index(splits, frames, split=4)
    with pytest.raises(ValueError, match="lack columns error"):
        build_split_index(splits, frames.drop(columns="error"), split=1)


def test_split_summary_counts_every_class_split_and_subset(lists: Path) -> None:
    splits = load_split_lists(lists, expected_counts=None)
    summary = split_summary(splits[~((splits["label"] == 2) & (splits["subset"] == "test"))])
    assert list(summary.columns) == ["label", "class_name", "split", "subset", "n_listed", "n_videos", "n_groups"]
    assert (summary["n_listed"] == summary["n_videos"]).all()  # every listed video usable
    assert len(summary) == 3 * 3 * 2
    first = summary.iloc[0]
    assert (first["split"], first["subset"], first["class_name"]) == (1, "train", "ApplyEyeMakeup")
    assert (first["n_videos"], first["n_groups"]) == (10, 5)
    yoyo_test = summary[(summary["label"] == 2) & (summary["subset"] == "test")]
    assert (yoyo_test["n_videos"] == 0).all() and (yoyo_test["n_groups"] == 0).all()


def test_split_summary_counts_usable_videos_beside_the_listed_ones(lists: Path) -> None:
    splits = load_split_lists(lists, expected_counts=None)
    test = splits[(splits["split"] == 1) & (splits["subset"] == "test") & (splits["label"] == 0)]
    usable = splits.drop(test.index[:1])  # one corrupt video, left out of the split tables
    summary = split_summary(splits, usable).set_index(["split", "subset", "label"])
    assert summary.loc[(1, "test", 0), ["n_listed", "n_videos"]].tolist() == [len(test), len(test) - 1]
    others = summary.drop((1, "test", 0))
    assert (others["n_listed"] == others["n_videos"]).all()
