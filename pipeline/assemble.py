"""Pipeline assembly: the only place that reads options.

Extract (read, decode, extract), transform (language, annotate), load
(Parquet shards, run statistics, commit). Transforms get plain values.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions, StandardOptions, WorkerOptions

from pipeline.options import NewsbeamOptions
from pipeline.runner import LOCAL_RUNNERS
from pipeline.version import __version__
from transforms.annotate import AnnotateArticles
from transforms.components import MAX_UNION_FIND_EDGES
from transforms.decode import DecodeDocuments
from transforms.extract import ExtractArticles
from transforms.language import DetectLanguage
from transforms.feeds import EntryDocuments, FeedEntries, SeenUrlRows, SplitSeenEntries, WriteFeedState, load_json
from transforms.fetch import FetchSettings
from transforms.dedup import SIGNATURE_SCHEME
from transforms.group_local import LabelStaged
from transforms.grouping import DROP, LINK_SCHEMA, GroupArticles, LinkRecords, SplitIngested, index_row, old_record
from transforms.read import SPLIT_BYTES, ReadDocuments, expand_inputs, kind_of, match, under
from transforms.records import (ARTICLE_INDEX_SCHEMA, ARTICLE_LABELS, ARTICLE_SCHEMA, INGESTED_SCHEMA, REJECT_SCHEMA,
                               SEEN_SCHEMA, make_reject)
from transforms.translation import DetectMachineTranslation
from transforms.write import (CommitRun, StageRows, WriteLabelledRows, WriteParquet, check_index_files, recover_commits,
                              staging_dir)

__all__ = ["build", "fetch_settings", "new_run_id", "SEEDS_DIR"]

# The bundled sample: the repository's seeds/ (an editable install or a
# checkout), else ./seeds in the working folder.
_REPO_SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "seeds")
SEEDS_DIR = _REPO_SEEDS if os.path.isdir(_REPO_SEEDS) else os.path.abspath("seeds")
PROGRESS_FOLDER = "_progress"  # in the staging folder: several local workers' progress counts


def new_run_id(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"newsbeam": __version__}
    for dist in ("apache-beam", "trafilatura", "langdetect", "pyarrow", "lxml", "justext", "warcio",
                 "charset-normalizer"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _article_stat_keys(labelled):
    """Labelled records -> the manifest's counters of articles, duplicates and stories."""
    def article_keys(rec):
        yield from rec["stats"]
        if rec["is_duplicate"]:
            yield "group/duplicate"

    stories = (labelled | "StoryIds" >> beam.Map(lambda r: r["story_id"]) | "DistinctStories" >> beam.Distinct()
               | "StoryStats" >> beam.Map(lambda _: "group/story"))
    return (labelled | "ArticleStats" >> beam.FlatMap(article_keys), stories) | "ArticleKeys" >> beam.Flatten()


def _stat_keys(article_keys, rejects, skipped, notes, flow):
    def reject_keys(r):
        yield f"rejected/{r['stage']}/{r['reason']}"

    return (
        article_keys,
        rejects | "RejectStats" >> beam.FlatMap(reject_keys),
        skipped | "SkippedStats" >> beam.Map(lambda s: f"skipped/{s}"),
        notes,
        flow,
    ) | "Stats" >> beam.Flatten()


def _stamp_rejects(rejects, run_id: str, ingested_at: dt.datetime):
    return rejects | "StampRejects" >> beam.Map(lambda r: {**r, "ingested_at": ingested_at, "run_id": run_id})


def fetch_settings(o: NewsbeamOptions) -> FetchSettings:
    return FetchSettings(read_timeout=o.fetch_timeout, deadline=o.fetch_timeout * 3,
                         max_bytes=o.max_doc_bytes, retries=o.fetch_retries, max_retry_wait=o.max_retry_wait,
                         min_host_interval=o.min_host_interval, allow_private=o.allow_private_hosts,
                         respect_robots=not o.ignore_robots)


def _has_index(output: str, table: str) -> bool:
    """Whether earlier runs wrote OUT/index/<table> (not on a first run)."""
    return bool(match(under(output, "index", table, "*.parquet")))


def _read_index(p: beam.Pipeline, output: str, table: str, columns=None):
    """Rows earlier runs wrote to OUT/index/<table> (none on a first run)."""
    pattern = under(output, "index", table, "*.parquet")
    if not _has_index(output, table):
        return p | f"No{table.title()}Index" >> beam.Create([])
    return p | f"Read{table.title()}Index" >> beam.io.ReadFromParquet(pattern, columns=columns)


