"""A compressed file of records read member by member, past a damaged member.

A compressed file may hold several members one after another, each of
which decompresses alone: gzip members (``cat a.gz b.gz``, a writer that
appends with ``gzip.open(path, "ab")``, delivery streams that add a member
per batch, ``bgzip``), bzip2 streams (``pbzip2``, Wikipedia's multistream
dumps), xz streams (``cat a.xz b.xz``) and zstd frames (``pzstd``, a
writer that ends a frame at each flush). The standard readers read them as
one stream, and the first member that does not decompress ends the file:
the members after it were lost with it.

``Members`` reads the decompressed bytes as those readers do (each
member's own checks: gzip's header, CRC-32 and length, bzip2's block
CRCs, xz's checks, zstd's frame checks where the writer put them; NUL
padding between members is skipped), with two differences:

- Where a member does not decompress, the stretch from its start to the
  next offset where a member starts that decompresses is noted in
  ``damaged`` and reading goes on from there.
- A member's output is held until its checks pass (up to ``VERIFY_MAX``;
  a bigger member is handed on as it comes, as the standard readers hand
  it): what a damaged member gave before its error is left out with it. A
  damaged bzip2 block gave up to megabytes of garbage before its CRC was
  checked, which the record readers read as thousands of broken records.
  (Garbage that runs past ``VERIFY_MAX`` before the check fails is handed
  on, as before: a bzip2 block's runs can decode that much.)
- Bytes are handed on up to a line break; what follows the last one is
  held until the next comes (a line longer than ``HOLD_MAX`` is handed on
  as it comes). So a record that a damaged stretch or the file's end cuts
  is left out with the stretch, not handed on cut (a CSV row cut after a
  delimiter would read as a shorter text). Where the file ends inside a
  member, the bytes read stop at the last line break and ``truncated``
  says where that member began; the standard readers raised ``EOFError``
  there and lost the records of their last buffer with it.

A first member whose own first bytes are damaged is one such stretch too:
``gzip`` said "Not a gzipped file" and read nothing of the file. A file
that holds no member at all is then one stretch from its start to its end.
A member that is damaged inside (a gzip member, a bzip2 stream, a zstd
frame) is not read past: its later blocks depend on its earlier ones.

Bounded: a search for the next member starts after the damaged member's
start, which is past every earlier search's end, so a byte is read about
twice at most (once inflated, once searched); and at most ``MAX_FALSE``
candidates (a member's magic bytes inside other bytes) are tried in one
file: past them, the rest of the file is one damaged stretch.
"""
from __future__ import annotations

import bz2
import collections
import io
import lzma
import zlib
from typing import Callable, NamedTuple

from transforms.signatures import Finder

BLOCK = 1 << 16  # compressed bytes fed at a time
TRIAL = 1 << 16  # compressed bytes a candidate must decompress without an error (or end a member in)
TRIAL_OUTPUT = 1 << 20  # at most this much of a candidate is inflated
MAX_FALSE = 1000  # candidates that do not decompress, in one file, before the rest is given up
HOLD_MAX = 1 << 20  # a line longer than this is handed on without waiting for its end
VERIFY_MAX = 16 << 20  # a member's output is held until its checks pass, up to this much; past it, it streams
ZSTD_PIECE = 1024  # compressed bytes fed to zstd at a time: its output has no cap, a piece's is bounded


class Damage(NamedTuple):
    start: int  # the damaged member's offset in the file
    end: int  # where reading went on (the file's size: no member after it)
    error: str  # what the decompressor said


class _Zlib:
    """A gzip member (zlib's own header and trailer checks)."""

    errors = (zlib.error,)

    def __init__(self):
        self.d = zlib.decompressobj(31)

    @property
    def eof(self) -> bool:
        return self.d.eof

    def feed(self, buf: bytes, n: int) -> tuple[bytes, bytes]:
        """(at most ``n`` decompressed bytes, the bytes of ``buf`` to give again)."""
        out = self.d.decompress(buf, n)
        return out, self.d.unused_data if self.d.eof else self.d.unconsumed_tail


