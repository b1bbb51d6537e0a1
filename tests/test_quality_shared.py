"""Quality floors on the shared evaluation data (skipped when ../shared is absent)."""
import os

import pytest

from conftest import SHARED

SCRAPINGHUB = os.path.join(SHARED, "data", "extraction", "scrapinghub")
needs_data = pytest.mark.skipif(not os.path.isdir(SCRAPINGHUB), reason="../shared/data is not here")


EXTRACTION = os.path.join(SHARED, "data", "extraction")
# The best of the three baselines on each set (trafilatura's defaults, its
# precision mode, readability-lxml; ../shared/data/README.md), and which it is
BEST_BASELINE = {"cleaneval": (0.8900, "readability-lxml"), "cleanportaleval": (0.9591, "readability-lxml"),
                 "dragnet": (0.9036, "trafilatura precision"), "readability": (0.9638, "readability-lxml"),
                 "scrapinghub": (0.9641, "trafilatura precision")}
# A set's F1 moves by about 0.001 when one page of 181 moves by 0.18: below
# that, newsbeam and the baseline are level. scrapinghub is at -0.0007 (see
# docs/benchmarks.md): captions and photo credits, which Readability.js's
# gold (the readability set) keeps and scrapinghub's gold leaves out.
LEVEL = 0.001


def _extract_page(path):
    from transforms.encoding import decode_bytes
    from transforms.html_extract import extract_html

    raw = open(path, "rb").read()
    return extract_html(decode_bytes(raw, None, is_html=True)[0].replace("\x00", ""))["text"]


@needs_data
def test_html_extraction_level_with_the_best_baseline_on_every_set():
    """benchmarks/html_extraction.py prints the full table; this keeps the
    floor: on each of the five sets at least level with the best of the
    libraries newsbeam wraps, the mean 0.009 over the best baseline's mean
    (0.9311), and no page with an article left empty."""
    import re
    import statistics
    from multiprocessing import Pool

    from benchmarks._common import load_scorer

    names = {s: sorted(n[:-5] for n in os.listdir(os.path.join(EXTRACTION, s)) if n.endswith(".html"))
             for s in BEST_BASELINE}
    paths = [os.path.join(EXTRACTION, s, n + ".html") for s in names for n in names[s]]
    with Pool(2) as pool:
        texts = iter(pool.map(_extract_page, paths, chunksize=8))
    f1, empty = {}, []
    scorer = load_scorer()
    for s in names:
        preds = {n: next(texts) for n in names[s]}
        f1[s] = scorer.score(os.path.join(EXTRACTION, s), preds)[2]
        for n, text in preds.items():
            gold = __import__("json").load(open(os.path.join(EXTRACTION, s, n + ".json")))["text"] or ""
            if len(re.findall(r"\w+", gold)) >= 50 and len(re.findall(r"\w+", text)) < 10:
                empty.append((s, n))
    assert all(f1[s] >= BEST_BASELINE[s][0] - LEVEL for s in f1), f1
    assert statistics.mean(f1.values()) >= 0.9311 + 0.009, f1
    assert empty == []


@needs_data
def test_short_articles_survive_newsbeam_run_as_a_user_starts_it(tmp_path):
    """The pages of the extraction sets whose gold holds a few words (the
    readability set's "Test", "abc def ghi"; two of dragnet) come out of a default
    ``newsbeam run`` as articles with their gold's text: a default
    --min-words of 10 rejected them as too_short and scored that set 0.9494,
    under readability-lxml's 0.9638."""
    import json
    import re
    import shutil

    from pipeline.cli import run
    from conftest import read_table

    short = {}
    for s in sorted(BEST_BASELINE):
        for n in sorted(os.listdir(os.path.join(EXTRACTION, s))):
            if n.endswith(".json"):
                gold = json.load(open(os.path.join(EXTRACTION, s, n), encoding="utf-8")).get("text") or ""
                if 0 < len(re.findall(r"\w+", gold)) < 10:
                    short[f"{s}_{n[:-5]}.html"] = gold
                    shutil.copy(os.path.join(EXTRACTION, s, n[:-5] + ".html"), tmp_path / f"{s}_{n[:-5]}.html")
    assert len(short) >= 4
    out = str(tmp_path / "out")
    m = run(["--input", str(tmp_path), "--output", out, "--no-fetch"], quiet=True)
    texts = {os.path.basename(r["source"]): r["text"] for r in read_table(out, "articles")}
    assert m["counts"]["rejected"] == 0 and set(texts) == set(short)
    for name, gold in short.items():  # dragnet's two (a byline and a date) get trafilatura's text, as in-process
        if name.startswith("readability_"):
            assert re.findall(r"\w+", texts[name]) == re.findall(r"\w+", gold), name


