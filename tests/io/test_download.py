"""download_file against a local HTTP(S) server on 127.0.0.1: resume, retries, mirrors, checks, TLS."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import random
import re
import shutil
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mict_pipeline.io import disk, download
from mict_pipeline.io.disk import InsufficientSpaceError
from mict_pipeline.io.download import (
    ChecksumMismatchError,
    DownloadError,
    download_file,
)

CONTENT = random.Random(0).randbytes(300_000)
SHA256 = hashlib.sha256(CONTENT).hexdigest()
MD5 = hashlib.md5(CONTENT).hexdigest()
CUT_AT = 120_000


@dataclass
class Script:
    """What the server does, one action per request to a path; "ok" once the list runs out.

    Actions: "ok" (honours Range), "ignore-range" (always 200 with the whole file),
    "cut" (announces the whole body, sends CUT_AT bytes, hangs up), "stall" (silent for a second),
    or an HTTP status code such as "404" or "500". With an ``etag``, every answer carries it, and a
    request whose If-None-Match names it is answered 304 (unless ``ignore_conditions``).
    """

    content: bytes = CONTENT
    actions: list[str] = field(default_factory=list)
    default: str = "ok"
    etag: str | None = None
    ignore_conditions: bool = False


class Server:
    """A threaded HTTP server on 127.0.0.1 that follows per-path scripts and logs every request."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.scripts: dict[str, Script] = {}
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        # A short poll interval keeps shutdown() (and so each test's teardown) quick.
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def url(self, path: str) -> str:
        scheme = "https" if isinstance(self._httpd.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://127.0.0.1:{self._httpd.server_address[1]}{path}"

    def hits(self, path: str) -> int:
        return sum(1 for hit, _ in self.requests if hit == path)

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test output clean

            def do_GET(self) -> None:
                server.requests.append((self.path, self.headers.get("Range")))
                script = server.scripts.get(self.path)
                if script is None:
                    self.send_error(404)
                    return
                action = script.actions.pop(0) if script.actions else script.default
                if action.isdigit():
                    self.send_error(int(action))
                    return
                if action == "stall":
                    threading.Event().wait(1.0)  # not time.sleep: tests replace it to record backoff
                    return
                if script.etag and not script.ignore_conditions and self.headers.get("If-None-Match") == script.etag:
                    self.send_response(304)
                    self.send_header("ETag", script.etag)
                    self.end_headers()
                    return
                body, start = script.content, 0
                match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if match and action != "ignore-range":
                    start = int(match.group(1))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                if script.etag:
                    self.send_header("ETag", script.etag)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if action == "cut":
                    self.wfile.write(body[start:CUT_AT])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        return Handler


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """urllib honours *_proxy variables; the test servers must be reached directly."""
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Backoff delays requested by download_file, recorded instead of slept."""
    delays: list[float] = []
    monkeypatch.setattr(download.time, "sleep", delays.append)
    return delays


def fetch(url: str, dest: Path, **options: object) -> Path:
    options = {"sha256": SHA256, "retries": 3, "backoff": 0.01, "timeout": 5.0, "progress": False, **options}
    return download_file(url, dest, **options)  # type: ignore[arg-type]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- success paths -----------------------------------------------------------------------


def test_download_verifies_and_renames_into_place(server: Server, tmp_path: Path) -> None:
    server.scripts["/UCF101.rar"] = Script()
    dest = tmp_path / "raw" / "UCF101.rar"

    result = fetch(server.url("/UCF101.rar"), dest, md5=MD5, size=len(CONTENT), progress=True)

    assert result == dest
    assert dest.read_bytes() == CONTENT
    assert leftovers(dest.parent) == ["UCF101.rar"]
    assert server.requests == [("/UCF101.rar", None)]


def test_cut_transfer_is_resumed_with_range(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    server.scripts["/f.bin"] = Script(actions=["cut"])
    dest = tmp_path / "f.bin"

    fetch(server.url("/f.bin"), dest)

    assert dest.read_bytes() == CONTENT
    assert server.requests == [("/f.bin", None), ("/f.bin", f"bytes={CUT_AT}-")]
    assert leftovers(tmp_path) == ["f.bin"]


def test_partial_file_left_by_a_killed_run_is_resumed(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()
    dest = tmp_path / "f.bin"
    (tmp_path / ".f.bin.part").write_bytes(CONTENT[:CUT_AT])

    fetch(server.url("/f.bin"), dest)

    assert dest.read_bytes() == CONTENT
    assert server.requests == [("/f.bin", f"bytes={CUT_AT}-")]
    assert leftovers(tmp_path) == ["f.bin"]


def test_complete_partial_file_is_verified_and_used(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()
    (tmp_path / ".f.bin.part").write_bytes(CONTENT)

    fetch(server.url("/f.bin"), tmp_path / "f.bin", size=len(CONTENT))

    assert (tmp_path / "f.bin").read_bytes() == CONTENT
    assert server.requests == []


def test_complete_partial_file_of_unknown_size_is_confirmed_by_the_server(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()
    (tmp_path / ".f.bin.part").write_bytes(CONTENT)

    fetch(server.url("/f.bin"), tmp_path / "f.bin")  # the server answers 416 to bytes=<size>-

    assert (tmp_path / "f.bin").read_bytes() == CONTENT
    assert server.requests == [("/f.bin", f"bytes={len(CONTENT)}-")]


def test_server_ignoring_range_restarts_the_file_from_zero(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script(default="ignore-range")
    dest = tmp_path / "f.bin"
    # Wrong bytes in the partial file: appending the 200 body to them would fail the checksum.
    (tmp_path / ".f.bin.part").write_bytes(b"x" * CUT_AT)

    fetch(server.url("/f.bin"), dest)

    assert dest.read_bytes() == CONTENT
    assert server.requests == [("/f.bin", f"bytes={CUT_AT}-")]


@pytest.mark.parametrize("status", ["500", "503", "404"])
def test_transient_errors_are_retried_with_exponential_backoff(
    server: Server, tmp_path: Path, sleeps: list[float], status: str
) -> None:
    server.scripts["/f.bin"] = Script(actions=[status, status])

    fetch(server.url("/f.bin"), tmp_path / "f.bin", backoff=0.5)

    assert (tmp_path / "f.bin").read_bytes() == CONTENT
    assert server.hits("/f.bin") == 3
    assert sleeps == [0.5, 1.0]


def test_timeout_is_retried(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    server.scripts["/f.bin"] = Script(actions=["stall"])

    fetch(server.url("/f.bin"), tmp_path / "f.bin", timeout=0.2)

    assert (tmp_path / "f.bin").read_bytes() == CONTENT
    assert server.hits("/f.bin") == 2


def test_mirrors_are_tried_in_order(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    server.scripts["/missing.bin"] = Script(default="404")
    server.scripts["/broken.bin"] = Script(default="500")
    server.scripts["/good.bin"] = Script()
    urls = [server.url(path) for path in ("/missing.bin", "/broken.bin", "/good.bin")]

    fetch(urls[0], tmp_path / "f.bin", mirrors=urls[1:])

    assert (tmp_path / "f.bin").read_bytes() == CONTENT
    assert [path for path, _ in server.requests] == ["/missing.bin", "/broken.bin", "/good.bin"]
    assert sleeps == []


def test_file_url(tmp_path: Path) -> None:
    source = tmp_path / "source dir" / "UCF101.rar"
    source.parent.mkdir()
    source.write_bytes(CONTENT)
    dest = tmp_path / "raw" / "UCF101.rar"

    fetch(source.as_uri(), dest, md5=MD5, size=len(CONTENT))

    assert dest.read_bytes() == CONTENT


def test_file_url_resumes_a_partial_file(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(CONTENT)
    dest = tmp_path / "out" / "f.bin"
    dest.parent.mkdir()
    (dest.parent / ".f.bin.part").write_bytes(CONTENT[:CUT_AT])

    fetch(source.as_uri(), dest)

    assert dest.read_bytes() == CONTENT


def test_present_valid_file_is_not_fetched_again(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()
    dest = tmp_path / "f.bin"
    fetch(server.url("/f.bin"), dest)

    fetch(server.url("/f.bin"), dest)
    download_file(server.url("/f.bin"), dest, size=len(CONTENT), progress=False)

    assert server.hits("/f.bin") == 1


def test_present_invalid_file_is_fetched_again(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()
    dest = tmp_path / "f.bin"
    dest.write_bytes(b"stale or truncated")

    fetch(server.url("/f.bin"), dest)

    assert dest.read_bytes() == CONTENT
    assert server.hits("/f.bin") == 1


# --- unpinned sources that change ---------------------------------------------------------

CHANGED = CONTENT[::-1]  # the same size: only the time or the digest tells it apart


def test_file_source_changed_in_place_is_fetched_again_and_an_unchanged_one_is_not(tmp_path: Path) -> None:
    source = tmp_path / "mine.zip"
    source.write_bytes(CONTENT)
    dest = tmp_path / "raw" / "mine.zip"
    fetch(source.as_uri(), dest, sha256=None)
    fetched = dest.stat()

    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # touched, not changed
    fetch(source.as_uri(), dest, sha256=None)
    assert dest.stat().st_ino == fetched.st_ino  # kept: a fetch renames a new file into place

    source.write_bytes(CHANGED)
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 2 * 10**9))
    fetch(source.as_uri(), dest, sha256=None)
    assert dest.read_bytes() == CHANGED
    refetched = dest.stat()

    fetch(source.as_uri(), dest, sha256=None)
    assert dest.stat().st_ino == refetched.st_ino
    assert leftovers(dest.parent) == [".mine.zip.source.json", "mine.zip"]


@pytest.mark.parametrize("ignore_conditions", [False, True])
def test_http_source_with_a_changed_etag_is_fetched_again_and_an_unchanged_one_is_not(
    server: Server, tmp_path: Path, ignore_conditions: bool
) -> None:
    server.scripts["/f.bin"] = Script(etag='"v1"', ignore_conditions=ignore_conditions)
    dest = tmp_path / "f.bin"
    fetch(server.url("/f.bin"), dest, sha256=None)
    fetched = dest.stat()

    fetch(server.url("/f.bin"), dest, sha256=None)  # 304, or 200 with the same ETag: not read
    assert dest.stat().st_ino == fetched.st_ino

    server.scripts["/f.bin"] = Script(content=CHANGED, etag='"v2"', ignore_conditions=ignore_conditions)
    fetch(server.url("/f.bin"), dest, sha256=None)
    assert dest.read_bytes() == CHANGED
    assert server.hits("/f.bin") == 3


def test_http_copy_is_kept_when_a_change_cannot_be_checked(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with Server() as plain, Server() as tagged:  # one sends no validators; the other goes offline
        plain.scripts["/f.bin"] = Script()
        tagged.scripts["/g.bin"] = Script(etag='"v1"')
        for url, name in ((plain.url("/f.bin"), "f.bin"), (tagged.url("/g.bin"), "g.bin")):
            fetch(url, tmp_path / name, sha256=None)
        fetch(plain.url("/f.bin"), tmp_path / "f.bin", sha256=None)
    fetch(tagged.url("/g.bin"), tmp_path / "g.bin", sha256=None)

    assert plain.hits("/f.bin") == 1
    warnings = [record.getMessage() for record in caplog.records if record.levelname == "WARNING"]
    assert warnings == [
        f"{plain.url('/f.bin')} sends no ETag or Last-Modified, so a change there cannot be seen: "
        f"keeping {tmp_path / 'f.bin'} (delete it to fetch it again)",
        f"Could not check whether {tagged.url('/g.bin')} changed ({tagged.url('/g.bin')}: [Errno 111] Connection refused); "
        f"keeping {tmp_path / 'g.bin'}",
    ]
    assert (tmp_path / "f.bin").read_bytes() == (tmp_path / "g.bin").read_bytes() == CONTENT


# --- failures ----------------------------------------------------------------------------


def test_checksum_mismatch_names_expected_and_actual_and_leaves_nothing(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()
    wrong = "0" * 64

    with pytest.raises(DownloadError) as caught:
        fetch(server.url("/f.bin"), tmp_path / "f.bin", sha256=wrong)

    message = str(caught.value)
    assert f"expected {wrong}" in message and f"got {SHA256}" in message
    assert isinstance(caught.value.__cause__, ChecksumMismatchError)
    assert leftovers(tmp_path) == []
    assert server.hits("/f.bin") == 1  # the same bytes would fail again: no retry


def test_size_announced_by_the_server_is_checked_before_downloading(server: Server, tmp_path: Path) -> None:
    server.scripts["/f.bin"] = Script()

    with pytest.raises(DownloadError, match=f"serves {len(CONTENT)} bytes, expected {len(CONTENT) + 1}"):
        fetch(server.url("/f.bin"), tmp_path / "f.bin", size=len(CONTENT) + 1)

    assert leftovers(tmp_path) == []


def test_all_urls_failing_raises_naming_them_and_the_last_error(
    server: Server, tmp_path: Path, sleeps: list[float]
) -> None:
    server.scripts["/a.bin"] = Script(default="500")
    with socket.socket() as unused:  # a port on which nothing listens
        unused.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{unused.getsockname()[1]}/b.bin"

    with pytest.raises(DownloadError) as caught:
        fetch(server.url("/a.bin"), tmp_path / "f.bin", mirrors=[refused], retries=2, backoff=1.0)

    message = str(caught.value)
    assert server.url("/a.bin") in message and refused in message
    assert "last error" in message and "Connection refused" in message
    assert server.hits("/a.bin") == 3
    assert sleeps == [1.0, 2.0]
    assert leftovers(tmp_path) == []


def test_client_errors_other_than_404_are_not_retried(server: Server, tmp_path: Path, sleeps: list[float]) -> None:
    server.scripts["/f.bin"] = Script(default="403")

    with pytest.raises(DownloadError, match="HTTP 403"):
        fetch(server.url("/f.bin"), tmp_path / "f.bin", retries=5)

    assert server.hits("/f.bin") == 1
    assert sleeps == []


def test_not_enough_disk_space(server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server.scripts["/f.bin"] = Script()
    monkeypatch.setattr(disk.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9, 1024))

    with pytest.raises(InsufficientSpaceError, match=r"download f\.bin: needs 293\.0 KiB, only 1\.0 KiB free"):
        fetch(server.url("/f.bin"), tmp_path / "f.bin", size=len(CONTENT))

    assert leftovers(tmp_path) == []


def test_unsupported_scheme_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape("ftp://example.org/f.bin")):
        download_file("ftp://example.org/f.bin", tmp_path / "f.bin")


# --- TLS ---------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Server, Path]]:
    """An HTTPS server with a self-signed certificate for 127.0.0.1, and that certificate's file."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mict-pipeline test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    with Server(tls=context) as running:
        running.scripts["/f.bin"] = Script()
        yield running, cert_file


def test_tls_certificate_is_verified_against_the_system_store(tls_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, _ = tls_server
    dest = tmp_path / "out" / "f.bin"

    with pytest.raises(DownloadError, match="certificate verif"):
        fetch(server.url("/f.bin"), dest)

    assert not dest.exists()


def test_tls_with_a_custom_ca_bundle(tls_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, ca_file = tls_server
    dest = tmp_path / "out" / "f.bin"

    fetch(server.url("/f.bin"), dest, ca_bundle=ca_file)

    assert dest.read_bytes() == CONTENT
