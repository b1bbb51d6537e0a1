"""The ``newsbeam`` command line: ``newsbeam run``, ``newsbeam stream`` and ``newsbeam report``.

Options newsbeam does not know are Beam's own (``--runner``,
``--direct_num_workers``, ``--temp_location``, ...) and pass through.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import io
import json
import logging
import os
import re
import shutil
import sys
import time

from pipeline.version import __version__

__all__ = ["main", "run", "RunNotCommitted"]


class OutputUnusable(RuntimeError):
    """The output folder cannot be made or written: said in a line, without a traceback."""


class RunNotCommitted(RuntimeError):
    """The pipeline ended without committing its manifest."""


def _run_parser(sub) -> argparse.ArgumentParser:
    from pipeline.options import NewsbeamOptions

    p = sub.add_parser(
        "run", help="ingest files into annotated Parquet",
        description="Read news files (HTML, text dumps, JSON lines and JSON documents, CSV, Parquet, WARC and ARC, "
                    "saved feeds, MHTML; .gz .bz2 .xz .zst of any; zip and tar archives of them), extract the "
                    "article text, detect its language and write articles/ and rejects/ Parquet plus a run manifest. "
                    "With no PATH or --input, processes the bundled seed articles into ./out. Unknown options are "
                    "Beam's (--runner, --direct_running_mode, --direct_num_workers, ...).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files, folders or globs to read, the same as --input PATH for each")
    NewsbeamOptions._add_argparse_args(p)
    p.add_argument("--quiet", action="store_true", help="no progress lines and no summary at the end")
    p.add_argument("--verbose", action="store_true",
                   help="Beam's own worker logging too (INFO); by default workers log warnings and errors only")
    return p


def _stream_parser(sub) -> argparse.ArgumentParser:
    from pipeline.options import positive

    p = sub.add_parser(
        "stream", help="poll feeds continuously, one committed shard per window",
        description="Poll the feeds every --poll-interval seconds and commit what is new once per --window. "
                    "Every `newsbeam run` option applies to the window runs (--no-fetch, --allow-private-hosts, "
                    "fetch limits, Beam options). SIGINT/SIGTERM finish the current window and stop.")
    p.add_argument("--feeds", action="append", required=True, help="feed URL, feed file or OPML file; repeatable")
    p.add_argument("--output", default="out", help="output folder (local)")
    p.add_argument("--poll-interval", dest="poll_interval", type=positive(), default=300.0,
                   help="seconds between two polls of the feeds")
    p.add_argument("--window", type=positive(), default=None,
                   help="seconds of polls committed together as one run and shard (default: the poll interval)")
    p.add_argument("--max-polls", dest="max_polls", type=positive(int), default=None,
                   help="stop after N polls (for tests)")
    return p


def _report_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="summarise an output folder",
                       description="Runs, articles, rejects by reason, languages, formats and publishers of an "
                                   "output folder, read from its Parquet tables and run manifests.")
    p.add_argument("output_dir", help="the --output of earlier runs")
    p.add_argument("--html", default=None, help="also write the report as an HTML page to this file")
    return p


def report_main(args) -> int:
    from pipeline.report import collect, render_html, render_text

    try:
        r = collect(args.output_dir)
    except FileNotFoundError as e:
        print(f"newsbeam report: {e}", file=sys.stderr)
        return 2
    say(render_text(r) + "\n")
    if args.html:
        try:
            with open(args.html, "w", encoding="utf-8") as f:
                f.write(render_html(r))
        except OSError as e:  # a folder that does not exist, a folder given as the file: one line, not a traceback
            print(f"newsbeam report: cannot write --html {args.html}: {e.strerror or e}", file=sys.stderr)
            return 1
        say(f"  html                {args.html}\n")
    return 0


def stream_main(args, rest: list[str]) -> int:
    from apache_beam.options.pipeline_options import PipelineOptions

    from pipeline.assemble import fetch_settings
    from pipeline.options import NewsbeamOptions
    from pipeline.stream import WindowsNotCommitted, stream

    args.output = os.path.expanduser(args.output)  # `--output=~/news`: see _home_expanded
    args.feeds = [os.path.expanduser(f) for f in args.feeds]
    window = args.window if args.window is not None else args.poll_interval
    if window < args.poll_interval:
        raise SystemExit("--window must be at least --poll-interval")
    settings = fetch_settings(PipelineOptions(rest).view_as(NewsbeamOptions))
    try:
        os.makedirs(args.output, exist_ok=True)
    except OSError as e:
        print(f"newsbeam stream: cannot write into --output {args.output}: {e.strerror or e}", file=sys.stderr)
        return 2
    with file_lock(os.path.join(args.output, STREAM_LOCK_FILE), wait=False) as state:
        if state == BUSY:  # two drivers would share one spool and feed state: each would commit the other's windows
            print(f"newsbeam stream: another `newsbeam stream` is running into {args.output}; stop it first "
                  "(batch `newsbeam run`s into the same output may run beside it: they take turns)", file=sys.stderr)
            return 2
        try:
            manifests = stream(args.feeds, args.output, args.poll_interval, window, args.max_polls, rest, settings)
        except WindowsNotCommitted as e:
            print(f"newsbeam stream: stopped; {e}", file=sys.stderr)
            return 1
    total = sum(m["counts"]["articles_written"] for m in manifests)
    say(f"newsbeam stream: {len(manifests)} windows committed, {total} articles, output {args.output}\n")
    return 0


def run(argv: list[str], quiet: bool = False, verbose: bool = False) -> dict:
    """Run the batch pipeline with ``argv`` (newsbeam and Beam flags); returns the manifest."""
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

    from pipeline.assemble import build
    from pipeline.options import NewsbeamOptions
    from pipeline.runner import check_runner, make_runner, remember_signatures

    remember_signatures()
    if quiet:
        argv = list(argv) + ["--progress-seconds=0"]
    if not verbose and not any(a.startswith("--default_sdk_harness_log_level") for a in argv):
        # multi-process workers otherwise print their channels and every pipeline option at INFO
        argv = list(argv) + ["--default_sdk_harness_log_level=WARNING"]
    inputs, feeds, argv = _lists_apart(argv)
    options = PipelineOptions(argv)
    # Beam checks each step's declared types as the graph is built (0.4 s a run on 2 slow cores); newsbeam's
    # graph is fixed, and tests/test_end_to_end.py builds every shape of it with the check on
    options.view_as(TypeOptions).pipeline_type_check = False
    check_runner(options)
    output = options.view_as(NewsbeamOptions).output
    with output_lock(output) as held:
        if held:  # no other run can be writing here: staging without a commit journal is a dead run's
            _drop_dead_staging(output, quiet)
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.perf_counter()
        runner = make_runner(options, verbose=verbose)
        p = beam.Pipeline(runner=runner, options=options) if runner else beam.Pipeline(options=options)
        try:
            facts = build(p, options, started, inputs=inputs, feeds=feeds)
        except BaseException:  # Beam makes the pipeline's temporary folder with it and removes it in run() only
            shutil.rmtree(p.local_tempdir, ignore_errors=True)
            raise
        progress = RunProgress(facts["progress"], options.view_as(NewsbeamOptions).progress_seconds,
                               facts["workers"]) if facts.get("progress") else None
        try:
            if progress is not None:
                progress.start()
            state = p.run().wait_until_finish()
        except Exception:  # nothing of this run is committed: its staged files go, so that a full disk is freed
            if held:
                _drop_own_staging(facts["staging"])
            raise
        finally:
            if progress is not None:
                progress.finish()
    if not FileSystems.exists(facts["manifest"]):
        raise RunNotCommitted(f"run {facts['run_id']}: the runner returned (state {state}) but the run's manifest "
                              f"{facts['manifest']} was not written, so nothing was committed")
    with FileSystems.open(facts["manifest"]) as f:
        manifest = json.loads(f.read())
    manifest["wall_seconds"] = round(time.perf_counter() - t0, 3)
    if not quiet:
        print_summary(manifest)
    lost = manifest["counts"].get("unaccounted", 0)
    if lost:
        raise RuntimeError(f"run {manifest['run_id']}: {lost} documents read but neither written nor rejected; "
                           "this is a bug, please report it with the manifest")
    return manifest


def _lists_apart(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(the ``--input`` values, the ``--feeds`` values, the other arguments) of
    ``argv``, in order, each option written ``--input=X`` or ``--input X``
    (an option as the next word is not a value: ``--input --output o`` is left
    to Beam's parser, which says the value is missing, as before). Beam parses
    a pipeline's whole argument list again each time a step asks for its
    options (hundreds of times a graph), so ``newsbeam run pages/*.html`` with
    the shell's 2,000 paths in it took 40 s more than the folder (10,000: over
    10 minutes); the run is handed the paths itself (``build``)."""
    lists: dict[str, list[str]] = {"--input": [], "--feeds": []}
    rest, i = [], 0
    while i < len(argv):
        a = argv[i]
        name, eq, value = a.partition("=")
        if a == "--":  # what follows is not an option (Beam's parser reads it so too)
            rest.extend(argv[i:])
            break
        if name in lists and eq:
            lists[name].append(value)
        elif a in lists and i + 1 < len(argv) and not (argv[i + 1].startswith("-") and argv[i + 1] != "-"):
            lists[a].append(argv[i + 1])
            i += 1
        else:
            rest.append(a)
        i += 1
    return lists["--input"], lists["--feeds"], rest


