"""wordfreq's word frequency tables, loaded once per process and shared by
story detection (IDF) and machine-translation features (frequency bands).
No Beam import."""
from __future__ import annotations

from functools import lru_cache

__all__ = ["available", "frequencies"]


@lru_cache(maxsize=1)
def available() -> frozenset[str]:
    from wordfreq import available_languages

    return frozenset(available_languages())


@lru_cache(maxsize=None)
def frequencies(lang: str) -> dict[str, float]:
    """word -> frequency for a language (wordfreq's "best" list).

    Looked up directly: wordfreq's own lookup functions tokenise the word
    first, which for Japanese, Korean and Chinese needs optional tokenisers."""
    from wordfreq import get_frequency_dict

    return get_frequency_dict(lang, wordlist="best")
