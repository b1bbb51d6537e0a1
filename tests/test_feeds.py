"""Feeds: parsing, polite and safe fetching against a local server, scheduled runs."""
import glob
import json
import os
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED, read_table
import feedserver
from feedserver import FeedServer
from pipeline.cli import run
from transforms.feedparse import FeedError, parse_feed, parse_opml
from transforms.fetch import FetchError, FetchSettings, SafeFetcher, check_url

REALWORLD = os.path.join(SHARED, "data", "feeds", "realworld")
FEEDPARSER = os.path.join(SHARED, "data", "feeds", "feedparser")
FAST = ["--fetch-timeout", "1", "--min-host-interval", "0", "--fetch-retries", "1", "--max-retry-wait", "5"]


def _run(out, *args):
    return run(["--output", str(out)] + FAST + list(args), quiet=True)


# -- parsing ---------------------------------------------------------------
def test_parse_rss_and_atom():
    rss = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><language>fr</language>"
           b"<item><title>A</title><link>https://e.com/a</link><pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate>"
           b"<description>Sum</description></item></channel></rss>")
    f = parse_feed(rss)
    assert f.language == "fr" and f.entries[0].url == "https://e.com/a"
    assert f.entries[0].published == "2024-05-01T10:00:00+00:00"
    atom = (b"<feed xmlns='http://www.w3.org/2005/Atom'><title>T</title><entry><title>B</title>"
            b"<link href='https://e.com/b'/><updated>2024-05-02T00:00:00Z</updated>"
            b"<content type='html'>&lt;p&gt;Full text&lt;/p&gt;</content></entry></feed>")
    e = parse_feed(atom).entries[0]
    assert e.url == "https://e.com/b" and "Full text" in e.content


def test_a_feed_given_with_its_url_and_no_content_type_is_not_called_malformed():
    """A feed `newsbeam stream` spooled is parsed with its URL and no
    Content-Type: feedparser's "no Content-type specified" was reported as a
    malformed feed on every window (a warning and a manifest note)."""
    rss = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
           b"<item><title>A</title><link>https://e.com/a</link></item></channel></rss>")
    assert parse_feed(rss, None, "https://e.com/feed.xml").problem is None
    assert parse_feed(rss).problem is None
    assert parse_feed(rss, "application/rss+xml", "https://e.com/feed.xml").problem is None
    assert "NonXMLContentType" in (parse_feed(rss, "text/html", "https://e.com/feed.xml").problem or "")


def test_broken_feed_with_entries_is_used_and_empty_one_rejected():
    broken = b"<rss><channel><item><title>A & B</title><link>https://e.com/x</link></item></channel>"
    f = parse_feed(broken)
    assert f.entries[0].url == "https://e.com/x" and f.problem
    with pytest.raises(FeedError) as e:
        parse_feed(b"<html><body>not a feed</body></html>")
    assert e.value.reason == "no_entries"


def test_entity_bombs_are_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
            b"<rss><channel><item><title>&lol2;</title></item></channel></rss>")
    with pytest.raises(FeedError) as e:
        parse_feed(bomb)
    assert e.value.reason == "xml_entities"
    sitemap = (b'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY a "aaaa">]>'
               b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://e.com/&a;</loc></url>'
               b"</urlset>")
    with pytest.raises(FeedError) as e:  # the sitemap's own parser refuses them (the check runs once)
        parse_feed(sitemap)
    assert e.value.reason == "xml_entities"


def test_a_feed_whose_encoding_must_be_guessed_costs_linear_time(monkeypatch):
    """Where a feed's declared encoding does not fit its bytes, feedparser asks
    chardet, whose word filter is quadratic in a run of letters (a fuzzed
    feed with 1.4 MB of one letter ran for over a minute on the worker). It
    is asked about the first ``CHARDET_BYTES``, long letter runs cut, and
    still guesses a real feed's code page."""
    import chardet

    from transforms.feedparse import CHARDET_BYTES

    seen = []
    detect = chardet.detect
    monkeypatch.setattr(chardet, "detect", lambda data, *a, **k: seen.append(bytes(data)) or detect(data, *a, **k))
    item = "<item><title>{}</title><link>https://e.com/{}</link><description>{}</description></item>"
    run = "x" * 400_000
    feed = ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>T</title>'
            + item.format("A", 1, "Un café à São Paulo") + item.format("B", 2, run) + "</channel></rss>")
    f = parse_feed(feed.encode("cp1252"))  # declared UTF-8, written in cp1252: chardet is asked
    assert seen and all(len(s) <= CHARDET_BYTES and b"x" * 65 not in s for s in seen)
    assert [e.url for e in f.entries] == ["https://e.com/1", "https://e.com/2"]
    assert f.entries[0].summary == "Un café à São Paulo"


