"""The rows of a Parquet file as records: news datasets ship so (Hugging
Face's, CC-News, exports from Spark, pandas, Polars or DuckDB, newsbeam's
own articles). Each row is a record with its columns' names, read by the
JSON records' rules (``transforms.read``: ``text`` or ``content`` or ...,
``url``, ``title``, ``published``...).

pyarrow reads the file a row group at a time, in batches of rows, so
memory holds one row group's pages and one batch's values, whatever the
file's size (a row group of 971 MB, 387 MB compressed, read in batches of
256 rows: 504 MB at the peak). A row group that does not decode is one
report for the rows of it not yet read: the row groups after it are read.
A child process reads each file (``ChildReader``), with time and memory
limits, and hands each row on as a JSON record, a batch at a time:
pyarrow's C++ can end the process that reads a damaged file, and the
reader's own process never decodes a page. What the child could not hold
(a cell of 900 MB, 30 KB compressed) is ``TooLarge``; rows another worker
reads (a file shared by strides) are counted, not handed on.

Values are made what a JSON record holds: a timestamp or date its ISO 8601
text (a timestamp in nanoseconds too, which Python's ``datetime`` cannot
hold, and one out of its range as pyarrow writes it); bytes in a column
newsbeam reads (``html`` kept as bytes, as crawl datasets keep it) decoded
as a page's bytes are, and bytes in any other column (images, embeddings)
left out as ``None``.
"""
from __future__ import annotations

import datetime as dt
import decimal
import signal
from typing import Callable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.encoding import DecodeError, decode_bytes

MAGIC = b"PAR1"
BATCH_ROWS = 256


class Unread(ValueError):
    """Rows ``first``..``last`` (of row group ``group``) not read, and why."""

    def __init__(self, first: int, last: int, why: str, group: int | None = None):
        super().__init__(why[:1000])
        self.first, self.last, self.group = first, last, group


class TooLarge(Unread):
    """Rows not read: the row passes the cap, or reading its row group takes more memory than the child has."""


class BadRows(Unread):
    """Rows of a row group that did not decode."""


class OverBudget(Unread):
    """The rest of the file, not read: its rows' text passes what the file may decompress to (a bomb: a
    dictionary page of one long string, repeated by reference in every row)."""


def is_parquet(head: bytes) -> bool:
    return head[:4] == MAGIC


def open_file(source) -> pq.ParquetFile:
    """The file's footer read (``source``: a seekable binary file); raises
    what pyarrow raises for a file that is not Parquet or is cut."""
    # a page's checksum, where its writer stored one (parquet-mr, Spark), is checked: a damaged page is then
    # one report, not a text whose bytes changed
    # Spark's INT96 timestamps read in microseconds: in pyarrow's default nanoseconds a date before 1677 or
    # after 2262 wraps around into another date (year 1 read as 1754-08-30)
    return pq.ParquetFile(source, memory_map=False, page_checksum_verification=True,
                          coerce_int96_timestamp_unit="us")


def decoded(names: frozenset[str]) -> Callable[[str], bool]:
    """Whether a column's bytes are decoded: it is named (in any case) as one of ``names``, case-folded."""
    return lambda name: isinstance(name, str) and name.casefold() in names


class Elsewhere:
    """``count`` rows in a row that another worker's share of the file gives (a stride): not made records here."""

    __slots__ = ("count",)

    def __init__(self, count: int):
        self.count = count


class Unopened(ValueError):
    """The file's footer did not read: pyarrow's complaint (``died`` False),
    or what ended the reading child (``died`` True)."""

    def __init__(self, why: str, died: bool):
        super().__init__(why[:1000])
        self.died = died


