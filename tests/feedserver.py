"""A local HTTP server for the feed tests (127.0.0.1 only), counting requests.

Serves generated article pages and feeds that point at them, plus every kind
of bad response: 404, 500, 429 with Retry-After, a page that never answers,
one that sends its headers a line at a time for ever, a redirect loop, a
50 MB page, compression bombs (a few KB of br, zstd or gzip inside gzip that
inflate to 256 MB), a body its Content-Encoding does not fit, a non-HTML
response, a path robots.txt disallows; and article pages in every content
coding (``/coded/<coding>/<n>.html``). With ../shared/data/feeds/realworld present, its feeds are served
too, rewritten so that every item links to an article page of this server.
"""
from __future__ import annotations

import collections
import functools
import gzip
import hashlib
import html
import os
import re
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from hostile import ARTICLE_DE, ARTICLE_EN, ARTICLE_FR

BODIES = [ARTICLE_EN, ARTICLE_FR, ARTICLE_DE]


def article_page(n: int) -> bytes:
    body = BODIES[n % 3]
    paras = "".join(f"<p>Item {n}: {s.strip()}.</p>" for s in body.split(". ") if s.strip())
    return (f"<html><head><title>Story {n}</title><meta name='author' content='Reporter {n}'></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>Story {n}</h1>{paras}</article></body></html>").encode()


def rss(base: str, items: list[tuple[str, str]]) -> bytes:
    out = [f"<item><title>{html.escape(t)}</title><link>{base}{path}</link>"
           f"<pubDate>Wed, 01 May 2024 10:0{i % 10}:00 GMT</pubDate><description>Summary of {html.escape(t)}"
           f"</description></item>" for i, (t, path) in enumerate(items)]
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Test feed</title>"
            f"<link>{base}/</link><language>en</language>{''.join(out)}</channel></rss>").encode()


BOMB_BYTES = 256 << 20
CODINGS = {"gzip": "gzip", "deflate": "deflate", "rawdeflate": "deflate", "br": "br", "zstd": "zstd",
           "gzip2": "gzip, gzip", "identity": "identity"}


def encode(body: bytes, coding: str) -> bytes:
    """``body`` in one of ``CODINGS`` (by its key)."""
    if coding == "gzip":
        return gzip.compress(body, 6, mtime=0)
    if coding == "deflate":
        return zlib.compress(body)
    if coding == "rawdeflate":
        c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
        return c.compress(body) + c.flush()
    if coding == "br":
        import brotli

        return brotli.compress(body, quality=5)
    if coding == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(body)
    if coding == "gzip2":
        return gzip.compress(gzip.compress(body, 1, mtime=0), 9, mtime=0)
    return body


@functools.lru_cache(maxsize=None)
def bomb(coding: str) -> bytes:
    """``BOMB_BYTES`` of zeros in ``coding``, built a MB at a time (a few KB on the wire)."""
    zero = bytes(1 << 20)
    n = BOMB_BYTES >> 20
    if coding == "br":
        import brotli

        c = brotli.Compressor(quality=1)
        return b"".join(c.process(zero) for _ in range(n)) + c.finish()
    if coding == "zstd":
        import zstandard

        c = zstandard.ZstdCompressor().compressobj()
        return b"".join(c.compress(zero) for _ in range(n)) + c.flush()
    inner = zlib.compressobj(1, zlib.DEFLATED, 31)
    return encode(b"".join(inner.compress(zero) for _ in range(n)) + inner.flush(), "gzip")


