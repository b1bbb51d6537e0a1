import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SHARED = os.environ.get("NEWSBEAM_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
SEEDS = os.path.join(ROOT, "seeds")


@pytest.fixture(scope="session")
def seeds_dir():
    return SEEDS


def read_table(out, table):
    """All rows of OUT/table as a list of dicts (via pyarrow, hive partitions)."""
    import pyarrow.dataset as ds

    path = os.path.join(out, table)
    if not os.path.isdir(path):
        return []
    return ds.dataset(path, format="parquet", partitioning="hive").to_table().to_pylist()


def manifest(out):
    import glob
    import json

    (path,) = glob.glob(os.path.join(out, "runs", "*.json"))
    return json.load(open(path))


def beam_test_pipeline():
    """A TestPipeline on the pinned local runner (no Prism download attempt)."""
    from apache_beam.options.pipeline_options import PipelineOptions
    from apache_beam.testing.test_pipeline import TestPipeline

    from pipeline.runner import make_runner

    return TestPipeline(runner=make_runner(PipelineOptions([])), options=PipelineOptions([]))


def read_file(path, max_line=16 << 20, max_unzip=1 << 30):
    """One file through the reader's DoFn, without a pipeline: (documents,
    rejects as (source after the last "/", stage, reason), skipped notes)."""
    from apache_beam import pvalue

    from transforms.read import _ReadFileFn

    docs, rejects, skipped = [], [], []
    fn = _ReadFileFn(16 << 20, max_unzip, max_line)
    try:
        for out in fn.process((str(path), path.stat().st_size)):
            if not isinstance(out, pvalue.TaggedOutput):
                docs.append(out)
            elif out.tag == "rejects":
                rejects.append((out.value["source"].rsplit("/", 1)[-1], out.value["stage"], out.value["reason"]))
            elif out.tag == "skipped":
                skipped.append(out.value)
    finally:
        fn.teardown()  # a Parquet file's reading child
    return docs, rejects, skipped


def read_in_ranges(path, split, max_line_bytes=300, strides=1, max_unzip=256 << 20):
    """(tag, source, doc_id or reject reason) of every output of reading
    ``path`` with ranges of ``split`` bytes (0: whole), one range an element
    as the pipeline hands them out; with ``strides``, a file of many records
    read whole is read once a stride (``read.strided``), as several workers do."""
    from transforms.read import _MatchFn, _ReadFileFn

    reader = _ReadFileFn(16 << 20, max_unzip, max_line_bytes=max_line_bytes)
    out = []
    for element in _MatchFn(split, strides=strides).process(path):
        for o in reader.process(element):
            value = getattr(o, "value", o)
            tag = getattr(o, "tag", "docs")
            if tag == "skipped":  # a WARC record type read past (request, warcinfo)
                out.append((tag, value, None))
            else:
                out.append((tag, value["source"], value.get("doc_id") if tag == "docs" else value.get("reason")))
    reader.teardown()
    return out
