"""Run HTML extraction, and feed parsing, in a child process that can be killed.

trafilatura and lxml can hang, recurse without end or blow up memory on
hostile pages; a thread cannot be stopped, a process can. One long-lived
child per sandbox (started on its first page) receives pages over a pipe.
The child caps its own address space (``RLIMIT_AS``); the parent waits at
most ``timeout`` seconds per page, then kills the child and starts a new one
(the wait counts from when the child could start the page, so a page is
never given more than ``timeout`` however long the parent took to collect
it). Every failure is reported as a ``SandboxError`` with a short reason
code: ``timeout``, ``memory``, ``too_deep``, ``crashed``,
``extractor_error``.

A sandbox can take a second page while the child extracts the first
(``depth``; ``extract.PAGES_PER_CHILD`` is 2), when the child's pipe is
empty and the page fits in it, so the write cannot block (on Linux, where a
pipe's size can be asked; elsewhere one page at a time): the child
reads it the moment it sends its result, instead of waiting for the parent
to come back from the pages it finishes (language, machine translation,
annotation) to hand over the next. The queued page's time starts when the
child sends the result before it (the reply carries the child's monotonic
clock, which is the machine's). A page queued behind one that times out or
kills the child goes to a new child, never counted against it.
"""
from __future__ import annotations

import collections
import dataclasses
import os
import pickle
import struct
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


FEED = "feed"  # a message ``(FEED, bytes, Content-Type, URL)`` asks for a feed's entries; ``(page, url, charset)``
# asks for a page's article


def _is_feed(message: tuple) -> bool:
    return len(message) == 4 and message[0] == FEED


def _feed(data: bytes, content_type: str | None, base_url: str | None) -> dict[str, Any]:
    """A feed's entries (``{"feed": ParsedFeed}``) or why it has none (``{"feed_error": (reason, message)}``)."""
    from transforms.feedparse import FeedError, parse_feed

    try:
        return {"feed": parse_feed(data, content_type, base_url)}
    except FeedError as e:
        return {"feed_error": (e.reason, str(e))}


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
        reply = None
        try:
            if _is_feed(msg):
                reply = ("ok", _feed(*msg[1:]))
            else:
                html, url, charset = msg
                if isinstance(html, bytes):
                    try:
                        html = decode_bytes(html, charset, is_html=True)[0].replace("\x00", "")
                    except DecodeError as e:
                        reply = ("ok", {"text": "", "stage": "decode", "error": e.reason, "message": str(e)})
                if reply is None:
                    reply = ("ok", extract_html(html, url))
        except MemoryError:
            reply = ("error", "memory", "extraction ran out of its memory cap")
        except RecursionError:
            reply = ("error", "too_deep", "document nesting too deep to extract")
        except Exception as e:  # any extractor bug becomes a reject with its traceback
            reply = ("error", "extractor_error", f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=5)}")
        # when the next page, if one is queued in the pipe, starts: the parent times it from here
        out.send((*reply, time.monotonic()))


PIPE_BYTES = 1 << 20  # each pipe's buffer (Linux's unprivileged maximum), so a queued page or a result rarely waits
try:
    import fcntl
    import termios

    _SETPIPE_SZ, _GETPIPE_SZ = fcntl.F_SETPIPE_SZ, fcntl.F_GETPIPE_SZ
except (ImportError, AttributeError):  # not Linux: a pipe's size cannot be asked, so one page at a time
    fcntl = termios = None


def _grow(fd: int) -> None:
    if fcntl is not None:
        try:
            fcntl.fcntl(fd, _SETPIPE_SZ, PIPE_BYTES)
        except OSError:  # a lower limit on this machine (fs.pipe-max-size): the pipe keeps its size
            pass


