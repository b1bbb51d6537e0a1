"""The records of a JSON file that is not one record per line, read as a
stream: a pretty-printed record, an array of records, several documents one
after another (what ``jq .`` writes), or an API's answer that holds its
records in a list (NewsAPI's ``articles``, JSON Feed's ``items``, a search
engine's ``hits``/``docs``/``results``, also one or two objects down).

Each value is parsed by the standard library's decoder (``raw_decode``), so
a record reads exactly as the same record on one line does (``NaN``, a lone
``\\ud800`` escape, numbers); only the framing around the records (``[``,
``,``, ``{"key":``) is followed here, so memory holds one record at a time
whatever the file's size. ijson was measured for this and not used: its C
parser refuses ``NaN`` (which Python's ``json.dumps`` writes) and turns a
lone surrogate escape into ``?``, so a record would read differently in a
pretty-printed file than on a line.
"""
from __future__ import annotations

import codecs
import json
import re
from typing import Iterator

# Keys whose list holds an answer's records, at the top or one or two objects down
# (NewsAPI "articles", JSON Feed "items", Elasticsearch "hits", Solr "docs", the Guardian's "results").
RECORD_LISTS = frozenset({"articles", "items", "data", "results", "records", "docs", "documents", "entries",
                          "hits", "stories", "posts", "news", "rows"})
MAX_DEPTH = 2  # objects inside objects looked into for a record list
MAX_RESUME_TRIES = 1000  # places after a broken record that look like a record's start and are tried
CHUNK = 1 << 16


def _integer(digits: str):
    """A JSON integer; one of more digits than Python turns into an int (4,300:
    a ValueError, which lost the whole record to an id or a counter no one
    reads) stays its digits."""
    try:
        return int(digits)
    except ValueError:
        return digits


_DECODER = json.JSONDecoder(parse_int=_integer)


def loads(data: bytes | str):
    """``json.loads`` (bytes in any of JSON's encodings), an integer of any length kept (``_integer``)."""
    if isinstance(data, (bytes, bytearray)):
        data = data.decode(json.detect_encoding(data), "surrogatepass")
    return _DECODER.decode(data)


_BLANK = re.compile(r"[ \t\r\n\ufeff]*")


class Oversized:
    """A whole value longer than the cap, in place of the value: the reader
    rejects it as ``too_large`` and goes on with the next record."""

    def __init__(self, size: int):
        self.size = size


class Broken:
    """A stretch of an array (or of documents one after another) that is not
    JSON, in place of the records it held: the reader rejects it as
    ``bad_json``, and the records after it are read."""

    def __init__(self, error: json.JSONDecodeError, size: int):
        self.error, self.size = error, size

    def __str__(self) -> str:
        return (f"{self.error.msg}: {self.size} characters that are not JSON records are left out, "
                f"and reading goes on at the next record")


class RecordTooLarge(ValueError):
    """One value (a record, or what an object holds besides its records) is
    larger than the cap: the document is not read past it."""


def layout(first_line: bytes, is_record=None) -> str:
    """``"lines"`` when the first non-blank line of a JSON file is a record
    or a broken line (JSON lines: each line is read as a record),
    ``"document"`` when it is the start of a value that goes on past the
    line (``{``, ``[``, ``{"title": "x",``), or a whole object that is no
    record (``is_record``) but holds a list of them (an API's answer saved
    on one line, as ``curl`` saves it). A JSON string cannot hold a line
    break, so a valid document's first line never ends inside a string."""
    text = first_line.decode("utf-8", "replace").strip().lstrip("\ufeff")
    if not text.startswith(("{", "[")):
        return "lines"
    try:
        value = loads(text)
    except json.JSONDecodeError as e:
        return "document" if e.pos >= len(text) else "lines"
    except (ValueError, RecursionError):
        return "lines"
    if is_record is not None and isinstance(value, dict) and not is_record(value) and \
            _holds_records(value, is_record, 0):
        return "document"
    return "lines"


def _holds_records(obj: dict, is_record, depth: int) -> bool:
    """Whether ``records`` would find a record in a record list of ``obj``."""
    for key, value in obj.items():
        if isinstance(value, list) and key.lower() in RECORD_LISTS and \
                any(isinstance(v, dict) and is_record(v) for v in value):
            return True
        if isinstance(value, dict) and depth < MAX_DEPTH and _holds_records(value, is_record, depth + 1):
            return True
    return False


