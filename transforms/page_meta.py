"""What analysts group by: a page's headline, authors, outlet, site and date.

Runs in the extraction sandbox on the parse trafilatura also uses, before
trafilatura prunes it (``read_page``), and once the article text is known
(``headline``), because the heading that opens the article is the one right
before its first line.

- **Headline.** The page states it several times: JSON-LD ``headline``,
  ``og:title``, ``<title>`` with the site and section around it, and a heading
  in the body (``h1``-``h4``, ``itemprop=headline``, an element of class
  "headline"/"title", a large ``<font>``: older table-layout pages). Each
  heading of the body is scored on general signals: it agrees with a
  meta title (whole, or a run of its parts split at `` | ``, `` - ``, ``: ``),
  it is the article's first line, it comes right before the article's first
  line, how prominent its tag is; a heading that is the site's name (the
  logo's ``h1``) or comes after the article started (a subhead) loses. With
  no heading that passes, the meta titles are used with the parts that name
  the site removed.
- **Authors.** People only: bylines from JSON-LD, ``meta name=author``,
  ``rel=author``; "By" and dates stripped; entries that are job titles,
  departments, the outlet or the site dropped; several joined with ``; ``.
- **Publisher.** The outlet's name (JSON-LD ``publisher.name``,
  ``og:site_name``, ``application-name``), never a copyright line or a URL.
- **Site.** The registered domain of the canonical URL or URL, from the
  public suffix list that ``publicsuffixlist`` ships (no network).

Every text is HTML-entity decoded (``unescape``): sites double-encode
(``&amp;copy;``) and JSONL records carry entities.
"""
from __future__ import annotations

import functools
import html as html_lib
import ipaddress
import itertools
import re
import unicodedata
from typing import Any
from urllib.parse import urljoin, urlsplit

__all__ = ["read_page", "headline", "byline", "clean_authors", "clean_publisher", "site_of", "unescape", "decode_entities",
           "same_text"]

_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Separators of a browser title: "Headline | Section | Site", "Site - Headline".
_CJK_CHARS = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uff00-\uffef"
# Chinese, Japanese and Korean titles put the site after a separator with no spaces ("...需求-新华网")
_STRONG_SEP = re.compile(r"\s+(?:[|\-–—~·•»«/]{1,2})\s+|\s*(?:::|\|)\s*"
                         rf"|(?<=[{_CJK_CHARS}])\s*[\-_–—｜＿－]{{1,2}}\s*(?=[{_CJK_CHARS}])")
_COLON_SEP = re.compile(r"\s*:\s+")
_HEADING_TAGS = {"h1": 3, "h2": 2, "h3": 1, "h4": 0}
_BIG_FONT = {"+2", "+3", "+4", "4", "5", "6", "7"}
_NO_HEADINGS = frozenset({"script", "style", "noscript", "template", "head", "title", "option", "select"})
_CLASS_HEADING_TAGS = frozenset({"div", "span", "td", "p", "a", "strong", "b", "header"})  # headline by class or id
_CLASS_HEADLINE = re.compile(r"headline|(?<!sub)(?<!site)(?<!page)title|heading", re.I)
_MAX_WORDS = 40
_MAX_PARTS = 8  # of a browser title
_MAX_ELEMENTS = 30_000  # of a page, looked at for headings and where the article starts
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])(?=\s|$)")
_DATE_AROUND = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\s+|\s+\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}$")
_PERMALINK = re.compile(r"\s*(?:¶|#|§|Permalink|permalink)$")
_SENTENCE_END = tuple('.!?"\'”…。！？」')
_BYLINE_PREFIX = re.compile(r"^(?:[\w-]+\s+){0,2}by\s*[:\-]?\s+", re.I)  # "By", "Analysis by", "Posted by"
# Where a byline's name ends: a date, "Published ...", profile links ("View Profile", "Email").
# Every branch starts where a run of spaces starts ((?<!\s)): tried at each space of a long run, "\s+" makes
# the search quadratic (32,000 spaces: 97 s). clean_authors collapses spaces first, so no input reaches that
# today; the pattern is linear so that no later caller can.
_BYLINE_TAIL = re.compile(r"(?<!\s)(?:\s+(?:on|at)\s+(?:[A-Za-z]+\.?,?\s+){0,3}\d|\s+on\s+(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|"
                          r"mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|\s+\d{1,2}[/.]\d{1,2}[/.]\d|\s+\|\s+|\s+(?:published|"
                          r"updated|posted|last updated|view profile|view all|email|follow|twitter|facebook|rss|more by|read more)\b)",
                          re.I)
