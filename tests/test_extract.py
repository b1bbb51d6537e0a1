"""HTML extraction in the sandbox, and the extraction transform's rejects."""
import contextlib

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import beam_test_pipeline
from hostile import ARTICLE_EN, page
from transforms.extract import ExtractArticles
from transforms.html_extract import choose_text, extract_html
from transforms.sandbox import Sandbox, SandboxError

META_PAGE = (
    '<html lang="en-GB"><head><title>Council approves budget | Example News</title>'
    '<meta property="og:site_name" content="Example News">'
    '<meta name="author" content="Jane Doe">'
    '<meta name="description" content="The council voted for the budget.">'
    '<meta property="article:published_time" content="2024-03-05T09:30:00Z">'
    '<link rel="canonical" href="https://example.com/news/budget"></head><body>'
    '<nav><a href="/">Home</a><a href="/world">World</a></nav><article><h1>Council approves budget</h1>'
    + "".join(f"<p>{s}.</p>" for s in ARTICLE_EN.split(". ") if s.strip()) * 2
    + '</article><div class="comments"><p>Great article, thanks!</p></div><footer>© Example</footer></body></html>')


def test_extract_html_text_and_metadata():
    res = extract_html(META_PAGE, "https://example.com/news/budget?utm_source=x")
    assert "city council approved the new budget" in res["text"]
    assert "Home" not in res["text"] and "Great article" not in res["text"]
    assert res["author"] == "Jane Doe" and res["publisher"] == "Example News"
    assert res["published"] == "2024-03-05T09:30:00+00:00" and res["declared_language"] == "en-gb"  # its stated time
    assert res["canonical"] == "https://example.com/news/budget"
    assert res["title"].startswith("Council approves budget")


def test_short_page_keeps_its_text_and_names_the_extractor():
    res = extract_html(page("One short line of text that trafilatura keeps"), None)
    assert "One short line" in res["text"]
    assert res["extractor"] in ("trafilatura", "readability", "trafilatura-precision")


STORY = " ".join([ARTICLE_EN] * 2)
_SENTENCES = [s.strip() + "." for s in STORY.split(". ") if s.strip()]
NAV = ["Today's Edition", "Front Page", "Nation", "Calcutta", "Bengal", "Opinion", "International", "Business",
       "Sports", "Entertainment", "Features", "Weekend", "Archives", "Feedback", "Contact"]
ADVERT = ("Compare mortgage rates today. Homeowners could save hundreds a month by switching to a fixed rate. "
          "Check your eligibility in two minutes with no impact on your credit score. Terms apply. "
          "Representative example: borrowing 150,000 over 25 years at 4.5 per cent. Your home may be repossessed "
          "if you do not keep up repayments on your mortgage. Get a free quote now from our partners.")


def test_table_layout_page_gives_the_story_not_the_navigation_table():
    """Older news sites lay the page out in tables; the navigation table, as
    pipes, must not stand for the story."""
    nav_rows = "".join(f"<tr><td><a href='/{i}'>{w}</a></td></tr>" for i, w in enumerate(NAV)) * 2
    html = ("<html><head><title>Council approves budget</title></head><body><table width='100%'><tr>"
            f"<td><table class='nav'>{nav_rows}</table></td><td valign='top'><table><tr><td>"
            "<font size='4'><b>Council approves budget</b></font><br><br>" + "<br><br>".join(_SENTENCES)
            + "</td></tr></table></td></tr></table><table><tr><td>"
            + " | ".join(f"<a href='/f{i}'>Link {i}</a>" for i in range(30)) + "</td></tr></table></body></html>")
    res = extract_html(html)
    assert "city council approved the new budget" in res["text"]
    assert "Front Page" not in res["text"] and "Link 12" not in res["text"] and "|" not in res["text"]
    # the selection itself: a candidate that is a table of pipes counts as no text
    pipes = "\n".join("| " + " | ".join(NAV) + " |" for _ in range(4))
    assert choose_text("\n".join(_SENTENCES), pipes, lambda: pipes) == ("readability", "\n".join(_SENTENCES))


