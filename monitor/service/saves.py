"""What a save sends to the database together, and the values it makes of what comes back.

A save on the clinic's Wi-Fi pays for every round trip (:mod:`monitor.storage.batch`): the
charting sends what it must know in one and what it writes, with the COMMIT, in the next.
These are the statements only the saves use, and the record's values made from the rows a
save wrote, so that nothing it wrote is read again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select

from monitor.clinical.domain import Event, EventKind, Reading, SessionRecord
from monitor.clock import ensure_utc
from monitor.storage import audit, queries
from monitor.storage.batch import Statement, run_together
from monitor.storage.records import READING_FIELDS


def head_reads(dialect_name: str) -> list[Statement]:
    """The audit trail's head, read with a save's other reads on PostgreSQL (under the
    appenders' lock, which :func:`read_together` takes first). None on SQLite: there the head
    is read after the save's first write, which takes the database's one write lock
    (:func:`commit_with_entry`)."""
    return audit.head_statements(dialect_name)[-1:] if dialect_name == "postgresql" else []


def read_together(connection: Connection, statements: Sequence[Statement]
                  ) -> list[list[Any]]:
    """The rows of ``statements``, sent in one round trip. On PostgreSQL the appenders' lock
    is taken first, so every read sees what the saves before this one committed: a save that
    read the session before another tablet's save committed into it would judge its flags
    on a record without that reading, and both would raise the first flag of one episode."""
    lock = audit.head_statements(connection.dialect.name)[:-1]
    return run_together(connection, [*lock, *statements])[len(lock):]


def head_rows(dialect_name: str, found: Sequence[list[Any]]) -> list[Any] | None:
    """The rows of :func:`head_reads` among ``found`` (they come last), or None on SQLite."""
    return found[-1] if dialect_name == "postgresql" else None


def commit_with_entry(connection: Connection, writes: list[Statement],
                      entry: Callable[[audit.Head], Statement], head: list[Any] | None,
                      reads_after: Sequence[Statement] = ()) -> list[list[Any]]:
    """Store ``writes``, the audit entry made after the head, read ``reads_after`` and, on
    PostgreSQL, COMMIT: all in one round trip. Returns the rows of ``reads_after``.

    ``head``: the rows of :func:`head_reads` (PostgreSQL); None on SQLite, where the head is
    read once the writes hold the write lock, so no other writer appends in between.
    """
    if head is None:
        run_together(connection, writes)
        found = run_together(connection, audit.head_statements(connection.dialect.name))
        return run_together(connection, [entry(audit.head_of(found[-1])), *reads_after])[1:]
    rows = run_together(connection, [*writes, entry(audit.head_of(head)), *reads_after],
                        end="COMMIT")
    return rows[len(writes) + 1:]


#: Whether a reading id is stored (a retry) and who enters it, by name; and the reading's
#: insert: a plain INSERT, so that an id stored meanwhile aborts the transaction (and its
#: audit entry) with it.
READING_STORED_AND_NAME = select(
    select(queries.READINGS.c.id).where(queries.READINGS.c.id == bindparam("reading_id"))
    .exists().label("stored"),
    select(queries.STAFF.c.name).where(queries.STAFF.c.id == bindparam("staff_id"))
    .scalar_subquery().label("name"))
INSERT_READING = insert(queries.READINGS)


def retry_fields(*, time_given: bool) -> tuple[str, ...]:
    """The fields a retry of a reading must repeat; its time only when given (a retry
    without one is timed by the retry's clock)."""
    return ("session_id", *(("time",) if time_given else ()), "note", "on_oxygen",
            *READING_FIELDS)


#: How far ahead of the server's clock a tablet's entered time may be: two machines' clocks
#: differ by a few seconds. Within it the entry counts as entered when the server received it.
ENTERED_AHEAD_TOLERANCE = timedelta(seconds=60)


def entered_time(entered_at: datetime | None, now: datetime, check_in: datetime
                 ) -> tuple[datetime, dict[str, Any]]:
    """When an entry was entered, and what its audit entry adds to its new values.

    ``entered_at``: the moment the nurse saved it on a tablet that held it while the server
    was away (None: entered now, at the server). The audit entry's own time stays the
    server's commit, so the receipt stays known; the tablet's time goes in its values. A
    tablet time more than :data:`ENTERED_AHEAD_TOLERANCE` ahead of the server's clock, or
    before the session's check-in, is not used (a tablet's clock must not date records): the
    entry is stored as entered at the server's receipt, and the audit entry says why.
    """
    if entered_at is None:
        return now, {}
    claimed = ensure_utc(entered_at)
    told = {"entered_on_tablet_at": claimed}
    if claimed > now + ENTERED_AHEAD_TOLERANCE:
        ahead = int((claimed - now).total_seconds())
        return now, {**told, "entered_time_not_used": (
            f"the tablet's time is {ahead} s ahead of the server's clock (more than "
            f"{int(ENTERED_AHEAD_TOLERANCE.total_seconds())} s): entered at the server's "
            "receipt")}
    if claimed < ensure_utc(check_in):
        return now, {**told, "entered_time_not_used": (
            "the tablet's time is before the session's check-in: entered at the server's "
            "receipt")}
    return min(claimed, now), told


def first(rows: list[Any]) -> Any:
    return rows[0] if rows else None


def reading_of(row: Mapping[str, Any], *, by_name: str) -> Reading:
    """The reading a new row stores, as the record reads it back."""
    values = {name: row[name] for name in (f.name for f in fields(Reading)) if name in row}
    for items in ("cadss6_items", "phq9_items", "gad7_items"):
        if values.get(items) is not None:
            values[items] = tuple(values[items])
    return Reading(**values, by=by_name)


#: Whether an event id is stored (a retry) and who enters it, by name; the event's insert.
EVENT_STORED_AND_NAME = select(
    select(queries.EVENTS.c.id).where(queries.EVENTS.c.id == bindparam("event_id"))
    .exists().label("stored"),
    select(queries.STAFF.c.name).where(queries.STAFF.c.id == bindparam("staff_id"))
    .scalar_subquery().label("name"))
INSERT_EVENT = insert(queries.EVENTS)


def event_of(row: Mapping[str, Any], *, by_name: str) -> Event:
    """The event a new row stores, as the record reads it back."""
    return Event(id=row["id"], time=row["time"], kind=EventKind(row["kind"]),
                 detail=row["detail"], recorded_at=row["recorded_at"], by=by_name,
                 data=row["data"] or {})


def with_event(record: SessionRecord, event: Event) -> SessionRecord:
    """``record`` with ``event`` among its events, in the record's order (time, then entry)."""
    events = sorted((*record.events, event),
                    key=lambda e: (e.time, e.recorded_at or e.time))
    return replace(record, events=tuple(events))


_ACKS = queries.ACKNOWLEDGEMENTS
#: The session's patient (None: no session) and whether the acknowledgement id is stored.
ACKNOWLEDGEMENT_CHECKS = select(
    select(queries.SESSIONS.c.patient_id).where(queries.SESSIONS.c.id == bindparam("session_id"))
    .scalar_subquery().label("patient_id"),
    select(_ACKS.c.id).where(_ACKS.c.id == bindparam("ack_id")).exists().label("stored"))
#: Who acknowledged the flag already, and when, if anyone did (another acknowledgement).
OTHER_ACKNOWLEDGEMENT = (
    select(queries.STAFF.c.name, _ACKS.c.recorded_at)
    .join(queries.STAFF, queries.STAFF.c.id == _ACKS.c.entered_by)
    .where(_ACKS.c.flag_id == bindparam("flag_id"), _ACKS.c.id != bindparam("ack_id"))
    .order_by(_ACKS.c.recorded_at).limit(1))
INSERT_ACKNOWLEDGEMENT = insert(_ACKS)
