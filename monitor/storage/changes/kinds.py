"""What a change is, and which changes an audit entry announces.

Every write appends an audit entry in its own transaction (:mod:`monitor.storage.audit`), so the
trail is the list of committed changes and its sequence number ``seq`` a cursor: "what
changed since N" is one query. :func:`changes_of` maps one entry to the changes it
announces; the announcement made inside the writing transaction and the catch-up query of a
listener that was away use it alike, so both tell the same story.

Flags have no audit entry of their own: they are raised inside the save that stored the
reading or event, stamped with that save's time. The changes of an entry include the flags
of its session raised at the entry's time; a save with several entries (an import) names
its flags more than once, and the feed passes each flag on once.

No patient values travel: a change names the kind, the record and session ids, the chair,
the time, the staff member's id and a severity.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Table, bindparam, select

from monitor.clinical.domain import Severity
from monitor.storage.model import AuditLog, FlagRow, TreatmentSession


class ChangeKind(StrEnum):
    SESSION = "session"
    READING = "reading"
    EVENT = "event"
    FLAG = "flag"
    ACKNOWLEDGEMENT = "acknowledgement"
    CORRECTION = "correction"
    SIGNOFF = "signoff"
    STAFF = "staff"
    #: The bedside monitor of the session's chair is sending (announced every 30 s or so).
    MONITOR = "monitor"


#: (audit action, record kind) → the change announced. Entries not listed (sign-in, lock,
#: export, refusals, patient and protocol entries) change nothing another screen shows.
KINDS: Mapping[tuple[str, str], ChangeKind] = {
    ("create", "session"): ChangeKind.SESSION,
    ("import", "session"): ChangeKind.SESSION,
    ("create", "reading"): ChangeKind.READING,
    # A bedside monitor's reading waiting for the nurse's confirmation.
    ("receive", "device_reading"): ChangeKind.READING,
    # The session's bedside monitor is sending (its state on the tiles, the feed-lost flag).
    ("receive", "monitor"): ChangeKind.MONITOR,
    ("create", "event"): ChangeKind.EVENT,
    ("acknowledge", "flag"): ChangeKind.ACKNOWLEDGEMENT,
    ("void", "reading"): ChangeKind.CORRECTION,
    ("void", "event"): ChangeKind.CORRECTION,
    ("amend", "reading"): ChangeKind.CORRECTION,
    ("amend", "event"): ChangeKind.CORRECTION,
    ("sign", "event"): ChangeKind.SIGNOFF,
    ("override", "event"): ChangeKind.SIGNOFF,
    ("staff_add", "staff"): ChangeKind.STAFF,
    ("staff_disable", "staff"): ChangeKind.STAFF,
    ("pin_reset", "staff"): ChangeKind.STAFF,
}

#: The entries whose save may have raised flags (it ran the rules or stored a flag row).
RAISES_FLAGS = frozenset({
    ChangeKind.SESSION, ChangeKind.READING, ChangeKind.EVENT, ChangeKind.ACKNOWLEDGEMENT,
    ChangeKind.CORRECTION, ChangeKind.SIGNOFF,
})


@dataclass(frozen=True)
class Change:
    """One committed change. ``seq`` is the audit entry that announced it.

    ``record_id`` is the reading, event, flag, session or staff member; for an
    acknowledgement the flag acknowledged, for a correction the entry corrected, for a
    sign-off its event. ``severity`` is ``advisory``, ``warning`` or ``critical`` for a flag,
    an acknowledgement (of the flag) and a reading that raised flags (the worst); else None.
    """

    seq: int
    kind: ChangeKind
    session_id: uuid.UUID | None
    record_id: uuid.UUID | None
    chair: str | None
    time: datetime
    by: uuid.UUID | None
    severity: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The documented line of ``python -m monitor watch --json`` (docs/cli.md)."""
        return {
            "kind": self.kind.value,
            "session_id": _uuid_text(self.session_id),
            "chair": self.chair,
            "record_id": _uuid_text(self.record_id),
            "time": self.time.astimezone(UTC).isoformat(),
            "by": _uuid_text(self.by),
            "severity": self.severity,
        }


@dataclass(frozen=True)
class Entry:
    """The columns of an audit entry that say what changed."""

    seq: int
    at: datetime
    staff_id: uuid.UUID | None
    action: str
    record_kind: str
    record_id: uuid.UUID | None
    session_id: uuid.UUID | None
    #: The severity recorded in the entry's new values (acknowledgements), if any.
    severity: int | None = None


@dataclass(frozen=True)
class RaisedFlag:
    id: uuid.UUID
    severity: int
    reading_id: uuid.UUID | None


def kind_of(action: str, record_kind: str) -> ChangeKind | None:
    return KINDS.get((action, record_kind))


def severity_name(value: int | None) -> str | None:
    if value is None:
        return None
    try:
        return Severity(value).name.lower()
    except ValueError:
        return None


