"""JSON files as people and tools write them, and files compressed under a
plain name.

Before: a ``.json`` file was read one record a line unless it opened an
array, so a pretty-printed record, ``jq .``'s output or an API's answer
(NewsAPI's ``{"status": "ok", "articles": [...]}``) gave one ``bad_json``
reject per line (29 for a NewsAPI answer of two articles) and no article;
an array was parsed whole (a 1 GB array held several GB); NewsAPI's
``publishedAt`` and ``source.name``, JSON Feed's ``content_html`` and an
Elasticsearch export's ``_source`` were not read; ``true`` became the title
"True" and the number 12 the url "12". A page saved from a server's gzip
answer under ``story.html`` was ``decode/undecodable``.
"""
import bz2
import gzip
import io
import json
import lzma
import random

import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import read_file, read_table
from fuzz import json_with_a_damaged_record
from pipeline.cli import run
from transforms import json_document
from transforms.read import line_ranges

BODY = ("The harbour authority said on Monday that ferry services to the islands would resume next week "
        "after the storm damaged two piers. ")


def text(i):
    return BODY.replace("Monday", f"day {i}") * 3


def read(path, max_line=16 << 20):
    return read_file(path, max_line)[:2]


def body(doc):
    return doc["payload"].decode()


def test_an_api_answer_a_pretty_record_and_jq_output_are_read_record_by_record(tmp_path):
    newsapi = {"status": "ok", "totalResults": 3, "articles": [
        {"source": {"id": "bbc-news", "name": "BBC News"}, "author": "A", "title": "One",
         "url": "https://ex.com/1", "publishedAt": "2024-05-01T10:00:00Z", "content": text(1)},
        {"source": {"id": None, "name": "X"}, "title": "No content", "url": "https://ex.com/2"},
        {"source": {"name": "Y"}, "title": "Three", "url": "https://ex.com/3", "content": text(3)}]}
    (tmp_path / "newsapi.json").write_text(json.dumps(newsapi, indent=2))
    docs, rejects = read(tmp_path / "newsapi.json")
    assert [(d["title"], d["url"], d["published"], d["publisher"]) for d in docs] == [
        ("One", "https://ex.com/1", "2024-05-01T10:00:00Z", "BBC News"), ("Three", "https://ex.com/3", None, "Y")]
    assert [body(d) for d in docs] == [text(1), text(3)]
    assert rejects == [("newsapi.json#L3", "parse", "missing_text")]  # the item without text, accounted for

    (tmp_path / "one.json").write_text(json.dumps({"title": "Pretty", "text": text(4)}, indent=4))
    docs, rejects = read(tmp_path / "one.json")
    assert [(d["title"], body(d)) for d in docs] == [("Pretty", text(4))] and rejects == []

    # `jq . records.jsonl > out.json`: pretty objects one after another, also in a .jsonl
    jq = "\n".join(json.dumps({"title": f"jq {i}", "text": text(i)}, indent=2) for i in range(3))
    for name in ("jq.json", "jq.jsonl"):
        (tmp_path / name).write_text(jq)
        docs, rejects = read(tmp_path / name)
        assert [d["title"] for d in docs] == ["jq 0", "jq 1", "jq 2"] and rejects == []


