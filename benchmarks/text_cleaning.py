"""Plain-text path quality: F1 of the text cleaner on whole-page text dumps.

The dev set is made from ../shared/data/extraction/scrapinghub: each HTML page
is rendered to text with ``html-text`` (one line per block, as a browser's
copy-paste or a scraper's innerText gives it) and the cleaner's output is
scored against the page's gold article text with the benchmark's metric
(../shared/tools/score_extraction.py). Prints no cleaning, jusText and
newsbeam side by side, and newsbeam on two halves of the set.

Usage: python benchmarks/text_cleaning.py [--data DIR] [--show N] [--all-sets]
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
    ap.add_argument("--all-sets", action="store_true",
                    help="every set of ../shared/data/extraction rendered as dumps the same way: no cleaning, jusText "
                         "and newsbeam per set, the mean and the worst set")
    args = ap.parse_args(argv)
    if args.all_sets:
        return _all_sets(os.path.dirname(args.data.rstrip("/")))
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


def _all_sets(root: str) -> int:
    """The cleaner on every extraction set's pages rendered as dumps: a method
    is checked on every set of its kind, not on the one it was tuned on
    (scrapinghub)."""
    from multiprocessing import Pool

    sets = sorted(d for d in os.listdir(root) if glob.glob(os.path.join(root, d, "*.html"))) \
        if os.path.isdir(root) else []
    if not sets:
        print(f"skip: no extraction sets in {root}")
        return 0
    scorer = load_scorer()
    with Pool(2) as pool:
        dumps = dict(zip(sets, pool.map(render_dumps, [os.path.join(root, s) for s in sets])))
    methods = {"no cleaning": lambda t: t, "jusText (English stop-list)": justext_clean,
               "newsbeam clean_text": lambda t: clean_text(t).text}
    f1 = {m: {} for m in methods}
    for s in sets:
        for m, fn in methods.items():
            f1[m][s] = scorer.score(os.path.join(root, s), {n: fn(t) for n, t in dumps[s].items()})[2]
    print(f"{'dumps, shingle F1':30s}" + "".join(f"{s[:15]:>16s}" for s in sets) + f"{'mean':>9s}{'worst':>9s}")
    for m in methods:
        vals = [f1[m][s] for s in sets]
        print(f"{m:30s}" + "".join(f"{v:16.4f}" for v in vals) + f"{sum(vals) / len(vals):9.4f}{min(vals):9.4f}")
    margins = [f1["newsbeam clean_text"][s] - f1["jusText (English stop-list)"][s] for s in sets]
    print(f"{'newsbeam - jusText':30s}" + "".join(f"{v:+16.4f}" for v in margins) + f"{'':9s}{min(margins):+9.4f}")
    return 0


def _gold(folder, name):
    return json.load(open(os.path.join(folder, name + ".json"), encoding="utf-8")).get("text") or ""


if __name__ == "__main__":
    sys.exit(main())
