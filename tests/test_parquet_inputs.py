"""Parquet files: a row a record, named by the columns.

Before: every ``.parquet`` was one ``read/unsupported_format`` reject,
however many articles it held (news datasets on Hugging Face, CC-News,
exports from Spark, pandas, Polars or DuckDB, and newsbeam's own output
ship so).
"""
import datetime as dt
import gzip
import io
import random
import struct
import sys
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import read_file, read_in_ranges, read_table
from test_csv_inputs import TEXTS  # four distinct short news texts
from pipeline.cli import run
from transforms import parquet_records
from transforms.read import _ReadFileFn

LATIN1_PAGE = ("<html><head><meta charset='iso-8859-1'><title>Caf\xe9</title></head><body><article><p>"
               "Le caf\xe9 du port a rouvert ses portes apr\xe8s deux ans de travaux, ont annonc\xe9 les "
               "propri\xe9taires.</p></article></body></html>").encode("latin-1")


def read(path, max_line=16 << 20, max_unzip=1 << 30):
    return read_file(path, max_line, max_unzip)[:2]


def table(n=4, **extra):
    return pa.table({"title": [f"Story {i}" for i in range(n)], "text": [TEXTS[i % 4] for i in range(n)],
                     "url": [f"https://ex.org/{i}" for i in range(n)], **extra})


def test_a_news_dataset_in_parquet_is_read_row_by_row(tmp_path):
    """Columns as datasets hold them: a timestamp in nanoseconds with a time
    zone (Python's datetime holds microseconds: pyarrow refuses to convert
    it), a page kept as bytes in its own charset, an image's bytes, a list
    of tags, NewsAPI's ``source`` object; names in any case; three row groups."""
    published = pa.array([1714557600_123456789 + i * 86400 * 10**9 for i in range(5)], pa.timestamp("ns", tz="UTC"))
    t = pa.table({"Title": [f"Story {i}" for i in range(5)],
                  "text": TEXTS + [None],
                  "html": pa.array([None] * 4 + [LATIN1_PAGE]),
                  "image": pa.array([b"\x89PNG\r\n\x1a\n\x00\x00"] * 5),
                  "publishedAt": published,
                  "tags": [["fire"], ["tram", "vote"], [], None, ["caf\xe9"]],
                  "source": [{"id": None, "name": "Example News"}] * 5})
    pq.write_table(t, tmp_path / "news.parquet", row_group_size=2)
    docs, rejects = read(tmp_path / "news.parquet")
    assert rejects == []
    assert [(d["source"].rsplit("/", 1)[-1], d["source_format"], d["kind"], d["title"], d["publisher"])
            for d in docs] == [(f"news.parquet#L{i + 1}", "parquet", "text" if i < 4 else "html", f"Story {i}",
                                "Example News") for i in range(5)]
    assert [d["published"] for d in docs] == [f"2024-05-{i + 1:02d}T10:00:00.123456+00:00" for i in range(5)]
    assert [d["payload"].decode() for d in docs[:4]] == TEXTS
    assert "Le café du port a rouvert" in docs[4]["payload"].decode()


def test_dates_times_and_values_json_does_not_hold(tmp_path):
    """A date column, a timestamp in seconds past datetime's range (pyarrow's
    own text), decimals and a struct holding a timestamp: every row read."""
    t = table(3, date=pa.array([dt.date(2024, 5, 1), None, dt.date(1999, 12, 31)]),
              price=pa.array([1, 2, 3], pa.decimal128(5, 2)),
              meta=[{"at": dt.datetime(2024, 5, 1, 8, 30)}, None, {"at": None}])
    pq.write_table(t, tmp_path / "a.parquet")
    docs, rejects = read(tmp_path / "a.parquet")
    assert rejects == [] and [d["published"] for d in docs] == ["2024-05-01", None, "1999-12-31"]
    far = table(2, published=pa.array([10**14, 1714557600], pa.timestamp("s")))
    pq.write_table(far, tmp_path / "far.parquet")
    docs, rejects = read(tmp_path / "far.parquet")
    assert rejects == [] and len(docs) == 2 and docs[1]["published"] == "2024-05-01T10:00:00"


