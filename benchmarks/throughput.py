"""Throughput of `newsbeam run` against a bare trafilatura.extract loop, on
distinct pages.

Pages: every .html page of every set under ../shared/data/extraction/ (980
distinct pages; or any folder tree of .html with --pages), copied once each
into a temporary folder: no page is there twice. Then, --runs times, side by
side in this one process:

  1. a bare loop: ``trafilatura.extract(html_bytes)`` over every page, one process;
  2. ``newsbeam run --quiet`` (in-process runner, 1 worker; extraction runs in
     its sandbox children, one per core up to 4 by default, so on 2 cores
     three processes);
  3. the same with ``--direct_running_mode=multi_processing --direct_num_workers=2``.

newsbeam's times are whole runs in a fresh ``python -m pipeline`` process
(start-up, reading, decoding, sandboxed extraction with metadata, language,
machine translation, link records, grouping, Parquet, commit). The process
tree is sampled from /proc every 0.2 s: peak RSS is the largest sum over the
tree, CPU the sum of each process's last user+system time.

Then the CPU cost of each step, measured in this process by running the
step's own code over the same pages one at a time (time.process_time):
reading, decoding, each part of ``extract_html`` (it is handed a timer:
parse and metadata, readability-lxml, trafilatura and its precision mode
where the choice needs them, the choice, headline and byline),
language, machine translation, annotation, link records, and Parquet
writing. What the 1-worker run spent beyond those (Beam's per-element work,
grouping, the sandbox's pipe, commit, start-up) is the last row.

Each set of pages is a sample, so the same CPU figures are then printed by
set (the folder a page came from): the bare loop's CPU a page against the
sum of newsbeam's steps, and the worst set. Whole runs over a set of 100-300
pages would mostly measure start-up (about 2 s a run); the CPU ratio is
what a large corpus of such pages tends to.

--double also runs 2 workers on the corpus twice over (every page a second
time under another name) and prints both peak RSS figures.

Targets (issue 16): 2 workers >= 1.6x and 1 worker >= 0.8x the bare loop.

Usage: python benchmarks/throughput.py [--pages DIR] [--runs 3] [--double]
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import glob
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
from benchmarks._common import DATA_DIR  # noqa: E402

TWO_WORKERS = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]


def bare_loop(files, per_file: dict | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of trafilatura.extract over the files; ``per_file``
    gets each file's CPU seconds added to it."""
    import trafilatura

    w, c = time.perf_counter(), time.process_time()
    for f in files:
        start = time.process_time()
        with open(f, "rb") as fh:
            trafilatura.extract(fh.read())
        if per_file is not None:
            per_file[f] = per_file.get(f, 0.0) + time.process_time() - start
    return time.perf_counter() - w, time.process_time() - c


def page_set(path: str) -> str:
    """The set a copied page came from: the folder it was in (``_copy_pages`` names it)."""
    return os.path.basename(path).split("__", 1)[0]


def by_set(bare: dict, ours: dict) -> list[tuple[str, int, float, float]]:
    """(set, pages, bare loop CPU ms a page, newsbeam's steps CPU ms a page) for each set, by name."""
    sets = collections.defaultdict(list)
    for f in bare:
        sets[page_set(f)].append(f)
    return [(name, len(fs), 1000 * sum(bare[f] for f in fs) / len(fs),
             1000 * sum(ours.get(f, 0.0) for f in fs) / len(fs)) for name, fs in sorted(sets.items())]


