"""Headline, authors, publisher and site: what analysts group by."""
import json
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hostile import ARTICLE_EN
from transforms.extract import dump_headline
from transforms.html_extract import extract_html
from transforms.page_meta import (clean_authors, clean_publisher, decode_entities, same_text, site_of,
                                  unescape)

BODY = "".join(f"<p>{s}.</p>" for s in ARTICLE_EN.split(". ") if s.strip()) * 2


def _page(head: str, before: str, after: str = "", html_open: str = "<html>") -> str:
    return f"{html_open}<head>{head}</head><body>{before}<div class='story'>{BODY}</div>{after}</body></html>"


def test_the_headline_is_the_heading_the_titles_agree_on_not_the_browser_title():
    html = _page("<title>Council approves budget - Politics - Example News</title>"
                 "<meta property='og:site_name' content='Example News'>",
                 "<h1><a href='/'>Example News</a></h1><h2>Politics</h2><h1>Council approves budget</h1>")
    assert extract_html(html, "https://www.example.com/a")["title"] == "Council approves budget"


def test_a_table_layout_page_whose_title_is_the_site_name_gives_the_heading_above_the_story():
    html = _page("<title>Riverside Chronicle</title>",
                 "<table><tr><td><a href='/'>Home</a> | <a href='/n'>News</a></td></tr>"
                 "<tr><td><span class='articleTitle'>Council approves budget after long debate</span></td></tr>"
                 "</table>")
    assert extract_html(html)["title"] == "Council approves budget after long debate"


def test_an_old_page_with_a_large_font_heading_and_no_title():
    html = _page("", "<p><b><font size='4' face='Verdana'>Council approves budget after long debate</font></b></p>")
    assert extract_html(html)["title"] == "Council approves budget after long debate"


def test_the_sites_own_heading_before_a_colon_is_not_the_headline():
    """The blog's name heads the page as a link home, and opens the title."""
    html = _page("<title>Econ Notes: Council approves budget</title>",
                 "<h1><a href='https://econnotes.example.org/'>Econ Notes</a></h1>"
                 "<h2>Analysis of current conditions and policy</h2>"
                 "<h3>Council approves budget</h3>")
    assert extract_html(html, "https://econnotes.example.org/x")["title"] == "Council approves budget"


def test_a_subhead_inside_the_story_and_a_deck_sentence_lose_to_the_headline():
    deck = "The city council approved a budget after a long debate that ran late into the night on Tuesday."
    html = _page("<title>Budget passes | Example</title>",
                 f"<h1>Council approves budget</h1><h2>{deck}</h2>", "<h2>What happens next</h2>")
    assert extract_html(html)["title"] == "Council approves budget"


def test_a_dateline_run_into_the_heading_is_left_out():
    html = _page("<title>Council approves budget after long debate - City News - Example</title>"
                 "<meta property='og:title' content='Council approves budget after long debate'>",
                 "<h1>Council approves budget after long debate City, Updated Nov 06, 2012 at 04:03pm IST</h1>")
    assert extract_html(html)["title"] == "Council approves budget after long debate"


def test_without_a_heading_the_browser_title_loses_its_site_part():
    html = _page("<title>Council approves budget after long debate | Example News</title>"
                 "<meta property='og:site_name' content='Example News'>", "")
    assert extract_html(html)["title"] == "Council approves budget after long debate"


def test_a_page_trafilatura_refuses_still_has_its_metadata():
    """A page that starts mid-body (no <html>) is parsed leniently for its metadata."""
    html = "\r\n<div id='x'><h1>Supreme Court rules against file swapping</h1>" + BODY + "</div>"
    assert extract_html(html)["title"] == "Supreme Court rules against file swapping"


def test_json_ld_names_the_publisher_and_the_authors_and_copyright_lines_are_dropped():
    ld = {"@context": "https://schema.org", "@graph": [{
        "@type": "NewsArticle", "headline": "Council approves budget",
        "author": [{"@type": "Person", "name": "Jane Doe"}, {"@type": "Person", "name": "Marketing"},
                   {"@type": "Organization", "name": "Example News"}],
        "publisher": {"@type": "Organization", "name": "Example News"}}]}
    html = _page(f"<title>x</title><script type='application/ld+json'>{json.dumps(ld)}</script>"
                 "<meta name='author' content='By JOHN SMITH, Staff Writer'>"
                 "<meta property='og:site_name' content='&amp;copy; MMVIII, CBS Corporation. All Rights Reserved.'>",
                 "<h1>Council approves budget</h1>")
    res = extract_html(html, "https://news.example.co.uk/a")
    assert res["publisher"] == "Example News"
    assert res["author"] == "Jane Doe"  # JSON-LD names her; the meta tag is a less reliable source
    html = _page("<title>x</title><meta name='author' content='By JOHN SMITH, Staff Writer'>",
                 "<h1>Council approves budget</h1>")
    assert extract_html(html)["author"] == "John Smith"


