"""Generated hostile input and kill-and-rerun, many times.

Part 1: ``--files`` generated files (tests/fuzz.py: valid files of every
input kind, most mutated: truncated, flipped, inserted and deleted bytes,
corrupt headers and WARC fields, wrong declared lengths and charsets,
garbage records among good ones), run through ``newsbeam run`` in batches
of ``--batch`` files. For every run: the exit code, and whether every file
has a row, every record before the damage is an article, no source has two
rows and the manifest adds up. Prints a table by input kind, and what the
runs wrote on stderr under ``--quiet`` besides newsbeam's own warnings
(a library's note on a damaged file that reached the terminal).

Part 2: ``--kills`` runs killed with SIGKILL (at a random moment, or inside
the commit after a random number of moved shards) and run again into the
same output; each output is compared with one clean run's rows.

``--big`` adds files of hundreds of records (JSON lines, WARC, gzip WARC;
``tests/fuzz.BIG_KINDS``), damaged the same ways: big enough to be read in
ranges, one range an element, by every worker (1 MB ranges on one worker,
256 KB on several), which the small files never are unless a mutation
pads them past a megabyte.

Usage: python benchmarks/fuzz.py [--files 5000] [--batch 250] [--kills 50] [--seed 1] [--workers 1] [--big]
"""
from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, ROOT)
from conftest import SEEDS, read_table  # noqa: E402
from faults import rerun, rows, trial  # noqa: E402
from fuzz import BIG_KINDS, KINDS, check_output, file_of, write_cases  # noqa: E402


def _worker_flags(args) -> list[str]:
    return ([] if args.workers <= 1 else
            ["--direct_running_mode=multi_processing", f"--direct_num_workers={args.workers}"])


def generated(args, tmp: str) -> int:
    rnd = random.Random(args.seed)
    kinds = KINDS + (BIG_KINDS if args.big else ())
    per_kind = max(1, args.batch // len(kinds))
    stats = collections.defaultdict(collections.Counter)
    failed_runs, problems_all, done, runs = 0, [], 0, 0
    noise: collections.Counter = collections.Counter()
    t0 = time.perf_counter()
    while done < args.files:
        folder, out = os.path.join(tmp, f"in{runs}"), os.path.join(tmp, f"out{runs}")
        cases = write_cases(folder, rnd, per_kind, kinds=kinds, start=done)
        proc = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", folder, "--output", out,
                               "--no-fetch", "--quiet", *_worker_flags(args)], cwd=ROOT, capture_output=True,
                              text=True)
        runs += 1
        done += len(cases)
        # under --quiet a run says nothing but newsbeam's own warnings (a feed used though malformed)
        noise.update(line.strip()[:120] for line in proc.stderr.splitlines()
                     if line.strip() and " WARNING newsbeam." not in line)
        if proc.returncode:
            failed_runs += 1
            problems_all.append(f"run {runs} exited {proc.returncode}: {proc.stderr[-500:]}")
            for case in cases.values():
                stats[case.kind]["in failed runs"] += 1
            continue
        (mpath,) = glob.glob(os.path.join(out, "runs", "*.json"))
        counts = json.load(open(mpath))["counts"]
        articles, rejects = read_table(out, "articles"), read_table(out, "rejects")
        problems = check_output(folder, cases, articles, rejects, counts)
        problems_all += problems
        by_file = collections.defaultdict(lambda: [0, 0])
        for r in articles:
            by_file[file_of(r["source"], cases)][0] += 1
        for r in rejects:
            by_file[file_of(r["source"], cases)][1] += 1
        for name, case in cases.items():
            s = stats[case.kind]
            s["files"] += 1
            s["mutated"] += bool(case.mutations)
            s["articles"] += by_file[name][0]
            s["rejects"] += by_file[name][1]
            s["records that must be articles"] += len(case.intact_records())
            s["files with no row"] += not sum(by_file[name])
        for p in problems:
            name = p.split(" ", 1)[0]
            if name in cases:
                stats[cases[name].kind]["problems"] += 1
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        print(f"  run {runs}: {done} files, {len(problems)} problems, exit {proc.returncode}", file=sys.stderr)
    wall = time.perf_counter() - t0
    cols = ["files", "mutated", "articles", "rejects", "records that must be articles", "files with no row",
            "problems"]
    print(f"\nGenerated input: {done} files in {runs} runs of `newsbeam run` ({wall:.0f} s), seed {args.seed}")
    print(f"{'kind':16s} " + " ".join(f"{c:>12s}" for c in ["files", "mutated", "articles", "rejects",
                                                            "must-article", "no row", "problems"]))
    total = collections.Counter()
    for kind in kinds:
        total.update(stats[kind])
        print(f"{kind:16s} " + " ".join(f"{stats[kind][c]:12d}" for c in cols))
    print(f"{'all':16s} " + " ".join(f"{total[c]:12d}" for c in cols))
    print(f"runs that exited non-zero: {failed_runs}; problems (unaccounted inputs, intact records lost, "
          f"rows twice, manifests that do not add up): {len(problems_all)}")
    for p in problems_all[:20]:
        print("  ", p)
    print(f"lines on stderr under --quiet other than newsbeam's warnings: {sum(noise.values())}")
    for line, n in noise.most_common(5):
        print(f"  {n:5d}  {line}")
    return failed_runs + len(problems_all)


def kills(args, tmp: str) -> int:
    rnd = random.Random(args.seed)
    folder = os.path.join(tmp, "kill_in")
    write_cases(folder, rnd, per_kind=3)
    for name in os.listdir(SEEDS):
        shutil.copy(os.path.join(SEEDS, name), folder)
    clean = os.path.join(tmp, "clean")
    t = time.perf_counter()
    assert rerun(folder, clean) == 0, "the clean run failed"
    clean_seconds = time.perf_counter() - t
    reference = rows(clean)
    print(f"\nKill and rerun: {len(os.listdir(folder))} input files, clean run {clean_seconds:.1f} s, "
          f"{len(reference[0])} articles, {len(reference[1])} rejects")
    result = collections.Counter()
    for i in range(args.kills):
        how = "commit" if i % 5 == 4 else "timer"  # one in five inside the commit, the rest at a random moment
        out = os.path.join(tmp, f"kill{i}")
        diffs = trial(folder, out, reference, how, rnd, clean_seconds)
        result[(how, "trials")] += 1
        result[(how, "with differences")] += bool(diffs)
        for d in diffs:
            print(f"  kill {i} ({how}): {d}")
        shutil.rmtree(out, ignore_errors=True)
    for how in ("timer", "commit"):
        print(f"  killed {'at a random moment' if how == 'timer' else 'inside the commit':24s} "
              f"{result[(how, 'trials')]:4d} runs, {result[(how, 'with differences')]} differ from the clean run")
    return result[("timer", "with differences")] + result[("commit", "with differences")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=250)
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=1, help="generated-input runs on this many local worker processes")
    ap.add_argument("--big", action="store_true",
                    help="also big JSON-lines files and WARCs (hundreds of records), read in ranges by every worker")
    args = ap.parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="newsbeam-fuzz-")
    try:
        bad = generated(args, tmp) if args.files else 0
        bad += kills(args, tmp) if args.kills else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS of the largest child process: {peak:.0f} MB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