def test_opml():
    opml = (b"<opml version='2.0'><body><outline text='News'><outline xmlUrl='https://a.com/rss'/>"
            b"<outline xmlUrl='https://b.com/atom'/><outline xmlUrl='https://a.com/rss'/></outline></body></opml>")
    assert parse_opml(opml) == ["https://a.com/rss", "https://b.com/atom"]


@pytest.mark.skipif(not os.path.isdir(FEEDPARSER), reason="../shared/data/feeds is not here")
def test_every_feedparser_file_parses_without_exception():
    files = [f for f in glob.glob(os.path.join(FEEDPARSER, "**", "*"), recursive=True) if os.path.isfile(f)]
    assert len(files) > 1000
    used = 0
    for f in files:
        try:
            parse_feed(open(f, "rb").read())
            used += 1
        except FeedError:
            pass
    assert used > 1000


# -- safety ----------------------------------------------------------------
@pytest.mark.parametrize("url,reason", [("ftp://example.com/x", "bad_scheme"), ("file:///etc/passwd", "bad_scheme"),
                                        ("http://127.0.0.1/x", "blocked_address"),
                                        ("http://localhost:8080/", "blocked_address"),
                                        ("http://[::1]/", "blocked_address"),
                                        ("http://169.254.169.254/latest/meta-data", "blocked_address"),
                                        ("http://10.1.2.3/", "blocked_address"),
                                        ("http://192.168.0.1/", "blocked_address")])
def test_unsafe_urls_are_refused(url, reason):
    with pytest.raises(FetchError) as e:
        check_url(url)
    assert e.value.reason == reason


def test_every_redirect_hop_is_checked(monkeypatch):
    import transforms.fetch as fetch

    with FeedServer() as srv:
        # treat the test server's address as public, so that only the redirect target is private
        monkeypatch.setattr(fetch, "_blocked", lambda ip: ip != "127.0.0.1")
        f = SafeFetcher(FetchSettings(min_host_interval=0, respect_robots=False))
        assert f.fetch(srv.base + "/articles/1.html").status == 200
        with pytest.raises(FetchError) as e:
            f.fetch(srv.base + "/to-private")
        f.close()
    assert e.value.reason == "blocked_address" and "10.0.0.1" in str(e.value)
    assert srv.requests["/to-private"] == 1


# -- the pipeline against the local server ---------------------------------
CASES = {
    "/articles/1.html": "article", "/articles/2.html": "article", "/articles/3.html": "article",
    "/busy": "article",
    "/404": "http_404", "/500": "http_500", "/always-busy": "rate_limited", "/slow": "timeout",
    "/loop-a": "redirect_loop", "/big": "too_large", "/image.png": "not_html", "/private/secret.html":
        "robots_disallowed",
}


@pytest.fixture()
def server():
    with FeedServer(REALWORLD) as srv:
        srv.feeds["/feed.xml"] = [(f"Case {p}", p) for p in CASES]
        yield srv


def _fetcher(**kw) -> SafeFetcher:
    return SafeFetcher(FetchSettings(allow_private=True, respect_robots=False, min_host_interval=0, retries=0, **kw))


@pytest.mark.parametrize("coding", sorted(feedserver.CODINGS))
def test_every_content_coding_is_undone(server, coding):
    f = _fetcher()
    res = f.fetch(f"{server.base}/coded/{coding}/4.html")
    f.close()
    assert res.body == feedserver.article_page(4)