@needs_data
def test_text_dump_cleaning_f1():
    from benchmarks._common import load_scorer
    from benchmarks.text_cleaning import render_dumps
    from transforms.textclean import clean_text

    dumps = render_dumps(SCRAPINGHUB)
    p, r, f1, n = load_scorer().score(SCRAPINGHUB, {k: clean_text(v).text for k, v in dumps.items()})
    assert f1 >= 0.88, (p, r, f1)


MT_DATA = os.path.join(SHARED, "data", "mt", "wmt_docs.jsonl")


@pytest.mark.skipif(not os.path.exists(MT_DATA), reason="../shared/data is not here")
def test_mt_flags_at_most_two_percent_of_heldout_native_news():
    """Native English kept out of training and out of calibration (scripts/train_mt.py's split)."""
    from scripts.train_mt import load
    from transforms.mtmodel import MtModel

    model = MtModel.load()
    docs = [d for d in load(os.path.join(SHARED, "data")) if d["cal"] and d["cal_half"] == 1]
    flagged = sum(model.score(d["text"]).is_machine_translated for d in docs)
    assert len(docs) > 200 and flagged / len(docs) <= 0.02, (flagged, len(docs))


@pytest.mark.skipif(not os.path.exists(MT_DATA), reason="../shared/data is not here")
def test_mt_flags_at_most_two_percent_of_short_heldout_native_news():
    """The same natives cut into runs of whole sentences of 15 to 220 words: the
    length table keeps short native text under the promise too."""
    from scripts.train_mt import CUT_WORDS, flagged_by_length, load
    from transforms.mtmodel import MtModel

    docs = load(os.path.join(SHARED, "data"))
    by_length = flagged_by_length(MtModel.load(), docs)
    assert set(by_length) == {"whole", *map(str, CUT_WORDS)}
    assert all(v["runs"] > 200 and v["flagged"] <= 0.02 for v in by_length.values()), by_length


FEEDS = os.path.join(SHARED, "data", "feeds", "realworld")


@pytest.mark.skipif(not os.path.isdir(FEEDS), reason="../shared/data is not here")
def test_mt_flags_almost_no_english_feed_summaries():
    """Real feeds' English item texts (the Guardian, blogs, listings; 15-600
    words, HTML stripped): native short text the model never saw."""
    import glob
    import html
    import re

    import feedparser

    from transforms.language import detect_language, load_detector_factory
    from transforms.mtmodel import MtModel

    factory, model = load_detector_factory(), MtModel.load()
    texts = set()
    for path in sorted(glob.glob(os.path.join(FEEDS, "*"))):
        for entry in feedparser.parse(open(path, "rb").read()).entries:
            for value in (entry.get("summary"), *(c.get("value") for c in entry.get("content", []))):
                text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", value or ""))).strip()
                if len(text.split()) >= 15 and detect_language(factory, text)[0] == "en":
                    texts.add(text)
    flagged = [t[:80] for t in sorted(texts) if model.score(t).is_machine_translated]
    assert len(texts) >= 100 and len(flagged) <= 0.02 * len(texts), (len(texts), flagged)


NEARDUP = os.path.join(SHARED, "data", "dedup", "neardup_dev.jsonl")
STORIES = os.path.join(SHARED, "data", "dedup", "stories_dev.jsonl")


@pytest.mark.skipif(not os.path.exists(NEARDUP), reason="../shared/data is not here")
def test_near_duplicates_through_newsbeam_run():
    from benchmarks.dedup_quality import evaluate

    m = evaluate(NEARDUP)
    assert m["articles"] == m["inputs"]
    assert m["f1"] >= 0.955 and min(m["recall_by_variant"].values()) >= 0.95, m
    # every wrong pair is two articles of one story (syndicated copies the gold keeps apart)
    assert m["wrong_pairs"] == m["wrong_pairs_same_story"], m
    # against the gold with syndicated originals (>= 0.9 of 5-grams shared) counted as one group
    assert m["syndicated_merged"]["f1"] >= 0.97, m["syndicated_merged"]