def test_sparks_int96_timestamps_keep_their_dates(tmp_path):
    """Spark writes timestamps as INT96; read in pyarrow's default
    nanoseconds, one out of their range wrapped around into another date."""
    t = table(2, published=pa.array([dt.datetime(2024, 5, 1, 10), dt.datetime(1, 1, 1)], pa.timestamp("us")))
    pq.write_table(t, tmp_path / "spark.parquet", use_deprecated_int96_timestamps=True, flavor="spark")
    docs, rejects = read(tmp_path / "spark.parquet")
    assert rejects == [] and [d["published"] for d in docs] == ["2024-05-01T10:00:00", "0001-01-01T00:00:00"]


def test_newsbeams_own_articles_are_read_back(tmp_path):
    """An earlier run's output as input: ``text``, ``title``, ``url``,
    ``published_at`` are read as a record's fields."""
    out = tmp_path / "out"
    run(["--output", str(out)], quiet=True)
    first = sorted(read_table(out, "articles"), key=lambda a: a["text"])
    docs = []
    for shard in sorted((out / "articles").rglob("*.parquet")):
        got, rejects = read(shard)
        assert rejects == []
        docs += got
    assert sorted(((d["title"], d["payload"].decode(), d["url"], d["published"]) for d in docs),
                  key=lambda row: row[1]) == [
        (a["title"], a["text"], a["url"], a["published_at"] and a["published_at"].isoformat()) for a in first]


def test_a_damaged_row_group_costs_only_its_rows(tmp_path):
    """Page checksums (parquet-mr and Spark write them) are checked: bytes
    flipped in the second row group's text pages are one ``bad_parquet``
    reject for its rows, not texts whose bytes changed; the row groups
    before and after it are read as written."""
    t = table(6)
    pq.write_table(t, tmp_path / "ok.parquet", row_group_size=2, compression="none", write_page_checksum=True,
                   use_dictionary=False)
    data = bytearray((tmp_path / "ok.parquet").read_bytes())
    column = pq.ParquetFile(tmp_path / "ok.parquet").metadata.row_group(1).column(1)  # the text of rows 3-4
    middle = column.data_page_offset + column.total_compressed_size // 2
    data[middle:middle + 8] = b"\x00" * 8
    (tmp_path / "damaged.parquet").write_bytes(bytes(data))
    docs, rejects = read(tmp_path / "damaged.parquet")
    assert [d["title"] for d in docs] == ["Story 0", "Story 1", "Story 4", "Story 5"]
    assert [d["payload"].decode() for d in docs] == [TEXTS[0], TEXTS[1], TEXTS[0], TEXTS[1]]
    assert rejects == [("damaged.parquet#rows=3-4", "decode", "bad_parquet")]


def test_a_cut_file_junk_and_an_empty_file_are_one_reject_each(tmp_path):
    pq.write_table(table(), tmp_path / "ok.parquet")
    data = (tmp_path / "ok.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.parquet").write_bytes(bytes(random.Random(1).getrandbits(8) for _ in range(5000)))
    (tmp_path / "empty.parquet").write_bytes(b"")
    assert read(tmp_path / "cut.parquet") == ([], [("cut.parquet", "decode", "truncated")])
    assert read(tmp_path / "junk.parquet") == ([], [("junk.parquet", "parse", "bad_parquet")])
    assert read(tmp_path / "empty.parquet") == ([], [("empty.parquet", "parse", "bad_parquet")])


