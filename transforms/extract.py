"""Documents to article text: HTML through the sandboxed trafilatura, plain
text through the chrome cleaner. A document with no article text is a
reject (stage ``extract``) with the reason the extractor gave.
"""
from __future__ import annotations

import collections
import contextlib
import os
import re
import sys
import threading
import time

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.metrics import Metrics
from apache_beam.utils.windowed_value import WindowedValue

from transforms.annotate import has_words, word_count
from transforms.boundary import call_guarded, document_reject
from transforms.encoding import plain_text
from transforms.page_meta import clean_authors, clean_publisher, decode_entities, site_of, unescape
from transforms.records import make_reject
from transforms.sandbox import Sandbox, SandboxError, first_done
from transforms.textclean import clean_text

__all__ = ["ExtractArticles", "dump_headline"]

NAMESPACE = "newsbeam"
# A plain-text dump of one page is a few hundred lines, with comments a few
# thousand. The chrome cleaner scores every line in this process (~12-35 us
# and ~350 bytes a line): 7.5 million one-letter lines took 86 s and 2.6 GB.
# A text document of more lines than this is a reject, not an article.
MAX_TEXT_LINES = 50_000
# Pages a sandbox child holds: the one it extracts and the next, waiting in its pipe (transforms.sandbox)
PAGES_PER_CHILD = 2


PROGRESS_FILE_SECONDS = 1.0  # how often a worker's counts are written for the launcher's line, at the most


def progress_line(n: int, seconds: float, rejected: int, who: str) -> str:
    """The progress line a long run prints on stderr (a worker's, or the launcher's for several)."""
    return f"newsbeam: {n} documents extracted, {n / max(1e-9, seconds):.1f}/s, {rejected} rejected ({who})"


@contextlib.contextmanager
def notice_if_slow(every: float, message: str, out=None):
    """Print ``message`` on stderr (or ``out``) if the block is still running
    after ``every`` seconds (0: never): a long run's step after extraction,
    which has no count of its own to show, says what it is doing."""
    if not every:
        yield
        return
    timer = threading.Timer(every, lambda: print(message, file=out or sys.stderr, flush=True))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


class _Progress:
    """How far a long run has got, every ``every`` seconds (0: silent): the
    documents this step has extracted, its rate and its rejects so far. As a
    line on stderr; or, with ``folder`` (several local worker processes),
    as this step's counts in a file of that folder, which the launcher adds
    up into one line for the run (``pipeline.cli``): two workers' own lines
    each gave half the run, interleaved."""

    def __init__(self, every: float, folder: str | None = None):
        self.every = every
        self.n = self.rejected = 0
        self.shown = 0  # the count of the last line printed or file written
        self.start = self.last = time.monotonic()
        self.path = None
        if every and folder:
            import uuid

            self.path = os.path.join(folder, f"{os.getpid()}-{uuid.uuid4().hex[:8]}.json")

    def tick(self, rejected: bool = False) -> None:
        self.n += 1
        self.rejected += rejected
        now = time.monotonic()
        if self.every and now - self.last >= (self.every if self.path is None else
                                              min(self.every, PROGRESS_FILE_SECONDS)):
            self.last = now
            self._show(now)

    def flush(self) -> None:
        """At a bundle's end: the counts so far, where a line or file has shown
        fewer (the documents since it, which ``tick`` had not shown yet)."""
        if self.every and self.shown and self.n != self.shown:
            self._show(time.monotonic())

    def _show(self, now: float) -> None:
        self.shown = self.n
        if self.path is not None:
            self._write()
        else:
            print(progress_line(self.n, now - self.start, self.rejected, f"worker {os.getpid()}"),
                  file=sys.stderr, flush=True)

    def _write(self) -> None:
        import json

        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path + ".tmp", "w", encoding="utf-8") as f:
                json.dump({"n": self.n, "rejected": self.rejected}, f)
            os.replace(self.path + ".tmp", self.path)  # the launcher reads whole files only
        except OSError as e:  # the folder cannot be written: this worker says how far it got itself
            print(f"newsbeam: progress not written to {os.path.dirname(self.path)} ({e}); this worker's "
                  "own lines follow", file=sys.stderr, flush=True)
            self.path = None


_TITLE_END = re.compile(r"[.!?;:,|]$")
_CLOCK = re.compile(r"\d{1,2}:\d{2}")


def _headline_like(line: str) -> bool:
    """A line that reads as a headline: 3-25 words, mostly letters, no
    sentence or list punctuation at its end, not a date or a time."""
    words = line.split()
    letters = sum(c.isalpha() for c in line)
    return (3 <= len(words) <= 25 and not _TITLE_END.search(line) and letters >= 0.6 * len(line.replace(" ", ""))
            and not _CLOCK.search(line) and not line.islower())


