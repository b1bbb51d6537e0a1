"""Bytes to text: BOM, then the HTTP or <meta> charset, then detection.

Pure functions with no Beam import, so that the extraction sandbox can use
them too. What cannot be decoded, or decodes to binary junk (NUL-filled,
random bytes), raises ``DecodeError`` with a short reason code.
"""
from __future__ import annotations

import codecs
import re

import webencodings

__all__ = ["DecodeError", "byte_order_mark", "decode_bytes", "http_charset", "plain_text"]

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]{2,40})", re.IGNORECASE)
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_NON_ASCII_BYTES = bytes(range(128, 256))
UTF8_EVIDENCE = 4  # valid non-ASCII characters per flaw (a run of invalid bytes) to read flawed bytes as UTF-8
_REPLACEMENT_RUN = re.compile("\ufffd+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


class DecodeError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _codec(name: str | None) -> str | None:
    """The Python codec for a declared charset label, as a browser reads the
    label (the WHATWG Encoding Standard, via ``webencodings``): "iso-8859-1",
    "latin1" and "ascii" are windows-1252, whose bytes 0x80-0x9F are the
    quotes, dashes and euro sign pages hold (ISO-8859-1 makes them control
    characters); "gb2312" is GBK, "euc-kr" is cp949, "shift_jis" is cp932.
    A label the standard does not know is looked up among Python's codecs.
    UTF-16 declared in the bytes themselves cannot be (they would not be
    ASCII to read it): ignored, as browsers do, and "x-user-defined" is
    read as windows-1252."""
    if not name:
        return None
    label = name.strip().strip("\"'")
    encoding = webencodings.lookup(label)
    if encoding is not None:
        codec = encoding.codec_info.name
        if codec.startswith("utf-16"):
            return None
        return "cp1252" if encoding.name == "x-user-defined" else codec
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def utf16_without_bom(data: bytes) -> str | None:
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
    utf16 = utf16_without_bom(data)
    if utf16:
        candidates.append(utf16)
    elif not data.isascii():
        # Bytes that are UTF-8 whole and hold characters past ASCII are UTF-8, whatever a header or a meta tag
        # says: a server's default "charset=iso-8859-1" in front of a UTF-8 page made every "é" an "Ã©". Text in
        # a legacy charset is almost never valid UTF-8 (a Latin-1 "é" would have to be followed by one of
        # "€" to "¿" every time, as in mojibake)
        try:
            return _checked(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            pass
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
    if utf16 or data.isascii():  # else tried above, before the declared charsets
        try:
            return _checked(data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            pass
    text = _mostly_utf8(data)
    if text is not None:
        return _checked(text, "utf-8")
    encoding = _guessed(data[: 1 << 20])
    if encoding is None:
        raise DecodeError("undecodable", "no text encoding fits these bytes (binary content?)")
    return _checked(data.decode(encoding, "replace"), encoding)


# Windows code pages whose letters past ASCII overlap (the same bytes are "à" in windows-1252, "ŕ" in
# windows-1250, "ą" in windows-1257), with the languages written in each that wordfreq knows; a guesser's
# ISO twin of a code page counts as the code page
# (the most written of each: a word list costs a load per process, and a tie goes to windows-1252 anyway)
_CODEPAGE_LANGUAGES = {
    "cp1252": ("en", "fr", "de", "es", "it", "pt", "nl", "sv"),
    "cp1250": ("pl", "cs", "hu", "ro", "sk", "sh"),
    "cp1257": ("lt", "lv"),
    "cp1254": ("tr",),
}
_TWINS = {"latin_1": "cp1252", "iso8859_15": "cp1252", "cp850": "cp1252", "cp437": "cp1252",
          "iso8859_2": "cp1250", "iso8859_16": "cp1250", "cp852": "cp1250",
          "iso8859_13": "cp1257", "cp775": "cp1257", "iso8859_9": "cp1254", "cp857": "cp1254"}
_LETTERS = re.compile(r"[^\W\d_]{2,}")  # a word of two letters or more (quotes, dashes, "£" are no letters)
CHAOS_TOLERANCE = 0.05  # charset_normalizer's measure of odd characters (0-1): its near-ties are weighed again
WORDS_WEIGHED = 300


def _guessed(data: bytes) -> str | None:
    """charset_normalizer's guess, checked with words where it is a near tie
    between code pages that share their bytes past ASCII: it ranks them by
    differences of 0.01 in its measure, so a French article in Latin-1 of
    600 characters was read as Baltic cp1257 ("à" as "ą", "è" as "č") and a
    Spanish one as cp1250 ("señalaron" as "seńalaron"). Each near tie is
    decoded and scored by the share of its words with a letter past ASCII
    that wordfreq lists in a language written in that code page; the best
    share wins, windows-1252 (what browsers assume of an undeclared Western
    page) on a tie, then charset_normalizer's choice. A DOS code page it
    names (cp850, cp852) is weighed as its Windows twin."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    first = _TWINS.get(best.encoding, best.encoding)
    if first not in _CODEPAGE_LANGUAGES and best.encoding not in _LATIN_SINGLE_BYTE:
        return best.encoding  # Cyrillic, Greek, CJK...: no near tie of these code pages
    near = {_TWINS.get(m.encoding, m.encoding) for m in matches if m.chaos <= best.chaos + CHAOS_TOLERANCE}
    # (the encoding a reading decodes with, the languages it is judged in); a tie goes to the first. The guess
    # itself is read with its own encoding (ISO-8859-2 places some letters elsewhere than windows-1250), but
    # Latin-1 as windows-1252, which only adds quotes, dashes and the euro sign where Latin-1 has control codes
    readings = [("cp1252", "cp1252")]
    if first in _CODEPAGE_LANGUAGES:
        readings.append(("cp1252" if best.encoding == "latin_1" else best.encoding, first))
    readings += [(page, page) for page in _CODEPAGE_LANGUAGES if page in near]
    spots = _around_high_bytes(data)
    choice, top = best.encoding, None
    for encoding, page in dict.fromkeys(readings):
        try:
            sample = spots.decode(encoding)
        except UnicodeDecodeError:  # a byte the code page leaves undefined
            continue
        words = list(dict.fromkeys(w.lower() for w in _LETTERS.findall(sample) if not w.isascii()))[:WORDS_WEIGHED]
        # no word past ASCII (only "£", "’", "–"): no language to tell, and the tie goes to windows-1252
        score = _known_share(words, _CODEPAGE_LANGUAGES[page])
        if top is None or score > top:
            choice, top = encoding, score
    return choice


# single-byte code pages of the Latin script a guesser may name for text in one of the four above (a Spanish
# export in windows-1252 was named mac_latin2)
_LATIN_SINGLE_BYTE = frozenset({
    "mac_roman", "mac_latin2", "mac_iceland", "mac_turkish", "mac_croatian", "mac_romanian", "hp_roman8",
    "cp437", "cp850", "cp852", "cp857", "cp858", "cp860", "cp861", "cp863", "cp865", "cp775", "latin_1",
    "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "iso8859_15",
    "iso8859_16", "cp1250", "cp1252", "cp1254", "cp1257", "cp1258"})
_HIGH = re.compile(rb"[\x80-\xff]+")
_SEPARATORS = b" \t\r\n<>\"'&;=/"


def _around_high_bytes(data: bytes, spots: int = 2 * WORDS_WEIGHED) -> bytes:
    """The stretches of ``data`` around its first ``spots`` runs of bytes
    past ASCII, each out to the nearest space or markup character (at most
    40 bytes either way), joined by spaces: the words a code page is judged
    by, without scanning a whole page's ASCII for them."""
    out, end = [], 0
    for n, m in enumerate(_HIGH.finditer(data)):
        if n >= spots:
            break
        if m.start() < end:
            continue
        a = m.start()
        while a > max(0, m.start() - 40) and data[a - 1] not in _SEPARATORS:
            a -= 1
        end = m.end()
        while end < min(len(data), m.end() + 40) and data[end] not in _SEPARATORS:
            end += 1
        out.append(data[a:end])
    return b" ".join(out)


def _known_share(words: list[str], languages: tuple[str, ...]) -> float:
    """The share of ``words`` that wordfreq lists in one of ``languages`` (0 for no words)."""
    from transforms.wordlists import frequencies

    if not words:
        return 0.0
    known = [False] * len(words)
    for lang in languages:
        known = [k or f > 0 for k, f in zip(known, frequencies(lang).get_many(words))]
    return sum(known) / len(words)


def _mostly_utf8(data: bytes) -> str | None:
    """The bytes as UTF-8, each invalid byte as U+FFFD, when they are UTF-8
    with a few flaws: at least ``UTF8_EVIDENCE`` valid non-ASCII characters
    for each flaw (a run of invalid bytes). A crawl's UTF-8 page often holds
    one stray byte (a Latin-1 byte for "é", a character cut where two files
    were joined, a lone surrogate written as CESU-8). Guessed as a whole, such
    a page became another charset (a French article read as hp_roman8:
    "rûˋuni" for "réuni") or none at all (a Russian one: ``undecodable``).
    A page in a legacy charset has few valid UTF-8 sequences and many invalid
    ones, and is left to the guess."""
    text = data.decode("utf-8", "replace")
    replaced = text.count("\ufffd") - data.count(b"\xef\xbf\xbd")  # U+FFFD the bytes did not spell themselves
    if replaced <= 0:
        return None
    flaws = max(1, len(_REPLACEMENT_RUN.findall(text)) - data.count(b"\xef\xbf\xbd"))  # a run is one flaw
    valid = len(text) - len(data.translate(None, _NON_ASCII_BYTES)) - replaced  # non-ASCII characters decoded
    return text if valid >= UTF8_EVIDENCE * flaws else None


def _checked(text: str, enc: str) -> tuple[str, str]:
    sample = text[:16384]
    if sample and len(_CONTROL.findall(sample)) > 0.02 * len(sample):
        raise DecodeError("binary_content", f"decoded as {enc} but more than 2% control characters")
    return text, enc


def http_charset(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP Content-Type header, if any."""
    m = _HTTP_CHARSET.search(content_type or "")
    return m.group(1) if m else None


_SURROGATE = re.compile("[\ud800-\udfff]")


def plain_text(value):
    """``value`` with any lone surrogate replaced by U+FFFD, as an undecodable
    byte is. A JSON string may hold one (``"\\ud800"``: JavaScript writes
    them for a cut UTF-16 pair), and UTF-8 cannot carry it: Beam's coder
    raises on it and stops the run. None and non-str values pass as they are."""
    if not isinstance(value, str) or value.isascii():
        return value
    try:
        value.encode("utf-8")
        return value
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", value)