def test_json_feed_elasticsearch_and_field_types(tmp_path):
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "F", "items": [
        {"id": "1", "url": "https://f.ex/1", "title": "JF", "content_html": f"<p>{text(1)}</p>",
         "date_published": "2024-03-01T08:00:00+01:00"}]}
    (tmp_path / "feed.json").write_text(json.dumps(feed))
    docs, rejects = read(tmp_path / "feed.json")
    assert [(d["kind"], d["title"], d["published"]) for d in docs] == [("html", "JF", "2024-03-01T08:00:00+01:00")]

    # elasticdump writes a JSON line a document, its fields in _source; a search answer holds them in hits.hits
    (tmp_path / "es.jsonl").write_text(json.dumps({"_index": "news", "_id": "a", "_source": {
        "title": "ES", "text": text(2), "url": "https://es.ex/a"}}) + "\n")
    (tmp_path / "hits.json").write_text(json.dumps({"took": 3, "hits": {"total": 1, "hits": [
        {"_id": "b", "_source": {"title": "Hit", "body": text(3)}}]}}, indent=1))
    assert [d["title"] for d in read(tmp_path / "es.jsonl")[0]] == ["ES"]
    assert [d["title"] for d in read(tmp_path / "hits.json")[0]] == ["Hit"]

    recs = [{"text": text(5), "title": True, "url": 12, "published": {"$date": "2024-01-02T00:00:00Z"}},
            {"text": text(6), "title": "  Spaced  ", "url": "  https://ex.com/s  ", "source": {"id": 1}}]
    (tmp_path / "types.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    docs, _ = read(tmp_path / "types.jsonl")
    assert [(d["title"], d["url"], d["published"], d["publisher"]) for d in docs] == [
        (None, None, "2024-01-02T00:00:00Z", None), ("Spaced", "https://ex.com/s", None, None)]


def test_a_document_that_stops_being_json_keeps_the_records_before(tmp_path):
    (tmp_path / "cut.json").write_text('[\n {"text": "%s"},\n {"text": "%s' % (text(1), text(2)))
    docs, rejects = read(tmp_path / "cut.json")
    assert [body(d) for d in docs] == [text(1)]
    assert rejects == [("cut.json#L2", "parse", "bad_json")]
    # NaN (Python's json.dumps writes it) and a lone surrogate read as on a line
    (tmp_path / "nan.json").write_text('[\n {"text": "%s", "published": NaN, "title": "s\\ud800"}\n]' % text(3))
    docs, rejects = read(tmp_path / "nan.json")
    assert [d["title"] for d in docs] == ["s\ufffd"] and rejects == []
    # a record larger than the line cap is a reject, and the records after it are read
    (tmp_path / "big.json").write_text(json.dumps([{"text": text(1)}, {"text": "x" * 5000}, {"text": text(2)}]))
    docs, rejects = read(tmp_path / "big.json", max_line=1000)
    assert [body(d) for d in docs] == [text(1), text(2)] and rejects == [("big.json#L2", "read", "too_large")]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10 ** 6), st.sampled_from(["", "é", "\u4e2d", "\\", '"', "\n"])),
                min_size=1, max_size=12),
       st.sampled_from(["array", "jq", "envelope", "nested", "lines"]),
       st.sampled_from([None, 0, 1, 2, "\t"]), st.integers(1, 64))
def test_every_layout_of_the_same_records_reads_the_same(tmp_path_factory, items, layout, indent, chunk):
    """Generated: the same records as JSON lines, an array, pretty objects one
    after another, an API answer and one nested two down, at any indent, read
    through buffers of any size, give the same records in the same order."""
    recs = [{"title": f"t{n}{c}", "text": text(n) + c, "published": n} for n, c in items]
    if layout == "array":
        data = json.dumps(recs, indent=indent)
    elif layout == "jq":
        data = "\n".join(json.dumps(r, indent=indent) for r in recs)
    elif layout == "envelope":
        data = json.dumps({"status": "ok", "n": len(recs), "articles": recs, "next": None}, indent=indent)
    elif layout == "nested":
        data = json.dumps({"response": {"meta": [1, {"a": 2}], "results": recs}}, indent=indent)
    else:
        data = "\n".join(json.dumps(r) for r in recs)
    old = json_document.CHUNK
    json_document.CHUNK = chunk  # values cut at every place a buffer can end
    try:
        got = list(json_document.records(io.BytesIO(data.encode()), "utf-8", 1 << 20,
                                         lambda r: "text" in r))
    finally:
        json_document.CHUNK = old
    assert got == recs


def test_memory_holds_one_record_not_the_document():
    """A document of 20,000 records read through 64 KB chunks: the text held
    never passes a few chunks (json.loads of the whole held it all)."""
    rec = json.dumps({"title": "t", "text": text(1)})
    data = ("[" + ",\n".join([rec] * 20000) + "]").encode()
    held = []

    class Spy(io.BytesIO):
        pass

    stream = Spy(data)
    it = json_document.records(stream, "utf-8", 1 << 20, lambda r: True)
    n = 0
    for n, _ in enumerate(it, 1):
        if n % 1000 == 0:
            held.append(len(it.gi_frame.f_locals["text"].buf))
    assert n == 20000 and len(data) > 8_000_000
    assert max(held) < 4 * json_document.CHUNK


