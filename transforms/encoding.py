"""Bytes to text: BOM, then the HTTP or <meta> charset, then detection.

Pure functions with no Beam import, so that the extraction sandbox can use
them too. What cannot be decoded, or decodes to binary junk (NUL-filled,
random bytes), raises ``DecodeError`` with a short reason code.
"""
from __future__ import annotations

import codecs
import re

__all__ = ["DecodeError", "byte_order_mark", "decode_bytes", "http_charset"]

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]{2,40})", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


class DecodeError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except LookupError:
        return None


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 with no BOM shows as NUL in every other byte of ASCII text."""
    sample = data[:4096]
    if len(sample) < 8:
        return None
    even = sample[0::2].count(0) / (len(sample) / 2)
    odd = sample[1::2].count(0) / (len(sample) / 2)
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def byte_order_mark(data: bytes) -> tuple[bytes, str] | None:
    """(the byte-order mark, its encoding) that ``data`` starts with, or None."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return bom, enc
    return None


def decode_bytes(data: bytes, declared: str | None = None, is_html: bool = True) -> tuple[str, str]:
    """Return (text, encoding used). Raises DecodeError for binary junk."""
    mark = byte_order_mark(data)
    if mark:
        return data[len(mark[0]):].decode(mark[1], "replace"), mark[1]
    candidates = []
    utf16 = _utf16_without_bom(data)
    if utf16:
        candidates.append(utf16)
    candidates.append(_codec(declared))
    if is_html:
        m = _META_CHARSET.search(data[:8192])
        candidates.append(_codec(m.group(1).decode("ascii", "ignore")) if m else None)
    for enc in candidates:
        if enc:
            try:
                return _checked(data.decode(enc), enc)
            except UnicodeDecodeError:
                continue
    try:
        return _checked(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data[: 1 << 20]).best()
    if best is None:
        raise DecodeError("undecodable", "no text encoding fits these bytes (binary content?)")
    return _checked(data.decode(best.encoding, "replace"), best.encoding)


def _checked(text: str, enc: str) -> tuple[str, str]:
    sample = text[:16384]
    if sample and len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise DecodeError("binary_content", f"decoded as {enc} but more than 2% control characters")
    return text, enc


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type header, if any."""
    m = _HTTP_CHARSET.search(content_type or "")
    return m.group(1) if m else None
