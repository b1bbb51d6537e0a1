"""Near-duplicates (transforms.dedup): exact copies, each kind of variant, same-story articles, the
canonical rule, an earlier run's canonical, average linkage."""
import datetime as dt

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from conftest import beam_test_pipeline
from transforms.dedup import NearDuplicates, dedup_record, estimate, signature, similarity

BASE = ("The Lower Saxony parliament in Hanover voted on Wednesday to approve a new law on public transport subsidies after a "
        "debate that lasted more than nine hours. Supporters said the measure would make buses and trains cheaper "
        "for students and pensioners across the region, and that it would cut traffic in the largest cities. The "
        "opposition argued that the cost had been underestimated by at least a third and called for an independent "
        "review before any money is spent. Transport minister Katrin Vogel said the first reduced fares would apply from "
        "the beginning of next year and that operators had already agreed to the new timetable. Trade unions "
        "welcomed the vote but warned that staff shortages could delay the planned increase in services. A final "
        "decision on the budget for the coming year is expected before the end of the month, officials said.")
SAME_STORY = ("Lawmakers in Hanover backed cheaper public transport for Lower Saxony on Wednesday. The subsidy law, passed "
              "after a nine-hour session, lowers fares for young people and retirees. Critics in the opposition "
              "said the price tag was far higher than the government admits and demanded an audit. Minister Katrin Vogel "
              "promised lower fares from January, while unions said hiring drivers would be the real challenge. "
              "The budget vote is due later this month.")


def _article(doc_id, text, published=None, mt=False):
    from transforms.annotate import content_hash

    return {"doc_id": doc_id, "text": text, "content_hash": content_hash(text), "published_at": published,
            "is_machine_translated": mt}


def check(articles, expected, old=()):
    with beam_test_pipeline() as p:
        recs = p | "New" >> beam.Create([dedup_record(a) for a in articles])
        prev = p | "Old" >> beam.Create(list(old))
        got = (recs, prev) | NearDuplicates() | beam.Map(lambda kv: (kv[0], kv[1][0], kv[1][1]))
        assert_that(got, equal_to(expected))


