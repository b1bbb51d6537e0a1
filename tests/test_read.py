"""Readers: every input kind, and every way a file can be wrong."""
import gzip
import io
import csv
import json
import os

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import beam_test_pipeline, read_file, read_in_ranges, read_table
from hostile import ARTICLE_EN, _warc, page
from transforms.read import ReadDocuments, expand_inputs, kind_of
from transforms.records import make_doc_id


def check(patterns, docs, rejects, skipped=(), **kw):
    with beam_test_pipeline() as p:
        res = p | ReadDocuments(patterns, **kw)
        got_docs = res["docs"] | "D" >> beam.Map(lambda d: (os.path.basename(d["source"]), d["kind"], d["url"]))
        got_rej = res["rejects"] | "R" >> beam.Map(lambda r: (os.path.basename(r["source"]), r["stage"], r["reason"]))
        assert_that(got_docs, equal_to(docs), label="docs")
        assert_that(got_rej, equal_to(rejects), label="rejects")
        assert_that(res["skipped"], equal_to(list(skipped)), label="skipped")


def test_kind_of():
    assert kind_of("a/b.HTML") == ("html", False)
    assert kind_of("x.warc.gz") == ("warc", True)
    assert kind_of("x.ndjson.gz") == ("jsonl", True)
    assert kind_of("x.pdf") == (None, False)
    assert kind_of("x.jsonl.zst") == ("jsonl", True) and kind_of("x.WARC.bz2") == ("warc", True)
    assert kind_of("x.html.xz") == ("html", True) and kind_of("x.zst") == (None, True)


@pytest.mark.parametrize("ext", [".bz2", ".xz", ".zst"])
def test_bzip2_xz_and_zstd_files_are_read_as_gzip_ones_are(tmp_path, ext):
    """Any input kind may be bzip2, xz or zstd compressed (news dumps ship as
    .jsonl.zst or .bz2): read as a .gz is, bombs capped, a stream cut short
    and bytes that are not of the format each one reject with its reason;
    zstd across several frames."""
    import bz2
    import lzma

    import zstandard

    pack = {".bz2": bz2.compress, ".xz": lzma.compress, ".zst": zstandard.ZstdCompressor().compress}[ext]
    name = {".bz2": "bzip2", ".xz": "xz", ".zst": "zstd"}[ext]
    lines = [json.dumps({"text": f"{ARTICLE_EN} {i}", "url": f"https://e.com/{i}"}) + "\n" for i in range(60)]
    (tmp_path / f"p.html{ext}").write_bytes(pack(page(ARTICLE_EN).encode()))
    (tmp_path / f"r.jsonl{ext}").write_bytes(pack("".join(lines[:2]).encode()))
    cut = pack("".join(lines).encode())
    (tmp_path / f"cut.jsonl{ext}").write_bytes(cut[: len(cut) // 2])
    (tmp_path / f"plain.txt{ext}").write_bytes(ARTICLE_EN.encode())
    (tmp_path / f"bomb.txt{ext}").write_bytes(pack(b"a" * 300_000))
    (tmp_path / f"w.warc{ext}").write_bytes(pack(_warc([("https://e.com/w", page(ARTICLE_EN).encode(), "text/html")])))
    if ext == ".zst":  # one frame a record, as zstd's --long streams and parallel writers leave them
        (tmp_path / "frames.jsonl.zst").write_bytes(b"".join(pack(line.encode()) for line in lines[:3]))
    with beam_test_pipeline() as p:
        res = p | ReadDocuments([str(tmp_path)], max_doc_bytes=100_000, max_decompressed_bytes=200_000)
        docs = res["docs"] | "D" >> beam.Map(lambda d: (os.path.basename(d["source"]), d["kind"], d["url"]))
        rej = res["rejects"] | "R" >> beam.Map(lambda r: (os.path.basename(r["source"]).split("#")[0],
                                                          r["stage"], r["reason"]))
        expected = [(f"p.html{ext}", "html", None), (f"r.jsonl{ext}#L1", "text", "https://e.com/0"),
                    (f"r.jsonl{ext}#L2", "text", "https://e.com/1"), (f"w.warc{ext}#2", "html", "https://e.com/w")]
        expected += [("frames.jsonl.zst#L%d" % (i + 1), "text", f"https://e.com/{i}") for i in range(3)] \
            if ext == ".zst" else []
        kept = docs | "Kept" >> beam.Filter(lambda d: not d[0].startswith("cut."))
        assert_that(kept, equal_to(expected), label="docs")
        assert_that(rej, equal_to([(f"cut.jsonl{ext}", "decode", "truncated"),
                                   (f"plain.txt{ext}", "decode", f"bad_{name}"),
                                   (f"bomb.txt{ext}", "read", "decompressed_too_large")]), label="rejects")


@pytest.mark.parametrize("ext", [".jsonl.gz", ".jsonl.xz", ".csv.bz2", ".json.zst", ".tar.gz"])
def test_a_compressed_file_is_capped_by_its_ratio_not_by_its_size_alone(tmp_path, ext):
    """A news dump of 400 MB as ``.jsonl.gz`` holds about 1.3 GB: it was cut
    at ``--max-decompressed-bytes`` (1 GiB), the rest of its records one
    reject, as if it were a bomb. A bomb is told by its ratio: past the cap,
    a file is read on while it holds at most 100 times its own size (text
    compresses 3-10 times). The same bytes of one record repeated still stop
    there."""
    import bz2
    import lzma
    import random
    import tarfile

    import zstandard

    rnd = random.Random(7)
    words = ARTICLE_EN.split()
    texts = [" ".join(rnd.choice(words) for _ in range(120)) + f" Number {i}." for i in range(400)]
    same = [texts[0]] * 20_000
    cap = 80_000  # under what either file holds
    for name, rows in (("news", texts), ("bomb", same)):
        urls = [f"https://e.com/{i}" if name == "news" else "https://e.com/" for i in range(len(rows))]
        if ext.startswith(".csv"):
            out = io.StringIO()
            w = csv.writer(out)
            w.writerow(["text", "url"])
            w.writerows(zip(rows, urls))
            data = out.getvalue().encode()
        elif ext.startswith(".json."):
            data = json.dumps([{"text": t, "url": u} for t, u in zip(rows, urls)], indent=1).encode()
        else:
            data = "".join(json.dumps({"text": t, "url": u}) + "\n" for t, u in zip(rows, urls)).encode()
        path = tmp_path / f"{name}{ext}"
        if ext == ".tar.gz":
            with tarfile.open(path, "w:gz") as t:
                info = tarfile.TarInfo("day.jsonl")
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
        else:
            pack = {".gz": gzip.compress, ".xz": lzma.compress, ".bz2": bz2.compress,
                    ".zst": zstandard.ZstdCompressor().compress}[ext[ext.rindex("."):]]
            path.write_bytes(pack(data))
        assert len(data) > 3 * cap and (100 * path.stat().st_size > len(data)) == (name == "news")
        docs, rejects, _ = read_file(path, max_unzip=cap)
        if name == "news":  # read whole
            assert (len(docs), rejects) == (400, [])
        else:  # read up to the cap, the rest one reject
            assert 0 < len(docs) < 20_000
            assert [r[2] for r in rejects] == ["decompressed_too_large"] * (2 if ext == ".tar.gz" else 1)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 30_000), st.booleans()), min_size=1, max_size=60),
       st.sampled_from([".gz", ".xz", ".bz2", ".zst"]), st.integers(1, 400_000))
