"""readability-lxml's own steps, made cheaper with the same results.

readability-lxml is a third of the extraction child's CPU (docs/benchmarks.md,
"Throughput"). cProfile over the 980 pages of the extraction sets put most
of it in four places that do more work than their result needs:

- ``clean(text)`` (three ``re.sub`` passes over an element's text, for its
  length) on every link and candidate, however short, and again on the same
  large texts; ``clean`` here skips a pass that cannot change the text
  (``"\\n"``, a tab or two spaces not in it, fewer than 255 characters) and
  ``text_length`` remembers the lengths of large texts within one page;
- ``describe(node)``, built for debug messages that are never shown (the
  logger is off) and kept in a module-global dict;
- lxml.html's parser asks a Python method for each element's class; the
  parser here asks lxml's C lookup (the classes are the same but for forms'
  own element classes, which readability does not use);
- turning a ``<div>`` with no block children into a ``<p>``: readability
  serialises every div's children and searches the markup for a block tag;
  here the children's tags are read, and the markup only when a comment or
  another non-element node is among them.

``install()`` patches readability's module once per process (the extraction
child's); ``tests/test_readability_speed.py`` compares every function with
readability's own on generated text and markup, and the articles of pages.
"""
from __future__ import annotations

import logging
import re

__all__ = ["clean", "install", "page_started", "parser", "has_block_child"]

_LONG = re.compile(r"\s{255,}")
_NEWLINE = re.compile(r"\s*\n\s*")
_SPACES = re.compile(r"\t|[ \t]{2,}")
_BLOCK_PREFIXES = ("blockquote", "dl", "div", "img", "ol", "p", "table", "ul")  # readability's divToPElementsRe
CACHE_MIN = 2_000  # texts this long or longer have their cleaned length remembered within a page
CACHE_CHARS = 4_000_000  # at most this many characters of such texts are held for one page


def clean(text: str) -> str:
    """readability.readability.clean, each pass only where it can change the text."""
    if len(text) >= 255:
        text = _LONG.sub(" " * 255, text)
    if "\n" in text:
        text = _NEWLINE.sub("\n", text)
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


def has_block_child(elem, _search=None) -> bool:
    """readability's test before a div becomes a p: does the markup of its
    children hold a block tag (``<p``, ``<div``, ``<img``...; prefixes,
    any case)? Element tags are read directly; a comment, processing
    instruction or entity among them is serialised as readability does."""
    for node in elem.iterdescendants():
        tag = node.tag
        if not isinstance(tag, str):  # not an element: its markup can hold anything
            from lxml.etree import tostring

            from readability.readability import REGEXES

            return REGEXES["divToPElementsRe"].search(str(b"".join(tostring(s, encoding="utf-8") for s in elem))) \
                is not None
        if tag.lower().startswith(_BLOCK_PREFIXES):
            return True
    return False


_PARSER = None


def parser():
    """lxml.html's UTF-8 parser with lxml's C class lookup for HTML elements."""
    global _PARSER
    if _PARSER is None:
        import lxml.html
        from lxml import etree

        p = lxml.html.HTMLParser(encoding="utf-8")
        p.set_element_class_lookup(etree.ElementDefaultClassLookup(
            element=lxml.html.HtmlElement, comment=lxml.html.HtmlComment,
            pi=lxml.html.HtmlProcessingInstruction, entity=lxml.html.HtmlEntity))
        _PARSER = p
    return _PARSER


_ORIGINAL: dict = {}


def install() -> None:
    """Patch readability-lxml's module (idempotent)."""
    if _ORIGINAL:
        return
    import readability.readability as rd

    log = logging.getLogger("readability.readability")
    describe = rd.describe

    def quiet_describe(node, depth=1):
        return describe(node, depth) if log.isEnabledFor(logging.DEBUG) else ""

    _ORIGINAL.update(clean=rd.clean, text_length=rd.text_length, describe=describe)
    rd.clean = clean
    rd.text_length = _lengths
    rd.describe = quiet_describe
