"""Feeds in: sources -> feed entries -> raw article documents.

``FeedEntries`` turns feed sources (feed URLs, saved feed files, OPML files
listing feeds) into entries, with conditional GET for feed URLs (the
ETag/Last-Modified of the previous run come in ``feed_state``) and a reject
for every feed that yields nothing. ``EntryDocuments`` turns new entries
into raw documents: with ``no_fetch`` from the entry's own content, else by
fetching the article page with ``SafeFetcher`` — entries are grouped by host
so that one worker at a time talks to a host, politely, and fetching scales
out with the number of hosts.
"""
from __future__ import annotations

import html as html_lib
import json
import logging
from urllib.parse import urlsplit

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from transforms.boundary import document_reject, per_document, per_source
from transforms.encoding import http_charset
from transforms.feedparse import FeedError, looks_like_opml, looks_like_sitemap_index, parse_opml, parse_sitemap_index
from transforms.fetch import FetchError, FetchSettings, SafeFetcher
from transforms.records import html_content_type, make_raw, make_reject
from transforms.sandbox import Sandbox, SandboxError
from transforms.write import mkdirs

__all__ = ["FeedEntries", "EntryDocuments", "SplitSeenEntries", "SeenUrlRows", "WriteFeedState",
           "TRANSIENT_FETCH_REASONS", "HOST_FAILURES", "NO_ANSWER", "SilentHosts", "SPOOL_PREFIX", "fetch_feed",
           "host_of", "is_url", "load_json"]

NAMESPACE = "newsbeam"
_LOG = logging.getLogger("newsbeam.feeds")
MAX_FEED_BYTES = 32 << 20
# fetch failures worth trying again on the next scheduled run
TRANSIENT_FETCH_REASONS = {"fetch_error", "timeout", "connect_error", "rate_limited", "dns_error", "http_500", "http_502",
                           "http_503", "http_504", "host_unreachable", "robots_unavailable"}
# A host whose pages failed this many times in a row without an answer (its name unresolved, no connection, no
# reply in time) is not asked for its other pages in this run: they are `host_unreachable` rejects, tried again
# next run. Each try costs up to the resolver's or the connect timeout, with retries: a feed of a few hundred
# items on a host that is down would otherwise hold the run for hours.
HOST_FAILURES = 3
NO_ANSWER = {"dns_error", "connect_error", "timeout"}