def test_generated_compressed_json_lines_stop_exactly_past_their_cap(tmp_path_factory, records, ext, cap):
    """Generated: JSON lines of any lengths, some of one repeated text (which
    compresses away), some of words that do not, in any codec, under any
    cap: the lines read are exactly those whose bytes, added up, stay within
    ``max(cap, 100 x the file's size)``, and the rest is one reject."""
    import bz2
    import lzma
    import random

    import zstandard

    from transforms.read import BOMB_RATIO

    rnd = random.Random(len(records) * 7919 + cap)
    lines = [json.dumps({"text": ("same text " * (n // 10 + 1))[:n] if same else
                         "x" + "".join(rnd.choice("abcdefghij ") for _ in range(n - 1))}).encode() + b"\n"
             for n, same in records]  # never a blank text, which is a reject of its own
    pack = {".gz": gzip.compress, ".xz": lzma.compress, ".bz2": bz2.compress,
            ".zst": zstandard.ZstdCompressor().compress}[ext]
    path = tmp_path_factory.mktemp("cap") / f"day.jsonl{ext}"
    path.write_bytes(pack(b"".join(lines)))
    budget = max(cap, BOMB_RATIO * path.stat().st_size)
    total, kept = 0, 0
    for line in lines:
        total += len(line)
        if total > budget:
            break
        kept += 1
    docs, rejects, _ = read_file(path, max_unzip=cap)
    assert [d["source"].rsplit("#", 1)[1] for d in docs] == [f"L{i + 1}" for i in range(kept)]
    assert [r[2] for r in rejects] == ([] if kept == len(lines) else ["decompressed_too_large"])


@pytest.mark.parametrize("ext", [".warc.xz", ".warc.bz2", ".warc.zst"])
def test_a_compressed_warc_of_many_records_stops_at_the_cap(tmp_path, ext):
    """A WARC compressed whole was read to its end whatever it held: 10 KB
    of ``.warc.xz`` gave 3,000 records (66 MB) under a cap of 1 MB, the cap
    the option's help promised for WARCs. Now its records' bytes count as a
    file of JSON lines' do: the records within the cap are read, then one
    reject for the rest; a WARC of distinct pages, within 100 times its
    size, is read whole. Workers sharing the file by strides stop alike."""
    import bz2
    import lzma
    import random

    import zstandard

    pack = {".xz": lzma.compress, ".bz2": bz2.compress,
            ".zst": zstandard.ZstdCompressor().compress}[ext[ext.rindex("."):]]
    rnd = random.Random(3)
    words = ARTICLE_EN.split()
    pages = [(f"https://e.com/{i}", page(" ".join(rnd.choice(words) for _ in range(300)), title=f"T{i}").encode(),
              "text/html") for i in range(150)]
    one = page(ARTICLE_EN).encode() + b"<!--" + b"x" * 20000 + b"-->"
    (tmp_path / f"news{ext}").write_bytes(pack(_warc(pages)))
    (tmp_path / f"bomb{ext}").write_bytes(pack(_warc([("https://e.com/w", one, "text/html")] * 3000)))
    cap = 100_000
    docs, rejects, _ = read_file(tmp_path / f"news{ext}", max_unzip=cap)
    assert len(_warc(pages)) > 3 * cap and (len(docs), rejects) == (150, [])
    docs, rejects, _ = read_file(tmp_path / f"bomb{ext}", max_unzip=cap)
    assert 0 < len(docs) < 3000 and rejects == [(f"bomb{ext}", "read", "decompressed_too_large")]
    whole = read_in_ranges(str(tmp_path / f"bomb{ext}"), 0, max_unzip=cap)
    assert [t for t, _, _ in whole if t != "skipped"] == ["docs"] * len(docs) + ["rejects"]
    assert sorted(read_in_ranges(str(tmp_path / f"bomb{ext}"), 100, strides=2, max_unzip=cap)) == sorted(whole)


def _warc_zstd(records: list[bytes], compressed_dictionary: bool) -> tuple[bytes, list[int]]:
    """A .warc.zst as the WARC-zstd format writes it (Archive Team, wget-at):
    a skippable frame (magic 0x184D2A5D) holding a dictionary, zstd-compressed
    or not, then one frame a record, compressed with it; and where each
    record's frame ends."""
    import struct

    import zstandard

    dictionary = zstandard.train_dictionary(2048, records * 8)
    stored = dictionary.as_bytes()
    if compressed_dictionary:
        stored = zstandard.ZstdCompressor().compress(stored)
    pack = zstandard.ZstdCompressor(dict_data=dictionary)
    data, ends = struct.pack("<II", 0x184D2A5D, len(stored)) + stored, []
    for r in records:
        data += pack.compress(r)
        ends.append(len(data))
    return data, ends


@pytest.mark.parametrize("compressed_dictionary", [False, True])
def test_a_warc_zstd_file_with_its_dictionary_is_read(tmp_path, compressed_dictionary):
    """Archive Team's and wget-at's .warc.zst open with the dictionary their
    record frames are compressed with: every page is read (it was one
    ``bad_zstd`` reject for the whole file); the same file cut short gives
    every page whose frame ends before the cut, then ``truncated`` (warcio
    took the cut for the end of the records: no reject, and the last pages
    before it lost), and a dictionary frame declaring 4 GB is ``bad_zstd``,
    not 4 GB read."""
    import struct

    # a WARC of one page each (warcinfo, response, request), a frame each
    records = [_warc([(f"https://e.com/{i}", page(f"Story {i}. {ARTICLE_EN}").encode(), "text/html")])
               for i in range(12)]
    data, ends = _warc_zstd(records, compressed_dictionary)
    cut = len(data) * 3 // 4
    (tmp_path / "crawl.warc.zst").write_bytes(data)
    (tmp_path / "cut.warc.zst").write_bytes(data[:cut])
    (tmp_path / "huge-dictionary.warc.zst").write_bytes(struct.pack("<II", 0x184D2A5D, (1 << 32) - 1) + b"x" * 100)
    with beam_test_pipeline() as p:
        res = p | ReadDocuments([str(tmp_path)])
        docs = res["docs"] | "D" >> beam.Map(lambda d: (os.path.basename(d["source"]).split("#")[0], d["url"]))
        rej = res["rejects"] | "R" >> beam.Map(lambda r: (os.path.basename(r["source"]).split("#")[0],
                                                          r["stage"], r["reason"]))
        whole = [("crawl.warc.zst", f"https://e.com/{i}") for i in range(12)]
        before_cut = docs | "Cut" >> beam.Filter(lambda d: d[0] == "cut.warc.zst") | beam.combiners.Count.Globally()
        assert_that(docs | "Whole" >> beam.Filter(lambda d: d[0] == "crawl.warc.zst"), equal_to(whole), label="docs")
        assert_that(before_cut, equal_to([sum(end <= cut for end in ends)]), label="cut")  # every whole frame
        assert_that(rej, equal_to([("cut.warc.zst", "decode", "truncated"),
                                   ("huge-dictionary.warc.zst", "decode", "bad_zstd")]), label="rejects")


@pytest.mark.parametrize("ext", [".bz2", ".xz", ".zst"])
def test_a_compressed_warc_cut_short_is_truncated_not_empty(tmp_path, ext):
    """warcio takes the decompressor's ``EOFError`` for the end of the
    records: a .warc.bz2 cut inside its one block was ``no_documents``, as if
    it held no page. Now every kind says ``truncated``, after the pages before
    the cut."""
    import bz2
    import lzma

    import zstandard

    pack = {".bz2": bz2.compress, ".xz": lzma.compress, ".zst": zstandard.ZstdCompressor().compress}[ext]
    unpack = {".bz2": bz2.BZ2Decompressor, ".xz": lzma.LZMADecompressor,
              ".zst": lambda: zstandard.ZstdDecompressor().decompressobj()}[ext]
    data = pack(_warc([(f"https://e.com/{i}", page(f"Story {i}. {ARTICLE_EN * 3}").encode(), "text/html")
                       for i in range(100)]))
    cut = data[: len(data) * 3 // 4]
    path = tmp_path / f"cut.warc{ext}"
    path.write_bytes(cut)
    out = read_in_ranges(str(path), 0)
    reasons = [o[2] for o in out if o[0] == "rejects"]
    assert "truncated" in reasons and "no_documents" not in reasons, reasons
    # the pages whose request record (written after the response) is whole in what the cut bytes inflate to
    whole = unpack().decompress(cut).count(b"GET / HTTP/1.1\r\n\r\n")
    assert sum(o[0] == "docs" for o in out) >= whole


def test_zstd_reads_a_piece_that_inflates_far_without_copying_the_rest_at_each_read():
    """A kilobyte of a zstd bomb inflates to 32 MiB at once. Handing it out
    64 KiB at a time must not copy what is left at each read: that held two
    copies at once and was quadratic (256 MiB of zeros took 4.6 s against
    gzip's 0.6 s). Measured as memory, which does not depend on the machine."""
    import tracemalloc

    import zstandard

    from transforms.read import _decompressed

    size = 32 << 20
    reader = _decompressed(io.BytesIO(zstandard.ZstdCompressor(level=19).compress(bytes(size))), "zstd")
    got = 0
    tracemalloc.start()
    try:
        while chunk := reader.read(1 << 16):
            got += len(chunk)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == size
    assert peak < 1.5 * size, peak


def test_folders_are_recursive(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.html").write_text(page(ARTICLE_EN))
    (tmp_path / "top.txt").write_text(ARTICLE_EN)
    check([str(tmp_path)], [("deep.html", "html", None), ("top.txt", "text", None)], [])
    assert expand_inputs([str(tmp_path)]) == [os.path.join(str(tmp_path), "**")]


def test_glob_and_missing_input(tmp_path):
    (tmp_path / "one.htm").write_text(page(ARTICLE_EN))
    (tmp_path / "two.txt").write_text(ARTICLE_EN)
    check([str(tmp_path / "*.htm"), str(tmp_path / "nothing-*.html")], [("one.htm", "html", None)],
          [("nothing-*.html", "read", "no_match")])


def test_a_web_address_as_input_is_a_reject_that_says_what_to_do():
    from transforms.read import _MatchFn

    (rej,) = list(_MatchFn().process("https://example.com/news/story.html"))
    assert rej.value["reason"] == "no_match" and "--feeds" in rej.value["error"]


def test_standard_input_as_input_is_a_reject_that_says_what_to_do(tmp_path, monkeypatch):
    from transforms.read import _MatchFn, expand_inputs

    monkeypatch.chdir(tmp_path)
    (pattern,) = expand_inputs(["-"])
    (rej,) = list(_MatchFn().process(pattern))
    assert rej.value["reason"] == "no_match" and "standard input is not read" in rej.value["error"]


def test_an_input_that_is_the_runs_own_output_is_a_reject_that_says_so(tmp_path):
    from transforms.read import _folder_prefix, _MatchFn, expand_inputs

    out = tmp_path / "out"
    (out / "articles").mkdir(parents=True)
    (out / "articles" / "part-0.parquet").write_bytes(b"PAR1")
    (pattern,) = expand_inputs([str(out)])
    (rej,) = list(_MatchFn(skip=_folder_prefix(str(out))).process(pattern))
    assert rej.value["reason"] == "no_match" and "own --output folder" in rej.value["error"]


def test_jsonl_records(tmp_path):
    lines = [json.dumps({"url": "https://e.com/1", "html": page(ARTICLE_EN)}),
             json.dumps({"url": "https://e.com/2", "text": ARTICLE_EN}),
             "", "{broken", json.dumps({"title": "no body"}), json.dumps(["not", "an", "object"])]
    (tmp_path / "r.jsonl").write_text("\n".join(lines))
    check([str(tmp_path / "r.jsonl")],
          [("r.jsonl#L1", "html", "https://e.com/1"), ("r.jsonl#L2", "text", "https://e.com/2")],
          [("r.jsonl#L4", "parse", "bad_json"), ("r.jsonl#L5", "parse", "missing_text"),
           ("r.jsonl#L6", "parse", "not_an_object")])


def test_a_records_publication_time_under_the_names_other_tools_give_it(tmp_path):
    from conftest import read_table
    from pipeline.cli import run

    stamps = {"published": "2024-05-01T10:00:00Z", "published_at": "2024-05-02T10:00:00+00:00",
              "datePublished": "2024-05-03", "date_publish": "2024-05-04 09:34:00",  # news-please
              "publish_date": "Sun, 05 May 2024 10:00:00 GMT", "publishing_date": "2024-05-06T10:00:00",
              "date": "2024-05-07"}  # trafilatura's JSON
    lines = [json.dumps({"text": f"{ARTICLE_EN} Story {i}.", key: value, "url": f"https://e.com/{key}"})
             for i, (key, value) in enumerate(stamps.items())]
    # the SPEC's field first when a record holds several; a value that is no date leaves the column empty
    lines.append(json.dumps({"text": ARTICLE_EN + " Both.", "date": "2020-01-01", "published": "2024-05-08",
                             "url": "https://e.com/both"}))
    lines.append(json.dumps({"text": ARTICLE_EN + " None.", "date": "yesterday", "url": "https://e.com/none"}))
    (tmp_path / "in.jsonl").write_text("\n".join(lines))
    run(["--input", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out")], quiet=True)
    got = {r["url"].rsplit("/", 1)[1]: r["published_at"] for r in read_table(str(tmp_path / "out"), "articles")}
    days = {k: (v.day if v is not None else None) for k, v in got.items()}
    assert days == {"published": 1, "published_at": 2, "datePublished": 3, "date_publish": 4, "publish_date": 5,
                    "publishing_date": 6, "date": 7, "both": 8, "none": None}


def test_json_array_and_gzip_jsonl(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps([{"text": ARTICLE_EN}, {"html": page(ARTICLE_EN)}]))
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as f:
        f.write(json.dumps({"text": ARTICLE_EN}) + "\n")
    check([str(tmp_path)], [("a.json#L1", "text", None), ("a.json#L2", "html", None), ("b.jsonl.gz#L1", "text", None)],
          [])


def test_oversized_jsonl_line_is_skipped_in_bounded_memory(tmp_path):
    big = json.dumps({"text": "x " * 5000})
    (tmp_path / "r.jsonl").write_text(big + "\n" + json.dumps({"text": ARTICLE_EN}) + "\n")
    check([str(tmp_path / "r.jsonl")], [("r.jsonl#L2", "text", None)], [("r.jsonl#L1", "read", "too_large")],
          max_line_bytes=1000)


def test_warc_responses_other_records_counted(tmp_path):
    data = _warc([("https://e.com/a", page(ARTICLE_EN).encode(), "text/html; charset=utf-8"),
                  ("https://e.com/i.png", b"\x89PNG....", "image/png")])
    (tmp_path / "c.warc").write_bytes(data)
    (tmp_path / "c2.warc.gz").write_bytes(gzip.compress(data))
    check([str(tmp_path)],
          [("c.warc#2", "html", "https://e.com/a"), ("c2.warc.gz#2", "html", "https://e.com/a")],
          [("c.warc#4", "read", "not_html"), ("c2.warc.gz#4", "read", "not_html")],
          skipped=["warc_warcinfo", "warc_request", "warc_request"] * 2)


def test_truncated_warc_keeps_whole_records(tmp_path):
    data = _warc([("https://e.com/a", page(ARTICLE_EN).encode(), "text/html"),
                  ("https://e.com/b", page(ARTICLE_EN * 3).encode(), "text/html")])
    (tmp_path / "t.warc").write_bytes(data[:-900])
    gz = _warc([("https://e.com/a", page(ARTICLE_EN).encode(), "text/html"),
                ("https://e.com/b", page(ARTICLE_EN * 3).encode(), "text/html")], gzip=True)
    (tmp_path / "t2.warc.gz").write_bytes(gz[:-60])  # one gzip member per record, the last one cut
    with beam_test_pipeline() as p:
        res = p | ReadDocuments([str(tmp_path)])
        docs = res["docs"] | "D" >> beam.Map(lambda d: os.path.basename(d["source"]))
        rej = res["rejects"] | "R" >> beam.Map(lambda r: (os.path.basename(r["source"])[:2], r["reason"]))
        assert_that(docs, equal_to(["t.warc#2", "t2.warc.gz#2", "t2.warc.gz#4"]), label="docs")
        assert_that(rej, equal_to([("t.", "truncated"), ("t2", "truncated")]), label="rejects")


def test_a_warc_line_without_a_line_break_is_read_in_bounded_time(tmp_path):
    """Bytes with no line break where warcio reads a header line (a file of
    zeros named .warc, garbage after a good record): warcio's own readline
    was quadratic in the line (50 MB took 47 s, a 3 GB file never ended) and
    held it whole. The line is cut at ``MAX_WARC_LINE``: the iterator stops
    having read little more than that, and the file's records before it are
    still documents."""
    from warcio.exceptions import ArchiveLoadFailed

    from transforms.read import MAX_WARC_LINE, _archive_iterator

    junk = b"\x00" * (8 * MAX_WARC_LINE)
    stream = io.BytesIO(junk)
    with pytest.raises(ArchiveLoadFailed):
        list(_archive_iterator(stream))
    assert stream.tell() <= MAX_WARC_LINE + (64 << 10), stream.tell()

    good = _warc([("https://e.com/a", page(ARTICLE_EN).encode(), "text/html")])
    (tmp_path / "zeros.warc").write_bytes(junk)
    (tmp_path / "tail.warc").write_bytes(good + b"x" * (3 * MAX_WARC_LINE))
    (tmp_path / "tail.warc.gz").write_bytes(gzip.compress(good) + gzip.compress(b"y" * (3 * MAX_WARC_LINE)))
    check([str(tmp_path)], [("tail.warc#2", "html", "https://e.com/a"), ("tail.warc.gz#2", "html", "https://e.com/a")],
          [("zeros.warc#1", "parse", "not_warc"), ("tail.warc#4", "parse", "truncated"),
           ("tail.warc.gz#4", "parse", "truncated")], skipped=["warc_warcinfo", "warc_request"] * 2)


def test_a_gzip_member_broken_off_mid_way_is_a_reject_and_no_note_on_stderr(tmp_path, capfd):
    """A .warc.gz (one gzip member a record) whose long second response has a
    damaged checksum: the first record is an article, the damaged one a
    reject, and nothing on stderr (warcio wrote "Error -3 while decompressing
    data: incorrect data check", even under --quiet)."""
    import random
    import zlib

    from pipeline.cli import main

    rnd = random.Random(3)  # text that does not compress: the member spans many of warcio's reads
    noise = " ".join("".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8)) for _ in range(20000))
    data = bytearray(_warc([("https://e.com/a", page(ARTICLE_EN).encode(), "text/html"),
                            ("https://e.com/b", page(ARTICLE_EN + " " + noise).encode(), "text/html")], gzip=True))
    ends, pos = [], 0
    while pos < len(data):  # where each member ends
        d = zlib.decompressobj(31)
        d.decompress(bytes(data[pos:]))
        pos = len(data) - len(d.unused_data)
        ends.append(pos)
    data[ends[3] - 8] ^= 0xFF  # the CRC of the 4th member (warcinfo, response a, request a, response b)
    (tmp_path / "broken.warc.gz").write_bytes(bytes(data))
    out = tmp_path / "out"
    assert main(["run", "--input", str(tmp_path / "broken.warc.gz"), "--output", str(out), "--quiet"]) == 0
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == "", captured.err
    assert [a["url"] for a in read_table(str(out), "articles")] == ["https://e.com/a"]
    assert read_table(str(out), "rejects")


def test_a_wrong_content_length_is_a_reject_and_no_note_on_stderr(tmp_path, capfd):
    """A record declaring more bytes than the file holds, or fewer than its
    block: rejects with their reasons, and nothing on stderr from warcio
    ("Record not followed by newline ... Remainder: <bytes>", "Replacing
    spaces in invalid WARC-Target-URI: <the page>") under --quiet."""
    from pipeline.cli import main

    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page(ARTICLE_EN).encode()
    for name, length in (("long.warc", 99_999_999_999), ("short.warc", 17)):
        (tmp_path / name).write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://e.com/x\r\n"
                                      + f"Content-Length: {length}\r\n\r\n".encode() + body + b"\r\n\r\n")
    out = tmp_path / "out"
    assert main(["run", "--input", str(tmp_path / "long.warc"), "--input", str(tmp_path / "short.warc"),
                 "--output", str(out), "--quiet"]) == 0
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == "", captured.err
    reasons = sorted((os.path.basename(r["source"]), r["reason"]) for r in read_table(str(out), "rejects"))
    assert ("long.warc#1", "truncated") in reasons and any(s.startswith("short.warc") for s, _ in reasons), reasons


def test_warcio_says_nothing_in_a_process_that_is_not_the_cli(tmp_path):
    """A worker of a multi-process or distributed run reads WARCs without the
    CLI's logging set-up, and sends what it logs to the runner: warcio's
    "Replacing spaces in invalid WARC-Target-URI: <the whole field>" was a
    megabyte a record there, and a few of them overran gRPC's 4 MB message
    ("Logging client failed: RESOURCE_EXHAUSTED" on the terminal under
    --quiet; found by benchmarks/fuzz.py on two workers). Read in a fresh
    process, such records print nothing (Python's last-resort handler would
    show any warning on stderr)."""
    import subprocess
    import sys

    uri = "https://e.com/a b" + " x" * 200_000
    body = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page(ARTICLE_EN).encode()
    path = tmp_path / "spaces.warc"
    path.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\n" + f"WARC-Target-URI: {uri}\r\n".encode()
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n\r\n")
    code = ("import sys; from transforms.read import _archive_iterator; "
            "print(sum(1 for _ in _archive_iterator(open(sys.argv[1], 'rb'))))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run([sys.executable, "-c", code, str(path)], cwd=root, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "1", proc.stderr[-2000:]
    assert "WARC-Target-URI" not in proc.stderr, proc.stderr[:300]


def test_common_crawl_wet_files_are_read_as_text(tmp_path):
    """A WET file (``.warc.wet.gz``, Common Crawl's extracted text) gives one
    text document a conversion record, with its URL and date; an empty one is
    a reject; in another WARC a conversion record is still skipped."""
    from warcio.warcwriter import WARCWriter

    def wet(gz: bool) -> bytes:
        buf = io.BytesIO()
        w = WARCWriter(buf, gzip=gz)
        w.write_record(w.create_warcinfo_record("x.warc.wet.gz", {"software": "tests"}))
        for i, text in enumerate([f"Home | News | Sport\n{ARTICLE_EN}\nShare this article", "", ARTICLE_EN]):
            rec = w.create_warc_record(f"https://e.com/{i}", "conversion", payload=io.BytesIO(text.encode()),
                                       warc_content_type="text/plain",
                                       warc_headers_dict={"WARC-Date": "2024-05-01T10:00:00Z"})
            w.write_record(rec)
        return buf.getvalue()

    (tmp_path / "cc.warc.wet.gz").write_bytes(wet(True))
    (tmp_path / "plain.wet").write_bytes(wet(False))
    (tmp_path / "other.warc").write_bytes(wet(False))
    check([str(tmp_path)],
          [("cc.warc.wet.gz#2", "text", "https://e.com/0"), ("cc.warc.wet.gz#4", "text", "https://e.com/2"),
           ("plain.wet#2", "text", "https://e.com/0"), ("plain.wet#4", "text", "https://e.com/2")],
          [("cc.warc.wet.gz#3", "read", "empty"), ("plain.wet#3", "read", "empty"),
           ("other.warc", "read", "no_documents")],
          skipped=["warc_warcinfo"] * 3 + ["warc_conversion"] * 3)


def test_pages_saved_under_their_url_are_read_by_their_content(tmp_path):
    """A mirroring tool names a saved page by its URL (``story.php?id=1``,
    ``2024/05/story``): a file of no known extension is HTML when it starts as
    a page (BOM, comments, an XML declaration first); anything else stays
    ``unsupported_format``."""
    (tmp_path / "story.php?id=1").write_text(page(ARTICLE_EN))
    (tmp_path / "story").write_bytes(b"\xef\xbb\xbf\n  <!-- saved -->\n<HTML lang='en'><body><p>" + ARTICLE_EN.encode()
                                     + b"</p></body></HTML>")
    (tmp_path / "x.shtml").write_text('<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN">'
                                      f"<html><body><p>{ARTICLE_EN}</p></body></html>")
    (tmp_path / "script.php").write_text("<?php echo '<html>'; ?>")
    (tmp_path / "notes").write_text("a note about <html> pages")
    check([str(tmp_path)], [("story.php?id=1", "html", None), ("story", "html", None), ("x.shtml", "html", None)],
          [("script.php", "read", "unsupported_format"), ("notes", "read", "unsupported_format")])


def test_an_archive_is_read_by_name_or_by_its_first_bytes(tmp_path):
    """zip and tar archives (as pages are often shipped) are read file by
    file (tests/test_archives.py), known by name or, under another name, by
    the archive's own first bytes; bytes that are no archive stay a reject."""
    import tarfile
    import zipfile

    from pipeline.cli import main

    folder = tmp_path / "in"
    folder.mkdir()
    (tmp_path / "p.html").write_text(page(ARTICLE_EN))
    with zipfile.ZipFile(folder / "pages.zip", "w") as z:
        z.write(tmp_path / "p.html", "p.html")
    with tarfile.open(folder / "pages.tar.gz", "w:gz") as t:
        t.add(tmp_path / "p.html", "p.html")
    with tarfile.open(folder / "dump.bin", "w") as t:
        t.add(tmp_path / "p.html", "p.html")
    (folder / "notes.bin").write_bytes(b"\x00\x01 not an archive")
    out = tmp_path / "out"
    assert main(["run", "--input", str(folder), "--output", str(out), "--quiet"]) == 0
    assert sorted(r["source"][len(str(folder)) + 1:] for r in read_table(str(out), "articles")) == [
        "dump.bin/p.html", "pages.tar.gz/p.html", "pages.zip/p.html"]
    assert [(os.path.basename(r["source"]), r["reason"]) for r in read_table(str(out), "rejects")] == [
        ("notes.bin", "unsupported_format")]


def test_empty_oversized_unknown_and_broken_gzip(tmp_path):
    (tmp_path / "e.html").write_bytes(b"  \n")
    (tmp_path / "big.html").write_bytes(b"<p>" + b"a" * 5000)
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "feed.rss").write_text("<rss/>")
    (tmp_path / "t.html.gz").write_bytes(gzip.compress(page(ARTICLE_EN).encode())[:40])
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(b"a" * 100_000))
    (tmp_path / "notgz.html.gz").write_bytes(b"plain bytes, not gzip")
    check([str(tmp_path)], [], [
        ("e.html", "read", "empty"), ("big.html", "read", "too_large"), ("x.pdf", "read", "unsupported_format"),
("t.html.gz", "decode", "truncated"),
        ("bomb.txt.gz", "read", "decompressed_too_large"), ("notgz.html.gz", "decode", "bad_gzip")],
        max_doc_bytes=4096)


def test_doc_id_is_stable_and_depends_on_content(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE_EN)
    expected = make_doc_id(str(path), ARTICLE_EN.encode())
    assert expected != make_doc_id(str(path), (ARTICLE_EN + " Updated.").encode())
    assert expected != make_doc_id(str(tmp_path / "b.txt"), ARTICLE_EN.encode())
    for label in ("first", "second"):
        with beam_test_pipeline() as p:
            ids = (p | ReadDocuments([str(path)]))["docs"] | beam.Map(lambda d: d["doc_id"])
            assert_that(ids, equal_to([expected]), label=label)


def test_jsonl_in_utf16_and_utf32_with_a_bom(tmp_path):
    """JSON lines as Windows PowerShell's `>` writes them (UTF-16 LE with a BOM,
    CRLF), and UTF-16 BE, UTF-32 and a UTF-16 JSON array: every record read,
    numbered as in the file. Cut on the byte, a UTF-16 newline split each line
    in two (bad_json); a file over the split size is read whole, not in ranges."""
    import codecs

    recs = [{"url": f"https://e.com/{i}", "text": ARTICLE_EN + " é 世界"} for i in range(1, 4)]
    body = "\r\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\r\n"
    (tmp_path / "ps.jsonl").write_bytes(codecs.BOM_UTF16_LE + body.encode("utf-16-le"))
    (tmp_path / "be.ndjson").write_bytes(codecs.BOM_UTF16_BE + body.encode("utf-16-be"))
    (tmp_path / "wide.jsonl").write_bytes(codecs.BOM_UTF32_LE + body.encode("utf-32-le"))
    (tmp_path / "arr.json").write_bytes(codecs.BOM_UTF16_LE + json.dumps(recs).encode("utf-16-le"))
    expect = [(f"{name}#L{i}", "text", f"https://e.com/{i}") for name in ("ps.jsonl", "be.ndjson", "wide.jsonl",
                                                                           "arr.json") for i in (1, 2, 3)]
    check([str(tmp_path)], expect, [], split_bytes=1000)  # each file is over 1,000 bytes


def test_json_and_csv_in_utf16_without_a_bom(tmp_path):
    """UTF-16 with no byte-order mark (SQL Server's `bcp -w`, .NET's
    UnicodeEncoding without one): JSON lines, a JSON array and a CSV, little-
    and big-endian, English text all ASCII. Read as UTF-8, its ASCII is valid
    (a NUL in every other byte): the CSV's rows were `missing_text`, the JSON
    array `bad_json`, and the first JSON line lost."""
    recs = [{"url": f"https://e.com/{i}", "text": ARTICLE_EN} for i in range(1, 4)]
    lines = "".join(json.dumps(r) + "\n" for r in recs)
    table = "url,text\n" + "".join(f'{r["url"]},"{r["text"]}"\n' for r in recs)
    for enc in ("utf-16-le", "utf-16-be"):
        (tmp_path / f"{enc}.jsonl").write_bytes(lines.encode(enc))
        (tmp_path / f"{enc}-array.json").write_bytes(json.dumps(recs, indent=1).encode(enc))
        (tmp_path / f"{enc}.csv").write_bytes(table.encode(enc))
    expect = [(f"{enc}{suffix}#L{i}", "text", f"https://e.com/{i}") for enc in ("utf-16-le", "utf-16-be")
              for suffix in (".jsonl", "-array.json", ".csv") for i in (1, 2, 3)]
    check([str(tmp_path)], expect, [], split_bytes=1000)  # each file is over 1,000 bytes: read whole


def test_arc_files_are_read_as_warc(tmp_path):
    """ARC files, the Internet Archive's format before WARC (its older
    collections), plain or gzip a record: read as WARC, their header record
    counted as warcinfo."""
    body = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n\r\n" + page(ARTICLE_EN).encode()
    version = b"1 0 Test\nURL IP-address Archive-date Content-type Archive-length\n"
    filedesc = b"filedesc://old.arc 0.0.0.0 20040101000000 text/plain " + str(len(version)).encode() + b"\n" + version
    record = b"http://e.com/2004 1.2.3.4 20040101120000 text/html " + str(len(body)).encode() + b"\n" + body + b"\n"
    (tmp_path / "old.arc").write_bytes(filedesc + b"\n" + record)
    (tmp_path / "old.arc.gz").write_bytes(gzip.compress(filedesc + b"\n") + gzip.compress(record))
    check([str(tmp_path)], [("old.arc#2", "html", "http://e.com/2004"), ("old.arc.gz#2", "html", "http://e.com/2004")],
          [], skipped=["warc_warcinfo", "warc_warcinfo"])


def test_warc_dates_are_utc_on_every_machine_and_never_lose_a_record(tmp_path, monkeypatch):
    """A WARC-Date without an offset was read in the machine's local zone (a
    run in New York wrote 05:00 UTC for midnight UTC: two machines, two
    outputs), and one whose offset crosses the calendar's end raised
    OverflowError: the record was a parse_error reject."""
    import time

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    from pipeline.cli import run

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    for i, date in enumerate(["2024-01-01T00:00:00Z", "9999-12-31T23:59:59-12:00", "2024-01-02T00:00:00"]):
        hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(f"https://example.net/{i}", "response",
                                            payload=io.BytesIO(page(ARTICLE_EN + f" {i}").encode()), http_headers=hh,
                                            warc_headers_dict={"WARC-Date": date}))
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "d.warc.gz").write_bytes(buf.getvalue())
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        run(["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--no-fetch"], quiet=True)
    finally:
        monkeypatch.undo()
        time.tzset()
    got = {r["url"]: r["fetched_at"] for r in read_table(str(tmp_path / "out"), "articles")}
    assert not os.path.exists(tmp_path / "out" / "rejects")
    assert [str(got[f"https://example.net/{i}"]) for i in range(3)] == [
        "2024-01-01 00:00:00+00:00", "None", "2024-01-02 00:00:00+00:00"]


