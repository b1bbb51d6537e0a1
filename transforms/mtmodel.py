"""The machine-translation detector: model file, scoring, evidence, source language.

``MtModel.load()`` reads the small ``.npz`` written by ``scripts/train_mt.py``
(hashed class n-gram weights of a logistic regression, a second one over
source languages on the features of ``transforms.mtsource``, the calibrated
threshold and the training report). ``score`` returns an ``MtResult`` with
the four output columns; the source language of a flag comes from its
evidence, else from the source classifier and the reader's cues where
neither contradicts the other (``classified_source``). No Beam import: the
training script scores its held-out sets through this same code.

How the score is made:
- the model's log-odds, less a length offset: the model leans to "machine
  output" on short texts, so ``train_mt.py`` measures, on held-out native
  English cut into runs of 15 to 220 words, how much must come off at each
  length for no more of them to be flagged than of whole articles (a table
  of word counts and offsets in the model file, interpolated in log words);
- a text longer than ``LONG_WORDS`` words is scored as the mean of those
  log-odds over its runs of ``WINDOW_WORDS`` words: the model has seen
  almost no machine translation that long, and a long native essay, paper
  or transcript read whole was flagged at 3.1% (7 of 225 native texts over
  1,500 words) against 0.4% of shorter ones (docs/mt_model.md);
- shrunk towards 0 (probability 0.5, "cannot tell")
  for texts under ``FULL_WORDS`` words, so that short texts are never flagged
  on the model alone;
- plus the weights of the evidence rules that fire (``transforms.mtevidence``),
  capped at ``MAX_EVIDENCE``;
- through the logistic function: ``mt_score``; flagged at ``threshold``.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from transforms import mtsource
from transforms.mtevidence import Evidence, find_evidence
from transforms.mtfeatures import FEATURE_SCHEME, HASH_BITS, Featurizer

__all__ = ["DEFAULT_MODEL_PATH", "MtModel", "MtResult", "confidence", "evidence_language", "logit", "word_runs"]

# Model files written before they named their features were all made with this
# scheme (not FEATURE_SCHEME, which moves on with the featuriser)
UNKEYED_FEATURE_SCHEME = "classes-1-3gram/v1"
DEFAULT_MODEL_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "models", "mt_model.npz")
MIN_WORDS = 5
FULL_WORDS = 25
MAX_EVIDENCE = 8.0
MAX_TEXT_CHARS = 20_000
# the evidence rules read this much of a text (about 30,000 words: far more
# than an article; a 16 MB text of one page would otherwise cost seconds)
MAX_EVIDENCE_CHARS = 200_000
# the source classifier names a language from this probability on (below it,
# null); chosen on 2022 news held out by source document, see docs/mt_model.md
SOURCE_MIN_PROBABILITY = 0.7
# under it, the language the reader's cues put clearly ahead (``mtsource.guess``) is named when the classifier
# gives that language at least this much (and over it, the classifier's language only where the cues lead to no
# other). On flagged news of a language and year the classifier never saw (scripts/train_mt.py,
# docs/mt_model.md): named 57.5% -> 65.9%, right 94.7% -> 95.3%
CUE_MIN_PROBABILITY = 0.4
# The longest WMT machine translations the model learnt from are about this
# long (67 of 4,402 news translations are longer, one over 3,000 words): a
# longer text is read as runs of WINDOW_WORDS words, lengths the model and its
# length table know, and its log-odds are their mean
LONG_WORDS = 1500
WINDOW_WORDS = 700


def confidence(n_words: int) -> float:
    """How much of the model's log-odds a text of ``n_words`` words keeps."""
    return min(1.0, max(0.0, (n_words - MIN_WORDS) / (FULL_WORDS - MIN_WORDS)))


