"""Near-duplicate clusters: MinHash signatures, LSH bands, verification,
average linkage, canonical copy.

- Signature: MinHash (rensa, 126 permutations, fixed seed) of the word
  5-gram shingles of the normalised text, every number written as ``0``
  (an edited copy that corrects a score or a toll still shares its
  shingles); stable across processes and runs.
- Exact copies first: records are grouped by ``content_hash``; every copy
  is linked to one representative, and only representatives go on.
- Candidates come only from LSH buckets (42 bands of 3 rows) and from an
  equal lead (the first 30 words, which a teaser or truncated copy shares
  with its article); never from all pairs. A bucket larger than
  ``MAX_BUCKET`` pairs each member with its next ``WINDOW`` members only, in
  the order of their ``content_hash`` (``bucket_order``): the same articles
  under other paths (other doc_ids) are the same candidates.
- Similarity of two copies (``similarity``): the estimated containment of
  the shorter text's shingles in the longer one (a teaser that is the first
  third of an article is contained in it; so is a re-templated copy), or
  the estimated Jaccard similarity when the shorter text has fewer than
  ``min_shingles`` shingles. A candidate pair at ``threshold`` or more is
  a link.
- Clusters: inside each connected component of links, average linkage
  (``transforms.linkage``) over the representatives: two groups merge
  while the mean similarity over all their pairs is at least
  ``threshold`` (computed from the signatures when that is at most
  ``MAX_PAIRS`` pairs, else over the links; pairs of two earlier articles
  are never judged again). Two articles of one story that quote the same
  wire paragraphs link, but a group of copies does not absorb them through
  one shared passage, and a teaser contained in two articles joins them
  only if the two are similar enough on average with it. A component must
  fit one worker; the components do not have to (one union-find up to
  ``MAX_UNION_FIND_EDGES`` links, else rounds of star contraction across
  workers: ``transforms.components``).
- Canonical copy: an article of an earlier run (it stays canonical); else not
  machine-translated, earliest ``published_at``, longest text, smallest
  ``doc_id``. Every other member gets ``is_duplicate`` and its similarity to
  the canonical copy (``similarity``, as the clusters are judged).

Earlier runs take part through their signature index (``index`` input):
their documents are candidates and keep their clusters (two earlier
clusters never merge); only the new documents get rows.
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import unicodedata

import apache_beam as beam
import numpy as np

from transforms.components import MAX_UNION_FIND_EDGES, ConnectedComponents

__all__ = ["NearDuplicates", "JoinPairs", "Components", "LinkRecords",
           "CandidatePairs", "cluster_labels", "dedup_record", "signature", "estimate", "similarity",
           "SIGNATURE_SCHEME", "NUM_PERM"]

NUM_PERM = 126  # 42 bands x 3 rows
BANDS, ROWS = 42, 3
SEED = 1
SHINGLE = 5
# 7, not 5: with the members of a capped bucket in content order (not in an
# order that put one story's articles side by side), 100k generated articles
# made 12,917 stories of 12,500 at 5, 12,579 at 7 (2% more time, 6% more
# memory there), 12,507 at 10 (20% more time); docs/benchmarks.md
WINDOW = 7
# A bucket of more members than this pairs each with its next WINDOW only:
# below it a member has at most 2 * WINDOW mates, above it about as many,
# so candidate pairs per document do not grow with the corpus (a shingle
# of common words, minimal under a band's hash, fills one bucket with
# unrelated articles as the corpus grows). Clusters are judged on every
# pair inside a component, so fewer candidates only need to connect it.
MAX_BUCKET = 2 * WINDOW + 1
SIGNATURE_SCHEME = f"rensa-minhash/{NUM_PERM}/seed={SEED}/word{SHINGLE}/digits0"
# A component is clustered over every pair of its members (but pairs of two
# earlier-run members) while there are at most this many, else over its links
# alone (pairs without a link count 0): ~0.5 s of estimates at most
MAX_PAIRS = 100_000
EXACT = 2.0  # weight of an exact-copy edge: a must-link
SAME_GROUP = -1.0  # weight of an edge between two members of one earlier group: joins components, weighs nothing
# weight of an edge that brings an article none of whose links is strong into the component of its
# strongest (``Adoptions``): joins components, weighs nothing, and marks the article adopted
ADOPTED = -2.0
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

    words = ["0" if w.isdigit() else w for w in words]
    if len(words) >= SHINGLE:
        shingles = list(set(map(" ".join, zip(*[words[k:] for k in range(SHINGLE)]))))  # each run of SHINGLE words
    else:
        shingles = list(set(words)) or [""]
    # in the set's own order, not sorted: a MinHash is a minimum over each permutation, the same in any order
    # (the same signatures on every text set, tests/test_dedup.py), and sorting was a third of its time
    m = rensa.RMinHash(NUM_PERM, SEED)
    m.update(shingles)
    return np.asarray(m.digest(), dtype=np.uint32).tobytes(), len(shingles)


def estimate(sig_a: bytes, n_a: int, sig_b: bytes, n_b: int) -> tuple[float, float]:
    """(Jaccard, containment of the smaller shingle set in the larger), estimated."""
    a = np.frombuffer(sig_a, dtype=np.uint32)
    b = np.frombuffer(sig_b, dtype=np.uint32)
    j = np.count_nonzero(a == b) / len(a)  # np.mean's float, a third of its time
    inter = j * (n_a + n_b) / (1.0 + j)
    return j, min(1.0, inter / max(1, min(n_a, n_b)))


def pairs_to_judge(members) -> int:
    """Pairs of a component's members that are not both from earlier runs."""
    return pair_count(sum(1 for m in members if not m.get("old")), len(members))


