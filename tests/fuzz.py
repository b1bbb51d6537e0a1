"""Generated hostile input: valid files of every input kind, then mutated.

Used by the property-based tests (``tests/test_fuzz.py``, a bounded number
of Hypothesis examples) and by ``benchmarks/fuzz.py`` (thousands of files).

``make_case(rnd, kind)`` builds one valid file of ``kind`` from distinct
English sentences, applies one to three mutations (truncate at a random
offset, flip, insert or delete bytes, duplicate a range, drop or corrupt a
header or WARC field, a wrong declared length or charset, a garbage record
among good ones) and returns the bytes with the byte ranges of the records
that the mutations cannot have touched: records that end before the first
damaged byte, in a file whose records are read one after another. Those
must come out as articles; everything else may be an article or a reject,
but never nothing and never a failed run.
"""
from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import json
import random

from transforms.members import CODECS
from transforms.read import _COMPRESSIONS, compression_of

# a codec's file suffix, as the reader names them (gzip: gz)
SUFFIX = {codec: suffix[1:] for suffix, codec in _COMPRESSIONS.items()}

KINDS = ("html", "html.gz", "txt", "jsonl", "jsonl.gz", "jsonl-utf16", "json", "warc", "warc.gz", "arc", "arc.gz",
         "rss", "jsonl.zst", "html.xz", "txt.bz2", "wet", "url-named", "json-pretty", "html-gzname", "csv", "zip",
         "tar.gz", "mhtml", "webarchive", "warc.zst", "tar", "jsonl.gz-members", "jsonl.zst-members",
         "jsonl.bz2-members", "tzst", "parquet")
# files of hundreds of records, over the size (1 MB on one worker, 256 KB on several) above which a plain
# JSON-lines file or a WARC is read in ranges by every worker: the reading of one big file, damaged; a few
# seconds each to extract, so ``benchmarks/fuzz.py`` draws them (``--big``), the suite does not
BIG_KINDS = ("jsonl-big", "warc-big", "warc.gz-big", "parquet-big")
# a kind's file extension where it is not the kind's name: JSON lines in
# UTF-16 with a byte-order mark and CRLF (what Windows PowerShell's ``>`` writes);
# a page a mirroring tool saved under its URL's name (read by its content)
# pretty-printed JSON (an array, an API's answer, `jq .` output) and a gzip page under a plain `.html` name
_EXTENSIONS = {"jsonl-utf16": "utf16.jsonl", "url-named": "php?id=7", "json-pretty": "json", "html-gzname": "html",
               "jsonl-big": "big.jsonl", "warc-big": "big.warc", "warc.gz-big": "big.warc.gz",
               "parquet-big": "big.parquet",
               "jsonl.gz-members": "jsonl.gz", "jsonl.zst-members": "jsonl.zst", "jsonl.bz2-members": "jsonl.bz2"}
# JSON lines compressed a member a line (a writer that appends, pbzip2, pzstd): each kind's codec
_MEMBER_CODECS = {"jsonl.gz-members": "gzip", "jsonl.zst-members": "zstd", "jsonl.bz2-members": "bzip2"}
# HTTP statuses of WARC responses besides 200: no article, a reject named for the status
_OTHER_STATUSES = ["301 Moved Permanently", "302 Found", "304 Not Modified", "404 Not Found", "429 Too Many Requests",
                   "500 Internal Server Error", "204 No Content"]


def extension(kind: str) -> str:
    return _EXTENSIONS.get(kind, kind)

_SUBJECTS = ["The city council", "The health ministry", "A regional court", "The central bank", "Local farmers",
             "The football club", "Rail workers", "The university", "Fire crews", "The energy regulator",
             "Opposition leaders", "A group of scientists", "The port authority", "Hospital staff", "The mayor"]
_VERBS = ["approved", "rejected", "announced", "delayed", "criticised", "welcomed", "reviewed", "defended",
          "questioned", "published", "extended", "cancelled"]
_OBJECTS = ["a plan to repair old school buildings", "new rules for short-term rentals", "the budget for next year",
            "an inquiry into the flooding of the river", "a deal on wages for the coming season",
            "the report on air quality in the centre", "a proposal to close two branch lines",
            "the results of the spring harvest", "measures to shorten waiting times",
            "a study of traffic on the ring road"]
_TAILS = ["after a long debate on Tuesday.", "despite strong objections from residents.",
          "according to a statement released in the evening.", "in a vote that surprised many observers.",
          "and promised further talks next month.", "while critics warned about the costs.",
          "following weeks of negotiations.", "at a meeting attended by dozens of people."]


