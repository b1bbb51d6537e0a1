"""readability-lxml's and trafilatura's own steps, made cheaper with the same results.

readability-lxml is a third of the extraction child's CPU (docs/benchmarks.md,
"Throughput"). cProfile over the 980 pages of the extraction sets put most
of it in three places that do more work than their result needs:

- ``clean(text)`` (three ``re.sub`` passes over an element's text, for its
  length) on every link and candidate, however short, and again on the same
  large texts; ``clean`` here skips a pass that cannot change the text
  (``"\\n"``, a tab or two spaces not in it, fewer than 255 characters),
  makes the line-break pass a split, and ``text_length`` remembers the
  lengths of large texts within one page;
- the class-and-id patterns (unlikely candidates, positive and negative
  weights) searched again in the same strings on every page: a search's
  result is remembered by its string (``RememberedSearch``);
- ``describe(node)``, built for debug messages that are never shown (the
  logger is off) and kept in a module-global dict;
- ``transform_misused_divs_into_paragraphs`` serializes every div's
  children to search one pattern in them, so a page's nested divs are
  serialized again for each div around them; ``block_marker`` gives the
  same answer from the tags (readability calls ``tostring`` for nothing
  else, and only while its pattern is the one it is checked against);
- lxml.html's parser asks a Python method for each element's class; the
  parser here asks lxml's C lookup (the classes are the same but for forms'
  own element classes, which neither readability, trafilatura, htmldate nor
  jusText use). trafilatura's own parser gets the same lookup: the Python
  one was called ~3 million times over the 980 pages.

``install()`` patches readability's module and trafilatura's parser once per
process (the extraction child's); ``tests/test_extractor_speed.py`` compares
every function with readability's own on generated text and markup, and the
articles of pages.
"""
from __future__ import annotations

import logging
import re

from lxml import etree

__all__ = ["block_marker", "c_lookup", "clean", "install", "page_started", "parser"]

_LONG = re.compile(r"\s(?<!\s\s)\s{254,}")  # a run of 255 or more at its start; \s first: re skips to the next one in C
_SPACES = re.compile(r"[ \t](?:(?<=\t)|[ \t]+)")  # readability's \t|[ \t]{2,}, a class first (as _LONG)
CACHE_MIN = 2_000  # texts this long or longer have their cleaned length remembered within a page
CACHE_CHARS = 4_000_000  # at most this many characters of such texts are held for one page


def clean(text: str) -> str:
    """readability.readability.clean, each pass only where it can change the text.

    readability's passes, in order: a run of 255 or more whitespace
    characters becomes 255 spaces; a run holding a line break becomes one
    line break; a tab, or two or more spaces and tabs, become a space. The
    first pass starts only where a run starts (the same matches without
    trying each position inside a run; the pattern opens with the class of
    its first character, which re finds without stepping through the
    pattern: 0.78 -> 0.61 s over the 980 pages' texts; the third pass's
    pattern too: a tab alone, or a space and one or more spaces and tabs,
    0.44 -> 0.29 s); the second splits on line breaks
    and drops the whitespace around them, as the run's one line break."""
    if len(text) >= 255:
        text = _LONG.sub(" " * 255, text)
    if "\n" in text:
        pieces = text.split("\n")
        inner = [p.strip() for p in pieces[1:-1]]
        text = "\n".join([pieces[0].rstrip(), *[p for p in inner if p], pieces[-1].lstrip()])
    if "\t" in text or "  " in text:
        text = _SPACES.sub(" ", text)
    return text.strip()


class _Lengths:
    """Cleaned lengths of a page's large texts (the same body text is measured
    for every candidate); emptied when readability parses the next page."""

    def __init__(self):
        self.known: dict[str, int] = {}
        self.chars = 0

    def reset(self):
        self.known.clear()
        self.chars = 0

    def __call__(self, elem) -> int:
        text = elem.text_content() or ""
        if len(text) < CACHE_MIN:
            return len(clean(text))
        n = self.known.get(text)
        if n is None:
            n = len(clean(text))
            if self.chars + len(text) <= CACHE_CHARS:
                self.known[text] = n
                self.chars += len(text)
        return n


_lengths = _Lengths()


def page_started() -> None:
    """A new page: forget the last page's lengths."""
    _lengths.reset()


_PARSERS: dict = {}


def c_lookup():
    """lxml's C element class lookup giving lxml.html's classes (HtmlElement,
    HtmlComment, ...) without calling Python for each element."""
    import lxml.html

    return etree.ElementDefaultClassLookup(element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
                                           pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity)


def parser(encoding: str | None = "utf-8"):
    """lxml.html's parser (for bytes in ``encoding``, or for str with None) with the C class lookup."""
    p = _PARSERS.get(encoding)
    if p is None:
        import lxml.html

        p = _PARSERS[encoding] = lxml.html.HTMLParser(encoding=encoding)
        p.set_element_class_lookup(c_lookup())
    return p


