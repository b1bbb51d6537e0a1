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
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR  # noqa: E402
from benchmarks.dedup_quality import pairwise  # noqa: E402


def bcubed(gold: dict, pred: dict):
    g, p = collections.defaultdict(set), collections.defaultdict(set)
    for k in gold:
        g[gold[k]].add(k)
        p[pred[k]].add(k)
    prec = sum(len(p[pred[k]] & g[gold[k]]) / len(p[pred[k]]) for k in gold) / len(gold)
    rec = sum(len(p[pred[k]] & g[gold[k]]) / len(g[gold[k]]) for k in gold) / len(gold)
    return prec, rec, 2 * prec * rec / (prec + rec)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(DATA_DIR, "dedup", "stories_dev.jsonl"))
    ap.add_argument("--split", action="store_true")
    ap.add_argument("--threshold", type=float, default=None)
    args = ap.parse_args(argv)
    if not os.path.exists(args.data):
        print(f"skip: {args.data} not found")
        return 0
    import pyarrow.dataset as ds

    from pipeline.cli import run

    rows = [json.loads(line) for line in open(args.data, encoding="utf-8")]
    tmp = tempfile.mkdtemp(prefix="newsbeam-stories-")
    try:
        out = os.path.join(tmp, "out")
        parts = [rows[: len(rows) // 2], rows[len(rows) // 2:]] if args.split else [rows]
        by_source = {}
        extra = ["--story-threshold", str(args.threshold)] if args.threshold is not None else []
        for i, part in enumerate(parts):
            path = os.path.join(tmp, f"part{i}.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for n, r in enumerate(part, start=1):
                    f.write(json.dumps({"text": r["text"], "title": r["title"]}) + "\n")
                    by_source[f"{path}#L{n}"] = r
            run(["--input", path, "--output", out, "--min-words", "1"] + extra, quiet=True)
        arts = ds.dataset(os.path.join(out, "articles"), format="parquet", partitioning="hive").to_table().to_pylist()
        got = {a["source"]: a for a in arts}
        gold = {s: by_source[s]["story_id"] for s in got}
        pred = {s: got[s]["story_id"] for s in got}
        p, r, f1, _ = pairwise(gold, pred)
        bp, br, bf = bcubed(gold, pred)
        print(f"{len(got)} articles, {len(set(pred.values()))} stories found, {len(set(gold.values()))} gold")
        print(f"pairwise precision {p:.4f} recall {r:.4f} F1 {f1:.4f}")
        print(f"B-cubed  precision {bp:.4f} recall {br:.4f} F1 {bf:.4f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
