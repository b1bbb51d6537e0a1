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

``--pseudo es,it,nl`` scores stories_dev with each article joined by a
stand-in for its translation into each of those languages: the issue's
held-out set holds English news and its translations into Spanish,
Italian and Dutch, several articles of one topic each, and there the
neighbouring events of a topic were merged across languages. Having no
translator here, a stand-in keeps the article's names (a capitalised word
inside a sentence, or a rare one opening it) and numbers as they are, and
writes each other word as the word of the same frequency rank in the
language's wordfreq list (a rare word as a rare word, the same one every
time): the words of two stand-ins meet where their originals' words meet,
at the same rarity, and across languages only the names and numbers meet,
as in a translation (which also keeps most names). Word salad, but
langdetect reads it as the language, and the story layer sees what it sees
in a translation: other words, the same anchors. It spares place names
translators change (London, Londres), so it is kind to recall.

Usage: python benchmarks/story_quality.py [--data FILE] [--split] [--threshold F] [--pseudo LANGS]
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import functools
import json
import os
import re
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


_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")


def pseudo_translation(text: str, lang: str) -> str:
    """``text`` with its words but names and numbers in ``lang``'s words of the same frequency rank."""
    import xxhash
    from wordfreq import zipf_frequency

    ranks, target = _rank_lists(lang)

    def word(m):
        w = m.group(0)
        # a sentence's first word: after a full stop, colon or opening quote (a line's end without one is not)
        start = m.start() == 0 or text[:m.start()].rstrip()[-1:] in ("", ".", "!", "?", ":", '"', "\u201c")
        if w[0].isupper() and (not start or zipf_frequency(w.lower(), "en") < 4.5):
            return w  # a name: kept, as a translator keeps it
        r = ranks.get(w.lower())
        if r is None:  # a rare word: a rare word of the language, the same each time
            r = len(target) // 2 + xxhash.xxh32_intdigest(w.lower().encode()) % (len(target) // 2)
        out = target[r]
        return out[:1].upper() + out[1:] if w[0].isupper() else out

    return _WORD.sub(word, text)


@functools.lru_cache(maxsize=None)
def _rank_lists(lang: str):
    from wordfreq import top_n_list

    def words(language):  # letters only: a number in the list would add an anchor the original lacks
        return [w for w in top_n_list(language, 60000) if w.isalpha()][:50000]

    return {w: i for i, w in enumerate(words("en"))}, words(lang)


def with_pseudo_translations(rows: list[dict], langs: list[str]) -> list[dict]:
    out = list(rows)
    for lang in langs:
        out += [{**r, "id": f"{r.get('id')}-{lang}", "text": pseudo_translation(r["text"], lang),
                 "title": pseudo_translation(r["title"], lang) if r.get("title") else r.get("title"), "lang": lang}
                for r in rows]
    return out


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
    ap.add_argument("--pseudo", default=None, help="stories_dev with stand-in translations into these languages")
    args = ap.parse_args(argv)
    if args.pseudo:
        return pseudo(args)
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
        _print(results)
        halves = {k: v for k, v in results.items() if k.startswith("half")}
        if halves:
            worst = min(halves, key=lambda k: halves[k]["f1"])
            print(f"  worst half: {worst} (pairwise F1 {halves[worst]['f1']:.3f})")
    return 0


def _print(results: dict) -> None:
    print(f"  {'':9s} {'articles':>8s} {'stories':>7s} {'gold':>5s}  {'P':>6s} {'R':>6s} {'F1':>6s}"
          f"  {'B3 P':>6s} {'B3 R':>6s} {'B3 F1':>6s}")
    for name, m in results.items():
        print(f"  {name:9s} {m['articles']:8d} {m['stories']:7d} {m['gold_stories']:5d}  {m['precision']:6.3f} "
              f"{m['recall']:6.3f} {m['f1']:6.3f}  {m['bcubed_precision']:6.3f} {m['bcubed_recall']:6.3f} "
              f"{m['bcubed_f1']:6.3f}")


def pseudo(args) -> int:
    data = os.path.join(DATA_DIR, "dedup", "stories_dev.jsonl")
    if not os.path.exists(data):
        print(f"skip: {data} not found")
        return 0
    langs = args.pseudo.split(",")
    extra = ["--story-threshold", str(args.threshold)] if args.threshold is not None else []
    rows = [json.loads(line) for line in open(data, encoding="utf-8")]
    print(f"== stories_dev with stand-in translations into {', '.join(langs)}")
    results = {"all": evaluate(data, args.split, extra, with_pseudo_translations(rows, langs))}
    for h in (0, 1):
        results[f"half {h}"] = evaluate(data, args.split, extra,
                                        with_pseudo_translations([r for r in rows if _half(r) == h], langs))
    # one article an event (the first by id), each with its stand-ins: a story is one article in every
    # language, and a topic's other event is the neighbour that must stay apart
    first = {}
    for r in sorted(rows, key=lambda r: str(r["id"])):
        first.setdefault(r["story_id"], r)
    results["one each"] = evaluate(data, args.split, extra, with_pseudo_translations(list(first.values()), langs))
    _print(results)
    worst = min(("half 0", "half 1"), key=lambda k: results[k]["f1"])
    print("  one each: one article of each event and its stand-ins")
    print(f"  worst half: {worst} (pairwise F1 {results[worst]['f1']:.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
