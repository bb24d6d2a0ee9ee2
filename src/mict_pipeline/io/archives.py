"""Extract RAR and ZIP archives into a folder: checked first, then all or nothing.

An archive's format is read from its first bytes, not its name: a ZIP saved as ``UCF101.rar``
extracts as the ZIP it is, and a file that is no supported archive (a web page saved in its
place, a 7-Zip or tar file, an empty file) is an :class:`ArchiveError` saying what it is.

Every entry is checked before anything is written. Names that are absolute or climb out with
``..`` and links (symbolic or hard: no dataset archive needs one, and a link can redirect later
writes outside the folder) are refused with an :class:`UnsafeArchiveError` naming the entry and
the archive. Extraction then fills a temporary folder beside the destination that replaces it
only once complete, so an interrupted run leaves no half-extracted tree.

RAR is decoded by the UnRAR library compiled into the ``unrar.cffi`` extension (the
``unrar2-cffi`` wheel): no external ``unrar`` program is needed.
"""

from __future__ import annotations

import logging
import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from tqdm import tqdm
from unrar.cffi.unrarlib import (
    FLAGS_RHDF_DIRECTORY,
    FLAGS_SUCCESS,
    BadRarFile,
    RarArchive,
    RarHeader,
    RARHeaderDataEx,
    RARReadHeaderEx,
)

from mict_pipeline.errors import UserError
from mict_pipeline.io.atomic import atomic_path
from mict_pipeline.io.disk import ensure_free_space

log = logging.getLogger(__name__)

ArchiveFormat = Literal["rar", "zip"]
EntryKind = Literal["file", "dir", "link"]
Layout = Mapping[str, tuple[str, ...]]  # entry name in the archive -> path parts under the destination

_COPY_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error)
_HEAD_BYTES = 512  # enough for every signature below, tar's at offset 257 included
# (offset, magic bytes, what a file starting so is, the reader that extracts it or None).
_SIGNATURES: tuple[tuple[int, bytes, str, ArchiveFormat | None], ...] = (
    (0, b"PK\x03\x04", "a ZIP archive", "zip"),
    (0, b"PK\x05\x06", "an empty ZIP archive", "zip"),
    (0, b"Rar!\x1a\x07", "a RAR archive", "rar"),  # RAR 1.5-4 (then \x00) and RAR 5 (then \x01\x00)
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", None),
    (0, b"\x1f\x8b", "gzip-compressed data (a .tar.gz or .gz file)", None),
    (0, b"BZh", "bzip2-compressed data", None),
    (0, b"\xfd7zXZ\x00", "xz-compressed data", None),
    (0, b"\x28\xb5\x2f\xfd", "zstd-compressed data", None),
    (257, b"ustar", "a tar archive", None),
    (0, b"%PDF-", "a PDF document", None),
)


class ArchiveError(UserError, RuntimeError):
    """An archive could not be read or extracted."""


class UnsafeArchiveError(ArchiveError):
    """An archive entry would be written outside the destination folder, or is not a plain entry."""


@dataclass(frozen=True)
class _Entry:
    name: str  # as stored in the archive
    kind: EntryKind
    size: int = 0


def archive_format(archive: str | os.PathLike) -> ArchiveFormat | None:
    """The reader ``archive`` needs, from its first bytes whatever its name; ``None`` when it is
    no RAR or ZIP archive (:func:`describe_content` says what it is)."""
    known = _signature(_head(Path(archive)))
    if known is not None:
        return known[1]
    # A ZIP may start with other bytes (a self-extractor's stub): its directory is at the end.
    return "zip" if zipfile.is_zipfile(archive) else None


def require_archive(archive: str | os.PathLike, key: str = "the archive") -> ArchiveFormat:
    """:func:`archive_format` of ``archive``; :class:`ArchiveError` when it is no RAR or ZIP
    archive, saying what it is and the fix in ``download.archives`` (``key``: which archive)."""
    reader = archive_format(archive)
    if reader is None:
        raise ArchiveError(
            f"{archive} is {describe_content(archive)}, not a ZIP or RAR archive. Fix: set `urls:` of {key} "
            "in conf/<env>/parameters_download.yml to a ZIP or RAR file (repack others as ZIP)"
        )
    return reader