def word_runs(text: str, size: int = WINDOW_WORDS, n_words: int | None = None) -> list[str]:
    """``text`` cut into consecutive runs of ``size`` whitespace-separated
    words (at a word's start, so nothing is lost); a last run under half of
    ``size`` joins the one before. A text of up to ``size`` * 1.5 words is one run.
    ``n_words``: ``len(text.split())`` when the caller has counted already."""
    n = len(text.split()) if n_words is None else n_words
    if n <= size * 3 // 2:
        return [text]
    cuts = (n - 1) // size  # a cut before every size-th word
    if n - cuts * size < size // 2:
        cuts -= 1
    run = _run_of(size)
    bounds = [0]
    for _ in range(cuts):
        bounds.append(run.match(text, bounds[-1]).end())  # the start of the next run's first word
    bounds.append(len(text))
    return [text[a:b] for a, b in zip(bounds, bounds[1:])]


@lru_cache(maxsize=8)
def _run_of(size: int) -> re.Pattern:
    return re.compile(r"\s*(?:\S+\s+){%d}" % size)


@dataclass
class MtResult:
    mt_score: float
    is_machine_translated: bool
    mt_source_language: str | None
    mt_evidence: list[str] = field(default_factory=list)
    model_probability: float = 0.5


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


class MtModel:
    def __init__(self, *, det_idx, det_w, det_b, src_idx, src_w, src_b, src_classes, threshold,
                 hash_bits=HASH_BITS, feature_scheme=FEATURE_SCHEME, report=None,
                 featurizer: Featurizer | None = None, offset_words=(), offset_logits=(),
                 src_scheme=mtsource.FEATURE_SCHEME, src_min_probability=SOURCE_MIN_PROBABILITY):
        if hash_bits != HASH_BITS or feature_scheme != FEATURE_SCHEME:
            raise ValueError(f"the model was trained on features {feature_scheme!r}, this code makes "
                             f"{FEATURE_SCHEME!r}: retrain it with scripts/train_mt.py")
        size = 1 << hash_bits
        self.det = np.zeros(size, dtype=np.float32)
        self.det[np.asarray(det_idx, dtype=np.int64)] = np.asarray(det_w, dtype=np.float32)
        self.det_b = float(det_b)
        # a file whose source classifier read other features (before the
        # source features existed) names no language by it: the cues do
        self.src_classes = [str(c) for c in src_classes] if src_scheme == mtsource.FEATURE_SCHEME else []
        self.src_min_probability = float(src_min_probability)
        self.src = np.zeros((1 << mtsource.FEATURE_BITS, len(self.src_classes)), dtype=np.float32)
        if self.src_classes:
            self.src[np.asarray(src_idx, dtype=np.int64)] = np.asarray(src_w, dtype=np.float32)
        self.src_b = np.asarray(src_b if self.src_classes else (), dtype=np.float32)
        self.threshold = float(threshold)
        self.set_length_offsets(offset_words, offset_logits)
        self.report = report or {}
        self.featurizer = featurizer or Featurizer()

    # -- persistence -------------------------------------------------------
    @classmethod
    def load(cls, path: str = DEFAULT_MODEL_PATH, featurizer: Featurizer | None = None) -> MtModel:
        with np.load(path, allow_pickle=False) as z:
            return cls(
                det_idx=z["det_idx"], det_w=z["det_w"], det_b=z["det_b"][0],
                src_idx=z["src_idx"], src_w=z["src_w"], src_b=z["src_b"], src_classes=z["src_classes"],
                threshold=z["threshold"][0], hash_bits=int(z["hash_bits"][0]),
                feature_scheme=str(z["feature_scheme"][0]) if "feature_scheme" in z else UNKEYED_FEATURE_SCHEME,
                report=json.loads(str(z["report"][0])), featurizer=featurizer,
                offset_words=z["offset_words"] if "offset_words" in z else (),  # files before the table
                offset_logits=z["offset_logits"] if "offset_logits" in z else (),
                src_scheme=str(z["src_scheme"][0]) if "src_scheme" in z else "detector-features",
                src_min_probability=float(z["src_min_probability"][0]) if "src_min_probability" in z
                else SOURCE_MIN_PROBABILITY,
            )

    @staticmethod
    def save(path: str, *, det_coef, det_b, src_coef, src_b, src_classes, threshold, report,
             offset_words=(), offset_logits=(), src_min_probability=SOURCE_MIN_PROBABILITY) -> None:
        det_idx = np.flatnonzero(det_coef).astype(np.int32)
        src_idx = np.flatnonzero(np.any(src_coef != 0, axis=1)).astype(np.int32)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = path + ".tmp.npz"
        np.savez_compressed(
            tmp,
            det_idx=det_idx, det_w=det_coef[det_idx].astype(np.float16),
            det_b=np.array([det_b], dtype=np.float64),
            src_idx=src_idx, src_w=src_coef[src_idx].astype(np.float16),
            src_b=np.asarray(src_b, dtype=np.float64), src_classes=np.array(src_classes),
            threshold=np.array([threshold], dtype=np.float64), hash_bits=np.array([HASH_BITS]),
            feature_scheme=np.array([FEATURE_SCHEME]), src_scheme=np.array([mtsource.FEATURE_SCHEME]),
            src_min_probability=np.array([src_min_probability], dtype=np.float64),
            offset_words=np.asarray(offset_words, dtype=np.float64),
            offset_logits=np.asarray(offset_logits, dtype=np.float64),
            report=np.array([json.dumps(report, sort_keys=True)]),
        )
        os.replace(tmp, path)

    # -- scoring -------------------------------------------------------------
    def set_length_offsets(self, words, logits) -> None:
        """The length table: log-odds taken off a text of ``words[i]`` words
        (increasing); interpolated in log words, the end values beyond."""
        words = np.asarray(words, dtype=np.float64)
        logits = np.asarray(logits, dtype=np.float64)
        if words.shape != logits.shape or np.any(np.diff(words) <= 0) or np.any(words <= 0):
            raise ValueError("length offsets need increasing positive word counts, one offset each")
        self.offset_words, self.offset_logits = words, logits
        self._log_words = np.log(words)

    def length_offset(self, n_words: int) -> float:
        if not len(self.offset_words) or n_words <= 0:
            return 0.0
        return float(np.interp(math.log(n_words), self._log_words, self.offset_logits))

    def model_logit(self, text: str) -> tuple[float, int]:
        """(the model's log-odds for ``text`` as read, before any length offset, the words it read)."""
        buckets, w, n_words = self.featurizer.weights(text[:MAX_TEXT_CHARS])
        if not len(buckets):
            return 0.0, n_words
        return float(self.det[buckets] @ w.astype(np.float32)) + self.det_b, n_words

    def text_logit(self, text: str) -> tuple[float, int, int]:
        """(the model's log-odds for ``text`` after the length offset, the words
        it read, the runs it read them in): whole, or, over ``LONG_WORDS``
        words, the mean over its runs of ``WINDOW_WORDS`` (``word_runs``)."""
        text = text[:MAX_TEXT_CHARS]
        n = len(text.split())
        runs = word_runs(text, n_words=n) if n > LONG_WORDS else [text]
        zs, words = [], 0
        for run in runs:
            raw, n_words = self.model_logit(run)
            zs.append(raw - self.length_offset(n_words))
            words += n_words
        return float(np.mean(zs)), words, len(runs)

    def source_probabilities(self, text: str) -> dict[str, float]:
        """The source classifier's probability of each language it knows."""
        return self._source_reading(text)[0]

    def _source_reading(self, text: str) -> tuple[dict[str, float], dict[str, tuple[float, float]]]:
        """(``source_probabilities``, the cue ``mtsource.scores`` its features hold)."""
        if not self.src_classes:
            return {}, {}
        feats, cues = mtsource.features_and_cues(text)
        if not feats:
            return {}, cues
        idx = np.fromiter(feats.keys(), dtype=np.int64, count=len(feats))
        val = np.fromiter(feats.values(), dtype=np.float32, count=len(feats))
        z = val @ self.src[idx] + self.src_b
        z = np.exp(z - z.max())
        p = z / z.sum()
        return {c: float(v) for c, v in zip(self.src_classes, p)}, cues

    def score(self, text: str, *, urls=(), declared_language=None, text_language="en",
              proxy_hint=None, threshold: float | None = None) -> MtResult:
        thr = self.threshold if threshold is None else threshold
        z, n_words, runs = self.text_logit(text)  # the model's log-odds for a text of this length
        conf = confidence(n_words)
        evidence = find_evidence(text[:MAX_EVIDENCE_CHARS], urls=tuple(urls), declared_language=declared_language,
                                 text_language=text_language, proxy_hint=proxy_hint)
        bonus = min(MAX_EVIDENCE, sum(e.weight for e in evidence))
        score = _sigmoid(conf * z + bonus)
        flagged = score >= thr
        model_p = _sigmoid(z)  # after the length offset: what the evidence line says
        weighted = [(e.weight, e.message) for e in evidence]
        if flagged and conf * z > 0:
            alone = _sigmoid(conf * z) >= thr
            weighted.append((conf * z, (f"wording and syntax profile {'typical of' if alone else 'leaning to'} "
                                        f"machine translation (model probability {model_p:.2f} "
                                        f"over {n_words} words{f' in {runs} runs' if runs > 1 else ''})")))
        elif evidence and n_words < FULL_WORDS:
            weighted.append((0.0, f"only {n_words} words: the model's opinion counts for {conf:.0%}"))
        reasons = [m for _, m in sorted(weighted, key=lambda wm: -wm[0])]
        source = self.source_language(evidence, text) if flagged else None
        return MtResult(
            mt_score=score,
            is_machine_translated=flagged,
            mt_source_language=source,
            mt_evidence=reasons,
            model_probability=model_p,
        )


    def source_language(self, evidence: list[Evidence], text: str) -> str | None:
        """Evidence that names a language wins (weighted vote); else the
        source classifier's language when its probability reaches
        ``src_min_probability``, unless the cues put another clearly ahead;
        else the language the cues put clearly ahead (``mtsource.guess``)
        when the classifier gives it at least ``CUE_MIN_PROBABILITY``; else
        None (``classified_source``). A model file without a classifier on
        the source features falls back on the cues alone."""
        named = evidence_language(evidence)
        if named:
            return named
        if not self.src_classes:
            return mtsource.guess(text[:MAX_TEXT_CHARS])
        return classified_source(*self._source_reading(text), self.src_min_probability)


def classified_source(probs: dict[str, float], cues: dict[str, tuple[float, float]], cut: float) -> str | None:
    """A language only where the source classifier (``probs``) and the cues
    (``mtsource.scores``) do not contradict each other: the classifier's
    language when its probability reaches ``cut`` (ties by name) and the
    cues put no other language clearly ahead (``mtsource.clear_lead``);
    under the cut, the cues' lead when the classifier gives it at least
    ``CUE_MIN_PROBABILITY``; else None."""
    if not probs:
        return None
    lang, p = min(probs.items(), key=lambda kv: (-kv[1], kv[0]))
    cued = mtsource.clear_lead(cues)
    if p >= cut:
        return lang if cued is None or cued == lang else None
    return cued if cued is not None and probs.get(cued, 0.0) >= CUE_MIN_PROBABILITY else None


def evidence_language(evidence: list[Evidence]) -> str | None:
    """The language the evidence names, by weighted vote (ties by name), or None."""
    votes: dict[str, float] = {}
    for e in evidence:
        if e.language:
            votes[e.language] = votes.get(e.language, 0.0) + e.weight
    return min(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0] if votes else None