def test_an_advert_does_not_replace_the_story():
    """Two candidates hold a short unrelated block, one the story: the
    candidates disagree, and neither holds the other, so the story's
    extractor (readability) is kept, not the block two extractors agree on."""
    story = "\n".join(_SENTENCES)
    assert choose_text(story, ADVERT, lambda: ADVERT) == ("readability", story)
    # and a story that holds the advert's lines as its own prose is not cut down to the advert
    assert choose_text(story + "\n" + ADVERT, ADVERT, lambda: ADVERT)[1].startswith(_SENTENCES[0])


def test_a_page_trafilatura_cannot_parse_still_gives_its_article():
    """A page that starts as a fragment (no <html>, scripts first) is refused
    by trafilatura's parser; readability-lxml reads it, and the page is an
    article, not an extract/no_article reject."""
    from trafilatura.utils import load_html

    html = ("\r\n\r\n<div id='rb'>\r\n<div class='shell'>\n<!-- header -->\n<script>function f(a){return a;}</script>"
            "<div class='story'>" + "".join(f"<p>{s}</p>" for s in _SENTENCES) + "</div></div></div>")
    assert load_html(html) is None
    res = extract_html(html)
    assert res["extractor"] == "readability" and "repair old buildings" in res["text"]


def test_a_clean_readability_article_never_runs_trafilatura():
    calls = []
    story = "\n".join(_SENTENCES)

    def trafilatura_text():
        calls.append(1)
        return story

    assert choose_text(story, trafilatura_text, trafilatura_text, link_density=0.0) == ("readability", story)
    assert calls == []
    # a link-heavy article (a list of headlines, say) is checked against trafilatura
    assert choose_text(story, trafilatura_text, trafilatura_text, link_density=0.5) == ("readability", story)
    assert calls == [1]


def test_agreeing_extractors_keep_readability_unless_it_adds_captions_and_credits():
    """Both found the article; readability also printed a photo caption and
    credit under every picture (news sites repeat them): trafilatura's text,
    which leaves them out, is kept. Without them readability's stands."""
    story = "\n".join(_SENTENCES)
    credit = "Photo: Jane Doe / Example Agency"
    with_captions = "\n".join(_SENTENCES[:3] + [credit] + _SENTENCES[3:6] + [credit] + _SENTENCES[6:])
    precision_calls = []
    assert choose_text(with_captions, story, lambda: precision_calls.append(1), link_density=0.0) == \
        ("trafilatura", story)
    assert choose_text(story, story, lambda: precision_calls.append(1), link_density=0.5) == ("readability", story)
    assert precision_calls == []


NAV_TEASER = ("Life asks of us optimism and courage to hope for the best and to make the best happen. Pessimism only "
              "sets the smile in plaster and locks the joints; it lets nobody leave their place. What we need to "
              "learn is not to complain at the first fall but to take in what it taught, stand up and fight again …")


def test_a_paragraph_without_its_last_full_stop_is_still_the_article():
    """readability took a column of teaser cards (a share line under each);
    trafilatura's text holds them and adds the article, one paragraph whose
    last sentence has no full stop. That paragraph reads as prose (several
    sentences in one line), so the article wins over the teasers."""
    share = "Whatsapp Facebook Pinterest Download"
    teasers = [" ".join(_SENTENCES[:4]) + " …", " ".join(_SENTENCES[4:]) + " …",
               ADVERT.replace("mortgage", "loan") + " …", NAV_TEASER]
    cards = "\n".join(line for t in teasers for line in (share, t))
    article = ("Living a true love is one of the great pleasures of life. Liking is feeling with the soul, but showing "
               "it depends on each of us. We tie love to our needs and end it. We want to be loved and do not love "
               "ourselves. Only who loves himself can find a Love of Truth")
    trafilatura_text = article + "\n" + "\n".join(teasers)
    assert choose_text(cards, trafilatura_text, lambda: trafilatura_text, link_density=0.05) == \
        ("trafilatura-precision", trafilatura_text)
    # a caption is not a paragraph: abbreviations ("U.S. Defense") are no sentence breaks
    from transforms.html_extract import _is_prose

    assert _is_prose(article)
    assert not _is_prose("U.S. Defense Secretary Mark Esper, left, and Minister Lich shake hands in Hanoi, Vietnam "
                         "Wednesday, Nov. 20, 2019. Esper is on a visit to Vietnam ... more")


