"""One big JSON-lines file read as byte ranges: every line read once, under
the number a reading from the top gives it, whatever the cut points."""
import json
import os

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import beam_test_pipeline, read_in_ranges
from hostile import ARTICLE_EN
from transforms.read import ReadDocuments, line_ranges


LINE = st.one_of(
    st.builds(lambda n, t: json.dumps({"text": f"{t} {ARTICLE_EN[:n]}", "url": f"https://example.com/{t}"}),
              st.integers(20, 400), st.text("abcxyz", min_size=1, max_size=8)),
    st.just(""), st.just("   "), st.just("{not json"), st.just('"a string"'), st.just("x" * 500))


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(LINE, max_size=40), split=st.integers(1, 3000), newline_at_end=st.booleans())
def test_ranges_read_every_line_once_with_its_own_number(tmp_path, lines, split, newline_at_end):
    path = os.path.join(tmp_path, "big.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + ("\n" if newline_at_end and lines else ""))
    whole = read_in_ranges(path, split=0)
    ranged = read_in_ranges(path, split=split)
    # blank ranges are noted as no_documents; everything else is the same, once each
    assert sorted(o for o in ranged if o[2] != "no_documents") == sorted(o for o in whole if o[2] != "no_documents")
    size = os.path.getsize(path)
    if size > split:
        ranges = line_ranges(path, split)
        assert ranges[0][:1] == (0,) and ranges[-1][1] is None
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))  # contiguous
        data = open(path, "rb").read()
        for start, _, first_line in ranges:
            assert start == 0 or data[start - 1:start] == b"\n"
            assert first_line == data[:start].count(b"\n") + 1


def test_a_big_file_is_read_in_ranges_through_the_pipeline(tmp_path):
    path = tmp_path / "day.jsonl"
    recs = [{"text": f"Story {i}. " + ARTICLE_EN, "url": f"https://example.com/{i}"} for i in range(60)]
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n", encoding="utf-8")
    assert len(line_ranges(str(path), 2000)) > 10
    with beam_test_pipeline() as p:
        res = p | ReadDocuments([str(path)], split_bytes=2000)
        got = res["docs"] | beam.Map(lambda d: (os.path.basename(d["source"]), d["url"]))
        assert_that(got, equal_to([(f"day.jsonl#L{i + 1}", f"https://example.com/{i}") for i in range(60)]))
        assert_that(res["rejects"], equal_to([]), label="no rejects")


def _warc_file(tmp_path, name, n=30, gz=True):
    from hostile import _warc, page

    records = [(f"https://example.com/{i}", page(f"Story {i}. " + ARTICLE_EN * (1 + i % 4)).encode(),
                "text/html; charset=utf-8") for i in range(n)]
    path = os.path.join(tmp_path, name)
    with open(path, "wb") as f:
        f.write(_warc(records, gzip=gz))
    return path


def test_a_big_warc_is_read_in_runs_of_whole_records(tmp_path):
    from transforms.read import warc_ranges

    for gz, name in ((True, "crawl.warc.gz"), (False, "crawl.warc")):
        path = _warc_file(tmp_path, name, gz=gz)
        ranges = warc_ranges(path, 3000)
        # the last run reads to the end (None): the records before it, and its first, make up the 61
        assert len(ranges) > 5 and ranges[0][0] == 0 and ranges[-1][1] is None
        assert all(n > 0 for _, n, _ in ranges[:-1]) and ranges[-1][2] <= 61  # warcinfo + 2 x 30
        assert [first for _, _, first in ranges] == [1] + [sum(n for _, n, _ in ranges[:i]) + 1
                                                           for i in range(1, len(ranges))]
        whole, ranged = read_in_ranges(path, split=0), read_in_ranges(path, split=3000)
        docs = [o for o in ranged if o[0] == "docs"]
        assert len(docs) == 30
        assert sorted(o for o in ranged if o[2] != "no_documents") == sorted(whole)


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, 10**6), flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=3),
       gz=st.booleans())
def test_a_broken_warc_gives_the_same_rows_split_or_whole(tmp_path, cut, flips, gz):
    """Truncated or garbled WARCs: whatever warcio makes of them, reading in
    ranges gives the rows one reading gives (a WARC warcio cannot frame to
    its end is read whole)."""
    path = _warc_file(tmp_path, "broken.warc.gz" if gz else "broken.warc", n=12, gz=gz)
    data = bytearray(open(path, "rb").read())
    for at, byte in flips:
        data[at % len(data)] = byte
    data = data[:max(1, len(data) - cut % len(data))] if cut % 3 == 0 else data
    with open(path, "wb") as f:
        f.write(bytes(data))
    whole, ranged = read_in_ranges(path, split=0), read_in_ranges(path, split=2000)
    assert sorted(o for o in ranged if o[2] != "no_documents") == sorted(o for o in whole if o[2] != "no_documents")


