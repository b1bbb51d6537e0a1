"""HTML path quality: newsbeam's extraction against trafilatura alone.

Scores ../shared/data/extraction/scrapinghub (181 news pages with gold article
text) with the benchmark's metric (../shared/tools/score_extraction.py), for
trafilatura.extract with defaults, with comments off and precision mode, and
newsbeam's ``extract_html`` (fast precision pass, full fallback chain when
the result looks too short). Prints precision, recall, F1 and ms per page.

Usage: python benchmarks/html_extraction.py [--data DIR] [--out PRED.jsonl]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR, load_scorer  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(DATA_DIR, "extraction", "scrapinghub"))
    ap.add_argument("--out", help="write newsbeam's predictions here, for score_extraction.py")
    args = ap.parse_args(argv)
    paths = sorted(glob.glob(os.path.join(args.data, "*.html")))
    if not paths:
        print(f"skip: no pages in {args.data}")
        return 0
    import trafilatura

    from transforms.encoding import decode_bytes
    from transforms.html_extract import extract_html

    scorer = load_scorer()
    pages = []
    for p in paths:
        meta = json.load(open(p[:-5] + ".json", encoding="utf-8"))
        pages.append((os.path.basename(p)[:-5], open(p, "rb").read(), meta.get("url")))
    methods = {
        "trafilatura.extract, defaults": lambda raw, url: trafilatura.extract(raw, url=url),
        "trafilatura, no comments": lambda raw, url: trafilatura.extract(raw, url=url, include_comments=False),
        "trafilatura, no comments, precision": lambda raw, url: trafilatura.extract(
            raw, url=url, include_comments=False, favor_precision=True),
        "newsbeam extract_html (+metadata)": lambda raw, url: extract_html(decode_bytes(raw)[0], url)["text"],
    }
    print(f"{'method':38s} {'precision':>9s} {'recall':>7s} {'F1':>7s} {'ms/page':>8s}")
    for label, fn in methods.items():
        fn(pages[0][1], pages[0][2])
        t = time.perf_counter()
        preds = {name: fn(raw, url) or "" for name, raw, url in pages}
        ms = 1000 * (time.perf_counter() - t) / len(pages)
        p, r, f1, n = scorer.score(args.data, preds)
        print(f"{label:38s} {p:9.4f} {r:7.4f} {f1:7.4f} {ms:8.1f}")
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            for name, text in preds.items():
                f.write(json.dumps({"name": name, "text": text}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
