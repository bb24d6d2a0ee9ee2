"""Kinetics-style annotations: generated CSVs and empty clip files (no decoding)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mict_pipeline.datasets.kinetics import (
    clip_file_name,
    read_kinetics_annotations,
)
from mict_pipeline.datasets.ucf101 import EXCLUDED_COLUMNS, LIST_COLUMNS, SplitListError

HEADER = "label,youtube_id,time_start,time_end,split"
ROWS = [
    "swimming,aaa,0,10,train",
    "running,bbb,5,15,train",
    "running,bbb,20,30,train",
    "swimming,ccc,1,11,val",
    "running,ddd,2,12,val",
    "swimming,eee,3,13,test",
]


def _write(tmp_path: Path, rows: list[str], missing: set[str] = frozenset(), header: str = HEADER):
    csv_path = tmp_path / "k.csv"
    csv_path.write_text("\n".join([header, *rows]) + "\n")
    clips = tmp_path / "clips"
    (clips / "sub").mkdir(parents=True, exist_ok=True)
    for row in rows:
        try:
            label, vid, start, end, _ = row.split(",")
            name = clip_file_name(vid, int(start), int(end))
        except ValueError:
            continue  # a malformed row has no clip
        if vid not in missing:
            # One clip in a sub-folder: downloaders often write one folder per label.
            folder = clips / "sub" if vid == "ccc" else clips
            (folder / name).touch()
    return csv_path, clips


def test_reads_lists_in_the_ucf101_table_shape(tmp_path):
    lists, missing = read_kinetics_annotations(*_write(tmp_path, ROWS))
    assert list(lists.columns) == LIST_COLUMNS
    assert missing.empty and list(missing.columns) == EXCLUDED_COLUMNS
    assert set(lists["split"]) == {1}
    by_video = lists.set_index("video")
    assert by_video.loc["aaa_000000_000010", ["class_name", "label", "subset"]].tolist() == [
        "swimming", 1, "train"
    ]
    assert by_video.loc["ddd_000002_000012", "subset"] == "test"  # val -> test of split 1
    assert by_video.loc["eee_000003_000013", "subset"] == "heldout"
    assert Path(by_video.loc["ccc_000001_000011", "path"]).parent.name == "sub"
    # segments of one YouTube video share a group
    assert by_video.loc["bbb_000005_000015", "group"] == by_video.loc["bbb_000020_000030", "group"]
    assert lists["subset"].tolist()[:3] == ["train"] * 3


def test_missing_clips_are_reported_with_their_reason(tmp_path):
    # Not an error here: prepare's data-quality check holds them to max_missing_fraction, once listed.
    lists, missing = read_kinetics_annotations(*_write(tmp_path, ROWS, {"ddd"}))
    assert missing["video"].tolist() == ["ddd_000002_000012"]
    assert missing["reason"].str.contains("not found").all()
    assert len(lists) == len(ROWS) - 1


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("running,xxx,0,10", "expected 5 columns"),
        ("running,xxx,0.5,10,train", "whole seconds"),
        ("running,xxx,10,10,train", "must be after"),
        ("running,xxx,0,10,dev", "split 'dev'"),
        (",xxx,0,10,train", "label is empty"),
        ("climbing,xxx,0,10,val", "not the label of any train row"),
        ("running,bbb,5,15,val", "already listed at .*k.csv:3"),
    ],
)
def test_malformed_rows_name_file_and_line(tmp_path, bad_row, message):
    rows = [*ROWS[:3], bad_row, *ROWS[3:]]  # the bad row is line 5 (header is line 1)
    with pytest.raises(SplitListError, match=rf"k\.csv:5: .*{message}"):
        read_kinetics_annotations(*_write(tmp_path, rows))


def test_wrong_header_is_an_error_on_line_1(tmp_path):
    with pytest.raises(SplitListError, match=r"k\.csv:1: expected the header"):
        read_kinetics_annotations(*_write(tmp_path, ROWS, header="label,id,start,end,split"))
