"""Run HTML extraction in a child process that can be killed.

trafilatura and lxml can hang, recurse without end or blow up memory on
hostile pages; a thread cannot be stopped, a process can. One long-lived
child per DoFn instance (started in ``DoFn.setup``) receives pages over a
pipe. The child caps its own address space (``RLIMIT_AS``); the parent waits
at most ``timeout`` seconds per page, then kills the child and starts a new
one for the next page. Every failure is reported as a ``SandboxError`` with a
short reason code: ``timeout``, ``memory``, ``too_deep``, ``crashed``,
``extractor_error``.
"""
from __future__ import annotations

import multiprocessing as mp
import traceback
from typing import Any

__all__ = ["Sandbox", "SandboxError"]


class SandboxError(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _serve(conn, memory_mb: int) -> None:  # runs in the child
    if memory_mb > 0:
        try:
            import resource

            limit = memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
            pass
    import sys

    sys.setrecursionlimit(20000)
    from transforms.html_extract import extract_html

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        html, url = msg
        try:
            conn.send(("ok", extract_html(html, url)))
        except MemoryError:
            conn.send(("error", "memory", "extraction ran out of its memory cap"))
        except RecursionError:
            conn.send(("error", "too_deep", "document nesting too deep to extract"))
        except Exception as e:  # any extractor bug becomes a reject with its traceback
            conn.send(("error", "extractor_error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"))


class Sandbox:
    """A restartable extraction child process."""

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._proc = None
        self._conn = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")  # never fork a process that runs gRPC threads
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child, self.memory_mb), daemon=True, name="newsbeam-extract")
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def extract(self, html: str, url: str | None) -> dict[str, Any]:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        try:
            self._conn.send((html, url))
            if not self._conn.poll(self.timeout):
                self._kill()
                raise SandboxError("timeout", f"extraction took longer than {self.timeout:g} s")
            reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as e:
            code = self._proc.exitcode if self._proc else None
            self._kill()
            reason = "memory" if code in (-9,) else "crashed"
            raise SandboxError(reason, f"extraction process died (exit code {code}): {type(e).__name__}") from None
        if reply[0] == "ok":
            return reply[1]
        _, reason, message = reply
        if reason == "memory":  # the child may be left in a bad state; start afresh
            self._kill()
        raise SandboxError(reason, message)

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join(5)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(2)
            except (OSError, BrokenPipeError):
                pass
        self._kill()