class _Text:
    """Text decoded from a byte stream in chunks, with a cursor: a value is
    parsed from the cursor, and more is read when it runs past the end."""

    def __init__(self, stream, encoding: str, cap: int, first: bytes = b""):
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._cap = cap
        self.buf = self._decoder.decode(first)
        self.pos = 0
        self.eof = False

    def more(self, at_least: int = CHUNK) -> bool:
        if self.eof:
            return False
        data = self._stream.read(max(CHUNK, at_least))
        if not data:
            self.eof = True
            tail = self._decoder.decode(b"", final=True)
            self.buf = self.buf[self.pos:] + tail
            self.pos = 0
            return bool(tail)
        self.buf = self.buf[self.pos:] + self._decoder.decode(data)
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not blank ("" at the end)."""
        while True:
            self.pos = _BLANK.match(self.buf, self.pos).end()
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def take(self, char: str) -> None:
        if self.peek() != char:
            found = self.buf[self.pos:self.pos + 20] or "the end of the file"
            raise json.JSONDecodeError(f"expected {char!r}, found {found!r}", self.buf, self.pos)
        self.pos += 1

    def value(self):
        """The next whole value; reads on while it is cut by the buffer's end."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as e:
                if self.eof or not _may_be_cut(e, len(self.buf)):
                    raise
                if len(self.buf) - self.pos > self._cap:
                    raise RecordTooLarge(f"a value longer than {self._cap} characters") from None
                self.more(len(self.buf) - self.pos)  # doubles what is held: linear in the value's size
                continue
            if end == len(self.buf) and not self.eof and not isinstance(value, (dict, list, str)):
                # a number or a literal at the buffer's end may go on in the next chunk ("12" of "12345")
                if self.more():
                    continue
            start, self.pos = self.pos, end
            return Oversized(end - start) if end - start > self._cap else value


def records(stream, encoding: str, cap: int, is_record, first: bytes = b"") -> Iterator[object]:
    """Every record of the document in order: each value at the top, each
    element of an array at the top, each element of a record list; an
    object that holds no record list is itself a record. Non-records in a
    record list (an item without text, a number) are yielded too, so the
    reader accounts for them. ``is_record(dict)`` tells a record from other
    data (the reader's rule: it has a text or page field). Raises ``json.JSONDecodeError`` where the
    document stops being JSON and ``RecordTooLarge``; what came before has
    been yielded."""
    text = _Text(stream, encoding, cap, first)
    while True:
        c = text.peek()
        if not c:
            return
        if c == "[":
            text.pos += 1
            yield from _elements(text, is_record)
            continue
        try:
            if c == "{":
                obj, found = yield from _object(text, 0, cap, is_record)
                if not found or is_record(obj):  # a record that also holds a list of records is kept whole too
                    yield obj
            else:
                yield text.value()  # a scalar at the top: the reader rejects it as no object
        except json.JSONDecodeError as e:  # documents one after another (jq's output): on at the next record
            # (past the "{" that _object took; past the first character of a value that did not read)
            broken = _resume(text, is_record, "{[", e, skip=0 if c == "{" else 1)
            if broken is None:
                raise
            yield broken


def _elements(text: _Text, is_record) -> Iterator[object]:
    """The elements of an array whose ``[`` was taken, and its ``]``. Where
    an element or the comma after it is not JSON, the stretch up to the next
    element that is a record is one ``Broken`` (none if only blanks were
    skipped: a comma left out costs nothing), and the array goes on there."""
    if text.peek() == "]":
        text.pos += 1
        return
    while True:
        try:
            value = text.value()
        except json.JSONDecodeError as e:  # text.pos is still at the value's start
            broken = _resume(text, is_record, ",]", e, skip=1)
            if broken is None:
                raise
            yield broken
            continue
        if isinstance(value, list) and any(isinstance(v, dict) and is_record(v) for v in value):
            yield from value  # records in a list in the list (pages of results, or a stray "[" before one)
        else:
            yield value
        c = text.peek()
        if not c or c not in ",]":
            found = text.buf[text.pos:text.pos + 20] or "the end of the file"
            error = json.JSONDecodeError(f"expected ',' or ']', found {found!r}", text.buf, text.pos)
            broken = _resume(text, is_record, ",]", error) if c else None
            if broken is None:
                raise error
            if broken.size:  # only blanks between two records: a comma left out costs nothing
                yield broken
            continue
        text.pos += 1
        if c != ",":
            return