@pytest.mark.parametrize("pack, name", [(gzip.compress, "story.html"), (bz2.compress, "story.html"),
                                        (lzma.compress, "story.htm"),
                                        (zstandard.ZstdCompressor().compress, "story.txt")])
def test_a_file_compressed_under_a_plain_name_is_read(tmp_path, pack, name):
    page = f"<html><head><title>Saved</title></head><body><article><p>{text(1)}</p></article></body></html>"
    (tmp_path / name).write_bytes(pack((page if name.endswith("html") or name.endswith("htm") else text(1))
                                       .encode()))
    docs, rejects = read(tmp_path / name)
    assert len(docs) == 1 and rejects == [] and text(1)[:60].encode() in docs[0]["payload"]


def test_a_compressed_file_under_a_plain_name_cut_short_is_a_truncated_reject(tmp_path):
    (tmp_path / "cut.html").write_bytes(gzip.compress(("<p>" + text(1) + "</p>").encode())[:40])
    assert read(tmp_path / "cut.html") == ([], [("cut.html", "decode", "truncated")])
    lines = b"".join(json.dumps({"text": text(i)}).encode() + b"\n" for i in range(4))
    (tmp_path / "gz.jsonl").write_bytes(gzip.compress(lines))
    docs, rejects = read(tmp_path / "gz.jsonl")
    assert [body(d) for d in docs] == [text(i) for i in range(4)] and rejects == []


def test_big_files_that_are_not_json_lines_are_not_cut_into_ranges(tmp_path):
    recs = [{"title": f"r{i}", "text": text(i)} for i in range(3000)]
    (tmp_path / "pretty.jsonl").write_text(json.dumps(recs, indent=2))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    (tmp_path / "packed.jsonl").write_bytes(gzip.compress((tmp_path / "lines.jsonl").read_bytes(), 1))
    # API answers one a line, as a crawler saves them: the reader and the range planner decide alike
    (tmp_path / "answers.jsonl").write_text("\n".join(json.dumps({"articles": recs[i:i + 100]})
                                                      for i in range(0, 3000, 100)))
    for name in ("pretty.jsonl", "packed.jsonl", "answers.jsonl"):
        assert line_ranges(str(tmp_path / name), 1 << 16) == [(0, None, 1)]
    assert len(line_ranges(str(tmp_path / "lines.jsonl"), 1 << 16)) > 10


def test_end_to_end_the_run_counts_every_record(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    random.seed(7)
    recs = [{"title": f"Story {i}", "text": text(i) + f" {random.random()}"} for i in range(6)]
    (d / "api.json").write_text(json.dumps({"articles": recs[:3] + [{"title": "empty"}]}, indent=2))
    (d / "pretty.json").write_text("\n".join(json.dumps(r, indent=1) for r in recs[3:]))
    (d / "page.html").write_bytes(gzip.compress(
        f"<html><head><title>Gz</title></head><body><p>{text(9)}</p></body></html>".encode()))
    out = tmp_path / "out"
    m = run(["--input", str(d), "--output", str(out), "--no-fetch"], quiet=True)
    arts = read_table(out, "articles")
    rej = read_table(out, "rejects")
    assert sorted(a["title"] for a in arts) == sorted([r["title"] for r in recs] + ["Gz"])
    assert [(r["source"].rsplit("/", 1)[-1], r["stage"], r["reason"]) for r in rej] == [
        ("api.json#L4", "parse", "missing_text")]
    assert m["counts"]["inputs_seen"] == 8 == m["counts"]["articles_written"] + m["counts"]["rejected"]


_JSON = st.recursive(st.none() | st.booleans() | st.integers(-2 ** 70, 2 ** 70) |
                     st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3), max_leaves=8)
