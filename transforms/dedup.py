"""Near-duplicate clusters: MinHash signatures, LSH bands, verification,
connected components, canonical copy.

- Signature: MinHash (rensa, 126 permutations, fixed seed) of the word
  5-gram shingles of the normalised text; stable across processes and runs.
- Exact copies first: records are grouped by ``content_hash``; every copy
  is linked to one representative, and only representatives go on.
- Candidates come only from LSH buckets (42 bands of 3 rows) and from an
  equal lead (the first 30 words, which a teaser or truncated copy shares
  with its article); never from all pairs. A bucket larger than
  ``MAX_BUCKET`` pairs each member with its next ``WINDOW`` members only.
- A candidate pair is a duplicate when the estimated Jaccard similarity is at
  least ``jaccard`` or the estimated containment of the shorter text in the
  longer one is at least ``containment`` (a teaser that is the first third of
  an article has a low Jaccard but a high containment).
- Clusters are connected components (union-find over the edges, combined
  per worker before the final merge: the edge set, not the corpus, has to
  fit one worker).
- Canonical copy: an article of an earlier run (it stays canonical); else not
  machine-translated, earliest ``published_at``, longest text, smallest
  ``doc_id``. Every other member gets ``is_duplicate`` and its similarity to
  the canonical copy.

Earlier runs take part through their signature index (``index`` input):
their documents are candidates and keep their clusters; only the new
documents get rows.
"""
from __future__ import annotations

import datetime as dt
import itertools
import re
import unicodedata

import apache_beam as beam
import numpy as np

__all__ = ["NearDuplicates", "JoinPairs", "Components", "LinkRecords", "UnionFind",
           "CandidatePairs", "dedup_record", "signature", "estimate", "SIGNATURE_SCHEME", "NUM_PERM"]

NUM_PERM = 126  # 42 bands x 3 rows
BANDS, ROWS = 42, 3
SEED = 1
SHINGLE = 5
MAX_BUCKET = 200
WINDOW = 10
SIGNATURE_SCHEME = f"rensa-minhash/{NUM_PERM}/seed={SEED}/word{SHINGLE}"
_WORD = re.compile(r"\w+", re.UNICODE)


LEAD_WORDS = 30


def _words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _lead_key(words: list[str]) -> str | None:
    """Hash of the first LEAD_WORDS words: teasers and truncations share their article's lead."""
    import xxhash

    words = words[:LEAD_WORDS]
    return xxhash.xxh3_64_hexdigest(" ".join(words).encode()) if len(words) == LEAD_WORDS else None


def signature(text: str) -> tuple[bytes, int]:
    """(MinHash signature as uint32 bytes, number of distinct shingles)."""
    return _signature(_words(text))


