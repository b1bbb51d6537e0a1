"""`newsbeam stream`: one committed shard per window, clean stop on SIGTERM."""
import glob
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


def test_max_polls_writes_one_shard_per_window(tmp_path):
    out = str(tmp_path / "out")
    with FeedServer() as srv:
        srv.feeds["/news.xml"] = [(f"Story {i}", f"/articles/{i}.html") for i in range(40, 43)]

        def add_entry():
            time.sleep(1.4)
            srv.feeds["/news.xml"].append(("Story 50", "/articles/50.html"))

        threading.Thread(target=add_entry, daemon=True).start()
        assert main(["stream", "--feeds", srv.base + "/news.xml", "--output", out, "--poll-interval", "1",
                     "--max-polls", "3"] + FLAGS) == 0
        feed_requests = srv.requests["/news.xml"]
    shards = sorted(glob.glob(os.path.join(out, "articles", "*", "*.parquet")))
    runs = sorted(glob.glob(os.path.join(out, "runs", "*.json")))
    windows = [os.path.basename(s).split("-")[1] for s in shards]
    assert len(windows) == len(set(windows)) == 2, shards  # one shard for each window that had news
    assert len(runs) == 2 and feed_requests == 3
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
