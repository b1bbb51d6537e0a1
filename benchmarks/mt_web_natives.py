"""Should the machine-translation detector learn native English web pages?

The shipped detector learns native English from news (WMT originals, ECB+,
half of scrapinghub's English pages). cleaneval's gold texts (essays,
letters, papers, teachers' pages: not news) are the one native set it flags
over 2% (docs/mt_model.md). This script trains the held-out detector as
``scripts/train_mt.py`` does (WMT up to 2021, the calibration natives left
out), three ways:

- ``shipped``: the English gold texts of cleaneval, cleanportaleval, dragnet
  and readability are never trained on, only measured (all of them);
- ``web natives, weight 3``: every other page of each of those sets is
  trained on as native, at the weight of the other natives; the rest measured;
- ``web natives, weight 1``: the same at a third of that weight.

For each, at the threshold calibrated as shipped (0.75% of the calibration
natives) and at 1.5%: the threshold, the share of 2022 news machine
translations from Russian and Ukrainian of 150 words or more flagged (the
proxy for issue #17's WMT 2023 set, as ``mt_by_length.py``), ROC-AUC against
the held-out native news and the share flagged at 2% of them, and the share
flagged of each measured native set. About three minutes on two cores.

Usage: python benchmarks/mt_web_natives.py [--data ../shared/data]
"""
from __future__ import annotations

import glob
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks._common import wmt_data  # noqa: E402

WEB_SETS = ("cleaneval", "cleanportaleval", "dragnet", "readability")
MEASURED = 9999  # the year given to a document that is measured only: neither trained on (<= 2021) nor test (2022)


def web_natives(data: str) -> list[dict]:
    """English gold texts of 200 characters or more, as train_mt reads scrapinghub's."""
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    out = []
    for name in WEB_SETS:
        k = 0
        for path in sorted(glob.glob(os.path.join(data, "extraction", name, "*.json"))):
            with open(path, encoding="utf-8") as f:
                text = json.load(f).get("text") or ""
            if len(text) < 200 or detect(text[:2000]) != "en":
                continue
            out.append({"text": text, "label": "native", "year": MEASURED, "system": None, "src": None,
                        "domain": "web", "set": name, "cal": False, "half": k % 2})
            k += 1
    return out


def evaluate(T, docs, X, web, Xw, name: str, train_web: bool, web_weight: float) -> None:
    from scipy import sparse

    trained = [train_web and d["half"] == 0 for d in web]
    docs = docs + [dict(d, year=0, weight=web_weight) if t else dict(d, year=MEASURED) for d, t in zip(web, trained)]
    X = sparse.vstack([X, Xw]).tocsr()
    fz = T.Featurizer()
    model = T.heldout_detector(X, docs, fz, T.training_chunks(docs, fz))
    test = [i for i, d in enumerate(docs) if d["year"] == 2022 and d["label"] == "mt" and d["domain"] == "news"]
    ruuk = [i for i in test if docs[i]["src"] in ("ru", "uk") and len(docs[i]["text"].split()) >= 150]
    measured = [i for i, d in enumerate(docs) if (d["cal"] and d["cal_half"] == 1) or d["year"] == MEASURED]
    news = [i for i, d in enumerate(docs) if d["cal"]]  # both halves, as mt_by_length.py
    print(f"\n{name}: {len(ruuk)} ru+uk news MT of 150+ words, {len(news)} held-out native news")
    for fpr in (T.TARGET_FPR, 0.015):
        with T.settings_changed(target_fpr=fpr):
            T.calibrate_lengths(model, docs)
        score = {i: model.score(docs[i]["text"], threshold=1.1).mt_score for i in set(test + measured + news)}
        pos, nat = [score[i] for i in ruuk], [score[i] for i in news]
        at_2 = float(np.quantile(nat, 0.98)) + 1e-9
        sets = {}
        for i in measured:
            sets.setdefault(docs[i]["set"], []).append(score[i])
        flagged = ", ".join(f"{s} {T.rate(v, model.threshold):.1%} of {len(v)}" for s, v in sorted(sets.items()))
        print(f"  natives at {fpr:.2%}: threshold {model.threshold:.3f}; ru+uk flagged {T.rate(pos, model.threshold):.1%}"
              f"; AUC vs native news {T.auc(pos, nat):.3f}, flagged at 2% of them {T.rate(pos, at_2):.1%}"
              f" (all 2022 news MT {T.rate([score[i] for i in test], at_2):.1%})")
        print(f"    measured natives flagged: {flagged}")


def main(argv=None) -> int:
    data = wmt_data(argv, __doc__)
    if data is None:
        return 0
    import scripts.train_mt as T

    docs = T.load(data)
    fz = T.Featurizer()
    X = T.featurize(docs, fz)
    web = web_natives(data)
    Xw = T.featurize(web, fz)
    for d in web:
        d["cal_half"] = 1
    evaluate(T, docs, X, web, Xw, "shipped (web gold measured only)", False, 0.0)
    evaluate(T, docs, X, web, Xw, "web natives trained, weight 3", True, T.SETTINGS["native_weight"])
    evaluate(T, docs, X, web, Xw, "web natives trained, weight 1", True, 1.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