def _signature(words: list[str]) -> tuple[bytes, int]:
    import rensa

    if len(words) >= SHINGLE:
        shingles = sorted({" ".join(words[i:i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)})
    else:
        shingles = sorted(set(words)) or [""]
    m = rensa.RMinHash(NUM_PERM, SEED)
    m.update(shingles)
    return np.asarray(m.digest(), dtype=np.uint32).tobytes(), len(shingles)


def estimate(sig_a: bytes, n_a: int, sig_b: bytes, n_b: int) -> tuple[float, float]:
    """(Jaccard, containment of the smaller shingle set in the larger), estimated."""
    a = np.frombuffer(sig_a, dtype=np.uint32)
    b = np.frombuffer(sig_b, dtype=np.uint32)
    j = float(np.mean(a == b))
    inter = j * (n_a + n_b) / (1.0 + j)
    return j, min(1.0, inter / max(1, min(n_a, n_b)))


def _bands(rec):
    sig = np.frombuffer(rec["sig"], dtype=np.uint32)
    for b in range(BANDS):
        yield f"b{b}:{sig[b * ROWS:(b + 1) * ROWS].tobytes().hex()}", rec["doc_id"]
    if rec.get("lead"):
        yield f"l:{rec['lead']}", rec["doc_id"]


def _pairs(element, max_bucket: int = MAX_BUCKET):
    """Pairs of bucket mates, leaving out pairs of two earlier-run records
    (their links were made when they were new). A bucket over ``max_bucket``
    pairs each member with the next ``WINDOW`` in doc_id order (an arbitrary
    but stable order): linear in the bucket, and connected."""
    _, members = element
    members = sorted(set(members))
    if all(old for _, old in members):
        return
    if len(members) > max_bucket:
        pairs = ((members[i], members[j]) for i in range(len(members))
                 for j in range(i + 1, min(len(members), i + 1 + WINDOW)))
    else:
        pairs = itertools.combinations(members, 2)
    for (a, a_old), (b, b_old) in pairs:
        if not (a_old and b_old):
            yield a, b


class UnionFind(beam.CombineFn):
    """Edges -> {doc_id: root}; the root is the smallest doc_id of its component."""

    def create_accumulator(self):
        return {}

    @staticmethod
    def _find(parent, x):
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:
            parent[x], x = root, parent[x]
        return root

    def _union(self, parent, a, b):
        ra, rb = self._find(parent, a), self._find(parent, b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            parent[hi] = lo
            parent.setdefault(lo, lo)

    def add_input(self, parent, edge):
        self._union(parent, edge[0], edge[1])
        return parent

    def merge_accumulators(self, accs):
        out = {}
        for acc in accs:
            for x in acc:
                self._union(out, x, self._find(acc, x))
        return out

    def extract_output(self, parent):
        return {x: self._find(parent, x) for x in sorted(parent)}


def _canonical_key(rec):
    published = rec.get("published_at")
    ts = published.timestamp() if isinstance(published, dt.datetime) else float("inf")
    return (not rec.get("old", False), bool(rec.get("is_machine_translated")), ts, -rec["length"], rec["doc_id"])


class _ClusterFn(beam.DoFn):
    """(root, member records) -> (doc_id, (cluster_id, is_duplicate, similarity)) for new members."""

    def process(self, element):
        _, members = element
        members = sorted(members, key=_canonical_key)
        canon = members[0]
        cluster = canon["doc_id"]
        if canon.get("old") and canon.get("dup_cluster_id"):
            cluster = canon["dup_cluster_id"]  # an earlier run's canonical keeps its cluster
        for m in members:
            if m.get("old"):
                continue
            if m["doc_id"] == canon["doc_id"]:
                yield m["doc_id"], (cluster, False, None)
            else:
                j, c = estimate(m["sig"], m["n"], canon["sig"], canon["n"])
                yield m["doc_id"], (cluster, True, max(j, c))


class JoinPairs(beam.PTransform):
    """(candidate pairs (id_a, id_b), records keyed by id) -> (record_a, record_b) pairs.

    Two CoGroupByKeys: no step holds more than one record and its pairs."""

    def expand(self, inputs):
        pairs, keyed = inputs

        def first(kv):
            recs = list(kv[1]["rec"])
            return [(b, recs[0]) for b in kv[1]["pair"]] if recs else []

        def second(kv):
            recs = list(kv[1]["rec"])
            return [(a, recs[0]) for a in kv[1]["pair"]] if recs else []

        with_a = ({"pair": pairs | "ByFirst" >> beam.Map(lambda p: (p[0], p[1])), "rec": keyed}
                  | "JoinFirst" >> beam.CoGroupByKey() | "FirstRec" >> beam.FlatMap(first))
        return ({"pair": with_a, "rec": keyed} | "JoinSecond" >> beam.CoGroupByKey()
                | "SecondRec" >> beam.FlatMap(second))


class Components(beam.PTransform):
    """(edges, records keyed by id) -> (root, [member records]) for every component with an edge."""

    def expand(self, inputs):
        edges, keyed = inputs
        roots = (edges | "UnionFind" >> beam.CombineGlobally(UnionFind())
                 | "RootPairs" >> beam.FlatMap(lambda m: sorted(m.items())))
        return ({"root": roots, "rec": keyed} | "JoinRoots" >> beam.CoGroupByKey()
                | "ByRoot" >> beam.FlatMap(lambda kv: [(r, list(kv[1]["rec"])[0]) for r in kv[1]["root"]]
                                          if kv[1]["rec"] else [])
                | "Members" >> beam.GroupByKey())


class CandidatePairs(beam.PTransform):
    """(bucket key, (doc_id, is_old)) -> distinct (id_a, id_b) pairs of bucket mates, not both old."""

    def __init__(self, max_bucket: int = MAX_BUCKET):
        super().__init__()
        self.max_bucket = max_bucket

    def expand(self, keys_and_ids):
        return (keys_and_ids | "Buckets" >> beam.GroupByKey()
                | "Pairs" >> beam.FlatMap(_pairs, self.max_bucket)
                | "DistinctPairs" >> beam.Distinct())


class LinkRecords(beam.PTransform):
    """(records to bucket, all records, known edges) -> labels: the shape
    near-duplicates and stories share.

    Records are bucketed by ``keys`` (record -> (bucket key, doc_id)), bucket
    mates are joined pairwise, ``edge_fn`` keeps the pairs that belong
    together; with the known edges, ``label_fn`` turns each connected
    component (over all records) into output."""

    def __init__(self, keys, edge_fn: beam.DoFn, label_fn: beam.DoFn, max_bucket: int = MAX_BUCKET):
        super().__init__()
        self.keys = keys
        self.edge_fn = edge_fn
        self.label_fn = label_fn
        self.max_bucket = max_bucket

    def expand(self, inputs):
        recs, everyone, known = inputs
        keyed = everyone | "RecByDoc" >> beam.Map(lambda r: (r["doc_id"], r))
        keys = self.keys

        def keyed_ids(rec):
            old = bool(rec.get("old"))
            return ((k, (doc_id, old)) for k, doc_id in keys(rec))

        pairs = recs | "Keys" >> beam.FlatMap(keyed_ids) | "Candidates" >> CandidatePairs(self.max_bucket)
        found = (pairs, keyed) | "JoinPairs" >> JoinPairs() | "Edges" >> beam.ParDo(self.edge_fn)
        edges = (found, known) | "AllEdges" >> beam.Flatten()
        return (edges, keyed) | "Components" >> Components() | "Labels" >> beam.ParDo(self.label_fn)


class _ExactCopiesFn(beam.DoFn):
    """(content_hash, records) -> one representative for the LSH stage, and
    an edge from it to every other new copy (exact copies need no estimate)."""

    def process(self, element):
        _, recs = element
        recs = sorted(recs, key=lambda r: (not r.get("old"), r["doc_id"]))  # an earlier run's copy first
        rep = recs[0]
        out = [rep]
        out.extend(beam.pvalue.TaggedOutput("edges", (rep["doc_id"], r["doc_id"]))
                   for r in recs[1:] if not r.get("old"))
        return out


class _VerifyFn(beam.DoFn):
    def __init__(self, jaccard: float, containment: float, min_shingles: int):
        self.jaccard = jaccard
        self.containment = containment
        self.min_shingles = min_shingles

    def process(self, pair):
        a, b = pair  # never two earlier-run records: CandidatePairs leaves those out
        j, c = estimate(a["sig"], a["n"], b["sig"], b["n"])
        if j >= self.jaccard or (c >= self.containment and min(a["n"], b["n"]) >= self.min_shingles):
            return [(a["doc_id"], b["doc_id"])]
        return []


class NearDuplicates(beam.PTransform):
    """(new records, index records) -> (doc_id, (dup_cluster_id, is_duplicate, dup_similarity)) for new docs.

    A record: doc_id, content_hash, sig, n, published_at, length, is_machine_translated;
    index records also carry ``old=True`` and their ``dup_cluster_id``."""

    def __init__(self, jaccard: float = 0.5, containment: float = 0.8, min_shingles: int = 10):
        super().__init__()
        self.jaccard = jaccard
        self.containment = containment
        self.min_shingles = min_shingles

    def expand(self, inputs):
        new, old = inputs
        everyone = (new, old) | "AllRecords" >> beam.Flatten()
        exact = (everyone | "ByContentHash" >> beam.Map(lambda r: (r["content_hash"], r))
                 | "SameHash" >> beam.GroupByKey()
                 | "ExactCopies" >> beam.ParDo(_ExactCopiesFn()).with_outputs("edges", main="reps"))
        return (exact["reps"], everyone, exact["edges"]) | "Link" >> LinkRecords(
            _bands, _VerifyFn(self.jaccard, self.containment, self.min_shingles), _ClusterFn())


def dedup_record(article) -> dict:
    """The fields of an article that near-duplicate detection needs (and the index keeps)."""
    words = _words(article["text"])
    sig, n = _signature(words)
    return {"doc_id": article["doc_id"], "content_hash": article["content_hash"], "sig": sig, "n": n,
            "lead": _lead_key(words),
            "published_at": article.get("published_at"), "length": len(article["text"]),
            "is_machine_translated": bool(article.get("is_machine_translated"))}
