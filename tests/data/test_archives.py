"""extract_archive: ZIP, tar and RAR round trips, refusal of escaping entries, all-or-nothing output."""

from __future__ import annotations

import io
import shutil
import tarfile
import zipfile
from collections import namedtuple
from pathlib import Path

import pytest
from rar_fixtures import RarEntry, rar4_stored, rar5_stored

from mict_pipeline.data import download
from mict_pipeline.data.archives import (
    SUPPORTED_SUFFIXES,
    ArchiveError,
    UnsafeArchiveError,
    extract_archive,
)
from mict_pipeline.data.download import InsufficientSpaceError

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


TarSpec = namedtuple("TarSpec", "name type data linkname", defaults=(tarfile.REGTYPE, b"", ""))


def make_tar(path: Path, members: list[TarSpec], mode: str = "w") -> Path:
    with tarfile.open(path, mode) as tar:  # type: ignore[call-overload]  # mode is a plain str here
        for spec in members:
            info = tarfile.TarInfo(spec.name)
            info.type = spec.type
            info.linkname = spec.linkname
            info.size = len(spec.data) if spec.type == tarfile.REGTYPE else 0
            info.mode = 0o755 if spec.type == tarfile.DIRTYPE else 0o644
            tar.addfile(info, io.BytesIO(spec.data) if spec.type == tarfile.REGTYPE else None)
    return path


# --- round trips -------------------------------------------------------------------------


def test_zip_round_trip_returns_final_paths(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "data.zip",
        {"videos/": None, "empty_dir/": None, **TREE},
        symlinks={"videos/latest.avi": "Archery/v_Archery_g01_c01.avi"},
    )
    dest = tmp_path / "out"

    extracted = extract_archive(archive, dest, progress=False)

    assert extracted == [dest / name for name in TREE] + [dest / "videos/latest.avi"]
    assert files_under(dest) == {**TREE, "videos/latest.avi": TREE["videos/Archery/v_Archery_g01_c01.avi"]}
    assert (dest / "videos/latest.avi").is_symlink()
    assert (dest / "empty_dir").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.zip", "out"]


@pytest.mark.parametrize(
    ("suffix", "mode"),
    [(".tar", "w"), (".tar.gz", "w:gz"), (".tgz", "w:gz"), (".tar.bz2", "w:bz2"), (".tar.xz", "w:xz")],
)
def test_tar_round_trip(tmp_path: Path, suffix: str, mode: str) -> None:
    members = [TarSpec("./", tarfile.DIRTYPE), TarSpec("videos", tarfile.DIRTYPE)]
    members += [TarSpec(name, data=data) for name, data in TREE.items()]
    archery = "videos/Archery/v_Archery_g01_c01.avi"
    members.append(TarSpec("videos/latest.avi", tarfile.SYMTYPE, linkname="Archery/v_Archery_g01_c01.avi"))
    members.append(TarSpec("videos/copy.avi", tarfile.LNKTYPE, linkname=archery))
    archive = make_tar(tmp_path / f"data{suffix}", members, mode)
    dest = tmp_path / "out"

    extracted = extract_archive(archive, dest, progress=False)

    links = ["videos/latest.avi", "videos/copy.avi"]
    assert extracted == [dest / name for name in [*TREE, *links]]
    assert files_under(dest) == {**TREE, **{link: TREE[archery] for link in links}}
    assert (dest / "videos/latest.avi").is_symlink()


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


@pytest.mark.parametrize("name", ESCAPING_NAMES)
def test_tar_escaping_name_is_refused_before_writing(tmp_path: Path, name: str) -> None:
    archive = make_tar(tmp_path / "evil.tar", [TarSpec("fine.txt", data=b"fine"), TarSpec(name, data=b"evil")])

    with pytest.raises(UnsafeArchiveError, match=r"evil\.tar") as caught:
        extract_archive(archive, tmp_path / "out", progress=False)

    assert repr(name) in str(caught.value)
    assert_nothing_written(tmp_path, archive)


@pytest.mark.parametrize(
    ("members", "bad_entry"),
    [
        ([TarSpec("up", tarfile.SYMTYPE, linkname="..")], "up"),
        ([TarSpec("etc", tarfile.SYMTYPE, linkname="/etc")], "etc"),
        ([TarSpec("a/deep", tarfile.SYMTYPE, linkname="../../outside")], "a/deep"),
        # Harmless link, but a file written through it could land anywhere it points.
        ([TarSpec("here", tarfile.SYMTYPE, linkname="."), TarSpec("here/x.txt", data=b"x")], "here/x.txt"),
        # Each link stays inside on its own; following one through the other climbs out.
        (
            [
                TarSpec("sub", tarfile.DIRTYPE),
                TarSpec("sub/up", tarfile.SYMTYPE, linkname=".."),
                TarSpec("esc", tarfile.SYMTYPE, linkname="sub/up/.."),
            ],
            "esc",
        ),
        ([TarSpec("hard", tarfile.LNKTYPE, linkname="../outside.txt")], "hard"),
        ([TarSpec("fifo", tarfile.FIFOTYPE)], "fifo"),
    ],
)
def test_tar_links_and_special_files_that_could_escape_are_refused(
    tmp_path: Path, members: list[TarSpec], bad_entry: str
) -> None:
    archive = make_tar(tmp_path / "evil.tar", [TarSpec("fine.txt", data=b"fine"), *members])

    with pytest.raises(UnsafeArchiveError, match=r"evil\.tar") as caught:
        extract_archive(archive, tmp_path / "out", progress=False)

    assert repr(bad_entry) in str(caught.value)
    assert_nothing_written(tmp_path, archive)


def test_zip_symlink_pointing_out_is_refused(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "evil.zip", {"fine.txt": b"fine"}, symlinks={"passwd": "../../etc/passwd"})

    with pytest.raises(UnsafeArchiveError, match=r"'passwd'.*points outside"):
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


@pytest.mark.parametrize("name", ["junk.rar", "junk.zip", "junk.tar.gz"])
def test_unreadable_archive_raises_archive_error(tmp_path: Path, name: str) -> None:
    archive = tmp_path / name
    archive.write_bytes(b"this is not an archive at all" * 20)

    with pytest.raises(ArchiveError, match=name):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


def test_not_enough_disk_space_is_reported_before_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_zip(tmp_path / "data.zip", {"big.bin": bytes(10_000)})
    monkeypatch.setattr(download.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9, 100))

    with pytest.raises(InsufficientSpaceError, match=r"extract data\.zip .*needs 9\.8 KiB, only 100 B free"):
        extract_archive(archive, tmp_path / "out", progress=False)

    assert_nothing_written(tmp_path, archive)


def test_unsupported_type_names_the_file_and_the_supported_types(tmp_path: Path) -> None:
    archive = tmp_path / "data.7z"
    archive.write_bytes(b"7z")

    with pytest.raises(ValueError, match=r"data\.7z") as caught:
        extract_archive(archive, tmp_path / "out")

    assert all(suffix in str(caught.value) for suffix in SUPPORTED_SUFFIXES)


def test_missing_archive(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothing\.zip"):
        extract_archive(tmp_path / "nothing.zip", tmp_path / "out")
