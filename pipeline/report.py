"""``newsbeam report OUT [--html FILE]``: what an output folder holds.

Reads the run manifests and the Parquet tables with pyarrow (no Beam) and
prints, per output: runs, articles, rejects by stage and reason, languages,
source formats, extractors, top publishers and the date range; with
``--html`` the same as a self-contained page.
"""
from __future__ import annotations

import collections
import glob
import html
import json
import os

__all__ = ["collect", "render_text", "render_html"]


def _table(out: str, name: str):
    import pyarrow.dataset as ds

    path = os.path.join(out, name)
    files = [f for f in glob.glob(os.path.join(path, "**", "*.parquet"), recursive=True)
             if not os.path.basename(f).startswith(("_", "."))]
    if not files:
        return None
    return ds.dataset(files, format="parquet", partitioning="hive", partition_base_dir=path).to_table()


def collect(out: str) -> dict:
    """Figures of one output folder."""
    if not os.path.isdir(out):
        raise FileNotFoundError(f"{out} is not a newsbeam output folder")
    runs = []
    for path in sorted(glob.glob(os.path.join(out, "runs", "*.json"))):
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
        runs.append({"run_id": m["run_id"], "started_at": m["started_at"], "counts": m["counts"]})
    arts, rejs = _table(out, "articles"), _table(out, "rejects")

    def counts(table, column, top=None):
        if table is None or column not in table.column_names:
            return {}
        c = collections.Counter(v if v is not None else "(none)" for v in table.column(column).to_pylist())
        return dict(c.most_common(top))

    dates = []
    if arts is not None:
        dates = sorted(d for d in arts.column("published_at").to_pylist() if d is not None)
    def true_count(column):
        if arts is None or column not in arts.column_names:
            return 0
        return sum(1 for v in arts.column(column).to_pylist() if v)

    def distinct(column):
        if arts is None or column not in arts.column_names:
            return 0
        return len(set(arts.column(column).to_pylist()))

    reasons = {}
    if rejs is not None:
        pairs = zip(rejs.column("stage").to_pylist(), rejs.column("reason").to_pylist())
        reasons = dict(collections.Counter(f"{s}/{r}" for s, r in pairs).most_common())
    return {
        "output": os.path.abspath(out),
        "runs": runs,
        "articles": 0 if arts is None else arts.num_rows,
        "rejects": 0 if rejs is None else rejs.num_rows,
        "words": 0 if arts is None else sum(arts.column("word_count").to_pylist()),
        "duplicates": true_count("is_duplicate"),
        "stories": distinct("story_id"),
        "machine_translated": true_count("is_machine_translated"),
        "mt_source_languages": counts(arts.filter(arts.column("is_machine_translated")) if true_count(
            "is_machine_translated") else None, "mt_source_language"),
        "languages": counts(arts, "language"),
        "source_formats": counts(arts, "source_format"),
        "extractors": counts(arts, "extractor"),
        "publishers": counts(arts, "publisher", top=10),
        "rejects_by_reason": reasons,
        "published": (dates[0].isoformat(), dates[-1].isoformat()) if dates else None,
    }


def render_text(r: dict) -> str:
    lines = [f"newsbeam output {r['output']}",
             f"  runs                {len(r['runs'])}",
             f"  articles            {r['articles']} ({r['words']} words)",
             f"  rejects             {r['rejects']}",
             f"  near-duplicates     {r['duplicates']} (flagged, kept); {r['stories']} stories",
             f"  machine-translated  {r['machine_translated']}"
             + (" (from " + ", ".join(f"{k} {v}" for k, v in r["mt_source_languages"].items()) + ")"
                if r["mt_source_languages"] else "")]
    for key, label in (("rejects_by_reason", "rejected"), ("languages", "languages"),
                       ("source_formats", "formats"), ("extractors", "extractors"), ("publishers", "publishers")):
        if r[key]:
            lines.append(f"  {label:19s} " + ", ".join(f"{k} {v}" for k, v in r[key].items()))
    if r["published"]:
        lines.append(f"  published           {r['published'][0]} .. {r['published'][1]}")
    for run in r["runs"][-10:]:
        c = run["counts"]
        lines.append(f"  run {run['run_id']}: {c['inputs_seen']} inputs, {c['articles_written']} articles, "
                     f"{c['rejected']} rejected, {c.get('already_ingested', 0)} already ingested")
    return "\n".join(lines)


def render_html(r: dict) -> str:
    def table(title: str, data: dict) -> str:
        if not data:
            return ""
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{v}</td></tr>" for k, v in data.items())
        return f"<h2>{html.escape(title)}</h2><table>{rows}</table>"

    runs = {run["run_id"]: (f"{run['counts']['articles_written']} articles, {run['counts']['rejected']} rejected")
            for run in r["runs"]}
    summary = {"articles": r["articles"], "words": r["words"], "rejects": r["rejects"], "runs": len(r["runs"])}
    if r["published"]:
        summary["published"] = f"{r['published'][0]} .. {r['published'][1]}"
    body = "".join([table("Summary", summary), table("Languages", r["languages"]),
                    table("Rejected by stage/reason", r["rejects_by_reason"]), table("Formats", r["source_formats"]),
                    table("Extractors", r["extractors"]), table("Top publishers", r["publishers"]),
                    table("Runs", runs)])
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>newsbeam report</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td{border:1px solid #ccc;padding:.2em .6em}</style></head><body>"
            f"<h1>newsbeam report</h1><p>{html.escape(r['output'])}</p>{body}</body></html>")