# A byline in the page's text: "By Jane Doe", "Posted by", "Written by", and the same in other languages.
_BYLINE_LINE = re.compile(r"^\s*(?:(?:posted|written|reported|words|text|story)\s+)?(?:by|von|par|por|di|door|av)\s*:?\s+"
                          r"(?P<rest>\S.{2,100})$", re.I | re.S)
_BYLINE_WORD = re.compile(r"^\s*(?:(?:posted|written|reported)\s+)?(?:by|von|par|por|di|door|av)\s*:?\s*$", re.I)
_PARENS = re.compile(r"\s*\([^)]*(?:\)|$)")  # "Jason Hart (Diary)", "Martin Untersinger (avec Damien"
# A name does not go on past a spaced dash ("PMJS - Coordenadoria de TI", "Jane Doe – Staff Writer") or a
# full stop after a word past the first ("Finian Cunningham. Sputnik International"); an initial's stop
# ("Dana A. Ford", "S.A."), "Jr." and a title's ("Gen. Mark Milley") stay.
_DASHES = (" - ", " – ", " — ")
_NAME_STOP = re.compile(r"(?<=[^\W\d_]{3})\.\s")
_PARTICLES = frozenset("de da das do dos van von der den del della di du le la bin ibn al el y e zu ter ten mac".split())
# A copyright line: the sign, the word, a year (in Roman numerals too: "MMVIII").
_COPYRIGHT = re.compile(r"©|\(c\)|copyright|all rights reserved|\b(?:19|20)\d\d\b|(?-i:\bM[MC][MDCLXVI]*\b)", re.I)
# Words that make a byline entry a role, a desk or an organisation, not a person.
_NOT_A_PERSON = frozenset("""
editor editors editorial staff writer writers reporter reporters correspondent correspondents contributor
contributors columnist desk team newsroom news service services agency agencies wire press media department
dept office bureau coordinator manager director marketing design designer interactive communications
relations spokesman spokeswoman spokesperson producer production photographer photography admin administrator
webmaster guest anonymous unknown associated reuters afp ap upi dpa efe ansa bbc cnn inc ltd llc corp
corporation company group network online digital magazine newspaper times post daily weekly journal herald
tribune gazette channel tv radio publishing publisher publications foundation institute university
committee council association society blog website site homepage chief senior head lead president executive
officer analyst strategist specialist consultant intern host anchor presenter critic reviewer assistant associate
deputy managing chairman ceo cfo founder sports business politics opinion entertainment lifestyle weather
""".split())
_HONORIFIC = re.compile(r"^(?:dr|prof|professor|mr|mrs|ms|mx|sir|dame|rev|hon)\.?\s+", re.I)


def unescape(value: str | None) -> str | None:
    """``value`` with HTML entities decoded (``decode_entities``), whitespace
    collapsed; None for None or blank."""
    if value is None:
        return None
    return _SPACE.sub(" ", decode_entities(value)).strip() or None


def decode_entities(text: str) -> str:
    """``text`` with HTML entities (``&amp;``, ``&#8217;``) decoded, line
    breaks and spacing kept; a bare ``&`` is left as it is."""
    if "&" not in text or ";" not in text:
        return text
    for _ in range(2):
        text = _ENTITY.sub(lambda m: html_lib.unescape(m.group(0)), text)
    return text


def _norm(value: str) -> str:
    """Case, punctuation and spacing aside."""
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()


def same_text(a: str | None, b: str | None) -> bool:
    """Two headlines read the same, case and punctuation aside (a text of
    punctuation alone reads as nothing)."""
    if not a or not b:
        return False
    na = _norm(a)
    return bool(na) and na == _norm(b)


