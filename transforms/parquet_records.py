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
A child process reads each file through first (``Checker``), with a
memory limit: pyarrow's C++ can end the process that reads a damaged file,
and the reader's own process reads only as far as the child did. What the
child could not hold (a cell of 900 MB, 30 KB compressed) is ``TooLarge``.

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


def is_parquet(head: bytes) -> bool:
    return head[:4] == MAGIC


def open_file(source) -> pq.ParquetFile:
    """The file's footer read (``source``: a seekable binary file, or bytes);
    raises what pyarrow raises for a file that is not Parquet or is cut."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = pa.BufferReader(source)
    # a page's checksum, where its writer stored one (parquet-mr, Spark), is checked: a damaged page is then
    # one report, not a text whose bytes changed
    # Spark's INT96 timestamps read in microseconds: in pyarrow's default nanoseconds a date before 1677 or
    # after 2262 wraps around into another date (year 1 read as 1754-08-30)
    return pq.ParquetFile(source, memory_map=False, page_checksum_verification=True,
                          coerce_int96_timestamp_unit="us")


def decoded(names: frozenset[str]) -> Callable[[str], bool]:
    """Whether a column's bytes are decoded: it is named (in any case) as one of ``names``, case-folded."""
    return lambda name: isinstance(name, str) and name.casefold() in names


def rows(pf: pq.ParquetFile, row_cap: int, read_name: Callable[[str], bool],
         checked: "Checked | None" = None) -> Iterator[tuple[int, object]]:
    """(row number from 1, record) of each row, in the file's order; in
    place of rows not read, (their first row's number, ``TooLarge`` or
    ``BadRows``). ``read_name`` tells a column whose bytes are decoded.
    With ``checked`` (``Checker.check``), a row group the child process
    did not read through is not read here past where it stopped."""
    n = 0
    for g in range(checked.groups if checked else pf.metadata.num_row_groups):
        stop = checked.stopped.get(g) if checked else None
        if stop is not None and stop[0] is None:  # the child died before it knew the group's rows
            yield n + 1, BadRows(n + 1, n, f"row group {g}: {stop[1]}", group=g)
            continue
        group = pf.metadata.row_group(g)
        start, count = n, group.num_rows
        try:
            for rec, cells in _group(pf, g, read_name, row_cap, upto=None if stop is None else stop[0]):
                n += 1
                if cells > row_cap:
                    yield n, TooLarge(n, n, f"row holds {cells} bytes of text, over the {row_cap}-byte cap "
                                            f"on a record")
                else:
                    yield n, rec
            if stop is not None:
                raise RuntimeError(stop[1])
        except Exception as e:  # pyarrow's complaint about this row group's bytes: the next one is read
            last = max(start + count, n + 1)
            if "MemoryError" in str(e):  # the child could not hold what reading the rest takes (a bomb of a cell)
                yield n + 1, TooLarge(n + 1, last, f"row group {g}: reading it takes more than the reading "
                                                   f"child's {CHECK_MEMORY_MB} MB ({e})"[:1000], group=g)
            else:
                yield n + 1, BadRows(n + 1, last, f"{type(e).__name__}: {e}")
            n = last
        n = max(n, start + count)


def _group(pf: pq.ParquetFile, g: int, read_name, row_cap: int,
           upto: int | None = None) -> Iterator[tuple[dict | None, int]]:
    """(record, bytes of its text cells) of each row of row group ``g``, or of
    its first ``upto`` rows; a row over ``row_cap`` is (None, its bytes)."""
    n = 0
    batches = pf.iter_batches(batch_size=BATCH_ROWS, row_groups=[g], use_threads=False)
    while upto is None or n < upto:  # the batch past ``upto`` is not even decoded: the child died decoding it
        batch = next(batches, None)
        if batch is None:
            return
        for rec in _records(batch, read_name, row_cap):
            if upto is not None and n >= upto:
                return
            n += 1
            yield rec


