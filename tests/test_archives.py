"""zip and tar archives: each file inside read by its own kind.

Before: a whole archive was one ``read/unsupported_format`` reject ("unpack
it and give the folder"), however many articles it held; news datasets and
crawls ship as .zip and .tar.gz.
"""
import gzip
import io
import json
import random
import tarfile
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from apache_beam import pvalue

from conftest import read_file, read_table
from fuzz import _MUTATIONS, zip_of
from hostile import ARTICLE_EN, page
from pipeline.cli import run
from transforms.read import _ReadFileFn

FILES = {
    "2024/a.html": page(ARTICLE_EN.replace("council", "senate"), title="A"),
    "2024/b.jsonl": "\n".join(json.dumps({"title": f"J{i}", "text": ARTICLE_EN + f" {i}"}) for i in (1, 2)) + "\n",
    "c.csv": "title,text\nC," + json.dumps(ARTICLE_EN.replace("council", "board")) + "\n",
    "d.txt": ARTICLE_EN.replace("council", "assembly"),
    "e.html.gz": gzip.compress(page(ARTICLE_EN.replace("council", "court"), title="E").encode()),
    "story.php?id=7": page(ARTICLE_EN.replace("council", "cabinet"), title="S"),
    "feed.rss": "<rss version='2.0'><channel></channel></rss>",
    "notes.bin": b"\x00\x01\x02binary",
}
ARTICLES = ["2024/a.html", "2024/b.jsonl#L1", "2024/b.jsonl#L2", "c.csv#L1", "d.txt", "e.html.gz", "story.php?id=7"]
REJECTS = [("feed.rss", "unsupported_format"), ("notes.bin", "unsupported_format")]


def _bytes(content):
    return content if isinstance(content, bytes) else content.encode()


def read(path, max_unzip=1 << 30):
    docs, rejects, skipped = [], [], []
    for out in _ReadFileFn(16 << 20, max_unzip, 16 << 20).process((str(path), path.stat().st_size)):
        if isinstance(out, pvalue.TaggedOutput):
            if out.tag == "rejects":
                rejects.append((out.value["source"][len(str(path)) + 1:], out.value["reason"]))
            elif out.tag == "skipped":
                skipped.append(out.value)
        else:
            docs.append(out["source"][len(str(path)) + 1:])
    return sorted(docs), sorted(rejects), skipped


