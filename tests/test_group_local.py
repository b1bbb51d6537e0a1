"""The local runner's one-step grouping (transforms.group_local) labels generated
batches as the Beam graph of GroupArticles does: exact and near copies, big
buckets, stories across languages, and a second run against the first's index."""
import collections
import datetime as dt
import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.util import assert_that, equal_to

from conftest import beam_test_pipeline
from transforms.annotate import content_hash
from transforms.group_local import label_articles
from transforms.grouping import GroupArticles, article_stat_keys, index_row, link_record, old_record

SYLLABLES = ["ka", "lo", "mir", "tes", "van", "dru", "pel", "zor", "quin", "bex", "hal", "nor", "sti", "wup"]
COMMON = ("the said on in a of to and was that for with by after officials report new city people year week "
          "police government minister council court vote plan money school road water fire storm").split()


def _name(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def _event(rng):
    return {"names": [_name(rng) for _ in range(6)], "numbers": [str(rng.randint(100, 99999)) for _ in range(3)]}


def _sentence(rng, event):
    words = [rng.choice(COMMON) for _ in range(rng.randint(8, 16))]
    for _ in range(3):
        words.insert(rng.randrange(len(words)), rng.choice(event["names"] + event["numbers"]))
    return " ".join(words).capitalize() + "."


def _events(n: int = 12):
    """Events of one topic: each shares two of its names with the next."""
    rng = random.Random(0)
    events = [_event(rng) for _ in range(n)]
    for a, b in zip(events, events[1:]):
        b["names"][:2] = a["names"][-2:]
    return events


def _articles(seed: int, per_event: int = 6):
    """Articles of the events (every batch on the same ones), with exact
    copies, near copies (one big family), an article in another language,
    and documents read twice."""
    rng = random.Random(seed)
    events = _events()
    texts = []
    for e in events:
        for _ in range(rng.randint(2, per_event)):
            texts.append((" ".join(_sentence(rng, e) for _ in range(rng.randint(4, 12))), "en"))
    texts.append((texts[0][0], "en"))  # exact copy
    base = texts[1][0]
    for i in range(15):  # a family of near copies: buckets over MAX_BUCKET
        texts.append((base + f" Update {i}: " + _sentence(rng, events[0]), "en"))
    texts.append((texts[2][0].replace("the", "la").replace("and", "y"), "es"))
    rng.shuffle(texts)
    day = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    articles = []
    for i, (text, lang) in enumerate(texts):
        articles.append({"doc_id": f"{seed:02d}{rng.getrandbits(64):016x}", "text": text, "title": None,
                         "language": lang, "content_hash": content_hash(text),
                         "published_at": day + dt.timedelta(hours=rng.randint(0, 200)) if i % 3 else None,
                         "is_machine_translated": i % 7 == 0, "extractor": "text", "source_format": "text"})
    # one document read twice (the same URL and bytes in two files): one doc_id, two records
    return articles + [{**articles[i], "published_at": None, "source_format": "warc"} for i in (3, 4, 5)]


def _batch(seed: int, per_event: int = 6):
    """Link records of ``_articles``."""
    return [link_record(a) for a in _articles(seed, per_event)]


def _key(r):
    sim = None if r["dup_similarity"] is None else round(r["dup_similarity"], 9)
    return r["doc_id"], r["dup_cluster_id"], r["is_duplicate"], sim, r["story_id"]


@pytest.mark.parametrize("lookup_payloads", [False, True])
def test_one_step_labels_as_the_beam_graph_does_across_two_runs(lookup_payloads):
    first, second = _batch(1), _batch(2)
    labelled = label_articles(first, [], 0.6, 0.25)
    # the second run sees the first through its index, and holds copies of some of its articles
    old = [old_record(index_row(r, "day1")) for r in labelled]
    second += [{**r, "doc_id": "z" + r["doc_id"]} for r in first[:8]]
    for new, prev in ((first, []), (second, old)):
        expected = sorted(_key(r) for r in label_articles(new, prev, 0.6, 0.25))
        assert sum(k[2] for k in expected) >= 10, "the batch has too few copies to compare"
        assert len({k[4] for k in expected}) < len(expected) - 20, "the batch has too few stories to compare"
        with beam_test_pipeline() as p:
            got = ((p | "New" >> beam.Create(new), p | "Old" >> beam.Create(prev))
                   | GroupArticles(0.6, 0.25, lookup_payloads=lookup_payloads) | beam.Map(_key))
            assert_that(got, equal_to(expected))


def test_one_step_over_staged_rows_writes_the_same_labels(tmp_path):
    """Rows staged with their link fields, labelled by LabelStaged, as label_articles
    labels their records; rows an earlier run ingested are DROP and counted."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from transforms.group_local import LabelStaged
    from transforms.grouping import LINK_SCHEMA, LinkRecords
    from transforms.records import ARTICLE_LABELS, ARTICLE_SCHEMA, INGESTED_SCHEMA
    from transforms.write import DROP, StageRows

    articles = _articles(3)
    before = sorted({a["doc_id"] for a in articles})[:4]  # an earlier run into the output wrote these
    (tmp_path / "out" / "index" / "ingested").mkdir(parents=True)
    pq.write_table(pa.table({"doc_id": before, "outcome": ["article"] * 4, "run_id": ["r0"] * 4},
                            schema=INGESTED_SCHEMA), str(tmp_path / "out" / "index" / "ingested" / "part-r0.parquet"))
    new = [a for a in articles if a["doc_id"] not in before]
    labelled = [_key(r) for r in label_articles([link_record(a) for a in new], [], 0.6, 0.25)]
    # the label file holds dup_similarity as the article column does (float32)
    expected = {k[0]: (*k[1:3], None if k[3] is None else float(np.float32(k[3])), k[4]) for k in labelled}
    counts = collections.Counter(k for a in new for k in article_stat_keys(a))
    counts.update({"group/duplicate": sum(k[2] for k in labelled), "group/story": len({k[4] for k in labelled}),
                   "flow/labelled": len(articles), "already/article_ingested_before": len(articles) - len(new)})
    staging = str(tmp_path / "staging")
    with beam_test_pipeline() as p:
        linked = p | beam.Create(articles) | LinkRecords(staged=True)
        staged = linked.articles | StageRows(staging, ARTICLE_SCHEMA, ARTICLE_LABELS, extra=LINK_SCHEMA)
        grouped = staged | LabelStaged(staging, str(tmp_path / "out"), "r1", 0.6, 0.25)
        assert_that(grouped.kept, equal_to([len(new)]), label="Kept")
        assert_that(grouped.counts, equal_to(sorted(counts.items())), label="Counts")
    (labels,) = [pq.read_table(str(f)).to_pylist() for f in (tmp_path / "staging" / "labels").iterdir()]
    got = {r["doc_id"]: (r["dup_cluster_id"], r["is_duplicate"], r["dup_similarity"], r["story_id"])
           for r in labels if not r[DROP]}
    assert got == expected
    assert sorted(r["doc_id"] for r in labels if r[DROP]) == before
    (ingested,) = [pq.read_table(str(f)).to_pylist() for f in (tmp_path / "staging" / "index" / "ingested").iterdir()]
    assert [r["doc_id"] for r in ingested] == sorted(a["doc_id"] for a in new)
    assert {r["outcome"] for r in ingested} == {"article"}


def _story_and_briefs(seed: int = 5, day: str = ""):
    """Four articles of one story (three names each states, five of its own) and
    new records: a brief naming one shared and one own name of each article and
    four names of its own (no link reaches the story threshold), and an article
    that shares one name with the story (a weak link, nothing more)."""
    rng = random.Random(seed)

    def record(doc_id, names):
        text = " ".join(_brief_sentence(rng, [n]) for n in names)
        return link_record({"doc_id": doc_id, "text": text, "title": None, "language": "en",
                            "content_hash": content_hash(text), "published_at": None,
                            "is_machine_translated": False, "extractor": "text", "source_format": "text"})

    core = [_name(rng) for _ in range(3)]
    own = [[_name(rng) for _ in range(5)] for _ in range(4)]
    story = [record(f"a{day}{i}", core + own[i]) for i in range(4)]
    brief = record(f"b{day}", [core[0]] + [o[0] for o in own] + [_name(rng) for _ in range(4)])
    other = record(f"o{day}", [_name(rng) for _ in range(6)] + [own[0][1]])
    return story, brief, other


def _brief_sentence(rng, names):
    words = [rng.choice(COMMON) for _ in range(8)] + names
    rng.shuffle(words)
    return " ".join(words).capitalize() + "."


def test_a_brief_joins_the_story_whose_centroid_it_is_near_as_in_the_beam_graph(monkeypatch):
    """An article average linkage leaves alone (every link under the story
    threshold) joins the story whose centroid it is near, in one run and in a
    second one against the first's index; an article that shares one name stays
    alone. The Beam graph labels as the one step does."""
    from transforms import stories

    story, brief, other = _story_and_briefs()
    payload = stories._payload(brief)
    links = [stories.similarity(payload, stories._payload(r)) for r in story]
    assert max(links) < 0.25 and min(links) >= stories.LINK_MIN, links  # weak links only: adopted, then attached
    assert stories.centroid_similarity(payload, [stories._payload(r) for r in story]) >= stories.ATTACH_MIN
    runs = [(story + [brief, other], [])]
    first = label_articles(story, [], 0.6, 0.25)
    later, later_brief, later_other = _story_and_briefs(day="2")  # the same names: the seed is the same
    runs.append(([later_brief, later_other], [old_record(index_row(r, "day1")) for r in first]))
    for new, prev in runs:
        labels = {k[0]: k[4] for k in map(_key, label_articles(new, prev, 0.6, 0.25))}
        story_id = "a0" if prev else labels["a0"]
        brief_id = next(d for d in labels if d.startswith("b"))
        other_id = next(d for d in labels if d.startswith("o"))
        assert labels[brief_id] == story_id and labels[other_id] == other_id
        with beam_test_pipeline() as p:
            got = ((p | "New" >> beam.Create(new), p | "Old" >> beam.Create(prev))
                   | GroupArticles(0.6, 0.25) | beam.Map(_key))
            assert_that(got, equal_to(sorted(map(_key, label_articles(new, prev, 0.6, 0.25)))))
    # a component with too many pairs to judge them all is averaged over its found
    # links and attaches nothing, in both
    monkeypatch.setattr(stories, "MAX_PAIRS", 3)
    expected = sorted(map(_key, label_articles(story + [brief, other], [], 0.6, 0.25)))
    assert {k[0]: k[4] for k in expected}["b"] == "b"
    with beam_test_pipeline() as p:
        got = ((p | "New" >> beam.Create(story + [brief, other]), p | "Old" >> beam.Create([]))
               | GroupArticles(0.6, 0.25) | beam.Map(_key))
        assert_that(got, equal_to(expected))
    monkeypatch.setattr(stories, "MAX_PAIRS", 100_000)
    monkeypatch.setattr(stories, "ATTACH_MIN", 2.0)  # never: the brief stays alone
    labels = {k[0]: k[4] for k in map(_key, label_articles(story + [brief, other], [], 0.6, 0.25))}
    assert labels["b"] == "b"


def test_adoptions_take_the_heaviest_link_of_a_row_without_a_strong_one():
    from transforms.dedup import ADOPTED, SAME_GROUP, Adoptions
    from transforms.group_local import _Links, _adoptions

    rng = random.Random(9)
    n = 60
    links = _Links()
    edges = []
    for _ in range(70):
        a, b = rng.sample(range(n), 2)
        r = rng.random()
        w = SAME_GROUP if r < 0.1 else 1.0 if r < 0.2 else round(rng.uniform(0.15, 0.6), 1)  # ties on purpose
        links.add(a, b, w)
        edges.append((f"d{a:03d}", f"d{b:03d}", w))
    rows, others = _adoptions(n, links, 0.3)
    expected = sorted((f"d{r:03d}", f"d{o:03d}", ADOPTED) for r, o in zip(rows, others))
    strong = {x for a, b, w in edges if w >= 0.3 or w == SAME_GROUP for x in (a, b)}
    assert expected and all(r not in strong for r, _, _ in expected)
    for r, o, _ in expected:  # the heaviest of its links, the smallest other end among equals
        mine = [(w, b if a == r else a) for a, b, w in edges if r in (a, b)]
        assert (max(w for w, _ in mine), o) == min(mine, key=lambda wd: (-wd[0], wd[1]))
    with beam_test_pipeline() as p:
        assert_that(p | beam.Create(edges) | Adoptions(0.3), equal_to(expected))


def test_nothing_to_group_gives_nothing():
    assert list(label_articles([], [], 0.6, 0.25)) == []


def test_earlier_groups_a_found_link_touches_come_in_whole_as_in_the_beam_graph():
    from transforms.dedup import _WholeGroups
    from transforms.group_local import _whole_groups

    rng = random.Random(5)
    records = [{"doc_id": f"d{i:03d}", "old": i < 60, "story_id": f"s{i % 9}" if i < 60 and i % 5 else None}
               for i in range(90)]
    found = [(f"d{rng.randrange(90):03d}", f"d{rng.randrange(90):03d}", rng.random()) for _ in range(12)]
    expected = sorted(_whole_groups(found, records, "story_id"))
    assert 10 < len(expected) < 50, "the case should touch some earlier groups, not all"
    with beam_test_pipeline() as p:
        got = (p | "Found" >> beam.Create(found), p | "Records" >> beam.Create(records)) | _WholeGroups("story_id")
        assert_that(got, equal_to(expected))


def test_candidate_pairs_made_a_range_at_a_time_give_the_same_labels(monkeypatch):
    """Story pairs are made distinct a range of first rows at a time when there are
    many; a tiny range gives the labels of one range."""
    from transforms import group_local

    new = _batch(7)
    whole = sorted(_key(r) for r in label_articles(new, [], 0.6, 0.25))
    calls = []
    pair_codes = group_local._pair_codes
    monkeypatch.setattr(group_local, "_pair_codes", lambda *a: calls.append(a[2:]) or pair_codes(*a))
    monkeypatch.setattr(group_local, "MAX_CODES", 40)
    assert sorted(_key(r) for r in label_articles(new, [], 0.6, 0.25)) == whole
    assert len([c for c in calls if c]) > 10, "the pairs were not made in ranges"


def test_story_pairs_judged_a_few_at_a_time_give_the_same_labels(monkeypatch):
    """Story pairs are judged STORY_PAIRS at a time, a first row's pairs cut across
    chunks: chunks of three pairs give the labels of one chunk, in one run and
    against an earlier run's index."""
    from transforms import group_local, stories

    first = _generated_stories(34)
    labelled = label_articles(first, [], 0.6, 0.25)
    later = (_generated_stories(134), [old_record(index_row(r, "day1")) for r in labelled])
    whole = [sorted(map(_key, label_articles(first, [], 0.6, 0.25))),
             sorted(map(_key, label_articles(*later, 0.6, 0.25)))]
    calls = []
    judge = stories.pair_similarities
    monkeypatch.setattr(stories, "pair_similarities", lambda p, a, b: calls.append(len(a)) or judge(p, a, b))
    monkeypatch.setattr(group_local, "STORY_PAIRS", 3)
    assert [sorted(map(_key, label_articles(first, [], 0.6, 0.25))),
            sorted(map(_key, label_articles(*later, 0.6, 0.25)))] == whole
    assert calls.count(3) > 20, "the pairs were not judged in chunks"


@pytest.mark.parametrize("steps", [("stories",), ("dedup",), ("stories", "dedup")])
def test_big_components_averaged_over_their_links_give_the_graphs_labels(monkeypatch, steps):
    """A component of more than MAX_PAIRS pairs (of stories, of near-duplicate
    representatives) is averaged over its own links, handed to the linkage as
    arrays: the labels of the Beam graph, which hands them over as tuples."""
    from transforms import dedup, group_local, stories

    for step in steps:
        monkeypatch.setattr({"stories": stories, "dedup": dedup}[step], "MAX_PAIRS", 3)
    calls = []
    places = group_local._sorted_links  # the big components' path alone
    monkeypatch.setattr(group_local, "_sorted_links", lambda *a, **k: calls.append(1) or places(*a, **k))
    # and exact copies of two of the family of near copies
    first = _batch(11) + [link_record({**a, "doc_id": "c" + a["doc_id"]}) for a in _articles(11)
                          if " Update 1:" in a["text"] or " Update 2:" in a["text"]]
    labelled = list(label_articles(first, [], 0.6, 0.25))
    old = [old_record(index_row(r, "day1")) for r in labelled]
    for new, prev in ((first, []), (_batch(12), old)):
        calls.clear()
        expected = sorted(_key(r) for r in label_articles(new, prev, 0.6, 0.25))
        assert calls, "no component was big enough"
        with beam_test_pipeline() as p:
            got = ((p | "New" >> beam.Create(new), p | "Old" >> beam.Create(prev))
                   | GroupArticles(0.6, 0.25) | beam.Map(_key))
            assert_that(got, equal_to(expected))


def test_batch_columns_arrays_and_vectors_follow_their_rows(tmp_path):
    """The batch's rows as columns in doc_id order whichever way they came in
    (columns, one by one, one replaced by a record with a longer hash), each
    with its own signature and story vectors, and none made up."""
    from transforms.dedup import NUM_PERM
    from transforms.group_local import _Batch

    def rec(doc_id, k, **more):
        return {"doc_id": doc_id, "content_hash": f"{k:032x}", "n": 10 + k, "length": 100 * k, "lead": f"{k:016x}",
                "is_machine_translated": k % 2 == 0, "published_at": None, "language": "en",
                "sig": np.full(NUM_PERM, k, dtype=np.uint32).tobytes(), "terms": bytes([k]) * 6,
                "anchors": bytes([k]) * 12 if k % 3 else None, **more}

    batch = _Batch(str(tmp_path))
    staged = [rec("d", 4), rec("b", 2)]
    batch.add_columns({"ids": ["d", "b"], "published": [None, None], "language": ["en", "en"],
                       "content": np.array([r["content_hash"].encode() for r in staged], dtype="S"),
                       "length": np.array([400, 200]), "is_mt": np.array([True, True]), "n": np.array([14, 12]),
                       "lead": np.array([4, 2], dtype=np.uint64), "has_lead": np.array([True, True])},
                      np.stack([np.frombuffer(r["sig"], dtype=np.uint32) for r in staged]))
    batch.add(rec("c", 3, lead=None, length=None), old=True)
    pos = batch.add(rec("a", 1), old=False)
    batch.replace(pos, rec("a", 5, content_hash="f" * 40), old=False)  # another record of doc_id a
    batch.finish()
    assert batch.ids == ["a", "b", "c", "d"]
    assert batch.old.tolist() == [False, False, True, False]
    assert batch.content.tolist() == [b"f" * 40, f"{2:032x}".encode(), f"{3:032x}".encode(), f"{4:032x}".encode()]
    assert batch.lead.tolist() == [5, 2, 0, 4] and batch.has_lead.tolist() == [True, True, False, True]
    assert [batch.signature(i)[:4] for i in range(4)] == [np.uint32(k).tobytes() for k in (5, 2, 3, 4)]
    member = batch.dedup_member(2)
    assert (member["length"], member["n"], member["old"], member["is_machine_translated"]) == (None, 13, True, False)
    assert batch.dedup_member(0)["length"] == 500
    with pytest.raises(ValueError, match="no story vectors"):  # the staged rows' come later
        batch.vectors(1)
    batch.set_vectors([3, 1], [staged[0]["terms"], staged[1]["terms"]], [staged[0]["anchors"], staged[1]["anchors"]])
    assert [batch.payload(i) for i in range(4)] == [  # no publication times kept yet (see _label_batch)
        (bytes([5]) * 6, bytes([5]) * 12, "en", None), (bytes([2]) * 6, bytes([2]) * 12, "en", None),
        (bytes([3]) * 6, b"", "en", None), (bytes([4]) * 6, bytes([4]) * 12, "en", None)]


@pytest.mark.parametrize("span,waste", [(1 << 20, 8), (64, 8), (64, 1), (7, 2)])
def test_story_vectors_read_a_span_at_a_time_are_each_rows_own(tmp_path, monkeypatch, span, waste):
    """``vectors_of`` cuts rows' vectors out of spans of the file where they
    fill enough of it, else reads them a row at a time: either way each row's
    own (terms, anchors), in the order asked, for generated vectors of many
    lengths written in several pieces, rows asked in any order, repeated,
    dense and scattered; and labels over spans of a few bytes are the same."""
    from transforms import group_local
    from transforms.group_local import _Batch

    monkeypatch.setattr(group_local, "VECTOR_SPAN", span)
    monkeypatch.setattr(group_local, "VECTOR_WASTE", waste)
    rnd = random.Random(span * 31 + waste)
    n = 300
    batch = _Batch(str(tmp_path))
    batch.add_columns({"ids": [f"d{i:04d}" for i in range(n)], "published": [None] * n, "language": ["en"] * n},
                      np.zeros((n, group_local.dedup.NUM_PERM), dtype=np.uint32))
    batch.finish()
    vecs = [(bytes(rnd.randrange(256) for _ in range(6 * rnd.randint(0, 12))),
             bytes(rnd.randrange(256) for _ in range(6 * rnd.randint(0, 6)))) for _ in range(n)]
    order = list(range(n))
    rnd.shuffle(order)
    for piece in (order[:100], order[100:101], order[101:]):  # written as the staged files come
        batch.set_vectors(piece, [vecs[i][0] for i in piece], [vecs[i][1] for i in piece])
    for rows in (list(range(n)), order, [5, 5, 299, 0, 5], rnd.sample(range(n), 7), [], [17]):
        assert batch.vectors_of(rows) == [vecs[i] for i in rows] == [batch.vectors(i) for i in rows]
    assert sorted(batch.rows_in_file_order().tolist()) == list(range(n))
    assert batch.payloads([3, 1]) == [batch.payload(3), batch.payload(1)]
    if span < 100:
        first = _generated_stories(34)
        monkeypatch.setattr(group_local, "VECTOR_SPAN", 1 << 20)
        whole = sorted(map(_key, label_articles(first, [], 0.6, 0.25)))
        monkeypatch.setattr(group_local, "VECTOR_SPAN", span)
        assert sorted(map(_key, label_articles(first, [], 0.6, 0.25))) == whole


@pytest.mark.parametrize("link_chunk", [1 << 18, 7])
def test_component_roots_are_the_union_finds(monkeypatch, link_chunk):
    """``_roots`` (smallest label across links, then pointer jumping) roots every
    row as the graph's union-find does, on random graphs: chains, stars, loops,
    repeated links and links too weak to count; the links read at once or a
    few at a time."""
    from transforms import group_local
    from transforms.components import UnionFind
    from transforms.group_local import _roots

    monkeypatch.setattr(group_local, "LINK_CHUNK", link_chunk)

    rng = np.random.default_rng(5)
    for trial in range(30):
        n = int(rng.integers(1, 400))
        k = int(rng.integers(0, 3 * n))
        a = rng.integers(0, n, k).astype(np.int32)
        b = rng.integers(0, n, k).astype(np.int32)
        if trial % 3 == 0:  # a long chain in shuffled order: many rounds of labels
            perm = rng.permutation(n).astype(np.int32)
            a, b = np.concatenate((a, perm[:-1])), np.concatenate((b, perm[1:]))
        strong = rng.random(len(a)) < 0.7
        uf = UnionFind()
        parent = uf.create_accumulator()
        for edge in zip(a[strong].tolist(), b[strong].tolist()):
            uf.add_input(parent, edge)
        expected = np.full(n, -1)
        for x, root in uf.extract_output(parent).items():
            expected[x] = root
        assert _roots(n, a, b, strong).tolist() == expected.tolist()


@pytest.mark.parametrize("link_chunk", [1 << 18, 5])
def test_packed_entries_are_the_sorted_entries(monkeypatch, link_chunk):
    """The story keys' buckets made from ``key << shift | row`` sorted in place are
    those of the (key, row) sort, rows twice under a key and all; read a few
    entries at a time as well."""
    from transforms import group_local

    monkeypatch.setattr(group_local, "LINK_CHUNK", link_chunk)
    rng = np.random.default_rng(7)
    for trial in range(20):
        n = int(rng.integers(1, 300))
        rows = np.sort(rng.integers(0, n, int(rng.integers(0, 4 * n))))
        keys = rng.integers(0, 1 << 33, len(rows)) if trial % 2 else rng.integers(0, 12, len(rows))
        shift = max(1, (n - 1).bit_length())
        packed = (keys.astype(np.uint64) << np.uint64(shift)) | rows.astype(np.uint64)
        got = group_local._sorted_packed(packed, shift)
        expected = group_local._sorted_entries(keys, rows)
        assert [x.tolist() for x in got] == [x.tolist() for x in expected]


@pytest.mark.parametrize("link_chunk", [1 << 18, 3])
def test_links_grouped_by_root_as_a_stable_sort(monkeypatch, link_chunk):
    """The counting sort of links by their first end's root is the stable argsort,
    and says where each root's links start."""
    from transforms import group_local

    monkeypatch.setattr(group_local, "LINK_CHUNK", link_chunk)
    rng = np.random.default_rng(11)
    for _ in range(20):
        n = int(rng.integers(1, 200))
        roots = rng.integers(-1, n, n).astype(np.int32)
        a = rng.integers(0, n, int(rng.integers(0, 3 * n))).astype(np.int32)
        order, first = group_local._grouped(roots, a)
        expected = np.argsort(roots[a], kind="stable")
        assert order.tolist() == expected.tolist()
        assert first.tolist() == np.searchsorted(roots[a][expected], np.arange(-1, n)).tolist()


@pytest.mark.parametrize("positional", [True, False])
def test_signatures_on_disk_read_back_as_written(monkeypatch, tmp_path, positional):
    """Signatures added in blocks and one by one (some written over) come back by
    row and by band columns, across the blocks they are read in; a signature of
    the wrong size is refused. Also where the system has no positional reads
    and writes (seek, then read or write)."""
    import os

    from transforms.dedup import NUM_PERM
    from transforms.group_local import _Signatures

    if not positional:
        for name in ("pread", "pwrite", "preadv"):
            monkeypatch.delattr(os, name, raising=False)

    monkeypatch.setattr(_Signatures, "BLOCK", 5)
    monkeypatch.setattr(_Signatures, "PENDING", 3)
    rng = np.random.default_rng(3)
    expected = rng.integers(0, 1 << 32, (23, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    sigs = _Signatures(str(tmp_path))
    sigs.append(expected[:6])
    for row in expected[6:13]:
        sigs.append(row.tobytes())
    assert sigs.row(12) == expected[12].tobytes()  # a row still waiting to be written
    sigs.append(expected[13:13])
    sigs.append(expected[13:])
    expected[4] = expected[20]
    sigs.put(4, expected[20].tobytes())
    assert sigs.rows == 23
    assert [sigs.row(i) for i in range(23)] == [r.tobytes() for r in expected]
    rows = rng.permutation(23)[:17]
    assert sigs.columns(9, 12, rows).tolist() == expected[rows, 9:12].tolist()
    with pytest.raises(ValueError):
        sigs.append(b"short")
    with pytest.raises(IndexError):
        sigs.row(23)
    sigs.close()


def _generated_stories(seed: int):
    """Generated stories of 3-6 articles (shared and own names), briefs of random
    make (some shared, some own, some new names), articles of no story sharing a
    name or two, in random order, some in another language and some dated."""
    rng = random.Random(seed)
    day = dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc)
    records = []

    def record(names, language="en"):
        text = " ".join(_brief_sentence(rng, [n]) for n in names)
        when = day + dt.timedelta(days=rng.randint(0, 90)) if rng.random() < 0.3 else None
        records.append(link_record({"doc_id": f"{seed:02d}{rng.getrandbits(48):012x}", "text": text, "title": None,
                                    "language": language, "content_hash": content_hash(text), "published_at": when,
                                    "is_machine_translated": False, "extractor": "text", "source_format": "text"}))

    pool = []
    for _ in range(8):
        core = [_name(rng) for _ in range(rng.randint(2, 4))]
        own = [[_name(rng) for _ in range(rng.randint(3, 6))] for _ in range(rng.randint(3, 6))]
        for names in own:
            record(core + names)
        for _ in range(rng.randint(1, 3)):  # briefs
            record(rng.sample(core, rng.randint(0, 2)) + [rng.choice(o) for o in rng.sample(own, rng.randint(2, len(own)))]
                   + [_name(rng) for _ in range(rng.randint(2, 6))], rng.choice(["en", "en", "en", "de"]))
        pool += core + [n for o in own for n in o]
    for _ in range(10):  # articles of no story
        record(rng.sample(pool, rng.randint(1, 2)) + [_name(rng) for _ in range(rng.randint(4, 8))])
    rng.shuffle(records)
    return records


@pytest.mark.parametrize("seed", [31, 32, 33])
def test_generated_stories_with_briefs_label_as_the_beam_graph_does(seed, monkeypatch):
    """On generated corpora where briefs are attached (and adopted), the one-step
    grouping and the Beam graph give the same labels, in one run and against
    the first run's index."""
    from transforms import stories

    first = _generated_stories(seed)
    labelled = label_articles(first, [], 0.6, 0.25)
    plain = {}
    for new, prev in ((first, []), (_generated_stories(seed + 100), [old_record(index_row(r, "day1"))
                                                                       for r in labelled])):
        expected = sorted(map(_key, label_articles(new, prev, 0.6, 0.25)))
        with beam_test_pipeline() as p:
            got = ((p | "New" >> beam.Create(new), p | "Old" >> beam.Create(prev))
                   | GroupArticles(0.6, 0.25) | beam.Map(_key))
            assert_that(got, equal_to(expected))
        if not prev:
            plain = expected
    # the case exercises the attaching: without it, some labels differ
    monkeypatch.setattr(stories, "ATTACH_MIN", 2.0)
    assert sorted(map(_key, label_articles(first, [], 0.6, 0.25))) != plain


def _crowded(seed: int, n: int = 60):
    """Articles that share a few names (story buckets far over MAX_BUCKET), and a
    family of near copies (LSH buckets over it)."""
    rng = random.Random(seed)
    shared = [_name(rng) for _ in range(2)]
    names = [_name(rng) for _ in range(120)]
    texts = []
    for _ in range(n):
        own = rng.sample(names, 6)
        sentences = []
        for _ in range(6):
            words = [rng.choice(COMMON) for _ in range(10)] + rng.sample(own, 2) + [rng.choice(shared)]
            rng.shuffle(words)
            sentences.append(" ".join(words) + ".")
        texts.append(" ".join(sentences))
    texts += [texts[0] + f" Update {i}: " + texts[i + 1][:40] for i in range(20)]
    return [link_record({"doc_id": f"{rng.getrandbits(64):016x}", "text": t, "title": None, "language": "en",
                         "content_hash": content_hash(t), "published_at": None, "is_machine_translated": False,
                         "extractor": "text", "source_format": "text"}) for t in texts]


def _candidate_pairs(records):
    """The candidate pairs of near-duplicates and of stories, as pairs of
    content hashes: (local dup pairs, Beam dup pairs, local story pairs, Beam
    story pairs, the largest story bucket)."""
    from transforms import dedup, group_local, stories

    batch = group_local._Batch()
    for r in records:
        batch.add(r, False)
    batch.finish()
    content = {r["doc_id"]: r["content_hash"] for r in records}
    row_content = [content[d] for d in batch.ids]
    batch.rank = group_local._content_rank(batch.content)
    reps = np.arange(len(batch))
    codes = group_local._dup_pair_codes(batch, reps)
    local_dup = {frozenset((row_content[a], row_content[b])) for a, b in zip(*divmod(codes, len(reps)))}
    local_story = {frozenset((row_content[a], row_content[b]))
                   for first, second in group_local._pair_chunks(group_local._story_entries(batch), batch.old,
                                                                 group_local.STORY_PAIRS)
                   for a, b in zip(first.tolist(), second.tolist())}

    def beam_pairs(keys):
        buckets = collections.defaultdict(list)
        for r in records:
            for k, doc_id in keys(r):
                buckets[k].append((doc_id, False, dedup.bucket_order(r)))
        pairs = {frozenset((content[a], content[b])) for k, m in buckets.items() for a, b in dedup._pairs((k, m))}
        return pairs, max(map(len, buckets.values()))

    (beam_dup, _), (beam_story, largest) = beam_pairs(dedup._bands), beam_pairs(stories._keys)
    return local_dup, beam_dup, local_story, beam_story, largest


@pytest.mark.parametrize("seed", [41, 42])
def test_candidate_pairs_follow_the_content_not_the_doc_ids(seed):
    """A bucket over MAX_BUCKET pairs each member with its next WINDOW in content
    order: the same articles named by other paths (other doc_ids) get the same
    candidate pairs, in both runners."""
    from transforms import dedup

    records = _crowded(seed)
    rng = random.Random(seed)
    renamed = [{**r, "doc_id": f"{rng.getrandbits(64):016x}"} for r in records]
    first, second = _candidate_pairs(records), _candidate_pairs(renamed)
    assert first[4] > 3 * dedup.MAX_BUCKET, "no story bucket large enough to be windowed"
    assert first[0] == first[1] and first[2] == first[3], "the runners pair different articles"
    assert len(first[0]) > 100 and len(first[2]) > 500
    assert first[0] == second[0] and first[2] == second[2]