def test_readability_text_joins_the_lines_of_one_paragraph():
    """Line breaks inside a paragraph of the source are spaces; blocks are lines."""
    from transforms.html_extract import readability_article

    html = ("<html><body><div id='story'><h1>Council approves budget</h1>" + "".join(
        f"<p>{s[:40]}\n   {s[40:]}</p>" for s in _SENTENCES) + "<p>Read <a href='/more'>more stories</a>.</p>"
        "</div></body></html>")
    text, link_density = readability_article(html)
    assert text.split("\n")[:3] == ["Council approves budget", _SENTENCES[0], _SENTENCES[1]]
    assert 0 < link_density < 0.05


@pytest.fixture(scope="module")
def sandbox():
    sb = Sandbox(timeout=20, memory_mb=2048)
    yield sb
    sb.close()


def test_sandbox_extracts(sandbox):
    assert "budget" in sandbox.extract(META_PAGE, None)["text"]


def test_sandbox_timeout_kills_and_recovers():
    sb = Sandbox(timeout=0.0001, memory_mb=2048)
    try:
        with pytest.raises(SandboxError) as e:
            sb.extract(META_PAGE * 50, None)
        assert e.value.reason == "timeout"
        sb.timeout = 20
        assert "budget" in sb.extract(META_PAGE, None)["text"]
    finally:
        sb.close()


def test_sandbox_memory_cap():
    sb = Sandbox(timeout=60, memory_mb=400)
    try:
        huge = "<html><body>" + "<p>word word</p>" * 1_000_000 + "</body></html>"
        try:
            res = sb.extract(huge, None)
        except SandboxError as e:  # trafilatura's allocation failed: Python's MemoryError
            assert e.reason == "memory"
        else:  # libxml2's failed: the parsers report the page unreadable, and nothing is taken as its text
            assert res["text"] == "" and res["extractor"] == "none" and "readability_error" in res
        sb.memory_mb = 2048
        assert "budget" in sb.extract(META_PAGE, None)["text"]
    finally:
        sb.close()


def test_deep_nesting_does_not_crash_the_run(sandbox):
    deep = "<html><body>" + "<div>" * 200_000 + "deep" + "</div>" * 200_000 + "</body></html>"
    try:
        res = sandbox.extract(deep, None)
        assert isinstance(res["text"], str)
    except SandboxError as e:  # a reject with a reason is fine; a hung or dead run is not
        assert e.reason in ("too_deep", "memory", "crashed", "timeout")
    assert "budget" in sandbox.extract(META_PAGE, None)["text"]


SLOW_DIV = "<div><p>Some words of a paragraph here.</p></div>"
SLOW_PAGE = "<html><body>" + SLOW_DIV * 20_000 + "</body></html>"  # about three seconds to extract
HANGING_PAGE = "<html><body>" + SLOW_DIV * 80_000 + "</body></html>"  # past any timeout the tests give


@contextlib.contextmanager
def _two_page_sandbox(timeout: float):
    """A sandbox whose child holds two pages, its child started; closed after."""
    sb = Sandbox(timeout=timeout, depth=2)
    try:
        sb.extract(META_PAGE, None)  # the child is up
        yield sb
    finally:
        sb.close()


def _queue(sb, page) -> bool:
    """Hand ``page`` to ``sb`` behind the page it holds, once the child has read that one from its pipe."""
    import time

    until = time.monotonic() + 5
    while time.monotonic() < until:
        if sb.submit(page, None):
            return True
        time.sleep(0.01)
    return False


def test_first_done_takes_the_page_that_finished_not_the_oldest():
    from transforms.sandbox import first_done

    slow, fast = Sandbox(timeout=30), Sandbox(timeout=30)
    try:
        for sb in (slow, fast):  # both children started
            sb.extract(META_PAGE, None)
        slow.submit(SLOW_PAGE, None)  # about three seconds to extract
        fast.submit(META_PAGE, None)
        assert first_done([slow, fast]) is fast
        assert "budget" in fast.collect()["text"]
        assert first_done([slow, fast]) is slow
        assert "Some words" in slow.collect()["text"]
    finally:
        slow.close()
        fast.close()