def test_a_zip_is_read_file_by_file(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("x.html", page(ARTICLE_EN))
    path = tmp_path / "news.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, content in FILES.items():
            z.writestr(name, _bytes(content))
        z.writestr("nested.zip", inner.getvalue())
        z.writestr("emptydir/", "")
    docs, rejects, _ = read(path)
    assert docs == sorted(ARTICLES)
    assert rejects == sorted(REJECTS + [("nested.zip", "unsupported_format")])


@pytest.mark.parametrize("mode, suffix", [("w", ".tar"), ("w:gz", ".tar.gz"), ("w:bz2", ".tbz2"), ("w:xz", ".tar.xz"),
                                         ("zstd", ".tar.zst"), ("zstd", ".tzst")])
def test_a_tar_is_read_file_by_file_and_a_link_is_counted(tmp_path, mode, suffix):
    # tarfile writes no zstd (before Python 3.14): a plain tar, compressed as `tar --zstd` leaves it
    path, plain = tmp_path / f"news{suffix}", io.BytesIO()
    with tarfile.open(fileobj=plain, mode="w") if mode == "zstd" else tarfile.open(path, mode) as t:
        for name, content in FILES.items():
            data = _bytes(content)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("link.html")
        link.type, link.linkname = tarfile.SYMTYPE, "2024/a.html"
        t.addfile(link)
    if mode == "zstd":
        import zstandard

        path.write_bytes(zstandard.ZstdCompressor().compress(plain.getvalue()))
    docs, rejects, skipped = read(path)
    assert docs == sorted(ARTICLES) and rejects == sorted(REJECTS) and skipped == ["archive_non_file"]


def test_a_cut_tar_keeps_the_files_before_the_cut_and_a_bomb_stops_at_the_cap(tmp_path):
    path = tmp_path / "news.tar.gz"
    with tarfile.open(path, "w:gz") as t:
        for i in range(6):
            rnd = random.Random(i)
            noise = "".join(rnd.choice("abcdefghij ") for _ in range(6000))  # does not compress away
            data = page(ARTICLE_EN + f" Number {i}.", title=f"T{i}").encode() + f"<!-- {noise} -->".encode()
            info = tarfile.TarInfo(f"p{i}.html")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    docs, rejects, _ = read(cut)
    assert 1 <= len(docs) < 6 and ("", "truncated") in rejects
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(10):
            z.writestr(f"z{i}.txt", ARTICLE_EN.encode() + b" " * (1 << 20))
    docs, rejects, _ = read(bomb, max_unzip=3 << 20)  # each file past the cap is a reject, none inflated
    assert docs == ["z0.txt", "z1.txt"] and rejects == [(f"z{i}.txt", "decompressed_too_large") for i in range(2, 10)]
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    assert read(tmp_path / "bad.zip")[1] == [("", "bad_archive")]


def _tar_of_pages(n: int) -> tuple[bytes, list[int]]:
    """A tar of ``n`` pages and where each member's header starts."""
    buf, starts = io.BytesIO(), []
    with tarfile.open(fileobj=buf, mode="w") as t:
        for i in range(n):
            data = page(ARTICLE_EN + f" Number {i}.", title=f"T{i}").encode()
            info = tarfile.TarInfo(f"p{i:02d}.html")
            info.size = len(data)
            starts.append(buf.tell())
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue(), starts


@pytest.mark.parametrize("damage", ["checksum", "garbage", "zeros"])
@pytest.mark.parametrize("gz", [False, True])
def test_a_tar_goes_on_past_a_damaged_member_and_says_so(tmp_path, damage, gz):
    """A member whose header does not read: tarfile ended the archive there
    without a word (the files after it were neither articles nor rejects).
    Now it reads on to the next header, and the damaged stretch is one
    reject naming its bytes; a header zeroed out is a damaged stretch too,
    while zeros between two archives joined (``cat a.tar b.tar``) are not."""
    data, starts = _tar_of_pages(12)
    bad, at = bytearray(data), starts[5]
    if damage == "checksum":
        bad[at + 148:at + 156] = b"garbage!"
    else:
        bad[at:at + 512] = (b"\xff" if damage == "garbage" else b"\x00") * 512
    path = tmp_path / ("damaged.tar.gz" if gz else "damaged.tar")
    path.write_bytes(gzip.compress(bytes(bad)) if gz else bytes(bad))
    docs, rejects, _ = read(path)
    assert docs == [f"p{i:02d}.html" for i in range(12) if i != 5]
    assert rejects == [(f"bytes={at}-{starts[6] - 1}", "parse_error")], rejects
    joined = tmp_path / "joined.tar"  # two archives one after the other, the first one's end blocks between
    joined.write_bytes(data + _tar_of_pages(3)[0])
    docs, rejects, _ = read(joined)
    assert len(docs) == 15 and rejects == []
    (tmp_path / "not-a.tar").write_bytes(bytes(random.Random(1).getrandbits(8) for _ in range(20_000)))
    assert read(tmp_path / "not-a.tar")[:2] == ([], [("", "bad_archive")])  # no tar at all: as before
    empty = io.BytesIO()
    tarfile.open(fileobj=empty, mode="w").close()  # its end blocks only
    (tmp_path / "empty.tar").write_bytes(empty.getvalue())
    assert read(tmp_path / "empty.tar")[:2] == ([], [("", "no_documents")])
    last = io.BytesIO()  # a last file that is all zeros, up to the archive's own end blocks: read whole
    with tarfile.open(fileobj=last, mode="w") as t:
        for name, content in (("a.html", page(ARTICLE_EN).encode()), ("z.txt", bytes(100_000))):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            t.addfile(info, io.BytesIO(content))
    (tmp_path / "last.tar").write_bytes(last.getvalue())
    docs, rejects, _ = read(tmp_path / "last.tar")
    assert docs == ["a.html", "z.txt"] and rejects == [], rejects


def test_end_to_end_an_archive_counts_every_file(tmp_path):
    d = tmp_path / "in"
    d.mkdir()
    with zipfile.ZipFile(d / "news.zip", "w") as z:
        for name, content in FILES.items():
            z.writestr(name, _bytes(content))
    out = tmp_path / "out"
    m = run(["--input", str(d), "--output", str(out), "--no-fetch"], quiet=True)
    arts = read_table(out, "articles")
    assert sorted(a["source"].split("news.zip/", 1)[1] for a in arts) == sorted(ARTICLES)
    assert m["counts"]["inputs_seen"] == 9 == m["counts"]["articles_written"] + m["counts"]["rejected"]


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_files_of_one_name_in_one_archive_are_inputs_of_their_own(tmp_path, kind):
    """``tar -r`` appends a newer copy of a file under its name, and a zip can
    hold two of one name: each is an input with its own source and doc_id
    (before: three rows under one source, the two copies of one id, neither
    flagged a duplicate). A JSON-lines file's records keep their line numbers."""
    import warnings

    copies = [("a.txt", ARTICLE_EN), ("a.txt", ARTICLE_EN), ("a.txt", ARTICLE_EN.replace("council", "senate")),
              ("a.txt (2)", ARTICLE_EN.replace("council", "court")),
              ("b.jsonl", json.dumps({"text": ARTICLE_EN.replace("council", "board")}) + "\n")]
    copies.append(copies[-1])
    path = tmp_path / f"news.{kind}"
    if kind == "tar":
        with tarfile.open(path, "w") as t:
            for name, text in copies:
                info = tarfile.TarInfo(name)
                info.size = len(text.encode())
                t.addfile(info, io.BytesIO(text.encode()))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns of the duplicate name it writes
            with zipfile.ZipFile(path, "w") as z:
                for name, text in copies:
                    z.writestr(name, text)
    docs, rejects, _ = read(path)
    assert docs == ["a.txt", "a.txt (2)", "a.txt (3)", "b.jsonl (2)#L1", "b.jsonl#L1"]
    # a file whose own name is the one a copy was given gets the next; named so, it is no kind newsbeam reads
    assert rejects == [("a.txt (2) (2)", "unsupported_format")]
    out = str(tmp_path / "out")
    m = run(["--input", str(path), "--output", out], quiet=True)
    rows = read_table(out, "articles")
    assert m["counts"]["articles_written"] == len(rows) == 5 and m["counts"]["rejected"] == 1
    assert len({r["doc_id"] for r in rows}) == 5 and len({r["source"] for r in rows}) == 5
    # one article lightly edited: one cluster, every row but its canonical flagged
    assert len({r["dup_cluster_id"] for r in rows}) == 1 and sum(r["is_duplicate"] for r in rows) == 4


def test_a_wacz_gives_its_warcs_pages_and_counts_its_lists_and_indexes(tmp_path):
    """A WACZ (Browsertrix, ArchiveWeb.page) is a zip of WARCs under archive/
    beside page lists, indexes and a datapackage.json. Before: its captures
    were read, but each line of pages.jsonl and each JSON file was a
    missing_text reject and the index an unsupported_format one."""
    from hostile import http_response, warc_record

    warc = b"".join(gzip.compress(warc_record([("WARC-Type", "response"), ("WARC-Target-URI", f"https://ex.com/{i}"),
                                               ("WARC-Date", "2024-01-01T00:00:00Z"),
                                               ("WARC-Record-ID", f"<urn:uuid:{i}>")],
                                              http_response(page(ARTICLE_EN.replace("council", w)).encode())))
                    for i, w in enumerate(["senate", "court"]))
    path = tmp_path / "crawl.wacz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.warc.gz", warc)
        z.writestr("pages/pages.jsonl", '{"format": "json-pages-1.0"}\n' + "".join(
            json.dumps({"id": str(i), "url": f"https://ex.com/{i}", "title": "T"}) + "\n" for i in range(2)))
        z.writestr("indexes/index.cdx", "com,ex)/0 20240101000000 {}\n")
        z.writestr("datapackage.json", json.dumps({"profile": "data-package", "wacz_version": "1.1.1"}))
    docs, rejects, skipped = read(path)
    assert docs == ["archive/data.warc.gz#1", "archive/data.warc.gz#2"] and rejects == []
    assert skipped == ["wacz_metadata"] * 3
    out = str(tmp_path / "out")
    m = run(["--input", str(path), "--output", out], quiet=True)
    assert m["counts"]["articles_written"] == 2 and m["counts"]["rejected"] == 0
    assert m["counts"]["skipped_records"] == {"wacz_metadata": 3}


