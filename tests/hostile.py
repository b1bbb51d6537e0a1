"""Builds a folder of hostile inputs (used by the tests and benchmarks/hostile.py).

Every file is named for what it is; ``EXPECT`` says what each must become.
"""
from __future__ import annotations

import gzip
import io
import json
import os
import random
import zlib

ARTICLE_EN = (
    "The city council approved the new budget on Tuesday after a long debate about school funding. "
    "Council members said the plan would add teachers and repair old buildings over the next three years. "
    "The mayor welcomed the vote and promised that the money would be spent carefully and openly. "
    "Opponents argued that the tax increase was too large for families who are already struggling. "
)
ARTICLE_RU = (
    "Городской совет во вторник утвердил новый бюджет после долгого обсуждения финансирования школ. "
    "Депутаты заявили, что план позволит нанять учителей и отремонтировать старые здания за три года. "
    "Мэр приветствовал решение и пообещал, что деньги будут потрачены аккуратно и открыто. "
)
ARTICLE_DE = (
    "Der Stadtrat hat am Dienstag nach einer langen Debatte über die Finanzierung der Schulen den neuen "
    "Haushalt beschlossen. Die Ratsmitglieder sagten, der Plan werde in den nächsten drei Jahren zusätzliche "
    "Lehrer bringen und alte Gebäude instand setzen. Der Bürgermeister begrüßte die Abstimmung und versprach, "
    "dass das Geld sorgfältig und offen ausgegeben werde. Gegner kritisierten die Steuererhöhung als zu hoch."
)
ARTICLE_FR = (
    "Le conseil municipal a adopté mardi le nouveau budget après un long débat sur le financement des écoles. "
    "Les élus ont déclaré que le plan permettrait de recruter des enseignants et de rénover les vieux bâtiments. "
    "Le maire a salué le vote et promis que l'argent serait dépensé avec soin et en toute transparence. "
    "Les opposants ont estimé que la hausse des impôts était trop forte pour les familles déjà en difficulté."
)


def page(body: str, title: str = "Council approves budget", lang: str | None = None, charset_meta: str | None = None) -> str:
    paras = "".join(f"<p>{s.strip()}.</p>" for s in body.split(". ") if s.strip())
    meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
    lang_attr = f' lang="{lang}"' if lang else ""
    return (f"<!DOCTYPE html><html{lang_attr}><head>{meta}<title>{title}</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article><h1>{title}</h1>{paras}{paras}"
            f"</article><footer>All rights reserved</footer></body></html>")


