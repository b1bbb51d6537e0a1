"""What the reader keeps of files damaged at one place: the records that
the damage did not touch, in the formats whose records a damage used to
take with it.

- ``csv``: rows whose texts hold line breaks, delimiters and quotes; one
  row's quoting damaged (its closing quote dropped, its opening one, a
  stray quote at its start or anywhere in it). A quote left open made
  ``csv`` read the rows after it as one text.
- ``json``: records as an array (pretty or on one line), documents one
  after another (``jq``), an API's answer, or its list two objects down
  (``tests/fuzz.json_with_a_damaged_record``); one record damaged (a character
  dropped, or a quote, brace, bracket, comma or junk added). The first
  record that did not parse ended the file.
- ``gzip`` (and ``bzip2``, ``xz``, ``zstd``, not run unless asked): JSON
  lines in 2-8 gzip members, bzip2 or xz streams or zstd frames (as a
  writer that appends, a delivery stream or ``pbzip2`` leaves them), one
  member damaged by one of ``tests/fuzz.py``'s mutations of its own bytes
  (``members_with_one_damaged``). The standard readers read the members as
  one stream: the first that did not decompress ended the file.
- ``zip``: pages in a zip (``tests/fuzz.zip_of``: stored or deflated, sizes
  before the data, or after it as a writer to a pipe puts them), damaged by one of ``tests/fuzz.py``'s mutations (cut, flipped,
  added, dropped or duplicated bytes, a quote). ``zipfile`` reads the
  central directory at the end: a zip cut short had none, and bytes added
  or lost moved every file.
- ``parquet``: 2-8 row groups of texts (random codec, page version,
  dictionary, with or without page checksums), bytes of one row group
  flipped or overwritten in place (a disk's or a copy's damage: bytes added
  or dropped move the offsets the footer holds, and cost what follows).
  Also printed: what ``pyarrow.parquet.read_table`` (what pandas and
  Polars call) reads of the same files, all or nothing.

For each kind: files, then the untouched records (every record but the
damaged one for ``csv`` and ``json``; every record of the other members
for the compressed kinds; the files whose bytes all come
before the first damaged byte for ``zip``) and how many were read as
written, and how many files lost one. Reader alone (``_ReadFileFn`` for
the compressed kinds and ``zip``, the record readers for ``csv`` and ``json``), no pipeline.

Usage: python benchmarks/recovery.py [--files 2000] [--seed 1] [--kinds csv,json,zip,gzip,bzip2,xz,zstd,parquet]
"""
from __future__ import annotations

import argparse
import io
import os
import pathlib
import random
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from conftest import read_file  # noqa: E402
from fuzz import (_MUTATIONS, SUFFIX, article_page, article_text, csv_with_a_damaged_quote,  # noqa: E402
                  members_with_one_damaged, json_with_a_damaged_record, jsonl_groups, parquet_file, zip_of)
from transforms import csv_records, json_document  # noqa: E402


def csv_case(rnd: random.Random):
    rows = [[f"Item {i}", f"https://example.com/{rnd.getrandbits(32):x}",
             article_text(rnd).replace(". ", ".\n", rnd.randint(0, 3)) + (' "quoted", end' if rnd.random() < .5 else "")]
            for i in range(rnd.randint(3, 12))]
    delimiter = rnd.choice([",", ";", "\t"])
    how = rnd.choice(["drop_close", "drop_open", "stray_open", "stray_any"])
    text, hit = csv_with_a_damaged_quote(rnd, rows, delimiter, how)
    data = text.encode()
    got = [rec for _, rec in csv_records.rows(io.BytesIO(data), "utf-8", 1 << 20, delimiter == "\t")
           if isinstance(rec, dict)]
    want = [{"title": t, "url": u, "text": x} for i, (t, u, x) in enumerate(rows) if i != hit]
    return len(want), sum(1 for r in want if r in got)


def json_case(rnd: random.Random):
    recs = [{"title": f"t{i}", "url": f"https://example.com/{rnd.getrandbits(32):x}",
             "text": article_text(rnd) + rnd.choice(["", '"q"', "{x}", "\\"])} for i in range(rnd.randint(2, 12))]
    data, hit = json_with_a_damaged_record(rnd, recs, rnd.choice(["array", "jq", "envelope", "nested"]),
                                           rnd.choice([None, 1, 2, 4]))
    got = []
    try:
        for rec in json_document.records(io.BytesIO(data.encode()), "utf-8", 1 << 24, lambda r: "text" in r):
            got.append(rec)
    except ValueError:
        pass  # the rest of the file is the reader's one reject; the records read before it count
    want = [r for i, r in enumerate(recs) if i != hit]
    return len(want), sum(1 for r in want if r in got)


