"""A deadline on every wait for the PostgreSQL server, kept by this device.

A clinic server that hangs — its processes stopped, its virtual machine paused — still has
a kernel that acknowledges TCP: keepalives are answered, ``tcp_user_timeout`` never runs
out, and the server's own ``statement_timeout`` cannot fire either. A statement sent to it
waits for ever, and with it the save, the outbox and the "server unreachable" banner.

:class:`DeadlineConnection` is psycopg's connection with one change: every wait for the
server's answer (a statement, a COMMIT, a pipeline's results, a fetch of a server-side
cursor) ends when nothing has arrived from the server for ``no_answer_s`` seconds while a
command is in progress. The connection then closes its own socket (``pgconn.finish()``, in
the thread that waits, so nothing races it) and the call raises :class:`NoAnswerError`, a
``psycopg.OperationalError``: SQLAlchemy sees the connection closed, invalidates it, and
:func:`monitor.storage.store.classify` names it ``unreachable``; a cut during COMMIT is an
unknown outcome, as for any link lost there. Waiting for notifications (``LISTEN``, no
command in progress) is not limited. psycopg's ``Connection.cancel()`` would not help: the
postmaster that would receive the cancel request is stopped too.

Progress is anything the server sends: a long query whose rows keep arriving, or a server
that answers slowly but answers, is never cut. The default is the statement timeout plus
:data:`MARGIN_MS` (the server gives up on a slow statement first and says so, reported as
"busy"); ``CHAIRSIDE_PG_NO_ANSWER_MS`` sets another (0: no deadline).

The connections of one engine share a :class:`Cuts`: once one of them was cut, those made
before the cut are refused at their next checkout (:func:`suspect`), so the next call
connects afresh (bounded by ``connect_timeout``) instead of waiting out the deadline again
on a connection to the same hung server.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import pq

#: Environment variable: milliseconds without an answer before the connection is cut.
NO_ANSWER_ENV = "CHAIRSIDE_PG_NO_ANSWER_MS"
#: The default deadline is the statement timeout plus this (the server's own limit first).
MARGIN_MS = 5000
#: How often (seconds) a wait looks at its deadline: psycopg's own wake-up interval.
CHECK_INTERVAL_S = 0.1
_IDLE = pq.TransactionStatus.IDLE


class NoAnswerError(psycopg.OperationalError):
    """The server sent nothing for the deadline while a command was in progress; this
    device closed the connection."""


class Cuts:
    """When the connections of one engine were last cut (monotonic seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.last: float | None = None
        self.count = 0

    def cut(self, at: float) -> None:
        with self._lock:
            self.last = at
            self.count += 1


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits for the server end after ``no_answer_s`` seconds
    without anything arriving (None: no deadline). Made by :func:`connector`."""

    no_answer_s: float | None = None
    cuts: Cuts | None = None
    #: When the connection was made (monotonic seconds).
    made_at: float = 0.0
    #: The clock of the deadline (monotonic seconds).
    monotonic: Callable[[], float] = staticmethod(time.monotonic)

    def wait(self, gen: Any, interval: float = CHECK_INTERVAL_S,
             timeout: float | None = None) -> Any:
        limit = self.no_answer_s
        if limit is None:
            return super().wait(gen, interval, timeout)
        return super().wait(self._watched(gen, limit), min(interval, CHECK_INTERVAL_S),
                            timeout)

    def _watched(self, gen: Generator[Any, Any, Any], limit: float) -> Generator[Any, Any, Any]:
        """``gen``, driven as psycopg drives it, cut when the server says nothing for
        ``limit`` seconds with a command in progress (psycopg sends "nothing ready" at each
        of its wake-ups, every ``CHECK_INTERVAL_S``)."""
        last = self.monotonic()
        try:
            state = next(gen)
            while True:
                ready = yield state
                now = self.monotonic()
                if ready:
                    last = now
                elif now - last >= limit and self.pgconn.transaction_status != _IDLE:
                    gen.close()
                    self._cut(limit, now)
                state = gen.send(ready)
        except StopIteration as done:
            return done.value

    def _cut(self, limit: float, now: float) -> None:
        if self.cuts is not None:
            self.cuts.cut(now)
        self.pgconn.finish()  # this thread waits on it: nobody else uses the socket now
        raise NoAnswerError(
            f"the server sent nothing for {limit:g} s (it may be hung): this device closed "
            "the connection")

    @property
    def suspect(self) -> bool:
        """Made before another connection of the same engine was cut."""
        cuts = self.cuts
        return cuts is not None and cuts.last is not None and self.made_at <= cuts.last


def suspect(dbapi_connection: Any) -> bool:
    """Whether a pooled connection was made before one of its engine's was cut: it leads
    to the same server, which stopped answering then (see :class:`Cuts`)."""
    return bool(getattr(dbapi_connection, "suspect", False))


def connector(no_answer_s: float | None, cuts: Cuts | None = None
              ) -> Callable[..., DeadlineConnection]:
    """A ``do_connect`` listener for an engine: its connections keep the deadline
    (``no_answer_s`` None or 0: none)."""
    no_answer_s = no_answer_s or None

    def connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> DeadlineConnection:
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
    before = getattr(dbapi_connection, "no_answer_s", None)
    if isinstance(dbapi_connection, DeadlineConnection):
        dbapi_connection.no_answer_s = None
    try:
        yield
    finally:
        if isinstance(dbapi_connection, DeadlineConnection):
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