# -- reading in a child process ----------------------------------------------------------
# pyarrow's Parquet reader is C++: on some damaged files it does not raise but aborts the process
# ("terminate called after throwing an instance of 'parquet::ParquetException'", found by generated
# files), or could run long or allocate what a damaged header claims. So a child process reads the
# file, under a time and memory limit, and hands the reader's own process each row as a JSON record:
# the run's process never decodes a Parquet page, and a row group that ends the child costs its rows
# not yet handed on.
# A batch of rows (or the footer) that takes the child more processor time than this is not read: processor
# time, not the clock's, so that a busy machine does not change what is read (every worker sharing a file by
# strides must read the same rows); the clock's limit only catches a child that says nothing while waited for
CHECK_CPU_SECONDS = 60
CHECK_SECONDS = 600.0
# address space the child may take beyond what its libraries reserve on import, as an extraction child's
# (--extract-memory-mb)
CHECK_MEMORY_MB = 2048
MAX_RESTARTS = 16  # row groups that kill the child before the rest of the file is given up


class ChildReader:
    """A child process that reads Parquet files, one request at a time, and
    hands on their rows: started on its first file, and again after a row
    group that ended it or took too long. One a reader
    (``read._ReadFileFn``), closed with it."""

    def __init__(self, timeout: float = CHECK_SECONDS, memory_mb: int = CHECK_MEMORY_MB,
                 cpu_seconds: int = CHECK_CPU_SECONDS):
        self.timeout, self.memory_mb, self.cpu_seconds = timeout, memory_mb, cpu_seconds
        self._proc = self._err = None
        self._buf, self._at, self._seen = bytearray(), 0, 0

    def rows(self, path: str, row_cap: int, names: frozenset[str], first_output: int = 0,
             stride: tuple[int, int] = (0, 1), budget: int | None = None) -> Iterator[tuple[int, object]]:
        """(row number from 1, record) of each row of the local file
        ``path``, in the file's order; in place of rows not read, (their
        first row's number, ``TooLarge`` or ``BadRows``); of rows another
        worker gives, ``Elsewhere``; a file whose footer does not read is
        one ``Unopened``. ``names``: the columns whose bytes are decoded,
        case-folded; rows over ``row_cap`` bytes of text are ``TooLarge``.
        Of a stride (k, n), the outputs numbered from ``first_output`` (a
        record or a reject each) that are not k modulo n are passed over
        (``Elsewhere``) by the child, not made records. Once the text of
        the rows read passes ``budget`` bytes (every row's, whoever's it is,
        so that every worker stops at the same row), the rest of the file is
        one ``OverBudget``."""
        done = False
        try:
            yield from self._rows(path, row_cap, names, first_output, stride, budget)
            done = True
        finally:  # left before its end (an error downstream, a generator closed): the child's lines of it are
            if not done:  # still coming, and would be read as the next file's; a new child reads the next one
                self.close()

    def _rows(self, path, row_cap, names, first_output, stride, budget):
        # spent: the bytes of text of the row groups read whole, where a new child goes on from
        state = {"n": 0, "out": first_output, "groups": None, "spent": 0, "budget": budget}
        start, restarts = 0, 0
        while True:
            why = yield from self._request(path, start, row_cap, names, stride, state)
            if why is None:  # read to the end
                return
            if isinstance(why, Unopened):  # the footer, in the first child: nothing is read
                yield 0, why
                return
            g, first, count, why = why
            if first is None:  # the child ended before it knew the row group's rows
                state["out"] += 1
                yield state["n"] + 1, BadRows(state["n"] + 1, state["n"], f"row group {g}: {why}", group=g)
            else:
                yield state["n"] + 1, self._unread(state, max(first + count, state["n"] + 1), g, why)
            restarts += 1
            start = g + 1
            if start >= state["groups"]:
                return
            if restarts >= MAX_RESTARTS:
                for k in range(start, state["groups"]):
                    state["out"] += 1
                    yield state["n"] + 1, BadRows(state["n"] + 1, state["n"],
                                                  f"row group {k}: not read: {MAX_RESTARTS} row groups before it "
                                                  f"ended the Parquet reader", group=k)
                return

    @staticmethod
    def _unread(state: dict, last: int, g: int, why: str) -> Unread:
        """Rows after the ones read up to ``last`` (of row group ``g``): too large
        when reading them took more memory than the child has, else damaged."""
        first, state["n"] = state["n"] + 1, last
        state["out"] += 1
        if "MemoryError" in why:  # the child could not hold what reading the rest takes (a bomb of a cell)
            return TooLarge(first, last, f"row group {g}: reading it takes more than the reading child's "
                                         f"{CHECK_MEMORY_MB} MB ({why})"[:1000], group=g)
        return BadRows(first, last, why, group=g)

    def command(self) -> list[str]:
        """The child's command line (a fresh interpreter: not fork, the parent runs gRPC threads)."""
        from transforms.sandbox import child_command

        return child_command("transforms.parquet_records", str(self.memory_mb), str(self.cpu_seconds))

    def _start(self) -> None:
        import os
        import subprocess
        import tempfile

        from transforms.sandbox import _grow

        env = dict(os.environ)
        # the C library's allocator: pyarrow's own (jemalloc, mimalloc) keeps address space it has freed, which
        # the address-space limit counts: a 300 MB cell ended a child with 2 GB to spare
        env["ARROW_DEFAULT_MEMORY_POOL"] = "system"
        self._err = tempfile.TemporaryFile()  # a pipe nobody reads could fill and block the child
        self._proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._err, env=env)
        _grow(self._proc.stdout.fileno())  # rows travel a batch at a time: a pipe of 64 KB switched every 30 rows
        self._buf, self._at, self._seen = bytearray(), 0, 0

    def _line(self) -> bytes | str:
        """The child's next line (without its newline), or why there is none (a str): it ended, or said
        nothing for ``timeout`` seconds while waited for (it is then gone)."""
        import os
        import select

        while True:
            end = self._buf.find(b"\n", self._seen)
            if end >= 0:
                line = bytes(self._buf[self._at:end])
                self._at = self._seen = end + 1
                return line
            del self._buf[:self._at]  # what is read goes once the next line needs more bytes, not a line at a time
            self._at, self._seen = 0, len(self._buf)
            if not select.select([self._proc.stdout], [], [], self.timeout)[0]:
                self.close()
                return f"reading took longer than {self.timeout:g} s without a word from the Parquet reader"
            chunk = os.read(self._proc.stdout.fileno(), 1 << 20)
            if not chunk:
                return self._ended("")
            self._buf += chunk

    def _request(self, path, start, row_cap, names, stride, state):
        """Yield the rows the child reads from row group ``start``; return None
        when it read to the end, an ``Unopened`` for a footer that did not
        read in a first child, else (row group, its first row's number - 1 or
        None when not known, its rows, why the child ended), the child gone."""
        import json
        import os

        if self._proc is None:
            self._start()
        group = first = count = failed = None
        try:
            request = [os.fsdecode(path), start, row_cap, sorted(names), state["out"], *stride, state["budget"],
                       state["spent"]]
            self._proc.stdin.write(json.dumps(request).encode() + b"\n")
            self._proc.stdin.flush()
        except OSError:
            why = self._ended("; it could not be handed the file")
            return Unopened(why, True) if start == 0 else (start, None, None, why)
        while True:
            line = self._line()
            if isinstance(line, str):  # the child ended, or stalled (its rows from here are not read)
                if state["groups"] is None:  # in the footer
                    return Unopened(line, True) if start == 0 else (start, None, None, line)
                if group is None:  # in a row group's header
                    return (start, None, None, line)
                return (group, first, count, line)
            word, _, rest = line.partition(b" ")
            if word == b"rec":
                state["n"] += 1
                state["out"] += 1
                yield state["n"], json.loads(rest.decode("utf-8", "surrogatepass"))
            elif word == b"skip":
                k = int(rest)
                yield state["n"] + 1, Elsewhere(k)
                state["n"] += k
                state["out"] += k
            elif word == b"big":
                state["n"] += 1
                state["out"] += 1
                yield state["n"], TooLarge(state["n"], state["n"], f"row holds {int(rest)} bytes of text, over the "
                                                                   f"{row_cap}-byte cap on a record")
            elif word == b"start":
                g, rows = rest.split()
                group, first, count = int(g), state["n"], int(rows)
            elif word == b"stopped":  # pyarrow raised: the rest of the row group is one reject
                why = rest.decode("utf-8", "replace")
                yield state["n"] + 1, self._unread(state, max(first + count, state["n"] + 1), group, why)
            elif word == b"over":  # the rows' text passed the budget: the rest of the file is not read
                total, spent = (int(x) for x in rest.split())
                state["out"] += 1
                first, state["n"] = state["n"] + 1, total
                yield first, OverBudget(first, total, f"not read: the text of its rows passes {state['budget']} "
                                                      f"bytes ({spent} with the next row)", group=group)
            elif word == b"done":  # a death before the next "start" is in the next group's header
                g, spent = rest.split()
                start, group, state["spent"] = int(g) + 1, None, int(spent)
            elif word == b"groups":
                state["groups"] = int(rest)
            elif word == b"failed":  # pyarrow's complaint about the footer; "end" follows
                failed = rest.decode("utf-8", "replace")
            elif word == b"end":
                if failed is None:
                    return None
                # the footer a first child read, a new one could not: the row group it was to read is not read
                return Unopened(failed, False) if start == 0 else (start, None, None, failed)

    def _ended(self, what: str) -> str:
        """Why the child ended (its exit code, the last line it wrote on stderr); it is gone."""
        code = self._proc.wait()
        self._err.seek(0)
        err = self._err.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
        self.close()
        last = f": {err[-1][:300]}" if err else ""
        if code == -getattr(signal, "SIGXCPU", 24):
            last = f": more than {self.cpu_seconds} s of processor time on one batch of rows"
        return f"the Parquet reader ended its process (exit code {code}){last}{what}"

    def __del__(self):  # a reader dropped without its teardown (Beam calls it at best effort) ends its child
        self.close()

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait()
            for f in (self._proc.stdin, self._proc.stdout, self._err):
                f.close()
        self._proc = self._err = None


