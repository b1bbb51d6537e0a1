"""Beam's workers let go of each stage's closed output buffer (transforms.beam_memory)."""
import apache_beam as beam
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
