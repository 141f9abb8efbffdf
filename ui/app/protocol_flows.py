"""The clinic protocol, as part of the window: the protocol screen, a draft's what-if, a
changed session opened in the review with both versions' flags, and a patient's own limits.

Each screen is built on first use. Their reads and writes run on the window's database
worker (:mod:`ui.common.background`); the what-if's replay runs on a thread of its own.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget

from monitor.clinical.permissions import Action, allowed, refusal
from monitor.service.views import NotFoundError
from monitor.storage.store import StorageError
from ui.app.frame import WindowFrame
from ui.common.background import Background

if TYPE_CHECKING:
    from monitor.service.protocol_admin import DraftInfo
    from monitor.service.whatif import ChangedSession, WhatIfResult
    from ui.protocol.limits import PatientLimitsScreen
    from ui.protocol.whatif import WhatIfScreen
    from ui.review.session import SessionReviewScreen


class ProtocolFlows(WindowFrame):
    """The protocol screens, as part of the window."""

    #: A what-if's draft asked for and not yet read; the draft shown, in words.
    _whatif_opening = False
    _whatif_draft = "the draft"
    _protocol_calls: Background | None = None
    #: The screen a patient's limits were asked from (their Back returns there).
    _limits_from: QWidget | None = None

    def show_protocol(self) -> None:
        """The clinic protocol: nurses read, administrators write drafts, clinicians approve."""
        from ui.protocol.controller import (  # noqa: PLC0415 - built on first use
            ProtocolController,
        )
        from ui.protocol.screen import ProtocolScreen  # noqa: PLC0415

        if self.protocol_screen is None:
            profiles = self._guard(self.service.protocols.profiles) or []
            self.protocol_screen = ProtocolScreen(self.theme, profiles)
            self.protocol_screen.back.connect(self.show_overview)
            self.protocol_screen.whatIfRequested.connect(self.show_whatif)
            self.protocol_screen.set_orientation(self.orientation())
            self._protocol_controller = ProtocolController(
                self.service.protocols, self.protocol_screen, self, worker=self.worker)
            self.stack.addWidget(self.protocol_screen)
        assert self._protocol_controller is not None
        self._protocol_controller.refresh()  # "Loading…" on the screen until read
        self._show(self.protocol_screen)

    # -- what-if -----------------------------------------------------------------------------

    def whatif_workers(self) -> int:
        """Processes a what-if evaluates in: one per core (the replay runs off the GUI
        thread either way)."""
        from monitor.service.whatif import default_workers  # noqa: PLC0415

        return default_workers()

    def show_whatif(self, draft_id: uuid.UUID) -> WhatIfScreen | None:
        """A draft's what-if: the period, Run with progress and Cancel, the comparison.
        The draft is read first (on the database worker; "Opening the what-if…" meanwhile,
        a second tap reads nothing); returns the screen once shown at once (inline)."""
        if self._whatif_opening:
            return None
        self._whatif_opening = True
        protocols = self.service.protocols
        shown: list[WhatIfScreen] = []

        def answered(future: Future[DraftInfo]) -> None:
            self._whatif_opening = False
            if not shiboken6.isValid(self):
                return
            if self.statusBar().currentMessage() == "Opening the what-if…":
                self.statusBar().clearMessage()
            try:
                draft = future.result()
            except (StorageError, NotFoundError) as exc:
                self._refused_read(exc)
                return
            self.reachability.succeeded()
            self._show_reachability()
            shown.append(self._open_whatif(draft))

        background = self._protocol_background()
        if background.threaded:
            self.statusBar().showMessage("Opening the what-if…")
        background.run(lambda: protocols.draft(draft_id), answered)
        return shown[0] if shown else None

    def _protocol_background(self) -> Background:
        """Where the protocol flows' own reads run (the window's database worker)."""
        if self._protocol_calls is None:
            self._protocol_calls = Background(self.worker, parent=self)
        return self._protocol_calls

    def _open_whatif(self, draft: DraftInfo) -> WhatIfScreen:
        from ui.protocol.whatif import (  # noqa: PLC0415 - built on first use
            WhatIfController,
            WhatIfScreen,
        )

        protocols, draft_id = self.service.protocols, draft.id
        if self.whatif_screen is None:
            screen = WhatIfScreen(self.theme)
            screen.back.connect(self.show_protocol)
            screen.openSession.connect(self.show_whatif_review)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.whatif_screen = screen
            self._whatif_controller = WhatIfController(
                screen, lambda: self.clock.now().astimezone().date(), self)
        assert self._whatif_controller is not None
        workers = self.whatif_workers()

        def replay(since: datetime | None, until: datetime | None,
                   progress: Callable[[int, int], None], cancel: threading.Event
                   ) -> WhatIfResult:
            return protocols.what_if(draft_id, since=since, until=until, workers=workers,
                                     progress=progress, cancel=cancel)

        self._whatif_controller.open(
            draft_id, replay, f"What-if: draft by {draft.created_by_name}",
            f"“{draft.reason}” ({draft.profile.replace('_', ' ')}), against the version each "
            "session ran under", edited=draft.updated_at)
        self._whatif_draft = f"the draft “{draft.reason}” by {draft.created_by_name}"
        can_review = allowed(self.staff_role, Action.REVIEW)
        self.whatif_screen.set_can_open(
            can_review, "" if can_review else refusal(self.staff_role, Action.REVIEW))
        self._show(self.whatif_screen)
        return self.whatif_screen

    def show_whatif_review(self, changed: ChangedSession) -> None:
        """A changed session in the review, its flags under both versions in the "What-if"
        tab; Back returns to the what-if."""
        if not allowed(self.staff_role, Action.REVIEW):
            self.statusBar().showMessage(refusal(self.staff_role, Action.REVIEW), 10_000)
            return
        title = self._whatif_draft

        def with_flags(screen: SessionReviewScreen) -> None:
            if screen.full_view is None:
                return
            self._review_return = self.whatif_screen
            screen.back_button.setText("Back to what-if")
            protocol = screen.full_view.protocol
            screen.show_whatif(
                changed, f"version {protocol.version} (the one the session ran under)",
                title)

        self.show_session_review(changed.session_id, then=with_flags)

    def stop_whatif(self) -> None:
        """Cancel a what-if under way and wait for its thread (before its screen goes)."""
        if self._whatif_controller is not None:
            self._whatif_controller.wait()

    def _reset_protocol_screens(self) -> None:
        """Forget the protocol screens (built again on first use)."""
        self.protocol_screen = None
        self._protocol_controller = None
        self.whatif_screen = None
        if self._whatif_controller is not None:
            self._whatif_controller.deleteLater()
        self._whatif_controller = None
        self.limits_screen = None
        self._limits_controller = None
        self._limits_return = None
        self._review_return = None

    # -- closing -----------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        """A what-if under way is cancelled, and its thread waited for, before closing."""
        super().closeEvent(event)
        if event.isAccepted() and self._whatif_controller is not None:
            self._whatif_controller.wait()

    # -- a patient's own limits --------------------------------------------------------------

    def show_patient_limits(self, patient_id: uuid.UUID) -> PatientLimitsScreen | None:
        """A patient's own limits: clinicians set them with a reason, nurses read. Shown
        once read (returned when shown at once, with the inline worker); the status line
        says "Opening the patient's limits…" meanwhile."""
        from ui.protocol.limits import (  # noqa: PLC0415 - built on first use
            PatientLimitsController,
            PatientLimitsScreen,
        )

        if self.limits_screen is None:
            screen = PatientLimitsScreen(self.theme)
            screen.set_orientation(self.orientation())
            screen.back.connect(lambda: self._show(self._limits_return or self.overview))
            self.stack.addWidget(screen)
            self.limits_screen = screen
            self._limits_controller = PatientLimitsController(
                self.service.limits, screen, self, worker=self.worker)
            self._limits_controller.events.opened.connect(self._limits_opened)
            self._limits_controller.events.failed.connect(self._limits_refused)
        controller = self._limits_controller
        assert controller is not None
        if controller.opening is None:
            self._limits_from = self.stack.currentWidget()
            if controller.background.threaded:
                self.statusBar().showMessage("Opening the patient's limits…")
        controller.open(patient_id)
        shown = self.stack.currentWidget() is self.limits_screen or (
            self.locked and self._under_lock is self.limits_screen)
        return self.limits_screen if shown and controller.opening is None else None

    def _limits_opened(self, _patient_id: uuid.UUID) -> None:
        if not shiboken6.isValid(self) or self.limits_screen is None:
            return
        if self.statusBar().currentMessage() == "Opening the patient's limits…":
            self.statusBar().clearMessage()
        self.reachability.succeeded()
        self._show_reachability()
        if self.stack.currentWidget() is not self.limits_screen:
            self._limits_return = self._limits_from
        self._show(self.limits_screen)

    def _limits_refused(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        if self.statusBar().currentMessage() == "Opening the patient's limits…":
            self.statusBar().clearMessage()
        self._refused_read(exc)
