"""One chair's link to the clinic service: its session read back and each action's outcome.

A :class:`SessionLink` belongs to one session. It loads the session (on the worker) and
announces it, moved on with the clock between loads; it runs each action on the worker and
turns the outcome into a signal: the session's new state, "Saved" (only after the commit), a
refusal naming fields and ranges, or NOT saved (disk full, read-only, database unreachable)
with the entry kept by the form. When the link dropped during the COMMIT, it asks the server
whether the entry's id is stored and says Saved or NOT saved as the server answers, or that it
is not known; the entry keeps its id until it is saved or refused, so a retry cannot record
it twice. An entry the service held on the tablet while the server is away
(:mod:`monitor.service.tablet`) is said as "Saved on this tablet — not yet on the server (N)".
What the nurse does is :class:`ui.session.presenter.SessionPresenter`, built on it.
"""


from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QObject, Signal

from monitor.clinical.domain import EventKind, Flag, Phase
from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.validation import FieldError
from monitor.clock import Clock
from monitor.service.auth import AccountLocked, LoginRefused, SignatureRequired, StaffInfo
from monitor.service.board import held_text
from monitor.service.live_view import MovingView
from monitor.service.outcome import Settled, Verdict, settle
from monitor.service.reachability import Reachability
from monitor.service.views import (
    AlreadyDoneError,
    InvalidEntryError,
    NotFoundError,
    SavedReading,
    SessionView,
)
from monitor.service.worker import Worker
from monitor.storage.store import OutcomeUnknownError, StorageError
from ui.common.background import Background

T = TypeVar("T")

#: Told whether an action was recorded, once its outcome is known.
Finished = Callable[[bool], None]


class ChairService(Protocol):
    """What a chair's presenter asks of the clinic service: loading the session
    (``service.loading``), charting, corrections, the discharge sign-off, and the role of
    whoever is signed in (``service.staff``). :class:`monitor.service.clinic.ClinicService`
    is one."""

    def load(self, session_id: uuid.UUID, at: datetime | None = None) -> SessionView: ...

    def staff_info(self, staff_id: uuid.UUID) -> StaffInfo: ...

    def stored(self, kind: str, record_id: uuid.UUID) -> bool: ...

    def held(self, session_id: uuid.UUID) -> int: ...

    def record_reading(
        self, session_id: uuid.UUID, raw: Mapping[str, Any], *, by: uuid.UUID,
        time: datetime | None, confirmed: Collection[str], note: str, on_oxygen: bool,
        reading_id: uuid.UUID | None, after_signoff_reason: str | None, with_view: bool,
    ) -> SavedReading: ...

    def record_event(
        self, session_id: uuid.UUID, kind: EventKind, *, by: uuid.UUID,
        time: datetime | None, detail: str, data: Mapping[str, Any] | None,
        confirmed: Collection[str], override_reason: str, after_signoff_reason: str | None,
        event_id: uuid.UUID | None,
    ) -> uuid.UUID: ...

    def acknowledge(
        self, session_id: uuid.UUID, flag: Flag, *, action: str, by: uuid.UUID, note: str,
        pin: str | None, record_pause: bool, acknowledgement_id: uuid.UUID | None,
    ) -> uuid.UUID: ...

    def void(
        self, session_id: uuid.UUID, target_kind: str, target_id: uuid.UUID, *, reason: str,
        by: uuid.UUID, pin: str | None = None, correction_id: uuid.UUID | None = None,
    ) -> uuid.UUID: ...

    def amend_reading(
        self, session_id: uuid.UUID, target_id: uuid.UUID, raw: Mapping[str, Any], *,
        reason: str, by: uuid.UUID, confirmed: Collection[str], note: str, pin: str | None,
        correction_id: uuid.UUID | None,
    ) -> uuid.UUID: ...

    def sign_discharge(
        self, session_id: uuid.UUID, *, by: uuid.UUID, pin: str | None,
    ) -> uuid.UUID: ...

    def override_discharge(
        self, session_id: uuid.UUID, *, reason: str, by: uuid.UUID, pin: str | None,
    ) -> uuid.UUID: ...


@dataclass(frozen=True)
class LastEntry:
    """The last entry made at the chair, which may be undone for a while."""

    kind: str  # "reading" | "event"
    id: uuid.UUID
    label: str
    made_at: float  # monotonic seconds


