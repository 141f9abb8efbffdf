"""What a tablet of the clinic's server keeps so that it can start while the server is away.

A small SQLite file beside the outbox (``tablet-cache.sqlite3``; the file 0600, its folder
0700, :mod:`monitor.storage.private_files`) holds the tablet's copy as it last read it from
the server:

* ``staff`` — who may sign in: id, name, role, whether enabled, the PIN hash exactly as the
  server stores it (argon2id of the PIN peppered with the clinic's secret; never a PIN), and
  the wrong PINs in a row and the lock, counted here while the server is away;
* ``chairs`` — which session sits on each chair;
* ``views`` — each seated session as the server last gave it (its record, flags and the
  protocol version it runs under), as bytes made and checked by
  :mod:`monitor.service.offline`, which knows what they mean;
* ``signins`` — the sign-ins and wrong PINs checked on the copy, until the server's audit
  trail has them;
* ``meta`` — when the server was last read (``refreshed_at``), shown as "this tablet's copy
  from 10:42".

It is a copy, not the record: the record is on the server, and what is saved while it is
away goes to the outbox (:mod:`monitor.storage.outbox`), committed with ``synchronous=FULL``.
Here the journal is WAL with ``synchronous=NORMAL``: a refresh costs no flush to disk, and a
power cut loses at most the last refreshes (the copy is then a little older, and says from
when). Safe to use from several threads.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.storage.private_sqlite import PrivateSQLite

#: The cache file's name, beside the outbox.
CACHE_FILE = "tablet-cache.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    active INTEGER NOT NULL,
    pin_hash TEXT,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_at TEXT
);
CREATE TABLE IF NOT EXISTS chairs (
    chair TEXT PRIMARY KEY,
    session_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS views (
    session_id TEXT PRIMARY KEY,
    payload BLOB NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS signins (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    staff_id TEXT NOT NULL,
    action TEXT NOT NULL,
    at TEXT NOT NULL,
    detail TEXT NOT NULL
)
"""


def default_cache_path(draft_dir: Path) -> Path:
    """The cache beside the outbox and the drafts
    (:func:`monitor.storage.drafts.default_draft_dir`)."""
    return draft_dir.parent / CACHE_FILE


@dataclass(frozen=True)
class CachedStaff:
    """A staff member as this tablet last read them, with the wrong PINs counted since."""

    id: uuid.UUID
    name: str
    role: str
    active: bool
    pin_hash: str | None
    failed_logins: int
    locked_at: datetime | None


@dataclass(frozen=True)
class SignIn:
    """A sign-in checked on the copy: ``action`` as the audit trail names it."""

    id: uuid.UUID
    staff_id: uuid.UUID
    action: str
    at: datetime
    detail: Mapping[str, Any]