def article_text(rnd: random.Random, sentences: int = 8) -> str:
    """Distinct English news-like text (a random draw of subjects, verbs, objects)."""
    return " ".join(f"{rnd.choice(_SUBJECTS)} {rnd.choice(_VERBS)} {rnd.choice(_OBJECTS)} {rnd.choice(_TAILS)}"
                    for _ in range(sentences))


def article_page(rnd: random.Random, charset: str | None = "utf-8") -> str:
    title = article_text(rnd, 1)[:60]
    paras = "".join(f"<p>{article_text(rnd, 3)}</p>" for _ in range(4))
    meta = f'<meta charset="{charset}">' if charset else ""
    return (f"<!DOCTYPE html><html lang=\"en\"><head>{meta}<title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>{title}</h1>{paras}"
            f"</article><footer>Contact us</footer></body></html>")


@dataclasses.dataclass
class Case:
    kind: str
    data: bytes
    records: list[tuple[int, int, int]]  # (start, end, number the reader gives it) of each article record
    first_damage: int | None  # offset of the first damaged byte, None if the mutations kept every byte
    mutations: list[str]
    member_compressed: bool = False  # warc.gz, jsonl.*-members: records ranges are ranges of members

    def intact_records(self) -> list[int]:
        """The reader's numbers (JSONL line, WARC record) of the article records
        that end before the first damaged byte: they must become articles."""
        return [n for _, end, n in self.records if self.first_damage is None or end <= self.first_damage]


def _encoded(body: bytes, encoding: str) -> tuple[bytes, str]:
    """(payload, HTTP header lines) of a body sent with ``encoding``, as a crawler records it."""
    import zlib

    if encoding == "gzip":
        return gzip.compress(body, mtime=0), "Content-Encoding: gzip\r\n"
    if encoding == "deflate":
        return zlib.compress(body), "Content-Encoding: deflate\r\n"
    if encoding == "br":
        import brotli

        return brotli.compress(body, quality=4), "Content-Encoding: br\r\n"
    if encoding == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(body), "Content-Encoding: zstd\r\n"
    if encoding == "chunked":
        parts = [f"{len(body[i:i + 500]):x}\r\n".encode() + body[i:i + 500] + b"\r\n" for i in range(0, len(body), 500)]
        return b"".join(parts) + b"0\r\n\r\n", "Transfer-Encoding: chunked\r\n"
    return body, ""


def _warc_record(uri: str | None, body: bytes, rtype: str = "response", extra: str = "",
                 encoding: str = "identity", status: str = "200 OK") -> bytes:
    payload, headers = _encoded(body, encoding)
    if rtype == "response":
        block = f"HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\n{headers}\r\n".encode() + payload
    elif rtype == "conversion":  # a WET file's record: the page's text itself
        block, extra = body, extra + "Content-Type: text/plain\r\n"
    elif rtype == "resource":  # a saved page stored as it is (warcit, wget): no HTTP block
        block, extra = body, extra + "Content-Type: text/html; charset=utf-8\r\n"
    else:
        block = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
    head = f"WARC/1.0\r\nWARC-Type: {rtype}\r\nWARC-Date: 2024-05-01T10:00:00Z\r\n"
    if uri:
        head += f"WARC-Target-URI: {uri}\r\n"
    head += extra + f"Content-Length: {len(block)}\r\n\r\n"
    return head.encode() + block + b"\r\n\r\n"


def _arc_record(line: str, body: bytes) -> bytes:
    """One ARC v1 record: a header line ending in the body's length, the body, a newline."""
    return f"{line} {len(body)}\n".encode() + body + b"\n"


