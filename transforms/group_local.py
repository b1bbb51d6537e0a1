"""Near-duplicates and stories of a whole run in one step, for the local runner.

``GroupArticles`` spreads the grouping over a graph of ~160 Beam steps (23
shuffles): band buckets, candidate pairs, two joins, components, stories.
On a cluster that is what lets it scale out. The local FnApiRunner runs
each of those steps as a stage of its own (~30 ms each, whatever the
batch) and holds every shuffle of them in memory at once. Here the same
algorithm runs in one worker, step for step, on the run's link records held
as columns (``_Batch``: one row per doc_id, sorted by it):

- the same functions judge a pair, make a bucket's pairs, cluster a
  component and average its links (``transforms.dedup``,
  ``transforms.stories``, ``transforms.linkage``);
- buckets are sorted arrays of (bucket key, row), one band of the MinHash
  at a time; their pairs are made with NumPy, as 8-byte codes, a range of
  first members at a time (``_pair_codes``);
- links are integer arrays; components are rooted at their smallest row (the
  smallest doc_id), as the graph's union-find (``components.UnionFind``)
  roots them, found with NumPy (``_roots``), and each component is handed to
  the clustering step on its own, so only its members are ever dicts;
- arrays of a link or an entry each are read in chunks (``LINK_CHUNK``)
  rather than copied whole, and the MinHash signatures wait in a file on
  disk (``_Signatures``), read back a row or a band at a time.

So it returns the labels ``GroupArticles`` returns (a test runs both on
the same records, and the end-to-end test compares runners that take either
path), and ``LabelStaged`` reads the columns straight from the staged files:
a signature is 504 bytes of a file, not a dict entry.
"""
from __future__ import annotations

import bisect
import math
import os
import tempfile
from array import array
from typing import Callable, Iterable

import apache_beam as beam
import numpy as np
import pyarrow as pa

from transforms import dedup, stories
from transforms.beam_memory import trim_heap
from transforms.grouping import record_order

__all__ = ["LabelStaged", "label_articles"]

MAX_CODES = 1 << 17  # story pairs made distinct at once (1 MB of codes, a few times over while sorted)
CHUNK = 1 << 16  # array entries turned into Python objects at once
STORY_PAIRS = 1 << 14  # story pairs judged at once (~50 vector entries a pair: ~20 MB of arrays at the most)
LINK_CHUNK = 1 << 18  # links read at once where a whole array of a link each would be a copy
VECTOR_SPAN = 1 << 20  # bytes of story vectors read at once (``_Batch.vectors_of``) ...
VECTOR_WASTE = 8  # ... when the rows wanted fill at least an eighth of them
VECTOR_BLOCK = 1 << 12  # rows whose story vectors are held at once when every row's are read


class _SpillFile:
    """An unnamed file on disk (in ``folder``, the system's temporary folder if
    None; gone when closed) that the batch keeps what it reads again and again
    in, rather than in the worker's memory: written and read at offsets
    (``pwrite``, ``pread``: nothing is mapped, so nothing of it counts in the
    process' memory; the operating system keeps it in its page cache while
    memory is free)."""

    def __init__(self, folder: str | None = None):
        self.folder = folder
        self.size = 0  # bytes written
        self._file = None
        # positional reads and writes where the system has them (not Windows,
        # not preadv on older macOS), else seek then read or write
        self._pread, self._pwrite, self._preadv = (getattr(os, f, None) for f in ("pread", "pwrite", "preadv"))

    def _raw(self):
        if self._file is None:
            self._file = tempfile.TemporaryFile(dir=self.folder, prefix="newsbeam-spill-", buffering=0)
        return self._file

    def write(self, data, offset: int) -> None:
        view = memoryview(data).cast("B")
        self.size = max(self.size, offset + len(view))
        while len(view):
            if self._pwrite:
                done = self._pwrite(self._raw().fileno(), view, offset)
            else:  # one thread uses the file: seek, then write
                self._raw().seek(offset)
                done = self._raw().write(view)
            view, offset = view[done:], offset + done

    def append(self, data) -> int:
        """Write ``data`` at the end; returns its offset."""
        offset = self.size
        self.write(data, offset)
        return offset

    def read(self, offset: int, size: int) -> bytes:
        if self._pread:
            data = self._pread(self._raw().fileno(), size, offset)
        else:
            self._raw().seek(offset)
            data = self._raw().read(size)
        if len(data) != size:
            raise IndexError(f"{size} bytes at {offset} of a spill file of {self.size}")
        return data

    def read_into(self, buf: np.ndarray, offset: int) -> None:
        view = memoryview(buf).cast("B")
        if self._preadv:
            done = self._preadv(self._raw().fileno(), [view], offset)
        else:
            self._raw().seek(offset)
            done = self._raw().readinto(view)
        if done != len(view):
            raise IndexError(f"{len(view)} bytes at {offset} of a spill file of {self.size}")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


class _Signatures:
    """MinHash signatures (``dedup.NUM_PERM`` uint32 a row) in a ``_SpillFile``, in
    the order they were added, read back a row or a band's columns at a time
    (504 bytes an article, which the near-duplicate step reads a few times)."""

    ROW = dedup.NUM_PERM * 4
    BLOCK = 1 << 13  # rows read at once for a band's columns (4 MB)
    PENDING = 1 << 12  # rows added one by one, written at once

    def __init__(self, folder: str | None = None):
        self.rows = 0  # rows in the file
        self._file = _SpillFile(folder)
        self._pending: list[bytes] = []

    def append(self, sigs) -> None:
        """Add rows: a (k, NUM_PERM) uint32 array, or one row's bytes."""
        if isinstance(sigs, (bytes, bytearray, memoryview)):
            sigs = bytes(sigs)
            if len(sigs) != self.ROW:
                raise ValueError(f"a MinHash signature of {len(sigs)} bytes, not {self.ROW}")
            self._pending.append(sigs)
            if len(self._pending) >= self.PENDING:
                self.flush()
            return
        self.flush()
        sigs = np.ascontiguousarray(sigs, dtype=np.uint32)
        if sigs.ndim != 2 or sigs.shape[1] != dedup.NUM_PERM:
            raise ValueError(f"MinHash signatures of shape {sigs.shape}")
        if len(sigs):
            self._file.write(sigs, self.rows * self.ROW)
            self.rows += len(sigs)

    def flush(self) -> None:
        if self._pending:
            self._file.write(b"".join(self._pending), self.rows * self.ROW)
            self.rows += len(self._pending)
            self._pending = []

    def put(self, pos: int, sig: bytes) -> None:
        """Row ``pos`` (already added) is ``sig``."""
        self.flush()
        if len(sig) != self.ROW or not 0 <= pos < self.rows:
            raise ValueError(f"a MinHash signature of {len(sig)} bytes for row {pos} of {self.rows}")
        self._file.write(sig, pos * self.ROW)

    def row(self, pos: int) -> bytes:
        if self._pending:
            self.flush()
        if not 0 <= pos < self.rows:
            raise IndexError(f"signature row {pos} of {self.rows}")
        return self._file.read(pos * self.ROW, self.ROW)

    def columns(self, lo: int, hi: int, rows: np.ndarray) -> np.ndarray:
        """Columns [lo, hi) of ``rows``, as an array (len(rows), hi - lo)."""
        self.flush()
        out = np.empty((self.rows, hi - lo), dtype=np.uint32)
        buf = np.empty((self.BLOCK, dedup.NUM_PERM), dtype=np.uint32)
        for start in range(0, self.rows, self.BLOCK):
            part = buf[:min(self.BLOCK, self.rows - start)]
            self._file.read_into(part, start * self.ROW)
            out[start:start + len(part)] = part[:, lo:hi]
        return out[rows]

    def close(self) -> None:
        self._file.close()