def _zip_of_pages(n: int, method=zipfile.ZIP_DEFLATED, streamed=False) -> tuple[bytes, dict[str, int]]:
    """A zip of ``n`` pages and where each file's bytes end (``fuzz.zip_of``)."""
    return zip_of({f"p{i:02d}.html": page(ARTICLE_EN + f" Number {i}.", title=f"T{i}") for i in range(n)},
                  method, streamed)


@pytest.mark.parametrize("streamed", [False, True])
@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_zip_cut_short_or_damaged_keeps_every_file_it_can(tmp_path, method, streamed):
    """zipfile reads a zip by its central directory, at its end: a zip cut
    short (a download that stopped) was one bad_archive reject and no file,
    and bytes added or lost in one file moved the rest, so that zipfile read
    every file at the wrong place. Now such a zip is read by its files'
    local headers: every whole file is read, the file cut or damaged is one
    reject."""
    data, ends = _zip_of_pages(8, method, streamed)
    names = sorted(ends)
    cut = (ends["p04.html"] + ends["p05.html"]) // 2  # inside p05's data
    (tmp_path / "cut.zip").write_bytes(data[:cut])
    docs, rejects, _ = read(tmp_path / "cut.zip")
    assert docs == names[:5]
    assert len(rejects) == 1 and rejects[0][0] == "p05.html" and rejects[0][1] in ("truncated", "open_failed")
    inside = ends["p02.html"] - 60  # inside p02's data
    for how, damaged in (("inserted", data[:inside] + b"\x00junk" * 9 + data[inside:]),
                         ("deleted", data[:inside] + data[inside + 25:]),
                         ("directory", data[:ends["p07.html"]] + b"\xff" * 60)):
        (tmp_path / f"{how}.zip").write_bytes(damaged)
        docs, rejects, _ = read(tmp_path / f"{how}.zip")
        if how == "directory":
            end = ends["p07.html"]  # the bytes where the directory was: one stretch
            assert docs == names and rejects == [(f"bytes={end}-{end + 59}", "parse_error")], (how, docs, rejects)
        else:
            assert docs == [n for n in names if n != "p02.html"], (how, docs, rejects)
            assert [r[0] for r in rejects] == ["p02.html"], (how, rejects)
    docs, _, _ = read_file(tmp_path / "cut.zip")
    assert [d["payload"] for d in docs] == [page(ARTICLE_EN + f" Number {i}.", title=f"T{i}").encode()
                                            for i in range(5)]