def _main(memory_mb: int, cpu_seconds: int) -> None:  # runs in the child
    """Requests ``[path, start, row_cap, names, output, k, n, budget, spent]``
    a line on stdin, each read (``_serve``), until stdin closes;
    ``cpu_seconds`` a batch of rows."""
    import json
    import resource
    import sys

    try:  # beyond the address space the interpreter and its libraries take on import (about 330 MB here)
        limit = (memory_mb << 20) + _address_space()
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # not on this platform: the time limits still hold
        pass
    for line in sys.stdin:
        path, start, row_cap, names, output, k, n, budget, spent = json.loads(line)
        _serve(path, start, row_cap, frozenset(names), _Share(output, k, n), cpu_seconds, _Spent(budget, spent))


def _address_space() -> int:
    """This process's virtual memory now, in bytes (0 where /proc does not tell)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) << 10
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _cpu_budget(seconds: int) -> None:
    """The child is ended (SIGXCPU) once it has used ``seconds`` more of processor time."""
    import math
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    try:
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = math.ceil(used.ru_utime + used.ru_stime) + seconds
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
    except (ValueError, OSError):  # not on this platform: the clock's limit still holds
        pass


class _Share:
    """Which of a file's outputs (a record or a reject each, numbered as the
    reader numbers them) are this worker's: those k modulo n. ``output``:
    the number of the next one."""

    def __init__(self, output: int, k: int, n: int):
        self.output, self.k, self.n = output, k, n

    def mine(self, count: int) -> list[bool]:
        """Whether each of the next ``count`` outputs is this worker's (not counted yet)."""
        if self.n <= 1:
            return [True] * count
        return [(self.output + i) % self.n == self.k for i in range(count)]


