"""A gzip file of records read member by member, past a damaged member
(``transforms.members``, ``read._ReadFileFn._member_records``)."""
from __future__ import annotations

import gzip
import io
import json
import random

import pytest
from conftest import read_file, read_in_ranges
from fuzz import SUFFIX, article_text, compress_member, jsonl_groups, members_with_one_damaged

from transforms import members as reader


def _inflate(data: bytes, size: int = 7, codec: str = "gzip") -> tuple[bytes, list]:
    """All the bytes ``Members`` gives for ``data``, read ``size`` at a time through a buffered reader."""
    members = reader.Members(io.BytesIO(data), codec)
    stream = io.BufferedReader(members, 16)
    out = b"".join(iter(lambda: stream.read(size), b""))
    return out, members.damaged


def test_whole_members_read_as_gzip_reads_them():
    parts = [b"a" * 1000, b"", b"line\n" * 50, bytes(range(256)) * 40]
    data = b"".join(gzip.compress(p, mtime=0) for p in parts) + b"\x00" * 10  # NUL padding at the end
    out, damaged = _inflate(data)
    assert out == gzip.decompress(data) == b"".join(parts) and damaged == []
    assert _inflate(b"") == (b"", [])


def test_a_member_cut_in_the_middle_of_the_file_is_one_stretch_and_reading_goes_on():
    a, b, c = (gzip.compress(f"{x}\n".encode() * 100, mtime=0) for x in "abc")
    out, damaged = _inflate(a + b[: len(b) // 2] + c)
    assert out == b"a\n" * 100 + b"c\n" * 100
    assert [(d.start, d.end) for d in damaged] == [(len(a), len(a) + len(b) // 2)]


def test_a_checksum_that_does_not_match_is_damage():
    a, b = (gzip.compress(f"{x}\n".encode() * 100, mtime=0) for x in "ab")
    bad = bytearray(a)
    bad[-8] ^= 1  # the CRC-32 in the trailer
    out, damaged = _inflate(bytes(bad) + b)  # what zlib gave before it read the trailer is handed on
    assert out.endswith(b"b\n" * 100) and set(out[:-200]) <= set(b"a\n") and len(damaged) == 1 and "check" in damaged[0].error


def test_the_end_of_the_file_inside_a_member_keeps_the_lines_before_it_and_no_gzip_is_one_stretch():
    a = gzip.compress(b"x" * 10000, mtime=0)
    with pytest.raises(EOFError):
        gzip.decompress(a + a[:30])
    members = reader.Members(io.BytesIO(a + a[:-20]))  # a line the end cuts is left out
    assert io.BufferedReader(members).read() == b"" and members.truncated == len(a)
    a = gzip.compress(b"x\n" * 5000, mtime=0)
    members = reader.Members(io.BytesIO(a + a[:-20]))
    got = io.BufferedReader(members).read()
    assert got.startswith(b"x\n" * 5000) and got == b"x\n" * (len(got) // 2) and members.truncated == len(a)
    lines = gzip.compress(b"".join(b"line %d\n" % i for i in range(5000)), mtime=0)
    members = reader.Members(io.BytesIO(lines[: len(lines) // 2]))
    got = io.BufferedReader(members).read()
    assert got.endswith(b"\n") and got.count(b"\n") > 1000 and members.truncated == 0
    assert b"".join(b"line %d\n" % i for i in range(got.count(b"\n"))) == got
    assert _inflate(b"plain text, no gzip")[1] == [(0, 19, "Error -3 while decompressing data: incorrect header check")]


def test_a_first_member_whose_magic_is_damaged_is_one_stretch():
    a, b = (gzip.compress(f"{x}\n".encode() * 100, mtime=0) for x in "ab")
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(b"\x1f\x89" + a[2:] + b)
    out, damaged = _inflate(b"\x1f\x89" + a[2:] + b)
    assert out == b"b\n" * 100 and [(d.start, d.end) for d in damaged] == [(0, len(a))]


def test_bytes_after_the_last_member_are_one_stretch_to_the_end():
    a = gzip.compress(b"x\n" * 10, mtime=0)
    junk = b"\x1f\x8b\x08 false start, then junk" * 3
    out, damaged = _inflate(a + junk)
    assert out == b"x\n" * 10 and [(d.start, d.end) for d in damaged] == [(len(a), len(a) + len(junk))]


def test_false_member_starts_are_bounded(monkeypatch):
    """Junk holding the gzip magic everywhere: at most MAX_FALSE tries, then the rest is one stretch."""
    monkeypatch.setattr(reader, "MAX_FALSE", 50)
    a = gzip.compress(b"x\n", mtime=0)
    junk = b"\x1f\x8b\x08\xff" * 10000
    out, damaged = _inflate(a + junk + a)
    assert out == b"x\n" and [(d.start, d.end) for d in damaged] == [(len(a), len(a) * 2 + len(junk))]


def _csv_chunks(rnd, members: int) -> tuple[list[bytes], list[list[dict]]]:
    import csv

    chunks, recs, n = [], [], 0
    for m in range(members):
        k = rnd.randint(1, 6)
        rows = [{"url": f"https://example.com/{n + i}", "text": article_text(rnd).replace(". ", '.\n"Quoted", ')}
                for i in range(k)]
        n += k
        out = io.StringIO()
        w = csv.DictWriter(out, ["url", "text"], lineterminator="\n")
        if m == 0:
            w.writeheader()
        w.writerows(rows)
        chunks.append(out.getvalue().encode())
        recs.append(rows)
    return chunks, recs


@pytest.mark.parametrize("kind, codec", [("jsonl", "gzip"), ("csv", "gzip"), ("jsonl", "bzip2"), ("csv", "xz"),
                                         ("jsonl", "zstd")])
def test_the_members_a_damage_did_not_touch_are_read_as_written(tmp_path, kind, codec):
    """Generated files: records in 2-8 members (gzip members, bzip2 or xz
    streams, zstd frames), one member damaged by one of the fuzzer's
    mutations (a CSV's first member, which holds its header, kept whole).
    Every record of every other member is read as written, and the damaged
    member costs at least one reject. Before, the first damaged member ended
    the file: the members after it were lost."""
    rnd = random.Random(20261205)
    untouched = read = 0
    for n in range(150 if codec == "gzip" else 60):
        chunks, recs = (jsonl_groups if kind == "jsonl" else _csv_chunks)(rnd, rnd.randint(2, 8))
        data, hit = members_with_one_damaged(rnd, chunks, first=1 if kind == "csv" else 0, codec=codec)
        path = tmp_path / f"case{n}.{kind}.{SUFFIX[codec]}"
        path.write_bytes(data)
        docs, rejects, _ = read_file(path)
        got = {d["url"]: d["payload"] for d in docs}
        want = [r for i, m in enumerate(recs) if i != hit for r in m]
        untouched += len(want)
        read += sum(1 for r in want if got.get(r["url"]) == r["text"].encode())
        assert rejects, (n, hit)
        assert all(got.get(r["url"]) == r["text"].encode() for r in want), (n, hit, rejects)
    assert untouched > 100 and read == untouched


def test_the_damaged_stretches_are_rejects_after_the_records_and_strides_share_them(tmp_path):
    chunks, recs = jsonl_groups(random.Random(3), 6)
    members = [gzip.compress(c, mtime=0) for c in chunks]
    members[2] = members[2][:20]
    members[4] = b"junk" + members[4]
    path = tmp_path / "news.jsonl.gz"
    path.write_bytes(b"".join(members))
    docs, rejects, _ = read_file(path)
    assert len(docs) == sum(len(m) for i, m in enumerate(recs) if i != 2)
    starts = [sum(map(len, members[:i])) for i in range(len(members) + 1)]
    assert rejects == [(f"news.jsonl.gz#bytes={starts[2]}-{starts[3]}", "decode", "bad_gzip"),
                       (f"news.jsonl.gz#bytes={starts[4]}-{starts[4] + 4}", "decode", "bad_gzip")]
    whole = read_in_ranges(str(path), 0, max_line_bytes=16 << 20)
    for strides in (2, 3):
        strided = read_in_ranges(str(path), 1, max_line_bytes=16 << 20, strides=strides)
        assert sorted(strided, key=repr) == sorted(whole, key=repr)


def test_a_zstd_skippable_frame_between_frames_is_passed_over():
    """A skippable frame (a writer's metadata, a seekable-format index) between
    two zstd frames is no damage: both frames' lines, no stretch."""
    import struct

    import zstandard

    pack = zstandard.ZstdCompressor(write_checksum=True)
    skip = struct.pack("<II", 0x184D2A50, 5) + b"index"
    out, damaged = _inflate(pack.compress(b"a\n" * 100) + skip + pack.compress(b"b\n" * 100), 64, "zstd")
    assert out == b"a\n" * 100 + b"b\n" * 100 and damaged == []


@pytest.mark.parametrize("codec", ["gzip", "bzip2", "xz", "zstd"])
def test_nothing_of_a_damaged_member_is_handed_on(codec):
    """Generated files of 2-8 members, one damaged: every line handed on is
    a line that was written (a damaged member gives nothing, not what it
    decoded before its checks failed: a bzip2 block gave megabytes of
    garbage, read as thousands of broken records), unless its garbage ran
    past ``VERIFY_MAX`` (one line over the readers' line cap, then), and
    every line of the other members is there."""
    rnd = random.Random(7)
    for _ in range(60):
        chunks, _recs = jsonl_groups(rnd, rnd.randint(2, 8))
        data, hit = members_with_one_damaged(rnd, chunks, codec=codec)
        out, _damaged = _inflate(data, 4096, codec)
        written = {line for c in chunks for line in c.splitlines()}
        # past VERIFY_MAX a member streams: a bzip2 block's runs can decode garbage that long before its check
        assert {line for line in out.splitlines() if len(line) < reader.VERIFY_MAX} <= written
        assert {line for i, c in enumerate(chunks) if i != hit for line in c.splitlines()} <= set(out.splitlines())


@pytest.mark.parametrize("codec", ["gzip", "bzip2", "xz", "zstd"])
def test_a_json_document_cut_short_is_one_reject_of_the_file(tmp_path, codec):
    """A JSON array the file's end cuts: its records before the cut, then one
    reject for the file, `truncated` (the document's own parse error is the
    cut's, not a second row for the file)."""
    recs = [{"url": f"https://example.com/{i}", "text": article_text(random.Random(i))} for i in range(40)]
    data = compress_member(json.dumps(recs, indent=1).encode(), codec)
    path = tmp_path / f"cut.json.{SUFFIX[codec]}"
    path.write_bytes(data[: len(data) * 2 // 3])
    docs, rejects, _ = read_file(path)
    assert [r for r in rejects if r[0] == path.name] == [(path.name, "decode", "truncated")]
    assert len({r[0] for r in rejects}) == len(rejects) and len(docs) < 40
    assert docs or codec in ("bzip2", "zstd")  # a block of theirs holds the whole document: none of it is read
    assert all(d["payload"] == recs[int(d["url"].rsplit("/", 1)[1])]["text"].encode() for d in docs)
    # cut inside its first record: no record, and still one row for the file
    data = compress_member(json.dumps([{"url": "https://example.com/0", "text": "word " * 20000}], indent=1).encode(),
                           codec)
    path.write_bytes(data[: len(data) // 2])
    assert read_file(path)[:2] == ([], [(path.name, "decode", "truncated")])


def test_a_page_in_gzip_is_read_as_before(tmp_path):
    """A page or text is one document: damage in its gzip ends it, one reject, as before."""
    page = gzip.compress(b"<html><body><p>" + b"word " * 500 + b"</p></body></html>", mtime=0)
    path = tmp_path / "story.html.gz"
    path.write_bytes(page[:-8] + bytes(8) + page)
    docs, rejects, _ = read_file(path)
    assert docs == [] and rejects == [("story.html.gz", "decode", "bad_gzip")]
