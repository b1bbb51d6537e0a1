"""Machine-translation scoring cost: ms per document, side by side with the
extraction it follows.

Texts: the WMT documents of ../shared/data/mt (machine, human and original
English), or the bundled seeds when the shared data is absent. Times the full
``MtModel.score`` (class n-grams, model, evidence rules, source language) and,
for scale, ``trafilatura.extract`` on the seeds rendered as HTML pages.

Usage: python benchmarks/mt_speed.py [--limit N]
"""
from __future__ import annotations

import argparse
import glob
import html
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR, ROOT  # noqa: E402


def load_texts(limit: int) -> tuple[str, list[str]]:
    path = os.path.join(DATA_DIR, "mt", "wmt_docs.jsonl")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return "WMT documents", [json.loads(line)["text"] for line in f][:limit]
    seeds = [open(p, encoding="utf-8").read() for p in sorted(glob.glob(os.path.join(ROOT, "seeds", "*")))]
    return "seeds (x40)", (seeds * 40)[:limit]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=100_000)
    args = ap.parse_args(argv)
    from transforms.mtmodel import MtModel

    t0 = time.perf_counter()
    model = MtModel.load()
    load_s = time.perf_counter() - t0
    what, texts = load_texts(args.limit)
    model.score(texts[0])  # warm the class cache like a worker that has seen a page
    times = []
    chars = 0
    for t in texts:
        s = time.perf_counter()
        model.score(t)
        times.append(time.perf_counter() - s)
        chars += len(t)
    ms = [x * 1000 for x in times]

    import trafilatura

    pages = []
    for p in sorted(glob.glob(os.path.join(ROOT, "seeds", "*"))):
        paras = open(p, encoding="utf-8").read().split("\n")
        body = "".join(f"<p>{html.escape(x)}</p>" for x in paras if x.strip())
        pages.append(f"<html><body><nav>Home | News</nav><article>{body}</article></body></html>")
    s = time.perf_counter()
    for _ in range(10):
        for page in pages:
            trafilatura.extract(page, deduplicate=False)
    extract_ms = (time.perf_counter() - s) * 1000 / (10 * len(pages))
    print(f"model load            {load_s:.2f} s (once per worker process)")
    print(f"{what}: {len(texts)} texts, mean {chars / len(texts):.0f} chars")
    print(f"mt score              mean {statistics.mean(ms):.2f} ms, median {statistics.median(ms):.2f} ms, "
          f"p95 {sorted(ms)[int(0.95 * len(ms))]:.2f} ms per document")
    print(f"trafilatura.extract   {extract_ms:.2f} ms per seed page (for scale)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