def _tree(root: int) -> list[int]:
    children = collections.defaultdict(list)
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            with open(stat) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children[int(fields[1])].append(int(stat.split("/")[2]))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def _sample(pid: int) -> tuple[int, float] | None:
    """(RSS bytes, CPU seconds) of one process, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return int(fields[21]) * os.sysconf("SC_PAGE_SIZE"), (int(fields[11]) + int(fields[12])) / ticks
    except (OSError, IndexError, ValueError):
        return None


def newsbeam(folder: str, out: str, flags: list[str], root: str | None = None) -> dict:
    """Run newsbeam (this checkout's, or ``root``'s) in a fresh process; wall,
    CPU and peak RSS of its process tree."""
    cmd = [sys.executable, "-m", "pipeline", "run", "--input", folder, "--output", out, "--quiet"] + flags
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=root or ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, cpu = 0, {}
    while proc.poll() is None:
        rss = 0
        for pid in _tree(proc.pid):
            s = _sample(pid)
            if s:
                rss += s[0]
                cpu[pid] = s[1]
        peak = max(peak, rss)
        time.sleep(0.2)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"newsbeam run failed ({proc.returncode}):\n{err[-3000:]}")
    return {"wall": wall, "cpu": sum(cpu.values()), "peak_mb": peak / 2**20}


def step_costs(files, per_file: dict | None = None) -> tuple[dict, collections.Counter]:
    """CPU seconds of each step over the files, one page at a time, and the
    extraction paths taken; ``per_file`` gets each file's CPU seconds of every
    step but Parquet (which writes all rows at once)."""
    from transforms import html_extract as hx
    from transforms.annotate import _AnnotateFn
    from transforms.encoding import decode_bytes
    from transforms.grouping import _LinkRecordFn
    from transforms.language import _DetectFn
    from transforms.records import ARTICLE_SCHEMA
    from transforms.translation import load_model

    cost = collections.defaultdict(float)
    paths = collections.Counter()

    def timed(name, fn, *args, **kw):
        c = time.process_time()
        try:
            return fn(*args, **kw)
        finally:
            cost[name] += time.process_time() - c

    lang = _DetectFn(600, 2)
    lang.setup()
    model = load_model()
    annotate = _AnnotateFn("bench", dt.datetime.now(dt.timezone.utc), "bench")
    link = _LinkRecordFn()
    rows = []

    def one_page(f):
        """Every step's own code over one page."""
        raw = timed("read (file bytes)", lambda: open(f, "rb").read())
        html = timed("decode (charset, to str)", lambda: decode_bytes(raw, None, is_html=True)[0])
        ran = []

        def step(name, fn, *args, **kw):
            ran.append(name)
            return timed("extract: " + name, fn, *args, **kw)

        c = time.process_time()
        res = hx.extract_html(html, None, timed=step)
        cost["extract: whole step"] += time.process_time() - c
        text, extractor, meta = res["text"], res["extractor"], res
        paths["readability alone" if "trafilatura (when needed)" not in ran else "+ trafilatura"
              if "trafilatura precision (when needed)" not in ran else "+ trafilatura precision"] += 1
        paths[f"text from {extractor}"] += 1
        if not text.strip():
            return
        a = {"doc_id": os.path.basename(f), "url": None, "source": f, "source_format": "html", "feed_url": None,
             "fetched_at": None, "published": meta.get("published"), "title": meta.get("title"),
             "author": meta.get("author"), "publisher": meta.get("publisher"), "description": None,
             "text": text, "extractor": extractor, "canonical": meta.get("canonical"), "page_url": None,
             "declared_language": meta.get("declared_language"), "translation_proxy": None}
        a = timed("language (langdetect)", lambda: list(lang.process(a))[0])
        if a.get("language") == "en":
            r = timed("machine translation (English articles)", model.score, a["text"], urls=(),
                      declared_language=a.get("declared_language"), text_language="en")
            a.update(mt_score=r.mt_score, is_machine_translated=r.is_machine_translated,
                     mt_source_language=r.mt_source_language, mt_evidence=r.mt_evidence)
        else:
            a.update(mt_score=0.0, is_machine_translated=False, mt_source_language=None, mt_evidence=[])
        row = timed("annotate (hash, counts, URL)", lambda: list(annotate.process(a))[0])
        timed("link records (MinHash, terms)", lambda: list(link.process(row)))
        rows.append(row)

    for f in files:
        start = time.process_time()
        one_page(f)
        if per_file is not None:
            per_file[f] = time.process_time() - start
    # the rest of the extraction step: the choice between texts, headline and byline
    whole = cost.pop("extract: whole step")
    cost["extract: choice, headline, byline"] = whole - sum(v for k, v in cost.items() if k.startswith("extract: "))
    import pyarrow as pa
    import pyarrow.parquet as pq

    names = set(ARTICLE_SCHEMA.names)
    table_rows = [{k: v for k, v in r.items() if k in names} for r in rows]
    with tempfile.TemporaryDirectory() as tmp:
        def write():
            table = pa.Table.from_pylist(table_rows, schema=ARTICLE_SCHEMA)
            pq.write_table(table, os.path.join(tmp, "a.parquet"))
        try:
            timed("Parquet (rows to Arrow, write)", write)
        except Exception as e:  # a schema drift is a bug to see, not a reason to lose the other figures
            print(f"parquet step not measured: {type(e).__name__}: {e}")
    return dict(cost), paths