def test_several_local_workers_are_dealt_smaller_ranges_and_one_keeps_the_larger():
    """The range size is chosen where the pipeline is assembled (``assemble._split_bytes``):
    SPLIT_BYTES on one worker and on cluster runners, a quarter of it on several
    local worker processes; the rows are the same either way (the test above)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.assemble import _split_bytes, _strides
    from transforms.read import SPLIT_BYTES

    two = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    assert _split_bytes(PipelineOptions([])) == SPLIT_BYTES
    assert _split_bytes(PipelineOptions(["--direct_running_mode=multi_processing", "--direct_num_workers=1"])) == SPLIT_BYTES
    assert _split_bytes(PipelineOptions(two)) == SPLIT_BYTES // 4
    assert _split_bytes(PipelineOptions(two + ["--runner=DataflowRunner"])) == SPLIT_BYTES
    # and how many workers share a big file read whole: the local workers, or a cluster's --num_workers
    assert _strides(PipelineOptions([])) == 1 and _strides(PipelineOptions(two)) == 2
    assert _strides(PipelineOptions(["--runner=DataflowRunner"])) == 1
    assert _strides(PipelineOptions(["--runner=DataflowRunner", "--num_workers=8"])) == 8


def _damaged_warc(tmp_path, name, damage, gz):
    """30 pages in a WARC of two halves with ``damage`` between them: bytes
    (put in whole) or "cut" (the first half's last gzip member cut short)."""
    from hostile import _warc, page

    records = [(f"https://example.com/{i}", page(f"Story {i}. " + ARTICLE_EN * (1 + i % 4)).encode(),
                "text/html; charset=utf-8") for i in range(30)]
    first, second = _warc(records[:15], gzip=gz), _warc(records[15:], gzip=gz)
    if damage == "cut":
        first = first[:-40]  # the last record of the first half (its request) loses its end
        damage = b""
    path = os.path.join(tmp_path, name)
    with open(path, "wb") as f:
        f.write(first + damage + second)
    return path


@pytest.mark.parametrize("gz,damage", [(True, b"\x00garbage" * 40), (True, "cut"),
                                       (True, b"\x1f\x8b\x08\x00" + b"not deflate" * 20),
                                       (False, b"this is no WARC record\r\n" * 3),
                                       (False, b"WARC/0.9 garbled\r\n\r\n")])
def test_reading_goes_on_after_a_damaged_stretch_of_a_warc(tmp_path, gz, damage):
    """A garbled gzip member, one cut short, or bytes between two records of a
    plain WARC: one reject for the stretch, and every page after it still an
    article (until now the rest of the file was one reject). Read in runs of
    records, the same rows."""
    path = _damaged_warc(tmp_path, "damaged.warc.gz" if gz else "damaged.warc", damage, gz)
    whole = read_in_ranges(path, split=0)
    urls = sorted(int(o[1].rsplit("#", 1)[1]) for o in whole if o[0] == "docs")
    assert len(urls) == 30, whole
    stretch = [o[2] for o in whole if o[0] == "rejects"]  # the stretch (a cut record may be one of its own)
    assert stretch in (["parse_error"], ["parse_error"] * 2) if damage == "cut" else stretch == ["parse_error"], whole
    ranged = read_in_ranges(path, split=3000)
    assert len({o[1] for o in ranged if o[0] == "docs"}) == 30
    assert sorted(o for o in ranged if o[2] != "no_documents") == sorted(whole)


@pytest.mark.parametrize("gz", [False, True])
def test_reading_goes_on_after_a_damaged_stretch_of_an_arc(tmp_path, gz):
    """ARC files (the Internet Archive's and early Common Crawl's format,
    read as WARC) go on the same way past a garbled stretch, at the next line
    that opens as an ARC record's (or the next gzip member that inflates to
    one): every page but none lost, one reject, the same read in runs."""
    import gzip
    import random

    from fuzz import _arc_record, article_page

    rnd = random.Random(3)
    version = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    recs = [_arc_record("filedesc://test.arc 0.0.0.0 20040101000000 text/plain", version)]
    for i in range(30):
        body = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + article_page(rnd).encode()
        recs.append(_arc_record(f"http://example.com/{i} 1.2.3.4 20040101120000 text/html", body))
    parts = [gzip.compress(r, mtime=0) for r in recs] if gz else recs
    path = os.path.join(tmp_path, "damaged.arc.gz" if gz else "damaged.arc")
    with open(path, "wb") as f:
        f.write(b"".join(parts[:15]) + b"\x00 no record here\n" * 20 + b"".join(parts[15:]))
    whole = read_in_ranges(path, split=0)
    assert sum(o[0] == "docs" for o in whole) == 30
    assert [o[2] for o in whole if o[0] == "rejects"] == ["parse_error"]
    ranged = read_in_ranges(path, split=3000)
    assert sorted(o for o in ranged if o[2] != "no_documents") == sorted(whole)


@pytest.mark.parametrize("line", [b"WARC/1.0\r\nWARC-Type: response\r\n",
                                  b"http://example.com/a 1.2.3.4 20040101120000 text/html 512\n"])
def test_the_next_record_is_found_wherever_the_blocks_cut_it(line):
    """The search for the next record after a damaged stretch reads the file
    a block at a time: a record's first line cut by a block's end is found
    all the same, at its own offset, and junk that only looks like one
    (not at a line's start) is passed over. (With blocks of 64 bytes, which
    overlap by 32, the ARC line here was missed: the overlap is what lets a
    line cut by a block's end be found.)"""
    import io

    from transforms.read import next_warc_record

    for k in range(0, 300, 7):
        data = b"x" * k + b"WARC/1.0 not at a line start " + b"\n" + line + b"more"
        at = k + len(b"WARC/1.0 not at a line start ") + 1
        for block in (128, 200, 1 << 20):  # blocks overlap by half a block, up to 1 KB: a line of up to that
            assert next_warc_record(io.BytesIO(data), 0, False, block=block) == at, (k, block)
