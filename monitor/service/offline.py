"""Starting a tablet of the clinic's server while the server is away, on the tablet's copy.

:class:`CachingClinic` is the :class:`ClinicService` of a tablet of the clinic's
PostgreSQL server. What it reads from the server anyway is kept in the tablet's cache
(:class:`monitor.storage.tablet_cache.TabletCache`), with no statement more:

* the staff list (one query, as before, that now also brings the PIN hashes and lock state
  of everyone who may sign in), read when the sign-in or lock screen shows;
* which session sits on each chair, and each session's view as a load or a save with its
  view gave it back (on the worker's thread, never on the one-second tick, which reads
  nothing).

While the server cannot be reached it signs staff in on that copy: the PIN is checked
against the hash the server stores (argon2id, peppered with the clinic's secret, which
lives on the tablet), and wrong PINs count here and lock as the server would
(:data:`~monitor.service.auth.MAX_FAILURES` in a row, for
:data:`~monitor.service.auth.LOCK_DURATION`). After a failure the server is asked again at
the pace of :class:`~monitor.service.reachability.Reachability`, the copy answering in
between, so a sign-in never waits for a silent server. Each sign-in checked on the copy
(and each wrong PIN) is noted in the cache and entered in the server's audit trail when it
answers (:meth:`CachingClinic.send_signins`). What has no copy — staff administration,
the review, the audit trail, exports, a check-in — fails with "… needs the server".

:func:`open_clinic_store` opens the server, or, when it cannot be reached and the tablet has
a copy, a store that connects on first use (each read tries again; the window's reads pace
the tries), and says from when the copy is. Without a copy (the tablet's first start) it
refuses with a sentence naming the server's host. :class:`TabletCopies` gives the window
the chairs and sessions of the copy (each session with the entries held in the outbox).

A view is kept as bytes (Python's pickle of the service's own frozen values, behind a
format tag) sealed with an HMAC-SHA256 under a key derived from the clinic's secret: a copy
changed on disk is ignored, never unpickled; one this version cannot read back (written by
another version of ChairSide) is ignored too, as if not cached.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import pickle
import sqlite3
import threading
import uuid
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from monitor.clinical.permissions import STAFF_ROLES
from monitor.clock import Clock, ensure_utc
from monitor.service.auth import (
    LOCK_DURATION,
    MAX_FAILURES,
    AccountLocked,
    LoginRefused,
    StaffInfo,
    verify_pin,
)
from monitor.service.clinic import ClinicService
from monitor.service.reachability import Reachability
from monitor.service.views import ENTERED_AT, ON_TABLET_COPY, SavedReading, SessionView
from monitor.storage.model import Staff
from monitor.storage.store import (
    OutcomeUnknownError,
    StorageError,
    Store,
    StoreOpenError,
    StoreUnavailableError,
    make_engine,
    open_store,
)
from monitor.storage.tablet_cache import CachedStaff, TabletCache

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

#: What a nurse is told of an action the tablet's copy cannot do.
NEEDS_SERVER = ("{what} needs the server, which cannot be reached now. Nothing was "
                "changed: try again when the server is back.")
#: The start-up refusal of a tablet that has never read its server.
FIRST_START = ("This tablet needs the clinic server at {host} for its first start: the "
               "server cannot be reached now. Once it has started with the server, this "
               "tablet keeps a copy and can start without it. Check the network and the "
               "server, then start ChairSide again.")
#: A session stays on its chair this long after it began (the default of
#: :meth:`monitor.service.loading.Loading.active_sessions`).
SEATED_WITHIN = timedelta(hours=12)
_VIEW_FORMAT = b"chairside-view-1\x00"
_MAC_BYTES = 32


def _unreachable(exc: StorageError) -> bool:
    return exc.reason == "unreachable" and not isinstance(exc, OutcomeUnknownError)


class ViewCodec:
    """Session views to and from the cache's bytes, sealed with an HMAC of the secret."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"chairside-tablet-cache", hashlib.sha256).digest()

    def dumps(self, view: SessionView) -> bytes:
        body = _VIEW_FORMAT + pickle.dumps(view, protocol=pickle.HIGHEST_PROTOCOL)
        return hmac.new(self._key, body, hashlib.sha256).digest() + body

    def loads(self, payload: bytes) -> SessionView | None:
        """The view, or None when the bytes are not a view this tablet sealed."""
        mac, body = payload[:_MAC_BYTES], payload[_MAC_BYTES:]
        if not hmac.compare_digest(mac, hmac.new(self._key, body, hashlib.sha256).digest()):
            log.warning("a cached session view failed its check; it is ignored")
            return None
        if not body.startswith(_VIEW_FORMAT):
            return None
        try:
            view = pickle.loads(body[len(_VIEW_FORMAT):])  # noqa: S301 - sealed above
        except Exception:  # noqa: BLE001 - another version's values: not cached
            log.warning("a cached session view could not be read; it is ignored")
            return None
        return view if isinstance(view, SessionView) else None