def test_signature_is_stable_and_estimates_similarity():
    a, n = signature(BASE)
    assert signature(BASE) == (a, n) and n > 100
    b, m = signature(BASE[: len(BASE) // 3])
    j, c = estimate(a, n, b, m)
    assert j < 0.5 and c > 0.8


def test_a_signature_is_the_same_whatever_order_its_shingles_come_in():
    """The shingles go to the MinHash in a set's order, which changes with
    Python's string hashing: every order gives the signature of the sorted
    shingles (a MinHash keeps each permutation's minimum), on generated word
    lists with repeats, digits and shingles that sort apart from their order."""
    import random

    import numpy as np
    import rensa

    from transforms.dedup import NUM_PERM, SEED, SHINGLE, _signature

    rnd = random.Random(11)
    vocab = ["a", "b", "zz", "12", "7", "éclair", "Ж", "the", "vote", "0", "z a", ""]
    for _ in range(300):
        words = [rnd.choice(vocab) for _ in range(rnd.randint(0, 40))]
        got = _signature(words)
        norm = ["0" if w.isdigit() else w for w in words]
        shingles = sorted({" ".join(norm[i:i + SHINGLE]) for i in range(len(norm) - SHINGLE + 1)}) \
            if len(norm) >= SHINGLE else (sorted(set(norm)) or [""])
        for order in (shingles, shingles[::-1], rnd.sample(shingles, len(shingles))):
            m = rensa.RMinHash(NUM_PERM, SEED)
            m.update(order)
            assert got == (np.asarray(m.digest(), dtype=np.uint32).tobytes(), len(shingles))


def test_the_estimate_is_the_share_of_equal_minimums_as_numpys_mean_gives_it():
    """``estimate`` counts equal minimums instead of taking their mean: the
    same Jaccard float for every count of equal ones."""
    import numpy as np

    from transforms.dedup import NUM_PERM

    rng = np.random.default_rng(5)
    for equal in range(NUM_PERM + 1):
        a = rng.integers(0, 2**32, NUM_PERM, dtype=np.uint64).astype(np.uint32)
        b = a.copy()
        b[rng.choice(NUM_PERM, NUM_PERM - equal, replace=False)] ^= 1
        assert estimate(a.tobytes(), 50, b.tobytes(), 70)[0] == float(np.mean(a == b))


def test_a_component_of_two_new_articles_labels_as_the_clustering_steps_do(monkeypatch):
    """``_ClusterFn`` labels a component of two new articles joined at the
    threshold or above (a verified link, an exact copy's) without its steps:
    the same labels as those steps give, on generated pairs (cut, edited,
    copied, of several publication times, machine-translated or not), and
    pairs below the threshold or with an earlier article go through the steps."""
    import random

    from transforms.dedup import EXACT, _ClusterFn, _member

    rnd = random.Random(4)
    words = BASE.split()
    cluster = _ClusterFn(0.6, 10)
    shortcut, full = [], []
    for k in range(150):
        a = words[:rnd.randint(12, len(words))]
        b = list(a)
        for _ in range(rnd.randint(0, 12)):
            b[rnd.randrange(len(b))] = rnd.choice(["council", "Thursday", "nine", "7", "fares"])
        b = b[:rnd.randint(10, len(b))]
        recs = [dedup_record(_article(f"d{k}a", " ".join(a), rnd.choice([None, dt.datetime(2024, 5, 1)]),
                                      mt=rnd.random() < 0.3)),
                dedup_record(_article(f"d{k}b", " ".join(b) if rnd.random() < 0.8 else " ".join(a),
                                      rnd.choice([None, dt.datetime(2024, 4, 30)]), mt=rnd.random() < 0.3))]
        members = [_member(r) for r in recs]
        if rnd.random() < 0.15:
            members[1]["old"], members[1]["dup_cluster_id"] = True, "earlier"
        exact = recs[0]["content_hash"] == recs[1]["content_hash"]
        w = EXACT if exact else similarity(recs[0]["sig"], recs[0]["n"], recs[1]["sig"], recs[1]["n"], 10)
        element = (members[0]["doc_id"], {"member": members, "edge": [(members[0]["doc_id"], members[1]["doc_id"], w)]})
        if cluster._one_pair({m["doc_id"]: m for m in members}, element[1]["edge"]):
            shortcut.append(k)
        got = sorted(cluster.process(element))
        with monkeypatch.context() as m:
            m.setattr(_ClusterFn, "_one_pair", lambda *_: False)
            assert got == sorted(cluster.process(element)), k
        full.append(k)
    assert len(shortcut) > 50 and len(full) - len(shortcut) > 20  # both ways were taken


def test_exact_copies_and_variants_join_the_canonical():
    t0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    edited = BASE.replace("Wednesday", "Thursday").replace("nine hours", "eight hours").replace("third", "quarter")
    updated = BASE + " Update: the regional court has been asked to review the law."
    arts = [_article("orig", BASE, t0), _article("copy", BASE, t0 + dt.timedelta(hours=1)),
            _article("teaser", BASE[: len(BASE) // 3], t0 + dt.timedelta(hours=2)),
            _article("edit", edited, t0 + dt.timedelta(hours=3)), _article("upd", updated, t0 + dt.timedelta(days=1)),
            _article("story", SAME_STORY, t0)]
    check(arts, [("orig", "orig", False), ("copy", "orig", True), ("teaser", "orig", True), ("edit", "orig", True),
                 ("upd", "orig", True)])  # "story" is in no cluster: same event, different article


def test_dup_similarity_is_the_measure_the_clusters_are_made_with():
    # containment for a teaser of a long text; Jaccard when the shorter text
    # has under 10 shingles (the canonical copy is the longer one)
    short = "Storm closes Hanover airport as flights to Berlin and Munich are cancelled"
    cases = [(BASE, BASE[: len(BASE) // 3]), (short + " today", short)]
    for canon_text, copy_text in cases:
        with beam_test_pipeline() as p:
            recs = p | beam.Create([dedup_record(_article("a", canon_text)), dedup_record(_article("b", copy_text))])
            got = ((recs, p | "Old" >> beam.Create([])) | NearDuplicates()
                   | beam.Map(lambda kv: (kv[0], kv[1][0], kv[1][2])))
            (sa, na), (sb, nb) = signature(canon_text), signature(copy_text)
            expected = similarity(sb, nb, sa, na, 10)
            assert_that(got, equal_to([("a", "a", None), ("b", "a", expected)]))
        j, c = estimate(sb, nb, sa, na)
        assert expected == (c if min(na, nb) >= 10 else j)


def test_canonical_rule_prefers_human_then_earliest_then_longest_then_smallest_id():
    t0 = dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    arts = [_article("a", BASE, t0 + dt.timedelta(hours=2)), _article("b", BASE, t0, mt=True),
            _article("c", BASE, t0 + dt.timedelta(hours=1))]
    check(arts, [("a", "c", True), ("b", "c", True), ("c", "c", False)])
    same_time = [_article("z", BASE + " More.", t0), _article("y", BASE, t0), _article("x", BASE, t0)]
    check(same_time, [("z", "z", False), ("y", "z", True), ("x", "z", True)])


def test_an_earlier_runs_article_stays_canonical():
    old = {**dedup_record(_article("old", BASE[: len(BASE) // 2])), "old": True, "dup_cluster_id": "old"}
    check([_article("new", BASE, dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))], [("new", "old", True)], [old])


def test_a_copy_with_every_number_changed_joins_its_article():
    """Shingles write every number as 0: a corrected score or toll does not break them."""
    report = ("Creighton beat Drake 65 - 53 on Friday and improved to 25 - 7 on the season. McDermott scored 23 points "
              "in 31 minutes, with 9 rebounds and 4 assists, as the top seed won its 11th straight game. Drake, which "
              "beat Bradley 74 - 70 just 18 hours earlier, fell to 15 - 17 and shot 38 percent from the floor. The "
              "Bluejays led 31 - 24 at the break and pulled away with a 15 - 2 run in the last 8 minutes. Creighton plays "
              "Indiana State at 1 p.m. on Saturday for a place in the final, with 12,000 fans expected at the arena.")
    edited = report
    for old, new in (("65", "66"), ("53", "52"), ("25", "26"), ("23", "24"), ("31", "30"), ("9 ", "8 "), ("4 ", "5 "),
                     ("74", "75"), ("70", "71"), ("18", "19"), ("15", "16"), ("38", "39"), ("24", "22"), ("12,000", "11,000")):
        edited = edited.replace(old, new)
    assert edited.count("0") != report.count("0") and signature(report) == signature(edited)
    check([_article("a", report), _article("b", edited)], [("a", "a", False), ("b", "a", True)])


def test_a_teaser_shared_by_two_articles_does_not_chain_them():
    """The teaser is contained in both; the two articles share only it: average linkage keeps them apart."""
    teaser = " ".join(BASE.split()[:32])  # 30 words or more: the three share a lead bucket
    a = teaser + " " + " ".join(BASE.split()[32:])
    b = teaser + " " + SAME_STORY + " " + SAME_STORY.replace("Hanover", "the capital").replace("Wednesday", "today")
    check([_article("a", a), _article("b", b), _article("t", teaser)],
          [("a", "a", False), ("b", "b", False), ("t", "a", True)])


def test_a_new_copy_joins_a_large_earlier_cluster():
    """An earlier cluster comes into the component whole and is judged on every pair with the new copy."""
    words = BASE.split()
    old = []
    for i in range(40):  # forty earlier copies, each with one word changed
        edited = " ".join(w if j != 3 * i % len(words) else "changed" for j, w in enumerate(words))
        old.append({**dedup_record(_article(f"old{i:02d}", edited)), "old": True, "dup_cluster_id": "old00"})
    check([_article("new", BASE)], [("new", "old00", True)], old)


def test_a_huge_article_is_linked_on_its_first_characters_in_bounded_memory():
    """A 15 MB text (a hostile dump under --max-doc-bytes) took 22 s and
    500 MB for its signature and story vectors; its link record is now that
    of its first LINK_TEXT_CHARS characters, with the whole text's length."""
    import random

    from transforms.grouping import LINK_TEXT_CHARS, link_record

    rnd = random.Random(2)
    words = [f"w{i}" for i in range(5000)]
    text = " ".join(rnd.choice(words) for _ in range(LINK_TEXT_CHARS // 3))
    article = {"doc_id": "x", "content_hash": "h", "published_at": None, "is_machine_translated": False,
               "language": "en", "title": "T", "extractor": "text-cleaner", "source_format": "text"}
    whole = link_record({**article, "text": text})
    head = link_record({**article, "text": text[:LINK_TEXT_CHARS]})
    assert len(text) > LINK_TEXT_CHARS and whole["length"] == len(text) and head["length"] == LINK_TEXT_CHARS
    assert {k: v for k, v in whole.items() if k != "length"} == {k: v for k, v in head.items() if k != "length"}
    short = link_record({**article, "text": text[:1000]})
    assert short["length"] == 1000 and short["n"] < head["n"]