# readability's divToPElementsRe, which it searches in the serialized children
# of every <div> (transform_misused_divs_into_paragraphs) to tell whether the
# div holds a block; "<p" also matches <pre>, <param>, <picture>, <path>...
DIV_TO_P = "<(blockquote|dl|div|img|ol|p|pre|table|ul)"
_BLOCK_PREFIXES = ("blockquote", "dl", "div", "img", "ol", "p", "pre", "table", "ul")
_DIV_TO_P_BYTES = re.compile(DIV_TO_P.encode())


def block_marker(el, encoding=None, **_) -> bytes:
    """Stands in for ``lxml.etree.tostring`` where readability-lxml calls it:
    only to search ``DIV_TO_P`` in a div's serialized children. That search
    finds something exactly when the child or one of its descendants is an
    element whose tag begins with one of the alternatives (text and attribute
    values are serialized escaped, ``<`` as ``&lt;``), or is a comment or
    processing instruction whose own text holds a match (those are not
    escaped; the page newsbeam hands readability has none left, its cleaner
    in ``html_extract`` drops them). So:
    ``b"<div"`` then, else ``b""``, without serializing each div's whole
    subtree again for each div around it (quadratic in the page's depth)."""
    for node in el.iter():
        tag = node.tag
        if isinstance(tag, str):
            if tag.startswith(_BLOCK_PREFIXES):
                return b"<div"
        elif tag is etree.Comment or tag is etree.PI:
            if _DIV_TO_P_BYTES.search(etree.tostring(node, with_tail=False)):
                return b"<div"
    return b""


# readability's patterns searched in every element's class and id (to drop unlikely candidates, to weigh
# a node): the same few hundred strings on every page ("menu-item", "post-content"), so what a search finds
# in one is remembered, per process (a pattern's search depends on the string alone)
_REMEMBERED_PATTERNS = ("unlikelyCandidatesRe", "okMaybeItsACandidateRe", "positiveRe", "negativeRe")
_SEARCHES_REMEMBERED = 50_000  # subjects per pattern; then the memory starts again
_REMEMBERED_CHARS = 200  # a longer subject (a hostile page's megabyte class) is searched, not kept


class RememberedSearch:
    """A compiled pattern whose ``search(string)`` result is remembered by
    ``string`` (the same match object; a search with a position, or of a
    string over ``_REMEMBERED_CHARS``, is not); everything else is the
    pattern's own."""

    __slots__ = ("pattern_object", "known")

    def __init__(self, pattern: re.Pattern):
        self.pattern_object = pattern
        self.known: dict = {}

    def search(self, string, *args, **kwargs):
        if args or kwargs or len(string) > _REMEMBERED_CHARS:
            return self.pattern_object.search(string, *args, **kwargs)
        known = self.known
        try:
            return known[string]
        except KeyError:
            pass
        found = self.pattern_object.search(string)
        if len(known) >= _SEARCHES_REMEMBERED:
            known.clear()
        known[string] = found
        return found

    def __getattr__(self, name):
        return getattr(self.pattern_object, name)


_ORIGINAL: dict = {}


def install() -> None:
    """Patch readability-lxml's module and trafilatura's parser (idempotent).

    What a release of either library no longer has is left alone, and said
    once: the extraction is then as slow as the library, never broken."""
    if _ORIGINAL:
        return
    import readability.readability as rd

    names = ("clean", "text_length", "describe")
    _ORIGINAL.update((name, getattr(rd, name, None)) for name in names)
    if all(_ORIGINAL.values()):
        log = logging.getLogger("readability.readability")
        describe = _ORIGINAL["describe"]

        def quiet_describe(node, depth=1):
            return describe(node, depth) if log.isEnabledFor(logging.DEBUG) else ""

        rd.clean, rd.text_length, rd.describe = clean, _lengths, quiet_describe
    else:
        logging.getLogger(__name__).warning("readability-lxml has no %s: its own steps are kept",
                                            ", ".join(n for n in names if not _ORIGINAL[n]))
    # tostring is readability's only for that search: stood in for only while that is so
    _ORIGINAL["tostring"] = getattr(rd, "tostring", None)
    regexes = getattr(rd, "REGEXES", {})
    if (_ORIGINAL["tostring"] is etree.tostring and "divToPElementsRe" in regexes
            and regexes["divToPElementsRe"].pattern == DIV_TO_P):
        rd.tostring = block_marker
    else:
        logging.getLogger(__name__).warning("readability-lxml's tostring or divToPElementsRe differ from 0.8-0.9's:"
                                            " its own serialization is kept")
    for name in _REMEMBERED_PATTERNS:
        if isinstance(regexes.get(name), re.Pattern):
            regexes[name] = RememberedSearch(regexes[name])
    parser = trafilatura_parser()
    if parser is not None:
        parser.set_element_class_lookup(c_lookup())


def trafilatura_parser():
    """The parser of trafilatura's ``load_html``, or None in a release without it."""
    import trafilatura.utils

    return getattr(trafilatura.utils, "HTML_PARSER", None)
