"""The whole pipeline through the CLI: seeds, hostile input, determinism across runners."""
import glob
import os
import random
import shutil
import time

import pytest

from conftest import SEEDS, manifest, read_table
from hostile import make_hostile_folder
from pipeline.cli import main, run
from transforms.read import shown

COLUMNS = ["doc_id", "url", "canonical_url", "source", "source_format", "feed_url", "published_at", "fetched_at",
           "ingested_at", "title", "author", "publisher", "site", "description", "text", "word_count", "declared_language",
           "language", "language_score", "mt_score", "is_machine_translated", "mt_source_language", "mt_evidence",
           "content_hash", "dup_cluster_id", "is_duplicate", "dup_similarity", "story_id", "extractor",
           "pipeline_version"]


@pytest.fixture(scope="module")
def seeds_out(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("seeds_out"))
    assert main(["run", "--input", SEEDS, "--output", out]) == 0
    return out


def test_seeds_run_writes_articles_readable_by_duckdb(seeds_out):
    import duckdb

    rows = duckdb.sql(f"select source, language, word_count, ingest_date from read_parquet("
                      f"'{seeds_out}/articles/**/*.parquet', hive_partitioning=true) order by source").fetchall()
    assert len(rows) == 5
    assert {r[1] for r in rows} == {"en"} and all(r[2] > 100 for r in rows)
    assert all(str(r[3]) == str(rows[0][3]) for r in rows)


def test_seeds_columns_and_manifest(seeds_out):
    rows = read_table(seeds_out, "articles")
    assert set(COLUMNS) <= set(rows[0])
    m = manifest(seeds_out)
    c = m["counts"]
    assert c["inputs_seen"] == c["articles_written"] + c["rejected"] == 5
    assert m["versions"]["trafilatura"] and m["finished_at"] >= m["started_at"]
    assert {r["pipeline_version"] for r in rows} == {m["versions"]["newsbeam"]}


def test_seed_headlines_come_from_the_dumps(seeds_out):
    """The seeds are text dumps: the headline is the line the cleaner dropped
    above the article (003, a bare translation, has none)."""
    titles = {os.path.basename(r["source"])[:3]: r["title"] for r in read_table(seeds_out, "articles")}
    assert titles["004"] == "Russian space chief meets NASA administrator in US"
    assert titles["000"] == "Russian and US space agencies agree to extend cooperation (VIDEO)"
    assert titles["003"] is None


def test_record_metadata_is_decoded_and_the_site_is_named(tmp_path):
    import json

    from hostile import ARTICLE_EN

    folder = tmp_path / "in"
    folder.mkdir()
    record = {"url": "https://news.example.co.uk/2024/03/05/budget?utm_source=x", "title": "Fish &amp;amp; Chips",
              "source": "&copy; 2024 Example Ltd. All rights reserved.", "text": ARTICLE_EN + " Q&amp;A &#8217;"}
    (folder / "a.jsonl").write_text(json.dumps(record) + "\n")
    out = str(tmp_path / "out")
    run(["--input", str(folder), "--output", out], quiet=True)
    (row,) = read_table(out, "articles")
    assert row["title"] == "Fish & Chips" and row["publisher"] is None
    assert row["site"] == "example.co.uk" and row["text"].endswith("Q&A \u2019")


def test_seed_003_is_the_machine_translation(seeds_out):
    rows = {os.path.basename(r["source"])[:3]: r for r in read_table(seeds_out, "articles")}
    assert [k for k, r in sorted(rows.items()) if r["is_machine_translated"]] == ["003"]
    assert rows["003"]["mt_source_language"] == "fr" and len(rows["003"]["mt_evidence"]) >= 2
    assert manifest(seeds_out)["counts"]["machine_translated_by_source"] == {"fr": 1}


def test_no_partial_or_hidden_files_where_readers_look(seeds_out):
    for table in ("articles", "rejects"):
        for f in glob.glob(os.path.join(seeds_out, table, "**", "*"), recursive=True):
            assert not os.path.basename(f).startswith((".", "_")), f
    assert not glob.glob(os.path.join(seeds_out, "_staging", "*"))


def test_seed_chrome_is_gone(seeds_out):
    rows = {os.path.basename(r["source"]): r for r in read_table(seeds_out, "articles")}
    assert "commenting policy" not in rows["000_74cdb35eea8a6dad.txt"]["text"]
    assert "Captcha" not in rows["004_4b72928ac2bcaf42.txt"]["text"]
    assert "Upgrade to Premium" not in rows["001_d3886f72ff33d833.txt"]["text"]