@settings(derandomize=True, max_examples=80, deadline=None)
@given(st.integers(0, 2 ** 32), st.sampled_from([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]), st.booleans())
def test_a_generated_damaged_zip_keeps_every_file_before_the_damage(tmp_path_factory, seed, method, streamed):
    """Generated: a zip of 2-9 pages, damaged by one of the fuzz mutations
    (cut, flipped, added, dropped or duplicated bytes, a quote). Every file
    whose bytes all come before the first damaged byte is read as written,
    and the reader raises nothing."""
    rnd = random.Random(seed)
    data, ends = _zip_of_pages(rnd.randint(2, 9), method, streamed)
    name = rnd.choice(sorted(_MUTATIONS.keys() - {"long_line", "header", "no_utf8"}))
    damaged, at = _MUTATIONS[name](rnd, data)
    path = tmp_path_factory.mktemp("zip") / "damaged.zip"
    path.write_bytes(damaged)
    docs, rejects, _ = read_file(path)
    got = {d["source"].rsplit("/", 1)[-1]: d["payload"] for d in docs}
    for file, end in sorted(ends.items()):
        if at is None or end <= at:
            i = int(file[1:3])
            assert got.get(file) == page(ARTICLE_EN + f" Number {i}.", title=f"T{i}").encode(), (name, file, rejects)