def pair_count(new: int, members: int) -> int:
    """Pairs of ``members`` that are not both from earlier runs, ``new`` of them being new."""
    return new * (new - 1) // 2 + new * (members - new)


def similarity(sig_a: bytes, n_a: int, sig_b: bytes, n_b: int, min_shingles: int) -> float:
    """Estimated containment of the shorter in the longer, or Jaccard when the shorter is tiny."""
    j, c = estimate(sig_a, n_a, sig_b, n_b)
    return c if min(n_a, n_b) >= min_shingles else j


def _bands(rec):
    sig = np.frombuffer(rec["sig"], dtype=np.uint32)
    for b in range(BANDS):
        yield f"b{b}:{sig[b * ROWS:(b + 1) * ROWS].tobytes().hex()}", rec["doc_id"]
    if rec.get("lead"):
        yield f"l:{rec['lead']}", rec["doc_id"]


def bucket_order(rec) -> int:
    """Where a record stands in a bucket's order (``content_order``), so that the
    windows of a bucket over ``MAX_BUCKET`` pair the same articles whatever their
    doc_ids (which name their paths) are; doc_id breaks ties."""
    return content_order(rec.get("content_hash"))


def content_order(content_hash: str | None) -> int:
    """The first 28 bits of a content hash (hex), 0 for none or one that is not
    hex: a small int, as it travels with each of a record's ~56 bucket keys."""
    try:
        return int(content_hash[:7], 16) if content_hash else 0
    except ValueError:  # not one newsbeam wrote: an order like any other, the same on every runner
        return 0


def _bucket_pairs(members: list, max_bucket: int):
    """Pairs of bucket mates (members ``(doc_id, old, order, ...)`` in ``(order,
    doc_id)`` order, ``_bucket_members``), each pair in doc_id order, leaving out
    pairs of two earlier-run records (their links were made when they were
    new). A bucket over ``max_bucket`` pairs each member with the next
    ``WINDOW`` in that order (``bucket_order``: by content, not by path):
    linear in the bucket, and connected."""
    if all(m[1] for m in members):
        return
    if len(members) > max_bucket:
        pairs = ((members[i], members[j]) for i in range(len(members))
                 for j in range(i + 1, min(len(members), i + 1 + WINDOW)))
    else:
        pairs = itertools.combinations(members, 2)
    for a, b in pairs:
        if not (a[1] and b[1]):
            yield (a, b) if a[0] < b[0] else (b, a)


def _pairs(element, max_bucket: int = MAX_BUCKET):
    """(bucket key, [(doc_id, old, order)]) -> candidate (id_a, id_b) pairs."""
    _, members = element
    for a, b in _bucket_pairs(_bucket_members(members), max_bucket):
        yield a[0], b[0]


def _bucket_members(members) -> list:
    """A bucket's members, ``(doc_id, old, order, ...)``, sorted by (order, doc_id),
    each doc_id once."""
    members = sorted(members, key=lambda m: (m[2], m[0]))
    seen = set()
    out = []
    for m in members:
        if m[0] not in seen:
            seen.add(m[0])
            out.append(m)
    return out


