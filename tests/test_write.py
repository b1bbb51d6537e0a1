"""Parquet shards, run statistics and the commit."""
import datetime as dt
import glob
import json
import os

import apache_beam as beam
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
