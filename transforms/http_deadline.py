"""A wall-clock deadline over a whole HTTP exchange, for httpx's sync client.

httpx's timeouts bound each socket operation, not the request: a server
that sends its status line and then one header line every few seconds (or
its body a byte at a time) holds the caller for as long as it likes, since
every single read returns within the read timeout (encode/httpx#1450, open).
``DeadlineBackend`` wraps httpcore's network backend: every connect, TLS
handshake, read and write of a connection is given at most the time left
before ``deadline`` (a ``time.monotonic()`` value the caller sets for each
request, None for none), and raises httpcore's timeout once it has passed.
httpx maps those to ``httpx.ConnectTimeout`` / ``ReadTimeout`` /
``WriteTimeout`` as it does its own.

Imported by ``SafeFetcher`` when it is built (httpcore costs ~60 ms to
import; runs that fetch nothing never pay it).
"""
from __future__ import annotations

import time

import httpcore

__all__ = ["DeadlineBackend", "install"]


class DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend | None = None):
        self._inner = inner or httpcore.SyncBackend()
        self.deadline: float | None = None

    def cap(self, timeout: float | None, exc: type[Exception]) -> float | None:
        """``timeout`` shortened to the time left; ``exc`` when none is left."""
        if self.deadline is None:
            return timeout
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise exc("the request's deadline has passed")
        return left if timeout is None else min(timeout, left)

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        stream = self._inner.connect_tcp(host, port, self.cap(timeout, httpcore.ConnectTimeout), local_address,
                                         socket_options)
        return _DeadlineStream(stream, self)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        stream = self._inner.connect_unix_socket(path, self.cap(timeout, httpcore.ConnectTimeout), socket_options)
        return _DeadlineStream(stream, self)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, backend: DeadlineBackend):
        self._stream = stream
        self._backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._backend.cap(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._backend.cap(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None):
        timeout = self._backend.cap(timeout, httpcore.ConnectTimeout)
        stream = self._stream.start_tls(ssl_context, server_hostname, timeout)
        return _DeadlineStream(stream, self._backend)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


def install(transport) -> DeadlineBackend:
    """Put a ``DeadlineBackend`` under an ``httpx.HTTPTransport`` before its
    first request. httpx does not take a network backend as an argument, so
    this sets its connection pool's; a pool without one (another httpx) is an
    error here rather than a deadline silently missing."""
    pool = getattr(transport, "_pool", None)
    if not isinstance(pool, httpcore.ConnectionPool) or not hasattr(pool, "_network_backend"):
        raise RuntimeError(f"cannot set a deadline on {type(transport).__name__}: no httpcore connection pool")
    backend = DeadlineBackend(pool._network_backend)
    pool._network_backend = backend
    return backend
