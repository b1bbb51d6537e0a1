"""Feeds, sitemaps and OPML: parse bytes into entries (pure functions, no Beam).

RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 through feedparser; an XML sitemap
(``<urlset>``, Google News sitemaps with ``<news:title>`` and
``<news:publication_date>``: how news sites list their articles for
crawlers) gives an entry per ``<url>``, and a sitemap index the sitemaps it
lists, as an OPML file gives its feeds. A malformed feed that
still yields entries is used, and its problem is returned so the caller can
record it; one that yields nothing raises ``FeedError``. Documents that
declare XML entities are refused before any parser sees them (entity
expansion bombs), as are oversized feeds.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from transforms.encoding import plain_text

__all__ = ["FeedError", "FeedEntry", "ParsedFeed", "parse_feed", "parse_opml", "looks_like_opml",
           "looks_like_sitemap_index", "parse_sitemap", "parse_sitemap_index"]

_ENTITY_DECL = re.compile(rb"<!ENTITY", re.IGNORECASE)
_OPML = re.compile(rb"<opml[\s>]", re.IGNORECASE)
_URLSET = re.compile(rb"<(?:[\w.-]{1,40}:)?urlset[\s>]")
_SITEMAP_INDEX = re.compile(rb"<(?:[\w.-]{1,40}:)?sitemapindex[\s>]")
_LETTER_RUN = re.compile(rb"[a-zA-Z]{64,}")
_CHAR_REF = re.compile(rb"&(?:amp;)?#(?:[xX]([0-9a-fA-F]{1,8})|([0-9]{1,10}));")
CHARDET_BYTES = 256 << 10  # chardet guesses a feed's encoding from its first 256 KB (under 1 s of its probers)


class FeedError(ValueError):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class FeedEntry:
    url: str | None
    title: str | None
    published: str | None  # ISO 8601, UTC
    summary: str | None
    content: str | None  # full content (content:encoded, atom:content) when the feed has it
    author: str | None
    entry_id: str | None


@dataclass
class ParsedFeed:
    title: str | None
    language: str | None
    entries: list[FeedEntry] = field(default_factory=list)
    problem: str | None = None  # what was wrong with a feed that still gave entries


def _iso(parsed) -> str | None:
    if not parsed:
        return None
    try:
        return dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.timezone.utc).isoformat()
    except (OverflowError, ValueError, TypeError):
        return None


def _text(value: Any) -> str | None:
    """A field's text, None when empty; a lone surrogate (a JSON feed's
    ``"\\ud800"``) as U+FFFD, which UTF-8 can carry."""
    return plain_text(value.strip()) or None if isinstance(value, str) else None


def _no_surrogate_refs(data: bytes) -> bytes:
    """Character references to a UTF-16 surrogate (``&#xD800;``, ``&#55296;``,
    or escaped once inside HTML content, ``&amp;#xD800;``) made ``&#xFFFD;``.
    They name no character: feedparser raises ``UnicodeEncodeError`` on the
    whole feed for one of them, where a page's parser shows U+FFFD."""
    if b"&#" not in data and b"&amp;#" not in data:
        return data

    def fix(m: re.Match) -> bytes:
        value = int(m.group(1), 16) if m.group(1) else int(m.group(2))
        return m.group(0).split(b"#")[0] + b"#xFFFD;" if 0xD800 <= value <= 0xDFFF else m.group(0)

    return _CHAR_REF.sub(fix, data)


def _refuse_entities(data: bytes) -> None:
    if _ENTITY_DECL.search(data[: 1 << 20]):
        raise FeedError("xml_entities", "the document declares XML entities (possible entity-expansion bomb)")


def looks_like_opml(data: bytes) -> bool:
    return bool(_OPML.search(data[:4096]))


def looks_like_sitemap_index(data: bytes) -> bool:
    return bool(_SITEMAP_INDEX.search(data[:4096]))


def _xml_root(data: bytes, bad: str = "bad_sitemap"):
    """The root element of an XML document, by a parser that expands no
    entity and reads nothing from the network (``FeedError`` ``bad`` when there is none)."""
    from lxml import etree

    _refuse_entities(data)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=True)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as e:
        raise FeedError(bad, str(e)[:500]) from None
    if root is None:
        raise FeedError(bad, "empty XML document")
    return root


