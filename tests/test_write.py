"""Parquet shards, run statistics and the commit."""
import datetime as dt
import glob
import json
import os

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq

from conftest import beam_test_pipeline
from transforms.records import REJECT_SCHEMA
from transforms.write import CommitRun, WriteParquet, summarise


def _reject(i):
    return {"doc_id": f"d{i:03d}", "source": f"/in/{i}", "source_format": "html", "stage": "read", "reason": "empty",
            "error": "", "raw_excerpt": b"", "raw_size": 0,
            "ingested_at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc), "run_id": "r1"}


def test_rows_are_sharded_sorted_and_committed(tmp_path):
    out, staging = str(tmp_path / "out"), str(tmp_path / "out" / "_staging" / "r1")
    rows = [_reject(i) for i in range(25)]
    with beam_test_pipeline() as p:
        files = (p | beam.Create(rows)
                 | WriteParquet(staging, "rejects", "ingest_date=2024-01-01", "r1", REJECT_SCHEMA, rows_per_shard=10))
        keys = p | "Keys" >> beam.Create(["rejected/read/empty"] * 25 + ["skipped/warc_request"])
        (files, keys) | CommitRun(out, staging, {"run_id": "r1", "started_at": "2024-01-01T00:00:00+00:00"})
    shards = sorted(glob.glob(os.path.join(out, "rejects", "ingest_date=2024-01-01", "*.parquet")))
    assert [os.path.basename(s) for s in shards] == [f"part-r1-{i:05d}.parquet" for i in range(3)]
    got = []
    for s in shards:
        ids = pq.read_table(s).column("doc_id").to_pylist()
        assert ids == sorted(ids)
        got += ids
    assert sorted(got) == [r["doc_id"] for r in rows]
    m = json.load(open(os.path.join(out, "runs", "r1.json")))
    assert m["counts"]["rejected"] == m["counts"]["inputs_seen"] == 25
    assert m["counts"]["skipped_records"] == {"warc_request": 1}
    assert not os.path.exists(staging)


def test_summarise_adds_up():
    c = summarise({"language/en": 3, "language/fr": 1, "rejected/read/empty": 2, "rejected/extract/timeout": 1,
                   "extractor/text-cleaner": 4, "flow/in": 5, "flow/out": 4, "flow/articles": 4,
                   "flow/labelled": 4, "flow/written": 4})
    assert c["inputs_seen"] == 7 and c["articles_written"] == 4 and c["rejected"] == 3
    assert c["rejected_by_stage"] == {"extract": 1, "read": 2} and c["languages"] == {"en": 3, "fr": 1}
    assert c["unaccounted"] == 1  # one document went in and nothing came out: reported, never hidden
    # an article lost between extraction and its labels, or between its labels and its shard, counts too
    assert summarise({"language/en": 2, "flow/in": 3, "flow/out": 3, "flow/articles": 3, "flow/labelled": 2,
                      "flow/written": 2})["unaccounted"] == 1
    assert summarise({"language/en": 3, "flow/in": 3, "flow/out": 3, "flow/articles": 3, "flow/labelled": 3,
                      "flow/written": 2})["unaccounted"] == 1


def _article(i):
    return {"doc_id": f"a{i:03d}", "source": f"/in/{i}.html", "source_format": "html", "text": f"story {i} " * 50,
            "title": f"Story {i}", "word_count": 100, "language": "en", "run_id": "r1",
            "ingested_at": dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)}


