"""The unbounded graph's stateful dedup and windowed writes, with TestStream."""
import glob
import os
import shutil

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.testing.test_stream import TestStream
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.transforms import window
from apache_beam.transforms.periodicsequence import PeriodicImpulse  # noqa: F401 - the graph's source exists

from transforms.streaming import FirstSeenByUrl, WriteWindowShards, streaming_graph

SCHEMA = pa.schema([("doc_id", pa.string()), ("url", pa.string())])


def _entry(url, n):
    return {"url": url, "feed_url": "https://feeds.example/rss", "position": n}


def _streaming_pipeline():
    opts = PipelineOptions(["--runner=BundleBasedDirectRunner"])
    opts.view_as(StandardOptions).streaming = True
    return BeamTestPipeline(options=opts)


def test_first_seen_by_url_drops_repeats_across_polls():
    events = (TestStream()
              .advance_watermark_to(0)
              .add_elements([window.TimestampedValue(_entry("https://a.example/1", 1), 1),
                             window.TimestampedValue(_entry("https://a.example/2", 2), 1)])
              .advance_watermark_to(60)
              .add_elements([window.TimestampedValue(_entry("https://a.example/1", 1), 61),
                             window.TimestampedValue(_entry("https://a.example/3", 3), 61)])
              .advance_watermark_to_infinity())
    with _streaming_pipeline() as p:
        urls = p | events | FirstSeenByUrl(ttl_seconds=3600) | beam.Map(lambda e: e["url"])
        assert_that(urls, equal_to(["https://a.example/1", "https://a.example/2", "https://a.example/3"]))


def test_one_shard_per_window(tmp_path):
    out = str(tmp_path / "out")
    events = (TestStream()
              .advance_watermark_to(0)
              .add_elements([window.TimestampedValue({"doc_id": f"a{i}", "url": f"u{i}"}, 5 + i) for i in range(3)])
              .advance_watermark_to(70)
              .add_elements([window.TimestampedValue({"doc_id": f"b{i}", "url": f"v{i}"}, 75 + i) for i in range(2)])
              .advance_watermark_to_infinity())
    with _streaming_pipeline() as p:
        (p | events | beam.WindowInto(window.FixedWindows(60)) | WriteWindowShards(out, "articles", SCHEMA))
    shards = sorted(glob.glob(os.path.join(out, "articles", "*", "*.parquet")))
    assert [pq.read_table(s).num_rows for s in shards] == [3, 2]
    assert not glob.glob(os.path.join(out, "_staging", "*"))


def test_streaming_graph_assembles(tmp_path):
    from transforms.fetch import FetchSettings

    p = beam.Pipeline(options=PipelineOptions(["--streaming"]))
    try:
        streaming_graph(p, ["https://feeds.example/rss"], str(tmp_path), 60, 300, FetchSettings(), True, "r",
                        None, "0")
        names = {t.full_label for t in p.transforms_stack[0].parts}
        assert {"Ticks", "FirstSeen", "WriteArticles"} <= names
    finally:  # a pipeline that is never run keeps the folder Beam made for it (/tmp/beam-pipeline-temp*)
        shutil.rmtree(p.local_tempdir, ignore_errors=True)