class SessionLink(QObject):
    """One session's link to the clinic service.

    Signals:
        viewChanged(object): a new :class:`SessionView` (after every change and tick).
        saved(str): the change was committed; the text says what and when ("Saved 10:42").
        refused(list, list): field errors and values needing confirmation (FieldError lists).
        notSaved(str): the environment failed; nothing was stored; keep the entry and retry.
        saveUnknown(str): the link dropped while saving and the server cannot yet say whether
            the entry is stored; keep the entry (and its id) and retry.
        flagsRaised(tuple): flags newly raised by the reading just saved.
        committed(object): a change was committed here and the session is shown as it now
            stands: the id of the reading whose save gave that view back (nothing loaded),
            or None when the session was loaded again after the change.
        undoAvailable(str): the last entry can be undone ("" when it no longer can).
        signatureNeeded(object): a :class:`~ui.common.signature.SignatureRequest`: the action is
            an e-signature; whoever shows it asks for the PIN and calls its ``submit``.
        heldOnTablet(str): the entry is saved on this tablet, not yet on the server (in
            place of ``saved``): "Saved on this tablet — not yet on the server (2)".
    """

    viewChanged = Signal(object)
    saved = Signal(str)
    refused = Signal(list, list)
    notSaved = Signal(str)
    saveUnknown = Signal(str)
    flagsRaised = Signal(tuple)
    committed = Signal(object)
    undoAvailable = Signal(str)
    signatureNeeded = Signal(object)
    heldOnTablet = Signal(str)

    def __init__(
        self,
        service: ChairService,
        clock: Clock,
        session_id: uuid.UUID,
        staff_id: uuid.UUID,
        parent: QObject | None = None,
        *,
        reachability: Reachability | None = None,
        worker: Worker | None = None,
    ) -> None:
        """``reachability``: told of every read and write that went through or found the
        server unreachable (the window's banner). ``worker``: where the service's calls run
        (default: at once, in this thread; the clinic's server: a background thread, the
        answers coming back here through the event loop)."""
        super().__init__(parent)
        self.reachability = reachability
        self.service = service
        self.clock = clock
        self.session_id = session_id
        self.staff_id = staff_id
        self.background = Background(worker, self)
        self.view: SessionView | None = None
        #: The view as last loaded, moved on with the clock by :meth:`retime`.
        self._loaded: MovingView | None = None
        #: The last entry made here, while it may be undone.
        self._last: LastEntry | None = None
        #: Why the last action was not recorded ("" when it was).
        self.last_refusal = ""
        #: The last refusal is final: it was done already (another tablet acknowledged the
        #: flag), so a signature asked for it has nothing left to sign.
        self.refused_as_done = False
        #: The id of each entry tried and neither saved nor refused, by its values: a
        #: retry of the same values is the same entry, stored once.
        self._retry_ids: dict[tuple[Any, ...], uuid.UUID] = {}
        #: The last attempt's outcome was unknown and the server then said it is stored.
        self._stored_after_all = False
        #: Who asked for the action whose outcome is being announced (the ``origin`` given
        #: to it, e.g. the form whose Save was tapped); None outside an announcement.
        self.answering: object | None = None
        #: Actions sent and not yet answered.
        self.pending = 0
        #: A load in flight; another asked for meanwhile; who waits on each.
        self._loading = False
        self._load_again = False
        self._after_load: list[Callable[[], None]] = []
        self._after_next_load: list[Callable[[], None]] = []
        self._refreshed: SessionView | None = None

    # -- reading back --------------------------------------------------------------------

    def refresh(self, then: Callable[[], None] | None = None) -> SessionView | None:
        """Reload the session as it stands now and announce it. A read that found the
        server unreachable is told to ``reachability`` alone (the window's banner says it;
        a read stores nothing, so "NOT saved" would be untrue); the view last loaded stays.

        The load runs on the worker: with a background thread the view last loaded is
        returned and the new one announced when it arrives (``then`` is called after it).
        One load at a time: a refresh asked while one is in flight loads once more after
        it (a change may have been committed after that load read)."""
        if self._loading:
            self._load_again = True
            if then is not None:
                self._after_next_load.append(then)
            return self.view
        self._loading = True
        if then is not None:
            self._after_load.append(then)
        self._refreshed = self.view
        at = self.clock.now()
        session_id = self.session_id
        self.background.run(lambda: self.service.load(session_id, at), self._load_answered)
        return self._refreshed

    def _load_answered(self, future: Future[SessionView]) -> None:
        self._loading = False
        waiting, self._after_load = self._after_load, []
        try:
            view = future.result()
        except StorageError as exc:
            self._unreachable(exc)
            if self.reachability is None or not self.reachability.unreachable:
                self.notSaved.emit(exc.message)
            self._refreshed = self.view
        except NotFoundError:
            self._refreshed = None
        else:
            self.view = view
            self._loaded = MovingView(view)
            self._refreshed = view
            if not view.on_tablet:  # the tablet's copy: the server did not answer
                self._reached()
            self._announce()
        for then in waiting:
            then()
        if self._load_again:
            self._load_again = False
            self._after_load, self._after_next_load = self._after_next_load, []
            self._loading = False
            self.refresh()

    def show_loaded(self, view: SessionView) -> None:
        """Announce ``view``, the session just loaded by whoever opened it (nothing read)."""
        self.view = view
        self._loaded = MovingView(view)
        self._announce()

    def retime(self) -> SessionView | None:
        """Announce the session as last loaded, brought forward to the clock (countdown,
        overdue, time since start or stop); nothing is read. Before the first load, load."""
        if self._loaded is None:
            return self.refresh()
        self.view = self._loaded.at(self.clock.now())
        self._announce()
        return self.view

    def _announce(self) -> None:
        """Announce the session as it now stands (:attr:`view`)."""
        assert self.view is not None
        self.viewChanged.emit(self.view)

    # -- the last entry ------------------------------------------------------------------

    def discharged(self) -> bool:
        """The session, as last loaded, is discharged (signed or overridden)."""
        return self.view is not None and self.view.phase is Phase.DISCHARGED

    def _remember(self, kind: str, entry_id: uuid.UUID, label: str) -> None:
        """Offer the entry just saved here for undo (not once discharged)."""
        if self.discharged() or self.service.held(self.session_id):
            return  # an entry held on the tablet is undone through the server, later
        self._last = LastEntry(kind, entry_id, label, self.clock.monotonic())
        self.undoAvailable.emit(label)

    # -- an action and its outcome -------------------------------------------------------
    #
    # Each action runs on the worker. What it returns is its outcome when that is known on
    # return (the inline worker); with a background thread it returns False at once and
    # the outcome is announced by the signals when it arrives (and told to ``finished``).

    def _attempt(self, action: Callable[[], T], done: Callable[[T | None], None], *,
                 signature: Callable[[], None] | None = None,
                 entry: tuple[str, uuid.UUID] | None = None,
                 origin: object | None = None) -> None:
        """Run ``action`` on the worker, then ``done(result)`` here: ``done(None)`` when
        nothing is known stored; a refusal is announced (and kept in :attr:`last_refusal`).

        With ``signature``, :class:`SignatureRequired` calls it instead of ``done``.
        ``entry`` (kind, id) is what ``action`` stores: when the link drops during its
        COMMIT, the server is asked whether it is stored (then ``done(None)`` is called with
        :attr:`_stored_after_all` set, and the caller says Saved). While the outcome is
        announced, :attr:`answering` is ``origin``.
        """
        self.last_refusal = ""
        self.refused_as_done = False
        self._stored_after_all = False
        self.pending += 1

        def answered(future: Future[T]) -> None:
            self.pending -= 1
            self.last_refusal = ""
            self.refused_as_done = False
            self._stored_after_all = False
            before, self.answering = self.answering, origin
            try:
                self._answered(future, done, signature, entry, origin)
            finally:
                self.answering = before

        self.background.run(action, answered)

    def _answered(self, future: Future[T], done: Callable[[T | None], None],
                  signature: Callable[[], None] | None,
                  entry: tuple[str, uuid.UUID] | None, origin: object | None) -> None:
        try:
            result = future.result()
        except OutcomeUnknownError as exc:
            self._unreachable(exc)
            self._outcome_unknown(exc, entry, done, origin)
            return
        except InvalidEntryError as exc:
            self._forget_entry(entry)
            self.last_refusal = "; ".join(
                e.message for e in [*exc.errors, *exc.needs_confirmation])
            self.refused_as_done = isinstance(exc, AlreadyDoneError)
            self.refused.emit(exc.errors, exc.needs_confirmation)
        except (LoginRefused, AccountLocked, PermissionDenied, SignatureRequired) as exc:
            if signature is not None and isinstance(exc, SignatureRequired):
                signature()
                return
            self._forget_entry(entry)
            self.last_refusal = str(exc)
            field = "permission" if isinstance(exc, PermissionDenied) else "pin"
            self.refused.emit([FieldError(field, str(exc))], [])
        except StorageError as exc:
            self._unreachable(exc)
            self.last_refusal = f"NOT saved: {exc.message}"
            self.notSaved.emit(exc.message)
        else:
            self._forget_entry(entry)
            if not self.service.held(self.session_id):  # held: the server did not answer
                self._reached()
            done(result)
            return
        done(None)

    def _outcome_unknown(self, exc: OutcomeUnknownError, entry: tuple[str, uuid.UUID] | None,
                         done: Callable[[Any], None], origin: object | None) -> None:
        """The link dropped during the COMMIT of ``entry``: say what the server answers
        (asked on the worker, like the save)."""
        if entry is None:
            self.last_refusal = exc.message
            self.saveUnknown.emit(exc.message)
            done(None)
            return
        self.pending += 1

        def answered(future: Future[Settled]) -> None:
            self.pending -= 1
            before, self.answering = self.answering, origin
            try:
                settled = future.result()
                self.last_refusal = ""
                self._stored_after_all = False
                if settled.verdict is Verdict.SAVED:
                    self._forget_entry(entry)
                    self._stored_after_all = True
                elif settled.verdict is Verdict.NOT_SAVED:
                    self.last_refusal = settled.message
                    self.notSaved.emit(settled.message)
                else:
                    self.last_refusal = settled.message
                    self.saveUnknown.emit(settled.message)
                done(None)
            finally:
                self.answering = before

        stored = self.service.stored
        self.background.run(lambda: settle(stored, *entry), answered)

    def _entry_id(self, *values: Any) -> uuid.UUID:
        """The id of the entry of these values: the one already tried and neither saved nor
        refused, else a new one."""
        return self._retry_ids.setdefault(values, uuid.uuid4())

    def _forget_entry(self, entry: tuple[str, uuid.UUID] | None) -> None:
        """``entry`` was saved or refused: the same values again are a new entry."""
        if entry is not None:
            self._retry_ids = {k: v for k, v in self._retry_ids.items() if v != entry[1]}

    def _saved_after_all(self, text: str, kind: str | None = None,
                         entry_id: uuid.UUID | None = None, label: str = "") -> bool:
        """After an attempt that returned nothing: when the server said the entry is stored
        after all, announce it Saved as a normal save would (the session loaded again)."""
        if not self._stored_after_all:
            return False
        if kind is not None and entry_id is not None:
            self._remember(kind, entry_id, label)
        self._done(text)
        return True

    def _reached(self) -> None:
        if self.reachability is not None:
            self.reachability.succeeded()

    def _unreachable(self, exc: StorageError) -> None:
        if self.reachability is not None:
            self.reachability.failed(exc)

    def _done(self, text: str, view: SessionView | None = None,
              reading_id: uuid.UUID | None = None) -> None:
        """Announce the change committed, then the session as it now stands: ``view`` when
        the change (the save of reading ``reading_id``) gave it back, else loaded again
        (:attr:`committed` once that load is answered)."""
        held = self.service.held(self.session_id)
        if held:
            self.heldOnTablet.emit(held_text(held))
        else:
            self.saved.emit(f"{text} {self.clock.now().astimezone().strftime('%H:%M')}")
        self.answering = None  # what follows (the session loaded again) answers nobody's tap
        if view is None:
            self.refresh(then=lambda: self.committed.emit(None))
            return
        self.view = view
        self._loaded = MovingView(view)
        self._announce()
        self.committed.emit(reading_id)


class Answer:
    """An action's outcome: kept for its caller's return, told to ``finished``."""

    def __init__(self, finished: Finished | None) -> None:
        self.value = False
        self.finished = finished

    def __call__(self, ok: bool) -> None:
        self.value = ok
        if self.finished is not None:
            self.finished(ok)
