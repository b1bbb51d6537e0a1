"""NumPy arrays kept on disk between processes (word-frequency tables,
langdetect's profiles): built once per machine, read back in milliseconds.

Where: ``$NEWSBEAM_CACHE_DIR``, else ``$XDG_CACHE_HOME/newsbeam``, else
``~/.cache/newsbeam``. A cache only saves time: a file is written atomically
(a temporary file renamed over it), one that cannot be read is rebuilt and
replaced, and one that cannot be written is skipped with a warning.
"""
from __future__ import annotations

import logging
import os
import tempfile

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["cache_path", "load_arrays", "store_arrays"]


def cache_path(kind: str, name: str) -> str:
    root = os.environ.get("NEWSBEAM_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "newsbeam")
    return os.path.join(root, kind, name)


def load_arrays(path: str, what: str) -> dict[str, np.ndarray] | None:
    """The arrays of ``path``, or None when there is no such file or it cannot be read (said)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except FileNotFoundError:
        return None
    except Exception as e:  # a torn or foreign file: rebuilt, and replaced by the caller
        log.warning("%s cache %s unreadable (%s: %s); rebuilding it", what, path, type(e).__name__, e)
        return None


def store_arrays(path: str, what: str, **arrays: np.ndarray) -> None:
    """Write ``arrays`` to ``path`` atomically; a warning, not an error, when it cannot be written."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=os.path.dirname(path))
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as e:  # read-only home, full disk: the next process builds it again
        log.warning("%s cache %s not written (%s)", what, path, e)