def _records(rnd: random.Random, kind: str) -> tuple[list[bytes], str]:
    """The valid records of one file and how they are joined ('lines', 'concat', 'members', 'single')."""
    if kind.endswith("-big"):
        kind = kind[:-len("-big")]
        n = rnd.randint(1300, 2000) if kind == "jsonl" else rnd.randint(450, 700)
    else:
        n = rnd.randint(1, 5)
    if kind == "jsonl-utf16":
        recs = [(json.dumps({"url": f"https://example.com/{rnd.getrandbits(32):x}", "text": article_text(rnd)},
                            ensure_ascii=rnd.random() < 0.5) + "\r\n").encode("utf-16-le") for _ in range(n)]
        recs[0] = b"\xff\xfe" + recs[0]
        return recs, "lines"
    if kind in ("arc", "arc.gz"):
        version = b"1 0 Fuzz\nURL IP-address Archive-date Content-type Archive-length\n"
        recs = [_arc_record("filedesc://fuzz.arc 0.0.0.0 20040101000000 text/plain", version)]
        for _ in range(n):
            body = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + article_page(rnd).encode()
            recs.append(_arc_record(f"http://example.com/{rnd.getrandbits(32):x} 1.2.3.4 20040101120000 text/html",
                                    body))
        return recs, "members" if kind == "arc.gz" else "concat"
    if kind in ("jsonl", "jsonl.gz", "jsonl.zst", *_MEMBER_CODECS):  # the last: a member a line, appended
        recs = []
        for _ in range(n):
            rec = {"url": f"https://example.com/{rnd.getrandbits(32):x}", "published": "2024-05-01T10:00:00Z"}
            if rnd.random() < 0.5:
                rec["html"] = article_page(rnd)
            else:
                rec["text"] = article_text(rnd)
            recs.append(json.dumps(rec).encode() + b"\n")
        return recs, "members" if kind in _MEMBER_CODECS else "lines"
    if kind == "json":
        return [json.dumps([{"text": article_text(rnd), "title": "t"} for _ in range(n)]).encode()], "single"
    if kind == "json-pretty":  # the records one after another inside a layout's opening and closing
        indent = rnd.choice([1, 2, 4, "\t"])
        recs = [json.dumps({"title": "t", "url": f"https://example.com/{rnd.getrandbits(32):x}",
                            "text": article_text(rnd)}, indent=indent, ensure_ascii=rnd.random() < 0.5).encode()
                for _ in range(n)]
        layout = rnd.choice(["array", "envelope", "jq"])
        if layout == "jq":
            return [r + b"\n" for r in recs], "concat"
        head = b"[\n" if layout == "array" else b'{\n  "status": "ok",\n  "articles": [\n'
        tail = b"\n]\n" if layout == "array" else b"\n  ]\n}\n"
        return _framed(head, recs, tail), "framed"
    if kind == "csv":  # a header, then a row a record; texts hold line breaks, commas and quotes (quoted)
        import csv

        def row(cells):
            buf = io.StringIO()
            csv.writer(buf).writerow(cells)
            return buf.getvalue().encode()

        return [row(["title", "url", "text"])] + [
            row([f"Item {i}", f"https://example.com/{rnd.getrandbits(32):x}",
                 article_text(rnd).replace(". ", '.\n', 2) + ' "quoted", end']) for i in range(n)], "csv"
    if kind == "parquet":  # a row a record, in row groups; the footer at the end: damage anywhere may cost any row
        # a big one carries an image's bytes a row (not read), so that it passes the size at which workers
        # share a file by strides whatever its codec (generated texts compress tenfold)
        return [parquet_file(rnd, [article_text(rnd) for _ in range(n)], image_bytes=1024 if n > 5 else 0)[0]], \
            "parquet"
    if kind == "tar":  # pages as members of a plain tar, a record each (header and data), then its end blocks
        import tarfile

        members = []
        for i in range(1, n + 3):
            data = article_page(rnd).encode()
            info = tarfile.TarInfo(f"p{i}.html")
            info.size, info.mtime = len(data), 0
            members.append(info.tobuf() + data + bytes(-len(data) % 512))
        return members + [bytes(1024)], "tar"
    if kind in ("zip", "tar.gz", "tzst"):  # an archive of a few files of other kinds, damaged as a whole below
        import tarfile
        import zipfile

        inner = [(f"f{i}.{extension(k)}", b"".join(_records(rnd, k)[0]))
                 for i, k in enumerate(rnd.sample(["html", "txt", "jsonl", "csv", "json-pretty", "warc"], 3))]
        buf = io.BytesIO()
        # at a fixed time, as every kind's bytes are: a seed gives the same files on every run (zipfile dates a
        # member written by its name now, gzip its header; the mutations then fell on other bytes each run)
        if kind == "zip":
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for name, data in inner:
                    z.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 10, 0, 0)), data,
                               compress_type=zipfile.ZIP_DEFLATED)
        else:
            packed = gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) if kind == "tar.gz" else buf
            with tarfile.open(fileobj=packed, mode="w") as t:
                for name, data in inner:
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
            if packed is not buf:
                packed.close()
        if kind == "tzst":  # tar --zstd's archive (tarfile writes no zstd before Python 3.14)
            return [compress_member(buf.getvalue(), "zstd")], "single"
        return [buf.getvalue()], "single"
    if kind in ("warc", "warc.gz", "warc.zst"):
        recs = [_warc_record(None, b"", "warcinfo")]
        for _ in range(n):
            encoding = rnd.choice(["identity", "identity", "identity", "gzip", "deflate", "br", "zstd", "chunked"])
            status = "200 OK" if rnd.random() < 0.85 else rnd.choice(_OTHER_STATUSES)
            recs.append(_warc_record(f"https://example.com/{rnd.getrandbits(32):x}", article_page(rnd).encode(),
                                     encoding=encoding, status=status))
            if rnd.random() < 0.3:
                recs.append(_warc_record("https://example.com/", b"", "request"))
            if rnd.random() < 0.15:
                recs.append(_warc_record(f"https://example.com/{rnd.getrandbits(32):x}", article_page(rnd).encode(),
                                         "resource"))
        return recs, {"warc.gz": "members", "warc.zst": "frames"}.get(kind, "concat")
    if kind == "wet":  # Common Crawl's extracted text: a warcinfo record, then one conversion record a page
        return [_warc_record(None, b"", "warcinfo")] + [
            _warc_record(f"https://example.com/{rnd.getrandbits(32):x}", article_text(rnd).encode(), "conversion")
            for _ in range(n)], "concat"
    if kind == "mhtml":  # a browser's one-file page: the page quoted-printable, then an image
        import base64
        import quopri

        b = b"------MultipartBoundary--x----\r\n"
        return [b'From: <Saved by Blink>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\ttype="text/html";'
                b'\r\n\tboundary="----MultipartBoundary--x----"\r\n\r\n' + b
                + b"Content-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\n"
                + f"Content-Location: https://example.com/{rnd.getrandbits(32):x}\r\n\r\n".encode()
                + quopri.encodestring(article_page(rnd).encode()) + b"\r\n" + b
                + b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + base64.encodebytes(bytes(rnd.getrandbits(8) for _ in range(300)))
                + b"------MultipartBoundary--x------\r\n"], "single"
    if kind == "webarchive":  # Safari's saved page: a binary property list
        import plistlib

        return [plistlib.dumps({"WebMainResource": {
            "WebResourceData": article_page(rnd).encode(), "WebResourceMIMEType": "text/html",
            "WebResourceURL": f"https://example.com/{rnd.getrandbits(32):x}", "WebResourceTextEncodingName": "UTF-8"},
            "WebSubresources": [{"WebResourceData": bytes(rnd.getrandbits(8) for _ in range(200)),
                                 "WebResourceMIMEType": "image/png"}]}, fmt=plistlib.FMT_BINARY)], "single"
    if kind == "rss":
        items = "".join(f"<item><title>Item {i}</title><link>https://example.com/{rnd.getrandbits(32):x}</link>"
                        f"<description>{article_text(rnd)}</description></item>" for i in range(n))
        return [(f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F</title>'
                 f"{items}</channel></rss>").encode()], "single"
    if kind in ("txt", "txt.bz2"):
        return [("\n\n".join(article_text(rnd, 3) for _ in range(4))).encode()], "single"
    return [article_page(rnd, rnd.choice(["utf-8", None, "iso-8859-1"])).encode()], "single"  # html, html.gz, html.xz


