"""Machine-translation detection as a pipeline step.

Adds ``mt_score``, ``is_machine_translated``, ``mt_source_language`` and
``mt_evidence`` to each article (see ``transforms.mtmodel``). The model (a few
MB of weights plus wordfreq's English list) is loaded once per worker
process and shared by all its DoFn instances. The detector reads English:
articles in other languages get ``mt_score`` 0 and no flag.
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam.utils.shared import Shared

from transforms.boundary import per_document
from transforms.mtmodel import DEFAULT_MODEL_PATH, MtModel

__all__ = ["LOADS", "DetectMachineTranslation", "load_model"]

LOADS = {"count": 0}  # how many times this process loaded the model (tests)
# One handle for every DoFn instance (files and feed pages are two chains):
# a Shared per transform would give each chain its own copy of the model
_SHARED = Shared()


class _Holder:
    """Shared needs a weak-referenceable object."""

    def __init__(self, model: MtModel):
        self.model = model


def load_model(path: str = DEFAULT_MODEL_PATH) -> MtModel:
    LOADS["count"] += 1
    return MtModel.load(path)


class _ScoreFn(beam.DoFn):
    def __init__(self, shared: Shared, model_path: str, threshold: float | None):
        self.shared = shared
        self.model_path = model_path
        self.threshold = threshold

    def setup(self):
        # Shared keeps the model only while someone holds the holder: hold it,
        # or the next DoFn instance in this process loads the model again
        self.holder = self.shared.acquire(lambda: _Holder(load_model(self.model_path)), tag=self.model_path)
        self.model = self.holder.model

    @per_document("translation")
    def process(self, a):
        if a.get("language") != "en":
            return [{**a, "mt_score": 0.0, "is_machine_translated": False, "mt_source_language": None,
                     "mt_evidence": []}]
        r = self.model.score(
            a["text"],
            urls=(a.get("url"), a.get("page_url"), a.get("canonical")),
            declared_language=a.get("declared_language"),
            text_language="en",
            proxy_hint=a.get("translation_proxy"),
            threshold=self.threshold,
        )
        return [{**a, "mt_score": r.mt_score, "is_machine_translated": r.is_machine_translated,
                 "mt_source_language": r.mt_source_language, "mt_evidence": r.mt_evidence}]


class DetectMachineTranslation(beam.PTransform):
    """articles (with ``language``) -> articles with the four ``mt_*`` fields
    (``main``), and ``rejects`` for an article the scorer failed on.

    ``threshold`` None uses the model's calibrated threshold.
    """

    def __init__(self, threshold: float | None = None, model_path: str = DEFAULT_MODEL_PATH):
        super().__init__()
        self.threshold = threshold
        self.model_path = model_path

    def expand(self, articles):
        return articles | "ScoreTranslation" >> beam.ParDo(
            _ScoreFn(_SHARED, self.model_path, self.threshold)).with_outputs("rejects", main="articles")