def _linked_in_bucket(element, linked, max_bucket: int):
    """(bucket key, [(doc_id, old, order, payload)]) -> (id_a, id_b, weight) for the pairs ``linked`` weighs."""
    for a, b in _bucket_pairs(_bucket_members(element[1]), max_bucket):
        w = linked(a[3], b[3])
        if w is not None:
            yield a[0], b[0], w


def _linked_by_lookup(element, linked, max_bucket: int, payloads: dict):
    """(bucket key, [(doc_id, old, order)]) -> (id_a, id_b, weight), as ``_linked_in_bucket``
    gives them, each payload looked up in ``payloads`` (doc_id -> payload)."""
    for a, b in _bucket_pairs(_bucket_members(element[1]), max_bucket):
        w = linked(payloads[a[0]], payloads[b[0]])
        if w is not None:
            yield a[0], b[0], w


def _canonical_key(rec):
    published = rec.get("published_at")
    ts = published.timestamp() if isinstance(published, dt.datetime) else float("inf")
    return (not rec.get("old", False), bool(rec.get("is_machine_translated")), ts, -rec["length"], rec["doc_id"])


class _ClusterFn(beam.DoFn):
    """(root, {"member": records, "edge": edges}) -> (doc_id, (cluster_id, is_duplicate, similarity))
    for the new members of one component."""

    def __init__(self, threshold: float, min_shingles: int):
        self.threshold = threshold
        self.min_shingles = min_shingles

    def _one_pair(self, members: dict, edges: list) -> bool:
        """Two new articles joined by a verified link (>= threshold) or an exact
        copy's: one cluster, which the steps of ``process`` would find again
        (about a third of the components of a day's news, labelled without them)."""
        return (len(members) == 2 and bool(edges) and not any(m.get("old") for m in members.values())
                and all(w >= self.threshold for _, _, w in edges))

    def process(self, element):
        from transforms.linkage import average_link_groups, pair_links

        _, g = element
        members = {m["doc_id"]: m for m in g["member"]}
        edges = list(g["edge"])
        if self._one_pair(members, edges):
            yield from cluster_labels(list(members.values()), None, self.min_shingles)
            return
        copies: dict[str, list[str]] = {}  # representative -> its exact copies
        for a, b, w in edges:
            if w >= EXACT:
                copies.setdefault(a, []).append(b)
        copied = {b for bs in copies.values() for b in bs}
        reps = [members[d] for d in sorted(members) if d not in copied]
        if pairs_to_judge(reps) <= MAX_PAIRS:
            links = pair_links(reps, lambda a, b: similarity(a["sig"], a["n"], b["sig"], b["n"], self.min_shingles))
        else:
            links = [e for e in edges if 0 <= e[2] < EXACT]
        groups = average_link_groups(reps, links, self.threshold, key="dup_cluster_id", must_link=EXACT)
        for old_cluster, group in groups:
            group = group + [members[c] for m in group for c in copies.get(m["doc_id"], ())]
            yield from cluster_labels(group, old_cluster, self.min_shingles)


def cluster_labels(group: list[dict], old_cluster: str | None, min_shingles: int):
    """(doc_id, (cluster_id, is_duplicate, similarity)) of the new members of one
    cluster (``_member`` dicts, its exact copies among them): the canonical member
    (``_canonical_key``) is the original, the others its duplicates."""
    group = sorted(group, key=_canonical_key)
    canon = group[0]
    cluster = old_cluster or canon["doc_id"]  # an earlier run's cluster keeps its id
    for m in group:
        if m.get("old"):
            continue
        if m["doc_id"] == canon["doc_id"]:
            yield m["doc_id"], (cluster, False, None)
        else:  # the measure the clusters are made with
            yield m["doc_id"], (cluster, True, similarity(m["sig"], m["n"], canon["sig"], canon["n"], min_shingles))