def test_a_byline_under_the_headline_names_the_author_and_a_sidebars_bylines_do_not():
    html = _page("<title>Council approves budget</title>",
                 "<h1>Council approves budget</h1><p class='meta'>by <a href='/u/bj'>Bill Jones</a> on Monday, "
                 "March 4, 2024</p>")
    assert extract_html(html)["author"] == "Bill Jones"
    html = _page("<title>Council approves budget</title>",
                 "<h1>Council approves budget</h1><span class='byline'>By Ann Lee | Staff</span>",
                 "<aside><span class='byline'>By Max Other</span><span class='byline'>By Tim Else</span></aside>")
    assert extract_html(html)["author"] == "Ann Lee"


@pytest.mark.parametrize("value, expected", [
    ("&copy; MMVIII, CBS Corporation. All Rights Reserved.", None),
    ("© 2000 Rural Press Ltd.", None),
    ("Copyright Example Media", None),
    ("https://example.com", None),
    ("@guardian", "guardian"),
    ("The Guardian", "The Guardian"),
    ("McClatchy", "McClatchy"),
    ("Fish &amp; Chips Weekly", "Fish & Chips Weekly"),
    ("LinkNaija | Nigeria's popular news platform", "LinkNaija"),
    ("Yahoo News - Latest News & Headlines", "Yahoo News"),
    ("Mozilla Hacks – the Web developer blog", "Mozilla Hacks"),
])
def test_publisher_is_an_outlet_name_never_a_copyright_line(value, expected):
    assert clean_publisher(value) == expected


@pytest.mark.parametrize("values, expected", [
    (["Marketing; Event Coordinator"], None),
    (["Vivid Interactive; Design"], None),
    (["The Earthtimes"], None),
    (["By JOHN SMITH and Jane Doe"], "John Smith; Jane Doe"),
    (["Jane Doe, Staff Writer"], "Jane Doe"),
    (["Analysis by Chris Cillizza"], "Chris Cillizza"),
    (["Posted by Alexandra Grigorescu on November 13, 2012"], "Alexandra Grigorescu"),
    (["View my complete profile"], None),
    (["Reuters"], None),
    (["Example News"], None),
    (["Ludwig van Beethoven"], "Ludwig van Beethoven"),
    (["Jane Doe", "jane doe", "Jane Doe; Ann Lee"], "Jane Doe; Ann Lee"),
    (["Mike Fahey View Profile Email Facebook Twitter RSS"], "Mike Fahey"),
    (["Kevin Johnson and Kevin McCoy USA TODAY Published 7:07 PM EST Nov 19, 2019"], "Kevin Johnson; Kevin McCoy"),
    (["Justin Shaffer on Wednesday, November 16, 2011 at 9:41am"], "Justin Shaffer"),
    (["Jamie O. McDonald (Diary)"], "Jamie O. McDonald"),
    (["Senior Political Analyst", "Chief Executive Officer"], None),
    (["Dr. Ann Lee", "Prof. Ben Okafor"], "Ann Lee; Ben Okafor"),
    (["Dana A. Ford, James S.A. Corey, Chien-Ming Wang, and Tom Watkins, CNN"],
     "Dana A. Ford; James S.A. Corey; Chien-Ming Wang; Tom Watkins"),
    (["Martin Luther King Jr."], "Martin Luther King Jr"),
    (["PMJS - Coordenadoria de TI"], None),
    (["Jane Doe – Staff Writer"], "Jane Doe"),
    (["Finian Cunningham. Sputnik International"], "Finian Cunningham"),
    (["Gen. Mark Milley", "Capt. James Cook"], "Gen. Mark Milley; Capt. James Cook"),
])
def test_author_holds_people_only(values, expected):
    assert clean_authors(values, publisher="Example News", site="earthtimes.org") == expected