def test_a_second_run_of_the_same_inputs_counts_them_and_writes_nothing(seeds_out):
    before = {f: os.path.getmtime(f) for f in glob.glob(os.path.join(seeds_out, "**", "*.parquet"), recursive=True)}
    m = run(["--input", SEEDS, "--output", seeds_out, "--run-id", "second"], quiet=True)
    after = glob.glob(os.path.join(seeds_out, "**", "*.parquet"), recursive=True)
    assert {f: os.path.getmtime(f) for f in before} == before  # earlier shards untouched
    assert not [f for f in after if "part-second-" in f and "/articles/" in f]
    c = m["counts"]
    assert c["articles_written"] == 0 and c["already_ingested"] == 5 and c["inputs_seen"] == 5
    assert c["unaccounted"] == 0 and len(read_table(seeds_out, "articles")) == 5


def test_seeds_are_one_story_and_no_duplicates(seeds_out):
    rows = read_table(seeds_out, "articles")
    assert len({r["story_id"] for r in rows}) == 1
    assert not any(r["is_duplicate"] for r in rows)
    assert all(r["dup_cluster_id"] == r["doc_id"] and r["dup_similarity"] is None for r in rows)


def test_hostile_inputs_end_as_articles_or_rejects(tmp_path):
    folder = str(tmp_path / "in")
    expect = make_hostile_folder(folder)
    out = str(tmp_path / "out")
    m = run(["--input", folder, "--output", out], quiet=True)
    arts = {os.path.relpath(r["source"], folder): r for r in read_table(out, "articles")}
    rejs = {os.path.relpath(r["source"], folder): r for r in read_table(out, "rejects")}
    assert not set(arts) & set(rejs)
    for name, (outcome, detail) in expect.items():
        if outcome == "article":
            assert name in arts, f"{name} should be an article, got {rejs.get(name, {}).get('reason')}"
            assert arts[name]["language"] == detail, name
        elif outcome == "reject":
            assert name in rejs, f"{name} should be a reject"
            assert detail is None or rejs[name]["reason"] == detail, (name, rejs[name]["reason"])
            assert rejs[name]["stage"] and rejs[name]["error"]
        else:
            assert name in arts or name in rejs, name
    files = {n.split("#")[0] for n in list(arts) + list(rejs)}
    assert files == {shown(n) for n in os.listdir(folder)}  # a name that is not UTF-8 with its bytes as \\xNN
    c = m["counts"]
    assert c["inputs_seen"] == c["articles_written"] + c["rejected"] == len(arts) + len(rejs)
    assert c["skipped_records"] == {"warc_request": 3, "warc_warcinfo": 2}
    # random bytes, NUL bytes (decode) and the 200,000-deep page (extract) went in and came out as rejects
    assert c["unaccounted"] == 0 and c["documents_to_extract"] == len(arts) + 3


def _rows(out):
    """Articles, rejects, and what the next run reads back (the index of articles and of every input)."""
    keep = lambda r: {k: v for k, v in r.items() if k not in ("ingested_at", "run_id", "ingest_date")}  # noqa: E731
    return sorted((keep(r) for r in read_table(out, "articles")), key=lambda r: r["doc_id"]), \
        sorted((keep(r) for r in read_table(out, "rejects")), key=lambda r: (r["doc_id"], r["source"])), \
        sorted((keep(r) for r in read_table(out, "index/articles")), key=lambda r: sorted(r.items())), \
        sorted((keep(r) for r in read_table(out, "index/ingested")), key=lambda r: sorted(r.items()))


