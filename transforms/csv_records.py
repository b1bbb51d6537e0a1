"""The rows of a CSV or TSV file as records: news datasets and spreadsheet
or database exports ship so ("All the News": ``title, publication, author,
date, url, content``). Each row is a record with the header's names, lower
case, read by the JSON records' rules (``transforms.read``: ``text`` or
``content`` or ..., ``url``, ``title``, ``date``...).

The standard library's ``csv`` module reads the rows: quoted fields may
hold line breaks, commas and quotes; a row it cannot read (a field longer
than the cap) is reported and the next row is read. The bytes are decoded
in chunks and handed to it a line at a time (cut at "\\n" only: a line
break of another kind inside a field is the field's), so memory holds one
row, whatever the file's size.
"""
from __future__ import annotations

import codecs
import csv
from typing import Iterator

CHUNK = 1 << 16


class LineTooLong(ValueError):
    """A line longer than the cap: the file is not read past it."""


class BadHeader(ValueError):
    """The first row is not CSV (binary bytes, a line break in an unquoted name): no row can be named."""


def lines(stream, encoding: str, cap: int, first: bytes = b"") -> Iterator[str]:
    """The text of ``stream`` a line at a time, each with its "\\n"."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    held, size = [], 0  # a line's pieces so far: a long line is joined once, not rescanned at every chunk
    text = decoder.decode(first)
    while True:
        if "\n" in text:
            parts = ("".join(held) + text).split("\n")
            held, size = [], 0
            text = parts.pop()
            for part in parts:
                yield part + "\n"
        held.append(text)
        size += len(text)
        if size > cap:
            raise LineTooLong(f"a line longer than {cap} characters")
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        text = decoder.decode(chunk)
    pending = "".join(held) + decoder.decode(b"", final=True)
    if pending:
        yield pending


def dialect_of(sample: str, tab: bool) -> type[csv.Dialect] | csv.Dialect:
    """The file's dialect: a .tsv is tab-separated; a .csv is comma-separated
    unless its header line holds more semicolons (a spreadsheet's export in a
    locale whose decimal mark is a comma) or tabs or pipes than commas."""
    if tab:
        return csv.excel_tab
    header = sample.split("\n", 1)[0]
    best = max(",;\t|", key=lambda c: (header.count(c), c == ","))

    class Sniffed(csv.excel):
        delimiter = best

    return Sniffed


def rows(stream, encoding: str, cap: int, tab: bool, first: bytes = b"") -> Iterator[tuple[int, object]]:
    """(row number, record dict) for each row after the header, or (row
    number, ``csv.Error``) for a row ``csv`` cannot read. The header's names
    are stripped and lower-cased; a row with more cells than names keeps the
    extra ones under ``""``; empty rows are skipped."""
    source = lines(stream, encoding, cap, first)
    try:
        head = next(source)
    except StopIteration:
        return
    old_limit = csv.field_size_limit()
    csv.field_size_limit(cap)
    try:
        reader = csv.reader(_chain(head, source), dialect_of(head, tab))
        try:
            names = [n.strip().lstrip("\ufeff").strip().lower() for n in next(reader)]
        except StopIteration:
            return
        except csv.Error as e:
            raise BadHeader(f"the header row is not CSV: {e}") from None
        n = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                n += 1
                yield n, e
                continue
            if not any(c.strip() for c in cells):
                continue
            n += 1
            rec = dict(zip(names, cells))
            if len(cells) > len(names):
                rec[""] = cells[len(names):]
            yield n, rec
    finally:
        csv.field_size_limit(old_limit)


def _chain(head: str, rest: Iterator[str]) -> Iterator[str]:
    yield head
    yield from rest
