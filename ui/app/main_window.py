"""The application window: who is at the chairs, the chair overview, check-in, sessions.

Nobody uses it unsigned: the first start asks for an administrator, then each staff member
signs in with a PIN (an administrator lands on staff administration, never on patient
records). After :data:`~ui.app.lock.IDLE_LOCK_S` without input the window locks; the screens
stay alive under the lock and whoever signs in there continues from where it stood. Signed
actions (discharge, override, critical acknowledgement) ask for the PIN again.

It switches between screens, keeps one session screen per chair (so an entry half-typed on
one chair is still there when the nurse comes back from another), refreshes what is shown
once a second from the injected clock (countdowns, overdue readings), and follows the
window's shape: portrait when taller than wide.

Given the changes committed anywhere (:class:`~ui.app.change_signals.ChangeSignals`), the
one-second refresh reads nothing: it moves the views last loaded on with the clock
(:class:`ui.app.live.ChairViews`), and a change reloads only what it touched — the session's
tile and open screen, the chairs' sessions after a check-in, the names at sign-in after a
staff change, the review list or audit trail shown once the changes settle.
"""

from __future__ import annotations

import contextlib
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from monitor.clinical.permissions import Action, PermissionDenied, allowed
from monitor.clock import Clock
from monitor.service.auth import AccountLocked, InvalidPin, LoginRefused, StaffInfo
from monitor.service.board import ChairTile
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError, NotFoundError
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.drafts import DraftKeeper, DraftKey, DraftStore, Forms
from monitor.storage.store import StorageError
from ui.app.change_signals import ChangeSignals
from ui.app.chime import Chime
from ui.app.drafts import DraftInput, restore_session, session_drafts, unsaved_forms
from ui.app.live import ChairViews
from ui.app.lock import IDLE_LOCK_S, IdleWatcher, LockScreen
from ui.common.ask import ConfirmDialog, tell
from ui.common.signature import SignatureDialog, SignatureRequest
from ui.common.style import TouchButton, apply_theme, busy_cursor
from ui.common.theme import DIM, LIGHT, Theme
from ui.overview.screen import OverviewScreen
from ui.session.presenter import SessionPresenter
from ui.staff.login import FirstAdminScreen, LoginScreen

if TYPE_CHECKING:
    from monitor.service.review import Cursor, Page, SessionQuery
    from ui.checkin.screen import CheckIn, CheckInScreen
    from ui.protocol.screen import ProtocolController, ProtocolScreen
    from ui.review.course import CourseScreen
    from ui.review.export import BatchExportDialog, SessionExporter
    from ui.review.search import ReviewScreen
    from ui.review.session import SessionReviewScreen
    from ui.session.screen import SessionScreen
    from ui.staff.admin import StaffAdminScreen

    # Built on first use, so that start-up loads only what the first screen shows.
    from ui.staff.audit import AuditFilter, AuditScreen

#: How often countdowns and the overview are brought up to date, in milliseconds.
TICK_MS = 1000
#: The most audit entries one filter shows.
AUDIT_LIMIT = 500
#: How long typing pauses before what was typed is kept as a draft, in milliseconds.
DRAFT_DELAY_MS = 800
#: How long changes elsewhere settle before the review list or audit trail is read again.
RELOAD_DELAY_MS = 300

T = TypeVar("T")


#: The smallest window the app allows, in either direction.
MIN_WINDOW_PX = 480


