"""The records that flow between transforms, and the output schemas.

Elements are plain dicts (cheap to pickle, readable in a debugger); the
helpers here build them so that every stage fills the same keys. The Arrow
schemas are the contract of ``articles/`` and ``rejects/`` (see SPEC.md).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any

import pyarrow as pa
import xxhash

from transforms.encoding import plain_text
from transforms.timeutil import as_utc

__all__ = [
    "as_utc",
    "ARTICLE_SCHEMA",
    "ARTICLE_LABELS",
    "REJECT_SCHEMA",
    "SEEN_SCHEMA",
    "ARTICLE_INDEX_SCHEMA",
    "INGESTED_SCHEMA",
    "http_status_reason",
    "make_doc_id",
    "make_raw",
    "make_reject",
    "RAW_EXCERPT_BYTES",
]

RAW_EXCERPT_BYTES = 512
_TS = pa.timestamp("us", tz="UTC")

ARTICLE_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("url", pa.string()),
    ("canonical_url", pa.string()),
    ("source", pa.string()),
    ("source_format", pa.string()),
    ("feed_url", pa.string()),
    ("published_at", _TS),
    ("fetched_at", _TS),
    ("ingested_at", _TS),
    ("title", pa.string()),
    ("author", pa.string()),
    ("publisher", pa.string()),
    ("site", pa.string()),
    ("description", pa.string()),
    ("text", pa.string()),
    ("word_count", pa.int32()),
    ("declared_language", pa.string()),
    ("language", pa.string()),
    ("language_score", pa.float32()),
    ("mt_score", pa.float32()),
    ("is_machine_translated", pa.bool_()),
    ("mt_source_language", pa.string()),
    ("mt_evidence", pa.list_(pa.string())),
    ("content_hash", pa.string()),
    ("dup_cluster_id", pa.string()),
    ("is_duplicate", pa.bool_()),
    ("dup_similarity", pa.float32()),
    ("story_id", pa.string()),
    ("extractor", pa.string()),
    ("pipeline_version", pa.string()),
    ("run_id", pa.string()),
])

# The columns near-duplicate and story detection fill in once every article is known
ARTICLE_LABELS = ("dup_cluster_id", "is_duplicate", "dup_similarity", "story_id")

REJECT_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("source", pa.string()),
    ("source_format", pa.string()),
    ("stage", pa.string()),
    ("reason", pa.string()),
    ("error", pa.string()),
    ("raw_excerpt", pa.binary()),
    ("raw_size", pa.int64()),
    ("ingested_at", _TS),
    ("run_id", pa.string()),
])


SEEN_SCHEMA = pa.schema([("url", pa.string()), ("run_id", pa.string())])

# OUT/index/articles: what a later run needs of this run's articles to link
# its own to them (MinHash signature, story terms, canonical-rule fields).
ARTICLE_INDEX_SCHEMA = pa.schema([
    ("doc_id", pa.string()),
    ("content_hash", pa.string()),
    ("sig", pa.binary()),
    ("sig_scheme", pa.string()),  # dedup.SIGNATURE_SCHEME: signatures of other schemes do not compare
    ("n", pa.int32()),
    ("lead", pa.string()),
    ("published_at", _TS),
    ("length", pa.int64()),
    ("is_machine_translated", pa.bool_()),
    ("dup_cluster_id", pa.string()),
    ("story_id", pa.string()),
    # stories.pack: 32-bit word hashes, then float16 weights, heaviest first (an index of newsbeam before
    # 2026-12-02 holds JSON text [[word, weight], ...] here; grouping.old_record reads both)
    ("terms", pa.binary()),
    ("anchors", pa.binary()),  # numbers and names, packed alike: what story links across languages compare
    ("language", pa.string()),
    ("run_id", pa.string()),
])

# OUT/index/ingested: every doc_id a run wrote, as an article or a reject.
INGESTED_SCHEMA = pa.schema([("doc_id", pa.string()), ("outcome", pa.string()), ("run_id", pa.string())])


def make_doc_id(identity: str, payload: bytes | str) -> str:
    """Stable id of one input document: where it is from and what it holds.

    The same record at the same place gets the same id on every run and every
    worker (xxh3-128 has no per-process seed, unlike ``hash()``).
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8", "surrogatepass")
    body = xxhash.xxh3_128_hexdigest(payload)
    return xxhash.xxh3_128_hexdigest(f"{identity}\x00{body}".encode("utf-8", "surrogatepass"))