@pytest.mark.parametrize("url, expected", [
    ("https://www.theguardian.com/world/x", "theguardian.com"),
    ("http://news.bbc.co.uk/1/hi/world/4547195.stm", "bbc.co.uk"),
    ("https://someone.blogspot.com/2004/11/x.html", "someone.blogspot.com"),
    ("http://192.168.1.10:8080/a", "192.168.1.10"),
    ("HTTPS://WWW.Example.COM./x", "example.com"),
    ("not a url", None),
    (None, None),
    ("http://[::1", None),
])
def test_site_is_the_registered_domain(url, expected):
    assert site_of(url) == expected


def test_entities_are_decoded_in_text_without_touching_a_bare_ampersand():
    assert decode_entities("AT&T said &quot;yes&quot; &amp;amp; Q&A") == 'AT&T said "yes" & Q&A'
    assert decode_entities("line one &amp;\nline two") == "line one &\nline two"
    assert unescape("  Fish &amp;amp; Chips  ") == "Fish & Chips"


def test_a_text_dump_keeps_the_headline_the_cleaner_dropped_above_the_article():
    raw = ("icon bookmark icon camera icon\n31 Jul, 2025 20:21\n\nCouncil approves budget after debate (VIDEO)\n\n"
           "The city council approved the new budget on Tuesday after a long debate.\n")
    assert dump_headline(raw, "The city council approved the new budget on Tuesday after a long debate.") == \
        "Council approves budget after debate (VIDEO)"
    assert dump_headline("The council met.\nIt voted.", "The council met.\nIt voted.") is None


@settings(max_examples=1000, deadline=None, derandomize=True)
@given(st.text(max_size=200))
def test_the_cleaners_take_any_text(value):
    """Whatever a page or a record holds, the cleaners return stripped text
    or None and never raise; a name is 2-5 words (or a short CJK name)."""
    pub = clean_publisher(value)
    authors = clean_authors([value], publisher=pub, site=site_of(value))
    for out in (pub, authors, unescape(value)):
        assert out is None or (isinstance(out, str) and out == out.strip())
    assert authors is None or all(2 <= len(a.split()) <= 5 or len(a) <= 6 for a in authors.split("; "))
    assert same_text(value, value) == any(c.isalnum() for c in unicodedata.normalize("NFKC", value))


def test_hostile_titles_and_headings_cost_bounded_time():
    """A browser title of thousands of parts, thousands of headings and a
    heading wrapping the page: the metadata step stays inside the sandbox's
    time limit (runs of a title grow as the square of its parts)."""
    from transforms.sandbox import Sandbox

    title = " | ".join(f"part {i}" for i in range(5000))
    heads = "".join(f"<h2 class='title'>Heading number {i}</h2>" for i in range(5000))
    html = _page(f"<title>{title}</title><meta property='og:title' content='{title[:1900]}'>",
                 f"<div class='headline'>{heads}</div>")
    sb = Sandbox(timeout=20, memory_mb=2048)
    try:
        res = sb.extract(html, None)
    finally:
        sb.close()
    assert "city council approved the new budget" in res["text"] and res["title"]