class RunProgress:
    """The run's progress line when several local worker processes extract:
    every ``every`` seconds, the documents all of them have extracted, the
    rate and the rejects so far, added up from the counts each leaves in
    ``folder`` (``transforms.extract._Progress``); printed when they have
    grown. ``finish`` stops it."""

    def __init__(self, folder: str, every: float, workers: int):
        import threading

        self.folder, self.every, self.workers = folder, max(0.1, every), workers
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="newsbeam-progress", daemon=True)
        self.start_time = 0.0

    def start(self) -> None:
        self.start_time = time.monotonic()
        self.thread.start()

    def finish(self) -> None:
        self.done.set()
        self.thread.join(timeout=5)

    def counts(self) -> tuple[int, int]:
        """(documents extracted, rejected) over every worker's file so far."""
        n = rejected = 0
        try:
            names = sorted(os.listdir(self.folder))
        except OSError:  # no worker has written yet (or the commit has removed the staging folder)
            return 0, 0
        for name in names:
            if not name.endswith(".json"):
                continue
            try:
                with open(os.path.join(self.folder, name), encoding="utf-8") as f:
                    c = json.load(f)
            except (OSError, ValueError):  # gone with the staging folder at the commit (files are replaced whole)
                continue
            n += int(c.get("n", 0))
            rejected += int(c.get("rejected", 0))
        return n, rejected

    def _loop(self) -> None:
        shown = 0
        while not self.done.wait(self.every):
            shown = self.show(shown)

    def show(self, shown: int) -> int:
        """Print the run's line if more documents have been extracted than
        ``shown``; the count shown now. Only a count that has grown: while the
        commit removes the staging folder, the files still there add up to
        less than was shown."""
        from transforms.extract import progress_line

        n, rejected = self.counts()
        if n <= shown:
            return shown
        print(progress_line(n, time.monotonic() - self.start_time, rejected, f"{self.workers} workers"),
              file=sys.stderr, flush=True)
        return n


