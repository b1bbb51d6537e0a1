"""Shared helpers for the benchmark scripts: where the shared data lives."""
from __future__ import annotations

import importlib.util
import logging
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.environ.get("NEWSBEAM_SHARED", os.path.join(os.path.dirname(ROOT), "shared"))
DATA_DIR = os.path.join(SHARED, "data")


def _quiet_libraries() -> None:
    """What a benchmark prints is its figures: Beam's warning at import that
    the optional GCP client is missing, and trafilatura's notes on the pages
    it is given, are dropped as ``newsbeam run`` drops them."""
    from pipeline.cli import DropBeamImportNoise

    logging.getLogger().addFilter(DropBeamImportNoise())  # Beam warns through the root logger itself
    logging.getLogger("trafilatura").setLevel(logging.ERROR)


_quiet_libraries()


def load_scorer():
    """The extraction benchmark's scorer, ../shared/tools/score_extraction.py."""
    path = os.path.join(SHARED, "tools", "score_extraction.py")
    spec = importlib.util.spec_from_file_location("score_extraction", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def wmt_data(argv, description: str) -> str | None:
    """``--data`` of a machine-translation benchmark; None, said, when its
    WMT documents are not there (the benchmark then skips)."""
    import argparse

    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DATA_DIR)
    data = ap.parse_args(argv).data
    if not os.path.exists(os.path.join(data, "mt", "wmt_docs.jsonl")):
        print(f"skip: no WMT documents under {data}")
        return None
    return data
