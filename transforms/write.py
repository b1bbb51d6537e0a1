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

Article rows wait for their labels (near-duplicates, stories) on disk, not in
the runner: ``StageRows`` writes them, as extraction hands them over, into
Parquet files under ``_staging/<run_id>/rows/``, and ``WriteLabelledRows``
writes each shard from those files once the labels are known. Only the
files' names and the small labels move through the runner's shuffles, so
its memory does not hold the corpus's text.
"""
from __future__ import annotations

import collections
import datetime as dt
import json
import math
import os
import shutil
from typing import Any, Iterable

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from apache_beam.io.filesystems import FileSystems

from transforms.beam_memory import arrow_returns_memory, release_output_streams, trim_heap

__all__ = ["DROP", "WriteParquet", "StageRows", "WriteLabelledRows", "RunStats", "CommitRun", "label_table", "mkdirs",
           "read_parquet", "recover_commits", "staging_dir", "write_table", "dead_staging", "drop_uncommitted"]

# Every process that runs newsbeam's pipeline (the launcher, each worker)
# imports this module before its first stage ends: from then on Beam's
# stages let go of their closed output buffers, and Arrow hands back what a
# Parquet read or write freed (transforms.beam_memory)
release_output_streams()
arrow_returns_memory()

ROW_GROUP = 5000
STAGED = "rows"  # the staging subfolder of article rows awaiting their labels
STAGE_ROWS = 2000  # a staged file holds at most this many rows,
STAGE_CHARS = 16 << 20  # or about this many characters of text
_KEY_HASH = "_key_hash"  # staged column: the stable hash of the key, which decides the shard
DROP = "drop"  # the label of a row not to write (an article an earlier run already wrote)


def staging_dir(output: str, run_id: str) -> str:
    return FileSystems.join(output, "_staging", run_id)


def mkdirs(path: str) -> None:
    """Create a folder on any Beam filesystem; an existing folder is fine."""
    try:
        FileSystems.mkdirs(path)
    except OSError:  # Beam's local filesystem raises when the folder exists
        pass


def _key_hash(k: str) -> int:
    return xxhash.xxh3_64_intdigest(k.encode("utf-8", "surrogatepass"))


def _shard_count(n: int, per: int) -> int:
    return max(1, math.ceil(n / per))


def write_table(path: str, tables, schema: pa.Schema) -> None:
    """Write a table (or tables, one after the other) as one zstd Parquet file of ROW_GROUP-row groups."""
    mkdirs(path.rsplit("/", 1)[0])
    with FileSystems.create(path) as f:
        with pq.ParquetWriter(f, schema, compression="zstd") as writer:
            for table in [tables] if isinstance(tables, pa.Table) else tables:
                writer.write_table(table, row_group_size=ROW_GROUP)


class _WriteShardFn(beam.DoFn):
    def __init__(self, spec: "WriteParquet"):
        self.key, self.staging, self.table = spec.key, spec.staging, spec.table
        self.partition, self.run_id, self.schema = spec.partition, spec.run_id, spec.schema

    def process(self, element):
        shard, rows = element
        rows = sorted(rows, key=lambda r: (r[self.key], r.get("source") or ""))
        folder = f"{self.table}/{self.partition}" if self.partition else self.table
        rel = f"{folder}/part-{self.run_id}-{shard:05d}.parquet"
        names = self.schema.names
        chunks = (pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows[i:i + ROW_GROUP]],
                                       schema=self.schema) for i in range(0, len(rows), ROW_GROUP))
        write_table(FileSystems.join(self.staging, rel), chunks, self.schema)
        yield rel


class WriteParquet(beam.PTransform):
    """rows -> staged shard paths (relative to the staging folder)."""

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

    def expand(self, rows):
        per, field = self.rows_per_shard, self.key
        count = rows | "Count" >> beam.combiners.Count.Globally()
        return (
            rows
            | "Shard" >> beam.Map(lambda r, n: (_key_hash(r[field]) % _shard_count(n, per), r),
                                  beam.pvalue.AsSingleton(count))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteShardFn(self)))


class _StageRowsFn(beam.DoFn):
    """Rows to staged Parquet files of at most STAGE_ROWS rows (or about
    STAGE_CHARS of text); yields each file's path relative to the staging
    folder. A file's name is random: a retried bundle writes new files, and
    only the paths of the attempt the runner keeps are read."""

    def __init__(self, staging: str, schema: pa.Schema, key: str):
        self.staging, self.schema, self.key = staging, schema, key

    def start_bundle(self):
        self.rows, self.chars = [], 0

    def process(self, row):
        self.rows.append(row)
        self.chars += len(row.get("text") or "")
        if len(self.rows) >= STAGE_ROWS or self.chars >= STAGE_CHARS:
            yield self._flush()

    def finish_bundle(self):
        if self.rows:
            from apache_beam.transforms.window import GlobalWindow
            from apache_beam.utils.windowed_value import WindowedValue

            yield WindowedValue(self._flush(), GlobalWindow().max_timestamp(), [GlobalWindow()])

    def _flush(self) -> str:
        import uuid

        names = [n for n in self.schema.names if n != _KEY_HASH]
        rows = [{**{k: r.get(k) for k in names}, _KEY_HASH: _key_hash(r[self.key])} for r in self.rows]
        self.rows, self.chars = [], 0
        rel = f"{STAGED}/{uuid.uuid4().hex}.parquet"
        write_table(FileSystems.join(self.staging, rel), pa.Table.from_pylist(rows, schema=self.schema),
                    self.schema)
        return rel


def staged_schema(schema: pa.Schema, labels: tuple[str, ...], extra: pa.Schema | None = None) -> pa.Schema:
    """The columns of a staged row: the table's, but its labels, then ``extra``'s, and the key's hash."""
    return pa.schema([f for f in schema if f.name not in labels] + list(extra or [])
                     + [pa.field(_KEY_HASH, pa.uint64())])


