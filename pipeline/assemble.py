"""Pipeline assembly: the only place that reads options.

Extract (read, decode, extract), transform (language, annotate), load
(Parquet shards, run statistics, commit). Transforms get plain values.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.options import NewsbeamOptions
from pipeline.version import __version__
from transforms.annotate import AnnotateArticles
from transforms.decode import DecodeDocuments
from transforms.extract import ExtractArticles
from transforms.language import DetectLanguage
from transforms.read import ReadDocuments
from transforms.records import ARTICLE_SCHEMA, REJECT_SCHEMA
from transforms.write import CommitRun, WriteParquet, staging_dir

__all__ = ["build", "new_run_id", "SEEDS_DIR"]

# The bundled sample: the repository's seeds/ (an editable install or a
# checkout), else ./seeds in the working folder.
_REPO_SEEDS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "seeds")
SEEDS_DIR = _REPO_SEEDS if os.path.isdir(_REPO_SEEDS) else os.path.abspath("seeds")


def new_run_id(now: dt.datetime) -> str:
    return now.strftime("%Y%m%dT%H%M%S%fZ")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"newsbeam": __version__}
    for dist in ("apache-beam", "trafilatura", "langdetect", "pyarrow", "lxml", "justext", "warcio",
                 "charset-normalizer"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def _stat_keys(articles, rejects, skipped):
    def article_keys(a):
        yield f"language/{a['language']}"
        yield f"extractor/{a['extractor']}"
        yield f"format/{a['source_format']}"

    def reject_keys(r):
        yield f"rejected/{r['stage']}/{r['reason']}"

    return (
        articles | "ArticleStats" >> beam.FlatMap(article_keys),
        rejects | "RejectStats" >> beam.FlatMap(reject_keys),
        skipped | "SkippedStats" >> beam.Map(lambda s: f"skipped/{s}"),
    ) | "Stats" >> beam.Flatten()


def _stamp_rejects(rejects, run_id: str, ingested_at: dt.datetime):
    return rejects | "StampRejects" >> beam.Map(lambda r: {**r, "ingested_at": ingested_at, "run_id": run_id})


def build(p: beam.Pipeline, options: PipelineOptions, started_at: dt.datetime) -> dict[str, Any]:
    """Add the batch graph to ``p``; returns the run's plain facts (id, output)."""
    o = options.view_as(NewsbeamOptions)
    run_id = o.run_id or new_run_id(started_at)
    inputs = o.input or [SEEDS_DIR]
    output = o.output if "://" in o.output else os.path.abspath(o.output)
    staging = staging_dir(output, run_id)
    partition = f"ingest_date={started_at.date().isoformat()}"

    read = p | "Read" >> ReadDocuments(inputs, o.max_doc_bytes, o.max_decompressed_bytes)
    decoded = read["docs"] | "Decode" >> DecodeDocuments()
    extracted = decoded.docs | "Extract" >> ExtractArticles(o.extract_timeout, o.extract_memory_mb, o.min_words)
    articles = (
        extracted["articles"]
        | "Language" >> DetectLanguage(max_chars=o.lang_max_chars)
        | "Annotate" >> AnnotateArticles(run_id, started_at, __version__))
    rejects = _stamp_rejects(
        (read["rejects"], decoded.rejects, extracted["rejects"]) | "AllRejects" >> beam.Flatten(),
        run_id, started_at)

    files = (
        articles | "WriteArticles" >> WriteParquet(staging, "articles", partition, run_id, ARTICLE_SCHEMA,
                                                   o.rows_per_shard),
        rejects | "WriteRejects" >> WriteParquet(staging, "rejects", partition, run_id, REJECT_SCHEMA,
                                                 o.rows_per_shard),
    ) | "AllFiles" >> beam.Flatten()
    manifest = {
        "run_id": run_id,
        "started_at": started_at.isoformat(),
        "inputs": inputs,
        "output": output,
        "options": {k: v for k, v in sorted(options.get_all_options(drop_default=True).items())},
        "versions": _versions(),
    }
    (files, _stat_keys(articles, rejects, read["skipped"])) | "CommitRun" >> CommitRun(output, staging, manifest)
    return {"run_id": run_id, "output": output, "manifest": FileSystems.join(output, "runs", f"{run_id}.json")}

