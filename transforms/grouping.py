"""Near-duplicate and story labels of a run's articles, computed on small records.

An article's text is shuffled once, when its shard is written. Everything
here moves one small record per article instead: its MinHash signature, its
story term vector and the fields of the canonical rule (``link_record``).

- ``SplitIngested``: records (or rejects) whose doc_id an earlier run into
  this output already wrote are counted and dropped, not written again.
- ``GroupArticles``: near-duplicate clusters (``transforms.dedup``) of the new
  records together with the earlier runs' index, then stories
  (``transforms.stories``) over the records with their clusters; returns one
  label per new article (dup_cluster_id, is_duplicate, dup_similarity,
  story_id) and one index row per new article (the record and its labels),
  which the next run reads back from ``OUT/index/articles``.

``write.WriteLabelledRows`` joins the labels into the article rows in the
same shuffle that groups the labels into shards.

That is the graph distributed runners run. On the local runner the records
do not move through Beam at all: ``LinkRecords(staged=True)`` keeps each
record's fields in the staged file of its row, and
``transforms.group_local.LabelStaged`` reads them back and labels the run in
one step (the same algorithm, the same labels).
"""
from __future__ import annotations

import json

import apache_beam as beam
import pyarrow as pa
from apache_beam import pvalue

from transforms.boundary import per_document
from transforms.components import MAX_UNION_FIND_EDGES
from transforms.dedup import SIGNATURE_SCHEME, NearDuplicates, dedup_record
from transforms.stories import StoryGroups, anchors, lead_names, pack, pack_anchors, term_vector
from transforms.write import DROP

__all__ = ["DROP", "LINK_SCHEMA", "GroupArticles", "LinkRecords", "SplitIngested", "article_stat_keys", "index_row",
           "link_record", "old_record"]



def article_stat_keys(a) -> list[str]:
    """The manifest counters one written article adds to."""
    keys = [f"language/{a['language']}", f"extractor/{a['extractor']}", f"format/{a['source_format']}"]
    if a.get("is_machine_translated"):
        keys.append(f"machine_translated/{a.get('mt_source_language') or 'unknown'}")
    return keys


# Near-duplicates and stories read an article's first this many characters
# (a long news article is 60,000): a 15 MB text took 22 s and 500 MB for its
# signature and story vectors. ``length`` (the canonical copy's tie-break)
# and ``content_hash`` stay those of the whole text.
LINK_TEXT_CHARS = 400_000


def link_record(article) -> dict:
    """What duplicate and story detection need of an article (about 1 KB: the
    MinHash signature and the packed story vectors are most of it)."""
    text = article["text"]
    if len(text) > LINK_TEXT_CHARS:
        rec = {**dedup_record({**article, "text": text[:LINK_TEXT_CHARS]}), "length": len(text)}
        text = text[:LINK_TEXT_CHARS]
    else:
        rec = dedup_record(article)
    title, language = article.get("title"), article.get("language")
    rec["terms"] = pack(term_vector(text, title, language))
    rec["anchors"] = pack_anchors(anchors(text, title, language), lead_names(text, title, language))
    rec["language"] = language
    rec["stats"] = article_stat_keys(article)
    return rec


# What a staged article row carries besides its own columns when its link
# record is staged with it (``LinkRecords(staged=True)``): the fields of the
# record that are not columns of the article already.
LINK_SCHEMA = pa.schema([("sig", pa.binary()), ("n", pa.int32()), ("lead", pa.string()), ("length", pa.int64()),
                         ("terms", pa.binary()), ("anchors", pa.binary())])


class _LinkRecordFn(beam.DoFn):
    """article -> the article (``articles``) and its link record (``records``),
    or, ``staged``, the article carrying its record's fields (``LINK_SCHEMA``),
    to be staged on disk with it; an article whose record cannot be made is a
    reject, not a row without labels."""

    def __init__(self, staged: bool = False):
        self.staged = staged

    @per_document("link")
    def process(self, article):
        rec = link_record(article)
        if self.staged:
            return [{**article, **{f: rec[f] for f in LINK_SCHEMA.names}}]
        return [article, pvalue.TaggedOutput("records", rec)]


class LinkRecords(beam.PTransform):
    """articles -> ``articles``, ``records`` (one small link record each) and ``rejects``.

    ``staged``: no ``records``; each article carries its record's fields
    instead, so that the record waits on disk with the staged row
    (``transforms.group_local.LabelStaged`` reads them back)."""

    def __init__(self, staged: bool = False):
        super().__init__()
        self.staged = staged

    def expand(self, articles):
        return articles | "LinkRecord" >> beam.ParDo(_LinkRecordFn(self.staged)).with_outputs(
            "records", "rejects", main="articles")


def index_row(rec, run_id: str) -> dict:
    """A labelled record as a row of OUT/index/articles."""
    return {"doc_id": rec["doc_id"], "content_hash": rec["content_hash"], "sig": rec["sig"],
            "sig_scheme": SIGNATURE_SCHEME, "n": rec["n"],
            "lead": rec["lead"], "published_at": rec["published_at"], "length": rec["length"],
            "is_machine_translated": rec["is_machine_translated"], "dup_cluster_id": rec["dup_cluster_id"],
            "story_id": rec["story_id"], "terms": rec["terms"], "anchors": rec.get("anchors") or b"",
            "language": rec.get("language"),
            "run_id": run_id}


