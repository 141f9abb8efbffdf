"""A deadline on every wait for the PostgreSQL server, kept by this device.

A clinic server that hangs — its processes stopped, its virtual machine paused — still has
a kernel that acknowledges TCP: keepalives are answered, ``tcp_user_timeout`` never runs
out, and the server's own ``statement_timeout`` cannot fire either. A statement sent to it
waits for ever, and with it the save, the outbox and the "server unreachable" banner.

:class:`~monitor.storage.deadline_connection.DeadlineConnection` is psycopg's connection
with one change: every wait for the server's answer (a statement, a COMMIT, a pipeline's
results, a fetch of a server-side cursor) ends when nothing has arrived from the server for
``no_answer_s`` seconds while a command is in progress. The connection then closes its own
socket (``pgconn.finish()``, in the thread that waits, so nothing races it) and the call
raises ``NoAnswerError``, a ``psycopg.OperationalError``: SQLAlchemy sees the connection
closed, invalidates it, and :func:`monitor.storage.store.classify` names it ``unreachable``;
a cut during COMMIT is an unknown outcome, as for any link lost there. Waiting for
notifications (``LISTEN``, no command in progress) is not limited. psycopg's
``Connection.cancel()`` would not help: the postmaster that would receive the cancel request
is stopped too.

Progress is anything the server sends: a long query whose rows keep arriving, or a server
that answers slowly but answers, is never cut. The default is the statement timeout plus
:data:`MARGIN_MS` (the server gives up on a slow statement first and says so, reported as
"busy"); ``CHAIRSIDE_PG_NO_ANSWER_MS`` sets another (0: no deadline).

The connections of this process to one server share a :class:`Cuts` (:func:`cuts_of`): once
one of them was cut, those made before the cut are :func:`suspect`: the pool refuses them at
their next checkout, so the next call connects afresh (bounded by ``connect_timeout``)
instead of waiting out the deadline again on the same hung server, and the change feed
drops its connection and connects again (it would otherwise notice only at its next probe).

This module imports no psycopg (a tablet on its SQLite file never loads it); the connection
class is in :mod:`monitor.storage.deadline_connection`, loaded when a PostgreSQL engine
first connects.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from monitor.storage.deadline_connection import DeadlineConnection

#: Environment variable: milliseconds without an answer before the connection is cut.
NO_ANSWER_ENV = "CHAIRSIDE_PG_NO_ANSWER_MS"
#: The default deadline is the statement timeout plus this (the server's own limit first).
MARGIN_MS = 5000


class CutElsewhereError(ConnectionError):
    """Another connection to the same server was cut since this one was made."""


class Cuts:
    """When a connection of this process to one server was last cut (monotonic seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: float | None = None
        self.count = 0

    def cut(self, at: float) -> None:
        with self._lock:
            self.last = at
            self.count += 1


_SERVERS: dict[tuple[str, int], Cuts] = {}
_SERVERS_LOCK = threading.Lock()


def cuts_of(host: str | None, port: int | None) -> Cuts:
    """The :class:`Cuts` of the server at ``host``:``port`` (one per process)."""
    key = (host or "", port or 5432)
    with _SERVERS_LOCK:
        return _SERVERS.setdefault(key, Cuts())


def suspect(dbapi_connection: Any) -> bool:
    """Whether a connection was made before another one to the same server was cut: that
    server stopped answering then (see :class:`Cuts`)."""
    cuts: Cuts | None = getattr(dbapi_connection, "cuts", None)
    made_at: float = getattr(dbapi_connection, "made_at", 0.0)
    return cuts is not None and cuts.last is not None and made_at <= cuts.last


def connector(no_answer_s: float | None, host: str | None, port: int | None
              ) -> Callable[..., DeadlineConnection]:
    """A ``do_connect`` listener for an engine of the server at ``host``:``port``: its
    connections keep the deadline (``no_answer_s`` None or 0: none)."""
    no_answer_s = no_answer_s or None
    cuts = cuts_of(host, port)

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> DeadlineConnection:
        from monitor.storage.deadline_connection import DeadlineConnection  # noqa: PLC0415

        connection = DeadlineConnection.connect(*cargs, **cparams)
        connection.no_answer_s = no_answer_s
        connection.cuts = cuts
        connection.made_at = connection.monotonic()
        return connection

    return connect


@contextmanager
def suspended(dbapi_connection: Any) -> Iterator[None]:
    """No deadline on this connection for the block (a migration that rebuilds an index
    may keep the server busy longer without a word)."""
    if not hasattr(dbapi_connection, "no_answer_s"):
        yield
        return
    before = dbapi_connection.no_answer_s
    dbapi_connection.no_answer_s = None
    try:
        yield
    finally:
        dbapi_connection.no_answer_s = before


#: ``-c statement_timeout=…`` in libpq's ``options``, and PostgreSQL's units of time (ms).
_STATEMENT_TIMEOUT = re.compile(r"statement_timeout\s*=\s*'?(\d+)\s*(ms|s|min|h|d)?'?\b")
_UNIT_MS = {None: 1, "ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def statement_timeout_in(options: object) -> int | None:
    """The statement timeout (ms) that libpq ``options`` set, if they set one readably."""
    found = _STATEMENT_TIMEOUT.search(str(options or ""))
    return None if found is None else int(found.group(1)) * _UNIT_MS[found.group(2)]


def no_answer_s(statement_timeout_ms: int, invalid: type[Exception] = ValueError,
                options: object = None) -> float | None:
    """The deadline in seconds: ``CHAIRSIDE_PG_NO_ANSWER_MS`` if set (0: none), else the
    statement timeout plus :data:`MARGIN_MS` (none when statements have no limit either).
    A statement timeout in the URL's ``options`` counts instead of ``statement_timeout_ms``
    (a long scripted job that raised it there is not cut before the server gives up).

    Raises ``invalid`` naming the variable when its value is not a whole number."""
    given = os.environ.get(NO_ANSWER_ENV)
    in_url = statement_timeout_in(options)
    if in_url is not None:
        statement_timeout_ms = in_url
    if given is None:
        return None if statement_timeout_ms == 0 else (statement_timeout_ms + MARGIN_MS) / 1000
    if not given.strip().isdigit():
        raise invalid(f"{NO_ANSWER_ENV}: a whole number of milliseconds, 0 (no deadline) "
                      f"or more (got {given!r})")
    value = int(given)
    return None if value == 0 else value / 1000
