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
