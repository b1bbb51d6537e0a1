"""HTML extraction quality on every extraction set: newsbeam against the
libraries it wraps.

For each set in ../shared/data/extraction/ (cleaneval, cleanportaleval,
dragnet, readability, scrapinghub), scores with the benchmark's metric
(../shared/tools/score_extraction.py):

- trafilatura ``extract(html)`` with its defaults,
- trafilatura ``include_comments=False, favor_precision=True``,
- readability-lxml (``text_content()`` of ``Document(html).summary()``),
  the three baselines of ../shared/data/README.md, each given the raw bytes;
- newsbeam's ``extract_html`` on the page decoded as the pipeline decodes it
  (the function the extraction sandbox runs).

Prints F1 per set, the mean over sets, newsbeam's margin over the best
baseline of each set (the worst margin is the figure to watch), the share of
pages that take each extraction path, ms per page, the pages where newsbeam
finds under 10 words while their gold has 50 or more, and the pages with a
gold that ``newsbeam run`` would reject at its default --min-words.

Usage: python benchmarks/html_extraction.py [--data DIR] [--sets a,b] [--workers 2] [--out PRED_DIR] [--as-run]
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import statistics
import sys
import time
from multiprocessing import Pool

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR, load_scorer  # noqa: E402

SETS = ("cleaneval", "cleanportaleval", "dragnet", "readability", "scrapinghub")
BASELINES = ("trafilatura defaults", "trafilatura precision", "readability-lxml")
NEAR_EMPTY = 10  # words: an output this short of a gold of 50 words or more has lost the article


def _page(path: str):
    import re

    import lxml.html
    import trafilatura
    from readability import Document

    from transforms.encoding import decode_bytes
    from transforms.html_extract import extract_html

    raw = open(path, "rb").read()
    meta = json.load(open(path[:-5] + ".json", encoding="utf-8"))
    url = meta.get("url")
    out, ms = {}, {}

    def readability_lxml():
        return lxml.html.fromstring(Document(raw).summary()).text_content()

    def newsbeam():
        res = extract_html(decode_bytes(raw, None, is_html=True)[0].replace("\x00", ""), url)
        out["path"] = res["extractor"]
        return res["text"]

    methods = {
        "trafilatura defaults": lambda: trafilatura.extract(raw, url=url),
        "trafilatura precision": lambda: trafilatura.extract(raw, url=url, include_comments=False,
                                                             favor_precision=True),
        "readability-lxml": readability_lxml,
        "newsbeam": newsbeam,
    }
    for name, fn in methods.items():
        t = time.perf_counter()
        try:
            out[name] = fn() or ""
        except Exception as e:  # a baseline that fails on a page scores it as empty
            out[name] = ""
            out.setdefault("errors", []).append(f"{name}: {type(e).__name__}")
        ms[name] = 1000 * (time.perf_counter() - t)
    gold_words = len(re.findall(r"\w+", meta.get("text") or ""))
    return os.path.basename(os.path.dirname(path)), os.path.basename(path)[:-5], out, ms, gold_words


def _resampled(scorer, data: str, sets, pages, methods, draws: int = 1000) -> None:
    """How often newsbeam is at least the best baseline when a set's pages
    are drawn again with replacement (seed 0): a margin that holds on 95% of
    draws is the set's; one near 50% is a tie on pages like these."""
    import random

    rng = random.Random(0)
    line = []
    for s in sets:
        names = sorted(name for st, name, _, _, _ in pages if st == s)
        outs = {name: out for st, name, out, _, _ in pages if st == s}
        gold = {name: json.load(open(os.path.join(data, s, name + ".json"), encoding="utf-8")).get("text") or ""
                for name in names}
        counts = {m: [scorer.page_counts(gold[n], outs[n][m]) for n in names] for m in methods}
        wins = 0
        for _ in range(draws):
            idx = [rng.randrange(len(names)) for _ in names]
            f = {m: scorer.aggregate([counts[m][i] for i in idx])[2] for m in methods}
            wins += f["newsbeam"] >= max(f[b] for b in BASELINES)
        line.append(f"{s} {wins / draws:.0%}")
    print(f"newsbeam >= the best of 3 on {draws} resamples of each set's pages: " + ", ".join(line))