def test_parquet_compressed_in_an_archive_and_without_an_extension(tmp_path):
    """Spark's part files have no extension (known by their first bytes); a
    Parquet file gzip-compressed or in a zip is read from memory."""
    buf = io.BytesIO()
    pq.write_table(table(), buf)
    data = buf.getvalue()
    (tmp_path / "part-00000-1b2c").write_bytes(data)
    (tmp_path / "rows.parquet.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(tmp_path / "set.zip", "w") as z:
        z.writestr("data/train.parquet", data)
        z.writestr("data/part-00001", data)
    for name, sources in [("part-00000-1b2c", "part-00000-1b2c#L"), ("rows.parquet.gz", "rows.parquet.gz#L")]:
        docs, rejects = read(tmp_path / name)
        assert rejects == [] and [d["source"].rsplit("/", 1)[-1] for d in docs] == [f"{sources}{i}" for i in range(1, 5)]
    docs, rejects = read(tmp_path / "set.zip")
    assert rejects == [] and len(docs) == 8
    assert {d["source"].split("set.zip/", 1)[1].split("#")[0] for d in docs} == {"data/train.parquet", "data/part-00001"}
    # over the cap, a compressed Parquet file is one reject: it would be held whole
    assert read(tmp_path / "rows.parquet.gz", max_unzip=1000) == (
        [], [("rows.parquet.gz", "read", "decompressed_too_large")])


def test_a_row_over_the_cap_is_a_reject_and_the_rows_beside_it_are_read(tmp_path):
    """Its cell is measured by pyarrow and not made a Python string (a 300 MB
    cell, 10 KB compressed, had peaked the reader at 1,353 MB)."""
    t = pa.table({"title": ["a", "b", "c", "d"], "text": [TEXTS[0], "x" * 5000, TEXTS[1], TEXTS[2]]})
    pq.write_table(t, tmp_path / "a.parquet", row_group_size=3)
    docs, rejects = read(tmp_path / "a.parquet", max_line=1000)
    assert [d["title"] for d in docs] == ["a", "c", "d"] and rejects == [("a.parquet#L2", "read", "too_large")]


def test_a_parquet_bomb_is_read_to_the_cap_and_every_stride_stops_at_the_same_row(tmp_path):
    """A dictionary page holds a long string once and every row points at
    it: 35 KB of Parquet held 2 GB of text in 200,000 rows, and all of it
    was read (a run of over a quarter of an hour), where a compressed file
    of JSON lines stops at ``--max-decompressed-bytes``. The rows' text now
    counts against that cap (or 100 times the file's size, if more): the
    rows within it are read, the rest of the file is one reject, and
    workers sharing the file by strides stop at the same row."""
    from transforms.read import BOMB_RATIO

    n, body = 3000, " ".join([TEXTS[0]] * 20)
    pq.write_table(pa.table({"title": [f"Story {i}" for i in range(n)], "text": [body] * n}),
                   tmp_path / "a.parquet", row_group_size=700, compression="zstd")
    size = (tmp_path / "a.parquet").stat().st_size
    cap = 1 << 20
    budget = max(cap, BOMB_RATIO * size)
    assert BOMB_RATIO * size < n * len(body) / 4  # a bomb: its text is hundreds of times its size
    spent, kept = 0, 0
    for i in range(n):
        spent += len(f"Story {i}") + len(body.encode())
        if spent > budget:
            break
        kept += 1
    whole = read_in_ranges(str(tmp_path / "a.parquet"), 0, max_line_bytes=16 << 20, max_unzip=cap)
    assert [s.rsplit("#", 1)[1] for t, s, _ in whole if t == "docs"] == [f"L{i + 1}" for i in range(kept)]
    assert [(s.rsplit("/", 1)[-1], r) for t, s, r in whole if t == "rejects"] == [
        (f"a.parquet#rows={kept + 1}-{n}", "decompressed_too_large")]
    for strides in (2, 3):
        assert sorted(read_in_ranges(str(tmp_path / "a.parquet"), 100, max_line_bytes=16 << 20, strides=strides,
                                     max_unzip=cap)) == sorted(whole)
    # a file whose text is within the cap, or within 100 times its size, is read whole
    assert len(read_in_ranges(str(tmp_path / "a.parquet"), 0, max_line_bytes=16 << 20, max_unzip=n * 5000)) == n


@settings(max_examples=12, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 100), st.integers(10_000, 80_000)), min_size=3, max_size=40),
       st.integers(1, 30), st.integers(0, 150_000), st.sampled_from(["zstd", "gzip", "none"]), st.integers(2, 3))
