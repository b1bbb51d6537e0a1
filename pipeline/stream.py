"""``newsbeam stream``: poll feeds continuously, commit one run per window.

A polling driver, because no local Python runner executes an unbounded
real-time source (see docs/streaming.md). Every ``--poll-interval`` seconds
it GETs each feed conditionally and spools every changed feed document under
``OUT/_spool/<window>/`` (durable, invisible to readers). When a
``--window`` closes, one bounded pipeline run reads the spooled feeds, fetches
the new articles and commits: one shard per window, manifest last. Feed
states go to ``OUT/state/feeds.json`` after each poll.

SIGINT and SIGTERM end the loop cleanly: the window in progress is committed
(or, if a run is under way, that run finishes) and no partial file is left.
A spool left by a killed driver is committed first on the next start. A
window whose run fails (a full disk, say) stays in the spool, is logged, and
is tried again when the next window closes; the driver goes on polling.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import signal
import time

from apache_beam.io.filesystems import FileSystems

__all__ = ["stream"]

_LOG = logging.getLogger("newsbeam.stream")


class WindowsNotCommitted(RuntimeError):
    """The driver stopped with windows in the spool whose runs failed."""


def _window_id(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


def _expand_feeds(sources: list[str]) -> list[str]:
    """Feed URLs and files; OPML files are replaced by the feeds they list."""
    from transforms.feedparse import looks_like_opml, parse_opml
    from transforms.feeds import is_url

    out: list[str] = []
    for s in sources:
        if not is_url(s):
            with FileSystems.open(s) as f:
                data = f.read(32 << 20)
            if looks_like_opml(data):
                out += parse_opml(data)
                continue
        out.append(s)
    return list(dict.fromkeys(out))


def _write_json_atomic(path: str, data: dict) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


class _Stop:
    def __init__(self):
        self.requested = False

    def __call__(self, signum, frame):
        _LOG.info("signal %s: finishing the current window, then stopping", signum)
        self.requested = True


def stream(feeds: list[str], output: str, poll_interval: float, window: float, max_polls: int | None,
           run_args: list[str], fetch_settings) -> list[dict]:
    """Run the polling loop; returns the manifests of the committed windows."""
    from pipeline.cli import environment_error, run
    from transforms.feeds import HOST_FAILURES, SPOOL_PREFIX, SilentHosts, fetch_feed, host_of, is_url, load_json
    from transforms.fetch import FetchError, SafeFetcher

    output = os.path.abspath(output)
    spool_root = os.path.join(output, "_spool")
    state_dir = os.path.join(output, "state")
    os.makedirs(spool_root, exist_ok=True)
    os.makedirs(state_dir, exist_ok=True)
    state_path = os.path.join(state_dir, "feeds.json")
    state = load_json(state_path)
    feeds = _expand_feeds(feeds)
    stop = _Stop()
    old_handlers = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    manifests: list[dict] = []

    def commit(window_dir: str) -> None:
        index = os.path.join(window_dir, "index.jsonl")
        if os.path.exists(index) and os.path.getsize(index):
            wid = os.path.basename(window_dir)
            try:
                m = run(["--output", output, "--run-id", f"w{wid}", "--feeds", SPOOL_PREFIX + index] + run_args,
                        quiet=True)
            except Exception as e:  # a full disk, a bug: the driver goes on polling; the window waits in the spool
                told = environment_error(e) or f"{type(e).__name__}: {e}"
                _LOG.error("window %s not committed, kept in %s and tried again when the next window closes: %s",
                           wid, window_dir, told)
                failed.add(window_dir)
                return
            failed.discard(window_dir)
            manifests.append(m)
            c = m["counts"]
            _LOG.info("window %s committed: %d articles, %d rejected, %d already ingested", wid,
                      c["articles_written"], c["rejected"], c["already_ingested"])
        for name in os.listdir(window_dir):
            os.remove(os.path.join(window_dir, name))
        os.rmdir(window_dir)

    def commit_spool() -> None:
        """Every spooled window, oldest first: windows a killed driver left, and any whose run failed."""
        for name in sorted(os.listdir(spool_root)):
            commit(os.path.join(spool_root, name))

    failed: set[str] = set()
    try:
        commit_spool()
        fetcher = SafeFetcher(fetch_settings)
        window_start = time.time()
        window_dir = os.path.join(spool_root, _window_id(window_start))
        polls = 0
        while not stop.requested and (max_polls is None or polls < max_polls):
            poll_start = time.time()
            if poll_start - window_start >= window:
                commit_spool()
                window_start = poll_start
                window_dir = os.path.join(spool_root, _window_id(window_start))
            os.makedirs(window_dir, exist_ok=True)
            silent = SilentHosts()  # a site that does not answer: its other feeds wait for the next poll
            for url in feeds:
                name = f"{hashlib.sha1(url.encode()).hexdigest()[:16]}-{polls:06d}.feed"
                host = host_of(url) if is_url(url) else None
                if host and silent.given_up(host):
                    continue
                try:
                    if is_url(url):
                        data, _, state[url] = fetch_feed(fetcher, url, state.get(url))
                    else:
                        with FileSystems.open(url) as f:
                            data = f.read(32 << 20)
                except (FetchError, OSError) as e:  # the next poll tries again; the window run would reject it
                    _LOG.warning("poll %d: %s: %s", polls, url, e)
                    if host and silent.record(host, getattr(e, "reason", None)):
                        _LOG.warning("poll %d: %s gave no answer %d times in a row; its other feeds wait for "
                                     "the next poll", polls, host, HOST_FAILURES)
                    continue
                if host:
                    silent.record(host, None)
                if data is None:
                    continue
                with open(os.path.join(window_dir, name), "wb") as f:
                    f.write(data)
                with open(os.path.join(window_dir, "index.jsonl"), "a", encoding="utf-8") as f:
                    f.write(json.dumps({"url": url, "file": name}) + "\n")
            _write_json_atomic(state_path, state)
            polls += 1
            if max_polls is not None and polls >= max_polls:
                break
            deadline = poll_start + poll_interval
            while not stop.requested and time.time() < deadline:
                time.sleep(min(0.2, max(0.0, deadline - time.time())))
        commit_spool()
        fetcher.close()
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
    if failed:
        raise WindowsNotCommitted(f"{len(failed)} window(s) not committed, kept in {spool_root}: the next "
                                  "`newsbeam stream` into this output commits them first")
    return manifests