class CachingClinic(ClinicService):
    """The clinic service of a tablet of the server, keeping its copy as it reads."""

    def __init__(self, store: Store, clock: Clock, *, secret: bytes, cache: TabletCache,
                 tablet: str | None = None) -> None:
        super().__init__(store, clock, secret=secret, tablet=tablet)
        self.cache = cache
        self.codec = ViewCodec(secret)
        self._secret = secret
        self._on_copy = False
        #: Whether the server answered the last read, paced like the window's reads: while
        #: it does not, the staff reads on the GUI thread (sign-in, the lock) are answered
        #: from the copy without a try until the next is due (a silent server would
        #: otherwise hold each for the connect timeout).
        self._server = Reachability(clock)
        self._sending = threading.Lock()
        self._signins_waiting = bool(cache.signins())
        self.staff_list = self._staff_list
        self.staff_info = self._staff_info
        self.login = self._login
        self.needs_first_admin = self._needs_first_admin
        self.active_sessions = self._active_sessions
        self.load = self._load
        self.record_reading = self._keeping_saved(self.record_reading)
        for name, what in (("add_staff", "Adding staff"), ("disable_staff", "Disabling staff"),
                           ("reset_pin", "A new PIN"), ("create_first_admin", "The first admin"),
                           ("audit_entries", "The audit trail"),
                           ("record_export", "An export"), ("check_in", "A check-in"),
                           ("find_sessions", "The review"), ("course", "A patient's course")):
            setattr(self, name, needs_server(what, getattr(self, name)))

    @property
    def on_copy(self) -> bool:
        """Whether the last read of the staff was answered from the copy (the server away);
        any read the server answers ends it."""
        return self._on_copy

    def _answered(self) -> None:
        self._on_copy = False
        self._server.succeeded()
        if self._signins_waiting:
            self.send_signins()

    def send_signins(self) -> int:
        """Give the sign-ins checked on the copy to the server's audit trail, oldest first,
        each at the moment it happened and marked ``on_tablet_copy``, with the moment it
        reached the server (``entered_at``: the trail lists by sequence, so a sign-in sits
        among the entries made when it was entered); returns how many.
        Stops at the first failure (the rest wait for the next read that goes through).
        A reply lost after its COMMIT may enter one twice; none is lost."""
        if not self._sending.acquire(blocking=False):
            return 0  # another thread is sending them
        sent = 0
        try:
            for signin in self.cache.signins():
                try:
                    with self.guard.write(signin.staff_id, now=signin.at) as change:
                        change.audit(signin.action, "staff", signin.staff_id,
                                     new={**signin.detail, ON_TABLET_COPY: True,
                                          ENTERED_AT: self.clock.now().isoformat()})
                except StorageError as exc:
                    log.info("sign-ins on the copy wait for the server: %s", exc.message)
                    return sent
                self.cache.forget_signin(signin.id)
                sent += 1
            self._signins_waiting = False
        finally:
            self._sending.release()
        return sent

    def _server_or_copy(self, server: Callable[[], T], copy: Callable[[], T]) -> T:
        """``server()``; while the server cannot be reached and the tablet has a copy,
        ``copy()`` (the server tried again when the pace allows)."""
        if self._server.unreachable and not self._server.due() and self.cache.has_copy():
            self._on_copy = True
            return copy()
        try:
            result = server()
        except StorageError as exc:
            self._server.failed(exc)
            self._on_copy = _unreachable(exc) and self.cache.has_copy()
            if not self._on_copy:
                raise
            return copy()
        self._answered()
        return result

    # -- kept as read --------------------------------------------------------------------

    def _keep(self, write: Callable[[], None]) -> None:
        """Refresh the copy; a copy that cannot be written (a full disk) stops nothing."""
        try:
            write()
        except (sqlite3.Error, OSError) as exc:
            log.warning("the tablet's copy was not refreshed: %s", exc)

    def keep_view(self, view: SessionView) -> None:
        """Keep ``view`` (as the server gave it) as the session's copy."""
        payload = self.codec.dumps(view)
        self._keep(lambda: self.cache.put_view(view.info.id, payload, self.clock.now()))

    def _load(self, session_id: uuid.UUID, at: datetime | None = None, *,
              entered_only: bool = False) -> SessionView:
        view = self.loading.load(session_id, at, entered_only=entered_only)
        self._answered()
        if not entered_only:
            self.keep_view(view)
        return view

    def _keeping_saved(self, save: Callable[P, SavedReading]) -> Callable[P, SavedReading]:
        def saved(*args: P.args, **kwargs: P.kwargs) -> SavedReading:
            result = save(*args, **kwargs)
            if result.view is not None:
                self.keep_view(result.view)
            return result
        return saved

    def _active_sessions(self, chairs: Collection[str], *,
                         within: timedelta = timedelta(hours=12)) -> dict[str, uuid.UUID]:
        seated = self.loading.active_sessions(chairs, within=within)
        self._answered()
        self._keep(lambda: self.cache.put_chairs(seated, chairs, self.clock.now()))
        return seated

    def _staff_list(self, *, include_disabled: bool = False) -> list[StaffInfo]:
        def server() -> list[StaffInfo]:
            query = select(Staff).where(Staff.role.in_(STAFF_ROLES)).order_by(Staff.name)
            with self.store.read() as db:
                rows = list(db.scalars(query))
                infos = [self.guard.staff_info(row) for row in rows]
                copy = [CachedStaff(id=r.id, name=r.name, role=r.role, active=r.active,
                                    pin_hash=r.pin_hash, failed_logins=r.failed_logins,
                                    locked_at=r.locked_at) for r in rows]
            self._keep(lambda: self.cache.put_staff(copy, self.clock.now()))
            return infos

        def on_copy() -> list[StaffInfo]:
            return [self._cached_info(s) for s in self.cache.staff() if s.role in STAFF_ROLES]

        return [info for info in self._server_or_copy(server, on_copy)
                if include_disabled or info.active]

    # -- on the copy while the server is away --------------------------------------------

    def _lock_left(self, member: CachedStaff, now: datetime) -> timedelta:
        if member.locked_at is None:
            return timedelta(0)
        return max(timedelta(0), ensure_utc(member.locked_at) + LOCK_DURATION - now)

    def _cached_info(self, member: CachedStaff) -> StaffInfo:
        now = self.clock.now()
        left = self._lock_left(member, now)
        return StaffInfo(id=member.id, name=member.name, role=member.role,
                         active=member.active,
                         locked_until=now + left if left > timedelta(0) else None)

    def _staff_info(self, staff_id: uuid.UUID) -> StaffInfo:
        def on_copy() -> StaffInfo:
            member = self.cache.staff_member(staff_id)
            if member is None:
                raise StoreUnavailableError("unreachable", NEEDS_SERVER.format(
                    what="This staff member (not in this tablet's copy)"))
            return self._cached_info(member)

        return self._server_or_copy(lambda: self.staff.staff_info(staff_id), on_copy)

    def _needs_first_admin(self) -> bool:
        return self._server_or_copy(self.staff.needs_first_admin, lambda: False)

    def _login(self, staff_id: uuid.UUID, pin: str) -> StaffInfo:
        """Sign in on the server; while it cannot be reached, on the tablet's copy."""
        return self._server_or_copy(lambda: self.staff.login(staff_id, pin),
                                    lambda: self.login_on_copy(staff_id, pin))

    def login_on_copy(self, staff_id: uuid.UUID, pin: str) -> StaffInfo:
        """Check the PIN against the copy's hash; wrong PINs count here and lock as on the
        server (:class:`LoginRefused`, :class:`AccountLocked`)."""
        now = self.clock.now()
        member = self.cache.staff_member(staff_id)
        if member is None or not member.active or member.role not in STAFF_ROLES:
            if member is not None:
                self._note(staff_id, "login_failed", now, {"reason": "unknown or disabled"})
            raise LoginRefused(0, "This account cannot sign in (unknown or disabled); "
                                  "ask an admin.")
        left = self._lock_left(member, now)
        if left > timedelta(0):
            self._note(staff_id, "login_failed", now, {"reason": "locked"})
            raise AccountLocked(now + left)
        if verify_pin(member.pin_hash, pin, self._secret):
            if member.failed_logins or member.locked_at is not None:
                self.cache.set_failures(staff_id, 0, None)
            self._note(staff_id, "login", now, {})
            log.info("staff %s signed in on the tablet's copy (the server cannot be reached)",
                     staff_id)
            return StaffInfo(id=member.id, name=member.name, role=member.role, active=True)
        failures = (0 if member.locked_at is not None else member.failed_logins) + 1
        locks = failures >= MAX_FAILURES
        self.cache.set_failures(staff_id, failures, now if locks else None)
        self._note(staff_id, "lock" if locks else "login_failed", now, {"failures": failures})
        log.warning("staff %s: wrong PIN on the tablet's copy (%d in a row)", staff_id, failures)
        if locks:
            raise AccountLocked(now + LOCK_DURATION)
        raise LoginRefused(MAX_FAILURES - failures)

    def _note(self, staff_id: uuid.UUID, action: str, at: datetime,
              detail: dict[str, object]) -> None:
        self.cache.note_signin(staff_id, action, at, detail)
        self._signins_waiting = True

    def cached_chairs(self, chairs: Iterable[str]) -> dict[str, uuid.UUID]:
        return self.cache.chairs(chairs)

    def cached_view(self, session_id: uuid.UUID) -> SessionView | None:
        payload = self.cache.view_payload(session_id)
        return self.codec.loads(payload) if payload is not None else None


