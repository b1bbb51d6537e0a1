"""Polite and safe HTTP fetching (pure, no Beam): ``SafeFetcher``.

- Only ``http`` and ``https``. Every host is resolved first and every address
  it resolves to must be public: loopback, private, link-local, multicast,
  reserved and unspecified addresses are refused unless ``allow_private``
  (tests, intranets). The connection is pinned to the address that was
  checked (Host header and TLS server name stay the URL's), so a second DNS
  answer cannot send it elsewhere. The check runs again on every redirect
  hop, which is followed by hand (``max_redirects``, loops detected).
- A User-Agent naming the project; connect/read timeouts and a wall-clock
  deadline over every socket operation of a request, headers included
  (``transforms.http_deadline``: a server that drips bytes cannot hold a
  worker).
- Bounded retries with exponential backoff on connection errors, 429 and
  5xx, honouring ``Retry-After`` up to ``max_retry_wait`` seconds.
- A response size cap, read as a stream, and on what ``Content-Encoding``
  inflates it to (``transforms.content_coding``: each layer of gzip,
  deflate, br or zstd stops at the cap, so a bomb of a few KB costs no more
  memory than the cap).
- robots.txt, fetched once per host and cached (RFC 9309: 4xx allows
  everything; 5xx or unreachable disallows for now: ``robots_unavailable``,
  a reason that is tried again on the next run).
- Per-host politeness: at least ``min_host_interval`` seconds between two
  requests to one host from this fetcher (the pipeline gives each host to
  one fetcher at a time).

Every failure is a ``FetchError`` with a short reason code.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import socket
import time
import urllib.robotparser
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from pipeline.version import __version__
from transforms.content_coding import ContentCodingError, decode_content
from transforms.records import http_status_reason

__all__ = ["FetchError", "FetchResult", "FetchSettings", "SafeFetcher", "USER_AGENT", "check_url"]

USER_AGENT = f"newsbeam/{__version__} (+https://github.com/newsbeam/newsbeam; news ingestion)"
_REDIRECTS = {301, 302, 303, 307, 308}
_RETRY = {429, 500, 502, 503, 504}


class FetchError(Exception):
    def __init__(self, reason: str, message: str, status: int | None = None, requests: int = 0):
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.requests = requests


@dataclass(frozen=True)
class FetchSettings:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    deadline: float = 30.0
    max_bytes: int = 16 << 20
    max_redirects: int = 5
    retries: int = 2
    backoff: float = 0.5
    max_retry_wait: float = 30.0
    min_host_interval: float = 1.0
    allow_private: bool = False
    respect_robots: bool = True
    user_agent: str = USER_AGENT


@dataclass
class FetchResult:
    url: str  # final URL after redirects
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: dt.datetime
    requests: int = 1
    not_modified: bool = False
    history: list[str] = field(default_factory=list)


def _blocked(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%")[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped:
        addr = addr.ipv4_mapped
    return not addr.is_global or addr.is_multicast or addr.is_reserved or addr.is_unspecified


def check_url(url: str, allow_private: bool = False) -> str | None:
    """Raise FetchError unless ``url`` is http(s) and resolves only to allowed addresses.

    Returns the address to connect to (the request is pinned to it, so a
    second DNS answer cannot point the connection elsewhere), or None when
    private hosts are allowed and no check is made."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError as e:
        raise FetchError("bad_url", f"unparsable URL: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError("bad_scheme", f"only http and https are fetched, not {parts.scheme or 'no scheme'!r}")
    if not host:
        raise FetchError("bad_url", "URL has no host")
    if allow_private:
        return None
    try:
        infos = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise FetchError("dns_error", f"cannot resolve {host}: {e}") from None
    for info in infos:
        if _blocked(info[4][0]):
            raise FetchError("blocked_address",
                             f"{host} resolves to {info[4][0]}, a loopback/private/link-local/reserved address "
                             "(use --allow-private-hosts to fetch it)")
    return infos[0][4][0] if infos else None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


class SafeFetcher:
    """One HTTP client (connection pool) with the rules above; not thread-safe."""

    def __init__(self, settings: FetchSettings = FetchSettings(), sleep=time.sleep):
        import httpx

        from transforms import http_deadline

        self.s = settings
        self._sleep = sleep
        transport = httpx.HTTPTransport(trust_env=False)
        self._deadline = http_deadline.install(transport)
        self._client = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            follow_redirects=False, trust_env=False, transport=transport)
        self._robots: dict[str, urllib.robotparser.RobotFileParser | FetchError | None] = {}
        self._last: dict[str, float] = {}

    def close(self) -> None:
        self._client.close()

    # -- public --------------------------------------------------------------
    def fetch(self, url: str, headers: dict[str, str] | None = None, check_robots: bool = True) -> FetchResult:
        """GET ``url`` following redirects by hand; raises FetchError."""
        seen = [url]
        requests = 0
        current = url
        for _ in range(self.s.max_redirects + 1):
            address = check_url(current, self.s.allow_private)
            if check_robots and self.s.respect_robots and not self._robots_allow(current):
                raise FetchError("robots_disallowed", f"robots.txt of {urlsplit(current).netloc} disallows {current}",
                                 requests=requests)
            res = self._get_with_retries(current, headers or {}, address)
            requests += res.requests
            if res.status in _REDIRECTS:
                loc = res.headers.get("location")
                if not loc:
                    raise FetchError("bad_redirect", f"HTTP {res.status} without Location", res.status, requests)
                nxt = urljoin(current, loc)
                if nxt in seen:
                    raise FetchError("redirect_loop", f"redirect loop: {' -> '.join(seen + [nxt])}"[:500],
                                     res.status, requests)
                seen.append(nxt)
                current = nxt
                continue
            res.requests, res.history = requests, seen[:-1]
            if res.status == 304:
                res.not_modified = True
                return res
            if res.status >= 400:
                raise FetchError(http_status_reason(res.status), f"HTTP {res.status} from {current}", res.status,
                                 requests)
            return res
        raise FetchError("too_many_redirects", f"more than {self.s.max_redirects} redirects from {url}",
                         None, requests)

    # -- internals -----------------------------------------------------------
    def _polite_wait(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            wait = self.s.min_host_interval - (time.monotonic() - last)
            if wait > 0:
                self._sleep(wait)
        self._last[host] = time.monotonic()

    def _get_with_retries(self, url: str, headers: dict[str, str], address: str | None) -> FetchResult:
        attempts = 0
        while True:
            attempts += 1
            try:
                res = self._get_once(url, headers, address)
            except FetchError as e:
                e.requests = attempts
                if e.reason in ("timeout", "connect_error") and attempts <= self.s.retries:
                    self._sleep(self.s.backoff * 2 ** (attempts - 1))
                    continue
                raise
            res.requests = attempts
            if res.status in _RETRY and attempts <= self.s.retries:
                wait = _retry_after(res.headers.get("retry-after"))
                if wait is None:
                    wait = self.s.backoff * 2 ** (attempts - 1)
                if wait > self.s.max_retry_wait:
                    return res  # the server asks for longer than we wait: report its status
                self._sleep(wait)
                continue
            return res

    def _get_once(self, url: str, headers: dict[str, str], address: str | None) -> FetchResult:
        import httpx

        parts = urlsplit(url)
        host = parts.netloc.lower()
        self._polite_wait(host)
        target, extensions = url, {}
        if address:  # connect to the checked address; Host header and TLS name stay the URL's
            ip = f"[{address}]" if ":" in address else address
            netloc = ip if parts.port is None else f"{ip}:{parts.port}"
            target = parts._replace(netloc=netloc).geturl()
            headers = {**headers, "Host": parts.hostname + (f":{parts.port}" if parts.port else "")}
            if parts.scheme == "https":
                extensions["sni_hostname"] = parts.hostname
        start = time.monotonic()
        self._deadline.deadline = start + self.s.deadline  # every connect, read and write until the body is in
        try:
            with self._client.stream("GET", target, headers=headers, extensions=extensions) as r:
                length = r.headers.get("content-length")
                if length and length.isdigit() and int(length) > self.s.max_bytes:
                    raise FetchError("too_large", f"Content-Length {length} over the {self.s.max_bytes}-byte cap",
                                     r.status_code)
                chunks, size = [], 0
                for chunk in r.iter_raw():  # as sent: httpx's decoders inflate a chunk whole, however far
                    size += len(chunk)
                    if size > self.s.max_bytes:
                        raise FetchError("too_large", f"body over the {self.s.max_bytes}-byte cap", r.status_code)
                    chunks.append(chunk)
                coding = r.headers.get("content-encoding")
                try:
                    body = decode_content(b"".join(chunks), coding, self.s.max_bytes)
                except ContentCodingError as e:
                    raise FetchError(e.reason, f"body decoded from Content-Encoding {coding}: {e}"[:500],
                                     r.status_code) from None
                return FetchResult(url=url, status=r.status_code, headers={k.lower(): v for k, v in r.headers.items()},
                                   body=body, fetched_at=dt.datetime.now(dt.timezone.utc))
        except httpx.TimeoutException as e:
            late = time.monotonic() - start
            why = f"the {self.s.deadline:g} s deadline passed" if late >= self.s.deadline else type(e).__name__
            raise FetchError("timeout", f"{why} after {late:.1f} s: {url}") from None
        except httpx.TooManyRedirects as e:  # not raised with follow_redirects=False; kept for safety
            raise FetchError("too_many_redirects", str(e)) from None
        except httpx.InvalidURL as e:
            # httpx reads a redirect's Location as it reads the response, also with follow_redirects=False,
            # and refuses one that is no URL ("Location: javascript:alert(1)"): the server's redirect is bad.
            # A URL of ours that httpx cannot read (check_url passed it) is a bad URL.
            try:
                httpx.URL(target)
            except httpx.InvalidURL:
                raise FetchError("bad_url", f"{type(e).__name__}: {e}"[:500]) from None
            raise FetchError("bad_redirect", f"the redirect's Location is no URL: {e}"[:500]) from None
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
            raise FetchError("connect_error", f"{type(e).__name__}: {e}") from None
        finally:
            self._deadline.deadline = None

    def _robots_allow(self, url: str) -> bool:
        """Whether robots.txt lets newsbeam fetch ``url``. Raises FetchError
        ``robots_unavailable`` when the host's robots.txt could not be read
        (unreachable, 429 or 5xx): RFC 9309 says to fetch nothing then, and
        the page is tried again on a later run (a transient reason), where a
        disallowed page is not."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        if key not in self._robots:
            self._robots[key] = self._load_robots(key)
        rp = self._robots[key]
        if isinstance(rp, FetchError):
            raise FetchError("robots_unavailable", f"robots.txt of {parts.netloc} could not be read ({rp.reason}: "
                             f"{rp}); nothing of the host is fetched until it can"[:500])
        return True if rp is None else rp.can_fetch(self.s.user_agent, url)

    def _load_robots(self, base: str) -> urllib.robotparser.RobotFileParser | FetchError | None:
        """The host's rules; None for none (a 4xx but 429: everything is
        allowed); the FetchError when it could not be read."""
        rp = urllib.robotparser.RobotFileParser()
        try:
            res = self.fetch(base + "/robots.txt", check_robots=False)
        except FetchError as e:
            if e.status is not None and 400 <= e.status < 500 and e.status != 429:
                return None  # no robots.txt: everything is allowed
            return e  # unreachable, 429 or 5xx: not now
        rp.parse(res.body[: 500_000].decode("utf-8", "replace").splitlines())
        return rp
