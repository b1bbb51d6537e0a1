"""Plain-text path quality: F1 of the text cleaner on whole-page text dumps.

The dev set is made from ../shared/data/extraction/scrapinghub: each HTML page
is rendered to text with ``html-text`` (one line per block, as a browser's
copy-paste or a scraper's innerText gives it) and the cleaner's output is
scored against the page's gold article text with the benchmark's metric
(../shared/tools/score_extraction.py). Prints no cleaning, jusText and
newsbeam side by side, and newsbeam on two halves of the set.

Usage: python benchmarks/text_cleaning.py [--data DIR] [--show N]
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import html
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR, load_scorer  # noqa: E402
from transforms.textclean import clean_text  # noqa: E402


def render_dumps(folder):
    import html_text

    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.html"))):
        name = os.path.basename(path)[:-5]
        raw = open(path, "rb").read().decode("utf-8", "replace")
        text = html_text.extract_text(raw, guess_layout=True)
        out[name] = "\n".join(l.strip() for l in text.split("\n") if l.strip())
    return out


def justext_clean(text):
    import justext

    body = "".join(f"<p>{html.escape(l)}</p>" for l in text.split("\n"))
    paras = justext.justext(f"<html><body>{body}</body></html>".encode(), justext.get_stoplist("English"))
    return "\n".join(p.text for p in paras if not p.is_boilerplate)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(DATA_DIR, "extraction", "scrapinghub"))
    ap.add_argument("--show", type=int, default=0, help="print the N worst pages")
    args = ap.parse_args(argv)
    if not os.path.isdir(args.data):
        print(f"skip: {args.data} not found")
        return 0
    scorer = load_scorer()
    dumps = render_dumps(args.data)
    t = time.perf_counter()
    ours = {n: clean_text(t_).text for n, t_ in dumps.items()}
    dt = time.perf_counter() - t
    rows = [("no cleaning", dumps), ("jusText (English stop-list)", {n: justext_clean(t_) for n, t_ in dumps.items()}),
            ("newsbeam clean_text", ours)]
    print(f"{'method':32s} {'precision':>9s} {'recall':>7s} {'F1':>7s} pages")
    for label, preds in rows:
        p, r, f1, n = scorer.score(args.data, preds)
        print(f"{label:32s} {p:9.4f} {r:7.4f} {f1:7.4f} {n}")
    halves = {0: {}, 1: {}}
    for n, t_ in ours.items():
        halves[int(hashlib.sha1(n.encode()).hexdigest(), 16) % 2][n] = t_
    for h, preds in halves.items():
        p, r, f1 = scorer.aggregate([scorer.page_counts(_gold(args.data, n), preds[n]) for n in sorted(preds)])
        print(f"{'newsbeam, half ' + str(h):32s} {p:9.4f} {r:7.4f} {f1:7.4f} {len(preds)}")
    print(f"clean_text: {1000 * dt / len(dumps):.2f} ms per page")
    if args.show:
        worst = sorted(ours, key=lambda n: sum(scorer.page_counts(_gold(args.data, n), ours[n])[1:]), reverse=True)
        for n in worst[: args.show]:
            tp, fp, fn = scorer.page_counts(_gold(args.data, n), ours[n])
            print(f"--- {n[:12]} tp {tp:.2f} fp {fp:.2f} fn {fn:.2f}")
    return 0


def _gold(folder, name):
    return json.load(open(os.path.join(folder, name + ".json"), encoding="utf-8")).get("text") or ""


if __name__ == "__main__":
    sys.exit(main())