def _drop_dead_staging(output: str, quiet: bool) -> None:
    """Staging folders of earlier runs into ``output`` that were killed or
    failed before their commit hold only uncommitted files (a whole batch of
    staged rows can be gigabytes): removed, and said, once the lock is held."""
    from transforms.write import dead_staging, drop_uncommitted

    for folder in dead_staging(output):
        try:
            freed = drop_uncommitted(folder)
        except OSError as e:
            print(f"newsbeam: could not remove {folder}, left by a run that did not commit: {e}", file=sys.stderr)
            continue
        if not quiet:
            print(f"newsbeam: removed {folder} ({freed / 1e6:.1f} MB), left by a run that did not commit",
                  file=sys.stderr)


def _drop_own_staging(staging: str) -> None:
    from transforms.write import drop_uncommitted

    try:
        freed = drop_uncommitted(staging)
    except OSError as e:
        print(f"newsbeam run: could not remove this run's staging folder {staging}: {e}", file=sys.stderr)
        return
    if freed:
        print(f"newsbeam run: removed this run's uncommitted files ({freed / 1e6:.1f} MB in {staging})",
              file=sys.stderr)


def print_summary(m: dict) -> None:
    c = m["counts"]
    out = io.StringIO()
    print(f"newsbeam run {m['run_id']} finished in {m.get('wall_seconds', 0):.1f} s", file=out)
    print(f"  documents read      {c['inputs_seen']}", file=out)
    print(f"  articles written    {c['articles_written']}", file=out)
    print(f"  rejected            {c['rejected']}", file=out)
    if c.get("already_ingested"):
        print(f"  already ingested    {c['already_ingested']} (not written again)", file=out)
    for reason, n in c["rejected_by_reason"].items():
        print(f"    {reason:30s} {n}", file=out)
    if c.get("skipped_records"):
        skipped = ", ".join(f"{k} {v}" for k, v in c["skipped_records"].items())
        print(f"  records skipped     {skipped}", file=out)
    langs = ", ".join(f"{k} {v}" for k, v in list(c["languages"].items())[:8])
    print(f"  languages           {langs or '-'}", file=out)
    if "duplicates" in c:
        print(f"  near-duplicates     {c['duplicates']} (flagged, kept)", file=out)
        print(f"  stories             {c['stories']}", file=out)
    if "machine_translated" in c:
        by_src = ", ".join(f"{k} {v}" for k, v in c["machine_translated_by_source"].items())
        print(f"  machine-translated  {c['machine_translated']}" + (f" (from {by_src})" if by_src else ""), file=out)
    print(f"  output              {m['output']}/articles, {m['output']}/rejects", file=out)
    print(f"  manifest            {m['output']}/runs/{m['run_id']}.json", file=out)
    say(out.getvalue())