def _framed(head: bytes, recs: list[bytes], tail: bytes) -> list[bytes]:
    """Parts whose concatenation is ``head``, the records joined by commas, ``tail``; record i is part i + 1."""
    return [head] + [(b",\n" if i else b"") + r for i, r in enumerate(recs)] + [tail]


def _compress_whole(kind: str, data: bytes) -> bytes:
    """The file of a kind compressed as a whole (not member by member), as its suffix says."""
    codec = "gzip" if kind == "html-gzname" else compression_of(kind)
    return compress_member(data, codec, checksum=False)


# -- mutations: each returns (new bytes, offset of the first byte it changed) ------------------
def _truncate(rnd, b):
    at = rnd.randrange(0, max(1, len(b)))
    return b[:at], at


def _flip(rnd, b):
    b = bytearray(b)
    at = rnd.randrange(len(b)) if b else 0
    first = at
    for _ in range(rnd.randint(1, 8)):
        i = rnd.randrange(len(b)) if b else 0
        if b:
            b[i] ^= 1 << rnd.randrange(8)
            first = min(first, i)
    return bytes(b), first


def _insert(rnd, b):
    at = rnd.randrange(len(b) + 1)
    junk = rnd.choice([bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 64))), b"\x00" * 50, b"\r\n\r\n",
                       b"<<<<<<", b'{"', b"WARC/1.0\r\n", b"\xff\xfe", b"]]>", b"&#x0;&bogus;"])
    return b[:at] + junk + b[at:], at


def _long_line(rnd, b):
    """A run of over a megabyte without a line break (a file padded with zeros,
    a dump cut into a binary blob): more than any reader's line cap."""
    at = rnd.randrange(len(b) + 1)
    return b[:at] + rnd.choice([b"\x00", b"x", b" "]) * rnd.randint(1_100_000, 1_500_000) + b[at:], at


