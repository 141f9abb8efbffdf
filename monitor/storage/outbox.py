"""Entries saved on this tablet while the clinic's server could not be reached.

A tablet charting through a server outage keeps each entry here until the server has it:
a small SQLite file beside the drafts (WAL, ``synchronous=FULL``, the file 0600 and its
folder 0700, :mod:`monitor.storage.private_files`). :meth:`Outbox.hold` returns only after
the entry is committed to that file, so "Saved on this tablet" is true when it is said, and
a crash of the app or the tablet loses nothing held.

Entries are kept in the order they were held (``seq``); each carries the id the tablet made
for it before the first attempt (unique here, and the server stores a retry of the same id
and values once), what it is (``kind``), its session, and the arguments of the call as JSON.
An entry leaves the outbox only once the server has it (:meth:`Outbox.remove`); one the
server refused stays, marked with the server's words (:meth:`Outbox.refuse`), until a person
has seen it (:meth:`Outbox.dismiss`). Nothing here knows what the entries mean
(:mod:`monitor.service.tablet` does). Safe to use from several threads.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.storage.private_sqlite import PrivateSQLite

#: The outbox file's name, in the folder beside the drafts.
OUTBOX_FILE = "outbox.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS held (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    session_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    held_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    refused TEXT
);
CREATE INDEX IF NOT EXISTS held_by_session ON held (session_id, seq);
"""

_COLUMNS = "seq, entry_id, kind, session_id, payload, held_at, attempts, refused"


def default_outbox_path(draft_dir: Path) -> Path:
    """The outbox beside the drafts (:func:`monitor.storage.drafts.default_draft_dir`)."""
    return draft_dir.parent / OUTBOX_FILE


@dataclass(frozen=True)
class HeldEntry:
    """One entry held on this tablet: ``refused`` is the server's refusal ("" while it
    waits for the server)."""

    seq: int
    entry_id: uuid.UUID
    kind: str
    session_id: uuid.UUID
    payload: Mapping[str, Any]
    held_at: datetime
    attempts: int
    refused: str

    @property
    def waiting(self) -> bool:
        return not self.refused


class Outbox(PrivateSQLite):
    """The durable queue of entries held on this tablet, oldest first."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, _SCHEMA, synchronous="FULL")

    # -- writing -------------------------------------------------------------------------

    def hold(self, entry_id: uuid.UUID, kind: str, session_id: uuid.UUID,
             payload: Mapping[str, Any], held_at: datetime) -> HeldEntry:
        """Keep the entry; returns once it is committed to the file. Holding an id held
        already keeps the first (a retry of the same entry is the same entry)."""
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO held (entry_id, kind, session_id, payload, held_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (entry_id) DO NOTHING",
                (str(entry_id), kind, str(session_id), text, held_at.isoformat()))
        held = self.entry(entry_id)
        assert held is not None
        return held

    def attempted(self, entry_id: uuid.UUID) -> None:
        """One more try to give the entry to the server failed."""
        with self._transaction() as db:
            db.execute("UPDATE held SET attempts = attempts + 1 WHERE entry_id = ?",
                       (str(entry_id),))

    def remove(self, entry_id: uuid.UUID) -> None:
        """The server has the entry: it leaves the outbox."""
        with self._transaction() as db:
            db.execute("DELETE FROM held WHERE entry_id = ?", (str(entry_id),))

    def refuse(self, entry_id: uuid.UUID, message: str) -> None:
        """The server refused the entry: it stays, marked with ``message``, for a person to
        see; it is not offered to the server again."""
        with self._transaction() as db:
            db.execute("UPDATE held SET refused = ? WHERE entry_id = ?",
                       (message or "Refused by the server", str(entry_id)))

    def dismiss(self, entry_id: uuid.UUID) -> None:
        """A person has seen the refusal of the entry: it goes."""
        with self._transaction() as db:
            db.execute("DELETE FROM held WHERE entry_id = ? AND refused IS NOT NULL",
                       (str(entry_id),))

    # -- reading -------------------------------------------------------------------------

    def entry(self, entry_id: uuid.UUID) -> HeldEntry | None:
        return next(iter(self._select("WHERE entry_id = ?", (str(entry_id),))), None)

    def first_waiting(self) -> HeldEntry | None:
        """The oldest entry still waiting for the server."""
        return next(iter(self._select("WHERE refused IS NULL ORDER BY seq LIMIT 1", ())), None)

    def waiting(self, session_id: uuid.UUID | None = None) -> list[HeldEntry]:
        """The entries waiting for the server, oldest first (of ``session_id``, if given)."""
        if session_id is None:
            return self._select("WHERE refused IS NULL ORDER BY seq", ())
        return self._select("WHERE refused IS NULL AND session_id = ? ORDER BY seq",
                            (str(session_id),))

    def refused(self, session_id: uuid.UUID | None = None) -> list[HeldEntry]:
        """The entries the server refused, oldest first (of ``session_id``, if given)."""
        if session_id is None:
            return self._select("WHERE refused IS NOT NULL ORDER BY seq", ())
        return self._select("WHERE refused IS NOT NULL AND session_id = ? ORDER BY seq",
                            (str(session_id),))

    def count(self, session_id: uuid.UUID | None = None) -> int:
        """How many entries wait for the server (of ``session_id``, if given)."""
        with self._lock:
            if session_id is None:
                row = self._db.execute("SELECT count(*) FROM held WHERE refused IS NULL")
            else:
                row = self._db.execute(
                    "SELECT count(*) FROM held WHERE refused IS NULL AND session_id = ?",
                    (str(session_id),))
            return int(row.fetchone()[0])

    def _select(self, where: str, parameters: tuple[Any, ...]) -> list[HeldEntry]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM held {where}",
                                    parameters).fetchall()
        return [HeldEntry(seq=row[0], entry_id=uuid.UUID(row[1]), kind=row[2],
                          session_id=uuid.UUID(row[3]), payload=json.loads(row[4]),
                          held_at=datetime.fromisoformat(row[5]), attempts=row[6],
                          refused=row[7] or "")
                for row in rows]