def host_of(url: str) -> str:
    """The lower-case host the host rules count by; "" for an address that
    names none or cannot be read (``http://[::1``: ``urlsplit`` raises on it,
    and in the grouping by host that stopped the whole run)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


class SilentHosts:
    """Hosts whose last fetches in a row got no answer (a reason of
    ``NO_ANSWER``): after ``HOST_FAILURES`` of them a host is not asked again
    in that run (or poll)."""

    def __init__(self):
        self._failed: dict[str, list[str]] = {}

    def given_up(self, host: str) -> str | None:
        """The reasons ``host`` is no longer asked ("dns_error, timeout"), or None."""
        failed = self._failed.get(host, [])
        return ", ".join(sorted(set(failed))) if len(failed) >= HOST_FAILURES else None

    def record(self, host: str, reason: str | None) -> bool:
        """One fetch of ``host``: the reason it failed, None for an answer.
        True when this is the fetch that gives the host up."""
        failed = self._failed.get(host, [])
        self._failed[host] = failed + [reason] if reason in NO_ANSWER else []
        return len(self._failed[host]) == HOST_FAILURES


def is_url(source: str) -> bool:
    return source.lower().startswith(("http://", "https://"))


SPOOL_PREFIX = "spooled:"


def fetch_feed(fetcher: SafeFetcher, url: str, previous: dict[str, str] | None):
    """Conditional GET of a feed: (body or None when not modified, content type, new state)."""
    prev = previous or {}
    headers = {}
    if prev.get("etag"):
        headers["If-None-Match"] = prev["etag"]
    if prev.get("last_modified"):
        headers["If-Modified-Since"] = prev["last_modified"]
    res = fetcher.fetch(url, headers)
    state = {"etag": res.headers.get("etag") or prev.get("etag"),
             "last_modified": res.headers.get("last-modified") or prev.get("last_modified"),
             "checked_at": res.fetched_at.isoformat()}
    state = {k: v for k, v in state.items() if v}
    if res.not_modified:
        return None, None, state
    return res.body, res.headers.get("content-type"), state


def _read_file(path: str, cap: int) -> bytes:
    compression = CompressionTypes.GZIP if path.lower().endswith(".gz") else CompressionTypes.UNCOMPRESSED
    with FileSystems.open(path, compression_type=compression) as f:
        data = f.read(cap + 1)
    if len(data) > cap:
        raise FeedError("too_large", f"feed file larger than {cap} bytes")
    return data


class _ExpandSourcesFn(beam.DoFn):
    """A source -> feed sources: an OPML file gives the feeds it lists, a sitemap index its sitemaps."""

    @per_source("read", "feed", "read_error")
    def process(self, source: str):
        if is_url(source):
            yield source
            return
        if source.startswith(SPOOL_PREFIX):  # index of feed documents downloaded by `newsbeam stream`
            index = source[len(SPOOL_PREFIX):]
            with FileSystems.open(index, compression_type=CompressionTypes.UNCOMPRESSED) as f:
                for line in f.read().decode("utf-8").splitlines():
                    if line.strip():
                        rec = json.loads(line)
                        yield (rec["url"], FileSystems.join(index.rsplit("/", 1)[0], rec["file"]))
            return
        try:
            data = _read_file(source, MAX_FEED_BYTES)
        except (OSError, FeedError) as e:
            yield pvalue.TaggedOutput("rejects", make_reject(source=source, source_format="feed", stage="read",
                                                             reason=getattr(e, "reason", "read_error"), error=str(e)))
            return
        if looks_like_opml(data) or looks_like_sitemap_index(data):
            try:
                listed = parse_opml(data) if looks_like_opml(data) else parse_sitemap_index(data)
            except FeedError as e:
                yield pvalue.TaggedOutput("rejects", make_reject(source=source, source_format="feed", stage="parse",
                                                                 reason=e.reason, error=str(e), raw=data))
                return
            yield from listed
        else:
            yield source


class _FetchingDoFn(beam.DoFn):
    """A DoFn with one SafeFetcher (HTTP connection pool, robots cache) per instance."""

    def __init__(self, settings: FetchSettings):
        self.settings = settings

    def setup(self):
        self.fetcher = SafeFetcher(self.settings)

    def teardown(self):
        self.fetcher.close()


class _FeedEntriesFn(_FetchingDoFn):
    """feed source -> entry dicts; new feed state and rejects tagged."""

    def __init__(self, settings: FetchSettings, feed_state: dict[str, dict[str, str]], timeout: float = 30.0,
                 memory_mb: int = 2048):
        super().__init__(settings)
        self.feed_state = feed_state
        self.timeout, self.memory_mb = timeout, memory_mb
        self.problems = Metrics.counter(NAMESPACE, "feed_problems")

    def setup(self):
        super().setup()
        # feeds are parsed in a child process that is killed past the timeout (started on the first feed)
        self.sandbox = Sandbox(self.timeout, self.memory_mb)
        # an OPML may list dozens of one site's feeds: when the site is down, each would cost the connect or
        # read timeout, with retries
        self.silent = SilentHosts()

    def teardown(self):
        self.sandbox.close()
        super().teardown()

    @per_source("parse", "feed", "parse_error")
    def process(self, source: str):
        content_type = None
        if isinstance(source, tuple):  # (feed URL, file): a feed document `newsbeam stream` downloaded
            source, path = source
            try:
                data = _read_file(path, MAX_FEED_BYTES)
            except (OSError, FeedError) as e:
                yield pvalue.TaggedOutput("rejects", make_reject(source=source, source_format="feed", stage="read",
                                                                 reason=getattr(e, "reason", "read_error"),
                                                                 error=f"{path}: {e}"))
                return
        elif is_url(source):
            host = host_of(source)
            why = self.silent.given_up(host)
            if why:
                yield pvalue.TaggedOutput("rejects", make_reject(
                    source=source, source_format="feed", stage="fetch", reason="host_unreachable",
                    error=f"not fetched: the {HOST_FAILURES} feeds of {host} fetched before it in this run got no "
                          f"answer ({why}); tried again next run"))
                return
            try:
                data, content_type, state = fetch_feed(self.fetcher, source, self.feed_state.get(source))
            except FetchError as e:
                self.silent.record(host, e.reason)
                yield pvalue.TaggedOutput("rejects", make_reject(source=source, source_format="feed", stage="fetch",
                                                                 reason=e.reason, error=str(e)))
                return
            self.silent.record(host, None)
            yield pvalue.TaggedOutput("feed_state", (source, state))
            if data is None:
                yield pvalue.TaggedOutput("notes", "feed_not_modified")
                return
        else:
            try:
                data = _read_file(source, MAX_FEED_BYTES)
            except (OSError, FeedError) as e:
                yield pvalue.TaggedOutput("rejects", make_reject(source=source, source_format="feed", stage="read",
                                                                 reason=getattr(e, "reason", "read_error"),
                                                                 error=str(e)))
                return
        try:
            feed = self.sandbox.parse_feed(data, content_type, source if is_url(source) else None)
        except (FeedError, SandboxError) as e:  # no entries, or a parse killed (timeout, memory) or crashed
            yield pvalue.TaggedOutput("rejects", make_reject(source=source, source_format="feed", stage="parse",
                                                             reason=e.reason, error=str(e), raw=data))
            return
        if feed.problem:
            self.problems.inc()
            _LOG.warning("feed %s is malformed but gave %d entries: %s", source, len(feed.entries), feed.problem)
            yield pvalue.TaggedOutput("notes", "feed_malformed_but_used")
        for i, e in enumerate(feed.entries, start=1):
            yield {
                "feed_url": source,
                "position": i,
                "url": e.url,
                "title": e.title,
                "published": e.published,
                "summary": e.summary,
                "content": e.content,
                "author": e.author,
                "language": feed.language,
                "feed_problem": feed.problem,
            }


class FeedEntries(beam.PTransform):
    """feed sources -> entries; outputs ``entries``, ``rejects``, ``feed_state``, ``notes``."""

    def __init__(self, settings: FetchSettings, feed_state: dict[str, dict[str, str]] | None = None,
                 timeout: float = 30.0, memory_mb: int = 2048):
        super().__init__()
        self.settings = settings
        self.feed_state = dict(feed_state or {})
        self.timeout, self.memory_mb = timeout, memory_mb  # of the child that parses each feed

    def expand(self, sources):
        expanded = sources | "ExpandOpml" >> beam.ParDo(_ExpandSourcesFn()).with_outputs("rejects", main="feeds")
        feeds = (
            expanded.feeds
            | "DistinctFeeds" >> beam.Distinct()
            | "SpreadFeeds" >> beam.Reshuffle()
            | "ReadFeeds" >> beam.ParDo(_FeedEntriesFn(self.settings, self.feed_state, self.timeout,
                                                       self.memory_mb)).with_outputs(
                "rejects", "feed_state", "notes", main="entries"))
        return {
            "entries": feeds.entries,
            "rejects": (expanded.rejects, feeds.rejects) | "FeedRejects" >> beam.Flatten(),
            "feed_state": feeds.feed_state,
            "notes": feeds.notes,
        }


def _entry_source(entry) -> str:
    return f"{entry['feed_url']}#{entry['url'] or entry['position']}"


def _entry_html(entry) -> str | None:
    body = entry.get("content") or entry.get("summary")
    if not body:
        return None
    title = html_lib.escape(entry.get("title") or "")
    if "<" not in body:  # plain-text summary
        body = "".join(f"<p>{html_lib.escape(p)}</p>" for p in body.split("\n") if p.strip())
    return f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>{body}</article></body></html>"


class _FromEntryFn(beam.DoFn):
    """--no-fetch: the entry's own content is the document."""

    @per_document("read")
    def process(self, entry):
        body = _entry_html(entry)
        if body is None:
            yield pvalue.TaggedOutput("rejects", make_reject(
                source=_entry_source(entry), source_format="feed", stage="read", reason="no_content",
                error="the feed entry has no content or summary (run without --no-fetch to fetch the page)"))
            return
        payload = body.encode("utf-8")
        yield make_raw(source=_entry_source(entry), source_format="feed", kind="html", payload=payload,
                       raw_size=len(payload), url=entry["url"], title=entry["title"], published=entry["published"],
                       declared_language=entry["language"], feed_url=entry["feed_url"],
                       author=entry.get("author"))


