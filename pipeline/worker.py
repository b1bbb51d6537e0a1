"""Beam's SDK worker, as newsbeam's local multi-process runs start it.

The multi-process FnApiRunner starts ``python -m
apache_beam.runners.worker.sdk_worker_main`` per worker, and each prints
Beam's own start-up logging on the user's terminal ("apitools not found",
"Logging handler created", "No semi_persistent_directory found", every
pipeline option it could not parse). This entry point is the same worker
with its terminal output cut to errors; ``newsbeam run --verbose`` starts it
with ``--verbose``, which leaves Beam's logging as it is. What the worker
logs still reaches the runner's logging service either way.

Usage (by ``pipeline.runner``): python pipeline/worker.py [--verbose]
"""
from __future__ import annotations

import logging
import os
import sys


class _ErrorsOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR


def quiet_terminal() -> None:
    """A stderr handler on the root logger that passes errors only, set up
    before Beam logs anything (Beam's own set-up then finds a handler and
    adds none)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_ErrorsOnly())
    handler.setFormatter(logging.Formatter("%(levelname)s:%(name)s:%(message)s"))
    logging.getLogger().addHandler(handler)


def main(argv: list[str]) -> None:
    if "--verbose" not in argv[1:]:
        quiet_terminal()
    # started as a file, Python put this folder first on the path, where
    # options.py or version.py would shadow other packages' modules; the
    # project root instead, so the DoFns it unpickles import as in the launcher
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    root = os.path.dirname(here)
    if root not in sys.path:
        sys.path.insert(0, root)
    from apache_beam.runners.worker import sdk_worker_main

    from pipeline.runner import remember_signatures

    remember_signatures()  # each stage the worker runs asks Beam for its DoFns' signatures again
    sdk_worker_main.main(argv)
    exit_at_once()


def exit_at_once() -> None:
    """The end of a worker whose harness has returned: the runner said there is
    no more work, and every bundle's output has gone to it. The runner stops
    its workers one after the other, each waiting for the last to exit, and
    tearing down an interpreter that holds a run's objects took ~0.5 s a
    worker, on the run's wall time. Exit handlers run and output is flushed;
    only the freeing of objects is skipped (as ``pipeline.cli.console_main``
    does for the launcher). Under a profiler or a tracer it returns, for them
    to write what they measured."""
    import atexit

    if sys.getprofile() is not None or sys.gettrace() is not None:
        return
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(0)


if __name__ == "__main__":
    main(sys.argv)
