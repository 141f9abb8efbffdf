"""What every part of the application window shares: the stack of screens, who is signed in,
and the moves between screens.

:class:`ui.app.main_window.MainWindow` is built from parts, each a flow of the work at the
chairs: signing in and staff administration (:mod:`ui.app.staff_flows`), opening a chair's
session or check-in with its drafts (:mod:`ui.app.chair_flows`), and the clinicians' review
(:mod:`ui.app.review_flows`). :class:`WindowFrame` is what they stand on: the state the
window keeps, declared once, and the moves every part makes (bring a screen to the front,
read without crashing on a database that cannot be reached).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMainWindow, QStackedWidget, QStatusBar, QWidget

from monitor.service.board import ChairTile
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError, NotFoundError
from monitor.storage.store import OutcomeUnknownError, StorageError
from ui.common.labels import clock_time
from ui.common.signature import SignatureDialog, SignatureRequest

if TYPE_CHECKING:
    from datetime import datetime

    from monitor.clock import Clock
    from monitor.service.reachability import Reachability
    from monitor.service.worker import Worker
    from monitor.storage.drafts import DraftKeeper
    from ui.app.chime import Chime
    from ui.app.live import ChairViews
    from ui.app.lock import IdleWatcher, LockScreen
    from ui.checkin.screen import CheckInScreen
    from ui.common.ask import ConfirmDialog
    from ui.common.background import Latest
    from ui.common.banner import TopStrip, UnreachableBanner
    from ui.common.style import TouchButton
    from ui.common.theme import Theme
    from ui.overview.opening import OpeningNotice
    from ui.overview.screen import OverviewScreen
    from ui.protocol.controller import ProtocolController
    from ui.protocol.limits import PatientLimitsController, PatientLimitsScreen
    from ui.protocol.screen import ProtocolScreen
    from ui.protocol.whatif import WhatIfController, WhatIfScreen
    from ui.review.batch_export import BatchExportDialog
    from ui.review.course import CourseScreen
    from ui.review.search import ReviewScreen
    from ui.review.session import SessionReviewScreen
    from ui.session.presenter import ChairService, SessionPresenter
    from ui.session.screen import SessionScreen
    from ui.staff.admin import StaffAdminScreen
    from ui.staff.audit import AuditScreen
    from ui.staff.login import FirstAdminScreen, LoginScreen

T = TypeVar("T")

#: Said of what only the server has, while it cannot be reached.
NEEDS_SERVER_TIP = "Needs the server, which cannot be reached now"


class WindowFrame(QMainWindow):
    """The application window's shared state and moves (built by ``MainWindow``)."""

    service: ClinicService
    #: What a chair's presenter calls: ``service``, or the tablet's that holds entries
    #: while the server is away (:class:`monitor.service.tablet.TabletService`).
    chair_service: ChairService
    clock: Clock
    chairs: tuple[str, ...]
    theme: Theme
    #: Who is signed in (None before the first sign-in), and their name and role.
    staff_id: uuid.UUID | None
    staff_name: str
    staff_role: str
    chime: Chime
    #: Whether changes committed anywhere are followed (the tick then reads nothing).
    live: bool
    board: ChairViews
    #: Where the chairs' reads and saves run (None: at once, in the GUI thread).
    worker: Worker | None
    #: Whether the server answers, as the reads found it, and the banner that says it does not.
    reachability: Reachability
    banner: UnreachableBanner
    #: The strip at the top that holds the banner, or the tablet's name and the time.
    top_strip: TopStrip
    #: From when the tablet's copy shown is (a start without the server), until it answers.
    _copy_from: datetime | None
    #: The last database problem put on the status bar (cleared when the server is back).
    _problem_text: str
    idle: IdleWatcher
    locked: bool
    #: The screen the lock covers, shown again on unlock.
    _under_lock: QWidget | None
    _hidden_dialogs: list[QDialog]
    stack: QStackedWidget
    #: Staff administration (:class:`ui.app.staff_flows.StaffFlows`) and the clinic protocol
    #: (``MainWindow``): the flows provide them, the frame's moves call them.
    show_admin: Callable[[], None]
    show_protocol: Callable[[], None]
    #: A patient's own limits (:class:`ui.app.protocol_flows.ProtocolFlows`) and one session
    #: in the review (:class:`ui.app.review_flows.ReviewFlows`), which the other flows open.
    show_patient_limits: Callable[[uuid.UUID], object]
    show_session_review: Callable[..., SessionReviewScreen | None]
    login_screen: LoginScreen
    lock_screen: LockScreen
    overview: OverviewScreen
    protocol_button: TouchButton
    first_admin: FirstAdminScreen | None
    staff_admin: StaffAdminScreen | None
    audit: AuditScreen | None
    _audit_actions: set[str]
    #: The audit trail's reads: only the newest filter's answer is shown.
    _audit_reads: Latest | None
    protocol_screen: ProtocolScreen | None
    _protocol_controller: ProtocolController | None
    whatif_screen: WhatIfScreen | None
    _whatif_controller: WhatIfController | None
    limits_screen: PatientLimitsScreen | None
    _limits_controller: PatientLimitsController | None
    #: The screen a patient's limits return to, and the one the review returns to when it
    #: was opened from elsewhere than the review's list (None: the list).
    _limits_return: QWidget | None
    _review_return: QWidget | None
    signature_dialog: SignatureDialog | None
    presenters: dict[str, SessionPresenter]
    #: The chair whose opening is read in the background (taps on the overview wait for it).
    _opening: set[str]
    #: "Opening chair N…" over the tapped tile while it opens.
    opening_notice: OpeningNotice
    #: A check-in sent in the background and not yet answered.
    _checking_in: bool
    sessions: dict[str, SessionScreen]
    checkin: CheckInScreen | None
    drafts: DraftKeeper | None
    #: The close asked about and confirmed: the next close goes through.
    _close_confirmed: bool
    close_dialog: ConfirmDialog | None
    review_screen: ReviewScreen | None
    session_review: SessionReviewScreen | None
    course_screen: CourseScreen | None
    batch_dialog: BatchExportDialog | None

    def orientation(self) -> Qt.Orientation:
        return (Qt.Orientation.Vertical if self.height() > self.width()
                else Qt.Orientation.Horizontal)

    def _show(self, screen: QWidget) -> None:
        """Bring ``screen`` to the front, or, while locked, behind the lock."""
        if self.locked:
            self._under_lock = screen
        else:
            self.stack.setCurrentWidget(screen)

    def show_overview(self) -> None:
        if self.staff_role == "admin":
            self.show_admin()
            return
        self.refresh_overview()
        self._show(self.overview)

    def chair_tiles(self) -> list[ChairTile] | None:
        """Each chair's tile now, from the sessions as last loaded (None: the database
        cannot be read)."""
        return self.board.tiles()

    def refresh_overview(self) -> None:
        tiles = self.chair_tiles()
        if tiles is not None:
            self.overview.show_tiles(tiles)
            self.chime.observe(tiles)

    def current_session(self) -> SessionScreen | None:
        return self._as_session(self.stack.currentWidget())

    def _as_session(self, widget: object) -> SessionScreen | None:
        """``widget`` if it is one of the chairs' session screens (without importing the
        session screen's module before the first one is built)."""
        return next((screen for screen in self.sessions.values() if screen is widget), None)

    def _by(self) -> uuid.UUID:
        assert self.staff_id is not None
        return self.staff_id

    def ask_signature(self, request: SignatureRequest) -> SignatureDialog:
        """Ask the signed-in staff member to sign ``request`` (non-blocking dialog)."""
        if self.signature_dialog is not None:
            self.signature_dialog.close()
            self.signature_dialog.deleteLater()
        dialog = SignatureDialog(self.theme, request, signer=self.staff_name,
                                 role=self.staff_role, at=self.clock.now(), parent=self)
        self.signature_dialog = dialog
        dialog.open()
        return dialog

    def _show_problem(self, text: str) -> None:
        self._problem_text = text
        if self.reachability.since is None:  # an outage is the banner's to say
            self.statusBar().showMessage(text, 10_000)
        self._show_reachability()

    def _show_reachability(self) -> None:
        """The banner while the server is unreachable; once it answers again, the banner
        hidden and the database problem still on the status bar cleared."""
        since = self.reachability.since
        # The protocol, the review and the audit trail are the server's: no copy of them.
        # (Before the screens are built there are no buttons yet.)
        buttons = ((self.protocol_button, self.overview.review_button,
                    self.overview.audit_button) if hasattr(self, "protocol_button") else ())
        for button in buttons:
            button.setEnabled(since is None)
            button.setToolTip("" if since is None else NEEDS_SERVER_TIP)
        if since is None and self._copy_from is not None:
            # The server answers after a start on the copy: the open sessions are read from
            # it; a later outage says "since".
            self._copy_from = None
            for presenter in list(self.presenters.values()):
                presenter.refresh()
        self.top_strip.show_since(since, copy_from=self._copy_from)
        # The status line stays as it is: hiding it would move what is at the bottom.
        bar = self.findChild(QStatusBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
        if since is None and self._problem_text:
            if bar is not None and bar.currentMessage() == self._problem_text:
                bar.clearMessage()
            self._problem_text = ""

    def show_strip_line(self) -> None:
        """The strip's words while the server answers: which tablet this is, and the time."""
        now = clock_time(self.clock.now())
        tablet = self.service.tablet
        self.top_strip.set_line(f"ChairSide · {tablet} · {now}" if tablet
                                else f"ChairSide · {now}")

    def _guard(self, action: Callable[[], T]) -> T | None:
        """Run a read; a database that cannot be reached is said once, not a crash."""
        try:
            result = action()
        except StorageError as exc:
            self.reachability.failed(exc)
            self._show_problem(exc.message)
        except NotFoundError:
            self.reachability.succeeded()
        else:
            self._read_answered()
            self._show_reachability()
            return result
        return None

    def _read_answered(self) -> None:
        """A read of the staff (names, a PIN) was answered: by the server, the outage is
        over; from the tablet's copy (the server away), it is not, and the banner stays."""
        if not self.service.on_copy:
            self.reachability.succeeded()

    def _refused_read(self, exc: BaseException) -> None:
        """A read in the background was refused: a server out of reach is the banner's to
        say; any other refusal (busy, not found, not allowed) is said on the status line."""
        if isinstance(exc, StorageError):
            self.reachability.failed(exc)
            if self.reachability.since is not None:
                self._show_problem(exc.message)
            else:
                self.statusBar().showMessage(exc.message, 10_000)
        elif isinstance(exc, NotFoundError):
            self.statusBar().showMessage(f"Not found: {exc}", 10_000)
        else:
            self.statusBar().showMessage(str(exc), 10_000)


def refusal_text(exc: Exception) -> str:
    """The words of a refusal: a field error's message, a storage error's, or the text."""
    if isinstance(exc, InvalidEntryError):
        return "; ".join(e.message for e in [*exc.errors, *exc.needs_confirmation])
    if isinstance(exc, OutcomeUnknownError):
        return exc.message  # not known whether saved: never "NOT saved" without knowing
    if isinstance(exc, StorageError):
        # The store's own words for a failed write already say it (never said twice).
        return exc.message if exc.message.startswith("NOT saved") else (
            f"NOT saved: {exc.message}")
    return str(exc)
