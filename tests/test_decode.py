"""Encodings: BOM, declared charsets, detection, and binary junk."""
import random

import pytest

from hostile import ARTICLE_DE, ARTICLE_FR, ARTICLE_RU, page
from transforms.encoding import DecodeError, decode_bytes


def test_bom_wins():
    text, enc = decode_bytes("\ufeffcafé".encode("utf-8"), declared="latin-1")
    assert text == "café" and enc == "utf-8"


def test_http_charset_then_meta_charset():
    data = page(ARTICLE_FR, charset_meta="windows-1252").encode("cp1252")
    assert "été" in decode_bytes(data)[0] or "dépensé" in decode_bytes(data)[0]
    assert decode_bytes("é".encode("latin-1"), declared="iso-8859-1")[0] == "é"


@pytest.mark.parametrize("body,enc,word", [(ARTICLE_RU, "cp1251", "бюджет"), (ARTICLE_DE, "utf-16-le", "Haushalt"),
                                           (ARTICLE_FR, "latin-1", "déclaré")])
def test_undeclared_encodings_are_detected(body, enc, word):
    text, _ = decode_bytes(page(body).encode(enc))
    assert word in text


def test_wrong_declared_charset_falls_back():
    text, enc = decode_bytes("naïve café".encode("utf-8"), declared="no-such-charset")
    assert text == "naïve café"


def test_binary_is_rejected_not_decoded():
    rnd = random.Random(1)
    with pytest.raises(DecodeError):
        decode_bytes(bytes(rnd.getrandbits(8) for _ in range(5000)))
    with pytest.raises(DecodeError) as e:
        decode_bytes(b"\x00" * 1000 + b"abc")
    assert e.value.reason == "binary_content"


@pytest.mark.parametrize("declared, meta", [("iso-8859-1", None), (None, "iso-8859-1"), ("windows-1252", "latin-1"),
                                            ("windows-1251", None), ("shift_jis", None)])
def test_a_page_that_is_utf8_whole_is_utf8_whatever_its_header_or_meta_says(declared, meta):
    """A server's default ``charset=iso-8859-1`` (or a template's meta tag) in
    front of a UTF-8 page made every "é" an "Ã©" and every "’" an "â\\x80\\x99":
    three pages of the shared extraction sets (cleaneval final-698, dragnet
    R424 and R802) were read so. Valid UTF-8 with characters past ASCII is
    UTF-8; a page truly in the declared charset is not valid UTF-8, and keeps
    its charset (below)."""
    for article, word in ((ARTICLE_FR, "déclaré"), (ARTICLE_RU, "бюджет"),
                          ("We’re told the décor — “new” — costs 5 €. " * 20, "We’re told the décor — “new”")):
        data = page(article, charset_meta=meta).encode("utf-8")
        text, enc = decode_bytes(data, declared=declared)
        assert enc == "utf-8" and word in text and "Ã" not in text and "â\x80" not in text
    # the declared charset still reads what is written in it
    latin = page(ARTICLE_FR, charset_meta=meta).encode("latin-1", "replace")
    assert "déclaré" in decode_bytes(latin, declared="iso-8859-1")[0]
    assert decode_bytes(page(ARTICLE_RU).encode("cp1251"), declared="windows-1251")[0].count("е") > 5
