"""The read side of live changes: a background thread that hands each change to subscribers.

:class:`ChangeFeed` keeps a connection of its own and a cursor, the newest audit sequence
number it has passed on (``last_seq``):

* PostgreSQL: the connection ``LISTEN``\\ s on the schema's channel (autocommit) and waits
  on the socket for notifications. TCP keepalives notice a server that vanished without
  closing the connection. A hung server (its processes stopped, its machine paused) still
  answers keepalives: after ``probe_every`` seconds without a notification the feed sends
  ``SELECT 1``, and the deadline of :mod:`monitor.storage.deadline` (``no_answer_s``) cuts
  it when the server says nothing — one cheap statement per quiet ``probe_every``. When a
  call of the app's own store to the same server was cut, the feed connects again at once.
* SQLite: the connection reads ``PRAGMA data_version``, which changes when any other
  connection (another process, or another engine of this one) committed, every
  ``poll_interval`` seconds and at once when the feed's own store commits. When it changed,
  the feed reads what changed since ``last_seq``.

When the connection drops, the feed waits (exponential backoff: ``backoff_first`` doubling
up to ``backoff_max`` seconds, through the injected ``wait``), connects again, listens
again and then catches up with one "changed since ``last_seq``" read, so nothing committed
meanwhile is missed. A change is passed on only when its sequence number is newer than
``last_seq`` (and a flag only once), so nothing is passed on twice.

Subscribers are called on the feed's thread, in commit order; a subscriber that raises is
logged and the others still get the change. A Qt adapter re-emits on the GUI thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from monitor.storage import deadline
from monitor.storage.changes.announce import CHANNEL_SQL
from monitor.storage.changes.kinds import Change, ChangeKind, changes_since, head_seq, parse_payload
from monitor.storage.store import Store, StoreOpenError, make_engine, statement_timeout_ms

log = logging.getLogger(__name__)

Subscriber = Callable[[Change], None]
#: ``wait(seconds)`` pauses before a reconnection; True means "stop instead".
Wait = Callable[[float], bool]

#: Flags remembered to pass each on once (a flag is named by every entry of its save).
_FLAGS_REMEMBERED = 4096


def backoff(first: float, most: float) -> Iterator[float]:
    """Delays before successive reconnection attempts: ``first``, doubling, at most ``most``."""
    delay = first
    while True:
        yield delay
        delay = min(delay * 2, most)


class ChangeFeed:
    """Committed changes of one database, delivered to subscribers from a background thread.

    ``since``: pass on changes after this audit sequence number (default: from the newest
    entry when the feed first connects). ``application_name``: how the server lists the
    feed's connection (the tablet's name). ``sessions``: the feed's own process's session
    factory (SQLite), whose commits are noticed at once instead of at the next poll.
    ``probe_every``, ``no_answer_s`` (PostgreSQL): seconds without a notification before the
    feed asks the server whether it still answers, and seconds it waits for that answer (or
    any other) before it cuts the connection and connects again (default: the store's
    deadline, :func:`monitor.storage.deadline.no_answer_s`; 0: none).
    """

    def __init__(
        self,
        url: str | URL,
        *,
        since: int | None = None,
        sessions: sessionmaker[Session] | None = None,
        poll_interval: float = 0.25,
        tick: float = 0.5,
        backoff_first: float = 0.25,
        backoff_max: float = 10.0,
        wait: Wait | None = None,
        application_name: str | None = None,
        probe_every: float = 15.0,
        no_answer_s: float | None = None,
    ) -> None:
        self.url = make_url(url)
        #: How the server lists the feed's connection (``pg_stat_activity``): the tablet's.
        self.application_name = application_name
        self.is_postgresql = self.url.get_backend_name() == "postgresql"
        self.poll_interval = poll_interval
        self.tick = tick
        self.probe_every = probe_every
        self.no_answer_s = (deadline.no_answer_s(
            statement_timeout_ms(), StoreOpenError, self.url.query.get("options"))
            if no_answer_s is None and self.is_postgresql else no_answer_s or None)
        #: ``SELECT 1`` sent after a quiet ``probe_every`` (is the server still there?).
        self.probes = 0
        self._backoff = (backoff_first, backoff_max)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._wait: Wait = wait or self._stopping.wait
        self._subscribers: list[Subscriber] = []
        self._lock = threading.Lock()
        self._last_seq = since
        self._flags_seen: OrderedDict[Any, None] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._sessions = sessions
        #: Set while the feed is connected and has caught up; cleared when it drops.
        self.connected = threading.Event()
        #: Statements this feed sent (read by the benchmark: an idle listener sends only
        #: its probes, one per quiet ``probe_every``).
        self.statements = 0
        #: Waits for news that ended (a tick without news, or news): an idle minute is
        #: ``60 / tick`` of them.
        self.waits = 0
        #: The server process of the PostgreSQL connection (for tests and diagnostics).
        self.backend_pid: int | None = None
        self.reconnections = 0
        self._engine = self._make_engine()

    # -- public --------------------------------------------------------------------------

    @property
    def last_seq(self) -> int | None:
        return self._last_seq

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every change from now on; returns the unsubscribe."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    def start(self) -> ChangeFeed:
        if self._thread is not None:
            return self
        if self._sessions is not None:
            event.listen(self._sessions, "after_commit", self._own_commit)
        self._thread = threading.Thread(target=self._run, name="chairside-changes", daemon=True)
        self._thread.start()
        return self

    def poke(self) -> None:
        """Look for changes now (SQLite) instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self._sessions is not None and event.contains(self._sessions, "after_commit",
                                                         self._own_commit):
            event.remove(self._sessions, "after_commit", self._own_commit)
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._engine.dispose()

    def __enter__(self) -> ChangeFeed:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- the thread ----------------------------------------------------------------------

    def _make_engine(self) -> Engine:
        if self.is_postgresql:
            engine = create_engine(self.url, poolclass=NullPool, hide_parameters=True,
                                   connect_args={"connect_timeout": 5, "keepalives": 1,
                                                 "keepalives_idle": 10,
                                                 "keepalives_interval": 5,
                                                 "keepalives_count": 3,
                                                 **self._named()})
            event.listen(engine, "do_connect", deadline.connector(
                self.no_answer_s, self.url.host, self.url.port))
        else:
            engine = make_engine(self.url)
        event.listen(engine, "before_cursor_execute", self._count_statement)
        return engine

    def _named(self) -> dict[str, str]:
        if not self.application_name or "application_name" in self.url.query:
            return {}
        return {"application_name": self.application_name[:63]}

    def _count_statement(self, *_args: object) -> None:
        self.statements += 1

    def _own_commit(self, _session: Session) -> None:
        self._wake.set()

    def _run(self) -> None:
        delays = backoff(*self._backoff)
        while not self._stopping.is_set():
            try:
                with self._engine.connect() as connection:
                    follow = self._follow_postgresql if self.is_postgresql else self._follow_sqlite
                    follow(connection.execution_options(isolation_level="AUTOCOMMIT"))
                    return
            except Exception as exc:
                if not _is_connection_error(exc) and not self._stopping.is_set():
                    log.exception("change feed failed; connecting again")
                else:
                    log.info("change feed lost its connection (%s); connecting again", exc)
            if self.connected.is_set():
                delays = backoff(*self._backoff)  # it was up: start again from the first delay
            self.connected.clear()
            self.backend_pid = None
            if self._stopping.is_set() or self._wait(next(delays)):
                return
            self.reconnections += 1

    def _catch_up(self, connection: Connection) -> None:
        if self._last_seq is None:
            self._last_seq = head_seq(connection)
            return
        newest, changes = changes_since(connection, self._last_seq)
        self._deliver(newest, changes)

    def _follow_postgresql(self, connection: Connection) -> None:
        channel = connection.exec_driver_sql(f"SELECT {CHANNEL_SQL}").scalar_one()
        connection.exec_driver_sql('LISTEN "{}"'.format(channel.replace('"', '""')))
        # Listening before reading: whatever commits from here on is heard or read, or both.
        self._catch_up(connection)
        raw = connection.connection.driver_connection
        assert raw is not None
        self.backend_pid = raw.info.backend_pid
        self.connected.set()
        quiet = 0.0
        while not self._stopping.is_set():
            # stop_after=1: back as soon as a packet of notifications arrived, all of it.
            batch = list(raw.notifies(timeout=self.tick, stop_after=1))
            self.waits += 1
            if deadline.suspect(raw):
                # Another call to this server was cut for want of an answer since this
                # connection was made: it leads to the same hung server.
                raise deadline.CutElsewhereError("another connection to the server was cut")
            quiet = 0.0 if batch else quiet + self.tick
            if quiet >= self.probe_every:
                # A hung server sends no notification and never says so: ask it something,
                # which the deadline cuts if it stays silent (the connection then drops).
                quiet = 0.0
                self.probes += 1
                connection.exec_driver_sql("SELECT 1")
            for notify in batch:
                seq, changes = parse_payload(notify.payload)
                if changes is None:
                    self._catch_up(connection)
                else:
                    self._deliver(seq, changes)

    def _follow_sqlite(self, connection: Connection) -> None:
        version = connection.exec_driver_sql("PRAGMA data_version").scalar_one()
        self._catch_up(connection)
        self.connected.set()
        while not self._stopping.is_set():
            self._wake.wait(self.poll_interval)
            self._wake.clear()
            self.waits += 1
            if self._stopping.is_set():
                return
            now = connection.exec_driver_sql("PRAGMA data_version").scalar_one()
            if now != version:
                version = now
                self._catch_up(connection)

    def _deliver(self, newest: int, changes: Sequence[Change]) -> None:
        """Pass on the changes newer than ``last_seq``, then move it to ``newest``."""
        last = self._last_seq if self._last_seq is not None else newest - 1
        if newest <= last:
            return  # heard and read both, or heard twice: passed on already
        self._last_seq = newest
        with self._lock:
            subscribers = tuple(self._subscribers)
        for change in changes:
            if change.seq <= last:
                continue
            if change.kind is ChangeKind.FLAG:
                if change.record_id in self._flags_seen:
                    continue
                self._flags_seen[change.record_id] = None
                if len(self._flags_seen) > _FLAGS_REMEMBERED:
                    self._flags_seen.popitem(last=False)
            for subscriber in subscribers:
                try:
                    subscriber(change)
                except Exception:
                    log.exception("a change subscriber failed")


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError | deadline.CutElsewhereError):
        return True
    module = type(exc).__module__
    return module.startswith(("psycopg", "sqlite3"))


def open_feed(store: Store, **options: Any) -> ChangeFeed:
    """A feed of the database behind ``store``, noticing ``store``'s own commits at once."""
    return ChangeFeed(store.url, sessions=store.sessions, **options)