def needs_server(what: str, call: Callable[P, T]) -> Callable[P, T]:
    """``call``, whose failure to reach the server says that ``what`` needs it."""
    def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return call(*args, **kwargs)
        except StorageError as exc:
            if not _unreachable(exc):
                raise
            raise type(exc)("unreachable", NEEDS_SERVER.format(what=what)) from exc
    return guarded


class TabletCopies:
    """The tablet's copy as the window shows it while the server cannot be read: the
    chairs' sessions, and each session from the copy with the entries held here
    (``copy_of``: :meth:`monitor.service.tablet.TabletService.copy_of`).

    ``started_offline``: from when the copy is, if the app started without its server."""

    def __init__(self, clinic: CachingClinic,
                 copy_of: Callable[[uuid.UUID, datetime], SessionView | None], *,
                 started_offline: datetime | None = None) -> None:
        self.clinic = clinic
        self._copy_of = copy_of
        self.started_offline = started_offline

    def chairs(self, chairs: Iterable[str]) -> dict[str, uuid.UUID]:
        """The sessions seated on ``chairs`` in the copy, as the server would seat them now:
        one begun more than :data:`SEATED_WITHIN` ago has left its chair (a copy from
        yesterday shows no patient of yesterday's on a chair)."""
        since = self.clinic.clock.now() - SEATED_WITHIN
        seated = {}
        for chair, session_id in self.clinic.cached_chairs(chairs).items():
            view = self.clinic.cached_view(session_id)
            if view is None or view.info.time >= since:
                seated[chair] = session_id
        return seated

    def view(self, session_id: uuid.UUID, at: datetime) -> SessionView | None:
        return self._copy_of(session_id, at)


