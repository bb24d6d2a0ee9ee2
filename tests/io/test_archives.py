"""extract_archive: ZIP and RAR round trips, formats told by content, refusal of escaping entries and links,
all-or-nothing output."""

from __future__ import annotations

import gzip
import io
import logging
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from rar_fixtures import RarEntry, rar4_stored, rar5_stored

from mict_pipeline.io import disk
from mict_pipeline.io.archives import (
    ArchiveError,
    UnsafeArchiveError,
    extract_archive,
)
from mict_pipeline.io.disk import InsufficientSpaceError

FIXTURES = Path(__file__).parent / "fixtures" / "rar"
# The two files in rarfile's solid/crc test archives: 512 numbered lines.
STEST = b"".join(b"%03d\n" % i for i in range(512))
TREE: dict[str, bytes] = {
    "videos/ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi": bytes(range(256)) * 40,
    "videos/Archery/v_Archery_g01_c01.avi": b"archery" * 1000,
    "videos/empty.txt": b"",
    "splits/classInd.txt": b"1 ApplyEyeMakeup\n2 Archery\n",
    "naïve name.txt": b"unicode",
}
RAR_BUILDERS = {"rar4": rar4_stored, "rar5": rar5_stored}


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def assert_nothing_written(tmp_path: Path, archive: Path) -> None:
    """Only the archive is left: no destination, no temporary folder beside it."""
    assert sorted(tmp_path.iterdir()) == [archive]


def make_zip(path: Path, entries: dict[str, bytes | None], *, symlinks: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            if data is None:
                zf.writestr(zipfile.ZipInfo(name.rstrip("/") + "/"), b"")
            else:
                zf.writestr(name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o120777 << 16
            zf.writestr(info, target)
    return path


# --- round trips -------------------------------------------------------------------------


def test_zip_round_trip_returns_final_paths(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "data.zip", {"videos/": None, "empty_dir/": None, **TREE})
    dest = tmp_path / "out"

    extracted = extract_archive(archive, dest, progress=False)

    assert extracted == [dest / name for name in TREE]
    assert files_under(dest) == TREE
    assert (dest / "empty_dir").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.zip", "out"]


def test_existing_destination_is_replaced_as_a_whole(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "data.zip", {"new.txt": b"new"})
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "stale.txt").write_bytes(b"old")

    extract_archive(archive, dest, progress=False)

    assert files_under(dest) == {"new.txt": b"new"}


@pytest.mark.parametrize("flavour", sorted(RAR_BUILDERS))
def test_generated_rar_round_trip(tmp_path: Path, flavour: str) -> None:
    entries: list[RarEntry] = [("videos", None), ("videos/Archery", None), *TREE.items()]
    archive = tmp_path / "data.rar"
    archive.write_bytes(RAR_BUILDERS[flavour](entries))
    dest = tmp_path / "out"

    extracted = extract_archive(archive, dest, progress=False)

    assert extracted == [dest / name for name in TREE]
    assert files_under(dest) == TREE


@pytest.mark.parametrize("fixture", ["rar3-solid.rar", "rar5-solid.rar", "rar5-crc.rar"])
def test_real_compressed_and_solid_rar(tmp_path: Path, fixture: str) -> None:
    dest = tmp_path / "out"

    extracted = extract_archive(FIXTURES / fixture, dest, progress=False)

    assert extracted == [dest / "stest1.txt", dest / "stest2.txt"]
    assert files_under(dest) == {"stest1.txt": STEST, "stest2.txt": STEST}


@pytest.mark.parametrize("fixture", ["rar3-subdirs.rar", "rar5-subdirs.rar"])
def test_real_rar_with_folders_and_unicode_names(tmp_path: Path, fixture: str) -> None:
    dest = tmp_path / "out"

    extract_archive(FIXTURES / fixture, dest, progress=False)

    assert files_under(dest) == {
        "sub/dir1/file1.txt": b"file1\n",
        "sub/dir2/file2.txt": b"file2\n",
        "sub/with space/long fn.txt": b"long fn\n",
        "sub/üȵĩöḋè/file.txt": b"file\n",
    }
    assert (dest / "sub/empty").is_dir()


# --- refusal of entries that escape the destination ---------------------------------------

ESCAPING_NAMES = ["../evil.txt", "/tmp/evil.txt", "ok/../../evil.txt"]


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_zip_escaping_name_is_refused_before_writing(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"fine.txt": b"fine", name: b"evil"})

    with pytest.raises(UnsafeArchiveError, match=r"evil\.zip") as caught:
        extract_archive(archive, tmp_path / "out", progress=False)

    assert repr(name) in str(caught.value)
    assert_nothing_written(tmp_path, archive)