@pytest.mark.parametrize("ld", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_json_ld_nested_past_the_stack_leaves_the_article(ld):
    """json.loads raised RecursionError on it, which the extraction took for a
    page nested too deep: the article was a `too_deep` reject."""
    res = extract_html(_page(f"<script type='application/ld+json'>{ld}</script>", "<h1>Council approves budget</h1>"))
    assert "council" in res["text"].lower() and res["title"] == "Council approves budget"


def test_a_relative_canonical_is_resolved_against_the_pages_base_href():
    """``<base href>`` sets what a page's relative links mean: a canonical
    "story-b" on a page whose base is https://cdn.ex.org/sub/ is
    https://cdn.ex.org/sub/story-b, not a path under the page's own URL."""
    from lxml import html as lxml_html

    from transforms.page_meta import read_page
    from transforms.urls import canonical_url

    url = "https://ex.org/section/base.html"
    for head, want in (('<base href="https://cdn.ex.org/sub/"><link rel="canonical" href="story-b">',
                        "https://cdn.ex.org/sub/story-b"),
                       ('<link rel="canonical" href="/news/story-1">', "https://ex.org/news/story-1"),
                       ('<base href="/relative/"><link rel="canonical" href="story-c">',
                        "https://ex.org/section/story-c"),
                       ('<base href="http://[::1"><link rel="canonical" href="story-d">',
                        "https://ex.org/section/story-d")):
        meta = read_page(lxml_html.fromstring(_page(head, "")), url)
        assert canonical_url(url, meta["canonical"]) == want


def test_author_meta_tags_are_read_as_written_and_og_site_name_beats_a_handle():
    """trafilatura normalises the author meta tag ("Dana A. Ford" became
    "Dana A Ford") and takes twitter:site ("@AndroidPolice") for the site
    name where og:site_name says "Android Police"; a handle alone is the last
    resort."""
    head = ("<meta name='twitter:site' content='@AndroidPolice'>"
            "<meta property='og:site_name' content='Android Police'>"
            "<meta name='author' content='Dana A. Ford, James S.A. Corey, and Tom Watkins, CNN'>")
    res = extract_html(_page(head, "<h1>Council approves budget</h1>"), "https://www.example.com/a")
    assert res["author"] == "Dana A. Ford; James S.A. Corey; Tom Watkins"
    assert res["publisher"] == "Android Police"
    res = extract_html(_page("<meta name='twitter:site' content='@afpbbcom'>", "<h1>Council approves budget</h1>"),
                       "https://www.example.com/a")
    assert res["publisher"] == "afpbbcom"


@pytest.mark.parametrize("head, expected", [
    ('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-11-07T02:00:00-05:00"}'
     '</script>', "2023-11-07T02:00:00-05:00"),
    ("<meta property='article:published_time' content='2023-11-07T02:00:00Z'>", "2023-11-07T02:00:00+00:00"),
    # no zone: the site's local time, not known; a day other than the page's: not the publication
    ("<meta property='article:published_time' content='2023-11-07T02:00:00'>", "2023-11-07"),
    ("<meta property='article:published_time' content='2023-11-07T02:00:00Z'>"
     "<meta property='article:modified_time' content='2023-11-09T02:00:00Z'>", "2023-11-07T02:00:00+00:00"),
])
def test_the_publication_time_keeps_its_time_of_day_when_the_page_states_it(head, expected):
    """htmldate gives the day; a page that states the time with its zone
    (JSON-LD datePublished, article:published_time) on that day gives the
    instant, and published_at is it in UTC."""
    from transforms.annotate import parse_timestamp

    html = _page(head, "<h1>Council approves budget</h1>")
    res = extract_html(html, "https://www.example.com/2023/11/07/council-approves-budget")
    assert res["published"] == expected
    if len(expected) > 10:
        assert parse_timestamp(res["published"]).isoformat().startswith(
            "2023-11-07T07:00:00" if expected.endswith("-05:00") else "2023-11-07T02:00:00")


@pytest.mark.parametrize("title", ["短缺药品保供稳价 全力保障临床用药需求-新华网",
                                   "短缺药品保供稳价 全力保障临床用药需求_科技_腾讯网"])
def test_a_chinese_title_loses_its_site_part_written_without_spaces(title):
    """Chinese and Japanese titles put the site and section after "-" or "_"
    with no spaces; the page's heading is the run before them (readability's
    gold keeps them: its titles are Readability.js's)."""
    head = f"<title>{title}</title>"
    html = _page(head, "<h1><span class='title'>短缺药品保供稳价 全力保障临床用药需求</span></h1>")
    assert extract_html(html, None)["title"] == "短缺药品保供稳价 全力保障临床用药需求"


def test_title_runs_split_at_unspaced_separators_between_cjk_characters_only():
    from transforms.page_meta import _runs

    assert "短缺药品保供稳价 全力保障临床用药需求" in _runs("短缺药品保供稳价 全力保障临床用药需求-新华网")
    assert "海外留学生看两会：出国前后关注点大不同" in _runs("海外留学生看两会：出国前后关注点大不同_教育频道_中国青年网")
    assert "Jean" not in _runs("Jean-Paul Sartre - Le Monde") and "Jean-Paul Sartre" in _runs("Jean-Paul Sartre - Le Monde")
    assert _runs("COVID-19 cases rise") == ["COVID-19 cases rise"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["article:published_time", "og:published_time", "pubdate", "author",
                                            "article:author", "og:site_name", "dc.creator"]),
                          st.one_of(st.text(max_size=40), st.datetimes(timezones=st.timezones()).map(str),
                                    st.sampled_from(["2023-11-07T02:00:00Z", "9999-12-31T23:59:59-12:00",
                                                     "@handle", "A | B", "Jane Doe - X"]))), max_size=6),
       st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["2023-11-07T02:00:00-05:00"])))
