"""Language detection: accuracy and cost of newsbeam's cheap langdetect
setting against langdetect's full setting, on long and short texts.

Texts: the gold article texts of ../shared/data/extraction/scrapinghub
(several languages) and the English WMT documents of ../shared/data/mt.
Reference label: langdetect on the whole text with its default 7 trials.
Short texts: the first 15 words of each text.

Usage: python benchmarks/language.py
"""
from __future__ import annotations

import collections
import glob
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR  # noqa: E402
from transforms.language import detect_language, load_detector_factory  # noqa: E402


def texts():
    out = []
    for p in sorted(glob.glob(os.path.join(DATA_DIR, "extraction", "scrapinghub", "*.json"))):
        out.append(json.load(open(p, encoding="utf-8")).get("text") or "")
    mt = os.path.join(DATA_DIR, "mt", "wmt_docs.jsonl")
    if os.path.exists(mt):
        with open(mt, encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i % 20 == 0:
                    out.append(json.loads(line)["text"])
    return [t for t in out if t.strip()]


def run(factory, docs, **kw):
    """Labels and ms a text, timed from langdetect's per-word n-gram memory
    empty (``transforms.language._word_ngrams``), as a run's first texts find it."""
    from langdetect import detector

    getattr(detector.Detector._extract_ngrams, "known", {}).clear()
    t = time.perf_counter()
    res = [detect_language(factory, d, **kw)[0] for d in docs]
    return res, 1000 * (time.perf_counter() - t) / max(1, len(docs))


def main():
    docs = texts()
    if not docs:
        print(f"skip: no texts under {DATA_DIR}")
        return 0
    factory = load_detector_factory()
    short = [" ".join(d.split()[:15]) for d in docs]
    ref_long, ms_full = run(factory, docs, max_chars=100000, n_trial=7)
    ref_short, ms_full_s = run(factory, short, max_chars=100000, n_trial=7)
    print(f"{len(docs)} texts; languages (full setting): "
          + ", ".join(f"{k} {v}" for k, v in collections.Counter(ref_long).most_common(10)))
    print(f"{'setting':34s} {'long: agree':>12s} {'ms':>6s} {'short: agree':>13s} {'ms':>6s}")
    print(f"{'full text, 7 trials (reference)':34s} {1.0:12.3f} {ms_full:6.2f} {1.0:13.3f} {ms_full_s:6.2f}")
    for chars, trials in [(1000, 3), (600, 2), (300, 2)]:
        got_l, ms_l = run(factory, docs, max_chars=chars, n_trial=trials)
        got_s, ms_s = run(factory, short, max_chars=chars, n_trial=trials)
        agree_l = sum(a == b for a, b in zip(got_l, ref_long)) / len(docs)
        agree_s = sum(a == b for a, b in zip(got_s, ref_short)) / len(docs)
        mark = "  <- default" if (chars, trials) == (600, 2) else ""
        print(f"{f'first {chars} chars, {trials} trials':34s} {agree_l:12.3f} {ms_l:6.2f} {agree_s:13.3f} {ms_s:6.2f}{mark}")
    same = run(factory, docs[:50])[0] == run(load_detector_factory(), docs[:50])[0]
    print(f"repeatable across runs: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
