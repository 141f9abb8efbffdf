"""Forwards what the nurse does at one chair to the clinic service, and its answers back.

A :class:`SessionPresenter` belongs to one session. Screens call its methods; it coordinates
what they ask: readings and events, acknowledgements, the undo of the last entry, a
clinician's entries after sign-off, and who is entering. It is built on
:class:`~ui.session.link.SessionLink`, which loads the session and turns each outcome into a
signal ("Saved" only after the commit, a refusal, NOT saved, not known), and hands the
e-signatures and the discharge to :class:`~ui.session.signing.Signing` and the voids and
amendments to :class:`~ui.session.corrections.Corrections`. It makes no clinical decision
itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from concurrent.futures import Future
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject

from monitor.clinical.domain import EventKind, Flag
from monitor.clinical.permissions import Action, allowed, refusal
from monitor.clinical.validation import FieldError
from monitor.clock import Clock
from monitor.service.auth import StaffInfo
from monitor.service.reachability import Reachability
from monitor.service.views import NotFoundError, SavedReading
from monitor.service.worker import Worker
from monitor.storage.store import StorageError
from ui.common.signature import CRITICAL_ACK_MEANING
from ui.session.corrections import Corrections
from ui.session.link import Answer, ChairService, Finished, SessionLink
from ui.session.signing import Signing

#: How long the last entry can be undone (seconds, monotonic clock).
UNDO_WINDOW_S = 120.0


class SessionPresenter(SessionLink):
    """One session's go-between: what the screens ask, coordinated. Its signals are those
    of :class:`~ui.session.link.SessionLink`."""

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
        """``reachability``, ``worker``: as :class:`~ui.session.link.SessionLink`."""
        super().__init__(service, clock, session_id, staff_id, parent,
                         reachability=reachability, worker=worker)
        #: The role of ``staff_id``, read on first need (see :meth:`is_clinician`).
        self._role: str | None = None
        self._role_asked = False
        #: A clinician's reason for entries after the discharge was signed (None: the chair
        #: enters as usual, and a signed session refuses).
        self.after_signoff_reason: str | None = None
        self.signing = Signing(self)
        self.corrections = Corrections(self, self.signing)

        # The presenter's own names for what its parts do.
        self.sign_discharge = self.signing.sign_discharge
        self.override_discharge = self.signing.override_discharge
        self.void = self.corrections.void
        self.amend_reading = self.corrections.amend_reading

    # -- entries ---------------------------------------------------------------------------

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
        answer = Answer(finished)
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
        answer = Answer(finished)
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
        answer = Answer(finished)
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
            meaning = CRITICAL_ACK_MEANING.format(flag=flag.shown_message, action=action)
            self.signing.ask(
                "Acknowledge critical flag", meaning,
                lambda p, fin: self.acknowledge(flag, action, note, p,
                                                record_pause=record_pause, finished=fin))
            answer(False)

        self._attempt(lambda: self.service.acknowledge(
            session_id, flag, action=action, note=note, by=by, pin=pin,
            record_pause=record_pause, acknowledgement_id=aid,
        ), done, signature=sign if pin is None else None, entry=("acknowledgement", aid))
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

    def undo_last(self, *, finished: Finished | None = None) -> bool:
        """Void the last entry made here, if still within the undo window (recorded)."""
        last = self._last
        if last is None or not self.can_undo():
            return False
        reason = f"Undone at the chair ({last.label})"
        answer = Answer(finished)
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

    def _announce(self) -> None:
        """Announce the session; the last entry is no longer offered for undo once its
        window has passed or the discharge is signed."""
        super()._announce()
        if self._last is not None and not self.can_undo():
            self._last = None
            self.undoAvailable.emit("")
