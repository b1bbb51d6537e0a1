"""newsbeam's pipeline options. Read only by ``pipeline.assemble``."""
from __future__ import annotations

import argparse

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.components import MAX_UNION_FIND_EDGES
from transforms.extract import MIN_WORDS

__all__ = ["NewsbeamOptions", "at_least", "fraction", "positive"]


def _checked(kind, ok, says: str):
    """An argparse ``type``: ``kind`` of the text, refused unless ``ok`` (argparse then
    says "argument --x: 0 is not ..." and the command exits 2, before anything runs)."""
    def check(text: str):
        value = kind(text)  # a ValueError: argparse says "invalid int value"
        if not ok(value):
            raise argparse.ArgumentTypeError(f"{text} is not {says}")
        return value

    check.__name__ = kind.__name__
    return check


def at_least(low: int | float, kind=int):
    """A number of at least ``low``."""
    return _checked(kind, lambda v: v >= low, f"{low:g} or more")


def positive(kind=float):
    """A number over 0 (a time, a size)."""
    return _checked(kind, lambda v: v > 0, "over 0")


def fraction(zero_too: bool = False):
    """A similarity or score threshold: over 0 (or 0 too) and at most 1."""
    return _checked(float, (lambda v: 0 <= v <= 1) if zero_too else (lambda v: 0 < v <= 1),
                    "from 0 to 1" if zero_too else "over 0 and at most 1")


class NewsbeamOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--input", action="append", default=None,
                            help="file, folder (recursive) or glob, local or any Beam filesystem; repeatable")
        parser.add_argument("--feeds", action="append", default=None,
                            help="feed URL, saved feed file (.xml .rss .atom) or OPML file listing feeds; repeatable")
        parser.add_argument("--no-fetch", dest="no_fetch", action="store_true", default=False,
                            help="use each feed entry's own content instead of fetching the article page")
        parser.add_argument("--allow-private-hosts", dest="allow_private_hosts", action="store_true", default=False,
                            help="allow fetching loopback, private and link-local addresses (tests, intranets)")
        parser.add_argument("--ignore-robots", dest="ignore_robots", action="store_true", default=False,
                            help="do not read robots.txt (only for sites you own)")
        parser.add_argument("--fetch-timeout", dest="fetch_timeout", type=positive(), default=10.0,
                            help="seconds to wait for a server to answer (connect 5 s; whole response 3x this)")
        parser.add_argument("--fetch-retries", dest="fetch_retries", type=at_least(0), default=2,
                            help="retries on timeouts, connection errors, 429 and 5xx, with exponential backoff")
        parser.add_argument("--max-retry-wait", dest="max_retry_wait", type=at_least(0.0, float), default=30.0,
                            help="longest Retry-After newsbeam honours before giving up on a URL")
        parser.add_argument("--min-host-interval", dest="min_host_interval", type=at_least(0.0, float), default=1.0,
                            help="seconds between two requests to the same host")
        parser.add_argument("--output", default="out", help="output folder (local or any Beam filesystem)")
        parser.add_argument("--max-doc-bytes", dest="max_doc_bytes", type=positive(int), default=16 << 20,
                            help="largest document (after decompression) that is extracted; larger ones are rejected")
        parser.add_argument("--max-decompressed-bytes", dest="max_decompressed_bytes", type=positive(int),
                            default=1 << 30,
                            help="bytes a compressed file (JSON lines, CSV, a WARC, an archive, a Parquet file's "
                                 "rows) may decompress to; past them it is read on while it holds at most 100 times "
                                 "its own size, and the rest is one decompressed_too_large reject (a bomb)")
        parser.add_argument("--extract-timeout", dest="extract_timeout", type=positive(), default=30.0,
                            help="seconds one page may take to extract before it is rejected")
        parser.add_argument("--progress-seconds", dest="progress_seconds", type=at_least(0.0, float), default=5.0,
                            help="seconds between two progress lines on stderr (pages done, pages/s, rejects), "
                                 "one per worker; 0 for none (--quiet sets 0)")
        parser.add_argument("--extract-processes", dest="extract_processes", type=positive(int), default=None,
                            help="extraction child processes per worker, each extracting one page at a time "
                                 "with the next waiting in its pipe (default: on the local runner, the cores this "
                                 "process may use divided by its workers, at most 4; on any other runner 1, since "
                                 "those start a worker per core)")
        parser.add_argument("--extract-memory-mb", dest="extract_memory_mb", type=positive(int), default=2048,
                            help="address-space cap of the extraction process, in MiB")
        parser.add_argument("--min-words", dest="min_words", type=at_least(0), default=MIN_WORDS,
                            help="articles with fewer words of text are rejected as too_short (default "
                                 f"{MIN_WORDS}: every text with a word is written, with its word_count)")
        parser.add_argument("--rows-per-shard", dest="rows_per_shard", type=positive(int), default=20000,
                            help="target rows per Parquet shard")
        parser.add_argument("--lang-max-chars", dest="lang_max_chars", type=positive(int), default=600,
                            help="characters of text langdetect reads")
        parser.add_argument("--mt-threshold", dest="mt_threshold", type=fraction(zero_too=True), default=None,
                            help="mt_score at which an article is flagged machine-translated "
                                 "(default: the model's, calibrated to flag at most 2%% of native English news)")
        parser.add_argument("--dup-threshold", dest="dup_threshold", type=fraction(), default=0.6,
                            help="similarity (estimated containment of the shorter text's word 5-grams in the "
                                 "longer's, MinHash) at which two articles link, and average similarity over "
                                 "every pair at which two groups of copies merge into one cluster")
        parser.add_argument("--story-threshold", dest="story_threshold", type=fraction(), default=0.25,
                            help="average cosine similarity (TF-IDF term vectors, over every pair of their "
                                 "articles) at which two groups of articles merge into one story")
        parser.add_argument("--union-find-max-edges", dest="union_find_max_edges", type=at_least(0), default=None,
                            help="links that near-duplicate and story components may have to be found in one "
                                 "worker's union-find; above it, rounds of star contraction across workers "
                                 f"(default: {MAX_UNION_FIND_EDGES:,} on a distributed runner; on the local "
                                 "runner, one step of one worker reads the link records staged on disk with "
                                 "the rows, labels them with one union-find and writes the labels to a file; "
                                 "given, the local runner runs the distributed graph too)")
        parser.add_argument("--run-id", dest="run_id", default=None, help="run id (default: time-based)")