def _warc(records: list[tuple[str, bytes, str]], gzip: bool = False) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=gzip)
    w.write_record(w.create_warcinfo_record("test.warc", {"software": "newsbeam-tests"}))
    for uri, body, ctype in records:
        hh = StatusAndHeaders("200 OK", [("Content-Type", ctype)], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=hh))
        w.write_record(w.create_warc_record(uri, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n")))
    return buf.getvalue()


def warc_record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    """One WARC record written by hand, so that it can be as broken as needed."""
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
    return head.encode() + f"Content-Length: {len(block)}\r\n\r\n".encode() + block + b"\r\n\r\n"


def http_response(body: bytes, ctype: str = "text/html; charset=utf-8") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\n\r\n".encode() + body


# source file name (or name#record) -> (outcome, reason or language)
EXPECT = {
    "empty.html": ("reject", "empty"),
    "random bytes.html": ("reject", None),
    "nul bytes.txt": ("reject", None),
    "huge 60MB.html": ("reject", "too_large"),
    "deep nesting.html": ("any", None),
    "cp1251 no charset.html": ("article", "ru"),
    "utf16 no charset.html": ("article", "de"),
    "latin1 no charset.html": ("article", "fr"),
    "truncated.html.gz": ("reject", "truncated"),
    "bomb.html.gz": ("reject", "decompressed_too_large"),
    "records.jsonl#L1": ("article", "en"),
    "records.jsonl#L2": ("reject", "bad_json"),
    "records.jsonl#L3": ("reject", "missing_text"),
    "records.jsonl#L4": ("article", "fr"),
    "crawl.warc#2": ("article", "en"),
    "crawl.warc#4": ("reject", "not_html"),
    "truncated.warc#2": ("article", "en"),
    "truncated.warc#4": ("reject", "truncated"),
    "unknown.bin": ("reject", "unsupported_format"),
    "nouvelles été à Zürich.html": ("article", "fr"),
    # a response record without WARC-Target-URI between two good ones (warcio
    # raised AttributeError on it and the run died): all three are read
    "no target uri.warc.gz#1": ("article", "en"),
    "no target uri.warc.gz#2": ("article", "fr"),
    "no target uri.warc.gz#3": ("article", "de"),
    "garbage http.warc.gz#1": ("article", "en"),
    "garbage http.warc.gz#2": ("reject", "bad_http"),
    "garbage http.warc.gz#3": ("article", "de"),
    "huge line.jsonl#L1": ("article", "en"),
    "huge line.jsonl#L2": ("reject", "too_large"),
    "huge line.jsonl#L3": ("article", "fr"),
    # the other compressions: zstd in two frames, bzip2, and an xz stream cut short
    "records.jsonl.zst#L1": ("article", "en"),
    "records.jsonl.zst#L2": ("article", "de"),
    "page.html.bz2": ("article", "fr"),
    "cut.txt.xz": ("reject", "truncated"),
    # Parquet: a cell of hundreds of megabytes (a few kilobytes compressed) between two good rows, and a file
    # that starts as Parquet and is not
    "rows.parquet#L1": ("article", "en"),
    "rows.parquet#L2": ("reject", "too_large"),
    "rows.parquet#L3": ("article", "fr"),
    "broken.parquet": ("reject", "bad_parquet"),
}


def make_hostile_folder(folder: str, huge_mb: int = 60, bomb_mb: int = 1024, depth: int = 200_000,
                        line_mb: int = 300) -> dict:
    os.makedirs(folder, exist_ok=True)
    rnd = random.Random(7)

    def put(name: str, data: bytes) -> None:
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)

    put("empty.html", b"")
    put("random bytes.html", bytes(rnd.getrandbits(8) for _ in range(20000)))
    put("nul bytes.txt", b"\x00" * 5000 + b"text" + b"\x00" * 5000)
    with open(os.path.join(folder, "huge 60MB.html"), "wb") as f:
        f.write(b"<html><body>")
        block = b"<p>" + ARTICLE_EN.encode() + b"</p>"
        for _ in range((huge_mb << 20) // len(block) + 1):
            f.write(block)
        f.write(b"</body></html>")
    put("deep nesting.html", b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>")
    put("cp1251 no charset.html", page(ARTICLE_RU, "Совет утвердил бюджет").encode("cp1251"))
    put("utf16 no charset.html", page(ARTICLE_DE, "Stadtrat beschließt Haushalt").encode("utf-16-le"))
    put("latin1 no charset.html", page(ARTICLE_FR, "Le conseil adopte le budget").encode("latin-1"))
    full = gzip.compress(page(ARTICLE_EN).encode(), mtime=0)
    put("truncated.html.gz", full[: len(full) // 2])
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(os.path.join(folder, "bomb.html.gz"), "wb") as f:
        chunk = b"\0" * (1 << 20)
        for _ in range(bomb_mb):
            f.write(z.compress(chunk))
        f.write(z.flush())
    lines = [
        json.dumps({"url": "https://example.com/a?utm_source=x#top", "html": page(ARTICLE_EN), "title": "A"}),
        '{"url": "https://example.com/broken", "html": "<p>unterminated',
        json.dumps({"url": "https://example.com/notext", "title": "no body"}),
        json.dumps({"url": "https://example.fr/b", "text": ARTICLE_FR, "published": "2024-05-01T10:00:00+02:00"}),
    ]
    put("records.jsonl", ("\n".join(lines) + "\n").encode())
    warc = _warc([("https://example.com/w1", page(ARTICLE_EN).encode(), "text/html; charset=utf-8"),
                  ("https://example.com/logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")])
    put("crawl.warc", warc)
    two = _warc([("https://example.com/t1", page(ARTICLE_EN).encode(), "text/html"),
                 ("https://example.com/t2", page(ARTICLE_EN + ARTICLE_EN).encode(), "text/html")])
    put("truncated.warc", two[: len(two) - 700])
    put("unknown.bin", b"\x7fELF\x02\x01\x01" + bytes(rnd.getrandbits(8) for _ in range(4000)))
    put("nouvelles été à Zürich.html", page(ARTICLE_FR, "Le conseil adopte le budget", charset_meta="utf-8").encode())
    date = ("WARC-Date", "2024-05-01T10:00:00Z")
    en = warc_record([("WARC-Type", "response"), ("WARC-Target-URI", "https://example.com/en"), date],
                     http_response(page(ARTICLE_EN).encode()))
    de = warc_record([("WARC-Type", "response"), ("WARC-Target-URI", "https://example.de/de"), date],
                     http_response(page(ARTICLE_DE, "Stadtrat beschließt Haushalt").encode()))
    no_uri = warc_record([("WARC-Type", "response"), date],
                         http_response(page(ARTICLE_FR, "Le conseil adopte le budget").encode()))
    garbage = warc_record([("WARC-Type", "response"), ("WARC-Target-URI", "https://example.com/g"), date],
                          bytes(rnd.getrandbits(8) for _ in range(3000)))
    put("no target uri.warc.gz", b"".join(gzip.compress(r, mtime=0) for r in (en, no_uri, de)))
    put("garbage http.warc.gz", b"".join(gzip.compress(r, mtime=0) for r in (en, garbage, de)))
    with open(os.path.join(folder, "huge line.jsonl"), "wb") as f:  # written in pieces: no 300 MB string here
        f.write(json.dumps({"html": page(ARTICLE_EN)}).encode() + b"\n")
        f.write(b'{"text": "')
        piece = (ARTICLE_EN * 40).encode()
        for _ in range((line_mb << 20) // len(piece) + 1):
            f.write(piece)
        f.write(b'"}\n')
        f.write(json.dumps({"text": ARTICLE_FR}).encode() + b"\n")
    import bz2
    import lzma

    import zstandard

    zstd = zstandard.ZstdCompressor()
    put("records.jsonl.zst", zstd.compress(json.dumps({"text": ARTICLE_EN}).encode() + b"\n")
        + zstd.compress(json.dumps({"text": ARTICLE_DE}).encode() + b"\n"))
    put("page.html.bz2", bz2.compress(page(ARTICLE_FR, "Le conseil adopte le budget").encode()))
    put("cut.txt.xz", lzma.compress((ARTICLE_EN * 20).encode())[:200])
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = pa.array([ARTICLE_EN, "x" * (line_mb << 20), ARTICLE_FR], pa.large_string())
    pq.write_table(pa.table({"text": texts}), os.path.join(folder, "rows.parquet"), compression="zstd")
    del texts
    put("broken.parquet", b"PAR1" + bytes(rnd.getrandbits(8) for _ in range(3000)) + b"PAR1")
    return {**EXPECT, **_odd_entries(folder)}


def _odd_entries(folder: str) -> dict:
    """Entries a folder on disk can hold besides regular files with UTF-8
    names, where this system allows them: a name in Latin-1 bytes (an archive
    from another system), a named pipe (which would block a reader that
    opened it) and a symbolic link to nothing. Their EXPECT entries (a name
    that is not UTF-8 as ``source`` shows it)."""
    out = {}
    try:
        with open(os.fsencode(folder) + b"/latin-1 name caf\xe9.html", "wb") as f:
            f.write(page(ARTICLE_FR, "Le conseil adopte le budget").encode())
        out["latin-1 name caf\\xe9.html"] = ("article", "fr")
    except OSError:  # a filesystem that takes UTF-8 names only (macOS, Windows)
        pass
    if hasattr(os, "mkfifo"):
        os.mkfifo(os.path.join(folder, "named pipe.html"))
        out["named pipe.html"] = ("reject", "not_a_file")
    if hasattr(os, "symlink"):
        os.symlink(os.path.join(folder, "nowhere", "gone.html"), os.path.join(folder, "link to nothing.html"))
        out["link to nothing.html"] = ("reject", "open_failed")
    return out