@functools.lru_cache(maxsize=1)
def _psl():
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def site_of(url: str | None) -> str | None:
    """Registered domain of ``url`` (``news.bbc.co.uk`` -> ``bbc.co.uk``); the
    address itself for an IP; None when there is no host."""
    if not url:
        return None
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return _psl().privatesuffix(host) or host


def _site_words(site: str | None) -> tuple[str, str]:
    """The name of a site, without and with its suffix (``theguardian.com`` ->
    ``theguardian``, ``theguardiancom``)."""
    if not site:
        return "", ""
    return _norm(site.split(".")[0]).replace(" ", ""), _norm(site).replace(" ", "")


def _is_site_name(value: str, names: set[str], site_words: tuple[str, str]) -> bool:
    """``value`` names the outlet: its publisher name, or the site's name with
    at most a short word around it ("CNET News", "Skepchick.se")."""
    n = _norm(value)
    if not n:
        return True
    if n in names:
        return True
    squashed = n.replace(" ", "")
    word, full = site_words
    if not word:
        return False
    return squashed in (word, full) or (len(word) >= 4 and (
        squashed.startswith(word) and len(squashed) - len(word) <= 6
        or squashed.endswith(word) and len(squashed) - len(word) <= 4))


def clean_publisher(value: str | None) -> str | None:
    """The outlet's name, or None for a copyright line, a URL or a blank."""
    value = unescape(value)
    if not value:
        return None
    value = value.lstrip("@").strip()
    for sep in (" | ", *_DASHES):  # the name before a tagline: "LinkNaija | Nigeria's popular news platform"
        head = value.split(sep, 1)[0].strip()
        if len(head) >= 2:
            value = head
    if not value or _COPYRIGHT.search(value) or "://" in value or len(value) > 80 or len(value.split()) > 8:
        return None
    return value


def _person(entry: str, outlets: set[str], site_words: tuple[str, str]) -> str | None:
    entry = _PARENS.sub("", _BYLINE_PREFIX.sub("", entry.strip(" ,.;:-|/\u00a0"))).strip(" ,.;:-|/")
    entry = _BYLINE_TAIL.split(entry, maxsplit=1)[0].strip(" ,.;:-|")
    entry = _HONORIFIC.sub("", entry)
    for dash in _DASHES:
        entry = entry.split(dash, 1)[0]
    stop = next((m for m in _NAME_STOP.finditer(entry) if " " in entry[:m.start()]), None)  # not a title's
    entry = (entry[:stop.start()] if stop else entry).strip(" ,.;:-|")
    if not entry or len(entry) > 60 or "@" in entry or "://" in entry or re.search(r"\d", entry):
        return None
    words = entry.split()
    for i in range(1, len(words)):  # "Kevin McCoy USA TODAY": the outlet in capitals after the name
        if len(words[i]) >= 2 and words[i].isalpha() and words[i].isupper() and not words[0].isupper():
            words = words[:i]
            entry = " ".join(words)
            break
    if not 2 <= len(words) <= 5 and not (len(words) == 1 and _is_cjk_name(entry)):
        return None
    if words[0].lower() in ("the", "a", "an") or any(_norm(w) in _NOT_A_PERSON for w in words):
        return None
    if any(w[:1].islower() and w not in _PARTICLES for w in words):  # a name's words are capitalised
        return None
    if _is_site_name(entry, outlets, site_words):
        return None
    if all(w.isupper() for w in words if w.isalpha()) and len(entry) > 3:  # "JOHN SMITH" bylines: title-case them
        entry = entry.title()
    return entry


def _is_cjk_name(value: str) -> bool:
    return 2 <= len(value) <= 6 and all("\u3040" <= c <= "\u9fff" or "\uac00" <= c <= "\ud7af" for c in value)