def test_records_as_other_tools_write_them(tmp_path):
    """news-please writes `maintext` and `date_publish`; other exports `content`
    or `body`, a `headline`, a `link`; some keep the whole page in `text`.
    Before, the first three were `missing_text` rejects and the page's
    markup was the article text."""
    from pipeline.cli import run

    doc = page(ARTICLE_EN).replace("<body>", "<body><nav><a href='/'>Home</a> | <a href='/news'>News</a></nav>")
    lines = [json.dumps({"url": "https://e.com/np", "title": "NP", "maintext": ARTICLE_EN,
                         "date_publish": "2024-05-01 10:00:00"}),
             json.dumps({"link": "https://e.com/c", "headline": "C", "content": ARTICLE_EN + " c"}),
             json.dumps({"url": "https://e.com/b", "body": ARTICLE_EN + " b", "content": {"not": "text"}}),
             json.dumps({"url": "https://e.com/page", "text": doc}),
             json.dumps({"url": "https://e.com/none", "summary": "no body field"})]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "r.jsonl").write_text("\n".join(lines) + "\n")
    run(["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--no-fetch"], quiet=True)
    arts = {r["url"]: r for r in read_table(str(tmp_path / "out"), "articles")}
    assert set(arts) == {"https://e.com/np", "https://e.com/c", "https://e.com/b", "https://e.com/page"}
    assert str(arts["https://e.com/np"]["published_at"]) == "2024-05-01 10:00:00+00:00"
    assert arts["https://e.com/c"]["title"] == "C"
    assert "<" not in arts["https://e.com/page"]["text"] and "Home" not in arts["https://e.com/page"]["text"]
    assert arts["https://e.com/page"]["extractor"] != "text-cleaner"
    (rej,) = read_table(str(tmp_path / "out"), "rejects")
    assert rej["reason"] == "missing_text" and "maintext" in rej["error"]


