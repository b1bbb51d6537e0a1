"""Parquet shards, run statistics and the atomic commit of a run.

Rows are written under ``OUT/_staging/<run_id>/`` (a folder readers never
look in), then ``CommitRun`` moves every finished shard into its hive
partition, ``OUT/<table>/ingest_date=YYYY-MM-DD/part-<run_id>-NNNNN.parquet``,
and writes the run manifest last. The commit starts by writing a journal
(the manifest with its file list) into the staging folder: a run killed
before it leaves only its staging folder, which no reader looks in; a run
killed after it is committed, and the next run into the same output finishes
its moves first (``recover_commits``). Earlier shards are never rewritten.

Shards: rows go to ``ceil(rows / rows_per_shard)`` shards by a stable hash of
their key (``doc_id``), are sorted by it inside a shard and written in row groups,
zstd-compressed, so that the same input gives the same files on any runner.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import math
from typing import Any, Iterable

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from apache_beam.io.filesystems import FileSystems

__all__ = ["DROP", "WriteParquet", "RunStats", "CommitRun", "mkdirs", "recover_commits", "staging_dir"]

ROW_GROUP = 5000
DROP = "drop"  # the label of a row not to write (an article an earlier run already wrote)


def staging_dir(output: str, run_id: str) -> str:
    return FileSystems.join(output, "_staging", run_id)


def mkdirs(path: str) -> None:
    """Create a folder on any Beam filesystem; an existing folder is fine."""
    try:
        FileSystems.mkdirs(path)
    except OSError:  # Beam's local filesystem raises when the folder exists
        pass


def _labelled(rows, labels, key: str):
    """Rows with their labels merged in; rows labelled DROP left out.

    A row without a label is a bug upstream, and fails the run."""
    by_key: dict[str, Any] = {}
    for k, label in labels:
        by_key[k] = label
    out = []
    for r in rows:
        label = by_key.get(r[key])
        if label is None:
            raise RuntimeError(f"row {r[key]} reached the writer without its labels")
        if label != DROP:
            out.append({**r, **label})
    return out


class _WriteShardFn(beam.DoFn):
    def __init__(self, spec: "WriteParquet"):
        self.key, self.staging, self.table = spec.key, spec.staging, spec.table
        self.partition, self.run_id, self.schema = spec.partition, spec.run_id, spec.schema

    def process(self, element):
        shard, grouped = element
        if isinstance(grouped, dict):  # rows and their labels, grouped by shard together
            rows = _labelled(grouped["row"], grouped["label"], self.key)
            yield beam.pvalue.TaggedOutput("written", ("flow/written", len(rows)))
            if not rows:
                return
        else:
            rows = grouped
        rows = sorted(rows, key=lambda r: (r[self.key], r.get("source") or ""))
        folder = f"{self.table}/{self.partition}" if self.partition else self.table
        rel = f"{folder}/part-{self.run_id}-{shard:05d}.parquet"
        path = FileSystems.join(self.staging, rel)
        mkdirs(path.rsplit("/", 1)[0])
        names = self.schema.names
        with FileSystems.create(path) as f:
            with pq.ParquetWriter(f, self.schema, compression="zstd") as writer:
                for i in range(0, len(rows), ROW_GROUP):
                    chunk = rows[i:i + ROW_GROUP]
                    writer.write_table(pa.Table.from_pylist([{k: r.get(k) for k in names} for r in chunk],
                                                            schema=self.schema))
        yield rel


class WriteParquet(beam.PTransform):
    """rows -> staged shard paths (relative to the staging folder).

    With ``(rows, labels)`` as input, labels being ``(key, dict or DROP)``
    for every row, each row is written with its label's fields merged in (or
    left out for DROP); rows and labels meet in the shuffle that groups the
    shards, so rows move once. The result then has a second output,
    ``written``: ``("flow/written", rows)`` per shard, for the run's count.
    """

    def __init__(self, staging: str, table: str, partition: str | None, run_id: str, schema: pa.Schema,
                 rows_per_shard: int = 20000, key: str = "doc_id"):
        super().__init__()
        self.key = key
        self.staging = staging
        self.table = table
        self.partition = partition
        self.run_id = run_id
        self.schema = schema
        self.rows_per_shard = rows_per_shard

    def expand(self, pcoll):
        per, field = self.rows_per_shard, self.key
        labels = None
        if isinstance(pcoll, tuple):
            rows, labels = pcoll
            count = (labels | "Kept" >> beam.Filter(lambda kv: kv[1] != DROP)
                     | "Count" >> beam.combiners.Count.Globally())
        else:
            rows = pcoll
            count = rows | "Count" >> beam.combiners.Count.Globally()

        def shard_of(k: str, n: int) -> int:
            return xxhash.xxh3_64_intdigest(k.encode()) % max(1, math.ceil(n / per))

        if labels is None:
            return (
                rows
                | "Shard" >> beam.Map(lambda r, n: (shard_of(r[field], n), r), beam.pvalue.AsSingleton(count))
                | "GroupShards" >> beam.GroupByKey()
                | "WriteShards" >> beam.ParDo(_WriteShardFn(self)))
        return (
            {"row": rows | "Shard" >> beam.Map(lambda r, n: (shard_of(r[field], n), r),
                                               beam.pvalue.AsSingleton(count)),
             "label": labels | "ShardLabels" >> beam.Map(lambda kv, n: (shard_of(kv[0], n), kv),
                                                         beam.pvalue.AsSingleton(count))}
            | "GroupShards" >> beam.CoGroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShardFn(self)).with_outputs("written", main="files"))


class RunStats(beam.CombineFn):
    """Counts of ``"group/key"`` strings, e.g. ``articles/en``, ``rejected/read/empty``."""

    def create_accumulator(self):
        return collections.Counter()

    def add_input(self, acc, key):
        if isinstance(key, tuple):  # (key, count)
            acc[key[0]] += key[1]
        else:
            acc[key] += 1
        return acc

    def merge_accumulators(self, accs):
        out = collections.Counter()
        for a in accs:
            out.update(a)
        return out

    def extract_output(self, acc):
        return dict(sorted(acc.items()))


def summarise(counts: dict[str, int]) -> dict[str, Any]:
    """Flat ``group/key`` counts -> the manifest's ``counts`` section."""
    nested: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for k, v in counts.items():
        group, _, rest = k.partition("/")
        nested[group][rest] = nested[group].get(rest, 0) + v
    articles = sum(nested.get("language", {}).values())
    rejected = sum(nested.get("rejected", {}).values())
    already = sum(nested.get("already", {}).values())
    # Every document handed to extraction must come out as an article or a
    # reject; every extracted article must get its labels; every labelled
    # article that is not already ingested must be written.
    flow = nested.get("flow", {})
    lost = (flow.get("in", 0) - flow.get("out", 0)) + (flow.get("articles", 0) - flow.get("labelled", 0))
    lost += articles - flow.get("written", 0)
    by_stage: dict[str, int] = collections.Counter()
    for k, v in nested.get("rejected", {}).items():
        by_stage[k.split("/")[0]] += v
    return {
        "inputs_seen": articles + rejected + already,
        "articles_written": articles,
        "rejected": rejected,
        "already_ingested": already,
        "already_ingested_by_reason": dict(sorted(nested.get("already", {}).items())),
        "rejected_by_stage": dict(sorted(by_stage.items())),
        "rejected_by_reason": dict(sorted(nested.get("rejected", {}).items())),
        "languages": dict(sorted(nested.get("language", {}).items(), key=lambda kv: (-kv[1], kv[0]))),
        "machine_translated": sum(nested.get("machine_translated", {}).values()),
        "machine_translated_by_source": dict(sorted(nested.get("machine_translated", {}).items())),
        "extractors": dict(sorted(nested.get("extractor", {}).items())),
        "source_formats": dict(sorted(nested.get("format", {}).items())),
        "skipped_records": dict(sorted(nested.get("skipped", {}).items())),
        "notes": dict(sorted(nested.get("notes", {}).items())),
        "duplicates": nested.get("group", {}).get("duplicate", 0),
        "stories": nested.get("group", {}).get("story", 0),
        "documents_to_extract": flow.get("in", 0),
        "unaccounted": lost,
    }


