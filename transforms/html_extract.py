"""HTML to article text and metadata (runs inside the sandbox).

Three extractors that each win some kinds of page and lose others
(docs/benchmarks.md: trafilatura's defaults, its precision mode and
readability-lxml each come first on some of the five extraction sets), and a
choice between them on signals of the texts themselves, fitted to no set:

1. trafilatura (defaults, no comments) and readability-lxml both run. When
   each holds at least ``AGREE`` of the other's word 4-grams and the text is
   not a stub, they found the same article: trafilatura's text is kept
   (``extractor`` = ``trafilatura``). 83% of the 980 dev pages end here.
2. Otherwise trafilatura's precision mode runs too, and readability's text is
   weighed against it: a candidate under ``MIN_WORDS`` words (or a table of
   pipes: navigation laid out in cells) loses to one that is not; when one
   text holds the other, the larger wins only if what it adds reads as prose
   (long lines that end a sentence), else the smaller; when they disagree,
   readability's. When every candidate is a stub, the longest is kept, so a
   page with an article is never given up because the first pass missed it.

Metadata comes from one parse of the page (trafilatura's meta readers,
htmldate). Comments are never included and trafilatura's ``deduplicate``
stays off: it keeps a module-global cache, so results would depend on which
pages a worker saw before.
"""
from __future__ import annotations

import re
from typing import Any

__all__ = ["extract_html", "choose_text", "readability_text", "AGREE", "MIN_WORDS"]

AGREE = 0.8  # share of each other's word 4-grams two texts hold when they are the same article
MIN_WORDS = 30  # below this a candidate is a stub (a teaser, a caption, a menu)
CONTAINS = 0.9  # one text holds the other when it has this share of the other's 4-grams
PROSE = 0.6  # share of added words in sentence lines for what a larger text adds to count as article
_WORD = re.compile(r"\w+")
_SENTENCE_END = tuple('.!?"\'”»)…:')
_BLOCKS = ("p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "table", "ul", "ol",
           "section", "article", "figcaption", "dd", "dt")
# Translation-proxy markers (transforms.mtevidence) are found with str.find:
# a regex with a leading [\w.-]* was quadratic on base64 images.
_PROXY_CONTEXT = re.compile(r"[^\s\"'<>]{0,60}$")


def _first(tree, xpath: str) -> str | None:
    for v in tree.xpath(xpath):
        v = (v if isinstance(v, str) else v.text or "").strip()
        if v:
            return v[:2000]
    return None


def _declared_language(tree) -> str | None:
    lang = (
        _first(tree, "/html/@lang")
        or _first(tree, "/html/@xml:lang")
        or _first(tree, "//meta[@property='og:locale']/@content")
        or _first(tree, "//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')='content-language']/@content")
    )
    if not lang:
        return None
    code = lang.replace("_", "-").split(",")[0].strip().lower()
    return code[:35] or None


def _metadata(tree, url: str | None) -> dict[str, Any]:
    from htmldate import find_date
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title, extract_url

    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    try:
        meta = extract_meta_json(tree, meta)
    except Exception:  # trafilatura's JSON-LD parser has known bugs; the tags are enough
        pass
    title = meta.title or extract_title(tree)
    # trafilatura's extract_author() searches the whole DOM (~5 ms a page, a
    # third of the extraction); the meta tags and JSON-LD read above carry
    # the author on most news sites, so the DOM search is left out.
    author = meta.author
    page_url = meta.url or extract_url(tree, url)
    try:
        date = find_date(tree, url=page_url or url, extensive_search=False, original_date=True)
    except Exception:  # htmldate on hostile markup; a missing date is not a failure
        date = None
    sitename = meta.sitename or extract_sitename(tree)
    canonical = _first(tree, "//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href") or _first(
        tree, "//meta[@property='og:url']/@content")
    return {
        "title": title,
        "author": author,
        "publisher": sitename.lstrip("@") if sitename else None,
        "description": meta.description,
        "published": date,
        "page_url": page_url,
        "canonical": canonical,
        "declared_language": _declared_language(tree),
    }


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


