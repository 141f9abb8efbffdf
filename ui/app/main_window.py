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
staff change, the review list or audit trail shown once the changes settle. A reading saved
in this window is shown as its save gave it back; its announcement reloads nothing.

The window is built from parts (:mod:`ui.app.frame` lists them); this module builds the
screens and follows the window's shape, the theme, the clock and the changes.
"""

from __future__ import annotations

import contextlib
import uuid
import weakref
from collections.abc import Callable, Sequence

import shiboken6
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from monitor.clock import Clock
from monitor.service.clinic import ClinicService
from monitor.service.offline import TabletCopies
from monitor.service.reachability import Reachability
from monitor.service.tablet import TabletService
from monitor.service.worker import Worker
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.drafts import DraftKeeper, DraftStore
from monitor.storage.store import StoreUnavailableError
from ui.app.chair_flows import ChairFlows
from ui.app.change_signals import ChangeSignals
from ui.app.chime import Chime
from ui.app.drafts import DraftInput
from ui.app.live import ChairViews
from ui.app.lock import IDLE_LOCK_S, IdleWatcher, LockScreen
from ui.app.protocol_flows import ProtocolFlows
from ui.app.review_flows import ReviewFlows
from ui.app.staff_flows import StaffFlows
from ui.common.ask import ConfirmDialog, tell
from ui.common.banner import TopStrip, UnreachableBanner
from ui.common.signature import SignatureDialog
from ui.common.style import TouchButton, apply_theme, busy_cursor
from ui.common.theme import DIM, LIGHT, Theme
from ui.overview.opening import OpeningNotice
from ui.overview.screen import OverviewScreen
from ui.session.presenter import ChairService, SessionPresenter
from ui.staff.login import FirstAdminScreen, LoginScreen

#: How often countdowns and the overview are brought up to date, in milliseconds.
TICK_MS = 1000
#: How long typing pauses before what was typed is kept as a draft, in milliseconds.
DRAFT_DELAY_MS = 800
#: How long changes elsewhere settle before the review list or audit trail is read again.
RELOAD_DELAY_MS = 300

#: The smallest window the app allows, in either direction.
MIN_WINDOW_PX = 480


class MainWindow(StaffFlows, ChairFlows, ReviewFlows, ProtocolFlows):
    """ChairSide's window.

    Its flows are its parts: :class:`~ui.app.staff_flows.StaffFlows` (sign-in, the lock,
    staff administration, the audit trail), :class:`~ui.app.chair_flows.ChairFlows` (a
    chair's session or check-in, drafts, closing) and :class:`~ui.app.review_flows.ReviewFlows`
    (the clinicians' review) and :class:`~ui.app.protocol_flows.ProtocolFlows` (the clinic
    protocol, its what-if, a patient's own limits), over the state they share
    (:class:`~ui.app.frame.WindowFrame`).

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
        chair_service: ChairService | None = None,
        worker: Worker | None = None,
        copies: TabletCopies | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``staff``: someone already signed in (tests, the demo); otherwise the window
        starts at sign-in. ``idle_lock_s``: seconds without input before it locks.
        ``login_hint``: a line for the sign-in screen (the demo's PIN). ``chime``: the
        soft overdue chime (off until the nurse switches it on; tests pass a fake player).
        ``drafts``: where typed-but-unsaved entries are kept (none kept without it).
        ``changes``: the changes committed anywhere; the tick then moves countdowns on from
        the clock without reading, and only what a change touched is read again (without
        it, every tick reads the chairs and the open session again). ``chair_service``: what
        the chairs' screens call (default ``service``; a tablet of the clinic's server gives
        its :class:`~monitor.service.tablet.TabletService`, which charts on through an
        outage). ``worker``: where the chairs' reads and the sessions' saves run, and the
        review's, the protocol screen's and a patient's limits' (default: at once; the
        clinic's server: :class:`~monitor.service.worker.ThreadWorker`, so the screen never
        waits on it). ``copies``: the tablet's copy of the chairs and sessions, shown while
        they cannot be read; when it says the app started without the server, the banner says
        from when the copy is until the server answers."""
        super().__init__(parent)
        self.chime = chime if chime is not None else Chime()
        self.service = service
        self.chair_service = chair_service if chair_service is not None else service
        self.clock = clock
        self.chairs = tuple(chairs)
        self.theme = theme
        self.reachability = Reachability(clock)
        self._problem_text = ""
        self._copy_from = copies.started_offline if copies is not None else None
        if self._copy_from is not None:
            self.reachability.failed(StoreUnavailableError(
                "unreachable", "The server could not be reached at start."))
        # A tablet with an outbox keeps the entries while the server is away: its banner
        # says so ("… saved on this tablet"), not "not being saved".
        self.banner = UnreachableBanner(
            theme, saved_here=isinstance(self.chair_service, TabletService))
        # It is drawn in a strip that is always there at one height (the tablet's name and
        # the time otherwise): nothing below moves when an outage begins or ends.
        self.top_strip = TopStrip(theme, self.banner)
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
        self.staff_admin = None
        self.audit = None
        self.protocol_screen = None
        self._protocol_controller = None
        self._whatif_controller = None
        self._audit_actions: set[str] = set()
        self._audit_reads = None
        self.idle = IdleWatcher(clock, idle_lock_s, self)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self.idle)
        self.presenters: dict[str, SessionPresenter] = {}
        self._opening: set[str] = set()
        #: "Opening chair N…" over the tapped tile while the chair opens.
        self.opening_notice = OpeningNotice(theme, self)
        self._checking_in = False
        self.sessions = {}
        self.checkin = None
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
        #: Called on every tick, after the screens are refreshed (the demo chair's driver); what
        #: a hook returns is not used.
        self.tick_hooks: list[Callable[[], object]] = []
        self.live = changes is not None
        self.worker = worker
        shown = weakref.WeakMethod(self._show_problem)
        redraw = weakref.WeakMethod(self._board_updated)
        self.board = ChairViews(
            service, clock, self.chairs, live=self.live,
            problem=lambda text: show(text) if (show := shown()) is not None else None,
            reachability=self.reachability, worker=worker, copies=copies,
            updated=lambda: draw() if (draw := redraw()) is not None else None)
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
        self.changes = changes
        #: Whether the change feed was listening at the last tick (see :meth:`_watch_changes`).
        self._listening = False
        if changes is not None:
            changes.changed.connect(self._changed)
            changes.staffChanged.connect(self._staff_changed)
        # Which tablet this is, in the window's frame too (clinic mode: several share one
        # database).
        self.setWindowTitle(f"ChairSide · {service.tablet}" if service.tablet else "ChairSide")

        self.stack = QStackedWidget()
        # The banner sits above every screen, outside the stack the screens switch in.
        central = QWidget()
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.top_strip)
        column.addWidget(self.stack, 1)
        self.setCentralWidget(central)
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
        self.show_strip_line()
        self._show_reachability()

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
        self.review_screen = None
        self.session_review = None
        self.course_screen = None
        self.batch_dialog = None
        self._reset_protocol_screens()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_orientation()

    def _apply_orientation(self) -> None:
        orientation = self.orientation()
        self.overview.set_orientation(orientation)
        for other in (self.login_screen, self.lock_screen, self.first_admin, self.staff_admin,
                      self.audit, self.protocol_screen, self.whatif_screen,
                      self.limits_screen):
            if other is not None:
                other.set_orientation(orientation)
        for screen in self.sessions.values():
            screen.set_orientation(orientation)
        if self.checkin is not None:
            self.checkin.set_orientation(orientation)
        for review in (self.review_screen, self.session_review, self.course_screen):
            if review is not None:
                review.set_orientation(orientation)

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
        self.stop_whatif()
        while self.stack.count():
            widget = self.stack.widget(0)
            assert widget is not None
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
        self.top_strip.set_theme(theme)
        self.opening_notice.clear()
        self.opening_notice.theme = theme
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
        """Bring what is on screen up to date with the clock; lock after idle time. While the
        server is unreachable, one read at most tries it again, paced by the back-off."""
        if not self.locked and self.staff_id is not None and self.idle.expired():
            self.lock("idle")
        self._watch_changes()
        self._follow_outbox()
        current = self.stack.currentWidget()
        if current is self.lock_screen:
            self._refresh_lock()
        elif current is self.overview:
            self.refresh_overview()
        elif (session := self._as_session(current)) is not None:
            # Without a change feed the session is read on every tick, except while the
            # server is unreachable and the next try is not yet due.
            # A read in the background answers later: the countdown moves on from the
            # clock meanwhile, whatever the server does.
            if self.live or not self.reachability.due():
                session.presenter.retime()
            else:
                if session.presenter.background.threaded:
                    session.presenter.retime()
                session.presenter.refresh()
        if current is not self.overview:
            self._listen_for_overdue()
            if self.reachability.unreachable:
                self.board.catch_up()
        self.show_strip_line()
        self._show_reachability()
        for hook in self.tick_hooks:
            hook()

    def _follow_outbox(self) -> None:
        """Entries held on this tablet reach the server on the drain's own thread, whose
        changes the feed may not announce (not yet connected again after a start on the
        copy): a session shown with a count of held entries that no longer holds is read
        again, so "not yet on the server" never outlives the drain by more than a tick."""
        if self.reachability.unreachable:
            return
        held = self.chair_service.held
        for presenter in self.presenters.values():
            view = presenter.view
            if view is not None and view.held and held(presenter.session_id) != view.held:
                presenter.refresh()
        self.board.follow_held(held)

    def _watch_changes(self) -> None:
        """When the change feed has lost its connection since the last tick, read the chairs
        again: an idle tablet sends nothing else, and would not notice a server gone (no
        banner) until someone tapped."""
        if self.changes is None:
            return
        listening = self.changes.listening()
        if self._listening and not listening:
            self.board.changes_lost()
            self.board.catch_up()
        self._listening = listening

    def _board_updated(self) -> None:
        """A chair's read arrived from the background: redraw the overview (or the lock's
        chairs) from what is loaded, reading nothing more."""
        if not shiboken6.isValid(self):
            return
        current = self.stack.currentWidget()
        tiles = self.board.shown_tiles()
        if tiles is not None:
            if current is self.overview:
                self.overview.show_tiles(tiles)
            elif current is self.lock_screen:
                self.lock_screen.show_chairs(tiles)
            if self.chime.enabled and self.staff_id is not None and self.staff_role != "admin":
                self.chime.observe(tiles)
        self._show_reachability()

    # -- changes committed anywhere ----------------------------------------------------------

    def _changed(self, change: Change) -> None:
        """Note what ``change`` touched, to be read again once the changes settle; a reading
        saved here, whose view the chair's screen and tile show already, is not read again."""
        if change.kind is ChangeKind.SESSION:
            self._chairs_changed = True  # a check-in: which session sits where
            self._apply_timer.start()
        if isinstance(change.session_id, uuid.UUID) and not self.board.shown_already(change):
            self._changed_sessions.add(change.session_id)
            self._apply_timer.start()
        if change.kind is not ChangeKind.STAFF or self.audit is not None:
            self._lists_timer.start()

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
        self._show_reachability()

    def _staff_changed(self) -> None:
        current = self.stack.currentWidget()
        if current is self.login_screen:
            self._load_names(self.login_screen)
        elif current is self.lock_screen:
            self._load_names(self.lock_screen.login)
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
