"""Story grouping quality through `newsbeam run`.

Runs ../shared/data/dedup/stories_dev.jsonl (ECB+ news, several stories per
topic) as JSON lines input and scores ``story_id`` against the gold
``story_id``: pairwise precision/recall/F1 and B-cubed. ``--split`` runs the
set in two halves into one output.

Usage: python benchmarks/story_quality.py [--split] [--threshold F]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR  # noqa: E402
from benchmarks.dedup_quality import _run_jsonl, pairwise  # noqa: E402


def bcubed(gold: dict, pred: dict):
    g, p = collections.defaultdict(set), collections.defaultdict(set)
    for k in gold:
        g[gold[k]].add(k)
        p[pred[k]].add(k)
    prec = sum(len(p[pred[k]] & g[gold[k]]) / len(p[pred[k]]) for k in gold) / len(gold)
    rec = sum(len(p[pred[k]] & g[gold[k]]) / len(g[gold[k]]) for k in gold) / len(gold)
    return prec, rec, 2 * prec * rec / (prec + rec)


def evaluate(data: str, split: bool = False, extra=()) -> dict:
    rows = [json.loads(line) for line in open(data, encoding="utf-8")]
    got, by_source = _run_jsonl(rows, 2 if split else 1, extra)
    gold = {s: by_source[s]["story_id"] for s in got}
    pred = {s: got[s]["story_id"] for s in got}
    p, r, f1, _ = pairwise(gold, pred)
    bp, br, bf = bcubed(gold, pred)
    return {"articles": len(got), "stories": len(set(pred.values())), "gold_stories": len(set(gold.values())),
            "precision": p, "recall": r, "f1": f1, "bcubed_precision": bp, "bcubed_recall": br, "bcubed_f1": bf}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(DATA_DIR, "dedup", "stories_dev.jsonl"))
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args(argv)
    if not os.path.exists(args.data):
        print(f"skip: {args.data} not found")
        return 0
    extra = ["--story-threshold", str(args.threshold)] if args.threshold is not None else []
    m = evaluate(args.data, args.split, extra)
    print(f"{m['articles']} articles, {m['stories']} stories found, {m['gold_stories']} gold")
    print(f"pairwise precision {m['precision']:.4f} recall {m['recall']:.4f} F1 {m['f1']:.4f}")
    print(f"B-cubed  precision {m['bcubed_precision']:.4f} recall {m['bcubed_recall']:.4f} F1 {m['bcubed_f1']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
