"""Near-duplicates and stories of a whole run in one step, for the local runner.

``GroupArticles`` spreads the grouping over a graph of ~160 Beam steps (23
shuffles): band buckets, candidate pairs, two joins, components, stories.
On a cluster that is what lets it scale out. The local FnApiRunner runs
each of those steps as a stage of its own (~30 ms each, whatever the
batch) and holds every shuffle of them in memory at once. Here the same
algorithm runs on one list of link records in one worker, step for step:

- the same functions judge a pair, make a bucket's pairs, cluster a
  component and average its links (``transforms.dedup``,
  ``transforms.stories``, ``transforms.linkage``);
- buckets are sorted arrays of (bucket key, doc index), one band of the
  MinHash at a time, not a dictionary of every key;
- components are the graph's own union-find (``components.UnionFind``),
  run over the list.

So it returns the labels ``GroupArticles`` returns (a test runs both on
the same records, and the end-to-end test compares runners that take either
path).
"""
from __future__ import annotations

import itertools
from array import array
from typing import Callable, Iterable

import apache_beam as beam
import numpy as np
import pyarrow as pa

from transforms import dedup, stories
from transforms.components import UnionFind
from transforms.grouping import record_order

__all__ = ["LabelStaged", "label_articles"]


def _roots(edges: Iterable[tuple], strong: Callable[[float], bool]) -> dict[str, str]:
    """{node: root} over the strong edges, by the union-find the graph uses
    (``components.UnionFind``): the root is the smallest node of its component."""
    uf = UnionFind()
    parent = uf.create_accumulator()
    for e in edges:
        if strong(e[2]):
            uf.add_input(parent, e)
    return uf.extract_output(parent)


class _Edges:
    """Links (id_a, id_b, weight) held as three arrays over ``ids``, 24 bytes a
    link instead of a tuple of ~100 (a story batch finds ~18 links an
    article, most of them too weak to make a component), then a few as
    tuples; iterated, again and again, as the tuples."""

    def __init__(self, ids: list[str]):
        self.ids = ids
        self.a, self.b, self.w = array("q"), array("q"), array("d")
        self.more: list[tuple] = []

    def add(self, a: int, b: int, w: float) -> None:
        self.a.append(a)
        self.b.append(b)
        self.w.append(w)

    def __iter__(self):
        ids = self.ids
        for a, b, w in zip(self.a, self.b, self.w):
            yield ids[a], ids[b], w
        yield from self.more


def _components(edges: Iterable[tuple], records: list[dict], member, strong):
    """(root, {"member": [...], "edge": [...]}) as ``dedup.Components`` gives them: the
    members are the records on a strong edge, each edge goes with its first end."""
    roots = _roots(edges, strong)
    groups: dict[str, dict[str, list]] = {}
    for r in records:
        root = roots.get(r["doc_id"])
        if root is not None:
            groups.setdefault(root, {"member": [], "edge": []})["member"].append(member(r))
    for e in edges:
        root = roots.get(e[0])
        if root is not None:
            groups.setdefault(root, {"member": [], "edge": []})["edge"].append(e)
    return sorted(groups.items())


def _whole_groups(found: Iterable[tuple], records: list[dict], key: str) -> list[tuple]:
    """``dedup._WholeGroups``: every earlier group a found edge touches, as
    ``SAME_GROUP`` edges from its smallest member to the others."""
    old_groups: dict[str, list[str]] = {}
    group_of: dict[str, str] = {}
    for r in records:
        if r.get("old") and r.get(key):
            old_groups.setdefault(r[key], []).append(r["doc_id"])
            group_of[r["doc_id"]] = r[key]
    touched = {group_of[d] for e in found for d in e[:2] if d in group_of}
    out = []
    for gid in sorted(touched):
        ids = sorted(old_groups[gid])
        out.extend((ids[0], x, dedup.SAME_GROUP) for x in ids[1:])
    return out


def _bucket_runs(keys: np.ndarray, docs: np.ndarray):
    """Rows grouped by key (one row per key column of ``keys``), each group's doc
    indexes sorted and distinct; only groups of two or more."""
    if not len(docs):
        return
    order = np.lexsort((docs, *keys[::-1])) if keys.ndim == 2 else np.lexsort((docs, keys))
    k = keys[:, order] if keys.ndim == 2 else keys[order]
    d = docs[order]
    change = np.any(k[:, 1:] != k[:, :-1], axis=0) if keys.ndim == 2 else k[1:] != k[:-1]
    starts = np.flatnonzero(np.concatenate(([True], change)))
    ends = np.concatenate((starts[1:], [len(d)]))
    for s, e in zip(starts.tolist(), ends.tolist()):
        if e - s >= 2:
            run = d[s:e]
            yield np.unique(run).tolist() if np.any(run[1:] == run[:-1]) else run.tolist()