def old_record(row) -> dict:
    """An index row read back: a record of an earlier run. An index whose
    signatures another scheme made (an older newsbeam) cannot be compared
    with this run's: the run stops and says so, rather than miss copies."""
    scheme = row.get("sig_scheme")
    if scheme != SIGNATURE_SCHEME:
        raise ValueError(f"OUT/index/articles row {row['doc_id']} has MinHash signatures of scheme {scheme!r} "
                         f"(an older newsbeam); this version uses {SIGNATURE_SCHEME!r}. Write this run into a new "
                         "output folder, or move the old output's index/ away to start its near-duplicate index "
                         "afresh.")
    return {**row, "terms": _packed(row.get("terms")), "anchors": _packed(row.get("anchors")),
            "language": row.get("language"), "old": True}


def _packed(vector) -> bytes:
    """An index row's vector, packed: as written (bytes), or an older
    newsbeam's JSON text of [word, weight] pairs packed in its order; an
    index older still has no anchors (None)."""
    if vector is None:
        return b""
    if isinstance(vector, str):
        return pack([(w, v) for w, v in json.loads(vector)])
    return bytes(vector)


class _SplitFn(beam.DoFn):
    def process(self, element):
        doc_id, g = element
        items = list(g["item"])
        if not list(g["seen"]):
            return items
        return [beam.pvalue.TaggedOutput("already", doc_id) for _ in items]


class SplitIngested(beam.PTransform):
    """(items with doc_id, doc_ids ingested before) -> ``new`` items and ``already`` doc_ids."""

    def expand(self, inputs):
        items, ingested = inputs
        return ({"item": items | "ById" >> beam.Map(lambda d: (d["doc_id"], d)),
                 "seen": ingested | "SeenId" >> beam.Map(lambda i: (i, True))}
                | "Join" >> beam.CoGroupByKey()
                | "Split" >> beam.ParDo(_SplitFn()).with_outputs("already", main="new"))


def record_order(rec):
    """Which of several records of one doc_id labels it: they hold the same
    bytes, and may differ in what their source said (date, format)."""
    published = rec.get("published_at")
    return (published is None, published.isoformat() if published else "", tuple(rec.get("stats") or ()),
            bool(rec.get("old")), rec.get("run_id") or "")


def _first_record(kv):
    return min(kv[1], key=record_order)


def _with_cluster(element):
    doc_id, g = element
    found = list(g["dup"])
    cluster, is_dup, sim = found[0] if found else (doc_id, False, None)
    for rec in g["rec"]:
        yield {**rec, "dup_cluster_id": cluster, "is_duplicate": is_dup,
               "dup_similarity": None if sim is None else float(sim)}


def _with_story(element):
    doc_id, g = element
    found = list(g["story"])
    # an article linked to no other (no copy, no story mate) is a story of its own
    return [{**rec, "story_id": found[0] if found else rec["dup_cluster_id"]} for rec in g["rec"]]


class GroupArticles(beam.PTransform):
    """(new records, earlier runs' index records) -> labelled records.

    A labelled record is the record plus ``dup_cluster_id``, ``is_duplicate``,
    ``dup_similarity`` and ``story_id``."""

    def __init__(self, dup_threshold: float, story_threshold: float,
                 max_union_find_edges: int | None = MAX_UNION_FIND_EDGES, lookup_payloads: bool = False):
        super().__init__()
        self.dup_threshold, self.story_threshold = dup_threshold, story_threshold
        self.max_union_find_edges = max_union_find_edges
        self.lookup_payloads = lookup_payloads  # story buckets of doc_ids (the local runner; dedup.LinkRecords)

    def expand(self, inputs):
        new, old = inputs
        # one record per doc_id: the same URL and bytes read twice (two files
        # of one crawl) are one document, labelled once, each of its rows alike
        new_by_id = new | "RecById" >> beam.Map(lambda r: (r["doc_id"], r))
        one = new_by_id | "NewById" >> beam.GroupByKey() | "OneNew" >> beam.Map(_first_record)
        old = (old | "OldById" >> beam.Map(lambda r: (r["doc_id"], r)) | "OldIds" >> beam.GroupByKey()
               | "OneOld" >> beam.Map(_first_record))
        dups = (one, old) | "NearDuplicates" >> NearDuplicates(self.dup_threshold,
                                                                max_union_find_edges=self.max_union_find_edges)
        clustered = ({"rec": one | "OneById" >> beam.Map(lambda r: (r["doc_id"], r)), "dup": dups}
                     | "JoinClusters" >> beam.CoGroupByKey() | "WithCluster" >> beam.FlatMap(_with_cluster))
        # Stories over every article, its near-duplicate links included: a
        # cluster is in one story, and which copy is canonical (an arbitrary
        # doc_id between equal copies) does not decide the story.
        copies = (clustered | "Copies" >> beam.Filter(lambda r: r["is_duplicate"])
                  | "CopyLinks" >> beam.Map(lambda r: (r["doc_id"], r["dup_cluster_id"])))
        stories = (clustered, old, copies) | "Stories" >> StoryGroups(self.story_threshold, self.max_union_find_edges,
                                                                       self.lookup_payloads)
        every = ({"rec": new_by_id, "dup": dups} | "JoinEveryCluster" >> beam.CoGroupByKey()
                 | "EveryWithCluster" >> beam.FlatMap(_with_cluster))
        return ({"rec": every | "ByDoc" >> beam.Map(lambda r: (r["doc_id"], r)), "story": stories}
                | "JoinStories" >> beam.CoGroupByKey() | "WithStory" >> beam.FlatMap(_with_story))