class _FetchHostFn(_FetchingDoFn):
    """(host, entries) -> fetched pages, one host at a time, in URL order."""

    def __init__(self, settings: FetchSettings):
        super().__init__(settings)
        self.fetched = Metrics.counter(NAMESPACE, "pages_fetched")

    def process(self, element):
        host, entries = element
        silent = SilentHosts()
        for entry in sorted(entries, key=lambda e: (e["url"], _entry_source(e))):
            source = _entry_source(entry)
            why = silent.given_up(host)
            if why:
                yield pvalue.TaggedOutput("rejects", make_reject(
                    source=source, source_format="feed", stage="fetch", reason="host_unreachable",
                    error=f"{entry['url']}: not fetched: the {HOST_FAILURES} pages of {host} fetched before it in "
                          f"this run got no answer ({why}); tried again next run"))
                yield pvalue.TaggedOutput("fetch_outcome", (entry["url"], "host_unreachable"))
                continue
            try:
                res = self.fetcher.fetch(entry["url"])
                ctype = res.headers.get("content-type", "")
                if not html_content_type(ctype, res.body[:8192]):
                    raise FetchError("not_html", f"Content-Type {ctype}", res.status)
            except FetchError as e:
                silent.record(host, e.reason)
                yield pvalue.TaggedOutput("rejects", make_reject(
                    source=source, source_format="feed", stage="fetch", reason=e.reason,
                    error=f"{entry['url']}: {e}"))
                yield pvalue.TaggedOutput("fetch_outcome", (entry["url"], e.reason))
                continue
            except Exception as e:  # an HTTP client bug on one page: that entry only, tried again next run
                yield pvalue.TaggedOutput("rejects", document_reject(
                    {"source": source, "source_format": "feed"}, "fetch", e, reason="fetch_error"))
                yield pvalue.TaggedOutput("fetch_outcome", (entry["url"], "fetch_error"))
                continue
            silent.record(host, None)
            self.fetched.inc()
            yield pvalue.TaggedOutput("fetch_outcome", (entry["url"], "ok"))
            yield make_raw(source=source, source_format="feed", kind="html", payload=res.body,
                           raw_size=len(res.body), url=res.url, title=entry["title"], published=entry["published"],
                           fetched_at=res.fetched_at, http_charset=http_charset(ctype),
                           declared_language=entry["language"], feed_url=entry["feed_url"],
                           author=entry.get("author"))


