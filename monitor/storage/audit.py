"""The tamper-evident audit trail.

Every change to the record, every sign-in and failed sign-in, lock, export, refusal and
protocol change is appended to ``audit_log`` by :func:`append`, inside the transaction of
the action it records, with who did it, when (UTC), the action, the record and its old and
new values. The table is append-only: triggers refuse UPDATE and DELETE (SQLite and
PostgreSQL alike; see migration 0002). The changes an entry records are announced to the
other tablets in the same transaction (:mod:`monitor.storage.changes`): only committed ones are
heard.

Each entry carries ``mac = HMAC-SHA256(key, canonical(entry) ‖ seq ‖ previous mac)``, keyed
by a key derived from the secret kept outside the database (:func:`monitor.service.auth.audit_key`).
The newest mac is the chain *head*, printed on every export. :func:`verify` walks the chain
and names the first bad sequence number after any edit, deletion or reordering, and — given
a head recorded earlier — after the newest entries were cut off. Without the secret an
entry cannot be forged, nor the chain recomputed after an edit.

The tablet that wrote an entry is named in its new values, under :data:`TABLET_KEY`
(``{"sbp": 150, …, "tablet": "Room-2"}``), so the mac covers it and entries written before
tablets had names verify as they always did. The command line names no tablet (its entries
carry the OS account and host as their staff member). :func:`tablet_in` reads it back;
:func:`tablet_of` finds the tablet of a record's entry, for the second tablet in a race.

On PostgreSQL, appends take a transaction-scoped advisory lock, so two tablets appending at
once wait for each other instead of forking the chain; on SQLite the database's single
writer does the same, and the sequence number (the primary key) refuses a fork anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Table, insert, select, text

from monitor.storage.changes.announce import announce
from monitor.storage.model import AuditLog

#: The key of an entry's new values that names the tablet which wrote it.
TABLET_KEY = "tablet"
#: The mac before the first entry.
GENESIS = "0" * 64
#: Key of PostgreSQL's advisory lock serializing appends ("CSAUDIT" in ASCII).
PG_LOCK_KEY = 0x43534155444954


def _table() -> Table:
    table = AuditLog.__table__
    assert isinstance(table, Table)
    return table


AUDIT = _table()
_HEAD = select(AUDIT.c.seq, AUDIT.c.mac).order_by(AUDIT.c.seq.desc()).limit(1)
_INSERT = insert(AUDIT)
def encode(values: Mapping[str, Any] | None) -> str | None:
    """Old or new values as canonical JSON text (what the mac covers)."""
    if values is None:
        return None
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=_json_default,
                      ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    return str(value)


def _text(value: uuid.UUID | str | None) -> str | None:
    """A UUID as 32 hex digits: how SQLite stores it, so a raw row needs no conversion."""
    if value is None or isinstance(value, str):
        return value
    return value.hex


def _time_text(at: datetime | str) -> str:
    """UTC to the microsecond, as SQLite stores it (PostgreSQL returns a datetime)."""
    if isinstance(at, str):
        return at
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def compute_mac(
    key: bytes,
    *,
    seq: int,
    at: datetime,
    staff_id: uuid.UUID | None,
    action: str,
    record_kind: str,
    record_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    patient_id: uuid.UUID | None,
    old: str | None,
    new: str | None,
    previous: str,
) -> str:
    content = json.dumps(
        [seq, _time_text(at), _text(staff_id), action, record_kind, _text(record_id),
         _text(session_id), _text(patient_id), old, new, previous],
        separators=(",", ":"), ensure_ascii=False,
    )
    return hmac.new(key, content.encode("utf-8"), hashlib.sha256).hexdigest()


def _lock_head(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_LOCK_KEY})


def append(
    connection: Connection,
    key: bytes,
    *,
    at: datetime,
    staff_id: uuid.UUID | None,
    action: str,
    record_kind: str = "",
    record_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    tablet: str | None = None,
) -> str:
    """Append one entry in the caller's transaction; returns its mac (the new head).

    ``tablet``: the name of the tablet writing it, kept in the new values
    (:data:`TABLET_KEY`); None for the command line.
    """
    if tablet:
        new = {**(new or {}), TABLET_KEY: tablet}
    _lock_head(connection)
    head = connection.execute(_HEAD).first()
    seq = 1 if head is None else head.seq + 1
    previous = GENESIS if head is None else head.mac
    old_text, new_text = encode(old), encode(new)
    # Stored times have microsecond precision on both backends; the mac covers that value.
    mac = compute_mac(
        key, seq=seq, at=at, staff_id=staff_id, action=action, record_kind=record_kind,
        record_id=record_id, session_id=session_id, patient_id=patient_id,
        old=old_text, new=new_text, previous=previous,
    )
    connection.execute(_INSERT, {
        "seq": seq, "at": at, "staff_id": staff_id, "action": action,
        "record_kind": record_kind, "record_id": record_id, "session_id": session_id,
        "patient_id": patient_id, "old": old_text, "new": new_text, "mac": mac,
    })
    announce(connection, seq=seq, at=at, staff_id=staff_id, action=action,
             record_kind=record_kind, record_id=record_id, session_id=session_id, new=new)
    return mac


def tablet_in(new: str | Mapping[str, Any] | None) -> str:
    """The tablet named in an entry's new values (stored JSON text or read back), or ""."""
    if isinstance(new, str):
        try:
            new = json.loads(new)
        except ValueError:
            return ""
    if not isinstance(new, Mapping):
        return ""
    tablet = new.get(TABLET_KEY)
    return tablet if isinstance(tablet, str) else ""


