"""Faults during a run: SIGKILL at random moments and inside the commit, then
a rerun into the same output gives exactly one clean run's rows
(tests/faults.py; benchmarks/fuzz.py --kills runs many more)."""
import glob
import json
import os
import random
import shutil
import time

import pytest

from conftest import SEEDS
from faults import differences, kill_in_commit, rerun, rows, trial
from fuzz import write_cases
from pipeline.cli import main
from transforms.write import COMMIT_JOURNAL, recover_commits


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Seeds, generated files of every kind (some damaged), and one clean run of them."""
    base = tmp_path_factory.mktemp("faults")
    folder = str(base / "in")
    write_cases(folder, random.Random(5), per_kind=2)
    for name in os.listdir(SEEDS):
        shutil.copy(os.path.join(SEEDS, name), folder)
    clean = str(base / "clean")
    t = time.perf_counter()
    assert rerun(folder, clean) == 0
    return folder, rows(clean), time.perf_counter() - t, base


@pytest.mark.slow
def test_killed_inside_the_commit_then_rerun_equals_one_clean_run(corpus):
    folder, reference, _, base = corpus
    for after in (0, 2):
        out = str(base / f"commit{after}")
        assert kill_in_commit(folder, out, after) != 0  # it did die
        staged = [d for d in os.listdir(os.path.join(out, "_staging"))]
        assert staged and os.path.exists(os.path.join(out, "_staging", staged[0], COMMIT_JOURNAL))
        assert rerun(folder, out) == 0
        assert differences(reference, out) == []
        manifests = sorted(os.listdir(os.path.join(out, "runs")))
        assert len(manifests) == 2  # the killed run's commit was finished, then the rerun added nothing
        second = json.load(open(os.path.join(out, "runs", manifests[1])))
        assert staged[0] in second["recovered_commits"] or staged[0] + ".json" == manifests[0]
        assert second["counts"]["articles_written"] == 0


@pytest.mark.slow
def test_killed_at_random_moments_then_rerun_equals_one_clean_run(corpus):
    folder, reference, clean_seconds, base = corpus
    rnd = random.Random(11)
    for i in range(3):
        out = str(base / f"timer{i}")
        assert trial(folder, out, reference, "timer", rnd, clean_seconds) == []


def test_recover_commits_finishes_a_journal_and_leaves_other_staging_alone(tmp_path):
    out = str(tmp_path)
    staging = os.path.join(out, "_staging", "r1")
    os.makedirs(os.path.join(staging, "articles", "p"))
    os.makedirs(os.path.join(out, "_staging", "r2"))  # a run that died before its commit
    for name in ("a.parquet", "b.parquet"):
        open(os.path.join(staging, "articles", "p", name), "w").write(name)
    os.makedirs(os.path.join(out, "articles", "p"))
    os.rename(os.path.join(staging, "articles", "p", "a.parquet"), os.path.join(out, "articles", "p", "a.parquet"))
    journal = {"run_id": "r1", "files": ["articles/p/a.parquet", "articles/p/b.parquet"], "counts": {}}
    open(os.path.join(staging, COMMIT_JOURNAL), "w").write(json.dumps(journal))
    assert recover_commits(out) == ["r1"]
    assert sorted(os.listdir(os.path.join(out, "articles", "p"))) == ["a.parquet", "b.parquet"]
    assert json.load(open(os.path.join(out, "runs", "r1.json")))["files"] == journal["files"]
    assert os.listdir(os.path.join(out, "_staging")) == ["r2"]
    assert recover_commits(out) == []


def test_an_unsupported_runner_is_refused_before_the_run(tmp_path, capsys):
    out = str(tmp_path / "out")
    code = main(["run", "--output", out, "--runner=apache_beam.runners.dask.dask_runner.DaskRunner"])
    assert code == 2 and not os.path.exists(out)
    assert "not supported" in capsys.readouterr().err


def test_a_run_that_fails_exits_non_zero_and_says_why(tmp_path, capsys):
    """An index written with another MinHash scheme stops the run inside the
    pipeline: nothing is committed, the exit code is 1, stderr says why."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from transforms.records import ARTICLE_INDEX_SCHEMA

    out = str(tmp_path / "out")
    os.makedirs(os.path.join(out, "index", "articles"))
    row = {f.name: None for f in ARTICLE_INDEX_SCHEMA}
    row.update(doc_id="x", sig_scheme="another/scheme", terms="[]", n=0, length=1)
    pq.write_table(pa.Table.from_pylist([row], schema=ARTICLE_INDEX_SCHEMA),
                   os.path.join(out, "index", "articles", "old.parquet"))
    assert main(["run", "--output", out]) == 1
    assert "nothing committed" in capsys.readouterr().err
    assert not os.path.exists(os.path.join(out, "runs"))


def test_a_full_disk_fails_the_run_in_one_line_and_frees_its_staged_files(tmp_path, capsys, monkeypatch):
    """The disk fills after the first staged file: exit 1, one line naming the
    cause (no traceback), the run's staged files removed (they would keep the
    disk full), nothing committed; once there is room, a run writes all."""
    import errno

    import transforms.write as write

    real, calls = write.write_table, []

    def full_after_one(path, *args, **kwargs):
        calls.append(path)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(path, *args, **kwargs)

    monkeypatch.setattr(write, "write_table", full_after_one)
    out = tmp_path / "out"
    assert main(["run", "--output", str(out)]) == 1
    err = capsys.readouterr().err
    assert "failed: No space left on device (in step " in err and "Traceback" not in err
    assert "removed this run's uncommitted files" in err and "_staging" in calls[0]
    assert os.listdir(out / "_staging") == [] and not (out / "runs").exists()
    monkeypatch.undo()
    assert main(["run", "--output", str(out), "--quiet"]) == 0
    assert len(glob.glob(str(out / "runs" / "*.json"))) == 1


def test_staging_of_a_run_that_died_before_its_commit_is_removed_by_the_next(tmp_path, capsys):
    out = tmp_path / "out"
    dead = out / "_staging" / "20240101T000000000000Z" / "rows"
    dead.mkdir(parents=True)
    (dead / "a.parquet").write_bytes(b"x" * 200_000)
    assert main(["run", "--output", str(out)]) == 0
    assert "removed " + str(dead.parent) + " (0.2 MB), left by a run that did not commit" in capsys.readouterr().err
    assert os.listdir(out / "_staging") == []
