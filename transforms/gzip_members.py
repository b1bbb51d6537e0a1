"""A gzip file of records read member by member, past a damaged member.

A gzip file may hold several members one after another: ``cat a.gz b.gz``,
a writer that appends (``gzip.open(path, "ab")``), object stores' delivery
streams that add one member per batch, ``bgzip``. ``gzip.GzipFile`` reads
them as one stream, and the first member that does not decompress ends the
file: the members after it were lost with it.

``Members`` reads the decompressed bytes as ``gzip.GzipFile`` does (zlib
checks each member's header, deflate data, CRC-32 and length; NUL padding
between members is skipped), with two differences:

- Where a member does not decompress, the stretch from its start to the
  next offset where a member starts that decompresses is noted in
  ``damaged`` and reading goes on from there.
- Bytes are handed on up to a line break; what follows the last one is
  held until the next comes (a line longer than ``HOLD_MAX`` is handed on
  as it comes). So a record that a damaged stretch or the
  file's end cuts is left out with the stretch, not handed on cut (a CSV
  row cut after a delimiter would read as a shorter text). Where the file
  ends inside a member, the bytes read stop at the last line break and
  ``truncated`` says where that member began; ``gzip`` raised ``EOFError``
  there and lost the records of its last buffer with it.

A first member whose own first bytes are damaged is one such stretch too:
``gzip`` said "Not a gzipped file" and read nothing of the file. A file that
holds no member at all is then one stretch from its start to its end.

Bounded: a search for the next member starts after the damaged member's
start, which is past every earlier search's end, so a byte is read about
twice at most (once inflated, once searched); and at most ``MAX_FALSE`` candidates (the gzip magic inside other
bytes) are tried in one file: past them, the rest of the file is one
damaged stretch.
"""
from __future__ import annotations

import io
import zlib
from typing import NamedTuple

from transforms.signatures import Finder

MAGIC = b"\x1f\x8b\x08"  # a gzip member's first bytes: ID1, ID2, CM = deflate
BLOCK = 1 << 16  # compressed bytes fed at a time
TRIAL = 1 << 16  # compressed bytes a candidate must decompress without an error (or end a member in)
TRIAL_OUTPUT = 1 << 20  # at most this much of a candidate is inflated
MAX_FALSE = 1000  # candidates that do not decompress, in one file, before the rest is given up
HOLD_MAX = 1 << 20  # a line longer than this is handed on without waiting for its end


class Damage(NamedTuple):
    start: int  # the damaged member's offset in the file
    end: int  # where reading went on (the file's size: no member after it)
    error: str  # what zlib said


class Members(io.RawIOBase):
    """The decompressed bytes of the seekable gzip file ``raw``, read from
    its current position, member by member (see the module)."""

    def __init__(self, raw):
        super().__init__()
        self._raw = raw
        self._at = raw.tell()  # the file offset of _buf[0]
        self._buf = b""  # compressed bytes read and not yet taken by zlib
        self._member = self._at  # where the current member starts
        self._d = zlib.decompressobj(31)  # 31: a gzip member, its header and trailer checked
        self._started = False  # the current member has been fed
        self._raw_done = False
        self._done = False
        self._false = 0
        self._finder: Finder | None = None  # where the gzip magic next occurs, once a member is damaged
        self._ready = b""  # bytes to hand on, ending at a line break
        self._held = b""  # bytes after the last line break
        self._ends_line = True  # the last byte handed on is a line break (or none was)
        self.damaged: list[Damage] = []
        self.truncated: int | None = None  # where the member the file ends inside began

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = len(b)
        while n and not self._ready and not self._done:
            out = self._step(n)
            if out:
                self._hold(out)
        k = min(n, len(self._ready))
        b[:k] = self._ready[:k]
        self._ready = self._ready[k:]
        if k:
            self._ends_line = b[k - 1] == 10
        return k

    def _hold(self, out: bytes) -> None:
        data = self._held + out
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) <= HOLD_MAX:
            self._held = data
            return
        cut = cut or len(data)
        self._ready += data[:cut]
        self._held = data[cut:]

    def _step(self, n: int) -> bytes:
        """Some decompressed bytes (at most ``n``), or b"" where this step only
        read input, ended a member or left a damaged one."""
        if len(self._buf) < BLOCK and not self._raw_done:
            more = self._raw.read(BLOCK)
            self._buf += more
            self._raw_done = not more
        if not self._started:
            kept = self._buf.lstrip(b"\x00")  # padding between members, as gzip skips it
            self._at += len(self._buf) - len(kept)
            self._buf = kept
            if not self._buf:
                if self._raw_done:  # the end, between members
                    self._done, self._ready, self._held = True, self._ready + self._held, b""
                return b""
            self._member, self._started = self._at, True
        if not self._buf:  # the file ends inside this member
            out = self._d.decompress(b"", n)
            if out:
                return out
            at = self._find(self._member + 1)
            if at is None:  # cut short: the line it cut is left out
                self._done, self.truncated, self._held = True, self._member, b""
            else:  # a member cut short in the middle, its deflate data run on through whole members
                self._leave(at, "the member runs on to the end of the file: cut short, with whole members after it")
            return b""
        try:
            out = self._d.decompress(self._buf, n)
        except zlib.error as e:
            self._resync(str(e))
            return b""
        rest = self._d.unused_data if self._d.eof else self._d.unconsumed_tail
        self._at += len(self._buf) - len(rest)
        self._buf = rest
        if self._d.eof:
            self._d, self._started = zlib.decompressobj(31), False
        return out

    def _resync(self, error: str) -> None:
        """Leave the current member, damaged, for the next one found after its start."""
        self._leave(self._find(self._member + 1), error)

    def _leave(self, at: int | None, error: str) -> None:
        """The current member, from its start to ``at`` (None: the file's end), is damaged: go on at ``at``."""
        end = at if at is not None else self._raw.seek(0, io.SEEK_END)
        self.damaged.append(Damage(self._member, end, error))
        self._d, self._started, self._held = zlib.decompressobj(31), False, b""  # the cut record goes with it
        last = self._ready[-1:] or (b"\n" if self._ends_line else b"")
        if last != b"\n":  # a line longer than HOLD_MAX was handed on: not joined to the next
            self._ready += b"\n"
        if at is None:
            self._done = True
            return
        self._raw.seek(at)
        self._at, self._buf, self._raw_done = at, b"", False

    def _find(self, pos: int) -> int | None:
        """The first offset from ``pos`` where a member starts that decompresses, or None."""
        if self._finder is None:
            self._finder = Finder(self._raw, self._raw.seek(0, io.SEEK_END))
        while self._false < MAX_FALSE:
            at = self._finder(MAGIC, pos)
            if at is None or self._decompresses(at):
                return at
            self._false += 1
            pos = at + 1
        return None

    def _decompresses(self, at: int) -> bool:
        self._raw.seek(at)
        data = self._raw.read(TRIAL)
        d = zlib.decompressobj(31)
        try:
            out = d.decompress(data, TRIAL_OUTPUT)
        except zlib.error:
            return False
        return bool(out) or d.eof