class _Buffered:
    """A bzip2 or xz stream: the decompressor holds the input it was given."""

    errors = (OSError, EOFError, lzma.LZMAError)

    def __init__(self, new: Callable):
        self.d = new()

    @property
    def eof(self) -> bool:
        return self.d.eof

    def feed(self, buf: bytes, n: int) -> tuple[bytes, bytes]:
        fed = self.d.needs_input
        out = self.d.decompress(buf if fed else b"", n)  # not fed: output it holds comes first
        rest = b"" if fed else buf
        return out, (self.d.unused_data + rest) if self.d.eof else rest


class _Zstd:
    """A zstd frame (``zstandard``), fed ``ZSTD_PIECE`` bytes at a time."""

    def __init__(self):
        import zstandard

        self.errors = (zstandard.ZstdError,)
        self.d = zstandard.ZstdDecompressor().decompressobj()

    @property
    def eof(self) -> bool:
        return self.d.eof

    def feed(self, buf: bytes, n: int) -> tuple[bytes, bytes]:
        view, at, out, size = memoryview(buf), 0, [], 0
        while at < len(buf) and size < n and not self.d.eof:  # pieces until ``n`` bytes came out
            out.append(self.d.decompress(view[at:at + ZSTD_PIECE]))
            at += ZSTD_PIECE
            size += len(out[-1])
        rest = buf[at:]
        return b"".join(out), (self.d.unused_data + rest) if self.d.eof else rest


class Codec(NamedTuple):
    magic: bytes  # a member's first bytes
    new: Callable  # a decoder of one member
    output_proves: bool  # a candidate must give output (its header's own checks are weak)


CODECS = {
    "gzip": Codec(b"\x1f\x8b\x08", _Zlib, True),  # ID1, ID2, CM = deflate
    "bzip2": Codec(b"BZh", lambda: _Buffered(bz2.BZ2Decompressor), False),
    "xz": Codec(b"\xfd7zXZ\x00", lambda: _Buffered(lambda: lzma.LZMADecompressor(lzma.FORMAT_XZ)), False),
    "zstd": Codec(b"\x28\xb5\x2f\xfd", _Zstd, False),
}