@pytest.mark.slow
def test_same_rows_on_every_runner(tmp_path):
    folder = str(tmp_path / "in")
    make_hostile_folder(folder, huge_mb=17, bomb_mb=20, depth=2000, line_mb=17)
    for name in sorted(os.listdir(SEEDS)):
        with open(os.path.join(SEEDS, name), "rb") as src, open(os.path.join(folder, name), "wb") as dst:
            dst.write(src.read())
    # near-copies, so that clusters and canonical choice are compared too
    (seed,) = [n for n in os.listdir(SEEDS) if n.startswith("003")]
    text = open(os.path.join(SEEDS, seed), encoding="utf-8").read()
    for i, copy in enumerate((text, text[: len(text) * 2 // 3], "Breaking: " + text.replace("ISS", "station"))):
        with open(os.path.join(folder, f"copy{i}.txt"), "w", encoding="utf-8") as f:
            f.write(copy)
    # a CSV over the 256 KB that two workers read in ranges or strides: it is read by both (read.strided)
    import csv as csv_module

    from fuzz import article_text

    rnd = random.Random(11)
    with open(os.path.join(folder, "day.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv_module.writer(f)
        w.writerow(["title", "url", "text"])
        for i in range(130):
            w.writerow([f"Item {i}", f"https://example.com/csv/{i}", " ".join(article_text(rnd) for _ in range(3))])
    assert os.path.getsize(os.path.join(folder, "day.csv")) > 256 << 10
    variants = {
        "in_process": [],
        "in_process_again": [],
        "multi_processing": ["--direct_running_mode=multi_processing", "--direct_num_workers=2"],
        "portable": ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"],
        # components by star contraction across workers, as for a link graph too large for one worker
        "star_contraction": ["--union-find-max-edges", "0"],
    }
    results = {}
    for label, flags in variants.items():
        out = str(tmp_path / label)
        run(["--input", folder, "--output", out, "--rows-per-shard", "7"] + flags, quiet=True)
        results[label] = _rows(out)
    base = results["in_process"]
    assert len(base[0]) >= 10 and len(base[1]) >= 10 and len(base[2]) == len(base[0])
    assert len(base[3]) == len(base[0]) + len(base[1])
    assert sum(r["is_duplicate"] for r in base[0]) >= 3, "the copies were not found"
    for label, rows in results.items():
        assert rows == base, label


def test_report_summarises_an_output(tmp_path, capsys):
    out, page = str(tmp_path / "out"), tmp_path / "report.html"
    run(["--input", SEEDS, "--output", out], quiet=True)
    assert main(["report", out, "--html", str(page)]) == 0
    text = capsys.readouterr().out
    assert "articles            5" in text and "languages           en 5" in text
    assert "1 stories" in text and "machine-translated  1 (from fr 1)" in text
    assert "<h1>newsbeam report</h1>" in page.read_text() and "Languages" in page.read_text()
    assert main(["report", str(tmp_path / "nowhere")]) == 2


def test_report_of_a_folder_no_run_wrote_or_to_a_page_it_cannot_write_says_so_in_one_line(seeds_out, tmp_path,
                                                                                        capfd):
    """An input folder given to ``report`` by mistake is not "0 runs, 0
    articles" and exit 0; an ``--html`` path in a folder that does not exist,
    or a folder, is one line and exit 1, not a traceback."""
    assert main(["report", SEEDS]) == 2
    err = capfd.readouterr().err
    assert "holds no newsbeam run" in err and "Traceback" not in err
    for page in (str(tmp_path / "missing" / "r.html"), str(tmp_path)):
        assert main(["report", seeds_out, "--html", page]) == 1
        err = capfd.readouterr().err
        assert f"cannot write --html {page}" in err and "Traceback" not in err


def test_report_reads_an_output_that_an_older_version_also_wrote(seeds_out, tmp_path):
    """Shards without a newer column (site) are read with the others, not dropped or fatal."""
    import shutil

    import pyarrow.parquet as pq

    from pipeline.report import collect

    out = str(tmp_path / "mixed")
    shutil.copytree(seeds_out, out)
    shard = sorted(glob.glob(os.path.join(out, "articles", "**", "*.parquet"), recursive=True))[0]
    pq.write_table(pq.read_table(shard).drop(["site"]), os.path.join(os.path.dirname(shard), "part-old-00000.parquet"))
    r = collect(out)
    assert r["articles"] == 10 and r["sites"] == {"(none)": 10} and r["languages"] == {"en": 10}


def test_report_leaves_out_a_shard_that_is_not_parquet_and_says_so(seeds_out, tmp_path, capfd):
    """A damaged shard (or a file something else put there) was a traceback;
    the report reads the rest and names it."""
    import shutil

    from pipeline.report import collect, render_html, render_text

    out = str(tmp_path / "damaged")
    shutil.copytree(seeds_out, out)
    shard = sorted(glob.glob(os.path.join(out, "articles", "**", "*.parquet"), recursive=True))[0]
    with open(os.path.join(os.path.dirname(shard), "part-cut-00000.parquet"), "wb") as f:
        f.write(open(shard, "rb").read()[:300])
    r = collect(out)
    assert r["articles"] == 5 and len(r["unreadable"]) == 1 and "part-cut-00000" in r["unreadable"][0][0]
    assert "unreadable files    1" in render_text(r) and "unreadable files" in render_html(r)
    assert main(["report", out]) == 0 and "unreadable files" in capfd.readouterr().out


def test_bare_paths_are_inputs(tmp_path):
    """``newsbeam run PATH ...`` reads PATH as ``--input PATH`` would (it used to
    warn "unparseable argument" and run the bundled seeds instead); a word after
    an option written without ``=`` stays that option's value, unless the
    option, newsbeam's or Beam's, takes none."""
    import pipeline.cli as cli

    a, b = tmp_path / "a", tmp_path / "b"
    for folder, names in ((a, ["001", "002"]), (b, ["004"])):
        folder.mkdir()
        for n in names:
            shutil.copy(glob.glob(os.path.join(SEEDS, n + "_*.txt"))[0], folder)
    out = str(tmp_path / "out")
    assert main(["run", str(a), "--output", out, "--no-fetch", str(b), "--quiet"]) == 0
    assert sorted(os.path.basename(r["source"])[:3] for r in read_table(out, "articles")) == ["001", "002", "004"]
    parser = cli.argparse.ArgumentParser()
    sub = parser.add_subparsers()
    cli._run_parser(sub)
    no_value = cli._flags_without_values(sub)
    assert "--no-fetch" in no_value and "--input" not in no_value
    assert cli._paths_as_inputs(["x", "--runner", "DirectRunner", "--no-fetch", "y", "--output=o", "z",
                                 "--input", "w"], no_value) == [
        "--input=x", "--runner", "DirectRunner", "--no-fetch", "--input=y", "--output=o", "--input=z",
        "--input", "w"]
    # Beam's own flags that take no value, asked of Beam's option classes
    assert cli._paths_as_inputs(["--save_main_session", "news", "--direct_num_workers", "2"], no_value) == [
        "--save_main_session", "--input=news", "--direct_num_workers", "2"]


def test_thousands_of_paths_stay_out_of_the_options_beam_parses_at_every_step(tmp_path, monkeypatch):
    """``newsbeam run pages/*.html``: the shell hands over every path. Beam parses
    a pipeline's argument list again each time a step asks for its options,
    so 2,000 paths in it cost 40 s more than their folder (10,000: over ten
    minutes). The paths go to the run itself: Beam never parses more than a few
    dozen arguments, and every file is read, in both forms of the option."""
    from apache_beam.options import pipeline_options

    import pipeline.cli as cli

    folder = tmp_path / "pages"
    folder.mkdir()
    text = open(glob.glob(os.path.join(SEEDS, "001_*.txt"))[0], encoding="utf-8").read()
    paths = []
    for i in range(400):
        path = folder / f"p{i:03d}.txt"
        path.write_text(f"Story number {i} of the day\n\n{text}", encoding="utf-8")
        paths.append(str(path))
    parsed = []
    init = pipeline_options.PipelineOptions.__init__

    def counting(self, flags=None, **kwargs):
        parsed.append(len(flags or ()))
        init(self, flags, **kwargs)

    monkeypatch.setattr(pipeline_options.PipelineOptions, "__init__", counting)
    out = str(tmp_path / "out")
    args = [f"--input={p}" for p in paths[:-1]] + ["--input", paths[-1]]
    m = run(args + ["--output", out, "--min-words", "1"], quiet=True)
    assert m["counts"]["articles_written"] == 400 and len(m["inputs"]) == 400
    assert parsed and max(parsed) < 40 and "input" not in m["options"]
    assert cli._lists_apart(["--input=a", "--runner", "X", "--input", "b", "--feeds=f", "--feeds", "g",
                             "--inputs=c", "--", "--input=d"]) == (
        ["a", "b"], ["f", "g"], ["--runner", "X", "--inputs=c", "--", "--input=d"])
    assert cli._lists_apart(["--output", "o", "--input"]) == ([], [], ["--output", "o", "--input"])
    assert cli._lists_apart(["--input", "--output", "o", "--input", "-"]) == (["-"], [], ["--input", "--output", "o"])


@pytest.mark.parametrize("option, says", [
    ("--rows-per-shard=0", "0 is not over 0"),  # a ZeroDivisionError in the step that writes, after every page
    ("--max-doc-bytes=-5", "-5 is not over 0"),  # every document a read_error reject
    ("--story-threshold=1.5", "1.5 is not over 0 and at most 1"),  # no story at all, silently
    ("--dup-threshold=-1", "-1 is not over 0 and at most 1"),
    ("--mt-threshold=2", "2 is not from 0 to 1"),
    ("--min-words=-3", "-3 is not 0 or more"),
    ("--progress-seconds=-1", "-1 is not 0 or more"),  # a progress line a page
    ("--extract-processes=0", "0 is not over 0"),
    ("--fetch-timeout=0", "0 is not over 0"),
])
def test_an_option_value_that_means_nothing_stops_the_command_before_it_runs(tmp_path, capfd, option, says):
    """A value out of an option's range is refused as a wrong type is, exit 2,
    naming the option, before anything is read or written; the ends of each
    range are taken."""
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:
        main(["run", "--input", SEEDS, "--output", str(out), option])
    assert e.value.code == 2 and f"argument {option.split('=')[0]}: {says}" in capfd.readouterr().err
    assert not out.exists()
    with pytest.raises(SystemExit) as e:
        main(["stream", "--feeds", "f.xml", "--output", str(out), "--poll-interval", "0"])
    assert e.value.code == 2 and "argument --poll-interval: 0 is not over 0" in capfd.readouterr().err


def test_the_ends_of_each_options_range_are_taken(tmp_path):
    """A value at an end of its option's range runs: at ``--mt-threshold 0``
    every English article is flagged."""
    assert main(["run", "--input", SEEDS, "--output", str(tmp_path / "o"), "--quiet", "--mt-threshold=0",
                 "--min-words=0", "--progress-seconds=0", "--story-threshold=1", "--dup-threshold=1",
                 "--fetch-retries=0", "--union-find-max-edges=0"]) == 0
    rows = read_table(str(tmp_path / "o"), "articles")
    assert len(rows) == 5 and all(r["is_machine_translated"] for r in rows)  # every score reaches 0


def test_progress_lines_on_stderr_and_quiet_silences_them(tmp_path, capfd):
    """A long run says how far it has got on stderr; --quiet says nothing."""
    main(["run", "--input", SEEDS, "--output", str(tmp_path / "loud"), "--progress-seconds", "0.000001"])
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("newsbeam: ") and "documents extracted" in line]
    assert lines and "/s" in lines[-1] and "rejected" in lines[-1]
    assert lines[-1].startswith("newsbeam: 5 documents extracted")  # the bundle's end shows the last ones
    assert main(["run", "--input", SEEDS, "--output", str(tmp_path / "quiet"), "--quiet",
                 "--progress-seconds", "0.000001"]) == 0
    captured = capfd.readouterr()
    assert "newsbeam: " not in captured.err and captured.out == ""


def test_several_workers_show_one_progress_line_for_the_run(tmp_path, capfd):
    """Two local workers leave their counts in the staging folder and the
    launcher prints the run's line from them: no worker's own half-count
    line, a total that never passes what was read, and nothing of it left
    in the output once the run has committed."""
    flags = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    out = str(tmp_path / "out")
    assert main(["run", "--input", SEEDS, "--output", out, "--progress-seconds", "0.000001"] + flags) == 0
    lines = [line for line in capfd.readouterr().err.splitlines() if "documents extracted" in line]
    assert lines and all(line.startswith("newsbeam: ") and line.endswith("(2 workers)") for line in lines), lines
    counts = [int(line.split()[1]) for line in lines]
    assert counts == sorted(counts) and 0 < counts[-1] <= 5
    assert not glob.glob(os.path.join(out, "**", "_progress"), recursive=True)


def test_the_run_progress_adds_up_whole_count_files_only(tmp_path):
    from pipeline.cli import RunProgress

    folder = tmp_path / "_progress"
    progress = RunProgress(str(folder), 5.0, 2)
    assert progress.counts() == (0, 0)  # no worker has written yet
    folder.mkdir()
    (folder / "11-a.json").write_text('{"n": 7, "rejected": 1}')
    (folder / "12-b.json").write_text('{"n": 5, "rejected": 0}')
    (folder / "12-c.json.tmp").write_text('{"n": 99')  # being written: not read
    assert progress.counts() == (12, 1)


def test_the_run_progress_never_counts_back_while_the_commit_removes_its_files(tmp_path, capfd):
    """CI once printed 1, 4, 5, 3: the commit had removed one worker's file
    of the staging folder and the other's was added up alone."""
    from pipeline.cli import RunProgress

    folder = tmp_path / "_progress"
    folder.mkdir()
    progress = RunProgress(str(folder), 5.0, 2)
    (folder / "11-a.json").write_text('{"n": 3, "rejected": 0}')
    (folder / "12-b.json").write_text('{"n": 2, "rejected": 1}')
    assert progress.show(0) == 5
    (folder / "11-a.json").unlink()
    assert progress.show(5) == 5  # 2 left: not shown
    (folder / "12-b.json").write_text('{"n": 4, "rejected": 1}')
    assert progress.show(5) == 5
    (folder / "11-a.json").write_text('{"n": 3, "rejected": 0}')
    assert progress.show(5) == 7
    lines = [line for line in capfd.readouterr().err.splitlines() if "documents extracted" in line]
    assert [int(line.split()[1]) for line in lines] == [5, 7], lines
    assert lines[0].endswith("1 rejected (2 workers)")


def test_a_worker_shows_its_last_counts_when_its_bundle_ends(tmp_path, capfd, monkeypatch):
    """Counts are shown at most every so often; the documents of the last
    interval are shown when the bundle ends, as a line or in the worker's
    file, once a count has been shown at all (a short run shows none)."""
    import json

    from transforms.extract import _Progress

    quiet = _Progress(3600.0)
    for _ in range(3):
        quiet.tick()
    quiet.flush()
    assert "documents extracted" not in capfd.readouterr().err  # nothing shown yet: nothing owed
    line = _Progress(1e-9)
    line.tick()
    line.every = 3600.0  # the next ticks come before the next line is due
    line.tick(rejected=True)
    line.tick()
    line.flush()
    line.flush()  # nothing new: no second line
    counts = [int(x.split()[1]) for x in capfd.readouterr().err.splitlines() if "documents extracted" in x]
    assert counts == [1, 3]
    folder = tmp_path / "_progress"
    counted = _Progress(1e-9, str(folder))
    counted.tick()
    counted.every = 3600.0
    monkeypatch.setattr("transforms.extract.PROGRESS_FILE_SECONDS", 3600.0)
    counted.tick(rejected=True)
    (written,) = folder.glob("*.json")
    assert json.loads(written.read_text()) == {"n": 1, "rejected": 0}
    counted.flush()
    assert json.loads(written.read_text()) == {"n": 2, "rejected": 1}


def test_a_long_runs_last_progress_line_counts_every_document(tmp_path, capfd):
    import json

    path = tmp_path / "many.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i in range(1500):
            f.write(json.dumps({"text": f"Report {i}. The council met on Tuesday to vote on the budget for {i} "
                                        "schools, and the mayor said the plan would pass next week."}) + "\n")
    assert main(["run", "--input", str(path), "--output", str(tmp_path / "out"), "--progress-seconds", "0.05"]) == 0
    lines = [line for line in capfd.readouterr().err.splitlines() if "documents extracted" in line]
    assert lines and lines[-1].startswith("newsbeam: 1500 documents extracted"), lines


def test_a_step_that_runs_long_says_what_it_is_doing():
    import io
    import threading

    from transforms.extract import notice_if_slow

    class Out(io.StringIO):
        def __init__(self):
            super().__init__()
            self.written = threading.Event()

        def write(self, s):
            self.written.set()
            return super().write(s)

    slow = Out()
    with notice_if_slow(0.01, "newsbeam: finding near-duplicates and stories among 7 articles", slow):
        assert slow.written.wait(30)  # still running after 0.01 s: the line comes
    assert slow.getvalue() == "newsbeam: finding near-duplicates and stories among 7 articles\n"
    fast, off = Out(), Out()
    with notice_if_slow(3600.0, "never", fast):
        pass
    with notice_if_slow(0, "never", off):
        time.sleep(0.05)
    time.sleep(0.05)
    assert fast.getvalue() == off.getvalue() == ""


def test_two_worker_run_keeps_beams_worker_logging_out_of_the_way(tmp_path, capfd):
    """Workers start through pipeline/worker.py and print errors only (their
    start-up warnings, "apitools not found", every pipeline option they could
    not parse, were 8 lines before the summary, and dozens before that at
    INFO); --verbose brings Beam's logging back."""
    flags = ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    assert main(["run", "--input", SEEDS, "--output", str(tmp_path / "out")] + flags) == 0
    err = capfd.readouterr().err
    assert not [line for line in err.splitlines() if line.startswith(("WARNING:", "INFO:"))], err
    assert "apitools" not in err and "unparseable" not in err, err
    assert main(["run", "--input", SEEDS, "--output", str(tmp_path / "out2"), "--verbose"] + flags) == 0
    err = capfd.readouterr().err
    assert "Logging handler created" in err, err


def test_the_command_exits_at_once_with_its_code_and_everything_written(tmp_path):
    """``python -m pipeline`` (the ``newsbeam`` command's entry) skips the
    interpreter's teardown: its summary still reaches a pipe, the run is
    committed, and a failed run still exits non-zero."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    out = str(tmp_path / "out")
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", SEEDS, "--output", out], cwd=root,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "articles written    5" in done.stdout
    assert len(read_table(out, "articles")) == 5 and manifest(out)["run_id"] in done.stdout
    bad = str(tmp_path / "not-a-folder")
    open(bad, "w").write("x")
    failed = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", SEEDS, "--output", bad, "--quiet"],
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 2 and "cannot write into --output" in failed.stderr


def test_a_summary_nobody_reads_does_not_fail_a_committed_run(tmp_path):
    """``newsbeam run ... | head -1``, or a scheduler that closes the pipe: the
    run committed, then its summary met a closed pipe, and it said "failed,
    nothing committed" (BrokenPipeError) and exited 1."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = str(tmp_path / "out")
    proc = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--input", SEEDS, "--output", out], cwd=root,
                            env={**os.environ, "PYTHONPATH": root}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader has gone before the summary is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 0, err[-2000:]
    assert "failed" not in err and "Traceback" not in err
    assert len(read_table(out, "articles")) == 5


def test_a_summary_the_terminal_cannot_spell_does_not_fail_a_committed_run(tmp_path):
    """An output encoding without a path's letters (``PYTHONIOENCODING``, a
    legacy locale) and an output folder named in Cyrillic: the summary
    raised UnicodeEncodeError after the run had committed, which said
    "failed, nothing committed" and exited 1. The letters are escaped."""
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = str(tmp_path / "вывод")
    done = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", SEEDS, "--output", out], cwd=root,
                          env={**os.environ, "PYTHONPATH": root, "PYTHONIOENCODING": "ascii"}, capture_output=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr.decode("ascii", "replace")[-2000:]
    assert b"\\u0432\\u044b\\u0432\\u043e\\u0434" in done.stdout and b"failed" not in done.stderr
    assert len(read_table(out, "articles")) == 5


@pytest.mark.parametrize("shape", ["files", "files and feeds", "graph grouping", "second run"])
def test_every_shape_of_the_graph_passes_beams_type_check(shape, tmp_path, seeds_out):
    """`newsbeam run` builds with Beam's construction-time type check off (it
    costs 0.4 s a run); the graph it builds passes it, in every shape."""
    import datetime as dt

    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

    from pipeline.assemble import build

    args = {"files": ["--input", SEEDS, "--output", str(tmp_path)],
            "files and feeds": ["--input", SEEDS, "--feeds", "https://example.com/feed.xml", "--output", str(tmp_path)],
            "graph grouping": ["--input", SEEDS, "--union-find-max-edges", "1000", "--output", str(tmp_path)],
            "second run": ["--input", SEEDS, "--output", seeds_out]}[shape]
    options = PipelineOptions(args)
    assert options.view_as(TypeOptions).pipeline_type_check
    p = beam.Pipeline(options=options)
    try:
        build(p, options, dt.datetime.now(dt.timezone.utc))
        assert ("Feeds" in p.applied_labels) == (shape == "files and feeds")
    finally:  # a pipeline that is never run keeps the folder Beam made for it (/tmp/beam-pipeline-temp*)
        shutil.rmtree(p.local_tempdir, ignore_errors=True)


def test_an_output_that_cannot_be_a_folder_is_said_in_a_line(tmp_path, capsys):
    """``--output`` naming a file (or a path under one): exit 2 and one line
    saying so, no traceback, nothing read."""
    from pipeline.cli import main

    (tmp_path / "taken").write_text("a file")
    for out in (tmp_path / "taken", tmp_path / "taken" / "sub"):
        assert main(["run", "--output", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"newsbeam run: cannot write into --output {out}: ") and "Traceback" not in err, err


def test_a_home_folder_written_after_an_equals_sign_is_the_home_folder(tmp_path, monkeypatch, seeds_dir):
    """``newsbeam run --output=~/news`` (a cron line): the shell leaves ``~``
    after ``=`` as it is, and the run wrote into a folder named ``~`` under
    the working directory."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(work)
    os.symlink(seeds_dir, home / "seeds")
    assert main(["run", "--input=~/seeds", "--output=~/news", "--quiet"]) == 0
    assert len(read_table(home / "news", "articles")) == 5
    assert not (work / "~").exists()


def test_a_short_text_is_an_article_unless_min_words_asks_for_more(tmp_path):
    """By default any text with a word is written (with its word_count), as
    trafilatura returns it; ``--min-words N`` rejects shorter texts as
    too_short, counted in the manifest."""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "note.html").write_text("<html><body><article><p>Test</p></article></body></html>")
    (folder / "brief.txt").write_text("Polls close at eight tonight.\n")
    out = str(tmp_path / "out")
    m = run(["--input", str(folder), "--output", out], quiet=True)
    arts = {os.path.basename(r["source"]): (r["text"], r["word_count"]) for r in read_table(out, "articles")}
    assert arts == {"note.html": ("Test", 1), "brief.txt": ("Polls close at eight tonight.", 5)}
    assert m["counts"]["rejected"] == 0
    out10 = str(tmp_path / "out10")
    m = run(["--input", str(folder), "--output", out10, "--min-words", "10"], quiet=True)
    rejs = {os.path.basename(r["source"]): r["reason"] for r in read_table(out10, "rejects")}
    assert rejs == {"note.html": "too_short", "brief.txt": "too_short"}
    assert m["counts"]["rejected"] == 2 and m["counts"]["articles_written"] == 0


def test_a_text_file_of_urls_given_as_input_says_to_give_it_with_feeds(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "urls.txt").write_text("https://example.com/a\nhttps://example.com/b\n")
    out = str(tmp_path / "out")
    run(["--input", str(folder), "--output", out], quiet=True)
    (rej,) = read_table(out, "rejects")
    assert rej["reason"] == "no_article" and "a list of 2 URLs, give it with --feeds" in rej["error"]


def test_a_run_started_in_a_folder_with_its_own_transforms_package(tmp_path, monkeypatch):
    """The extraction and Parquet children are fresh interpreters; started
    with ``python -m`` they put the current folder first on their path, and
    a user's project with a ``transforms`` folder of its own (a common name)
    made every HTML page ``extract/crashed`` and every Parquet file a
    ``bad_parquet`` reject; a module of the project named as one of the
    standard library's is not read by them either."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hostile import ARTICLE_EN, page

    project = tmp_path / "project"
    (project / "transforms").mkdir(parents=True)
    (project / "transforms" / "__init__.py").write_text("")
    for name in ("sandbox", "parquet_records"):
        (project / "transforms" / f"{name}.py").write_text("import sys\nsys.exit('the project's own module')\n")
    (project / "json.py").write_text("raise SystemExit('the project's own json')\n")  # shadows nothing either
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "a.html").write_text(page(ARTICLE_EN), encoding="utf-8")
    pq.write_table(pa.table({"title": ["Parquet row"], "text": [ARTICLE_EN.replace("budget", "bridge")]}),
                   inputs / "b.parquet")
    monkeypatch.chdir(project)
    m = run(["--input", str(inputs), "--output", str(tmp_path / "out"), "--no-fetch"], quiet=True)
    assert read_table(tmp_path / "out", "rejects") == []
    assert sorted(a["source_format"] for a in read_table(tmp_path / "out", "articles")) == ["html", "parquet"]
    assert m["counts"]["rejected"] == 0


def test_version_and_help_name_what_is_read(capsys):
    from pipeline.version import __version__

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.strip() == f"newsbeam {__version__}"
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert all(kind in said for kind in ("CSV", "Parquet", "WARC", "zip and tar"))


@pytest.mark.parametrize("raised", [KeyboardInterrupt(), RuntimeError("KeyboardInterrupt [while running 'Files/Extract']")])
def test_ctrl_c_is_one_line_and_exit_130(raised, monkeypatch, capsys):
    """Ctrl-C inside a step reaches the CLI as Beam's RuntimeError with a
    page of traceback (Beam's own log of it, and each extraction child's);
    outside one, as KeyboardInterrupt, which printed a traceback and no word
    of what was committed. Now one line and the shell's exit code for it.
    (A real Ctrl-C on a run of the 980 extraction pages, by hand: 130, that
    line only, no child left.)"""
    import pipeline.cli as cli

    def interrupted(*a, **k):
        raise raised

    monkeypatch.setattr(cli, "run", interrupted)
    assert cli.main(["run", "--input", SEEDS, "--output", "unused"]) == 130
    err = capsys.readouterr().err
    assert err.strip() == cli.INTERRUPTED and "Traceback" not in err
