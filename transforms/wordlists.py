"""wordfreq's word frequency tables, loaded once per process and shared by
story detection (IDF) and machine-translation features (frequency bands).
No Beam import.

wordfreq keeps a loaded list as Python lists of words (its lists are cached
for the life of the process), and a word -> frequency dict of it is as large
again: about 400 MB for English alone, and a worker that meets articles in
ten languages held several GB. A :class:`FrequencyTable` keeps each word as
a 64-bit hash in a sorted NumPy array and its frequency band in another:
about 10 bytes a word, the same frequencies as ``get_frequency_dict``.

Building a table reads wordfreq's list file as bytes (``_read_cbpack``) and
hashes every word of it (0.01-0.26 s a language, 1.6 s of CPU for the 13
languages of the extraction sets, against 2.9-3.3 s read through wordfreq
and hashed a word at a time); the
arrays are kept on disk (``$NEWSBEAM_CACHE_DIR``, else
``$XDG_CACHE_HOME/newsbeam``, else ``~/.cache/newsbeam``), keyed by the
wordfreq version and the list file's size and time, and read back in
milliseconds by the next process. The cache only saves time: a table read
from it holds the same arrays, and a cache that cannot be read or written
is rebuilt or skipped.
"""
from __future__ import annotations

import logging
import os
import re
from functools import lru_cache
from itertools import chain, repeat

import numpy as np

from transforms.disk_cache import cache_path, load_arrays, store_arrays

log = logging.getLogger(__name__)
CACHE_FORMAT = 1

__all__ = ["FrequencyTable", "available", "frequencies", "list_language"]


@lru_cache(maxsize=1)
def _best_lists() -> dict[str, str]:
    """language -> the file of wordfreq's "best" list, as ``wordfreq.available_languages("best")``
    gives it (its "large" list where there is one, else its "small" one), read from
    the package's data folder without importing wordfreq: the import takes 0.4-0.8 s,
    and a process whose tables are all in the disk cache needs nothing else of it."""
    from importlib.util import find_spec

    spec = find_spec("wordfreq")
    folder = os.path.join(spec.submodule_search_locations[0], "data") if spec and spec.submodule_search_locations \
        else None
    found: dict[str, dict[str, str]] = {"small": {}, "large": {}}
    for name in sorted(os.listdir(folder)) if folder and os.path.isdir(folder) else ():
        stem = name.split(".")[0]
        if name.endswith(".msgpack.gz") and not name.startswith("_") and stem.count("_") == 1:
            kind, lang = stem.split("_")
            if kind in found:
                found[kind][lang] = os.path.join(folder, name)
    lists = {**found["small"], **found["large"]}
    if not lists:  # not wordfreq's layout (another release): ask wordfreq itself
        from wordfreq import available_languages

        lists = available_languages("best")
    return lists


@lru_cache(maxsize=1)
def available() -> frozenset[str]:
    """The languages wordfreq has a list for."""
    return frozenset(_best_lists())


# langcodes' distance between two codes of one language: Croatian, Serbian and
# Bosnian to Serbo-Croatian 5-9, Norwegian to Bokmål 1, Tagalog to Filipino 0.
# wordfreq itself matches up to 60, which also sends Welsh, Swahili or Telugu to
# English (a reader's fallback, not the same language); from 20 (Nynorsk to
# Bokmål, Basque to Spanish) the words differ.
SAME_LANGUAGE_DISTANCE = 10


@lru_cache(maxsize=256)
def list_language(code: str | None) -> str | None:
    """The word list a language ``code`` is read with: its own, or wordfreq's
    list of the same language under another code (``hr``, ``sr`` and ``bs``:
    ``sh``; ``no``: ``nb``; ``tl``: ``fil``; ``zh-cn``: ``zh``), matched by
    langcodes as wordfreq matches, but only within ``SAME_LANGUAGE_DISTANCE``;
    None when wordfreq has no list of that language (or the code is not one)."""
    if not code:
        return None
    if code in available():
        return code
    import langcodes
    from langcodes.tag_parser import LanguageTagError

    try:
        best, _ = langcodes.closest_match(code, sorted(available()), max_distance=SAME_LANGUAGE_DISTANCE)
    except (LanguageTagError, ValueError):  # not a language tag: no list, as for a language wordfreq lacks
        return None
    return None if best == "und" else best


