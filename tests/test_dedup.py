"""Near-duplicates (transforms.dedup, not yet wired into `newsbeam run`): exact copies, each kind of
variant, same-story articles, the canonical rule, an earlier run's canonical."""
import datetime as dt

import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from conftest import beam_test_pipeline
from transforms.dedup import NearDuplicates, dedup_record, estimate, signature

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
