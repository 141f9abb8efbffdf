"""The clinic protocol, as part of the window: the protocol screen, a draft's what-if, a
changed session opened in the review with both versions' flags, and a patient's own limits.

Each screen is built on first use.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from PySide6.QtGui import QCloseEvent

from monitor.clinical.permissions import Action, allowed, refusal
from ui.app.frame import WindowFrame

if TYPE_CHECKING:
    from monitor.service.whatif import ChangedSession, WhatIfResult
    from ui.protocol.limits import PatientLimitsScreen
    from ui.protocol.whatif import WhatIfScreen


class ProtocolFlows(WindowFrame):
    """The protocol screens, as part of the window."""

    def show_protocol(self) -> None:
        """The clinic protocol: nurses read, administrators write drafts, clinicians approve."""
        from ui.protocol.screen import (  # noqa: PLC0415 - built on first use
            ProtocolController,
            ProtocolScreen,
        )
        if self.protocol_screen is None:
            profiles = self._guard(self.service.protocols.profiles) or []
            self.protocol_screen = ProtocolScreen(self.theme, profiles)
            self.protocol_screen.back.connect(self.show_overview)
            self.protocol_screen.whatIfRequested.connect(self.show_whatif)
            self.protocol_screen.set_orientation(self.orientation())
            self._protocol_controller = ProtocolController(
                self.service.protocols, self.protocol_screen, self)
            self.stack.addWidget(self.protocol_screen)
        assert self._protocol_controller is not None
        self._guard(self._protocol_controller.refresh)
        self._show(self.protocol_screen)

    # -- what-if -----------------------------------------------------------------------------

    def whatif_workers(self) -> int:
        """Processes a what-if evaluates in: one per core (the replay runs off the GUI
        thread either way)."""
        from monitor.service.whatif import default_workers  # noqa: PLC0415

        return default_workers()

    def show_whatif(self, draft_id: uuid.UUID) -> WhatIfScreen | None:
        """A draft's what-if: the period, Run with progress and Cancel, the comparison."""
        from ui.protocol.whatif import (  # noqa: PLC0415 - built on first use
            WhatIfController,
            WhatIfScreen,
        )

        protocols = self.service.protocols
        draft = self._guard(lambda: protocols.draft(draft_id))
        if draft is None:
            return None
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
        controller = self._whatif_controller
        draft_id = controller.draft_id if controller is not None else None
        draft = (self._guard(lambda: self.service.protocols.draft(draft_id))
                 if draft_id is not None else None)
        screen = self.show_session_review(changed.session_id)
        if screen is None or screen.full_view is None:
            return
        self._review_return = self.whatif_screen
        screen.back_button.setText("Back to what-if")
        protocol = screen.full_view.protocol
        screen.show_whatif(
            changed, f"version {protocol.version} (the one the session ran under)",
            f"the draft “{draft.reason}” by {draft.created_by_name}" if draft else "the draft")

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
        """A patient's own limits: clinicians set them with a reason, nurses read."""
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
                self.service.limits, screen, self)
        assert self._limits_controller is not None
        self._limits_return = self.stack.currentWidget()
        controller = self._limits_controller

        def open_limits() -> bool:
            controller.open(patient_id)
            return True

        if self._guard(open_limits) is None:
            return None
        self._show(self.limits_screen)
        return self.limits_screen