_FIELDS = ["title", "headline", "url", "link", "published", "publishedAt", "date", "source", "language", "lang",
           "_source", "html", "content_html"]


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS), _JSON, max_size=6), st.booleans())
def test_any_json_value_in_any_field_is_a_document_or_a_named_reject(tmp_path_factory, fields, pretty):
    """Generated: a record's optional fields hold any JSON value (numbers past
    64 bits, NaN, infinities, booleans, lists, objects, strings of any
    characters): the record is a document with string fields or a reject
    with a reason, never the reader's catch-all ``parse_error``."""
    rec = {"text": text(1), **fields}
    path = tmp_path_factory.mktemp("j") / ("r.json" if pretty else "r.jsonl")
    path.write_text(json.dumps([rec], indent=1) if pretty else json.dumps(rec) + "\n")
    docs, rejects = read(path)
    assert len(docs) + len(rejects) == 1
    assert all(reason != "parse_error" for _, _, reason in rejects), rejects
    for d in docs:
        for key in ("title", "url", "published", "publisher", "declared_language"):
            assert d[key] is None or (isinstance(d[key], str) and d[key].strip() == d[key] and d[key])


def test_authors_and_summaries_as_other_tools_write_them(tmp_path):
    """news-please and fundus write `authors` lists, JSON Feed objects with a
    `name`, NewsAPI an `author` string and a `description`: the author and
    description columns hold them (before: empty), people only."""
    body = "The city council approved the new budget on Monday after a long debate over school funding. " * 4
    recs = [
        {"maintext": body, "authors": ["Jane Doe", "John Smith"], "description": "The council approved it."},
        {"content_text": body.replace("council", "board"), "authors": [{"name": "Ann Lee"}], "summary": "A summary."},
        {"text": body.replace("council", "court"), "author": "By Kim Park, Staff Writer", "excerpt": "An excerpt."},
        {"text": body.replace("council", "senate"), "author": "Example News", "source": {"name": "Example News"}},
        {"text": body.replace("council", "cabinet"), "authors": [], "byline": ["Bo Chen"]},
    ]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = str(tmp_path / "out")
    run(["--input", str(path), "--output", out], quiet=True)
    got = {int(r["source"].rsplit("#L", 1)[1]): (r["author"], r["description"]) for r in read_table(out, "articles")}
    assert got == {1: ("Jane Doe; John Smith", "The council approved it."), 2: ("Ann Lee", "A summary."),
                   3: ("Kim Park", "An excerpt."), 4: (None, None), 5: ("Bo Chen", None)}


def test_a_body_given_as_paragraphs_is_the_text(tmp_path):
    """fundus writes `body` as {"summary": [...], "sections": [{"headline":
    [...], "paragraphs": [...]}]}, other exports a list of paragraphs or of
    {"type": "paragraph", "text": ...} blocks: before, a missing_text reject.
    A list of objects with their own URLs is records, not a body."""
    p1 = "The city council approved the new budget on Monday after a long debate over school funding."
    p2 = "The mayor welcomed the decision and promised that the money would be spent carefully."
    recs = [{"title": "A", "body": {"summary": [p1], "sections": [{"headline": ["Next"], "paragraphs": [p2]}]}},
            {"title": "B", "content": [p1.replace("council", "board"), p2]},
            {"title": "C", "content": [{"type": "paragraph", "text": p1.replace("council", "court")},
                                       {"type": "paragraph", "text": p2}]},
            {"title": "D", "content": [{"url": "https://ex.com/1", "text": p1}]}]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    out = str(tmp_path / "out")
    run(["--input", str(path), "--output", out], quiet=True)
    texts = {r["title"]: r["text"] for r in read_table(out, "articles")}
    assert texts == {"A": f"{p1}\nNext\n{p2}", "B": f"{p1.replace('council', 'board')}\n{p2}",
                     "C": f"{p1.replace('council', 'court')}\n{p2}"}
    assert [r["reason"] for r in read_table(out, "rejects")] == ["missing_text"]


