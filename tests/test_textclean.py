"""The plain-text cleaner: seeds, and each general rule on made-up dumps."""
import os
import re

import pytest

from transforms.textclean import clean_text, line_key

# 1-based line numbers of each seed: body lines that must stay, chrome that must go
SEEDS = {
    "000_74cdb35eea8a6dad.txt": ([9, 11, 13, 15, 17, 19, 21, 23], [1, 25, 26, 27, 28, 29, 30]),
    "001_d3886f72ff33d833.txt": ([2, 3, 4, 5, 6, 7], [8, 9, 19, 20, 21, 22, 23]),
    "002_4e043672e6607849.txt": ([2, 3, 4, 5, 6, 7, 8, 9], []),
    "003_9a74c1432a518f77.txt": ([1, 2, 3, 5, 6, 7, 9, 10], []),
    "004_4b72928ac2bcaf42.txt": ([5, 12, 14, 16, 18, 20, 22, 24, 26, 30, 32, 34, 36, 38, 40, 42], [1, 44, 46, 48]),
}


def _norm(s):
    return re.sub(r"\s+", " ", s).strip().lower()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_seed_body_kept_and_chrome_dropped(seeds_dir, name):
    lines = open(os.path.join(seeds_dir, name), encoding="utf-8").read().split("\n")
    out = clean_text("\n".join(lines)).text
    kept = {_norm(l) for l in out.split("\n")}
    keep, drop = SEEDS[name]
    for n in keep:
        assert _norm(lines[n - 1]) in _norm(out), f"body line {n} lost"
    for n in drop:
        assert _norm(lines[n - 1]) not in kept, f"chrome line {n} kept"


BODY = [
    "The regional parliament voted on Wednesday to approve a new law on public transport subsidies.",
    "Supporters said the measure would make buses cheaper for students and pensioners across the region.",
    "The opposition argued that the cost had been underestimated and called for an independent review.",
    "A final decision on the budget for the coming year is expected before the end of the month.",
]


def test_navigation_above_and_links_below_are_dropped():
    dump = "\n".join(["Home", "World", "Politics", "Sport", "Search"] + BODY +
                     ["Share on Facebook", "Tweet", "Related stories", "Sign up for our newsletter", "© 2024 Example"])
    out = clean_text(dump).text.split("\n")
    assert out == BODY


def test_reader_comments_are_cut():
    comments = ["jsmith says:", "May 2, 2024 at 4:47 pm",
                "I think the council has made a terrible mistake here and the taxpayers will pay for it.",
                "anna_k says:", "May 2, 2024 at 5:10 pm",
                "Completely agree with the previous comment, this was not thought through at all by them."]
    out = clean_text("\n".join(BODY + comments)).text
    assert "terrible mistake" not in out and BODY[-1] in out


def test_widget_repeated_on_the_page_is_dropped():
    widget = "WhatsApp Facebook Pinterest Download"
    dump = "\n".join([widget, BODY[0], widget, BODY[1], widget, BODY[2], widget, BODY[3]])
    out = clean_text(dump).text
    assert widget not in out and all(b in out for b in BODY)


def test_icon_strip_and_player_timestamps_are_junk():
    strip = " ".join(f"icon{w}" for w in "bookmark camera check chevron close download edit expand file filter "
                     "flag mail move music muted search share tag trash".split())
    out = clean_text("\n".join([strip] + BODY + ["0:00", "24:55", "15:36"])).text
    assert out.split("\n") == BODY


def test_subheading_between_paragraphs_is_kept():
    dump = "\n".join(BODY[:2] + ["A difficult budget"] + BODY[2:])
    assert "A difficult budget" in clean_text(dump).text


def test_lines_repeated_across_the_batch_count_as_chrome():
    promo = "Support independent journalism today by becoming a member of our club for readers."
    out = clean_text("\n".join(BODY + [promo]), repeated=[line_key(promo)]).text
    assert promo not in out


def test_other_language_uses_its_stoplist():
    de = ["Der Stadtrat hat am Dienstag nach einer langen Debatte den neuen Haushalt für das kommende Jahr beschlossen.",
          "Die Ratsmitglieder sagten, der Plan werde zusätzliche Lehrer bringen und alte Gebäude instand setzen.",
          "Der Bürgermeister begrüßte die Abstimmung und versprach, dass das Geld sorgfältig ausgegeben werde."]
    res = clean_text("\n".join(["Startseite", "Politik", "Anmelden"] + de))
    assert res.text.split("\n") == de and res.language_hint == "German"


def test_empty_and_all_chrome_give_nothing():
    assert clean_text("").text == ""
    assert clean_text("Home\nLogin\nSign up\n0:00").text == ""


@pytest.mark.parametrize("sep", ["\r\n\r\n", "\r\r", "\n\f\n", "\u2029", "\u2028\u2028", "\x85", "\v"])
def test_every_unicode_line_break_separates_lines(sep):
    """A text whose paragraphs are separated by U+2029 or U+2028 (text that
    passed through JavaScript or a word processor), NEL or a form feed was
    one line: its share bar and newsletter lines stayed in the article."""
    paras = ["Flood defences along the river were raised overnight as water levels continued to climb, "
             "officials said on Sunday.",
             "Residents in low-lying streets were told to move valuables upstairs and to prepare for evacuation.",
             "The regional council said pumps had been brought in from neighbouring districts to help.",
             "Share this article", "Subscribe to our newsletter",
             "Forecasters expect the rain to ease by Tuesday, but the river would remain high for days."]
    got = clean_text(sep.join(paras) + sep).text
    assert got.split("\n") == [p for p in paras if not p.startswith(("Share", "Subscribe"))]