class TabletCache(PrivateSQLite):
    """The tablet's copy of what it needs to open without the server."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, synchronous="NORMAL")

    def _refreshed(self, db: sqlite3.Connection, at: datetime) -> None:
        db.execute("INSERT INTO meta (key, value) VALUES ('refreshed_at', ?) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (at.isoformat(),))

    # -- refreshed from the server -------------------------------------------------------

    def put_staff(self, staff: Iterable[CachedStaff], at: datetime) -> None:
        """Everyone who may sign in, as the server has them now (replacing the copy)."""
        rows = [(str(s.id), s.name, s.role, int(s.active), s.pin_hash, s.failed_logins,
                 s.locked_at.isoformat() if s.locked_at is not None else None) for s in staff]
        with self._transaction() as db:
            db.execute("DELETE FROM staff")
            db.executemany("INSERT INTO staff (id, name, role, active, pin_hash, "
                           "failed_logins, locked_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            self._refreshed(db, at)

    def put_chairs(self, seated: Mapping[str, uuid.UUID], chairs: Iterable[str],
                   at: datetime) -> None:
        """Which session sits on each of ``chairs`` (those not in ``seated`` are free).
        The views of sessions no longer on any chair go."""
        asked = list(chairs)
        with self._transaction() as db:
            db.executemany("DELETE FROM chairs WHERE chair = ?", [(c,) for c in asked])
            db.executemany("INSERT INTO chairs (chair, session_id) VALUES (?, ?)",
                           [(c, str(s)) for c, s in seated.items()])
            db.execute("DELETE FROM views WHERE session_id NOT IN "
                       "(SELECT session_id FROM chairs)")
            self._refreshed(db, at)

    def put_view(self, session_id: uuid.UUID, payload: bytes, at: datetime) -> None:
        """The session as the server last gave it (``payload``: made by the service)."""
        with self._transaction() as db:
            db.execute("INSERT INTO views (session_id, payload, saved_at) VALUES (?, ?, ?) "
                       "ON CONFLICT (session_id) DO UPDATE SET payload = excluded.payload, "
                       "saved_at = excluded.saved_at",
                       (str(session_id), payload, at.isoformat()))
            self._refreshed(db, at)

    # -- counted here while the server is away -------------------------------------------

    def set_failures(self, staff_id: uuid.UUID, failures: int,
                     locked_at: datetime | None) -> None:
        """The wrong PINs in a row of ``staff_id`` and their lock, counted on this tablet."""
        with self._transaction() as db:
            db.execute("UPDATE staff SET failed_logins = ?, locked_at = ? WHERE id = ?",
                       (failures, locked_at.isoformat() if locked_at is not None else None,
                        str(staff_id)))

    def note_signin(self, staff_id: uuid.UUID, action: str, at: datetime,
                    detail: Mapping[str, Any]) -> None:
        """A sign-in (or a refused one) checked on the copy, for the server's audit trail."""
        with self._transaction() as db:
            db.execute("INSERT INTO signins (id, staff_id, action, at, detail) "
                       "VALUES (?, ?, ?, ?, ?)",
                       (str(uuid.uuid4()), str(staff_id), action, at.isoformat(),
                        json.dumps(dict(detail), sort_keys=True)))

    def signins(self) -> list[SignIn]:
        """The sign-ins noted on the copy and not yet in the server's trail, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, staff_id, action, at, detail FROM signins ORDER BY seq").fetchall()
        return [SignIn(id=uuid.UUID(r[0]), staff_id=uuid.UUID(r[1]), action=r[2],
                       at=datetime.fromisoformat(r[3]), detail=json.loads(r[4])) for r in rows]

    def forget_signin(self, signin_id: uuid.UUID) -> None:
        """The server's audit trail has the sign-in."""
        with self._transaction() as db:
            db.execute("DELETE FROM signins WHERE id = ?", (str(signin_id),))

    # -- reading -------------------------------------------------------------------------

    def refreshed_at(self) -> datetime | None:
        """When the server was last read into this copy (None: never)."""
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM meta WHERE key = 'refreshed_at'").fetchone()
        return datetime.fromisoformat(row[0]) if row is not None else None

    def has_copy(self) -> bool:
        """Whether there is enough to start on: someone who may sign in."""
        with self._lock:
            row = self._db.execute(
                "SELECT count(*) FROM staff WHERE active = 1 AND pin_hash IS NOT NULL")
            return bool(row.fetchone()[0])

    def staff(self) -> list[CachedStaff]:
        """Everyone in the copy, by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, role, active, pin_hash, failed_logins, locked_at "
                "FROM staff ORDER BY name").fetchall()
        return [CachedStaff(id=uuid.UUID(r[0]), name=r[1], role=r[2], active=bool(r[3]),
                            pin_hash=r[4], failed_logins=r[5],
                            locked_at=datetime.fromisoformat(r[6]) if r[6] else None)
                for r in rows]

    def staff_member(self, staff_id: uuid.UUID) -> CachedStaff | None:
        return next((s for s in self.staff() if s.id == staff_id), None)

    def chairs(self, chairs: Iterable[str]) -> dict[str, uuid.UUID]:
        """The sessions seated on ``chairs`` in the copy."""
        wanted = set(chairs)
        with self._lock:
            rows = self._db.execute("SELECT chair, session_id FROM chairs").fetchall()
        return {chair: uuid.UUID(sid) for chair, sid in rows if chair in wanted}

    def view_payload(self, session_id: uuid.UUID) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT payload FROM views WHERE session_id = ?",
                                   (str(session_id),)).fetchone()
        return bytes(row[0]) if row is not None else None
