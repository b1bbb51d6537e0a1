"""Generated hostile input (tests/fuzz.py): valid files of every kind, mutated.

The reader is tried on many generated files directly (Hypothesis, a fixed
number of examples, derandomised so CI is repeatable); the whole pipeline on
one folder of generated files of every kind. benchmarks/fuzz.py runs
thousands.
"""
import os
import random

import pytest
from apache_beam import pvalue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import manifest, read_in_ranges, read_table
from fuzz import BIG_KINDS, KINDS, check_output, extension, make_case, record_source, write_cases
from pipeline.cli import main
from transforms.read import _ReadFileFn, splittable


def _read(path: str, size: int):
    fn = _ReadFileFn(16 << 20, 256 << 20, 16 << 20)
    docs, rejects, other = [], [], []
    try:
        for out in fn.process((path, size)):
            if not isinstance(out, pvalue.TaggedOutput):
                docs.append(out)
            elif out.tag == "rejects":
                rejects.append(out.value)
            else:
                other.append(out)
    finally:
        fn.teardown()  # a Parquet file's reading child
    return docs, rejects, other


@settings(max_examples=800, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), kind=st.sampled_from([k for k in KINDS if k != "rss"]))
def test_the_reader_accounts_for_every_generated_file(tmp_path_factory, rnd, kind):
    """Whatever the damage: no exception, at least one row per file, every
    record before the damage read as a document, each record at most once."""
    case = make_case(rnd, kind)
    path = str(tmp_path_factory.mktemp("fuzz") / f"case.{extension(kind)}")
    with open(path, "wb") as f:
        f.write(case.data)
    docs, rejects, _ = _read(path, len(case.data))
    assert docs or rejects, (kind, case.mutations)
    sources = [d["source"] for d in docs] + [r["source"] for r in rejects]
    assert len(sources) == len(set(sources)), (kind, case.mutations, sources)
    got = {d["source"] for d in docs}
    for n in case.intact_records():
        assert record_source(path, case, n) in got, (kind, case.mutations, n, [r["reason"] for r in rejects])
    for r in rejects:
        assert r["stage"] and r["reason"] and r["error"], r


@pytest.mark.slow
def test_a_folder_of_generated_files_runs_and_adds_up(tmp_path):
    """One run over generated files of every kind (some valid, most damaged):
    exit 0, a row for every file, every intact record an article, the
    manifest adds up."""
    folder = str(tmp_path / "in")
    cases = write_cases(folder, random.Random(20261202), per_kind=5)
    out = str(tmp_path / "out")
    assert main(["run", "--input", folder, "--output", out, "--no-fetch", "--quiet"]) == 0
    problems = check_output(folder, cases, read_table(out, "articles"), read_table(out, "rejects"),
                            manifest(out)["counts"])
    assert not problems, "\n".join(problems)
    assert len(os.listdir(folder)) == 5 * len(KINDS)


def _ranged(path: str, split: int) -> list[tuple]:
    """What reading ``path`` in ranges of ``split`` bytes gives, but the records skipped (request, warcinfo)."""
    return [o for o in read_in_ranges(path, split, max_line_bytes=16 << 20) if o[0] != "skipped"]


@settings(max_examples=12, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32), kind=st.sampled_from(BIG_KINDS), split=st.sampled_from([1 << 18, 1 << 20]))
def test_a_big_damaged_file_read_in_ranges_gives_what_one_reading_gives(tmp_path, seed, kind, split):
    """Generated big JSON-lines files and WARCs (hundreds of records, damaged
    as the small ones are) read in ranges of 256 KB (several local workers)
    or 1 MB (one): every intact record a document, no source twice, and the
    same documents and rejects as reading the file whole (a range that
    yields nothing adds only its own ``no_documents`` row)."""
    case = make_case(random.Random(seed), kind)  # a seed, not Hypothesis's random: a big file is many draws
    path = str(tmp_path / f"case-{seed}.{extension(kind)}")
    with open(path, "wb") as f:
        f.write(case.data)
    ranged = _ranged(path, split)
    sources = [s for _, s, _ in ranged]
    assert len(sources) == len(set(sources)), (kind, case.mutations)
    got = {s for tag, s, _ in ranged if tag == "docs"}
    for n in case.intact_records():
        assert record_source(path, case, n) in got, (kind, case.mutations, n)
    whole = _ranged(path, 0)
    assert sorted(o for o in ranged if o[2] != "no_documents") == sorted(o for o in whole if o[2] != "no_documents")


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnd=st.randoms(use_true_random=False), kind=st.sampled_from([k for k in KINDS if k != "rss"]),
       strides=st.integers(2, 4))
def test_a_file_read_in_strides_gives_each_output_of_one_reading_once(tmp_path_factory, rnd, kind, strides):
    """Generated files of every kind, damaged or not, read as several workers
    read a file of many records that cannot be cut into ranges (compressed
    JSON lines, a CSV, a JSON document, an archive, a WARC of another
    compression): each worker reads it whole and keeps every n-th output.
    Together they give each output of one reading exactly once: the
    documents, the rejects (the file's own included) and the notes."""
    case = make_case(rnd, kind)
    path = str(tmp_path_factory.mktemp("strides") / f"case.{extension(kind)}")
    with open(path, "wb") as f:
        f.write(case.data)
    whole = read_in_ranges(path, 0, max_line_bytes=16 << 20)
    strided = read_in_ranges(path, 1, max_line_bytes=16 << 20, strides=strides)
    if splittable(path, len(case.data), 1):  # a plain JSON-lines file or WARC is cut into ranges instead,
        # each of which that holds nothing has a no_documents row of its own (test_read_ranges)
        whole, strided = ([o for o in x if o[2] != "no_documents"] for x in (whole, strided))
    assert sorted(strided, key=repr) == sorted(whole, key=repr), (kind, case.mutations)


@pytest.mark.parametrize("kind, name", [("jsonl-big", "big.jsonl.gz"), ("warc-big", "big.warc.xz")])
def test_a_big_file_read_in_strides_gives_each_output_once(tmp_path, kind, name):
    """The same on big files (hundreds of records, damaged as generated),
    compressed as a whole, so that they are read whole: three workers'
    shares hold each output of one reading once."""
    import gzip
    import lzma

    case = make_case(random.Random(7), kind)
    path = str(tmp_path / name)
    with open(path, "wb") as f:
        f.write(gzip.compress(case.data) if name.endswith(".gz") else lzma.compress(case.data))
    whole = read_in_ranges(path, 0, max_line_bytes=16 << 20)
    strided = read_in_ranges(path, 1, max_line_bytes=16 << 20, strides=3)
    assert len(whole) > 300 and sorted(strided, key=repr) == sorted(whole, key=repr)