class EntryDocuments(beam.PTransform):
    """entries -> raw documents; outputs ``docs``, ``rejects``, ``fetch_outcome`` ((url, reason or 'ok'))."""

    def __init__(self, settings: FetchSettings, no_fetch: bool):
        super().__init__()
        self.settings = settings
        self.no_fetch = no_fetch

    def expand(self, entries):
        if self.no_fetch:
            out = entries | "FromEntries" >> beam.ParDo(_FromEntryFn()).with_outputs("rejects", main="docs")
            empty = entries.pipeline | "NoFetches" >> beam.Create([])
            return {"docs": out.docs, "rejects": out.rejects, "fetch_outcome": empty}
        with_url = entries | "HasUrl" >> beam.Filter(lambda e: bool(e.get("url")))
        url_rejects = (entries | "NoUrl" >> beam.Filter(lambda e: not e.get("url"))
                       | "RejectNoUrl" >> beam.Map(lambda e: make_reject(
                           source=_entry_source(e), source_format="feed", stage="read", reason="no_url",
                           error="feed entry without a link")))
        fetched = (
            with_url
            | "ByHost" >> beam.Map(lambda e: (host_of(e["url"]), e))
            | "GroupByHost" >> beam.GroupByKey()
            | "Fetch" >> beam.ParDo(_FetchHostFn(self.settings)).with_outputs("rejects", "fetch_outcome", main="docs"))
        return {
            "docs": fetched.docs,
            "rejects": (fetched.rejects, url_rejects) | "FetchRejects" >> beam.Flatten(),
            "fetch_outcome": fetched.fetch_outcome,
        }


class _SplitSeenFn(beam.DoFn):
    def process(self, element):
        _, grouped = element
        entries = sorted(grouped["entries"], key=_entry_source)
        if list(grouped["seen"]):
            for _ in entries:
                yield pvalue.TaggedOutput("already", "already/url_ingested_before")
        elif entries:
            yield entries[0]
            for _ in entries[1:]:
                yield pvalue.TaggedOutput("already", "already/url_listed_twice")