class _Spent:
    """The bytes of text of a file's rows read so far, against what the file may hold (None: no cap)."""

    def __init__(self, budget: int | None = None, spent: int = 0):
        self.budget, self.spent = budget, spent

    def rows_within(self, sizes: list[int]) -> int:
        """How many of the next rows (their text's bytes: ``sizes``) stay within the budget, counted as spent."""
        if self.budget is None:
            return len(sizes)
        for i, size in enumerate(sizes):
            if self.spent + size > self.budget:
                self.spent += size  # said with the reject: where it passed
                return i
            self.spent += size
        return len(sizes)

    def passed(self) -> bool:
        return self.budget is not None and self.spent > self.budget


def _serve(path: str, start: int, row_cap: int, names: frozenset[str], share: _Share,
           cpu_seconds: int = CHECK_CPU_SECONDS, spent: _Spent | None = None) -> None:  # runs in the child
    """Read the file from row group ``start``, its rows a line each on stdout;
    past ``spent``'s budget, ``over`` and no more rows."""
    import os
    import sys

    read_name = decoded(names)
    say = sys.stdout.buffer
    with open(os.fsencode(path), "rb") as f:  # a name that is not UTF-8 travels as surrogates
        _cpu_budget(cpu_seconds)
        try:
            pf = open_file(f)
            groups = pf.metadata.num_row_groups
        except Exception as e:  # the reader says why
            say.write(f"failed {type(e).__name__}: {e}"[:1007].replace("\n", " ").encode() + b"\nend\n")
            say.flush()
            return
        say.write(b"groups %d\n" % groups)
        say.flush()
        spent = spent or _Spent()
        for g in range(start, groups):
            if not _serve_group(pf, g, row_cap, read_name, share, say, cpu_seconds, spent):
                say.write(b"over %d %d\n" % (pf.metadata.num_rows, spent.spent))
                share.output += 1
                break
    say.write(b"end\n")
    say.flush()


