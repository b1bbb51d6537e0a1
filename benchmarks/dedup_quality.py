"""Near-duplicate and story quality through `newsbeam run`.

Runs the pipeline over ../shared/data/dedup/neardup_dev.jsonl (as JSON lines
input) and scores ``dup_cluster_id`` against ``dup_group``: pairwise
precision, recall and F1, recall per variant (is each copy in its original's
cluster), and same-story merges (pairs of different groups clustered
together). ``--split`` runs the set in two halves into one output.

It also scores the same output against the gold with syndicated originals
merged: two gold groups of one story whose originals are one wire text
(at least ``--merge-originals`` of the shorter original's word 5-grams, every
number as 0, in the other) count as one. The gold keeps every source
document of ECB+ apart, while the SPEC calls syndicated copies
near-duplicates; this second figure says how much of the gap is that.

Usage: python benchmarks/dedup_quality.py [--split] [--merge-originals 0.9]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import itertools
import json
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR  # noqa: E402


def pairwise(gold: dict, pred: dict):
    def pairs(labels):
        groups = collections.defaultdict(list)
        for k, v in labels.items():
            groups[v].append(k)
        return {p for g in groups.values() for p in itertools.combinations(sorted(g), 2)}

    g, p = pairs(gold), pairs(pred)
    tp = len(g & p)
    prec = tp / len(p) if p else 1.0
    rec = tp / len(g) if g else 1.0
    return prec, rec, (2 * prec * rec / (prec + rec) if prec + rec else 0.0), p - g


def syndicated_gold(rows, min_containment: float) -> dict:
    """{dup_group: merged group}: groups of one story whose originals share at
    least ``min_containment`` of the shorter one's word 5-grams are one."""
    def shingles(text):
        w = ["0" if x.isdigit() else x for x in re.findall(r"\w+", text.casefold())]
        return {" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))}

    orig = {r["dup_group"]: r for r in rows if r["variant"] == "original"}
    sh = {g: shingles(r["text"]) for g, r in orig.items()}
    parent = {r["dup_group"]: r["dup_group"] for r in rows}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    by_story = collections.defaultdict(list)
    for g in sorted(orig):
        by_story[orig[g]["story_id"]].append(g)
    for groups in by_story.values():
        for a, b in itertools.combinations(groups, 2):
            if len(sh[a] & sh[b]) >= min_containment * min(len(sh[a]), len(sh[b])):
                ra, rb = find(a), find(b)
                parent[max(ra, rb)] = min(ra, rb)
    return {g: find(g) for g in parent}


@contextlib.contextmanager
def _quality_folder():
    """The folder a quality run writes its input and output in. One fixed
    folder, not a random one: a document's id comes from its path, and story
    and cluster ties break on ids (a capped bucket paired its members in id
    order until it took them in content order, and a random folder moved the
    cross-lingual figures from run to run, pairwise F1 0.797-0.815;
    docs/benchmarks.md). Two processes (the test suite's two
    workers) take it in turn, by a lock file beside it."""
    from pipeline.cli import file_lock

    tmp = os.path.join(tempfile.gettempdir(), "newsbeam-quality")
    with file_lock(tmp + ".lock"):
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def _run_jsonl(rows, parts: int, extra=()):
    """Write ``rows`` as JSON lines in ``parts`` files, run each into one output;
    returns ({source: article row}, {source: input row})."""
    import pyarrow.dataset as ds

    from pipeline.cli import run

    with _quality_folder() as tmp:
        out = os.path.join(tmp, "out")
        size = -(-len(rows) // parts)
        by_source = {}
        for i in range(parts):
            path = os.path.join(tmp, f"part{i}.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                for n, r in enumerate(rows[i * size:(i + 1) * size], start=1):
                    f.write(json.dumps({"text": r["text"], "title": r["title"]}) + "\n")
                    by_source[f"{path}#L{n}"] = r
            run(["--input", path, "--output", out, "--min-words", "1", *extra], quiet=True)
        arts = ds.dataset(os.path.join(out, "articles"), format="parquet", partitioning="hive").to_table().to_pylist()
        return {a["source"]: a for a in arts}, by_source


def evaluate(data: str, split: bool = False, extra=(), merge_originals: float = 0.9) -> dict:
    rows = [json.loads(line) for line in open(data, encoding="utf-8")]
    got, by_source = _run_jsonl(rows, 2 if split else 1, extra)
    gold = {s: by_source[s]["dup_group"] for s in got}
    pred = {s: got[s]["dup_cluster_id"] for s in got}
    p, r, f1, wrong = pairwise(gold, pred)
    merged = syndicated_gold(rows, merge_originals)
    mp, mr, mf1, _ = pairwise({s: merged[g] for s, g in gold.items()}, pred)
    orig = {by_source[s]["dup_group"]: s for s in got if by_source[s]["variant"] == "original"}
    hit, tot = collections.Counter(), collections.Counter()
    for s in got:
        v = by_source[s]["variant"]
        if v != "original" and by_source[s]["dup_group"] in orig:
            tot[v] += 1
            hit[v] += pred[s] == pred[orig[by_source[s]["dup_group"]]]
    return {
        "articles": len(got), "inputs": len(by_source), "clusters": len(set(pred.values())),
        "gold_groups": len(set(gold.values())), "precision": p, "recall": r, "f1": f1,
        "recall_by_variant": {v: hit[v] / tot[v] for v in sorted(tot)},
        "syndicated_merged": {"min_containment": merge_originals, "groups": len(set(merged.values())),
                              "precision": mp, "recall": mr, "f1": mf1},
        "wrong_pairs": len(wrong),
        "wrong_pairs_same_story": sum(1 for a, b in wrong if by_source[a]["story_id"] == by_source[b]["story_id"]),
        "duplicates": sum(1 for a in got.values() if a["is_duplicate"]),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(DATA_DIR, "dedup", "neardup_dev.jsonl"))
    ap.add_argument("--split", action="store_true", help="two runs of half the set each into one output")
    ap.add_argument("--merge-originals", type=float, default=0.9,
                    help="for the second score: gold groups whose originals share this share of 5-grams are one")
    args = ap.parse_args(argv)
    if not os.path.exists(args.data):
        print(f"skip: {args.data} not found")
        return 0
    m = evaluate(args.data, args.split, merge_originals=args.merge_originals)
    print(f"{m['articles']} articles ({m['inputs'] - m['articles']} inputs gave none), {m['clusters']} clusters, "
          f"{m['gold_groups']} gold groups")
    print(f"pairwise precision {m['precision']:.4f} recall {m['recall']:.4f} F1 {m['f1']:.4f}")
    sm = m["syndicated_merged"]
    print(f"against the gold with syndicated originals merged (>= {sm['min_containment']:g} of 5-grams, "
          f"{sm['groups']} groups): precision {sm['precision']:.4f} recall {sm['recall']:.4f} F1 {sm['f1']:.4f}")
    print("recall per variant: " + ", ".join(f"{v} {x:.3f}" for v, x in m["recall_by_variant"].items()))
    print(f"wrong pairs {m['wrong_pairs']} (same story {m['wrong_pairs_same_story']}); "
          f"duplicates flagged {m['duplicates']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
