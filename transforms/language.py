"""Language of the article text with langdetect, seeded, with a score.

langdetect samples character n-grams at random; ``DetectorFactory.seed = 0``
makes it repeatable. It costs ~6 ms on a whole article, mostly for text it
does not need: the detector reads the first ``max_chars`` (600) characters
and runs ``n_trial`` (2) sampling rounds instead of 7, and its n-grams are
worked out a word at a time and remembered (``_word_ngrams``): ~1 ms a
document, less as a run's words repeat
(benchmarks/language.py measures accuracy against the full setting on long
and short texts in many languages).
"""
from __future__ import annotations

import re

import apache_beam as beam

from transforms.boundary import per_document
from transforms.disk_cache import cache_path, load_arrays, store_arrays

__all__ = ["DetectLanguage", "detect_language", "load_detector_factory"]

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_ISO = {"zh-cn": "zh", "zh-tw": "zh"}


def load_detector_factory():
    """langdetect's profiles, loaded once per process, seeded.

    langdetect reads its 55 JSON profiles into a dict of n-gram -> one
    probability per language (1.3 s on this project's machine, in every
    worker of every run). The dict is rebuilt instead from arrays kept on
    disk (``transforms.disk_cache``), the same keys, order and floats; the
    first process on a machine reads the JSON and writes the arrays."""
    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = 0
    _memoise_normalize()
    _word_ngrams()
    if detector_factory._factory is not None:
        return detector_factory._factory
    import gc

    collecting = gc.isenabled()
    gc.disable()  # 87,000 new lists would set off the collector again and again (0.4 s of 0.5)
    try:
        path = _profiles_cache()
        factory = _factory_from(load_arrays(path, "langdetect")) if path else None
        if factory is None:
            detector_factory.init_factory()
            factory = detector_factory._factory
            arrays = _factory_arrays(factory)
            if path and arrays is not None:
                store_arrays(path, "langdetect", **arrays)
        detector_factory._factory = factory
    finally:
        if collecting:
            gc.enable()
    return factory


_NORMALIZED_CHARS = 1 << 16  # characters whose langdetect normalisation is remembered, per process


class _Normalized(dict):
    """Code point -> langdetect's normalised character, worked out the first
    time it is asked for (``__missing__``) and kept for up to
    ``_NORMALIZED_CHARS`` code points: the memory of ``NGram.normalize``
    (``_memoise_normalize``) and the ``str.translate`` table the n-grams by
    word read a text through (``_word_ngrams``). Never emptied, so a text is
    always translated whole, also while another thread reads one."""

    plain = None  # langdetect's own NGram.normalize(ch), set by _memoise_normalize

    def __missing__(self, code: int) -> str:
        out = self.plain(chr(code))
        if len(self) < _NORMALIZED_CHARS:
            self[code] = out
        return out


_NORMALIZED = _Normalized()


def _memoise_normalize() -> None:
    """langdetect normalises each character of a text (its Unicode block by
    bisection, then a rule per block) every time it meets it; the result
    depends on the character alone, so it is remembered in ``_NORMALIZED``
    (idempotent)."""
    from langdetect.utils.ngram import NGram

    if getattr(NGram.normalize, "memoised", False):
        return
    plain = NGram.normalize.__func__
    _Normalized.plain = staticmethod(lambda ch: plain(NGram, ch))

    def normalize(cls, ch):
        return _NORMALIZED[ord(ch)] if len(ch) == 1 else plain(cls, ch)

    normalize.memoised, normalize.plain = True, plain
    NGram.normalize = classmethod(normalize)


_WORDS_REMEMBERED = 50_000  # words whose n-grams are remembered, per process
_REMEMBERED_WORD_CHARS = 40  # a longer "word" (a URL, a run of base64) is walked, not kept: memory stays small


def _word_ngrams() -> None:
    """langdetect's ``Detector._extract_ngrams`` walks the text a character
    at a time through an ``NGram`` buffer (a method call and up to three
    slices a character). The buffer starts again at every space, so the
    n-grams a word gives, followed by a space or ending the text, depend on
    the word alone: they are worked out once per word (the same walk) and
    remembered (detection 1.17 -> 1.04 ms a text over articles met for the
    first time, 0.70 once a run's words repeat). Same n-grams, same order
    (``tests/test_language_annotate.py`` compares it with langdetect's own);
    idempotent."""
    from langdetect import detector

    if getattr(detector.Detector._extract_ngrams, "by_word", False):
        return
    _memoise_normalize()  # the text is read through its table
    plain = detector.Detector._extract_ngrams
    known: dict[tuple[str, bool], list[str]] = {}
    owner: list = [None]  # the profile map ``known`` was worked out against

    def walk(word: str, spaced: bool, probs) -> list[str]:
        out: list[str] = []
        grams, capital = " ", False
        for ch in word:  # NGram.add_char, then the detector's n = 1..3, as langdetect does them
            last = grams[-1]
            if last == " ":
                grams, capital = " ", False
            elif len(grams) >= 3:
                grams = grams[1:]
            grams += ch
            if ch.isupper():
                if last.isupper():
                    capital = True
            else:
                capital = False
            if not capital:
                out.extend(g for g in (grams[-1:], grams[-2:] if len(grams) >= 2 else None,
                                       grams if len(grams) >= 3 else None) if g and g != " " and g in probs)
        if spaced:  # the space after the word: "d ", "rd "
            grams = (grams[1:] if len(grams) >= 3 else grams) + " "
            out.extend(g for g in (grams[-2:], grams if len(grams) >= 3 else None) if g and g in probs)
        return out

    def extract_ngrams(self):
        probs = self.word_lang_prob_map
        if owner[0] is not probs:
            known.clear()
            owner[0] = probs
        words = self.text.translate(_NORMALIZED).split(" ")
        last = len(words) - 1
        result: list[str] = []
        for i, word in enumerate(words):
            if not word:
                continue
            key = (word, i < last)
            grams = known.get(key)
            if grams is None:
                grams = walk(word, i < last, probs)
                if len(known) < _WORDS_REMEMBERED and len(word) <= _REMEMBERED_WORD_CHARS:
                    known[key] = grams
            result.extend(grams)
        return result

    extract_ngrams.by_word, extract_ngrams.plain, extract_ngrams.known = True, plain, known
    detector.Detector._extract_ngrams = extract_ngrams