def band_frequencies(nbands: int) -> list[float]:
    """The frequency of each band of a list: band i holds the words at -i
    centibels, ``wordfreq.cB_to_freq(-i)`` (a test checks that they agree)."""
    return [10 ** (-i / 100) for i in range(nbands)]


# a run of apostrophes, where a word is split into its parts (here and in transforms.stories)
APOSTROPHE_RUN = re.compile(r"'+")


def _hash(word: str) -> int:
    import xxhash

    return xxhash.xxh64_intdigest(word.encode("utf-8", "surrogatepass"))


def _hashes(words, count: int, encoded: bool = False) -> np.ndarray:
    """``_hash`` of each of ``count`` words (or of their UTF-8 bytes, if ``encoded``),
    as uint64, mapped with C functions (no Python frame a word): a list of
    700,000 words in 0.1 s."""
    import xxhash

    if not encoded:
        words = map(str.encode, words, repeat("utf-8"), repeat("surrogatepass"))
    return np.fromiter(map(xxhash.xxh64_intdigest, words), dtype=np.uint64, count=count)


class FrequencyTable:
    """word -> frequency, as wordfreq's ``get_frequency_dict`` gives it, in
    sorted arrays: ``get`` is a binary search on the word's xxh64 hash (two
    words of one list sharing a 64-bit hash: about one chance in 10^7 for a
    list of 2 million words)."""

    def __init__(self, pack: list[list[str]] | list[list[bytes]] | None = None):
        """``pack``: wordfreq's bands of words, as text or as UTF-8 bytes."""
        if pack is None:  # filled by from_arrays
            return
        sizes = [len(bucket) for bucket in pack]
        first = next((w for bucket in pack for w in bucket), "")
        hashes = _hashes(chain.from_iterable(pack), sum(sizes), encoded=isinstance(first, bytes))
        bands = np.repeat(np.arange(len(pack), dtype=np.uint16), sizes)
        order = np.argsort(hashes, kind="stable")
        hashes, bands = hashes[order], bands[order]
        # a word listed twice keeps its last (rarer) band, as the dict does
        last = np.append(hashes[1:] != hashes[:-1], True) if len(hashes) else np.zeros(0, dtype=bool)
        self._hashes, self._bands = hashes[last], bands[last]
        self._freq = band_frequencies(len(pack))

    @classmethod
    def from_arrays(cls, hashes: np.ndarray, bands: np.ndarray, nbands: int) -> "FrequencyTable":
        """A table from the arrays a built one holds (sorted unique hashes, their bands)."""
        table = cls()
        table._hashes, table._bands = hashes, bands
        table._freq = band_frequencies(nbands)
        return table

    def __len__(self) -> int:
        return len(self._hashes)

    def get(self, word: str, default=None):
        h = np.uint64(_hash(word))
        i = int(np.searchsorted(self._hashes, h))
        if i < len(self._hashes) and self._hashes[i] == h:
            return self._freq[int(self._bands[i])]
        return default

    def get_many(self, words: list[str], default: float = 0.0) -> list[float]:
        """The frequencies of ``words`` (``default`` for a word not listed), in one search."""
        if not words or not len(self._hashes):
            return [default] * len(words)
        h = _hashes(words, len(words))
        i = np.minimum(np.searchsorted(self._hashes, h), len(self._hashes) - 1)
        found = self._hashes[i] == h
        freq = self._freq
        return [freq[b] if f else default for b, f in zip(self._bands[i].tolist(), found.tolist())]

    def word_frequencies(self, words: list[str]) -> list[float]:
        """The frequency of each word (typographic apostrophes already plain):
        a listed word's own; a word the list lacks that holds an apostrophe is
        its parts, combined as wordfreq combines tokens (1 / f = sum of 1 / f
        of each part; 0 when a part is unknown). For elisions ("l'économie",
        "dell'anno", "d'un") that is what ``wordfreq.word_frequency`` gives;
        for any other such word it gives 0 and this gives its parts, so an
        unlisted name's possessive ("englund's") weighs as the name, and
        "team's" as a common word. Hyphenated words stay whole."""
        freqs = self.get_many(words)
        split = [(k, [p for p in APOSTROPHE_RUN.split(w) if p]) for k, w in enumerate(words)
                 if not freqs[k] and "'" in w]
        if split:
            parts = sorted({p for _, ps in split for p in ps})
            of = dict(zip(parts, self.get_many(parts)))
            for k, ps in split:
                f = [of[p] for p in ps]
                freqs[k] = 1.0 / sum(1.0 / x for x in f) if ps and all(f) else 0.0
        return freqs

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    @property
    def nbytes(self) -> int:
        return self._hashes.nbytes + self._bands.nbytes


