"""Near-duplicates and stories across scheduled runs into one output."""
import os

from conftest import SEEDS, manifest, read_table
from pipeline.cli import run


def _seed_text(prefix):
    (name,) = [n for n in os.listdir(SEEDS) if n.startswith(prefix)]
    return open(os.path.join(SEEDS, name), encoding="utf-8").read()


def _write(folder, files):
    os.makedirs(folder, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(folder, name), "w", encoding="utf-8") as f:
            f.write(text)
    return folder


def _runs(out):
    return sorted(os.listdir(os.path.join(out, "runs")))


def test_a_later_copy_points_at_the_earlier_canonical_and_joins_its_story(tmp_path):
    out = str(tmp_path / "out")
    mt = _seed_text("003")
    first = _write(str(tmp_path / "day1"), {"rt.txt": _seed_text("000"), "bfm.txt": mt})
    run(["--input", first, "--output", out, "--run-id", "day1"], quiet=True)
    day1 = {r["source"].rsplit("/", 1)[1]: r for r in read_table(out, "articles")}

    lead = mt[: len(mt) // 2]
    second = _write(str(tmp_path / "day2"), {
        "bfm_copy.txt": mt,                                          # an exact copy
        "bfm_teaser.txt": lead,                                      # the first half
        "bfm_edit.txt": "UPDATED: " + mt.replace("Thursday", "Friday"),  # lightly edited
        "tass.txt": _seed_text("002"),                               # same story, other outlet
    })
    run(["--input", second, "--output", out, "--run-id", "day2"], quiet=True)
    rows = {r["source"].rsplit("/", 1)[1]: r for r in read_table(out, "articles")}
    canon = day1["bfm.txt"]["doc_id"]
    for name in ("bfm_copy.txt", "bfm_teaser.txt", "bfm_edit.txt"):
        assert rows[name]["dup_cluster_id"] == canon and rows[name]["is_duplicate"], name
        assert 0.5 <= rows[name]["dup_similarity"] <= 1.0
    assert rows["bfm.txt"] == day1["bfm.txt"]  # the earlier row is not rewritten
    assert not rows["tass.txt"]["is_duplicate"] and rows["tass.txt"]["dup_cluster_id"] == rows["tass.txt"]["doc_id"]
    assert {r["story_id"] for r in rows.values()} == {day1["bfm.txt"]["story_id"]}
    assert day1["bfm.txt"]["story_id"] == day1["rt.txt"]["story_id"]


def test_a_rerun_adds_no_rows_and_counts_everything_as_already_ingested(tmp_path):
    out = str(tmp_path / "out")
    folder = _write(str(tmp_path / "in"), {"a.txt": _seed_text("001"), "empty.txt": "", "b.txt": _seed_text("004")})
    first = run(["--input", folder, "--output", out, "--run-id", "r1"], quiet=True)
    assert first["counts"]["articles_written"] == 2 and first["counts"]["rejected"] == 1
    second = run(["--input", folder, "--output", out, "--run-id", "r2"], quiet=True)
    c = second["counts"]
    assert c["articles_written"] == 0 and c["rejected"] == 0 and c["already_ingested"] == 3
    assert c["inputs_seen"] == 3 and c["unaccounted"] == 0
    assert len(read_table(out, "articles")) == 2 and len(read_table(out, "rejects")) == 1
    assert _runs(out) == ["r1.json", "r2.json"]


def test_split_runs_give_the_same_groups_as_one_run(tmp_path):
    texts = {f"s{p}.txt": _seed_text(p) for p in ("000", "001", "002", "003", "004")}
    mt = texts["s003.txt"]
    texts.update({"copy.txt": mt, "teaser.txt": mt[: len(mt) // 2], "other_copy.txt": texts["s001.txt"] + "\nEnd."})
    names = sorted(texts)
    one = str(tmp_path / "one")
    run(["--input", _write(str(tmp_path / "all"), texts), "--output", one], quiet=True)
    split = str(tmp_path / "split")
    run(["--input", _write(str(tmp_path / "h1"), {n: texts[n] for n in names[:4]}), "--output", split,
         "--run-id", "h1"], quiet=True)
    run(["--input", _write(str(tmp_path / "h2"), {n: texts[n] for n in names[4:]}), "--output", split,
         "--run-id", "h2"], quiet=True)

    def partition(out, column):
        groups = {}
        for r in read_table(out, "articles"):
            groups.setdefault(r[column], set()).add(r["source"].rsplit("/", 1)[1])
        return sorted(sorted(g) for g in groups.values())

    assert partition(one, "dup_cluster_id") == partition(split, "dup_cluster_id")
    assert partition(one, "story_id") == partition(split, "story_id") == [names]
    assert len(partition(one, "dup_cluster_id")) == 5
    assert manifest(one)["counts"]["duplicates"] == 3


def test_an_index_of_another_signature_scheme_is_refused_not_compared():
    import pytest

    from transforms.dedup import SIGNATURE_SCHEME
    from transforms.grouping import old_record

    row = {"doc_id": "x", "sig": b"", "n": 1, "terms": "[]", "dup_cluster_id": "x", "story_id": "x"}
    assert old_record({**row, "sig_scheme": SIGNATURE_SCHEME})["old"] is True
    for scheme in (None, "rensa-minhash/126/seed=1/word5"):
        with pytest.raises(ValueError, match="older newsbeam"):
            old_record({**row, "sig_scheme": scheme})


def test_an_index_an_older_newsbeam_wrote_with_json_words_is_still_compared(tmp_path):
    """Before 2026-12-02 the index held story terms as JSON text of words; an
    output with such an index (and a newer run's packed one beside it) still
    finds yesterday's copy and joins its story."""
    import json
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from transforms.dedup import SIGNATURE_SCHEME, dedup_record
    from transforms.records import ARTICLE_INDEX_SCHEMA
    from transforms.stories import term_vector

    seed = sorted(os.listdir(SEEDS))[0]
    text = open(os.path.join(SEEDS, seed), encoding="utf-8").read().strip()
    rec = dedup_record({"doc_id": "older-doc", "content_hash": "not-this-text", "text": text})
    older = pa.schema([f if f.name not in ("terms", "anchors") else pa.field(f.name, pa.string())
                       for f in ARTICLE_INDEX_SCHEMA])
    row = {**{f.name: None for f in older}, **rec, "sig_scheme": SIGNATURE_SCHEME, "dup_cluster_id": "older-doc",
           "story_id": "older-story", "terms": json.dumps(term_vector(text)), "anchors": None, "run_id": "old"}
    out = tmp_path / "out"
    os.makedirs(out / "index" / "articles")
    pq.write_table(pa.Table.from_pylist([row], schema=older), str(out / "index" / "articles" / "older.parquet"))
    src = tmp_path / "in"
    os.makedirs(src)
    shutil.copy(os.path.join(SEEDS, seed), src / "copy.txt")
    run(["--input", str(src), "--output", str(out)], quiet=True)
    (art,) = read_table(str(out), "articles")
    # the index row's content hash is another's: the copy is found on MinHash, the story on the words
    assert art["is_duplicate"] and art["dup_cluster_id"] == "older-doc" and art["story_id"] == "older-story"


def test_a_damaged_index_file_stops_the_next_run_naming_it(tmp_path, capfd, monkeypatch):
    """A file of OUT/index cut short (a full disk, a copy interrupted) made every
    later run fail inside a step with "Parquet magic bytes not found" and no
    file named; it is now found before the run starts, named, with what to do.
    The run stopped so leaves no empty beam-pipeline-temp folder behind in the
    machine's temporary folder (Beam removes it in run() only)."""
    import glob
    import shutil
    import tempfile

    from pipeline.cli import main

    machine_tmp = tmp_path / "tmp"
    machine_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(machine_tmp))
    out = str(tmp_path / "out")
    run(["--input", SEEDS, "--output", out], quiet=True)
    for table in ("articles", "ingested"):
        damaged = str(tmp_path / f"out-{table}")
        shutil.copytree(out, damaged)
        (path,) = glob.glob(os.path.join(damaged, "index", table, "*.parquet"))
        with open(path, "r+b") as f:
            f.truncate(200)
        assert main(["run", "--input", SEEDS, "--output", damaged]) == 1
        err = capfd.readouterr().err
        assert path in err and "is damaged" in err and "move it out" in err and "Traceback" not in err
        assert len(os.listdir(os.path.join(damaged, "runs"))) == 1  # nothing committed
        assert not glob.glob(str(machine_tmp / "beam-pipeline-temp*"))


def test_overlapping_runs_into_one_output_take_turns(tmp_path):
    """Two runs into one output at the same time (a cron job that outlasts its
    interval) each wrote the five seeds: ten rows, every doc_id twice. A run
    now waits for the output's lock, says so, and then finds the other's
    articles already ingested."""
    import fcntl
    import subprocess
    import sys
    import time

    from conftest import ROOT
    from pipeline.cli import LOCK_FILE

    cmd = [sys.executable, "-m", "pipeline", "run", "--input", SEEDS, "--quiet"]
    out = tmp_path / "held"
    out.mkdir()
    with open(out / LOCK_FILE, "a+") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)
        proc = subprocess.Popen(cmd + ["--output", str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
        said = ""
        while "waiting for it to finish" not in said:  # however slowly the run starts, it says so
            line = proc.stderr.readline()
            assert line, said  # the run ended without waiting
            said += line
        time.sleep(1)
        assert proc.poll() is None and not (out / "runs").exists()  # waiting, nothing written
    rest = proc.communicate(timeout=300)[1]
    assert proc.returncode == 0, rest
    assert len(read_table(str(out), "articles")) == 5

    both = str(tmp_path / "both")
    procs = [subprocess.Popen(cmd + ["--output", both], cwd=ROOT, stderr=subprocess.DEVNULL) for _ in range(2)]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    rows = read_table(both, "articles")
    assert len(rows) == 5 and len({r["doc_id"] for r in rows}) == 5
    import json

    counts = sorted((json.load(open(os.path.join(both, "runs", r)))["counts"] for r in _runs(both)),
                    key=lambda c: -c["articles_written"])
    assert [(c["articles_written"], c["already_ingested"]) for c in counts] == [(5, 0), (0, 5)]


def test_removing_what_a_run_wrote_as_its_manifest_lists_processes_its_inputs_again(tmp_path):
    """The README's backfill: a day's articles folder removed alone leaves the
    documents in the index (already ingested); removing the run's files, index
    parts included, makes the next run write them again."""
    import glob
    import shutil

    out = str(tmp_path / "out")
    first = run(["--input", SEEDS, "--output", out], quiet=True)
    ids = sorted(r["doc_id"] for r in read_table(out, "articles"))
    for folder in glob.glob(os.path.join(out, "articles", "ingest_date=*")):
        shutil.rmtree(folder)
    again = run(["--input", SEEDS, "--output", out], quiet=True)
    assert again["counts"]["already_ingested"] == 5 and again["counts"]["articles_written"] == 0
    assert any(rel.startswith("index/") for rel in first["files"])
    for rel in first["files"]:
        if os.path.exists(os.path.join(out, rel)):
            os.remove(os.path.join(out, rel))
    redo = run(["--input", SEEDS, "--output", out], quiet=True)
    assert redo["counts"]["articles_written"] == 5 and redo["counts"]["already_ingested"] == 0
    assert sorted(r["doc_id"] for r in read_table(out, "articles")) == ids
