"""A day's news in one JSON-lines file, at several sizes: wall time, CPU and
peak RSS of the whole `newsbeam run` process tree.

For each size, ``benchmarks/corpus.py`` writes that many distinct articles
into one file, and ``newsbeam run --quiet`` ingests it in a fresh process
(the process tree sampled from /proc every 0.2 s, as benchmarks/throughput.py
does). Prints one row per size and run mode, with time per article and peak
memory against the smallest size. Issue 20's bars: peak at the largest size
<= 1.3x the smallest and under 4 GB; time per article <= 1.2x.

``--warc`` instead writes every page of ../shared/data/extraction (980
distinct pages) into one gzipped WARC (a request and a response record a
page) and runs it on one worker (with its default extraction children, and
with one), and on two workers: issue 20's bar for one big WARC is two
workers at 1.6x one (set when one worker extracted in one child).

``--containers`` writes one file of each kind that cannot be cut into byte
ranges and so is read whole: the articles of ``--sizes``' first size as
``.jsonl.gz``, as a CSV, as a JSON array and as Parquet, and the extraction sets' pages
as a zip; and runs each on one worker and on two (issue 20: a file's
records spread over every worker; ``read.strided``). ``--root DIR`` runs
another checkout's ``newsbeam`` on the same files (its code before a
change, side by side).

Usage: python benchmarks/scale.py [--sizes 10000,40000] [--workers 1,2] [--seed 1] [--warc]
       python benchmarks/scale.py --containers [--sizes 10000] [--root DIR] [--kinds jsonl.gz,csv,json,parquet,zip]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks.corpus import WMT, write_corpus  # noqa: E402
from benchmarks.throughput import TWO_WORKERS, newsbeam  # noqa: E402


def write_warc(path: str, pages_dir: str) -> int:
    """Every page of the extraction sets as one .warc.gz (warcinfo, then a
    request and a response record a page, in a fixed order); returns the
    number of records."""
    import glob
    import json
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    pages = sorted(glob.glob(os.path.join(pages_dir, "*", "*.html")))
    with open(path, "wb") as f:
        writer = WARCWriter(f, gzip=True)
        writer.write_record(writer.create_warcinfo_record(os.path.basename(path), {"software": "newsbeam scale"}))
        for i, page in enumerate(pages):
            meta = json.load(open(page[:-5] + ".json", encoding="utf-8"))
            url = meta.get("url") or f"http://example.test/{os.path.basename(os.path.dirname(page))}/{i}"
            body = open(page, "rb").read()
            req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "example.test")], is_http_request=True)
            writer.write_record(writer.create_warc_record(url, "request", payload=BytesIO(b""), http_headers=req))
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html"),
                                                  ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body),
                                                          http_headers=headers))
    return 1 + 2 * len(pages)


def warc_run(tmp: str) -> int:
    from benchmarks._common import DATA_DIR

    pages = os.path.join(DATA_DIR, "extraction")
    if not os.path.isdir(pages):
        print(f"skip: {pages} is not here")
        return 0
    folder = os.path.join(tmp, "warc")
    os.makedirs(folder)
    path = os.path.join(folder, "pages.warc.gz")
    records = write_warc(path, pages)
    print(f"one WARC: {records} records, {os.path.getsize(path) / 2**20:.1f} MB")
    print(f"{'run':40s} {'wall s':>8s} {'CPU s':>8s} {'peak RSS MB':>11s}")
    walls = {}
    runs = (("1 worker (default extraction children)", []),
            ("1 worker, 1 extraction child", ["--extract-processes", "1"]),
            ("2 workers (default: 1 child each)", TWO_WORKERS))
    for i, (label, extra) in enumerate(runs):
        out = os.path.join(tmp, f"warc_out{i}")
        r = newsbeam(folder, out, extra)
        walls[label] = r["wall"]
        print(f"{label:40s} {r['wall']:8.1f} {r['cpu']:8.1f} {r['peak_mb']:11.0f}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
    one, single, two = (walls[label] for label, _ in runs)
    print(f"one WARC of {records} records: 2 workers {single / two:.2f}x one worker with one extraction child, "
          f"{one / two:.2f}x one worker with its default children")
    return 0


def containers_run(tmp: str, n: int, seed: int, root: str | None,
                   kinds: tuple[str, ...] = ("jsonl.gz", "csv", "json", "parquet", "zip")) -> int:
    import csv
    import gzip
    import json
    import zipfile

    from benchmarks._common import DATA_DIR

    if not os.path.exists(WMT):
        print(f"skip: {WMT} is not here")
        return 0
    plain = os.path.join(tmp, "day.jsonl")
    write_corpus(plain, n, seed)
    records = [json.loads(line) for line in open(plain, encoding="utf-8")]
    files = {}
    for kind in kinds:
        folder = os.path.join(tmp, kind.replace(".", "_"))
        os.makedirs(folder)
        path = os.path.join(folder, f"day.{kind}")
        if kind == "jsonl.gz":
            with open(plain, "rb") as src, gzip.open(path, "wb") as dst:
                shutil.copyfileobj(src, dst)
        elif kind == "csv":
            names = sorted({k for r in records for k in r})
            with open(path, "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(names)
                for r in records:
                    w.writerow([r.get(k, "") for k in names])
        elif kind == "json":
            with open(path, "w", encoding="utf-8") as f:
                json.dump(records, f, indent=1)
        elif kind == "parquet":  # pandas' and pyarrow's default: one row group
            import pyarrow as pa
            import pyarrow.parquet as pq

            names = sorted({k for r in records for k in r})
            pq.write_table(pa.table({k: [r.get(k) for r in records] for k in names}), path)
        else:
            import glob

            pages = sorted(glob.glob(os.path.join(DATA_DIR, "extraction", "*", "*.html")))
            if not pages:
                continue
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
                for page in pages:
                    z.write(page, os.path.relpath(page, os.path.join(DATA_DIR, "extraction")))
        files[kind] = (folder, len(pages) if kind == "zip" else n, os.path.getsize(path))
    print(f"{'file':9s} {'records':>8s} {'MB':>6s} {'1 worker s':>10s} {'2 workers s':>11s} {'ratio':>6s}"
          f"{'  (' + root + ')' if root else ''}")
    for kind, (folder, count, size) in files.items():
        walls = []
        for flags in ([], TWO_WORKERS):
            out = os.path.join(tmp, "out")
            walls.append(newsbeam(folder, out, flags, root=root)["wall"])
            shutil.rmtree(out, ignore_errors=True)
        print(f"{kind:9s} {count:8d} {size / 2**20:6.1f} {walls[0]:10.1f} {walls[1]:11.1f} {walls[0] / walls[1]:6.2f}",
              flush=True)
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,40000")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warc", action="store_true", help="one WARC of the extraction sets' pages instead")
    ap.add_argument("--containers", action="store_true", help="one file of each kind read whole instead")
    ap.add_argument("--root", help="with --containers: the checkout whose newsbeam runs")
    ap.add_argument("--kinds", default="jsonl.gz,csv,json,parquet,zip", help="with --containers: the files' kinds")
    args = ap.parse_args(argv)
    if args.containers:
        tmp = tempfile.mkdtemp(prefix="newsbeam-scale-")
        try:
            return containers_run(tmp, int(args.sizes.split(",")[0]), args.seed, args.root,
                                  tuple(args.kinds.split(",")))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.warc:
        tmp = tempfile.mkdtemp(prefix="newsbeam-scale-")
        try:
            return warc_run(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if not os.path.exists(WMT):
        print(f"skip: {WMT} is not here")
        return 0
    sizes = [int(x) for x in args.sizes.split(",")]
    modes = [int(x) for x in args.workers.split(",")]
    tmp = tempfile.mkdtemp(prefix="newsbeam-scale-")
    rows = []
    try:
        print(f"{'articles':>9s} {'MB':>6s} {'workers':>7s} {'wall s':>8s} {'ms/article':>10s} {'CPU s':>8s} "
              f"{'peak RSS MB':>11s}")
        for n in sizes:
            folder = os.path.join(tmp, f"in{n}")
            os.makedirs(folder)
            path = os.path.join(folder, f"day_{n}.jsonl")
            size = write_corpus(path, n, args.seed)
            for w in modes:
                out = os.path.join(tmp, f"out{n}_{w}")
                r = newsbeam(folder, out, TWO_WORKERS if w == 2 else [])
                rows.append((n, w, r))
                print(f"{n:9d} {size / 2**20:6.1f} {w:7d} {r['wall']:8.1f} {1000 * r['wall'] / n:10.2f} "
                      f"{r['cpu']:8.1f} {r['peak_mb']:11.0f}", flush=True)
                shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(folder, ignore_errors=True)
        for w in modes:
            mine = [(n, r) for n, ww, r in rows if ww == w]
            if len(mine) > 1:
                (n0, r0), (n1, r1) = mine[0], mine[-1]
                print(f"{w} worker(s), {n1} against {n0} articles: peak RSS x{r1['peak_mb'] / r0['peak_mb']:.2f}, "
                      f"time per article x{(r1['wall'] / n1) / (r0['wall'] / n0):.2f}")
        if 1 in modes and 2 in modes:
            for n in sizes:
                one = next(r for nn, w, r in rows if nn == n and w == 1)
                two = next(r for nn, w, r in rows if nn == n and w == 2)
                print(f"{n} articles in one file: 2 workers {one['wall'] / two['wall']:.2f}x one worker")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