@pytest.mark.parametrize("text", ["Polls close at eight tonight.", "Breaking: fire at city hall.\nMore to follow.",
                                  "Der Zug fällt heute aus.", "¿Quién ganó?"])
def test_a_short_note_is_kept_whole(text):
    """A text of one to three sentences, none of them chrome, is the article:
    its lines score as too short beside a page's chrome, but here they are all
    there is (a record's brief, a one-line .txt)."""
    assert clean_text(text).text == text


@pytest.mark.parametrize("text", ["Home", "Test", "Login\nSign up", "Page 2 of 3", "Subscribe now!",
                                  "Home\nPolls close tonight.", "Menu\nSearch\nSections\nWorld\nPolitics",
                                  "One.\nTwo.\nThree.\nFour."])
def test_a_short_text_that_is_not_a_note_is_still_nothing(text):
    assert clean_text(text).text == ""


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from transforms import textclean  # noqa: E402

# the pieces chrome lines are made of: each phrase's words and marks, and a few others
_PIECES = sorted({w for p in textclean._CHROME_PHRASES for w in re.findall(r"[a-z']+|\d|[^\w\s]", p)}
                 | {"@", "&#160;", "[", "]", "(", ")", "12", "the", "a", "you", "our", "x"})
_CHROME_LINE = st.lists(st.sampled_from(_PIECES) | st.sampled_from([" ", " ", ":", "-"]) | st.text(max_size=3),
                        max_size=14).map("".join)


def _mutated(line: str, edits: list[tuple[int, str]]) -> str:
    for at, piece in edits:
        at %= len(line) + 1
        line = line[:at] + piece + line[at + (1 if piece == "" else 0):]
    return line


@settings(max_examples=1500, deadline=None, derandomize=True)
@given(_CHROME_LINE | st.sampled_from(textclean._CHROME_PHRASES).map(lambda p: re.sub(r"[\\^$?()|]", "", p)),
       st.lists(st.tuples(st.integers(0, 200), st.sampled_from(["", " ", "s", "the ", "1", ":"])), max_size=3))
def test_chrome_lines_are_found_as_the_phrases_alternation_finds_them(line, edits):
    """Each phrase is looked for only at a line's start or where its plain characters
    are (``_ChromeSearch``): lines made of the phrases' own words, and those mutated,
    are chrome exactly when the one alternation of every phrase finds one."""
    line = _mutated(line, edits)
    assert textclean._chrome(line) == bool(textclean._CHROME_RE.search(line)), line


def test_most_chrome_phrases_are_searched_only_where_their_words_are():
    keyed = {run for run, _ in textclean._chrome.keyed}
    assert {"newsletter", "comment", "all rights reserved"} <= keyed and len(textclean._chrome.keyed) >= 40
    assert textclean._chrome.anchored.match("share this") and not textclean._chrome.anchored.match("we share this")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(["the", "and", "of", "der", "die", "und", "le", "la", "et", "de", "il", "che",
                                 "и", "в", "не", "a", "o", "e", "na", "je", "news", "2024", "x"]), max_size=3000))
def test_the_stop_list_is_the_one_with_most_word_occurrences(words):
    """Each word's occurrences count for every stop-list holding it (the first 2,000
    words); the list with most wins, ties by name, none under 8% of the words."""
    names, sets, _ = textclean._stoplists()
    sample = words[:2000]
    counts = [sum(w in s for w in sample) for s in sets]
    best = max(range(len(names)), key=lambda i: (counts[i], -i)) if sample else None
    want = names[best] if sample and counts[best] >= 0.08 * len(sample) else None
    assert textclean._pick_stoplist(words)[0] == want



_ENDS = ["", " ", "\n", "  \t"]
_HEAD_LINES = st.one_of(
    st.tuples(st.sampled_from(["", "John ", "Anna-Lena ", "x", "Posted by Bob "]),
              st.sampled_from(["says", "wrote", "a écrit", "ſays", "SAID", "sayz", ""]),
              st.sampled_from(["", " ", "\t"]), st.sampled_from([":", "", ";", ": x"]), st.sampled_from(_ENDS)),
    st.tuples(st.sampled_from(["", "March 3, ", "Posted ", "x"]), st.sampled_from(["2021", "١٩٩٩", "21", "20211"]),
              st.sampled_from(["", ","]), st.sampled_from([" at ", " um ", " à ", " a las ", " to ", ""]),
              st.sampled_from(["10", "9", "١٠", "²", ""]), st.sampled_from([":45", ".30", "h15", ":4", ""]),
              st.sampled_from(["", " pm", " PM", " P.M.", "am", " a.m", " x", "."]), st.sampled_from(_ENDS)),
    st.tuples(st.sampled_from(["Reply", "reply", "Flag", "12", "3", "x Reply", ""]),
              st.sampled_from(["", " likes", " replies", " hours ago", " ago", " minutes ago x", "s"]),
              st.sampled_from(_ENDS)),
    st.lists(st.sampled_from(["says", ":", "2021", " at ", "10:45", " pm", "Reply", " ago", "3 hours", " "]),
             max_size=8).map(tuple))


@settings(max_examples=3000, deadline=None)
@given(_HEAD_LINES.map("".join))
def test_a_comment_head_is_found_where_the_pattern_finds_one(line):
    """``_is_comment_head`` searches the pattern only where it can match (a
    line ending in a colon or a time; else at the start alone): the same
    answer as searching it everywhere, on generated lines built from the
    pattern's own parts (a pre-check that misses a way a line can end fails
    it)."""
    from transforms.textclean import _COMMENT_HEAD, _is_comment_head

    assert _is_comment_head(line) == (_COMMENT_HEAD.search(line) is not None)
