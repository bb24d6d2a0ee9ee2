"""The download node: a user's own archive from a file: URL, fetched again when changed in place
(so its manifest digest, which prepare extracts by, changes too), and refused when it is no archive."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from mict_pipeline.io.archives import ArchiveError
from mict_pipeline.parameters.download import DownloadParams
from mict_pipeline.pipelines.download.nodes import download_archives

DATASET = {"format": "folder", "name": "mine", "videos": {"archive": "videos", "path": "clips"}}


def zip_bytes(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name), data)  # fixed date: same files, same bytes
    return buffer.getvalue()


def run(source: Path, archives_dir: Path) -> dict:
    params = DownloadParams.model_validate({"archives": {"videos": {"filename": "mine.rar", "urls": [source.as_uri()]}}})
    return download_archives(params, DATASET, str(archives_dir))["videos"]


def test_file_source_changed_in_place_is_fetched_again(tmp_path: Path) -> None:
    source = tmp_path / "mine.zip"
    source.write_bytes(zip_bytes({"clips/run/a.avi": b"a"}))
    first = run(source, tmp_path / "archives")

    stat = source.stat()
    source.write_bytes(zip_bytes({"clips/run/b.avi": b"b"}))  # same size, fixed up by hand
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    second = run(source, tmp_path / "archives")

    assert first["bytes"] == second["bytes"] and first["sha256"] != second["sha256"]
    assert Path(second["path"]).read_bytes() == source.read_bytes()
    assert run(source, tmp_path / "archives") == second


def test_download_that_is_no_archive_is_one_line_naming_its_key(tmp_path: Path) -> None:
    source = tmp_path / "login.html"
    source.write_text("<!DOCTYPE html>\n<html><body>Please sign in</body></html>\n")

    with pytest.raises(ArchiveError) as caught:
        run(source, tmp_path / "archives")

    assert str(caught.value) == (
        f"{tmp_path / 'archives' / 'mine.rar'} is an HTML page (a web page was saved in the archive's place), not a ZIP "
        "or RAR archive. Fix: set `urls:` of download.archives.videos in conf/<env>/parameters_download.yml to a ZIP "
        "or RAR file (repack others as ZIP)"
    )


def test_a_dataset_read_from_local_folders_downloads_nothing_and_still_makes_the_archives_folder(tmp_path: Path) -> None:
    """The folder is the download stage's DVC output: `dvc repro` of a new environment for local
    videos fails if it is not made."""
    local = {"format": "folder", "name": "mine", "videos": {"path": str(tmp_path / "clips")}}
    assert download_archives(DownloadParams.model_validate({"archives": {}}), local, str(tmp_path / "archives")) == {}
    assert (tmp_path / "archives").is_dir()