@pytest.mark.parametrize("coding", ["br", "zstd", "gzip2"])
def test_a_compression_bomb_costs_no_more_memory_than_the_cap(server, coding):
    """A few KB that inflate to 256 MB: refused as too large, holding about
    the 1 MB cap. httpx's own decoders inflated a received chunk whole (a
    peak of 256 MB here; 4 GB for a 2 GB brotli body)."""
    import tracemalloc

    feedserver.bomb(coding)  # built before measuring
    f = _fetcher(max_bytes=1 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as e:
            f.fetch(f"{server.base}/bomb/{coding}")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        f.close()
    assert e.value.reason == "too_large" and "decoded" in str(e.value)
    assert peak < 16 << 20, f"{peak >> 20} MB held for a 1 MB cap"


def test_a_body_its_coding_does_not_fit_is_a_reject(server):
    f = _fetcher()
    with pytest.raises(FetchError) as e:
        f.fetch(server.base + "/bad-gzip")
    f.close()
    assert e.value.reason == "bad_encoding"


def test_a_server_that_drips_its_headers_is_cut_at_the_deadline(server):
    """A header line every 0.2 s: each read is well within the read timeout,
    so only a deadline over the whole exchange ends it (the server would go
    on for 20 s)."""
    f = _fetcher(read_timeout=1.0, deadline=2.0)
    t = time.monotonic()
    with pytest.raises(FetchError) as e:
        f.fetch(server.base + "/drip-headers")
    took = time.monotonic() - t
    assert f.fetch(server.base + "/articles/2.html").status == 200  # the fetcher is usable after
    f.close()
    assert e.value.reason == "timeout" and "deadline" in str(e.value)
    assert 1.9 < took < 6, took  # the server would drip for 20 s; a loaded machine is slow to wake the client


def test_dripping_and_bombing_servers_do_not_hold_a_run(server, tmp_path):
    """Through ``newsbeam run --feeds``: a page whose headers never end, a
    brotli bomb and pages in br and in gzip inside gzip, in one feed."""
    server.feeds["/coded.xml"] = [("drip", "/drip-headers"), ("bomb", "/bomb/br"), ("br", "/coded/br/7.html"),
                                  ("gzip2", "/coded/gzip2/8.html")]
    out = tmp_path / "out"
    t = time.monotonic()
    m = _run(out, "--feeds", server.base + "/coded.xml", "--allow-private-hosts", "--fetch-retries", "0")
    took = time.monotonic() - t
    arts = {r["url"].replace(server.base, ""): r for r in read_table(str(out), "articles")}
    rejs = {r["error"].split(": ")[-1].replace(server.base, ""): r["reason"] for r in read_table(str(out), "rejects")}
    assert sorted(arts) == ["/coded/br/7.html", "/coded/gzip2/8.html"]
    assert "Item 7:" in arts["/coded/br/7.html"]["text"] and "Item 8:" in arts["/coded/gzip2/8.html"]["text"]
    assert rejs["/drip-headers"] == "timeout" and "too_large" in rejs.values(), rejs
    assert m["counts"]["inputs_seen"] == 4 and m["counts"]["rejected"] == 2
    assert took < 20, took


def test_fetching_articles_and_every_failure(server, tmp_path):
    out = tmp_path / "out"
    t = time.perf_counter()
    m = _run(out, "--feeds", server.base + "/feed.xml", "--allow-private-hosts")
    wall = time.perf_counter() - t
    arts = {r["url"].replace(server.base, ""): r for r in read_table(str(out), "articles")}
    rejs = {r["error"].split(": ")[0].replace(server.base, ""): r for r in read_table(str(out), "rejects")}
    for path, want in CASES.items():
        if want == "article":
            assert path in arts, (path, rejs.get(path, {}).get("reason"))
            assert arts[path]["feed_url"] == server.base + "/feed.xml" and arts[path]["fetched_at"]
        else:
            assert rejs[path]["reason"] == want and rejs[path]["stage"] == "fetch", (path, rejs[path]["reason"])
    assert wall < 30, f"bounded by the timeouts, not by the slow page ({wall:.1f} s)"
    assert server.requests["/robots.txt"] <= 2  # cached: once by the feed reader, once by the page fetcher
    ua = dict(server.headers_seen)["/articles/1.html"].get("User-Agent", "")
    assert ua.startswith("newsbeam/")
    c = m["counts"]
    assert c["inputs_seen"] == c["articles_written"] + c["rejected"] + c["already_ingested"] == len(CASES)


def test_private_hosts_are_never_contacted_by_default(server, tmp_path):
    m = _run(tmp_path / "out", "--feeds", server.base + "/feed.xml")
    assert server.total_requests() == 0
    (rej,) = read_table(str(tmp_path / "out"), "rejects")
    assert rej["reason"] == "blocked_address" and "allow-private-hosts" in rej["error"]
    assert m["counts"]["rejected"] == 1


def test_scheduled_runs_add_only_what_is_new(server, tmp_path):
    server.feeds["/news.xml"] = [(f"Story {i}", f"/articles/{i}.html") for i in range(10, 14)]
    out, feed = tmp_path / "out", server.base + "/news.xml"
    first = _run(out, "--feeds", feed, "--allow-private-hosts")
    assert first["counts"]["articles_written"] == 4
    article_requests = sum(n for p, n in server.requests.items() if p.startswith("/articles/"))
    second = _run(out, "--feeds", feed, "--allow-private-hosts")
    assert second["counts"]["inputs_seen"] == 0 and second["counts"]["notes"] == {"feed_not_modified": 1}
    conditional = [h for p, h in server.headers_seen if p == "/news.xml"][-1]
    assert conditional.get("If-None-Match")
    assert sum(n for p, n in server.requests.items() if p.startswith("/articles/")) == article_requests
    server.feeds["/news.xml"].append(("Story 20", "/articles/20.html"))
    third = _run(out, "--feeds", feed, "--allow-private-hosts")
    assert third["counts"]["articles_written"] == 1 and third["counts"]["already_ingested"] == 4
    assert third["counts"]["rejected"] == 0
    rows = read_table(str(out), "articles")
    assert len(rows) == 5 and len({r["url"] for r in rows}) == 5


def test_pages_of_a_host_whose_robots_txt_cannot_be_read_are_tried_again_next_run(server, tmp_path):
    """robots.txt answering 503: nothing of the host is fetched (RFC 9309),
    but as ``robots_unavailable``, which the next run tries again, not as a
    disallowed page, which it would never fetch."""
    saved = tmp_path / "in" / "saved.rss"
    saved.parent.mkdir()
    saved.write_bytes(b"<rss version='2.0'><channel><title>S</title>" + b"".join(
        f"<item><title>S{i}</title><link>{server.base}/articles/{i}.html</link></item>".encode() for i in (40, 41))
        + b"</channel></rss>")
    out = tmp_path / "out"
    server.robots_status = 503
    first = _run(out, "--input", str(saved.parent), "--allow-private-hosts")
    assert first["counts"]["rejected_by_reason"] == {"fetch/robots_unavailable": 2}
    assert not any(p.startswith("/articles/") for p in server.requests)
    server.robots_status = 200
    second = _run(out, "--input", str(saved.parent), "--allow-private-hosts")
    assert second["counts"]["articles_written"] == 2 and second["counts"]["already_ingested"] == 0


def test_a_damaged_feed_state_file_is_moved_aside_and_the_run_goes_on(server, tmp_path, caplog):
    server.feeds["/state.xml"] = [(f"Story {i}", f"/articles/{i}.html") for i in (60, 61)]
    out, feed = tmp_path / "out", server.base + "/state.xml"
    assert _run(out, "--feeds", feed, "--allow-private-hosts")["counts"]["articles_written"] == 2
    state = out / "state" / "feeds.json"
    state.write_text('{"http://cut')  # a file cut short
    second = _run(out, "--feeds", feed, "--allow-private-hosts")
    assert second["counts"]["already_ingested"] == 2 and second["counts"]["articles_written"] == 0
    assert (out / "state" / "feeds.json.damaged").read_text() == '{"http://cut'
    assert any("is damaged" in r.getMessage() for r in caplog.records)
    assert feed in json.loads(state.read_text())  # written afresh


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(0, 400), flips=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255)), max_size=3))
def test_any_damage_to_the_feed_state_file_is_a_fresh_start_never_an_error(cut, flips):
    """Generated damage (cut anywhere, bytes flipped) to a valid
    state/feeds.json: the state read is a dict of dicts, or the file is moved
    aside and the state is empty; never an exception."""
    import tempfile

    from transforms.feeds import load_json

    good = json.dumps({f"https://e{i}.com/feed.xml": {"etag": f'"{i}"', "last_modified": "Wed, 01 May 2024"}
                       for i in range(4)}).encode()
    data = bytearray(good[:cut])
    for at, bit in flips:
        if data:
            data[at % len(data)] ^= bit
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "feeds.json")
        with open(path, "wb") as f:
            f.write(bytes(data))
        state = load_json(path)
        assert isinstance(state, dict) and all(isinstance(v, dict) for v in state.values())
        assert os.path.exists(path) != os.path.exists(path + ".damaged")
        if not os.path.exists(path):
            assert state == {}