def _bucket_pairs(runs, old: list[bool], max_bucket: int, into: array) -> None:
    """Candidate pairs of every bucket (``dedup._bucket_pairs``), each added to
    ``into`` as one integer, ``index_a * len(old) + index_b``: 8 bytes a pair
    (a story batch has ~65 candidate pairs an article, most of them found
    again in other buckets; a set of tuples held ~200 bytes each)."""
    n = len(old)
    for run in runs:
        if len(run) < 2:
            continue
        members = [(i, old[i]) for i in run]
        into.extend(a[0] * n + b[0] for a, b in dedup._bucket_pairs(members, max_bucket))


def _distinct_pairs(codes: array, n: int, chunk: int = 1 << 16):
    """(index_a, index_b) of each distinct pair, in order; as Python integers a
    chunk at a time (a list of them all held ~36 bytes a pair)."""
    codes = np.unique(np.frombuffer(codes, dtype=np.int64))
    for start in range(0, len(codes), chunk):
        for code in codes[start:start + chunk].tolist():
            yield divmod(code, n)


def _near_duplicates(new: list[dict], old: list[dict], threshold: float, min_shingles: int):
    """{doc_id: (dup_cluster_id, is_duplicate, dup_similarity)} for the new records
    (``dedup.NearDuplicates``)."""
    everyone = list(itertools.chain(new, old))  # read, never changed: no copy of a record
    # exact copies: one representative each, an edge to every other new copy
    by_hash: dict[str, list[dict]] = {}
    for r in everyone:
        by_hash.setdefault(r["content_hash"], []).append(r)
    reps, known = [], []
    for recs in by_hash.values():
        recs = sorted(recs, key=lambda r: (not r.get("old"), r["doc_id"]))
        reps.append(recs[0])
        known.extend((recs[0]["doc_id"], r["doc_id"], dedup.EXACT) for r in recs[1:] if not r.get("old"))
    del by_hash
    reps.sort(key=lambda r: r["doc_id"])  # index order is doc_id order: bucket members come sorted
    ids = [r["doc_id"] for r in reps]
    olds = [bool(r.get("old")) for r in reps]
    docs = np.arange(len(reps), dtype=np.int64)
    pairs = array("q")
    if reps:
        sigs = np.stack([np.frombuffer(r["sig"], dtype=np.uint32) for r in reps])
        for b in range(dedup.BANDS):
            band = np.ascontiguousarray(sigs[:, b * dedup.ROWS:(b + 1) * dedup.ROWS].T)
            _bucket_pairs(_bucket_runs(band, docs), olds, dedup.MAX_BUCKET, pairs)
        del sigs
    leads: dict[str, list[int]] = {}
    for i, r in enumerate(reps):
        if r.get("lead"):
            leads.setdefault(r["lead"], []).append(i)
    _bucket_pairs(leads.values(), olds, dedup.MAX_BUCKET, pairs)
    del leads
    verify = dedup._Verify(threshold, min_shingles)
    edges = _Edges(ids)
    for a, b in _distinct_pairs(pairs, len(reps)):
        ra, rb = reps[a], reps[b]
        w = verify((ra["sig"], ra["n"]), (rb["sig"], rb["n"]))
        if w is not None:
            edges.add(a, b, w)
    del pairs
    edges.more = known + _whole_groups(edges, everyone, "dup_cluster_id")
    cluster = dedup._ClusterFn(threshold, min_shingles)
    labels = {}
    for element in _components(edges, everyone, dedup._member, lambda w: w >= 0.0 or w == dedup.SAME_GROUP):
        labels.update(cluster.process(element))
    return labels


