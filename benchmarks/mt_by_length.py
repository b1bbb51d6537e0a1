"""Held-out machine-translation detection by document length: a proxy for
full-length news (issue #17's WMT 2023 set).

Trains the held-out detector as ``scripts/train_mt.py`` does (WMT up to
2021, the calibration natives left out) under two settings, the shipped ones
and the "before" ones (whole documents, no length table, natives at 1.5%),
and scores 2022's news machine translations against the held-out natives:
ROC-AUC, share flagged at 2% of the natives, and share flagged at each
setting's calibrated threshold, by length band and, for documents of 150
words or more, by source language and for Russian and Ukrainian together
(the language pairs of the issue's set). About two minutes on two cores.

Usage: python benchmarks/mt_by_length.py [--data ../shared/data]
"""
from __future__ import annotations

import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks._common import wmt_data  # noqa: E402

BANDS = ((0, 100), (100, 200), (200, 10 ** 6), (150, 10 ** 6), (0, 10 ** 6))


def evaluate(T, docs, X, name: str, chunk_weight: float, length_offsets: bool, target_fpr: float) -> None:
    with T.settings_changed(chunk_weight=chunk_weight, length_offsets=length_offsets, target_fpr=target_fpr):
        _evaluate(T, docs, X, name)


def _evaluate(T, docs, X, name: str) -> None:
    fz = T.Featurizer()
    model = T.heldout_detector(X, docs, fz, T.training_chunks(docs, fz))
    T.calibrate_lengths(model, docs)
    test = [i for i, d in enumerate(docs) if d["year"] == 2022 and d["label"] == "mt" and d["domain"] == "news"]
    natives = [i for i, d in enumerate(docs) if d["cal"]]
    score = {i: model.score(docs[i]["text"], threshold=1.1).mt_score for i in test + natives}
    nat = [score[i] for i in natives]
    at_2 = float(np.quantile(nat, 0.98)) + 1e-9
    print(f"\n{name}: threshold {model.threshold:.3f}; {len(test)} 2022 news MT, {len(nat)} held-out natives")
    print(f"  {'words':>12s} {'docs':>5s} {'AUC':>6s} {'@2% nat':>8s} {'@thr':>6s}")
    for lo, hi in BANDS:
        pos = [score[i] for i in test if lo <= len(docs[i]["text"].split()) < hi]
        band = f"{lo}-{hi if hi < 10 ** 6 else ''}"
        print(f"  {band:>12s} {len(pos):5d} {T.auc(pos, nat):6.3f} {T.rate(pos, at_2):8.1%} "
              f"{T.rate(pos, model.threshold):6.1%}")
    # by source language; "ru+uk" are the language pairs of the held-out set (WMT 2023 ru-en, uk-en)
    for name, langs in (("ru", {"ru"}), ("uk", {"uk"}), ("ja", {"ja"}), ("ru+uk", {"ru", "uk"})):
        pos = [score[i] for i in test if docs[i]["src"] in langs and len(docs[i]["text"].split()) >= 150]
        print(f"  {name + ', 150-':>12s} {len(pos):5d} {T.auc(pos, nat):6.3f} {T.rate(pos, at_2):8.1%} "
              f"{T.rate(pos, model.threshold):6.1%}")


def main(argv=None) -> int:
    data = wmt_data(argv, __doc__)
    if data is None:
        return 0
    import scripts.train_mt as T

    shipped = (T.SETTINGS["chunk_weight"], T.SETTINGS["length_offsets"], T.TARGET_FPR)
    docs = T.load(data)
    X = T.featurize(docs, T.Featurizer())
    evaluate(T, docs, X, "shipped settings", *shipped)
    evaluate(T, docs, X, "shipped settings, natives at 1.5%", shipped[0], shipped[1], 0.015)
    evaluate(T, docs, X, "before (whole documents, no length table, natives at 1.5%)", 0.0, False, 0.015)
    return 0


if __name__ == "__main__":
    sys.exit(main())