def _newsbeam_run(paths, pages) -> None:
    """``newsbeam run --no-fetch`` with its defaults over copies of the pages
    (named SET__NAME.html), in a fresh process; each page's article text goes
    into its ``out["newsbeam run"]``, "" for a reject."""
    import shutil
    import subprocess
    import tempfile

    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="newsbeam-as-run-") as tmp:
        folder = os.path.join(tmp, "pages")
        os.makedirs(folder)
        for path in paths:
            shutil.copy(path, os.path.join(folder, f"{os.path.basename(os.path.dirname(path))}__"
                                                   f"{os.path.basename(path)}"))
        out = os.path.join(tmp, "out")
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pipeline", "run", "--no-fetch", "--quiet", "--input", folder,
                        "--output", out], check=True, cwd=os.path.dirname(HERE))
        took = time.perf_counter() - t
        texts, reasons = {}, collections.Counter()
        for table, into in (("articles", texts), ("rejects", None)):
            for f in glob.glob(os.path.join(out, table, "**", "*.parquet"), recursive=True):
                for row in pq.read_table(f).to_pylist():
                    if into is None:
                        reasons[f"{row['stage']}/{row['reason']}"] += 1
                    else:
                        into[os.path.basename(row["source"])] = row["text"]
    for st, name, out_, _, _ in pages:
        out_["newsbeam run"] = texts.get(f"{st}__{name}.html", "")
    print(f"newsbeam run: {len(texts)} articles, rejects {dict(reasons) or 0}, {took:.1f} s for {len(paths)} pages")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(DATA_DIR, "extraction"))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", help="write each method's predictions here (SET.METHOD.jsonl), for score_extraction.py")
    ap.add_argument("--as-run", action="store_true",
                    help="also run `newsbeam run --no-fetch` with its defaults over the pages, in a fresh process as "
                         "a user starts it, and score its articles (a reject scores as an empty text)")
    args = ap.parse_args(argv)
    sets = [s for s in args.sets.split(",") if glob.glob(os.path.join(args.data, s, "*.html"))]
    if not sets:
        print(f"skip: no extraction sets in {args.data}")
        return 0
    scorer = load_scorer()
    paths = sorted(p for s in sets for p in glob.glob(os.path.join(args.data, s, "*.html")))
    with Pool(args.workers) as pool:
        pages = pool.map(_page, paths, chunksize=4)
    methods = BASELINES + ("newsbeam",)
    if args.as_run:
        _newsbeam_run(paths, pages)
        methods += ("newsbeam run",)
    f1 = {m: {} for m in methods}
    for s in sets:
        for m in methods:
            preds = {name: out[m] for st, name, out, _, _ in pages if st == s}
            f1[m][s] = scorer.score(os.path.join(args.data, s), preds)[2]
            if args.out:
                os.makedirs(args.out, exist_ok=True)
                with open(os.path.join(args.out, f"{s}.{m.replace(' ', '_')}.jsonl"), "w", encoding="utf-8") as f:
                    for name, text in sorted(preds.items()):
                        f.write(json.dumps({"name": name, "text": text}) + "\n")
    print(f"{'shingle F1':24s} " + " ".join(f"{s[:15]:>15s}" for s in sets) + f" {'mean':>8s} {'worst':>8s}")
    for m in methods:
        vals = [f1[m][s] for s in sets]
        print(f"{m:24s} " + " ".join(f"{v:15.4f}" for v in vals) + f" {statistics.mean(vals):8.4f} {min(vals):8.4f}")
    margins = {s: f1["newsbeam"][s] - max(f1[b][s] for b in BASELINES) for s in sets}
    print(f"{'margin over best of 3':24s} " + " ".join(f"{margins[s]:+15.4f}" for s in sets))
    best_mean = max(statistics.mean(f1[b][s] for s in sets) for b in BASELINES)
    nb_mean = statistics.mean(f1["newsbeam"][s] for s in sets)
    worst = min(margins, key=margins.get)
    print(f"worst set: {worst} ({margins[worst]:+.4f}); newsbeam mean {nb_mean:.4f} against the best single "
          f"baseline's mean {best_mean:.4f} ({nb_mean - best_mean:+.4f})")
    _resampled(scorer, args.data, sets, pages, methods)
    import re

    from transforms.extract import MIN_WORDS

    words = {(st, name): len(re.findall(r"\w+", out["newsbeam"])) for st, name, out, _, _ in pages}
    lost = [(st, name) for st, name, _, _, gw in pages if gw >= 50 and words[st, name] < NEAR_EMPTY]
    print(f"pages where newsbeam finds under {NEAR_EMPTY} words whose gold has >= 50 words: {len(lost)}"
          + (f" {lost[:10]}" if lost else ""))
    rejected = [(st, name) for st, name, _, _, gw in pages if gw and words[st, name] < max(MIN_WORDS, 1)]
    print(f"pages with a gold that newsbeam run (--min-words {MIN_WORDS}, the default) would reject: "
          f"{len(rejected)}" + (f" {rejected[:10]}" if rejected else ""))
    if args.as_run:
        run_margins = {s: f1["newsbeam run"][s] - max(f1[b][s] for b in BASELINES) for s in sets}
        print(f"{'newsbeam run: margin':24s} " + " ".join(f"{run_margins[s]:+15.4f}" for s in sets))
    by_path = collections.Counter(out.get("path") for _, _, out, _, _ in pages)
    print("extraction paths: " + ", ".join(f"{k} {v / len(pages):.1%}" for k, v in by_path.most_common()))
    ms = {m: statistics.mean(p[3][m] for p in pages) for m in methods if m in pages[0][3]}
    print("ms per page (mean, one process): " + ", ".join(f"{m} {v:.1f}" for m, v in ms.items()))
    errors = collections.Counter(e for _, _, out, _, _ in pages for e in out.get("errors", []))
    if errors:
        print("failures scored as empty: " + ", ".join(f"{k} {v}" for k, v in errors.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
