"""Story grouping quality through `newsbeam run`.

Runs each set as JSON lines input and scores ``story_id`` against the gold
``story_id``: pairwise precision/recall/F1 and B-cubed.

- ../shared/data/dedup/stories_dev.jsonl: ECB+ news, several stories per
  topic, English; then each half of its topics on its own (by a hash of
  the topic id), and the worst half.
- ../shared/data/dedup/crosslingual_dev.jsonl: WMT news, one story told in
  2-6 of 11 languages; then each half of its stories (by a hash of the
  story id), and the worst half.

Then stories_dev once more with every pair of articles compared as if
they were in two languages (on their anchors, from ``CROSS_LINK``): the
cross-language path on different outlets' articles of one event, against
neighbouring events of the same topic, which the translations of
crosslingual_dev cannot show (a story there is one document translated).
Patched in this process only (``anchors_only``).

``--split`` runs a set in two halves into one output (an incremental run);
``--data FILE`` runs one set only.

Usage: python benchmarks/story_quality.py [--data FILE] [--split] [--threshold F]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
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


def _half(row) -> int:
    """Which half of a set a row falls in: by topic where the set has topics, else by story."""
    import xxhash

    key = row.get("topic_id") if row.get("topic_id") is not None else row["story_id"]
    return xxhash.xxh32_intdigest(str(key).encode()) % 2


@contextlib.contextmanager
def anchors_only():
    """Every pair compared on anchors, as two articles in two languages are."""
    import transforms.stories as stories

    within, batch = stories.similarity, stories.pair_similarities

    def across(a, b):
        c = stories.compact_cosine(a[1], b[1])
        return c if c >= stories.CROSS_LINK else 0.0

    def across_all(payloads, a, b):
        # the batch path (the local runner's labelling, a component's links): each
        # payload in a language of its own, so that every pair is judged on anchors
        return batch([(p[0], p[1], f"x{i}", *p[3:]) for i, p in enumerate(payloads)], a, b)

    stories.similarity, stories.pair_similarities = across, across_all
    try:
        yield
    finally:
        stories.similarity, stories.pair_similarities = within, batch


def evaluate(data: str, split: bool = False, extra=(), rows=None) -> dict:
    rows = rows if rows is not None else [json.loads(line) for line in open(data, encoding="utf-8")]
    got, by_source = _run_jsonl(rows, 2 if split else 1, extra)
    gold = {s: by_source[s]["story_id"] for s in got}
    pred = {s: got[s]["story_id"] for s in got}
    p, r, f1, _ = pairwise(gold, pred)
    bp, br, bf = bcubed(gold, pred)
    return {"articles": len(got), "stories": len(set(pred.values())), "gold_stories": len(set(gold.values())),
            "precision": p, "recall": r, "f1": f1, "bcubed_precision": bp, "bcubed_recall": br, "bcubed_f1": bf}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=None)
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args(argv)
    sets = [args.data] if args.data else [os.path.join(DATA_DIR, "dedup", n)
                                           for n in ("stories_dev.jsonl", "crosslingual_dev.jsonl")]
    extra = ["--story-threshold", str(args.threshold)] if args.threshold is not None else []
    for data in sets:
        if not os.path.exists(data):
            print(f"skip: {data} not found")
            continue
        rows = [json.loads(line) for line in open(data, encoding="utf-8")]
        print(f"== {os.path.basename(data)}")
        results = {"all": evaluate(data, args.split, extra, rows)}
        if not args.data:
            for h in (0, 1):
                results[f"half {h}"] = evaluate(data, args.split, extra, [r for r in rows if _half(r) == h])
        if not args.data and os.path.basename(data) == "stories_dev.jsonl":
            with anchors_only():
                results["anchors"] = evaluate(data, args.split, extra, rows)
        print(f"  {'':7s} {'articles':>8s} {'stories':>7s} {'gold':>5s}  {'P':>6s} {'R':>6s} {'F1':>6s}"
              f"  {'B3 P':>6s} {'B3 R':>6s} {'B3 F1':>6s}")
        for name, m in results.items():
            print(f"  {name:7s} {m['articles']:8d} {m['stories']:7d} {m['gold_stories']:5d}  {m['precision']:6.3f} "
                  f"{m['recall']:6.3f} {m['f1']:6.3f}  {m['bcubed_precision']:6.3f} {m['bcubed_recall']:6.3f} "
                  f"{m['bcubed_f1']:6.3f}")
        halves = {k: v for k, v in results.items() if k.startswith("half")}
        if halves:
            worst = min(halves, key=lambda k: halves[k]["f1"])
            print(f"  worst half: {worst} (pairwise F1 {halves[worst]['f1']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