COMMIT_JOURNAL = "_commit.json"


def _write_atomic(path: str, tmp: str, data: bytes) -> None:
    with FileSystems.create(tmp) as f:
        f.write(data)
    FileSystems.rename([tmp], [path])


def _apply_commit(output: str, staging: str, manifest: dict[str, Any]) -> None:
    """Move the journal's shards into place, then write the manifest, then
    drop the staging folder. Idempotent: a shard already moved is skipped,
    so a commit cut short by a kill is finished by the next run."""
    files = manifest["files"]
    todo = [(FileSystems.join(staging, f), FileSystems.join(output, f)) for f in files]
    todo = [(s, d) for s, d in todo if FileSystems.exists(s)]
    for d in sorted({d.rsplit("/", 1)[0] for _, d in todo}):
        mkdirs(d)
    if todo:
        FileSystems.rename([s for s, _ in todo], [d for _, d in todo])
    runs = FileSystems.join(output, "runs")
    mkdirs(runs)
    final = FileSystems.join(runs, f"{manifest['run_id']}.json")
    if not FileSystems.exists(final):
        _write_atomic(final, FileSystems.join(staging, "manifest.json"),
                      json.dumps(manifest, indent=2, sort_keys=True, default=str).encode())
    try:
        FileSystems.delete([staging])
    except Exception:  # leaving an empty staging folder behind is harmless; say so
        import logging

        logging.getLogger(__name__).warning("could not remove %s", staging)