def _children(node, name: str) -> list:
    """``node``'s elements named ``name`` in any namespace (sitemap, news, or none)."""
    return [c for c in node.iterchildren() if isinstance(c.tag, str) and c.tag.rsplit("}", 1)[-1] == name]


def _child_text(node, *path: str) -> str | None:
    for name in path:
        found = _children(node, name)
        if not found:
            return None
        node = found[0]
    return _text((node.text or "").strip())


def _sitemap_date(value: str | None) -> str | None:
    """A sitemap's W3C datetime (``2024-05-01``, ``2024-05-01T10:00:00+02:00``) in UTC, ISO 8601."""
    if not value:
        return None
    from transforms.timeutil import as_utc

    try:
        t = as_utc(dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00")))
    except ValueError:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


def parse_sitemap(data: bytes, base_url: str | None = None) -> ParsedFeed:
    """Entries of an XML sitemap: each ``<url>``'s ``<loc>``, with the title
    and publication time a news sitemap gives (``<news:news>``), else its
    ``<lastmod>`` as the time."""
    root = _xml_root(data)
    entries, seen, language = [], set(), None
    for node in _children(root, "url"):
        loc = _resolved(_child_text(node, "loc"), base_url if _is_web(base_url) else None)
        if not loc or loc in seen:
            continue
        seen.add(loc)
        news = (_children(node, "news") or [None])[0]
        published = _sitemap_date(_child_text(news, "publication_date")) if news is not None else None
        language = language or (_child_text(news, "publication", "language") if news is not None else None)
        entries.append(FeedEntry(
            url=loc, title=_child_text(news, "title") if news is not None else None,
            published=published or _sitemap_date(_child_text(node, "lastmod")), summary=None, content=None,
            author=None, entry_id=loc))
    if not entries:
        raise FeedError("no_entries", "the sitemap lists no <url> with a <loc>")
    return ParsedFeed(title=None, language=language, entries=entries)


def parse_sitemap_index(data: bytes) -> list[str]:
    """The sitemaps (``<sitemap><loc>``) a sitemap index lists, in order, deduplicated."""
    root = _xml_root(data)
    return _listed((_child_text(node, "loc") for node in _children(root, "sitemap")),
                   "the sitemap index lists no <sitemap> with a <loc>")


def _listed(urls, none_listed: str) -> list[str]:
    """The non-empty ``urls`` in order, each once; ``FeedError`` (``no_feeds``) when there is none."""
    out = list(dict.fromkeys(u for u in urls if u))
    if not out:
        raise FeedError("no_feeds", none_listed)
    return out


def _bounded_chardet(data: bytes) -> str:
    """chardet's guess, as feedparser asks it where a feed's declared
    encoding does not fit its bytes, in time linear in the feed.

    chardet's word filter is quadratic in a run of ASCII letters not followed
    by a non-ASCII byte (a feed holding 1.4 MB of one letter took over a
    minute, on the worker, where nothing stops it), and chardet reads every
    byte in Python (1 MB of bytes over 127: 3 s). It is given the first
    ``CHARDET_BYTES``, each run of 64 letters or more cut to 64: no word of
    any language is that long, so its guess on text is the one it makes on
    the whole (the same entries on every feed of ``../shared/data/feeds``)."""
    import chardet

    sample = _LETTER_RUN.sub(lambda m: m.group(0)[:64], data[:CHARDET_BYTES])
    return chardet.detect(sample)["encoding"] or ""


def _install_bounded_chardet() -> None:
    """feedparser 6 asks ``feedparser.encodings.lazy_chardet_encoding``;
    where it has chardet to ask, it asks ``_bounded_chardet`` instead."""
    import feedparser.encodings as enc

    if getattr(enc, "lazy_chardet_encoding", None) not in (None, _bounded_chardet):
        enc.lazy_chardet_encoding = _bounded_chardet


def _is_web(url: str | None) -> bool:
    """Whether ``url`` is an absolute http(s) address with a host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def _resolved(url: str | None, base: str | None) -> str | None:
    """An entry's link made absolute against ``base`` when it has no scheme
    (a path, or ``//host/path``); any other link as it is."""
    from urllib.parse import urljoin, urlsplit

    if not url or not base:
        return url
    try:
        if urlsplit(url).scheme:
            return url
        return urljoin(base, url)
    except ValueError:  # an address urlsplit cannot read ("http://[::1") stays as it is: a bad_url reject later
        return url


_URL_LINE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
URL_LIST_MAX = 100_000  # lines of a URL list read as entries


def parse_url_list(data: bytes) -> ParsedFeed | None:
    """A plain list of article addresses, one a line (blank lines and ``#``
    comments aside), as a user keeps the pages to fetch: an entry per URL, in
    order, each once. None when the bytes are anything else (any line that is
    not one absolute http(s) URL, markup, or not UTF-8)."""
    if data[:4096].lstrip()[:1] in (b"<", b"{", b"["):  # every feed passes here: no copy of a whole one
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    urls = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not _URL_LINE.fullmatch(line):
            return None
        urls.append(line)
        if len(urls) > URL_LIST_MAX:
            raise FeedError("too_many_entries", f"a URL list of more than {URL_LIST_MAX} addresses: split it")
    if not urls:
        return None
    return ParsedFeed(title=None, language=None, entries=[
        FeedEntry(url=u, title=None, published=None, summary=None, content=None, author=None, entry_id=None)
        for u in dict.fromkeys(urls)])


def parse_feed(data: bytes, content_type: str | None = None, base_url: str | None = None) -> ParsedFeed:
    """Entries of an RSS/Atom document, a sitemap, or a plain list of URLs;
    raises FeedError when it yields none."""
    import feedparser

    listed = parse_url_list(data)
    if listed is not None:
        return listed
    if _URLSET.search(data[:4096]):  # a sitemap: each <url> an entry (its parser refuses entities itself)
        return parse_sitemap(data, base_url)
    _refuse_entities(data)
    if looks_like_sitemap_index(data):
        raise FeedError("sitemap_index", "a sitemap index, read from an address: give the sitemaps it lists "
                        "(or save it and give the file: its sitemaps are then read)")
    data = _no_surrogate_refs(data)
    _install_bounded_chardet()
    headers = {"content-type": content_type} if content_type else {}
    if base_url:
        headers["content-location"] = base_url
    try:
        d = feedparser.parse(data, response_headers=headers, sanitize_html=False, resolve_relative_uris=True)
    except Exception as e:  # feedparser is lenient; anything it raises is a broken feed
        raise FeedError("bad_feed", f"{type(e).__name__}: {e}") from None
    problem = None
    exc = d.get("bozo_exception") if d.get("bozo") else None
    # "no Content-type specified": feedparser's note when response headers come without a type (a feed that
    # `newsbeam stream` spooled, given with its URL, or a server that sent none) says nothing of the feed
    if d.get("bozo") and not (content_type is None and type(exc).__name__ == "NonXMLContentType"):
        problem = f"{type(exc).__name__}: {exc}"[:500] if exc else "malformed feed"
    feed = d.get("feed", {})
    # A relative item link ("/news/story-1", "//host/story"): feedparser resolves it against the feed's own
    # address; a saved feed file has none, and then the channel's <link> (the site) is the base a reader uses.
    base = base_url if _is_web(base_url) else _text(feed.get("link"))
    base = base if _is_web(base) else None
    entries = []
    for e in d.get("entries", []):
        content = None
        for c in e.get("content") or []:
            if _text(c.get("value")):
                content = plain_text(c["value"])
                break
        entries.append(FeedEntry(
            url=_resolved(_text(e.get("link")), base),
            title=_text(e.get("title")),
            # dict.get: FeedParserDict.get("updated_parsed") warns about a deprecated fallback mapping
            published=_iso(dict.get(e, "published_parsed") or dict.get(e, "updated_parsed")
                           or dict.get(e, "created_parsed")),
            summary=_text(e.get("summary")),
            content=content,
            author=_text(e.get("author")),
            entry_id=_text(e.get("id")),
        ))
    if not entries:
        raise FeedError("no_entries", problem or "the document is not a feed or has no entries")
    return ParsedFeed(title=_text(feed.get("title")), language=_text(feed.get("language")), entries=entries,
                      problem=problem)


def parse_opml(data: bytes) -> list[str]:
    """Feed URLs (``xmlUrl``) listed in an OPML file, in document order, deduplicated."""
    root = _xml_root(data, "bad_opml")
    return _listed(((node.get("xmlUrl") or node.get("xmlurl") or "").strip() for node in root.iter("outline")),
                   "the OPML file lists no feed (no outline with xmlUrl)")
