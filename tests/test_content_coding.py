"""Content-Encoding undone with a cap: generated bodies and chains of codings."""
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedserver import CODINGS, encode
from transforms.content_coding import MAX_LAYERS, ContentCodingError, codings, decode_content

KEYS = sorted(k for k in CODINGS if k != "identity")


def test_codings_are_read_in_the_order_applied():
    assert codings(" GZIP, identity,,br ") == ["gzip", "br"]
    assert codings(None) == [] and codings("identity") == []


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=3000) | st.text(max_size=2000).map(str.encode),
       chain=st.lists(st.sampled_from(KEYS), min_size=1, max_size=2))  # gzip2 is two layers
def test_any_chain_of_codings_comes_back_whole(body, chain):
    data = body
    for key in chain:
        data = encode(data, key)
    header = ", ".join(CODINGS[k] for k in chain)
    assert decode_content(data, header, 2 * len(body) + 1000) == body
    try:  # at a limit of its own length, the body, or a layer over it (an inner stream longer than the body)
        assert decode_content(data, header, len(body)) == body
    except ContentCodingError as e:
        assert e.reason == "too_large" and len(chain) + ("gzip2" in chain) > 1
    if body:
        with pytest.raises(ContentCodingError, match="inflates past"):
            decode_content(data, header, len(body) - 1)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(min_size=1, max_size=4000), chain=st.lists(st.sampled_from(KEYS), min_size=1, max_size=2),
       cut=st.integers(0, 4000), flips=st.lists(st.integers(0, 4000), max_size=4), limit=st.integers(0, 5000))
def test_a_damaged_body_gives_at_most_the_limit_or_a_coding_error(body, chain, cut, flips, limit):
    data = bytearray(body)
    for key in chain:
        data = bytearray(encode(bytes(data), key))
    for i in flips:
        data[i % len(data)] ^= 0x5A
    data = bytes(data[:cut]) if cut < len(data) else bytes(data)
    header = ", ".join(CODINGS[k] for k in chain)
    try:
        out = decode_content(data, header, limit)
    except ContentCodingError as e:
        assert e.reason in ("bad_encoding", "too_large")
    else:
        assert len(out) <= limit


@pytest.mark.parametrize("key", KEYS)
def test_a_bomb_stops_at_the_cap(key):
    zeros = bytes(64 << 20)
    data = encode(zeros, key)
    assert len(data) < 1 << 20
    with pytest.raises(ContentCodingError) as e:
        decode_content(data, CODINGS[key], 1000)
    assert e.value.reason == "too_large"


def test_an_unknown_coding_passes_through_and_too_many_layers_do_not():
    assert decode_content(b"<p>x</p>", "compress", 100) == b"<p>x</p>"
    with pytest.raises(ContentCodingError):
        decode_content(b"x", ", ".join(["gzip"] * (MAX_LAYERS + 1)), 100)
    with pytest.raises(ContentCodingError):
        decode_content(b"not gzip", "gzip", 100)
    raw = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    whole = raw.compress(b"hello " * 50) + raw.flush()
    assert decode_content(whole, "deflate", 1000) == b"hello " * 50
    with pytest.raises(ContentCodingError):  # a raw deflate stream cut short is not taken for one
        decode_content(whole[: len(whole) // 2], "deflate", 1000)
