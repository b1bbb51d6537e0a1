"""The files of a zip archive whose central directory does not read, found
by their local headers.

A zip names its files twice: a local header before each file's data, and
the central directory at the end, which ``zipfile`` reads. A download cut
short, or a copy that stopped, has no directory, and ``zipfile`` refuses
the whole archive (``BadZipFile``), though every file before the cut is
whole. So where the directory is missing or damaged, the archive is read
from its start as ``unzip``'s recovery (``zip -FF``) reads it: each local
header (``PK\\x03\\x04``, the layout of APPNOTE 4.3.7), its name, its
data inflated by ``zlib`` (stored and deflated files: what zip writers
use; another method is named as such), and on to the next header. Bytes
between two files that are no header (a damaged file) are one stretch.

Only the headers' fixed fields are read here; the data is the standard
library's (``zlib``), and the files' own readers take it from there.
"""
from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from typing import Iterator

from transforms.signatures import Finder

LOCAL = b"PK\x03\x04"
# what may follow the last file: the central directory, its end records, a data descriptor
TRAILERS = (b"PK\x01\x02", b"PK\x05\x06", b"PK\x06\x06", b"PK\x06\x07", b"PK\x07\x08")
_HEADER = struct.Struct("<4sHHHHHIIIHH")  # signature, version, flags, method, time, date, crc, sizes, name, extra
BLOCK = 1 << 20  # searched at a time
DATA_BLOCK = 1 << 16  # of a file's data read at a time
MAX_DAMAGED = 1000  # files whose data does not read before the rest of the archive is one stretch


@dataclass
class Member:
    """One file found by its local header: ``open()`` gives its bytes (a
    buffered stream), or ``problem`` says why they cannot be read."""
    offset: int
    name: str
    size: int | None  # uncompressed, when the header gives it
    problem: str | None
    _stream: "_Data | None" = None

    def open(self) -> io.BufferedReader:
        return io.BufferedReader(self._stream, 1 << 16)


@dataclass
class Stretch:
    """Bytes ``start``-``end`` (end excluded) that are no file: damage."""
    start: int
    end: int


def check_directory(zf, raw) -> None:
    """Raise ``BadZipFile`` (after closing ``zf``) unless each file the
    central directory names has its local header where the directory says,
    with the same name, flags, method, sizes and CRC-32 (those of a file
    whose sizes follow its data in the descriptor where the directory's size
    puts it), and unless a directory that names no file stands for an
    archive without one. Bytes added or lost before the directory (a
    damaged file) move the files after them, and ``zipfile`` then reads
    every file at the wrong place, those before the damage too; a damaged
    entry makes ``zipfile`` read its file wrong."""
    import zipfile

    if not zf.infolist():
        raw.seek(0)
        if LOCAL in raw.read(BLOCK):  # the directory names no file, and a file's header is there
            zf.close()
            raise zipfile.BadZipFile("the directory names no file, but the archive holds one: it is damaged")
    for info in zf.infolist():
        fields, name = None, b""
        if info.header_offset >= 0:  # zipfile's guess at bytes before the archive can make it negative
            raw.seek(info.header_offset)
            head = raw.read(_HEADER.size)
            if len(head) == _HEADER.size and head.startswith(LOCAL):
                fields = _HEADER.unpack(head)
                name = raw.read(fields[9])
        agrees = fields is not None and name == info.orig_filename.encode(
            "utf-8" if info.flag_bits & 0x800 else "cp437", "replace") and \
            (fields[2] & 0x09, fields[3]) == (info.flag_bits & 0x09, info.compress_type)
        if agrees and 0xFFFFFFFF in (fields[7], fields[8], info.compress_size, info.file_size):
            pass  # zip64: the sizes are in extra fields, left to zipfile
        elif agrees and not fields[2] & 0x08:  # the sizes and CRC-32 are given here too
            agrees = (fields[6], fields[7], fields[8]) == (info.CRC, info.compress_size, info.file_size)
        elif agrees:  # given in the data descriptor after the data, where the directory's size says it is
            end = info.header_offset + _HEADER.size + fields[9] + fields[10] + info.compress_size
            agrees = _descriptor(raw, end, info.compress_size, info.file_size)[0] == info.CRC
        if not agrees:
            zf.close()
            raise zipfile.BadZipFile(f"the directory's entry for {info.orig_filename!r} does not match the file "
                                     "at its place: the archive is damaged there or before")