def recover_commits(output: str) -> list[str]:
    """Finish the commits that earlier runs into ``output`` began and did not
    end (killed while moving shards): each staging folder holding a commit
    journal is rolled forward. Returns their run ids. A staging folder
    without a journal belongs to a run that died before its commit (or is
    running now): readers never look there, and it is left alone."""
    pattern = FileSystems.join(output, "_staging", "*", COMMIT_JOURNAL)
    try:
        journals = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    except Exception:  # no output folder yet
        return []
    done = []
    for path in journals:
        with FileSystems.open(path) as f:
            manifest = json.loads(f.read())
        _apply_commit(output, path.rsplit("/", 1)[0], manifest)
        done.append(manifest["run_id"])
    return done


class _CommitFn(beam.DoFn):
    def __init__(self, output: str, staging: str, manifest: dict[str, Any]):
        self.output = output
        self.staging = staging
        self.manifest = manifest

    def process(self, _, files: Iterable[str], counts: dict[str, int]):
        manifest = {
            **self.manifest,
            "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(),
            "counts": summarise(counts),
            "files": sorted(files),
        }
        # The journal makes the commit one step: once it is written, the run
        # is committed, and whoever finishes the moves (this run, or the next
        # run into this output after a kill) finishes the same commit.
        _write_atomic(FileSystems.join(self.staging, COMMIT_JOURNAL), FileSystems.join(self.staging, "_commit.tmp"),
                      json.dumps(manifest, sort_keys=True, default=str).encode())
        _apply_commit(self.output, self.staging, manifest)
        yield manifest


class CommitRun(beam.PTransform):
    """(staged files, stat keys) -> moves shards into place, writes the manifest last."""

    def __init__(self, output: str, staging: str, manifest: dict[str, Any]):
        super().__init__()
        self.output = output
        self.staging = staging
        self.manifest = manifest

    def expand(self, inputs):
        files, stat_keys = inputs
        counts = stat_keys | "CountAll" >> beam.CombineGlobally(RunStats())
        all_files = files | "AllFiles" >> beam.combiners.ToList()
        return (
            files.pipeline
            | "CommitTrigger" >> beam.Create([None])
            | "Commit" >> beam.ParDo(_CommitFn(self.output, self.staging, self.manifest),
                                     beam.pvalue.AsSingleton(all_files), beam.pvalue.AsSingleton(counts)))
