"""The whole nurse workflow, by touch, through the real window, service and database.

Check-in → baseline → start → six readings including a hypertensive surge confirmed by a
repeat → flag acknowledged → stop → early discharge refused with its reasons → later
ready → signed off. Time is moved with the manual clock; nothing sleeps.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from monitor.clinical.domain import EventKind, Phase, Severity
from tests.conftest import TEST_PIN
from tests.ui.touch import small_touch_targets
from ui.app.main_window import MainWindow
from ui.checkin.values import MEDICATIONS
from ui.common.labels import clock_time

MIN = timedelta(minutes=1)
LANDSCAPE, PORTRAIT = (1280, 800), (800, 1280)


@pytest.fixture
def window(qtbot, service, clock):
    service.create_first_admin("Sam Admin", "918273")
    service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    window = MainWindow(service, clock, tick_ms=3_600_000)
    qtbot.addWidget(window)
    window.resize(*LANDSCAPE)
    window.show()
    qtbot.waitExposed(window)
    return window


def click(qtbot, widget):
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_keys(qtbot, keypad, text):
    for key in text:
        click(qtbot, keypad.button(key))


def sign_in(qtbot, window, name="Nora Nurse", pin=TEST_PIN):
    login = window.lock_screen.login if window.locked else window.login_screen
    person = next(s.id for s in login.staff if s.name == name)
    click(qtbot, login.name_buttons[person])
    type_keys(qtbot, login.entry.keypad, pin)
    click(qtbot, login.sign_in)
    assert window.stack.currentWidget() is window.overview
    assert window.staff_name == name


def sign(qtbot, window, pin=TEST_PIN):
    """Type the PIN into the e-signature dialog and sign."""
    dialog = window.signature_dialog
    assert dialog is not None
    assert dialog.isVisible()
    type_keys(qtbot, dialog.entry.keypad, pin)
    click(qtbot, dialog.sign_button)


def check_in(qtbot, window):
    click(qtbot, window.overview.tile("1"))
    screen = window.checkin
    assert window.stack.currentWidget() is screen
    click(qtbot, screen.patient_card.mode.button("new"))
    screen.patient_card.mrn.setText("MRN-004211")
    screen.patient_card.name.setText("Ada Byrne")
    screen.patient_card.dob_year.setText("1980")
    screen.patient_card.dob_month.setText("04")
    screen.patient_card.dob_day.setText("02")
    screen.dose_card.weight.setText("70")
    for key, _question, _note in MEDICATIONS:
        click(qtbot, screen.medications[key].button(key == "ssris_snris"))
    screen.escort.setText("Sam Byrne")
    screen.dose_card.lot.setText("KX-2291")
    click(qtbot, screen.submit_button)
    session = window.current_session()
    assert session is not None, "check-in should open the session screen"
    return session


def save_vitals(qtbot, session, bp, hr, spo2):
    vitals = session.vitals
    session.tabs.setCurrentWidget(vitals)
    for key, value in (("bp", bp), ("hr", hr), ("spo2", spo2)):
        click(qtbot, vitals.field(key))
        click(qtbot, vitals.keypad.button("clear"))
        type_keys(qtbot, vitals.keypad, value)
    with qtbot.waitSignal(session.presenter.saved):
        click(qtbot, vitals.save_button())
    assert vitals.banner_text().startswith("Saved")


def save_scores(qtbot, session, cadss_items, moaas, nausea):
    session.tabs.setCurrentWidget(session.cadss)
    for number, score in enumerate(cadss_items, start=1):
        click(qtbot, session.cadss.item(number).button(score))
    with qtbot.waitSignal(session.presenter.saved):
        click(qtbot, session.cadss.save_button())
    session.tabs.setCurrentWidget(session.moaas)
    click(qtbot, session.moaas.choice(moaas))
    with qtbot.waitSignal(session.presenter.saved):
        click(qtbot, session.moaas.save_button())
    session.tabs.setCurrentWidget(session.comfort)
    click(qtbot, session.comfort.row("nausea").button(nausea))
    with qtbot.waitSignal(session.presenter.saved):
        click(qtbot, session.comfort.save_button())


def test_a_whole_session_by_touch(qtbot, window, clock, monkeypatch):
    sign_in(qtbot, window)
    session = check_in(qtbot, window)
    assert session.view.info.dose_mg == 35.0

    # Baseline.
    save_vitals(qtbot, session, "128/78", "72", "98")
    save_scores(qtbot, session, (0, 0, 0, 0, 0, 0), 5, 0)
    assert session.view.phase is Phase.BASELINE

    # Start.
    clock.advance(2 * MIN)
    click(qtbot, session.header.controls[EventKind.INFUSION_START])
    assert session.view.phase is Phase.INFUSING
    assert not session.header.controls[EventKind.INFUSION_START].isVisible()

    # Six readings, a surge at 30 min confirmed by a repeat five minutes later.
    for minutes, bp, hr in ((10, "134/82", "76"), (10, "146/88", "80"), (10, "184/104", "86"),
                            (5, "188/106", "88"), (5, "160/94", "84"), (10, "140/86", "80")):
        clock.advance(minutes * MIN)
        save_vitals(qtbot, session, bp, hr, "97")
    bp_flags = sorted((f for f in session.view.flags if f.key == "bp-high"), key=lambda f: f.time)
    assert [f.severity for f in bp_flags] == [Severity.WARNING, Severity.CRITICAL]
    assert session.rail.tiles  # the rail shows the open critical flag next to BP
    assert session.chart.systolic.getData()[1].max() >= 188

    # The repeat escalated the surge: one acknowledgement, of the critical flag, covers it.
    open_serious = [f for f in session.view.open_flags if f.severity >= Severity.WARNING]
    assert [(f.key, f.severity) for f in open_serious] == [("bp-high", Severity.CRITICAL)]
    for flag in open_serious:
        dialog = session.flags.acknowledge(flag)
        choices = {b.text(): b for b in dialog.findChildren(QPushButton) if b.isCheckable()}
        click(qtbot, choices["Informed clinician"])
        click(qtbot, dialog.ok)
        with qtbot.waitSignal(session.presenter.saved):
            sign(qtbot, window)  # a critical flag's acknowledgement is signed
    assert not [f for f in session.view.open_flags if f.severity >= Severity.WARNING]

    # Stop.
    clock.advance(2 * MIN)
    monkeypatch.setattr(session, "confirm", lambda _title, _text: True)
    click(qtbot, session.header.controls[EventKind.INFUSION_STOP])
    assert session.view.phase is Phase.RECOVERY

    # Early discharge is refused with its reasons.
    clock.advance(15 * MIN)
    save_vitals(qtbot, session, "132/80", "74", "98")
    save_scores(qtbot, session, (0, 1, 0, 0, 0, 0), 5, 0)
    session.tabs.setCurrentWidget(session.discharge)
    assert not session.discharge.sign_button.isEnabled()
    with qtbot.waitSignal(session.presenter.refused) as refused:
        session.presenter.sign_discharge(TEST_PIN)
    reasons = {e.field for e in refused.args[0]}
    assert {"min_observation", "orientation_gait", "escort"} <= reasons
    shown = session.discharge.criterion_texts()
    assert shown["min_observation"][0] == "Not met"
    assert "since infusion stop" in shown["min_observation"][2]

    # Later: attestations, another reading, ready, signed.
    for kind in (EventKind.ESCORT_PRESENT, EventKind.ORIENTED_STEADY_GAIT):
        with qtbot.waitSignal(session.presenter.saved):
            click(qtbot, session.discharge.attest_buttons[kind])
    clock.advance(16 * MIN)
    save_vitals(qtbot, session, "130/80", "72", "98")
    save_scores(qtbot, session, (0, 0, 0, 0, 0, 0), 5, 0)
    assert session.view.discharge.ready, [
        c for c in session.view.discharge.criteria if not c.met]
    session.tabs.setCurrentWidget(session.discharge)
    click(qtbot, session.discharge.sign_button)
    with qtbot.waitSignal(session.presenter.saved):
        sign(qtbot, window)
    assert session.view.phase is Phase.DISCHARGED

    # Back on the overview the chair says so.
    click(qtbot, session.header.back_button)
    assert "Discharged" in " ".join(window.overview.tile("1").texts())


def test_undo_voids_the_last_entry_and_the_chart_shows_it_hollow(qtbot, window, clock):
    sign_in(qtbot, window)
    session = check_in(qtbot, window)
    save_vitals(qtbot, session, "128/78", "72", "98")
    assert session.header.undo_button.isVisible()
    with qtbot.waitSignal(session.presenter.saved):
        click(qtbot, session.header.undo_button)
    assert session.view.record.readings == ()
    assert len(session.view.superseded_readings) == 1
    assert not session.header.undo_button.isVisible()


def test_the_entry_time_shown_as_now_follows_the_clock_at_each_tick(qtbot, window, clock):
    sign_in(qtbot, window)
    session = check_in(qtbot, window)
    clock.advance(90)
    window.tick()
    for form in session.forms:
        shown = form.time.findChild(QLabel, "entry-time")
        assert shown.text() == clock_time(clock.now())


def test_a_half_typed_entry_survives_going_to_another_chair(qtbot, window, clock):
    sign_in(qtbot, window)
    session = check_in(qtbot, window)
    click(qtbot, session.vitals.field("hr"))
    type_keys(qtbot, session.vitals.keypad, "77")
    click(qtbot, session.header.back_button)
    click(qtbot, window.overview.tile("1"))
    assert window.current_session() is session
    assert session.vitals.raw()["hr"] == "77"
    assert session.has_unsaved_entry()


@pytest.mark.parametrize("size", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_every_main_screen_has_only_fingertip_targets(qtbot, window, size):
    window.resize(*size)
    sign_in(qtbot, window)
    assert small_touch_targets(window.overview) == []
    session = check_in(qtbot, window)
    save_vitals(qtbot, session, "128/78", "72", "98")
    qtbot.waitUntil(lambda: window.width() == size[0])
    pages = [session.tabs.widget(i) for i in range(session.tabs.count())]
    for page in pages:
        session.tabs.setCurrentWidget(page)
        qtbot.waitUntil(page.isVisible)
        assert small_touch_targets(window) == [], session.tabs.tabText(
            session.tabs.indexOf(page))
        assert window.width() <= size[0], "nothing may widen the window past the screen"
    window.check_in_chair("2")
    assert small_touch_targets(window.checkin) == []


def test_the_theme_switches_but_never_drops_an_unsaved_entry(qtbot, window, monkeypatch):
    sign_in(qtbot, window)
    session = check_in(qtbot, window)
    click(qtbot, session.vitals.field("hr"))
    type_keys(qtbot, session.vitals.keypad, "77")
    told = []
    monkeypatch.setattr("ui.app.main_window.tell",
                        lambda _parent, _title, text: told.append(text))
    window.toggle_theme()
    assert window.theme.name == "dim"
    assert "chair 1" in told[0]
    assert window.sessions["1"] is session
    session.vitals.clear()
    window.toggle_theme()
    assert window.theme.name == "light"
    assert window.current_session() is not None
    assert window.current_session().theme.name == "light"


def test_the_overview_says_who_is_signed_in_and_hands_over(qtbot, window, service):
    service.ensure_staff("Dr Lee", "clinician", pin="739104")
    sign_in(qtbot, window)
    assert window.overview.user.text() == "Signed in: Nora Nurse (nurse)"
    click(qtbot, window.overview.switch_button)
    assert window.stack.currentWidget() is window.lock_screen
    sign_in(qtbot, window, "Dr Lee", "739104")
    assert window.overview.user.text() == "Signed in: Dr Lee (clinician)"