def _no_utf8(rnd, b):
    """A character UTF-8 cannot hold: a lone surrogate as a JSON escape inside a
    string (JavaScript writes one for a cut emoji), as a character reference
    (``&#xD800;``) or as CESU-8 bytes; or one Latin-1 byte in UTF-8 text."""
    spelling = rnd.choice([b"\\ud800", b"\\udfff", b"&#xD800;", b"&#56320;", b"\xed\xa0\x80", b"\xe9"])
    inside = [i + 4 for i in range(len(b)) if b.startswith(b'": "', i)][:50] if spelling.startswith(b"\\u") else []
    at = rnd.choice(inside) if inside else rnd.randrange(len(b) + 1)
    return b[:at] + spelling + b[at:], at


def _delete(rnd, b):
    if len(b) < 2:
        return b, None
    at = rnd.randrange(len(b) - 1)
    return b[:at] + b[at + rnd.randint(1, min(200, len(b) - at)):], at


def _duplicate(rnd, b):
    if len(b) < 2:
        return b, None
    at = rnd.randrange(len(b) - 1)
    end = min(len(b), at + rnd.randint(1, 300))
    return b[:end] + b[at:end] + b[end:], end


def _quote(rnd, b):
    """A quote dropped or added: a CSV text's closing quote lost (an export
    cut short), a stray opening one; a JSON string left open or ended early."""
    if b'"' in b and rnd.random() < 0.5:
        at = b.find(b'"', rnd.randrange(len(b)))
        at = b.find(b'"') if at < 0 else at
        return b[:at] + b[at + 1:], at
    at = rnd.randrange(len(b) + 1)
    return b[:at] + b'"' + b[at:], at


def csv_with_a_damaged_quote(rnd, rows: list[list[str]], delimiter: str, how: str) -> tuple[str, int]:
    """``rows`` as a CSV (a header ``title``, ``url``, ``text``) with one
    row's quoting damaged: its last quote dropped (``drop_close``), the
    quote opening its text (``drop_open``), a quote added at its start
    (``stray_open``) or anywhere in it (``stray_any``). Returns the text and
    the damaged row's index."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter)
    w.writerow(["title", "url", "text"])
    spans = []
    for r in rows:
        start = buf.tell()
        w.writerow(r)
        spans.append((start, buf.tell()))
    text = buf.getvalue()
    hit = rnd.randrange(len(rows))
    start, end = spans[hit]
    row = text[start:end]
    if how == "drop_close":
        k = row.rstrip("\r\n").rfind('"')
    elif how == "drop_open":
        k = row.find(delimiter + '"') + 1
    else:
        k = 0 if how == "stray_open" else rnd.randrange(len(row))
    if how.startswith("drop"):
        row = row[:k] + row[k + 1:] if k > 0 else row
    else:
        row = row[:k] + '"' + row[k:]
    return text[:start] + row + text[end:], hit


def json_with_a_damaged_record(rnd, recs: list[dict], layout: str, indent) -> tuple[str, int]:
    """``recs`` as one JSON document (``array``, ``jq``: documents one after
    another, ``envelope``: an API's answer, ``nested``: its list two
    objects down) with one record damaged at one place: a character
    dropped, or a quote, a brace, a bracket, a comma or junk added.
    Returns the text and the damaged record's index."""
    dump = [json.dumps(r, indent=indent) for r in recs]
    hit = rnd.randrange(len(recs))
    spot = rnd.randrange(len(dump[hit]))
    if rnd.random() < 0.5:
        dump[hit] = dump[hit][:spot] + dump[hit][spot + 1:]
    else:
        dump[hit] = dump[hit][:spot] + rnd.choice(['"', "{", "}", "[", ",", "@@", '{"text": "x"']) + dump[hit][spot:]
    sep = ",\n" if indent is not None else ", "
    if layout == "array":
        return "[" + sep.join(dump) + "]", hit
    if layout == "jq":
        return "\n".join(dump), hit
    if layout == "envelope":
        return '{"status": "ok", "articles": [' + sep.join(dump) + '], "next": null}', hit
    return '{"response": {"meta": [1, {"a": 2}], "results": [' + sep.join(dump) + "]}}", hit


