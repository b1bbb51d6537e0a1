"""What reading a Parquet file costs beside the same records as JSON lines
and CSV: distinct generated articles (``tests/fuzz.article_text``, a
title, a URL, a timestamp), written once in each format, read by the
reader alone (``_ReadFileFn``, no pipeline), best of ``--repeat``, side by
side in one run. Also printed: what getting the rows from the child process
costs alone (it reads each Parquet file and hands on its rows as JSON
records, ``transforms/parquet_records.ChildReader``), and
what many small files cost (``--small`` files of 20 rows each), where the
child's start is paid once per reader, not per file.

Usage: python benchmarks/parquet_read.py [--records 50000] [--small 200] [--repeat 2] [--seed 1]
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from apache_beam import pvalue  # noqa: E402

from fuzz import article_text  # noqa: E402
from transforms import parquet_records  # noqa: E402
from transforms.read import _FOLDED_SET, _ReadFileFn  # noqa: E402


def records(rnd: random.Random, n: int) -> list[dict]:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [{"title": article_text(rnd, 1)[:80], "url": f"https://example.com/{rnd.getrandbits(48):x}",
             "published": (start + dt.timedelta(seconds=rnd.randrange(10**7))).isoformat(),
             "text": article_text(rnd, rnd.randint(4, 30))} for _ in range(n)]


def write(folder: str, name: str, recs: list[dict]) -> dict[str, str]:
    paths = {k: os.path.join(folder, f"{name}.{k}") for k in ("jsonl", "csv", "parquet")}
    with open(paths["jsonl"], "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")
    with open(paths["csv"], "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(recs[0]))
        w.writeheader()
        w.writerows(recs)
    table = pa.table({k: [r[k] for r in recs] for k in ("title", "url", "text")})
    table = table.append_column("published", pa.array([dt.datetime.fromisoformat(r["published"]) for r in recs],
                                                      pa.timestamp("us", tz="UTC")))
    pq.write_table(table, paths["parquet"])
    return paths


def read(fn: _ReadFileFn, paths: list[str]) -> tuple[float, int]:
    t = time.perf_counter()
    docs = 0
    for p in paths:
        for out in fn.process((p, os.path.getsize(p))):
            docs += not isinstance(out, pvalue.TaggedOutput)
    return time.perf_counter() - t, docs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=50_000)
    ap.add_argument("--small", type=int, default=200, help="small files of 20 records each")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    fn = _ReadFileFn(16 << 20, 1 << 30, 16 << 20)
    with tempfile.TemporaryDirectory() as tmp:
        big = write(tmp, "big", records(rnd, args.records))
        small = [write(tmp, f"small{i}", records(rnd, 20)) for i in range(args.small)]
        read(fn, [big["parquet"]])  # the child started, imports warm
        print(f"{'input':34} {'records':>8} {'seconds':>8} {'us/record':>10} {'vs JSON lines':>14}")
        for label, files, n in [(f"one file of {args.records:,}", {k: [v] for k, v in big.items()}, args.records),
                                (f"{args.small} files of 20", {k: [s[k] for s in small] for k in big},
                                 20 * args.small)]:
            best = {}
            for kind in ("jsonl", "csv", "parquet"):
                best[kind] = min(read(fn, files[kind]) for _ in range(args.repeat))
                secs, docs = best[kind]
                assert docs == n, (kind, docs, n)
                print(f"{label + ', ' + kind:34} {docs:8d} {secs:8.2f} {secs / docs * 1e6:10.1f} "
                      f"{secs / best['jsonl'][0]:13.2f}x")
            child = parquet_records.ChildReader()
            t = time.perf_counter()
            for p in files["parquet"]:
                for _ in child.rows(p, 16 << 20, _FOLDED_SET):
                    pass
            child.close()
            print(f"{'  of which reading the rows (child)':34} {'':8} {time.perf_counter() - t:8.2f}")
    fn.teardown()


if __name__ == "__main__":
    main()
