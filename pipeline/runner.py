"""Choose the Beam runner explicitly.

Beam's default ``DirectRunner`` first tries to download the Prism runner
from the internet; offline that costs time and falls back, online it runs
with other bundling. newsbeam pins the local runner instead: with no
``--runner`` (or ``DirectRunner``/``FnApiRunner``) it runs on the
FnApiRunner, in process or, with ``--direct_running_mode=multi_processing
--direct_num_workers=N``, on N worker processes, which are handed the
pipeline options the way Beam's own SwitchingDirectRunner does. Any other
``--runner`` (``PortableRunner``, ``DataflowRunner``, ``FlinkRunner``,
``SparkRunner``, ``PrismRunner``) is passed to Beam untouched.
"""
from __future__ import annotations

import functools
import os
import shlex
import sys
import types

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

__all__ = ["make_runner", "LOCAL_RUNNERS", "SUPPORTED_RUNNERS", "UnsupportedRunner", "check_runner",
           "remember_signatures"]

LOCAL_RUNNERS = (None, "", "DirectRunner", "FnApiRunner", "SwitchingDirectRunner")
# Runners that execute the whole graph (every branch, side inputs, the
# commit step). Others are refused before the run starts: Beam's Dask runner,
# for one, computes only the last branch of a graph and would write nothing.
SUPPORTED_RUNNERS = ("DirectRunner", "FnApiRunner", "SwitchingDirectRunner", "PortableRunner", "PrismRunner",
                     "DataflowRunner", "TestDataflowRunner", "FlinkRunner", "SparkRunner")


class UnsupportedRunner(ValueError):
    pass


def check_runner(options: PipelineOptions) -> None:
    """Raise UnsupportedRunner, with what is supported, for a runner newsbeam does not run on."""
    runner = options.view_as(StandardOptions).runner
    if runner in LOCAL_RUNNERS:
        return
    name = runner if isinstance(runner, str) else type(runner).__name__
    if name.rsplit(".", 1)[-1] not in SUPPORTED_RUNNERS:
        raise UnsupportedRunner(
            f"--runner={name} is not supported: newsbeam runs on {', '.join(SUPPORTED_RUNNERS)} "
            "(a runner that does not execute every branch of the graph would commit nothing)")


BEAM_WORKER = "-m apache_beam.runners.worker.sdk_worker_main"


def worker_command(verbose: bool = False) -> str:
    """The shell command that starts one local worker: ``pipeline/worker.py``."""
    worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
    return " ".join(shlex.quote(a) for a in (sys.executable, worker, *(["--verbose"] if verbose else [])))


@functools.lru_cache(maxsize=None)
def _local_runner_class():
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.transforms import environments

    class LocalRunner(fn_runner.FnApiRunner):
        """The FnApiRunner, whose multi-process workers start through
        ``pipeline/worker.py`` (Beam's worker, quiet on the terminal). The
        runner picks its worker command when a run starts, from
        ``--direct_running_mode``; that choice is intercepted here, and a
        Beam that picks differently keeps its own worker."""

        verbose = False

        @property
        def _default_environment(self):
            return self._newsbeam_environment

        @_default_environment.setter
        def _default_environment(self, env):
            if (isinstance(env, environments.SubprocessSDKEnvironment)
                    and getattr(env, "command_string", "").endswith(BEAM_WORKER)):
                env = environments.SubprocessSDKEnvironment.from_command_string(worker_command(self.verbose))
            self._newsbeam_environment = env

    return LocalRunner


SIGNATURES_REMEMBERED = 10_000  # functions; then the memory starts again (a stream builds a graph a window)


def remember_signatures() -> None:
    """Beam asks ``inspect.signature`` of the same DoFn methods about 18,000
    times a run (as the graph is built and again for every stage it runs:
    0.2 s of the 2.2 s a one-page run takes). A function's signature is
    fixed once it is defined, so Beam's ``get_signature`` remembers it, by
    the function (a bound method's by its function: the signature leaves the
    bound ``self`` out either way); any other callable is asked every time.
    Installed once per process, only where a Beam release still has its
    ``get_signature``; the rows are the same (the end-to-end tests)."""
    from apache_beam.transforms import core, ptransform, util
    from apache_beam.typehints import decorators

    own = getattr(decorators, "get_signature", None)
    if own is None or getattr(own, "remembered", False):
        return
    known: dict = {}

    def get_signature(func):
        if isinstance(func, types.MethodType) and isinstance(func.__func__, types.FunctionType):
            key = (func.__func__, True)
        elif isinstance(func, types.FunctionType):
            key = (func, False)
        else:
            return own(func)
        signature = known.get(key)
        if signature is None:
            if len(known) >= SIGNATURES_REMEMBERED:
                known.clear()
            signature = known[key] = own(func)
        return signature

    get_signature.remembered, get_signature.own = True, own
    for module in (decorators, core, ptransform, util):
        if getattr(module, "get_signature", None) is own:
            module.get_signature = get_signature


def make_runner(options: PipelineOptions, verbose: bool = False):
    """A runner object for the local case, else None (Beam resolves ``--runner``).
    ``verbose`` leaves the local workers' own logging on the terminal."""
    std = options.view_as(StandardOptions)
    if std.runner not in LOCAL_RUNNERS:
        return None
    from apache_beam.portability.api import beam_provision_api_pb2
    from apache_beam.runners.portability.fn_api_runner import fn_runner
    from apache_beam.runners.portability.portable_runner import JobServiceHandle

    std.runner = None
    encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options())
    info = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
    runner = _local_runner_class()(provision_info=info)
    runner.verbose = verbose
    return runner
