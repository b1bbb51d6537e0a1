"""Final per-article columns: content hash, word count, canonical URL,
timestamps, provenance. Turns the working dict into an ``articles`` row.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata

import apache_beam as beam
import xxhash

from transforms.boundary import per_document
from transforms.page_meta import site_of
from transforms.records import as_utc
from transforms.urls import canonical_url

__all__ = ["AnnotateArticles", "content_hash", "has_words", "normalise_text", "parse_timestamp", "word_count"]

_WORD = re.compile(r"\w+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def normalise_text(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: what exact duplicates share.
    ``str.split`` splits at the characters ``\\s`` matches (both ask Python's
    own test, ``str.isspace``), so its runs joined by one space are the runs
    replaced by one and the ends stripped, in half the time on long texts
    (a test holds it to the regular expression over every code point)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_hash(text: str) -> str:
    return xxhash.xxh3_128_hexdigest(normalise_text(text).encode("utf-8", "surrogatepass"))


def word_count(text: str) -> int:
    """Words; each CJK character counts as one (those scripts use no spaces)."""
    cjk = len(_CJK.findall(text))
    return len(_WORD.findall(_CJK.sub(" ", text) if cjk else text)) + cjk


def has_words(text: str, n: int) -> bool:
    """``word_count(text) >= n``; for one word, whether any is there (a CJK
    character is a word character too), without counting them all."""
    if n <= 1:
        return n <= 0 or _WORD.search(text) is not None
    return word_count(text) >= n


_EPOCH = re.compile(r"\d{9,13}(\.\d+)?")  # Unix seconds (9-10 digits) or milliseconds (12-13)
_EPOCH_RANGE = (631152000, 4133980800)  # 1990-01-01 .. 2101-01-01 in Unix seconds


def parse_timestamp(value) -> dt.datetime | None:
    """ISO dates and times (``2024-05-01``, ``2024-05-01T10:00:00+02:00``), RFC
    2822 dates, and Unix times in seconds or milliseconds (``1714557600``,
    ``1714557600000``: what many JSON exports write) -> aware UTC; None for
    anything else, or a time outside 1990-2100 (no news date)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        ts = as_utc(value)
    else:
        s = str(value).strip().replace("Z", "+00:00")
        if _EPOCH.fullmatch(s):
            seconds = float(s)
            seconds = seconds / 1000 if seconds >= 1e11 else seconds
            return dt.datetime.fromtimestamp(seconds, dt.timezone.utc) if _EPOCH_RANGE[0] <= seconds < _EPOCH_RANGE[1] \
                else None
        try:
            ts = dt.datetime.fromisoformat(s)
        except ValueError:
            try:
                from email.utils import parsedate_to_datetime

                ts = parsedate_to_datetime(s)
            except (TypeError, ValueError, IndexError):
                return None
        ts = as_utc(ts)
    if ts is None or not (1990 <= ts.year <= 2100):
        return None
    return ts


class _AnnotateFn(beam.DoFn):
    def __init__(self, run_id: str, ingested_at: dt.datetime, version: str):
        self.run_id = run_id
        self.ingested_at = ingested_at
        self.version = version

    @per_document("annotate")
    def process(self, a):
        text = a["text"]
        canonical = canonical_url(a.get("url"), a.get("canonical"))
        yield {
            "doc_id": a["doc_id"],
            "url": a.get("url"),
            "canonical_url": canonical,
            "source": a["source"],
            "source_format": a["source_format"],
            "feed_url": a.get("feed_url"),
            "published_at": parse_timestamp(a.get("published")),
            "fetched_at": parse_timestamp(a.get("fetched_at")),
            "ingested_at": self.ingested_at,
            "title": a.get("title"),
            "author": a.get("author"),
            "publisher": a.get("publisher"),
            "site": site_of(canonical or a.get("url")),
            "description": a.get("description"),
            "text": text,
            "word_count": word_count(text),
            "declared_language": a.get("declared_language"),
            "language": a["language"],
            "language_score": a["language_score"],
            "mt_score": a["mt_score"],
            "is_machine_translated": a["is_machine_translated"],
            "mt_source_language": a["mt_source_language"],
            "mt_evidence": a["mt_evidence"],
            "content_hash": content_hash(text),
            "extractor": a["extractor"],
            "pipeline_version": self.version,
            "run_id": self.run_id,
        }


class AnnotateArticles(beam.PTransform):
    """working dicts -> ``articles`` rows (``main``), and ``rejects``."""

    def __init__(self, run_id: str, ingested_at: dt.datetime, version: str):
        super().__init__()
        self.run_id = run_id
        self.ingested_at = ingested_at
        self.version = version

    def expand(self, articles):
        return articles | "Annotate" >> beam.ParDo(_AnnotateFn(self.run_id, self.ingested_at, self.version)).with_outputs(
            "rejects", main="articles")