class _Batch:
    """The run's link records, one per doc_id (new, and the earlier runs'
    index), as columns in doc_id order: doc_ids and the fields read as Python
    objects in lists, numbers and hashes in arrays (``_ARRAYS``: a row's
    content hash is 32 bytes of one array, not a string object), and the
    story vectors and the signatures on disk (``vectors``, ``sigs``: see
    ``_SpillFile``). The signatures (the dedup step's) and the story vectors
    can be dropped once used."""

    # Python-object columns, and the columns kept as arrays (their dtype and the
    # value that stands for None where a record may lack the field)
    _LISTS = ("ids", "published", "cluster0", "story0", "language")
    _ARRAYS = {"old": (bool, False), "content": ("S", b""), "length": (np.int64, -1), "is_mt": (bool, False),
               "n": (np.int64, 0), "lead": (np.uint64, 0), "has_lead": (bool, False)}

    def __init__(self, folder: str | None = None):
        self.ids: list[str] = []
        self.published: list = []
        self.cluster0: list[str | None] = []  # an earlier run's dup_cluster_id
        self.story0: list[str | None] = []  # an earlier run's story_id
        self.language: list[str | None] = []
        # until ``finish``: the array columns as pieces in the order rows were
        # added, the rows of ``add`` waiting as lists; then one array each
        self._pieces: dict[str, list] = {name: [] for name in self._ARRAYS}
        self._rows: dict[str, list] = {name: [] for name in self._ARRAYS}
        self.old = self.content = self.length = self.is_mt = self.n = self.lead = self.has_lead = None
        self.when: np.ndarray | None = None  # publication times for stories (POSIX seconds, NaN: unknown)
        # story vectors: packed (terms, anchors) pairs in a file, row i's at
        # ``_where[i]`` = (start, end of terms, end of anchors); rows added by
        # ``add`` wait here ({position: (terms, anchors)}) to be written at ``finish``
        self._vec_file: _SpillFile | None = _SpillFile(folder)
        self._where: np.ndarray | None = None
        self._vec_at: dict[int, tuple[bytes, bytes]] = {}
        # signatures in the order rows were added, in a file in ``folder`` (the
        # system's temporary folder if None); ``sig_at[i]``: row i's, from ``finish``
        self.sigs: _Signatures | None = _Signatures(folder)
        self.sig_at: np.ndarray | None = None
        self._replaced: dict[int, tuple] = {}
        # fills in the story vectors of rows added without them (``_staged_batch``)
        self.story_columns: Callable[["_Batch"], None] | None = None

    def add(self, rec: dict, old: bool) -> int:
        """Append a record (a dict of link record fields); returns its position."""
        pos = len(self.ids)
        lists, arrays = self._values(rec, old)
        for name, value in zip(self._LISTS, lists):
            getattr(self, name).append(value)
        for name, value in zip(self._ARRAYS, arrays):
            self._rows[name].append(value)
        self._add_vectors(pos, rec)
        self.sigs.append(rec["sig"])
        return pos

    def add_columns(self, columns: dict, sigs: np.ndarray) -> None:
        """Append new rows given as columns (``ids``, ``published`` and
        ``language`` lists, and the arrays ``_batch_columns`` makes of the
        others), and their signatures, one row each; their story vectors come
        later (``set_vectors``)."""
        k = len(sigs)
        self._flush_rows()
        for name in self._LISTS:
            getattr(self, name).extend(columns[name] if name in columns else [None] * k)
        for name, (dtype, none) in self._ARRAYS.items():
            col = columns.get(name)
            self._pieces[name].append(np.full(k, none, dtype=dtype if dtype != "S" else "S1") if col is None
                                      else np.asarray(col, dtype=dtype))
        self.sigs.append(sigs)

    def replace(self, pos: int, rec: dict, old: bool) -> None:
        """Put ``rec`` in the place of the record at ``pos`` (another record of its doc_id)."""
        lists, arrays = self._values(rec, old)
        for name, value in zip(self._LISTS, lists):
            getattr(self, name)[pos] = value
        self._replaced[pos] = arrays
        self.sigs.put(pos, rec["sig"])
        self._add_vectors(pos, rec)

    def _add_vectors(self, pos: int, rec: dict) -> None:
        self._vec_at[pos] = (rec["terms"], rec.get("anchors"))

    def _flush_rows(self) -> None:
        if self._rows["old"]:
            for name, (dtype, _) in self._ARRAYS.items():
                self._pieces[name].append(np.array(self._rows[name], dtype=dtype))
                self._rows[name] = []

    @staticmethod
    def _values(rec: dict, old: bool) -> tuple[tuple, tuple]:
        lead = rec.get("lead")
        length = rec.get("length")
        return ((rec["doc_id"], rec.get("published_at"), rec.get("dup_cluster_id") if old else None,
                 rec.get("story_id") if old else None, rec.get("language")),
                (old, rec["content_hash"].encode(), -1 if length is None else length,
                 bool(rec.get("is_machine_translated")), rec["n"], int(lead, 16) if lead else 0, bool(lead)))

    def finish(self) -> "_Batch":
        """Rows in doc_id order (the signatures stay where they are: ``sig_at``)."""
        order = sorted(range(len(self.ids)), key=self.ids.__getitem__)
        for name in self._LISTS:
            col = getattr(self, name)
            setattr(self, name, [col[i] for i in order])
        self._flush_rows()
        at = np.array(order, dtype=np.int64)
        del order
        for name, (dtype, _) in self._ARRAYS.items():
            pieces = self._pieces.pop(name)
            col = np.concatenate(pieces) if pieces else np.zeros(0, dtype=dtype if dtype != "S" else "S1")
            del pieces
            if self._replaced:
                k = list(self._ARRAYS).index(name)
                values = np.array([v[k] for v in self._replaced.values()], dtype=dtype)
                col = col.astype(np.promote_types(col.dtype, values.dtype), copy=False)  # a longer hash
                col[list(self._replaced)] = values
            setattr(self, name, col[at])
            del col
        self._pieces = self._rows = None
        self._replaced = {}
        self.sigs.flush()
        if self.sigs.rows != len(at):  # a bug: each row added has its signature
            raise RuntimeError(f"{len(at)} rows, {self.sigs.rows} signatures")
        self.sig_at = at
        # the story vectors of rows added one by one
        self._where = np.full((len(at), 3), -1, dtype=np.int64)
        if self._vec_at:
            rank = np.empty(len(at), dtype=np.int64)
            rank[at] = np.arange(len(at))
            vectors = self._vec_at.values()
            self.set_vectors(rank[list(self._vec_at)], [t for t, _ in vectors], [a for _, a in vectors])
        self._vec_at = {}
        return self

    def __len__(self):
        return len(self.ids)

    def row(self, doc_id: str) -> int:
        i = bisect.bisect_left(self.ids, doc_id)
        if i == len(self.ids) or self.ids[i] != doc_id:
            raise KeyError(doc_id)
        return i

    def set_vectors(self, rows: list[int], terms: list[bytes], anchors: list) -> None:
        """The story vectors of ``rows`` (after ``finish``), written at once."""
        starts = np.cumsum([0] + [len(t) + len(a or b"") for t, a in zip(terms, anchors)], dtype=np.int64)
        starts += self._vec_file.append(b"".join(x for t, a in zip(terms, anchors) for x in (t, a or b"")))
        where = np.empty((len(rows), 3), dtype=np.int64)
        where[:, 0] = starts[:-1]
        where[:, 1] = starts[:-1] + np.array([len(t) for t in terms], dtype=np.int64)
        where[:, 2] = starts[1:]
        self._where[rows] = where

    def vectors(self, i: int) -> tuple[bytes, bytes]:
        """Row ``i``'s story vectors (terms, anchors)."""
        s, m, e = self._where[i].tolist()
        if s < 0:
            raise ValueError(f"row {i} ({self.ids[i]}) has no story vectors")
        data = self._vec_file.read(s, e - s)
        return data[:m - s], data[m - s:]

    def vectors_of(self, rows: list[int]) -> list[tuple[bytes, bytes]]:
        """``vectors`` of each of ``rows``, in their order. Where the rows'
        vectors fill at least ``1 / VECTOR_WASTE`` of a ``VECTOR_SPAN`` of the
        file, the span is read at once and cut up (a labelling chunk needs
        thousands of rows, one read each was a sixth of labelling's time);
        rows scattered thinner over the file are read one at a time, so no
        more than that many times their bytes is ever read."""
        if not len(rows):
            return []
        where = self._where[np.asarray(rows, dtype=np.int64)]
        missing = np.flatnonzero(where[:, 0] < 0)
        if missing.size:
            i = rows[int(missing[0])]
            raise ValueError(f"row {i} ({self.ids[i]}) has no story vectors")
        span = where[:, 0] // VECTOR_SPAN
        out: list = [None] * len(rows)
        for k in np.unique(span).tolist():
            at = np.flatnonzero(span == k)
            lo, hi = int(where[at, 0].min()), int(where[at, 2].max())
            if int((where[at, 2] - where[at, 0]).sum()) * VECTOR_WASTE >= hi - lo:
                data = self._vec_file.read(lo, hi - lo)
                for j, (s, m, e) in zip(at.tolist(), (where[at] - lo).tolist()):
                    out[j] = (data[s:m], data[m:e])
            else:
                for j in at.tolist():
                    out[j] = self.vectors(rows[j])
        return out

    def rows_in_file_order(self) -> np.ndarray:
        """Every row, in the order of its story vectors in the file (rows without any first)."""
        return np.argsort(self._where[:, 0], kind="stable")

    def drop_vectors(self) -> None:
        self._vec_file.close()
        self._vec_file = self._where = None

    def signature(self, i: int) -> bytes:
        return self.sigs.row(int(self.sig_at[i]))

    def drop_signatures(self) -> None:
        self.sigs.close()
        self.sigs = self.sig_at = None

    def dedup_member(self, i: int) -> dict:
        """``dedup._member`` of row ``i``."""
        length = int(self.length[i])
        return {"doc_id": self.ids[i], "sig": self.signature(i), "n": int(self.n[i]),
                "published_at": self.published[i], "length": None if length < 0 else length,
                "is_machine_translated": bool(self.is_mt[i]), "old": True if self.old[i] else None,
                "dup_cluster_id": self.cluster0[i]}

    def payload(self, i: int) -> tuple:
        """``stories._payload`` of row ``i``."""
        return self.payloads([i])[0]

    def payloads(self, rows: list[int]) -> list[tuple]:
        """``payload`` of each of ``rows``, their vectors read a span at a time (``vectors_of``)."""
        when = self.when[rows].tolist() if self.when is not None else [math.nan] * len(rows)
        return [(*vec, self.language[i], None if math.isnan(t) else t)
                for i, vec, t in zip(rows, self.vectors_of(rows), when)]

    def story_member(self, i: int) -> dict:
        """``stories._member`` of row ``i``."""
        return self.story_members([i])[0]

    def story_members(self, rows: list[int]) -> list[dict]:
        """``story_member`` of each of ``rows``."""
        return [{"doc_id": self.ids[i], "old": True if self.old[i] else None, "story_id": self.story0[i], "vec": p}
                for i, p in zip(rows, self.payloads(rows))]


