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

from conftest import manifest, read_table
from fuzz import KINDS, check_output, extension, make_case, record_source, write_cases
from pipeline.cli import main
from transforms.read import _ReadFileFn


def _read(path: str, size: int):
    fn = _ReadFileFn(16 << 20, 256 << 20, 16 << 20)
    docs, rejects, other = [], [], []
    for out in fn.process((path, size)):
        if not isinstance(out, pvalue.TaggedOutput):
            docs.append(out)
        elif out.tag == "rejects":
            rejects.append(out.value)
        else:
            other.append(out)
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