def _may_be_cut(error: json.JSONDecodeError, held: int) -> bool:
    """Whether more text could mend the error: it is at the end of what is
    held (a literal such as ``-Infinity`` or an escape cut there), or a
    string runs on to it. Anything else is a syntax error, whatever follows."""
    return error.pos >= held - 12 or error.msg.startswith("Unterminated string")


def _resume(text: _Text, is_record, ends: str, error: json.JSONDecodeError, skip: int = 0) -> Broken | None:
    """Find the next record after a place that is not JSON, ``skip``
    characters on from ``text.pos``: a ``{`` after a comma, a bracket, a
    brace or a line break that parses as a record (``is_record``) followed
    by one of ``ends`` (or by the file's end, when ``ends`` holds ``{``:
    documents one after another). ``text.pos`` is left there and the
    stretch skipped is returned. None when there is none: the file ends, a
    candidate runs past the cap, or ``MAX_RESUME_TRIES`` candidates fail."""
    q = text.pos + skip  # the search's cursor in text.buf
    skipped, tries = 0, 0
    while tries < MAX_RESUME_TRIES:
        at = text.buf.find("{", q)
        if at < 0:  # none held: drop what was searched and read on
            skipped += len(text.buf) - text.pos
            text.pos = q = len(text.buf)
            if not text.more():
                return None
            q = 0
            continue
        q = at + 1
        back = at - 1
        while back >= max(0, at - 256) and text.buf[back] in " \t\r\n":
            back -= 1
        if back >= 0 and back >= at - 256 and text.buf[back] not in ",[}" and text.buf[at - 1] != "\n":
            continue
        tries += 1
        skipped += at - text.pos
        text.pos = at
        value = None
        while True:  # the candidate, read on while it may be cut by what is held
            try:
                value, end = _DECODER.raw_decode(text.buf, text.pos)
            except json.JSONDecodeError as e:
                if text.eof or not _may_be_cut(e, len(text.buf)):
                    value = None
                    break
                if len(text.buf) - text.pos > text._cap:
                    return None
                text.more(len(text.buf) - text.pos)
                continue
            follows = _BLANK.match(text.buf, end).end()
            if follows >= len(text.buf) and not text.eof and text.more():
                continue
            nxt = text.buf[follows:follows + 1]
            break
        if isinstance(value, dict) and is_record(value) and ((nxt and nxt in ends) or (not nxt and "{" in ends)):
            return Broken(error, skipped)
        q = text.pos + 1
    return None


def _object(text: _Text, depth: int, cap: int, is_record):
    """Read an object key by key (generator; returns (object, records
    found)): a record list's elements are yielded as they are read, a nested
    object down to ``MAX_DEPTH`` is read the same way, anything else is kept."""
    text.take("{")
    obj: dict = {}
    found = 0
    held = 0  # characters kept besides the records, bounded like one record
    if text.peek() == "}":
        text.pos += 1
        return obj, 0
    while True:
        if text.peek() != '"':
            text.take('"')
        key = text.value()
        text.take(":")
        c = text.peek()
        if c == "[" and key.lower() in RECORD_LISTS:
            text.pos += 1
            kept = []
            for element in _elements(text, is_record):
                if isinstance(element, (Oversized, Broken)) or (isinstance(element, dict) and is_record(element)):
                    found += 1
                    yield element
                else:  # decided when the list ends: the object's own data, or items with no text
                    kept.append(element)
                    held += len(json.dumps(element))
                    if held > cap:
                        raise RecordTooLarge(f"an object holding more than {cap} characters besides its records")
            if found:
                yield from kept
                found += len(kept)
            else:
                obj[key] = kept
        elif c == "{" and depth < MAX_DEPTH:
            obj[key], inner = yield from _object(text, depth + 1, cap, is_record)
            found += inner
        else:
            obj[key] = text.value()
            if isinstance(obj[key], Oversized):
                raise RecordTooLarge(f"a value of {obj[key].size} characters in an object that holds records")
        c = text.peek()
        text.take("," if c == "," else "}")
        if c != ",":
            return obj, found