def test_no_fetch_uses_entry_content(server, tmp_path):
    m = _run(tmp_path / "out", "--feeds", server.base + "/feed.xml", "--allow-private-hosts", "--no-fetch",
             "--min-words", "3")
    assert server.requests["/feed.xml"] == 1
    assert not any(p.startswith("/articles/") for p in server.requests)
    assert m["counts"]["articles_written"] == len(CASES)


def test_opml_and_saved_feed_files(server, tmp_path):
    opml = tmp_path / "feeds.opml"
    server.feeds["/a.xml"] = [("A1", "/articles/30.html")]
    server.feeds["/b.xml"] = [("B1", "/articles/31.html")]
    opml.write_text(f"<opml version='2.0'><body><outline xmlUrl='{server.base}/a.xml'/>"
                    f"<outline xmlUrl='{server.base}/b.xml'/></body></opml>")
    saved = tmp_path / "in" / "saved.rss"
    saved.parent.mkdir()
    saved.write_bytes(b"<rss version='2.0'><channel><title>S</title><item><title>Saved</title>"
                      + f"<link>{server.base}/articles/32.html</link>".encode() + b"</item></channel></rss>")
    m = _run(tmp_path / "out", "--feeds", str(opml), "--input", str(saved.parent), "--allow-private-hosts")
    urls = sorted(r["url"].rsplit("/", 1)[1] for r in read_table(str(tmp_path / "out"), "articles"))
    assert urls == ["30.html", "31.html", "32.html"] and m["counts"]["rejected"] == 0