def test_a_page_done_in_time_is_kept_however_late_it_is_collected():
    import time

    sb = Sandbox(timeout=30)
    try:
        sb.extract(META_PAGE, None)  # the child is up: its start-up is not in the second's budget
        sb.timeout = 1
        sb.submit(META_PAGE, None)
        time.sleep(2)  # the parent was busy past the page's deadline; the child was not
        assert sb.done() and "budget" in sb.collect()["text"]
    finally:
        sb.close()


def test_a_child_holds_a_second_page_and_times_it_from_when_it_starts():
    import time

    with _two_page_sandbox(30) as sb:
        assert sb.submit(SLOW_PAGE, None)  # about three seconds to extract
        assert _queue(sb, META_PAGE)  # waits in the child's pipe
        queued_at = time.monotonic()
        assert not sb.submit(META_PAGE, None)  # two is the depth
        assert "Some words" in sb.collect()["text"]
        started = sb._deadline - sb.timeout  # the second page's time counts from the first one's reply
        assert started > queued_at + 0.3  # not from when it was handed over
        assert "budget" in sb.collect()["text"]
        assert not sb.busy


def test_a_page_behind_one_that_times_out_or_kills_the_child_goes_to_a_new_child():
    import os
    import signal
    import time

    with _two_page_sandbox(3) as sb:
        assert sb.submit(HANGING_PAGE, None)
        assert _queue(sb, META_PAGE)
        with pytest.raises(SandboxError) as e:
            sb.collect()
        assert e.value.reason == "timeout"
        assert "budget" in sb.collect()["text"]  # sent to a new child, its 3 s counted from then
        sb.timeout = 30

        assert sb.submit(SLOW_PAGE, None) and _queue(sb, META_PAGE)
        time.sleep(0.5)
        os.kill(sb._proc.pid, signal.SIGKILL)
        with pytest.raises(SandboxError) as e:
            sb.collect()
        assert e.value.reason == "crashed"
        assert "budget" in sb.collect()["text"]


def test_a_page_too_large_for_the_pipe_waits_instead_of_blocking_the_parent():
    with _two_page_sandbox(30) as sb:
        assert sb.submit(SLOW_PAGE, None)
        big = META_PAGE.replace("</body>", "<!--" + "x" * (2 << 20) + "--></body>")  # more than the pipe holds
        assert not sb.submit(big, None)
        assert "Some words" in sb.collect()["text"]
        assert sb.submit(big, None)  # nothing ahead of it: sent as one page always was
        assert "budget" in sb.collect()["text"]


def _doc(doc_id, kind, payload):
    return {"doc_id": doc_id, "source": f"/in/{doc_id}", "source_format": kind, "kind": kind, "payload": payload,
            "raw_size": len(payload), "url": None, "title": None, "published": None, "publisher": None,
            "fetched_at": None, "http_charset": None, "declared_language": None, "feed_url": None}


@pytest.mark.parametrize("processes", [1, 3])
def test_extract_transform_routes_articles_and_rejects(processes):
    docs = [_doc("h", "html", META_PAGE), _doc("t", "text", "Menu\n" + ARTICLE_EN),
            _doc("e", "html", "<html><body><nav>Home</nav></body></html>"), _doc("c", "text", "Login\nSign up")]
    with beam_test_pipeline() as p:
        out = p | beam.Create(docs) | ExtractArticles(timeout=30, min_words=10, processes=processes)
        arts = out["articles"] | "A" >> beam.Map(lambda a: (a["doc_id"], a["extractor"], a["author"]))
        rej = out["rejects"] | "R" >> beam.Map(lambda r: (r["doc_id"], r["stage"], r["reason"]))
        assert_that(arts, equal_to([("h", "readability", "Jane Doe"), ("t", "text-cleaner", None)]),
                    label="articles")
        assert_that(rej, equal_to([("e", "extract", "too_short"), ("c", "extract", "no_article")]), label="rejects")


