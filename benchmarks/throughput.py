"""Throughput of `newsbeam run` against a bare trafilatura.extract loop.

Copies the scrapinghub pages (../shared/data/extraction/scrapinghub, or any
folder of .html with --pages) into a temporary folder REPEAT times, then in
one process, side by side:
  1. a bare loop: ``trafilatura.extract(html_bytes)`` over every page, one process;
  2. ``newsbeam run`` on the in-process runner (1 worker);
  3. ``newsbeam run --direct_running_mode=multi_processing --direct_num_workers=2``.
newsbeam's times are whole runs (start-up, reading, decoding, sandboxed
extraction with metadata, language, hashing, Parquet, commit). Prints docs/s
and ratios to the bare loop. Targets: 2 workers >= 1.6x, 1 worker >= 0.8x.

Usage: python benchmarks/throughput.py [--pages DIR] [--repeat N]
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR  # noqa: E402


def bare_loop(files):
    import trafilatura

    t = time.perf_counter()
    for f in files:
        with open(f, "rb") as fh:
            trafilatura.extract(fh.read())
    return time.perf_counter() - t


def newsbeam(folder, out, flags):
    from pipeline.cli import run

    t = time.perf_counter()
    m = run(["--input", folder, "--output", out] + flags, quiet=True)
    return time.perf_counter() - t, m["counts"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default=os.path.join(DATA_DIR, "extraction", "scrapinghub"))
    ap.add_argument("--repeat", type=int, default=20, help="copies of each page (more docs amortise start-up)")
    args = ap.parse_args(argv)
    pages = sorted(glob.glob(os.path.join(args.pages, "*.html")))
    if not pages:
        print(f"skip: no .html pages in {args.pages}")
        return 0
    tmp = tempfile.mkdtemp(prefix="newsbeam-bench-")
    try:
        folder = os.path.join(tmp, "in")
        os.makedirs(folder)
        files = []
        for r in range(args.repeat):
            for p in pages:
                dst = os.path.join(folder, f"{r:02d}_{os.path.basename(p)}")
                shutil.copyfile(p, dst)
                files.append(dst)
        n = len(files)
        bare_loop(files[:20])  # warm imports and trafilatura's caches, as a long loop would have them
        t_bare = bare_loop(files)
        t1, c1 = newsbeam(folder, os.path.join(tmp, "out1"), [])
        t2, c2 = newsbeam(folder, os.path.join(tmp, "out2"),
                          ["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
        print(f"{n} pages ({len(pages)} distinct x {args.repeat}), {os.cpu_count()} cores")
        print(f"{'':44s} {'seconds':>8s} {'docs/s':>8s} {'ratio':>6s}")
        print(f"{'bare trafilatura.extract loop, 1 process':44s} {t_bare:8.1f} {n / t_bare:8.1f} {1.0:6.2f}")
        print(f"{'newsbeam run, 1 worker (in-process)':44s} {t1:8.1f} {n / t1:8.1f} {t_bare / t1:6.2f}")
        print(f"{'newsbeam run, 2 workers (multi_processing)':44s} {t2:8.1f} {n / t2:8.1f} {t_bare / t2:6.2f}")
        print(f"articles written: {c1['articles_written']} / {c2['articles_written']}; "
              f"rejected: {c1['rejected']} / {c2['rejected']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
