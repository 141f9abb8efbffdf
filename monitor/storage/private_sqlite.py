"""A small SQLite file of the tablet's own, private to its user (outbox, copy).

The outbox and the tablet's copy are each one file beside the drafts: folder 0700, the file
and its ``-wal``/``-shm`` 0600, WAL, one connection shared by the app's threads under a
lock, and every write in a ``BEGIN IMMEDIATE`` transaction. They differ in what they keep
and in durability: the outbox is the only copy of what it holds (``synchronous=FULL``), the
tablet's copy can be read again from the server (``NORMAL``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from monitor.storage.private_files import create_private_file, make_private_dir, tighten_sqlite


class PrivateSQLite:
    """One private SQLite file, its schema made on opening; ``synchronous``: FULL or NORMAL."""

    def __init__(self, path: Path, schema: str, *, synchronous: str) -> None:
        self.path = Path(path)
        make_private_dir(self.path.parent)
        create_private_file(self.path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.execute("PRAGMA busy_timeout=5000")
        with self._transaction() as db:
            for statement in schema.split(";"):
                if statement.strip():
                    db.execute(statement)
        tighten_sqlite(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
