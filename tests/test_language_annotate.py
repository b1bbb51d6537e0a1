"""Language detection (seeded, cheap) and the per-article columns."""
import datetime as dt

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import beam_test_pipeline
from hostile import ARTICLE_DE, ARTICLE_EN, ARTICLE_FR, ARTICLE_RU
from transforms.annotate import content_hash, parse_timestamp, word_count
from transforms.language import DetectLanguage, detect_language, load_detector_factory
from transforms.urls import canonical_url


@pytest.fixture(scope="module")
def factory():
    return load_detector_factory()


@pytest.mark.parametrize("text,lang", [(ARTICLE_EN, "en"), (ARTICLE_FR, "fr"), (ARTICLE_DE, "de"), (ARTICLE_RU, "ru"),
                                       ("Le gouvernement a annoncé mardi une réforme des retraites.", "fr")])
def test_languages(factory, text, lang):
    got, score = detect_language(factory, text)
    assert got == lang and score > 0.5


def test_too_short_is_undetermined(factory):
    assert detect_language(factory, "OK 12") == ("und", 0.0)
    assert detect_language(factory, "1234 5678 !!!") == ("und", 0.0)


def test_deterministic(factory):
    mixed = ARTICLE_EN[:120] + ARTICLE_FR[:120]
    assert len({detect_language(load_detector_factory(), mixed) for _ in range(5)}) == 1


def test_detect_language_transform():
    rows = [{"doc_id": "a", "text": ARTICLE_EN}, {"doc_id": "b", "text": ARTICLE_RU}]
    with beam_test_pipeline() as p:
        detected = p | beam.Create(rows) | DetectLanguage()
        out = detected.articles | beam.Map(lambda r: (r["doc_id"], r["language"]))
        assert_that(out, equal_to([("a", "en"), ("b", "ru")]), label="languages")
        assert_that(detected.rejects, equal_to([]), label="no rejects")


def test_a_failing_step_rejects_that_article_and_keeps_the_others():
    """The per-document boundary: text the detector cannot take (here not a
    str) is one reject with stage and traceback; the other article goes on."""
    rows = [{"doc_id": "a", "text": ARTICLE_EN, "source": "a.html", "source_format": "html", "raw_size": 9},
            {"doc_id": "bad", "text": None, "source": "bad.html", "source_format": "html", "raw_size": 9}]
    with beam_test_pipeline() as p:
        detected = p | beam.Create(rows) | DetectLanguage()
        assert_that(detected.articles | beam.Map(lambda r: r["doc_id"]), equal_to(["a"]), label="kept")
        assert_that(detected.rejects | beam.Map(lambda r: (r["doc_id"], r["source"], r["stage"], r["reason"],
                                                          r["error"].split(":")[0])),
                    equal_to([("bad", "bad.html", "language", "internal_error", "TypeError")]), label="rejected")


def test_content_hash_ignores_case_and_spacing():
    assert content_hash("Hello  World\n") == content_hash("hello world")
    assert content_hash("Hello World") != content_hash("Hello World!")


_SPACES_AND_WORDS = st.text(alphabet=st.sampled_from(
    list(" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u205f\u3000\u200b\ufeff")
    + list("aZé.,!-日本語ー한Ж\u0301ﬁ①")), max_size=60)


def test_the_normalised_text_is_the_regular_expressions_over_every_code_point():
    """Whitespace runs are cut by ``str.split``: the same text as replacing each
    ``\\s+`` by one space and stripping the ends, over every code point at once
    (each between letters) and on generated runs."""
    import re
    import unicodedata

    from transforms.annotate import normalise_text

    def before(text):
        return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()

    every = "a".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert normalise_text(every) == before(every)
    assert normalise_text(" \x1c a \u3000\n") == before(" \x1c a \u3000\n") == "a"


@settings(max_examples=500, deadline=None)
@given(_SPACES_AND_WORDS)
def test_normalised_text_and_word_checks_on_generated_text(text):
    import re
    import unicodedata

    from transforms.annotate import _CJK, _WORD, has_words, normalise_text

    assert normalise_text(text) == re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).casefold()).strip()
    count = len(_WORD.findall(_CJK.sub(" ", text))) + len(_CJK.findall(text))  # word_count as it always was
    assert word_count(text) == count
    for n in range(4):
        assert has_words(text, n) == (count >= n), (text, n)


def test_word_count_counts_cjk_characters():
    assert word_count("three small words") == 3
    assert word_count("東京で会議") == 5


def test_timestamps():
    assert parse_timestamp("2024-05-01") == dt.datetime(2024, 5, 1, tzinfo=dt.timezone.utc)
    assert parse_timestamp("2024-05-01T10:00:00+02:00").hour == 8
    assert parse_timestamp("Wed, 01 May 2024 10:00:00 GMT").hour == 10
    assert parse_timestamp("not a date") is None and parse_timestamp("0001-01-01") is None
    # Unix times, as JSON exports write them, in seconds or milliseconds, as a number or its text
    may1 = dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc)
    assert parse_timestamp("1714557600") == parse_timestamp(1714557600000) == parse_timestamp(1714557600.0) == may1
    assert parse_timestamp("17145576000") is None  # year 2513


def test_a_date_at_the_calendars_end_is_no_date():
    """Year 1 or 9999 with an offset that crosses the calendar's end raised
    OverflowError: the article was lost as an annotate internal_error."""
    assert parse_timestamp("0001-01-01T00:00:00+14:00") is None
    assert parse_timestamp("9999-12-31T23:59:59-12:00") is None


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(allow_nan=True),
                 st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda d: d.isoformat()),
                 st.datetimes(timezones=st.one_of(st.none(), st.timezones()))))
