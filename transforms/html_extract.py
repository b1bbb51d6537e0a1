"""HTML to article text and metadata (runs inside the sandbox).

Three extractors that each win some kinds of page and lose others
(docs/benchmarks.md: trafilatura's defaults, its precision mode and
readability-lxml each come first on some of the five extraction sets), and a
choice between them on signals of the texts themselves, fitted to no set:

1. readability-lxml runs on every page. Its article stands alone, and
   trafilatura is never run, when it looks clean: ``CLEAN_WORDS`` words or
   more, under ``CLEAN_LINKS`` of its characters in links, ``CLEAN_PROSE`` of
   its words in sentence lines, and no short line printed twice (a caption or
   photo credit under every picture). About half the pages end here.
2. Otherwise trafilatura runs, with its defaults but without its own
   fallback extractors (``fast=True``: readability-lxml's text is already
   the other candidate). When each text holds at least
   ``AGREE`` of the other's word 4-grams, they found the same article:
   readability's is kept unless the lines it adds are mostly non-sentences
   (menus, captions, credits) beyond ``JUNK`` of its words, then trafilatura's.
3. Otherwise trafilatura's precision mode runs too, and readability's text is
   weighed against it: a candidate under ``MIN_WORDS`` words (or a table of
   pipes: navigation laid out in cells) loses to one that is not; when one
   text holds the other, the larger wins only if what it adds reads as prose
   (sentence lines: 8+ words that end a sentence, or hold three sentences),
   else the smaller; when they disagree, readability's. When every
   candidate is a stub, the longest is kept, so a page with an article is
   never given up because the first pass missed it.

readability's text is one line per block element, whitespace inside a block
collapsed (the source's own line breaks are not lines). Metadata comes from
one parse of the page (``transforms.page_meta``: the headline, authors,
publisher; htmldate for the date), lxml's own when trafilatura refuses the
page (one that starts mid-body). Comments are
never included and trafilatura's ``deduplicate`` stays off: it keeps a
module-global cache, so results would depend on which pages a worker saw
before.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Any

from transforms import extractor_speed

__all__ = ["extract_html", "choose_text", "looks_clean", "readability_article", "AGREE", "MIN_WORDS"]

AGREE = 0.8  # share of each other's word 4-grams two texts hold when they are the same article
MIN_WORDS = 30  # below this a candidate is a stub (a teaser, a caption, a menu)
CONTAINS = 0.9  # one text holds the other when it has this share of the other's 4-grams
PROSE = 0.6  # share of added words in sentence lines for what a larger text adds to count as article
CLEAN_WORDS = 80  # readability's article alone needs this many words,
CLEAN_LINKS = 0.05  # at most this share of its characters in links,
CLEAN_PROSE = 0.8  # and this share of its words in sentence lines (see _is_prose)
JUNK = 0.03  # when both agree: readability's, unless its extra non-sentence lines pass this share of its words
_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_SPACE = re.compile(r"\s+")
_SENTENCE_END = tuple('.!?"\'”»)…:。！？」』）')
# A sentence break inside a line: a word's end (lower-case letter or digit, so
# not "U.S. Defense"), an end mark, space, a capital; or a CJK full stop
_BREAK = re.compile(r"(\w)[.!?][\"'”»)]?\s+[\"“«(]?([^\W\d_])")
_CJK_BREAK = re.compile(r"[。！？](?=.)")
PROSE_BREAKS = 2  # a line holding this many sentence breaks is prose, however it ends
_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "td", "th", "table", "ul",
           "ol", "section", "article", "figcaption", "dd", "dt")
# Translation-proxy markers (transforms.mtevidence) are found with str.find:
# a regex with a leading [\w.-]* was quadratic on base64 images.
_PROXY_CONTEXT = re.compile(r"[^\s\"'<>]{0,60}$")


def _lenient_parse(html: str):
    """lxml's own parse of a page trafilatura's ``load_html`` refused, for its
    metadata; None when lxml cannot take it either."""
    import lxml.html

    try:
        return lxml.html.document_fromstring(html.encode("utf-8", "surrogatepass"))
    except Exception:  # lxml's parser errors (empty, not markup) all mean: no tree
        return None


def translation_proxy(html: str) -> str | None:
    """The first trace of a translation proxy in the page, with a little of its URL."""
    head = html[:500_000]
    from transforms.mtevidence import PROXY_MARKERS

    for marker in PROXY_MARKERS:
        i = head.find(marker)
        if i >= 0:
            before = _PROXY_CONTEXT.search(head[max(0, i - 60):i]).group(0)
            after = re.match(r"[^\s\"'<>&]{0,40}", head[i + len(marker):]).group(0)
            return before + marker + after
    return None


def _block_lines(tree) -> str:
    """Text of an lxml tree, one line per block element; whitespace inside a
    block (the source's own line breaks) is one space."""
    for el in tree.iter():
        if isinstance(el.text, str):
            el.text = _SPACE.sub(" ", el.text)
        if isinstance(el.tail, str):
            el.tail = _SPACE.sub(" ", el.tail)
    for el in tree.iter("br", *_BLOCKS):
        el.tail = "\n" + (el.tail or "")
        if el.tag != "br":
            el.text = "\n" + (el.text or "")
    lines = (" ".join(line.split()) for line in tree.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


_READABILITY = None


def _readability_document():
    """readability-lxml's Document, with a cheaper clean of the parsed page
    (and readability's own steps made cheaper, ``transforms.extractor_speed``).

    readability runs lxml's Cleaner on a deep copy of the page, with
    ``javascript=True``: every link's href is rewritten to blank out
    ``javascript:`` URLs, a fifth of readability's time. Neither the copy
    nor the hrefs change the article's text (same text on all 980 pages of
    the extraction sets, 24% less time), so the page is cleaned in place,
    of scripts, styles, comments and the rest as before, hrefs untouched.
    """
    global _READABILITY
    if _READABILITY is None:
        import logging

        import lxml.html
        from lxml_html_clean import Cleaner
        from readability import Document
        from readability.readability import REGEXES

        cleaner = Cleaner(scripts=True, javascript=False, comments=True, style=True, links=True, meta=False,
                          add_nofollow=False, page_structure=False, processing_instructions=True, embedded=False,
                          frames=False, forms=False, annoying_tags=False, remove_tags=None,
                          remove_unknown_tags=False, safe_attrs_only=False)

        extractor_speed.install()

        class TextDocument(Document):
            def _parse(self, input):  # readability.Document._parse for a str page and no URL
                extractor_speed.page_started()
                self.encoding = None
                doc = lxml.html.document_fromstring(input.encode("utf-8", "replace"), parser=extractor_speed.parser())
                for elem in doc.xpath("//*[@hidden]"):
                    elem.drop_tree()
                for elem in doc.xpath("//*[@style]"):
                    if REGEXES["displayNoneRe"].search(elem.get("style")):
                        elem.drop_tree()
                cleaner(doc)  # in place
                doc.resolve_base_href(handle_failures=self.handle_failures)
                return doc

        # readability-lxml logs a traceback before it raises; extract_html records the error. trafilatura
        # logs an ERROR for a page its parser refuses ("parsed tree length: 1") and for its own fallbacks'
        # failures, which extract_html handles (lxml's own parse, the other candidates): the page's row
        # or reject says what happened, the log would only alarm
        for name in ("readability.readability", "trafilatura.utils", "trafilatura.external"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        _READABILITY = TextDocument
    return _READABILITY


def readability_article(html: str) -> tuple[str, float]:
    """readability-lxml's article as text (one line per block) and the share
    of that text inside links."""
    import lxml.html

    summary = _readability_document()(html).summary(html_partial=True)
    if not summary.strip():
        return "", 0.0
    tree = lxml.html.fromstring(summary, parser=extractor_speed.parser(None))
    total = len(tree.text_content())
    linked = sum(len(a.text_content()) for a in tree.iter("a"))
    return _block_lines(tree), (linked / total if total else 0.0)


def _shingles(text: str) -> set:
    """Word 4-grams of a text (a text of 1-3 words: its words, as one)."""
    toks = _WORD.findall(text.lower())
    if len(toks) < 4:
        return {tuple(toks)} if toks else set()
    return set(zip(toks, toks[1:], toks[2:], toks[3:]))


def _words(text: str) -> int:
    """Words of a candidate; 0 for a table of pipes (navigation laid out in cells)."""
    n = len(_WORD.findall(text))
    return 0 if n and text.count("|") > 0.2 * n else n


def _line_words(line: str) -> int:
    """Words of a line; CJK text, written without spaces, counts a word per two characters."""
    return len(_WORD.findall(line)) + len(_CJK.findall(line)) // 2


def _breaks(line: str) -> int:
    """Sentence breaks inside a line."""
    return (sum(1 for m in _BREAK.finditer(line) if (m.group(1).islower() or m.group(1).isdigit())
                and m.group(2).isupper()) + len(_CJK_BREAK.findall(line)))


def _is_prose(line: str, words: int | None = None) -> bool:
    """A sentence line: 8 words or more that end a sentence, or that hold
    three sentences or more (a paragraph whose last sentence lost its full
    stop, or ends in a link). ``words``: the line's ``_line_words``, when known."""
    return ((_line_words(line) if words is None else words) >= 8
            and (line.endswith(_SENTENCE_END) or _breaks(line) >= PROSE_BREAKS))


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


def _prose_share(lines: list[str]) -> tuple[float, int]:
    """(share of the words in prose lines, words) of ``lines``."""
    total = prose = 0
    for line in lines:
        n = _line_words(line)
        total += n
        if _is_prose(line, n):
            prose += n
    return (prose / total if total else 1.0), total


def _added_lines(larger: str, have: set) -> list[str]:
    """The lines of ``larger`` that a text with the 4-grams ``have`` does not hold (under half theirs)."""
    return [line for line in _lines(larger) if (sh := _shingles(line)) and len(sh & have) < 0.5 * len(sh)]


def _repeated_junk(lines: list[str]) -> int:
    """Words of short, non-sentence lines held more than once (a caption or a
    photo credit printed under every picture)."""
    seen = Counter(lines)
    return sum(n for line in lines if seen[line] > 1 and not _is_prose(line, n := _line_words(line)))


def _holds(a: set, b: set) -> float:
    """Share of ``b``'s 4-grams that ``a`` holds."""
    return len(a & b) / len(b) if b else 0.0


def _added_is_prose(larger: str, smaller: set) -> bool:
    """Do the lines ``larger`` adds to a text with the 4-grams ``smaller`` read as article text?"""
    share, total = _prose_share(_added_lines(larger, smaller))
    return total > 0 and share >= PROSE


def looks_clean(readability: str, link_density: float) -> bool:
    """Is readability's article good enough alone? Long, few links, nearly all
    sentences, and no caption printed twice: then trafilatura is not run."""
    lines = _lines(readability)
    share, total = _prose_share(lines)
    return (total >= CLEAN_WORDS and link_density <= CLEAN_LINKS and share >= CLEAN_PROSE
            and _repeated_junk(lines) == 0)


def _value(candidate) -> str:
    return ((candidate() if callable(candidate) else candidate) or "")


def choose_text(readability: str, default, precision=None, link_density: float = 1.0) -> tuple[str, str]:
    """(extractor, text) chosen among readability's text and trafilatura's
    default and precision texts. ``default`` and ``precision`` are texts or
    functions returning them, called only when needed: most pages end at the
    first check and never run trafilatura."""
    if looks_clean(readability, link_density):
        return "readability", readability
    default = _value(default)
    sd, sr = _shingles(default), _shingles(readability)
    if _words(default) >= MIN_WORDS and _holds(sd, sr) >= AGREE and _holds(sr, sd) >= AGREE:
        # the same article: readability's unless what it adds is mostly menu, caption and credit lines
        lines = _lines(readability)
        share, added = _prose_share(_added_lines(readability, sd))
        junk = added * (1 - share) + _repeated_junk(lines)
        return ("readability", readability) if junk <= JUNK * _line_words(readability) else ("trafilatura", default)
    prec = _value(precision)
    wr, wp = _words(readability), _words(prec)
    if wr < MIN_WORDS and wp < MIN_WORDS:  # every candidate a stub: the longest
        return max((_words(default), 2, "trafilatura", default), (wr, 1, "readability", readability),
                   (wp, 0, "trafilatura-precision", prec))[2:]
    if wr < MIN_WORDS:
        return "trafilatura-precision", prec
    if wp < MIN_WORDS:
        return "readability", readability
    sp = _shingles(prec)
    r_holds_p, p_holds_r = _holds(sr, sp), _holds(sp, sr)
    if r_holds_p >= CONTAINS > p_holds_r:
        return ("readability", readability) if _added_is_prose(readability, sp) else \
            ("trafilatura-precision", prec)
    if p_holds_r >= CONTAINS > r_holds_p:
        return ("trafilatura-precision", prec) if _added_is_prose(prec, sr) else \
            ("readability", readability)
    return "readability", readability


def _untimed(_step: str, fn, *args, **kwargs):
    return fn(*args, **kwargs)


def extract_html(html: str, url: str | None = None, timed=_untimed) -> dict[str, Any]:
    """Article text and metadata of one page.

    Returns ``{"text": str, "extractor": str, **metadata}``; ``text`` is empty
    when the page holds no article. ``timed(step, fn, *args)`` calls each step
    (``benchmarks/throughput.py`` passes one that measures them).
    """
    from trafilatura import extract
    from trafilatura.utils import load_html

    import transforms.page_meta as _page_meta

    extractor_speed.install()  # once per process; then a flag

    tree = timed("parse + metadata", load_html, html)
    page = tree if tree is not None else _lenient_parse(html)  # trafilatura refuses a page that starts mid-body
    meta = timed("parse + metadata", _page_meta.read_page, page, url) if page is not None else \
        {"declared_language": None}
    try:
        readability, link_density = timed("readability-lxml", readability_article, html)
    except Exception as e:  # readability-lxml on markup it cannot take: trafilatura's candidates remain
        readability, link_density, meta["readability_error"] = "", 1.0, f"{type(e).__name__}: {e}"[:300]
    if page is None and not readability:  # neither parser takes it
        return {"text": "", "extractor": "none", "error": "unparsable", **meta}
    common = dict(url=url, include_comments=False, deduplicate=False, with_metadata=False)

    unused = [page] if page is not None else []  # the parse metadata was read from, for the first call

    def trafilatura_text(**mode) -> str:  # extract() prunes the tree it is given: one parse a call
        fresh = unused.pop() if unused else (load_html(html) if tree is not None else _lenient_parse(html))
        return (extract(fresh, **common, **mode) or "") if fresh is not None else ""

    # trafilatura's defaults without its fallback (fast=True): the fallback weighs its own readability port
    # and jusText, and readability-lxml's text is already a candidate here (same or better F1 on all five
    # sets, 5 ms less a page where it runs; docs/benchmarks.md)
    extractor, text = choose_text(
        readability, lambda: timed("trafilatura (when needed)", trafilatura_text, fast=True),
        lambda: timed("trafilatura precision (when needed)", trafilatura_text, favor_precision=True), link_density)
    evidence = meta.pop("_headline", None)
    meta["title"] = _page_meta.headline(evidence, text)
    if not meta.get("author"):
        meta["author"] = _page_meta.byline(evidence, meta["title"])
    return {"text": text, "extractor": extractor if text else "none",
            "translation_proxy": timed("translation-proxy scan", translation_proxy, html), **meta}