def _profiles_cache() -> str | None:
    """The cache file for this langdetect's profiles (keyed by version, and the files' names, sizes and times)."""
    import hashlib
    import os
    from importlib.metadata import version

    from langdetect import detector_factory

    try:
        names = sorted(os.listdir(detector_factory.PROFILES_DIRECTORY))
        stats = [os.stat(os.path.join(detector_factory.PROFILES_DIRECTORY, n)) for n in names]
    except OSError:
        return None
    key = hashlib.sha256(repr([(n, s.st_size, s.st_mtime_ns) for n, s in zip(names, stats)]).encode()).hexdigest()
    return cache_path("langdetect", f"profiles-{version('langdetect')}-{key[:16]}-v{_PROFILE_FORMAT}.npz")


_PROFILE_FORMAT = 1


def _factory_arrays(factory) -> dict | None:
    """A loaded factory as arrays: languages, n-grams in the dict's order, and
    each non-zero probability as (n-gram, language, value)."""
    import numpy as np

    words = list(factory.word_lang_prob_map)
    if any(not w or "\x00" in w for w in words):  # NumPy's fixed-width strings drop trailing NULs
        return None
    rows = [(i, j, p) for i, w in enumerate(words) for j, p in enumerate(factory.word_lang_prob_map[w]) if p]
    return {"langs": np.array(factory.langlist, dtype=str), "words": np.array(words, dtype=str),
            "word": np.array([r[0] for r in rows], dtype=np.int32), "lang": np.array([r[1] for r in rows], dtype=np.int16),
            "prob": np.array([r[2] for r in rows], dtype=np.float64)}


def _factory_from(arrays: dict | None):
    """A langdetect factory holding the profiles of ``_factory_arrays``, or None."""
    if not arrays or set(arrays) != {"langs", "words", "word", "lang", "prob"}:
        return None
    from langdetect.detector_factory import DetectorFactory

    langs, words = arrays["langs"].tolist(), arrays["words"].tolist()
    zero = [0.0] * len(langs)
    table = {w: zero.copy() for w in words}
    rows = [table[w] for w in words]
    try:
        for i, j, p in zip(arrays["word"].tolist(), arrays["lang"].tolist(), arrays["prob"].tolist()):
            rows[i][j] = p
    except IndexError:
        return None
    factory = DetectorFactory()
    factory.langlist, factory.word_lang_prob_map = langs, table
    return factory


def detect_language(factory, text: str, max_chars: int = 600, n_trial: int = 2,
                    min_letters: int = 20, min_prob: float = 0.5) -> tuple[str, float]:
    """(ISO 639-1 code or ``und``, probability of that code)."""
    from langdetect.lang_detect_exception import LangDetectException

    sample = text[: max_chars * 3]
    if len(_LETTERS.findall(sample[: max_chars])) < min_letters:
        return "und", 0.0
    det = factory.create()
    det.set_max_text_length(max_chars)
    det.n_trial = n_trial
    det.append(sample)
    try:
        best = det.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return "und", 0.0
    if best.prob < min_prob:
        return "und", float(best.prob)
    return _ISO.get(best.lang, best.lang), float(best.prob)


class _DetectFn(beam.DoFn):
    def __init__(self, max_chars: int, n_trial: int):
        self.max_chars = max_chars
        self.n_trial = n_trial

    def setup(self):
        self.factory = load_detector_factory()

    @per_document("language")
    def process(self, article):
        lang, score = detect_language(self.factory, article["text"], self.max_chars, self.n_trial)
        yield {**article, "language": lang, "language_score": score}


class DetectLanguage(beam.PTransform):
    """articles -> articles with ``language`` and ``language_score`` (``main``),
    and ``rejects`` for an article the detector failed on."""

    def __init__(self, max_chars: int = 600, n_trial: int = 2):
        super().__init__()
        self.max_chars = max_chars
        self.n_trial = n_trial

    def expand(self, articles):
        return articles | "Langdetect" >> beam.ParDo(_DetectFn(self.max_chars, self.n_trial)).with_outputs(
            "rejects", main="articles")
