"""Retries and races between tablets, told in words a nurse can act on.

Every entry carries an id the tablet made before the first attempt. A save whose outcome
was unknown (the link dropped around COMMIT) is retried with the same id: the same values
are the same entry, stored once; other values under that id are refused with
:class:`ConflictingRetryError`, naming what differs, never reported "Saved".

Two tablets doing the one thing that may be done once are refused by the database, not
by luck: acknowledging a flag and correcting an entry by unique indexes (migration 0010);
signing a discharge and checking in on a chair (or a patient) by taking turns under a
PostgreSQL advisory lock held to COMMIT (SQLite has one writer); flags, whose ids are
their episode's, by an insert that keeps the stored row. The second tablet is told who did
it and when (:class:`AlreadyDoneError`), never shown a database error.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitor.clinical.validation import FieldError
from monitor.clock import ensure_utc

# The error types (ConflictingRetryError, AlreadyDoneError) are in monitor.service.views, beside
# InvalidEntryError, which they extend.


def differences(stored: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    """The names of the fields whose given value is not the stored one, in given order."""
    return [name for name, value in given.items()
            if _comparable(stored.get(name)) != _comparable(value)]


def _comparable(value: Any) -> Any:
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, list | tuple):
        return tuple(_comparable(v) for v in value)
    if isinstance(value, Mapping):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, str):
        return value.strip()
    return value


def retry_errors(kind: str, stored: Mapping[str, Any], given: Mapping[str, Any]
                 ) -> list[FieldError]:
    """One field error per differing field of a retried ``kind`` whose values changed."""
    return [
        FieldError(name, f"This {kind} was already saved with {name} "
                         f"{_shown(stored.get(name))}, not {_shown(given[name])}; "
                         "enter a new one or correct the saved one")
        for name in differences(stored, given)
    ]


def _shown(value: Any) -> str:
    if value is None:
        return "empty"
    if isinstance(value, datetime):
        return ensure_utc(value).strftime("%H:%M:%S")
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


def already_done(what: str, name: str | None, at: datetime | None) -> str:
    """ "Already acknowledged by N. Quinn at 10:42" """
    who = f" by {name}" if name else ""
    when = f" at {ensure_utc(at).strftime('%H:%M')}" if at is not None else ""
    return f"Already {what}{who}{when}"