def dump_headline(raw: str, text: str) -> str | None:
    """The headline of a plain-text dump: the article's first line when it
    reads as one, else the nearest headline-like line of the few the
    cleaner dropped right above the article (a dump keeps the page's
    headline among its chrome)."""
    first = text.split("\n", 1)[0].strip()
    if _headline_like(first) and len(text.split("\n", 1)) > 1:
        return first
    at = raw.find(first[:200]) if first else -1
    if at <= 0:
        return None
    above = [line.strip() for line in raw[max(0, at - 4000):at].split("\n") if line.strip()][-8:]
    for line in reversed(above):
        if _headline_like(line):
            return line
    return None


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
        # a record's or feed entry's own authors, people only, before the page's are looked at
        "author": clean_authors([doc["author"]], doc.get("publisher"), site_of(doc.get("url")))
        if doc.get("author") else None,
        "publisher": doc.get("publisher"),
        "description": doc.get("description"),
        "declared_language": doc.get("declared_language"),
        "canonical": None,
        "translation_proxy": None,
        "raw_size": doc["raw_size"],
    }
    for k, v in fields.items():
        if v is not None and (row.get(k) is None or k in ("text", "extractor")):
            row[k] = v
    # Entities decoded in every text column (records and feeds carry them, sites double-encode);
    # the author column holds people only, whichever input named them.
    row["text"] = decode_entities(row["text"])
    for k in ("title", "description"):
        row[k] = unescape(row[k])
    row["publisher"] = clean_publisher(row["publisher"])
    row["author"] = clean_authors([row["author"]], row["publisher"], site_of(row.get("url"))) if row["author"] else None
    for k, v in row.items():  # a lone surrogate (a page's JSON-LD "\ud800") would stop the run at Beam's coder
        if isinstance(v, str):
            row[k] = plain_text(v)
    return row


# The default of --min-words: only an empty text has no article. A text of a
# few words is written with its word_count, as trafilatura returns it; on the
# readability set four test pages' golds hold 1-8 words ("Test", "abc def
# ghi"), and a default of 10 scored that set 0.9494 against the wrapped
# libraries' 0.9638 when run as a user runs it. ``--min-words N`` rejects
# shorter texts as too_short.
MIN_WORDS = 1


def _too_short(doc, text: str, min_words: int):
    """A too_short reject when ``text`` has fewer than ``min_words`` words, else None (counted once)."""
    if has_words(text, min_words):
        return None
    return _reject(doc, "too_short", f"only {word_count(text)} words of text (--min-words {min_words})")


def _reject(doc, reason, error, stage="extract"):
    payload = doc["payload"]
    return pvalue.TaggedOutput("rejects", make_reject(
        source=doc["source"], source_format=doc["source_format"], stage=stage, reason=reason, error=error,
        raw=payload[:512] if isinstance(payload, str) else payload, raw_size=doc["raw_size"], doc_id=doc["doc_id"]))