def test_a_feed_that_parses_too_slowly_is_killed_and_the_run_goes_on(tmp_path):
    """Feeds are parsed in a child process under ``--extract-timeout``:
    feedparser is quadratic on some markup (80,000 attributes on one tag: 80 s
    on the worker, where nothing stopped it). The feed is a ``parse/timeout``
    reject and the good feed beside it gives its entry."""
    folder = tmp_path / "in"
    folder.mkdir()
    attrs = " ".join(f'a{i}="1"' for i in range(40_000))
    item = "<item><title>{}</title><link>https://e.com/{}</link><description>{}</description></item>"
    text = "The council approved the budget on Monday after a long debate about schools, roads and the library."
    (folder / "slow.rss").write_text(f"<rss version='2.0'><channel><title>S</title>"
                                     f"{item.format('A', 1, f'<b {attrs}>x</b> {text}')}</channel></rss>")
    (folder / "good.rss").write_text(f"<rss version='2.0'><channel><title>G</title>"
                                     f"{item.format('B', 2, text)}</channel></rss>")
    t = time.perf_counter()
    # 4 s: room for a new child's start-up on a busy machine; the slow feed takes far longer
    m = _run(tmp_path / "out", "--input", str(folder), "--no-fetch", "--extract-timeout", "4")
    rejects = [(r["source"].rsplit("/", 1)[1], r["stage"], r["reason"]) for r in read_table(str(tmp_path / "out"),
                                                                                              "rejects")]
    assert rejects == [("slow.rss", "parse", "timeout")], rejects
    assert [r["url"] for r in read_table(str(tmp_path / "out"), "articles")] == ["https://e.com/2"]
    assert m["counts"]["rejected"] == 1 and time.perf_counter() - t < 60


def test_a_host_that_does_not_answer_is_not_asked_for_every_page(tmp_path, monkeypatch):
    """A feed's pages on a host whose name does not resolve: after
    ``HOST_FAILURES`` failures in a row its other pages are not fetched in
    this run (each try costs the resolver's timeout: hundreds of items
    would hold a run for hours), they are ``host_unreachable`` rejects and
    are tried again on the next run."""
    import socket

    import transforms.fetch
    from transforms.feeds import HOST_FAILURES

    asked = []
    real = socket.getaddrinfo

    def resolve(host, *args, **kw):
        if host == "down.example":
            asked.append(host)
            raise socket.gaierror(-2, "Name or service not known")
        return real(host, *args, **kw)

    monkeypatch.setattr(transforms.fetch.socket, "getaddrinfo", resolve)
    folder = tmp_path / "in"
    folder.mkdir()
    items = "".join(f"<item><title>D{i}</title><link>https://down.example/{i}.html</link></item>" for i in range(8))
    for name in ("saved.rss", "again.rss"):  # the next run's copy of the feed: its pages are tried again
        for old in folder.iterdir():
            old.unlink()
        (folder / name).write_text(f"<rss version='2.0'><channel><title>S</title>{items}</channel></rss>")
        asked.clear()
        m = _run(tmp_path / "out", "--input", str(folder))
        reasons = sorted(r["reason"] for r in read_table(str(tmp_path / "out"), "rejects")
                         if r["run_id"] == m["run_id"])
        assert reasons == ["dns_error"] * HOST_FAILURES + ["host_unreachable"] * (8 - HOST_FAILURES), reasons
        assert len(asked) == HOST_FAILURES and m["counts"]["already_ingested"] == 0


def test_feeds_of_a_host_that_does_not_answer_are_not_all_asked_for(server, tmp_path):
    """An OPML listing five feeds of one site that does not answer (each
    fetch a timeout): three are asked for, the other two are
    ``host_unreachable`` rejects at once, tried again next run."""
    opml = tmp_path / "site.opml"
    opml.write_text("<opml version='2.0'><body>" + "".join(
        f"<outline xmlUrl='{server.base}/slow/section{i}.xml'/>" for i in range(5)) + "</body></opml>")
    m = _run(tmp_path / "out", "--feeds", str(opml), "--allow-private-hosts", "--fetch-retries", "0")
    assert m["counts"]["rejected_by_reason"] == {"fetch/host_unreachable": 2, "fetch/timeout": 3}
    assert sum(n for p, n in server.requests.items() if p.startswith("/slow/")) == 3


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["ok", "dns_error", "connect_error", "timeout", "http_404", "robots_disallowed"]),
                max_size=30))