def test_fields_in_any_case_and_as_schema_org_and_datasets_name_them(tmp_path):
    """A record's fields are found whatever their case, in JSON as in a CSV's
    header (which is read lower-cased, so that "datePublished" was lost), and
    under schema.org's articleBody, the Guardian API's bodyText and datasets'
    body_text, full_text, document. Before, each of these records was a
    missing_text reject and the CSV's dates were None."""
    from pipeline.cli import run

    (tmp_path / "in").mkdir()
    lines = [json.dumps({"URL": "https://e.com/1", "Title": "One", "Text": ARTICLE_EN + " 1", "Published": "2024-05-01"}),
             json.dumps({"url": "https://e.com/2", "CONTENT": ARTICLE_EN + " 2", "PublishedAt": "2024-05-02"}),
             json.dumps({"url": "https://e.com/3", "headline": "Three", "articleBody": ARTICLE_EN + " 3",
                         "datePublished": "2024-05-03"}),
             json.dumps({"url": "https://e.com/4", "bodyText": ARTICLE_EN + " 4"}),
             json.dumps({"url": "https://e.com/5", "document": ARTICLE_EN + " 5", "text": ARTICLE_EN + " 5 text"}),
             json.dumps({"_source": {"Url": "https://e.com/6", "Full_Text": ARTICLE_EN + " 6"}})]
    (tmp_path / "in" / "r.jsonl").write_text("\n".join(lines) + "\n")
    with open(tmp_path / "in" / "c.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["Headline", "articleBody", "datePublished", "URL"])
        w.writerow(["Seven", ARTICLE_EN + " 7", "2024-05-07T10:00:00Z", "https://e.com/7"])
    run(["--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--no-fetch"], quiet=True)
    assert not os.path.exists(tmp_path / "out" / "rejects")
    arts = {r["url"]: r for r in read_table(str(tmp_path / "out"), "articles")}
    assert sorted(arts) == [f"https://e.com/{i}" for i in range(1, 8)]
    assert [str(arts[f"https://e.com/{i}"]["published_at"])[:10] for i in (1, 2, 3, 7)] == [
        "2024-05-01", "2024-05-02", "2024-05-03", "2024-05-07"]
    assert (arts["https://e.com/1"]["title"], arts["https://e.com/3"]["title"], arts["https://e.com/7"]["title"]) == (
        "One", "Three", "Seven")
    assert arts["https://e.com/5"]["text"].endswith("5 text")  # a field named as the SPEC names it comes first


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(
    lambda d: d.isoformat())))
