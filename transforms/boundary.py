"""The per-document boundary: whatever one document's step raises becomes
that document's reject, and the run goes on.

Every step that handles one document or article at a time (decode,
extraction's parent side, language, machine translation, annotation, link
records) wraps its ``process`` with ``per_document(stage)``. The reject
carries the step as its ``stage``, ``internal_error`` as its reason and the
exception with a short traceback as its ``error``, so a library's bug on one
page is one row to look at, not a failed run. Each such failure is also
logged and counted (``newsbeam:document_errors``).
"""
from __future__ import annotations

import functools
import logging
import traceback

from apache_beam import pvalue
from apache_beam.metrics import Metrics

from transforms.records import make_reject

__all__ = ["INTERNAL_ERROR", "call_guarded", "document_reject", "per_document", "per_source"]

INTERNAL_ERROR = "internal_error"
_LOG = logging.getLogger("newsbeam")
_ERRORS = Metrics.counter("newsbeam", "document_errors")


def document_reject(doc: dict, stage: str, error: BaseException, reason: str = INTERNAL_ERROR) -> dict:
    """A reject row for ``doc`` (a raw document or an article dict) that failed in ``stage``."""
    raw = doc.get("payload")
    if raw is None:
        raw = doc.get("text") or b""
    if isinstance(raw, str):
        raw = raw[:512]
    tb = "".join(traceback.format_exception(type(error), error, error.__traceback__, limit=4))
    return make_reject(
        source=str(doc.get("source") or "unknown"), source_format=str(doc.get("source_format") or "unknown"),
        stage=stage, reason=reason, error=f"{type(error).__name__}: {error}\n{tb}", raw=raw,
        raw_size=doc.get("raw_size"), doc_id=doc.get("doc_id"))


def per_document(stage: str):
    """Decorate a ``DoFn.process(self, element)``: an exception becomes a
    ``rejects`` output for that element (the DoFn's transform must declare
    the ``rejects`` output)."""

    def wrap(process):
        @functools.wraps(process)
        def guarded(self, element, *args, **kwargs):
            out = call_guarded(stage, lambda: list(process(self, element, *args, **kwargs) or ()), element)
            return [out] if isinstance(out, pvalue.TaggedOutput) else out

        return guarded

    return wrap


def call_guarded(stage: str, step, element):
    """``step()``, or, if it raises, the ``rejects`` output for ``element``
    (logged and counted): the one place a per-document failure is turned into a row."""
    try:
        return step()
    except Exception as e:
        doc = element if isinstance(element, dict) else {"source": repr(element)[:500]}
        return _failed(stage, doc, e)


def _failed(stage: str, doc: dict, error: Exception, reason: str = INTERNAL_ERROR):
    """Count and log a failure of ``stage`` on ``doc``; its ``rejects`` output."""
    _ERRORS.inc()
    _LOG.warning("%s failed on %s: %s: %s", stage, doc.get("source"), type(error).__name__, error)
    return pvalue.TaggedOutput("rejects", document_reject(doc, stage, error, reason=reason))


def per_source(stage: str, source_format: str, reason: str):
    """Decorate a generator ``DoFn.process(self, source)`` that turns one
    source (a file, a feed) into many outputs: an exception ends that source
    with one reject, and what it yielded before stays."""

    def wrap(process):
        @functools.wraps(process)
        def guarded(self, source, *args, **kwargs):
            try:
                yield from process(self, source, *args, **kwargs)
            except Exception as e:
                name = str(source[0] if isinstance(source, tuple) else source)
                yield _failed(stage, {"source": name, "source_format": source_format}, e, reason)

        return guarded

    return wrap
