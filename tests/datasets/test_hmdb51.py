"""HMDB-51 format: split files (generated, CRLF and LF, id 0, errors) and nested archives.

Fixtures are generated, deterministic and tiny: three classes of five videos whose ids rotate
per split (2 train, 1 test, 2 unused). Nested archives are built both as ZIP-of-ZIPs (zipfile)
and as RAR-of-RARs with the byte-level writer in ``tests/io/rar_fixtures.py`` (stored method;
no RAR-writing tool or package is available here).
"""

from __future__ import annotations

import importlib.util
import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mict_pipeline.datasets.hmdb51 import (
    HMDB51_COUNTS,
    NO_GROUP,
    HMDB51Counts,
    check_class_folders,
    extract_nested_archives,
    read_hmdb51_split_files,
    split_file_name,
)
from mict_pipeline.datasets.ucf101 import SPLIT_COLUMNS, SPLITS, SplitListError, find_videos
from mict_pipeline.io.archives import ArchiveError, UnsafeArchiveError

_spec = importlib.util.spec_from_file_location("rar_fixtures", Path(__file__).parents[1] / "io" / "rar_fixtures.py")
rar_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rar_fixtures)

REAL_SPLITS = Path(__file__).resolve().parents[2] / ".." / "shared" / "hmdb51" / "testTrainMulti_7030_splits"
CLASSES = ("fall_floor", "brush_hair", "cartwheel")  # not sorted: labels must follow sorted order
VIDEOS = 5
ROTATION = (1, 1, 2, 0, 0)  # split k gives video i the id ROTATION[(i + k) % 5]
SMALL_COUNTS = HMDB51Counts(classes=3, per_class={"train": 2, "test": 1})


def video_name(class_name: str, i: int) -> str:
    return f"{class_name}_clip#{i}_f_nm_np1_fr_med_{i}.avi"


def split_lines(class_name: str, split: int) -> list[str]:
    return [f"{video_name(class_name, i)} {ROTATION[(i + split) % VIDEOS]} " for i in range(VIDEOS)]


