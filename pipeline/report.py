"""``newsbeam report OUT [--html FILE]``: what an output folder holds.

Reads the run manifests and the Parquet tables with pyarrow (no Beam; only
the columns it counts, never the article text) and prints, per output:
runs, articles, rejects by stage and reason, languages, source formats,
extractors, top sites and publishers, and the date range.

With ``--html`` it also writes one self-contained page that works offline:
plotly charts (plotly.js is embedded in the file, no CDN) of articles per
day (published and ingested), languages, machine-translated articles by
source language, near-duplicate cluster sizes, the largest stories with
their headlines, rejects by stage and reason and the top sites, then the
figures as tables. Every chart is a ``<div class="newsbeam-chart">`` that
plotly.js fills with an ``<svg>`` when the page opens (tests check that
each one drew in headless Chromium).
"""
from __future__ import annotations

import collections
import glob
import html
import json
import os

__all__ = ["collect", "render_text", "render_html", "CHARTS"]

# (id, heading) of every chart the HTML page draws, in page order.
CHARTS = (
    ("per-day", "Articles per day"),
    ("languages", "Languages"),
    ("mt-sources", "Machine-translated articles by source language"),
    ("dup-clusters", "Near-duplicate cluster sizes"),
    ("stories", "Largest stories"),
    ("rejects", "Rejects by stage and reason"),
    ("sites", "Top sites"),
)
_ARTICLE_COLUMNS = ("title", "language", "source_format", "extractor", "publisher", "site", "published_at",
                    "ingested_at", "word_count", "is_duplicate", "dup_cluster_id", "story_id",
                    "is_machine_translated", "mt_source_language")


def _table(out: str, name: str, columns=None, unreadable: list | None = None):
    """The rows of OUT/name, every shard read; a shard that is not Parquet
    (damaged, or put there by something else) is left out and added to
    ``unreadable`` as (path, error), not a traceback."""
    import pyarrow.dataset as ds

    path = os.path.join(out, name)
    files = [f for f in glob.glob(os.path.join(glob.escape(path), "**", "*.parquet"), recursive=True)
             if not os.path.basename(f).startswith(("_", "."))]
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = []
    for f in list(files):
        try:
            schemas.append(pq.read_schema(f))
        except (OSError, pa.ArrowException) as e:  # ArrowInvalid: no Parquet footer
            files.remove(f)
            if unreadable is not None:
                unreadable.append((f, f"{type(e).__name__}: {e}"[:300]))
    if not files:
        return None
    # one schema over every shard: an output that older versions also wrote lacks newer columns in some
    schema = pa.unify_schemas(schemas)
    dataset = ds.dataset(files, schema=schema, format="parquet", partitioning="hive", partition_base_dir=path)
    if columns is not None:
        columns = [c for c in columns if c in dataset.schema.names]  # an older output may lack a newer column
    return dataset.to_table(columns=columns)


def _buckets(*series) -> tuple[str, int]:
    """The time bucket the article-count chart uses: a day, a month or a
    year (``isoformat()[:n]``), whichever gives no more than ~120 bars over
    the span of all the series' timestamps."""
    stamps = [ts for values in series for ts in values if ts is not None]
    if not stamps:
        return "day", 10
    span = (max(stamps) - min(stamps)).days
    return ("day", 10) if span <= 120 else ("month", 7) if span <= 3650 else ("year", 4)