class StageRows(beam.PTransform):
    """rows -> paths (relative to ``staging``) of the Parquet files holding
    them without their ``labels`` columns, for ``WriteLabelledRows``; with
    ``extra``, the rows' fields of that schema too (a row's link record)."""

    def __init__(self, staging: str, schema: pa.Schema, labels: tuple[str, ...], key: str = "doc_id",
                 extra: pa.Schema | None = None):
        super().__init__()
        self.staging, self.key = staging, key
        self.schema = staged_schema(schema, labels, extra)

    def expand(self, rows):
        return rows | "StageRowFiles" >> beam.ParDo(_StageRowsFn(self.staging, self.schema, self.key))


def read_parquet(path: str, columns: list[str] | None = None) -> pa.Table:
    """One Parquet file on any Beam filesystem."""
    with FileSystems.open(path) as f:
        return pq.read_table(f, columns=columns)


class DamagedIndex(RuntimeError):
    """An index file of earlier runs that cannot be read: the run stops, naming it."""

    def __init__(self, path: str, error: BaseException):
        super().__init__(
            f"{path} is damaged ({type(error).__name__}: {str(error)[:200]}). This run cannot tell which articles "
            "or inputs the earlier runs wrote. Restore the file from a backup, or move it out of the output "
            "folder: what it listed then counts as new, and copies of those articles are written again.")


def check_index_files(paths: list[str]) -> None:
    """Reads each index file's footer (its schema and row groups, not its rows);
    raises ``DamagedIndex`` for the first that is not whole Parquet, before
    the run starts rather than inside a step that would not say which file."""
    for path in paths:
        try:
            with FileSystems.open(path) as f:
                pq.read_metadata(f)
        except (OSError, pa.ArrowException) as e:
            raise DamagedIndex(path, e) from e


def _staged_shard(staging: str, staged: list[str], shard: int, shards: int, columns: list[str]) -> pa.Table | None:
    """The staged rows of one shard (those whose key hashes to it), read a file at a time."""
    parts = []
    for rel in sorted(staged):
        t = read_parquet(FileSystems.join(staging, rel), columns)
        mine = t.column(_KEY_HASH).to_numpy() % shards == shard
        if mine.any():
            parts.append(t.filter(pa.array(mine)))
        del t
    return pa.concat_tables(parts) if parts else None


