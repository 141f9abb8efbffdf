"""The check-in's reads on the database worker's thread, with a server that holds them: the
profile's protocol (read once, kept, the dose computed from it as the weight is typed), a new
patient's MRN looked up when the form is checked ("Checking…"), and a draft's patient found
again (the typed values at once, the patient when they come). Meanwhile the screen goes on
taking keys and its timers fire; an unreachable server is said in the store's words and
what was typed stays."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QTimer

from monitor.clinical.dosing import plan_dose
from monitor.service.worker import ThreadWorker
from monitor.storage.store import StoreUnavailableError
from tests.support.stall import WAIT_S, StalledService
from tests.ui.sessions import host
from ui.checkin.dose import LOADING_PROTOCOL
from ui.checkin.screen import CheckInScreen
from ui.checkin.values import MEDICATIONS, NewPatient, number_text
from ui.common.background import Background
from ui.common.theme import DIM

WAIT_MS = int(WAIT_S * 1000)
UNREACHABLE = "Could not read: the database cannot be reached."


@pytest.fixture
def ada(service, nurse):
    return service.add_patient("MRN-004211", by=nurse, name="Ada Byrne",
                               date_of_birth=date(1980, 4, 2), weight_kg=70)


@pytest.fixture
def opened(qtbot, service, clock):
    """Opens the check-in on a server holding the calls named; closes it after the test."""
    worker = ThreadWorker()
    made: list[tuple[CheckInScreen, object]] = []

    def open_screen(*held: str) -> tuple[CheckInScreen, StalledService]:
        gated = StalledService(service, set(held))
        screen = CheckInScreen(DIM, gated, clock, "2", background=Background(worker))
        made.append((screen, host(qtbot, screen, 1280, 800)))
        return screen, gated

    yield open_screen
    for screen, window in made:
        screen.service.release()
        qtbot.waitUntil(lambda s=screen: all(b.in_flight == 0
                                             for b in s.findChildren(Background))
                        and not s.dose_card.loading, timeout=WAIT_MS)
        window.close()  # type: ignore[attr-defined]
    worker.close(WAIT_S)


def timer_fires(qtbot) -> None:
    """A timer set now fires: the GUI thread is handling events."""
    fired: list[bool] = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=WAIT_MS)


def loaded(qtbot, screen) -> None:
    qtbot.waitUntil(lambda: screen.dose_card.protocol() is not None, timeout=WAIT_MS)


def fill_new_patient(screen, mrn: str) -> None:
    who = screen.patient_card
    who.mode.button("new").click()
    who.mrn.setText(mrn)
    who.name.setText("Cara Dunne")
    for edit, text in ((who.dob_year, "1990"), (who.dob_month, "07"), (who.dob_day, "15")):
        edit.setText(text)
    screen.dose_card.weight.setText("64.5")
    for key, _question, _note in MEDICATIONS:
        screen.medications[key].button(False).click()
    screen.escort.setText("Dan Dunne")


def test_the_protocol_is_read_once_and_the_dose_computed_from_it_as_the_weight_is_typed(
        qtbot, opened, service):
    screen, gated = opened("protocol_for")
    dose = screen.dose_card
    assert gated.entered.wait(WAIT_S)
    assert dose.loading
    assert dose.dose_note.text() == LOADING_PROTOCOL
    assert not screen.submit_button.isEnabled()
    # The weight takes keys and timers fire while the server holds the protocol.
    qtbot.keyClicks(dose.weight, "70")
    timer_fires(qtbot)
    assert dose.weight.text() == "70"
    assert dose.dose_note.text() == LOADING_PROTOCOL
    assert dose.dose_texts() == {"dose": "–", "rate": "–", "pump": "–"}
    assert gated.calls["protocol_for"] == 1, "typing asked the server nothing"
    gated.release()
    loaded(qtbot, screen)
    assert screen.submit_button.isEnabled()
    protocol = service.protocol_for(dose.profile.value())
    expected = plan_dose(70.0, protocol.dose.mg_per_kg_default, protocol.dose.minutes_default,
                         protocol.dose.bag_volume_ml_default, protocol)
    assert dose.dose_texts()["dose"] == number_text(expected.dose_mg, 1)
    # Every further key computes the dose from the protocol kept: nothing is read again.
    dose.weight.clear()
    qtbot.keyClicks(dose.weight, "80.5")
    expected = plan_dose(80.5, expected.mg_per_kg, expected.minutes, expected.bag_volume_ml,
                         protocol)
    assert dose.dose_texts()["dose"] == number_text(expected.dose_mg, 1)
    assert gated.calls["protocol_for"] == 1


def test_a_protocol_the_server_cannot_give_is_said_the_weight_kept_and_a_tap_reads_it_again(
        qtbot, opened):
    screen, gated = opened("protocol_for")
    dose = screen.dose_card
    assert gated.entered.wait(WAIT_S)
    qtbot.keyClicks(dose.weight, "70")
    gated.release(fail=StoreUnavailableError("unreachable", UNREACHABLE))
    qtbot.waitUntil(lambda: not dose.loading, timeout=WAIT_MS)
    assert dose.protocol() is None
    assert dose.dose_note.text().startswith(UNREACHABLE)
    assert dose.weight.text() == "70"
    assert not screen.submit_button.isEnabled()
    qtbot.keyClicks(dose.weight, ".5")  # typing keeps the server's words in place
    assert dose.dose_note.text().startswith(UNREACHABLE)
    gated.release()  # the server answers again
    dose.profile.button(dose.profile.value()).click()
    loaded(qtbot, screen)
    assert dose.weight.text() == "70.5"
    assert dose.dose_texts()["dose"] != "–"
    assert screen.submit_button.isEnabled()


def test_a_new_patients_mrn_is_looked_up_on_the_worker_while_the_form_takes_keys(
        qtbot, opened):
    screen, gated = opened()
    loaded(qtbot, screen)
    fill_new_patient(screen, "MRN-009001")
    gated.stall("find_patient")
    screen.submit_button.click()
    assert gated.entered.wait(WAIT_S)
    assert screen.checking
    assert screen.submit_button.text() == "Checking…"
    assert not screen.submit_button.isEnabled()
    qtbot.keyClicks(screen.dose_card.lot, "L9")
    timer_fires(qtbot)
    assert screen.dose_card.lot.text() == "L9"
    with qtbot.assertNotEmitted(screen.checkInRequested):
        screen.submit_button.click()  # a second tap meanwhile sends nothing
    with qtbot.waitSignal(screen.checkInRequested, timeout=WAIT_MS) as blocker:
        gated.release()
    assert gated.calls["find_patient"] == 1
    assert blocker.args[0].patient == NewPatient("MRN-009001", "Cara Dunne", date(1990, 7, 15))
    assert blocker.args[0].lot_number == "L9"
    assert screen.submit_button.text() == "Check in patient"
    assert screen.submit_button.isEnabled()


def test_an_mrn_on_file_is_refused_when_the_lookup_comes(qtbot, opened, ada):
    screen, gated = opened()
    loaded(qtbot, screen)
    fill_new_patient(screen, ada.mrn)
    gated.stall("find_patient")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        screen.submit_button.click()
        assert gated.entered.wait(WAIT_S)
        gated.release()
        qtbot.waitUntil(lambda: not screen.checking, timeout=WAIT_MS)
    assert screen.messages["mrn"].text() == (
        "MRN MRN-004211 is already on file (Ada Byrne): use Find patient")


def test_an_mrn_lookup_the_server_cannot_answer_is_said_and_the_form_kept(qtbot, opened):
    screen, gated = opened()
    loaded(qtbot, screen)
    fill_new_patient(screen, "MRN-009001")
    gated.stall("find_patient")
    with qtbot.assertNotEmitted(screen.checkInRequested):
        screen.submit_button.click()
        assert gated.entered.wait(WAIT_S)
        gated.release(fail=StoreUnavailableError("unreachable", UNREACHABLE))
        qtbot.waitUntil(lambda: not screen.checking, timeout=WAIT_MS)
    assert screen.messages["mrn"].text() == UNREACHABLE
    assert screen.patient_card.mrn.text() == "MRN-009001"
    assert screen.dose_card.weight.text() == "64.5"
    assert screen.submit_button.isEnabled()


def draft(mrn: str) -> dict[str, object]:
    return {"mode": "find", "patient_mrn": mrn, "profile": "iv_ketamine", "weight": "72.5",
            "mg_per_kg": 0.75, "minutes": 50, "bag": "250", "lot": "L1", "escort": "Sam Moss"}


def test_a_drafts_values_show_at_once_and_its_patient_when_found(qtbot, opened, ada):
    screen, gated = opened("protocol_for", "find_patient")
    dose, who = screen.dose_card, screen.patient_card
    screen.restore_draft(draft(ada.mrn))
    assert gated.entered.wait(WAIT_S)
    # What was typed is there at once; the patient and the protocol are still to come.
    assert (dose.weight.text(), dose.bag.text(), dose.lot.text(), screen.escort.text()) == (
        "72.5", "250", "L1", "Sam Moss")
    assert who.selected_patient() is None
    assert who.no_results.text() == f"Finding {ada.mrn}…"
    assert not screen.submit_button.isEnabled()
    qtbot.keyClicks(screen.escort, " Jr")
    timer_fires(qtbot)
    assert screen.escort.text() == "Sam Moss Jr"
    assert gated.calls["find_patient"] == 0, "the patient is read after the protocol"
    gated.release()
    qtbot.waitUntil(lambda: not who.finding and dose.protocol() is not None, timeout=WAIT_MS)
    assert who.selected_patient() == ada
    assert "Ada Byrne" in who.selected.text()
    assert who.no_results.isHidden()
    # The draft's weight stays (the patient's 70 kg on file does not replace it), and its
    # dose and time are chosen once the protocol came.
    assert dose.weight.text() == "72.5"
    assert (dose.mg_per_kg.value(), dose.minutes.value()) == (0.75, 50)
    assert screen.submit_button.isEnabled()


def test_a_drafts_patient_the_server_cannot_find_is_said_and_the_draft_kept(
        qtbot, opened, ada):
    screen, gated = opened()
    loaded(qtbot, screen)
    gated.stall("find_patient")
    screen.restore_draft(draft(ada.mrn))
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=StoreUnavailableError("unreachable", UNREACHABLE))
    qtbot.waitUntil(lambda: not screen.patient_card.finding, timeout=WAIT_MS)
    assert screen.patient_card.no_results.text() == UNREACHABLE
    assert screen.patient_card.selected_patient() is None
    assert screen.dose_card.weight.text() == "72.5"
    assert screen.escort.text() == "Sam Moss"


def test_a_form_left_untouched_while_the_protocol_loaded_is_still_blank(qtbot, opened):
    screen, gated = opened("protocol_for")
    assert gated.entered.wait(WAIT_S)
    gated.release()
    loaded(qtbot, screen)
    # The protocol's defaults filled in after the form opened are not the nurse's: no draft.
    assert screen.draft_state() == screen.blank_state()
    screen.dose_card.weight.setText("70")
    assert screen.draft_state() != screen.blank_state()