def parquet_file(rnd: random.Random, texts: list[str], image_bytes: int = 0) -> tuple[bytes, bool]:
    """A Parquet file of ``texts`` (with a title, a URL, a timestamp, a page's
    bytes or none, tags; with ``image_bytes``, that many random bytes a row
    in an ``image`` column), in random row groups, codec, page version and
    encoding; (its bytes, whether its pages carry checksums)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n = len(texts)
    checksums = rnd.random() < 0.5
    t = pa.table({"title": [f"Item {i}" for i in range(n)], "text": texts,
                  "url": [f"https://example.com/{rnd.getrandbits(32):x}" for _ in range(n)],
                  "published": pa.array([rnd.randint(10**9, 2 * 10**9) * 10**9 for _ in range(n)],
                                        pa.timestamp(rnd.choice(["ms", "us", "ns"]), tz=rnd.choice([None, "UTC"]))),
                  "html": pa.array([None] * n, pa.binary()),
                  "tags": [[rnd.choice(_VERBS)] * rnd.randint(0, 3) for _ in range(n)]})
    if image_bytes:
        t = t.append_column("image", pa.array([rnd.randbytes(image_bytes) for _ in range(n)], pa.binary()))
    buf = io.BytesIO()
    pq.write_table(t, buf, row_group_size=rnd.randint(1, max(1, n // 2)), write_page_checksum=checksums,
                   compression=rnd.choice(["snappy", "zstd", "gzip", "none", "lz4"]),
                   use_dictionary=rnd.random() < 0.5, data_page_version=rnd.choice(["1.0", "2.0"]))
    return buf.getvalue(), checksums


def parquet_case(rnd: random.Random, mutations: int) -> tuple[bytes, list[str], bool]:
    """A Parquet file of 1-60 texts with ``mutations`` of the fuzzer's byte
    mutations: (its bytes, the texts written, whether its pages carry checksums)."""
    texts = [article_text(rnd, rnd.randint(1, 4)) for _ in range(rnd.randint(1, 60))]
    data, checksums = parquet_file(rnd, texts)
    for _ in range(mutations):
        data, _ = _MUTATIONS[rnd.choice(sorted(set(_MUTATIONS) - {"long_line"}))](rnd, data)
    return data, texts, checksums


def zip_of(files: dict[str, str], method: int, streamed: bool = False) -> tuple[bytes, dict[str, int]]:
    """A zip of ``files`` (name: content) at a fixed time (the same bytes on
    every run), and where each file's bytes end. ``streamed``: written to a
    pipe, so each file's sizes and CRC-32 follow its data (flag bit 3) in a
    data descriptor of 16 bytes, which ends the file's bytes."""
    import zipfile

    class Pipe(io.RawIOBase):
        def __init__(self):
            self.data = bytearray()

        def writable(self):
            return True

        def write(self, b):
            self.data += b
            return len(b)

    sink = Pipe() if streamed else io.BytesIO()
    with zipfile.ZipFile(sink, "w", method) as z:
        for name, content in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 10, 0, 0)), content, compress_type=method)
    data = bytes(sink.data) if streamed else sink.getvalue()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        ends = {i.filename: i.header_offset + 30 + len(i.filename) + len(i.extra) + i.compress_size
                + (16 if streamed else 0) for i in z.infolist()}
    return data, ends


def jsonl_groups(rnd, count: int) -> tuple[list[bytes], list[list[dict]]]:
    """``count`` groups of 1-6 JSON-lines records (URLs numbered across the
    groups): each group's lines, as a gzip member would hold them, and its
    records."""
    recs, n = [], 0
    for _ in range(count):
        k = rnd.randint(1, 6)
        recs.append([{"url": f"https://example.com/{n + i}", "text": article_text(rnd)} for i in range(k)])
        n += k
    return [b"".join(json.dumps(r).encode() + b"\n" for r in group) for group in recs], recs


def compress_member(data: bytes, codec: str, checksum: bool = True) -> bytes:
    """``data`` as one member of ``codec``: a gzip member (at a fixed time), a
    bzip2 or xz stream, a zstd frame (with its checksum, as ``zstd`` writes
    it, unless ``checksum`` is False)."""
    if codec == "gzip":
        return gzip.compress(data, mtime=0)
    if codec == "bzip2":
        import bz2

        return bz2.compress(data)
    if codec == "xz":
        import lzma

        return lzma.compress(data)
    import zstandard

    return zstandard.ZstdCompressor(write_checksum=checksum).compress(data)


def members_with_one_damaged(rnd, chunks: list[bytes], first: int = 0, codec: str = "gzip") -> tuple[bytes, int]:
    """``chunks`` each compressed as one member of ``codec``
    (``compress_member``), one after another as a writer that appends leaves
    them, with one member from index ``first`` on damaged by a mutation of
    its own bytes (bits flipped, bytes added, dropped or repeated, or the
    member cut short and followed by the next). Returns the file and the
    damaged member's index."""
    members = [compress_member(c, codec) for c in chunks]
    hit = rnd.randrange(first, len(members))
    name = rnd.choice(["truncate", "flip", "flip", "insert", "delete", "duplicate"])
    damaged, _ = _MUTATIONS[name](rnd, members[hit])
    if damaged == members[hit]:  # a mutation that changed nothing (a bit flipped twice)
        damaged = members[hit][:-1]
    members[hit] = damaged
    return b"".join(members), hit