def write_split_files(folder: Path, *, newline: str | None = None) -> Path:
    """The fixture's 9 split files; ``newline=None`` writes the first class CRLF, the others LF,
    each with a trailing blank line."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, class_name in enumerate(CLASSES):
        for split in SPLITS:
            end = newline or ("\r\n" if n == 0 else "\n")
            text = end.join(split_lines(class_name, split)) + end + end
            (folder / split_file_name(class_name, split)).write_bytes(text.encode())
    return folder


def rewrite_line(path: Path, number: int, line: str) -> None:
    lines = path.read_text().splitlines()
    lines[number - 1] = line
    path.write_text("\n".join(lines) + "\n")


# --- split files ---------------------------------------------------------------------------


def test_split_files_become_the_ucf101_table(tmp_path: Path) -> None:
    folder = write_split_files(tmp_path / "splits")
    assert b"\r\n" in (folder / split_file_name(CLASSES[0], 1)).read_bytes()
    table = read_hmdb51_split_files(folder, expected_counts=SMALL_COUNTS)
    assert list(table.columns) == SPLIT_COLUMNS
    assert len(table) == len(SPLITS) * len(CLASSES) * 3
    assert dict(zip(table["class_name"], table["label"])) == {"brush_hair": 0, "cartwheel": 1, "fall_floor": 2}
    assert (table["group"] == NO_GROUP).all()
    first = table.iloc[0]
    assert (first["split"], first["subset"], first["video"]) == (1, "train", "brush_hair/brush_hair_clip#0_f_nm_np1_fr_med_0")
    assert table.attrs["unused"] == {split: 2 * len(CLASSES) for split in SPLITS}
    split1 = table[table["split"] == 1]
    expected_train = {f"{c}/{video_name(c, i)[:-4]}" for c in CLASSES for i in range(VIDEOS) if ROTATION[(i + 1) % VIDEOS] == 1}
    assert set(split1.loc[split1["subset"] == "train", "video"]) == expected_train


def test_crlf_and_lf_files_give_the_same_table(tmp_path: Path) -> None:
    crlf = read_hmdb51_split_files(write_split_files(tmp_path / "crlf", newline="\r\n"), expected_counts=None)
    lf = read_hmdb51_split_files(write_split_files(tmp_path / "lf", newline="\n"), expected_counts=None)
    pd.testing.assert_frame_equal(crlf, lf)


def test_official_counts_are_70_30_per_class() -> None:
    assert HMDB51_COUNTS.per_split() == {"train": 3_570, "test": 1_530}


def test_counts_per_class_are_checked(tmp_path: Path) -> None:
    folder = write_split_files(tmp_path / "splits")
    with pytest.raises(SplitListError, match=r"split 1 brush_hair train 2 \(expected 70\)"):
        read_hmdb51_split_files(folder)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("just_one_field.avi", "expected '<video>.avi <id>'"),
        ("video.mp4 1", "expected '<video>.avi <id>'"),
        ("a/b.avi 1", "expected '<video>.avi <id>'"),
        ("video.avi 3", "id '3' is not 0"),
        ("video.avi x", "id 'x' is not 0"),
    ],
)
def test_bad_line_names_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    folder = write_split_files(tmp_path / "splits")
    path = folder / split_file_name("cartwheel", 2)
    rewrite_line(path, 3, line)
    with pytest.raises(SplitListError, match=rf"{path.name}:3: {message}"):
        read_hmdb51_split_files(folder, expected_counts=None)


def test_duplicate_video_in_a_file_is_refused(tmp_path: Path) -> None:
    folder = write_split_files(tmp_path / "splits")
    path = folder / split_file_name("cartwheel", 1)
    rewrite_line(path, 2, split_lines("cartwheel", 1)[0])
    with pytest.raises(SplitListError, match=r":2: .* already listed at line 1"):
        read_hmdb51_split_files(folder, expected_counts=None)


def test_missing_split_names_class_and_file(tmp_path: Path) -> None:
    folder = write_split_files(tmp_path / "splits")
    (folder / split_file_name("brush_hair", 3)).unlink()
    with pytest.raises(SplitListError, match="class brush_hair lacks brush_hair_test_split3.txt"):
        read_hmdb51_split_files(folder, expected_counts=None)


@pytest.mark.parametrize("name", ["brush_hair_test_split4.txt", "readme.txt"])
def test_unexpected_file_name_is_refused(tmp_path: Path, name: str) -> None:
    folder = write_split_files(tmp_path / "splits")
    (folder / name).write_text("x.avi 1\n")
    with pytest.raises(SplitListError, match=rf"{name}: expected a file name"):
        read_hmdb51_split_files(folder, expected_counts=None)


def test_videos_must_match_across_a_class_s_splits(tmp_path: Path) -> None:
    folder = write_split_files(tmp_path / "splits")
    rewrite_line(folder / split_file_name("fall_floor", 2), 5, "other.avi 0")
    with pytest.raises(SplitListError, match=r"list different videos \(2 differ; e.g. other.avi"):
        read_hmdb51_split_files(folder, expected_counts=None)


def test_empty_or_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SplitListError, match="split folder not found"):
        read_hmdb51_split_files(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SplitListError, match="no <class>_test_split<k>.txt files"):
        read_hmdb51_split_files(tmp_path / "empty")


def test_class_folders_must_match_the_lists(tmp_path: Path) -> None:
    table = read_hmdb51_split_files(write_split_files(tmp_path / "splits"), expected_counts=None)
    videos = tmp_path / "videos"
    for class_name in (*CLASSES[:2], "wave"):
        (videos / class_name).mkdir(parents=True)
    with pytest.raises(SplitListError, match="folders in no split file: wave; classes without a folder: cartwheel"):
        check_class_folders(videos, table)
    (videos / "wave").rmdir()
    (videos / "cartwheel").mkdir()
    check_class_folders(videos, table)


@pytest.mark.skipif(not REAL_SPLITS.is_dir(), reason=f"real HMDB-51 split files not at {REAL_SPLITS}")
def test_real_split_files_have_the_official_counts() -> None:
    table = read_hmdb51_split_files(REAL_SPLITS)
    assert table.groupby(["split", "subset"]).size().to_dict() == {
        (k, s): n for k in SPLITS for s, n in HMDB51_COUNTS.per_split().items()
    }


# --- nested archives -----------------------------------------------------------------------


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6)), data)
    return buffer.getvalue()


def class_entries(class_name: str, *, folder: bool) -> dict[str, bytes]:
    prefix = f"{class_name}/" if folder else ""
    return {f"{prefix}{video_name(class_name, i)}": f"{class_name}{i}".encode() for i in range(VIDEOS)}


def nested_zip(path: Path, inner: dict[str, dict[str, bytes]]) -> Path:
    path.write_bytes(zip_bytes({name: zip_bytes(entries) for name, entries in inner.items()}))
    return path


def test_zip_of_zips_gives_one_folder_per_class(tmp_path: Path) -> None:
    # The first class holds its own folder (as in hmdb51_org.rar), the others hold bare files.
    inner = {f"{c}.zip": class_entries(c, folder=n == 0) for n, c in enumerate(CLASSES)}
    archive = nested_zip(tmp_path / "hmdb51_org.zip", inner)
    dest = tmp_path / "videos"
    files = extract_nested_archives(archive, dest)
    expected = sorted(dest / c / video_name(c, i) for c in CLASSES for i in range(VIDEOS))
    assert files == expected
    assert sorted(p for p in dest.rglob("*") if p.is_file()) == expected
    assert (dest / "fall_floor" / video_name("fall_floor", 4)).read_bytes() == b"fall_floor4"
    assert not list(tmp_path.glob(".videos.*"))


def test_rar_of_rars_then_split_files_find_every_video(tmp_path: Path) -> None:
    inner = [
        (f"{c}.rar", rar_fixtures.rar4_stored([(c, None), *class_entries(c, folder=True).items()]))
        for c in CLASSES
    ]
    archive = tmp_path / "hmdb51_org.rar"
    archive.write_bytes(rar_fixtures.rar5_stored(inner))
    dest = tmp_path / "videos"
    extract_nested_archives(archive, dest)
    table = read_hmdb51_split_files(write_split_files(tmp_path / "splits"), expected_counts=SMALL_COUNTS)
    check_class_folders(dest, table)
    found = find_videos(dest, table)
    assert len(found["found"]) == table["video"].nunique() == len(CLASSES) * VIDEOS  # rotation uses all
    assert found["missing"].empty and found["unlisted"].empty


@pytest.mark.parametrize("name", ["../escape.avi", "/abs.avi", "brush_hair/../../escape.avi"])
def test_escaping_inner_entry_is_refused(tmp_path: Path, name: str) -> None:
    archive = nested_zip(tmp_path / "hmdb51_org.zip", {"brush_hair.zip": {name: b"x"}})
    with pytest.raises(UnsafeArchiveError, match=r"hmdb51_org.zip: inner archive brush_hair.zip: .*brush_hair.zip: entry"):
        extract_nested_archives(archive, tmp_path / "videos")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hmdb51_org.zip"]


def test_escaping_inner_rar_entry_is_refused(tmp_path: Path) -> None:
    inner = rar_fixtures.rar4_stored([("../escape.avi", b"x")])
    archive = tmp_path / "hmdb51_org.rar"
    archive.write_bytes(rar_fixtures.rar5_stored([("brush_hair.rar", inner)]))
    with pytest.raises(UnsafeArchiveError, match="inner archive brush_hair.rar"):
        extract_nested_archives(archive, tmp_path / "videos")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hmdb51_org.rar"]


def test_outer_entry_that_is_not_an_archive_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "hmdb51_org.zip"
    archive.write_bytes(zip_bytes({"brush_hair.zip": zip_bytes({"a.avi": b"a"}), "notes.txt": b"hi"}))
    with pytest.raises(ArchiveError, match="expected only inner archives .* found notes.txt"):
        extract_nested_archives(archive, tmp_path / "videos")
    assert not (tmp_path / "videos").exists()


def test_two_inner_archives_with_one_class_are_refused(tmp_path: Path) -> None:
    archive = tmp_path / "hmdb51_org.zip"
    archive.write_bytes(zip_bytes({"a/wave.zip": zip_bytes({"a.avi": b"a"}), "b/wave.zip": zip_bytes({"b.avi": b"b"})}))
    with pytest.raises(ArchiveError, match="two inner archives are named wave"):
        extract_nested_archives(archive, tmp_path / "videos")
