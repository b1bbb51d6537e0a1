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
