"""`newsbeam stream`: one committed shard per window, clean stop on SIGTERM."""
import glob
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pyarrow.parquet as pq

from conftest import ROOT, read_table
from feedserver import FeedServer
from pipeline.cli import main

FLAGS = ["--allow-private-hosts", "--min-host-interval", "0", "--fetch-timeout", "2"]


def _visible_files(out):
    return [f for f in glob.glob(os.path.join(out, "**", "*"), recursive=True) if os.path.isfile(f)]


def _three_polls(out: str, first: list[int], late: int) -> int:
    """``newsbeam stream`` polling a feed of articles ``first`` three times, a
    second apart; article ``late`` joins the feed after the first poll.
    Returns how many times the feed was asked for."""
    with FeedServer() as srv:
        srv.feeds["/news.xml"] = [(f"Story {i}", f"/articles/{i}.html") for i in first]

        def add_entry():  # once the first poll has read the feed, however late the stream started
            deadline = time.monotonic() + 120
            while srv.requests["/news.xml"] < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.3)  # its answer sent; the next poll is at least a second after it
            srv.feeds["/news.xml"].append((f"Story {late}", f"/articles/{late}.html"))

        threading.Thread(target=add_entry, daemon=True).start()
        assert main(["stream", "--feeds", srv.base + "/news.xml", "--output", out, "--poll-interval", "1",
                     "--max-polls", "3"] + FLAGS) == 0
        return srv.requests["/news.xml"]


def test_max_polls_writes_one_shard_per_window(tmp_path):
    out = str(tmp_path / "out")
    feed_requests = _three_polls(out, list(range(40, 43)), 50)
    shards = sorted(glob.glob(os.path.join(out, "articles", "*", "*.parquet")))
    runs = sorted(glob.glob(os.path.join(out, "runs", "*.json")))
    windows = [os.path.basename(s).split("-")[1] for s in shards]
    assert len(windows) == len(set(windows)) == 2, shards  # one shard for each window that had news
    assert len(runs) == 2 and feed_requests == 3
    notes = [json.load(open(r))["counts"]["notes"] for r in runs]
    assert not any("feed_malformed_but_used" in n for n in notes), notes  # the spooled feeds are valid
    assert sorted(r["url"].rsplit("/", 1)[1] for r in read_table(out, "articles")) == [
        "40.html", "41.html", "42.html", "50.html"]
    assert not os.listdir(os.path.join(out, "_spool"))


def test_sigterm_finishes_the_window_and_leaves_no_partial_file(tmp_path):
    out = str(tmp_path / "out")
    with FeedServer() as srv:
        srv.feeds["/news.xml"] = [(f"Story {i}", f"/articles/{i}.html") for i in range(60, 64)]
        proc = subprocess.Popen([sys.executable, "-m", "pipeline", "stream", "--feeds", srv.base + "/news.xml",
                                 "--output", out, "--poll-interval", "30"] + FLAGS, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while srv.requests["/news.xml"] == 0 and time.time() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        try:
            output, _ = proc.communicate(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, output.decode()[-2000:]
    for f in _visible_files(out):
        name = os.path.basename(f)
        assert not name.endswith(".tmp") and "_staging" not in f and "_spool" not in f, f
        if name.endswith(".parquet"):
            pq.read_table(f)  # complete, with its footer
    assert len(read_table(out, "articles")) == 4


def test_a_window_whose_run_fails_is_kept_and_committed_later(tmp_path, monkeypatch, caplog):
    """The first window's run fails (a full disk): the driver logs it in one
    line, keeps polling, and commits that window when the next one closes."""
    import pipeline.cli

    real, calls = pipeline.cli.run, []

    def full_once(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise RuntimeError("OSError: [Errno 28] No space left on device [while running 'Files/StageRows']")
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline.cli, "run", full_once)
    out = str(tmp_path / "out")
    _three_polls(out, list(range(70, 73)), 75)
    assert len(calls) >= 3  # failed, then the kept window and the last one committed
    assert any("not committed, kept in" in r.getMessage() and "No space left on device" in r.getMessage()
               for r in caplog.records)
    assert sorted(r["url"].rsplit("/", 1)[1] for r in read_table(out, "articles")) == [
        "70.html", "71.html", "72.html", "75.html"]
    assert not os.listdir(os.path.join(out, "_spool"))


def test_a_window_that_cannot_be_committed_by_the_stop_is_kept_and_said(tmp_path, monkeypatch, capsys):
    import pipeline.cli

    def always_full(*args, **kwargs):
        raise RuntimeError("OSError: [Errno 28] No space left on device")

    monkeypatch.setattr(pipeline.cli, "run", always_full)
    out = str(tmp_path / "out")
    with FeedServer() as srv:
        srv.feeds["/news.xml"] = [("Story 80", "/articles/80.html")]
        assert main(["stream", "--feeds", srv.base + "/news.xml", "--output", out, "--poll-interval", "1",
                     "--max-polls", "1"] + FLAGS) == 1
    assert "1 window(s) not committed" in capsys.readouterr().err
    assert len(os.listdir(os.path.join(out, "_spool"))) == 1  # the next start commits it


def test_a_second_driver_into_the_same_output_is_refused(tmp_path, capsys):
    """Two drivers would share one spool and feed state (each committing
    the other's open window): the second is refused while the first runs."""
    out = str(tmp_path / "out")
    with FeedServer() as srv:
        srv.feeds["/news.xml"] = [("Story 90", "/articles/90.html")]
        args = ["stream", "--feeds", srv.base + "/news.xml", "--output", out, "--poll-interval", "30"] + FLAGS
        proc = subprocess.Popen([sys.executable, "-m", "pipeline"] + args, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while srv.requests["/news.xml"] == 0 and time.time() < deadline:
                time.sleep(0.1)
            assert main(args + ["--max-polls", "1"]) == 2  # before: it polled and committed beside the first
            assert "another `newsbeam stream` is running into" in capsys.readouterr().err
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=90)
    assert proc.returncode == 0, output.decode()[-2000:]
    assert [r["url"].rsplit("/", 1)[1] for r in read_table(out, "articles")] == ["90.html"]


def test_a_poll_stops_asking_a_site_whose_feeds_do_not_answer(tmp_path, caplog):
    """Five feeds of one site that does not answer: a poll asks three, and
    leaves the other two for the next poll (each would cost a timeout)."""
    out = str(tmp_path / "out")
    with FeedServer() as srv:
        args = ["stream", "--output", out, "--poll-interval", "1", "--max-polls", "1", "--fetch-retries", "0",
                "--fetch-timeout", "1", "--allow-private-hosts", "--min-host-interval", "0"]
        for i in range(5):
            args += ["--feeds", f"{srv.base}/slow/section{i}.xml"]
        assert main(args) == 0
        asked = sum(n for p, n in srv.requests.items() if p.startswith("/slow/"))
    assert asked == 3
    assert any("gave no answer 3 times in a row" in r.getMessage() for r in caplog.records)
