"""Times in UTC, with no heavy import: the records, the WARC reader and the
feed parser (which runs in the extraction child, where pyarrow is not
loaded) read times the same way."""
from __future__ import annotations

import datetime as _dt

__all__ = ["as_utc"]


def as_utc(ts: _dt.datetime) -> _dt.datetime | None:
    """``ts`` in UTC. One without a zone is taken as UTC, never as the
    machine's local time (two machines would write two outputs); None when
    its offset carries it past the calendar's end
    (``9999-12-31T23:59:59-12:00`` raises ``OverflowError``)."""
    if ts.tzinfo is None:
        return ts.replace(tzinfo=_dt.timezone.utc)
    try:
        return ts.astimezone(_dt.timezone.utc)
    except OverflowError:
        return None