@pytest.mark.skipif(not os.path.exists(STORIES), reason="../shared/data is not here")
def test_stories_through_newsbeam_run():
    from benchmarks.story_quality import evaluate

    m = evaluate(STORIES)
    # 0.862 / 0.885 before articles left alone joined their nearest story; 0.883 / 0.904 after,
    # 0.872 / 0.903 with words read as wordfreq reads apostrophes (one topic's two events merge);
    # 0.878 / 0.907 with a possessive read as its word; 0.907 / 0.928 (precision 0.851 -> 0.903) with a
    # topic's two events kept apart by the names each states (stories.DistinctEvents)
    assert m["f1"] >= 0.9 and m["precision"] >= 0.89 and m["bcubed_f1"] >= 0.92, m


CROSSLINGUAL = os.path.join(SHARED, "data", "dedup", "crosslingual_dev.jsonl")


@pytest.mark.skipif(not os.path.exists(CROSSLINGUAL), reason="../shared/data is not here")
def test_stories_across_languages_through_newsbeam_run():
    """Anchors link one event across languages (words alone: pairwise F1 0.30),
    and a link across languages stays precise."""
    from benchmarks.story_quality import evaluate

    m = evaluate(CROSSLINGUAL)
    # 0.762 before articles left alone joined their nearest story, 0.794 after; 0.810 with names read
    # across apostrophes and a name's digits ("COVID-19") not counted as a number too; 0.814 (precision
    # 0.922) with a sentence's first word read as any other
    assert m["f1"] >= 0.80 and m["precision"] >= 0.9 and m["bcubed_f1"] >= 0.885, m


@pytest.mark.skipif(not os.path.exists(CROSSLINGUAL), reason="../shared/data is not here")
def test_stories_across_languages_the_same_from_any_folder(tmp_path, monkeypatch):
    """A doc_id names its path; the candidate pairs of a capped bucket are chosen
    by content, so the same articles in another folder make the same stories
    (in doc_id order, crosslingual_dev's F1 ranged 0.797-0.815 by folder)."""
    import tempfile

    from benchmarks.story_quality import evaluate

    found = []
    for folder in ("a", "news from another day"):
        os.makedirs(tmp_path / folder)
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / folder))
        found.append({k: round(v, 9) for k, v in evaluate(CROSSLINGUAL).items()})  # sums in another order
    assert found[0] == found[1]


@pytest.fixture(scope="module")
def native_sets():
    """Every native English text of the shared data, by set (``benchmarks/mt_natives.py``)."""
    from benchmarks.mt_natives import native_sets

    return native_sets(os.path.join(SHARED, "data"))


needs_extraction = pytest.mark.skipif(not os.path.isdir(os.path.join(SHARED, "data", "extraction")),
                                      reason="../shared/data is not here")


@needs_extraction
def test_no_evidence_rule_fires_on_native_english(native_sets):
    """Issue #17: each evidence rule fires on at most 0.2% of the documents of
    every native English set of the data (extraction gold, WMT originals,
    ECB+, the cross-lingual set's English originals, feed items); at that
    size, on none. ``benchmarks/mt_natives.py`` prints the same with texts."""
    from benchmarks.mt_natives import RULE_BAR
    from transforms.mtevidence import find_evidence

    sets = native_sets
    assert len(sets) >= 8 and sum(map(len, sets.values())) > 2000, {k: len(v) for k, v in sets.items()}
    over = {}
    for name, texts in sets.items():
        fired = [(e.rule, e.message) for t in texts for e in find_evidence(t)]
        by_rule = {r: sum(1 for x, _ in fired if x == r) for r, _ in fired}
        over.update({(name, r): (n / len(texts), [m for x, m in fired if x == r][:2])
                     for r, n in by_rule.items() if n / len(texts) > RULE_BAR})
    assert not over, over


@needs_extraction
def test_mt_flags_at_most_two_percent_of_long_native_texts(native_sets):
    """Native texts over ``LONG_WORDS`` words (essays, papers, transcripts, long
    features; about 225 in the data), which the model, trained on shorter
    machine translations, reads in runs: read whole, 7 of 225 were flagged."""
    from transforms.mtmodel import LONG_WORDS, MtModel

    model = MtModel.load()
    long = [t for texts in native_sets.values() for t in texts if len(t.split()) > LONG_WORDS]
    flagged = [t[:80] for t in long if model.score(t).is_machine_translated]
    assert len(long) > 150 and len(flagged) <= 0.02 * len(long), (len(long), flagged)
