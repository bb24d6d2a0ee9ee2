"""Extract ``.rar`` and ``.zip`` archives into a folder: checked first, then all or nothing.

Every entry is checked before anything is written. Names that are absolute or climb out with
``..`` and links (symbolic or hard: no dataset archive needs one, and a link can redirect later
writes outside the folder) are refused with an :class:`UnsafeArchiveError` naming the entry and
the archive. Extraction then fills a temporary folder beside the destination that replaces it
only once complete, so an interrupted run leaves no half-extracted tree.

RAR is decoded by the UnRAR library compiled into the ``unrar.cffi`` extension (the
``unrar2-cffi`` wheel): no external ``unrar`` program is needed.
"""

from __future__ import annotations

import os
import stat
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from tqdm import tqdm
from unrar.cffi.unrarlib import FLAGS_RHDF_DIRECTORY, BadRarFile, RarArchive

from mict_pipeline.errors import UserError
from mict_pipeline.io.atomic import atomic_path
from mict_pipeline.io.disk import ensure_free_space

SUPPORTED_SUFFIXES = (".rar", ".zip")

EntryKind = Literal["file", "dir", "link"]
Layout = Mapping[str, tuple[str, ...]]  # entry name in the archive -> path parts under the destination

_COPY_CHUNK = 1 << 20
_ZIP_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error)


class ArchiveError(UserError, RuntimeError):
    """An archive could not be read or extracted."""


class UnsafeArchiveError(ArchiveError):
    """An archive entry would be written outside the destination folder, or is not a plain entry."""


@dataclass(frozen=True)
class _Entry:
    name: str  # as stored in the archive
    kind: EntryKind
    size: int = 0


def archive_format(archive: str | os.PathLike) -> Literal["rar", "zip"]:
    """The reader ``archive`` needs, from its file name; :class:`ValueError` for other types."""
    suffix = Path(archive).suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return suffix[1:]  # type: ignore[return-value]
    raise ValueError(f"Unsupported archive type: {archive} (supported: {', '.join(SUPPORTED_SUFFIXES)})")


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike, *, progress: bool = True) -> list[Path]:
    """Extract ``archive`` so that ``dest`` holds exactly its content; return the extracted files.

    The returned paths are under ``dest``, in archive order, one for each regular file and
    link (not for folders). An existing ``dest`` folder is replaced as a whole, and only
    after extraction succeeded. Raises :class:`UnsafeArchiveError` (before writing anything)
    for entries that would land outside ``dest``, :class:`ArchiveError` for unreadable or
    corrupt archives, :class:`~mict_pipeline.io.disk.InsufficientSpaceError` when the
    uncompressed content does not fit, and :class:`ValueError` for unsupported types.
    """
    archive, dest = Path(archive), Path(dest)
    list_entries, extract = _READERS[archive_format(archive)]
    if not archive.is_file():
        raise FileNotFoundError(f"Archive not found: {archive}")
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


def _list_rar(archive: Path) -> list[_Entry]:
    entries = []
    try:
        # Listing mode reads headers only: it does not decompress solid archives.
        with RarArchive.open_for_metadata(str(archive)) as rar:
            for header in rar.iterate_headers():
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
            for header in rar.iterate_headers():
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
    # UnRAR ends the header loop quietly on a damaged header as well as at the end.
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