def _stories(clustered: list[dict], old: list[dict], threshold: float) -> dict[str, str]:
    """{doc_id: story_id} for new articles in a story of more than one (``stories.StoryGroups``)."""
    recs = sorted(itertools.chain(clustered, old), key=lambda r: r["doc_id"])
    ids = [r["doc_id"] for r in recs]
    olds = [bool(r.get("old")) for r in recs]
    keys, docs = [], []
    for i, r in enumerate(recs):
        terms = stories.unpack(r["terms"])[0][:stories.KEY_TERMS].astype(np.int64)
        anchors = stories.unpack(r.get("anchors") or b"")[0][:stories.ANCHOR_KEYS].astype(np.int64) + (1 << 32)
        keys.extend((terms, anchors))
        docs.append(np.full(len(terms) + len(anchors), i, dtype=np.int64))
    keys = np.concatenate(keys) if keys else np.zeros(0, dtype=np.int64)
    docs = np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64)
    similar = stories._Similar()
    payloads = [stories._payload(r) for r in recs]
    pairs = array("q")
    _bucket_pairs(_bucket_runs(keys, docs), olds, dedup.MAX_BUCKET, pairs)
    del keys, docs
    edges = _Edges(ids)
    for a, b in _distinct_pairs(pairs, len(recs)):
        w = similar(payloads[a], payloads[b])
        if w is not None:
            edges.add(a, b, w)
    del pairs, payloads
    known = [(r["doc_id"], r["dup_cluster_id"], 1.0) for r in clustered if r["is_duplicate"]]
    edges.more = known + _whole_groups(edges, recs, "story_id")
    story = stories._StoryIdFn(threshold)
    out = {}
    for element in _components(edges, recs, stories._member, lambda w: w >= threshold or w == dedup.SAME_GROUP):
        out.update(story.process(element))
    return out


def label_articles(new: list[dict], old: list[dict], dup_threshold: float, story_threshold: float,
                   min_shingles: int = 10):
    """New link records -> the same records labelled as ``GroupArticles`` labels
    them (``dup_cluster_id``, ``is_duplicate``, ``dup_similarity``, ``story_id``),
    an iterator in the order of ``new``."""
    one_new, one_old = _one_per_doc(new), _one_per_doc(old)
    dups = _near_duplicates(one_new, one_old, dup_threshold, min_shingles)
    # what stories read of a new record, with its cluster: not a copy of the record
    clustered = [{**{f: r.get(f) for f in _STORY_FIELDS}, **_cluster_labels(r["doc_id"], dups)} for r in one_new]
    story = _stories(clustered, one_old, story_threshold)
    del clustered, one_new, one_old
    return _labelled(new, dups, story)


_STORY_FIELDS = ("doc_id", "terms", "anchors", "language")


def _labelled(new: list[dict], dups: dict, story: dict):
    """Each new record with its labels, one at a time (the caller's next steps
    take them as they come; no second list of every record)."""
    for rec in new:
        rec = {**rec, **_cluster_labels(rec["doc_id"], dups)}
        rec["story_id"] = story.get(rec["doc_id"]) or rec["dup_cluster_id"]
        yield rec


def _one_per_doc(records: list[dict]) -> list[dict]:
    """One record per doc_id (``grouping.record_order`` picks it, as the Beam graph does)."""
    chosen: dict[str, dict] = {}
    for r in records:
        had = chosen.get(r["doc_id"])
        if had is None or record_order(r) < record_order(had):
            chosen[r["doc_id"]] = r
    return list(chosen.values()) if len(chosen) < len(records) else records


def _cluster_labels(doc_id: str, dups: dict) -> dict:
    cluster, is_dup, sim = dups.get(doc_id, (doc_id, False, None))
    return {"dup_cluster_id": cluster, "is_duplicate": is_dup, "dup_similarity": None if sim is None else float(sim)}


# What the one step reads of a staged row: its link record's fields and what
# the run's counts and the choice between two records of one doc_id need
_STAGED_COLUMNS = ("doc_id", "content_hash", "published_at", "is_machine_translated", "language", "extractor",
                   "source_format", "mt_source_language")


def _staged_records(staging: str, staged: list[str], ingested: set[str]):
    """(link records of the staged rows not ingested before, doc_ids of those that were, rows read)."""
    from apache_beam.io.filesystems import FileSystems

    from transforms.grouping import LINK_SCHEMA, article_stat_keys
    from transforms.write import read_parquet

    records, already, rows = [], [], 0
    for rel in sorted(staged):
        table = read_parquet(FileSystems.join(staging, rel), list(_STAGED_COLUMNS) + LINK_SCHEMA.names)
        for row in table.to_pylist():
            rows += 1
            if row["doc_id"] in ingested:
                already.append(row["doc_id"])
                continue
            row["is_machine_translated"] = bool(row["is_machine_translated"])
            row["stats"] = article_stat_keys(row)
            for f in ("extractor", "source_format", "mt_source_language"):
                del row[f]
            records.append(row)
        del table
    return records, already, rows