def test_article_rows_wait_on_disk_and_are_written_with_their_labels(tmp_path, monkeypatch):
    """Rows are staged in files of at most STAGE_ROWS rows; each shard is
    written from them with its labels merged in, sorted, and DROP rows left out."""
    import transforms.write as write
    from transforms.records import ARTICLE_LABELS, ARTICLE_SCHEMA

    monkeypatch.setattr(write, "STAGE_ROWS", 4)
    staging = str(tmp_path / "_staging" / "r1")
    rows = [_article(i) for i in range(25)]
    labels = [(r["doc_id"], write.DROP if i % 8 == 0 else
               {"dup_cluster_id": "a000", "is_duplicate": i % 2 == 1, "dup_similarity": 0.5, "story_id": f"s{i % 3}"})
              for i, r in enumerate(rows)]
    with beam_test_pipeline() as p:
        staged = p | "Rows" >> beam.Create(rows) | write.StageRows(staging, ARTICLE_SCHEMA, ARTICLE_LABELS)
        out = ((staged, p | "Labels" >> beam.Create(labels))
               | write.WriteLabelledRows(staging, "articles", "ingest_date=2024-01-01", "r1", ARTICLE_SCHEMA,
                                         ARTICLE_LABELS, rows_per_shard=10))
    staged_files = glob.glob(os.path.join(staging, "rows", "*.parquet"))
    assert len(staged_files) >= 7 and sum(pq.read_metadata(f).num_rows for f in staged_files) == 25
    shards = sorted(glob.glob(os.path.join(staging, "articles", "ingest_date=2024-01-01", "*.parquet")))
    assert [os.path.basename(s) for s in shards] == [f"part-r1-{i:05d}.parquet" for i in range(3)]  # 21 kept rows
    got = []
    for s in shards:
        t = pq.read_table(s)
        assert t.schema.equals(ARTICLE_SCHEMA)
        ids = t.column("doc_id").to_pylist()
        assert ids == sorted(ids)
        got += t.to_pylist()
    assert sorted(r["doc_id"] for r in got) == [r["doc_id"] for i, r in enumerate(rows) if i % 8]
    for r in got:
        i = int(r["doc_id"][1:])
        assert (r["story_id"], r["is_duplicate"], r["text"]) == (f"s{i % 3}", i % 2 == 1, rows[i]["text"])
    assert out["written"] is not None


def test_a_staged_row_without_its_label_fails_the_run(tmp_path):
    import pytest

    import transforms.write as write
    from transforms.records import ARTICLE_LABELS, ARTICLE_SCHEMA

    staging = str(tmp_path / "_staging" / "r1")
    rows = [_article(i) for i in range(3)]
    labels = [(r["doc_id"], {"dup_cluster_id": r["doc_id"], "is_duplicate": False, "dup_similarity": None,
                             "story_id": r["doc_id"]}) for r in rows[:2]]
    with pytest.raises(Exception, match="without its labels"):
        with beam_test_pipeline() as p:
            staged = p | "Rows" >> beam.Create(rows) | write.StageRows(staging, ARTICLE_SCHEMA, ARTICLE_LABELS)
            (staged, p | "Labels" >> beam.Create(labels)) | write.WriteLabelledRows(
                staging, "articles", None, "r1", ARTICLE_SCHEMA, ARTICLE_LABELS)


def test_take_a_chunk_at_a_time_is_arrows_take():
    """``write._take`` (rows in any order from a table of many chunks, each chunk's
    taken from it) gives what ``Table.take`` gives: rows, order, nulls, schema."""
    import numpy as np

    from transforms.write import _take

    rng = np.random.default_rng(3)
    parts = []
    for k in range(7):
        n = int(rng.integers(0, 40))
        parts.append(pa.table({"doc_id": [f"d{k}-{i}" for i in range(n)],
                               "text": pa.array([None if i % 5 == 0 else "x" * i for i in range(n)], type=pa.string()),
                               "n": pa.array(rng.integers(0, 100, n), type=pa.int32())}))
    table = pa.concat_tables(parts)
    assert table.column("text").num_chunks == 7
    for rows in (rng.permutation(len(table)), rng.permutation(len(table))[:50], np.arange(len(table))[::-3],
                 np.zeros(0, dtype=np.int64)):
        got = _take(table, rows.astype(np.int64))
        assert got.schema == table.schema
        assert got.to_pylist() == table.take(pa.array(rows, type=pa.int64())).to_pylist()
