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

A quote that is never closed (a text cut short by an export, a stray ``"``
at a field's start) makes ``csv`` read the lines after it as that one
field, up to the next quote in the file or to its end: the rows there
vanish into one record. So the rows are read strictly, and a row that
breaks the quoting over several lines, one of which (after its first)
starts rows of the header's width, is taken for such a quote: the lines
before that one are one reported row, and reading starts again there. A
row that breaks the quoting otherwise (a stray quote inside a quoted
text) is read as ``csv`` reads it leniently, as before.
"""
from __future__ import annotations

import codecs
import csv
from typing import Iterator

CHUNK = 1 << 16


class LineTooLong(ValueError):
    """A row holding a line longer than the cap: reported, and the rows after
    it are read (a header that long: ``BadHeader``, nothing read past it)."""


class Overlong(str):
    """In place of a line longer than the cap, its characters dropped: a line
    break, where csv ends the row (``_Lines`` notes it)."""


class BadHeader(ValueError):
    """The first row is not CSV (binary bytes, a line break in an unquoted name): no row can be named."""


def lines(stream, encoding: str, cap: int, first: bytes = b"") -> Iterator[str]:
    """The text of ``stream`` a line at a time, each with its "\\n"; a line
    longer than ``cap`` is read past, one ``Overlong`` in its place."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    held, size = [], 0  # a line's pieces so far: a long line is joined once, not rescanned at every chunk
    seen = False  # a line was given (the header)
    text = decoder.decode(first)
    while True:
        if "\n" in text:
            parts = ("".join(held) + text).split("\n")
            held, size, seen = [], 0, True
            text = parts.pop()
            for part in parts:
                yield part + "\n"
        held.append(text)
        size += len(text)
        if size > cap and not seen:  # the header: no row after it can be named, so nothing is read past it
            raise LineTooLong(f"the header row is longer than {cap} characters")
        if size > cap:  # dropped up to its line break, a chunk at a time: memory stays bounded
            held, size, text = [], 0, ""
            while "\n" not in text:
                chunk = stream.read(CHUNK)
                if not chunk:
                    decoder.decode(b"", final=True)
                    yield Overlong("\n")
                    return
                text = decoder.decode(chunk)
            text = text.split("\n", 1)[1]
            yield Overlong("\n")
            continue
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
    source = _Lines(lines(stream, encoding, cap, first), cap)
    try:
        head = next(source)
    except StopIteration:
        return
    except LineTooLong as e:
        raise BadHeader(str(e)) from None
    old_limit = csv.field_size_limit()
    csv.field_size_limit(cap)
    try:
        dialect = dialect_of(head, tab)
        source.back.append(head)
        try:
            names = [n.strip().lstrip("\ufeff").strip().lower() for n in next(csv.reader(source, dialect))]
        except StopIteration:
            return
        except csv.Error as e:
            raise BadHeader(f"the header row is not CSV: {e}") from None
        reader = csv.reader(source, dialect, strict=True)  # strict: a quote left open is seen (_mend)
        n = 0
        while True:
            source.mark()
            try:
                found = [next(reader)]
            except StopIteration:
                return
            except csv.Error as e:
                found = _mend(source, e, dialect, len(names))
            if source.overlong and not any(isinstance(c, Exception) for c in found):
                found = [LineTooLong(f"the row holds a line longer than {cap} characters: the row is left out")]
            for cells in found:
                if isinstance(cells, Exception):
                    n += 1
                    yield n, cells
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


class _Lines:
    """The lines ``csv`` reads, keeping those of the row being read
    (``taken``, up to the cap's worth) and handing back first any that a
    mended row puts back."""

    def __init__(self, source: Iterator[str], cap: int):
        self.source, self.cap = source, cap
        self.back: list[str] = []  # put back, the next one last
        self.taken: list[str] | None = []
        self.size = 0
        self.overlong = False  # the row being read holds a line longer than the cap

    def mark(self) -> None:
        """A row starts here."""
        self.taken, self.size, self.overlong = [], 0, False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.back.pop() if self.back else next(self.source)
        if isinstance(line, Overlong):
            self.overlong = True
        if self.taken is not None:
            self.size += len(line)
            self.taken.append(line)
            if self.size > self.cap:
                self.taken = None  # too long to read again: the row stays as csv read it
        return line


def _mend(source: _Lines, error: csv.Error, dialect, width: int) -> list:
    """The rows to give for a row that broke the strict reading (``error``)."""
    taken = source.taken
    if taken is None:  # longer than the cap: reported, reading goes on after it (csv's own way)
        return [error]
    # a quote never closed swallows the rows after it: the first line after the row's first that starts
    # rows of the header's width starts the rows read again, and the lines before it are the reported row
    again = next((k for k in range(1, len(taken)) if _starts_rows(taken, k, dialect, width)), None) \
        if width > 1 else None
    if again is not None:
        source.back.extend(reversed(taken[again:]))
        source.overlong = any(isinstance(line, Overlong) for line in taken[:again])  # the lines kept for the row
        return [csv.Error(f"a quote in this row is not closed ({error}): its {again} line(s) are left out, "
                          f"and the {len(taken) - again} line(s) after them, which the open quote had taken into "
                          f"this row, are read as rows")]
    try:  # a stray quote: the row read leniently, as csv reads it by default
        return list(csv.reader(taken, dialect)) or [error]
    except csv.Error as lenient:
        return [lenient]


def _starts_rows(taken: list[str], k: int, dialect, width: int, rows: int = 3) -> bool:
    """Whether ``taken[k]`` reads alone as a row of ``width`` cells, and the
    lines from it as up to ``rows`` rows of that width (the last may be open
    at the end of ``taken``: it goes on past the lines the broken row read)."""
    if _width(taken[k], dialect) != width:
        return False
    reader = csv.reader((taken[i] for i in range(k, len(taken))), dialect, strict=True)  # no copy of the lines
    try:
        for _ in range(rows):
            if len(next(reader)) != width:
                return False
    except StopIteration:
        return True
    except csv.Error:
        return reader.line_num >= len(taken) - k  # open at the end, or broken past what was read
    return True


def _width(line: str, dialect) -> int:
    """How many cells ``line`` holds read alone (leniently): 0 if it cannot be read."""
    try:
        return len(next(csv.reader([line], dialect), []))
    except csv.Error:
        return 0