def clean_authors(values, publisher: str | None = None, site: str | None = None) -> str | None:
    """People named in ``values`` (strings, each possibly several names),
    ``; ``-joined in order, each once; None when no entry is a person."""
    outlets = {_norm(p) for p in (publisher,) if p}
    site_words = _site_words(site)
    people: list[str] = []
    for value in values:
        value = unescape(value)
        if not value:
            continue
        for entry in re.split(r"\s*(?:;|\||,|&|\band\b|\bund\b|\bet\b|\by\b|\be\b|/|\n)\s*", value):
            person = _person(entry, outlets, site_words)
            if person and all(_norm(person) != _norm(p) for p in people):
                people.append(person)
    return "; ".join(people[:10]) or None


# -- the page ---------------------------------------------------------------

def _text_of(el, limit: int = 400) -> str | None:
    """Text of an element, a space where a child element (``<br>``, a block)
    begins; None once it passes ``limit`` characters (a heading is short, and
    an element wrapping the page costs no more than that to rule out)."""
    pieces, size = [], 0
    for piece in el.itertext():
        size += len(piece)
        if size > 4 * limit:
            return None
        pieces.append(piece)
    text = _SPACE.sub(" ", " ".join(pieces)).strip()
    if len(text) > limit:
        return None
    text = _DATE_AROUND.sub("", _SPACE_BEFORE_PUNCT.sub(r"\1", text))
    return _PERMALINK.sub("", text).strip()


_HOME = re.compile(r"/|\./|index\.html|https?://[^/]+/?")


def _links_home(a) -> bool:
    return _HOME.fullmatch((a.get("href") or "").strip()) is not None


def _headings(tree) -> tuple[list[dict], list[tuple[int, str]]]:
    """Heading candidates of the body in document order, and the page's text
    fragments with their order (to find where the article starts)."""
    heads: list[dict] = []
    fragments: list[tuple[int, str]] = []
    heading_rank = _HEADING_TAGS.get
    for i, el in enumerate(tree.iter()):
        if i >= _MAX_ELEMENTS:  # the headline is well before this on any page; a hostile one stops here
            break
        tag = el.tag
        if not isinstance(tag, str):  # a comment or processing instruction
            tag = ""
        elif tag in _NO_HEADINGS:
            continue
        text = el.text
        if text and not text.isspace():
            fragments.append((i, text))
        tail = el.tail
        if tail and not tail.isspace():
            fragments.append((i, tail))
        rank = heading_rank(tag)
        get = el.get
        if get("itemprop") == "headline":
            rank = 3
        elif rank is None and tag == "font" and (get("size") or "").strip() in _BIG_FONT:
            rank = 1
        elif rank is None and tag in _CLASS_HEADING_TAGS and _CLASS_HEADLINE.search(
                f"{get('class') or ''} {get('id') or ''}"):
            rank = 2
        if rank is None:
            continue
        text = _text_of(el)
        if not text or len(text.split()) > _MAX_WORDS:
            continue
        # the site's logo: a heading inside, or holding, a link to the home page
        parent_link = next(el.iterancestors("a"), None)
        logo = any(_links_home(a) for a in ([parent_link] if parent_link is not None else []) + list(el.iter("a")))
        heads.append({"order": i, "text": text, "rank": rank, "logo": logo})
        if len(heads) >= 200:
            break
    return heads, fragments


def _json_ld(tree, tags: _PageTags | None = None) -> dict[str, list[str]]:
    """headline, author and publisher names and datePublished of the page's
    JSON-LD (any depth, @graph included); a script that does not parse is
    skipped."""
    import json

    found: dict[str, list[str]] = {"headline": [], "author": [], "publisher": [], "datePublished": []}

    def names(v) -> list[str]:
        if isinstance(v, str):
            return [v]
        if isinstance(v, dict):
            n = v.get("name")
            return [n] if isinstance(n, str) else []
        if isinstance(v, list):
            return [x for item in v[:20] for x in names(item)]
        return []

    def walk(node, depth=0):
        if depth > 6:
            return
        if isinstance(node, list):
            for item in node[:50]:
                walk(item, depth + 1)
        elif isinstance(node, dict):
            kind = node.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            article = any(isinstance(k, str) and ("Article" in k or k in ("BlogPosting", "Report", "WebPage"))
                          for k in kinds)
            if article:
                if isinstance(node.get("headline"), str):
                    found["headline"].append(node["headline"])
                found["author"].extend(names(node.get("author")))
                found["publisher"].extend(names(node.get("publisher")))
                if isinstance(node.get("datePublished"), str):
                    found["datePublished"].append(node["datePublished"])
            for key in ("@graph", "mainEntity", "mainEntityOfPage", "itemListElement"):
                if key in node:
                    walk(node[key], depth + 1)

    scripts = (el for el in (tags or _PageTags(tree)).of["script"] if el.get("type") == "application/ld+json")
    for script in list(itertools.islice(scripts, 10)):
        body = (script.text or "").strip()
        if not body or len(body) > 500_000:
            continue
        try:
            walk(json.loads(body))
        except (ValueError, RecursionError):  # not JSON, or nested past Python's stack: no metadata, the page stays
            continue
    return found