def server_host(url: str) -> str:
    """The server's host (and port) in ``url``, never its password."""
    parsed = make_url(url)
    host = parsed.host or "localhost"
    return f"{host}:{parsed.port}" if parsed.port else host


def connect_later(url: str, *, application_name: str | None = None) -> Store:
    """A store for a server out of reach: nothing is checked (the schema was when the tablet
    last started with it); the engine connects on first use, so each read and write tries
    the server again."""
    engine = make_engine(url, application_name=application_name)
    return Store(engine, sessionmaker(engine, expire_on_commit=False), make_url(url))


def open_clinic_store(url: str, cache: TabletCache, clock: Clock, *,
                      application_name: str | None = None) -> tuple[Store, datetime | None]:
    """The clinic server's store, and None; or, when the server cannot be reached and this
    tablet has a copy, a store that connects on first use and the time of the copy.

    Without a copy, :class:`StoreOpenError` says that the first start needs the server."""
    try:
        return open_store(url, application_name=application_name), None
    except StoreUnavailableError as exc:
        if exc.reason != "unreachable":
            raise
        if not cache.has_copy():
            raise StoreOpenError(FIRST_START.format(host=server_host(url))) from exc
        log.warning("starting on the tablet's copy: %s", exc.message)
        return (connect_later(url, application_name=application_name),
                cache.refreshed_at() or clock.now())
