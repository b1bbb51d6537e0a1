"""Kill a run and run it again (used by tests/test_faults.py and benchmarks/fuzz.py).

A run is started as a child process in its own session, killed with SIGKILL
(with its extraction child) at a chosen moment, then run again into the same
output to completion. The output must equal one clean run's: the same
article and reject rows (``run_id``, ``ingested_at`` aside), none twice,
none missing, and nothing where readers look that is not a committed shard.

``kill_in_commit`` kills the run from inside, after ``after`` of its shards
were moved into place: the moment between the first and the last move that a
timer seldom hits.
"""
from __future__ import annotations

import glob
import os
import random
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_TESTS = os.path.dirname(os.path.abspath(__file__))

# Runs pipeline.cli.main in a child whose commit kills its own process group
# after AFTER shards were moved (FileSystems.rename, one shard at a time).
_KILL_IN_COMMIT = """
import os, signal, sys
from apache_beam.io.filesystems import FileSystems
after = int(sys.argv[1])
moved = [0]
rename = FileSystems.rename
def one_at_a_time(src, dst):
    for s, d in zip(src, dst):
        if moved[0] >= after and "_staging" in s and "manifest" not in s and "_commit" not in s:
            os.killpg(0, signal.SIGKILL)
        rename([s], [d])
        if "_staging" in s:
            moved[0] += 1
FileSystems.rename = staticmethod(one_at_a_time)
from pipeline.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (ROOT, env.get("PYTHONPATH")) if p)
    return env


def run_args(folder: str, out: str) -> list[str]:
    return ["run", "--input", folder, "--output", out, "--no-fetch", "--quiet"]


def kill_after(folder: str, out: str, seconds: float) -> int:
    """Start a run, SIGKILL it and its children after ``seconds``; its exit code (or -9)."""
    proc = subprocess.Popen([sys.executable, "-m", "pipeline"] + run_args(folder, out), cwd=ROOT, env=_env(),
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return proc.wait(seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()


def kill_in_commit(folder: str, out: str, after: int) -> int:
    proc = subprocess.Popen([sys.executable, "-c", _KILL_IN_COMMIT, str(after)] + run_args(folder, out),
                            cwd=ROOT, env=_env(), start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    return proc.wait()


def rerun(folder: str, out: str) -> int:
    return subprocess.run([sys.executable, "-m", "pipeline"] + run_args(folder, out), cwd=ROOT, env=_env(),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE).returncode


def rows(out: str) -> tuple[list, list]:
    """Article and reject rows without the per-run columns, sorted."""
    sys.path.insert(0, _TESTS)
    from conftest import read_table

    drop = ("ingested_at", "run_id", "ingest_date")

    def key(r):
        return tuple(sorted((k, repr(v)) for k, v in r.items() if k not in drop))

    return (sorted(key(r) for r in read_table(out, "articles")),
            sorted(key(r) for r in read_table(out, "rejects")))


def debris(out: str) -> list[str]:
    """Files where readers look (articles/, rejects/) that are not committed shards."""
    bad = []
    for table in ("articles", "rejects"):
        for f in glob.glob(os.path.join(out, table, "**", "*"), recursive=True):
            if os.path.isfile(f) and (os.path.basename(f).startswith((".", "_")) or not f.endswith(".parquet")):
                bad.append(f)
    return bad


def differences(reference: tuple[list, list], out: str) -> list[str]:
    got = rows(out)
    problems = []
    for name, want, have in (("articles", reference[0], got[0]), ("rejects", reference[1], got[1])):
        if have != want:
            extra = len([r for r in have if r not in want]) + max(0, len(have) - len(set(have)))
            missing = len([r for r in want if r not in have])
            problems.append(f"{name}: {len(have)} rows against {len(want)} ({missing} missing, {extra} extra)")
    problems += [f"debris where readers look: {f}" for f in debris(out)]
    return problems


def trial(folder: str, out: str, reference, how: str, rnd: random.Random, clean_seconds: float) -> list[str]:
    """One kill (``how``: 'timer' or 'commit') and a rerun; the differences from the clean run."""
    if how == "timer":
        kill_after(folder, out, rnd.uniform(0.2, clean_seconds * 1.1))
    else:
        kill_in_commit(folder, out, rnd.randint(0, 6))
    code = rerun(folder, out)
    if code:
        return [f"the rerun exited {code}"]
    return differences(reference, out)