_BYLINE_XPATH = ("//*[@itemprop='author']",
                 "//*[contains(@class, 'byline') or contains(@class, 'author-name') or @rel='author']")


# The meta tags that name a page's authors (trafilatura reads the same ones,
# then normalises what they say: "Dana A. Ford, James S.A. Corey" becomes
# "Dana A Ford; James S A Corey", so their content is read here as written).
_AUTHOR_METAS = frozenset({
    "author", "authors", "article:author", "og:author", "og:article:author", "byl", "citation_author", "creator",
    "dc.creator", "dc:creator", "dc.creator.aut", "dcterms.creator", "dcterms.creator.aut", "dcsext.author",
    "parsely-author", "sailthru.author", "rbauthors", "atc-metaauthor", "shareaholic:article_author_name"})


def _meta_authors(metas) -> list[str]:
    """The contents of the page's author meta tags, as written, in page order
    (``metas()``: the page's ``<meta content>`` elements, read once for every
    reader here)."""
    found = []
    for el in metas():
        key = (el.get("name") or el.get("property") or "").strip().lower()
        if key in _AUTHOR_METAS:
            value = unescape(el.get("content"))
            if value:
                found.append(value[:400])
                if len(found) == 10:
                    break
    return found


def _bylines(tree, ld: dict, meta_author: str | None, metas):
    """Where a page names its authors, most reliable first: JSON-LD, the
    author meta tags (as written; then as trafilatura read them),
    ``itemprop=author``, then the visible byline (an element of class
    "byline" or "author-name", ``rel=author``)."""
    yield ld["author"]
    yield _meta_authors(metas)
    yield [meta_author] if meta_author else []
    for xpath in _BYLINE_XPATH:  # one element at a time: a sidebar's bylines name other articles' authors
        for el in tree.xpath(xpath)[:5]:
            name = el.get("content") or _text_of(el, limit=120)
            if name:
                yield [name]


def byline(evidence: dict | None, title: str | None) -> str | None:
    """The people a "By Jane Doe" line right under the headline names (a
    page with no author markup), or None."""
    if not evidence or not title:
        return None
    order = next((h["order"] for h in evidence["heads"] if h["text"] == title), None)
    if order is None:
        return None
    after = [text for o, text in evidence["fragments"] if order < o <= order + 60][:15]
    for i, text in enumerate(after):
        if _BYLINE_WORD.match(text) and i + 1 < len(after):  # "by <a>Jane Doe</a>"
            text = f"by {after[i + 1]}"
        m = _BYLINE_LINE.match(text)
        if m:
            return clean_authors([m.group("rest")], None, evidence["site"])
    return None


def _attr(tree, xpath: str) -> str | None:
    return _first(tree.xpath(xpath))


def _first(values) -> str | None:
    """The first of ``values`` (strings, or elements read as their text) that
    is not blank once unescaped, cut to 2,000 characters."""
    for v in values:
        v = unescape(v if isinstance(v, str) else v.text_content())
        if v:
            return v[:2000]
    return None


_PAGE_TAGS = ("meta", "link", "title", "base", "script")
_MAX_PAGE_TAGS = 100_000  # of a page, looked at for its meta tags; a hostile one stops here
_FOLD_REL = str.maketrans("CANONICAL", "canonical")  # XPath's translate(@rel, 'CANONICAL', 'canonical')
_FOLD_HTTP_EQUIV = str.maketrans("CONTENT-LANGUAGE", "content-language")


