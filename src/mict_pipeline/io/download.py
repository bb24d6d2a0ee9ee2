"""Download one file over http(s) or ``file://``: verified, retried, resumable, never half-written.

Bytes go to a hidden ``.<name>.part`` file beside the destination. Its name is stable, so a
run that died (or was killed) leaves it behind and the next run resumes it with an HTTP
``Range`` request. Only a download that passed the size and checksum checks is renamed to
the destination, so whatever sits at the destination is complete.

A download without a pinned digest (a user's own archive has none) is stamped with the version of
its source it holds, in ``.<name>.source.json`` beside it: a ``file:`` source's size, modification
time and sha256, an http(s) source's ``ETag`` and ``Last-Modified``. A rerun fetches it again when
the source changed (a ``file:`` source is compared by size and time, its digest only when those
differ, so a file rewritten with its old size and time is taken as unchanged; an http source is asked with a conditional request, 304 keeping the copy), and keeps the
old copy until the new one is complete.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tqdm import tqdm

from mict_pipeline import __version__
from mict_pipeline.errors import UserError
from mict_pipeline.io.atomic import write_bytes_atomic
from mict_pipeline.io.digest import file_digest, file_digests
from mict_pipeline.io.disk import ensure_free_space

log = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
MAX_BACKOFF_S = 60.0
_SUPPORTED_SCHEMES = ("http", "https", "file")
# Worth asking the same URL again later; every 5xx is too. A 404 is included because
# mirrors and CDNs briefly answer 404 while a file is being published.
_RETRYABLE_STATUS = frozenset({404, 408, 429})
_NETWORK_ERRORS = (http.client.HTTPException, ConnectionError, TimeoutError, ssl.SSLError)
_CONTENT_RANGE = re.compile(r"bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)")


class DownloadError(UserError, RuntimeError):
    """A file could not be downloaded from any of its URLs."""


class ChecksumMismatchError(DownloadError):
    """Downloaded bytes differ from the expected size or checksum."""


def download_file(
    url: str,
    dest: str | os.PathLike,
    *,
    sha256: str | None = None,
    md5: str | None = None,
    size: int | None = None,
    mirrors: Sequence[str] = (),
    retries: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
    ca_bundle: str | os.PathLike | None = None,
    progress: bool = True,
) -> Path:
    """Download ``url`` to ``dest`` and return ``dest``.

    ``sha256``, ``md5`` and ``size`` are checked before the file is renamed into place; a
    mismatch raises :class:`DownloadError` naming expected and actual values and leaves
    nothing at ``dest``. An existing ``dest`` that fails them is deleted and fetched again; one
    that passes a pinned digest is returned without any request. Without a pinned digest, an
    existing ``dest`` is fetched again only when its source changed since (see the module's
    docstring): one that cannot be checked (its source is gone or unreachable, or its server
    sends no validators) is kept, saying so in the log.

    ``url`` is tried first, then each of ``mirrors``; a round over all of them is repeated
    up to ``retries`` more times, waiting ``backoff * 2**k`` seconds (at most
    :data:`MAX_BACKOFF_S`) before round ``k + 1``. Connection errors, timeouts, 404, 408,
    429 and 5xx answers send the next request to the next URL. A URL that answers another 4xx,
    fails TLS verification or serves bytes that fail verification is dropped.

    TLS certificates are always verified, against ``ca_bundle`` when given (a PEM file)
    and the system's trust store otherwise. ``timeout`` bounds each connect and read.

    Raises :class:`DownloadError` when every URL failed, naming them and the last error,
    and :class:`~mict_pipeline.io.disk.InsufficientSpaceError` when the file system cannot hold the download.
    """
    dest = Path(dest)
    urls = [url, *mirrors]
    for candidate in urls:
        if urllib.parse.urlsplit(candidate).scheme not in _SUPPORTED_SCHEMES:
            raise ValueError(f"Unsupported URL {candidate!r}: use one of {', '.join(_SUPPORTED_SCHEMES)}")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}")
    expected = _Expected.of(size=size, sha256=sha256, md5=md5)

    partial_path = dest.parent / f".{dest.name}.part"
    first, conditions = url, {}  # the URL asked first, and the headers of a conditional request to it
    if dest.exists():
        problems = expected.mismatches(dest.stat().st_size, file_digests(dest, expected.algorithms))
        if problems:
            log.warning("Existing %s failed verification (%s); downloading it again", dest, "; ".join(problems))
            dest.unlink()
        elif expected.digests:
            return dest  # the pinned content itself
        else:
            recheck = _recheck(dest, urls)
            if recheck is None:
                return dest
            first, conditions = recheck
            partial_path.unlink(missing_ok=True)  # bytes left beside it may be of the old version

    dest.parent.mkdir(parents=True, exist_ok=True)
    # An unpinned download records the sha256 of what it fetched in its stamp.
    partial = _PartialFile(partial_path, expected.algorithms or ("sha256",))
    if expected.size is not None and partial.size >= expected.size:
        if partial.size == expected.size and not expected.mismatches(partial.size, partial.hexdigests()):
            return _commit(partial, dest, expected, url, {})
        partial.restart()

    opener = urllib.request.build_opener(
        urllib.request.HTTPSHandler(
            context=ssl.create_default_context(cafile=None if ca_bundle is None else os.fspath(ca_bundle))
        )
    )
    fetch = _Fetch(opener=opener, timeout=timeout, expected=expected, progress=progress, name=dest.name)
    active = [first, *(candidate for candidate in urls if candidate != first)]
    last_error: Exception | None = None
    for round_index in range(retries + 1):
        if not active:
            break
        if round_index:
            delay = min(backoff * 2 ** (round_index - 1), MAX_BACKOFF_S)
            log.info("Retrying the download of %s in %.1f s", dest.name, delay)
            time.sleep(delay)
        for candidate in list(active):
            asked = conditions if candidate == first and not round_index else {}
            try:
                version = fetch(candidate, partial, asked)
            except _NotModifiedError:
                log.info("%s has not changed since %s was fetched from it; keeping the copy", candidate, dest)
                return dest
            except (_TransientError, _UrlError) as exc:
                if asked and not partial.size:
                    log.warning("Could not check whether %s changed (%s); keeping %s", candidate, exc, dest)
                    return dest
                log.warning("Downloading %s failed: %s", dest.name, exc)
                last_error = exc
                if isinstance(exc, _UrlError):
                    active.remove(candidate)
                continue
            problems = expected.mismatches(partial.size, partial.hexdigests())
            if not problems:
                return _commit(partial, dest, expected, candidate, version)
            partial.restart()
            active.remove(candidate)
            last_error = ChecksumMismatchError(
                f"{dest.name} downloaded from {candidate} failed verification: {'; '.join(problems)}"
            )
            log.warning("%s", last_error)
    raise DownloadError(
        f"Could not download {dest.name} from {', '.join(urls)}; last error: {last_error}"
    ) from last_error


def _commit(partial: _PartialFile, dest: Path, expected: _Expected, url: str, version: Mapping[str, Any]) -> Path:
    """Rename the verified ``partial`` to ``dest``, then stamp an unpinned one with the version of
    its source (after the rename: a run killed between the two fetches it again, never keeps it)."""
    sha256 = partial.hexdigests().get("sha256")
    partial.commit(dest)
    stamp = _SourceStamp.path(dest)
    if expected.digests:
        stamp.unlink(missing_ok=True)  # a pinned download needs none, and an old one would be wrong
    else:
        _SourceStamp(url=url, sha256=sha256, **version).write(dest)
    return dest


def _recheck(dest: Path, urls: Sequence[str]) -> tuple[str, dict[str, str]] | None:
    """Whether the present, unpinned ``dest`` must be fetched again: ``None`` to keep it (its source
    is unchanged, or that cannot be told: logged), else the URL to ask first and the headers for
    it (an http source's conditional request, answered 304 when unchanged; none when it changed)."""
    stamp = _SourceStamp.read(dest)
    if stamp is None:
        return _recheck_unstamped(dest, urls)
    if stamp.url not in urls:
        log.info("%s was fetched from %s, no longer one of its URLs; fetching it again", dest, stamp.url)
        return urls[0], {}
    if _is_file_url(stamp.url):
        return None if _file_unchanged(dest, stamp) else (stamp.url, {})
    conditions = _conditions(stamp.etag, stamp.last_modified)
    if not conditions:
        log.warning(
            "%s sends no ETag or Last-Modified, so a change there cannot be seen: keeping %s (delete it to fetch it again)",
            stamp.url,
            dest,
        )
        return None
    return stamp.url, conditions


def _file_unchanged(dest: Path, stamp: _SourceStamp) -> bool:
    """Whether the ``file:`` source of ``dest`` still holds what was fetched: same size and time,
    or (touched, not changed) the same sha256."""
    source = _file_path(stamp.url)
    try:
        status = source.stat()
    except FileNotFoundError:
        log.warning("%s, the source of %s, is gone; keeping the copy", source, dest)
        return True
    if (status.st_size, status.st_mtime_ns) == (stamp.size, stamp.mtime_ns):
        return True
    if status.st_size == stamp.size and file_digest(source) == stamp.sha256:
        # Not restamped: the copy's folder is a DVC output, which a rerun must leave as it was.
        log.info("%s was touched but holds the bytes fetched; keeping %s", source, dest)
        return True
    log.info("%s changed since %s was fetched from it; fetching it again", source, dest)
    return False


def _recheck_unstamped(dest: Path, urls: Sequence[str]) -> tuple[str, dict[str, str]] | None:
    """:func:`_recheck` for a ``dest`` without a stamp (downloaded by an earlier version): a
    ``file:`` source is compared by digest once, and stamped when the same."""
    if not _is_file_url(urls[0]):
        log.warning("%s has no record of the version of %s it holds: keeping it (delete it to fetch it again)", dest, urls[0])
        return None
    source = _file_path(urls[0])
    if not source.is_file():
        log.warning("%s, the source of %s, is gone; keeping the copy", source, dest)
        return None
    status, sha256 = source.stat(), file_digest(source)
    if sha256 != file_digest(dest):
        log.info("%s differs from its source %s; fetching it again", dest, source)
        return urls[0], {}
    _SourceStamp(url=urls[0], sha256=sha256, size=status.st_size, mtime_ns=status.st_mtime_ns).write(dest)
    return None


def _is_file_url(url: str) -> bool:
    return urllib.parse.urlsplit(url).scheme == "file"


def _file_path(url: str) -> Path:
    """The path a ``file:`` URL names (relative to the current folder when it has no ``//``)."""
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))