class FeedServer:
    def __init__(self, realworld_dir: str | None = None):
        self.requests: collections.Counter = collections.Counter()
        self.headers_seen: list[tuple[str, dict]] = []
        self.feeds: dict[str, list[tuple[str, str]]] = {}
        self.raw_feeds: dict[str, bytes] = {}
        self.busy_hits = collections.Counter()
        self.robots_status = 200  # what /robots.txt answers (a 503: the host's robots.txt cannot be read now)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.realworld_dir = realworld_dir
        if realworld_dir and os.path.isdir(realworld_dir):
            self._load_realworld(realworld_dir)

    def _load_realworld(self, folder: str) -> None:
        n = 1000
        for name in sorted(os.listdir(folder)):
            data = open(os.path.join(folder, name), "rb").read()
            # every item/entry gets one local article page; all its links point there
            def item(m, pattern, make):
                nonlocal n
                n += 1
                url = f"{self.base}/articles/{n}.html"
                return re.sub(pattern, make(url).encode(), m.group(0))

            data = re.sub(rb"<item[\s>].*?</item>", lambda m: item(
                m, rb"<link>.*?</link>", lambda u: f"<link>{u}</link>"), data, flags=re.S)
            data = re.sub(rb"<entry[\s>].*?</entry>", lambda m: item(
                m, rb"<link[^>]*?href=[\"'][^\"']*[\"'][^>]*?/?>", lambda u: f'<link rel="alternate" href="{u}"/>'),
                data, flags=re.S)
            self.raw_feeds[f"/real/{name}"] = data

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body=b"", ctype="text/html; charset=utf-8", headers=None):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if body:
                    self.wfile.write(body)

            def do_GET(self):  # noqa: N802
                path = self.path
                with server._lock:
                    server.requests[path] += 1
                    server.headers_seen.append((path, dict(self.headers)))
                if path == "/robots.txt":
                    if server.robots_status != 200:
                        return self._send(server.robots_status, b"not now")
                    return self._send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
                m = re.fullmatch(r"/articles/(\d+)\.html", path)
                if m:
                    return self._send(200, article_page(int(m.group(1))))
                if path.startswith("/private/"):
                    return self._send(200, article_page(999))
                if path == "/404":
                    return self._send(404, b"not found")
                if path == "/500":
                    return self._send(500, b"boom")
                if path == "/busy":
                    server.busy_hits[path] += 1
                    if server.busy_hits[path] == 1:
                        return self._send(429, b"slow down", headers={"Retry-After": "1"})
                    return self._send(200, article_page(77))
                if path == "/always-busy":
                    return self._send(429, b"slow down", headers={"Retry-After": "3600"})
                if path == "/slow" or path.startswith("/slow/"):
                    server._stop.wait(60)
                    return
                if path == "/drip-headers":  # each line well within any read timeout; never the blank line
                    try:
                        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n")
                        for i in range(100):
                            self.wfile.flush()
                            if server._stop.wait(0.2):
                                return
                            self.wfile.write(b"X-Drip-%d: 1\r\n" % i)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                m = re.fullmatch(r"/bomb/(\w+)", path)
                if m:
                    return self._send(200, bomb(m.group(1)), headers={"Content-Encoding": CODINGS[m.group(1)]})
                m = re.fullmatch(r"/coded/(\w+)/(\d+)\.html", path)
                if m:
                    return self._send(200, encode(article_page(int(m.group(2))), m.group(1)),
                                      headers={"Content-Encoding": CODINGS[m.group(1)]})
                if path == "/bad-gzip":
                    return self._send(200, article_page(5), headers={"Content-Encoding": "gzip"})
                if path == "/to-private":
                    return self._send(302, headers={"Location": "http://10.0.0.1/admin"})
                if path == "/loop-a":
                    return self._send(302, headers={"Location": "/loop-b"})
                if path == "/loop-b":
                    return self._send(302, headers={"Location": "/loop-a"})
                if path == "/big":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(50 << 20))
                    self.end_headers()
                    try:
                        chunk = b"<p>" + b"x" * 65533
                        for _ in range(800):
                            self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                if path == "/image.png":
                    return self._send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
                if path in server.feeds:
                    body = rss(server.base, server.feeds[path])
                    etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._send(304, headers={"ETag": etag})
                    return self._send(200, body, "application/rss+xml", {"ETag": etag})
                if path in server.raw_feeds:
                    return self._send(200, server.raw_feeds[path], "application/xml")
                return self._send(404, b"no such page")

        return Handler

    def __enter__(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def total_requests(self) -> int:
        return sum(self.requests.values())

