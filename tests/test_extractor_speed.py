"""readability-lxml and trafilatura made cheaper (transforms.extractor_speed) give their own results."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import readability.htmls
import readability.readability as rd
from transforms import extractor_speed
from transforms.html_extract import readability_article

extractor_speed.install()
ORIGINAL = extractor_speed._ORIGINAL
_WHITESPACE = st.sampled_from([" ", " ", "  ", "\t", "\n", "\r\n", "\xa0", "\u2003", "\x0b", "\x0c", "\x1c", " " * 260,
                               "\t" * 255, "\n" + " \t" * 130, " " * 254, "\n" * 254, "\xa0" * 127])
_TEXT = st.lists(st.one_of(_WHITESPACE, st.sampled_from(["a", "word", ",", "table of contents", "é"]), st.text(max_size=5)),
                 max_size=40).map("".join)


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(_TEXT)
def test_clean_is_readabilitys_clean(text):
    assert extractor_speed.clean(text) == ORIGINAL["clean"](text)


def test_lengths_of_large_texts_are_remembered_only_within_a_page():
    import lxml.html

    body = "<p>" + "word  \t and\n\n more " * 400 + "</p>"
    el = lxml.html.fromstring(body)
    lengths = extractor_speed._Lengths()
    want = len(ORIGINAL["clean"](el.text_content()))
    assert lengths(el) == want and lengths(el) == want and len(lengths.known) == 1
    el.text = "changed  text"
    assert lengths(el) == len("changed text")
    lengths.reset()
    assert not lengths.known and lengths.chars == 0


def _page(rng: random.Random) -> str:
    """A generated page: nested blocks, links, forms, comments, odd whitespace, unlikely candidates."""
    words = "council budget school teachers vote mayor city plan money families tax debate".split()

    def sentence():
        return " ".join(rng.choice(words) for _ in range(rng.randint(3, 25))) + rng.choice([".", ",", "", ":"])

    def block(depth):
        kind = rng.randrange(12)
        inner = "".join(block(depth + 1) for _ in range(rng.randint(0, 3))) if depth < 5 else ""
        ws = rng.choice(["", "\n\t\t", "  ", "\xa0", " " * 300, "\r\n"])
        attrs = rng.choice(["", " class='comment sidebar'", " id='article-body'", " class='share'", " style='display:none'",
                            " hidden", " class='content main'"])
        if kind < 3:
            return f"<p{attrs}>{ws}{sentence()} <a href='/x'>{sentence()}</a>{ws}{sentence()}</p>{inner}"
        if kind < 6:
            return f"<div{attrs}>{ws}{sentence()}{inner}{ws}</div>"
        if kind == 6:
            return rng.choice([f"<DIV{attrs}><IMG src='a.png'>{sentence()}<param name=x>{inner}</DIV>",
                               f"<div><span title='<p>{sentence()}'>{sentence()}</span><em>{inner}</em></div>",
                               f"<div><svg><path d='M0'/></svg>{sentence()}</div><div><b><i>{sentence()}</i></b></div>",
                               f"<div><span>{sentence()}<picture><source></picture></span>{sentence()}</div>"])
        if kind == 7:
            return f"<form><input value='{sentence()}'><textarea>{sentence()}</textarea><label>{sentence()}</label></form>"
        if kind == 8:
            return f"<!-- <p>{sentence()}</p> --><div>{sentence()}<!-- <div> -->{inner}</div>"
        if kind == 9:
            return f"<table><tr><td{attrs}>{sentence()}\t\t{sentence()}</td></tr></table>{inner}"
        if kind == 10:
            return f"<ul><li><a href='#'>{sentence()}</a></li><li>{sentence()}</li></ul>{inner}"
        return f"<pre>{ws}{sentence()}\n\t{sentence()}</pre><br><br>{sentence()}{inner}"

    return f"<html><head><title>t</title></head><body>{''.join(block(0) for _ in range(rng.randint(1, 8)))}</body></html>"


def test_articles_are_the_extractors_own(monkeypatch):
    """Generated pages: readability's article and link share, and the whole
    extraction (trafilatura's candidates, metadata, the choice), are what
    readability's own functions and lxml.html's own class lookup give."""
    import lxml.html

    from transforms.html_extract import extract_html

    pages = [_page(random.Random(seed)) for seed in range(60)]
    fast = [(readability_article(p), extract_html(p)) for p in pages]
    monkeypatch.setattr(rd, "clean", ORIGINAL["clean"])
    monkeypatch.setattr(rd, "text_length", ORIGINAL["text_length"])
    monkeypatch.setattr(rd, "describe", ORIGINAL["describe"])
    monkeypatch.setattr(rd, "tostring", ORIGINAL["tostring"])
    for name in extractor_speed._REMEMBERED_PATTERNS:
        monkeypatch.setitem(rd.REGEXES, name, rd.REGEXES[name].pattern_object)
    monkeypatch.setattr(extractor_speed, "parser", lambda encoding="utf-8": readability.htmls.utf8_parser
                        if encoding else lxml.html.html_parser)
    extractor_speed.trafilatura_parser().set_element_class_lookup(lxml.html.HtmlElementClassLookup())
    try:
        own = [(readability_article(p), extract_html(p)) for p in pages]
    finally:
        extractor_speed.trafilatura_parser().set_element_class_lookup(extractor_speed.c_lookup())
    assert sum(1 for (text, _), _ in own if text) > 40
    assert fast == own


def _found(match):
    return match and (match.span(), match.group(0))


_CLASS_WORDS = st.sampled_from(["comment", "menu", "post", "content", "article", "sidebar", "main", "body",
                                 "-", " ", "_", "x", "Hidden", "SHARE", "col", "entry"])


@settings(max_examples=500, derandomize=True, deadline=None)
@given(st.lists(st.lists(_CLASS_WORDS, max_size=6).map("".join), min_size=1, max_size=30))
def test_remembered_searches_are_the_patterns_own(strings):
    """Each class-and-id pattern readability searches answers as the pattern
    itself, for a string met the first time and again, and with a position."""
    for name in extractor_speed._REMEMBERED_PATTERNS:
        remembered = rd.REGEXES[name]
        assert isinstance(remembered, extractor_speed.RememberedSearch)
        own = remembered.pattern_object
        small = extractor_speed.RememberedSearch(own)
        for string in strings + strings:
            for search in (remembered.search, small.search):
                assert _found(search(string)) == _found(own.search(string))
            assert _found(remembered.search(string, 1)) == _found(own.search(string, 1))
        assert remembered.pattern == own.pattern and remembered.flags == own.flags


def test_remembered_searches_forget_past_their_cap_and_keep_no_long_string(monkeypatch):
    monkeypatch.setattr(extractor_speed, "_SEARCHES_REMEMBERED", 3)
    remembered = extractor_speed.RememberedSearch(rd.REGEXES["negativeRe"].pattern_object)
    for i in range(10):
        assert bool(remembered.search(f"comment-{i}")) and len(remembered.known) <= 3
    remembered.known.clear()
    long = "x" * 10_000 + " comment"
    assert _found(remembered.search(long)) == _found(remembered.pattern_object.search(long))
    assert not remembered.known


def test_describe_is_built_only_for_debug_logging(caplog):
    import lxml.html

    el = lxml.html.fromstring("<div id='a' class='b c'><p>x</p></div>")
    assert rd.describe(el) == ""
    with caplog.at_level("DEBUG", logger="readability.readability"):
        assert rd.describe(el) == ORIGINAL["describe"](el)


@pytest.mark.parametrize("markup", ["<div><span>a</span><b>b</b></div>", "<div><PARAM>x</PARAM></div>",
                                    "<div><span><img src=a></span></div>", "<div>text only</div>"])
def test_parser_gives_html_elements(markup):
    import lxml.html

    tree = lxml.html.document_fromstring(markup, parser=extractor_speed.parser())
    assert all(isinstance(el, lxml.html.HtmlElement) for el in tree.iter() if isinstance(el.tag, str))
    assert tree.text_content() == lxml.html.document_fromstring(markup).text_content()


def test_a_readability_release_without_a_patched_function_is_left_alone(monkeypatch, caplog):
    """install() patches nothing of readability when one of its functions is
    gone (the extraction keeps the library's own steps) and does not fail."""
    monkeypatch.setattr(extractor_speed, "_ORIGINAL", {})
    monkeypatch.delattr(rd, "text_length")
    before = rd.clean
    extractor_speed.install()
    assert rd.clean is before and not hasattr(rd, "text_length")
    assert "has no text_length" in caplog.text


_TAGS = ["div", "p", "span", "b", "a", "param", "picture", "pre", "path", "svg", "ol", "option", "dl", "dt", "img",
         "table", "ul", "li", "blockquote", "blink", "section", "em", "i", "abbr", "font"]


def _markup(rng: random.Random, depth: int = 0) -> str:
    out = []
    for _ in range(rng.randint(0, 3)):
        k = rng.random()
        if k < 0.15:
            out.append(rng.choice(["text &lt;p&gt; here", "a &lt;div", "plain", "&amp;lt;img"]))
        elif k < 0.25:
            out.append(rng.choice(["<!-- <p>x</p> -->", "<!-- plain -->", "<?pi <div ?>", "<?pi x ?>"]))
        else:
            tag = rng.choice(_TAGS)
            attr = rng.choice(["", " title='<p>'", " data-x='<div a'", " class='b'"])
            out.append(f"<img{attr}>" if tag == "img" else
                       f"<{tag}{attr}>{_markup(rng, depth + 1) if depth < 4 else 'x'}</{tag}>")
    return "".join(out)


def test_block_marker_finds_what_readabilitys_search_finds_in_the_serialized_children():
    """readability searches divToPElementsRe in each div's children as lxml
    serializes them; block_marker must give the same answer for every div,
    with comments, processing instructions, escaped text and attribute values
    that hold the pattern, and tags it matches by prefix (param, path, picture)."""
    import lxml.html
    from lxml import etree

    assert rd.tostring is extractor_speed.block_marker
    pattern = rd.REGEXES["divToPElementsRe"]
    divs = found = 0
    for seed in range(2000):
        tree = lxml.html.fragment_fromstring("<div>" + _markup(random.Random(seed)) + "</div>", create_parent="section")
        for div in tree.iter("div"):
            want = bool(pattern.search(str(b"".join(etree.tostring(c, encoding="utf-8") for c in div))))
            got = bool(pattern.search(str(b"".join(extractor_speed.block_marker(c, encoding="utf-8") for c in div))))
            assert got == want, etree.tostring(div)
            divs, found = divs + 1, found + want
    assert divs > 2000 and 0.2 < found / divs < 0.8


def test_a_readability_release_with_another_div_search_keeps_its_own_serialization(monkeypatch, caplog):
    import re

    from lxml import etree

    monkeypatch.setattr(extractor_speed, "_ORIGINAL", {})
    monkeypatch.setattr(rd, "tostring", etree.tostring)
    monkeypatch.setitem(rd.REGEXES, "divToPElementsRe", re.compile("<(a|blockquote|dl|div|img|ol|p|pre|table|ul)"))
    extractor_speed.install()
    assert rd.tostring is etree.tostring
    assert "its own serialization is kept" in caplog.text
