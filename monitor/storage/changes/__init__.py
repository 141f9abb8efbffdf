"""Live changes: every committed change of the record, announced to every open screen.

* :mod:`monitor.storage.changes.kinds` — what a change is (:class:`Change`) and how an audit entry
  maps to the changes it announces (one function, used live and when catching up).
* :mod:`monitor.storage.changes.announce` — the write side: inside the writing transaction, on
  PostgreSQL, ``pg_notify`` carries the entry's changes, so only committed changes are heard.
* :mod:`monitor.storage.changes.feed` — the read side: :class:`ChangeFeed`, a background thread that
  listens (PostgreSQL) or watches ``PRAGMA data_version`` (SQLite), reconnects with backoff,
  catches up by audit sequence number and hands each change once to its subscribers.

Qt-free; ``ui/`` turns changes into signals.
"""

from monitor.storage.changes.kinds import Change, ChangeKind

__all__ = ["Change", "ChangeKind"]