def members(raw) -> Iterator[Member | Stretch]:
    """Every file of the seekable zip ``raw`` in the order its bytes hold
    them, and each stretch between them that holds none. Read each member
    (or not) before the next is asked for: where a file ends is known once
    its data has been read past, for a file whose header gives no sizes."""
    raw.seek(0, io.SEEK_END)
    total = raw.tell()
    find = Finder(raw, total)
    pos = search = 0  # bytes before ``pos`` are accounted for; the next header is searched from ``search``
    damaged = 0
    while pos < total:
        if damaged >= MAX_DAMAGED:  # a file made of false headers costs bounded time: the rest is one stretch
            yield Stretch(pos, total)
            return
        at = find(LOCAL, max(pos, search))
        header = _header(raw, at, total) if at is not None else None
        if header is None and at is not None:
            search = at + 1  # the signature with no header after it
            continue
        if header is _CUT:
            at = None  # a header cut by the archive's end
        if at is None:
            if not _is_trailer(raw, pos):
                yield Stretch(pos, total)
            return
        if at > pos and not _is_trailer(raw, pos):
            yield Stretch(pos, at)
        flags, method, crc, csize, usize, name, start = header
        sized = not flags & 0x08 or csize != 0  # a data descriptor after the data: the sizes are there
        problem = None
        if flags & 0x01:
            problem = "the file is encrypted"
        elif method not in (0, 8):
            problem = f"the file is compressed by method {method}, which is read only with the archive's directory"
        tail = 0
        if problem is None and method == 0 and not sized:  # stored, its size after it: found by its CRC-32
            found = _stored_size(raw, start, find)
            sized = found is not None
            if sized:
                csize, tail = found
            else:
                problem = "a stored file whose size is given only after its data, and no such size matches it"
        if problem is None and name.endswith("/"):  # a folder
            pos = search = start + (csize if sized else 0)
        elif problem is not None:  # its reject covers its bytes: on at the next header
            yield Member(at, name, usize if sized else None, problem)
            pos = search = start + csize if sized and csize else (find(LOCAL, start) or total)
        else:
            data = _Data(raw, start, csize if sized else None, method == 8, total,
                         None if flags & 0x08 else crc, tail)
            yield Member(at, name, usize if sized else None, None, data)
            pos, ours = data.finish()
            damaged += data.failed
            if ours:  # the file's own bytes (or its reject's) up to the next header
                pos = find(LOCAL, pos) or total
            search = pos


_CUT = object()  # a local header that the archive's end cuts short


def _header(raw, at: int, total: int) -> tuple | None:
    """(flags, method, CRC-32, compressed and uncompressed size, name, where
    the data starts) of the local header at ``at``; ``_CUT`` if the
    archive ends inside it; None if there is none (a file without a name:
    no writer makes one)."""
    raw.seek(at)
    head = raw.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return _CUT
    _, _, flags, method, _, _, crc, csize, usize, nlen, xlen = _HEADER.unpack(head)
    if at + _HEADER.size + nlen + xlen > total:
        return _CUT
    if not nlen:
        return None
    name, extra = raw.read(nlen), raw.read(xlen)
    if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF:  # zip64: the sizes are in the extra field
        usize, csize = _zip64_sizes(extra, usize, csize)
    return (flags, method, crc, csize, usize, name.decode("utf-8" if flags & 0x800 else "cp437", "replace"),
            at + _HEADER.size + nlen + xlen)


