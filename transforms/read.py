"""Read input files into documents: HTML, plain text, JSON lines, WARC; each
plain or compressed (.gz, .bz2, .xz, .zst).

``ReadDocuments`` expands the user's paths (files, folders, globs, any Beam
filesystem) into file metadata, spreads the files over workers and turns
each one into zero or more raw documents. Everything that cannot become a
document is a reject with a stage and a reason, never a silent skip:
patterns that match nothing, unknown kinds, empty or oversized files,
broken or truncated compressed streams and compression bombs, bad JSON
lines, truncated WARCs.
WARC records that are not HTTP responses (requests, metadata, warcinfo)
are not documents: they are counted in the ``skipped`` output.
"""
from __future__ import annotations

import collections
import datetime as dt
import functools
import glob
import gzip
import io
import json
import logging
import os
import re
import stat
import struct
import tempfile
import warnings
import zlib
from typing import Iterator

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms import csv_records, json_document, members, parquet_records, zip_local
from transforms.content_coding import ContentCodingError, decode_content
from transforms.encoding import (DecodeError, byte_order_mark, decode_bytes, http_charset, plain_text,
                                 utf16_without_bom)
from transforms.records import as_utc, html_content_type, http_status_reason, make_raw, make_reject, utf8_text

__all__ = ["LocalName", "ReadDocuments", "expand_inputs", "kind_of", "line_ranges", "match", "shown", "under",
           "warc_ranges", "SPLIT_BYTES"]

# An escaped "[" (``under``, ``expand_inputs``) reaches Python's re as "[[]" in
# Beam's pattern matching, also inside Beam's own sources (ReadFromParquet):
# re matches it as meant and warns, once per pattern, that such a set may
# nest in a future Python. Only that warning is silenced.
warnings.filterwarnings("ignore", "Possible nested set", FutureWarning)

NAMESPACE = "newsbeam"
# A plain JSON-lines file or a WARC larger than this is read as ranges of
# about this many bytes (~500 text articles, ~50 pages), each its own element
# after the reshuffle: one big file is read, extracted and annotated on every
# worker, not on one. 10,000 articles (21 MB) on 2 workers: 1.41x one worker
# with 8 MB ranges (3 ranges for 2 workers), 1.59x with 1 MB. Several local
# worker processes are dealt a quarter of it (``pipeline.assemble._split_bytes``).
SPLIT_BYTES = 1 << 20
# A JSON record's publication time, the first of these it holds: the SPEC's `published`, then the names other
# tools write it under (newsbeam's own column, schema.org, news-please, newspaper3k, fundus, trafilatura's JSON,
# NewsAPI, JSON Feed, RSS turned into JSON)
PUBLISHED_FIELDS = ("published", "published_at", "datePublished", "date_publish", "publish_date",
                    "publishing_date", "publishedAt", "date_published", "pubDate", "date")
# A record's page or text, the first of these that holds one: the SPEC's `html` and `text`, then the names
# other tools and datasets give them (news-please's `maintext`, `content`, `body`...). A text field holding
# a whole HTML document (as some exports store the page) is read as the page it is.
HTML_FIELDS = ("html", "raw_html", "content_html")  # content_html, content_text: JSON Feed's items
# ... schema.org's articleBody (beside its headline and datePublished), the Guardian API's bodyText, and what
# datasets call it (body_text, full_text, fullText; XSum's document)
TEXT_FIELDS = ("text", "maintext", "content", "body", "article_text", "article", "content_text", "articleBody",
               "bodyText", "body_text", "full_text", "fullText", "document")
URL_FIELDS = ("url", "link")
TITLE_FIELDS = ("title", "headline")
# A record's authors: a name, names in one string, a list of names (news-please's and fundus's `authors`), or
# objects with a `name` (JSON Feed, schema.org); and its summary (NewsAPI, news-please, JSON Feed, trafilatura)
AUTHOR_FIELDS = ("author", "authors", "byline", "creator")
DESCRIPTION_FIELDS = ("description", "summary", "excerpt")

_KINDS = {
    ".html": "html", ".htm": "html", ".xhtml": "html",
    ".txt": "text", ".text": "text",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
    ".csv": "csv", ".tsv": "csv",  # a row a record, named by the header (transforms/csv_records.py)
    ".parquet": "parquet", ".pq": "parquet",  # a row a record, named by the columns (transforms/parquet_records.py)
    ".warc": "warc", ".arc": "warc",  # ARC: the Internet Archive's format before WARC; warcio reads it as WARC
    ".wet": "warc",  # Common Crawl's WET: a WARC of `conversion` records, each a page's text
    ".xml": "feed", ".rss": "feed", ".atom": "feed",
    ".mhtml": "mhtml", ".mht": "mhtml",  # a page a browser saved as one file ("Save as... single file")
    ".webarchive": "webarchive",  # the same from Safari ("Save As... Web Archive")
}


# A WARC or ARC header line (or a line warcio reads between records) longer
# than this is not one: warcio's own readline joins a line's pieces by
# repeated concatenation, quadratic in the line's length (50 MB of bytes
# without a line break took 47 s; a 3 GB one never ended), and held it whole.
MAX_WARC_LINE = 1 << 20
# A compressed file is read past --max-decompressed-bytes while it holds at most this many times its own size on
# disk: text and pages compress 3-10 times (the extraction sets' 96 MB of pages: gzip 5.0, xz 9.4; a Parquet file
# of them, zstd 5.5), a bomb a thousand times and more. Apache POI's zip reader draws the line at the same ratio.
BOMB_RATIO = 100


@functools.lru_cache(maxsize=1)
def _quiet_archive_iterator() -> type:
    """warcio's ArchiveIterator without its own notes on stderr where a record's
    Content-Length is wrong ("Record not followed by newline") or a gzip
    member breaks off (``LineCappedReader._decompress``): the record it
    garbles is a reject with its reason in this run's rejects table, and the
    note printed the bytes after it, even with --quiet. Its lines are read
    in linear time and capped at ``MAX_WARC_LINE``: a longer "line" comes
    back cut, which warcio then refuses as a record header (``not_warc`` or
    ``truncated``). Made once a process.

    warcio's warnings are turned off here too, in every process that reads a
    WARC, not only in the CLI's: "Replacing spaces in invalid WARC-Target-URI:"
    quotes the whole field, up to a megabyte, and a worker of a multi-process
    or distributed run sends each warning to the runner's logging service
    (a few of them overran gRPC's 4 MB message and Beam printed "Logging
    client failed: RESOURCE_EXHAUSTED" on the terminal, even with --quiet)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.bufferedreaders import DecompressingBufferedReader

    logging.getLogger("warcio").setLevel(logging.ERROR)

    class LineCappedReader(DecompressingBufferedReader):
        def _decompress(self, data):
            """warcio's, without its note on stderr when a gzip member breaks
            off mid-way ("Error -3 while decompressing data: incorrect data
            check", even with --quiet): the stream ends there, as warcio
            makes it, and the record it cuts is a ``truncated`` reject."""
            if self.decompressor and data:
                try:
                    data = self.decompressor.decompress(data)
                except Exception as e:
                    if self.num_block_read == 0:  # the first read: not gzip after all (or raw deflate)
                        if self.decomp_type == "deflate":
                            self._init_decomp("deflate_alt")
                            data = self._decompress(data)
                        else:
                            self.decompressor = None
                    else:
                        logging.getLogger(__name__).debug("compressed WARC data broken off: %s", e)
                        return b""
            return data

        def readline(self, length=None):
            limit = MAX_WARC_LINE if length is None or length < 0 else min(length, MAX_WARC_LINE)
            if limit == 0:
                return b""
            pieces, got = [], 0
            while got < limit:
                self._fillbuff()
                if self.empty():
                    break
                piece = self.buff.readline(limit - got)
                pieces.append(piece)
                got += len(piece)
                if piece.endswith(b"\n"):
                    break
            return b"".join(pieces)

    def __init__(self, *args, **kwargs):
        ArchiveIterator.__init__(self, *args, **kwargs)
        if type(self.reader) is DecompressingBufferedReader:  # the reader warcio 1.7-1.8 makes
            self.reader.__class__ = LineCappedReader

    return type("QuietArchiveIterator", (ArchiveIterator,), {"INC_RECORD": "", "__init__": __init__})


def _archive_iterator(stream):
    """warcio's iterator over the records of ``stream`` (no HTTP parsing, ARC as WARC), quiet."""
    return _quiet_archive_iterator()(stream, no_record_parse=True, arc2warc=True)


# a compressed file's suffix -> its compression; any input kind may be compressed
_COMPRESSIONS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}


def compression_of(path: str) -> str | None:
    """The compression a file name declares (``gzip``, ``bzip2``, ``xz``, ``zstd``), or None."""
    return _COMPRESSIONS.get(os.path.splitext(path.lower())[1])


# the first bytes of each compression's stream: a file whose name says nothing of it (a page saved from a
# server's gzip answer as it came, `story.html`) is read as what it is
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"\x28\xb5\x2f\xfd", "zstd"), (b"\xfd7zXZ\x00", "xz"))
_BZIP2_MAGIC = re.compile(rb"BZh[1-9]1AY&SY")


def magic_compression(head: bytes) -> str | None:
    """The compression a file's first bytes show (``gzip``, ``zstd``, ``xz``, ``bzip2``), or None."""
    for magic, codec in _MAGIC:
        if head.startswith(magic):
            return codec
    return "bzip2" if _BZIP2_MAGIC.match(head) else None


def _inner_name(path: str) -> str:
    """The file name, lower-case, without its compression suffix."""
    name = path.lower()
    return os.path.splitext(name)[0] if compression_of(name) else name