def _serve_group(pf, g: int, row_cap: int, read_name, share: _Share, say, cpu_seconds: int, spent: _Spent) -> bool:
    """Row group ``g``'s rows, a line each (``rec``, ``big``, ``skip``), a batch at a time, between
    ``start`` and ``done``; pyarrow's complaint is ``stopped``, for the rest of the row group. False when
    a row's text passed ``spent``'s budget: the rows before it are said, ``done`` is not."""
    import json

    _cpu_budget(cpu_seconds)
    group = pf.metadata.row_group(g)
    say.write(b"start %d %d\n" % (g, group.num_rows))
    say.flush()
    lines: list = []  # a batch's lines; a run of rows another worker reads is one count, said as "skip N"
    try:
        batches = pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[g], use_threads=False)
        while True:
            _cpu_budget(cpu_seconds)
            batch = next(batches, None)
            if batch is None:
                break
            sizes = _sizes(batch, read_name)
            within = spent.rows_within(sizes)
            if within < len(sizes):
                batch, sizes = batch.slice(0, within), sizes[:within]
            for rec, cells in _records(batch, sizes, share.mine(len(sizes)), read_name, row_cap):
                share.output += 1  # handed on (a line said at the batch's end)
                if rec is _ELSEWHERE:
                    if lines and isinstance(lines[-1], int):
                        lines[-1] += 1
                    else:
                        lines.append(1)
                elif rec is None:
                    lines.append(b"big %d\n" % cells)
                else:
                    lines.append(b"rec " + json.dumps(rec, ensure_ascii=False).encode("utf-8", "surrogatepass")
                                 + b"\n")
            _say(say, lines)
            lines = []
            if spent.passed():
                return False
    except Exception as e:  # the rows handed on stand; the reader's reject of the rest is one output
        _say(say, lines)
        say.write(f"stopped {type(e).__name__}: {str(e)[:500]}".replace("\n", " ").encode("utf-8", "replace")
                  + b"\n")
        share.output += 1
    say.write(b"done %d %d\n" % (g, spent.spent))
    say.flush()
    return True


def _say(say, lines: list) -> None:
    """A batch's lines on their way, a count of rows elsewhere as ``skip N``."""
    say.writelines(b"skip %d\n" % x if isinstance(x, int) else x for x in lines)
    say.flush()


_ELSEWHERE = object()  # in place of a row another worker's share gives (``_records``)


