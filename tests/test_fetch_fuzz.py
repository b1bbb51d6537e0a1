"""The fetcher against generated raw HTTP responses (a socket server on
127.0.0.1 that answers whatever bytes hypothesis builds: status lines,
lengths, chunking, content codings, redirects, header garbage, truncation,
byte flips, answers sent in pieces or never finished).

Whatever the server sends, ``SafeFetcher.fetch`` returns a result or raises
``FetchError`` with a reason, within the time its settings allow; no other
exception and no longer wait.
"""
import gzip
import socket
import threading
import time
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedserver import article_page, encode
from transforms.fetch import FetchError, FetchResult, FetchSettings, SafeFetcher

PAGE = article_page(3)
SETTINGS = FetchSettings(connect_timeout=0.5, read_timeout=0.3, deadline=0.6, max_bytes=64 << 10, max_redirects=3,
                         retries=1, backoff=0.0, max_retry_wait=0.0, min_host_interval=0.0, allow_private=True,
                         respect_robots=False)


class RawServer:
    """Answers every connection with ``self.answer``: a list of (bytes, pause
    after) pieces; a pause of None keeps the connection open, silent, until
    the client goes."""

    def __init__(self):
        self.answer: list[tuple[bytes, float | None]] = [(b"", 0.0)]
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._answer, args=(conn, list(self.answer)), daemon=True).start()

    def _answer(self, conn, answer):
        conn.settimeout(2.0)
        try:
            got = b""
            while b"\r\n\r\n" not in got and len(got) < 65536:
                data = conn.recv(4096)
                if not data:
                    return
                got += data
            for piece, pause in answer:
                conn.sendall(piece)
                if pause is None:
                    self._stop.wait(3.0)
                    break
                if pause:
                    time.sleep(pause)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self._stop.set()
        self.sock.close()


@pytest.fixture(scope="module")
def raw_server():
    srv = RawServer()
    yield srv
    srv.close()


def _chunked(body: bytes, size: int) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size))
    return out + b"0\r\n\r\n"


STATUS = [b"HTTP/1.1 200 OK", b"HTTP/1.0 200 OK", b"HTTP/1.1 200", b"HTTP/1.1 404 Not Found", b"HTTP/1.1 500 Oops",
          b"HTTP/1.1 503 Busy", b"HTTP/1.1 429 Slow", b"HTTP/1.1 301 Moved", b"HTTP/1.1 302 Found",
          b"HTTP/1.1 304 Not Modified", b"HTTP/1.1 204 No Content", b"HTTP/1.1 999 Odd", b"HTTP/1.1 100 Continue",
          b"HTTP/2 200", b"HTTP/1.1 2OO OK", b"ICY 200 OK", b"", b"garbage", b"HTTP/1.1 200 \xff\xfe"]
LOCATIONS = [b"/x", b"/", b"x?y=1", b"//127.0.0.1/", b"http://127.0.0.1:1/", b"http://[::1", b"http://a b/",
             b"javascript:alert(1)", b"ftp://127.0.0.1/", b"\xff\xfe", b"http://10.0.0.1/", b"", b"/" + b"a" * 3000,
             b"http://127.0.0.1:99999/", b"https://127.0.0.1:1/", b"http:///nohost", b"http://%zz/"]
CODINGS = ["gzip", "deflate", "rawdeflate", "br", "zstd", "gzip2"]
HEADER_NAMES = {"gzip": b"gzip", "deflate": b"deflate", "rawdeflate": b"deflate", "br": b"br", "zstd": b"zstd",
                "gzip2": b"gzip, gzip"}


