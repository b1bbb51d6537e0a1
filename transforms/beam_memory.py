"""Beam's SDK worker keeps the last output buffer of every fused stage.

A worker caches each stage's bundle processor for reuse, and each processor's
``DataOutputOperation`` keeps the output stream of its last bundle after
closing it. The stream is a C buffer grown to the size of what the bundle
sent (it is flushed at 10 MB, but its capacity stays), so a worker holds
about one such buffer for every output of every stage it has run: memory
that grows with the corpus and is never used again (not Python objects, so
``tracemalloc`` does not see it). On 5,000 generated articles the in-process
runner peaked at 887 MB with the buffers kept and 591 MB with them released
(docs/benchmarks.md, "Memory").

``release_output_streams()`` drops the reference once the stream is closed;
the worker sets a fresh stream at the start of every bundle, so nothing reads
the old one. It runs when ``transforms.write`` is imported, which the
launcher does when it assembles the pipeline and every worker does when it
loads the first stage's DoFns, on any runner (the extraction sandbox, which
never loads Beam, is left alone). Where Beam's class is not as expected
(another Beam version), it leaves Beam alone.
"""
from __future__ import annotations

__all__ = ["arrow_cpp_pool", "arrow_returns_memory", "large_blocks_mapped", "release_output_streams", "trim_heap"]


def release_output_streams() -> bool:
    """Patch Beam's DataOutputOperation.finish to let go of its closed stream; True if patched."""
    try:
        from apache_beam.runners.worker.bundle_processor import DataOutputOperation
    except ImportError:  # no Beam worker here
        return False
    finish = DataOutputOperation.__dict__.get("finish")
    if finish is None or getattr(finish, "_newsbeam_releases_stream", False):
        return getattr(finish, "_newsbeam_releases_stream", False)
    if "set_output_stream" not in DataOutputOperation.__dict__:  # not the class this was written for
        return False

    def finish_and_release(self) -> None:
        finish(self)
        self.output_stream = None  # closed; the next bundle sets its own

    finish_and_release._newsbeam_releases_stream = True
    finish_and_release.__doc__ = finish.__doc__
    DataOutputOperation.finish = finish_and_release
    return True


def arrow_returns_memory() -> str | None:
    """Have pyarrow allocate from jemalloc and hand freed pages back at once
    (``jemalloc_set_decay_ms(0)``). Its default pool (mimalloc) keeps what a
    Parquet read freed: reading the 20 staged files of 40,000 articles' link
    records left the process ~65 MB bigger with no Arrow memory in use; a
    20,000-row shard writer peaked 70 MB lower with jemalloc. Returns the
    pool's backend, or None where this pyarrow has no jemalloc (it then keeps
    its default)."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except (NotImplementedError, AttributeError):  # a pyarrow built without jemalloc
        return None
    pa.set_memory_pool(pool)
    return pool.backend_name


def arrow_cpp_pool() -> str | None:
    """Have Arrow's C++ code allocate from jemalloc too: set
    ``ARROW_DEFAULT_MEMORY_POOL`` before pyarrow is first used (it is read
    once). ``pyarrow.set_memory_pool`` (``arrow_returns_memory``) changes only
    the pool of calls made from Python; the Parquet reader and writer and the
    take and concatenate kernels allocate from the C++ default, mimalloc, which
    keeps what they freed: a 20,000-row shard writer of 160,000 generated
    articles peaked at ~330 MB and left ~290 MB (no Arrow memory in use); with
    jemalloc, ~285 and ~230 MB. Linux only (its pyarrow wheels have jemalloc;
    elsewhere Arrow would warn and keep its default); a value the user set is
    kept. Returns the value in force, or None."""
    import os
    import sys

    if sys.platform.startswith("linux"):
        os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    return os.environ.get("ARROW_DEFAULT_MEMORY_POOL")


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 256 << 10


def large_blocks_mapped() -> bool:
    """Have glibc map every block of ``MMAP_THRESHOLD`` or more on its own, so
    that freeing it hands it back. By default glibc raises that threshold each
    time such a block is freed, and NumPy's temporaries of a few MB then come
    from the heap, whose holes it keeps: labelling 160,000 generated articles
    in one step (``transforms.group_local``) peaked at 612 MB with the default
    and 534 MB with this. True where set (glibc); elsewhere nothing changes."""
    libc = _libc()
    return bool(libc and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def trim_heap() -> bool:
    """Hand the free pages in the middle of glibc's heap back (``malloc_trim(0)``).
    Blocks under ``MMAP_THRESHOLD`` (NumPy's masks and small results, Python's
    lists) come from the heap, and the few that stay alive keep their
    neighbours' freed pages: making the candidate pairs of 160,000 generated
    articles left the process 100 MB bigger with 24 MB of it in use (by
    ``tracemalloc``), and a trim gave the rest back. Cheap (a walk over the
    free lists); True where done (glibc)."""
    libc = _libc()
    return bool(libc and libc.malloc_trim(0))


_LIBC: list = []


def _libc():
    """glibc, or None elsewhere."""
    if not _LIBC:
        import ctypes
        import ctypes.util

        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c"))
            libc.mallopt, libc.malloc_trim  # glibc's
        except (OSError, AttributeError, TypeError):  # not glibc
            libc = None
        _LIBC.append(libc)
    return _LIBC[0]