def test_any_warc_date_is_utc_or_none(value):
    import datetime as dt

    from transforms.read import _warc_date

    ts = _warc_date(value)
    assert ts is None or ts.utcoffset() == dt.timedelta(0)


_FIELDS = ("html", "raw_html", "text", "maintext", "content", "body", "article_text", "article", "title", "other")


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_FIELDS), st.one_of(
    st.text(max_size=30), st.sampled_from(["  ", "<!DOCTYPE html><p>x</p>", "\ufeff <html><body>", " <p>not a page"]),
    st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2))))
def test_a_records_body_is_its_first_field_that_holds_text(rec):
    from transforms.read import HTML_FIELDS, TEXT_FIELDS, _looks_like_html, _record_body

    def held(k):  # a text field may hold paragraphs (a list): their lines
        v = rec.get(k)
        if k in TEXT_FIELDS and isinstance(v, list):
            v = "\n".join(x.strip() for x in v if isinstance(x, str) and x.strip())
        return v if isinstance(v, str) and v.strip() else None

    body, kind = _record_body(rec)
    holding = [k for k in HTML_FIELDS + TEXT_FIELDS if held(k)]
    if not holding:
        assert body is None
        return
    assert body == held(holding[0])
    page = holding[0] in HTML_FIELDS or _looks_like_html(body[:4096].encode("utf-8", "surrogatepass"))
    assert kind == ("html" if page else "text")


