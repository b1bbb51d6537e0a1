"""Near-duplicate and story stages at 10k, 30k and 100k documents.

The documents are generated inside the pipeline (an Impulse fanned out into
chunks, each chunk generating its articles from a seed), never built in the
driver: English words from wordfreq's list, 8 articles per story sharing
rare names, and a quarter of them near-copies of their story's first article
(a few words edited, or cut to the first half). Each size runs twice in a
fresh process: generation alone, then generation + ``link_record`` (MinHash
signature, term vector) + ``GroupArticles`` (LSH candidates, verification,
components, stories). The stage time is the difference; peak memory is the
process's maximum RSS of the full run. Prints one table; the target is time
per document at 100k no more than 1.3x that at 10k.

``--union-find-max-edges 0`` finds the components by star contraction
across workers (``transforms.components``) instead of one union-find.

Usage: python benchmarks/dedup_scale.py [--sizes 10000 30000 100000]
       [--runner-args "--direct_running_mode=multi_processing --direct_num_workers=2"]
       [--union-find-max-edges N]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from transforms.components import MAX_UNION_FIND_EDGES  # noqa: E402

CHUNK = 1000
PER_STORY = 8


def _generate(chunk: int, n: int):
    """Articles chunk*CHUNK .. min(n, (chunk+1)*CHUNK)-1, each from its own seed."""
    import random

    from wordfreq import top_n_list

    from transforms.annotate import content_hash

    common = top_n_list("en", 5000)
    rare = top_n_list("en", 40000)[10000:]
    for i in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
        story = i // PER_STORY
        srng = random.Random(story * 7919 + 1)
        names = [w.capitalize() for w in srng.sample(rare, 12)]
        first = story * PER_STORY

        def body(seed):
            r = random.Random(seed)
            return [r.choice(names) if r.random() < 0.08 else common[int(r.paretovariate(1.1)) % 5000]
                    for _ in range(r.randint(180, 420))]

        rng = random.Random(i)
        if i != first and rng.random() < 0.25:
            words = body(first)
            if rng.random() < 0.5:
                words = words[: len(words) // 2]
            else:
                for _ in range(max(1, len(words) // 25)):
                    words[rng.randrange(len(words))] = rng.choice(common)
        else:
            words = body(i)
        text = " ".join(words) + "."
        yield {"doc_id": f"{i:09d}", "text": text, "title": " ".join(names[:3]), "language": "en",
               "content_hash": content_hash(text), "published_at": None, "is_machine_translated": False,
               "extractor": "generated", "source_format": "text"}


def one(n: int, full: bool, runner_args: list[str], max_edges: int) -> dict:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.runner import make_runner
    from transforms.grouping import GroupArticles, link_record

    options = PipelineOptions(runner_args)
    counts = {}
    t0 = time.perf_counter()
    with beam.Pipeline(runner=make_runner(options), options=options) as p:
        chunks = -(-n // CHUNK)
        docs = (p | beam.Impulse() | "Chunks" >> beam.FlatMap(lambda _: range(chunks))
                | "Spread" >> beam.Reshuffle() | "Generate" >> beam.FlatMap(_generate, n))
        if full:
            labelled = ((docs | "Records" >> beam.Map(link_record), p | "NoIndex" >> beam.Create([]))
                        | "Group" >> GroupArticles(0.6, 0.25, max_edges))
            out = labelled | "Summary" >> beam.FlatMap(
                lambda r: ["docs"] + (["duplicates"] if r["is_duplicate"] else []))
            stories = (labelled | beam.Map(lambda r: r["story_id"]) | beam.Distinct()
                       | beam.Map(lambda _: "stories"))
            out = (out, stories) | beam.Flatten()
        else:
            out = docs | beam.Map(lambda _: "docs")
        result = out | beam.combiners.Count.PerElement()
        result | beam.Map(lambda kv: print(json.dumps({"count": kv}), flush=True))
    wall = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"n": n, "full": full, "wall": wall, "peak_mb": max(peak_mb, children_mb), **counts}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    ap.add_argument("--runner-args", default="")
    ap.add_argument("--union-find-max-edges", type=int, default=MAX_UNION_FIND_EDGES,
                    help="links one worker's union-find may take (0: star contraction only)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    runner_args = args.runner_args.split()
    if args.one:
        print(json.dumps(one(args.one, args.full, runner_args, args.union_find_max_edges)), flush=True)
        return 0
    print(f"{'documents':>10} {'generate s':>11} {'+dedup+stories s':>17} {'stage s':>8} {'ms/doc':>7} "
          f"{'vs first':>8} {'peak MB':>8}  counts", flush=True)
    base = None
    for n in args.sizes:
        res = {}
        for full in (False, True):
            cmd = [sys.executable, os.path.abspath(__file__), "--one", str(n), "--runner-args", args.runner_args,
                   "--union-find-max-edges", str(args.union_find_max_edges)]
            if full:
                cmd.append("--full")
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                print(f"{n:>10} failed: exit {proc.returncode} (a negative code is the signal; -9 is the "
                      f"kernel's out-of-memory kill)", flush=True)
                return 1
            lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
            res[full] = lines[-1]
            res[full]["counts"] = dict(x["count"] for x in lines if "count" in x)
        stage = res[True]["wall"] - res[False]["wall"]
        per = stage / n * 1000
        base = base or per
        print(f"{n:>10} {res[False]['wall']:>11.1f} {res[True]['wall']:>17.1f} {stage:>8.1f} {per:>7.3f} "
              f"{per / base:>7.2f}x {res[True]['peak_mb']:>8.0f}  {res[True]['counts']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
