"""Hostile input: wall time and peak memory of `newsbeam run` over the
folder that tests/hostile.py builds (empty file, random and NUL bytes, a
60 MB page, HTML nested 200,000 deep, cp1251/UTF-16/Latin-1 pages without a
charset, a truncated .gz, a .gz that inflates to 1 GiB, broken JSON lines,
truncated WARC, unknown binary, a name with spaces and accents).

Runs newsbeam as a child process and reads the peak resident memory of the
largest process in its tree (RUSAGE_CHILDREN), then prints the manifest's
counts and checks that they add up.

Usage: python benchmarks/hostile.py [--workers N]
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
from hostile import make_hostile_folder  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="newsbeam-hostile-")
    try:
        folder = os.path.join(tmp, "in")
        make_hostile_folder(folder)
        flags = [] if args.workers == 1 else ["--direct_running_mode=multi_processing",
                                              f"--direct_num_workers={args.workers}"]
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", folder, "--output",
                               os.path.join(tmp, "out"), "--quiet"] + flags, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"exit code {proc.returncode}, wall {wall:.1f} s, peak RSS of the largest process {peak_mb:.0f} MB")
        if proc.returncode:
            print(proc.stderr[-3000:])
            return 1
        (path,) = glob.glob(os.path.join(tmp, "out", "runs", "*.json"))
        c = json.load(open(path))["counts"]
        print(f"inputs {c['inputs_seen']} = articles {c['articles_written']} + rejected {c['rejected']}: "
              f"{c['inputs_seen'] == c['articles_written'] + c['rejected']}")
        print("languages:", c["languages"])
        for reason, n in c["rejected_by_reason"].items():
            print(f"  {reason:32s} {n}")
        print("skipped records:", c["skipped_records"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