@st.composite
def responses(draw):
    body = draw(st.sampled_from([PAGE, b"", b"\x00" * 300, PAGE * 40]) | st.binary(max_size=2000))
    headers = []
    coding = draw(st.none() | st.sampled_from(CODINGS))
    if coding:
        if draw(st.booleans()):
            body = encode(body, coding)
        headers.append(b"Content-Encoding: " + HEADER_NAMES[coding])
    elif draw(st.integers(0, 9)) == 0:
        headers.append(b"Content-Encoding: " + draw(st.sampled_from([b"compress", b"gzip, br, zstd, gzip, br",
                                                                      b"\xff", b"identity", b" , "])))
    if draw(st.integers(0, 4)) == 0:  # a bomb: many zeros in few bytes
        zeros = bytes(draw(st.sampled_from([70 << 10, 1 << 20, 8 << 20])))
        body = gzip.compress(zeros, 1) if draw(st.booleans()) else zlib.compress(zeros, 1)
        headers.append(b"Content-Encoding: " + (b"gzip" if body[:2] == b"\x1f\x8b" else b"deflate"))
    framing = draw(st.sampled_from(["length", "wrong_length", "chunked", "bad_chunked", "close", "both"]))
    if framing == "length":
        headers.append(b"Content-Length: %d" % len(body))
    elif framing == "wrong_length":
        headers.append(b"Content-Length: " + draw(st.sampled_from(
            [b"%d" % (len(body) + 50), b"%d" % max(0, len(body) - 5), b"-1", b"abc", b"99999999999999999999",
             b"1, 2", b""])))
    elif framing in ("chunked", "both"):
        headers.append(b"Transfer-Encoding: chunked")
        if framing == "both":
            headers.append(b"Content-Length: %d" % len(body))
        body = _chunked(body, draw(st.integers(1, 700)))
    elif framing == "bad_chunked":
        headers.append(b"Transfer-Encoding: chunked")
        body = draw(st.sampled_from([b"zz\r\n", b"ffffffffffffffff\r\nab", b"5\r\nabc", b"-1\r\n"])) + body
    headers.append(b"Content-Type: " + draw(st.sampled_from([b"text/html; charset=utf-8", b"text/html",
                                                              b"application/json", b"text/html; charset=\xff"])))
    if draw(st.booleans()):
        headers.append(b"Location: " + draw(st.sampled_from(LOCATIONS)))
    if draw(st.integers(0, 3)) == 0:
        headers.append(b"Retry-After: " + draw(st.sampled_from([b"0", b"1", b"-5", b"soon", b"Wed, 21 Oct 2015",
                                                                 b"99999999999999999999"])))
    for extra in draw(st.lists(st.sampled_from([b"X: \xff\xfe", b"no colon here", b" folded: line", b"X-Long: " +
                                                b"a" * 20000, b":", b"Set-Cookie: a=b"]), max_size=3)):
        headers.append(extra)
    raw = bytearray(draw(st.sampled_from(STATUS)) + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body)
    for pos in draw(st.lists(st.integers(0, max(0, len(raw) - 1)), max_size=3)):
        if raw:
            raw[pos] ^= draw(st.sampled_from([0x01, 0x20, 0x5A, 0xFF]))
    if draw(st.integers(0, 4)) == 0:
        raw = raw[:draw(st.integers(0, len(raw)))]
    raw = bytes(raw)
    delivery = draw(st.sampled_from(["whole", "pieces", "hold_open", "trickle"]))
    if delivery == "whole":
        return [(raw, 0.0)]
    if delivery == "hold_open":
        return [(raw, None)]
    size = draw(st.integers(1, max(1, len(raw))))
    pieces = [raw[i:i + size] for i in range(0, len(raw), size)][:12] or [b""]
    pause = 0.02 if delivery == "pieces" else 0.12
    return [(p, pause) for p in pieces]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                                 HealthCheck.function_scoped_fixture])
@given(answer=responses())
def test_whatever_a_server_sends_is_a_result_or_a_fetch_error_in_bounded_time(raw_server, answer):
    raw_server.answer, raw_server.connections = answer, 0
    f = SafeFetcher(SETTINGS, sleep=lambda s: None)
    t = time.monotonic()
    try:
        res = f.fetch(f"http://127.0.0.1:{raw_server.port}/page")
    except FetchError as e:
        assert e.reason and isinstance(e.reason, str)
    else:
        assert isinstance(res, FetchResult) and len(res.body) <= SETTINGS.max_bytes
    finally:
        f.close()
    took = time.monotonic() - t
    # each request (redirects and retries are new ones) ends by its deadline, however the answer is paced
    # (0.35 s over it: a busy machine; a trickled answer with no deadline would take 1.44 s a request)
    assert took < raw_server.connections * (SETTINGS.deadline + 0.35) + 0.3, (took, raw_server.connections)


@pytest.mark.parametrize("location", LOCATIONS)
@pytest.mark.parametrize("status", [b"HTTP/1.1 301 Moved", b"HTTP/1.1 302 Found", b"HTTP/1.1 308 Permanent"])
def test_any_redirect_location_is_followed_or_a_fetch_error(raw_server, status, location):
    """A redirect to anything a server may write (``javascript:``, a broken
    IPv6 host, bytes that are no text) ends as a page or a FetchError;
    httpx reads a redirect's Location as it reads the response, even when it
    does not follow it, and refuses some that are no URL."""
    raw_server.answer = [(status + b"\r\nContent-Length: 0\r\nLocation: " + location + b"\r\n\r\n", 0.0)]
    raw_server.connections = 0
    f = SafeFetcher(SETTINGS, sleep=lambda s: None)
    try:
        res = f.fetch(f"http://127.0.0.1:{raw_server.port}/page")
    except FetchError as e:
        assert e.reason and isinstance(e.reason, str)
        assert e.reason == "bad_redirect" or location != b"javascript:alert(1)"
    else:
        assert isinstance(res, FetchResult)