def _read_cbpack(path: str | None) -> list[list[bytes]] | None:
    """A wordfreq list file read as ``wordfreq.read_cBpack`` reads it (gzip of
    msgpack: a header, then one list of words a centibel band), but each word
    left as its UTF-8 bytes, which are what a table hashes: 0.1 s for the
    Russian list against 0.23 s decoded to text by wordfreq, and no import of
    wordfreq. None where the file is not of that format."""
    if not path or not path.endswith(".msgpack.gz"):
        return None
    import gzip

    import msgpack

    with gzip.open(path, "rb") as f:
        data = msgpack.unpackb(f.read(), raw=True)
    header = data[0] if isinstance(data, list) and data else None
    if not isinstance(header, dict) or header.get(b"format") != b"cB" or header.get(b"version") != 1:
        return None
    return data[1:]


def _cache_file(lang: str) -> str | None:
    """Where the table of ``lang`` is kept on disk, or None (no list file to key it by)."""
    from importlib.metadata import version

    source = _best_lists().get(lang)
    try:
        st = os.stat(source)
    except (OSError, TypeError):
        return None
    return cache_path("wordfreq",
                      f"wordfreq-{version('wordfreq')}-{lang}-{st.st_size}-{st.st_mtime_ns}-v{CACHE_FORMAT}.npz")


def _load_cached(path: str) -> FrequencyTable | None:
    z = load_arrays(path, "word-frequency")
    if z is None:
        return None
    hashes, bands, nbands = z.get("hashes"), z.get("bands"), z.get("nbands")
    if (hashes is None or bands is None or nbands is None or hashes.dtype != np.uint64 or bands.dtype != np.uint16
            or len(hashes) != len(bands)):
        log.warning("word-frequency cache %s malformed; rebuilding it", path)
        return None
    return FrequencyTable.from_arrays(hashes, bands, int(nbands))


@lru_cache(maxsize=None)
def frequencies(lang: str) -> FrequencyTable:
    """word -> frequency for a language (wordfreq's "best" list).

    Looked up directly: wordfreq's own lookup functions tokenise the word
    first, which for Japanese, Korean and Chinese needs optional tokenisers.
    The list file is read here, not by wordfreq (which would keep its copy);
    wordfreq is imported only where its files are laid out otherwise."""
    path = _cache_file(lang)
    table = _load_cached(path) if path else None
    if table is not None:
        return table
    pack = _read_cbpack(_best_lists().get(lang))
    if pack is None:  # not wordfreq's layout (another release): wordfreq reads it
        from wordfreq import get_frequency_list

        pack = get_frequency_list(lang, wordlist="best")
        get_frequency_list.cache_clear()
    table = FrequencyTable(pack)
    if path:
        store_arrays(path, "word-frequency", hashes=table._hashes, bands=table._bands,
                     nbands=np.int64(len(table._freq)))
    return table
