"""Characters UTF-8 cannot carry, and UTF-8 with a flaw.

A lone surrogate reaches Python from a JSON escape (``"\\ud800"``: JavaScript
writes one for a cut emoji), from JSON-LD in a page, from a JSON feed, or
from a character reference in a feed (``&#xD800;``). Beam's coder and
Parquet refuse it: one such title stopped the whole run (exit 1, nothing
written), and one in a feed item made the whole feed a ``bad_feed`` reject.
A UTF-8 text with one stray byte (a lone surrogate as CESU-8 bytes, a
Latin-1 byte, a character cut where two files were joined) was decoded as a
whole in another charset (mojibake everywhere) or rejected as undecodable.
"""
import json
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import read_table
from pipeline.cli import run
from transforms.encoding import DecodeError, decode_bytes, plain_text
from transforms.feedparse import parse_feed

BODY = ("The city council met on Tuesday to discuss the new budget for schools and roads in the region, "
        "and members argued for hours about the cost of repairs. ") * 4
FR = ("Le conseil municipal s'est réuni mardi pour discuter du nouveau budget des écoles et des routes "
      "de la région. Les élus ont débattu pendant des heures. ") * 6
RU = "Городской совет собрался во вторник, чтобы обсудить новый бюджет школ и дорог региона. " * 6


def _folder(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    lines = [
        '{"url": "https://example.com/a", "title": "Lone \\ud800 surrogate", "text": "%s \\ud800 end"}' % BODY,
        '{"url": "https://example.com/b\\udfff", "title": "b", "text": "%s second"}' % BODY,
        '{"url": "https://example.com/c", "text": "%s %s third", "source": "Pub \\udc80"}' % (FR, "caf\\udce9"),
        json.dumps({"url": "https://example.com/d", "text": BODY + " fourth"}),
    ]
    (d / "records.jsonl").write_text("\n".join(lines) + "\n")
    (d / "array.json").write_text('[{"url": "https://example.com/e", "title": "T \\ud800", "text": "%s"}]' % BODY)
    ld = ('{"@type": "NewsArticle", "headline": "Bad \\ud800 head", "author": {"@type": "Person", '
          '"name": "Ann \\udc00 Lee"}, "publisher": {"name": "Pub \\udfff"}}')
    (d / "ld.html").write_text(f'<html><head><script type="application/ld+json">{ld}</script></head><body>'
                               f'<article><p>{BODY}</p><p>{BODY}</p></article></body></html>')
    (d / "f.rss").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>F &#xD800;</title>'
        '<link>https://example.org/</link><item><title>Item &#xD800; one</title>'
        '<link>https://example.org/a</link><description>' + BODY + ' &#55296; x</description></item>'
        '</channel></rss>')
    (d / "a.atom").write_text(
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title>'
        '<id>urn:a</id><updated>2024-01-01T00:00:00Z</updated><entry><title>E &#xDFFF;</title><id>urn:e</id>'
        '<link href="https://example.org/e"/><updated>2024-01-01T00:00:00Z</updated><content type="html">'
        '&lt;p&gt;' + BODY + ' &amp;#xD800; y&lt;/p&gt;</content></entry></feed>')
    (d / "fr.txt").write_bytes(FR.encode() + b" \xed\xa0\x80 " + FR.encode())  # a lone surrogate as CESU-8
    (d / "ru.txt").write_bytes(RU.encode() + "Город".encode()[:5] + b" " + RU.encode())  # a character cut
    return d


def test_every_input_is_an_article_and_the_run_goes_on(tmp_path):
    """Before: exit 1 and nothing written (a title, url or publisher with a
    surrogate; a JSON-LD headline); both feeds `bad_feed`; fr.txt decoded as
    hp_roman8 ("rûˋuni"), ru.txt rejected as `undecodable`."""
    out = tmp_path / "out"
    run(["--input", str(_folder(tmp_path)), "--output", str(out), "--no-fetch"], quiet=True)
    arts = {r["source"].rsplit("/", 1)[-1]: r for r in read_table(str(out), "articles")}
    rejects = read_table(str(out), "rejects") if (out / "rejects").exists() else []
    assert not rejects, [(r["source"], r["reason"], r["error"][:200]) for r in rejects]
    assert arts["records.jsonl#L1"]["title"] == "Lone \ufffd surrogate"
    assert arts["records.jsonl#L1"]["text"].endswith("\ufffd end")
    assert arts["records.jsonl#L2"]["url"] == "https://example.com/b\ufffd"
    third = arts["records.jsonl#L3"]
    assert "réuni" in third["text"] and "caf\ufffd" in third["text"]  # the rest of the text stays UTF-8
    assert arts["array.json#L1"]["title"] == "T \ufffd"
    assert arts["ld.html"]["title"] == "Bad \ufffd head" and arts["ld.html"]["author"] == "Ann \ufffd Lee"
    titles = {r["title"] for r in arts.values()}
    assert {"Item \ufffd one", "E \ufffd"} <= titles
    fr = next(r for k, r in arts.items() if k == "fr.txt")
    assert "réuni" in fr["text"] and "élus" in fr["text"]
    ru = next(r for k, r in arts.items() if k == "ru.txt")
    assert "бюджет" in ru["text"]