class Members(io.RawIOBase):
    """The decompressed bytes of the seekable file ``raw`` of ``codec`` (a key
    of ``CODECS``), read from its current position, member by member (see
    the module)."""

    def __init__(self, raw, codec: str = "gzip"):
        super().__init__()
        self._raw = raw
        self._codec = CODECS[codec]
        self._at = raw.tell()  # the file offset of _buf[0]
        self._buf = b""  # compressed bytes read and not yet taken by the decoder
        self._member = self._at  # where the current member starts
        self._d = self._codec.new()
        self._started = False  # the current member has been fed
        self._raw_done = False
        self._done = False
        self._false = 0
        self._finder: Finder | None = None  # where a member's magic next occurs, once a member is damaged
        self._ready: collections.deque = collections.deque()  # pieces to hand on, ending at a line break
        self._held = b""  # bytes after the last line break
        self._ends_line = True  # the last byte handed on is a line break (or none was)
        self._unverified: list[bytes] = []  # the current member's output, until its checks pass
        self._unverified_size = 0  # None once the member was too big to hold: its output streams
        self.damaged: list[Damage] = []
        self.truncated: int | None = None  # where the member the file ends inside began

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = len(b)
        while n and not self._ready and not self._done:
            self._step(n)
        if not self._ready:
            return 0
        piece = self._ready[0]
        k = min(n, len(piece))
        b[:k] = piece[:k]
        if k == len(piece):
            self._ready.popleft()
        else:
            self._ready[0] = piece[k:]
        if k:
            self._ends_line = b[k - 1] == 10
        return k

    def _take(self, out: bytes) -> None:
        """Output of the current member: held until its checks pass, or, once
        the member is too big to hold, handed on as it comes, as the standard
        readers do."""
        if self._unverified_size is not None and self._unverified_size + len(out) <= VERIFY_MAX:
            self._unverified.append(out)
            self._unverified_size += len(out)
        else:
            self._verified()
            self._unverified_size = None
            self._hold(out)

    def _verified(self) -> None:
        """The current member's output held so far goes on (its checks passed, or the file ends in it)."""
        for out in self._unverified:
            self._hold(out)
        self._unverified, self._unverified_size = [], 0

    def _hold(self, out: bytes) -> None:
        data = self._held + out
        cut = data.rfind(b"\n") + 1
        if not cut and len(data) <= HOLD_MAX:
            self._held = data
            return
        cut = cut or len(data)
        if cut:
            self._ready.append(data[:cut])
        self._held = data[cut:]

    def _step(self, n: int) -> None:
        """Decompress some bytes (``_take``), or only read input, end a member
        or leave a damaged one."""
        if len(self._buf) < BLOCK and not self._raw_done:
            more = self._raw.read(BLOCK)
            self._buf += more
            self._raw_done = not more
        if not self._started:
            kept = self._buf.lstrip(b"\x00")  # padding between members, as gzip and xz skip it
            self._at += len(self._buf) - len(kept)
            self._buf = kept
            if not self._buf:
                if self._raw_done:  # the end, between members
                    if self._held:
                        self._ready.append(self._held)
                    self._done, self._held = True, b""
                return
            self._member, self._started = self._at, True
        try:
            out, rest = self._d.feed(self._buf, n)  # b"": output a decoder still holds
        except self._d.errors as e:
            self._resync(str(e) or type(e).__name__)
            return
        self._at += len(self._buf) - len(rest)
        self._buf = rest
        if out:
            self._take(out)
        if self._d.eof:  # its checks passed: what it gave goes on
            self._verified()
            self._d, self._started = self._codec.new(), False
        elif not out and not self._buf and self._raw_done:  # the file ends inside this member
            at = self._find(self._member + 1)
            if at is None:  # cut short: what it held is whole up to the cut, but the line it cut is left out
                self._verified()
                self._done, self.truncated, self._held = True, self._member, b""
            else:  # a member cut short in the middle, its data run on through whole members
                self._leave(at, "the member runs on to the end of the file: cut short, with whole members after it")

    def _resync(self, error: str) -> None:
        """Leave the current member, damaged, for the next one found after its start."""
        self._leave(self._find(self._member + 1), error)

    def _leave(self, at: int | None, error: str) -> None:
        """The current member, from its start to ``at`` (None: the file's end), is damaged: go on at ``at``."""
        end = at if at is not None else self._raw.seek(0, io.SEEK_END)
        self.damaged.append(Damage(self._member, end, error))
        self._d, self._started, self._held = self._codec.new(), False, b""  # the cut record goes with it
        self._unverified, self._unverified_size = [], 0  # what the damaged member gave is not handed on
        last = self._ready[-1][-1:] if self._ready else (b"\n" if self._ends_line else b"")
        if last != b"\n":  # a line longer than HOLD_MAX was handed on: not joined to the next
            self._ready.append(b"\n")
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
            at = self._finder(self._codec.magic, pos)
            if at is None or self._decompresses(at):
                return at
            self._false += 1
            pos = at + 1
        return None

    def _decompresses(self, at: int) -> bool:
        self._raw.seek(at)
        data = self._raw.read(TRIAL)
        d = self._codec.new()
        size = 0
        try:
            while data and size < TRIAL_OUTPUT and not d.eof:
                got, rest = d.feed(data, TRIAL_OUTPUT)
                if not got and len(rest) == len(data):  # nothing taken, nothing given: it wants more input
                    break
                size += len(got)
                data = rest
        except d.errors:
            return False
        return size > 0 or d.eof or not self._codec.output_proves