def describe_content(path: str | os.PathLike) -> str:
    """What the file at ``path`` holds, for a message: "a ZIP archive", "an HTML page", "empty",
    "text starting '...'" or "unknown bytes 0x..."."""
    head = _head(Path(path))
    if not head:
        return "empty (0 bytes)"
    known = _signature(head)
    if known is not None:
        return known[0]
    markup = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if markup.startswith((b"<!doctype html", b"<html")):
        return "an HTML page (a web page was saved in the archive's place)"
    if markup.startswith(b"<?xml"):
        return "an XML document (often a server's error message)"
    try:
        text = head.decode()
    except UnicodeDecodeError as exc:
        # A character cut at the end of the bytes read is still text; a bad byte before it is not.
        text = head[: exc.start].decode() if exc.start > len(head) - 4 else ""
    if text and all(char.isprintable() or char in "\t\r\n" for char in text):
        return f"text starting {text[:40]!r}"
    return f"unknown bytes 0x{head[:8].hex()}"


def _head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(_HEAD_BYTES)


def _signature(head: bytes) -> tuple[str, ArchiveFormat | None] | None:
    """(what the file is, its reader) for the first of :data:`_SIGNATURES` that ``head`` matches."""
    for offset, magic, what, reader in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return what, reader
    return None


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike, *, progress: bool = True) -> list[Path]:
    """Extract ``archive`` so that ``dest`` holds exactly its content; return the extracted files.

    The returned paths are under ``dest``, in archive order, one for each regular file and
    link (not for folders). An existing ``dest`` folder is replaced as a whole, and only
    after extraction succeeded. The format is read from the content: a ZIP named ``.rar`` (or
    the reverse) is extracted as what it is, with a warning. Raises :class:`UnsafeArchiveError`
    (before writing anything) for entries that would land outside ``dest``, :class:`ArchiveError`
    for a missing file, a file that is no RAR or ZIP archive (saying what it is) and unreadable or
    corrupt archives, and :class:`~mict_pipeline.io.disk.InsufficientSpaceError` when the
    uncompressed content does not fit.
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise ArchiveError(f"Archive not found: {archive}. Fix: download it again: kedro run --env <env> --pipelines=download")
    reader = require_archive(archive)
    named = archive.suffix.lower().lstrip(".")
    if named in _READERS and named != reader:
        log.warning("%s is a %s archive despite its name; extracting it as one", archive, reader.upper())
    list_entries, extract = _READERS[reader]
    entries = list_entries(archive)
    layout = _plan(entries, archive)
    total = sum(entry.size for entry in entries if entry.kind == "file")
    ensure_free_space(dest.parent, total, purpose=f"extract {archive.name} into {dest}")
    with (
        atomic_path(dest, directory=True) as tmp,
        tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=archive.name, disable=not progress) as bar,
    ):
        extract(archive, tmp, layout, bar)
    outputs = (dest.joinpath(*layout[entry.name]) for entry in entries if entry.kind != "dir")
    return list(dict.fromkeys(outputs))


def _plan(entries: Sequence[_Entry], archive: Path) -> dict[str, tuple[str, ...]]:
    """Map each entry to its path under the destination, refusing anything that could escape it."""
    for entry in entries:
        if entry.kind == "link":
            raise UnsafeArchiveError(f"{archive}: entry {entry.name!r} is a link; archives with links are refused")
    return {entry.name: _safe_parts(entry.name, archive, empty_ok=entry.kind == "dir") for entry in entries}


def _safe_parts(name: str, archive: Path, *, empty_ok: bool) -> tuple[str, ...]:
    """Path parts of an archive name; ``empty_ok`` admits names of the root itself (``./``)."""
    if name.startswith("/"):
        raise UnsafeArchiveError(f"{archive}: entry {name!r} has an absolute path")
    parts = tuple(part for part in name.split("/") if part not in ("", "."))
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: entry {name!r} climbs out of the destination with '..'")
    if not parts and not empty_ok:
        raise UnsafeArchiveError(f"{archive}: entry {name!r} has an empty name")
    return parts


# --- RAR ---------------------------------------------------------------------------------

_RAR_END_OF_ARCHIVE = 10  # ERAR_END_ARCHIVE of UnRAR's API (dll.hpp): the headers ended where the archive does


def _rar_headers(rar: RarArchive, archive: Path) -> Iterator[RarHeader]:
    """``rar``'s headers in order, like ``RarArchive.iterate_headers``, which stops quietly at a
    damaged header too: here that is an :class:`ArchiveError`, not an archive that ends early."""
    while True:
        data = RARHeaderDataEx()
        result = RARReadHeaderEx(rar.handle, data)
        if result == _RAR_END_OF_ARCHIVE:
            return
        if result != FLAGS_SUCCESS:
            raise ArchiveError(f"{archive} is a damaged RAR archive (UnRAR error {result} reading its entries). Fix: delete it and download it again")
        yield RarHeader(rar, data)


def _list_rar(archive: Path) -> list[_Entry]:
    entries = []
    try:
        # Listing mode reads headers only: it does not decompress solid archives.
        with RarArchive.open_for_metadata(str(archive)) as rar:
            for header in _rar_headers(rar, archive):
                if header.headerDataEx.RedirType:  # symlink, junction, hard link or file copy
                    kind: EntryKind = "link"
                elif header.Flags & FLAGS_RHDF_DIRECTORY:
                    kind = "dir"
                else:
                    kind = "file"
                size = header.UnpSize + (header.UnpSizeHigh << 32)
                entries.append(_Entry(header.FileNameW, kind, size))
                header.skip()
    except BadRarFile as exc:
        raise ArchiveError(f"{archive} is not a readable RAR archive: {exc}") from exc
    return entries


def _extract_rar(archive: Path, root: Path, layout: Layout, bar: tqdm) -> None:
    seen: set[str] = set()
    name = "(archive header)"
    try:
        with RarArchive.open_for_processing(str(archive)) as rar:
            for header in _rar_headers(rar, archive):
                name = header.FileNameW
                if name not in layout:
                    raise ArchiveError(f"{archive} changed during extraction: {name!r} was not listed")
                target = root.joinpath(*layout[name])
                seen.add(name)
                if header.Flags & FLAGS_RHDF_DIRECTORY:
                    target.mkdir(parents=True, exist_ok=True)
                    header.skip()
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as out:
                    sink = _Sink(out, bar)
                    # Test mode decodes and checks the CRC, streaming the bytes to ``sink``;
                    # UnRAR itself never writes to the file system.
                    header.test(sink)
                sink.raise_error()
                expected = header.UnpSize + (header.UnpSizeHigh << 32)
                if sink.written != expected:
                    raise ArchiveError(f"{archive}: {name!r} decoded to {sink.written} bytes, expected {expected}")
    except BadRarFile as exc:
        raise ArchiveError(f"{archive}: cannot decode {name!r}: {exc}") from exc
    # The archive was replaced since it was listed.
    if seen != layout.keys():
        raise ArchiveError(f"{archive}: extraction stopped early; {len(layout) - len(seen)} listed entries missing")


class _Sink:
    """Receives decoded chunks from UnRAR's callback.

    An exception raised inside the C callback would be printed and swallowed while UnRAR
    carries on, so the first one is kept and raised again once the entry is done.
    """

    def __init__(self, out: IO[bytes], bar: tqdm) -> None:
        self._out = out
        self._bar = bar
        self._error: BaseException | None = None
        self.written = 0

    def __call__(self, chunk: bytes) -> None:
        if self._error is not None:
            return
        try:
            self._out.write(chunk)
        except BaseException as exc:  # kept and re-raised by raise_error()
            self._error = exc
            return
        self.written += len(chunk)
        self._bar.update(len(chunk))

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error


# --- ZIP ---------------------------------------------------------------------------------


def _zip_kind(info: zipfile.ZipInfo) -> EntryKind:
    if info.is_dir():
        return "dir"
    if stat.S_ISLNK(info.external_attr >> 16):  # Unix mode bits in the high half
        return "link"
    return "file"


def _list_zip(archive: Path) -> list[_Entry]:
    try:
        with zipfile.ZipFile(archive) as zf:
            entries = []
            for info in zf.infolist():
                entries.append(_Entry(info.filename, _zip_kind(info), info.file_size))
            return entries
    except _ZIP_ERRORS as exc:
        raise ArchiveError(f"{archive} is not a readable ZIP archive: {exc}") from exc


def _extract_zip(archive: Path, root: Path, layout: Layout, bar: tqdm) -> None:
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = root.joinpath(*layout[info.filename])
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as source, target.open("wb") as out:
                    _copy(source, out, bar.update)
    except _ZIP_ERRORS as exc:
        raise ArchiveError(f"{archive}: cannot extract: {exc}") from exc


def _copy(source: IO[bytes], out: IO[bytes], advance: Callable[[int], object]) -> None:
    while block := source.read(_COPY_CHUNK):
        out.write(block)
        advance(len(block))


_READERS: dict[str, tuple[Callable[[Path], list[_Entry]], Callable[[Path, Path, Layout, tqdm], None]]] = {
    "rar": (_list_rar, _extract_rar),
    "zip": (_list_zip, _extract_zip),
}