def test_a_broken_record_in_an_array_is_one_reject_and_the_records_after_it_are_read(tmp_path):
    """Before, the first record that was not JSON ended the file: the
    records after it were one line of the reject ("not read past")."""
    recs = [{"title": f"t{i}", "text": text(i)} for i in range(5)]
    data = json.dumps(recs, indent=2)
    at = data.index('"t2"')
    (tmp_path / "broken.json").write_text(data[:at] + data[at + 1:])  # a quote lost
    docs, rejects = read(tmp_path / "broken.json")
    assert [d["title"] for d in docs] == ["t0", "t1", "t3", "t4"]
    assert rejects == [("broken.json#L3", "parse", "bad_json")]
    # a comma left out between two records costs nothing; documents one after another and an API's
    # answer go on the same way
    (tmp_path / "comma.json").write_text(data.replace("},\n  {", "}\n  {", 1))
    assert [d["title"] for d in read(tmp_path / "comma.json")[0]] == [f"t{i}" for i in range(5)]
    jq = "\n".join(json.dumps(r, indent=2) for r in recs)
    (tmp_path / "jq.json").write_text(jq.replace('"t1"', 't1"'))
    docs, rejects = read(tmp_path / "jq.json")
    assert [d["title"] for d in docs] == ["t0", "t2", "t3", "t4"] and rejects == [("jq.json#L2", "parse", "bad_json")]
    # a stray "[" before a record: the list it opens holds the records after it, up to the array's "]"
    (tmp_path / "bracket.json").write_text(data.replace('  {\n    "title": "t2"', '  [{\n    "title": "t2"'))
    docs, rejects = read(tmp_path / "bracket.json")
    assert [d["title"] for d in docs] == [f"t{i}" for i in range(5)] and rejects == [("bracket.json#L6", "parse",
                                                                                     "bad_json")]
    answer = json.dumps({"status": "ok", "articles": recs}, indent=1)
    (tmp_path / "api.json").write_text(answer.replace('"t3"', '"t3" @'))
    docs, rejects = read(tmp_path / "api.json")
    assert [d["title"] for d in docs] == ["t0", "t1", "t2", "t4"] and rejects == [("api.json#L4", "parse", "bad_json")]


@settings(derandomize=True, max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(2, 8), st.sampled_from(["array", "jq", "envelope", "nested"]),
       st.sampled_from([None, 1, 2]), st.sampled_from([7, 64, 1 << 16]))
def test_one_damaged_record_costs_no_other_record(tmp_path_factory, rnd, n, layout, indent, chunk):
    """Generated: records in every layout a JSON document takes, one record
    damaged at one place (a character dropped, a quote, a brace or junk
    added), read through buffers of any size. Every other record is read
    as written."""
    recs = [{"title": f"t{i}", "url": f"https://ex.org/{i}", "text": text(i) + rnd.choice(["", '"q"', "{x}", "\\"])}
            for i in range(n)]
    data, hit = json_with_a_damaged_record(rnd, recs, layout, indent)
    old = json_document.CHUNK
    json_document.CHUNK = chunk
    got = []
    try:
        for rec in json_document.records(io.BytesIO(data.encode()), "utf-8", 1 << 20, lambda r: "text" in r):
            got.append(rec)
    except ValueError:
        pass  # where nothing is left to go on at; the records after the damage are still required below
    finally:
        json_document.CHUNK = old
    want = [r for i, r in enumerate(recs) if i != hit]
    assert [r for r in got if r in want] == want


_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(_JSON, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32-be"]))
def test_generated_json_reads_as_the_standard_library_reads_it(value, encoding):
    """``json_document.loads`` is ``json.loads`` (bytes in any of JSON's encodings) for every value it reads."""
    data = json.dumps(value).encode(encoding)
    assert json_document.loads(data) == json.loads(data)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 20_000), st.sampled_from(["jsonl", "json"]))
def test_a_record_with_an_integer_of_any_length_is_read(tmp_path_factory, digits, layout):
    """An integer of more digits than Python converts (4,300) made the standard
    library raise ValueError, and the whole record was a ``bad_json`` reject
    (a JSON line with a 200,000-digit counter beside its text): the number
    stays its digits, and the record is read."""
    number = "7" * digits
    record = '{"text": "The council approved the budget on Tuesday.", "views": %s}' % number
    path = tmp_path_factory.mktemp("big") / f"a.{layout}"
    path.write_text(record + "\n" if layout == "jsonl" else "[\n" + record + "\n]\n")
    docs, rejects, _ = read_file(path)
    assert (len(docs), rejects) == (1, [])
    assert json_document.loads(record)["views"] == (int(number) if digits <= 4300 else number)