class _Data(io.RawIOBase):
    """A file's data inflated from the archive, from ``start``: ``csize``
    bytes if known, else to the end of its deflate stream. Cut short by the
    archive's end, a read raises ``EOFError``; corrupt, ``zlib.error``."""

    def __init__(self, raw, start: int, csize: int | None, deflated: bool, total: int, crc: int | None,
                 tail: int = 0):
        self._raw, self._start, self._total, self._crc = raw, start, total, crc
        self._tail = tail  # the data descriptor's bytes after the data
        self._sum = 0  # CRC-32 of the bytes given so far
        self._at = start  # the next compressed byte to read
        self._end = None if csize is None else start + csize
        self._zlib = zlib.decompressobj(-15) if deflated else None
        self._pending = b""
        self._done = False
        self._failed: BaseException | None = None

    def readable(self) -> bool:
        return True

    @property
    def failed(self) -> bool:
        """Whether reading its data failed (damaged, or cut by the archive's end)."""
        return self._failed is not None

    def readinto(self, buffer) -> int:
        try:
            while not self._pending and not self._done:
                self._pending = self._step(max(len(buffer), 1 << 16))
        except Exception as e:
            self._failed = e
            raise
        n = min(len(buffer), len(self._pending))
        buffer[:n], self._pending = self._pending[:n], self._pending[n:]
        return n

    def _step(self, n: int) -> bytes:
        """The next bytes of the file (inflated up to ``n`` at a time)."""
        want = DATA_BLOCK if self._end is None else min(DATA_BLOCK, self._end - self._at)
        if want <= 0:  # the given size read
            if self._zlib is not None:
                raise zlib.error("the file's data ends before its deflate stream does")
            return self._last(b"")
        self._raw.seek(self._at)
        chunk = self._raw.read(want)
        if not chunk:
            raise EOFError("the archive ends inside this file (cut short)")
        if self._zlib is None:
            self._at += len(chunk)
            self._sum = zlib.crc32(chunk, self._sum)
            return self._last(chunk) if self._at == self._end else chunk
        out = self._zlib.decompress(chunk, n)
        self._at += len(chunk) - len(self._zlib.unused_data) - len(self._zlib.unconsumed_tail)
        self._sum = zlib.crc32(out, self._sum)
        return self._last(out) if self._zlib.eof else out

    def _last(self, data: bytes) -> bytes:
        """The file's last bytes: its CRC-32 checked, given by its header or
        by the data descriptor after its data."""
        self._done = True
        crc = self._crc
        if crc is None and not self._tail:  # sizes and CRC-32 after the data (flag bit 3)
            end = self._at if self._end is None else self._end
            crc, self._tail = _descriptor(self._raw, end, end - self._start)
            if crc is None and self._end is None:
                raise zlib.error("the file's data descriptor does not give the size of its data (damaged)")
        if crc is not None and self._sum != crc:
            raise zlib.error("the file's bytes do not match its CRC-32 (damaged)")
        return data

    def finish(self) -> tuple[int, bool]:
        """Where the next header is searched from, and whether the bytes up to
        it are this file's (no stretch of their own): the end of the file's
        data, given by its header or found by inflating it to its end; the
        archive's end after a cut; where reading stopped after damage, or in
        a file whose header gives no size that was not read to its end
        (its data is not inflated only to be dropped)."""
        if isinstance(self._failed, EOFError):
            return self._total, True
        if self._failed is not None:
            return self._start, True
        if self._end is not None:
            return self._end + self._tail, False
        return (self._at + self._tail, False) if self._done else (self._at, True)


def _stored_size(raw, start: int, find: "Finder") -> tuple[int, int] | None:
    """The size of a stored file whose header gives none, and its data
    descriptor's: the distance to a descriptor (``PK\x07\x08``, CRC-32,
    sizes) that gives that size and the CRC-32 of the bytes before it (a
    file may hold the signature)."""
    at = start
    while True:
        at = find(b"PK\x07\x08", at)
        if at is None:
            return None
        crc, tail = _descriptor(raw, at, at - start)
        if crc is not None:
            raw.seek(start)
            total_crc, left = 0, at - start
            while left:
                block = raw.read(min(BLOCK, left))
                if not block:
                    break
                total_crc, left = zlib.crc32(block, total_crc), left - len(block)
            if total_crc == crc:
                return at - start, tail
        at += 4


def _descriptor(raw, at: int, size: int, usize: int | None = None) -> tuple[int | None, int]:
    """(CRC-32, length) of the data descriptor at ``at`` if it gives
    ``size`` as the compressed size (and ``usize``, if given, as the
    uncompressed one; with or without its signature, with 4- or 8-byte
    sizes); (None, 0) if it does not."""
    raw.seek(at)
    d = raw.read(24)
    off = 4 if d.startswith(b"PK\x07\x08") else 0
    for width, form in ((4, "<II"), (8, "<QQ")):
        if len(d) >= off + 4 + 2 * width:
            csize, full = struct.unpack_from(form, d, off + 4)
            if csize == size and usize in (None, full):
                return struct.unpack_from("<I", d, off)[0], off + 4 + 2 * width
    return None, 0


def _zip64_sizes(extra: bytes, usize: int, csize: int) -> tuple[int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, i)
        if tag == 0x0001:
            field = extra[i + 4:i + 4 + size]
            values = [struct.unpack_from("<Q", field, k)[0] for k in range(0, len(field) - 7, 8)]
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            break
        i += 4 + size
    return usize, csize


def _is_trailer(raw, pos: int) -> bool:
    raw.seek(pos)
    return raw.read(4) in TRAILERS
