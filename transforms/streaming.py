"""The unbounded feed graph, for streaming runners (Flink, Dataflow, Prism).

``newsbeam stream`` drives bounded runs on a local machine; on a runner that
executes unbounded sources the same work is one streaming pipeline:

    PeriodicImpulse -> (per poll) feed sources -> entries -> (global window)
    FirstSeenByUrl (stateful, state expires after ``ttl``) -> (per poll) pages
    -> articles -> FixedWindows(window) -> WriteWindowShards (one committed
    shard per window)

``streaming_graph`` assembles it from the same transforms as the batch path.
``FirstSeenByUrl`` and ``WriteWindowShards`` are tested with TestStream.
"""
from __future__ import annotations

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.coders import BooleanCoder
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms import window as beam_window
from apache_beam.transforms.timeutil import TimeDomain
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec, TimerSpec, on_timer
from apache_beam.utils.timestamp import Duration

from transforms.extract import MIN_WORDS
from transforms.write import mkdirs

__all__ = ["FirstSeenByUrl", "WriteWindowShards", "streaming_graph"]


class _FirstSeenFn(beam.DoFn):
    SEEN = ReadModifyWriteStateSpec("seen", BooleanCoder())
    EXPIRY = TimerSpec("expiry", TimeDomain.WATERMARK)

    def __init__(self, ttl_seconds: float):
        self.ttl = ttl_seconds

    def process(self, element, seen=beam.DoFn.StateParam(SEEN), expiry=beam.DoFn.TimerParam(EXPIRY),
                timestamp=beam.DoFn.TimestampParam):
        _, entry = element
        if seen.read():
            return
        seen.write(True)
        expiry.set(timestamp + Duration(seconds=self.ttl))
        yield entry

    @on_timer(EXPIRY)
    def expire(self, seen=beam.DoFn.StateParam(SEEN)):
        seen.clear()


class FirstSeenByUrl(beam.PTransform):
    """entries -> entries whose URL was not seen in the last ``ttl_seconds`` (stateful, per URL).

    Apply it before windowing: state is kept per key and window."""

    def __init__(self, ttl_seconds: float = 7 * 24 * 3600):
        super().__init__()
        self.ttl = ttl_seconds

    def expand(self, entries):
        return (entries
                | "KeyByUrl" >> beam.Map(lambda e: (e["url"] or e["feed_url"], e))
                | "FirstSeen" >> beam.ParDo(_FirstSeenFn(self.ttl)))


class _WriteWindowFn(beam.DoFn):
    def __init__(self, output: str, table: str, schema: pa.Schema, prefix: str):
        self.output = output
        self.table = table
        self.schema = schema
        self.prefix = prefix

    def process(self, element, window=beam.DoFn.WindowParam):
        _, rows = element
        rows = sorted(rows, key=lambda r: r["doc_id"])
        start = window.start.to_utc_datetime()
        folder = FileSystems.join(self.output, self.table, f"ingest_date={start.date().isoformat()}")
        name = f"part-{self.prefix}{start.strftime('%Y%m%dT%H%M%SZ')}-00000.parquet"
        tmp = FileSystems.join(self.output, "_staging", f"{self.table}-{name}")
        for d in (folder, FileSystems.join(self.output, "_staging")):
            mkdirs(d)
        with FileSystems.create(tmp) as f:
            pq.write_table(pa.Table.from_pylist([{k: r.get(k) for k in self.schema.names} for r in rows],
                                                schema=self.schema), f, compression="zstd")
        final = FileSystems.join(folder, name)
        FileSystems.rename([tmp], [final])
        yield final


class WriteWindowShards(beam.PTransform):
    """windowed rows -> one committed Parquet shard per window (written aside, then renamed)."""

    def __init__(self, output: str, table: str, schema: pa.Schema, prefix: str = "w"):
        super().__init__()
        self.output = output
        self.table = table
        self.schema = schema
        self.prefix = prefix

    def expand(self, rows):
        return (rows
                | "OneKey" >> beam.Map(lambda r: (self.table, r))
                | "ByWindow" >> beam.GroupByKey()
                | "WriteWindow" >> beam.ParDo(_WriteWindowFn(self.output, self.table, self.schema, self.prefix)))


def streaming_graph(p: beam.Pipeline, feeds: list[str], output: str, poll_interval: float, window: float,
                    settings, no_fetch: bool, run_id: str, started_at, version: str,
                    extract_timeout: float = 30.0, extract_memory_mb: int = 2048, min_words: int = MIN_WORDS):
    """The unbounded pipeline for streaming runners (``--streaming``)."""
    from apache_beam.transforms.periodicsequence import PeriodicImpulse

    from transforms.annotate import AnnotateArticles
    from transforms.decode import DecodeDocuments
    from transforms.extract import ExtractArticles
    from transforms.feeds import EntryDocuments, FeedEntries
    from transforms.language import DetectLanguage
    from transforms.records import ARTICLE_SCHEMA, REJECT_SCHEMA
    from transforms.translation import DetectMachineTranslation

    polls = beam_window.FixedWindows(poll_interval)  # grouping steps (by feed, by host) work per poll
    sources = (p | "Ticks" >> PeriodicImpulse(fire_interval=poll_interval, apply_windowing=False)
               | "PollWindows" >> beam.WindowInto(polls)
               | "FeedList" >> beam.FlatMap(lambda _: list(feeds)))
    entries = sources | "Feeds" >> FeedEntries(settings, timeout=extract_timeout, memory_mb=extract_memory_mb)
    fresh = (entries["entries"]
             | "Global" >> beam.WindowInto(beam_window.GlobalWindows())  # state per URL across all polls
             | "FirstSeen" >> FirstSeenByUrl()
             | "PollWindowsAgain" >> beam.WindowInto(polls))
    docs = fresh | "EntryDocuments" >> EntryDocuments(settings, no_fetch)
    decoded = docs["docs"] | "Decode" >> DecodeDocuments()
    extracted = decoded.docs | "Extract" >> ExtractArticles(extract_timeout, extract_memory_mb, min_words)
    language = extracted["articles"] | "Language" >> DetectLanguage()
    translation = language.articles | "MachineTranslation" >> DetectMachineTranslation()
    annotated = translation.articles | "Annotate" >> AnnotateArticles(run_id, started_at, version)
    articles = annotated.articles
    rejects = ((entries["rejects"], docs["rejects"], decoded.rejects, extracted["rejects"], language.rejects,
                translation.rejects, annotated.rejects)
               | "AllRejects" >> beam.Flatten()
               | "Stamp" >> beam.Map(lambda r: {**r, "ingested_at": started_at, "run_id": run_id}))
    fixed = beam_window.FixedWindows(window)
    (articles | "WindowArticles" >> beam.WindowInto(fixed)
     | "WriteArticles" >> WriteWindowShards(output, "articles", ARTICLE_SCHEMA))
    (rejects | "WindowRejects" >> beam.WindowInto(fixed)
     | "WriteRejects" >> WriteWindowShards(output, "rejects", REJECT_SCHEMA))
    return p
