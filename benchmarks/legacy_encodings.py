"""Undeclared legacy code pages on real text: every article of
../shared/data/dedup/crosslingual_dev.jsonl in a language with a Windows code
page (de, fr, en, is: windows-1252; cs, hr: windows-1250; ru, uk:
windows-1251) is written in that code page, its first 300 and 1,000
characters and whole, with no charset declared (characters the code page
lacks are left out), and decoded as newsbeam decodes a text file
(``transforms.encoding.decode_bytes``). Prints the share decoded exactly, by
language and length, the whole and the worst cell.

Usage: python benchmarks/legacy_encodings.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from benchmarks._common import DATA_DIR  # noqa: E402
from transforms.encoding import decode_bytes  # noqa: E402

PAGES = {"de": "cp1252", "fr": "cp1252", "en": "cp1252", "is": "cp1252", "cs": "cp1250", "hr": "cp1250",
         "ru": "cp1251", "uk": "cp1251"}
LENGTHS = (300, 1000, None)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DATA_DIR)
    path = os.path.join(ap.parse_args(argv).data, "dedup", "crosslingual_dev.jsonl")
    if not os.path.exists(path):
        print(f"skip: {path} is not here")
        return 0
    cells = collections.defaultdict(lambda: [0, 0])
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            page = PAGES.get(d["lang"])
            for n in LENGTHS if page else ():
                text = (d["text"][:n] if n else d["text"]).encode(page, "ignore").decode(page)
                data = text.encode(page)
                if data.isascii():
                    continue
                try:
                    right = decode_bytes(data, None, is_html=False)[0] == text
                except ValueError:  # DecodeError
                    right = False
                cell = cells[(d["lang"], str(n or "whole"))]
                cell[0] += right
                cell[1] += 1
    for (lang, n), (right, total) in sorted(cells.items()):
        print(f"{lang} ({PAGES[lang]}) {n:>5}: {right}/{total} = {right / total:.1%}")
    right, total = (sum(c[i] for c in cells.values()) for i in (0, 1))
    (lang, n), (r, t) = min(cells.items(), key=lambda kv: kv[1][0] / kv[1][1])
    print(f"all {right}/{total} = {right / total:.1%}; worst {lang} {n}: {r / t:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