def readability_text(html: str) -> str:
    """readability-lxml's article, one line per block element."""
    import lxml.html
    from readability import Document

    summary = Document(html).summary(html_partial=True)
    if not summary.strip():
        return ""
    tree = lxml.html.fromstring(summary)
    for el in tree.iter("br", *_BLOCKS):  # a line break after every block, as the other extractors write
        el.tail = "\n" + (el.tail or "")
    lines = (" ".join(line.split()) for line in tree.text_content().split("\n"))
    return "\n".join(line for line in lines if line)


def _shingles(text: str) -> set:
    toks = _WORD.findall(text.lower())
    return {tuple(toks[i:i + 4]) for i in range(max(1, len(toks) - 3))} if toks else set()


def _words(text: str) -> int:
    """Words of a candidate; 0 for a table of pipes (navigation laid out in cells)."""
    n = len(_WORD.findall(text))
    return 0 if n and text.count("|") > 0.2 * n else n


def _holds(a: set, b: set) -> float:
    """Share of ``b``'s 4-grams that ``a`` holds."""
    return len(a & b) / len(b) if b else 0.0


def _added_is_prose(larger: str, smaller: str) -> bool:
    """Do the lines ``larger`` adds to ``smaller`` read as article text?"""
    have = _shingles(smaller)
    added = [line.strip() for line in larger.split("\n") if line.strip()]
    added = [line for line in added if _holds(have, _shingles(line)) < 0.5]
    total = sum(len(_WORD.findall(line)) for line in added)
    prose = sum(n for line in added if (n := len(_WORD.findall(line))) >= 8 and line.endswith(_SENTENCE_END))
    return total > 0 and prose >= PROSE * total


def choose_text(default: str, readability: str, precision=None) -> tuple[str, str]:
    """(extractor, text) chosen among trafilatura's default text, readability's
    and, called lazily only when the first two disagree, trafilatura's
    precision text (``precision`` is a function returning it)."""
    sd, sr = _shingles(default), _shingles(readability)
    if _words(default) >= MIN_WORDS and _holds(sd, sr) >= AGREE and _holds(sr, sd) >= AGREE:
        return "trafilatura", default
    prec = (precision() if precision else "") or ""
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
        return ("readability", readability) if _added_is_prose(readability, prec) else \
            ("trafilatura-precision", prec)
    if p_holds_r >= CONTAINS > r_holds_p:
        return ("trafilatura-precision", prec) if _added_is_prose(prec, readability) else \
            ("readability", readability)
    return "readability", readability


def extract_html(html: str, url: str | None = None) -> dict[str, Any]:
    """Article text and metadata of one page.

    Returns ``{"text": str, "extractor": str, **metadata}``; ``text`` is empty
    when the page holds no article.
    """
    from trafilatura import extract
    from trafilatura.utils import load_html

    tree = load_html(html)
    common = dict(url=url, include_comments=False, deduplicate=False, with_metadata=False)
    if tree is not None:
        meta = _metadata(tree, url)
        default = extract(tree, **common) or ""  # prunes the tree in place: metadata was read first
    else:  # trafilatura cannot parse it; readability-lxml's own parser may
        meta, default = {"declared_language": None}, ""
    try:
        readability = readability_text(html)
    except Exception as e:  # readability-lxml on markup it cannot take: the other candidates remain
        readability, meta["readability_error"] = "", f"{type(e).__name__}: {e}"[:300]
    if tree is None and not readability:
        return {"text": "", "extractor": "none", "error": "unparsable", **meta}

    def precision() -> str:
        fresh = load_html(html)
        return (extract(fresh, favor_precision=True, **common) or "") if fresh is not None else ""

    extractor, text = choose_text(default, readability, precision)
    return {"text": text, "extractor": extractor if text else "none", "translation_proxy": translation_proxy(html),
            **meta}