def test_any_published_value_is_a_time_in_range_or_none(value):
    ts = parse_timestamp(value)
    assert ts is None or (ts.tzinfo is not None and ts.utcoffset() == dt.timedelta(0) and 1990 <= ts.year <= 2100)


def test_canonical_url():
    assert canonical_url("HTTPS://Example.COM:443/a/b?utm_source=x&id=3&fbclid=y#frag") == "https://example.com/a/b?id=3"
    assert canonical_url("https://m.example.com/story", "/story?ref_src=tw") == "https://m.example.com/story"
    assert canonical_url("https://example.com/x", "https://www.example.com/x") == "https://www.example.com/x"
    assert canonical_url(None) is None and canonical_url("file:///tmp/a.html") is None
    assert canonical_url("https://example.com/x", "javascript:void(0)") == "https://example.com/x"


def test_profiles_kept_on_disk_give_langdetects_own_table(tmp_path, monkeypatch, caplog):
    """The profile table rebuilt from the disk cache has langdetect's keys, order
    and floats; a torn cache file is said, rebuilt and replaced."""
    import glob

    from langdetect import detector_factory

    monkeypatch.setenv("NEWSBEAM_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(detector_factory, "_factory", None)
    built = load_detector_factory()  # from langdetect's JSON: written to the cache
    (path,) = glob.glob(str(tmp_path / "langdetect" / "profiles-*.npz"))
    monkeypatch.setattr(detector_factory, "_factory", None)
    read = load_detector_factory()
    assert read is not built and read.langlist == built.langlist
    assert list(read.word_lang_prob_map) == list(built.word_lang_prob_map)
    assert read.word_lang_prob_map == built.word_lang_prob_map
    texts = [ARTICLE_EN, ARTICLE_DE, ARTICLE_FR, ARTICLE_RU, "Ceci est une phrase courte mais assez longue en français."]
    assert [detect_language(read, t) for t in texts] == [detect_language(built, t) for t in texts]

    with open(path, "wb") as f:
        f.write(b"PK\x03\x04 torn")
    monkeypatch.setattr(detector_factory, "_factory", None)
    again = load_detector_factory()
    assert again.word_lang_prob_map == built.word_lang_prob_map and "unreadable" in caplog.text


def test_remembered_character_normalisation_is_langdetects_own(factory):
    """Every character of the Basic Multilingual Plane (and a few beyond)
    normalises as langdetect's own function does, asked twice."""
    from langdetect.utils.ngram import NGram

    assert getattr(NGram.normalize, "memoised", False)
    own = NGram.normalize.__func__.plain  # langdetect's function, which the memo wraps
    chars = [chr(i) for i in range(0, 0x10000, 7)] + ["\u0219", "\u021b", "\u06cc", "\u1ea0", "\u3042", "\u4e00", "\U0001F600"]
    for _ in range(2):
        assert [NGram.normalize(ch) for ch in chars] == [own(NGram, ch) for ch in chars]


def _ngrams_both_ways(factory, text: str):
    from langdetect import detector

    det = factory.create()
    det.set_max_text_length(600)
    det.append(text)
    det.cleaning_text()
    return det._extract_ngrams(), detector.Detector._extract_ngrams.plain(det)


def test_ngrams_by_word_are_langdetects_own_on_articles(factory):
    """The n-grams read a word at a time are langdetect's, in its order, on
    articles of several scripts, capitals, digits and runs of spaces."""
    from langdetect import detector

    assert getattr(detector.Detector._extract_ngrams, "by_word", False)
    texts = [ARTICLE_EN, ARTICLE_DE, ARTICLE_FR, ARTICLE_RU, "NASA and the USA's ISS: 2028... OK?  x",
             "Ţară şi ţară  \u0219i \u021bara", "日本語の文章です。東京", "ABCdef aBC Abc A B", " lead and trail ",
             "end without space", "", "x"]
    for _ in range(2):  # the second time from the remembered words
        for text in texts:
            mine, theirs = _ngrams_both_ways(factory, text)
            assert mine == theirs, text
    known = detector.Detector._extract_ngrams.known
    blob = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" * 10  # one 520-letter "word": walked, not kept
    assert _ngrams_both_ways(factory, f"a {blob} b")[0] == _ngrams_both_ways(factory, f"a {blob} b")[1]
    assert not any(word == blob for word, _ in known)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aAbBzZ éÉñÑ\u0219\u021b中文ДдΩω-'.,0\n\t\u00a0")), max_size=80))
def test_ngrams_by_word_are_langdetects_own_on_generated_text(factory, text):
    mine, theirs = _ngrams_both_ways(factory, text)
    assert mine == theirs


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=120))
def test_ngrams_by_word_past_the_remembered_characters_are_langdetects_own(factory, text):
    """Past ``_NORMALIZED_CHARS`` remembered characters a new one is worked
    out each time it is met, and nothing is forgotten (a text read by another
    thread is translated whole): the n-grams stay langdetect's own and the
    table does not grow."""
    from transforms import language

    size = len(language._NORMALIZED)
    old, language._NORMALIZED_CHARS = language._NORMALIZED_CHARS, 0
    try:
        mine, theirs = _ngrams_both_ways(factory, text)
    finally:
        language._NORMALIZED_CHARS = old
    assert mine == theirs and len(language._NORMALIZED) == size
