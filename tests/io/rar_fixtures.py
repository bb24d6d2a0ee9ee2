"""Build small RAR 4 and RAR 5 archives (stored method, no compression) byte by byte.

No tool can create RAR archives here, so the tests write them from the published format
(rarlab.com/technote.htm for RAR 5, the RAR 3.x "technical information" text for RAR 4).
Each entry is ``(name, data)``; ``data=None`` makes a directory entry. Names are written as
given, so a test can build hostile archives (``../x``, ``/abs``) that a real tool would refuse.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

RarEntry = tuple[str, bytes | None]

# 2020-01-02 03:04:06 in MS-DOS date/time format.
_DOS_TIME = ((2020 - 1980) << 25) | (1 << 21) | (2 << 16) | (3 << 11) | (4 << 5) | 3

_RAR4_MARKER = b"Rar!\x1a\x07\x00"
_RAR4_FILE = 0x74
_RAR4_LONG_BLOCK = 0x8000  # always set on file headers: packed data follows the header
_RAR4_DIRECTORY = 0x00E0  # dictionary bits all set mean "directory"
_RAR4_STORED = 0x30
_HOST_UNIX_RAR4 = 3

_RAR5_SIGNATURE = b"Rar!\x1a\x07\x01\x00"
_RAR5_MAIN, _RAR5_FILE, _RAR5_END = 1, 2, 5
_RAR5_HAS_DATA = 0x0002
_RAR5_DIRECTORY = 0x0001
_RAR5_HAS_CRC = 0x0004
_HOST_UNIX_RAR5 = 1


def rar4_stored(entries: Sequence[RarEntry]) -> bytes:
    """A RAR 4 archive holding ``entries`` uncompressed."""
    main = _rar4_block(0x73, 0, b"\x00" * 6)
    files = []
    for name, data in entries:
        raw_name = name.encode()
        is_dir = data is None
        payload = b"" if data is None else data
        fields = struct.pack(
            "<IIBIIBBHI",
            len(payload),
            len(payload),
            _HOST_UNIX_RAR4,
            zlib.crc32(payload),
            _DOS_TIME,
            20,  # version needed to extract: 2.0 handles stored files
            _RAR4_STORED,
            len(raw_name),
            0o40755 if is_dir else 0o100644,
        )
        flags = _RAR4_LONG_BLOCK | (_RAR4_DIRECTORY if is_dir else 0)
        files.append(_rar4_block(_RAR4_FILE, flags, fields + raw_name) + payload)
    end = _rar4_block(0x7B, 0x4000, b"")
    return _RAR4_MARKER + main + b"".join(files) + end


def rar5_stored(entries: Sequence[RarEntry]) -> bytes:
    """A RAR 5 archive holding ``entries`` uncompressed."""
    main = _rar5_block(_RAR5_MAIN, 0, _vint(0))
    files = []
    for name, data in entries:
        raw_name = name.encode()
        is_dir = data is None
        payload = b"" if data is None else data
        fields = b"".join(
            [
                _vint(len(payload)),  # data size, announced by the 0x0002 header flag
                _vint(_RAR5_DIRECTORY if is_dir else _RAR5_HAS_CRC),
                _vint(len(payload)),
                _vint(0o40755 if is_dir else 0o100644),
                b"" if is_dir else struct.pack("<I", zlib.crc32(payload)),
                _vint(0),  # compression info: algorithm 0, method 0 (stored)
                _vint(_HOST_UNIX_RAR5),
                _vint(len(raw_name)),
                raw_name,
            ]
        )
        files.append(_rar5_block(_RAR5_FILE, _RAR5_HAS_DATA, fields) + payload)
    end = _rar5_block(_RAR5_END, 0, _vint(0))
    return _RAR5_SIGNATURE + main + b"".join(files) + end


def _rar4_block(block_type: int, flags: int, body: bytes) -> bytes:
    header = struct.pack("<BHH", block_type, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(header) & 0xFFFF) + header


def _rar5_block(block_type: int, flags: int, body: bytes) -> bytes:
    header = _vint(block_type) + _vint(flags) + body
    sized = _vint(len(header)) + header
    return struct.pack("<I", zlib.crc32(sized)) + sized


def _vint(value: int) -> bytes:
    """RAR 5 variable-length integer: 7 bits a byte, low bits first, high bit means "more"."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