def say(text: str) -> None:
    """``text`` on standard output. A reader that closed it (``newsbeam run
    ... | head -1``), or an output encoding that cannot write a path's
    letters (``PYTHONIOENCODING=latin-1`` and a Cyrillic folder), does not
    make what was done fail: the run had committed, and said "failed, nothing
    committed" and exited 1. Letters the encoding lacks are written as
    escapes (as Python writes them on standard error); once the reader has
    gone, the rest goes nowhere."""
    try:
        try:
            sys.stdout.write(text)
        except UnicodeEncodeError:
            encoding = sys.stdout.encoding or "ascii"
            sys.stdout.write(text.encode(encoding, "backslashreplace").decode(encoding))
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit goes there too
        os.close(devnull)


INTERRUPTED = ("newsbeam run: interrupted; a run is committed only once its manifest is written, and the next run "
               "clears what an uncommitted one left")


def _interrupted(e: BaseException) -> bool:
    """Whether ``e`` is a Ctrl-C: a KeyboardInterrupt, or one a Beam step raised and Beam handed on as
    ``RuntimeError: KeyboardInterrupt [while running '...']``, somewhere in its chain."""
    seen = set()
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if isinstance(e, KeyboardInterrupt) or str(e).startswith("KeyboardInterrupt"):
            return True
        e = e.__cause__ or e.__context__
    return False


# A full disk, a quota or a read-only disk: the user's machine, not a bug; named in one line, no traceback
_ENVIRONMENT = re.compile(r"\[Errno (28|122|30)\] ([^\[\]\n]+?)(?: \[while running '([^']+)'\]|\n|$)")


def environment_error(e: BaseException) -> str | None:
    """The one-line story of a run that failed because of the machine (no
    space left, quota exceeded, read-only file system), found in the text
    Beam wraps a step's exception in; None for anything else."""
    m = _ENVIRONMENT.search(str(e))
    if not m:
        return None
    where = f" (in step {m.group(3)})" if m.group(3) else ""
    return f"{m.group(2).strip()}{where}. Nothing was committed; free space (or fix the disk) and run again."


