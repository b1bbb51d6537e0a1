"""WARC records as crawlers write them, and as they go wrong: HTTP bodies that
are content-encoded (gzip, deflate with and without its zlib wrapper, br,
zstd, a br bomb, an encoding nobody decodes) or chunked (well or badly), record types other than
responses, status codes without a body, oversized headers, charsets that are
wrong or UTF-16, WARC/1.1 without the closing blank lines, and a length that
runs past the end of the file. Each file plain and as one gzip member per
record. Every record ends as an article, a reject with its reason, or a
counted skip."""
import gzip
import zlib

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import zstandard

from conftest import manifest, read_table
from fuzz import _encoded
from hostile import ARTICLE_DE, ARTICLE_EN, ARTICLE_FR, page, warc_record
from pipeline.cli import run


def _body(i: int) -> bytes:
    text = [ARTICLE_EN, ARTICLE_DE, ARTICLE_FR][i % 3]
    return page(f"{text} Item {i} of the council's list was discussed at length by {i + 3} members.",
                title=f"Council item {i}").encode()


def _record(uri: str, block: bytes, rtype: str = "response", *extra: tuple[str, str]) -> bytes:
    record_id = f"<urn:uuid:00000000-0000-0000-0000-{zlib.crc32(uri.encode()):012d}>"
    return warc_record([("WARC-Type", rtype), ("WARC-Date", "2024-05-01T10:00:00Z"), ("WARC-Record-ID", record_id),
                        ("WARC-Target-URI", uri), *extra], block)


def _http(body: bytes, headers: str = "", status: str = "200 OK",
          ctype: str = "text/html; charset=utf-8") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n{headers}\r\n".encode() + body


U = "https://news.example.com/"
# file -> (records, {url tail: expected outcome}): "article", or the reject reason
CASES = {
    "gzip-encoded": ([_record(U + "1", _http(gzip.compress(_body(1)), "Content-Encoding: gzip\r\n"))],
                     {"1": "article"}),
    "deflate-encoded": ([_record(U + "2", _http(zlib.compress(_body(2)), "Content-Encoding: deflate\r\n"))],
                        {"2": "article"}),
    "raw-deflate": ([_record(U + "21", _http(zlib.compress(_body(21))[2:-4], "Content-Encoding: deflate\r\n")),
                     _record(U + "22", _http(_body(22), "Content-Encoding: deflate\r\n"))],  # said, not done
                    {"21": "article", "22": "article"}),
    "brotli": ([_record(U + "23", _http(brotli.compress(_body(23)), "Content-Encoding: br\r\n")),
                _record(U + "24", _http(brotli.compress(b" " * (40 << 20), quality=1), "Content-Encoding: br\r\n")),
                _record(U + "25", _http(b"\x8b\x02\x80 not brotli" + bytes(range(256)), "Content-Encoding: br\r\n"))],
               {"23": "article", "24": "decompressed_too_large", "25": "undecodable"}),
    "zstd": ([_record(U + "26", _http(zstandard.ZstdCompressor().compress(_body(26)), "Content-Encoding: zstd\r\n")),
              _record(U + "27", _http(_body(27), "Content-Encoding: zstd\r\n")),
              _record(U + "28", _http(zlib.compress(_body(28)), "Content-Encoding: x-unheard-of\r\n"))],
             {"26": "article", "27": "article", "28": "undecodable"}),
    "broken-gzip-encoding": ([_record(U + "3", _http(b"\x1f\x8b\x08\x00not gzip at all" + bytes(range(256)),
                                                     "Content-Encoding: gzip\r\n")),
                              _record(U + "4", _http(_body(4)))],
                             {"3": "undecodable", "4": "article"}),
    "chunked": ([_record(U + "5", _http(*_encoded(_body(5), "chunked")))], {"5": "article"}),
    "says-chunked-is-not": ([_record(U + "6", _http(_body(6), "Transfer-Encoding: chunked\r\n"))], {"6": "article"}),
    "other-record-types": ([_record(U + "7", b"", "revisit", ("WARC-Refers-To-Target-URI", "https://x.example/")),
                            _record(U + "8", b"via: crawler\r\n", "metadata"),
                            _record(U + "9", _http(_body(9)))],
                           {"9": "article"}),
    "no-body-statuses": ([_record(U + "10", _http(b"", status="204 No Content")),
                          _record(U + "11", _http(b"", f"Location: {U}12\r\n", status="301 Moved Permanently")),
                          _record(U + "12", _http(_body(12)))],
                         {"10": "empty", "11": "http_301", "12": "article"}),
    # an error page or a redirect is no article, whatever its HTML says (the fetch step's reasons)
    "error-statuses": ([_record(U + "29", _http(_body(29), status="404 Not Found")),
                        _record(U + "30", _http(_body(30), f"Location: {U}31\r\n", status="302 Found")),
                        _record(U + "31", _http(_body(31), status="503 Service Unavailable")),
                        _record(U + "32", _http(_body(32), status="203 Non-Authoritative Information"))],
                       {"29": "http_404", "30": "http_302", "31": "http_503", "32": "article"}),
    "huge-header": ([_record(U + "13", _http(_body(13), "X-Junk: " + "a" * 300_000 + "\r\n")),
                     _record(U + "14", _http(_body(14), "".join(f"X-H{i}: v\r\n" for i in range(20_000))))],
                    {"13": "article", "14": "article"}),
    "charsets": ([_record(U + "15", _http(_body(15).decode().encode("utf-16"), ctype="text/html; charset=utf-16")),
                  _record(U + "16", _http(_body(16), ctype="text/html; charset=x-no-such-charset"))],
                 {"15": "article", "16": "article"}),
    "pdf": ([_record(U + "17", _http(b"%PDF-1.4 ...", ctype="application/pdf"))], {"17": "not_html"}),
    "warc11-unterminated": ([_record(U + "18", _http(_body(18))).replace(b"WARC/1.0", b"WARC/1.1", 1)[:-4]], {"18": "article"}),
    "runs-past-the-end": ([_record(U + "19", _http(_body(19))), _record(U + "20", _http(_body(20)))[:-60]],
                          {"19": "article", "20": "truncated"}),
}