def test_a_page_saved_as_txt_is_a_page_and_a_html_file_without_markup_is_a_text(tmp_path):
    """Read as what the bytes are: a page's source saved as .txt gave an
    article whose text was its markup, and a .html holding plain text lost
    its paragraph breaks (and its chrome lines stayed)."""
    (tmp_path / "page.txt").write_text(page(ARTICLE_EN))
    (tmp_path / "text.html").write_text(ARTICLE_EN.replace(". ", ".\n\n"))
    (tmp_path / "real.txt").write_text("Less than <5% of voters> said so. " + ARTICLE_EN)
    check([str(tmp_path / "*")], [("page.txt", "html", None), ("text.html", "text", None), ("real.txt", "text", None)],
          [])


def _mhtml(html: bytes, encoding: str = "quoted-printable", location: str = "https://news.example.com/budget",
           parts_before: bytes = b"") -> bytes:
    import base64
    import quopri

    body = quopri.encodestring(html) if encoding == "quoted-printable" else base64.encodebytes(html)
    b = b"------MultipartBoundary--abc----\r\n"
    return (b"From: <Saved by Blink>\r\nSnapshot-Content-Location: " + location.encode() + b"\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="----MultipartBoundary--abc----"'
            b"\r\n\r\n\r\n" + parts_before + b + b"Content-Type: text/html\r\nContent-Transfer-Encoding: "
            + encoding.encode() + b"\r\nContent-Location: " + location.encode() + b"\r\n\r\n" + body + b"\r\n" + b
            + b"Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(b"\x89PNG" + bytes(30000)) + b"\r\n------MultipartBoundary--abc------\r\n")


@pytest.mark.parametrize("encoding", ["quoted-printable", "base64"])
def test_a_page_a_browser_saved_as_one_file_is_read(tmp_path, encoding):
    """Chrome's and Edge's "Save as... Webpage, Single File" (.mhtml): before,
    an unsupported_format reject. Its text/html part is the page, read with
    the part's encoding, the page's own charset and its Content-Location as
    the URL; the images after it are not."""
    from apache_beam import pvalue

    from transforms.read import _ReadFileFn

    html = page(ARTICLE_EN.replace("budget", "budget \u2013 the caf\u00e9's").replace("council", "Council"),
                charset_meta="windows-1252").encode("cp1252")
    (tmp_path / "budget.mhtml").write_bytes(_mhtml(html, encoding))
    (tmp_path / "images.mht").write_bytes(_mhtml(b"", location="https://x.example/").replace(b"text/html", b"text/css"))
    (tmp_path / "big.mhtml").write_bytes(_mhtml(html * 80))  # its page part alone is past the 64 KB cap
    outs = [o for p in sorted(tmp_path.iterdir())
            for o in _ReadFileFn(64 << 10, 1 << 30, 16 << 20).process((str(p), p.stat().st_size))]
    docs = [o for o in outs if not isinstance(o, pvalue.TaggedOutput)]
    rejects = sorted((os.path.basename(o.value["source"]), o.value["source_format"], o.value["reason"])
                     for o in outs if isinstance(o, pvalue.TaggedOutput) and o.tag == "rejects")
    assert [(d["source_format"], d["url"], d["payload"].strip()) for d in docs] == [
        ("html", "https://news.example.com/budget", html.strip())]
    assert rejects == [("big.mhtml", "html", "too_large"), ("images.mht", "html", "no_html_part")]
    out = str(tmp_path / "out")
    run_dir = tmp_path / "in"
    run_dir.mkdir()
    (run_dir / "budget.mhtml").write_bytes(_mhtml(html, encoding))
    from pipeline.cli import run

    run(["--input", str(run_dir), "--output", out], quiet=True)
    (art,) = read_table(out, "articles")
    assert "the café's" in art["text"] and "\u2013" in art["text"] and art["url"] == "https://news.example.com/budget"


def test_hostile_mhtml_files_end_as_a_page_or_a_reject(tmp_path):
    """100,000 parts before the page, multiparts nested 5,000 deep (the stdlib
    parser ran out of stack: a read_error), bytes that are no MIME at all, a
    boundary never closed."""
    from apache_beam import pvalue

    from transforms.read import _ReadFileFn

    html = page(ARTICLE_EN).encode()
    top = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="B"\r\n\r\n'
    many = top + b"--B\r\nContent-Type: text/css\r\n\r\nx\r\n" * 100_000 + b"--B\r\nContent-Type: text/html\r\n\r\n" + html
    deep = b'MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary="B0"\r\n\r\n' + b"".join(
        b'--B%d\r\nContent-Type: multipart/related; boundary="B%d"\r\n\r\n' % (i, i + 1) for i in range(5000))
    files = {"many.mhtml": many, "deep.mhtml": deep + b"--B5000\r\nContent-Type: text/html\r\n\r\n" + html,
             "junk.mhtml": bytes(range(256)) * 100, "open.mhtml": top + b"--B\r\nContent-Type: text/html\r\n\r\n" + html,
             "single.mht": b"MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html}
    got = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        outs = list(_ReadFileFn(16 << 20, 1 << 30, 16 << 20).process((str(tmp_path / name), len(data))))
        (out,) = outs
        got[name] = out.value["reason"] if isinstance(out, pvalue.TaggedOutput) else out["payload"].strip() == html
    assert got == {"many.mhtml": True, "deep.mhtml": "no_html_part", "junk.mhtml": "no_html_part",
                   "open.mhtml": True, "single.mht": True}


def test_a_page_safari_saved_as_a_web_archive_is_read(tmp_path):
    """Safari's "Save As... Web Archive" (.webarchive, a binary property
    list): before, an unsupported_format reject. Its main resource is the
    page, read with its text encoding and URL; a damaged or empty archive is
    a reject, and so is one nested past Python's stack."""
    import plistlib

    from apache_beam import pvalue

    from transforms.read import _ReadFileFn

    html = page(ARTICLE_EN.replace("budget", "budget \u2013 the caf\u00e9's")).encode("cp1252")
    archive = {"WebMainResource": {"WebResourceData": html, "WebResourceURL": "https://news.example.com/budget",
                                   "WebResourceMIMEType": "text/html", "WebResourceTextEncodingName": "windows-1252",
                                   "WebResourceFrameName": ""},
               "WebSubresources": [{"WebResourceData": b"\x89PNG" + bytes(100), "WebResourceMIMEType": "image/png",
                                    "WebResourceURL": "https://news.example.com/a.png"}]}
    good = plistlib.dumps(archive, fmt=plistlib.FMT_BINARY)
    def deep_binary_plist(depth: int) -> bytes:  # an array in an array ... depth deep, written by hand
        import struct

        objects = [b"\xa1" + struct.pack(">H", i + 1) for i in range(depth)] + [b"\xa0"]
        body, offsets = b"bplist00", []
        for o in objects:
            offsets.append(len(body))
            body += o
        table = len(body)
        body += b"".join(struct.pack(">I", o) for o in offsets)
        return body + b"\x00" * 6 + bytes([4, 2]) + struct.pack(">QQQ", len(objects), 0, table)
    files = {"budget.webarchive": good, "cut.webarchive": good[: len(good) // 2],
             "empty.webarchive": plistlib.dumps({"WebSubresources": []}, fmt=plistlib.FMT_BINARY),
             "deep.webarchive": deep_binary_plist(5000)}
    got = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        (out,) = _ReadFileFn(16 << 20, 1 << 30, 16 << 20).process((str(tmp_path / name), len(data)))
        got[name] = (out.value["source_format"], out.value["reason"]) if isinstance(out, pvalue.TaggedOutput) else \
            (out["url"], out["http_charset"], out["payload"] == html)
    assert got == {"budget.webarchive": ("https://news.example.com/budget", "windows-1252", True),
                   "cut.webarchive": ("html", "bad_webarchive"), "empty.webarchive": ("html", "no_html_part"),
                   "deep.webarchive": ("html", "bad_webarchive")}