def collect(out: str) -> dict:
    """Figures of one output folder."""
    if not os.path.isdir(out):
        raise FileNotFoundError(f"{out} is not a newsbeam output folder")
    if not any(os.path.isdir(os.path.join(out, name)) for name in ("runs", "articles", "rejects")):
        # an input folder given by mistake read as "0 runs, 0 articles", exit 0
        raise FileNotFoundError(f"{out} holds no newsbeam run (no runs, articles or rejects folder in it); "
                                "give the --output of earlier runs")
    runs = []
    for path in sorted(glob.glob(os.path.join(glob.escape(out), "runs", "*.json"))):
        with open(path, encoding="utf-8") as f:
            m = json.load(f)
        runs.append({"run_id": m["run_id"], "started_at": m["started_at"], "counts": m["counts"]})
    unreadable: list[tuple[str, str]] = []
    arts = _table(out, "articles", _ARTICLE_COLUMNS, unreadable)
    rejs = _table(out, "rejects", ("stage", "reason"), unreadable)
    cols = {} if arts is None else {c: arts.column(c).to_pylist() for c in arts.column_names}

    def counts(column, top=None, rows=None):
        values = cols.get(column)
        if values is None:
            return {}
        if rows is not None:
            values = [values[i] for i in rows]
        c = collections.Counter(v if v is not None else "(none)" for v in values)
        return dict(sorted(c.items(), key=lambda kv: (-kv[1], str(kv[0])))[:top])

    n = 0 if arts is None else arts.num_rows
    mt_rows = [i for i, v in enumerate(cols.get("is_machine_translated", [])) if v]
    published = sorted(d for d in cols.get("published_at", []) if d is not None)
    ingested = [d for d in cols.get("ingested_at", []) if d is not None]
    bucket, width = _buckets(published, ingested)
    per_day = {"published": collections.Counter(d.isoformat()[:width] for d in published),
               "ingested": collections.Counter(d.isoformat()[:width] for d in ingested)}
    cluster_sizes = collections.Counter(collections.Counter(cols.get("dup_cluster_id", [])).values())
    stories = collections.Counter(cols.get("story_id", []))
    headline = {}
    for i, sid in enumerate(cols.get("story_id", [])):  # the story's headline: its first article with one
        title = cols.get("title", [None] * n)[i]
        if title and sid not in headline:
            headline[sid] = title
    top_stories = [{"story_id": sid, "articles": k, "headline": headline.get(sid) or "(no headline)"}
                   for sid, k in sorted(stories.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]
    reasons = {}
    if rejs is not None:
        pairs = zip(rejs.column("stage").to_pylist(), rejs.column("reason").to_pylist())
        reasons = dict(sorted(collections.Counter(f"{s}/{r}" for s, r in pairs).items(),
                              key=lambda kv: (-kv[1], kv[0])))
    return {
        "output": os.path.abspath(out),
        "runs": runs,
        "articles": n,
        "rejects": 0 if rejs is None else rejs.num_rows,
        "words": sum(cols.get("word_count", [])),
        "duplicates": sum(1 for v in cols.get("is_duplicate", []) if v),
        "stories": len(stories),
        "machine_translated": len(mt_rows),
        "mt_source_languages": counts("mt_source_language", rows=mt_rows) if mt_rows else {},
        "languages": counts("language"),
        "source_formats": counts("source_format"),
        "extractors": counts("extractor"),
        "sites": counts("site", top=15),
        "publishers": counts("publisher", top=10),
        "rejects_by_reason": reasons,
        "published": (published[0].isoformat(), published[-1].isoformat()) if published else None,
        "per_day": {k: dict(sorted((d, c) for d, c in v.items())) for k, v in per_day.items()},
        "per": bucket,
        "cluster_sizes": dict(sorted(cluster_sizes.items())),
        "top_stories": top_stories,
        "unreadable": unreadable,
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
                       ("source_formats", "formats"), ("extractors", "extractors"), ("sites", "sites"),
                       ("publishers", "publishers")):
        if r[key]:
            lines.append(f"  {label:19s} " + ", ".join(f"{k} {v}" for k, v in r[key].items()))
    if r["published"]:
        lines.append(f"  published           {r['published'][0]} .. {r['published'][1]}")
    for story in r["top_stories"][:3]:
        lines.append(f"  story               {story['articles']} articles: {story['headline'][:80]}")
    if r.get("unreadable"):
        path, error = r["unreadable"][0]
        lines.append(f"  unreadable files    {len(r['unreadable'])}, left out (first: {path}: {error})")
    for run in r["runs"][-10:]:
        c = run["counts"]
        lines.append(f"  run {run['run_id']}: {c['inputs_seen']} inputs, {c['articles_written']} articles, "
                     f"{c['rejected']} rejected, {c.get('already_ingested', 0)} already ingested")
    return "\n".join(lines)


def _figures(r: dict) -> dict:
    """One plotly figure per chart of ``CHARTS``; a chart with nothing to show
    says so in its title rather than disappearing."""
    import plotly.graph_objects as go

    def bars(data: dict, name: str, horizontal: bool = False):
        keys, values = [str(k) for k in data], list(data.values())
        if horizontal:  # largest on top
            return go.Bar(x=values[::-1], y=keys[::-1], orientation="h", name=name)
        return go.Bar(x=keys, y=values, name=name)

    share = r["mt_source_languages"]
    stories = {f"{s['headline'][:70]} ({s['story_id'][:8]})": s["articles"] for s in r["top_stories"]}
    figs = {
        "per-day": go.Figure([go.Bar(x=list(r["per_day"][k]), y=list(r["per_day"][k].values()), name=k)
                              for k in ("published", "ingested")]),
        "languages": go.Figure([bars(r["languages"], "articles")]),
        "mt-sources": go.Figure([bars(share, "machine-translated")]),
        "dup-clusters": go.Figure([go.Bar(x=[str(k) for k in r["cluster_sizes"]], y=list(r["cluster_sizes"].values()),
                                          name="clusters")]),
        "stories": go.Figure([bars(stories, "articles", horizontal=True)]),
        "rejects": go.Figure([bars(r["rejects_by_reason"], "rejects", horizontal=True)]),
        "sites": go.Figure([bars(r["sites"], "articles", horizontal=True)]),
    }
    axes = {"per-day": ("day", "articles"), "languages": ("language", "articles"),
            "mt-sources": ("translated from", "articles"), "dup-clusters": ("copies in the cluster", "clusters"),
            "stories": ("articles", ""), "rejects": ("rejects", ""), "sites": ("articles", "")}
    empty = {"per-day": not r["articles"], "languages": not r["languages"], "mt-sources": not share,
             "dup-clusters": not r["cluster_sizes"], "stories": not stories, "rejects": not r["rejects_by_reason"],
             "sites": not r["sites"]}
    days = sorted({d for v in r["per_day"].values() for d in v})
    figs["per-day"].update_xaxes(type="category", categoryorder="array", categoryarray=days)
    figs["dup-clusters"].update_yaxes(type="log")  # single copies outnumber every cluster
    for key, heading in CHARTS:
        x, y = axes[key]
        if key == "per-day":
            heading, x = f"Articles per {r['per']}", r["per"]
        title = heading + (" (none)" if empty[key] else "")
        if key == "mt-sources" and share:
            title += f": {r['machine_translated']} of {r['articles']} articles"
        figs[key].update_layout(title=title, xaxis_title=x, yaxis_title=y, template="plotly_white",
                                height=max(320, 40 + 28 * len(stories)) if key == "stories" else 340,
                                margin={"l": 60, "r": 20, "t": 50, "b": 50}, barmode="group",
                                yaxis={"automargin": True})
    return figs


def render_html(r: dict) -> str:
    """The report as one page that works offline (plotly.js embedded)."""
    from plotly.offline import get_plotlyjs

    def table(title: str, data: dict) -> str:
        if not data:
            return ""
        rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>"
                       for k, v in data.items())
        return f"<h2>{html.escape(title)}</h2><table>{rows}</table>"

    figs = _figures(r)
    charts = "".join(
        f"<section><div class='newsbeam-chart' id='chart-{key}'></div></section>" for key, _ in CHARTS)
    # "</" escaped: a headline holding "</script>" must not end the script
    specs = {key: figs[key].to_json().replace("</", "<\\/") for key, _ in CHARTS}
    draw = "".join(f"(function(f){{Plotly.newPlot('chart-{key}', f.data, f.layout, "
                   f"{{displaylogo: false, responsive: true}});}})({specs[key]});" for key, _ in CHARTS)
    runs = {run["run_id"]: (f"{run['counts']['articles_written']} articles, {run['counts']['rejected']} rejected")
            for run in r["runs"]}
    summary = {"articles": r["articles"], "words": r["words"], "rejects": r["rejects"], "runs": len(r["runs"]),
               "near-duplicates": r["duplicates"], "stories": r["stories"],
               "machine-translated": r["machine_translated"]}
    if r["published"]:
        summary["published"] = f"{r['published'][0]} .. {r['published'][1]}"
    if r.get("unreadable"):
        summary["unreadable files, left out"] = f"{len(r['unreadable'])} (first: {r['unreadable'][0][0]})"
    stories = {s["headline"]: s["articles"] for s in r["top_stories"]}
    tables = "".join([table("Summary", summary), table("Largest stories", stories),
                      table("Languages", r["languages"]), table("Rejected by stage/reason", r["rejects_by_reason"]),
                      table("Formats", r["source_formats"]), table("Extractors", r["extractors"]),
                      table("Top sites", r["sites"]), table("Top publishers", r["publishers"]),
                      table("Runs", runs)])
    return ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>newsbeam report</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            "<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
            "td{border:1px solid #ccc;padding:.2em .6em}section{margin:1em 0}"
            ".summary{font-size:1.1em}</style>"
            f"<script>{get_plotlyjs()}</script></head><body>"
            f"<h1>newsbeam report</h1><p>{html.escape(r['output'])}</p>"
            f"<p class='summary'>{r['articles']} articles, {r['rejects']} rejects, {r['stories']} stories, "
            f"{r['duplicates']} near-duplicates, {r['machine_translated']} machine-translated</p>"
            f"{charts}{tables}<script>{draw}</script></body></html>")