def _take(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table.take(rows)`` a chunk at a time: Arrow's take from a column of many
    chunks (a staged file's each) joins them first, a copy of the whole column
    at every call; here each chunk gives its rows, then they are put in order."""
    batches = table.to_batches()
    ends = np.cumsum([b.num_rows for b in batches])
    which = np.searchsorted(ends, rows, side="right")
    by_chunk = np.argsort(which, kind="stable")
    pieces = [batches[c].take(pa.array(rows[which == c] - (ends[c] - batches[c].num_rows)))
              for c in np.unique(which).tolist()]
    grouped = pa.Table.from_batches(pieces, schema=table.schema).combine_chunks()
    del pieces
    back = np.empty(len(rows), dtype=np.int64)
    back[by_chunk] = np.arange(len(rows))
    return grouped.take(pa.array(back))


def _index_table(table: pa.Table, schema: pa.Schema, constants: dict) -> pa.Table:
    """Rows of ``table`` (article rows with their staged link fields and labels)
    as rows of ``schema``: its columns, else the constant of that name."""
    import pyarrow.compute as pc

    cols = []
    for field in schema:
        if field.name in constants:
            cols.append(pa.array([constants[field.name]] * len(table), type=field.type))
        else:
            col = table.column(field.name).cast(field.type)
            cols.append(pc.fill_null(col, False) if field.type == pa.bool_() else col)
    return pa.Table.from_arrays(cols, schema=schema)


class _WriteLabelledShardFn(beam.DoFn):
    def __init__(self, spec: "WriteLabelledRows"):
        self.spec = spec

    def process(self, element, staged: list[str], n: int, label_files: list[str] = ()):
        spec = self.spec
        shards = _shard_count(n, spec.rows_per_shard)
        if label_files:  # the shard's number; its labels are read from the label files
            shard = element
            label_of = _read_labels(spec.staging, label_files, shard, shards, spec.key, spec.labels)
        else:
            shard, labels = element
            label_of = dict(labels)
        yield from self._write(shard, shards, label_of, staged)

    def _write(self, shard: int, shards: int, label_of: dict, staged: list[str]):
        import numpy as np
        import pyarrow.compute as pc

        spec = self.spec
        columns = [n for n in spec.schema.names if n not in spec.labels] + [_KEY_HASH]
        if spec.index:
            columns += [n for n in spec.index[1].names if n not in columns and n not in spec.labels
                        and n not in spec.index[2]]
        table = _staged_shard(spec.staging, staged, shard, shards, columns)
        keys = table.column(spec.key).to_pylist() if table is not None else []
        found = [label_of.get(k) for k in keys]
        missing = [k for k, lab in zip(keys, found) if lab is None]
        if missing:  # a bug upstream: fail the run rather than write a row without labels
            raise RuntimeError(f"row {missing[0]} reached the writer without its labels")
        keep = np.array([lab != DROP for lab in found], dtype=bool)
        yield beam.pvalue.TaggedOutput("written", ("flow/written", int(keep.sum())))
        if not keep.any():
            return
        if not keep.all():  # (a filter copies every column, the text too)
            table = table.filter(pa.array(keep))
        kept = [lab for lab in found if lab != DROP]
        del found, label_of
        for name in spec.labels:
            table = table.append_column(spec.schema.field(name),
                                        pa.array([lab[name] for lab in kept], type=spec.schema.field(name).type))
        # by key, then source (a missing source first, as an empty one); the
        # sorted rows are taken a row group at a time, not copied whole
        tie = pa.table({"k": table.column(spec.key), "s": pc.fill_null(table.column("source"), "")})
        order = pc.sort_indices(tie, sort_keys=[("k", "ascending"), ("s", "ascending")]).to_numpy().astype(np.int64)
        del tie
        outputs = [(spec.table, spec.partition, spec.schema.names, lambda t: t, spec.schema)]
        if spec.index:
            name, schema, constants = spec.index
            outputs.append((name, None, [n for n in schema.names if n not in constants],
                            lambda t: _index_table(t, schema, constants), schema))
        for name, partition, needed, project, schema in outputs:
            folder = f"{name}/{partition}" if partition else name
            rel = f"{folder}/part-{spec.run_id}-{shard:05d}.parquet"
            rows = table.select(needed)  # (a take copies only what this file holds)
            groups = (project(_take(rows, order[i:i + ROW_GROUP])) for i in range(0, len(order), ROW_GROUP))
            write_table(FileSystems.join(spec.staging, rel), groups, schema)
            del rows, groups
            yield rel
        del table, order
        trim_heap()  # the shard's Python objects (labels, keys) freed among longer-lived ones


def _read_labels(staging: str, label_files: list[str], shard: int, shards: int, key: str,
                 labels: tuple[str, ...]) -> dict:
    """{key: labels, or DROP} of one shard's keys, from label files (``label_table``'s columns)."""
    out = {}
    for rel in sorted(label_files):
        t = read_parquet(FileSystems.join(staging, rel))
        t = t.filter(pa.array(t.column(_KEY_HASH).to_numpy() % shards == shard))
        cols = {name: t.column(name).to_pylist() for name in (key, DROP, *labels)}
        for i, k in enumerate(cols[key]):
            out[k] = DROP if cols[DROP][i] else {name: cols[name][i] for name in labels}
    return out


def label_table(rows: list[tuple[str, tuple | str]], schema: pa.Schema, labels: tuple[str, ...]) -> pa.Table:
    """(key, the label columns' values in ``labels`` order, or DROP) pairs as a label
    file's table, for ``WriteLabelledRows``'s label files."""
    fields = [pa.field("doc_id", pa.string()), pa.field(_KEY_HASH, pa.uint64()), pa.field(DROP, pa.bool_())]
    fields += [schema.field(name) for name in labels]
    cols = {"doc_id": [k for k, _ in rows], _KEY_HASH: [_key_hash(k) for k, _ in rows],
            DROP: [lab == DROP for _, lab in rows]}
    for j, name in enumerate(labels):
        cols[name] = [None if lab == DROP else lab[j] for _, lab in rows]
    return pa.Table.from_pydict(cols, schema=pa.schema(fields))


class WriteLabelledRows(beam.PTransform):
    """(staged files from ``StageRows``, labels) -> shard paths (relative to
    the staging folder), and a second output ``written``: ``("flow/written",
    rows)`` per shard, for the run's count.

    Labels are ``(key, dict of the label columns, or DROP)``, one for every
    staged row; a row is written with its label's fields, or left out for
    DROP. Labels are grouped by shard; each shard's writer reads its rows
    from the staged files, so no step holds more than one shard's rows.

    Or (staged files, label files, kept): labels are not elements but files
    under the staging folder (``label_table``'s columns; their paths, a
    singleton list), and ``kept`` the number of rows to write (a singleton):
    each shard's writer reads its own labels from them, so nothing of the
    batch moves through a shuffle but the shard numbers.

    ``index``: ``(table, schema, constants)``; each shard's rows are also
    written as rows of that table, from their columns and their staged
    fields (``StageRows``'s ``extra``), the shard under the same number.
    """

    def __init__(self, staging: str, table: str, partition: str | None, run_id: str, schema: pa.Schema,
                 labels: tuple[str, ...], rows_per_shard: int = 20000, key: str = "doc_id",
                 index: tuple[str, pa.Schema, dict] | None = None):
        super().__init__()
        self.staging, self.table, self.partition, self.run_id = staging, table, partition, run_id
        self.schema, self.labels, self.rows_per_shard, self.key = schema, tuple(labels), rows_per_shard, key
        self.index = index

    def expand(self, inputs):
        if len(inputs) == 3:
            staged, label_files, kept = inputs
            count = beam.pvalue.AsSingleton(kept)
            per = self.rows_per_shard
            return (
                staged.pipeline | "OneShardList" >> beam.Create([None])
                | "ShardNumbers" >> beam.FlatMap(lambda _, n: range(_shard_count(n, per)), count)
                | "SpreadShards" >> beam.Reshuffle()
                | "WriteShards" >> beam.ParDo(_WriteLabelledShardFn(self), beam.pvalue.AsList(staged), count,
                                              beam.pvalue.AsSingleton(label_files)).with_outputs(
                                                  "written", main="files"))
        staged, labels = inputs
        per = self.rows_per_shard
        count = (labels | "Kept" >> beam.Filter(lambda kv: kv[1] != DROP)
                 | "Count" >> beam.combiners.Count.Globally())
        return (
            labels
            | "ShardLabels" >> beam.Map(lambda kv, n: (_key_hash(kv[0]) % _shard_count(n, per), kv),
                                        beam.pvalue.AsSingleton(count))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteShards" >> beam.ParDo(_WriteLabelledShardFn(self), beam.pvalue.AsList(staged),
                                          beam.pvalue.AsSingleton(count)).with_outputs("written", main="files"))


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
        if "://" not in staging:  # Beam's delete matches its argument as a glob: a folder "out [1]" is not found
            shutil.rmtree(staging)
        else:
            FileSystems.delete([staging])
    except Exception as e:  # leaving an empty staging folder behind is harmless; say so
        import logging

        logging.getLogger(__name__).warning("could not remove %s: %s: %s", staging, type(e).__name__, e)


def _tree_bytes(path: str) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # gone meanwhile: nothing to count
                pass
    return total


def drop_uncommitted(staging: str) -> int:
    """Remove a local staging folder that holds no commit journal (its run
    stopped before committing: nothing in it is anyone's output); returns the
    bytes freed. One with a journal is left for ``recover_commits``."""
    if "://" in staging or not os.path.isdir(staging) or os.path.exists(os.path.join(staging, COMMIT_JOURNAL)):
        return 0
    size = _tree_bytes(staging)
    shutil.rmtree(staging)
    return size


def dead_staging(output: str) -> list[str]:
    """The staging folders of a local ``output`` without a commit journal:
    runs that died or failed before their commit, or one running now. Only a
    caller holding the output's lock (``pipeline.cli.output_lock``) may take
    them for dead."""
    root = os.path.join(output, "_staging")
    try:
        names = sorted(os.listdir(root))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [os.path.join(root, n) for n in names if os.path.isdir(os.path.join(root, n))
            and not os.path.exists(os.path.join(root, n, COMMIT_JOURNAL))]


def recover_commits(output: str) -> list[str]:
    """Finish the commits that earlier runs into ``output`` began and did not
    end (killed while moving shards): each staging folder holding a commit
    journal is rolled forward. Returns their run ids. A staging folder
    without a journal belongs to a run that died before its commit (or is
    running now): readers never look there, and it is left alone."""
    from transforms.read import match, under

    try:
        journals = sorted(m.path for m in match(under(output, "_staging", "*", COMMIT_JOURNAL)))
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
