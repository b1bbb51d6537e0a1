"""Language of the article text with langdetect, seeded, with a score.

langdetect samples character n-grams at random; ``DetectorFactory.seed = 0``
makes it repeatable. It costs ~6 ms on a whole article, mostly for text it
does not need: the detector reads the first ``max_chars`` (600) characters
and runs ``n_trial`` (2) sampling rounds instead of 7, ~1.1 ms a document
(benchmarks/language.py measures accuracy against the full setting on long
and short texts in many languages).
"""
from __future__ import annotations

import re

import apache_beam as beam

from transforms.boundary import per_document

__all__ = ["DetectLanguage", "detect_language", "load_detector_factory"]

_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_ISO = {"zh-cn": "zh", "zh-tw": "zh"}


def load_detector_factory():
    """langdetect's profiles, loaded once per process, seeded."""
    from langdetect import DetectorFactory, detector_factory

    DetectorFactory.seed = 0
    detector_factory.init_factory()
    return detector_factory._factory


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