class _DupLabels:
    """The near-duplicate labels of a batch's rows as columns (not a tuple a row):
    ``cluster[i]`` (None for a row in no cluster), ``is_dup[i]``, ``sim[i]`` (NaN
    for None)."""

    def __init__(self, n: int):
        self.cluster: list[str | None] = [None] * n
        self.is_dup = np.zeros(n, dtype=bool)
        self.sim = np.full(n, np.nan)

    def set(self, i: int, label: tuple) -> None:
        cluster, is_dup, sim = label
        self.cluster[i] = cluster
        self.is_dup[i] = is_dup
        self.sim[i] = np.nan if sim is None else sim

    def get(self, i: int, doc_id: str) -> tuple:
        """Row ``i``'s (dup_cluster_id, is_duplicate, dup_similarity); a row in no
        cluster is its own (``doc_id``)."""
        if self.cluster[i] is None:
            return doc_id, False, None
        sim = float(self.sim[i])
        return self.cluster[i], bool(self.is_dup[i]), None if sim != sim else sim


class _Links:
    """Links (row_a, row_b, weight) as three arrays, 16 bytes a link (a story
    batch finds ~18 links an article, most of them too weak to make a
    component)."""

    def __init__(self):
        self.a, self.b, self.w = array("i"), array("i"), array("d")

    def add(self, a: int, b: int, w: float) -> None:
        self.a.append(a)
        self.b.append(b)
        self.w.append(w)

    def add_many(self, a: Iterable[int], b: Iterable[int], w: Iterable[float]) -> None:
        self.a.extend(a)
        self.b.extend(b)
        self.w.extend(w)

    def clear(self) -> None:
        """Let the links go (no array of them may be in use)."""
        self.a, self.b, self.w = array("i"), array("i"), array("d")

    def extend(self, other: "_Links") -> None:
        self.add_many(other.a, other.b, other.w)

    def arrays(self):
        return (np.frombuffer(self.a, dtype=np.int32), np.frombuffer(self.b, dtype=np.int32),
                np.frombuffer(self.w, dtype=np.float64))