def utf8_text(value) -> str:
    """A plain str that UTF-8 (Beam's coder, Parquet) can carry. A local file
    name that is not UTF-8 reaches Python with each undecodable byte as a lone
    surrogate (in a path, or quoted in an error message); it is shown as
    ``\\xNN``, the byte. Any other lone surrogate becomes ``\\udNNN``."""
    value = str(value)
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        pass
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return value.encode("utf-8", "backslashreplace").decode("utf-8")


def make_raw(
    *,
    source: str,
    source_format: str,
    kind: str,
    payload: bytes | str,
    raw_size: int,
    url: str | None = None,
    title: str | None = None,
    published: str | None = None,
    publisher: str | None = None,
    fetched_at: _dt.datetime | None = None,
    http_charset: str | None = None,
    declared_language: str | None = None,
    feed_url: str | None = None,
    id_payload: bytes | None = None,
    author: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """An input document as read: ``kind`` is ``html`` or ``text``. The id
    is made of ``id_payload`` when given (the payload as written, where the
    one passed on was repaired), else of the payload."""
    source = utf8_text(source)
    return {
        "doc_id": make_doc_id(url or source, payload if id_payload is None else id_payload),
        "source": source,
        "source_format": source_format,
        "kind": kind,
        "payload": payload,
        "raw_size": raw_size,
        "url": plain_text(url),
        "title": plain_text(title),
        "published": plain_text(published),
        "publisher": plain_text(publisher),
        "fetched_at": fetched_at,
        "http_charset": plain_text(http_charset),
        "declared_language": plain_text(declared_language),
        "feed_url": plain_text(feed_url),
        "author": plain_text(author),
        "description": plain_text(description),
    }


_HTML_TYPE = re.compile(r"^\s*(text/html|application/xhtml\+xml)\b", re.IGNORECASE)  # "text/html, text/html" too
_GENERIC_XML_TYPE = re.compile(r"^\s*(text|application)/xml\b", re.IGNORECASE)
# what comes before an XML document's root element: declarations, comments, a doctype (each bounded)
_XML_PROLOG = re.compile(rb"^(?:\s+|\xef\xbb\xbf|<\?[^>]{0,2000}\?>|<!--(?:[^-]|-(?!->)){0,4000}-->|<![^>]{0,2000}>)*")
_ROOT = re.compile(rb"<(?:[A-Za-z][\w.-]{0,40}:)?([A-Za-z][\w.-]{0,40})")


def html_content_type(content_type: str | None, head: bytes) -> bool:
    """Whether a response is a page to extract: ``text/html`` or
    ``application/xhtml+xml``, or XML sent as plain ``text/xml`` or
    ``application/xml`` whose root element is ``html``; no type at all is
    taken for a page. A feed (``application/rss+xml``, or XML whose root is
    ``rss``), a sitemap, an SVG image are not: read as a page, a feed
    became one article of its items' titles and links run together."""
    if not content_type or not content_type.strip():
        return True
    if _HTML_TYPE.search(content_type):
        return True
    if _GENERIC_XML_TYPE.search(content_type):
        m = _ROOT.match(head[:8192], _XML_PROLOG.match(head[:8192]).end())
        return bool(m) and m.group(1).lower() == b"html"
    return False


def http_status_reason(status: int) -> str:
    """The reject reason for an HTTP response of ``status`` that is no article, the
    same for a fetch and a WARC record: ``rate_limited`` for 429, else ``http_<status>``."""
    return "rate_limited" if status == 429 else f"http_{status}"


def make_reject(
    *,
    source: str,
    source_format: str,
    stage: str,
    reason: str,
    error: str = "",
    raw: bytes | str | None = b"",
    raw_size: int | None = None,
    doc_id: str | None = None,
) -> dict[str, Any]:
    """A reject row (``ingested_at`` and ``run_id`` are added when written)."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "replace")
    raw = raw or b""
    source, error = utf8_text(source), utf8_text(error or "")
    return {
        "doc_id": doc_id or make_doc_id(source, raw),
        "source": source,
        "source_format": source_format,
        "stage": stage,
        "reason": reason,
        "error": error[:2000],
        "raw_excerpt": bytes(raw[:RAW_EXCERPT_BYTES]),
        "raw_size": len(raw) if raw_size is None else int(raw_size),
    }