def _index(output: str, table: str, columns: list[str] | None = None):
    """The rows earlier runs wrote to OUT/index/<table>, a file at a time."""
    from apache_beam.io.filesystems import FileSystems

    from transforms.write import read_parquet

    pattern = FileSystems.join(output, "index", table, "*.parquet")
    for meta in sorted(FileSystems.match([pattern])[0].metadata_list, key=lambda m: m.path):
        yield from read_parquet(meta.path, columns).to_pylist()


class _LabelStagedFn(beam.DoFn):
    def __init__(self, spec: "LabelStaged"):
        self.spec = spec

    def process(self, _, staged: list[str]):
        import collections
        import uuid

        from apache_beam.io.filesystems import FileSystems

        from transforms.grouping import DROP, old_record
        from transforms.records import ARTICLE_LABELS, ARTICLE_SCHEMA, INGESTED_SCHEMA
        from transforms.write import label_table, write_table

        spec = self.spec
        ingested = {r["doc_id"] for r in _index(spec.output, "ingested", ["doc_id"])}
        new, already, rows = _staged_records(spec.staging, staged, ingested)
        del ingested
        old = [old_record(r) for r in _index(spec.output, "articles")]
        counts: collections.Counter = collections.Counter()
        labels: dict[str, dict] = {}
        kept: list[str] = []
        for rec in label_articles(new, old, spec.dup_threshold, spec.story_threshold):
            counts.update(rec["stats"])
            counts["group/duplicate"] += bool(rec["is_duplicate"])
            labels[rec["doc_id"]] = {f: rec[f] for f in ARTICLE_LABELS}
            kept.append(rec["doc_id"])
        del new, old
        counts["group/story"] = len({lab["story_id"] for lab in labels.values()})
        counts["flow/labelled"] = rows
        counts["already/article_ingested_before"] = len(already)
        rel = f"labels/{uuid.uuid4().hex}.parquet"
        table = label_table(sorted(labels.items()) + [(d, DROP) for d in sorted(set(already))], ARTICLE_SCHEMA,
                            ARTICLE_LABELS)
        write_table(FileSystems.join(spec.staging, rel), table, table.schema)
        del labels, table
        # this run's articles in OUT/index/ingested (its rejects are written there by WriteParquet)
        if kept:
            kept.sort()
            ingested_rel = f"index/ingested/part-{spec.run_id}-articles.parquet"
            table = pa.table({"doc_id": kept, "outcome": ["article"] * len(kept),
                              "run_id": [spec.run_id] * len(kept)}, schema=INGESTED_SCHEMA)
            write_table(FileSystems.join(spec.staging, ingested_rel), table, INGESTED_SCHEMA)
            yield beam.pvalue.TaggedOutput("files", ingested_rel)
        yield beam.pvalue.TaggedOutput("label_files", [rel])
        yield beam.pvalue.TaggedOutput("kept", len(kept))
        yield from ((k, v) for k, v in sorted(counts.items()) if v)


class LabelStaged(beam.PTransform):
    """Paths of staged article rows that carry their link records
    (``LinkRecords(staged=True)``, ``StageRows``) -> near-duplicate and story
    labels of every staged row, in one step of one worker, on disk:

    - ``label_files``: a singleton list of label files under the staging
      folder (``write.label_table``: a row's labels, or DROP for an article
      an earlier run into ``output`` already wrote), for ``WriteLabelledRows``;
    - ``kept``: the number of rows to write (a singleton);
    - ``files``: this run's articles as rows of OUT/index/ingested (one file);
    - the main output: ``(counter, count)`` pairs for the run's manifest (the
      articles' languages, extractors, formats, machine translation,
      duplicates, stories, the rows labelled and those ingested before).

    Nothing of the batch moves through the runner: the records are read from
    the staged files and the earlier runs' index, labelled by
    ``label_articles``, and the labels written."""

    def __init__(self, staging: str, output: str, run_id: str, dup_threshold: float, story_threshold: float):
        super().__init__()
        self.staging, self.output, self.run_id = staging, output, run_id
        self.dup_threshold, self.story_threshold = dup_threshold, story_threshold

    def expand(self, staged):
        return (staged.pipeline | "Once" >> beam.Create([None])
                | "Label" >> beam.ParDo(_LabelStagedFn(self), beam.pvalue.AsList(staged)).with_outputs(
                    "label_files", "kept", "files", main="counts"))