def _conditions(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """The headers of a request answered 304 while the source is the version with these validators."""
    headers = {"If-None-Match": etag} if etag else {}
    return headers | ({"If-Modified-Since": last_modified} if last_modified else {})


def _http_version(headers: Mapping[str, str]) -> dict[str, str | None]:
    """The validators an http answer carries, as :class:`_SourceStamp` fields."""
    return {"etag": headers.get("ETag"), "last_modified": headers.get("Last-Modified")}


@dataclass(frozen=True)
class _SourceStamp:
    """Which version of its source an unpinned download holds (``.<name>.source.json`` beside it)."""

    url: str
    sha256: str  # of the bytes fetched
    size: int | None = None  # file: sources
    mtime_ns: int | None = None
    etag: str | None = None  # http(s) sources
    last_modified: str | None = None

    @staticmethod
    def path(dest: Path) -> Path:
        return dest.parent / f".{dest.name}.source.json"

    @classmethod
    def read(cls, dest: Path) -> _SourceStamp | None:
        try:
            return cls(**json.loads(cls.path(dest).read_text()))
        except (FileNotFoundError, ValueError, TypeError):  # none, or not one this version wrote
            return None

    def write(self, dest: Path) -> None:
        write_bytes_atomic(self.path(dest), json.dumps(asdict(self), indent=2).encode())


class _TransientError(Exception):
    """This URL failed now and may work on a later round."""


class _NotModifiedError(Exception):
    """The server answered a conditional request with 304: the copy is current."""


class _UrlError(Exception):
    """This URL will not work: stop asking it."""


class _RangeNotSatisfiableError(Exception):
    """The server refused ``Range``: the partial file is as long as the remote one, or longer."""

    def __init__(self, total: int | None, version: dict[str, Any]) -> None:
        super().__init__(total)
        self.total = total
        self.version = version


@dataclass(frozen=True)
class _Expected:
    size: int | None
    digests: Mapping[str, str]  # hashlib algorithm name -> lowercase hex digest

    @classmethod
    def of(cls, *, size: int | None, sha256: str | None, md5: str | None) -> _Expected:
        digests = {name: value.strip().lower() for name, value in (("sha256", sha256), ("md5", md5)) if value}
        return cls(size=size, digests=digests)

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(self.digests)

    def mismatches(self, size: int, hexdigests: Mapping[str, str]) -> list[str]:
        """One "what: expected X, got Y" line for each expectation that does not hold."""
        problems = []
        if self.size is not None and size != self.size:
            problems.append(f"size: expected {self.size} bytes, got {size}")
        for name, want in self.digests.items():
            if hexdigests[name] != want:
                problems.append(f"{name}: expected {want}, got {hexdigests[name]}")
        return problems


class _PartialFile:
    """The hidden partial download beside the destination, with running digests of its bytes.

    Digests are updated as bytes are appended, so the finished download is verified without
    reading it again; bytes left by an earlier run are hashed once, when this is created.
    """

    def __init__(self, path: Path, algorithms: Sequence[str]) -> None:
        self.path = path
        self._algorithms = tuple(algorithms)
        self._hashers = {name: hashlib.new(name) for name in self._algorithms}
        self.size = 0
        if path.exists():
            with path.open("rb") as file:
                for block in iter(lambda: file.read(CHUNK_SIZE), b""):
                    self._absorb(block)

    def restart(self) -> None:
        self.path.unlink(missing_ok=True)
        self._hashers = {name: hashlib.new(name) for name in self._algorithms}
        self.size = 0

    def append(self, stream: BinaryIO, bar: tqdm) -> None:
        """Append everything ``stream`` yields; network errors become :class:`_TransientError`."""
        with self.path.open("ab") as out:
            while True:
                try:
                    block = stream.read(CHUNK_SIZE)
                except (http.client.HTTPException, OSError) as exc:
                    raise _TransientError(f"transfer interrupted after {self.size} bytes: {exc!r}") from exc
                if not block:
                    return
                out.write(block)
                self._absorb(block)
                bar.update(len(block))

    def hexdigests(self) -> dict[str, str]:
        return {name: hasher.hexdigest() for name, hasher in self._hashers.items()}

    def commit(self, dest: Path) -> Path:
        # Not atomic_path: its temporary name is random and deleted on error, while a resumable
        # download needs a stable name that survives a crash; os.replace is the same atomic rename.
        with self.path.open("rb+") as file:
            os.fsync(file.fileno())
        os.replace(self.path, dest)
        return dest

    def _absorb(self, block: bytes) -> None:
        for hasher in self._hashers.values():
            hasher.update(block)
        self.size += len(block)


@dataclass(frozen=True)
class _Source:
    """An open response body that starts at byte ``start`` of a file of ``total`` bytes (``None``:
    unknown), and the version of the file it is (:class:`_SourceStamp` fields)."""

    stream: BinaryIO
    start: int | None
    total: int | None
    version: dict[str, Any]


@dataclass(frozen=True)
class _Fetch:
    """One attempt to bring ``partial`` up to the full file from one URL."""

    opener: urllib.request.OpenerDirector
    timeout: float
    expected: _Expected
    progress: bool
    name: str

    def __call__(self, url: str, partial: _PartialFile, conditions: Mapping[str, str]) -> dict[str, Any]:
        """Fetch, sending ``conditions`` to an http ``url``; return the version fetched."""
        offset = partial.size
        try:
            if _is_file_url(url):
                source = self._open_file(url, offset)
            else:
                source = self._open_http(url, offset, conditions)
        except _RangeNotSatisfiableError as exc:
            if exc.total == offset:
                return exc.version  # an earlier attempt already fetched every byte
            partial.restart()
            raise _TransientError(f"{url} refused to resume at byte {offset}; restarting from zero") from exc
        with source.stream:
            if self.expected.size is not None and source.total not in (None, self.expected.size):
                raise _UrlError(f"{url} serves {source.total} bytes, expected {self.expected.size}")
            if source.start == 0 and offset:
                partial.restart()  # the server ignored Range and sends the whole file
            elif source.start != offset:
                partial.restart()
                raise _TransientError(f"{url} did not resume at byte {offset}; restarting from zero")
            total = self.expected.size if self.expected.size is not None else source.total
            if total is not None:
                ensure_free_space(partial.path.parent, total - partial.size, purpose=f"download {self.name}")
            with tqdm(
                total=total,
                initial=partial.size,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=self.name,
                disable=not self.progress,
            ) as bar:
                partial.append(source.stream, bar)
        if total is not None and partial.size < total:
            raise _TransientError(f"{url} closed the connection after {partial.size} of {total} bytes")
        if source.total is not None and partial.size > source.total:
            partial.restart()
            raise _TransientError(f"{url} sent more bytes than the {source.total} it announced")
        return source.version

    def _open_http(self, url: str, offset: int, conditions: Mapping[str, str]) -> _Source:
        headers = {"User-Agent": f"mict-pipeline/{__version__}", "Accept-Encoding": "identity", **conditions}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            response = self.opener.open(urllib.request.Request(url, headers=headers), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            with exc:
                if exc.code == 304 and conditions:
                    raise _NotModifiedError() from exc
                if exc.code == 416 and offset:
                    total = _content_range(exc.headers.get("Content-Range"))[1]
                    raise _RangeNotSatisfiableError(total, _http_version(exc.headers)) from exc
                message = f"{url} answered HTTP {exc.code} {exc.reason}"
                if exc.code in _RETRYABLE_STATUS or exc.code >= 500:
                    raise _TransientError(message) from exc
                raise _UrlError(message) from exc
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, ssl.SSLCertVerificationError):
                raise _UrlError(f"{url}: TLS certificate verification failed: {exc.reason}") from exc
            raise _TransientError(f"{url}: {exc.reason}") from exc
        except _NETWORK_ERRORS as exc:
            raise _TransientError(f"{url}: {exc!r}") from exc
        version = _http_version(response.headers)
        if conditions and _conditions(**version) == conditions:
            response.close()  # a server that ignores conditional requests, serving the same version
            raise _NotModifiedError()
        if response.status == 206:
            return _Source(response, *_content_range(response.headers.get("Content-Range")), version)
        length = response.headers.get("Content-Length")
        return _Source(response, 0, int(length) if length and length.isdigit() else None, version)

    @staticmethod
    def _open_file(url: str, offset: int) -> _Source:
        try:
            stream = _file_path(url).open("rb")
        except FileNotFoundError as exc:
            raise _TransientError(f"{url}: no such file") from exc
        except OSError as exc:
            raise _UrlError(f"{url}: {exc}") from exc
        status = os.fstat(stream.fileno())
        start = offset if offset <= status.st_size else 0
        stream.seek(start)
        return _Source(stream, start, status.st_size, {"size": status.st_size, "mtime_ns": status.st_mtime_ns})


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, full size) from a ``Content-Range`` header; ``None`` where it says ``*`` or is absent."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if not match:
        return None, None
    start, total = match.groups()
    return (int(start) if start else None), (int(total) if total != "*" else None)