def _roots(n: int, a: np.ndarray, b: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Each row's component root over the strong links: the smallest row in it (so
    the smallest doc_id), as the graph's union-find (``components.UnionFind``)
    roots it; -1 for a row on none. By NumPy, as Shiloach and Vishkin's
    algorithm does it (an array of a row, not a dict entry): each link hooks
    the larger of its ends' labels, and the row it names, to the smaller;
    labels are then followed to their ends; until every link's ends share a
    label. A label is only ever lowered to another row of the same component,
    so the smallest row keeps its own, and all its component ends on it. The
    links are read ``LINK_CHUNK`` at a time (a component can have millions)."""
    roots = np.full(n, -1, dtype=np.int32)
    if not strong.any():
        return roots
    label = np.arange(n, dtype=np.int32)

    def chunks():
        for s in range(0, len(a), LINK_CHUNK):
            keep = strong[s:s + LINK_CHUNK]
            yield a[s:s + LINK_CHUNK][keep], b[s:s + LINK_CHUNK][keep]

    while True:
        for x, y in chunks():
            lx, ly = label[x], label[y]
            np.minimum.at(label, lx, ly)  # the rows the labels name (roots, once compressed)
            np.minimum.at(label, ly, lx)
            np.minimum.at(label, x, ly)
            np.minimum.at(label, y, lx)
        while True:  # every label to the end of its chain
            up = label[label]
            if np.array_equal(up, label):
                break
            label = up
        if all(np.array_equal(label[x], label[y]) for x, y in chunks()):
            break
    on = np.zeros(n, dtype=bool)
    for x, y in chunks():
        joins = x != y  # (a link from a row to itself puts it in no component)
        on[x[joins]] = on[y[joins]] = True
    roots[on] = label[on]
    return roots


def _component_rows(n: int, links: _Links, strong: Callable):
    """(root, its rows, its links' positions in ``links``) of each component over the
    strong links, in root order (the smallest doc_id): the rows on a strong link,
    and each link with the component of its first end (``dedup.Components``)."""
    a, b, w = links.arrays()
    roots = _roots(n, a, b, strong(w))
    rows = np.flatnonzero(roots >= 0)
    rows = rows[np.argsort(roots[rows], kind="stable")]
    row_root = roots[rows]
    starts = np.flatnonzero(np.r_[True, row_root[1:] != row_root[:-1]]) if len(rows) else np.zeros(0, np.int64)
    edges, first = _grouped(roots, a)  # links in root order; those off every component (-1) first
    edge_cut = first[row_root[starts] + 1].tolist() + [len(edges)]
    row_cut = starts.tolist() + [len(rows)]
    for k in range(len(starts)):
        yield int(row_root[starts[k]]), rows[row_cut[k]:row_cut[k + 1]], edges[edge_cut[k]:edge_cut[k + 1]]


def _grouped(roots: np.ndarray, a: np.ndarray):
    """(positions of the links in the order of their first end's root, stably:
    ``argsort(roots[a], kind="stable")``; where the links of root r - 1 start, for r
    in 0..n). A counting sort, ``LINK_CHUNK`` links at a time: the order as int32
    and nothing else of a link each (a story batch has millions)."""
    n = len(roots)
    count = np.zeros(n + 1, dtype=np.int64)
    for s in range(0, len(a), LINK_CHUNK):
        count += np.bincount(roots[a[s:s + LINK_CHUNK]] + 1, minlength=n + 1)
    first = np.r_[0, np.cumsum(count)[:-1]]
    at = first.copy()  # where the next link of each root goes
    order = np.empty(len(a), dtype=np.int32 if len(a) < 1 << 31 else np.int64)
    for s in range(0, len(a), LINK_CHUNK):
        key = roots[a[s:s + LINK_CHUNK]] + 1
        here = np.argsort(key, kind="stable")
        key = key[here]
        rank = np.arange(len(key)) - np.searchsorted(key, key)  # among this chunk's links of its root
        order[at[key] + rank] = here + s
        at += np.bincount(key, minlength=n + 1)
    return order, first


def _edge_tuples(ids: list[str], links: _Links, edges: np.ndarray) -> list[tuple]:
    """Links at positions ``edges`` as (doc_id_a, doc_id_b, weight), as the Beam graph's steps take them."""
    a, b, w = links.arrays()
    return [(ids[x], ids[y], z) for x, y, z in zip(a[edges].tolist(), b[edges].tolist(), w[edges].tolist())]


def _story_ids(batch: _Batch, links: _Links, threshold: float, adopted: np.ndarray):
    """(doc_id, story_id) of the new rows of each component (``stories._StoryIdFn``). A
    component with more pairs than ``stories.MAX_PAIRS`` (``adopted`` rows apart) is
    averaged over its own links (``stories._all_links``), handed over as arrays rather
    than a tuple each; those components come last, and ``links`` is emptied once they
    have their links."""
    from transforms.linkage import average_link_indexed

    a, b, w = links.arrays()
    story = stories._StoryIdFn(threshold)
    ids = batch.ids
    strong = lambda w: (w >= threshold) | (w == dedup.SAME_GROUP) | (w == dedup.ADOPTED)  # noqa: E731
    big = []
    for root, rows, edges in _component_rows(len(batch), links, strong):
        core = rows[~adopted[rows]]
        new = len(core) - int(batch.old[core].sum())
        if dedup.pair_count(new, len(core)) <= stories.MAX_PAIRS:  # stories.component_stories' choice
            members = batch.story_members(rows.tolist())
            yield from story.process((ids[root], {"member": members, "edge": _edge_tuples(ids, links, edges)}))
        else:
            big.append((rows, edges))
    # the big components are averaged over their found links alone: the story
    # vectors go first, and the run's links once each big component has its own,
    # as places among its rows (in doc_id order, as the sorted members are)
    batch.drop_vectors()
    big = [(rows.copy(), _component_links(rows, a, b, w, edges)) for rows, edges in big]
    del a, b, w
    links.clear()
    trim_heap()
    while big:
        rows, raw = big.pop(0)
        i, j, ew = _sorted_links(raw, len(rows))
        members = [_Member(ids[x], True if batch.old[x] else None, batch.story0[x], "story_id")
                   for x in rows.tolist()]
        groups = average_link_indexed(members, i, j, ew, threshold)
        del i, j, ew, members  # before the labels are kept
        for group_id, group in groups:
            yield from ((m.doc_id, group_id or group[0].doc_id) for m in group if not m.old)


class _Member:
    """What the linkage reads of a member of a big component (its doc_id, whether it
    is an earlier run's, and that run's group id under ``key``), as a dict member
    is read; ``row``: its row in the batch."""
    __slots__ = ("doc_id", "old", "group", "key", "row")

    def __init__(self, doc_id: str, old: bool | None, group: str | None, key: str, row: int | None = None):
        self.doc_id, self.old, self.group, self.key, self.row = doc_id, old, group, key, row

    def get(self, name: str, default=None):
        if name == self.key:
            return self.group
        return getattr(self, name) if name in ("doc_id", "old") else default

    __getitem__ = get


def _places(rows: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray, at: np.ndarray | None = None):
    """Links (rows a, b, weight; those at positions ``at`` if given) of a component
    as ``linkage.average_link_indexed`` takes them: (i, j, weight) of places among
    ``rows`` (sorted), i < j, both ends in it, no loop, weight >= 0, sorted."""
    return _sorted_links(_component_links(rows, a, b, w, at), len(rows))


def _component_links(rows: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray,
                     at: np.ndarray | None = None) -> list:
    """``_places`` before the sort: [i, j, weight], in link order. Read
    ``LINK_CHUNK`` links at a time into arrays of the kept links' size, so that
    nothing else of a link each is made (a story component can have millions)."""
    m = len(rows)
    place = np.full(max(int(rows[-1]), int(a.max(initial=0)), int(b.max(initial=0))) + 1, -1, dtype=np.int32)
    place[rows] = np.arange(m, dtype=np.int32)
    total = len(a) if at is None else len(at)

    def pieces():
        for s in range(0, total, LINK_CHUNK):
            k = slice(s, s + LINK_CHUNK) if at is None else at[s:s + LINK_CHUNK]
            i, j, x = place[a[k]], place[b[k]], w[k]
            keep = (i >= 0) & (j >= 0) & (i != j) & (x >= 0)
            yield np.minimum(i, j)[keep], np.maximum(i, j)[keep], x[keep]

    count = sum(len(x) for _, _, x in pieces())  # two passes: no piece is held
    out = [np.empty(count, dtype=np.int32), np.empty(count, dtype=np.int32), np.empty(count, dtype=np.float64)]
    k = 0
    for piece in pieces():
        for col, values in zip(out, piece):
            col[k:k + len(values)] = values
        k += len(piece[2])
    return out


def _sorted_links(links: list, m: int):
    """[i, j, weight] of ``_component_links`` (emptied, so that its arrays go as
    soon as they are used) -> ``_places``' (i, j, weight), sorted by (i, j,
    weight), with ``m`` places."""
    i, j, w = links
    links.clear()
    code = i.astype(np.int64)
    code *= m
    code += j
    del i, j
    order = np.lexsort((w, code))
    w = w[order]
    i, j = np.empty(len(code), dtype=np.int32), np.empty(len(code), dtype=np.int32)
    for s in range(0, len(code), LINK_CHUNK):
        c = code[order[s:s + LINK_CHUNK]]
        i[s:s + len(c)], j[s:s + len(c)] = c // m, c % m
    return i, j, w


def _whole_group_links(batch: _Batch, links: _Links, groups: list, into: _Links) -> None:
    """``dedup._WholeGroups``: every earlier group (``groups``: each row's) a
    found link touches, as ``SAME_GROUP`` links from its smallest member to the others."""
    a, b, _ = links.arrays()
    ends = np.zeros(len(groups), dtype=bool)  # the earlier runs' rows a link touches
    ends[a] = ends[b] = True
    ends &= np.asarray(batch.old, dtype=bool)
    touched = {groups[i] for i in np.flatnonzero(ends).tolist() if groups[i]}
    if not touched:
        return
    members: dict[str, list[int]] = {}
    for i, gid in enumerate(groups):
        if gid in touched and batch.old[i]:
            members.setdefault(gid, []).append(i)
    for gid in sorted(touched):
        first, *rest = members[gid]  # rows are in doc_id order
        for x in rest:
            into.add(first, x, dedup.SAME_GROUP)


def _whole_groups(found: Iterable[tuple], records: list[dict], key: str) -> list[tuple]:
    """``_whole_group_links`` on doc_ids: ``found`` links (id_a, id_b, weight)
    and records with ``doc_id``, ``old`` and ``key`` -> the ``SAME_GROUP`` links."""
    batch = _Batch()
    batch.ids = sorted(r["doc_id"] for r in records)
    by_id = {r["doc_id"]: r for r in records}
    batch.old = [bool(by_id[d].get("old")) for d in batch.ids]
    links, out = _Links(), _Links()
    for x, y, w in found:
        links.add(batch.row(x), batch.row(y), w)
    _whole_group_links(batch, links, [by_id[d].get(key) for d in batch.ids], out)
    return [(batch.ids[x], batch.ids[y], w) for x, y, w in zip(*out.arrays())]


def _sorted_entries(keys: np.ndarray, rows: np.ndarray):
    """(rows, starts): the rows of the (key, row) entries sorted by key then row,
    each (key, row) once, and where each key's bucket of them starts (then
    their count); int32 arrays (a story batch has ~13 entries a row)."""
    if not len(rows):
        return rows.astype(np.int32), np.zeros(1, dtype=np.int32)
    order = np.lexsort((rows, *keys[::-1])) if keys.ndim == 2 else np.lexsort((rows, keys))
    k = keys[:, order] if keys.ndim == 2 else keys[order]
    r = rows[order].astype(np.int32)
    del order
    new_key = np.r_[True, np.any(k[:, 1:] != k[:, :-1], axis=0) if keys.ndim == 2 else k[1:] != k[:-1]]
    del k
    return _buckets(r, new_key)


def _sorted_packed(packed: np.ndarray, shift: int):
    """``_sorted_entries`` of entries packed as ``key << shift | row`` in one uint64
    array, which is sorted in place: no array of the sort order, nor of the
    sorted keys, is made (the story batch's keys are ~13 a row)."""
    if not len(packed):
        return np.zeros(0, dtype=np.int32), np.zeros(1, dtype=np.int32)
    packed.sort()
    r = np.empty(len(packed), dtype=np.int32)
    new_key = np.empty(len(packed), dtype=bool)
    new_key[0] = True
    for s in range(0, len(packed), LINK_CHUNK):
        e = min(len(packed), s + LINK_CHUNK)
        r[s:e] = packed[s:e] & np.uint64((1 << shift) - 1)
        if e > 1:
            lo = max(s, 1)
            new_key[lo:e] = (packed[lo:e] >> np.uint64(shift)) != (packed[lo - 1:e - 1] >> np.uint64(shift))
    return _buckets(r, new_key)


def _buckets(r: np.ndarray, new_key: np.ndarray):
    """``_sorted_entries``' (rows, starts) of the rows of entries sorted by (key,
    row), ``new_key`` where a key starts."""
    keep = new_key | np.r_[True, r[1:] != r[:-1]]  # a row twice under one key counts once
    r, new_key = r[keep], new_key[keep]
    del keep
    return r, np.r_[np.flatnonzero(new_key), len(r)].astype(np.int32)


def _content_rank(content: np.ndarray) -> np.ndarray:
    """Each row's place in ``dedup.bucket_order``, (content order, doc_id) order
    (rows are in doc_id order): a bucket's windows then pair the same articles
    whatever paths name them."""
    keys = np.fromiter((dedup.content_order(c.decode("ascii", "replace")) for c in content.tolist()),
                       dtype=np.int64, count=len(content))
    order = np.lexsort((np.arange(len(content)), keys))
    rank = np.empty(len(content), dtype=np.int64)
    rank[order] = np.arange(len(content))
    return rank


def _ranked(entries, at_rank: np.ndarray):
    """``_sorted_entries`` made over ranks (``_content_rank``) instead of rows: the
    same (rows, starts), each bucket's rows in rank order; ``at_rank``: the row
    at each rank."""
    ranks, starts = entries
    return at_rank[ranks].astype(np.int32), starts


def _bucket_ends(starts: np.ndarray, pos: np.ndarray):
    """(end, size) of the bucket of each entry at ``pos``."""
    bucket = np.searchsorted(starts, pos, side="right") - 1
    end = starts[bucket + 1]
    return end, end - starts[bucket]


def _pair_codes(entries, old: np.ndarray, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Candidate pairs of every bucket (``dedup._bucket_pairs``: every pair of a
    bucket of at most ``MAX_BUCKET``, else each member with its next ``WINDOW``
    in the bucket's order, ``_ranked``; never two earlier-run rows), the first in
    the bucket's order in [lo, hi), as codes ``a * n + b`` with a < b."""
    rows, starts = entries
    n = len(old)
    hi = n if hi is None else hi
    out = []
    # the entries whose row can be a pair's first, and the end of their bucket
    pos = np.arange(len(rows)) if lo <= 0 and hi >= n else np.flatnonzero((rows >= lo) & (rows < hi))
    end, size = _bucket_ends(starts, pos)
    small = size <= dedup.MAX_BUCKET
    del size
    for d in range(1, dedup.MAX_BUCKET):
        ok = (pos + d < end) & (small | (d <= dedup.WINDOW))
        i = pos[ok]
        a, b = rows[i], rows[i + d]
        ok = ~(old[a] & old[b])
        a, b = a[ok], b[ok]
        out.append(np.minimum(a, b).astype(np.int64) * n + np.maximum(a, b))  # each pair in row order
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _merged(codes: np.ndarray, more: np.ndarray) -> np.ndarray:
    """The sorted distinct ``codes`` with the sorted distinct ``more`` added: one new
    array, not the sort of both (each band of a story told ~20 times finds mostly
    the pairs an earlier band found)."""
    at = np.searchsorted(codes, more)
    new = more[(at == len(codes)) | (codes[np.minimum(at, len(codes) - 1)] != more)] if len(codes) else more
    return np.insert(codes, np.searchsorted(codes, new), new)


def _pair_chunks(entries, old: np.ndarray, at_once: int):
    """Arrays (a, b) of the distinct candidate pairs, in order, ``at_once`` pairs
    at most at a time, a range of first rows at a time so that at most about
    ``MAX_CODES`` codes are held."""
    n = len(old)
    rows, starts = entries
    # pairs a row can start: at most its bucket's remaining members (or WINDOW)
    per_row = np.zeros(n)
    for s in range(0, len(rows), LINK_CHUNK):
        pos = np.arange(s, min(len(rows), s + LINK_CHUNK))
        end, size = _bucket_ends(starts, pos)
        per_row += np.bincount(rows[pos], weights=np.minimum(end - 1 - pos, np.where(
            size <= dedup.MAX_BUCKET, dedup.MAX_BUCKET, dedup.WINDOW)), minlength=n)
    bounds = [0]
    acc = 0.0
    for i, c in enumerate(np.cumsum(per_row).tolist()):
        if c - acc > MAX_CODES:
            bounds.append(i)
            acc = c
    bounds.append(n)
    for lo, hi in zip(bounds, bounds[1:]):
        codes = np.unique(_pair_codes(entries, old, lo, hi))
        for start in range(0, len(codes), at_once):
            chunk = codes[start:start + at_once]
            yield chunk // n, chunk % n


def _dup_pair_codes(batch: _Batch, reps: np.ndarray) -> np.ndarray:
    """The sorted distinct candidate pairs of the representatives ``reps`` (rows
    in doc_id order) in the LSH bands and under an equal lead, as codes
    ``a * len(reps) + b`` of their places in ``reps``, a < b; each bucket in
    ``batch.rank`` order (``_content_rank``), as ``dedup._bucket_members`` orders it."""
    rep_old = batch.old[reps]
    at_rank = np.argsort(batch.rank[reps])  # the representatives in bucket order
    rank = np.empty(len(reps), dtype=np.int64)  # each one's place among them
    rank[at_rank] = np.arange(len(reps))
    sig_rows = batch.sig_at[reps]
    # each band's distinct pairs merged into those found so far: a story told
    # ~20 times fills a bucket in most bands, and its pairs come again in each
    codes = np.zeros(0, dtype=np.int64)
    for band in range(dedup.BANDS + 1):
        if band < dedup.BANDS:
            keys = np.ascontiguousarray(batch.sigs.columns(band * dedup.ROWS, (band + 1) * dedup.ROWS, sig_rows).T)
            found = _pair_codes(_ranked(_sorted_entries(keys, rank), at_rank), rep_old)
        else:  # and the articles that open with the same words
            leads = np.flatnonzero(batch.has_lead[reps])
            keys = batch.lead[reps[leads]]
            found = _pair_codes(_ranked(_sorted_entries(keys, rank[leads]), at_rank), rep_old)
            del leads
        del keys
        codes = _merged(codes, np.unique(found))
    return codes


def _near_duplicates(batch: _Batch, threshold: float, min_shingles: int) -> _DupLabels:
    """(dup_cluster_id, is_duplicate, dup_similarity) of the new rows in a cluster
    (``dedup.NearDuplicates``); the batch's signatures are let go."""
    n = len(batch)
    old = batch.old
    links = _Links()
    # exact copies: one representative each (an earlier run's first, then the
    # smallest doc_id: rows are in doc_id order), a link to every other new copy
    by_hash = np.lexsort((np.arange(n), ~old, batch.content))
    same = batch.content[by_hash[1:]] == batch.content[by_hash[:-1]]
    rep = np.ones(n, dtype=bool)
    rep[by_hash[1:][same]] = False
    first = np.r_[True, ~same][:n]  # in hash order: the start of each content's run
    head = by_hash[np.maximum.accumulate(np.where(first, np.arange(n), 0))]
    copy = ~first & ~old[by_hash]
    known = _Links()
    known.add_many(head[copy].tolist(), by_hash[copy].tolist(), [dedup.EXACT] * int(copy.sum()))
    del by_hash, same, first, head, copy
    reps = np.flatnonzero(rep)  # doc_id order
    codes = _dup_pair_codes(batch, reps)
    trim_heap()  # the buckets' temporaries
    verify = dedup._Verify(threshold, min_shingles)
    for s in range(0, len(codes), CHUNK):
        chunk = codes[s:s + CHUNK]
        first, second = reps[chunk // len(reps)], reps[chunk % len(reps)]
        for a, b, na, nb in zip(first.tolist(), second.tolist(), batch.n[first].tolist(), batch.n[second].tolist()):
            w = verify((batch.signature(a), na), (batch.signature(b), nb))
            if w is not None:
                links.add(a, b, w)
    del codes
    trim_heap()
    _whole_group_links(batch, links, batch.cluster0, known)
    links.extend(known)
    del known
    cluster = dedup._ClusterFn(threshold, min_shingles)
    labels = _DupLabels(n)
    a, b, w = links.arrays()
    copy = np.zeros(n, dtype=bool)  # a row an exact-copy link leads to: not a representative
    copy[b[w >= dedup.EXACT]] = True
    ids = batch.ids
    for root, rows, edges in _component_rows(n, links, lambda w: (w >= 0.0) | (w == dedup.SAME_GROUP)):
        reps = rows[~copy[rows]]
        if dedup.pair_count(len(reps) - int(old[reps].sum()), len(reps)) <= dedup.MAX_PAIRS:  # _ClusterFn's choice
            element = (ids[root], {"member": [batch.dedup_member(i) for i in rows.tolist()],
                                   "edge": _edge_tuples(ids, links, edges)})
            found = cluster.process(element)
        else:
            trim_heap()
            found = _big_clusters(batch, reps, a, b, w, edges, threshold, min_shingles)
        for doc_id, label in found:
            labels.set(batch.row(doc_id), label)
    batch.drop_signatures()
    return labels


def _big_clusters(batch: _Batch, reps: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray, edges: np.ndarray,
                  threshold: float, min_shingles: int):
    """``dedup._ClusterFn`` of a component with more than ``dedup.MAX_PAIRS`` pairs of
    representatives to judge, over arrays: its representatives (``reps``, rows in
    doc_id order) are averaged over its found links (positions ``edges`` of the
    run's links a, b, w) between two of them, and each cluster's members (with
    their exact copies) are labelled by ``dedup.cluster_labels``; only a
    cluster's members are ever dicts."""
    from transforms.linkage import average_link_indexed

    ew = w[edges]
    exact = ew >= dedup.EXACT
    copies: dict[int, list[int]] = {}
    for x, y in zip(a[edges[exact]].tolist(), b[edges[exact]].tolist()):
        copies.setdefault(x, []).append(y)
    judged = edges[(ew >= 0) & ~exact]
    del ew, exact
    i, j, jw = _places(reps, a, b, w, judged)
    members = [_Member(batch.ids[x], True if batch.old[x] else None, batch.cluster0[x], "dup_cluster_id", x)
               for x in reps.tolist()]
    for old_cluster, group in average_link_indexed(members, i, j, jw, threshold, key="dup_cluster_id",
                                                   must_link=dedup.EXACT):
        rows = [m.row for m in group]
        rows += [c for x in rows for c in copies.get(x, ())]
        yield from dedup.cluster_labels([batch.dedup_member(x) for x in rows], old_cluster, min_shingles)


def _adoptions(n: int, links: _Links, threshold: float) -> tuple[list[int], list[int]]:
    """(rows, other rows): each row none of whose links weighs ``threshold`` (nor
    is ``SAME_GROUP``) and the other end of its heaviest link, the smallest
    row (doc_id) among equals: ``dedup.Adoptions`` on rows."""
    a, b, w = links.arrays()
    strong = (w >= threshold) | (w == dedup.SAME_GROUP)
    has_strong = np.zeros(n, dtype=bool)
    has_strong[a[strong]] = True
    has_strong[b[strong]] = True
    weak = ~strong & (w >= 0)
    rows = np.concatenate((a[weak], b[weak]))
    others = np.concatenate((b[weak], a[weak]))
    ws = np.concatenate((w[weak], w[weak]))
    alone = ~has_strong[rows]
    rows, others, ws = rows[alone], others[alone], ws[alone]
    order = np.lexsort((others, -ws, rows))  # by row, the heaviest first, then the smallest other row
    rows, others = rows[order], others[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    return rows[first].tolist(), others[first].tolist()


def _story_entries(batch: _Batch):
    """``_sorted_entries`` of the story keys (``stories._keys``): each row under its
    first KEY_TERMS words and first ANCHOR_KEYS anchors (anchors apart: + 2**32),
    each bucket's rows in ``batch.rank`` order (``_content_rank``)."""
    n = len(batch)
    # packed with the row's rank as key << shift | rank (33 + 31 bits at most)
    shift = max(1, (n - 1).bit_length())
    if shift > 31:
        raise ValueError(f"{n} rows: too many to pack with a story key")
    packed = np.zeros(n * (stories.KEY_TERMS + stories.ANCHOR_KEYS), dtype=np.uint64)
    at = 0
    # the rows in the order their vectors lie in the file, a block at a time (read a span at a time); the
    # entries are sorted after, so the order they are packed in changes nothing
    order = batch.rows_in_file_order().tolist()
    for block in range(0, n, VECTOR_BLOCK):
        rows = order[block:block + VECTOR_BLOCK]
        for i, (terms, anchors) in zip(rows, batch.vectors_of(rows)):
            terms = stories.unpack(terms)[0][:stories.KEY_TERMS].astype(np.uint64)
            anchors = stories.unpack(anchors)[0][:stories.ANCHOR_KEYS].astype(np.uint64) + np.uint64(1 << 32)
            for keys in (terms, anchors):
                keys <<= np.uint64(shift)
                keys |= np.uint64(batch.rank[i])
                packed[at:at + len(keys)] = keys
                at += len(keys)
    return _ranked(_sorted_packed(packed[:at], shift), np.argsort(batch.rank))


def _stories(batch: _Batch, dups: _DupLabels, threshold: float) -> list[str | None]:
    """Each row's story_id, for new rows in a story of more than one
    (``stories.StoryGroups``); None for the others."""
    n = len(batch)
    old = batch.old
    entries = _story_entries(batch)
    trim_heap()
    links = _Links()
    for a, b in _pair_chunks(entries, old, STORY_PAIRS):  # stories._Similar of each pair, a chunk at a time
        rows, at = np.unique(np.concatenate((a, b)), return_inverse=True)
        w = stories.pair_similarities(batch.payloads(rows.tolist()), at[:len(a)], at[len(a):])
        keep = np.flatnonzero(w >= stories.LINK_MIN)
        links.add_many(a[keep].tolist(), b[keep].tolist(), w[keep].tolist())
    del entries
    trim_heap()
    known = _Links()
    first_copy: dict[str, int] = {}
    for i in np.flatnonzero(dups.is_dup).tolist():
        cluster = dups.cluster[i]
        try:
            known.add(i, batch.row(cluster), 1.0)
        except KeyError:  # a cluster named after an earlier article no longer in the index: its copies join
            head = first_copy.setdefault(cluster, i)
            if head != i:
                known.add(head, i, 1.0)
    _whole_group_links(batch, links, batch.story0, known)
    links.extend(known)
    adopted = np.zeros(n, dtype=bool)
    for row, other in zip(*_adoptions(n, links, threshold)):  # dedup.Adoptions
        links.add(row, other, dedup.ADOPTED)
        adopted[row] = True
    story: list[str | None] = [None] * n
    for doc_id, story_id in _story_ids(batch, links, threshold, adopted):
        story[batch.row(doc_id)] = story_id
    return story


def _label_batch(batch: _Batch, dup_threshold: float, story_threshold: float, min_shingles: int = 10):
    """Each row's (dup_cluster_id, is_duplicate, dup_similarity, story_id); None for earlier-run rows."""
    batch.rank = _content_rank(batch.content)  # where each row stands in a capped bucket (dedup.bucket_order)
    dups = _near_duplicates(batch, dup_threshold, min_shingles)
    batch.when = np.array([np.nan if t is None else t for t in map(stories.timestamp, batch.published)],
                          dtype=np.float64)  # what stories need of the dates, 8 bytes a row
    batch.content = batch.published = batch.length = batch.is_mt = batch.n = batch.lead = batch.has_lead = None
    trim_heap()
    if batch.story_columns:
        batch.story_columns(batch)
    story = _stories(batch, dups, story_threshold)
    out = []
    for i, doc_id in enumerate(batch.ids):
        if batch.old[i]:
            out.append(None)
            continue
        cluster, is_dup, sim = dups.get(i, doc_id)
        out.append((cluster, is_dup, sim, story[i] or cluster))
    return out


def label_articles(new: list[dict], old: list[dict], dup_threshold: float, story_threshold: float,
                   min_shingles: int = 10):
    """New link records -> the same records labelled as ``GroupArticles`` labels
    them (``dup_cluster_id``, ``is_duplicate``, ``dup_similarity``, ``story_id``),
    an iterator in the order of ``new``."""
    batch = _Batch()
    for r in _one_per_doc(new):
        batch.add(r, False)
    for r in _one_per_doc(old):
        batch.add(r, True)
    batch.finish()
    labels = _label_batch(batch, dup_threshold, story_threshold, min_shingles)
    for rec in new:
        cluster, is_dup, sim, story = labels[batch.row(rec["doc_id"])]
        yield {**rec, "dup_cluster_id": cluster, "is_duplicate": is_dup, "dup_similarity": sim, "story_id": story}


def _one_per_doc(records: list[dict]) -> list[dict]:
    """One record per doc_id (``grouping.record_order`` picks it, as the Beam graph does)."""
    chosen: dict[str, dict] = {}
    for r in records:
        had = chosen.get(r["doc_id"])
        if had is None or record_order(r) < record_order(had):
            chosen[r["doc_id"]] = r
    return list(chosen.values()) if len(chosen) < len(records) else records


# What the one step reads of a staged row: its link record's fields and what
# the run's counts and the choice between two records of one doc_id need
_STAGED_COLUMNS = ("doc_id", "content_hash", "published_at", "is_machine_translated", "language", "extractor",
                   "source_format", "mt_source_language")


_STAT_COLUMNS = ("language", "extractor", "source_format", "is_machine_translated", "mt_source_language")


def _batch_columns(table: pa.Table) -> dict:
    """Staged rows' columns as ``_Batch.add_columns`` takes them: lists of
    doc_ids, publication times and languages, arrays of the rest."""
    import pyarrow.compute as pc

    leads = table.column("lead").to_pylist()
    return {"ids": _column(table, "doc_id"), "published": _column(table, "published_at"),
            "language": _column(table, "language"),
            "content": np.array([h.encode() for h in table.column("content_hash").to_pylist()], dtype="S"),
            "length": pc.fill_null(table.column("length"), -1).to_numpy(),
            "is_mt": table.column("is_machine_translated").to_numpy(), "n": table.column("n").to_numpy(),
            "lead": np.array([int(x, 16) if x else 0 for x in leads], dtype=np.uint64),
            "has_lead": np.array([bool(x) for x in leads], dtype=bool)}


def _staged_batch(staging: str, staged: list[str], ingested: set[str], counts):
    """The batch of the staged rows not ingested before (one per doc_id, chosen by
    ``grouping.record_order``), its signatures and story vectors in files in
    the staging folder when that is local; the extra rows of a doc_id read more
    than once ({doc_id: rows}); the doc_ids of rows ingested before. ``counts``
    gets the kept rows' counters (``grouping.article_stat_keys``) and
    ``flow/labelled``. Read a file at a time, a column at a time: no dict per row."""
    import pyarrow.compute as pc
    from apache_beam.io.filesystems import FileSystems

    from transforms.grouping import LINK_SCHEMA, article_stat_keys
    from transforms.write import read_parquet

    paths = [FileSystems.join(staging, rel) for rel in sorted(staged)]
    doc_ids = pa.chunked_array([read_parquet(p, ["doc_id"]).column("doc_id") for p in paths], type=pa.string())
    seen = pc.value_counts(doc_ids)
    twice = seen.filter(pc.greater(seen.field("counts"), 1)).field("values")
    batch = _Batch(staging if os.path.isdir(staging) else None)
    del doc_ids, seen
    ingested_ids = pa.array(sorted(ingested), type=pa.string())
    best, extra, already = {}, {}, []
    for path in paths:
        table = read_parquet(path, list(_STAGED_COLUMNS) + LINK_SCHEMA.names)
        counts["flow/labelled"] += table.num_rows
        before = pc.is_in(table.column("doc_id"), value_set=ingested_ids)
        if pc.any(before).as_py():
            already.extend(table.filter(before).column("doc_id").to_pylist())
            table = table.filter(pc.invert(before))
        table = table.set_column(table.schema.get_field_index("is_machine_translated"), "is_machine_translated",
                                 pc.fill_null(table.column("is_machine_translated"), False))
        stats = table.group_by(list(_STAT_COLUMNS), use_threads=False).aggregate([([], "count_all")])
        for row in stats.to_pylist():
            for key in article_stat_keys(row):
                counts[key] += row["count_all"]
        once = pc.invert(pc.is_in(table.column("doc_id"), value_set=twice))
        for row in table.filter(pc.invert(once)).to_pylist():  # a doc_id read more than once (rare)
            row["stats"] = article_stat_keys(row)
            had = best.get(row["doc_id"])
            if had is None:
                best[row["doc_id"]] = (record_order(row), batch.add(row, False))
                continue
            extra[row["doc_id"]] = extra.get(row["doc_id"], 0) + 1
            if record_order(row) < had[0]:
                batch.replace(had[1], row, False)
                best[row["doc_id"]] = (record_order(row), had[1])
        table = table.filter(once)
        sigs = table.column("sig").combine_chunks()
        if len(sigs):
            data = np.frombuffer(sigs.buffers()[2], dtype=np.uint8)
            offsets = np.frombuffer(sigs.buffers()[1], dtype=np.int32)[sigs.offset:sigs.offset + len(sigs) + 1]
            if np.any(np.diff(offsets) != 4 * dedup.NUM_PERM):
                raise ValueError("a staged MinHash signature is not of NUM_PERM values")
            sigs = data[offsets[0]:offsets[-1]].view(np.uint32).reshape(len(sigs), dedup.NUM_PERM)
        else:
            sigs = np.zeros((0, dedup.NUM_PERM), dtype=np.uint32)
        batch.add_columns(_batch_columns(table), sigs)
        del table, sigs

    def story_columns(batch: _Batch) -> None:
        """The new rows' story vectors, read once near-duplicates are done with the signatures."""
        for path in paths:
            table = read_parquet(path, ["doc_id", "terms", "anchors"])
            table = table.filter(pc.invert(pc.or_(pc.is_in(table.column("doc_id"), value_set=ingested_ids),
                                                  pc.is_in(table.column("doc_id"), value_set=twice))))
            batch.set_vectors([batch.row(doc_id) for doc_id in table.column("doc_id").to_pylist()],
                              table.column("terms").to_pylist(), table.column("anchors").to_pylist())
            del table

    batch.story_columns = story_columns
    return batch, extra, already


def _column(table: pa.Table, name: str) -> list:
    """A column as a list; the language column's values shared (a language code
    is one object, not one a row)."""
    col = table.column(name)
    if name == "language":
        encoded = col.combine_chunks().dictionary_encode()
        values = encoded.dictionary.to_pylist()
        return [None if i is None else values[i] for i in encoded.indices.to_pylist()]
    return col.to_pylist()


def _index(output: str, table: str, columns: list[str] | None = None):
    """The rows earlier runs wrote to OUT/index/<table>, a file at a time."""
    from transforms.read import match, under
    from transforms.write import read_parquet

    # a damaged file was named before the run started (write.check_index_files)
    for meta in sorted(match(under(output, "index", table, "*.parquet")), key=lambda m: m.path):
        yield from read_parquet(meta.path, columns).to_pylist()


class _LabelStagedFn(beam.DoFn):
    def __init__(self, spec: "LabelStaged"):
        self.spec = spec

    def process(self, _, staged: list[str]):
        import collections
        import uuid

        from apache_beam.io.filesystems import FileSystems

        from transforms.beam_memory import large_blocks_mapped
        from transforms.extract import notice_if_slow
        from transforms.grouping import DROP, old_record
        from transforms.records import ARTICLE_LABELS, ARTICLE_SCHEMA, INGESTED_SCHEMA
        from transforms.write import label_table, write_table

        large_blocks_mapped()  # this step's NumPy temporaries go back when freed
        spec = self.spec
        counts: collections.Counter = collections.Counter()
        ingested = {r["doc_id"] for r in _index(spec.output, "ingested", ["doc_id"])}
        old = _one_per_doc([old_record(r) for r in _index(spec.output, "articles")])
        batch, extra, already = _staged_batch(spec.staging, staged, ingested, counts)
        del ingested
        new_rows = len(batch)
        for r in old:
            batch.add(r, True)
        del old
        with notice_if_slow(spec.progress_seconds, f"newsbeam: finding near-duplicates and stories among "
                                                   f"{new_rows} articles"):
            found = _label_batch(batch.finish(), spec.dup_threshold, spec.story_threshold)
        labels, kept = [], []
        for doc_id, label in zip(batch.ids, found):
            if label is None:  # an earlier run's
                continue
            times = 1 + extra.get(doc_id, 0)
            labels.append((doc_id, label))
            kept.extend([doc_id] * times)
            counts["group/duplicate"] += times * bool(label[1])
        if len(labels) != new_rows:  # a bug: fail the run rather than write rows without labels
            raise RuntimeError(f"{new_rows} articles to label, {len(labels)} labelled")
        del batch, found
        trim_heap()  # what labelling freed, before the shards' writers run in this process
        counts["group/story"] = len({lab[3] for _, lab in labels})
        counts["already/article_ingested_before"] = len(already)
        rel = f"labels/{uuid.uuid4().hex}.parquet"
        table = label_table(labels + [(d, DROP) for d in sorted(set(already))], ARTICLE_SCHEMA, ARTICLE_LABELS)
        write_table(FileSystems.join(spec.staging, rel), table, table.schema)
        del labels, table
        # this run's articles in OUT/index/ingested (its rejects are written there by WriteParquet)
        if kept:
            kept.sort()
            ingested_rel = f"index/ingested/part-{spec.run_id}-articles.parquet"
            table = pa.table({"doc_id": kept, "outcome": ["article"] * len(kept),
                              "run_id": [spec.run_id] * len(kept)}, schema=INGESTED_SCHEMA)
            write_table(FileSystems.join(spec.staging, ingested_rel), table, INGESTED_SCHEMA)
            yield beam.pvalue.TaggedOutput("files", ingested_rel)
        yield beam.pvalue.TaggedOutput("label_files", [rel])
        yield beam.pvalue.TaggedOutput("kept", len(kept))
        yield from ((k, v) for k, v in sorted(counts.items()) if v)


class LabelStaged(beam.PTransform):
    """Paths of staged article rows that carry their link records
    (``LinkRecords(staged=True)``, ``StageRows``) -> near-duplicate and story
    labels of every staged row, in one step of one worker, on disk:

    - ``label_files``: a singleton list of label files under the staging
      folder (``write.label_table``: a row's labels, or DROP for an article
      an earlier run into ``output`` already wrote), for ``WriteLabelledRows``;
    - ``kept``: the number of rows to write (a singleton);
    - ``files``: this run's articles as rows of OUT/index/ingested (one file);
    - the main output: ``(counter, count)`` pairs for the run's manifest (the
      articles' languages, extractors, formats, machine translation,
      duplicates, stories, the rows labelled and those ingested before).

    Nothing of the batch moves through the runner: the records are read from
    the staged files and the earlier runs' index, labelled by
    ``label_articles``, and the labels written."""

    def __init__(self, staging: str, output: str, run_id: str, dup_threshold: float, story_threshold: float,
                 progress_seconds: float = 0.0):
        super().__init__()
        self.staging, self.output, self.run_id = staging, output, run_id
        self.dup_threshold, self.story_threshold = dup_threshold, story_threshold
        self.progress_seconds = progress_seconds  # a line if labelling takes longer (0: none)

    def expand(self, staged):
        return (staged.pipeline | "Once" >> beam.Create([None])
                | "Label" >> beam.ParDo(_LabelStagedFn(self), beam.pvalue.AsList(staged)).with_outputs(
                    "label_files", "kept", "files", main="counts"))