def without_tablet(new: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """An entry's new values without the tablet's name (None when nothing else is left)."""
    if new is None or TABLET_KEY not in new:
        return new
    rest = {key: value for key, value in new.items() if key != TABLET_KEY}
    return rest or None


def tablet_of(connection: Connection, *, session_id: uuid.UUID | None,
              record_id: uuid.UUID | None, actions: Iterable[str]) -> str:
    """The tablet that wrote the first entry ``actions`` of ``record_id`` in the session, or
    "" (none found, or written by the command line or before tablets had names)."""
    if record_id is None:
        return ""
    row = connection.execute(
        select(AUDIT.c.new)
        .where(AUDIT.c.session_id == session_id, AUDIT.c.record_id == record_id,
               AUDIT.c.action.in_(list(actions)))
        .order_by(AUDIT.c.seq).limit(1)).first()
    return "" if row is None else tablet_in(row.new)


def head(connection: Connection) -> str:
    """The newest entry's mac (the chain head), or :data:`GENESIS` when there is none."""
    row = connection.execute(_HEAD).first()
    return GENESIS if row is None else str(row.mac)


@dataclass(frozen=True)
class Verification:
    """What :func:`verify` found.

    ``first_bad`` is the first sequence number at fault (None when intact); ``message``
    says what is wrong in a sentence.
    """

    entries: int
    head: str
    first_bad: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify_rows(rows: Iterable[Any], key: bytes, expected_head: str | None = None) -> Verification:
    """Walk ``rows`` (in sequence order) and check every mac and the chain's continuity."""
    previous = GENESIS
    expected = 1
    count = 0
    macs_seen: dict[str, int] = {GENESIS: 0}
    digest = hmac.new
    sha = hashlib.sha256
    dumps = json.dumps
    text_, time_text = _text, _time_text
    for row in rows:
        seq = row[0]
        if seq != expected:
            if seq > expected:
                what = (f"entry {expected} is missing" if seq == expected + 1
                        else f"entries {expected}–{seq - 1} are missing")
            else:
                what = f"entry {seq} appears out of order"
            return Verification(count, previous, expected, f"audit trail broken at {expected}: "
                                f"{what}")
        content = dumps(
            [seq, time_text(row[1]), text_(row[2]), row[3], row[4], text_(row[5]),
             text_(row[6]), text_(row[7]), row[8], row[9], previous],
            separators=(",", ":"), ensure_ascii=False,
        )
        mac = digest(key, content.encode("utf-8"), sha).hexdigest()
        if not hmac.compare_digest(mac, row[10]):
            return Verification(count, previous, seq, f"audit trail broken at {seq}: the entry "
                                "was changed, moved or replaced")
        previous = mac
        if expected_head is not None:
            macs_seen[mac] = seq
        expected += 1
        count += 1
    if expected_head is not None and expected_head.lower() not in macs_seen:
        # A head recorded earlier (on an export) must still be in the trail; later entries
        # may follow it. Not found: the newest entries up to that head were cut off.
        return Verification(count, previous, expected, f"audit trail broken at {expected}: the "
                            "newest entries are missing (the given head is not in the trail)")
    return Verification(count, previous)


#: The trail as the driver returns it: no per-value conversion, for speed on long trails.
#: SQLite stores UUIDs as 32 hex digits and times as UTC text already; PostgreSQL is asked
#: for the same text.
_RAW_ALL = {
    "sqlite": "SELECT seq, at, staff_id, action, record_kind, record_id, session_id, "
              "patient_id, old, new, mac FROM audit_log ORDER BY seq",
    "postgresql": "SELECT seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), "
                  + ", ".join(f"replace({c}::text, '-', '')" for c in ("staff_id",))
                  + ", action, record_kind, "
                  + ", ".join(f"replace({c}::text, '-', '')"
                              for c in ("record_id", "session_id", "patient_id"))
                  + ", old, new, mac FROM audit_log ORDER BY seq",
}


def verify(connection: Connection, key: bytes, expected_head: str | None = None) -> Verification:
    """Check the whole audit trail in the database behind ``connection``."""
    result = connection.execution_options(stream_results=True, yield_per=5000).exec_driver_sql(
        _RAW_ALL[connection.dialect.name])
    return verify_rows(result, key, expected_head)
