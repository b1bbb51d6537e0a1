"""Run HTML extraction in a child process that can be killed.

trafilatura and lxml can hang, recurse without end or blow up memory on
hostile pages; a thread cannot be stopped, a process can. One long-lived
child per DoFn instance (started in ``DoFn.setup``) receives pages over a
pipe. The child caps its own address space (``RLIMIT_AS``); the parent waits
at most ``timeout`` seconds per page, then kills the child and starts a new
one for the next page (the wait counts from when the page was handed over,
so a page is never given more than ``timeout`` however long the parent took
to collect it). Every failure is reported as a ``SandboxError`` with a
short reason code: ``timeout``, ``memory``, ``too_deep``, ``crashed``,
``extractor_error``.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import traceback
from multiprocessing.connection import Connection, wait
from typing import Any

__all__ = ["Sandbox", "SandboxError", "first_done"]


class SandboxError(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _serve(conn: Connection, out: Connection, memory_mb: int) -> None:  # runs in the child
    from transforms.encoding import DecodeError, decode_bytes
    from transforms.html_extract import extract_html

    if memory_mb > 0:
        try:
            import resource

            limit = memory_mb << 20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
            pass
    sys.setrecursionlimit(20000)
    import gc

    gc.freeze()  # the imported modules never become garbage: keep them out of every collection

    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        html, url, charset = msg
        try:
            if isinstance(html, bytes):
                try:
                    html = decode_bytes(html, charset, is_html=True)[0].replace("\x00", "")
                except DecodeError as e:
                    out.send(("ok", {"text": "", "stage": "decode", "error": e.reason, "message": str(e)}))
                    continue
            out.send(("ok", extract_html(html, url)))
        except MemoryError:
            out.send(("error", "memory", "extraction ran out of its memory cap"))
        except RecursionError:
            out.send(("error", "too_deep", "document nesting too deep to extract"))
        except Exception as e:  # any extractor bug becomes a reject with its traceback
            out.send(("error", "extractor_error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}"))


class Sandbox:
    """A restartable extraction child process."""

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._proc = None
        self._send = None
        self._conn = None
        self._pending = False
        self._broken = False
        self._deadline = 0.0

    @property
    def busy(self) -> bool:
        """A page has been handed over and not collected yet."""
        return self._pending

    def _start(self) -> None:
        # A fresh interpreter (not fork: the parent runs gRPC threads; not
        # multiprocessing's spawn: it re-imports the parent's __main__ script).
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "transforms.sandbox", str(to_child_r), str(from_child_w), str(self.memory_mb)],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, env=env, close_fds=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self._proc = proc
        self._send = Connection(to_child_w, readable=False)
        self._conn = Connection(from_child_r, writable=False)

    def extract(self, html: str | bytes, url: str | None, charset: str | None = None) -> dict[str, Any]:
        """Extract one page and wait for the result."""
        self.submit(html, url, charset)
        return self.collect()

    def submit(self, html: str | bytes, url: str | None, charset: str | None = None) -> None:
        """Hand a page (str, or bytes to decode with ``charset`` as the HTTP
        charset) to the child and return at once (one page at a time)."""
        if self._pending:
            raise RuntimeError("collect() the previous page first")
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        self._pending = True
        self._deadline = time.monotonic() + self.timeout
        try:
            self._send.send((html, url, charset))
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._broken = True

    def collect(self) -> dict[str, Any]:
        """The result of the page handed over by ``submit``; raises SandboxError."""
        if not self._pending:
            raise RuntimeError("nothing submitted")
        self._pending = False
        try:
            if self._broken:
                raise BrokenPipeError("the extraction process closed its input")
            if not self._conn.poll(max(0.0, self._deadline - time.monotonic())):
                self._kill()
                raise SandboxError("timeout", f"extraction took longer than {self.timeout:g} s")
            reply = self._conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as e:
            code = self._proc.wait(5) if self._proc else None
            self._kill()
            raise SandboxError("crashed", f"extraction process died (exit code {code}): {type(e).__name__}") from None
        if reply[0] == "ok":
            return reply[1]
        _, reason, message = reply
        if reason == "memory":  # the child may be left in a bad state; start afresh
            self._kill()
        raise SandboxError(reason, message)

    def done(self) -> bool:
        """The page handed over can be collected now without waiting (its
        result, the child's death or its deadline is there)."""
        if not self._pending:
            return False
        if self._broken or self._deadline <= time.monotonic():
            return True
        try:
            return self._conn.poll(0)
        except (EOFError, OSError):
            return True

    def restart(self) -> None:
        """Drop the child (the next page starts a new one)."""
        self._pending = False
        self._kill()

    def _kill(self) -> None:
        if self._proc is not None:
            if self._proc.poll() is None:
                self._proc.kill()
            self._proc.wait(5)
        for c in (self._send, self._conn):
            if c is not None:
                c.close()
        self._proc = self._send = self._conn = None
        self._broken = False

    def close(self) -> None:
        if self._pending:
            self._kill()
            self._pending = False
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._send.send(None)
                self._proc.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()


def first_done(sandboxes: list[Sandbox]) -> Sandbox:
    """Of the busy sandboxes, the first whose page can be collected, waiting
    for it; among several ready at once the one handed its page first (the
    earliest deadline), so a slow page never holds back the others."""
    busy = sorted((s for s in sandboxes if s.busy), key=lambda s: s._deadline)
    if not busy:
        raise RuntimeError("no page in flight")
    while True:
        for s in busy:
            if s.done():
                return s
        wait([s._conn for s in busy], max(0.0, busy[0]._deadline - time.monotonic()))


if __name__ == "__main__":  # the child: python -m transforms.sandbox READ_FD WRITE_FD MEMORY_MB
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False),
           int(sys.argv[3]))