@pytest.mark.parametrize("processes,seed", [(1, 0), (2, 1)])
def test_pages_behind_pages_that_time_out_are_extracted_whatever_the_order(processes, seed):
    """Generated orders of pages that extract, pages with no article and pages
    that time out, through the transform whose children hold two pages each:
    every page comes out once, as it would alone."""
    import random

    rnd = random.Random(seed)
    kinds = ["article"] * 6 + ["nav"] * 2 + ["hang"]
    rnd.shuffle(kinds)
    pages = {"article": META_PAGE, "nav": "<html><body><nav>Home</nav></body></html>", "hang": HANGING_PAGE}
    docs = [_doc(f"{k}{i:02d}", "html", pages[k]) for i, k in enumerate(kinds)]
    expected_articles = [d["doc_id"] for d in docs if d["doc_id"].startswith("article")]
    expected_rejects = [(d["doc_id"], "too_short" if d["doc_id"].startswith("nav") else "timeout")
                        for d in docs if not d["doc_id"].startswith("article")]
    with beam_test_pipeline() as p:
        # 4 s: a page's time holds a new child's start-up too, which a busy machine makes slow
        out = p | beam.Create(docs) | ExtractArticles(timeout=4, min_words=10, processes=processes)
        assert_that(out["articles"] | "A" >> beam.Map(lambda a: a["doc_id"]), equal_to(expected_articles),
                    label="articles")
        assert_that(out["rejects"] | "R" >> beam.Map(lambda r: (r["doc_id"], r["reason"])),
                    equal_to(expected_rejects), label="rejects")


def test_cheaper_readability_clean_gives_readabilitys_own_text():
    """The in-place clean without href rewriting returns readability-lxml's
    own article text, hidden blocks and scripts dropped as before."""
    import lxml.html
    from readability import Document

    from transforms.html_extract import _block_lines, readability_article

    html = ("<html><head><style>p{color:red}</style><script>var x = 1;</script></head><body onload='f()'>"
            "<div id='story'><h1>Council approves budget</h1>"
            + "".join(f"<p>{s} <a href='javascript:void(0)'>share</a></p>" for s in _SENTENCES)
            + "<p hidden>Hidden teaser text that is not shown.</p>"
            "<div style='display:none'>Invisible block of text.</div><!-- a comment --></div></body></html>")
    own = _block_lines(lxml.html.fromstring(Document(html).summary(html_partial=True)))
    text, _ = readability_article(html)
    assert text == own
    assert "Hidden teaser" not in text and "Invisible" not in text and "var x" not in text
    assert _SENTENCES[0] in text


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=400))
def test_any_line_is_prose_or_not_without_failing(line):
    """Generated lines: the sentence-line check never fails, a line that ends
    a sentence keeps counting as one, and fewer than 8 words never does."""
    from transforms.html_extract import _breaks, _is_prose, _line_words

    assert _breaks(line) >= 0
    prose = _is_prose(line)
    if _line_words(line) < 8:
        assert not prose
    elif line.endswith("."):
        assert prose


def test_a_text_document_of_millions_of_lines_is_a_reject():
    """The chrome cleaner scores each line in the worker (7.5 million
    one-letter lines: 86 s, 2.6 GB); over MAX_TEXT_LINES a text document is
    a reject without being cleaned, and a long article under the cap is still read."""
    from transforms.extract import MAX_TEXT_LINES

    docs = [_doc("flood", "text", "a\n" * 3_000_000), _doc("over", "text", "x\r" * MAX_TEXT_LINES),
            _doc("long", "text", "\n".join([ARTICLE_EN] * 200))]
    with beam_test_pipeline() as p:
        out = p | beam.Create(docs) | ExtractArticles(timeout=30)
        arts = out["articles"] | "A" >> beam.Map(lambda a: (a["doc_id"], a["extractor"]))
        rej = out["rejects"] | "R" >> beam.Map(lambda r: (r["doc_id"], r["reason"], r["error"].split(":")[0]))
        assert_that(arts, equal_to([("long", "text-cleaner")]), label="articles")
        assert_that(rej, equal_to([("flood", "too_many_lines", "3000001 lines"),
                                   ("over", "too_many_lines", f"{MAX_TEXT_LINES + 1} lines")]), label="rejects")
