"""Forwards what the nurse does at one chair to the clinic service, and its answers back.

A :class:`SessionPresenter` belongs to one session. Screens call its methods; it calls the
clinic service (what it needs of it is :class:`ChairService`) and turns each outcome into a
signal: the session's
new state, "Saved" (only after the commit), a refusal naming fields and ranges, or NOT saved
(disk full, read-only, database unreachable) with the entry kept by the form. When the link
dropped during the COMMIT, it asks the server whether the entry's id is stored and says
Saved or NOT saved as the server answers, or that it is not known; the entry keeps its id
until it is saved or refused, so a retry cannot record it twice. An entry the service held
on the tablet while the server is away (:mod:`monitor.service.tablet`) is said as "Saved on
this tablet — not yet on the server (N)". It makes no clinical decision itself.
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
from monitor.clinical.permissions import Action, PermissionDenied, allowed, refusal
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
from ui.common.signature import (
    AMEND_CRITICAL_MEANING,
    CRITICAL_ACK_MEANING,
    DISCHARGE_MEANING,
    OVERRIDE_MEANING,
    VOID_CRITICAL_MEANING,
    SignatureRequest,
)

#: How long the last entry can be undone (seconds, monotonic clock).
UNDO_WINDOW_S = 120.0

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
    kind: str  # "reading" | "event"
    id: uuid.UUID
    label: str
    made_at: float  # monotonic seconds


class SessionPresenter(QObject):
    """One session's go-between.

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
        #: The role of ``staff_id``, read on first need (see :meth:`is_clinician`).
        self._role: str | None = None
        self._role_asked = False
        self.view: SessionView | None = None
        #: The view as last loaded, moved on with the clock by :meth:`retime`.
        self._loaded: MovingView | None = None
        self._last: LastEntry | None = None
        #: Why the last action was not recorded ("" when it was).
        self.last_refusal = ""
        #: The last refusal is final: it was done already (another tablet acknowledged the
        #: flag), so a signature asked for it has nothing left to sign.
        self.refused_as_done = False
        #: A clinician's reason for entries after the discharge was signed (None: the chair
        #: enters as usual, and a signed session refuses).
        self.after_signoff_reason: str | None = None
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
        assert self.view is not None
        self.viewChanged.emit(self.view)
        if self._last is not None and not self.can_undo():
            self._last = None
            self.undoAvailable.emit("")

    # -- entries ---------------------------------------------------------------------------
    #
    # Each action runs on the worker. What it returns is its outcome when that is known on
    # return (the inline worker); with a background thread it returns False at once and
    # the outcome is announced by the signals when it arrives (and told to ``finished``).

    def save_reading(
        self,
        raw: Mapping[str, Any],
        *,
        when: datetime | None = None,
        confirmed: Collection[str] = (),
        note: str = "",
        on_oxygen: bool = False,
        reading_id: uuid.UUID | None = None,
        label: str = "reading",
        origin: object | None = None,
        finished: Finished | None = None,
    ) -> bool:
        """Save one reading; the save gives back the session as it then stands, shown as it
        is (the session is not loaded again). ``origin`` is who asked (told in
        :attr:`answering` while the outcome is announced)."""
        rid = reading_id or uuid.uuid4()
        answer = _Answer(finished)
        session_id, by = self.session_id, self.staff_id
        reason = self.after_signoff_reason

        def done(result: SavedReading | None) -> None:
            if result is None:
                answer(self._saved_after_all(f"Saved {label}", "reading", rid, label))
                return
            self._remember("reading", result.id, label)
            self._done(f"Saved {label}", result.view, result.id)
            if result.new_flags:
                self.flagsRaised.emit(result.new_flags)
            answer(True)

        self._attempt(lambda: self.service.record_reading(
            session_id, raw, by=by, time=when, confirmed=confirmed, note=note,
            on_oxygen=on_oxygen, reading_id=rid, after_signoff_reason=reason,
            with_view=True,
        ), done, entry=("reading", rid), origin=origin)
        return answer.value

    def record_event(
        self,
        kind: EventKind,
        *,
        detail: str = "",
        data: Mapping[str, Any] | None = None,
        when: datetime | None = None,
        label: str | None = None,
        confirmed: Collection[str] = (),
        override_reason: str = "",
        origin: object | None = None,
        finished: Finished | None = None,
    ) -> bool:
        reason = self.after_signoff_reason
        eid = self._entry_id("event", kind, detail, repr(data), when, tuple(confirmed),
                             override_reason, reason)
        text = label or kind.value.replace("_", " ")
        answer = _Answer(finished)
        session_id, by = self.session_id, self.staff_id

        def done(event_id: uuid.UUID | None) -> None:
            if event_id is None:
                answer(self._saved_after_all(f"Saved {text}", "event", eid, text))
                return
            self._remember("event", event_id, text)
            self._done(f"Saved {text}")
            answer(True)

        self._attempt(lambda: self.service.record_event(
            session_id, kind, by=by, time=when, detail=detail, data=data,
            confirmed=confirmed, override_reason=override_reason,
            after_signoff_reason=reason, event_id=eid,
        ), done, entry=("event", eid), origin=origin)
        return answer.value

    def is_clinician(self) -> bool:
        """Whether the one entering records now is a clinician (who may start the infusion
        with a written reason while PHQ-9 item 9 waits).

        Read once: a staff member's role never changes, and the screens ask on every
        repaint, which must not cost the database a statement a second. (Whether the person
        may still act is checked by the service at every action.) With a background worker
        the role is read there: until it arrives the answer is no, and the session is
        announced again once it is known."""
        if self._role is None and not self._role_asked:
            self._role_asked = True
            staff_id = self.staff_id

            def answered(future: Future[StaffInfo]) -> None:
                self._role_asked = False
                if staff_id != self.staff_id:
                    return
                try:
                    self._role = future.result().role
                except (NotFoundError, StorageError):
                    return
                if self.background.threaded and self.view is not None:
                    self.viewChanged.emit(self.view)

            self.background.run(lambda: self.service.staff_info(staff_id), answered)
        return self._role == "clinician"

    def acknowledge(self, flag: Flag, action: str, note: str = "",
                    pin: str | None = None, *, record_pause: bool = False,
                    finished: Finished | None = None) -> bool:
        """Acknowledge ``flag``; a flag whose acknowledgement is an e-signature asks for it
        (:attr:`signatureNeeded`) and is recorded once the PIN is given. With
        ``record_pause``, the infusion pause is recorded with the acknowledgement, in one
        step: a cancelled signature records neither."""
        aid = self._entry_id("acknowledgement", flag.id, action, note, record_pause)
        answer = _Answer(finished)
        session_id, by = self.session_id, self.staff_id
        text = ("Flag acknowledged, infusion pause recorded" if record_pause
                else "Flag acknowledged")

        def done(result: uuid.UUID | None) -> None:
            if result is None:
                answer(self._saved_after_all(text))
                return
            self._done(text)
            answer(True)

        def sign() -> None:
            meaning = CRITICAL_ACK_MEANING.format(flag=flag.message, action=action)
            self._ask_signature(
                "Acknowledge critical flag", meaning,
                lambda p, fin: self.acknowledge(flag, action, note, p,
                                                record_pause=record_pause, finished=fin))
            answer(False)

        self._attempt(lambda: self.service.acknowledge(
            session_id, flag, action=action, note=note, by=by, pin=pin,
            record_pause=record_pause, acknowledgement_id=aid,
        ), done, signature=sign if pin is None else None, entry=("acknowledgement", aid))
        return answer.value

    def void(self, target_kind: str, target_id: uuid.UUID, reason: str,
             pin: str | None = None, *, finished: Finished | None = None) -> bool:
        """Void an entry; when that closes an open critical flag, the void is an
        e-signature and asks for it (:attr:`signatureNeeded`) first."""
        cid = self._entry_id("correction", target_kind, target_id, reason)
        answer = _Answer(finished)
        session_id, by = self.session_id, self.staff_id

        def done(result: uuid.UUID | None) -> None:
            if result is None and not self._stored_after_all:
                answer(False)
                return
            if self._last is not None and self._last.id == target_id:
                self._last = None
                self.undoAvailable.emit("")
            self._done(f"Voided {target_kind}")
            answer(True)

        def sign() -> None:
            self._ask_signature(
                "Void reading behind a critical flag",
                VOID_CRITICAL_MEANING.format(reason=reason.strip()),
                lambda p, fin: self.void(target_kind, target_id, reason, p, finished=fin))
            answer(False)

        self._attempt(lambda: self.service.void(
            session_id, target_kind, target_id, reason=reason, by=by,
            pin=pin, correction_id=cid,
        ), done, signature=sign if pin is None else None, entry=("correction", cid))
        return answer.value

    def enter_after_signoff(self, reason: str | None) -> bool:
        """Entries from now on are a clinician's entries after sign-off, for ``reason``
        (None: back to the chair's closed state). Refused at once for a role that may not
        add them (the service checks each entry again)."""
        self.last_refusal = ""
        if reason is not None:
            role = self._role or self.service.staff_info(self.staff_id).role
            if not allowed(role, Action.ENTER_AFTER_SIGNOFF):
                self.last_refusal = refusal(role, Action.ENTER_AFTER_SIGNOFF)
                self.refused.emit([FieldError("permission", self.last_refusal)], [])
                return False
        self.after_signoff_reason = reason.strip() if reason is not None else None
        if self.view is not None:
            self.viewChanged.emit(self.view)
        return True

    def amend_reading(
        self,
        target_id: uuid.UUID,
        raw: Mapping[str, Any],
        reason: str,
        confirmed: Collection[str] = (),
        pin: str | None = None,
        *,
        finished: Finished | None = None,
    ) -> bool:
        """Amend a reading; its note is carried over to the replacement. When that closes
        an open critical flag, the amendment is signed (:attr:`signatureNeeded`) first."""
        readings = self.view.record.readings if self.view is not None else ()
        original = next((r for r in readings if r.id == target_id), None)
        note = original.note if original is not None else ""
        cid = self._entry_id("correction", "amend", target_id, repr(dict(raw)), reason,
                             tuple(confirmed))
        answer = _Answer(finished)
        session_id, by = self.session_id, self.staff_id

        def done(result: uuid.UUID | None) -> None:
            if result is None:
                answer(self._saved_after_all("Amended reading"))
                return
            self._done("Amended reading")
            answer(True)

        def sign() -> None:
            self._ask_signature(
                "Amend reading behind a critical flag",
                AMEND_CRITICAL_MEANING.format(reason=reason.strip()),
                lambda p, fin: self.amend_reading(target_id, raw, reason, confirmed, p,
                                                  finished=fin))
            answer(False)

        self._attempt(lambda: self.service.amend_reading(
            session_id, target_id, raw, reason=reason, by=by,
            confirmed=confirmed, note=note, pin=pin, correction_id=cid,
        ), done, signature=sign if pin is None else None, entry=("correction", cid))
        return answer.value

    def sign_discharge(self, pin: str | None = None, *,
                       finished: Finished | None = None) -> bool:
        """Sign the discharge: without ``pin``, the signature is asked for first."""
        if pin is None:
            return self._ask_signature(
                "Sign discharge", DISCHARGE_MEANING,
                lambda p, fin: self.sign_discharge(p, finished=fin))
        session_id, by = self.session_id, self.staff_id
        return self._discharge(
            lambda: self.service.sign_discharge(session_id, by=by, pin=pin),
            "Discharge signed", finished)

    def override_discharge(self, reason: str, pin: str | None = None, *,
                           finished: Finished | None = None) -> bool:
        """A clinician's override: without ``pin``, the signature is asked for first."""
        if pin is None:
            return self._ask_signature(
                "Discharge with override", OVERRIDE_MEANING.format(reason=reason.strip()),
                lambda p, fin: self.override_discharge(reason, p, finished=fin))
        session_id, by = self.session_id, self.staff_id
        return self._discharge(
            lambda: self.service.override_discharge(session_id, reason=reason, by=by, pin=pin),
            "Discharge override recorded", finished)

    def _discharge(self, sign: Callable[[], uuid.UUID], text: str,
                   finished: Finished | None) -> bool:
        """Record a signed discharge (``sign``) and say ``text`` once it is committed."""
        answer = _Answer(finished)

        def done(result: uuid.UUID | None) -> None:
            if result is None:
                answer(False)
                return
            self._done(text)
            answer(True)

        self._attempt(sign, done)
        return answer.value

    def set_staff(self, staff_id: uuid.UUID) -> None:
        """Entries are recorded under ``staff_id`` from now on; another person's last entry
        is no longer theirs to undo."""
        if staff_id != self.staff_id and self._last is not None:
            self._last = None
            self.undoAvailable.emit("")
        if staff_id != self.staff_id:
            self.after_signoff_reason = None  # a reason is one clinician's, not the next
            self._role = None
        self.staff_id = staff_id

    # -- undo ------------------------------------------------------------------------------

    def can_undo(self) -> bool:
        """The last entry made here can still be undone: within the undo window, and the
        discharge not signed (nor overridden); a signed record is corrected through its
        history, with a reason."""
        last = self._last
        return (last is not None and not self.discharged()
                and self.clock.monotonic() - last.made_at <= UNDO_WINDOW_S)

    def discharged(self) -> bool:
        """The session, as last loaded, is discharged (signed or overridden)."""
        return self.view is not None and self.view.phase is Phase.DISCHARGED

    def undo_last(self, *, finished: Finished | None = None) -> bool:
        """Void the last entry made here, if still within the undo window (recorded)."""
        last = self._last
        if last is None or not self.can_undo():
            return False
        reason = f"Undone at the chair ({last.label})"
        answer = _Answer(finished)
        session_id, by = self.session_id, self.staff_id

        def done(result: uuid.UUID | None) -> None:
            if result is None:
                answer(False)
                return
            if self._last is last:
                self._last = None
                self.undoAvailable.emit("")
            self._done(f"Undone: {last.label}")
            answer(True)

        def sign() -> None:
            # The entry raised a critical flag still open: undoing it closes the flag.
            answer.value = self.void(last.kind, last.id, reason, finished=finished)

        self._attempt(lambda: self.service.void(
            session_id, last.kind, last.id, reason=reason, by=by,
        ), done, signature=sign)
        return answer.value

    # -- internals -------------------------------------------------------------------------

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

    def _ask_signature(self, title: str, meaning: str,
                       signed: Callable[[str, Finished | None], bool]) -> bool:
        """Announce that ``signed(pin, finished)`` needs the signer's PIN; nothing is
        recorded yet. The request's ``submit`` answers at once (the inline worker); its
        ``start`` tells the dialog when the outcome arrives (a background worker)."""
        def submit(pin: str) -> str | None:
            return None if signed(pin, None) else (self.last_refusal or "Not signed")

        def start(pin: str, reply: Callable[[str | None], None]) -> None:
            signed(pin, lambda ok: reply(None if ok else (self.last_refusal or "Not signed")))

        self.signatureNeeded.emit(SignatureRequest(title, meaning, submit, start,
                                                   final=lambda: self.refused_as_done))
        return False

    def _remember(self, kind: str, entry_id: uuid.UUID, label: str) -> None:
        if self.discharged() or self.service.held(self.session_id):
            return  # an entry held on the tablet is undone through the server, later
        self._last = LastEntry(kind, entry_id, label, self.clock.monotonic())
        self.undoAvailable.emit(label)

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


class _Answer:
    """An action's outcome: kept for its caller's return, told to ``finished``."""

    def __init__(self, finished: Finished | None) -> None:
        self.value = False
        self.finished = finished

    def __call__(self, ok: bool) -> None:
        self.value = ok
        if self.finished is not None:
            self.finished(ok)