def members_case(rnd: random.Random, folder: pathlib.Path, n: int, codec: str):
    chunks, members = jsonl_groups(rnd, rnd.randint(2, 8))
    data, hit = members_with_one_damaged(rnd, chunks, codec=codec)
    path = folder / f"case{n}.jsonl.{SUFFIX[codec]}"
    path.write_bytes(data)
    got = {d["url"]: d["payload"] for d in read_file(path)[0]}
    want = [r for i, m in enumerate(members) if i != hit for r in m]
    return len(want), sum(1 for r in want if got.get(r["url"]) == r["text"].encode())


def zip_case(rnd: random.Random, folder: pathlib.Path, n: int):
    pages = {f"p{i}.html": article_page(rnd) for i in range(rnd.randint(2, 10))}
    data, ends = zip_of(pages, rnd.choice([zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED]), rnd.random() < 0.3)
    name = rnd.choice(["truncate", "truncate", "truncate", "flip", "insert", "delete", "quote"])
    data, at = _MUTATIONS[name](rnd, data)
    path = folder / f"case{n}.zip"
    path.write_bytes(data)
    docs = read_file(path)[0]
    got = {d["source"].rsplit("/", 1)[-1]: d["payload"].decode() for d in docs}
    before = [k for k, e in ends.items() if at is None or e <= at]
    return len(before), sum(1 for k in before if got.get(k) == pages[k])


WHOLE = [0]  # records of the untouched row groups that pyarrow.parquet.read_table read as written


def parquet_case(rnd: random.Random, folder: pathlib.Path, n: int):
    import pyarrow.parquet as pq

    texts = [article_text(rnd, rnd.randint(1, 4)) for _ in range(rnd.randint(4, 80))]
    while True:
        data, _ = parquet_file(rnd, texts)
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        if meta.num_row_groups > 1:
            break
    hit = rnd.randrange(meta.num_row_groups)
    group = meta.row_group(hit)
    start = min(group.column(i).dictionary_page_offset or group.column(i).data_page_offset
                for i in range(group.num_columns))
    end = max((group.column(i).dictionary_page_offset or group.column(i).data_page_offset)
              + group.column(i).total_compressed_size for i in range(group.num_columns))
    damaged = bytearray(data)
    for _ in range(rnd.randint(1, 8)):
        at = rnd.randrange(start, end)
        if rnd.random() < 0.5:
            damaged[at] ^= 1 << rnd.randrange(8)
        else:
            junk = rnd.randbytes(min(rnd.randint(1, 64), end - at))
            damaged[at:at + len(junk)] = junk
    path = folder / f"case{n}.parquet"
    path.write_bytes(bytes(damaged))
    first = sum(meta.row_group(g).num_rows for g in range(hit))
    want = {f"{path}#L{i + 1}": t for i, t in enumerate(texts) if not first <= i < first + group.num_rows}
    got = {d["source"]: d["payload"].decode() for d in read_file(path)[0]}
    try:
        table = pq.read_table(path).column("text").to_pylist()
        WHOLE[0] += sum(1 for i, t in enumerate(table) if f"{path}#L{i + 1}" in want and t == texts[i])
    except Exception:  # the whole file lost
        pass
    return len(want), sum(1 for k, t in want.items() if got.get(k) == t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000, help="files of each kind")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kinds", default="csv,json,zip,gzip", help="of csv, json, zip, gzip, bzip2, xz, zstd")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    print(f"{'kind':6} {'files':>6} {'untouched records':>18} {'read as written':>16} {'files losing one':>17}")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.kinds.split(","):
            files = records = read = losing = 0
            for n in range(args.files):
                want, got = (csv_case(rnd) if kind == "csv" else json_case(rnd) if kind == "json"
                             else members_case(rnd, pathlib.Path(tmp), n, kind) if kind in SUFFIX
                             else parquet_case(rnd, pathlib.Path(tmp), n) if kind == "parquet"
                             else zip_case(rnd, pathlib.Path(tmp), n))
                files += 1
                records += want
                read += got
                losing += got < want
            print(f"{kind:6} {files:6d} {records:18d} {read:9d} ({read / max(records, 1):6.1%}) {losing:17d}")
            if kind == "parquet":
                print(f"{'':6} pyarrow.parquet.read_table of the same files: {WHOLE[0]} of {records} "
                      f"({WHOLE[0] / max(records, 1):.1%})")


if __name__ == "__main__":
    main()
