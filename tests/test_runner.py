"""pipeline.runner: Beam's signature lookups remembered, with Beam's own answers."""
import functools

import apache_beam as beam
from apache_beam.transforms import core, ptransform, util
from apache_beam.typehints import decorators

from pipeline import runner


class _Fn(beam.DoFn):
    def process(self, element, extra=3, *args, side=beam.DoFn.SideInputParam, **kw):
        yield element


def _plain(a, b=1, *, c):
    return a


def test_remembered_signatures_are_beams_own(monkeypatch):
    runner.remember_signatures()
    runner.remember_signatures()  # idempotent: one layer
    remembered = decorators.get_signature
    assert getattr(remembered, "remembered", False) and not getattr(remembered.own, "remembered", False)
    assert core.get_signature is remembered and ptransform.get_signature is remembered
    assert util.get_signature is remembered
    own = remembered.own
    one, two = _Fn(), _Fn()
    callables = [_plain, lambda x, y=2: x, one.process, two.process, _Fn.process, len, dict.get, _Fn,
                 functools.partial(_plain, 1), object()]
    for _ in range(2):  # asked and then remembered
        for fn in callables:
            try:
                want = own(fn)
            except TypeError:  # not a callable: raised again, not remembered
                continue
            assert remembered(fn) == want, fn
    assert remembered(one.process) is remembered(two.process)  # one function: its signature once
    assert remembered(_plain) is remembered(_plain)
    got = core.get_function_arguments(one, "process")
    monkeypatch.setattr(core, "get_signature", own)
    assert got == core.get_function_arguments(two, "process") == (["element", "extra"], [3])


def test_remembered_signatures_forget_past_their_cap(monkeypatch):
    runner.remember_signatures()
    monkeypatch.setattr(runner, "SIGNATURES_REMEMBERED", 2)
    fns = [eval(f"lambda {'a' * (i + 1)}: 0") for i in range(6)]  # noqa: S307 - distinct functions
    for fn in fns:
        assert list(decorators.get_signature(fn).parameters) == [fn.__code__.co_varnames[0]]


def _exit_script(tmp_path, body: str) -> str:
    import os

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = tmp_path / "worker_end.py"
    script.write_text(
        "import atexit, sys\n"
        f"sys.path.insert(0, {root!r})\n"
        "from pipeline.worker import exit_at_once\n"
        f"atexit.register(lambda: open({str(tmp_path / 'handler_ran')!r}, 'w').write('yes'))\n"
        "sys.stdout.write('buffered, no newline')\n"
        + body)
    return str(script)


def test_a_worker_that_has_finished_runs_its_exit_handlers_flushes_and_exits_0(tmp_path):
    """``pipeline.worker.exit_at_once``: the end of a local worker skips the
    interpreter's teardown, not its exit handlers nor its buffered output, and
    the runner reads exit code 0 (any other fails the run)."""
    import subprocess
    import sys

    script = _exit_script(tmp_path, "exit_at_once()\nsys.exit(3)  # not reached\n")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "buffered, no newline"
    assert (tmp_path / "handler_ran").read_text() == "yes"


def test_a_worker_under_a_tracer_returns_for_the_tracer_to_write(tmp_path):
    import subprocess
    import sys

    script = _exit_script(tmp_path, "sys.settrace(lambda *a: None)\nexit_at_once()\nsys.settrace(None)\n"
                                    "print(' and on')\nsys.exit(3)\n")
    done = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stdout == "buffered, no newline and on\n"
    assert (tmp_path / "handler_ran").read_text() == "yes"