def test_a_json_record_keeps_its_id():
    """The text passed on is repaired; the id is made of the text as written,
    so a record read by an earlier release keeps its doc_id."""
    from transforms.records import make_doc_id, make_raw

    body = "text \ud800 here"
    raw = make_raw(source="s#L1", source_format="jsonl", kind="text", payload=plain_text(body).encode("utf-8"),
                   id_payload=body.encode("utf-8", "surrogatepass"), raw_size=1, url="https://e.com/x")
    assert raw["doc_id"] == make_doc_id("https://e.com/x", body.encode("utf-8", "surrogatepass"))
    assert raw["payload"].decode("utf-8") == "text \ufffd here"


def test_feed_character_references_to_surrogates():
    rss = (b"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item><title>A &#xd800; &#56319; "
           b"&#x1F600; &#233;</title><link>https://e.com/a</link><description>x &amp;#xDFFF; y</description>"
           b"</item></channel></rss>")
    e = parse_feed(rss).entries[0]
    assert e.title == "A \ufffd \ufffd \U0001F600 é"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=60))
def test_plain_text_is_utf8_and_changes_only_surrogates(s):
    out = plain_text(s)
    out.encode("utf-8")
    assert len(out) == len(s)
    assert all(a == b or (0xD800 <= ord(a) <= 0xDFFF and b == "\ufffd") for a, b in zip(s, out))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([FR, RU, "日本語のニュース記事です。東京で会議が開かれました。" * 20]), st.integers(0, 2 ** 32),
       st.integers(1, 3), st.sampled_from([b"\xed\xa0\x80", b"\xe9", b"\xff", b"cut"]))
def test_utf8_with_a_few_flaws_is_read_as_utf8(text, seed, flaws, flaw):
    """Any few flaws in a UTF-8 article: the text around them is the text."""
    rnd = random.Random(seed)
    data = text.encode("utf-8")
    for _ in range(flaws):
        at = rnd.randrange(len(data))
        while at and (data[at] & 0xC0) == 0x80:  # between characters
            at -= 1
        bad = "é".encode()[:1] if flaw == b"cut" else flaw
        data = data[:at] + bad + data[at:]
    decoded, enc = decode_bytes(data, None, is_html=False)
    assert enc == "utf-8"
    assert decoded.replace("\ufffd", "") == text


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_decode_to_utf8_text_or_a_decode_error(data):
    try:
        text, _ = decode_bytes(data, None, is_html=False)
    except DecodeError:
        return
    text.encode("utf-8")


def test_a_legacy_charset_is_still_guessed():
    """A page in a legacy charset has no valid UTF-8 to speak of: still guessed."""
    for text, enc, word in ((FR, "latin-1", "réuni"), (RU, "cp1251", "бюджет")):
        decoded, used = decode_bytes(text.encode(enc), None, is_html=False)
        assert word in decoded and used != "utf-8"
    one = (BODY + " café " + BODY).encode("latin-1")  # English with one Latin-1 byte: nothing says UTF-8
    assert "café" in decode_bytes(one, None, is_html=False)[0]


def test_a_json_line_with_bytes_that_are_not_utf8_is_read(tmp_path):
    """JSON is UTF-8, but an export from a Latin-1 database, or a record with
    one stray byte, is news all the same: before, each such line was a
    `bad_json` reject (`UnicodeDecodeError`)."""
    d = tmp_path / "in"
    d.mkdir()
    one = json.dumps({"url": "https://e.com/1", "text": FR + " caf\u00e9 end"}, ensure_ascii=False).encode()
    one = one.replace("caf\u00e9".encode(), b"caf\xe9")  # one Latin-1 byte in a UTF-8 line
    latin = json.dumps({"url": "https://e.com/2", "text": FR}, ensure_ascii=False).encode("latin-1")
    (d / "r.jsonl").write_bytes(one + b"\n" + latin + b"\n" + b'{"text": "broken\n')
    out = tmp_path / "out"
    run(["--input", str(d), "--output", str(out), "--no-fetch"], quiet=True)
    arts = {r["source"].rsplit("/", 1)[-1]: r["text"] for r in read_table(str(out), "articles")}
    assert "réuni" in arts["r.jsonl#L1"] and arts["r.jsonl#L1"].endswith("caf\ufffd end")
    assert "réuni" in arts["r.jsonl#L2"] and "élus" in arts["r.jsonl#L2"]
    (rej,) = read_table(str(out), "rejects")
    assert rej["source"].endswith("r.jsonl#L3") and rej["reason"] == "bad_json"