# -- reading in a child process first ------------------------------------------------
# pyarrow's Parquet reader is C++: on some damaged files it does not raise but aborts the process
# ("terminate called after throwing an instance of 'parquet::ParquetException'", found by generated
# files), or could run long or allocate what a damaged header claims. So a child process reads the
# file first, under a time and memory limit, and the reader's own process reads only what the child
# read through: the same library on the same bytes does the same.
# A row group (or the footer) that takes the child more processor time than this is not read: processor time,
# not the clock's, so that a busy machine does not change what is read (every worker sharing a file by strides
# must read the same rows); the clock's limit only catches a child that waits on nothing
CHECK_CPU_SECONDS = 60
CHECK_SECONDS = 600.0
# address space the child may take beyond what its libraries reserve on import, as an extraction child's
# (--extract-memory-mb): the reader's own process never reads what needed more
CHECK_MEMORY_MB = 2048
MAX_RESTARTS = 16  # row groups that kill the child before the rest of the file is given up


class Checked:
    """What the child found: the file's row groups, and ``stopped``: row
    group -> (rows read before it stopped, None if not known; why)."""

    def __init__(self):
        self.groups = 0
        self.stopped: dict[int, tuple[int | None, str]] = {}
        self.failure: str | None = None  # the footer killed the child: nothing is read


class Checker:
    """A child process that reads Parquet files through as ``rows`` reads
    them, one request at a time, saying where it is: started on its first
    file, and again after a file that ended it or took too long. One a
    reader (``read._ReadFileFn``), closed with it."""

    def __init__(self, timeout: float = CHECK_SECONDS, memory_mb: int = CHECK_MEMORY_MB,
                 cpu_seconds: int = CHECK_CPU_SECONDS):
        self.timeout, self.memory_mb, self.cpu_seconds = timeout, memory_mb, cpu_seconds
        self._proc = self._err = None
        self._buf = b""

    def check(self, path: str, row_cap: int, names: frozenset[str]) -> Checked:
        """How far the child reads the local file ``path`` (rows over
        ``row_cap`` are not made values; ``names``: the columns whose bytes
        are decoded, case-folded), a new child after a row group that ends one."""
        out, start, restarts = Checked(), 0, 0
        while True:
            state = self._request(path, start, row_cap, sorted(names), out)
            if state is None:  # read to the end
                return out
            g, rows, why = state
            if g is None and start == 0:  # the footer: nothing is read
                out.failure = why
                return out
            if g is None:  # a new child that did not get past the footer the first one read
                g, rows = start, None
            out.stopped[g] = (rows, why)
            restarts += 1
            start = g + 1
            if start >= out.groups:
                return out
            if restarts >= MAX_RESTARTS:
                for k in range(start, out.groups):
                    out.stopped[k] = (None, f"not read: {MAX_RESTARTS} row groups before it ended "
                                                       f"the Parquet reader")
                return out

    def command(self) -> list[str]:
        """The child's command line (a fresh interpreter: not fork, the parent runs gRPC threads)."""
        from transforms.sandbox import child_command

        return child_command("transforms.parquet_records", str(self.memory_mb), str(self.cpu_seconds))

    def _start(self) -> None:
        import subprocess
        import tempfile

        from transforms.sandbox import child_environment

        env = child_environment()
        # the C library's allocator: pyarrow's own (jemalloc, mimalloc) keeps address space it has freed, which
        # the address-space limit counts: a 300 MB cell ended a child with 2 GB to spare
        env["ARROW_DEFAULT_MEMORY_POOL"] = "system"
        self._err = tempfile.TemporaryFile()  # a pipe nobody reads could fill and block the child
        self._proc = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=self._err, env=env)
        self._buf = b""

    def _request(self, path, start, row_cap, names, out: Checked):
        """The child's reading from row group ``start``: None when it read to
        the end, else (row group or None for the footer, rows it gave or
        None, why it ended), the child then gone."""
        import json
        import os
        import select
        import time

        if self._proc is None:
            self._start()
        group, rows = None, None
        try:
            self._proc.stdin.write(json.dumps([os.fsdecode(path), start, row_cap, names]).encode() + b"\n")
            self._proc.stdin.flush()
        except OSError:
            return group, rows, self._ended("; it could not be handed the file")
        deadline = time.monotonic() + self.timeout
        while True:
            while b"\n" not in self._buf:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([self._proc.stdout], [], [], left)[0]:
                    self.close()
                    return group, rows, f"reading took longer than {self.timeout:g} s"
                chunk = os.read(self._proc.stdout.fileno(), 1 << 16)
                if not chunk:
                    return group, rows, self._ended("")
                self._buf += chunk
            line, self._buf = self._buf.split(b"\n", 1)
            word, *rest = line.decode("utf-8", "replace").split(" ", 2)
            if word == "groups":
                out.groups = int(rest[0])
                group, rows = start, None
            elif word == "start":  # its rows known: a death in it keeps the rows it read before
                group, rows = int(rest[0]), 0
                deadline = time.monotonic() + self.timeout
            elif word == "done":  # a death before the next "start" is in the next group's header
                group, rows = int(rest[0]) + 1, None
            elif word == "rows":
                rows = int(rest[0])
            elif word == "stopped":
                out.stopped[group] = (int(rest[0]), rest[1] if len(rest) > 1 else "")
            elif word == "end":
                return None

    def _ended(self, what: str) -> str:
        """Why the child ended (its exit code, the last line it wrote on stderr); it is gone."""
        code = self._proc.wait()
        self._err.seek(0)
        err = self._err.read()[-2000:].decode("utf-8", "replace").strip().splitlines()
        self.close()
        last = f": {err[-1][:300]}" if err else ""
        if code == -getattr(signal, "SIGXCPU", 24):
            last = f": more than {self.cpu_seconds} s of processor time on one row group"
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
    """Requests ``[path, start, row_cap, names]`` a line on stdin, each read
    through (``_serve``), until stdin closes; ``cpu_seconds`` a row group."""
    import json
    import resource
    import sys

    try:  # beyond the address space the interpreter and its libraries take on import (about 330 MB here)
        limit = (memory_mb << 20) + _address_space()
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError):  # not on this platform: the time limits still hold
        pass
    for line in sys.stdin:
        path, start, row_cap, names = json.loads(line)
        _serve(path, start, row_cap, frozenset(names), cpu_seconds)


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


