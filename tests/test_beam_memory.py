"""Beam's workers let go of each stage's closed output buffer, and Arrow's C++ code
allocates from a pool that hands freed memory back (transforms.beam_memory)."""
import os
import subprocess
import sys

import apache_beam as beam
import pytest
from apache_beam.runners.portability.fn_api_runner import fn_runner
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.runners.worker.bundle_processor import DataOutputOperation

import transforms.write  # noqa: F401  (importing newsbeam's writer applies the release)
from transforms.beam_memory import release_output_streams


def test_a_finished_stage_keeps_no_output_stream(monkeypatch):
    ops = []
    init = DataOutputOperation.__init__

    def remember(self, *args, **kwargs):
        init(self, *args, **kwargs)
        ops.append(self)

    monkeypatch.setattr(DataOutputOperation, "__init__", remember)
    with beam.Pipeline(runner=fn_runner.FnApiRunner()) as p:
        counts = (p | beam.Create(["x" * 1000] * 200) | beam.Map(lambda s: (len(s) % 3, s)) | beam.GroupByKey()
                  | beam.Map(lambda kv: (kv[0], len(list(kv[1])))))
        assert_that(counts, equal_to([(1, 200)]))
    assert ops, "the runner used no data output operation"
    # the processors stay cached in the worker; their streams do not
    assert all(op.output_stream is None for op in ops)


def test_release_is_applied_once():
    assert release_output_streams() is True  # already patched at import: says so, patches nothing twice
    finish = DataOutputOperation.finish
    release_output_streams()
    assert DataOutputOperation.finish is finish


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="set on Linux only")
def test_arrow_cpp_code_allocates_from_jemalloc_in_a_newsbeam_process():
    """Importing newsbeam's package before pyarrow sets Arrow's C++ default pool
    (the Parquet reader's and writer's); a pool the user chose is kept."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "ARROW_DEFAULT_MEMORY_POOL"}
    code = "import pipeline, pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    run = lambda env: subprocess.run([sys.executable, "-c", code], cwd=repo, env=env, capture_output=True,  # noqa: E731
                                     text=True, check=True).stdout.strip()
    assert run(env) == "jemalloc"
    assert run({**env, "ARROW_DEFAULT_MEMORY_POOL": "system"}) == "system"
    bare = subprocess.run([sys.executable, "-c", "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()
    assert bare != "jemalloc"  # pyarrow's own default: the setting is newsbeam's doing
