"""Beam reads each DoFn's ``process`` source when a pipeline is built, and
warns "Process method returned None (element won't be emitted)" for a
``return None`` line there. That warning reaches the terminal under
``--quiet`` (once in a generated-input run): no DoFn of newsbeam may carry one."""
import importlib
import inspect
import logging
import pkgutil

import apache_beam as beam
from apache_beam.transforms import core

import pipeline
import transforms


def _dofns():
    for package in (pipeline, transforms):
        for info in pkgutil.iter_modules(package.__path__):
            if info.name == "__main__":  # runs the command line
                continue
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for _, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, beam.DoFn) and cls.__module__ == module.__name__:
                    yield cls


def test_no_dofn_process_returns_none(caplog):
    found = list(_dofns())
    assert len(found) > 20  # the check reaches newsbeam's DoFns
    with caplog.at_level(logging.WARNING, logger="apache_beam.transforms.core"):
        for cls in found:
            fn = cls.__new__(cls)  # no __init__: only the process method's source is read
            core._check_fn_use_yield_and_return(fn.process)
    assert not [r for r in caplog.records if "returned None" in r.getMessage()]