def _serve(path: str, start: int, row_cap: int, names: frozenset[str],
           cpu_seconds: int = CHECK_CPU_SECONDS) -> None:  # runs in the child
    """Read the file from row group ``start`` as ``rows`` does, saying where it is."""
    import os
    import sys

    read_name = decoded(names)
    say = sys.stdout
    with open(os.fsencode(path), "rb") as f:  # a name that is not UTF-8 travels as surrogates
        _cpu_budget(cpu_seconds)
        try:
            pf = open_file(f)
            groups = pf.metadata.num_row_groups
        except Exception:  # the parent opens it and gets the same error
            groups = 0
        print(f"groups {groups}", file=say, flush=True)
        for g in range(start, groups):
            _cpu_budget(cpu_seconds)
            _serve_group(pf, g, row_cap, read_name, say)
    print("end", file=say, flush=True)


def _serve_group(pf, g: int, row_cap: int, read_name, say) -> None:
    """Row group ``g`` read through, its rows counted aloud (``start``, ``rows``, ``stopped``, ``done``)."""
    group = pf.metadata.row_group(g)  # as ``rows`` reads it
    print(f"start {g} {group.num_rows}", file=say, flush=True)
    n = 0
    try:
        for _ in _group(pf, g, read_name, row_cap):
            n += 1
            if n % BATCH_ROWS == 0:
                print(f"rows {n}", file=say, flush=True)
    except Exception as e:  # the parent stops where this did, and says why
        print(f"stopped {n} {type(e).__name__}: {str(e)[:500]}".replace("\n", " "), file=say, flush=True)
    print(f"done {g}", file=say, flush=True)


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


def _records(batch: pa.RecordBatch, read_name, row_cap: int) -> Iterator[tuple[dict | None, int]]:
    """(record, bytes of its text cells) of each row of ``batch``; a row over
    ``row_cap`` is (None, its bytes), not made Python values: a cell of
    hundreds of megabytes (a few kilobytes compressed) is not copied."""
    sizes = _sizes(batch, read_name)
    if max(sizes, default=0) <= row_cap:
        yield from zip(_converted(batch, read_name), sizes)
        return
    i = 0
    while i < len(sizes):
        if sizes[i] > row_cap:
            yield None, sizes[i]
            i += 1
            continue
        j = i
        while j < len(sizes) and sizes[j] <= row_cap:
            j += 1
        yield from zip(_converted(batch.slice(i, j - i), read_name), sizes[i:j])
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