def _seen_urls(p: beam.Pipeline, state_dir: str):
    """URLs ingested by earlier runs into this output (state/seen/*.parquet)."""
    pattern = under(state_dir, "seen", "*.parquet")
    found = match(pattern)
    check_index_files([m.path for m in found])  # a damaged one: named now, not inside the read
    if not found:
        return p | "NoSeenUrls" >> beam.Create([])
    return (p | "ReadSeenUrls" >> beam.io.ReadFromParquet(pattern, columns=["url"])
            | "SeenUrl" >> beam.Map(lambda r: r["url"]))


def _may_hold_feeds(inputs: list[str]) -> bool:
    """Whether the inputs may hold saved feed files (.xml, .rss, .atom): local
    inputs are listed here, remote ones are not listed twice and always may."""
    for pattern in expand_inputs(inputs):
        if "://" in pattern:
            return True
        try:
            found = match(pattern)
        except Exception:  # noqa: BLE001 - the reader lists it again and rejects it (no_match) with this error
            continue
        if any(kind_of(m.path)[0] == "feed" for m in found):
            return True
    return False


def _feed_after_listing(path: str) -> dict:
    """A saved feed file that the reader found but the build's listing did not
    (written in between): a reject, never a silent drop."""
    return make_reject(source=path, source_format="feed", stage="read", reason="feed_after_listing",
                       error="a feed file appeared after the run listed its inputs; run again to read it")


class ProcessDocuments(beam.PTransform):
    """raw documents -> annotated articles staged on disk (``staged``: the
    files' paths), their link records (for near-duplicates and stories;
    with ``stage_links``, staged in the same files instead), rejects, and a
    ``flow`` count of the articles: decode, extract, language, machine
    translation, annotate, stage. Everything here fuses with
    extraction, so it runs while the sandbox child extracts the next page,
    and no article row waits in the runner's memory for its labels."""

    def __init__(self, timeout: float, memory_mb: int, min_words: int, lang_max_chars: int,
                 mt_threshold: float | None, run_id: str, started_at: dt.datetime, progress_seconds: float = 0.0,
                 staging: str = "", processes: int = 1, stage_links: bool = False, progress_folder: str | None = None):
        super().__init__()
        self.progress_folder = progress_folder
        self.stage_links = stage_links
        self.processes = processes
        self.staging = staging
        self.timeout, self.memory_mb, self.min_words = timeout, memory_mb, min_words
        self.progress_seconds = progress_seconds
        self.lang_max_chars, self.mt_threshold = lang_max_chars, mt_threshold
        self.run_id, self.started_at = run_id, started_at

    def expand(self, docs):
        decoded = docs | "Decode" >> DecodeDocuments()
        extracted = decoded.docs | "Extract" >> ExtractArticles(self.timeout, self.memory_mb, self.min_words,
                                                                   self.progress_seconds, self.processes,
                                                                   self.progress_folder)
        language = extracted["articles"] | "Language" >> DetectLanguage(max_chars=self.lang_max_chars)
        translation = language.articles | "MachineTranslation" >> DetectMachineTranslation(self.mt_threshold)
        annotated = translation.articles | "Annotate" >> AnnotateArticles(self.run_id, self.started_at, __version__)
        linked = annotated.articles | "LinkRecords" >> LinkRecords(staged=self.stage_links)
        rejects = (decoded.rejects, extracted["rejects"], language.rejects, translation.rejects, annotated.rejects,
                   linked.rejects) | "Rejects" >> beam.Flatten()
        staged = linked.articles | "StageRows" >> StageRows(self.staging, ARTICLE_SCHEMA, ARTICLE_LABELS,
                                                            extra=LINK_SCHEMA if self.stage_links else None)
        # each article is out of extraction, and an article to label
        flow = linked.articles | "ArticleFlow" >> beam.FlatMap(lambda _: ("flow/out", "flow/articles"))
        return {"staged": staged, "records": linked.records, "rejects": rejects, "flow": flow}


MAX_AUTO_EXTRACT_PROCESSES = 4