def test_generated_fetch_outcomes_of_one_host(outcomes):
    """Generated sequences of what a host's pages answer: every entry ends as
    one page or one reject, the host is asked until ``HOST_FAILURES`` pages in
    a row get no answer and never after, and what it was not asked for is
    ``host_unreachable``."""
    import datetime as dt

    from apache_beam import pvalue

    from transforms.feeds import HOST_FAILURES, NO_ANSWER, _FetchHostFn
    from transforms.fetch import FetchResult

    asked = []

    class Fetcher:
        def fetch(self, url):
            asked.append(url)
            outcome = outcomes[int(url.rsplit("/", 1)[1])]
            if outcome != "ok":
                raise FetchError(outcome, outcome)
            return FetchResult(url, 200, {"content-type": "text/html"}, b"<p>x</p>", dt.datetime.now(dt.timezone.utc))

    fn = _FetchHostFn(FetchSettings())
    fn.fetcher = Fetcher()
    entries = [{"url": f"https://h.example/{i:02d}", "feed_url": "f", "position": i, "title": None,
                "published": None, "language": None} for i in range(len(outcomes))]
    out = list(fn.process(("h.example", entries)))
    done = [o.value for o in out if isinstance(o, pvalue.TaggedOutput) and o.tag == "fetch_outcome"]
    pages = [o for o in out if not isinstance(o, pvalue.TaggedOutput)]
    rejects = [o.value for o in out if isinstance(o, pvalue.TaggedOutput) and o.tag == "rejects"]
    assert [u for u, _ in done] == [e["url"] for e in entries] and len(pages) + len(rejects) == len(entries)
    run, stop = 0, len(outcomes)
    for i, outcome in enumerate(outcomes):
        run = run + 1 if outcome in NO_ANSWER else 0
        if run == HOST_FAILURES:
            stop = i + 1
            break
    assert asked == [e["url"] for e in entries[:stop]]
    assert [r for _, r in done] == outcomes[:stop] + ["host_unreachable"] * (len(outcomes) - stop)


def test_a_saved_feed_among_the_inputs_is_read_without_feeds_given(server, tmp_path):
    """The feed steps are built only when the inputs hold a feed file (or --feeds is given): one here."""
    server.feeds["/c.xml"] = [("C1", "/articles/33.html")]
    folder = tmp_path / "in"
    (folder / "deep").mkdir(parents=True)
    (folder / "deep" / "saved.atom").write_bytes(
        b"<feed xmlns='http://www.w3.org/2005/Atom'><title>S</title><entry><title>Saved</title>"
        + f"<link href='{server.base}/articles/34.html'/>".encode() + b"</entry></feed>")
    m = _run(tmp_path / "out", "--input", str(folder), "--allow-private-hosts")
    urls = sorted(r["url"].rsplit("/", 1)[1] for r in read_table(str(tmp_path / "out"), "articles"))
    assert urls == ["34.html"] and m["counts"]["rejected"] == 0
    assert os.path.exists(tmp_path / "out" / "state" / "feeds.json")


def test_a_feed_file_written_after_the_inputs_were_listed_is_a_reject(tmp_path):
    """Files only at build time: no feed steps. A feed file that the reader
    then finds is rejected with its reason, not dropped."""
    import datetime as dt

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from conftest import manifest
    from pipeline.assemble import build
    from pipeline.runner import make_runner

    folder, out = tmp_path / "in", tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("The council approved the budget on Monday after a long debate about schools, "
                                  "roads and the new library in the city centre.")
    options = PipelineOptions(["--input", str(folder), "--output", str(out), "--progress-seconds=0"])
    p = beam.Pipeline(runner=make_runner(options), options=options)
    build(p, options, dt.datetime.now(dt.timezone.utc))
    assert "Feeds" not in p.applied_labels and "FeedPages" not in p.applied_labels
    (folder / "late.rss").write_bytes(b"<rss version='2.0'><channel><item><title>L</title>"
                                      b"<link>https://example.com/l</link></item></channel></rss>")
    p.run().wait_until_finish()
    rejects = read_table(str(out), "rejects")
    assert [(r["source"].rsplit("/", 1)[1], r["reason"]) for r in rejects] == [("late.rss", "feed_after_listing")]
    counts = manifest(str(out))["counts"]
    assert counts["articles_written"] == 1 and counts["rejected"] == 1 and not counts.get("unaccounted")


@pytest.mark.skipif(not os.path.isdir(REALWORLD), reason="../shared/data/feeds is not here")
def test_realworld_feeds_served_locally(server, tmp_path):
    feeds = [server.base + p for p in sorted(server.raw_feeds)]
    args = []
    for f in feeds:
        args += ["--feeds", f]
    m = _run(tmp_path / "out", *args, "--allow-private-hosts")
    c = m["counts"]
    assert c["articles_written"] >= 320
    assert c["inputs_seen"] == c["articles_written"] + c["rejected"] + c["already_ingested"]
    reasons = c["rejected_by_reason"]
    assert set(reasons) <= {"parse/no_entries"}, reasons  # the JSON Feed file is not RSS/Atom