@pytest.mark.parametrize("target", ["../../etc/passwd", "Archery/v_Archery_g01_c01.avi"])
def test_zip_links_are_refused_wherever_they_point(tmp_path: Path, target: str) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"fine.txt": b"fine"}, symlinks={"passwd": target})

    with pytest.raises(UnsafeArchiveError, match=r"evil\.zip: entry 'passwd' is a link; archives with links are refused"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


@pytest.mark.parametrize("flavour", sorted(RAR_BUILDERS))
@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_rar_escaping_name_is_refused_before_writing(tmp_path: Path, flavour: str, name: str) -> None:
    archive = tmp_path / "evil.rar"
    archive.write_bytes(RAR_BUILDERS[flavour]([("fine.txt", b"fine"), (name, b"evil")]))

    with pytest.raises(UnsafeArchiveError, match=r"evil\.rar") as caught:
        extract_archive(archive, tmp_path / "out", progress=False)

    assert repr(name) in str(caught.value)
    assert_nothing_written(tmp_path, archive)


@pytest.mark.parametrize(
    ("fixture", "link"), [("rar5-evil-symlink-traversal.rar", "up"), ("rar3-symlink-unix.rar", "data_link")]
)
def test_rar_links_are_refused(tmp_path: Path, fixture: str, link: str) -> None:
    archive = tmp_path / fixture
    shutil.copy(FIXTURES / fixture, archive)

    with pytest.raises(UnsafeArchiveError, match=f"{fixture}: entry '{link}' is a link"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


# --- failures leave nothing behind --------------------------------------------------------


@pytest.mark.parametrize("flavour", sorted(RAR_BUILDERS))
def test_corrupt_rar_entry_fails_and_leaves_no_half_tree(tmp_path: Path, flavour: str) -> None:
    data = RAR_BUILDERS[flavour]([("first.txt", b"first entry is fine"), ("second.txt", b"SECOND-ENTRY-DATA")])
    archive = tmp_path / "broken.rar"
    archive.write_bytes(data.replace(b"SECOND-ENTRY-DATA", b"SECOND-ENTRY-DATX"))  # CRC no longer matches

    with pytest.raises(ArchiveError, match=r"second\.txt"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


@pytest.mark.parametrize("flavour", sorted(RAR_BUILDERS))
def test_damaged_rar_header_is_an_error_not_an_empty_archive(tmp_path: Path, flavour: str) -> None:
    data = bytearray(RAR_BUILDERS[flavour]([("first.txt", b"first")]))
    data[9] ^= 0xFF  # the CRC of the main header, right after the signature
    archive = tmp_path / "broken.rar"
    archive.write_bytes(bytes(data))

    with pytest.raises(ArchiveError, match=r"broken\.rar is a damaged RAR archive \(UnRAR error 12 reading its entries\)"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


@pytest.mark.parametrize(("name", "magic"), [("junk.rar", b"Rar!\x1a\x07\x01\xff"), ("junk.zip", b"PK\x03\x04")])
def test_unreadable_archive_raises_archive_error(tmp_path: Path, name: str, magic: bytes) -> None:
    archive = tmp_path / name
    archive.write_bytes(magic + b"this is not an archive at all" * 20)

    with pytest.raises(ArchiveError, match=name):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


def test_not_enough_disk_space_is_reported_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_zip(tmp_path / "data.zip", {"big.bin": bytes(10_000)})
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9, 100))

    with pytest.raises(InsufficientSpaceError, match=r"extract data\.zip .*needs 9\.8 KiB, only 100 B free"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


# --- formats told by content, not by name ---------------------------------------------------


@pytest.mark.parametrize(("name", "make"), [("UCF101.rar", "zip"), ("videos.zip", "rar"), ("videos", "zip")])
def test_archive_is_extracted_as_what_it_holds_whatever_its_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, make: str
) -> None:
    archive = tmp_path / name
    if make == "zip":
        make_zip(archive, TREE)
    else:
        archive.write_bytes(rar5_stored(list(TREE.items())))

    with caplog.at_level(logging.WARNING, logger="mict_pipeline.io.archives"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert files_under(tmp_path / "out") == TREE
    misleading = [record.getMessage() for record in caplog.records]
    assert misleading == ([f"{archive} is a {make.upper()} archive despite its name; extracting it as one"] if "." in name else [])


def _tar(compress: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("a.avi")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    return gzip.compress(buffer.getvalue(), mtime=0) if compress else buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "described"),
    [
        (b"", "empty (0 bytes)"),
        (b"\n<!DOCTYPE html><html><body>Sign in</body></html>", "an HTML page"),
        (b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(100), "a 7-Zip archive"),
        (_tar(compress=False), "a tar archive"),
        (_tar(compress=True), "gzip-compressed data"),
        (b"video,label\nclip.mp4,run\n", "text starting 'video,label\\nclip.mp4,run\\n'"),
        (bytes(range(255, 0, -1)), "unknown bytes 0xfffefdfcfbfaf9f8"),
    ],
    ids=["empty", "html", "7z", "tar", "gzip", "text", "binary"],
)
def test_file_that_is_no_archive_is_one_line_naming_it_and_what_it_holds(
    tmp_path: Path, content: bytes, described: str
) -> None:
    archive = tmp_path / "UCF101.rar"
    archive.write_bytes(content)

    with pytest.raises(ArchiveError) as caught:
        extract_archive(archive, tmp_path / "out", progress=False)

    message = str(caught.value)
    assert message.startswith(f"{archive} is {described}")
    assert "not a ZIP or RAR archive. Fix: set `urls:` of the archive in conf/<env>/parameters_download.yml" in message
    assert "\n" not in message and "Error code" not in message
    assert_nothing_written(tmp_path, archive)


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match=r"nothing\.zip\. Fix: download it again: kedro run --env <env> --pipelines=download"):
        extract_archive(tmp_path / "nothing.zip", tmp_path / "out")
