"""Bytes to text: BOM, then the HTTP or <meta> charset, then detection.

Never crashes on bad bytes: what cannot be decoded, or decodes to binary
junk (NUL-filled, random bytes), becomes a reject with stage ``decode``.
``DecodeDocuments`` decodes plain-text documents; HTML is handed to the
extraction sandbox as bytes and decoded there with the same
``decode_bytes`` (bytes cross the process boundary more cheaply than str,
and a pathological page is decoded where it can be killed).
"""
from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue

from transforms.boundary import per_document
from transforms.encoding import DecodeError, decode_bytes
from transforms.records import make_reject

__all__ = ["DecodeDocuments"]


class _DecodeFn(beam.DoFn):
    @per_document("decode")
    def process(self, doc):
        payload = doc["payload"]
        if isinstance(payload, bytes) and doc["kind"] != "html":
            try:
                text, enc = decode_bytes(payload, doc.get("http_charset"), is_html=False)
            except DecodeError as e:
                yield pvalue.TaggedOutput("rejects", make_reject(
                    source=doc["source"], source_format=doc["source_format"], stage="decode", reason=e.reason,
                    error=str(e), raw=payload, raw_size=doc["raw_size"], doc_id=doc["doc_id"]))
                return
            doc = {**doc, "payload": text.replace("\x00", ""), "encoding": enc}
        yield doc


class DecodeDocuments(beam.PTransform):
    """raw documents -> text documents with ``payload`` as str (HTML stays bytes); ``rejects`` tagged."""

    def expand(self, docs):
        return docs | "Decode" >> beam.ParDo(_DecodeFn()).with_outputs("rejects", main="docs")