def test_generated_parquet_files_stop_at_their_budget_alike_on_every_stride(tmp_path_factory, sizes, group, cap,
                                                                           codec, strides):
    """Generated: rows of any text sizes in row groups of any size, under any
    cap: the rows read are exactly those whose text, added up in file order,
    stays within ``max(cap, 100 x the file's size)``; the rest is one reject;
    and workers sharing the file by strides give the same rows between them."""
    from transforms.read import BOMB_RATIO

    path = tmp_path_factory.mktemp("budget") / "a.parquet"
    texts = [("w" * n) if i % 2 else ("word " * (n // 5 + 1))[:n] for i, n in enumerate(sizes)]
    pq.write_table(pa.table({"text": texts}), path, row_group_size=group, compression=codec)
    budget = max(cap, BOMB_RATIO * path.stat().st_size)
    spent, kept = 0, 0
    for n in sizes:
        spent += n
        if spent > budget:
            break
        kept += 1
    whole = read_in_ranges(str(path), 0, max_line_bytes=16 << 20, max_unzip=cap)
    rows = [s.rsplit("#", 1)[1] for t, s, _ in whole if t != "rejects"]
    over = [(s.rsplit("#", 1)[1], r) for t, s, r in whole if t == "rejects" and r == "decompressed_too_large"]
    # an empty text is no article (a reject of its own): rows are counted by their numbers
    numbered = sorted([int(x[1:]) for x in rows] + [int(s.rsplit("#L", 1)[1]) for t, s, r in whole
                                                     if t == "rejects" and r != "decompressed_too_large"])
    assert numbered == list(range(1, kept + 1))
    first = kept + 1
    assert over == ([] if kept == len(sizes) else
                    [(f"L{first}" if first == len(sizes) else f"rows={first}-{len(sizes)}", "decompressed_too_large")])
    assert sorted(read_in_ranges(str(path), 100, max_line_bytes=16 << 20, strides=strides, max_unzip=cap)) == \
        sorted(whole)


class _AbortingChild(parquet_records.ChildReader):
    """A child that aborts (as pyarrow's C++ does on some damaged files) when
    it reaches row group 1's second batch, or waits there, or spins, or runs
    out of memory (a cell of 900 MB, 30 KB compressed, did in a 2 GB child)."""

    ACTS = {"abort": "os.abort()", "hang": "time.sleep(60)", "spin": "while True: pass",
            "memory": "raise MemoryError('malloc of size 943718400 failed')"}

    def __init__(self, how, **kw):
        super().__init__(**kw)
        self.how = how

    def command(self):
        code = ("import os, time, sys; from transforms import parquet_records as p\n"
                "real = p._records\n"
                "def records(batch, *args):\n"
                "    if batch.num_rows and batch.column(0)[0].as_py() == 'Story 656':\n"
                f"        {self.ACTS[self.how]}\n"
                "    return real(batch, *args)\n"
                "p._records = records\n"
                f"p._main({self.memory_mb}, {self.cpu_seconds})\n")
        return [sys.executable, "-c", code]


@pytest.mark.parametrize("how", ["abort", "hang", "spin", "memory"])
def test_a_row_group_that_ends_or_stalls_the_reader_costs_only_its_unread_rows(tmp_path, monkeypatch, how):
    """pyarrow aborts its process on some damaged files (``terminate called
    after throwing an instance of 'parquet::ParquetException'``: found by
    generated files). The child reads first: rows it read before it died
    are read, the rest of that row group is one reject, a new child reads
    on; the run's own process decodes nothing (it once decoded the batch
    where the child died, and a 900 MB cell peaked it at 2,860 MB)."""
    n = 1000  # row groups of 400, read in batches of 256: the child dies at the second batch of the second
    t = pa.table({"title": [f"Story {i}" for i in range(n)], "text": [TEXTS[i % 4] + f" {i}" for i in range(n)]})
    pq.write_table(t, tmp_path / "a.parquet", row_group_size=400)
    fn = _ReadFileFn(16 << 20, 1 << 30, 16 << 20)
    # processor time is what ends a child that spins (the same on a busy machine); the clock, one that waits
    fn._child = _AbortingChild(how, timeout=8.0 if how == "hang" else 60.0, cpu_seconds=2)
    decoded, real = [], parquet_records._records

    def records(batch, *args):  # the batches this process decodes, by their first title
        decoded.append(batch.column(0)[0].as_py())
        return real(batch, *args)

    monkeypatch.setattr(parquet_records, "_records", records)
    try:
        outs = list(fn.process((str(tmp_path / "a.parquet"), (tmp_path / "a.parquet").stat().st_size)))
    finally:
        fn.teardown()
    docs = [o for o in outs if not hasattr(o, "tag")]
    rejects = [o.value for o in outs if hasattr(o, "tag")]
    # group 1 holds rows 401-800; its first batch (rows 401-656) was read by the child before it died
    assert [d["title"] for d in docs] == [f"Story {i}" for i in list(range(656)) + list(range(800, 1000))]
    # what the child could not hold is too large to read; what ended it otherwise, damaged
    assert [(r["source"].rsplit("/", 1)[-1], r["reason"]) for r in rejects] == [
        ("a.parquet#rows=657-800", "too_large" if how == "memory" else "bad_parquet")]
    assert {"abort": "exit code -6", "hang": "longer than 8 s", "spin": "more than 2 s of processor time",
            "memory": "MemoryError"}[how] in rejects[0]["error"]
    assert decoded == []  # the child hands on records: this process decodes no page


def test_a_big_parquet_file_is_shared_by_strides_row_by_row(tmp_path):
    t = table(40)
    pq.write_table(t, tmp_path / "a.parquet", row_group_size=7)
    whole = read_in_ranges(str(tmp_path / "a.parquet"), 0)
    assert len(whole) == 40
    assert sorted(read_in_ranges(str(tmp_path / "a.parquet"), 100, strides=3)) == sorted(whole)


def test_a_value_that_does_not_convert_stops_every_stride_at_the_same_row(tmp_path):
    """A string cell that is not UTF-8 (a damaged page without checksums)
    makes its batch fail to convert. Every worker sharing the file by
    strides must stop at the same row as one reading does: converted one
    worker's rows at a time, the cell was in one worker's rows only, the
    others gave rows 2 and 4, and the reject covered them too."""
    texts = [f"{TEXTS[i % 4]} {i}".encode() for i in range(6)]
    texts[2] = texts[2][:20] + b"\xe5" + texts[2][21:]  # row 3
    offsets = [0]
    for v in texts:
        offsets.append(offsets[-1] + len(v))
    column = pa.Array.from_buffers(pa.string(), 6, [None, pa.py_buffer(struct.pack("<7i", *offsets)),
                                                    pa.py_buffer(b"".join(texts))])
    pq.write_table(pa.table({"title": [f"Story {i}" for i in range(6)], "text": column}), tmp_path / "a.parquet",
                   row_group_size=3)
    whole = read_in_ranges(str(tmp_path / "a.parquet"), 0)
    assert [(s.rsplit("/", 1)[-1], r if t == "rejects" else "doc") for t, s, r in whole] == [
        ("a.parquet#rows=1-3", "bad_parquet"), ("a.parquet#L4", "doc"), ("a.parquet#L5", "doc"),
        ("a.parquet#L6", "doc")]
    for strides in (2, 3):
        assert sorted(read_in_ranges(str(tmp_path / "a.parquet"), 100, strides=strides)) == sorted(whole)


def test_a_row_group_damaged_past_its_first_batch_is_read_alike_by_every_stride(tmp_path):
    """A row group of 600 rows read in batches of 256, a value's length in
    its second batch damaged (pages decode lazily): one reading gives rows 1-256 and
    one reject for the rest; workers sharing the file by strides give the
    same between them. Found by ``benchmarks/fuzz.py --big``: a worker whose
    first batch ended on another worker's row counted that row again when
    the next batch did not decode, and a run stopped on the reader's check
    ("a record of this worker's share was passed over")."""
    n = 600
    texts = [f"{TEXTS[i % 4]} Row {i:04d}." for i in range(n)]
    pq.write_table(pa.table({"title": [f"Story {i}" for i in range(n)], "text": texts}), tmp_path / "a.parquet",
                   row_group_size=n, compression="none", use_dictionary=False, data_page_size=4096)
    data = bytearray((tmp_path / "a.parquet").read_bytes())
    at = data.index(texts[400].encode()) - 4  # its length, before it (PLAIN): decoding that page fails
    assert int.from_bytes(data[at:at + 4], "little") == len(texts[400])
    data[at:at + 4] = (1 << 30).to_bytes(4, "little")
    (tmp_path / "a.parquet").write_bytes(bytes(data))
    whole = read_in_ranges(str(tmp_path / "a.parquet"), 0, max_line_bytes=16 << 20)
    assert [(s.rsplit("/", 1)[-1], r) for t, s, r in whole if t == "rejects"] == [("a.parquet#rows=257-600",
                                                                                   "bad_parquet")]
    assert len(whole) == 257
    for strides in (2, 3):
        assert sorted(read_in_ranges(str(tmp_path / "a.parquet"), 100, max_line_bytes=16 << 20,
                                     strides=strides)) == sorted(whole)


def test_a_file_left_half_read_does_not_lend_its_rows_to_the_next(tmp_path):
    """The child's rows of a file the reader left before its end (an error
    downstream, a generator closed) were still in the pipe, and the next
    request would have read them as its own file's."""
    pq.write_table(table(600), tmp_path / "a.parquet", row_group_size=600)
    pq.write_table(pa.table({"title": ["Other"], "text": [TEXTS[3]]}), tmp_path / "b.parquet")
    child = parquet_records.ChildReader()
    try:
        rows = child.rows(str(tmp_path / "a.parquet"), 16 << 20, frozenset())
        assert next(rows)[1]["title"] == "Story 0"
        rows.close()
        assert [rec["title"] for _, rec in child.rows(str(tmp_path / "b.parquet"), 16 << 20, frozenset())] == [
            "Other"]
    finally:
        child.close()


def test_end_to_end_a_parquet_file_counts_every_row(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    t = pa.table({"headline": [f"Row {i}" for i in range(4)] + ["No body"],
                  "body": [t + f" {i}" for i, t in enumerate(TEXTS)] + [""],
                  "published_at": pa.array([dt.datetime(2024, 5, 1, 10)] * 5, pa.timestamp("us", tz="UTC"))})
    pq.write_table(t, d / "rows.parquet")
    out = tmp_path / "out"
    m = run(["--input", str(d), "--output", str(out), "--no-fetch"], quiet=True)
    arts = read_table(out, "articles")
    assert sorted(a["title"] for a in arts) == [f"Row {i}" for i in range(4)]
    assert {a["source_format"] for a in arts} == {"parquet"}
    assert {str(a["published_at"])[:19] for a in arts} == {"2024-05-01 10:00:00"}
    assert m["counts"]["inputs_seen"] == 5 and m["counts"]["rejected"] == 1


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_any_damage_to_a_parquet_file_is_rows_or_rejects_never_a_failure(tmp_path_factory, seed, mutations):
    """Generated: a valid file (random row groups, codecs, page versions,
    checksums) with 1-4 of the fuzzer's byte mutations: the reader returns,
    the file gives at least one row, and where the pages carry checksums a
    text that comes out is one that was written (600 such files: 775
    articles, none changed; without checksums 12 of 747 were)."""
    from fuzz import parquet_case

    data, texts, checksums = parquet_case(random.Random(seed), mutations)
    path = tmp_path_factory.mktemp("case") / "case.parquet"
    path.write_bytes(data)
    docs, rejects = read(path)
    assert docs or rejects
    if checksums:
        assert {d["payload"].decode() for d in docs} <= set(texts)