def test_generated_meta_tags_give_a_day_a_zoned_time_or_nothing(metas, ld_date):
    """Any author, site-name and publication-time metas and JSON-LD
    datePublished: the page is read, ``published`` is None, a day, or a time
    with its zone (never a local time taken for UTC)."""
    import datetime as dt
    import html as html_lib

    head = "".join(f"<meta property='{k}' content='{html_lib.escape(v, quote=True)}'>" for k, v in metas)
    if ld_date is not None:
        head += ('<script type="application/ld+json">'
                 + json.dumps({"@type": "NewsArticle", "datePublished": ld_date}).replace("<", "\\u003c") + "</script>")
    res = extract_html(_page(head, "<h1>Council approves budget</h1>"), "https://www.example.com/2023/11/07/a")
    published = res["published"]
    assert published is None or len(published) == 10 or (
        published[10] == "T" and dt.datetime.fromisoformat(published).tzinfo is not None)


_TAG_NAMES = st.sampled_from(["meta", "link", "title", "base", "script", "div", "svg"])
_KEYS = st.sampled_from(["property", "name", "rel", "http-equiv", "type", "itemprop"])
_VALUES = st.sampled_from(["og:url", "og:site_name", "og:title", "og:locale", "application-name", "twitter:title",
                           "canonical", "Canonical", "CANONICAL", "canonical ", "content-language",
                           "Content-Language", "CONTENT-LANGUAGE", "application/ld+json", "og:URL", ""])
_CONTENTS = st.sampled_from(["", " ", "a", "Site &amp; Co", "https://x.example/a", "fr-FR", "  b  ", "&#8217;"])


@st.composite
def _tagged_pages(draw):
    parts = []
    for _ in range(draw(st.integers(0, 12))):
        tag = draw(_TAG_NAMES)
        attrs = "".join(f' {draw(_KEYS)}="{draw(_VALUES)}"' for _ in range(draw(st.integers(0, 2))))
        for attr in ("content", "href"):
            if draw(st.booleans()):
                attrs += f' {attr}="{draw(_CONTENTS)}"'
        inner = draw(_CONTENTS)
        parts.append(f"<{tag}{attrs}>{inner}</{tag}>" if tag not in ("meta", "link", "base") else f"<{tag}{attrs}>")
    split = draw(st.integers(0, len(parts)))
    return f"<html><head>{''.join(parts[:split])}</head><body><p>x</p>{''.join(parts[split:])}</body></html>"


@settings(max_examples=300, deadline=None)
@given(_tagged_pages())
@example('<html><head><link rel="Canonical" href="https://x.example/a"><meta http-equiv="Content-Language" '
         'content="fr-FR"><svg><title>In a drawing</title></svg></head><body><meta property="og:url" content=" ">'
         '<meta property="og:url" content="b"><base href="c"></body></html>')
@example('<html><body><p>a</p></body></html><meta property="og:title" content="beside the root">'
         '<title>After</title>')
def test_the_page_tags_read_once_answer_as_the_xpath_searches_did(page):
    """The page's meta, link, title, base and script elements, gathered once
    (``_PageTags``), give what each XPath search of the whole page gave."""
    import lxml.html

    from transforms import page_meta as pm

    tree = lxml.html.document_fromstring(page)
    tags = pm._PageTags(tree.find(".//body") if tree.find(".//body") is not None else tree)  # any element
    for key, value in (("property", "og:url"), ("property", "og:site_name"), ("name", "application-name"),
                       ("property", "og:title"), ("name", "twitter:title"), ("property", "og:locale")):
        assert tags.meta(key, value) == pm._attr(tree, f"//meta[@{key}='{value}']/@content")
    assert _first_of(tags.values("link", "href", "rel", "canonical", pm._FOLD_REL)) == pm._attr(
        tree, "//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href")
    assert _first_of(tags.values("meta", "content", "http-equiv", "content-language", pm._FOLD_HTTP_EQUIV)) == \
        pm._attr(tree, "//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']"
                       "/@content")
    assert _first_of(tags.values("base", "href")) == pm._attr(tree, "//base/@href")
    assert _first_of(tags.of["title"]) == pm._attr(tree, "//title")
    assert [el for el in tags.of["meta"] if el.get("content") is not None] == tree.xpath("//meta[@content]")
    assert [el for el in tags.of["script"] if el.get("type") == "application/ld+json"] == tree.xpath(
        "//script[@type='application/ld+json']")


def _first_of(values):
    from transforms.page_meta import _first

    return _first(values)
