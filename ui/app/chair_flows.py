"""A chair's work: opening its session or its check-in, and keeping what is typed there.

The window keeps one session screen per chair, so an entry half-typed on one chair is still
there when the nurse comes back from another. What is typed but not saved is kept as a draft
on the tablet after a pause in typing (and at once on a save), comes back when the chair is
opened again, and closing the window with it on screen asks first.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from concurrent.futures import Future
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtGui import QCloseEvent

from monitor.clinical.permissions import Action, allowed
from monitor.service.views import InvalidEntryError, NotFoundError, SessionView
from monitor.storage.drafts import DraftKey, Forms
from monitor.storage.store import OutcomeUnknownError, StorageError
from ui.app.drafts import restore_session, session_drafts, unsaved_forms
from ui.app.frame import WindowFrame
from ui.common.ask import ConfirmDialog, tell
from ui.session.presenter import SessionPresenter

if TYPE_CHECKING:
    from ui.checkin.screen import CheckIn
    from ui.session.screen import SessionScreen


#: How long after the window shows its code for the session screen is loaded.
WARM_UP_MS = 300


def warm_up_session_screen() -> None:
    """Load the session screen's code (its chart library, pyqtgraph) while nobody waits on
    it: loaded at the first tap on a chair instead, it froze the screen for seconds —
    "Opening chair N…" unpainted, the clocks stopped — just when a nurse opened a chair."""
    import ui.session.screen  # noqa: F401, PLC0415 - the point is the import


class ChairFlows(WindowFrame):
    """Opening the chairs' sessions and check-ins, and their drafts, as part of the window."""

    def open_chair(self, chair: str) -> None:
        """The chair's session, or its check-in when it is free. When the chairs cannot be
        read, the session last loaded on it opens: an occupied chair is never taken for a
        free one because a read failed (and a chair never loaded opens nothing).

        The tapped tile says "Opening chair N…" at once, and further taps on the overview
        are ignored until the chair opens or fails. While the server is known unreachable
        the chair opens at once from what the tablet shows (its copy), without waiting for
        the server first. With a background worker the chair and its session are read
        there, together, and the screen opens when they arrive."""
        if self._opening:
            return  # a chair is opening: the overview's taps wait for it
        if self.reachability.unreachable and self._open_from_copy(chair):
            return
        self.opening_notice.show(chair, self.overview.tile(chair))
        if self.board.threaded:
            self._open_chair_in_background(chair)
            return
        try:
            self._open_chair_now(chair)
        finally:
            self.opening_notice.clear()

    def _open_from_copy(self, chair: str) -> bool:
        """Open ``chair`` from the views the tablet shows (the server away); False when it
        has none for it (the chair is then read as usual)."""
        seated = self.board.seated(chair)
        view = self.board.view(seated) if seated is not None else None
        if seated is None or view is None:
            return False
        self.show_session(chair, seated, view=view)
        return True

    def _open_chair_now(self, chair: str) -> None:
        active = self._guard(lambda: self.service.active_sessions([chair]))
        if active is None:
            seated = self.board.seated(chair)
            if seated is not None:
                self.show_session(chair, seated)
            elif self.board.known():
                self.check_in_chair(chair)
            return
        session_id = active.get(chair)
        if session_id is None:
            self.check_in_chair(chair)
            return
        self.show_session(chair, session_id)

    def _open_chair_in_background(self, chair: str) -> None:
        self._opening.add(chair)
        at = self.clock.now()
        service, chair_service = self.service, self.chair_service

        def read() -> tuple[uuid.UUID | None, SessionView | None]:
            session_id = service.active_sessions([chair]).get(chair)
            if session_id is None:
                return None, None
            try:
                return session_id, chair_service.load(session_id, at)
            except NotFoundError:
                return session_id, None

        def answered(future: Future[tuple[uuid.UUID | None, SessionView | None]]) -> None:
            if not shiboken6.isValid(self):
                return
            self._opening.discard(chair)
            self.opening_notice.clear()
            if self.staff_id is None:
                return
            try:
                session_id, view = future.result()
            except StorageError as exc:
                self.reachability.failed(exc)
                self._show_problem(exc.message)
                seated = self.board.seated(chair)
                if seated is not None:
                    self.show_session(chair, seated, view=self.board.view(seated))
                elif self.board.known():
                    self.check_in_chair(chair)
                return
            self.reachability.succeeded()
            self._show_reachability()
            if session_id is None:
                self.check_in_chair(chair)
            else:
                self.show_session(chair, session_id, view=view)

        self.board.background.run(read, answered)

    def show_session(self, chair: str, session_id: uuid.UUID,
                     view: SessionView | None = None) -> SessionScreen:
        """The chair's session screen, built on first use. ``view``: the session just loaded
        (its protocol gives the screen's medications and it is shown at once; nothing more is
        read); without it, the session is loaded again."""
        assert self.staff_id is not None
        assert self.staff_role != "admin", "an administrator opens no patient record"
        screen = self.sessions.get(chair)
        opened = screen is None or screen.presenter.session_id != session_id
        if opened:
            if screen is not None:
                self.stack.removeWidget(screen)
                screen.deleteLater()
            presenter = SessionPresenter(self.chair_service, self.clock, session_id,
                                         self.staff_id, parent=self,
                                         reachability=self.reachability, worker=self.worker)
            presenter.signatureNeeded.connect(self.ask_signature)
            # The pick list of the protocol version the session runs under.
            known = view if view is not None else self.board.view(session_id)
            protocol = (known.protocol if known is not None else
                        self._guard(lambda: self.service.session_protocol(session_id)))
            if protocol is None:
                protocol = self.service.protocol_for("iv_ketamine")
            medications = protocol.medications
            from ui.session.screen import SessionScreen  # noqa: PLC0415 - built on first use
            screen = SessionScreen(self.theme, self.clock, presenter, medications)
            screen.header.set_tablet(self.service.tablet)
            self._add_device_readings(screen, presenter)
            screen.back.connect(self.show_overview)
            screen.set_orientation(self.orientation())
            self.presenters[chair] = presenter
            self.sessions[chair] = screen
            self.stack.addWidget(screen)
            # A save empties its form: its draft goes at once, not after the pause.
            presenter.saved.connect(self._flush_drafts)
            presenter.heldOnTablet.connect(self._flush_drafts)
            # The chair's tile shows the save at once, whatever the feed's pace.
            presenter.committed.connect(self._own_save)
        assert screen is not None
        screen.discharge.allow_override(allowed(self.staff_role, Action.OVERRIDE_DISCHARGE))
        if view is not None:
            screen.presenter.show_loaded(view)
        else:
            screen.presenter.refresh()
        if opened:
            self._restore_session(screen)
        self._show(screen)
        return screen

    def _add_device_readings(self, screen: SessionScreen, presenter: SessionPresenter) -> None:
        """The bedside monitor's readings to confirm, above the chart (in the chart's column,
        so the values rail keeps its height in landscape)."""
        from monitor.feed.filing import FeedFiling  # noqa: PLC0415 - built on first use
        from ui.session.device_readings import (  # noqa: PLC0415
            DeviceReadingsController,
            DeviceReadingsPanel,
        )
        panel = DeviceReadingsPanel(self.theme)
        splitter = screen.left
        splitter.insertWidget(0, panel)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 3)

        def fit(height: int) -> None:
            # The panel's height comes from the last pane (the flags in landscape, which
            # scroll; the chart in portrait), so the column and the values rail above it
            # keep their size.
            sizes = splitter.sizes()
            if height <= 0 or len(sizes) < 2 or sizes[0] >= height:
                return
            sizes[-1] -= height - sizes[0]
            sizes[0] = height
            splitter.setSizes(sizes)

        panel.heightWanted.connect(fit)
        DeviceReadingsController(FeedFiling(self.service), presenter, panel, parent=screen)

    def check_in_chair(self, chair: str) -> None:
        self._drop_checkin()
        from ui.checkin.screen import CheckInScreen  # noqa: PLC0415 - built on first use
        self.checkin = CheckInScreen(self.theme, self.service, self.clock, chair,
                                     background=self.board.background)
        self.checkin.set_orientation(self.orientation())
        self.checkin.checkInRequested.connect(self._checked_in)
        self.checkin.cancelled.connect(self._checkin_cancelled)
        self.checkin.limitsRequested.connect(self.show_patient_limits)
        self.stack.addWidget(self.checkin)
        draft = self.drafts.restore(self._draft_key("checkin", chair)) if self.drafts else None
        if draft is not None and draft.forms.get("checkin"):
            self.checkin.restore_draft(draft.forms["checkin"])
        self._show(self.checkin)

    def _drop_checkin(self) -> None:
        """Close the check-in screen, with whatever it holds."""
        if self.checkin is not None:
            self.stack.removeWidget(self.checkin)
            self.checkin.deleteLater()
            self.checkin = None

    # -- drafts ------------------------------------------------------------------------------

    def _draft_key(self, kind: str, place: str) -> DraftKey:
        return DraftKey(kind, place, str(self.staff_id))

    def _drafts_on_screen(self) -> dict[DraftKey, Forms]:
        """Every screen's typed state now, for the draft keeper."""
        if self.staff_id is None:
            return {}
        found: dict[DraftKey, Forms] = {
            self._draft_key("session", str(screen.presenter.session_id)): session_drafts(screen)
            for screen in self.sessions.values() if shiboken6.isValid(screen)}
        if self.checkin is not None and shiboken6.isValid(self.checkin):
            state = self.checkin.draft_state()
            found[self._draft_key("checkin", self.checkin.chair)] = (
                {"checkin": state} if state != self.checkin.blank_state() else {})
        return found

    def _own_save(self, reading_id: uuid.UUID | None) -> None:
        """The chair's tile after a save on its screen: a reading's save gave back the view
        the screen shows, taken as it is; any other change is read again."""
        presenter = self.sender()
        if not isinstance(presenter, SessionPresenter):
            return
        if presenter.view is not None and presenter.view.held:
            # Saved on this tablet only: the tile shows the tablet's copy until the server's
            # view (after the drain, announced like any commit) replaces it.
            self.board.show_held(presenter.session_id, presenter.view)
            return
        if not self.live:
            return
        if reading_id is not None and presenter.view is not None:
            self.board.show_saved(presenter.session_id, presenter.view, reading_id)
        else:
            self.board.reload_session(presenter.session_id)

    def _draft_edited(self) -> None:
        if self.drafts is not None:
            self.drafts.edited()

    def _flush_drafts(self) -> None:
        if self.drafts is not None:
            self.drafts.flush()
            if self.drafts.problem:
                self.statusBar().showMessage(self.drafts.problem, 10_000)

    def _restore_session(self, screen: SessionScreen) -> None:
        if self.drafts is None:
            return
        draft = self.drafts.restore(self._draft_key("session", str(screen.presenter.session_id)))
        if draft is not None:
            restore_session(screen, draft)

    def _checkin_cancelled(self) -> None:
        """The nurse left the check-in on purpose: what she typed there is not kept."""
        if self.drafts is not None and self.checkin is not None:
            self.drafts.discard(self._draft_key("checkin", self.checkin.chair))
        self.show_overview()

    def unsaved_entries(self) -> list[str]:
        """Where something is typed but not saved, in words ("Chair 2: vitals")."""
        found = [f"Chair {chair}: {', '.join(forms)}"
                 for chair, screen in self.sessions.items()
                 if shiboken6.isValid(screen) and (forms := unsaved_forms(screen))]
        if (self.checkin is not None and shiboken6.isValid(self.checkin)
                and self.checkin.draft_state() != self.checkin.blank_state()):
            found.append(f"Chair {self.checkin.chair}: check-in")
        return found

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing with entries typed but not saved asks first; what was typed is kept."""
        unsaved = [] if self._close_confirmed else self.unsaved_entries()
        if unsaved:
            event.ignore()
            self.ask_close(unsaved)
            return
        self._flush_drafts()
        super().closeEvent(event)

    def ask_close(self, unsaved: Sequence[str]) -> ConfirmDialog:
        """The question before closing, shown without blocking; "Close" closes."""
        kept = ("What was typed is kept as a draft on this tablet and comes back when the "
                "chair is opened again." if self.drafts is not None else
                "What was typed will be lost.")
        if self.close_dialog is not None:
            self.close_dialog.deleteLater()
        self.close_dialog = ConfirmDialog(
            self.theme, "Close ChairSide?", "Not saved yet: " + "; ".join(unsaved) + ".",
            action="Close ChairSide", keep="Keep working", detail=kept, parent=self)
        self.close_dialog.accepted.connect(self._close_anyway)
        self.close_dialog.open()
        return self.close_dialog

    def _close_anyway(self) -> None:
        self._close_confirmed = True
        self.close()

    def _checked_in(self, data: CheckIn) -> None:
        """Check the patient in; the chair's session opens once it is stored. With a
        background worker the check-in (and the new session's first load) runs there and
        the status line says "Checking in…"; a second tap meanwhile sends nothing."""
        assert self.staff_id is not None
        staff_id = self.staff_id
        from ui.checkin.screen import NewPatient  # noqa: PLC0415 - loaded with the check-in screen
        new = data.patient if isinstance(data.patient, NewPatient) else None
        service, at = self.service, self.clock.now()
        if self._checking_in:
            return

        def check_in() -> tuple[uuid.UUID, SessionView | None]:
            session_id = service.check_in(
                by=staff_id, chair=data.chair,
                patient_id=None if new else data.patient,  # type: ignore[arg-type]
                new_patient={"mrn": new.mrn, "name": new.name,
                             "date_of_birth": new.date_of_birth} if new else None,
                profile=data.profile, weight_kg=data.weight_kg,
                planned_mg_per_kg=data.mg_per_kg, infusion_minutes=data.minutes,
                bag_volume_ml=data.bag_volume_ml, lot_number=data.lot_number,
                concomitant_medications=dict(data.medications), escort_name=data.escort_name,
                phq9_items=data.phq9_items, gad7_items=data.gad7_items,
            )
            if not self.board.threaded:
                return session_id, None  # loaded by the screen, as before
            try:
                return session_id, service.load(session_id, at)
            except (StorageError, NotFoundError):
                return session_id, None  # checked in: the screen loads it again

        def answered(future: Future[tuple[uuid.UUID, SessionView | None]]) -> None:
            self._checking_in = False
            if not shiboken6.isValid(self):
                return
            if self.board.threaded:
                self.statusBar().clearMessage()
            try:
                session_id, view = future.result()
            except InvalidEntryError as exc:
                if self.checkin is not None:
                    self.checkin.show_errors(exc.errors)
                return
            except StorageError as exc:
                title = ("Not known whether saved" if isinstance(exc, OutcomeUnknownError)
                         else "NOT saved")
                tell(self, title, f"{exc.message}\nThe check-in is still on screen; try again.")
                return
            if self.drafts is not None:
                self.drafts.discard(self._draft_key("checkin", data.chair))
            if self.live:
                self.board.reload_chairs()
            self.show_session(data.chair, session_id, view=view)
            # Checked in: the screen goes, so nothing of this patient is kept as a draft or
            # shown again at the chair's next check-in.
            self._drop_checkin()

        self._checking_in = True
        if self.board.threaded:
            self.statusBar().showMessage("Checking in…")
        self.board.background.run(check_in, answered)
