"""Documents to article text: HTML through the sandboxed trafilatura, plain
text through the chrome cleaner. A document with no article text is a
reject (stage ``extract``) with the reason the extractor gave.
"""
from __future__ import annotations

import re

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from transforms.annotate import word_count
from transforms.records import make_reject
from transforms.sandbox import Sandbox, SandboxError
from transforms.textclean import clean_text

__all__ = ["ExtractArticles"]

NAMESPACE = "newsbeam"
_TITLE_END = re.compile(r"[.!?;:,]$")


def _article(doc, **fields):
    row = {
        "doc_id": doc["doc_id"],
        "url": doc.get("url"),
        "source": doc["source"],
        "source_format": doc["source_format"],
        "feed_url": doc.get("feed_url"),
        "fetched_at": doc.get("fetched_at"),
        "published": doc.get("published"),
        "title": doc.get("title"),
        "author": None,
        "publisher": doc.get("publisher"),
        "description": None,
        "declared_language": doc.get("declared_language"),
        "canonical": None,
        "raw_size": doc["raw_size"],
    }
    for k, v in fields.items():
        if v is not None and (row.get(k) is None or k in ("text", "extractor")):
            row[k] = v
    return row


def _reject(doc, reason, error):
    payload = doc["payload"]
    return pvalue.TaggedOutput("rejects", make_reject(
        source=doc["source"], source_format=doc["source_format"], stage="extract", reason=reason, error=error,
        raw=payload[:512] if isinstance(payload, str) else payload, raw_size=doc["raw_size"], doc_id=doc["doc_id"]))


class _HtmlExtractFn(beam.DoFn):
    """HTML -> article, through one sandboxed child process per DoFn instance."""

    def __init__(self, timeout: float, memory_mb: int, min_words: int):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.min_words = min_words
        self.failures = Metrics.counter(NAMESPACE, "extract_failures")

    def setup(self):
        self.sandbox = Sandbox(self.timeout, self.memory_mb)

    def process(self, doc):
        try:
            res = self.sandbox.extract(doc["payload"], doc.get("url"))
        except SandboxError as e:
            self.failures.inc()
            yield _reject(doc, e.reason, str(e))
            return
        text = (res.get("text") or "").strip()
        if not text:
            yield _reject(doc, res.get("error") or "no_article", "the extractor found no article text in the page")
            return
        if word_count(text) < self.min_words:
            yield _reject(doc, "too_short", f"only {word_count(text)} words of text (--min-words {self.min_words})")
            return
        yield _article(doc, text=text, extractor=res["extractor"], title=res.get("title"), author=res.get("author"),
                       publisher=res.get("publisher"), description=res.get("description"),
                       published=res.get("published"), canonical=res.get("canonical"),
                       url=res.get("page_url"), declared_language=res.get("declared_language"))

    def teardown(self):
        self.sandbox.close()


class _CleanTextFn(beam.DoFn):
    """Plain-text dump -> article lines, site chrome removed."""

    def __init__(self, min_words: int):
        self.min_words = min_words

    def process(self, doc):
        res = clean_text(doc["payload"])
        if not res.text.strip():
            yield _reject(doc, "no_article", f"no article lines among {res.dropped} lines of text")
            return
        if word_count(res.text) < self.min_words:
            yield _reject(doc, "too_short", f"only {word_count(res.text)} words of text (--min-words {self.min_words})")
            return
        first = res.text.split("\n", 1)[0].strip()
        title = first if len(first.split()) <= 25 and not _TITLE_END.search(first) else None
        yield _article(doc, text=res.text, extractor="text-cleaner", title=title)


class ExtractArticles(beam.PTransform):
    """decoded documents -> articles (``main``) and ``rejects``."""

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048, min_words: int = 10):
        super().__init__()
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.min_words = min_words

    def expand(self, docs):
        parts = docs | "ByKind" >> beam.Partition(lambda d, n: 0 if d["kind"] == "html" else 1, 2)
        html = parts[0] | "ExtractHtml" >> beam.ParDo(_HtmlExtractFn(self.timeout, self.memory_mb, self.min_words)).with_outputs(
            "rejects", main="articles")
        text = parts[1] | "CleanText" >> beam.ParDo(_CleanTextFn(self.min_words)).with_outputs("rejects", main="articles")
        return {
            "articles": (html.articles, text.articles) | "Articles" >> beam.Flatten(),
            "rejects": (html.rejects, text.rejects) | "ExtractRejects" >> beam.Flatten(),
        }