def _corrupt_header(rnd, b):
    """Drop or spoil a header line: WARC fields, HTTP status, JSON keys, XML prolog, charset."""
    targets = [b"WARC-Target-URI: ", b"Content-Length: ", b"WARC-Type: ", b"HTTP/1.1 200 OK", b"Content-Type: ",
               b'"text"', b'"html"', b"<?xml", b"charset=", b"<rss", b"<item>"]
    present = [t for t in targets if t in b]
    if not present:
        return _flip(rnd, b)
    t = rnd.choice(present)
    starts = [i for i in range(len(b)) if b.startswith(t, i)][:50]
    at = rnd.choice(starts)
    end = b.find(b"\n", at)
    end = len(b) if end < 0 else end
    choice = rnd.random()
    if t == b"Content-Length: " and choice < 0.6:  # a wrong declared length
        new = t + str(rnd.choice([0, 1, 10 ** 9, -5, int(rnd.random() * 5000)])).encode() + b"\r"
    elif t == b"charset=" and choice < 0.6:  # a wrong declared charset
        new = t + rnd.choice([b"utf-16", b"bogus-8", b"iso-2022-jp", b"0", b"utf-7"]) + b'">'
        end = b.find(b">", at) + 1 or len(b)
    elif choice < 0.5:
        new = b""  # dropped
    else:
        new = bytes(rnd.getrandbits(8) for _ in range(end - at))
    return b[:at] + new + b[end:], at


_MUTATIONS = {"truncate": _truncate, "flip": _flip, "insert": _insert, "delete": _delete,
              "duplicate": _duplicate, "header": _corrupt_header, "long_line": _long_line,
              "no_utf8": _no_utf8, "quote": _quote}


def make_case(rnd: random.Random, kind: str, mutations: int | None = None) -> Case:
    """One valid file of ``kind`` with 0-3 mutations (``mutations`` fixes the count)."""
    recs, joined = _records(rnd, kind)
    name_of_kind, kind = kind, kind[:-len("-big")] if kind.endswith("-big") else kind  # a big file: its format's rules
    count = rnd.choice([0, 1, 1, 1, 2, 3]) if mutations is None else mutations
    names = [rnd.choice(list(_MUTATIONS)) for _ in range(count)]
    codec = _MEMBER_CODECS.get(kind, "gzip")
    magic = CODECS[codec].magic[:2]
    if joined == "members":  # warc.gz, jsonl.*-members: each record its own member; damage the members' bytes
        parts = [compress_member(r, codec) for r in recs]
        if rnd.random() < 0.3:  # a garbage member among good ones
            garbage = bytes(rnd.getrandbits(8) for _ in range(200))
            if garbage.startswith(magic):  # garbage, not a member's start
                garbage = b"\x00" + garbage[1:]
            parts.insert(rnd.randrange(1, len(parts) + 1), garbage)
            names.append("garbage_member")
    elif joined == "frames":  # warc.zst as the WARC-zstd format has it: the dictionary's frame, then a frame a record
        import struct

        import zstandard

        dictionary = recs[-1][:2000]  # raw content, as zstd also takes a dictionary
        pack = zstandard.ZstdCompressor(dict_data=zstandard.ZstdCompressionDict(dictionary))
        parts = [struct.pack("<II", 0x184D2A5D, len(dictionary)) + dictionary] + [pack.compress(r) for r in recs]
    else:
        parts = recs
    data, ranges, pos = b"", [], 0
    for part in parts:
        ranges.append((pos, pos + len(part)))
        pos += len(part)
        data += part
    if joined == "csv":  # the header is no record
        ranges = ranges[1:]
    if joined == "frames":  # the dictionary's frame is no record
        ranges = ranges[1:]
    if joined == "tar":  # the end blocks are no record
        ranges = ranges[:-1]
    if joined == "parquet":  # every row spans the file: intact only when nothing was damaged
        import pyarrow.parquet as pq

        ranges = [(0, len(data))] * pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
    if joined == "framed":  # the opening and closing are no records; the record after a comma starts past it
        ranges = [(s + (2 if i > 1 else 0), e) for i, (s, e) in enumerate(ranges[1:-1], start=1)]
    first = None
    if "garbage_member" in names:
        i = next(i for i, p in enumerate(parts) if not p.startswith(magic))
        first = ranges[i][0]
    for name in names:
        if name == "garbage_member":
            continue
        data, at = _MUTATIONS[name](rnd, data)
        if at is not None:
            first = at if first is None else min(first, at)
    if joined == "members":  # the range of each record is its member's
        members = [i for i, p in enumerate(parts) if p.startswith(magic)]
        ranges = [ranges[members[i]] for i in range(len(recs))]
    # (start, end, the reader's number): JSONL lines and WARC records count from 1,
    # and only WARC response records of status 200 (and resource records, saved pages) are articles
    ranges = [(s, e, i) for i, (s, e) in enumerate(ranges, start=1)
              if kind not in ("warc", "warc.gz", "warc.zst", "arc", "arc.gz", "wet")
              or (b"WARC-Type: response" in recs[i - 1] and b"HTTP/1.1 200 OK" in recs[i - 1])
              or b"WARC-Type: resource" in recs[i - 1]
              or (kind == "wet" and b"WARC-Type: conversion" in recs[i - 1])
              or (kind.startswith("arc") and i > 1)]
    if kind in ("html.gz", "jsonl.gz", "jsonl.zst", "html.xz", "txt.bz2", "html-gzname"):
        # the whole file compressed after the mutations: the damage is inside the text, not the compressed
        # stream, unless a truncation of the compressed bytes is added
        data = _compress_whole(kind, data)
        if rnd.random() < 0.3:
            data = data[: rnd.randrange(len(data))]
            names.append("truncate_compressed")
            first = 0
    if kind in ("html", "html.gz", "html.xz", "txt", "txt.bz2", "json", "rss", "url-named", "html-gzname", "zip",
                "tar.gz", "tzst", "mhtml", "webarchive"):
        ranges = []  # one document: nothing to require, it may be damaged anywhere
    return Case(kind=name_of_kind, data=data, records=ranges, first_damage=first, mutations=names,
                member_compressed=joined == "members")