class _PageTags:
    """A page's ``<meta>``, ``<link>``, ``<title>``, ``<base>`` and ``<script>``
    elements in document order, found in one pass (lxml's own iteration) for
    every reader here, rather than by an XPath search of the whole page for
    each tag asked for, about ten a page (``read_page``: 3.6 -> 3.2 ms a page
    over the 980 pages, the same results). ``values`` answers what
    ``//tag[@key='value']/@attr`` does (a test holds it to the XPath)."""

    def __init__(self, tree):
        self.of: dict[str, list] = {tag: [] for tag in _PAGE_TAGS}
        # "//" searches the whole document, whatever element ``tree`` is, and a broken page can leave elements
        # beside its root ("<p>a</p></html><meta ...>", two xmlns on <html>): every top-level element, in order
        root = tree.getroottree().getroot()
        tops = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
        found = itertools.chain.from_iterable(top.iter(*_PAGE_TAGS) for top in tops if isinstance(top.tag, str))
        for el in itertools.islice(found, _MAX_PAGE_TAGS):
            self.of[el.tag].append(el)

    def values(self, tag: str, attr: str, key: str | None = None, value: str | None = None, fold=None):
        """``attr`` of each ``tag`` element whose ``key`` is ``value`` (after
        ``str.translate(fold)``), in document order."""
        for el in self.of[tag]:
            if key is not None:
                got = el.get(key)
                if got is None or (got.translate(fold) if fold else got) != value:
                    continue
            v = el.get(attr)
            if v is not None:
                yield v

    def meta(self, key: str, value: str) -> str | None:
        return _first(self.values("meta", "content", key, value))


def _declared_language(tree, tags: _PageTags | None = None) -> str | None:
    """What the page says its language is (``<html lang>``, og:locale, the
    Content-Language header in a meta tag), as a lower-case tag."""
    tags = tags or _PageTags(tree)
    lang = (_attr(tree, "/html/@lang") or _attr(tree, "/html/@xml:lang")
            or tags.meta("property", "og:locale")
            or _first(tags.values("meta", "content", "http-equiv", "content-language", _FOLD_HTTP_EQUIV)))
    if not lang:
        return None
    code = lang.replace("_", "-").split(",")[0].strip().lower()
    return code[:35] or None


# Where a page states when it was published, to the second: JSON-LD's
# datePublished first, then these meta tags and ``itemprop=datePublished``.
_PUBLISHED_METAS = frozenset({"article:published_time", "og:article:published_time", "og:published_time",
                              "datepublished", "pubdate", "publishdate", "publish-date", "publish_date",
                              "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued"})
# a time of day with its offset (or Z): a time without one is the site's local time, which is not known
_ZONED_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$")


def _published_time(tree, ld: dict, date: str | None, metas) -> str | None:
    """The publication time the page states with its time of day and zone
    (``2023-11-07T02:00:00-05:00``), when its day is ``date``, the day
    htmldate found (in the stated zone or in UTC); else None, and ``date``
    stands alone. htmldate gives days only."""
    if not date:
        return None
    import datetime as dt

    found = list(ld.get("datePublished", ()))[:5]
    for el in metas():
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        if key in _PUBLISHED_METAS:
            found.append(el.get("content"))
    for el in tree.xpath("//*[@itemprop='datePublished']")[:3]:
        found.append(el.get("content") or el.get("datetime"))
    for value in found:
        value = (value or "").strip()[:40]
        if not _ZONED_TIME.match(value):
            continue
        try:
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
            day_utc = t.astimezone(dt.timezone.utc).date().isoformat()
        except (ValueError, OverflowError):
            continue
        if date in (value[:10], day_utc):
            return t.isoformat()
    return None