@pytest.fixture(scope="module")
def warc_out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("warcs")
    for name, (records, _) in CASES.items():
        (folder / f"{name}.warc").write_bytes(b"".join(records))
        (folder / f"{name}.warc.gz").write_bytes(b"".join(gzip.compress(r) for r in records))
    out = tmp_path_factory.mktemp("out")
    run(["--input", str(folder), "--output", str(out), "--progress-seconds=0"], quiet=True)
    return str(out)


@pytest.mark.parametrize("suffix", [".warc", ".warc.gz"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_each_record_is_an_article_or_a_reject_with_its_reason(warc_out, name, suffix):
    expected = CASES[name][1]
    got = {}
    for row in read_table(warc_out, "articles"):
        if row["source"].split("#")[0].endswith(f"/{name}{suffix}"):
            got[row["url"].rsplit("/", 1)[1]] = "article"
    records = CASES[name][0]
    for row in read_table(warc_out, "rejects"):
        path, _, number = row["source"].partition("#")
        if path.endswith(f"/{name}{suffix}"):
            uri = records[int(number) - 1].split(b"WARC-Target-URI: ", 1)[1].split(b"\r\n", 1)[0].decode()
            got[uri.rsplit("/", 1)[1]] = row["reason"]
    assert got == expected


def test_the_run_accounts_for_every_record(warc_out):
    m = manifest(warc_out)
    c = m["counts"]
    records = sum(len(expected) for _, expected in CASES.values()) * 2
    assert c["articles_written"] + c["rejected"] == records and not c.get("unaccounted")
    assert c["skipped_records"] == {"warc_metadata": 2, "warc_revisit": 2}


@pytest.mark.parametrize("ctype, body, page", [
    ("application/rss+xml", b'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title></channel></rss>', False),
    ("application/xml; charset=utf-8", b'<?xml version="1.0"?>\n<!-- x -->\n<rss version="2.0"></rss>', False),
    ("text/xml", b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', False),
    ("image/svg+xml", b'<svg xmlns="http://www.w3.org/2000/svg"><text>x</text></svg>', False),
    ("text/xml", b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">', True),
    ("application/xml", b'\xef\xbb\xbf<x:html xmlns:x="http://www.w3.org/1999/xhtml">', True),
    ("text/html, text/html", b"<html>", True), ("TEXT/HTML;charset=utf-8", b"<p>", True),
    ("application/xhtml+xml", b"<html>", True), (None, b"<html>", True), ("text/htmlx", b"<html>", False),
    ("application/vnd.rss+html", b"<html>", False),
])
def test_what_a_response_holds_is_a_page_only_when_its_type_or_root_says_so(ctype, body, page):
    """A WARC response whose Content-Type said "xml" was read as a page: an
    RSS feed captured by a crawler became one article of its items' titles
    and links run together ("FIhttps://ex.com/i..."), an SVG image or a
    sitemap likewise. XML is a page when its root element is html."""
    from transforms.records import html_content_type

    assert html_content_type(ctype, body) is page


def test_a_feed_captured_in_a_warc_is_no_article_and_xhtml_sent_as_xml_is(tmp_path):
    from apache_beam import pvalue

    from hostile import http_response
    from transforms.read import _ReadFileFn

    rss = (b'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title><item><title>I</title>'
           b"<link>https://ex.com/i</link><description>" + ARTICLE_EN.encode() + b"</description></item></channel></rss>")
    xhtml = b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">' + page(ARTICLE_EN).encode()[15:]
    records = [warc_record([("WARC-Type", "response"), ("WARC-Target-URI", f"https://ex.com/{i}"),
                            ("WARC-Date", "2024-01-01T00:00:00Z"), ("WARC-Record-ID", f"<urn:uuid:{i}>"),
                            ("Content-Type", "application/http; msgtype=response")], http_response(body, ctype))
               for i, (body, ctype) in enumerate([(rss, "application/rss+xml"), (xhtml, "text/xml")])]
    path = tmp_path / "feed.warc"
    path.write_bytes(b"".join(records))
    outs = list(_ReadFileFn(16 << 20, 1 << 30, 16 << 20).process((str(path), path.stat().st_size)))
    docs = [o["url"] for o in outs if not isinstance(o, pvalue.TaggedOutput)]
    rejects = [(o.value["reason"]) for o in outs if isinstance(o, pvalue.TaggedOutput) and o.tag == "rejects"]
    assert docs == ["https://ex.com/1"] and rejects == ["not_html"]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.text(max_size=60), st.sampled_from(["text/xml", "application/xml; charset=x",
                                                                    "text/html;", " TEXT/HTML"])),
       st.binary(max_size=300), st.sampled_from([b"", b'<?xml version="1.0"?>', b"<!-- c -->", b"\xef\xbb\xbf"]))
def test_any_content_type_and_head_give_a_yes_or_no(ctype, head, prolog):
    """Generated: any header value and any first bytes (a prolog, then
    anything) give True or False, in bounded time, never an error."""
    from transforms.records import html_content_type

    assert html_content_type(ctype, prolog + head) in (True, False)


def test_a_resource_record_holding_a_page_is_read_and_other_resources_are_counted(tmp_path):
    """warcit and wget store saved pages as `resource` records (no HTTP block):
    one of a web URL and an HTML type is a page (before: counted and skipped,
    so a WARC made of them gave no article). A screenshot, a browser crawler's
    `urn:text:` extract or `urn:view:` snapshot stay counted, not read."""
    from apache_beam import pvalue

    from transforms.read import _ReadFileFn

    def resource(uri, ctype, block):
        return _record(uri, block, "resource", ("Content-Type", ctype))

    latin = page(ARTICLE_FR).encode("latin-1", "replace")
    records = [resource("https://ex.com/a.html", "text/html", _body(0)),
               resource("https://ex.com/fr.html", "text/html; charset=iso-8859-1", latin),
               resource("https://ex.com/shot.png", "image/png", b"\x89PNG\r\n\x1a\n" + bytes(64)),
               resource("urn:text:https://ex.com/a.html", "text/plain", ARTICLE_EN.encode()),
               resource("urn:view:https://ex.com/a.html", "text/html", _body(1)),
               resource("https://ex.com/empty.html", "text/html", b"  ")]
    path = tmp_path / "saved.warc"
    path.write_bytes(b"".join(records))
    outs = list(_ReadFileFn(16 << 20, 1 << 30, 16 << 20).process((str(path), path.stat().st_size)))
    docs = [(o["url"], o["http_charset"]) for o in outs if not isinstance(o, pvalue.TaggedOutput)]
    tagged = [(o.tag, o.value if o.tag == "skipped" else o.value["reason"]) for o in outs
              if isinstance(o, pvalue.TaggedOutput)]
    assert docs == [("https://ex.com/a.html", None), ("https://ex.com/fr.html", "iso-8859-1")]
    assert sorted(tagged) == [("rejects", "empty")] + [("skipped", "warc_resource")] * 3
    out = str(tmp_path / "out")
    m = run(["--input", str(path), "--output", out], quiet=True)
    assert m["counts"]["articles_written"] == 2 and m["counts"]["skipped_records"] == {"warc_resource": 3}
