"""wordfreq's word frequency tables, loaded once per process and shared by
story detection (IDF) and machine-translation features (frequency bands).
No Beam import.

wordfreq keeps a loaded list as Python lists of words (its lists are cached
for the life of the process), and a word -> frequency dict of it is as large
again: about 400 MB for English alone, and a worker that meets articles in
ten languages held several GB. A :class:`FrequencyTable` keeps each word as
a 64-bit hash in a sorted NumPy array and its frequency band in another:
about 10 bytes a word, the same frequencies as ``get_frequency_dict``.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["FrequencyTable", "available", "frequencies"]


@lru_cache(maxsize=1)
def available() -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages())


def _hash(word: str) -> int:
    import xxhash

    return xxhash.xxh64_intdigest(word.encode("utf-8", "surrogatepass"))


class FrequencyTable:
    """word -> frequency, as wordfreq's ``get_frequency_dict`` gives it, in
    sorted arrays: ``get`` is a binary search on the word's xxh64 hash (two
    words of one list sharing a 64-bit hash: about one chance in 10^7 for a
    list of 2 million words)."""

    def __init__(self, pack: list[list[str]]):
        from wordfreq import cB_to_freq

        sizes = [len(bucket) for bucket in pack]
        hashes = np.fromiter((_hash(w) for bucket in pack for w in bucket), dtype=np.uint64, count=sum(sizes))
        bands = np.repeat(np.arange(len(pack), dtype=np.uint16), sizes)
        order = np.argsort(hashes, kind="stable")
        hashes, bands = hashes[order], bands[order]
        # a word listed twice keeps its last (rarer) band, as the dict does
        last = np.append(hashes[1:] != hashes[:-1], True) if len(hashes) else np.zeros(0, dtype=bool)
        self._hashes, self._bands = hashes[last], bands[last]
        self._freq = [cB_to_freq(-i) for i in range(len(pack))]

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
        import xxhash

        digest = xxhash.xxh64_intdigest
        h = np.fromiter((digest(w.encode("utf-8", "surrogatepass")) for w in words), dtype=np.uint64,
                        count=len(words))
        i = np.minimum(np.searchsorted(self._hashes, h), len(self._hashes) - 1)
        found = self._hashes[i] == h
        freq = self._freq
        return [freq[b] if f else default for b, f in zip(self._bands[i].tolist(), found.tolist())]

    def __contains__(self, word: str) -> bool:
        return self.get(word) is not None

    @property
    def nbytes(self) -> int:
        return self._hashes.nbytes + self._bands.nbytes


@lru_cache(maxsize=None)
def frequencies(lang: str) -> FrequencyTable:
    """word -> frequency for a language (wordfreq's "best" list).

    Looked up directly: wordfreq's own lookup functions tokenise the word
    first, which for Japanese, Korean and Chinese needs optional tokenisers.
    wordfreq's cached copy of the list is dropped once the table is built."""
    from wordfreq import get_frequency_list

    table = FrequencyTable(get_frequency_list(lang, wordlist="best"))
    get_frequency_list.cache_clear()
    return table
