"""newsbeam's pipeline options. Read only by ``pipeline.assemble``."""
from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions

__all__ = ["NewsbeamOptions"]


class NewsbeamOptions(PipelineOptions):
    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument("--input", action="append", default=None,
                            help="file, folder (recursive) or glob, local or any Beam filesystem; repeatable")
        parser.add_argument("--output", default="out", help="output folder (local or any Beam filesystem)")
        parser.add_argument("--max-doc-bytes", dest="max_doc_bytes", type=int, default=16 << 20,
                            help="largest document (after decompression) that is extracted; larger ones are rejected")
        parser.add_argument("--max-decompressed-bytes", dest="max_decompressed_bytes", type=int, default=1 << 30,
                            help="most bytes read from one compressed container (JSONL, WARC) before it is rejected")
        parser.add_argument("--extract-timeout", dest="extract_timeout", type=float, default=30.0,
                            help="seconds one page may take to extract before it is rejected")
        parser.add_argument("--extract-memory-mb", dest="extract_memory_mb", type=int, default=2048,
                            help="address-space cap of the extraction process, in MiB")
        parser.add_argument("--min-words", dest="min_words", type=int, default=10,
                            help="articles with fewer words of text are rejected as too_short")
        parser.add_argument("--rows-per-shard", dest="rows_per_shard", type=int, default=20000,
                            help="target rows per Parquet shard")
        parser.add_argument("--lang-max-chars", dest="lang_max_chars", type=int, default=600,
                            help="characters of text langdetect reads")
        parser.add_argument("--run-id", dest="run_id", default=None, help="run id (default: time-based)")
