"""HTTP ``Content-Encoding`` undone with a cap on what comes out (pure, no Beam).

A few kilobytes of brotli or zstd, or of gzip inside gzip, can hold
gigabytes: httpx's own decoders inflate a received chunk whole (a 2 GB
brotli body of 1.6 KB took 4 GB of memory), and a crawler's WARC keeps the
body as the server sent it. Here every coding layer stops one byte past the
limit, so no step holds more than that whatever the ratio.

Used by the fetcher (``transforms.fetch``) on live responses and by the WARC
reader (``transforms.read``) on recorded ones.
"""
from __future__ import annotations

import io
import zlib

__all__ = ["ContentCodingError", "MAX_LAYERS", "codings", "decode_content"]

MAX_LAYERS = 4  # more codings than this in one header is not a real server's answer
_GZIP = ("gzip", "x-gzip")


class ContentCodingError(ValueError):
    """The body is not what its ``Content-Encoding`` says; ``reason`` is a short code."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def codings(header: str | None) -> list[str]:
    """The codings of a ``Content-Encoding`` value, in the order they were
    applied; ``identity`` and empty items dropped."""
    return [c for c in (p.strip().lower() for p in (header or "").split(",")) if c and c != "identity"]


def _zlib(body: bytes, coding: str, cap: int) -> bytes:
    try:  # gzip or zlib-wrapped deflate, told apart by their header
        return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(body, cap)
    except zlib.error as e:
        if coding in _GZIP:
            raise ContentCodingError("bad_encoding", f"not {coding}: {e}") from None
    raw = zlib.decompressobj(-zlib.MAX_WBITS)  # deflate without its zlib wrapper, as some servers send it
    try:
        out = raw.decompress(body, cap)
    except zlib.error as e:
        raise ContentCodingError("bad_encoding", f"not deflate: {e}") from None
    if not raw.eof and len(out) < cap:
        raise ContentCodingError("bad_encoding", "not a whole deflate stream")
    return out


def _brotli(body: bytes, cap: int) -> bytes:
    import brotli

    try:
        return brotli.Decompressor().process(body, output_buffer_limit=cap)[:cap]
    except brotli.error as e:
        raise ContentCodingError("bad_encoding", f"not br: {e}") from None


def _zstd(body: bytes, cap: int) -> bytes:
    import zstandard

    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(body)) as reader:
            return reader.read(cap)
    except zstandard.ZstdError as e:
        raise ContentCodingError("bad_encoding", f"not zstd: {e}") from None


def decode_content(body: bytes, header: str | None, limit: int) -> bytes:
    """``body`` with the codings of ``header`` undone, last applied first.
    gzip, deflate (zlib-wrapped or raw), br and zstd; a coding newsbeam does
    not know is passed through as it is, as httpx does (the decode step
    rejects what is not text). Raises ``ContentCodingError``: ``too_large``
    when a layer inflates past ``limit`` bytes (each stops one byte past it,
    so nothing larger is ever held; in a chain, an inner stream over the limit
    counts as over it), ``bad_encoding`` for a body its coding cannot undo or
    more than ``MAX_LAYERS`` codings."""
    layers = codings(header)
    if len(layers) > MAX_LAYERS:
        raise ContentCodingError("bad_encoding", f"{len(layers)} content codings ({header[:100]})")
    cap = limit + 1
    for coding in reversed(layers):
        if coding in _GZIP or coding == "deflate":
            body = _zlib(body, coding, cap)
        elif coding == "br":
            body = _brotli(body, cap)
        elif coding == "zstd":
            body = _zstd(body, cap)
        if len(body) > limit:
            raise ContentCodingError("too_large", f"{coding} inflates past {limit} bytes")
    return body
