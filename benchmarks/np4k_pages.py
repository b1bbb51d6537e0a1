"""A small extraction set from outside ../shared: newspaper4k's test pages.

newspaper4k's source distribution on PyPI ships news pages
(``tests/data/html/*.html``) with the article text its extractor is expected
to give (``tests/data/txt/*.txt``) and their URLs (``tests/data/metadata``):
CNN, Time, Wired, Fox, cleveland.com, and pages in Arabic, Burmese,
Chinese, Japanese, Latvian, Spanish, Thai and Korean. This script downloads
that distribution with pip (PyPI only) and writes the pages that have a text
as ``OUT/np4k/<name>.html`` and ``<name>.json`` (``{"url", "text"}``), the
layout of ``../shared/data/extraction/``, so that

    python benchmarks/html_extraction.py --data OUT --sets np4k

scores newsbeam and the three baselines on them. The expected texts are
newspaper4k's own output, checked by its maintainers, not a neutral gold:
they leave out headlines, captions and bylines as newspaper4k does. A check
on pages no part of newsbeam was tuned on, not a benchmark to tune on.

Usage: python benchmarks/np4k_pages.py OUT [--version 0.9.6]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile


def build(out: str, version: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        f"newspaper4k=={version}", "-d", tmp], check=True)
        (sdist,) = [os.path.join(tmp, f) for f in os.listdir(tmp) if f.endswith(".tar.gz")]
        with tarfile.open(sdist) as tar:
            files = {m.name.split("/tests/data/", 1)[1]: m for m in tar.getmembers()
                     if m.isfile() and "/tests/data/" in m.name}

            def read(name: str) -> str | None:
                m = files.get(name)
                return tar.extractfile(m).read().decode("utf-8") if m is not None else None

            dest = os.path.join(out, "np4k")
            os.makedirs(dest, exist_ok=True)
            n = 0
            for name in sorted(files):
                if not (name.startswith("txt/") and name.endswith(".txt")):
                    continue
                stem = name[4:-4]
                html = files.get(f"html/{stem}.html")
                if html is None:
                    continue
                meta = json.loads(read(f"metadata/{stem}.json") or "{}")
                with open(os.path.join(dest, stem + ".html"), "wb") as f:
                    f.write(tar.extractfile(html).read())
                with open(os.path.join(dest, stem + ".json"), "w", encoding="utf-8") as f:
                    json.dump({"url": meta.get("url") if isinstance(meta, dict) else None, "text": read(name)},
                              f, ensure_ascii=False)
                n += 1
    print(f"{n} pages with their text in {dest}")
    return 0 if n else 1


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--version", default="0.9.6")
    args = ap.parse_args(argv)
    return build(args.out, args.version)


if __name__ == "__main__":
    sys.exit(main())