class _WholeGroups(beam.PTransform):
    """(found edges, all records) -> ``SAME_GROUP`` edges joining every
    earlier-run member of each earlier group that a found edge touches."""

    def __init__(self, group_key: str):
        super().__init__()
        self.group_key = group_key

    def expand(self, inputs):
        found, everyone = inputs
        key = self.group_key
        old_groups = (everyone | "OldMembers" >> beam.Filter(lambda r: r.get("old") and r.get(key))
                      | "OldGroupOf" >> beam.Map(lambda r: (r["doc_id"], r[key])))
        ends = found | "Ends" >> beam.FlatMap(lambda e: [(e[0], True), (e[1], True)])

        def touched(kv):
            g = kv[1]
            return list(g["group"]) if any(True for _ in g["end"]) else []

        groups = ({"end": ends, "group": old_groups} | "JoinEnds" >> beam.CoGroupByKey()
                  | "Touched" >> beam.FlatMap(touched) | "TouchedOnce" >> beam.Distinct()
                  | "TouchedKey" >> beam.Map(lambda gid: (gid, True)))

        def star(kv):
            g = kv[1]
            if not any(True for _ in g["touched"]):
                return []
            ids = sorted(g["member"])
            return [(ids[0], x, SAME_GROUP) for x in ids[1:]]

        by_group = old_groups | "ByOldGroup" >> beam.Map(lambda kv: (kv[1], kv[0]))
        return ({"touched": groups, "member": by_group} | "JoinGroups" >> beam.CoGroupByKey()
                | "Star" >> beam.FlatMap(star))


def best_link(links):
    """Of (weight, doc_id) pairs, the heaviest; the smallest doc_id among equals."""
    return min(links, key=lambda wd: (-wd[0], wd[1]), default=None)


class Adoptions(beam.PTransform):
    """Edges (a, b, weight) -> an ``ADOPTED`` edge (a, b) from each article a none
    of whose edges weighs ``min_weight`` (nor is ``SAME_GROUP``) to the other end
    b of its heaviest edge (ties: the smallest doc_id): it joins that component
    and no other, so no two components merge through it."""

    def __init__(self, min_weight: float):
        super().__init__()
        self.min_weight = min_weight

    def expand(self, edges):
        strong = self.min_weight

        def ends(e):
            a, b, w = e
            w = math.inf if w >= strong or w == SAME_GROUP else w
            return [(a, (w, b)), (b, (w, a))] if w >= 0 else []

        def adopt(kv):
            doc, (w, other) = kv
            return [(doc, other, ADOPTED)] if w < strong else []

        return (edges | "Ends" >> beam.FlatMap(ends) | "Strongest" >> beam.CombinePerKey(best_link)
                | "Adopt" >> beam.FlatMap(adopt))


class JoinPairs(beam.PTransform):
    """(candidate pairs (id_a, id_b), payloads keyed by id) -> ((id_a, payload_a), (id_b, payload_b)).

    Two CoGroupByKeys: no step holds more than one payload and its pairs."""

    def expand(self, inputs):
        pairs, keyed = inputs

        def first(kv):
            a, g = kv
            found = list(g["rec"])
            return [(b, (a, found[0])) for b in g["pair"]] if found else []

        def second(kv):
            b, g = kv
            found = list(g["rec"])
            return [(a, (b, found[0])) for a in g["pair"]] if found else []

        with_a = ({"pair": pairs | "ByFirst" >> beam.Map(lambda p: (p[0], p[1])), "rec": keyed}
                  | "JoinFirst" >> beam.CoGroupByKey() | "FirstRec" >> beam.FlatMap(first))
        return ({"pair": with_a, "rec": keyed} | "JoinSecond" >> beam.CoGroupByKey()
                | "SecondRec" >> beam.FlatMap(second))


class Components(beam.PTransform):
    """(edges (a, b, weight), records keyed by id) -> (root, {"member": [records], "edge": [edges]})
    for every connected component of the edges weighing at least ``min_weight``
    (or ``SAME_GROUP``, ``ADOPTED``); lighter edges go along to the component of their first end.
    The components come from ``transforms.components.ConnectedComponents``
    (one worker's union-find up to ``max_union_find_edges`` edges, else
    rounds of star contraction across workers)."""

    def __init__(self, min_weight: float = 0.0, max_union_find_edges: int | None = MAX_UNION_FIND_EDGES):
        super().__init__()
        self.min_weight = min_weight
        self.max_union_find_edges = max_union_find_edges

    def expand(self, inputs):
        edges, keyed = inputs
        min_weight = self.min_weight
        roots = (edges | "Strong" >> beam.Filter(lambda e: e[2] >= min_weight or e[2] in (SAME_GROUP, ADOPTED))
                 | "Roots" >> ConnectedComponents(self.max_union_find_edges))

        def by_root(kv):
            g = kv[1]
            found = list(g["root"])
            return [(found[0], x) for x in g["x"]] if found else []

        members = ({"root": roots, "x": keyed} | "JoinRoots" >> beam.CoGroupByKey()
                   | "MemberByRoot" >> beam.FlatMap(by_root))
        edges = ({"root": roots, "x": edges | "EdgeByFirst" >> beam.Map(lambda e: (e[0], e))}
                 | "JoinEdgeRoots" >> beam.CoGroupByKey() | "EdgeByRoot" >> beam.FlatMap(by_root))
        return {"member": members, "edge": edges} | "ByComponent" >> beam.CoGroupByKey()