# an HTML document's start: comments and an XML declaration, then its doctype or <html>. A comment's body
# cannot hold "-->", so each comment matches one way only: written ``<!--.*?-->``, a run of comments could be
# split in 2^n ways, and a file starting with 40 comments and no doctype held the reader for ever
_HTML_START = re.compile(rb"(?:\xef\xbb\xbf)?\s*(?:<!--(?:[^-]|-(?!->))*-->\s*)*(?:<\?xml[^>]*>\s*)?"
                         rb"(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE | re.DOTALL)


# what the name of a zip or tar archive ends with
_ARCHIVE_NAMES = (".zip", ".wacz", ".tar", ".tgz", ".tbz2", ".txz", ".tzst")


def _is_archive(path: str, head: bytes) -> bool:
    """A zip or tar archive, by its name or its first bytes (a tar's magic is at byte 257)."""
    return (_inner_name(path).endswith(_ARCHIVE_NAMES) or head.startswith(b"PK\x03\x04")
            or head[257:262] == b"ustar")


# every field name a record is read by, and each as a name in any case gives it ("Text", "CONTENT", and a CSV
# header's "datepublished", lower-cased as every header is, for "datePublished")
_FIELD_NAMES = frozenset((*HTML_FIELDS, *TEXT_FIELDS, *URL_FIELDS, *TITLE_FIELDS, *PUBLISHED_FIELDS, *AUTHOR_FIELDS,
                          *DESCRIPTION_FIELDS, "source", "publication", "publisher", "language", "lang", "_source"))
_FOLDED_NAMES = {name.casefold(): name for name in sorted(_FIELD_NAMES)}


def _as_read(rec: dict) -> dict:
    """``rec`` with each field named in another case than newsbeam reads it
    added under the name it is read by; a field named exactly wins, and of
    two spellings of one name the first in the record."""
    extra = None
    for k, v in rec.items():
        if isinstance(k, str) and k not in _FIELD_NAMES:
            name = _FOLDED_NAMES.get(k.casefold())
            if name is not None and name not in rec:
                if extra is None:
                    extra = {}
                extra.setdefault(name, v)
    return {**rec, **extra} if extra else rec


def _unwrapped(rec: dict) -> dict:
    """A record as Elasticsearch and OpenSearch export it (``elasticdump``, a
    search's ``hits``): its fields in ``_source``. Either way, its fields
    named as they are read, whatever their case (``_as_read``)."""
    rec = _as_read(rec)
    inner = rec.get("_source")
    return _as_read(inner) if isinstance(inner, dict) and not any(k in rec for k in HTML_FIELDS + TEXT_FIELDS) else rec


def _names(rec: dict, keys) -> str | None:
    """The names the first of ``keys`` holds, ``; ``-joined: a string, a list
    of strings, or objects (or a list of them) with a ``name``; None for
    anything else. ``clean_authors`` later keeps the people among them."""
    for key in keys:
        v = rec.get(key)
        items = v if isinstance(v, list) else [v]
        names = [x.get("name") if isinstance(x, dict) else x for x in items[:20]]
        names = [x.strip() for x in names if isinstance(x, str) and x.strip()]
        if names:
            return "; ".join(names)
    return None


# In a body given as a structure, the keys whose values are its text, in the order the record lists them
_TEXT_KEYS = ("summary", "sections", "headline", "paragraphs", "paragraph", "text", "content", "body")


def _text_parts(value, depth: int = 0) -> list[str]:
    """The strings of a body given as a structure, in order: a list of
    paragraphs, fundus's ``{"summary": [...], "sections": [{"headline": [...],
    "paragraphs": [...]}]}``, a list of ``{"text": ...}`` blocks. Only text
    keys are read (a block's ``"type": "paragraph"`` is no text), five levels
    down at most."""
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if depth >= 5:
        return []
    if isinstance(value, list):
        return [t for item in value[:10_000] for t in _text_parts(item, depth + 1)]
    if isinstance(value, dict) and not any(k in value for k in URL_FIELDS):  # one with a URL is a record
        return [t for k, v in value.items() if k in _TEXT_KEYS for t in _text_parts(v, depth + 1)]
    return []


def _record_body(rec: dict) -> tuple[str | None, str]:
    """(body, kind) of a JSON record: its first non-empty page field, else its
    first non-empty text field (``html`` when it holds a whole page). ``rec``
    as ``_unwrapped`` gives it."""
    for key in HTML_FIELDS:
        v = rec.get(key)
        if isinstance(v, str) and v and not v.isspace():
            return v, "html"
    for key in TEXT_FIELDS:
        v = rec.get(key)
        if isinstance(v, (dict, list)):  # a body as paragraphs: fundus's {"summary": [...], "sections": [...]}
            v = "\n".join(_text_parts(v))
        if isinstance(v, str) and v and not v.isspace():
            # every JSON record passes here: the cheap test first (a page starts with "<" once blanks are skipped)
            page = v[:4096].lstrip("\ufeff \t\r\n\f\v").startswith("<") and \
                _looks_like_html(v[:4096].encode("utf-8", "surrogatepass"))
            return v, "html" if page else "text"
    return None, "text"


def _looks_like_html(head: bytes) -> bool:
    """Whether a file's first bytes open an HTML document (a page saved under a
    name that says nothing, as mirroring tools name pages by their URL)."""
    return bool(_HTML_START.match(head))


def kind_of(path: str) -> tuple[str | None, bool]:
    """(input kind, compressed) from a file name; kind None if unknown."""
    return _KINDS.get(os.path.splitext(_inner_name(path))[1]), compression_of(path) is not None


class _ZstdStream(io.RawIOBase):
    """A zstd stream's bytes (any number of frames, with the dictionary a
    WARC-zstd file carries in its first frame), read as ``gzip.GzipFile``
    reads gzip: bounded output and ``EOFError`` where the input ends inside a
    frame. ``zstandard``'s own stream reader stops there without a word, and
    its incremental decompressor returns all that one call's input makes:
    it is fed pieces of ``PIECE`` bytes, each of which inflates to about
    32 MiB at most (a zstd block of 128 KiB can be coded in a few bytes)."""

    PIECE = 1024
    # A WARC compressed as the WARC-zstd format says (Archive Team's and wget-at's .warc.zst) opens with a
    # skippable frame of this magic holding the dictionary its record frames need (itself zstd-compressed or
    # not); a larger one than DICTIONARY_CAP is no dictionary
    DICTIONARY_MAGIC = 0x184D2A5D
    DICTIONARY_CAP = 16 << 20

    def __init__(self, raw):
        self._raw = raw
        self._new = self._d = None  # set from the first bytes: with the file's dictionary, if it has one
        self._pending = memoryview(b"")  # compressed bytes not fed yet
        self._out = memoryview(b"")  # decompressed bytes not returned yet
        self._in_frame = False

    def readable(self) -> bool:
        return True

    def _start(self) -> None:
        """The decompressor, with the dictionary of a WARC-zstd file's first frame if it opens with one."""
        import zstandard

        head = self._raw.read(8)
        dictionary = None
        if len(head) == 8 and struct.unpack("<I", head[:4])[0] == self.DICTIONARY_MAGIC:
            size = struct.unpack("<I", head[4:])[0]
            if size > self.DICTIONARY_CAP:
                raise zstandard.ZstdError(f"a dictionary frame of {size} bytes (more than {self.DICTIONARY_CAP})")
            data = self._raw.read(size)
            if len(data) < size:
                raise EOFError("zstd stream ended inside its dictionary frame")
            if data[:4] == b"\x28\xb5\x2f\xfd":  # the dictionary is itself compressed
                data = zstandard.ZstdDecompressor().decompress(data, max_output_size=self.DICTIONARY_CAP)
            dictionary = zstandard.ZstdCompressionDict(data)
            head = b""
        self._new = zstandard.ZstdDecompressor(dict_data=dictionary).decompressobj
        self._d = self._new()
        self._pending = memoryview(head)

    def readinto(self, buf) -> int:
        if self._d is None:
            self._start()
        while not self._out:
            if not self._pending:
                self._pending = memoryview(self._raw.read(1 << 16))  # sliced below without copies
                if not self._pending:
                    if self._in_frame:
                        raise EOFError("zstd stream ended inside a frame")
                    return 0
            piece, self._pending = self._pending[:self.PIECE], self._pending[self.PIECE:]
            self._out = memoryview(self._d.decompress(piece))
            self._in_frame = True
            if self._d.eof:  # a frame ended: what follows starts the next one
                self._pending = memoryview(self._d.unused_data + self._pending)
                self._d, self._in_frame = self._new(), False
        n = min(len(buf), len(self._out))
        buf[:n] = self._out[:n]
        self._out = self._out[n:]  # a view: the rest is not copied at each read
        return n


class _CutWatch:
    """A bzip2, xz or zstd stream (or an archive's file) as warcio reads a WARC from it. warcio takes
    an ``EOFError`` for the end of its records, so a WARC cut short inside a
    compressed block ended without a word; and a buffered read that met a
    cut, or bytes the decompressor cannot read, lost what it had read before
    them. Here each read takes what one read of the decompressor gives
    (``read1``) until it has enough; at a cut or a bad stretch it keeps what
    came before, and ``error`` holds what was raised, for the reader to
    raise once warcio has had every record before it."""

    def __init__(self, inner):
        self.inner, self.error = inner, None
        self._read = getattr(inner, "read1", inner.read)  # one read of the decompressor where it has read1

    def read(self, n: int = -1) -> bytes:
        parts, want = [], n if n is not None and n >= 0 else None
        while self.error is None and (want is None or want > 0):
            try:
                chunk = self._read(1 << 16 if want is None else want)
            except (EOFError, *_bad_stream_errors()) as e:
                self.error = e
                break
            if not chunk:
                break
            parts.append(chunk)
            if want is not None:
                want -= len(chunk)
        return b"".join(parts)


def _by_members(codec: str | None, raw) -> bool:
    """Whether a compressed file of records is read member by member
    (``members``): a seekable file of a codec it reads, but not a zstd file
    that opens with a skippable frame (the WARC-zstd format's dictionary,
    which ``_ZstdStream`` reads)."""
    if codec not in members.CODECS or not raw.seekable():
        return False
    if codec == "zstd":
        head = raw.peek(4)[:4] if hasattr(raw, "peek") else b""
        return not (len(head) == 4 and head[0] & 0xF0 == 0x50 and head[1:] == b"\x2a\x4d\x18")
    return True


def _decompressed(raw, compression: str):
    """A buffered reader of the decompressed bytes of ``raw`` (each with
    ``read(n)``, ``readline(n)`` and ``peek``, and ``EOFError`` on truncation)."""
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if compression == "bzip2":
        import bz2

        return bz2.BZ2File(raw, mode="rb")
    if compression == "xz":
        import lzma

        return lzma.LZMAFile(raw, mode="rb")
    if compression == "zstd":
        return io.BufferedReader(_ZstdStream(raw), 1 << 16)
    raise ValueError(f"unknown compression {compression!r}")


def _bad_stream_errors() -> tuple[type[BaseException], ...]:
    """What a decompressor raises on bytes that are not its format."""
    import lzma

    import zstandard

    return gzip.BadGzipFile, zlib.error, lzma.LZMAError, zstandard.ZstdError


def splittable(path: str, size: int, split: int = SPLIT_BYTES) -> bool:
    """A plain (not compressed) JSON-lines file, not a .json array, or a WARC
    (plain or gzip, record by record), larger than ``split``."""
    kind, compressed = kind_of(path)
    if kind == "warc":  # warcio finds each record of a plain or gzip WARC; another compression is read whole
        return size > split and compression_of(path) in (None, "gzip")
    return kind == "jsonl" and not compressed and not path.lower().endswith(".json") and size > split


STRIDE = "stride"  # an element (path, size, STRIDE, k, n): the k-th of every n outputs of reading the whole file
_ELSEWHERE = object()  # in place of a record's one output that another worker's stride gives
# Kinds whose files hold many records: one read whole (compressed JSON lines, a CSV, a JSON document, an
# archive, a WARC of another compression, a damaged WARC) is read by every worker, each keeping its share
STRIDED_KINDS = ("jsonl", "csv", "parquet", "warc", "archive")


def strided(path: str, size: int, split: int) -> bool:
    """A file of many records read whole, larger than ``split``: every one of
    several workers reads it and keeps every n-th output (``_ReadFileFn``),
    so its records are extracted and annotated on all of them."""
    kind, _ = kind_of(path)
    return size > split and (kind in STRIDED_KINDS or (kind is None and path.lower().endswith(_ARCHIVE_NAMES)))


def warc_ranges(path: str, split: int = SPLIT_BYTES) -> list[tuple[int, int | None, int]]:
    """(byte offset, records, number of the first record) of runs of whole
    records of about ``split`` bytes of a WARC, from one pass of warcio over
    it; the last run's records are None (to the end of the file, where the
    reader checks that the last gzip member is whole). Raises on a WARC
    warcio cannot frame record by record to its end (one gzip stream around
    the whole file, a damaged stretch, a read or decompression error): such
    a file is read whole, from its start. What warcio makes of a damaged
    stretch depends on where its reading began (its buffers fall
    differently), so a damaged WARC read in runs could give other rows on
    one worker than on two; read whole, the reader goes on past the stretch
    all the same (``warc_events``)."""
    offsets = []
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        gz = compression_of(path) == "gzip"
        # the tap passes the bytes on as the whole file's reader has them
        for event in warc_events(_GzipTap(raw) if gz else raw, raw, gz, tap=gz):
            if event[0] == "record":
                offsets.append(event[1])
            elif event[0] == "stretch":
                raise ValueError(f"the WARC has a stretch warcio cannot frame: {_describe(event[2])}")
            elif event[0] == "end" and not gz and event[1].read(1):
                raise ValueError("the WARC does not end with a whole record")
    ranges: list[list] = []
    for i, off in enumerate(offsets):
        if not ranges or off >= ranges[-1][0] + split:
            ranges.append([off, 0, i + 1])
        ranges[-1][1] += 1
    if ranges:
        ranges[-1][1] = None
    return [tuple(r) for r in ranges]


def warc_events(stream, raw=None, gz: bool = False, tap: bool = False):
    """What warcio makes of a WARC, in file order, for the reader and for the
    pass that cuts a big file into runs (one rule, so that both count alike):

    - ``("record", offset, record)`` for each record it frames;
    - ``("stretch", after, error)`` where it cannot frame past the record at
      byte ``after`` (or the start), or where a gzip WARC's records end
      before the file's last member that holds one; then, asked for more,
      the next place a record starts in ``raw`` (``resume_warc``, the stream
      through a ``_GzipTap`` if ``tap``) as ``("resumed", offset)`` before its
      records, or nothing more if there is none (or no ``raw``);
    - ``("end", stream)`` after the last record, with the stream read last.

    Read and decompression errors are raised (the file's boundary names them)."""
    start = raw.tell() if raw is not None else 0
    it = _archive_iterator(stream)
    records, recent, pending = iter(it), collections.deque(maxlen=16), None
    while True:
        if pending is not None:  # the first record after a damaged stretch, read when it was found
            rec, pending = pending, None
        else:
            try:
                rec = next(records)
                error = None
            except StopIteration:
                if not gz or raw is None:  # the end of the file (a plain WARC's records end where warcio says)
                    yield "end", stream
                    return
                error = StopIteration  # a gzip WARC: unless another member follows that holds a record
            except (EOFError, OSError, _TooLarge, *_bad_stream_errors()):
                raise
            except Exception as e:  # warcio on a record it cannot frame (ArchiveLoadFailed, or another error)
                error = e
            if error is not None:
                # warcio may have framed a record or two out of the damage before it gave up (a garbage
                # gzip member read as plain bytes): the search starts after the last record that starts
                # as a record does, so that the first good one after the damage is not taken for part of them
                after = next((o for o in reversed(recent) if raw is None or _warc_record_at(raw, o, gz)), start)
                if error is StopIteration:
                    found = resume_warc(raw, after, gz, tap)
                    if found is None:  # the end of the file
                        yield "end", stream
                        return
                    # warcio ended its records quietly inside a damaged stretch (a gzip member cut short
                    # and read on into the next one), with members holding records after it in the file
                    yield "stretch", after, ValueError("the records ended at a damaged gzip member before the "
                                                       "end of the file")
                else:
                    yield "stretch", after, error  # the reader may read the file another way from here
                    found = resume_warc(raw, after, gz, tap) if raw is not None else None
                if found is None:
                    return
                start, stream, it, records, pending = found
                recent.clear()
                yield "resumed", start
                continue
        recent.append(it.offset)  # where this record starts (get_record_offset would read it to its end first)
        yield "record", recent[-1], rec


# how many places that look like a record's start are tried after a damaged stretch of a WARC before the
# rest of the file is given up (one reject, as before): a file of many false starts costs bounded time
MAX_RESUME_TRIES = 1000


def resume_warc(raw, after: int, gz: bool, tap: bool = False):
    """After a stretch of a WARC that warcio cannot frame, which follows
    byte ``after``: the first place after it where a record starts
    (``next_warc_record``) and warcio reads one, as (that offset, the stream
    from there, warcio's iterator over it, the iterator of its records, the
    first record); None when there is none
    (or after ``MAX_RESUME_TRIES`` false starts). ``tap``: the stream goes
    through a ``_GzipTap``, which notices a cut last member. Raises what the
    reader leaves to the file's boundary (read and decompression errors)."""
    from warcio.exceptions import ArchiveLoadFailed

    for _ in range(MAX_RESUME_TRIES):
        at = next_warc_record(raw, after, gz)
        if at is None:
            return None
        raw.seek(at)
        stream = _GzipTap(raw) if tap else raw
        it = _archive_iterator(stream)
        records = iter(it)
        try:
            return at, stream, it, records, next(records)
        except (StopIteration, ArchiveLoadFailed):
            pass
        except (EOFError, OSError, *_bad_stream_errors()):
            raise
        except Exception:  # noqa: BLE001 (a false start: part of the same stretch)
            pass
        after = at
    return None


_WARC_HEADER = re.compile(rb"WARC/1\.[01]\r?\n")
# an ARC record's header line (warcio reads ARC as WARC): URL, IP address, date, then up to seven fields
# (content type; in version 2 also status, checksum, location, offset, file), then the length
_ARC_HEADER = re.compile(rb"[A-Za-z][A-Za-z0-9+.-]*:\S* \S+ \d{14} (?:\S+ ){1,7}\d+\r?\n")
# where such a line may start in a plain file: after a line break, a URL's scheme, a space, a date later on
_ARC_START = re.compile(rb"\n(?=[A-Za-z][A-Za-z0-9+.-]*:\S* \S+ \d{14} )")
_HEAD = 1 << 10  # bytes of a candidate record read to check its first line


def next_warc_record(raw, after: int, gz: bool, block: int = 1 << 16) -> int | None:
    """The offset of the first WARC (or ARC) record that starts after byte
    ``after`` of the seekable ``raw``: a gzip member whose first bytes
    inflate to a record's header line (``gz``), or such a line at the start
    of a line; None when there is none. Where a WARC is damaged (a garbled
    or cut gzip member, bytes between two records) reading goes on from
    there, so one bad stretch costs the records in it, not every record
    after it. The file is read from there a block at a time, the blocks
    overlapping by half a block (up to 1 KB), so that a first line cut by a
    block's end is found in the next."""
    pos = after + 1
    while True:
        raw.seek(pos)
        data = raw.read(block)
        if not data:
            return None
        for i in _candidates(data, gz):
            if _warc_record_at(raw, pos + i, gz):
                return pos + i
        if len(data) < block:
            return None
        pos += len(data) - min(_HEAD, block // 2)


def _candidates(data: bytes, gz: bool) -> Iterator[int]:
    """Offsets in ``data`` where a record may start, in order: each gzip
    member's magic; or each ``WARC/1.`` and each line that opens as an ARC
    record's does."""
    if gz:
        i = data.find(b"\x1f\x8b\x08")
        while i >= 0:
            yield i
            i = data.find(b"\x1f\x8b\x08", i + 1)
        return
    i = 0
    while i < len(data):
        warc = data.find(b"WARC/1.", i)
        # an ARC line is looked for only up to the next WARC candidate (and its first line's length past it):
        # a stretch followed by many records is not searched to the block's end for each of them
        stop = len(data) if warc < 0 else min(len(data), warc + _HEAD)
        arc = _ARC_START.search(data, max(i - 1, 0), stop)
        if arc and (warc < 0 or arc.start() + 1 < warc):
            yield arc.start() + 1
            i = arc.start() + 2
        elif warc >= 0:
            yield warc
            i = warc + 1
        else:
            return


def _warc_record_at(raw, at: int, gz: bool) -> bool:
    """Whether a WARC or ARC record starts at byte ``at`` of ``raw`` (warcio
    counts offsets below 0 in a gzip file that is one stream: none there)."""
    if at < 0:
        return False
    if gz:
        raw.seek(at)
        try:
            head = zlib.decompressobj(31).decompress(raw.read(4 * _HEAD), _HEAD)
        except zlib.error:
            return False
    else:
        raw.seek(max(0, at - 1))
        head = raw.read(_HEAD if at == 0 else _HEAD + 1)
        if at:
            if head[:1] != b"\n":
                return False
            head = head[1:]
    return _WARC_HEADER.match(head) is not None or _ARC_HEADER.match(head) is not None


def line_ranges(path: str, split: int = SPLIT_BYTES, block: int = 4 << 20) -> list[tuple[int, int | None, int]]:
    """(first byte, end byte or None for the end of the file, number of the
    first line) of ranges of about ``split`` bytes, each starting at a line
    start, so that every line is read by exactly one range and keeps the
    number a reading from the top gives it. One pass over the file, counting
    newlines."""
    bounds = [(0, 1)]
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        head = f.read(16)
        f.seek(0)
        # read whole: a UTF-16 or UTF-32 newline is not one byte; compressed bytes have no lines; a JSON
        # document (a pretty-printed array) is not one record a line
        if _wide_encoding(head) or magic_compression(head) or _is_json_document(path, _first_line(f, 1 << 20)):
            return [(0, None, 1)]
        f.seek(0)
        pos, lines, target = 0, 0, split  # offset of the block, newlines before it, next cut
        while True:
            data = f.read(block)
            if not data:
                break
            while target - 1 < pos + len(data):
                i = data.find(b"\n", max(0, target - 1 - pos))
                if i < 0:
                    break
                start = pos + i + 1
                bounds.append((start, lines + data.count(b"\n", 0, i + 1) + 1))
                target = start + split
            lines += data.count(b"\n")
            pos += len(data)
    if len(bounds) > 1 and bounds[-1][0] >= pos:  # a cut at the very end: nothing after it
        bounds.pop()
    ends = [b for b, _ in bounds[1:]] + [None]
    return [(b, e, n) for (b, n), e in zip(bounds, ends)]


class LocalName(str):
    """A local file whose name is not UTF-8 (bytes written by an old archiver
    or another system's encoding): the name shown with each undecodable byte
    as ``\\xNN``, which is what its rows and rejects give as ``source``,
    carrying the name's own bytes (``raw``) to open it. Beam encodes a str as
    UTF-8, which such a name is not, so between steps it travels as those
    bytes (``portable``)."""

    raw: bytes

    def __new__(cls, raw: bytes):
        self = super().__new__(cls, raw.decode("utf-8", "backslashreplace"))
        self.raw = raw
        return self


def portable(path: str) -> str | bytes:
    """``path`` as an element can carry it: itself, or the bytes of a local
    name that is not UTF-8 (Python holds those bytes as lone surrogates)."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path)


def _named(path: str | bytes) -> str:
    return LocalName(path) if isinstance(path, bytes) else path


def shown(path: str) -> str:
    """A path as rows show it: a name that is not UTF-8 with its bytes escaped
    (``records.make_raw`` and ``make_reject`` show every source and error so)."""
    return utf8_text(path)


def _open(path: str):
    """A file's bytes, without decompression: a ``LocalName`` by its own bytes."""
    raw = getattr(path, "raw", None)
    if raw is not None:
        return open(raw, "rb")
    return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)


def _not_a_file(path: str) -> str | None:
    """Why a local path is not read although it was listed (a named pipe would
    block the reader for ever, a device never ends), or None for a regular file
    and for anything that is not a local path."""
    if "://" in path:
        return None
    try:
        mode = os.stat(getattr(path, "raw", path)).st_mode
    except OSError:
        return None  # opening it names the error (open_failed)
    if stat.S_ISREG(mode):
        return None
    what = ("a named pipe" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    return f"{what}: only regular files are read"


def _folders(top: str, onerror) -> Iterator[tuple[str, list[str]]]:
    """(folder, names of what is not a folder in it) for ``top`` and every
    folder under it, top-down in listing order, links to folders not
    followed: ``os.walk`` without its recursion. Python 3.11's ``os.walk``
    takes a frame a level, so a folder nested 1,000 deep raised
    RecursionError and the whole input was one ``no_match`` reject, its other
    files unread."""
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError as e:
            onerror(e)
            continue
        subfolders, names = [], []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:  # os.walk's reading: what cannot be looked at is not a folder
                is_dir = False
            (subfolders if is_dir else names).append(entry.name)
        yield folder, names
        for name in reversed(subfolders):
            path = os.path.join(folder, name)
            if not os.path.islink(path):
                stack.append(path)


def _walk(folder: str) -> tuple[list[tuple[str, int]], list[tuple[str, str]]]:
    """A local folder listed once, recursively, as Beam's local listing walks
    it (links to folders not followed): (path, size) of each entry, and
    (path, why) of each that cannot be looked at (a symbolic link to nothing,
    a file removed meanwhile, a subfolder that cannot be opened or whose path
    is too long), which Beam's listing leaves out without a word: each of
    those becomes a reject."""
    files, unlisted, errors = [], [], []
    for dirpath, names in _folders(folder, errors.append):
        for name in names:
            path = os.path.join(dirpath, name)
            try:
                files.append((path, os.path.getsize(path)))
            except OSError as e:
                unlisted.append((path, _describe(e)))
    unlisted += [(e.filename if isinstance(e.filename, str) else folder, _describe(e)) for e in errors]
    return files, unlisted


def expand_inputs(paths: list[str]) -> list[str]:
    """Turn the user's inputs into match patterns: folders become recursive
    globs. A local folder or file that exists is taken as named: the ``[``,
    ``*`` and ``?`` in its name are escaped (``news [2024]`` would otherwise be
    a character class and match nothing); anything else is a glob."""
    out = []
    for p in paths:
        if "://" not in p and os.path.isdir(p):
            out.append(os.path.join(glob.escape(os.path.abspath(p)), "**"))
        elif "://" not in p and os.path.lexists(p):
            out.append(glob.escape(os.path.abspath(p)))
        elif "://" not in p:
            out.append(os.path.abspath(p))
        elif p.endswith("/"):
            out.append(p + "**")
        else:
            out.append(p)
    return out


def under(folder: str, *parts: str) -> str:
    """A match pattern for ``parts`` (which may hold ``*``) inside ``folder``,
    taken as named: a local folder's ``[``, ``*`` and ``?`` are escaped (an
    output folder ``out [2024]`` would otherwise find no index, state or
    commit journal of earlier runs)."""
    return FileSystems.join(folder if "://" in folder else glob.escape(folder), *parts)


def match(pattern: str) -> list:
    """``FileSystems.match`` of one pattern: its files' metadata."""
    return FileSystems.match([pattern])[0].metadata_list


def _unescaped(pattern: str) -> str:
    """A local path as named, from ``expand_inputs``'s escaped pattern."""
    return re.sub(r"\[([*?[])\]", r"\1", pattern)


class _MatchFn(beam.DoFn):
    """pattern -> (path, size) for every file, or one element per range of a
    large file: (path, size, first byte, end byte, first line) of a JSON-lines
    file, (path, size, first byte, records, first record) of a WARC; or, for
    a large file of many records that is read whole, one element per worker
    sharing it: (path, size, ``STRIDE``, k, n) (``strided``); a pattern with
    no file is a reject."""

    def __init__(self, split_bytes: int = SPLIT_BYTES, skip: str | None = None, strides: int = 1):
        self.split = split_bytes
        self.skip = skip
        self.strides = strides  # the workers one file read whole is shared by (``strided``)

    def process(self, pattern: str):
        folder = _unescaped(pattern[:-3]) if "://" not in pattern and pattern.endswith(os.sep + "**") else None
        try:
            if folder and os.path.isdir(folder):  # a local folder (expand_inputs): one walk, nothing left out
                files, unlisted = _walk(folder)
            else:
                files, unlisted = [(m.path, m.size_in_bytes) for m in match(pattern) if not m.path.endswith("/")], []
        except Exception as e:  # a missing folder, a bad glob, an unreachable bucket
            why = f"{type(e).__name__}: {e}"
            if pattern.lower().startswith(("http://", "https://")):  # Beam lists no web address
                why = ("a web address is not a file or folder --input can list: give a feed's address with --feeds "
                       "(its articles are fetched), or save the pages and give their folder; " + why)
            yield pvalue.TaggedOutput("rejects", make_reject(
                source=pattern, source_format="unknown", stage="read", reason="no_match", error=why[:1000]))
            return
        own = 0
        if self.skip:  # the run's own output folder
            kept = [f for f in files if not f[0].startswith(self.skip)]
            own, files = len(files) - len(kept), kept
            unlisted = [u for u in unlisted if not u[0].startswith(self.skip)]
        for path, why in sorted(unlisted):
            yield pvalue.TaggedOutput("rejects", make_reject(
                source=path, source_format=kind_of(path)[0] or "unknown", stage="read",
                reason="open_failed", error=why))
        if not files and not unlisted:
            why = "no file matches this input"
            if own:  # `newsbeam run out --output out`
                why = (f"the {own} files this input matches are all in this run's own --output folder, which is "
                       f"never read as input: give the folder of the news files")
            elif os.path.basename(_unescaped(pattern)) == "-":  # `... | newsbeam run --input -`
                why += ("; standard input is not read (Beam's workers read files): save it to a file and give "
                        "that file, e.g. `newsbeam run --input items.jsonl`")
            yield pvalue.TaggedOutput("rejects", make_reject(
                source=_unescaped(pattern), source_format="unknown", stage="read", reason="no_match", error=why))
        for path, size in sorted(files):
            size = int(size)
            if self.split and splittable(path, size, self.split):
                warc = kind_of(path)[0] == "warc"
                try:
                    ranges = warc_ranges(path, self.split) if warc else line_ranges(path, self.split)
                except Exception as e:  # unreadable here: read whole, where the reader's boundary takes it
                    # no row to add: the reader's boundary gives the file's reject, if it has one
                    logging.getLogger(__name__).debug("reading %s whole, not in ranges: %s", path, _describe(e))
                    ranges = None
                if ranges and len(ranges) > 1:
                    for start, end, first in ranges:  # (offset, records, first record) or (offset, end, first line)
                        yield (portable(path), size, start, end, first)
                    continue
            if self.strides > 1 and self.split and strided(path, size, self.split):
                for k in range(self.strides):
                    yield (portable(path), size, STRIDE, k, self.strides)
                continue
            yield (portable(path), size)


def _wide_encoding(head: bytes) -> tuple[bytes, str] | None:
    """(byte-order mark, encoding) when ``head`` starts with a UTF-16 or UTF-32
    one (``transforms.encoding``'s table); (b"", encoding) for UTF-16 without
    one, whose ASCII shows as a NUL in every other byte (SQL Server's ``bcp
    -w``, .NET's ``UnicodeEncoding(false, ...)``); else None."""
    mark = byte_order_mark(head)
    if mark and mark[1].startswith(("utf-16", "utf-32")):
        return mark
    bare = utf16_without_bom(head)
    return (b"", bare) if bare else None


class _Utf8Lines:
    """A UTF-16 or UTF-32 byte stream read as UTF-8: ``readline(n)`` (at most
    ``n`` characters, so a line's memory stays bounded), ``read(n)`` and
    ``peek``. A newline in UTF-16 is two bytes, so lines cannot be cut on the
    byte; bytes that do not decode become U+FFFD, and the line is still read."""

    def __init__(self, raw, encoding: str):
        self._text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        self._ahead = b""

    def peek(self, n: int = 64) -> bytes:
        if not self._ahead:
            self._ahead = self._text.read(n).encode("utf-8", "surrogatepass")
        return self._ahead

    def _take(self, text: str) -> bytes:
        data, self._ahead = self._ahead + text.encode("utf-8", "surrogatepass"), b""
        return data

    def readline(self, n: int = -1) -> bytes:
        if self._ahead:
            nl = self._ahead.find(b"\n")
            if nl >= 0:
                line, self._ahead = self._ahead[:nl + 1], self._ahead[nl + 1:]
                return line
        return self._take(self._text.readline(n))

    def read(self, n: int = -1) -> bytes:
        return self._take(self._text.read(n))


class _TooLarge(Exception):
    pass


# Status lines accepted in a WARC response's HTTP block (warcio knows 1.0 and
# 1.1 only; crawlers record HTTP/2 responses as well)
_HTTP_PROTOCOLS = ["HTTP/1.0", "HTTP/1.1", "HTTP/2", "HTTP/2.0", "HTTP/3"]


def _first_line(stream, cap: int) -> bytes:
    """The blank lines at the start of a JSON file and its first other line
    (at most ``cap`` bytes of it, and of blank lines about 1 MiB)."""
    start = b""
    while True:
        line = stream.readline(cap + 1)
        start += line
        if not line or line.strip() or len(start) > (1 << 20) or len(line) > cap:
            return start


class _Prepended:
    """A stream with ``data`` put back in front of it (``readline(n)``, ``read(n)``)."""

    def __init__(self, data: bytes, stream):
        self._data = io.BytesIO(data)
        self._left = len(data)
        self._stream = stream

    def readline(self, n: int = -1) -> bytes:
        if self._left:
            line = self._data.readline(n)
            self._left -= len(line)
            if line.endswith(b"\n") or (n >= 0 and len(line) >= n) or self._left:
                return line
            return line + self._stream.readline(-1 if n < 0 else n - len(line))
        return self._stream.readline(n)

    def read(self, n: int = -1) -> bytes:
        if self._left:
            data = self._data.read(n)
            self._left -= len(data)
            return data
        return self._stream.read(n)


def _wacz_capture(name: str) -> bool:
    """A file of a WACZ (Webrecorder's and Browsertrix's package: a zip of
    WARCs under ``archive/``, with ``pages/*.jsonl`` lists of the pages,
    ``indexes/`` and ``datapackage*.json`` describing them) that holds the
    captures: its WARCs. The lists and indexes hold no page and are counted."""
    return name.startswith("archive/") and kind_of(name)[0] == "warc"


class _MemberSources:
    """The source of each file of one archive: ``news.zip/2024/a.html``. An
    archive can hold two files of one name (``tar -r`` appends a newer copy, a
    zip tool adds one beside the old): the second is ``news.zip/2024/a.html
    (2)``, so that each is one input with its own row and ``doc_id``, not two
    rows of one id."""

    def __init__(self, path: str):
        self.path, self.used = path, set()

    def of(self, name: str) -> str:
        src, k = f"{self.path}/{name}", 1
        while src in self.used:
            k += 1
            src = f"{self.path}/{name} ({k})"
        self.used.add(src)
        return src


class _Budget:
    """Bytes left to decompress: from one compressed file, or from one archive, shared by its files."""

    def __init__(self, left: int, why: str = "decompressed past the cap (--max-decompressed-bytes)"):
        self.left, self.why = left, why

    def spend(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _TooLarge(self.why)


class _Counted:
    """A stream whose bytes are counted against a ``_Budget`` (``read``, ``readline``, ``peek``)."""

    def __init__(self, stream, budget: _Budget):
        self._stream, self._budget = stream, budget

    def _limit(self, n: int) -> int:
        """``n`` bounded by what is left (plus one byte, to notice the cap): nothing is inflated past it."""
        self._budget.spend(0)
        return self._budget.left + 1 if n < 0 or n > self._budget.left + 1 else n

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(self._limit(n))
        self._budget.spend(len(data))
        return data

    def readline(self, n: int = -1) -> bytes:
        data = self._stream.readline(self._limit(n))
        self._budget.spend(len(data))
        return data

    def read1(self, n: int = -1) -> bytes:
        """One read of the stream's own (``_CutWatch`` keeps what came before a cut so), where it has one."""
        data = getattr(self._stream, "read1", self._stream.read)(self._limit(n))
        self._budget.spend(len(data))
        return data

    def peek(self, n: int = 1) -> bytes:
        return self._stream.peek(n)

    def readable(self) -> bool:
        return True


class _TarBlocks:
    """A tar archive's (decompressed) bytes as ``tarfile`` reads them, with
    where runs of whole zero blocks are. Read with ``ignore_zeros``, tarfile
    goes on past a block that is no header (a damaged member) to the next
    header, as it goes on past the zeros between two archives joined; the
    runs tell the two apart (``zeros``). Every byte read is spent from
    ``budget``: a stream of zeros is not read for ever."""

    BLOCK = 512
    ZERO = bytes(512)
    # zeros at the end handed to tarfile (a last file may end in zeros before the archive's end blocks);
    # past them, zeros to the end of the file are noted, not read by tarfile a block at a time
    TRAILING_ZEROS = 16 << 20

    def __init__(self, inner, budget: _Budget):
        self.inner, self.budget = inner, budget
        self.pos = 0  # bytes read so far
        self.runs: collections.deque[list[int]] = collections.deque()  # [start, end) of runs of zero blocks
        self._carry = b""  # the start of a block not read whole yet
        self._held_zeros, self._held = 0, b""  # read ahead past zeros, to hand out next
        self._unread_zeros = 0  # zeros up to the end of the file, past TRAILING_ZEROS

    def read(self, n: int = -1) -> bytes:
        if self._held_zeros:  # zeros read ahead past: handed out as they were
            data = bytes(self._held_zeros if n < 0 else min(n, self._held_zeros))
            self._held_zeros -= len(data)
        elif self._held:
            data, self._held = (self._held, b"") if n < 0 else (self._held[:n], self._held[n:])
        elif self._unread_zeros:
            self._note_zeros(self._unread_zeros)
            self._unread_zeros = 0
            return b""
        else:
            data = self.inner.read(n)
            self.budget.spend(len(data))
            if data and not data.strip(b"\x00"):
                return self._past_zeros(data, n)
        self._note(data)
        return data

    def _past_zeros(self, data: bytes, n: int) -> bytes:
        """Zeros met (an archive's end blocks, or a stream of zeros): read on
        to see what follows. Something: the zeros are handed out, then it. The
        end of the file: ``TRAILING_ZEROS`` of them are (a last file may end in
        zeros), and the rest are only noted, not read by tarfile a block at a
        time as headers that are not there."""
        zeros = len(data)
        while True:
            more = self.inner.read(1 << 20)
            self.budget.spend(len(more))
            if not more:  # zeros to the end: the first of them handed out, the rest noted
                self._held_zeros = min(zeros, self.TRAILING_ZEROS)
                self._unread_zeros = zeros - self._held_zeros
                return self.read(n)
            if more.strip(b"\x00"):  # something after them: the zeros first, then it
                self._held_zeros, self._held = zeros, more
                return self.read(n)
            zeros += len(more)

    def _note_zeros(self, k: int) -> None:
        """``_note`` of ``k`` zero bytes, without making them."""
        if self._carry:  # the block begun before them, finished with zeros
            fill = min(k, self.BLOCK - len(self._carry))
            self._note(bytes(fill))
            k -= fill
        whole = k - k % self.BLOCK
        if whole:
            self._zeros(self.pos, self.pos + whole)
            self.pos += whole
        self._note(bytes(k - whole))

    def _note(self, data: bytes) -> None:
        buf = self._carry + data
        start = self.pos - len(self._carry)  # where buf starts: at a block's start
        whole = len(buf) - len(buf) % self.BLOCK
        if whole and not buf[:whole].strip(b"\x00"):  # all zeros: one run
            self._zeros(start, start + whole)
        elif self.ZERO in buf:
            for i in range(0, whole, self.BLOCK):
                if buf[i:i + self.BLOCK] == self.ZERO:
                    self._zeros(start + i, start + i + self.BLOCK)
        self._carry = buf[whole:]
        self.pos += len(data)

    def _zeros(self, start: int, end: int) -> None:
        if self.runs and self.runs[-1][1] == start:
            self.runs[-1][1] = end
        else:
            self.runs.append([start, end])

    def zeros(self, start: int, end: int) -> bool:
        """Whether bytes ``start``..``end`` (whole blocks) are all zero blocks.
        Asked with ``start`` never going back (each member's end, in order):
        the runs that end before it are dropped, so each question is answered
        from the first run left, whatever the number of members and runs."""
        while self.runs and self.runs[0][1] <= start:
            self.runs.popleft()
        return start >= end or bool(self.runs and self.runs[0][0] <= start and self.runs[0][1] >= end)

    def tail_is_zeros(self, end: int) -> bool:
        """Whether everything read after byte ``end`` is zeros (the archive's end blocks and padding)."""
        last = self.pos - len(self._carry)
        return self.zeros(end, last) and not self._carry.strip(b"\x00")


def _text_encoding(sample: bytes) -> str:
    """The encoding a JSON document or a CSV file is read in, from its first bytes: UTF-8
    (a character cut where the sample ends is no sign against it), else what
    a text file of these bytes decodes as (``decode_bytes``: a Latin-1
    export), else UTF-8, JSON's own, with U+FFFD for what is not: bytes no
    charset fits (a damaged stretch) must not cost the records before them.
    UTF-16 without a byte-order mark comes first: its ASCII, a NUL in every
    other byte, is valid UTF-8."""
    bare = utf16_without_bom(sample)
    if bare:
        return bare
    for cut in range(4):
        try:
            sample[:len(sample) - cut].decode("utf-8")
            return "utf-8"
        except UnicodeDecodeError:
            continue
    try:
        return decode_bytes(sample, None, is_html=False)[1]
    except DecodeError:
        return "utf-8"


def _is_json_document(path: str, start: bytes) -> bool:
    """Whether a JSON file is one document, read record by record
    (``_ReadFileFn._document``), not JSON lines: a .json file that opens an
    array, or any whose first non-blank line (``start``) is the start of a
    value that goes on (a pretty-printed record, `jq .`'s output) or an object
    that holds a list of records (an API's answer on one line)."""
    return (_inner_name(path).endswith(".json") and start.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[") or \
        json_document.layout(start, _is_record) == "document"


def _is_record(obj: dict) -> bool:
    """Whether a JSON object is a record: it holds a page or a text (``_record_body``)."""
    return _record_body(_unwrapped(obj))[0] is not None


def _json_loads(data: bytes):
    """A JSON document from bytes. JSON is UTF-8, but a record exported from
    a Latin-1 database or cut and joined may hold a byte that is not: the
    bytes are then decoded as a text file is (UTF-8 with U+FFFD for a few
    stray bytes, else the charset they fit) rather than the record lost
    as ``bad_json``."""
    try:
        return json_document.loads(data)
    except UnicodeDecodeError:
        try:
            text = decode_bytes(data, None, is_html=False)[0]
        except DecodeError as e:
            raise ValueError(f"not UTF-8, and no text encoding fits: {e}") from None
        return json_document.loads(text.lstrip("\ufeff"))


def _describe(e: BaseException) -> str:
    """``Type: message`` of an exception, bounded, for a reject's ``error``."""
    return f"{type(e).__name__}: {e}"[:1000]


def _source_format(kind: str | None) -> str:
    """The ``source_format`` of a file of ``kind``: a page a browser saved as
    one file (MHTML, a Web Archive) is an ``html`` source."""
    return "html" if kind in ("mhtml", "webarchive") else kind or "unknown"


def _web_url(value) -> str | None:
    """``value`` when it is an http(s) address, else None (a ``file:`` or
    ``cid:`` location, a blank, a non-string)."""
    return value if isinstance(value, str) and value.lower().startswith(("http://", "https://")) else None


_MHTML_HTML_PART = re.compile(rb"(?im)^content-type:[ \t]*text/html\b")
_HEADERS_END = re.compile(rb"\r?\n\r?\n")


def _mhtml_page(data: bytes):
    """(the first ``text/html`` part of an MHTML file as an ``email`` message,
    whether its closing boundary was seen, the file's
    ``Snapshot-Content-Location``), or None. The parts are found by their
    boundary with ``bytes.find`` and only the page's is parsed: the stdlib
    parser over a whole file took 4.9 s on 300,000 one-line parts, and a
    multipart nested 5,000 deep ran out of stack."""
    import email
    import email.policy

    end = _HEADERS_END.search(data)
    top = email.message_from_bytes(data[:end.end()] if end else data, policy=email.policy.compat32)
    location = top.get("Snapshot-Content-Location")
    boundary = top.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        if top.get_content_type() == "text/html":  # a single-part file: the page is its body
            return email.message_from_bytes(data, policy=email.policy.compat32), True, location
        return None
    delim = b"--" + boundary.encode("latin-1", "replace")
    pos = data.find(delim, end.end() if end else 0)
    while pos != -1:
        start = pos + len(delim)
        if data[start:start + 2] == b"--":  # the closing boundary
            return None
        nxt = data.find(delim, start)
        part = data[start:nxt if nxt != -1 else len(data)].lstrip(b" \t").lstrip(b"\r\n")
        head = _HEADERS_END.search(part)
        if _MHTML_HTML_PART.search(part[:head.start()] if head else part[:4096]):
            message = email.message_from_bytes(part, policy=email.policy.compat32)
            return message, nxt != -1, location
        pos = nxt
    return None


def _read_capped(stream, cap: int) -> bytes:
    data = stream.read(cap + 1)
    if len(data) > cap:
        raise _TooLarge(f"more than {cap} bytes")
    return data


def _warc_date(value: str | None) -> dt.datetime | None:
    """A WARC-Date in UTC (``records.as_utc``: without an offset it is UTC, the
    WARC standard's zone); None when it is no date."""
    if not value:
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


class _GzipTap:
    """A read-through wrapper that checks gzip member boundaries on the side.

    warcio decompresses WARC members itself and says nothing when the last
    one is cut; this tap inflates the same bytes (output discarded, 1 MiB at a
    time) and ``finish()`` tells whether the stream ended inside a member.
    """

    def __init__(self, raw):
        self.raw = raw
        self._d = zlib.decompressobj(31)
        self._in_member = False
        self._broken = False  # bytes that are no gzip: warcio reports them itself, where it meets them

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        buf = b"" if self._broken else data
        while buf:
            try:
                self._d.decompress(buf, 1 << 20)
            except zlib.error:  # read ahead of warcio: the records before this point are still good
                self._broken, self._in_member = True, False
                break
            if self._d.eof:
                buf = self._d.unused_data
                self._d = zlib.decompressobj(31)
                self._in_member = False
            else:
                buf = self._d.unconsumed_tail
                self._in_member = True
        return data

    def tell(self) -> int:
        """Where the wrapped file is: warcio gives record offsets in the file's
        bytes, also when the tap starts past a damaged stretch."""
        return self.raw.tell()

    def finish(self) -> bool:
        """Drain the rest of the file; True if it ends inside a gzip member."""
        while self.read(1 << 20):
            pass
        return self._in_member


class _ReadFileFn(beam.DoFn):
    """(path, size) -> raw documents; rejects and skipped-record notes tagged."""

    def __init__(self, max_doc_bytes: int, max_decompressed_bytes: int, max_line_bytes: int):
        self.max_doc = max_doc_bytes
        self.max_unzip = max_decompressed_bytes
        self.max_line = max_line_bytes
        self.files = Metrics.counter(NAMESPACE, "files_read")  # a range of a big file counts once
        self.docs = Metrics.counter(NAMESPACE, "documents_read")
        self._stride, self._next = (0, 1), 0  # the element being read: (k, n) of a stride; its next output
        self._unzip = max_decompressed_bytes  # what the file being read may decompress to (``_outputs``)
        self._child = None  # the child process that reads Parquet files (``_parquet``)

    def teardown(self):
        if self._child is not None:
            self._child.close()
            self._child = None

    def process(self, element):
        """The outputs of reading ``element``; of a stride (k of n), every n-th
        of them from the k-th: every worker reads the whole file alike, and
        each output is given by one."""
        path, size, *byte_range = element
        k, n = (byte_range[1], byte_range[2]) if byte_range and byte_range[0] == STRIDE else (0, 1)
        if k == 0:
            self.files.inc()
        self._stride, self._next = (k, n), 0
        try:
            for i, out in enumerate(self._outputs(_named(path), size, byte_range if n == 1 else [])):
                self._next = i + 1
                if out is _ELSEWHERE:  # a record another worker reads (``_elsewhere``)
                    assert i % n != k, "a record of this worker's share was passed over"
                    continue
                if i % n == k:
                    if not isinstance(out, pvalue.TaggedOutput):
                        self.docs.inc()
                    yield out
        finally:
            self._stride, self._next = (0, 1), 0

    _CAP_SOURCE = f"(--max-decompressed-bytes, or {BOMB_RATIO} times the file's own size if more)"

    def _cap(self) -> str:
        """The decompression cap of the file being read, in words."""
        return f"{self._unzip} bytes {self._CAP_SOURCE}"

    def _budget(self, spent: int = 0, what: str = "decompressed") -> _Budget:
        """What the file being read may still decompress to, ``spent`` bytes in; ``what`` passes it, in words."""
        return _Budget(self._unzip - spent, f"{what} past {self._cap()}")

    def _elsewhere(self) -> bool:
        """Whether the next output goes to another worker's share (a stride):
        a record whose reading gives exactly one output (a document or its
        reject) is then passed over (``_ELSEWHERE``) rather than read for
        nothing, which kept two workers at 1.57x one on a JSON array."""
        k, n = self._stride
        return n > 1 and self._next % n != k

    def _outputs(self, path, size, byte_range):
        """Every output of reading the file (or one range of it), in order."""
        # a compressed file (an archive, a Parquet file) may hold BOMB_RATIO times its own size, if that is more
        self._unzip = max(self.max_unzip, BOMB_RATIO * (size or 0))
        kind, compressed = kind_of(path)
        fmt = _source_format(kind)
        problem = _not_a_file(path)
        if problem:  # checked before anything opens it
            yield self._reject(path, fmt, "read", "not_a_file", problem, b"", size)
            return
        if kind == "feed":  # saved RSS/Atom/OPML: the feed reader takes it from here
            if isinstance(path, LocalName):  # the feed reader opens it by a name Beam can carry
                yield self._reject(path, fmt, "read", "open_failed",
                                   "a feed file whose name is not UTF-8 is not read: rename it", self._head(path), size)
                return
            yield pvalue.TaggedOutput("feeds", path)
            return
        if kind is None:
            head = self._head(path)
            if not compressed and _looks_like_html(head):
                kind = fmt = "html"  # a saved page named by its URL: wget's "story.php?id=1", "news/2024/05/story"
            elif _is_archive(path, head):
                kind = fmt = "archive"  # a zip or a tar: each file in it is read by its kind (``_archive``)
            elif not compressed and parquet_records.is_parquet(head):
                kind = fmt = "parquet"  # Spark's and Hive's part files, named without an extension
            else:
                why = ("file name has no known input extension (.html .htm .txt .jsonl .ndjson .json .csv .tsv "
                       ".parquet .warc .arc .wet .xml .rss .atom .mhtml .webarchive, optionally .gz .bz2 .xz .zst; "
                       "or .zip .wacz .tar .tgz .tbz2 .txz .tzst) and its content does not start as HTML")
                yield self._reject(path, fmt, "read", "unsupported_format", why, head, size)
                return
        # The file's boundary: whatever a reader, decompressor or parser raises
        # ends this file with a reject; what it yielded before stays, and the
        # run goes on with the next file.
        produced, skipped = 0, collections.Counter()
        sniffed = {}  # "codec": a compression _read found by the file's first bytes, its name saying none
        try:
            for out in self._read(path, kind, compressed, size, byte_range, sniffed):
                if isinstance(out, pvalue.TaggedOutput) and out.tag == "skipped":
                    skipped[out.value] += 1
                else:
                    produced += 1
                yield out
        except Exception as e:  # a library's bug on this file must not stop the run either
            produced += 1
            # a decompressor's complaint (bz2 says OSError "Invalid data stream") is the file's bytes, not a bug
            codec = compression_of(path) or sniffed.get("codec")
            compressed = codec is not None
            bad_stream = compressed and (isinstance(e, _bad_stream_errors()) or (
                codec == "bzip2" and isinstance(e, OSError) and e.errno is None))
            if isinstance(e, _TooLarge):  # a compression bomb of records (a WARC): those before it stand
                yield self._reject(path, fmt, "read", "decompressed_too_large", str(e), self._head(path), size)
            elif isinstance(e, EOFError) or bad_stream:
                reason = "truncated" if isinstance(e, EOFError) else f"bad_{codec}"
                yield self._reject(path, fmt, "decode" if compressed else "read", reason, _describe(e),
                                   self._head(path), size)
            else:
                yield self._reject(path, fmt, "read", "read_error", _describe(e), self._head(path), size)
        if not produced:  # a file (or a range of one) that gave nothing is still accounted for
            what = ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) or "nothing"
            if byte_range and kind != "warc":
                where = f"{path}#bytes={byte_range[0]}-{byte_range[1] or ''}"
            elif byte_range:  # records first..last of a WARC (the last run: first to the end)
                start, count, first = byte_range
                where = f"{path}#{first}-{'' if count is None else first + count - 1}"
            else:
                where = path
            yield self._reject(where, fmt, "read", "no_documents",
                               f"the {'range' if byte_range else 'file'} holds no document (records skipped: {what})",
                               self._head(path), size)

    def _read(self, path, kind, compressed, size, byte_range=(), sniffed=None):
        fmt = kind
        try:
            raw = _open(path)
        except Exception as e:
            yield self._reject(path, fmt, "read", "open_failed", _describe(e), b"", size)
            return
        with raw:
            if byte_range:  # one range of a big file (see _MatchFn)
                yield from self._range(path, kind, raw, *byte_range)
                return
            if kind == "archive":
                yield from self._archive(path, raw)
                return
            codec = compression_of(path)
            if codec is None and kind != "warc":  # warcio finds a WARC's gzip members itself
                head = raw.peek(16)[:16] if hasattr(raw, "peek") else b""
                codec = magic_compression(head)
                if codec:
                    if sniffed is not None:
                        sniffed["codec"] = codec
                    compressed = True
            if kind == "warc" and (codec == "gzip" or not compressed):
                # warcio reads gzip members itself; the tap notices truncation. The file itself is handed
                # on too: reading goes on past a damaged stretch from the next record found in it
                stream = _GzipTap(raw) if codec == "gzip" else raw
                gz = codec == "gzip" or (hasattr(raw, "peek") and raw.peek(2)[:2] == b"\x1f\x8b")
                yield from self._warc(path, stream, raw=raw, gz=gz)
                return
            if kind in ("jsonl", "csv") and _by_members(codec, raw):
                yield from self._member_records(path, kind, raw, size, codec)
                return
            stream = _decompressed(raw, codec) if compressed else raw
            yield from self._by_kind(path, kind, stream, size, compressed)

    def _member_records(self, path, kind, raw, size, codec: str):
        """A compressed file of records (JSON lines or documents, CSV) read
        member by member (``members``: gzip members, bzip2 and xz streams,
        zstd frames): a member that does not decompress is one ``bad_<codec>``
        reject, after the file's other outputs, and the members after it are
        read; a file cut short keeps every line before the cut, then its
        ``truncated`` reject. A page or text compressed is one document: a
        damaged stretch in it ends it, as before."""
        reader = members.Members(raw, codec)
        whole = utf8_text(path)  # the source of a reject of the whole file (``make_reject``)
        # held: a reject of the whole file, which a record reader gives only as its last output (the
        # document's, the header's, the cap's: each ends the reading), so holding it reorders nothing
        error = held = None
        try:
            for out in self._by_kind(path, kind, io.BufferedReader(reader, 1 << 16), size, True):
                if held is not None:
                    yield held
                    held = None
                if isinstance(out, pvalue.TaggedOutput) and out.tag == "rejects" and out.value["source"] == whole:
                    held = out
                else:
                    yield out
        except Exception as e:  # the file's own reject (too large, ...), after the stretches'
            error = e
        if error is None and reader.truncated is not None:  # every whole line before the cut was read
            error = EOFError(f"Compressed file ended before the end-of-stream marker was reached (in the "
                             f"member from byte {reader.truncated}; its last line, cut, is left out)")
        if held is not None and error is None:
            yield held
        # else the file's one reject is the error's: a JSON document the cut ended is the cut's
        for d in reader.damaged:
            after = (f"reading went on at byte {d.end}" if d.end < (size or 0) else
                     "no whole member after it")
            yield self._reject(f"{path}#bytes={d.start}-{d.end}", _source_format(kind), "decode", f"bad_{codec}",
                               f"{codec} member at byte {d.start} does not decompress ({d.error}); {after}", b"",
                               d.end - d.start)
        if error is not None:
            raise error

    def _by_kind(self, path, kind, stream, size, compressed: bool):
        """The documents of one file's (decompressed) stream, read as its kind says."""
        if kind == "jsonl":
            yield from self._jsonl(path, stream, compressed)
        elif kind == "csv":
            yield from self._csv(path, stream, compressed)
        elif kind == "parquet":
            yield from self._parquet(path, stream, compressed)
        elif kind == "warc" and compressed:  # bzip2, xz, zstd, an archive's file: warcio would take a cut for the end
            # its records' bytes capped as a file of JSON lines is: a bomb of many records stops (_outputs)
            watched = _CutWatch(_Counted(stream, self._budget()))
            yield from self._warc(path, watched)
            if watched.error is not None:  # every record before it read: now the file's own reject
                raise watched.error
        elif kind == "warc":
            yield from self._warc(path, stream)
        elif kind == "mhtml":
            yield from self._mhtml(path, stream, size)
        elif kind == "webarchive":
            yield from self._webarchive(path, stream, size)
        else:
            yield from self._single(path, kind, stream, size, compressed)

    # -- zip and tar archives ----------------------------------------------------------
    def _archive(self, path, raw):
        """Each regular file of a zip or tar archive, read by its own kind (its
        name, or its first bytes) as a file of a folder is, its source the
        archive's path and its name inside (``news.zip/2024/story.html``).
        A file is its own boundary: what one raises is its reject, and the
        next is read. The decompressed bytes of all of them together are
        capped (``--max-decompressed-bytes``), so a zip bomb of many members
        stops too; an archive inside an archive, or a feed, is a reject."""
        import tarfile
        import zipfile

        try:
            yield from self._archive_files(path, raw)
        except _TooLarge as e:  # the file that passed the cap has its reject; the archive says where it stopped
            yield self._reject(path, "archive", "read", "decompressed_too_large",
                               f"{e}: the files after it in the archive were not read", b"", None)
        except (tarfile.ReadError, zipfile.BadZipFile, EOFError, zlib.error, *_bad_stream_errors()) as e:
            cut = isinstance(e, EOFError) or "unexpected end" in str(e) or "truncated" in str(e).lower()
            yield self._reject(path, "archive", "decode", "truncated" if cut else "bad_archive",
                               _describe(e) + " (the files before it in the archive were read)", b"", None)

    def _archive_files(self, path, raw):
        import tarfile
        import zipfile

        budget = self._budget(what="the archive's files decompress")
        sources = _MemberSources(path)
        head = raw.peek(512)[:512] if hasattr(raw, "peek") else b""
        if head.startswith(b"PK") or _inner_name(path).endswith((".zip", ".wacz")):
            wacz = _inner_name(path).endswith(".wacz")
            try:
                zf = zipfile.ZipFile(raw)
                zip_local.check_directory(zf, raw)
            except Exception as e:  # BadZipFile, and what a damaged directory raises in zipfile (ValueError,
                # NotImplementedError for a version byte flipped, struct.error): no central directory (cut short),
                # a damaged one, or damage before it that moved the files; the files are found by their headers
                yield from self._zip_by_local_headers(path, raw, budget, sources, wacz, e)
                return
            with zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    if wacz and not _wacz_capture(info.filename):
                        yield pvalue.TaggedOutput("skipped", "wacz_metadata")
                        continue
                    named, src = f"{path}/{info.filename}", sources.of(info.filename)
                    try:
                        member = zf.open(info)
                    except Exception as e:  # encrypted, or a compression zipfile lacks (deflate64)
                        yield self._reject(src, "archive", "read", "open_failed", _describe(e), b"", info.file_size)
                        continue
                    with member:
                        yield from self._member(src, _Counted(member, budget), info.file_size, named)
            return
        codec = "zstd" if _inner_name(path).endswith(".tzst") else compression_of(path) or magic_compression(head)
        blocks = _TarBlocks(_decompressed(raw, codec) if codec else raw,
                            self._budget(what="the archive decompresses"))
        end = 0  # where the member before ends: its header, its data, the data's last block
        # ignore_zeros: on past a block that is no header (a damaged member) to the next one, where tarfile
        # would end the archive there without a word; each such stretch is one reject below
        found = False
        try:
            tf = tarfile.open(fileobj=blocks, mode="r|", ignore_zeros=True)
        except tarfile.ReadError:
            if blocks.pos and blocks.tail_is_zeros(0):  # zeros only: an empty archive (its end blocks), no file
                return
            raise
        with tf:
            for info in tf:
                found = True
                if not blocks.zeros(end, info.offset):
                    yield self._stretch(path, end, info.offset)
                end = info.offset_data + -(-info.size // _TarBlocks.BLOCK) * _TarBlocks.BLOCK
                if not info.isfile():
                    if not info.isdir():  # links, devices: not documents
                        yield pvalue.TaggedOutput("skipped", "archive_non_file")
                    continue
                member = tf.extractfile(info)
                if member is not None:
                    yield from self._member(sources.of(info.name), _Counted(member, budget), info.size,
                                            f"{path}/{info.name}")
        if not found and not blocks.tail_is_zeros(0):  # not a tar archive at all
            raise tarfile.ReadError("no tar header in the file")
        if not blocks.tail_is_zeros(end):
            yield self._stretch(path, end, blocks.pos)

    def _stretch(self, path: str, start: int, end: int, header: str = "tar header"):
        """The reject of bytes of an archive that hold no member that can be read."""
        return self._reject(f"{path}#bytes={start}-{end - 1}", "archive", "read", "parse_error",
                            f"bytes {start}-{end - 1} of the archive (uncompressed) hold no {header} that reads "
                            "(a damaged member); the files after them were read", b"", end - start)

    def _zip_by_local_headers(self, path, raw, budget, sources, wacz: bool, error: Exception):
        """The files of a zip whose central directory does not read, found by
        their local headers (``zip_local``): a zip cut short keeps every file
        before the cut. No file found at all: the archive's reject, as before."""
        pending, found = [], False
        for item in zip_local.members(raw):
            if isinstance(item, zip_local.Stretch):
                stretch = self._stretch(path, item.start, item.end, "zip file header")
                if found:
                    yield stretch
                else:  # told once a file is found: bytes that are no zip at all are the archive's reject
                    pending.append(stretch)
                continue
            if not found:
                found = True
                yield from pending
            if wacz and not _wacz_capture(item.name):
                yield pvalue.TaggedOutput("skipped", "wacz_metadata")
                continue
            src, named = sources.of(item.name), f"{path}/{item.name}"
            if item.problem:
                yield self._reject(src, "archive", "read", "open_failed", item.problem, b"", item.size)
                continue
            with item.open() as member:
                yield from self._member(src, _Counted(member, budget), item.size or 0, named)
        if not found:  # the archive's reject (bad_archive), as before
            import zipfile

            raise error if isinstance(error, zipfile.BadZipFile) else zipfile.BadZipFile(_describe(error))

    def _member(self, src: str, stream, size: int, named: str):
        """One file of an archive (``_archive``), read as a file of its kind:
        ``named`` is its name (``news.zip/a.html``), ``src`` its source, which
        tells a second file of that name apart (``_MemberSources``)."""
        kind, compressed = kind_of(named)  # compressed by its name: no sniffing of a page
        fmt = _source_format(kind)
        try:
            head = stream.peek(512)[:512]
            if kind is None and not compressed and _looks_like_html(head):
                kind = fmt = "html"
            elif kind is None and not compressed and parquet_records.is_parquet(head):
                kind = fmt = "parquet"
            nested = _is_archive(named, head)
            if kind in (None, "feed") or nested:
                why = ("an archive inside an archive is not read: unpack it" if nested else
                       "a feed inside an archive is not read: unpack it and give it with --feeds" if kind == "feed"
                       else "file name has no known input extension and its content does not start as HTML")
                yield self._reject(src, fmt, "read", "unsupported_format", why, head, size)
                return
            codec = compression_of(named) or (magic_compression(head) if kind != "warc" else None)
            if codec and not (codec == "gzip" and kind == "warc"):  # warcio reads gzip members itself
                stream = _decompressed(stream, codec)
            yield from self._by_kind(src, kind, stream, size, True)  # an archive's file counts as compressed
        except _TooLarge as e:  # the archive's decompressed bytes passed the cap: this file and the rest
            yield self._reject(src, fmt, "read", "decompressed_too_large", str(e), b"", size)
            raise
        except Exception as e:  # this file only: the next one is read (a tar cut here ends at the next)
            cut = isinstance(e, EOFError) or "unexpected end" in str(e)
            yield self._reject(src, fmt, "decode" if cut else "read", "truncated" if cut else "read_error",
                               _describe(e), b"", size)

    def _range(self, path, kind, raw, start: int, limit: int | None, first: int):
        """One range of a big file, from byte ``start`` (the first byte of a
        line, of a WARC record or of its gzip member): JSON lines up to byte
        ``limit`` (None: the end) numbered from line ``first``, or ``limit``
        WARC records (None: to the end) numbered from record ``first``."""
        raw.seek(start)
        if kind == "warc":  # the last run (limit None) reads to the end, its last gzip member checked by the tap
            gz = compression_of(path) == "gzip"
            stream = _GzipTap(raw) if gz and limit is None else raw
            yield from self._warc(path, stream, first=first, count=limit, raw=raw, gz=gz)
        else:
            yield from self._lines(path, raw, False, first - 1, None if limit is None else limit - start)

    # -- one document per file -------------------------------------------------
    def _single(self, path, kind, stream, size, compressed):
        cap = self.max_doc
        try:
            data = _read_capped(stream, cap)
        except _TooLarge:
            reason = "decompressed_too_large" if compressed else "too_large"
            yield self._reject(path, kind, "read", reason,
                               f"document larger than the {cap}-byte cap (--max-doc-bytes)", self._head(path), size)
            return
        if not data.strip():
            yield self._reject(path, kind, "read", "empty", "file has no content", data, len(data))
            return
        # read as what the bytes are, whatever the name says: a page saved as .txt is extracted (its markup
        # was the article), and a .html holding no markup at all is a text (its paragraph breaks were lost)
        if kind == "text" and _looks_like_html(data[:4096]):
            kind = "html"
        elif kind == "html" and b"<" not in data and b"<\x00" not in data:
            kind = "text"
        yield make_raw(source=path, source_format=kind, kind=kind, payload=data, raw_size=len(data))

    def _mhtml(self, path, stream, size):
        """A page a browser saved as one file (MHTML: Chrome's and Edge's "Save
        as... Webpage, Single File"): a MIME message whose first ``text/html``
        part is the page (quoted-printable or base64, its charset on the
        part), its ``Content-Location`` the page's URL; the images and style
        sheets after it are not read. Up to ``--max-doc-bytes`` of the file
        are looked at: a page whose part ends past them is ``too_large``."""
        data = stream.read(self.max_doc + 1)
        cut = len(data) > self.max_doc
        data = data[:self.max_doc]
        found = _mhtml_page(data)
        if found is None:
            why = ("no text/html part in the first bytes read (--max-doc-bytes)" if cut
                   else "an MHTML file without a text/html part")
            yield self._reject(path, "html", "parse", "too_large" if cut else "no_html_part", why, data[:512], size)
            return
        part, complete, location = found
        if cut and not complete:
            yield self._reject(path, "html", "read", "too_large",
                               f"the page's part goes on past the {self.max_doc}-byte cap (--max-doc-bytes)",
                               data[:512], size)
            return
        body = part.get_payload(decode=True) or b""
        if not body.strip():
            yield self._reject(path, "html", "read", "empty", "the MHTML page part is empty", data[:512], size)
            return
        where = (part.get("Content-Location") or location or "").strip()
        yield make_raw(source=path, source_format="html", kind="html", payload=body, raw_size=len(data),
                       url=_web_url(where),
                       http_charset=part.get_content_charset())

    def _webarchive(self, path, stream, size):
        """A page Safari saved as a Web Archive: a property list whose
        ``WebMainResource`` holds the page's bytes, its URL and its text
        encoding; its subresources (images, scripts) are not read."""
        import plistlib

        try:
            data = _read_capped(stream, self.max_doc)
        except _TooLarge:
            yield self._reject(path, "html", "read", "too_large",
                               f"document larger than the {self.max_doc}-byte cap (--max-doc-bytes)", b"", size)
            return
        try:
            archive = plistlib.loads(data)
        except (plistlib.InvalidFileException, ValueError, TypeError, KeyError, IndexError, OverflowError,
                RecursionError, struct.error) as e:
            yield self._reject(path, "html", "parse", "bad_webarchive", _describe(e), data[:512], size)
            return
        main = archive.get("WebMainResource") if isinstance(archive, dict) else None
        body = main.get("WebResourceData") if isinstance(main, dict) else None
        if not isinstance(body, bytes) or not body.strip():
            yield self._reject(path, "html", "parse", "no_html_part",
                               "a Web Archive without a main resource holding the page", data[:512], size)
            return
        url, charset = main.get("WebResourceURL"), main.get("WebResourceTextEncodingName")
        yield make_raw(source=path, source_format="html", kind="html", payload=body, raw_size=len(data),
                       url=_web_url(url),
                       http_charset=charset if isinstance(charset, str) else None)

    # -- JSON lines ----------------------------------------------------------
    def _jsonl(self, path, stream, compressed: bool = False):
        first = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
        wide = _wide_encoding(first)
        if wide:  # UTF-16 or UTF-32 with a BOM (Windows PowerShell's `>` writes UTF-16): read as UTF-8
            stream.read(len(wide[0]))
            stream = _Utf8Lines(stream, wide[1])
        start = _first_line(stream, self.max_line)
        if _is_json_document(path, start):
            yield from self._document(path, stream, start, compressed)
            return
        yield from self._lines(path, _Prepended(start, stream), compressed)

    def _document(self, path, stream, start: bytes, compressed: bool):
        """The records of a JSON file that is one document (``json_document``),
        one at a time: memory holds one record, whatever the file's size."""
        stream, start, encoding = self._text_start(stream, start, json_document.CHUNK, compressed)
        n = 0
        try:
            for rec in json_document.records(stream, encoding, self.max_line, _is_record, first=start):
                n += 1
                if isinstance(rec, json_document.Oversized):
                    yield self._reject(f"{path}#L{n}", "jsonl", "read", "too_large",
                                       f"record of {rec.size} characters, longer than the {self.max_line}-byte cap",
                                       b"", rec.size)
                    continue
                if isinstance(rec, json_document.Broken):  # records lost in a stretch that is not JSON
                    yield self._reject(f"{path}#L{n}", "jsonl", "parse", "bad_json", str(rec)[:900], b"", rec.size)
                    continue
                yield from self._record(path, n, rec, None)
        except (ValueError, RecursionError, _TooLarge) as e:  # JSONDecodeError and RecordTooLarge are ValueErrors
            where = f"{path}#L{n + 1}" if n else path
            stage, reason = (("read", "decompressed_too_large") if isinstance(e, _TooLarge) else
                             ("read", "too_large") if isinstance(e, json_document.RecordTooLarge) else
                             ("parse", "bad_json"))
            after = f" (the file is not read past its record {n})" if n else ""
            yield self._reject(where, "jsonl", stage, reason, _describe(e)[:900] + after, start[:512], None)

    def _lines(self, path, stream, compressed: bool, lineno: int = 0, limit: int | None = None):
        """Records of JSON lines read from ``stream``; numbering goes on from
        ``lineno``; with ``limit``, no line is started past that many bytes."""
        total = 0
        while limit is None or total < limit:
            line = stream.readline(self.max_line + 1)
            if not line:
                break
            lineno += 1
            total += len(line)
            src = f"{path}#L{lineno}"
            if len(line) > self.max_line and not line.endswith(b"\n"):
                rest = len(line)
                while True:  # skip the rest of the oversized line, bounded memory
                    chunk = stream.readline(1 << 20)
                    rest += len(chunk)
                    total += len(chunk)
                    if not chunk or chunk.endswith(b"\n"):
                        break
                yield self._reject(src, "jsonl", "read", "too_large", f"line longer than {self.max_line} bytes",
                                   line, rest)
                continue
            if not line.strip():
                continue
            if compressed and total > self._unzip:  # a compression bomb; a plain file is read to its end
                yield self._reject(path, "jsonl", "read", "decompressed_too_large",
                                   f"stopped after {self._cap()}", line, total)
                return
            if self._elsewhere():  # one output follows, a document or a reject: another worker's
                yield _ELSEWHERE
                continue
            try:
                rec = _json_loads(line)
            except (ValueError, RecursionError) as e:  # RecursionError: nested deeper than Python's stack
                yield self._reject(src, "jsonl", "parse", "bad_json", _describe(e), line, len(line))
                continue
            yield from self._record(path, lineno, rec, line)

    def _text_start(self, stream, start: bytes, chunk: int, compressed: bool):
        """(stream, its first bytes, their encoding) of a file read as one text
        (a JSON document, a CSV file): ``start`` and the next ``chunk`` bytes
        decide the encoding; a compressed stream is capped from there."""
        start += stream.read(chunk)
        if compressed:  # a compression bomb: stop where the decompressed bytes pass the cap
            stream = _Counted(stream, self._budget(len(start)))
        return stream, start, _text_encoding(start)

    # -- CSV and TSV ---------------------------------------------------------------
    def _csv(self, path, stream, compressed: bool):
        """The rows of a CSV or TSV file, each a record (``csv_records``)."""
        stream, start, encoding = self._text_start(stream, b"", csv_records.CHUNK, compressed)
        n = 0
        try:
            for n, rec in csv_records.rows(stream, encoding, self.max_line, _inner_name(path).endswith(".tsv"),
                                           first=start):
                if isinstance(rec, csv_records.LineTooLong):  # a row over the cap: the rows after it are read
                    yield self._reject(f"{path}#L{n}", "csv", "read", "too_large", str(rec), b"", None)
                elif isinstance(rec, Exception):
                    yield self._reject(f"{path}#L{n}", "csv", "parse", "bad_csv", _describe(rec), b"", None)
                else:
                    yield from self._record(path, n, rec, None, fmt="csv")
        except csv_records.BadHeader as e:
            yield self._reject(path, "csv", "parse", "bad_csv", str(e), start[:512], None)
        except _TooLarge as e:
            after = f" (the file is not read past its row {n})" if n else ""
            yield self._reject(f"{path}#L{n + 1}" if n else path, "csv", "read", "decompressed_too_large",
                               _describe(e) + after, start[:512], None)

    def _parquet(self, path, stream, compressed: bool):
        """The rows of a Parquet file, each a record, read by a child process
        (``parquet_records.ChildReader``): pyarrow aborts its process on some
        damaged files. Its footer is at its end: a file that is not a local
        file (one compressed, in an archive, or on another filesystem) is
        read into memory first, up to ``--max-decompressed-bytes``, and
        handed to the child as a file."""
        local = getattr(stream, "name", None)
        if compressed or not isinstance(local, (str, bytes)) or not os.path.isfile(local) or not (
                hasattr(stream, "seekable") and stream.seekable()):
            data = stream.read(self.max_unzip + 1)  # memory: the option's cap alone
            if len(data) > self.max_unzip:
                yield self._reject(path, "parquet", "read", "decompressed_too_large",
                                   f"a Parquet file read into memory (compressed, in an archive, or not on a local "
                                   f"disk) holds more than {self.max_unzip} bytes (--max-decompressed-bytes)",
                                   data[:512], None)
                return
            with tempfile.TemporaryDirectory(prefix="newsbeam-parquet-") as folder:
                local = os.path.join(folder, "file.parquet")
                with open(local, "wb") as f:
                    f.write(data)
                del data
                yield from self._parquet_rows(path, local)
            return
        yield from self._parquet_rows(path, local)

    def _parquet_rows(self, path, local):
        if self._child is None:
            self._child = parquet_records.ChildReader()
        k, n = self._stride
        for row, rec in self._child.rows(local, self.max_line, _FOLDED_SET, self._next, (k, n), self._unzip):
            if isinstance(rec, parquet_records.Elsewhere):
                for _ in range(rec.count):
                    yield _ELSEWHERE
            elif isinstance(rec, parquet_records.Unopened):  # the footer: nothing is read
                yield self._unopened(path, local, rec)
            elif isinstance(rec, parquet_records.OverBudget):  # a bomb: the rest of the file
                yield self._reject(_rows_of(path, rec), "parquet", "read", "decompressed_too_large",
                                   f"{rec} {self._CAP_SOURCE}", b"", None)
            elif isinstance(rec, parquet_records.TooLarge):
                yield self._reject(_rows_of(path, rec), "parquet", "read", "too_large", str(rec), b"", None)
            elif isinstance(rec, parquet_records.BadRows):
                yield self._reject(_rows_of(path, rec), "parquet", "decode", "bad_parquet", str(rec), b"", None)
            else:  # its values are JSON's (``parquet_records._values``)
                yield from self._record(path, row, rec, None, fmt="parquet")

    def _unopened(self, path, local, rec):
        """The reject of a Parquet file whose footer did not read: ``truncated``
        when it starts as Parquet does and does not end so (a cut file)."""
        with open(local, "rb") as f:
            head = f.read(4)
            f.seek(max(f.seek(0, os.SEEK_END) - 4, 0))
            tail = f.read(4)
        if rec.died:  # the footer ended the reading child
            return self._reject(path, "parquet", "decode", "bad_parquet", str(rec), head, None)
        cut = parquet_records.is_parquet(head) and not parquet_records.is_parquet(tail)
        return self._reject(path, "parquet", "decode" if cut else "parse", "truncated" if cut else "bad_parquet",
                            str(rec), head, None)

    def _record(self, path, lineno, rec, line: bytes | None, fmt: str = "jsonl"):
        """One parsed record (``line`` None for an element of a JSON array or a
        CSV row): exactly one output, a document or its reject."""
        if self._elsewhere():
            yield _ELSEWHERE
            return
        try:
            if line is None:
                line = _excerpt(rec)
            yield from self._record_fields(path, lineno, rec, line, fmt)
        except Exception as e:  # this record only: the next line is read as usual
            yield self._reject(f"{path}#L{lineno}", fmt, "parse", "parse_error", _describe(e), line or b"",
                               len(line or b""))

    def _record_fields(self, path, lineno, rec, line, fmt):
        src = f"{path}#L{lineno}"
        if not isinstance(rec, dict):
            yield self._reject(src, fmt, "parse", "not_an_object", "record is not a JSON object", line, len(line))
            return
        rec = _unwrapped(rec)
        body, kind = _record_body(rec)
        if body is None:
            what = "column" if fmt == "csv" else "field"
            yield self._reject(src, fmt, "parse", "missing_text",
                               f"record has no non-empty text {what} (one of: {', '.join(HTML_FIELDS + TEXT_FIELDS)})",
                               line, len(line))
            return

        def opt(*keys, kinds=(str, int, float), name_of: bool = False):
            """The first of ``keys`` holding a value of ``kinds`` (a boolean is none), stripped; with
            ``name_of``, an object's ``name`` too (NewsAPI's ``"source": {"id": ..., "name": "BBC News"}``)."""
            for key in keys:
                v = rec.get(key)
                if name_of and isinstance(v, dict):
                    v = v.get("name")
                if isinstance(v, dict) and isinstance(v.get("$date"), (str, int, float)):
                    v = v["$date"]  # MongoDB's export of a date: {"$date": "2024-05-01T10:00:00Z"}
                if isinstance(v, kinds) and not isinstance(v, bool) and str(v).strip():
                    return str(v).strip()
            return None

        # A lone surrogate ("\ud800" in the JSON) becomes U+FFFD: kept as its bytes, the payload would not be
        # UTF-8 and the whole text would be decoded in another charset. The id is made of the text as written.
        yield make_raw(source=src, source_format=fmt, kind=kind, payload=plain_text(body).encode("utf-8"),
                       id_payload=body.encode("utf-8", "surrogatepass"), raw_size=len(line),
                       url=opt(*URL_FIELDS, kinds=str), title=opt(*TITLE_FIELDS), published=opt(*PUBLISHED_FIELDS),
                       publisher=opt("source", "publication", "publisher", name_of=True),
                       declared_language=opt("language", "lang"), author=_names(rec, AUTHOR_FIELDS),
                       description=opt(*DESCRIPTION_FIELDS, kinds=str))

    # -- WARC ------------------------------------------------------------------
    def _warc(self, path, stream, skip: int = 0, first: int = 1, count: int | None = None, raw=None,
              gz: bool = False):
        """Records of one WARC. warcio reads the record framing; the HTTP block
        of each response is parsed here, inside the record's own boundary, so a
        record with a missing URI or a garbage HTTP block is one reject and the
        records after it are still read. A stretch warcio cannot frame (a
        garbled or cut gzip member, bytes between records) is one reject, and
        reading goes on at the next record after it, found in ``raw``, the
        seekable file ``stream`` reads (``warc_events``), rather than ending
        there."""
        from warcio.exceptions import ArchiveLoadFailed

        n = first - 1
        wet = _inner_name(path).endswith(".wet")  # its conversion records are the documents
        head = None  # the file's first bytes, for a stretch's reject: read once however many stretches it has
        # a run that reads to the end checks its last gzip member through the tap, as a whole file does
        events = warc_events(stream, raw, gz, tap=gz and count is None)
        for event in events:
            if event[0] == "end":
                if count is None and isinstance(event[1], _GzipTap) and event[1].finish():
                    yield self._reject(f"{path}#{n + 1}", "warc", "decode", "truncated",
                                       "gzip stream ends inside a member: the file is cut short", b"", None)
                return
            if event[0] == "stretch":
                _, after, e = event
                alf = isinstance(e, ArchiveLoadFailed)
                if alf and "non-chunked gzip" in str(e) and isinstance(stream, _GzipTap):
                    # one gzip stream around the whole WARC (legal, not seekable): read it
                    # again through a plain gzip reader, past the records already emitted
                    with _open(path) as again:
                        yield from self._warc(path, _Counted(gzip.GzipFile(fileobj=again, mode="rb"), self._budget()),
                                              skip=n)
                    return
                reason, why = ("not_warc" if n == 0 else "truncated", str(e)[:500]) if alf else \
                    ("parse_error", _describe(e))
                n += 1
                resumed = next(events, None)  # ("resumed", offset), or None: the rest of the file is unreadable
                if resumed is None:
                    yield self._reject(f"{path}#{n}", "warc", "parse", reason, why, self._head(path), None)
                    return
                if head is None:
                    head = self._head(path)
                yield self._reject(f"{path}#{n}", "warc", "parse", "parse_error",
                                   f"{why} (no record could be read past the one at byte {after}; reading went "
                                   f"on at the next record, byte {resumed[1]})", head, None)
            else:
                n += 1
                if n <= skip:
                    continue
                src = f"{path}#{n}"
                try:
                    yield from self._warc_record(src, event[2], wet)
                except _TooLarge:  # the file's cap, passed in this record: the file's reject (``_outputs``)
                    raise
                except Exception as e:  # this record only; the iterator skips to the next one
                    yield self._reject(src, "warc", "parse", "parse_error", _describe(e), b"", None)
            if count is not None and n >= first - 1 + count:
                return

    def _warc_record(self, src, rec, wet: bool = False):
        from warcio.statusandheaders import StatusAndHeadersParser, StatusAndHeadersParserException

        rtype = rec.rec_type
        if wet and rtype == "conversion":
            yield from self._wet_record(src, rec)
            return
        if rtype == "resource":
            yield from self._resource_record(src, rec)
            return
        if rtype != "response":
            yield pvalue.TaggedOutput("skipped", f"warc_{rtype}")
            return
        uri = rec.rec_headers.get_header("WARC-Target-URI")
        if uri and not uri.lower().startswith(("http:", "https:")):  # dns:, ftp:, ...: no HTTP block
            yield pvalue.TaggedOutput("skipped", "warc_response_not_http")
            return
        try:
            declared = int(rec.rec_headers.get_header("Content-Length") or 0)
        except ValueError:
            declared = 0
        try:
            http = StatusAndHeadersParser(_HTTP_PROTOCOLS, verify=True).parse(rec.raw_stream)
        except (StatusAndHeadersParserException, EOFError) as e:
            head = rec.raw_stream.read(512)
            yield self._reject(src, "warc", "parse", "bad_http",
                               f"the response record's block is not an HTTP response: {_describe(e)}", head, declared)
            return
        ctype = http.get_header("Content-Type")
        body = self._record_block(rec)
        got = len(body) + http.total_len
        if len(body) > self.max_doc:
            yield self._reject(src, "warc", "read", "too_large",
                               f"record payload larger than {self.max_doc} bytes", body, declared)
            return
        if got < declared:
            yield self._reject(src, "warc", "read", "truncated",
                               f"record declares {declared} bytes, file ends after {got}", body, got)
            return
        status = (http.get_statuscode() or "").strip()
        if len(status) == 3 and status.isdigit() and status[0] != "2":
            # a redirect, a 304 or an error page is no article: the same reasons as a fetch (http_404, ...)
            where = http.get_header("Location")
            yield self._reject(src, "warc", "read", http_status_reason(int(status)),
                               (f"HTTP {http.statusline}" + (f", to {where}" if where else ""))[:500], body, len(body))
            return
        if not html_content_type(ctype, body):
            yield self._reject(src, "warc", "read", "not_html", f"Content-Type {ctype}"[:500], body, len(body))
            return
        try:
            payload = self._decode_transfer(http, body)
        except ContentCodingError:  # too_large: the one it lets through
            payload = None
        if payload is None or len(payload) > self.max_doc:
            yield self._reject(src, "warc", "read", "decompressed_too_large",
                               f"decoded payload larger than {self.max_doc} bytes", body, len(body))
            return
        if not payload.strip():
            yield self._reject(src, "warc", "read", "empty", "response has no body", body, 0)
            return
        yield make_raw(source=src, source_format="warc", kind="html", payload=payload, raw_size=len(body),
                       url=uri, fetched_at=_warc_date(rec.rec_headers.get_header("WARC-Date")),
                       http_charset=http_charset(ctype))

    def _resource_record(self, src, rec):
        """A resource record: a file stored with no HTTP exchange around it, as
        warcit and wget write saved pages into a WARC. One of a web URL whose
        Content-Type is HTML is a page; any other (a screenshot, a PDF, a
        browser crawler's ``urn:text:`` extract or ``urn:view:`` snapshot of a
        page whose response it also holds) is counted and skipped."""
        uri = rec.rec_headers.get_header("WARC-Target-URI") or ""
        ctype = rec.rec_headers.get_header("Content-Type")
        if not uri.lower().startswith(("http:", "https:")) or not ctype:
            yield pvalue.TaggedOutput("skipped", "warc_resource")
            return
        body = self._record_block(rec)
        if not html_content_type(ctype, body):
            yield pvalue.TaggedOutput("skipped", "warc_resource")
            return
        yield from self._block_document(src, rec, body, "html", "record payload", "resource record has no body",
                                        http_charset(ctype))

    def _record_block(self, rec) -> bytes:
        """The rest of a record's block, up to ``max_doc + 1`` bytes (more than
        that means too large); the bytes past those are read and dropped, in
        bounded reads."""
        body = rec.raw_stream.read(self.max_doc + 1)
        if len(body) > self.max_doc:
            while rec.raw_stream.read(1 << 20):
                pass
        return body

    def _wet_record(self, src, rec):
        """A conversion record of a WET file: the text Common Crawl took from a
        page (menus and footers included), read as a plain-text document, whose
        chrome the text cleaner removes as it does a ``.txt`` dump's."""
        yield from self._block_document(src, rec, self._record_block(rec), "text", "record text",
                                        "conversion record has no text", "utf-8")

    def _block_document(self, src, rec, body: bytes, kind: str, what: str, empty: str, charset: str | None):
        """The document of a record whose block is the document itself, with
        no HTTP exchange around it (a WET conversion, a resource): too large,
        empty, or the document, with the record's URI and date."""
        if len(body) > self.max_doc:
            yield self._reject(src, "warc", "read", "too_large", f"{what} larger than {self.max_doc} bytes", body,
                               None)
            return
        if not body.strip():
            yield self._reject(src, "warc", "read", "empty", empty, body, 0)
            return
        yield make_raw(source=src, source_format="warc", kind=kind, payload=body, raw_size=len(body),
                       url=rec.rec_headers.get_header("WARC-Target-URI"),
                       fetched_at=_warc_date(rec.rec_headers.get_header("WARC-Date")), http_charset=charset)

    def _decode_transfer(self, http, body: bytes) -> bytes:
        """Undo HTTP chunking and Content-Encoding the crawler kept: gzip,
        deflate (zlib-wrapped or raw, as some servers send it), br and zstd,
        one or a chain of them, which browser-based crawlers record as the
        server sent them (``transforms.content_coding``); at most
        ``max_doc + 1`` bytes come out (the caller rejects more: a small
        compressed body can hold gigabytes), and a coding that inflates past
        ``max_doc`` raises ``ContentCodingError("too_large")``. A body that is not really chunked
        or compressed, as many crawlers store it under the original headers,
        is returned as it is (the decode step rejects what is not text)."""
        from warcio.bufferedreaders import ChunkedDataReader

        cap = self.max_doc + 1
        if (http.get_header("Transfer-Encoding") or "").lower() == "chunked":
            body = ChunkedDataReader(io.BytesIO(body)).read(cap)
        try:
            return decode_content(body, http.get_header("Content-Encoding"), self.max_doc)
        except ContentCodingError as e:
            if e.reason == "too_large":
                raise
            return body

    # -- helpers -------------------------------------------------------------
    def _head(self, path) -> bytes:
        try:
            with _open(path) as f:
                return f.read(512)
        except Exception:  # only an excerpt for the reject row; the reject itself carries the reason
            return b""

    @staticmethod
    def _reject(source, fmt, stage, reason, error, raw, size):
        return pvalue.TaggedOutput("rejects", make_reject(
            source=source, source_format=fmt, stage=stage, reason=reason, error=error, raw=raw, raw_size=size))


_FOLDED_SET = frozenset(_FOLDED_NAMES)  # a Parquet column of one of these names (any case) has its bytes decoded


def _excerpt(rec: dict, cap: int = 512) -> bytes:
    """``json.dumps(rec)[:cap]`` of a record, its long strings cut first: the
    same bytes, without writing out a whole row's text for them (0.57 s of
    4.1 s reading 50,000 Parquet rows)."""
    if isinstance(rec, dict):
        rec = {k: v[:cap] if isinstance(v, str) else v for k, v in rec.items()}
    return json.dumps(rec)[:cap].encode("utf-8", "surrogatepass")


def _rows_of(path: str, rows) -> str:
    """The source of rows ``first``..``last`` of a file of rows (Parquet), or
    of a row group whose rows are not known."""
    if rows.first > rows.last:
        return f"{path}#rowgroup={rows.group}"
    return f"{path}#L{rows.first}" if rows.first == rows.last else f"{path}#rows={rows.first}-{rows.last}"


def _folder_prefix(folder: str) -> str:
    """What every path inside ``folder`` starts with (a trailing separator)."""
    return folder.rstrip("/") + "/" if "://" in folder else os.path.join(os.path.abspath(folder), "")


class ReadDocuments(beam.PTransform):
    """patterns -> raw documents; also ``rejects``, ``skipped`` (WARC record types) and
    ``feeds`` (paths of saved feed files, for the feed reader)."""

    def __init__(self, patterns: list[str], max_doc_bytes: int = 16 << 20,
                 max_decompressed_bytes: int = 256 << 20, max_line_bytes: int = 16 << 20,
                 split_bytes: int = SPLIT_BYTES, output: str | None = None, strides: int = 1):
        """``output``: the run's output folder, whose files are never read as
        input (``--input .`` with ``--output out`` would read the last run's
        Parquet and manifests). ``strides``: how many workers share a file of
        many records that is read whole (``strided``)."""
        super().__init__()
        self.strides = strides
        self.patterns = expand_inputs(list(patterns))
        self.skip = _folder_prefix(output) if output else None
        self.split = split_bytes
        self.max_doc = max_doc_bytes
        self.max_unzip = max_decompressed_bytes
        self.max_line = max_line_bytes

    def expand(self, pbegin):
        matched = (
            pbegin
            | "Patterns" >> beam.Create(self.patterns)
            | "MatchFiles" >> beam.ParDo(_MatchFn(self.split, self.skip, self.strides)).with_outputs(
                "rejects", main="files"))
        read = (
            matched.files
            | "SpreadFiles" >> beam.Distinct()  # a file two inputs name (a folder and a file in it) is read once
            | "ReadFiles" >> beam.ParDo(_ReadFileFn(self.max_doc, self.max_unzip, self.max_line)).with_outputs(
                "rejects", "skipped", "feeds", main="docs"))
        rejects = (matched.rejects, read.rejects) | "ReadRejects" >> beam.Flatten()
        return {"docs": read.docs, "rejects": rejects, "skipped": read.skipped, "feeds": read.feeds}