def test_an_item_whose_link_cannot_be_read_is_a_reject_not_a_failed_run(tmp_path):
    """Feed pages are grouped by host before fetching; `urlsplit` raises on
    "http://[::1", and the grouping stopped the whole run (nothing written)."""
    from transforms.feeds import host_of

    assert host_of("http://[::1") == "" and host_of("https://News.Example.org/a") == "news.example.org"
    rss = ("<?xml version='1.0'?><rss version='2.0'><channel><title>F</title><link>https://e.org/</link>"
           "<item><title>A</title><link>http://[::1</link></item>"
           "<item><title>B</title><link>http://e.invalid:99999/x</link></item></channel></rss>")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "f.rss").write_text(rss)
    _run(tmp_path / "out", "--input", str(tmp_path / "in"))
    rejects = read_table(str(tmp_path / "out"), "rejects")
    assert sorted((r["stage"], r["reason"]) for r in rejects) == [("fetch", "bad_url")] * 2


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.text(max_size=20).map(lambda s: "http://" + s),
                 st.text(max_size=20).map(lambda s: "https://[" + s)))
def test_host_of_reads_any_address(url):
    from transforms.feeds import host_of

    host = host_of(url)
    assert host == host.lower()


def test_relative_item_links_are_resolved_against_the_channel_link_of_a_saved_feed():
    """A saved feed has no address of its own to resolve a relative item link
    against: "/news/rel-1" was kept as it was and the item became a
    ``fetch/bad_scheme`` reject (or an article whose url was a bare path).
    The channel's <link> is the site a reader resolves it against; a feed
    read from its own address keeps feedparser's resolution; other schemes
    are left for the fetcher to refuse."""
    from transforms.feedparse import parse_feed

    items = "".join(f"<item><title>{i}</title><link>{link}</link><description>x</description></item>"
                    for i, link in enumerate(["/news/rel-1", "//cdn.example.org/a", "story?id=3",
                                              "https://other.example/b", "javascript:alert(1)", "http://[::1"]))
    xml = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><link>https://ex.org/section/</link>'
           f"{items}</channel></rss>").encode()
    urls = [e.url for e in parse_feed(xml).entries]
    assert urls == ["https://ex.org/news/rel-1", "https://cdn.example.org/a", "https://ex.org/section/story?id=3",
                    "https://other.example/b", "javascript:alert(1)", "http://[::1"]
    fetched = [e.url for e in parse_feed(xml, "application/rss+xml", "https://feeds.ex.net/f/rss").entries]
    assert fetched[0] == "https://feeds.ex.net/news/rel-1"
    no_site = xml.replace(b"<link>https://ex.org/section/</link>", b"")
    assert [e.url for e in parse_feed(no_site).entries][0] == "/news/rel-1"