class CandidatePairs(beam.PTransform):
    """(bucket key, (doc_id, is_old, order)) -> distinct (id_a, id_b) pairs of bucket mates, not both old."""

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

    Records are bucketed by ``keys`` (record -> (bucket key, doc_id)); of
    each pair of bucket mates, ``linked(payload_a, payload_b)`` gives the
    weight of their link, or None when they do not belong together,
    ``payload`` being the little of a record that takes (a signature, a
    compact term vector). With the known edges (a, b, weight), ``label_fn``
    turns each connected component (of the edges weighing at least
    ``component_min``) into output: it gets
    ``(root, {"member": [...], "edge": [...]})``, the members reduced by
    ``member`` to what labelling needs, and the component's edges.

    ``in_bucket``: payloads travel with the bucket keys and pairs are judged
    inside each bucket (for many pairs per record and a small payload:
    stories); else buckets hold doc_ids only and the candidate pairs are
    joined to the payloads (for few pairs per record and a larger payload:
    near-duplicates, 42 bands a record). Never a whole record per pair.

    ``lookup_payloads`` (with ``in_bucket``): buckets hold doc_ids, and the
    pairs' payloads are looked up in one side input of every record's
    payload. The same pairs and weights; for the local runner, which holds
    each GroupByKey whole in memory: a record's payload is held once, not
    once per bucket key (13 for stories, ~6.5 KB an article).

    ``adopt``: an article none of whose links reaches ``component_min`` joins
    the component of its strongest link by an ``ADOPTED`` edge (``Adoptions``),
    so that ``label_fn`` can weigh it against the groups there.

    ``group_key``: the field naming an earlier run's group (cluster, story).
    An earlier group that a new link touches comes into the component whole
    (``SAME_GROUP`` edges between its members), so that averages over it see
    all of it, not only the members the new links reach: a run split in two
    then groups as one run does."""

    def __init__(self, keys, payload, linked, member, label_fn: beam.DoFn, max_bucket: int = MAX_BUCKET,
                 in_bucket: bool = False, component_min: float = 0.0, group_key: str | None = None,
                 max_union_find_edges: int | None = MAX_UNION_FIND_EDGES, lookup_payloads: bool = False,
                 adopt: bool = False):
        super().__init__()
        self.adopt = adopt
        self.lookup_payloads = lookup_payloads
        self.max_union_find_edges = max_union_find_edges
        self.component_min = component_min
        self.group_key = group_key
        self.keys, self.payload, self.linked, self.member = keys, payload, linked, member
        self.label_fn = label_fn
        self.max_bucket = max_bucket
        self.in_bucket = in_bucket

    def expand(self, inputs):
        recs, everyone, known = inputs
        keys, payload, linked, member = self.keys, self.payload, self.linked, self.member
        max_bucket = self.max_bucket
        if self.in_bucket and self.lookup_payloads:
            def keyed_members(rec):
                old, order = bool(rec.get("old")), bucket_order(rec)
                return ((k, (doc_id, old, order)) for k, doc_id in keys(rec))

            payloads = everyone | "Payloads" >> beam.Map(lambda r: (r["doc_id"], payload(r)))
            found = (recs | "Keys" >> beam.FlatMap(keyed_members) | "Buckets" >> beam.GroupByKey()
                     | "Judge" >> beam.FlatMap(_linked_by_lookup, linked, max_bucket, beam.pvalue.AsDict(payloads))
                     | "DistinctEdges" >> beam.Distinct())
        elif self.in_bucket:
            def keyed_payloads(rec):
                old, order, p = bool(rec.get("old")), bucket_order(rec), payload(rec)
                return ((k, (doc_id, old, order, p)) for k, doc_id in keys(rec))

            found = (recs | "Keys" >> beam.FlatMap(keyed_payloads) | "Buckets" >> beam.GroupByKey()
                     | "Judge" >> beam.FlatMap(_linked_in_bucket, linked, max_bucket)
                     | "DistinctEdges" >> beam.Distinct())
        else:
            def keyed_ids(rec):
                old, order = bool(rec.get("old")), bucket_order(rec)
                return ((k, (doc_id, old, order)) for k, doc_id in keys(rec))

            payloads = everyone | "Payloads" >> beam.Map(lambda r: (r["doc_id"], payload(r)))
            pairs = recs | "Keys" >> beam.FlatMap(keyed_ids) | "Candidates" >> CandidatePairs(max_bucket)
            def judge(ab):
                (a, pa), (b, pb) = ab
                w = linked(pa, pb)
                return [] if w is None else [(a, b, w)]

            found = (pairs, payloads) | "JoinPairs" >> JoinPairs() | "Judge" >> beam.FlatMap(judge)
        edges = [found, known]
        if self.group_key:
            edges.append((found, everyone) | "WholeEarlierGroups" >> _WholeGroups(self.group_key))
        edges = edges | "AllEdges" >> beam.Flatten()
        if self.adopt:
            edges = (edges, edges | "Adoptions" >> Adoptions(self.component_min)) | "WithAdoptions" >> beam.Flatten()
        members = everyone | "Members" >> beam.Map(lambda r: (r["doc_id"], member(r)))
        return ((edges, members) | "Components" >> Components(self.component_min, self.max_union_find_edges)
                | "Labels" >> beam.ParDo(self.label_fn))


class _ExactCopiesFn(beam.DoFn):
    """(content_hash, records) -> one representative for the LSH stage, and
    an edge from it to every other new copy (exact copies need no estimate)."""

    def process(self, element):
        _, recs = element
        recs = sorted(recs, key=lambda r: (not r.get("old"), r["doc_id"]))  # an earlier run's copy first
        rep = recs[0]
        out = [rep]
        out.extend(beam.pvalue.TaggedOutput("edges", (rep["doc_id"], r["doc_id"], EXACT))
                   for r in recs[1:] if not r.get("old"))
        return out


class _Verify:
    """A link when ``similarity`` >= ``threshold``. Payloads: (sig, n)."""

    def __init__(self, threshold: float, min_shingles: int):
        self.threshold = threshold
        self.min_shingles = min_shingles

    def __call__(self, a, b) -> float | None:
        s = similarity(a[0], a[1], b[0], b[1], self.min_shingles)
        return s if s >= self.threshold else None


_MEMBER_FIELDS = ("doc_id", "sig", "n", "published_at", "length", "is_machine_translated", "old", "dup_cluster_id")


def _member(rec) -> dict:
    """What the canonical rule and dup_similarity need of a record."""
    return {f: rec.get(f) for f in _MEMBER_FIELDS}


def _sig_payload(rec):
    return rec["sig"], rec["n"]


class NearDuplicates(beam.PTransform):
    """(new records, index records) -> (doc_id, (dup_cluster_id, is_duplicate, dup_similarity)) for new docs.

    A record: doc_id, content_hash, sig, n, published_at, length, is_machine_translated;
    index records also carry ``old=True`` and their ``dup_cluster_id``."""

    def __init__(self, threshold: float = 0.6, min_shingles: int = 10,
                 max_union_find_edges: int | None = MAX_UNION_FIND_EDGES):
        super().__init__()
        self.threshold = threshold
        self.min_shingles = min_shingles
        self.max_union_find_edges = max_union_find_edges

    def expand(self, inputs):
        new, old = inputs
        everyone = ((new, old) | "AllRecords" >> beam.Flatten()
                    | "DedupFields" >> beam.Map(lambda r: {**_member(r), "content_hash": r["content_hash"],
                                                            "lead": r.get("lead")}))
        exact = (everyone | "ByContentHash" >> beam.Map(lambda r: (r["content_hash"], r))
                 | "SameHash" >> beam.GroupByKey()
                 | "ExactCopies" >> beam.ParDo(_ExactCopiesFn()).with_outputs("edges", main="reps"))
        return (exact["reps"], everyone, exact["edges"]) | "Link" >> LinkRecords(
            _bands, _sig_payload, _Verify(self.threshold, self.min_shingles), _member,
            _ClusterFn(self.threshold, self.min_shingles), group_key="dup_cluster_id",
            max_union_find_edges=self.max_union_find_edges)


def dedup_record(article) -> dict:
    """The fields of an article that near-duplicate detection needs (and the index keeps)."""
    words = _words(article["text"])
    sig, n = _signature(words)
    return {"doc_id": article["doc_id"], "content_hash": article["content_hash"], "sig": sig, "n": n,
            "lead": _lead_key(words),
            "published_at": article.get("published_at"), "length": len(article["text"]),
            "is_machine_translated": bool(article.get("is_machine_translated"))}
