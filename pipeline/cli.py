"""The ``newsbeam`` command line: ``newsbeam run``.

Options newsbeam does not know are Beam's own (``--runner``,
``--direct_num_workers``, ``--temp_location``, ...) and pass through.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time

__all__ = ["main", "run"]


def _run_parser(sub) -> argparse.ArgumentParser:
    from pipeline.options import NewsbeamOptions

    p = sub.add_parser(
        "run", help="ingest files into annotated Parquet",
        description="Read news files (HTML, text dumps, JSON lines, WARC, .gz of any), extract the article text, "
                    "detect its language and write articles/ and rejects/ Parquet plus a run manifest. With no "
                    "--input, processes the bundled seed articles into ./out. Unknown options are Beam's "
                    "(--runner, --direct_running_mode, --direct_num_workers, ...).")
    NewsbeamOptions._add_argparse_args(p)
    p.add_argument("--quiet", action="store_true", help="no summary at the end")
    return p


def run(argv: list[str], quiet: bool = False) -> dict:
    """Run the batch pipeline with ``argv`` (newsbeam and Beam flags); returns the manifest."""
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.assemble import build
    from pipeline.runner import make_runner

    options = PipelineOptions(argv)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.perf_counter()
    runner = make_runner(options)
    p = beam.Pipeline(runner=runner, options=options) if runner else beam.Pipeline(options=options)
    facts = build(p, options, started)
    p.run().wait_until_finish()
    with FileSystems.open(facts["manifest"]) as f:
        manifest = json.loads(f.read())
    manifest["wall_seconds"] = round(time.perf_counter() - t0, 3)
    if not quiet:
        print_summary(manifest)
    return manifest


def print_summary(m: dict) -> None:
    c = m["counts"]
    out = sys.stdout
    print(f"newsbeam run {m['run_id']} finished in {m.get('wall_seconds', 0):.1f} s", file=out)
    print(f"  documents read      {c['inputs_seen']}", file=out)
    print(f"  articles written    {c['articles_written']}", file=out)
    print(f"  rejected            {c['rejected']}", file=out)
    if c.get("already_ingested"):
        print(f"  already ingested    {c['already_ingested']} (not written again)", file=out)
    for reason, n in c["rejected_by_reason"].items():
        print(f"    {reason:30s} {n}", file=out)
    if c.get("skipped_records"):
        skipped = ", ".join(f"{k} {v}" for k, v in c["skipped_records"].items())
        print(f"  records skipped     {skipped}", file=out)
    langs = ", ".join(f"{k} {v}" for k, v in list(c["languages"].items())[:8])
    print(f"  languages           {langs or '-'}", file=out)
    print(f"  output              {m['output']}/articles, {m['output']}/rejects", file=out)
    print(f"  manifest            {m['output']}/runs/{m['run_id']}.json", file=out)


class _DropBeamImportNoise(logging.Filter):
    """Beam warns at import that the optional GCP client is missing; newsbeam does not use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(_DropBeamImportNoise())
    for noisy in ("apache_beam", "trafilatura", "htmldate", "charset_normalizer", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = argparse.ArgumentParser(prog="newsbeam", description="News ingestion on Apache Beam.")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    args, _ = parser.parse_known_args(argv)
    if args.command == "run":
        rest = [a for a in argv[1:] if a != "--quiet"]
        run(rest, quiet=args.quiet)
        return 0
    parser.error(f"unknown command {args.command}")
    return 2