def read_page(tree, url: str | None) -> dict[str, Any]:
    """What the page states of itself, read before extraction prunes the tree.

    Returns the article columns that need no article text (``author``,
    ``publisher``, ``description``, ``published``, ``page_url``,
    ``canonical``, ``declared_language``) and ``_headline``, the evidence
    ``headline()`` weighs.
    """
    from htmldate import find_date
    from trafilatura.metadata import examine_meta, extract_url

    meta = examine_meta(tree)
    tags = _PageTags(tree)
    ld = _json_ld(tree, tags)
    canonical = (_first(tags.values("link", "href", "rel", "canonical", _FOLD_REL))
                 or tags.meta("property", "og:url"))
    if canonical and "://" not in canonical:  # relative: against the page's <base href>, as a browser resolves it
        base = _first(tags.values("base", "href"))
        if base and "://" in base:
            try:
                canonical = urljoin(base.strip(), canonical.strip())
            except ValueError:  # a base urljoin cannot read ("http://[::1"): resolved against the page's URL
                pass
    page_url = meta.url or extract_url(tree, url)
    site = site_of(canonical if canonical and "://" in canonical else page_url or url)
    publisher = None
    # the outlet's own name before trafilatura's sitename, which can be a twitter:site handle ("@AndroidPolice")
    # where og:site_name says "Android Police"; a handle is the last resort
    handle = meta.sitename if meta.sitename and meta.sitename.lstrip().startswith("@") else None
    for cand in (*ld["publisher"], tags.meta("property", "og:site_name"),
                 None if handle else meta.sitename, tags.meta("name", "application-name"), handle):
        publisher = clean_publisher(cand)
        if publisher:
            break
    author = None
    # the page's <meta content> elements, read once (when a reader below needs them) for all of them
    metas = functools.cache(lambda: [el for el in tags.of["meta"] if el.get("content") is not None][:400])
    for source in _bylines(tree, ld, meta.author, metas):  # the first source that names a person
        author = clean_authors(source, publisher, site)
        if author:
            break
    try:
        date = find_date(tree, url=page_url or url, extensive_search=False, original_date=True)
    except Exception:  # htmldate on hostile markup; a missing date is not a failure
        date = None
    date = _published_time(tree, ld, date, metas) or date
    heads, fragments = _headings(tree)
    titles = [t for t in (*(unescape(h) for h in ld["headline"][:1]),
                          tags.meta("property", "og:title"), tags.meta("name", "twitter:title"),
                          _first(tags.of["title"])) if t]
    return {
        "author": author,
        "publisher": publisher,
        "description": unescape(meta.description),
        "published": date,
        "page_url": page_url,
        "canonical": canonical,
        "declared_language": _declared_language(tree, tags),
        "_headline": {"titles": titles, "heads": heads, "fragments": fragments,
                      "names": sorted({_norm(n) for n in (publisher, meta.sitename) if n}), "site": site},
    }


def _runs(title: str) -> list[str]:
    """A browser title and every run of its parts split at the strong
    separators, in a fixed order: "A | B | C" -> A | B | C, A, A | B, ..., C."""
    parts, seps = [], []
    pos = 0
    for m in _STRONG_SEP.finditer(title):
        parts.append(title[pos:m.start()])
        seps.append(m.group(0))
        pos = m.end()
    parts.append(title[pos:])
    parts, seps = parts[:_MAX_PARTS], seps[:_MAX_PARTS - 1]  # runs grow as the square of the parts
    spans = [title]
    for i in range(len(parts)):
        for j in range(i, len(parts)):
            spans.append("".join(p + (seps[k] if k < j else "") for k, p in enumerate(parts[i:j + 1], start=i)))
    return [s for s in dict.fromkeys(s.strip() for s in spans) if s]


def _colon_pieces(run: str) -> list[str]:
    """"Site: Headline" -> Site, Headline (a run with one ": " in it)."""
    pieces = _COLON_SEP.split(run)
    return [p.strip() for p in pieces if p.strip()] if len(pieces) == 2 else []


