"""``python main.py --screenshot DIR``: every main screen rendered offscreen to PNG.

A throw-away demo clinic is built on a manual clock, on the tablet "Demo tablet" (never
asked): chair 1 in the middle of a hypertensive surge (open flags), chair 2 ready for
discharge, chair 3 early in its infusion, chair 4 free. Each screen is then shown in a real
window of the requested size and grabbed.
"""

from __future__ import annotations

import secrets
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtWidgets import QApplication

from monitor.clock import ManualClock
from monitor.demo.data import generate
from monitor.demo.simulate import DemoChair
from monitor.service.auth import DEMO_PIN
from monitor.service.clinic import ClinicService
from monitor.storage.settings import DEMO_TABLET
from monitor.storage.store import open_store
from ui.app.main_window import MainWindow
from ui.common.theme import DIM, LIGHT, Theme

#: The moment the screenshots show (a weekday morning), fixed so that they are repeatable.
SHOWN_AT = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
#: When each chair's scripted session began, in minutes before :data:`SHOWN_AT`.
CHAIR_STARTS = {"2": 74, "1": 36, "3": 22}


def build_clinic(service: ClinicService, clock: ManualClock) -> dict[str, DemoChair]:
    # The demo chairs sign their critical acknowledgements with the demo PIN.
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin=DEMO_PIN)
    chairs = {chair: DemoChair(service, nurse, chair=chair, pin=DEMO_PIN)
              for chair in CHAIR_STARTS}
    first = max(CHAIR_STARTS.values())
    clock.set_wall(SHOWN_AT - timedelta(minutes=first))
    for minute in range(first + 1):
        for chair, start in CHAIR_STARTS.items():
            if first - minute <= start:
                chairs[chair].advance()
        if minute < first:
            clock.advance(timedelta(minutes=1))
    return chairs


def render_all(directory: Path, size: tuple[int, int]) -> list[Path]:
    """Render the main screens to ``directory``; returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    running = QApplication.instance()
    app = running if isinstance(running, QApplication) else QApplication([])
    written: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="chairside-shots-") as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'shots.sqlite3'}")
        try:
            clock = ManualClock(SHOWN_AT - timedelta(days=1))
            generate(store, sessions=24, seed=7, clock_now=clock.now())
            service = ClinicService(store, clock, secret=secrets.token_bytes(32),
                                    tablet=DEMO_TABLET)
            build_clinic(service, clock)
            nurse = service.ensure_staff("Nora Nurse", "nurse")
            for theme in (DIM, LIGHT):
                window = MainWindow(service, clock, theme=theme, staff=(nurse, "Nora Nurse"),
                                    tick_ms=3_600_000)
                window.resize(*size)
                window.show()
                written += _shots(app, window, directory, theme.name, full=theme is DIM)
                window.close()
                window.deleteLater()
                app.processEvents()
            clinician = service.ensure_staff("Cleo Clinician", "clinician")
            for theme in (DIM, LIGHT):
                written += _audit_shot(app, service, clock, clinician=clinician,
                                       directory=directory, theme=theme, size=size)
                written += _review_shots(app, service, clock, clinician=clinician,
                                         directory=directory, theme=theme, size=size)
        finally:
            store.close()
    return written


def _shots(app: QApplication, window: MainWindow, directory: Path, theme: str, *,
           full: bool) -> list[Path]:
    written: list[Path] = []
    width, height = window.width(), window.height()

    def grab(name: str) -> None:
        app.processEvents()
        path = directory / f"{name}-{theme}-{width}x{height}.png"
        window.grab().save(str(path))
        written.append(path)

    window.show_overview()
    grab("01-overview")
    window.open_chair("1")
    grab("03-session-flags")
    if not full:
        return written
    window.check_in_chair("4")
    grab("02-check-in")
    screen = window.show_session("1", window.presenters["1"].session_id)
    forms = (screen.vitals, screen.cadss, screen.moaas, screen.comfort, screen.event_form)
    for index, (name, form) in enumerate(
        zip(("vitals", "cadss6", "moaas", "comfort", "event"), forms, strict=True)
    ):
        screen.tabs.setCurrentWidget(form)
        grab(f"{4 + index:02d}-entry-{name}")
    screen.tabs.setCurrentWidget(screen.history)
    grab("10-history")
    window.open_chair("2")
    discharge = window.sessions["2"]
    discharge.tabs.setCurrentWidget(discharge.discharge)
    grab("09-discharge")
    window.lock("manual")
    grab("11-lock")
    window.show_login()
    grab("12-login")
    return written


def _review_shots(app: QApplication, service: ClinicService, clock: ManualClock, *,
                  clinician: uuid.UUID, directory: Path, theme: Theme,
                  size: tuple[int, int]) -> list[Path]:
    """The clinician's review list, a flagged session's chart and its patient's course."""
    window, grab, written = _clinician_window(app, service, clock, clinician=clinician,
                                              directory=directory, theme=theme, size=size)
    review = window.show_review()
    grab("20-review")
    rows = review.model.rows()
    visits = Counter(row.patient_id for row in rows)
    shown = max(rows, key=lambda row: (row.worst is not None, visits[row.patient_id]))
    window.show_session_review(shown.session_id)
    grab("21-session-chart")
    window.show_course(shown.patient_id)
    grab("22-course")
    _close(app, window)
    return written


def _audit_shot(app: QApplication, service: ClinicService, clock: ManualClock, *,
                clinician: uuid.UUID, directory: Path, theme: Theme,
                size: tuple[int, int]) -> list[Path]:
    """The audit trail as a clinician opens it."""
    window, grab, written = _clinician_window(app, service, clock, clinician=clinician,
                                              directory=directory, theme=theme, size=size)
    window.show_audit()
    grab("13-audit")
    _close(app, window)
    return written


def _clinician_window(app: QApplication, service: ClinicService, clock: ManualClock, *,
                      clinician: uuid.UUID, directory: Path, theme: Theme,
                      size: tuple[int, int]
                      ) -> tuple[MainWindow, Callable[[str], None], list[Path]]:
    """A window signed in as the clinician, and a ``grab(name)`` that saves it to a PNG
    named for the screen, theme and size, adding the path to the returned list."""
    window = MainWindow(service, clock, theme=theme, staff=(clinician, "Cleo Clinician"),
                        tick_ms=3_600_000)
    window.resize(*size)
    window.show()
    written: list[Path] = []

    def grab(name: str) -> None:
        app.processEvents()
        path = directory / f"{name}-{theme.name}-{window.width()}x{window.height()}.png"
        window.grab().save(str(path))
        written.append(path)

    return window, grab, written


def _close(app: QApplication, window: MainWindow) -> None:
    window.close()
    window.deleteLater()
    app.processEvents()
