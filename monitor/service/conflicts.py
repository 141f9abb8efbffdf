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
it, when and on which tablet (:class:`AlreadyDoneError`: "Already acknowledged by N. Quinn
at 10:42 on tablet Room-2"; the tablet is read from the first one's audit entry), never
shown a database error.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, select

from monitor.clinical.validation import FieldError
from monitor.clock import ensure_utc
from monitor.service.views import AlreadyDoneError, ConflictingRetryError
from monitor.storage import audit, queries

#: The audit actions that record a row of each once-only table, by the id it is once for.
_AUDITED_AS: dict[str, tuple[str, ...]] = {
    queries.ACKNOWLEDGEMENTS.name: ("acknowledge",),
    queries.CORRECTIONS.name: ("void", "amend"),
}


def refuse_changed_retry(connection: Connection, kind: str, table: Table,
                         given: Mapping[str, Any], names: Sequence[str]) -> None:
    """A retry of an entry whose id is stored: :class:`ConflictingRetryError` naming each
    field of ``names`` whose given value is not the stored one; nothing when all match."""
    stored = connection.execute(select(table).where(table.c.id == given["id"])).one()
    errors = retry_errors(kind, dict(stored._mapping), {name: given[name] for name in names})
    if errors:
        raise ConflictingRetryError(errors)


def refuse_second(connection: Connection, table: Table, column: str, value: uuid.UUID,
                  *, own_id: uuid.UUID | None = None, done: str, field_name: str) -> None:
    """Raise :class:`AlreadyDoneError` when a row other than ``own_id`` of ``table``
    has ``column`` = ``value``, naming who entered it, when, and on which tablet."""
    staff = queries.STAFF
    row = connection.execute(
        select(staff.c.name, table.c.recorded_at, table.c.session_id)
        .join(staff, staff.c.id == table.c.entered_by)
        .where(table.c[column] == value,
               *((table.c.id != own_id,) if own_id is not None else ()))
        .order_by(table.c.recorded_at).limit(1)).first()
    if row is not None:
        tablet = audit.tablet_of(connection, session_id=row[2], record_id=value,
                                 actions=_AUDITED_AS.get(table.name, ()))
        raise AlreadyDoneError(field_name, already_done(done, row[0], row[1], tablet))


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


def already_done(what: str, name: str | None, at: datetime | None,
                 tablet: str | None = None) -> str:
    """ "Already acknowledged by N. Quinn at 10:42 on tablet Room-2": the time in the
    tablet's local time, as the screens show times; the tablet when it is known."""
    who = f" by {name}" if name else ""
    when = f" at {ensure_utc(at).astimezone():%H:%M}" if at is not None else ""
    where = f" on tablet {tablet}" if tablet else ""
    return f"Already {what}{who}{when}{where}"