class _DropEnvironmentTracebacks(logging.Filter):
    """Beam logs a failing step's traceback at ERROR before the run fails; for
    a full or read-only disk, or a Ctrl-C, the last line says all
    (``--verbose`` shows it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or not record.name.startswith("apache_beam"):
            return True
        message = record.getMessage()  # a Ctrl-C too: the run says it was interrupted
        return not (_ENVIRONMENT.search(message) or message.startswith("KeyboardInterrupt"))


class DropBeamImportNoise(logging.Filter):
    """Beam warns at import that the optional GCP client is missing; newsbeam does not use it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "apitools not found" not in record.getMessage()


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(DropBeamImportNoise())
    for noisy in ("apache_beam", "trafilatura", "htmldate", "charset_normalizer", "urllib3", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # worker start-up chatter forwarded by the multi-process runner ("Discarding unparseable args", ...)
    logging.getLogger("apache_beam.runners.portability.local_job_service").setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(prog="newsbeam", description="News ingestion on Apache Beam.")
    parser.add_argument("--version", action="version", version=f"newsbeam {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _run_parser(sub)
    _stream_parser(sub)
    _report_parser(sub)
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        from pipeline.runner import UnsupportedRunner
        from transforms.records import utf8_text
        from transforms.write import DamagedIndex

        rest = _home_expanded(_paths_as_inputs([a for a in argv[1:] if a not in ("--quiet", "--verbose")],
                                               _flags_without_values(sub)))
        unsendable = [a for a in rest if utf8_text(a) != a]
        if unsendable:  # Beam sends every option to its workers as UTF-8
            print(f"newsbeam run: the argument {utf8_text(unsendable[0])!r} is not UTF-8 text, and Beam passes "
                  "options to its workers as UTF-8. Give the folder that holds it (files and folders inside with such names are read), "
                  "or rename it.", file=sys.stderr)
            return 2
        if not args.verbose:
            for handler in logging.getLogger().handlers:
                handler.addFilter(_DropEnvironmentTracebacks())
        try:
            run(rest, quiet=args.quiet, verbose=args.verbose)
        except (UnsupportedRunner, OutputUnusable) as e:
            print(f"newsbeam run: {e}", file=sys.stderr)
            return 2
        except DamagedIndex as e:  # the output's own file, named, with what to do: no traceback
            print(f"newsbeam run: failed, nothing committed: {e}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:  # Ctrl-C while the graph was built or committed
            print(INTERRUPTED, file=sys.stderr)
            return 130
        except Exception as e:  # the run did not commit: say why, never exit 0
            import traceback

            if _interrupted(e):  # Ctrl-C inside a step: Beam hands it on wrapped, with a page of traceback
                print(INTERRUPTED, file=sys.stderr)
                return 130
            told = environment_error(e)
            if told:
                print(f"newsbeam run: failed: {told}", file=sys.stderr)
                return 1

            traceback.print_exc(file=sys.stderr)
            print(f"newsbeam run: failed, nothing committed: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        return 0
    if args.command == "stream":
        return stream_main(args, rest)
    if args.command == "report":
        if rest:
            parser.error(f"unrecognised arguments: {' '.join(rest)}")
        return report_main(args)
    parser.error(f"unknown command {args.command}")
    return 2


def _valueless(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The option strings of ``parser`` that take no value (``store_true`` and the like)."""
    return frozenset(flag for action in parser._actions if action.option_strings and action.nargs == 0
                     for flag in action.option_strings)


def _flags_without_values(sub) -> frozenset[str]:
    """newsbeam's own ``run`` options that take no value (the rest, and Beam's, take one)."""
    return _valueless(sub.choices["run"])


@functools.lru_cache(maxsize=1)
def _beam_flags_without_values() -> frozenset[str]:
    """Beam's own options that take no value (``--save_main_session``, ``--streaming``, ...),
    from the arguments every PipelineOptions class declares, as Beam's parser reads them."""
    from apache_beam.options.pipeline_options import PipelineOptions

    parser = argparse.ArgumentParser(add_help=False, conflict_handler="resolve")
    todo = list(PipelineOptions.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        try:
            cls._add_argparse_args(parser)
        except Exception as e:  # a class that cannot add its arguments here: its flags are taken as valued
            logging.getLogger(__name__).debug("options of %s not read: %s", cls.__name__, e)
    return _valueless(parser)


def _paths_as_inputs(args: list[str], no_value: frozenset[str]) -> list[str]:
    """``args`` with each bare word (one that is not an option's value) as ``--input=WORD``:
    ``newsbeam run news/ more.warc`` reads both, as ``--input`` would. A word after
    an option written without ``=`` (``--runner DirectRunner``) is that option's value,
    unless the option takes none: one of newsbeam's (``--no-fetch news/``) or of Beam's
    (``--save_main_session news/``, asked of Beam only then)."""
    out, value_of = [], None
    for a in args:
        if a.startswith("-") and len(a) > 1:
            value_of = None if ("=" in a or a in no_value or a == "--") else a
            out.append(a)
        elif value_of is not None and value_of not in _beam_flags_without_values():
            value_of = None
            out.append(a)
        else:
            value_of = None
            out.append(f"--input={a}")
    return out


_PATH_OPTIONS = ("--input=", "--output=", "--feeds=")


def _home_expanded(args: list[str]) -> list[str]:
    """``--output=~/news`` as ``--output=/home/me/news``: a shell expands ``~``
    in a word of its own but not after ``=``, and a cron line so written made a
    folder named ``~`` in the working directory."""
    return [a.split("=", 1)[0] + "=" + os.path.expanduser(a.split("=", 1)[1])
            if a.startswith(_PATH_OPTIONS) and a.split("=", 1)[1].startswith("~") else a for a in args]


LOCK_FILE = ".newsbeam.lock"
STREAM_LOCK_FILE = ".newsbeam-stream.lock"  # held by a `newsbeam stream` driver for its whole life


HELD, NO_LOCK, BUSY = "held", "no lock", "busy"  # what ``file_lock`` gives


@contextlib.contextmanager
def file_lock(path: str, waiting: str | None = None, wait: bool = True):
    """An exclusive lock on the file ``path`` (made if missing) while the block
    runs; the system lets it go if the process dies. Gives ``HELD``;
    ``NO_LOCK`` where there is none (POSIX has one, Windows not here). When
    another process holds it: with ``wait``, ``waiting`` is printed on stderr
    and the lock waited for; without, ``BUSY`` at once and nothing held."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield NO_LOCK
        return
    with open(path, "a+") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield BUSY
                return
            if waiting:
                print(waiting, file=sys.stderr, flush=True)
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        yield HELD  # closing the file lets the lock go


@contextlib.contextmanager
def output_lock(output: str):
    """Runs into one local output folder take turns: two scheduled runs that
    overlap (a cron job that outlasts its interval) would each read the same
    index and write the same articles, and the output would hold them twice.
    The run holds ``OUT/.newsbeam.lock`` (``file_lock``) from before it reads
    the index until its commit; a run that finds it taken says so and waits.
    An output on a remote filesystem (gs://, s3://) has no such lock:
    schedule its runs so that they do not overlap. Gives whether the lock is
    held."""
    if "://" in output:
        yield False
        return
    try:
        os.makedirs(output, exist_ok=True)
    except OSError as e:  # a file of that name, no permission, a read-only disk: the user's to fix, not a bug
        raise OutputUnusable(f"cannot write into --output {output}: {e.strerror or e}") from None
    with file_lock(os.path.join(output, LOCK_FILE),
                   f"newsbeam run: another run is writing into {output}; waiting for it to finish") as state:
        yield state == HELD


def console_main() -> None:
    """The ``newsbeam`` command: ``main``, then an exit that skips tearing the
    interpreter down. Beam, gRPC, Arrow and the loaded tables take ~0.7 s to
    free at exit after every run, with nothing left to write: the run has
    committed (or said why not) when ``main`` returns. Exit handlers still
    run (logging is flushed, ``weakref.finalize`` and temporary folders are
    done with); only the freeing of objects is skipped. Under a profiler or
    a tracer (``python -m cProfile``, coverage) it exits as usual, for them
    to write what they measured."""
    import atexit
    import os

    code = main()
    if sys.getprofile() is not None or sys.gettrace() is not None:  # a profiler or tracer writes its data after
        sys.exit(code)
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code if isinstance(code, int) else 1)
