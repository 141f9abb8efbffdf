"""The application window: who is at the chairs, the chair overview, check-in, sessions.

It switches between screens, keeps one session screen per chair (so an entry half-typed on
one chair is still there when the nurse comes back from another), refreshes what is shown
once a second from the injected clock (countdowns, overdue readings), and follows the
window's shape: portrait when taller than wide.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QStackedWidget, QWidget

from monitor.board import tile_for
from monitor.clock import Clock
from monitor.service import ClinicService, InvalidEntryError, NotFoundError
from monitor.store import StorageError
from ui.checkin import CheckIn, CheckInScreen, NewPatient
from ui.overview import OverviewScreen
from ui.presenter import SessionPresenter
from ui.session_screen import SessionScreen
from ui.staff_screen import StaffScreen
from ui.style import apply_theme
from ui.theme import DIM, LIGHT, Theme

#: How often countdowns and the overview are brought up to date, in milliseconds.
TICK_MS = 1000

T = TypeVar("T")


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
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.service = service
        self.clock = clock
        self.chairs = tuple(chairs)
        self.theme = theme
        self.staff_id: uuid.UUID | None = staff[0] if staff else None
        self.staff_name = staff[1] if staff else ""
        self.presenters: dict[str, SessionPresenter] = {}
        self.sessions: dict[str, SessionScreen] = {}
        self.checkin: CheckInScreen | None = None
        #: Called on every tick, after the screens are refreshed (the demo chair's driver).
        self.tick_hooks: list[Callable[[], None]] = []
        self.setWindowTitle("ChairSide")

        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self._build_screens()
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        if self.staff_id is None:
            self.show_staff()
        else:
            self.show_overview()

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
        self.staff_screen = StaffScreen(self.theme)
        self.staff_screen.chosen.connect(self._staff_chosen)
        self.staff_screen.added.connect(self._staff_added)
        self.overview = OverviewScreen(self.theme, self.chairs)
        self.overview.openChair.connect(self.open_chair)
        self.overview.checkInChair.connect(self.check_in_chair)
        self.overview.themeToggled.connect(self.toggle_theme)
        self.overview.switchUser.connect(self.show_staff)
        self.overview.show_user(self.staff_name)
        self.stack.addWidget(self.staff_screen)
        self.stack.addWidget(self.overview)

    def orientation(self) -> Qt.Orientation:
        return (Qt.Orientation.Vertical if self.height() > self.width()
                else Qt.Orientation.Horizontal)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_orientation()

    def _apply_orientation(self) -> None:
        orientation = self.orientation()
        self.overview.set_orientation(orientation)
        for screen in self.sessions.values():
            screen.set_orientation(orientation)
        if self.checkin is not None:
            self.checkin.set_orientation(orientation)

    def show_staff(self) -> None:
        self.staff_screen.show_staff(self._guard(self.service.active_staff) or [])
        self.stack.setCurrentWidget(self.staff_screen)

    def show_overview(self) -> None:
        self.refresh_overview()
        self.stack.setCurrentWidget(self.overview)

    def refresh_overview(self) -> None:
        active = self._guard(lambda: self.service.active_sessions(self.chairs))
        if active is None:
            return
        tiles = []
        for chair in self.chairs:
            session_id = active.get(chair)
            view = None
            if session_id is not None:
                view = self._guard(lambda s=session_id: self.service.load(s, self.clock.now()))
            tiles.append(tile_for(chair, view))
        self.overview.show_tiles(tiles)

    def open_chair(self, chair: str) -> None:
        active = self._guard(lambda: self.service.active_sessions([chair])) or {}
        session_id = active.get(chair)
        if session_id is None:
            self.check_in_chair(chair)
            return
        self.show_session(chair, session_id)

    def show_session(self, chair: str, session_id: uuid.UUID) -> SessionScreen:
        assert self.staff_id is not None
        screen = self.sessions.get(chair)
        if screen is None or screen.presenter.session_id != session_id:
            if screen is not None:
                self.stack.removeWidget(screen)
                screen.deleteLater()
            presenter = SessionPresenter(self.service, self.clock, session_id, self.staff_id,
                                         parent=self)
            view = self._guard(lambda: self.service.session_info(session_id))
            profile = view.profile if view is not None else "iv_ketamine"
            medications = self.service.protocol_for(profile).medications
            screen = SessionScreen(self.theme, self.clock, presenter, medications)
            screen.back.connect(self.show_overview)
            screen.set_orientation(self.orientation())
            self.presenters[chair] = presenter
            self.sessions[chair] = screen
            self.stack.addWidget(screen)
        screen.presenter.refresh()
        self.stack.setCurrentWidget(screen)
        return screen

    def check_in_chair(self, chair: str) -> None:
        if self.checkin is not None:
            self.stack.removeWidget(self.checkin)
            self.checkin.deleteLater()
        self.checkin = CheckInScreen(self.theme, self.service, self.clock, chair)
        self.checkin.set_orientation(self.orientation())
        self.checkin.checkInRequested.connect(self._checked_in)
        self.checkin.cancelled.connect(self.show_overview)
        self.stack.addWidget(self.checkin)
        self.stack.setCurrentWidget(self.checkin)

    def current_session(self) -> SessionScreen | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, SessionScreen) else None

    # -- actions ---------------------------------------------------------------------------

    def _staff_chosen(self, staff_id: uuid.UUID, name: str) -> None:
        self.staff_id, self.staff_name = staff_id, name
        self.overview.show_user(name)
        for presenter in self.presenters.values():
            presenter.staff_id = staff_id
        self.show_overview()

    def _staff_added(self, name: str, role: str) -> None:
        staff_id = self._guard(lambda: self.service.ensure_staff(name, role))
        if staff_id is not None:
            self._staff_chosen(staff_id, name)

    def _checked_in(self, data: CheckIn) -> None:
        assert self.staff_id is not None
        staff_id = self.staff_id
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
            QMessageBox.critical(self, "NOT saved",
                                 f"{exc.message}\nThe check-in is still on screen; try again.")
            return
        self.show_session(data.chair, session_id)

    def toggle_theme(self) -> None:
        unsaved = [chair for chair, screen in self.sessions.items()
                   if screen.has_unsaved_entry()]
        if unsaved:
            QMessageBox.information(
                self, "Theme not changed",
                "Save or clear the entry open on chair " + ", ".join(unsaved) +
                " first: changing the theme redraws every screen.")
            return
        self.set_theme(LIGHT if self.theme is DIM else DIM)

    def set_theme(self, theme: Theme) -> None:
        """Redraw every screen in ``theme`` (sessions are reloaded from the record)."""
        self.theme = theme
        current_chair = next((c for c, s in self.sessions.items()
                              if s is self.stack.currentWidget()), None)
        while self.stack.count():
            widget = self.stack.widget(0)
            self.stack.removeWidget(widget)
            widget.deleteLater()
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
            self.show_staff()
        else:
            self.show_overview()
        self.themeChanged.emit(theme)

    def tick(self) -> None:
        """Bring what is on screen up to date with the clock."""
        current = self.stack.currentWidget()
        if current is self.overview:
            self.refresh_overview()
        elif isinstance(current, SessionScreen):
            current.presenter.refresh()
        for hook in self.tick_hooks:
            hook()

    def _guard(self, action: Callable[[], T]) -> T | None:
        """Run a read; a database that cannot be reached is said once, not a crash."""
        try:
            return action()
        except StorageError as exc:
            self.statusBar().showMessage(exc.message, 10_000)
        except NotFoundError:
            return None
        return None