def _sizes(batch: pa.RecordBatch, read_name) -> list[int]:
    """The bytes of each row's text cells (its strings, and the bytes of the columns that are decoded)."""
    total = None
    for name, col in zip(batch.schema.names, batch.columns):
        t = col.type
        if (pa.types.is_string(t) or pa.types.is_large_string(t) or
                ((pa.types.is_binary(t) or pa.types.is_large_binary(t)) and read_name(name))):
            n = pc.fill_null(pc.binary_length(col), 0)
            total = n if total is None else pc.add(total, n)
    return [0] * batch.num_rows if total is None else total.to_pylist()


def _records(batch: pa.RecordBatch, sizes: list[int], mine: list[bool], read_name,
             row_cap: int) -> Iterator[tuple[object, int]]:
    """(record, bytes of its text cells) of each row of ``batch`` (``sizes``:
    ``_sizes``); a row over ``row_cap`` is (None, its bytes), not made Python
    values: a cell of hundreds of megabytes (a few kilobytes compressed) is
    not copied; a row not ``mine`` (another worker's) is (``_ELSEWHERE``, its
    bytes). Rows are made values by the same slices of the batch whoever's
    they are, so that a value that does not convert stops every worker's
    reading at the same row."""
    i = 0
    while i < len(sizes):
        if sizes[i] > row_cap:
            yield (None if mine[i] else _ELSEWHERE), sizes[i]
            i += 1
            continue
        j = i
        while j < len(sizes) and sizes[j] <= row_cap:
            j += 1
        part = batch if i == 0 and j == len(sizes) else batch.slice(i, j - i)
        for k, rec in enumerate(_converted(part, read_name), start=i):
            yield (rec if mine[k] else _ELSEWHERE), sizes[k]
        i = j


def _converted(batch: pa.RecordBatch, read_name) -> Iterator[dict]:
    """Each row of ``batch`` as a record of JSON's values."""
    names = batch.schema.names
    columns = [_values(col, read_name(name)) for name, col in zip(names, batch.columns)]
    for row in zip(*columns):
        yield dict(zip(names, row))


def _values(arr: pa.Array, decode: bool) -> list:
    """A column's values as JSON would hold them (see the module's notes)."""
    t = arr.type
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_time(t):
        if pa.types.is_timestamp(t) and t.unit == "ns":  # Python's datetime holds microseconds
            arr = pc.cast(arr, pa.timestamp("us", t.tz), safe=False)
        try:
            return [None if v is None else v.isoformat() for v in arr.to_pylist()]
        except (ValueError, OverflowError, pa.ArrowException):  # one out of datetime's range: pyarrow's own text
            text = pc.cast(arr, pa.string())
            return [_iso(arr, i, text) for i in range(len(arr))]
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return [_decoded(v) for v in arr.to_pylist()] if decode else [None] * len(arr)
    try:
        values = arr.to_pylist()
    except (ValueError, OverflowError, pa.ArrowException):  # a nested timestamp out of range: value by value
        values = [_scalar(arr, i) for i in range(len(arr))]
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_integer(t) or pa.types.is_floating(t):
        return values
    return [_plain(v) for v in values]


def _iso(arr: pa.Array, i: int, text: pa.Array) -> str | None:
    try:
        v = arr[i].as_py()
        return None if v is None else v.isoformat()
    except (ValueError, OverflowError, pa.ArrowException):
        return text[i].as_py()


def _scalar(arr: pa.Array, i: int):
    try:
        return arr[i].as_py()
    except (ValueError, OverflowError, pa.ArrowException):
        return str(arr[i])


def _decoded(value: bytes | None) -> str | None:
    """Bytes of a page or text as their charset says (a BOM, a meta tag, or
    detection); None for binary bytes that are no text."""
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return decode_bytes(value)[0]
    except DecodeError:
        return None


def _plain(value):
    """``value`` with what JSON does not hold made text: dates and times as
    ISO 8601, decimals and durations as written, bytes as UTF-8."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):  # a map column's pairs are tuples
        return [_plain(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, (decimal.Decimal, dt.timedelta)):
        return str(value)
    return str(value)


if __name__ == "__main__":
    import sys

    _main(int(sys.argv[1]), int(sys.argv[2]))