def child_command(module: str, *args: str) -> list[str]:
    """The command line of a child process that runs ``module`` (its ``__main__``
    block) with ``args``, in a fresh interpreter, with newsbeam's own modules
    whatever the current folder holds: ``python -m`` puts the current folder
    first on the path, and a user's project with a ``transforms`` folder of its
    own (a common name for one) made every page's extraction child fail to start
    (``extract/crashed``). The child's path holds newsbeam's folder (first,
    unless it is already there: installed, it is site-packages) and leaves
    the current folder out (a ``json.py`` there would shadow the standard
    library's too). The child ignores Ctrl-C, which the run handles."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    code = ("import runpy, signal, sys\n"
            # Ctrl-C reaches the whole process group: the run says it was interrupted and ends its children (their
            # pipes close); each printed a page of KeyboardInterrupt traceback of its own
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "if not getattr(sys.flags, 'safe_path', False):\n"  # -c puts the current folder first, unless told not to
            "    del sys.path[0]\n"
            f"if {root!r} not in sys.path:\n"  # installed, it is site-packages, which stays after the standard library
            f"    sys.path.insert(0, {root!r})\n"
            f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n")
    return [sys.executable, "-c", code, *args]


def _pipe_room(fd: int) -> int:
    """Bytes that can surely be written to pipe ``fd`` now without blocking:
    its size when it is empty (a pipe's room is counted in pages, so a pipe
    holding a few bytes may take less than its size less those), else 0;
    0 where this cannot be asked."""
    if fcntl is None:
        return 0
    try:
        unread = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
        return fcntl.fcntl(fd, _GETPIPE_SZ) if unread == 0 else 0
    except OSError:
        return 0


@dataclasses.dataclass(slots=True)
class _Page:
    """A page handed to the child: the message sent, when it must be done (None
    while a page is ahead of it: its time starts when the child takes it up),
    when it was handed over, and whether it is in the child's pipe (a page
    behind another that a new child has not been sent yet is not)."""
    message: tuple
    deadline: float | None
    handed_at: float
    sent: bool = True


class Sandbox:
    """A restartable extraction child process holding up to ``depth`` pages
    (see the module docstring)."""

    def __init__(self, timeout: float = 30.0, memory_mb: int = 2048, depth: int = 1):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.depth = max(1, depth)
        self._proc = None
        self._send = None
        self._conn = None
        self._queue: collections.deque[_Page] = collections.deque()  # pages handed over, oldest first
        self._broken = False

    @property
    def busy(self) -> bool:
        """A page has been handed over and not collected yet."""
        return bool(self._queue)

    @property
    def _deadline(self) -> float:
        """When the page the child is on must be done."""
        return self._queue[0].deadline if self._queue else 0.0

    def _start(self) -> None:
        # A fresh interpreter (not fork: the parent runs gRPC threads; not
        # multiprocessing's spawn: it re-imports the parent's __main__ script).
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        for fd in (to_child_w, from_child_w):
            _grow(fd)
        proc = subprocess.Popen(
            child_command("transforms.sandbox", str(to_child_r), str(from_child_w), str(self.memory_mb)),
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, close_fds=True)
        os.close(to_child_r)
        os.close(from_child_w)
        self._proc = proc
        self._send = Connection(to_child_w, readable=False)
        self._conn = Connection(from_child_r, writable=False)

    def extract(self, html: str | bytes, url: str | None, charset: str | None = None) -> dict[str, Any]:
        """Extract one page and wait for the result."""
        if self._queue:
            raise RuntimeError("collect() the pages in flight first")
        self.submit(html, url, charset)
        return self.collect()

    def parse_feed(self, data: bytes, content_type: str | None = None, base_url: str | None = None):
        """``transforms.feedparse.parse_feed`` in the child, under the same
        timeout and memory cap as a page: feedparser is pure Python, and
        quadratic on some markup (a description with 80,000 attributes took
        80 s). Returns the ParsedFeed; raises FeedError, or SandboxError."""
        from transforms.feedparse import FeedError

        if self._queue:
            raise RuntimeError("collect() the pages in flight first")
        self._hand((FEED, data, content_type, base_url), len(data))
        res = self.collect()
        if "feed_error" in res:
            raise FeedError(*res["feed_error"])
        return res["feed"]

    def submit(self, html: str | bytes, url: str | None, charset: str | None = None) -> bool:
        """Hand a page (str, or bytes to decode with ``charset`` as the HTTP
        charset) to the child and return at once. With nothing in flight it is
        always taken. Behind other pages (up to ``depth``) only when it fits in
        the child's empty pipe, so the write cannot block: a parent blocked on
        a child that hangs on the page before would never time it out. Returns
        whether it was taken."""
        return self._hand((html, url, charset), len(html))

    def _hand(self, message: tuple, size: int) -> bool:
        """``submit`` for any message the child serves; ``size``: its payload's length."""
        if self._queue:
            if len(self._queue) >= self.depth or not self._queue[-1].sent or self._broken or self._send is None:
                return False
            fd = self._send.fileno()
            room = _pipe_room(fd)
            if room < size:  # the pickle is at least as long as the page's bytes or characters
                return False
            data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
            frame = struct.pack("!i", len(data)) + data  # Connection's framing, which the child reads
            if len(frame) > room:
                return False
            os.set_blocking(fd, False)
            try:
                written = os.write(fd, frame)
            except BlockingIOError:
                written = 0
            except (BrokenPipeError, ConnectionResetError, OSError):  # the child is gone: collect() says how,
                written = None  # and this page goes to the next child
            finally:
                os.set_blocking(fd, True)
            if written == 0:
                return False
            self._queue.append(_Page(message, None, time.monotonic()))
            if written is None:
                self._broken = True
            elif written != len(frame):  # cut short (not in an empty pipe this large): every page starts again
                self._kill()
                self._requeue()
            return True
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        now = time.monotonic()
        self._queue.append(_Page(message, now + self.timeout, now))
        try:
            self._send.send(message)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._broken = True
        return True

    def _requeue(self) -> None:
        """The pages left in flight when the child was killed (those behind the
        one it failed on) go to a new child, their time counted afresh: none of
        them is to blame. The first is sent now; the one behind it when the
        child has sent its result (``collect``), as the child then waits for it."""
        if not self._queue:
            return
        self._start()
        now = time.monotonic()
        for k, page in enumerate(self._queue):
            page.deadline, page.handed_at, page.sent = (now + self.timeout if k == 0 else None), now, k == 0
        try:
            self._send.send(self._queue[0].message)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self._broken = True

    def collect(self) -> dict[str, Any]:
        """The result of the oldest page handed over; raises SandboxError."""
        if not self._queue:
            raise RuntimeError("nothing submitted")
        page = self._queue.popleft()
        deadline, what = page.deadline, ("feed parsing" if _is_feed(page.message) else "extraction")
        reply = failure = None
        try:
            if self._broken and not self._conn.poll(0):
                raise BrokenPipeError("the extraction process closed its input")
            if self._conn.poll(max(0.0, deadline - time.monotonic())):
                reply = self._conn.recv()
            else:
                failure = SandboxError("timeout", f"{what} took longer than {self.timeout:g} s")
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as e:
            code = self._proc.wait(5) if self._proc else None
            failure = SandboxError("crashed", f"{what} process died (exit code {code}): {type(e).__name__}")
        if failure is not None:  # this child is done for; the pages behind this one go to a new one
            self._kill()
            self._requeue()
            raise failure
        *reply, sent_at = reply
        if self._queue and self._queue[0].deadline is None:
            nxt = self._queue[0]
            if nxt.sent:  # the child started it when it sent this result
                nxt.deadline = max(sent_at, nxt.handed_at) + self.timeout
            else:  # the child waits for it: a blocking send is read at once
                nxt.deadline, nxt.sent = time.monotonic() + self.timeout, True
                try:
                    self._send.send(nxt.message)
                except (BrokenPipeError, ConnectionResetError, OSError):
                    self._broken = True
        if reply[0] == "ok":
            return reply[1]
        _, reason, message = reply
        if reason == "memory":  # the child may be left in a bad state; start afresh
            self._kill()
            self._requeue()
        raise SandboxError(reason, message)

    def done(self) -> bool:
        """The oldest page handed over can be collected now without waiting
        (its result, the child's death or its deadline is there)."""
        if not self._queue:
            return False
        if self._broken or self._deadline <= time.monotonic():
            return True
        try:
            return self._conn.poll(0)
        except (EOFError, OSError):
            return True

    def restart(self) -> None:
        """Drop the child after a reply that could not be read (the oldest
        page is gone with it); the pages behind it go to a new one."""
        self._kill()
        self._requeue()

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
        if self._queue:
            self._queue.clear()
            self._kill()
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._send.send(None)
                self._proc.wait(2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._kill()


def first_done(sandboxes: list[Sandbox]) -> Sandbox:
    """Of the busy sandboxes, the first whose oldest page can be collected,
    waiting for it; among several ready at once the one whose page started
    first (the earliest deadline), so a slow page never holds back the others."""
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
    # told to stop, or its parent gone: nothing is left to write, and the interpreter's teardown of
    # trafilatura, readability and lxml took ~60 ms a child at the end of every run
    os._exit(0)