def test_a_news_sitemap_and_a_sitemap_index_list_the_articles_to_fetch(tmp_path):
    """Google News sitemaps are how news sites list their articles for
    crawlers (fundus and news-please read them). A sitemap given with
    ``--feeds`` (or as an .xml input) was ``parse/no_entries``; now each
    ``<url>`` is an entry, with the news title and publication time, and a
    sitemap index gives the sitemaps it lists, as an OPML file gives feeds."""
    from transforms.feedparse import parse_feed

    with FeedServer() as srv:
        urls = "".join(
            f"<url><loc>{srv.base}/articles/{i}.html</loc><news:news><news:publication><news:name>Ex</news:name>"
            f"<news:language>en</news:language></news:publication><news:publication_date>2024-05-0{i}T10:00:00+02:00"
            f"</news:publication_date><news:title>Story {i}</news:title></news:news></url>" for i in (1, 2))
        urls += f"<url><loc> {srv.base}/articles/3.html </loc><lastmod>2024-05-03</lastmod></url>"
        sitemap = tmp_path / "news-sitemap.xml"
        sitemap.write_text('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                           'sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                           f"{urls}</urlset>")
        parsed = parse_feed(sitemap.read_bytes())
        assert [(e.url.rsplit("/", 1)[-1], e.title, e.published) for e in parsed.entries] == [
            ("1.html", "Story 1", "2024-05-01T08:00:00Z"), ("2.html", "Story 2", "2024-05-02T08:00:00Z"),
            ("3.html", None, "2024-05-03T00:00:00Z")]
        assert parsed.language == "en"
        index = tmp_path / "index.xml"
        index.write_text('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                         f"<sitemap><loc>{sitemap}</loc></sitemap></sitemapindex>")
        out = tmp_path / "out"
        m = run(["--feeds", str(index), "--output", str(out), "--allow-private-hosts", "--min-host-interval=0"],
                quiet=True)
    arts = read_table(out, "articles")
    assert sorted(a["url"].rsplit("/", 1)[-1] for a in arts) == ["1.html", "2.html", "3.html"]
    assert {a["feed_url"] for a in arts} == {str(sitemap)}
    assert m["counts"]["rejected"] == 0


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 10 ** 6), st.sampled_from(["cut", "flip", "insert", "none"]))
def test_a_damaged_sitemap_gives_entries_or_a_named_error(seed, how):
    """Generated: a news sitemap cut, flipped or spliced at a random place
    parses to entries or a ``FeedError``, never another exception."""
    import random

    rnd = random.Random(seed)
    urls = "".join(f"<url><loc>https://ex.org/{i}</loc><news:news><news:title>T {i}</news:title>"
                   f"<news:publication_date>2024-05-0{i % 9 + 1}T10:00:00+02:00</news:publication_date>"
                   f"</news:news></url>" for i in range(rnd.randint(1, 6)))
    data = bytearray(('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                      f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>').encode())
    at = rnd.randrange(len(data))
    if how == "cut":
        data = data[:max(at, 60)]
    elif how == "flip":
        data[at] = rnd.randrange(256)
    elif how == "insert":
        data[at:at] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 40)))
    try:
        parsed = parse_feed(bytes(data))
    except FeedError:
        return
    assert parsed.entries and all(e.url for e in parsed.entries)


def test_a_feed_entrys_author_is_the_articles_author(tmp_path):
    """An item's dc:creator or <author> names the article's author (before:
    empty under --no-fetch, and a fetched page without author markup lost it);
    an address in place of a name is not a person."""
    body = "The city council approved the budget on Monday after a long debate over school funding and roads."
    feed = tmp_path / "f.rss"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        "<title>T</title><link>https://ex.com/</link>"
        f"<item><title>A</title><link>https://ex.com/a</link><dc:creator>Jane Doe</dc:creator>"
        f"<description>{body}</description></item>"
        f"<item><title>B</title><link>https://ex.com/b</link><author>noreply@blogger.com (Unknown)</author>"
        f"<description>{body.replace('approved', 'rejected')}</description></item></channel></rss>")
    out = str(tmp_path / "out")
    run(["--feeds", str(feed), "--no-fetch", "--output", out], quiet=True)
    got = {r["url"]: r["author"] for r in read_table(out, "articles")}
    assert got == {"https://ex.com/a": "Jane Doe", "https://ex.com/b": None}


def test_a_list_of_article_urls_given_as_a_feed_is_fetched(server, tmp_path):
    """A text file of addresses, one a line (blank lines and # comments
    aside), is what a user keeps of the pages to fetch: with --feeds, each is
    an entry, fetched as a feed's items are, once (before: parse/no_entries).
    A text with any other line is no list."""
    from transforms.feedparse import parse_url_list

    urls = tmp_path / "urls.txt"
    urls.write_text(f"# to read\n{server.base}/articles/40.html\n\n{server.base}/articles/41.html\n"
                    f"{server.base}/articles/40.html\n{server.base}/404\n")
    m = _run(tmp_path / "out", "--feeds", str(urls), "--allow-private-hosts")
    got = sorted(r["url"].rsplit("/", 1)[1] for r in read_table(str(tmp_path / "out"), "articles"))
    assert got == ["40.html", "41.html"]
    assert [r["reason"] for r in read_table(str(tmp_path / "out"), "rejects")] == ["http_404"]
    assert m["counts"]["inputs_seen"] == 3
    assert parse_url_list(b"https://a.example/1\nnot a url\n") is None
    assert parse_url_list(b"<rss><channel><link>https://a.example/</link></channel></rss>") is None
    assert parse_url_list(b"\n# nothing\n") is None


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200),
                 st.lists(st.one_of(st.sampled_from(["https://a.example/1", "http://b.example/x?y=1", "# note",
                                                     "", "  https://c.example/2  "]),
                                    st.text(max_size=20)), max_size=8).map(lambda ls: "\n".join(ls).encode())))
def test_a_url_list_is_only_urls_or_nothing(data):
    from transforms.feedparse import parse_url_list

    listed = parse_url_list(data)
    if listed is not None:
        urls = [e.url for e in listed.entries]
        assert urls and len(set(urls)) == len(urls)
        assert all(u.lower().startswith(("http://", "https://")) and not any(c.isspace() for c in u) for u in urls)
