"""Stories: articles about the same event share a ``story_id``.

A looser layer than near-duplicates: different outlets' articles on one
event share names, places and numbers, not sentences.

- Each article becomes a TF-IDF vector of its rarest words (top 60). The
  document frequencies come from a background corpus, not from the batch:
  wordfreq's word frequencies for the article's language (IDF ~ 7 - Zipf
  frequency), so a run of five articles weighs words as a run of a million
  would. Capitalised words (names, places) and numbers are boosted.
- Candidates: articles sharing one of their 10 heaviest words (buckets over
  ``MAX_BUCKET`` pair each article with its next ``dedup.WINDOW`` only); never
  all pairs.
- Edge: cosine similarity >= ``threshold``. Only one copy of each
  near-duplicate cluster takes part (its canonical); the other copies get
  its story (``transforms.grouping``).
- Stories are connected components. An article of an earlier run keeps its
  story: a new article joining it gets that story_id (the smallest, when it
  links several); a new story is named after its smallest doc_id.
"""
from __future__ import annotations

import math
import re

import apache_beam as beam

from transforms.dedup import LinkRecords
from transforms.wordlists import available, frequencies

__all__ = ["StoryGroups", "cosine", "term_vector"]

TOP_TERMS = 60
# A heavy word shared by more articles than this (a name in the news all
# week) pairs each with its next few only: pairs stay linear in the corpus.
MAX_BUCKET = 50
KEY_TERMS = 10
MIN_IDF = 2.5
_TOKEN = re.compile(r"[^\W\d_][\w'’-]*|\d[\d,.]*\d|\d", re.UNICODE)


def _idf(word: str, lang: str) -> float:
    freq = frequencies(lang).get(word, 0.0)
    zipf = math.log10(freq) + 9.0 if freq > 0 else 0.0
    return max(0.0, 7.0 - zipf)


def term_vector(text: str, title: str | None = None, language: str | None = None) -> list[tuple[str, float]]:
    """The article's heaviest words with unit-normalised TF-IDF weights, heaviest first."""
    lang = language if language in available() else "en"
    counts: dict[str, float] = {}
    idfs: dict[str, float] = {}  # each distinct word looked up once
    for tok in _TOKEN.findall(f"{title or ''}\n{text}"):
        low = tok.casefold()
        if low[0].isdigit():
            counts[low] = counts.get(low, 0.0) + 1.3
        elif len(low) >= 3:
            idf = idfs.get(low)
            if idf is None:
                idf = idfs[low] = _idf(low, lang)
            if idf >= MIN_IDF:
                counts[low] = counts.get(low, 0.0) + (1.5 if tok[0].isupper() else 1.0)
    weights = {w: (1.0 + math.log(c)) * (idfs[w] if not w[0].isdigit() else 4.0) for w, c in counts.items()}
    top = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_TERMS]
    norm = math.sqrt(sum(v * v for _, v in top)) or 1.0
    return [(w, round(v / norm, 6)) for w, v in top]


def cosine(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> float:
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    lookup = dict(large)
    return sum(v * lookup.get(w, 0.0) for w, v in small)


def _keys(rec):
    for w, _ in rec["terms"][:KEY_TERMS]:
        yield f"t:{w}", rec["doc_id"]


class _EdgeFn(beam.DoFn):
    def __init__(self, threshold: float):
        self.threshold = threshold

    def process(self, pair):
        a, b = pair  # never two earlier-run records: CandidatePairs leaves those out
        if cosine(a["terms"], b["terms"]) >= self.threshold:
            return [(a["doc_id"], b["doc_id"])]
        return []


class _StoryIdFn(beam.DoFn):
    def process(self, element):
        _, members = element
        members = list(members)
        old = sorted(m["story_id"] for m in members if m.get("old") and m.get("story_id"))
        story = old[0] if old else min(m["doc_id"] for m in members)
        for m in members:
            if not m.get("old"):
                yield m["doc_id"], story


class StoryGroups(beam.PTransform):
    """(new story records, index records) -> (doc_id, story_id) for new articles in a multi-article story."""

    def __init__(self, threshold: float = 0.35):
        super().__init__()
        self.threshold = threshold

    def expand(self, inputs):
        new, old = inputs
        recs = (new, old) | "AllRecords" >> beam.Flatten()
        no_edges = recs.pipeline | "NoKnownEdges" >> beam.Create([])
        return (recs, recs, no_edges) | "Link" >> LinkRecords(_keys, _EdgeFn(self.threshold), _StoryIdFn(),
                                                              max_bucket=MAX_BUCKET)