def _article_start(fragments: list[tuple[int, str]], text: str) -> tuple[int | None, list[str]]:
    """Document order of the article's first sentence in the page (the
    first line of 8+ words that ends a sentence: menus and taglines an
    extractor kept do not count), and the article's first lines (normalised)."""
    raw = [line.strip() for line in text.split("\n")[:12] if line.strip()]
    lines = [_norm(line) for line in raw[:3]]
    probes = [_norm(line)[:40] for line in raw
              if len(line.split()) >= 25 or len(line.split()) >= 8 and line.endswith(_SENTENCE_END)][:2]
    if not probes:
        return None, lines
    for order, frag in fragments:
        n = _norm(frag)
        if len(n) < 12:
            continue
        for probe in probes:
            if probe.startswith(n[:40]) or n.startswith(probe):
                return order, lines
    return None, lines


def _strip_site(title: str, names: set[str], site_words: tuple[str, str]) -> str:
    """The headline part of a browser title: the parts that name the site
    (or "Site: Headline") removed, then the longest part left."""
    parts = [p.strip() for p in _STRONG_SEP.split(title) if p and p.strip()]
    kept = [p for p in parts if not _is_site_name(p, names, site_words)] or parts
    if len(kept) > 1:
        kept = [max(kept, key=lambda p: len(p.split()))]
    best = kept[0]
    pieces = _COLON_SEP.split(best, maxsplit=1)
    if len(pieces) == 2 and _is_site_name(pieces[0], names, site_words):
        best = pieces[1]
    return best


def headline(evidence: dict | None, text: str) -> str | None:
    """The article's headline, weighed from ``read_page``'s evidence and the
    article ``text`` (see the module docstring)."""
    if not evidence:
        return None
    titles, heads = evidence["titles"], evidence["heads"]
    names, site_words = set(evidence["names"]), _site_words(evidence["site"])
    full = {_norm(t) for t in titles}
    strong = [r for t in titles for r in _runs(t)]  # each title split once, in a fixed order
    runs = {_norm(x) for r in strong for x in (r, *_colon_pieces(r))} - {""}
    title_text = " ".join(full)
    start, first_lines = _article_start(evidence["fragments"], text)
    before = [h for h in heads if start is not None and h["order"] <= start]
    nearest = before[-1]["order"] if before else None
    best, best_score = None, 2.0 if titles else 1.0  # with no title to agree with, the page's heading is all
    originals = {}
    for r in strong:  # the first spelling of each, in the titles' order: ties break the same way in every process
        if len(_norm(r).split()) >= 4:
            originals.setdefault(_norm(r), r)
    for h in heads:
        n = _norm(h["text"])
        if not n or h["logo"] or _is_site_name(h["text"], names, site_words):
            continue
        for f, original in originals.items() if n not in runs else ():
            if f == n or f not in n:
                continue
            kicker, dateline = n.split(f, 1)
            if (not dateline and len(kicker.split()) <= 3  # a kicker ahead of the headline: "Sidelines Madden ..."
                    or not kicker and len(dateline.split()) <= 12 and re.search(r"\d", dateline)):  # a dateline after
                h, n = {**h, "text": original}, f
                break
        words = len(n.split())
        score = h["rank"] * 0.5
        if n in full:
            score += 6.5
        elif n in runs:
            score += 5.5 if any(f.startswith(n) for f in full) else 5  # the part a title opens with, first
        elif words >= 3 and n in title_text:
            score += 1
        if first_lines and n == first_lines[0]:
            score += 1.5
        elif n in first_lines or words >= 3 and any(line.startswith(n + " ") for line in first_lines):
            score += 1
        if start is not None:
            if h["order"] > start and n not in first_lines:
                score -= 2  # a subhead, a caption, a box beside the article
            elif start - h["order"] <= 60:
                score += 1.25 if h["order"] == nearest else 1
            elif start - h["order"] > 100:
                score -= 1  # the masthead, far above the article
        score += 0.1 * min(words, 10)  # a headline is longer than a site's or a section's name
        if words == 1:
            score -= 1
        if words >= 12 and h["text"].endswith("."):
            score -= 2  # a sentence: the deck or the lead, not the headline
        if score > best_score:
            best, best_score = h["text"], score
    if best:
        return best
    for t in titles:
        cleaned = _strip_site(t, names, site_words)
        if cleaned:
            return cleaned
    return None