class MainWindow(QMainWindow):
    """ChairSide's window.

    Signals:
        themeChanged(object): the theme now in use.
    """

    themeChanged = Signal(object)

    def __init__(
        self,
        service: ClinicService,
        clock: Clock,
        *,
        chairs: Sequence[str] = ("1", "2", "3", "4"),
        theme: Theme = DIM,
        staff: tuple[uuid.UUID, str] | None = None,
        tick_ms: int = TICK_MS,
        idle_lock_s: float = IDLE_LOCK_S,
        login_hint: str = "",
        chime: Chime | None = None,
        drafts: DraftStore | None = None,
        draft_delay_ms: int = DRAFT_DELAY_MS,
        changes: ChangeSignals | None = None,
        reload_delay_ms: int = RELOAD_DELAY_MS,
        parent: QWidget | None = None,
    ) -> None:
        """``staff``: someone already signed in (tests, the demo); otherwise the window
        starts at sign-in. ``idle_lock_s``: seconds without input before it locks.
        ``login_hint``: a line for the sign-in screen (the demo's PIN). ``chime``: the
        soft overdue chime (off until the nurse switches it on; tests pass a fake player).
        ``drafts``: where typed-but-unsaved entries are kept (none kept without it).
        ``changes``: the changes committed anywhere; the tick then moves countdowns on from
        the clock without reading, and only what a change touched is read again (without
        it, every tick reads the chairs and the open session again)."""
        super().__init__(parent)
        self.chime = chime if chime is not None else Chime()
        self.service = service
        self.clock = clock
        self.chairs = tuple(chairs)
        self.theme = theme
        self.staff_id: uuid.UUID | None = staff[0] if staff else None
        self.staff_name = staff[1] if staff else ""
        self.staff_role = ""
        if self.staff_id is not None:
            self.staff_role = next(
                (s.role for s in self._guard(
                    lambda: self.service.staff_list(include_disabled=True)) or []
                 if s.id == self.staff_id), "nurse")
        self.login_hint = login_hint
        self.locked = False
        #: The screen the lock covers, shown again on unlock.
        self._under_lock: QWidget | None = None
        self._hidden_dialogs: list[QDialog] = []
        self.signature_dialog: SignatureDialog | None = None
        self.first_admin: FirstAdminScreen | None = None
        self.staff_admin: StaffAdminScreen | None = None
        self.audit: AuditScreen | None = None
        self.protocol_screen: ProtocolScreen | None = None
        self._protocol_controller: ProtocolController | None = None
        self._audit_actions: set[str] = set()
        self.idle = IdleWatcher(clock, idle_lock_s, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)
        self.presenters: dict[str, SessionPresenter] = {}
        self.sessions: dict[str, SessionScreen] = {}
        self.checkin: CheckInScreen | None = None
        #: The check-in screen's state as it opened: a draft only once it differs.
        self._checkin_blank: dict[str, object] = {}
        #: The close asked about and confirmed: the next close goes through.
        self._close_confirmed = False
        self.close_dialog: ConfirmDialog | None = None
        self.drafts: DraftKeeper | None = None
        if drafts is not None:
            draft_timer = QTimer(self)
            draft_timer.setSingleShot(True)
            draft_timer.setInterval(draft_delay_ms)
            # The keeper reaches the window only weakly: a closed window must be freed (its
            # tick would otherwise run on against a database already closed).
            on_screen = weakref.WeakMethod(self._drafts_on_screen)
            self.drafts = DraftKeeper(
                drafts, draft_timer,
                lambda: collect() if (collect := on_screen()) is not None else {}, clock.now)
            draft_timer.timeout.connect(self._flush_drafts)
            with contextlib.suppress(OSError):  # an unreadable directory keeps its drafts
                drafts.prune(clock.now())
            if app is not None:
                watcher = DraftInput(self)
                watcher.edited.connect(self._draft_edited)
                app.installEventFilter(watcher)
        #: Called on every tick, after the screens are refreshed (the demo chair's driver).
        self.tick_hooks: list[Callable[[], None]] = []
        self.live = changes is not None
        shown = weakref.WeakMethod(self._show_problem)
        self.board = ChairViews(
            service, clock, self.chairs, live=self.live,
            problem=lambda text: show(text) if (show := shown()) is not None else None)
        #: Sessions (and whether the chairs' list) changed since the screens last read them:
        #: a save announces several changes at once, read together when the events settle.
        self._changed_sessions: set[uuid.UUID] = set()
        self._chairs_changed = False
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(0)
        self._apply_timer.timeout.connect(self._apply_changes)
        self._lists_timer = QTimer(self)
        self._lists_timer.setSingleShot(True)
        self._lists_timer.setInterval(reload_delay_ms)
        self._lists_timer.timeout.connect(self._reload_lists)
        if changes is not None:
            changes.changed.connect(self._changed)
            changes.sessionChanged.connect(self._session_changed)
            changes.staffChanged.connect(self._staff_changed)
        self.setWindowTitle("ChairSide")

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        # A set minimum keeps the layouts from imposing theirs on the window: on turning
        # the tablet, the landscape layout's minimum width would otherwise hold the window
        # wider than the portrait screen until the next resize.
        self.setMinimumSize(MIN_WINDOW_PX, MIN_WINDOW_PX)
        self._build_screens()
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        if self.staff_id is None:
            self.show_login()
        else:
            self._landing()

    # -- screens ---------------------------------------------------------------------------

    def _build_screens(self) -> None:
        # Styled at the application level, so that every widget (a hidden tab, a dialog) is
        # sized with the style sheet from the start.
        app = QApplication.instance()
        target = app if isinstance(app, QApplication) else self
        # Re-styling re-polishes every widget of the application: only when it changes.
        if target.property("chairside_theme") != self.theme.name:
            apply_theme(target, self.theme)
            target.setProperty("chairside_theme", self.theme.name)
        self.login_screen = LoginScreen(self.theme, hint=self.login_hint)
        self.login_screen.loginRequested.connect(self._login)
        self.lock_screen = LockScreen(self.theme, hint=self.login_hint)
        self.lock_screen.loginRequested.connect(self._login)
        self.overview = OverviewScreen(self.theme, self.chairs)
        self.overview.openChair.connect(self.open_chair)
        self.overview.checkInChair.connect(self.check_in_chair)
        self.overview.themeToggled.connect(self.toggle_theme)
        # Bound methods, not lambdas holding the window: a closed window must be freed.
        self.overview.switchUser.connect(self.lock_by_hand)
        self.overview.auditRequested.connect(self.show_audit)
        self.overview.show_user(self.staff_name, self.staff_role)
        self.overview.show_audit_entry(self.staff_role == "clinician")
        self.overview.reviewRequested.connect(self.show_review)
        self.overview.chimeToggled.connect(self.toggle_chime)
        self.overview.show_chime(on=self.chime.enabled, unavailable=self.chime.unavailable)
        self.overview.show_review_entry(self.staff_role == "clinician")
        # The clinic protocol, for everyone signed in (read; drafts; approval).
        self.protocol_button = TouchButton("Protocol")
        self.protocol_button.setObjectName("protocol")
        self.protocol_button.clicked.connect(self.show_protocol)
        tools = self.overview.tools.layout()
        if isinstance(tools, QHBoxLayout):
            tools.insertWidget(1, self.protocol_button)
        self.stack.addWidget(self.login_screen)
        self.stack.addWidget(self.lock_screen)
        self.stack.addWidget(self.overview)
        self.first_admin = self.staff_admin = self.audit = None
        # The review screens are built on first use (start-up stays fast).
        self.review_screen: ReviewScreen | None = None
        self.session_review: SessionReviewScreen | None = None
        self.course_screen: CourseScreen | None = None
        self.batch_dialog: BatchExportDialog | None = None

    def orientation(self) -> Qt.Orientation:
        return (Qt.Orientation.Vertical if self.height() > self.width()
                else Qt.Orientation.Horizontal)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_orientation()

    def _apply_orientation(self) -> None:
        orientation = self.orientation()
        self.overview.set_orientation(orientation)
        for other in (self.login_screen, self.lock_screen, self.first_admin, self.staff_admin,
                      self.audit, self.protocol_screen):
            if other is not None:
                other.set_orientation(orientation)
        for screen in self.sessions.values():
            screen.set_orientation(orientation)
        if self.checkin is not None:
            self.checkin.set_orientation(orientation)
        for review in (self.review_screen, self.session_review, self.course_screen):
            if review is not None:
                review.set_orientation(orientation)

    def _show(self, screen: QWidget) -> None:
        """Bring ``screen`` to the front, or, while locked, behind the lock."""
        if self.locked:
            self._under_lock = screen
        else:
            self.stack.setCurrentWidget(screen)

    def show_login(self) -> None:
        """Sign-in (or, on a database without an administrator, the first administrator)."""
        if self._guard(self.service.needs_first_admin):
            if self.first_admin is None:
                self.first_admin = FirstAdminScreen(self.theme)
                self.first_admin.created.connect(self._create_first_admin)
                self.first_admin.set_orientation(self.orientation())
                self.stack.addWidget(self.first_admin)
            self.stack.setCurrentWidget(self.first_admin)
            return
        self.login_screen.show_staff(self._guard(self.service.staff_list) or [],
                                     at=self.clock.now())
        self.login_screen.set_orientation(self.orientation())
        self.stack.setCurrentWidget(self.login_screen)

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

    def toggle_chime(self) -> None:
        """Switch the soft overdue chime on or off (for this run of the app)."""
        on = self.chime.set_enabled(not self.chime.enabled)
        self.overview.show_chime(on=on, unavailable=self.chime.unavailable)
        if self.chime.unavailable:
            self.statusBar().showMessage(self.chime.unavailable, 10_000)
        elif on:
            self._listen_for_overdue()  # what is overdue already is not news

    def _listen_for_overdue(self) -> None:
        """Give the chime every chair's tile, whichever screen is shown."""
        if self.chime.enabled and self.staff_id is not None and self.staff_role != "admin":
            tiles = self.chair_tiles()
            if tiles is not None:
                self.chime.observe(tiles)

    def show_admin(self) -> None:
        """Staff administration: an administrator's only screen besides the audit trail."""
        if self.staff_admin is None:
            from ui.staff.admin import StaffAdminScreen  # noqa: PLC0415 - built on first use
            self.staff_admin = StaffAdminScreen(self.theme)
            self.staff_admin.addRequested.connect(self._add_staff)
            self.staff_admin.disableRequested.connect(self._disable_staff)
            self.staff_admin.resetPinRequested.connect(self._reset_pin)
            self.staff_admin.auditRequested.connect(self.show_audit)
            self.staff_admin.protocolRequested.connect(self.show_protocol)
            self.staff_admin.lockRequested.connect(self.lock_by_hand)
            self.staff_admin.set_orientation(self.orientation())
            self.stack.addWidget(self.staff_admin)
        self.staff_admin.show_user(self.staff_name)
        self._refresh_admin()
        self._show(self.staff_admin)

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
            self.protocol_screen.set_orientation(self.orientation())
            self._protocol_controller = ProtocolController(self, self.protocol_screen)
            self.stack.addWidget(self.protocol_screen)
        assert self._protocol_controller is not None
        self._guard(self._protocol_controller.refresh)
        self._show(self.protocol_screen)

    def show_audit(self) -> None:
        """The audit trail, unfiltered at first (clinicians and administrators)."""
        from ui.staff.audit import AuditFilter, AuditScreen  # noqa: PLC0415 - on first use
        if self.audit is None:
            self.audit = AuditScreen(self.theme)
            self.audit.filterRequested.connect(self._load_audit)
            self.audit.back.connect(self.show_overview)
            self.audit.set_orientation(self.orientation())
            self.stack.addWidget(self.audit)
        self.audit.set_staff(self._guard(
            lambda: self.service.staff_list(include_disabled=True)) or [])
        self._load_audit(self.audit.current_filter() or AuditFilter())
        self._show(self.audit)

    def open_chair(self, chair: str) -> None:
        active = self._guard(lambda: self.service.active_sessions([chair])) or {}
        session_id = active.get(chair)
        if session_id is None:
            self.check_in_chair(chair)
            return
        self.show_session(chair, session_id)

    def show_session(self, chair: str, session_id: uuid.UUID) -> SessionScreen:
        assert self.staff_id is not None
        assert self.staff_role != "admin", "an administrator opens no patient record"
        screen = self.sessions.get(chair)
        opened = screen is None or screen.presenter.session_id != session_id
        if opened:
            if screen is not None:
                self.stack.removeWidget(screen)
                screen.deleteLater()
            presenter = SessionPresenter(self.service, self.clock, session_id, self.staff_id,
                                         parent=self)
            presenter.signatureNeeded.connect(self.ask_signature)
            # The pick list of the protocol version the session runs under.
            protocol = self._guard(lambda: self.service.session_protocol(session_id))
            if protocol is None:
                protocol = self.service.protocol_for("iv_ketamine")
            medications = protocol.medications
            from ui.session.screen import SessionScreen  # noqa: PLC0415 - built on first use
            screen = SessionScreen(self.theme, self.clock, presenter, medications)
            self._add_device_readings(screen, presenter)
            screen.back.connect(self.show_overview)
            screen.set_orientation(self.orientation())
            self.presenters[chair] = presenter
            self.sessions[chair] = screen
            self.stack.addWidget(screen)
            # A save empties its form: its draft goes at once, not after the pause.
            presenter.saved.connect(self._flush_drafts)
            # The chair's tile shows the save at once, whatever the feed's pace.
            presenter.saved.connect(self._own_save)
        assert screen is not None
        screen.discharge.allow_override(allowed(self.staff_role, Action.OVERRIDE_DISCHARGE))
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
        if self.checkin is not None:
            self.stack.removeWidget(self.checkin)
            self.checkin.deleteLater()
        from ui.checkin.screen import CheckInScreen  # noqa: PLC0415 - built on first use
        self.checkin = CheckInScreen(self.theme, self.service, self.clock, chair)
        self.checkin.set_orientation(self.orientation())
        self.checkin.checkInRequested.connect(self._checked_in)
        self.checkin.cancelled.connect(self._checkin_cancelled)
        self.stack.addWidget(self.checkin)
        self._checkin_blank = self.checkin.draft_state()
        draft = self.drafts.restore(self._draft_key("checkin", chair)) if self.drafts else None
        if draft is not None and draft.forms.get("checkin"):
            self.checkin.restore_draft(draft.forms["checkin"])
        self._show(self.checkin)

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
                {"checkin": state} if state != self._checkin_blank else {})
        return found

    def _own_save(self) -> None:
        presenter = self.sender()
        if self.live and isinstance(presenter, SessionPresenter):
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
                and self.checkin.draft_state() != self._checkin_blank):
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

    # -- review (clinicians) -----------------------------------------------------------------

    def show_review(self) -> ReviewScreen:
        """The search of past sessions, built on first use."""
        from ui.review.search import ReviewScreen  # noqa: PLC0415 - built on first use

        if self.review_screen is None:
            screen = ReviewScreen(self.theme, self._find_sessions,
                                  today=lambda: self.clock.now().astimezone().date())
            screen.openSession.connect(self.show_session_review)
            screen.back.connect(self.show_overview)
            screen.batchExport.connect(self.open_batch_export)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.review_screen = screen
            screen.search()
        self._show(self.review_screen)
        return self.review_screen

    def _find_sessions(self, query: SessionQuery, after: Cursor | None, limit: int) -> Page:
        from monitor.service.review import Page  # noqa: PLC0415 - with the review screen

        try:
            return self.service.find_sessions(query, by=self._by(), after=after, limit=limit)
        except (StorageError, PermissionDenied) as exc:
            self.statusBar().showMessage(_message(exc), 10_000)
            return Page([], None)

    def _exporter(self) -> SessionExporter:
        from ui.review.export import SessionExporter  # noqa: PLC0415 - loads the exports

        return SessionExporter(self.service, self.clock, lambda: self.staff_id)

    def show_session_review(self, session_id: uuid.UUID) -> SessionReviewScreen | None:
        """One session read-only, with the scrubber, exports and printing."""
        from ui.review.session import (  # noqa: PLC0415 - built on first use
            SessionReviewScreen,
            replay_loader,
        )

        if self.session_review is None:
            screen = SessionReviewScreen(self.theme, replay_loader(self.service),
                                         exporter=self._exporter())
            screen.back.connect(self.show_review)
            screen.openCourse.connect(self.show_course)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.session_review = screen
        screen = self.session_review
        if self._guard(lambda: screen.open_session(session_id) or True) is None:
            return None
        self._show(screen)
        return screen

    def show_course(self, patient_id: uuid.UUID) -> CourseScreen | None:
        """A patient's course of treatment across sessions."""
        from ui.review.course import CourseScreen  # noqa: PLC0415 - built on first use

        try:
            course = self.service.course(patient_id, by=self._by())
        except (StorageError, PermissionDenied) as exc:
            self.statusBar().showMessage(_message(exc), 10_000)
            return None
        if self.course_screen is None:
            screen = CourseScreen(self.theme)
            screen.back.connect(lambda: self._show(self.session_review or self.overview))
            screen.openSession.connect(self.show_session_review)
            screen.set_orientation(self.orientation())
            self.stack.addWidget(screen)
            self.course_screen = screen
        self.course_screen.show_course(course)
        self._show(self.course_screen)
        return self.course_screen

    def open_batch_export(self) -> BatchExportDialog:
        """Export a date range of sessions to a folder (non-modal, with progress)."""
        from ui.review.export import (  # noqa: PLC0415 - loads the exports
            BatchExportDialog,
            BatchPdfWriter,
            documents_folder,
        )

        previous = self.batch_dialog
        if previous is not None and previous.running:
            previous.show()
            previous.raise_()
            return previous
        if previous is not None:
            # Opened again, the dialog starts afresh: the last one's refusal is not shown.
            previous.close()
            previous.deleteLater()
        dialog = BatchExportDialog(self.theme, self._exporter().batch,
                                   folder=documents_folder(),
                                   today=self.clock.now().astimezone().date(),
                                   pdf_writer=BatchPdfWriter(self.clock), parent=self)
        self.batch_dialog = dialog
        dialog.show()
        return dialog

    def current_session(self) -> SessionScreen | None:
        return self._as_session(self.stack.currentWidget())

    def _as_session(self, widget: object) -> SessionScreen | None:
        """``widget`` if it is one of the chairs' session screens (without importing the
        session screen's module before the first one is built)."""
        return next((screen for screen in self.sessions.values() if screen is widget), None)

    # -- actions ---------------------------------------------------------------------------

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

    def lock(self, reason: str = "idle") -> None:
        """Cover every screen with the lock screen; the screens stay as they are beneath."""
        if self.locked or self.staff_id is None:
            return
        staff_id = self.staff_id
        self._guard(lambda: self.service.record_lock(staff_id, reason=reason))
        if self.signature_dialog is not None:
            # A signature belongs to who was signed in: it is asked again after the lock.
            self.signature_dialog.reject()
        # Open dialogs (an acknowledgement half-chosen) may show values: hidden, kept.
        self._hidden_dialogs = [d for d in self.findChildren(QDialog) if d.isVisible()]
        for dialog in self._hidden_dialogs:
            dialog.hide()
        self._under_lock = self.stack.currentWidget()
        self.locked = True
        self.lock_screen.show_locked(self.clock.now(), self.staff_name)
        self.lock_screen.show_staff(self._guard(self.service.staff_list) or [],
                                    at=self.clock.now())
        self.lock_screen.set_orientation(self.orientation())
        self._refresh_lock()
        self.stack.setCurrentWidget(self.lock_screen)

    def lock_by_hand(self) -> None:
        """"Lock" was tapped: the same or another staff member signs in to continue."""
        self.lock("manual")

    def _refresh_lock(self) -> None:
        tiles = self.chair_tiles()
        if tiles is not None:
            self.lock_screen.show_chairs(tiles)

    def _login(self, staff_id: uuid.UUID, pin: str) -> None:
        screen = self.lock_screen if self.locked else self.login_screen
        try:
            info = self.service.login(staff_id, pin)
        except (LoginRefused, AccountLocked) as exc:
            screen.show_error(str(exc))
            screen.show_staff(self._guard(self.service.staff_list) or [], at=self.clock.now())
            return
        except StorageError as exc:
            screen.show_error(f"{exc.message} Try again.")
            return
        self._signed_in(info)

    def _signed_in(self, info: StaffInfo) -> None:
        """``info`` is now the one entering records; the screen under a lock comes back."""
        self.staff_id, self.staff_name, self.staff_role = info.id, info.name, info.role
        self.overview.show_user(info.name, info.role)
        self.overview.show_audit_entry(info.role == "clinician")
        self.overview.show_review_entry(info.role == "clinician")
        for presenter in self.presenters.values():
            presenter.set_staff(info.id)
        # An action's outcome belongs to whoever acted: it is not shown to the next sign-in.
        for screen in self.sessions.values():
            screen.header.clear_notice()
            screen.discharge.allow_override(allowed(info.role, Action.OVERRIDE_DISCHARGE))
        self.idle.reset()
        under, self._under_lock = self._under_lock, None
        was_locked, self.locked = self.locked, False
        self.login_screen.reset()
        hidden, self._hidden_dialogs = self._hidden_dialogs, []
        if info.role == "admin":
            self.show_admin()
            return
        clinical = under is not None and under not in (self.staff_admin, self.audit,
                                                       self.login_screen, self.lock_screen)
        if info.role != "clinician" and under in (self.review_screen, self.session_review,
                                                  self.course_screen):
            under = None  # the review is a clinician's: someone else lands on the overview
        if was_locked and clinical and under is not None and self.stack.indexOf(under) >= 0:
            self.stack.setCurrentWidget(under)
            if (session := self._as_session(under)) is not None:
                session.presenter.refresh()
            for dialog in hidden:
                dialog.show()
        else:
            self.show_overview()

    def _landing(self) -> None:
        """Where a signed-in staff member starts: administrators at staff administration."""
        if self.staff_role == "admin":
            self.show_admin()
        else:
            self.show_overview()

    def _create_first_admin(self, name: str, pin: str) -> None:
        assert self.first_admin is not None
        try:
            admin_id = self.service.create_first_admin(name, pin)
        except (InvalidEntryError, InvalidPin, PermissionDenied, ValueError) as exc:
            self.first_admin.show_error(_message(exc))
            return
        except StorageError as exc:
            self.first_admin.show_error(f"NOT saved: {exc.message}")
            return
        self._signed_in(StaffInfo(admin_id, name, "admin", True, None))

    def _by(self) -> uuid.UUID:
        assert self.staff_id is not None
        return self.staff_id

    def _refresh_admin(self) -> None:
        if self.staff_admin is not None:
            self.staff_admin.show_staff(
                self._guard(lambda: self.service.staff_list(include_disabled=True)) or [],
                at=self.clock.now())

    def _add_staff(self, name: str, role: str, pin: str) -> None:
        if self._manage(f"Added {name}: they sign in with the PIN you set",
                        lambda: self.service.add_staff(name, role, pin, by=self._by())):
            assert self.staff_admin is not None
            self.staff_admin.show_add()

    def _disable_staff(self, staff_id: uuid.UUID) -> None:
        self._manage("Disabled: they can no longer sign in",
                     lambda: self.service.disable_staff(staff_id, by=self._by()))

    def _reset_pin(self, staff_id: uuid.UUID, pin: str) -> None:
        if self._manage("New PIN saved", lambda: self.service.reset_pin(
                staff_id, pin, by=self._by())):
            assert self.staff_admin is not None
            self.staff_admin.show_add()

    def _manage(self, done: str, action: Callable[[], object]) -> bool:
        """Run a staff change; the admin screen says what happened or why not."""
        assert self.staff_admin is not None
        try:
            action()
        except (InvalidEntryError, InvalidPin, PermissionDenied, ValueError, NotFoundError,
                StorageError) as exc:
            self.staff_admin.show_error(_message(exc))
            return False
        self._refresh_admin()
        self.staff_admin.show_message(done)
        return True

    def _load_audit(self, chosen: AuditFilter) -> None:
        assert self.audit is not None
        patient_id = None
        if chosen.mrn:
            patient = self._guard(lambda: self.service.find_patient(chosen.mrn))
            if patient is None:
                self.audit.show_error(f"Patient: no patient with MRN {chosen.mrn}")
                return
            patient_id = patient.id
        try:
            entries = self.service.audit_entries(
                by=self._by(), patient_id=patient_id, session_id=chosen.session_id,
                staff_id=chosen.staff_id, action=chosen.action, since=chosen.since,
                until=chosen.until, limit=AUDIT_LIMIT)
        except (PermissionDenied, StorageError) as exc:
            self.audit.show_error(_message(exc))
            return
        self._audit_actions.update(e.action for e in entries)
        self.audit.set_actions(sorted(self._audit_actions))
        self.audit.show_entries(entries, limit=AUDIT_LIMIT)

    def _checked_in(self, data: CheckIn) -> None:
        assert self.staff_id is not None
        staff_id = self.staff_id
        from ui.checkin.screen import NewPatient  # noqa: PLC0415 - loaded with the check-in screen
        new = data.patient if isinstance(data.patient, NewPatient) else None
        try:
            session_id = self.service.check_in(
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
        except InvalidEntryError as exc:
            if self.checkin is not None:
                self.checkin.show_errors(exc.errors)
            return
        except StorageError as exc:
            tell(self, "NOT saved", f"{exc.message}\nThe check-in is still on screen; try again.")
            return
        if self.drafts is not None:
            self.drafts.discard(self._draft_key("checkin", data.chair))
        if self.live:
            self.board.reload_chairs()
        self.show_session(data.chair, session_id)

    def toggle_theme(self) -> None:
        unsaved = [chair for chair, screen in self.sessions.items()
                   if screen.has_unsaved_entry()]
        if unsaved:
            tell(
                self, "Theme not changed",
                "Save or clear the entry open on chair " + ", ".join(unsaved) +
                " first: changing the theme redraws every screen.")
            return
        # The switch redraws every screen: say so at once, on the button that was tapped.
        self.overview.theme_button.setText("Switching theme…")
        self.overview.theme_button.repaint()
        with busy_cursor():
            self.set_theme(LIGHT if self.theme is DIM else DIM)

    def set_theme(self, theme: Theme) -> None:
        """Redraw every screen in ``theme`` (sessions are reloaded from the record)."""
        self.theme = theme
        current_chair = next((c for c, s in self.sessions.items()
                              if s is self.stack.currentWidget()), None)
        calling = self.sender()
        while self.stack.count():
            widget = self.stack.widget(0)
            self.stack.removeWidget(widget)
            if widget is calling or widget is self.overview:
                widget.deleteLater()  # its button may still be inside its click
            else:
                # Deleted now, not later: the new style sheet re-polishes every live widget,
                # and the old screens (charts and all) made the switch take seconds.
                shiboken6.delete(widget)
        for presenter in self.presenters.values():
            presenter.deleteLater()
        self.presenters.clear()
        self.sessions.clear()
        self.checkin = None
        self._build_screens()
        self._apply_orientation()
        if current_chair is not None:
            self.open_chair(current_chair)
        elif self.staff_id is None:
            self.show_login()
        else:
            self._landing()
        self.themeChanged.emit(theme)

    def tick(self) -> None:
        """Bring what is on screen up to date with the clock; lock after idle time."""
        if not self.locked and self.staff_id is not None and self.idle.expired():
            self.lock("idle")
        current = self.stack.currentWidget()
        if current is self.lock_screen:
            self._refresh_lock()
        elif current is self.overview:
            self.refresh_overview()
        elif (session := self._as_session(current)) is not None:
            if self.live:
                session.presenter.retime()
            else:
                session.presenter.refresh()
        if current is not self.overview:
            self._listen_for_overdue()
        for hook in self.tick_hooks:
            hook()

    # -- changes committed anywhere ----------------------------------------------------------

    def _changed(self, change: Change) -> None:
        if change.kind is ChangeKind.SESSION:
            self._chairs_changed = True  # a check-in: which session sits where
            self._apply_timer.start()
        if change.kind is not ChangeKind.STAFF or self.audit is not None:
            self._lists_timer.start()

    def _session_changed(self, session_id: uuid.UUID) -> None:
        self._changed_sessions.add(session_id)
        self._apply_timer.start()

    def _apply_changes(self) -> None:
        """Read again what changed: the chairs' sessions, the changed sessions' tiles and
        any open session screen of theirs; then redraw what is shown."""
        changed, self._changed_sessions = self._changed_sessions, set()
        if self._chairs_changed:
            self._chairs_changed = False
            self.board.reload_chairs()
        for session_id in changed:
            self.board.reload_session(session_id)
            for presenter in self.presenters.values():
                if presenter.session_id == session_id:
                    presenter.refresh()
        current = self.stack.currentWidget()
        if current is self.overview:
            self.refresh_overview()
        elif current is self.lock_screen:
            self._refresh_lock()

    def _staff_changed(self) -> None:
        current = self.stack.currentWidget()
        if current is self.login_screen:
            self.login_screen.show_staff(self._guard(self.service.staff_list) or [],
                                         at=self.clock.now())
        elif current is self.lock_screen:
            self.lock_screen.show_staff(self._guard(self.service.staff_list) or [],
                                        at=self.clock.now())
        elif current is self.staff_admin:
            self._refresh_admin()

    def _reload_lists(self) -> None:
        """The review list or the audit trail, if shown, read again with its own filter."""
        from ui.staff.audit import AuditFilter  # noqa: PLC0415 - with the audit screen

        current = self.stack.currentWidget()
        if current is not None and current is self.review_screen:
            self.review_screen.refresh()
        elif current is not None and current is self.audit and self.staff_id is not None:
            self._load_audit(self.audit.current_filter() or AuditFilter())

    def _show_problem(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    def _guard(self, action: Callable[[], T]) -> T | None:
        """Run a read; a database that cannot be reached is said once, not a crash."""
        try:
            return action()
        except StorageError as exc:
            self.statusBar().showMessage(exc.message, 10_000)
        except NotFoundError:
            return None
        return None


def _message(exc: Exception) -> str:
    """The words of a refusal: a field error's message, a storage error's, or the text."""
    if isinstance(exc, InvalidEntryError):
        return "; ".join(e.message for e in [*exc.errors, *exc.needs_confirmation])
    if isinstance(exc, StorageError):
        return f"NOT saved: {exc.message}"
    return str(exc)