class _ExtractFn(beam.DoFn):
    """Documents -> articles: HTML through sandboxed child processes (``processes``
    of them per DoFn instance), plain-text dumps through the chrome cleaner.

    Pipelined: while the children extract the next pages, this process
    finishes the first page done (its output runs through the fused
    downstream steps: language, machine translation, annotation, link
    records), so one worker keeps several cores busy. Each child holds a
    second page in its pipe (``PAGES_PER_CHILD``), which it starts the
    moment it sends a result, so no child waits while this process is busy
    downstream. Pages finish in any order; the shards are sorted by doc_id. Both kinds go through this one step on
    purpose: a Flatten of two branches would end the fused stage, and the
    FnApiRunner would run everything downstream only after extraction, no
    longer overlapped with the children.
    """

    def __init__(self, timeout: float, memory_mb: int, min_words: int, progress_seconds: float = 0.0,
                 processes: int = 1, progress_folder: str | None = None):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.min_words = min_words
        self.progress_seconds = progress_seconds
        self.progress_folder = progress_folder
        self.processes = max(1, processes)
        self.failures = Metrics.counter(NAMESPACE, "extract_failures")

    def setup(self):
        # children start on their first page: a run of text records starts none
        self.sandboxes = [Sandbox(self.timeout, self.memory_mb, PAGES_PER_CHILD) for _ in range(self.processes)]
        self.progress = _Progress(self.progress_seconds, self.progress_folder)

    def start_bundle(self):
        # sandbox -> (doc, window, timestamp) of the pages it holds, oldest first (as it returns them)
        self.pending = {s: collections.deque() for s in self.sandboxes}

    def process(self, doc, window=beam.DoFn.WindowParam, timestamp=beam.DoFn.TimestampParam):
        if doc["kind"] != "html":
            out = self._guarded(self._clean_text, doc)
            self.progress.tick(isinstance(out, pvalue.TaggedOutput))
            yield out
            return
        done = []
        # hand the next page over before a finished one goes downstream, so no child waits for it
        while not self._hand_over(doc, window, timestamp):
            done.append(self._collect())
        yield from done

    def _hand_over(self, doc, window, timestamp) -> bool:
        """The page to the sandbox holding the fewest (the first of equals) that takes it now."""
        for sandbox in sorted(self.sandboxes, key=lambda s: len(self.pending[s])):
            if sandbox.submit(doc["payload"], doc.get("url"), doc.get("http_charset")):
                self.pending[sandbox].append((doc, window, timestamp))
                return True
        return False

    def finish_bundle(self):
        while any(self.pending.values()):
            yield self._collect()
        self.progress.flush()

    def _collect(self):
        """The first page in flight to finish: its article or reject, in its own window."""
        sandbox = first_done([s for s in self.sandboxes if self.pending[s]])
        doc, window, timestamp = self.pending[sandbox].popleft()
        out = self._outcome(sandbox, doc)
        self.progress.tick(isinstance(out, pvalue.TaggedOutput))
        if isinstance(out, pvalue.TaggedOutput):
            return pvalue.TaggedOutput(out.tag, WindowedValue(out.value, timestamp, [window]))
        return WindowedValue(out, timestamp, [window])

    def _outcome(self, sandbox, doc):
        """The article or reject of the page ``sandbox`` has been extracting."""
        try:
            res = sandbox.collect()
        except SandboxError as e:
            self.failures.inc()
            return _reject(doc, e.reason, str(e))
        except Exception as e:  # a reply that cannot be read: the child is in an unknown state
            sandbox.restart()
            self.failures.inc()
            return pvalue.TaggedOutput("rejects", document_reject(doc, "extract", e, reason="crashed"))
        return self._guarded(self._to_output, doc, res)

    def _guarded(self, step, doc, *args):
        """``step(doc, ...)``, or the document's reject if it raises."""
        return call_guarded("extract", lambda: step(doc, *args), doc)

    def _to_output(self, doc, res):
        if res.get("stage") == "decode":
            return _reject(doc, res["error"], res["message"], stage="decode")
        text = (res.get("text") or "").strip()
        if not text:
            return _reject(doc, res.get("error") or "no_article", "the extractor found no article text in the page")
        short = _too_short(doc, text, self.min_words)
        if short is not None:
            return short
        return _article(doc, text=text, extractor=res["extractor"], title=res.get("title"), author=res.get("author"),
                        publisher=res.get("publisher"), description=res.get("description"),
                        published=res.get("published"), canonical=res.get("canonical"),
                        url=res.get("page_url"), declared_language=res.get("declared_language"),
                        translation_proxy=res.get("translation_proxy"))

    def _clean_text(self, doc):
        """Plain-text dump -> article lines, site chrome removed."""
        text = doc["payload"]
        lines = text.count("\n") + text.count("\r") - text.count("\r\n") + 1  # as clean_text splits them
        if lines > MAX_TEXT_LINES:
            return _reject(doc, "too_many_lines", f"{lines} lines: a text document of more than {MAX_TEXT_LINES} "
                                                  "lines is not read as one article")
        res = clean_text(doc["payload"])
        if not res.text.strip():
            from transforms.feedparse import parse_url_list

            listed = doc["source_format"] == "text" and parse_url_list(text.encode("utf-8", "surrogatepass"))
            hint = (f": a list of {len(listed.entries)} URLs, give it with --feeds to fetch the pages"
                    if listed else "")
            return _reject(doc, "no_article", f"no article lines among {res.dropped} lines of text{hint}")
        short = _too_short(doc, res.text, self.min_words)
        if short is not None:
            return short
        return _article(doc, text=res.text, extractor="text-cleaner", title=dump_headline(doc["payload"], res.text))

    def teardown(self):
        for sandbox in getattr(self, "sandboxes", ()):
            sandbox.close()


class ExtractArticles(beam.PTransform):
    """decoded documents -> articles (``main``) and ``rejects``."""

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048, min_words: int = MIN_WORDS,
                 progress_seconds: float = 0.0, processes: int = 1, progress_folder: str | None = None):
        super().__init__()
        self.processes = processes
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.min_words = min_words
        self.progress_seconds = progress_seconds
        self.progress_folder = progress_folder

    def expand(self, docs):
        fn = _ExtractFn(self.timeout, self.memory_mb, self.min_words, self.progress_seconds, self.processes,
                        self.progress_folder)
        out = docs | "Extract" >> beam.ParDo(fn).with_outputs(
            "rejects", main="articles")
        return {"articles": out.articles, "rejects": out.rejects}