def file_name(i: int, kind: str) -> str:
    return f"case{i:05d}.{extension(kind)}"


def write_cases(folder: str, rnd: random.Random, per_kind: int, kinds=KINDS, start: int = 0) -> dict[str, Case]:
    """``per_kind`` generated files of each kind in ``folder``; name -> Case."""
    import os

    os.makedirs(folder, exist_ok=True)
    cases, i = {}, start
    for _ in range(per_kind):
        for kind in kinds:
            case = make_case(rnd, kind)
            name = file_name(i, kind)
            with open(os.path.join(folder, name), "wb") as f:
                f.write(case.data)
            cases[name] = case
            i += 1
    return cases


def record_source(path: str, case: Case, number: int) -> str:
    """The ``source`` newsbeam gives record ``number`` of the file at ``path``."""
    if case.kind == "tar":
        return f"{path}/p{number}.html"
    return f"{path}#L{number}" if case.kind.startswith(("json", "csv", "parquet")) else f"{path}#{number}"


def file_of(source: str, cases: dict) -> str:
    """The generated file a row's ``source`` belongs to: a file inside a generated archive counts for the archive."""
    parts = source.split("#", 1)[0].split("/")
    return next((p for p in parts if p in cases), parts[-1])


def check_output(folder: str, cases: dict[str, Case], articles: list[dict], rejects: list[dict],
                 counts: dict) -> list[str]:
    """What is wrong with a run over ``folder``: files with no row, intact
    records that are not articles, a row twice, a manifest that does not add up."""
    import collections
    import os

    problems = []
    rows = [r["source"] for r in articles] + [r["source"] for r in rejects]
    twice = [s for s, n in collections.Counter(rows).items() if n > 1]
    if twice:
        problems.append(f"{len(twice)} sources with more than one row, e.g. {twice[0]}")
    by_file = collections.defaultdict(list)
    for s in rows:
        by_file[file_of(s, cases)].append(s)
    article_sources = {r["source"] for r in articles}
    for name, case in sorted(cases.items()):
        if not by_file.get(name):
            problems.append(f"{name} ({case.kind}, {'+'.join(case.mutations) or 'valid'}): no article or reject row")
        path = os.path.join(folder, name)
        for n in case.intact_records():
            src = record_source(path, case, n)
            if src not in article_sources:
                got = [(r["stage"], r["reason"]) for r in rejects if r["source"] == src]
                problems.append(f"{name} ({case.kind}, {'+'.join(case.mutations)}): intact record {n} "
                                f"is not an article ({got or 'no row'})")
    if counts["inputs_seen"] != counts["articles_written"] + counts["rejected"] + counts["already_ingested"]:
        problems.append(f"manifest does not add up: {counts['inputs_seen']} != {counts['articles_written']} + "
                        f"{counts['rejected']} + {counts['already_ingested']}")
    if counts["unaccounted"]:
        problems.append(f"manifest: {counts['unaccounted']} unaccounted")
    if counts["articles_written"] != len(articles) or counts["rejected"] != len(rejects):
        problems.append(f"manifest counts {counts['articles_written']}/{counts['rejected']} but the tables hold "
                        f"{len(articles)}/{len(rejects)}")
    return problems
