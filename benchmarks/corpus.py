"""Distinct news articles, any number, made from the shared data, as one
JSON-lines file (``{"text", "url", "title"}`` a line).

Article i is the paragraphs of one WMT document (../shared/data/mt/
wmt_docs.jsonl: 7,827 news documents, native, human- and machine-translated
English) followed by two paragraphs of two others, chosen by a seeded
random generator, with its own opening line: no two articles are the same
text, and most are not near-copies of each other, as in a day of real news.

Usage: python benchmarks/corpus.py OUT.jsonl --articles 10000 [--seed 1]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from benchmarks._common import DATA_DIR  # noqa: E402

WMT = os.path.join(DATA_DIR, "mt", "wmt_docs.jsonl")


def paragraphs() -> list[list[str]]:
    out = []
    with open(WMT, encoding="utf-8") as f:
        for line in f:
            paras = [p.strip() for p in json.loads(line)["text"].split("\n") if len(p.split()) >= 8]
            if len(paras) >= 3:
                out.append(paras)
    return out


def write_corpus(path: str, n: int, seed: int = 1) -> int:
    """Write ``n`` articles to ``path``; returns its size in bytes."""
    docs = paragraphs()
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            main, a, b = rng.sample(range(len(docs)), 3)
            body = docs[main] + rng.sample(docs[a], 1) + rng.sample(docs[b], 1)
            title = f"{docs[main][0][:80]} (edition {i})"
            text = f"Report {i} from the {rng.choice(['morning', 'evening', 'night', 'weekend'])} desk.\n" + "\n".join(body)
            f.write(json.dumps({"text": text, "title": title, "url": f"https://news.example/{i}"},
                               ensure_ascii=False) + "\n")
    return os.path.getsize(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    if not os.path.exists(WMT):
        print(f"skip: {WMT} is not here")
        return 0
    size = write_corpus(args.out, args.articles, args.seed)
    print(f"{args.articles} articles, {size / 2**20:.1f} MB: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