def _copy_pages(pages: list[str], folder: str, copies: int = 1) -> list[str]:
    os.makedirs(folder)
    files = []
    for c in range(copies):
        for p in pages:
            name = f"{os.path.basename(os.path.dirname(p))}__{os.path.basename(p)}"
            dst = os.path.join(folder, name if c == 0 else f"copy{c}__{name}")
            shutil.copyfile(p, dst)
            files.append(dst)
    return files


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", default=os.path.join(DATA_DIR, "extraction"),
                    help="folder searched recursively for .html pages")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--double", action="store_true", help="also 2 workers on the corpus twice over (memory)")
    ap.add_argument("--no-steps", action="store_true", help="skip the per-step CPU table")
    args = ap.parse_args(argv)
    pages = sorted(glob.glob(os.path.join(args.pages, "**", "*.html"), recursive=True))
    if not pages:
        print(f"skip: no .html pages under {args.pages}")
        return 0
    tmp = tempfile.mkdtemp(prefix="newsbeam-bench-")
    try:
        files = _copy_pages(pages, os.path.join(tmp, "in"))
        n = len(files)
        print(f"{n} distinct pages, {os.cpu_count()} cores")
        bare_loop(files[:20])  # warm imports and trafilatura's caches, as a long loop would have them
        print(f"{'run':4s} {'bare pages/s':>12s} {'1 worker':>9s} {'ratio':>6s} {'2 workers':>10s} {'ratio':>6s} "
              f"{'peak MB (2w)':>12s}")
        results, bare_files = [], {}
        for i in range(args.runs):
            t_bare, cpu_bare = bare_loop(files, bare_files)
            one = newsbeam(os.path.join(tmp, "in"), os.path.join(tmp, f"out1_{i}"), [])
            two = newsbeam(os.path.join(tmp, "in"), os.path.join(tmp, f"out2_{i}"), TWO_WORKERS)
            results.append((t_bare, cpu_bare, one, two))
            print(f"{i + 1:<4d} {n / t_bare:12.1f} {n / one['wall']:9.1f} {t_bare / one['wall']:6.2f} "
                  f"{n / two['wall']:10.1f} {t_bare / two['wall']:6.2f} {two['peak_mb']:12.0f}")
        r1 = [t / o["wall"] for t, _, o, _ in results]
        r2 = [t / w["wall"] for t, _, _, w in results]
        print(f"ratios to the bare loop: 1 worker {' '.join(f'{r:.2f}' for r in r1)} (median "
              f"{statistics.median(r1):.2f}); 2 workers {' '.join(f'{r:.2f}' for r in r2)} (median "
              f"{statistics.median(r2):.2f}); targets 0.8 and 1.6")
        cpu_bare = statistics.median(c for _, c, _, _ in results) * 1000 / n
        cpu1 = statistics.median(o["cpu"] for _, _, o, _ in results) * 1000 / n
        cpu2 = statistics.median(w["cpu"] for _, _, _, w in results) * 1000 / n
        print(f"CPU ms per page: bare loop {cpu_bare:.1f}, newsbeam 1 worker {cpu1:.1f}, 2 workers {cpu2:.1f} "
              "(whole process tree)")
        if args.double:
            twice = os.path.join(tmp, "twice")
            _copy_pages(pages, twice, copies=2)
            big = newsbeam(twice, os.path.join(tmp, "out_twice"), TWO_WORKERS)
            print(f"peak RSS, 2 workers: {statistics.median(w['peak_mb'] for *_, w in results):.0f} MB on {n} pages, "
                  f"{big['peak_mb']:.0f} MB on {2 * n} pages")
        if not args.no_steps:
            ours_files = {}
            cost, paths = step_costs(files, ours_files)
            total = sum(cost.values()) * 1000 / n
            print(f"\nCPU ms per page by step (one process, the step's own code over the {n} pages):")
            for name, sec in cost.items():
                print(f"  {name:48s} {sec * 1000 / n:7.2f}")
            print(f"  {'sum of the steps':48s} {total:7.2f}")
            print(f"  {'rest of the 1-worker run (Beam, grouping, pipe, commit, start-up)':48s} {cpu1 - total:7.2f}")
            print("extraction paths: " + ", ".join(f"{k} {v / n:.1%}" for k, v in paths.items()))
            # each set as a sample of pages: the ratio of CPU a page the whole runs reach on a big
            # corpus of such pages is about what the steps cost against the bare loop
            sets = by_set({f: c / args.runs for f, c in bare_files.items()}, ours_files)
            print("\nCPU ms per page by set (bare loop, mean of the runs; newsbeam's steps above, one process):")
            print(f"  {'set':24s} {'pages':>6s} {'bare loop':>10s} {'newsbeam steps':>15s} {'bare / steps':>13s}")
            for name, count, bare_ms, ours_ms in sets:
                print(f"  {name:24s} {count:6d} {bare_ms:10.1f} {ours_ms:15.1f} {bare_ms / ours_ms:13.2f}")
            worst = min(sets, key=lambda s: s[2] / s[3])
            print(f"  worst set: {worst[0]} ({worst[2] / worst[3]:.2f}); all pages "
                  f"{sum(bare_files.values()) / args.runs / sum(ours_files.values()):.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
