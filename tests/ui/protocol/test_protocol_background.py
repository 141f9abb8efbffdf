"""The protocol screen, a draft's what-if and a patient's own limits with their database work
on a background thread (as on the clinic's server): while the server holds a read or a
save the event loop runs on and the screen answers; it says "Loading…" or "Saving…"; a
second tap sends nothing; when the server answers, the right result is shown, or its
refusal in the store's words with what was typed still on screen."""

from __future__ import annotations

import pytest
import shiboken6
from PySide6.QtCore import QTimer

from monitor.service.worker import ThreadWorker
from monitor.storage.store import NotSavedError, StoreUnavailableError
from tests.conftest import TEST_PIN
from tests.support.stall import WAIT_S, StalledService
from ui.app.main_window import MainWindow
from ui.common.background import Background

WAIT_MS = int(WAIT_S * 1000)
HR = "hr.high_warning_at_or_above"
NOT_SAVED = NotSavedError("unreachable", "NOT saved: the database server cannot be reached.")
BUSY = StoreUnavailableError(
    "busy", "Could not read: the database server is busy; try again in a moment.")
UNREACHABLE = StoreUnavailableError("unreachable",
                                    "Could not read: the database server cannot be reached.")


def event_loop_runs(qtbot) -> None:
    """A timer fires: the GUI thread is free."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=WAIT_MS):
        timer.start(0)


def settled(window) -> bool:
    return not shiboken6.isValid(window) or all(
        b.in_flight == 0 for b in window.findChildren(Background))


@pytest.fixture
def admin(service):
    return service.ensure_staff("Ada Admin", "admin", pin=TEST_PIN)


@pytest.fixture
def build(qtbot, service, clock):
    """``build(staff_id, name)``: a window on a service whose protocols and limits can be
    held, its database work on a background thread; and the held parts."""
    made = []
    gated = StalledService(service)
    gated.protocols = StalledService(service.protocols)
    gated.limits = StalledService(service.limits)
    worker = ThreadWorker()

    def make(staff_id, name):
        window = MainWindow(gated, clock, staff=(staff_id, name), tick_ms=3_600_000,
                            idle_lock_s=24 * 3600, worker=worker)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        made.append(window)
        return window, gated

    yield make
    for part in (gated, gated.protocols, gated.limits):
        part.release()
    for window in made:
        qtbot.waitUntil(lambda w=window: settled(w), timeout=WAIT_MS)
        if shiboken6.isValid(window):
            window.close()
    worker.close(WAIT_S)


def loaded(qtbot, screen) -> None:
    qtbot.waitUntil(lambda: screen.message.text() != "Loading…" and bool(screen.fields),
                    timeout=WAIT_MS)


def test_the_protocol_loads_in_the_background_and_the_screen_answers_meanwhile(
        qtbot, build, clinician):
    window, gated = build(clinician, "Cleo Clinician")
    gated.protocols.stall("versions")
    window.protocol_button.click()
    assert gated.protocols.entered.wait(WAIT_S)
    screen = window.protocol_screen
    assert window.stack.currentWidget() is screen
    assert screen.message.text() == "Loading…"
    event_loop_runs(qtbot)
    screen.back_button.click()  # another widget answers while the server holds the read
    assert window.stack.currentWidget() is window.overview
    window.show_protocol()
    gated.protocols.release()
    loaded(qtbot, screen)
    assert screen.fields[HR].text() == "111"
    assert screen.message.text() == ""
    assert gated.protocols.calls["versions"] == 2  # the first read, then the newest


def test_a_protocol_the_server_cannot_read_says_so_in_the_stores_words(
        qtbot, build, clinician):
    window, gated = build(clinician, "Cleo Clinician")
    gated.protocols.stall("versions")
    window.show_protocol()
    assert gated.protocols.entered.wait(WAIT_S)
    gated.protocols.release(fail=UNREACHABLE)
    screen = window.protocol_screen
    qtbot.waitUntil(lambda: screen.message.text() != "Loading…", timeout=WAIT_MS)
    assert screen.message.text() == "Could not read: the database server cannot be reached."
    assert screen.message.property("role") == "error"


def _draft_open(qtbot, window, service, admin):
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="Clinic review")
    window.show_protocol()
    screen = window.protocol_screen
    loaded(qtbot, screen)
    screen.draftChosen.emit(draft)
    qtbot.waitUntil(lambda: screen.draft is not None and screen.draft.id == draft,
                    timeout=WAIT_MS)
    return screen, draft


def test_saving_a_draft_says_saving_sends_once_and_says_saved_after(
        qtbot, build, service, admin):
    window, gated = build(admin, "Ada Admin")
    screen, draft = _draft_open(qtbot, window, service, admin)
    screen.fields[HR].setText("105")
    gated.protocols.stall("edit_draft")
    screen.save_button.click()
    assert gated.protocols.entered.wait(WAIT_S)
    assert screen.message.text() == "Saving…"
    assert not screen.save_button.isEnabled()
    screen.saveRequested.emit(screen.edits())  # a second tap while in flight sends nothing
    event_loop_runs(qtbot)
    gated.protocols.release()
    qtbot.waitUntil(lambda: screen.message.text() == "Saved", timeout=WAIT_MS)
    assert gated.protocols.calls["edit_draft"] == 1
    assert service.protocols.draft(draft).changes["parameters"][HR]["value"] == 105
    assert "changed in this draft" in screen.sources[HR].text()
    assert screen.save_button.isEnabled()


def test_a_draft_the_server_cannot_save_keeps_what_was_typed(qtbot, build, service, admin):
    window, gated = build(admin, "Ada Admin")
    screen, draft = _draft_open(qtbot, window, service, admin)
    screen.fields[HR].setText("105")
    gated.protocols.stall("edit_draft")
    screen.save_button.click()
    assert gated.protocols.entered.wait(WAIT_S)
    gated.protocols.release(fail=NOT_SAVED)
    qtbot.waitUntil(lambda: screen.message.text() != "Saving…", timeout=WAIT_MS)
    assert screen.message.text() == "NOT saved: the database server cannot be reached."
    assert screen.fields[HR].text() == "105"
    assert screen.save_button.isEnabled()
    assert service.protocols.draft(draft).changes["parameters"] == {}


def test_approving_says_signing_while_the_server_holds_it(
        qtbot, build, service, admin, clinician):
    draft = service.protocols.create_draft(
        "iv_ketamine", by=admin, reason="Clinic review of HR bands", parameters={HR: 105})
    window, gated = build(clinician, "Cleo Clinician")
    window.show_protocol()
    screen = window.protocol_screen
    loaded(qtbot, screen)
    screen.draftChosen.emit(draft)
    qtbot.waitUntil(lambda: screen.draft is not None, timeout=WAIT_MS)
    screen.approve_button.click()
    dialog = window.signature_dialog
    assert dialog is not None
    gated.protocols.stall("approve")
    for digit in TEST_PIN:
        dialog.entry.keypad.button(digit).click()
    dialog.sign_button.click()
    assert gated.protocols.entered.wait(WAIT_S)
    assert dialog.status.text() == "Signing…"
    event_loop_runs(qtbot)
    with qtbot.waitSignal(dialog.signed, timeout=WAIT_MS):
        gated.protocols.release()
    qtbot.waitUntil(lambda: screen.message.text().startswith("Approved"), timeout=WAIT_MS)
    assert service.protocols.active()["iv_ketamine"] is not None


def test_a_whatif_opens_once_its_draft_is_read(qtbot, build, service, admin, clinician):
    draft = service.protocols.create_draft("iv_ketamine", by=admin, reason="Clinic review")
    window, gated = build(clinician, "Cleo Clinician")
    gated.protocols.stall("draft")
    window.show_whatif(draft)
    assert gated.protocols.entered.wait(WAIT_S)
    assert window.statusBar().currentMessage() == "Opening the what-if…"
    assert window.show_whatif(draft) is None  # a second tap reads nothing more
    event_loop_runs(qtbot)
    gated.protocols.release()
    qtbot.waitUntil(lambda: window.whatif_screen is not None
                    and window.stack.currentWidget() is window.whatif_screen,
                    timeout=WAIT_MS)
    assert "Clinic review" in window.whatif_screen.subtitle.text()
    assert gated.protocols.calls["draft"] == 1


# -- a patient's own limits ----------------------------------------------------------------


@pytest.fixture
def patient(service, nurse):
    return service.add_patient("MRN5150", by=nurse, weight_kg=70.0, name="Pat Example").id


def _limits_open(qtbot, window, patient):
    window.show_patient_limits(patient)
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.limits_screen,
                    timeout=WAIT_MS)
    return window.limits_screen


def test_a_patients_limits_open_once_read(qtbot, build, clinician, patient):
    window, gated = build(clinician, "Cleo Clinician")
    gated.limits.stall("view")
    window.show_patient_limits(patient)
    assert gated.limits.entered.wait(WAIT_S)
    assert window.statusBar().currentMessage() == "Opening the patient's limits…"
    window.show_patient_limits(patient)  # tapped again: nothing read twice
    event_loop_runs(qtbot)
    assert window.stack.currentWidget() is window.overview
    gated.limits.release()
    screen = _limits_open(qtbot, window, patient)
    assert "Pat Example" in screen.title.text()
    assert gated.limits.calls["view"] == 1
    screen.back_button.click()
    assert window.stack.currentWidget() is window.overview


def test_limits_a_busy_server_cannot_read_leave_the_screen_where_it_was(
        qtbot, build, clinician, patient):
    window, gated = build(clinician, "Cleo Clinician")
    gated.limits.stall("view")
    window.show_patient_limits(patient)
    assert gated.limits.entered.wait(WAIT_S)
    gated.limits.release(fail=BUSY)
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == BUSY.message,
                    timeout=WAIT_MS)
    assert window.stack.currentWidget() is window.overview
    assert not window.reachability.unreachable  # busy: it answered, too slowly


def test_limits_are_checked_in_the_background_only_the_newest_values(
        qtbot, build, clinician, patient):
    window, gated = build(clinician, "Cleo Clinician")
    screen = _limits_open(qtbot, window, patient)
    gated.limits.stall("check")
    screen.fields[HR].setText("300")
    screen.valuesTyped.emit(screen.values())
    assert gated.limits.entered.wait(WAIT_S)
    for text in ("1", "10", "105"):  # typed on while the first check is held
        screen.fields[HR].setText(text)
        screen.valuesTyped.emit(screen.values())
    event_loop_runs(qtbot)
    gated.limits.release()
    qtbot.waitUntil(lambda: settled(window), timeout=WAIT_MS)
    assert gated.limits.calls["check"] == 2  # the held one, then only "105"
    assert not screen.errors[HR].isVisible()  # "300"'s refusal is not shown for "105"


def test_saving_limits_says_saving_sends_once_and_a_refusal_keeps_the_values(
        qtbot, build, service, clinician, patient):
    window, gated = build(clinician, "Cleo Clinician")
    screen = _limits_open(qtbot, window, patient)
    screen.fields[HR].setText("105")
    screen.reason.setText("Athlete: resting HR runs high")
    gated.limits.stall("set_limits")
    screen.save_button.click()
    assert gated.limits.entered.wait(WAIT_S)
    assert screen.message.text() == "Saving…"
    assert not screen.save_button.isEnabled()
    screen.saveRequested.emit(screen.values(), screen.reason.text())  # sends nothing
    event_loop_runs(qtbot)
    gated.limits.release(fail=NOT_SAVED)
    qtbot.waitUntil(lambda: screen.message.text() != "Saving…", timeout=WAIT_MS)
    assert screen.message.text() == "NOT saved: the database server cannot be reached."
    assert screen.fields[HR].text() == "105"
    assert screen.reason.text() == "Athlete: resting HR runs high"
    assert gated.limits.calls["set_limits"] == 1

    gated.limits.stall("set_limits")
    screen.save_button.click()
    assert gated.limits.entered.wait(WAIT_S)
    gated.limits.release()
    qtbot.waitUntil(lambda: screen.message.text().startswith("Saved"), timeout=WAIT_MS)
    assert service.limits.view(patient).rows
    assert screen.fields[HR].text() == "105"