def _extract_processes(options: PipelineOptions) -> int:
    """``--extract-processes``, else the default for the runner (see the option): on
    the local runner the worker itself takes about a third of a page's CPU
    (language, machine translation, link records), so a few children keep it busy."""
    given = options.view_as(NewsbeamOptions).extract_processes
    if given is not None:
        return max(1, given)
    if not _local(options):
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(MAX_AUTO_EXTRACT_PROCESSES, cores // _local_workers(options)))


def _progress_folder(options: PipelineOptions, staging: str) -> str | None:
    """Where several local worker processes leave their progress counts for the
    launcher's one line (``transforms.extract._Progress``, ``pipeline.cli``);
    None where each worker's own line is the run's (one worker, in the
    launcher's process), or none is shown (``--progress-seconds 0``, cluster
    runners, whose workers' output goes to their logs, a staging folder
    that is not on this machine)."""
    if not options.view_as(NewsbeamOptions).progress_seconds or "://" in staging:
        return None
    if not _local(options) or _local_workers(options) < 2:
        return None
    return os.path.join(staging, PROGRESS_FOLDER)


def _local_workers(options: PipelineOptions) -> int:
    """The local runner's worker processes (``--direct_num_workers`` in multi_processing mode), else 1."""
    direct = options.view_as(DirectOptions)
    return max(1, direct.direct_num_workers or 1) if direct.direct_running_mode == "multi_processing" else 1


def _strides(options: PipelineOptions) -> int:
    """How many workers share one big file that is read whole (``read.strided``):
    the local runner's worker processes; on a cluster runner, ``--num_workers``
    where it is given (Dataflow's), else 1, as a runner's worker count is not
    known where the graph is built."""
    if _local(options):
        return _local_workers(options)
    return max(1, options.view_as(WorkerOptions).num_workers or 1)


def _split_bytes(options: PipelineOptions) -> int:
    """How big a range of one big JSON-lines file or WARC is (``read.SPLIT_BYTES``):
    a quarter of it on several local worker processes, whose ranges are dealt
    out once: with ~80 ranges of a 21 MB file instead of ~20 the last ones
    leave a worker idle for less (two workers on 10,000 articles, alternated
    four times: 33.6 -> 31.9 s), while one worker pays for the extra ranges
    (55.4 -> 56.7 s, alternated twice) and keeps the larger ones."""
    return SPLIT_BYTES // 4 if _local(options) and _local_workers(options) > 1 else SPLIT_BYTES


def _local(options: PipelineOptions) -> bool:
    """The run is on the local FnApiRunner, which holds every collection in memory
    (make_runner clears ``--runner`` for it): story buckets of doc_ids, one union-find."""
    return options.view_as(StandardOptions).runner in LOCAL_RUNNERS


def _union_find_max_edges(options: PipelineOptions) -> int | None:
    """``--union-find-max-edges``, else the default for the runner (see the option)."""
    given = options.view_as(NewsbeamOptions).union_find_max_edges
    if given is not None:
        return given
    return None if _local(options) else MAX_UNION_FIND_EDGES


def _group_in_one_step(options: PipelineOptions) -> bool:
    """Near-duplicates and stories in one step of one worker (``transforms.group_local``):
    on the local runner, which holds the batch's link records in memory either
    way, unless ``--union-find-max-edges`` asks for components across workers."""
    return _local(options) and options.view_as(NewsbeamOptions).union_find_max_edges is None


def build(p: beam.Pipeline, options: PipelineOptions, started_at: dt.datetime, inputs: list[str] | None = None,
          feeds: list[str] | None = None) -> dict[str, Any]:
    """Add the batch graph to ``p``; returns the run's plain facts (id, output).
    ``inputs`` and ``feeds``, where given, are read instead of the options'
    ``--input`` and ``--feeds`` (``pipeline.cli.run`` keeps thousands of paths
    out of the options, which Beam parses again at every step)."""
    o = options.view_as(NewsbeamOptions)
    run_id = o.run_id or new_run_id(started_at)
    feeds = list(feeds or o.feeds or [])
    inputs = list(inputs or o.input or ([] if feeds else [SEEDS_DIR]))
    output = o.output if "://" in o.output else os.path.abspath(o.output)
    staging = staging_dir(output, run_id)
    recovered = recover_commits(output)  # before the index is read: a killed run's commit counts
    # a damaged index file stops the run here, named, not inside the step that reads it
    check_index_files([m.path for table in ("articles", "ingested")
                       for m in match(under(output, "index", table, "*.parquet"))])
    state_dir = FileSystems.join(output, "state")
    partition = f"ingest_date={started_at.date().isoformat()}"
    settings = fetch_settings(o)

    # Extract: files, and feeds (listed with --feeds, or saved feed files among the inputs)
    if inputs:
        read = p | "Read" >> ReadDocuments(inputs, o.max_doc_bytes, o.max_decompressed_bytes,
                                              split_bytes=_split_bytes(options), output=output,
                                              strides=_strides(options))
    else:
        empty = p | "NoInputs" >> beam.Create([])
        read = {"docs": empty, "rejects": empty, "skipped": empty, "feeds": empty}
    with_feeds = bool(feeds) or _may_hold_feeds(inputs)
    if with_feeds:
        sources = (p | "FeedSources" >> beam.Create(feeds), read["feeds"]) | "AllFeedSources" >> beam.Flatten()
        feed_state = load_json(FileSystems.join(state_dir, "feeds.json"))
        entries = sources | "Feeds" >> FeedEntries(settings, feed_state, o.extract_timeout, o.extract_memory_mb)
        fresh = (entries["entries"], _seen_urls(p, state_dir)) | "NewEntries" >> SplitSeenEntries()
        entry_docs = fresh["new"] | "EntryDocuments" >> EntryDocuments(settings, o.no_fetch)
    else:  # files only: none of the feed steps is built (a third of the graph: quicker to build and start)
        none = p | "NoFeeds" >> beam.Create([])
        entries = {"entries": none, "feed_state": none, "notes": none,
                   "rejects": read["feeds"] | "FeedAfterListing" >> beam.Map(_feed_after_listing)}
        fresh = {"new": none, "already": none}
        entry_docs = {"docs": none, "rejects": none, "fetch_outcome": none}

    # Transform: files and feed pages each through their own chain, so that
    # extraction stays fused with the step that produced the documents
    # (a Flatten before extraction lost the tail of a bundle on the
    # multi-process FnApiRunner in our tests; see docs/benchmarks.md)
    one_step = _group_in_one_step(options)
    progress = _progress_folder(options, staging)
    process = (o.extract_timeout, o.extract_memory_mb, o.min_words, o.lang_max_chars, o.mt_threshold, run_id,
               started_at, o.progress_seconds, staging, _extract_processes(options), one_step, progress)
    file_out = read["docs"] | "Files" >> ProcessDocuments(*process)
    feed_out = entry_docs["docs"] | "FeedPages" >> ProcessDocuments(*process) if with_feeds else \
        {"staged": none, "records": none, "rejects": none, "flow": none}
    staged = (file_out["staged"], feed_out["staged"]) | "AllStaged" >> beam.Flatten()
    all_rejects = _stamp_rejects(
        (read["rejects"], entries["rejects"], entry_docs["rejects"], file_out["rejects"], feed_out["rejects"])
        | "AllRejects" >> beam.Flatten(),
        run_id, started_at)

    # Near-duplicates and stories, on one small record per article; what an
    # earlier run into this output already wrote is counted, not written again
    if _has_index(output, "ingested"):
        ingested = _read_index(p, output, "ingested", ["doc_id"]) | "IngestedId" >> beam.Map(lambda r: r["doc_id"])
        new_rejects = (all_rejects, ingested) | "RejectsNotIngested" >> SplitIngested()
    else:  # a first run into this output: nothing to look up
        ingested = None
        new_rejects = {"new": all_rejects, "already": p | "NoRejectIngested" >> beam.Create([])}
    rejects = new_rejects["new"]
    index_spec = ("index/articles", ARTICLE_INDEX_SCHEMA, {"sig_scheme": SIGNATURE_SCHEME, "run_id": run_id})
    if one_step:
        # the records wait on disk with their rows; one step labels them and
        # writes the labels, and each shard's writer reads its own
        grouped = staged | "Group" >> LabelStaged(staging, output, run_id, o.dup_threshold, o.story_threshold,
                                                     o.progress_seconds)
        written = (staged, grouped.label_files, grouped.kept) | "WriteArticles" >> WriteLabelledRows(
            staging, "articles", partition, run_id, ARTICLE_SCHEMA, ARTICLE_LABELS, o.rows_per_shard,
            index=index_spec)
        article_keys, article_files, articles_already = grouped.counts, (written["files"], grouped.files), ()
        labelled_flow, article_ids = (), ()
    else:
        records = (file_out["records"], feed_out["records"]) | "AllRecords" >> beam.Flatten()
        if ingested is not None:
            new_records = (records, ingested) | "ArticlesNotIngested" >> SplitIngested()
        else:
            new_records = {"new": records, "already": p | "NothingIngested" >> beam.Create([])}
        old = _read_index(p, output, "articles") | "OldRecords" >> beam.Map(old_record)
        labelled = (new_records["new"], old) | "Group" >> GroupArticles(
            o.dup_threshold, o.story_threshold, _union_find_max_edges(options), _local(options))
        labels = (
            labelled | "Labels" >> beam.Map(lambda r: (r["doc_id"], {f: r[f] for f in ARTICLE_LABELS})),
            new_records["already"] | "DropLabels" >> beam.Map(lambda d: (d, DROP)),
        ) | "AllLabels" >> beam.Flatten()
        written = (staged, labels) | "WriteArticles" >> WriteLabelledRows(
            staging, "articles", partition, run_id, ARTICLE_SCHEMA, ARTICLE_LABELS, o.rows_per_shard)
        article_keys = _article_stat_keys(labelled)
        article_files = (written["files"],
                         labelled | "IndexRows" >> beam.Map(index_row, run_id)
                         | "WriteIndex" >> WriteParquet(staging, "index/articles", None, run_id,
                                                        ARTICLE_INDEX_SCHEMA, o.rows_per_shard))
        articles_already = (new_records["already"]
                            | "AlreadyArticles" >> beam.Map(lambda _: "already/article_ingested_before"),)
        labelled_flow = (labels | "Labelled" >> beam.Map(lambda _: "flow/labelled"),)
        article_ids = (labelled | "ArticleIds" >> beam.Map(
            lambda r: {"doc_id": r["doc_id"], "outcome": "article", "run_id": run_id}),)

    # Load: shards, state, manifest
    state_files = ()
    if with_feeds:  # the URLs taken from feeds, and each feed's validators, for the next run
        seen_rows = (fresh["new"], entry_docs["fetch_outcome"]) | "SeenRows" >> SeenUrlRows(run_id)
        state_files = (
            seen_rows | "WriteSeen" >> WriteParquet(staging, "state/seen", None, run_id, SEEN_SCHEMA, 1_000_000,
                                                     key="url"),
            entries["feed_state"] | "WriteFeedState" >> WriteFeedState(staging, feed_state),
        )
    ingested_rows = (
        *article_ids,
        rejects | "RejectIds" >> beam.Map(lambda r: {"doc_id": r["doc_id"], "outcome": "reject", "run_id": run_id}),
    ) | "IngestedIds" >> beam.Flatten()
    files = (
        *article_files,
        rejects | "WriteRejects" >> WriteParquet(staging, "rejects", partition, run_id, REJECT_SCHEMA,
                                                 o.rows_per_shard),
        ingested_rows | "WriteIngested" >> WriteParquet(staging, "index/ingested", None, run_id, INGESTED_SCHEMA,
                                                        1_000_000),
        *state_files,
    ) | "AllFiles" >> beam.Flatten()
    manifest = {
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "inputs": inputs,
        "feeds": feeds,
        "output": output,
        "options": {k: v for k, v in sorted(options.get_all_options(drop_default=True).items())},
        "versions": _versions(),
        "recovered_commits": recovered,
    }
    notes = (entries["notes"] | "FeedNotes" >> beam.Map(lambda n: f"notes/{n}"),
             fresh["already"],
             *articles_already,
             new_rejects["already"] | "AlreadyRejects" >> beam.Map(lambda _: "already/reject_ingested_before"),
             ) | "Notes" >> beam.Flatten()
    # Counted at each hand-over, for the manifest's "unaccounted": documents
    # into extraction vs articles and rejects out of it; extracted articles
    # vs labels; labelled articles vs rows written
    flow = (
        read["docs"] | "DocsIn" >> beam.Map(lambda _: "flow/in"),
        entry_docs["docs"] | "PagesIn" >> beam.Map(lambda _: "flow/in"),
        (file_out["rejects"], feed_out["rejects"]) | "FlowOut" >> beam.Flatten()
        | "Out" >> beam.Map(lambda _: "flow/out"),
        file_out["flow"],
        feed_out["flow"],
        *labelled_flow,
        written["written"],
    ) | "Flow" >> beam.Flatten()
    (files, _stat_keys(article_keys, rejects, read["skipped"], notes, flow)) | "CommitRun" >> CommitRun(
        output, staging, manifest)
    return {"run_id": run_id, "output": output, "staging": staging, "progress": progress,
            "workers": _local_workers(options), "manifest": FileSystems.join(output, "runs", f"{run_id}.json")}