def changes_of(entry: Entry, chair: str | None, flags: Sequence[RaisedFlag]) -> list[Change]:
    """The changes an audit entry announces: its own, then the flags raised with it."""
    kind = kind_of(entry.action, entry.record_kind)
    if kind is None:
        return []
    if kind not in RAISES_FLAGS:
        flags = ()
    severity = entry.severity
    if kind is ChangeKind.READING:
        raised = [f.severity for f in flags if f.reading_id == entry.record_id]
        severity = max(raised) if raised else None
    own = Change(entry.seq, kind, entry.session_id, entry.record_id, chair, entry.at,
                 entry.staff_id, severity_name(severity))
    return [own, *(Change(entry.seq, ChangeKind.FLAG, entry.session_id, f.id, chair, entry.at,
                          entry.staff_id, severity_name(f.severity)) for f in flags)]


# -- payloads -----------------------------------------------------------------------------

#: PostgreSQL refuses a NOTIFY payload of 8000 bytes or more; a longer announcement names
#: only its sequence number and the listener reads the changes from the trail.
MAX_PAYLOAD = 7000


def entry_json(entry: Entry) -> str:
    """The entry's part of an announcement (the server adds the chair and the flags)."""
    return json.dumps({
        "at": entry.at.astimezone(UTC).isoformat(), "by": _uuid_text(entry.staff_id),
        "action": entry.action, "record_kind": entry.record_kind,
        "record_id": _uuid_text(entry.record_id), "session_id": _uuid_text(entry.session_id),
        "severity": entry.severity,
    }, separators=(",", ":"))


def parse_payload(text: str) -> tuple[int, list[Change] | None]:
    """An announcement's sequence number and changes (None: read them from the trail).

    The announcement carries the entry, its session's chair and the flags raised with it,
    the arguments of :func:`changes_of`, which maps them here as it does when catching up.
    """
    data = json.loads(text)
    seq = int(data["seq"])
    if "entry" not in data:
        return seq, None
    item = data["entry"]
    entry = Entry(seq, datetime.fromisoformat(item["at"]), _uuid(item["by"]), item["action"],
                  item["record_kind"], _uuid(item["record_id"]), _uuid(item["session_id"]),
                  item["severity"])
    flags = [RaisedFlag(uuid.UUID(f["id"]), int(f["severity"]), _uuid(f["reading_id"]))
             for f in data["flags"] or ()]
    return seq, changes_of(entry, data["chair"], flags)


def _uuid(value: str | None) -> uuid.UUID | None:
    return None if value is None else uuid.UUID(value)


def _uuid_text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)


# -- reading changes from the database ----------------------------------------------------

def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


_AUDIT = _table(AuditLog)
_SESSIONS = _table(TreatmentSession)
_FLAGS = _table(FlagRow)

_HEAD_SEQ = select(_AUDIT.c.seq).order_by(_AUDIT.c.seq.desc()).limit(1)

_ENTRIES_SINCE = (
    select(_AUDIT.c.seq, _AUDIT.c.at, _AUDIT.c.staff_id, _AUDIT.c.action,
           _AUDIT.c.record_kind, _AUDIT.c.record_id, _AUDIT.c.session_id, _AUDIT.c.new,
           _SESSIONS.c.chair)
    .select_from(_AUDIT)
    .outerjoin(_SESSIONS, _SESSIONS.c.id == _AUDIT.c.session_id)
    .where(_AUDIT.c.seq > bindparam("last"))
    .order_by(_AUDIT.c.seq)
)

_FLAGS_SINCE = (
    select(_FLAGS.c.id, _FLAGS.c.session_id, _FLAGS.c.raised_at, _FLAGS.c.severity,
           _FLAGS.c.reading_id)
    .where(select(_AUDIT.c.seq)
           .where(_AUDIT.c.seq > bindparam("last"), _AUDIT.c.session_id == _FLAGS.c.session_id,
                  _AUDIT.c.at == _FLAGS.c.raised_at)
           .exists())
    .order_by(_FLAGS.c.severity.desc(), _FLAGS.c.id)
)


def head_seq(connection: Connection) -> int:
    """The newest audit sequence number (0 for an empty trail)."""
    return int(connection.execute(_HEAD_SEQ).scalar() or 0)


def changes_since(connection: Connection, last: int) -> tuple[int, list[Change]]:
    """Everything committed after audit entry ``last``: the newest seq read, and the changes.

    Two statements, however long the gap.
    """
    rows = connection.execute(_ENTRIES_SINCE, {"last": last}).all()
    if not rows:
        return last, []
    flags: dict[tuple[uuid.UUID, datetime], list[RaisedFlag]] = {}
    if any(row.session_id is not None for row in rows):
        for flag in connection.execute(_FLAGS_SINCE, {"last": last}):
            flags.setdefault((flag.session_id, flag.raised_at), []).append(
                RaisedFlag(flag.id, flag.severity, flag.reading_id))
    changes: list[Change] = []
    for row in rows:
        entry = Entry(row.seq, row.at, row.staff_id, row.action, row.record_kind,
                      row.record_id, row.session_id, _recorded_severity(row.new))
        changes.extend(changes_of(entry, row.chair, flags.get((row.session_id, row.at), ())))
    return rows[-1].seq, changes


def _recorded_severity(new: str | None) -> int | None:
    if not new or '"severity"' not in new:
        return None
    value = json.loads(new).get("severity")
    return value if isinstance(value, int) else None