class SplitSeenEntries(beam.PTransform):
    """(entries, seen URLs) -> ``new`` entries and ``already`` stat keys.

    An entry whose URL an earlier run ingested is counted, not fetched again;
    of several entries with one URL in this run (two feeds listing the same
    article) the first by feed and position is kept.
    """

    def expand(self, inputs):
        entries, seen = inputs
        keyed = entries | "KeyByUrl" >> beam.Map(lambda e: (e["url"] or "\x00" + _entry_source(e), e))
        seen_keyed = seen | "KeySeen" >> beam.Map(lambda u: (u, True))
        out = ({"entries": keyed, "seen": seen_keyed} | "JoinSeen" >> beam.CoGroupByKey()
               | "Split" >> beam.ParDo(_SplitSeenFn()).with_outputs("already", main="new"))
        return {"new": out.new, "already": out.already}


class _SeenRowsFn(beam.DoFn):
    def __init__(self, run_id: str):
        self.run_id = run_id

    def process(self, element):
        url, grouped = element
        transient = any(o in TRANSIENT_FETCH_REASONS for o in grouped["outcome"])
        if list(grouped["entry"]) and not transient:  # a transient failure is tried again next run
            yield {"url": url, "run_id": self.run_id}


class SeenUrlRows(beam.PTransform):
    """(new entries, fetch outcomes) -> rows of state/seen: URLs not to fetch again.

    Every new entry URL is recorded unless its fetch failed in a way worth
    retrying (timeouts, connection errors, 429, DNS)."""

    def __init__(self, run_id: str):
        super().__init__()
        self.run_id = run_id

    def expand(self, inputs):
        entries, outcomes = inputs
        urls = (entries | "EntryUrls" >> beam.Filter(lambda e: bool(e["url"]))
                | "UrlKey" >> beam.Map(lambda e: (e["url"], True)))
        return ({"entry": urls, "outcome": outcomes} | "JoinOutcomes" >> beam.CoGroupByKey()
                | "SeenRows" >> beam.ParDo(_SeenRowsFn(self.run_id)))


class _WriteFeedStateFn(beam.DoFn):
    def __init__(self, staging: str, previous: dict):
        self.staging = staging
        self.previous = previous

    def process(self, _, updates):
        state = {**self.previous, **dict(updates)}
        path = FileSystems.join(self.staging, "state", "feeds.json")
        mkdirs(FileSystems.join(self.staging, "state"))
        with FileSystems.create(path) as f:
            f.write(json.dumps(state, indent=1, sort_keys=True).encode())
        yield "state/feeds.json"


class WriteFeedState(beam.PTransform):
    """(feed URL, {etag, last_modified, checked_at}) -> staged state/feeds.json, merged with the old state."""

    def __init__(self, staging: str, previous: dict):
        super().__init__()
        self.staging = staging
        self.previous = dict(previous)

    def expand(self, updates):
        all_updates = updates | "StateList" >> beam.combiners.ToList()
        return (updates.pipeline | "StateTrigger" >> beam.Create([None])
                | "WriteState" >> beam.ParDo(_WriteFeedStateFn(self.staging, self.previous),
                                             beam.pvalue.AsSingleton(all_updates)))


def load_json(path: str) -> dict:
    """A small JSON state file (each feed's ETag and Last-Modified); {} when
    there is none yet. One that is not a JSON object (cut short, edited) is
    moved aside to ``<path>.damaged``, said in a warning, and the run starts
    afresh: the state only saves a download, so each feed is fetched whole
    once, and the articles already ingested are still known (state/seen)."""
    if not FileSystems.exists(path):
        return {}
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        data = f.read()
    try:
        state = json.loads(data or b"{}")
        if not isinstance(state, dict) or not all(isinstance(v, dict) for v in state.values()):
            raise ValueError(f"a {type(state).__name__} of the wrong shape, not {{feed URL: {{etag, ...}}}}")
    except ValueError as e:
        aside = path + ".damaged"
        FileSystems.rename([path], [aside])
        _LOG.warning("state file %s is damaged (%s); moved to %s, and each feed is fetched whole this once",
                     path, str(e)[:200], aside)
        return {}
    return state
