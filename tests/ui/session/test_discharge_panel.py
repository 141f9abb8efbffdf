"""The discharge panel on real sessions: each criterion with icon, word and reason, the
attestations, the scores, sign-off only when ready, the override's written reason, and the
discharged state with the clinic's instructions."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.discharge import CRITERIA
from monitor.clinical.domain import EventKind, Phase
from monitor.clinical.protocol import load_protocol
from monitor.clinical.wording import criterion_name
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from tests.conftest import TEST_PIN
from tests.ui.sessions import host
from tests.ui.touch import small_touch_targets
from ui.common.style import apply_theme
from ui.common.theme import DIM, LIGHT
from ui.session.discharge import DischargePanel, load_instructions

MIN = timedelta(minutes=1)
BASELINE = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98", "cadss6": "0",
            "moaas": "5", "nausea": "0"}
RECOVERED = {"sbp": "132", "dbp": "80", "hr": "74", "spo2": "97", "cadss6": "1",
             "moaas": "5", "nausea": "1"}


def recovering_session(service: ClinicService, clock: ManualClock, nurse, *,
                       attested: bool = True):
    """Baseline, a 40-minute infusion, a calm reading 5 min after the stop and (unless told
    otherwise) both attestations; the clock ends 36 min after the stop, so the 30-minute
    minimum stay has passed."""
    patient = service.add_patient("MRN-004211", by=nurse, name="Ada Byrne",
                                  date_of_birth=date(1980, 4, 2), weight_kg=70)
    session_id = service.start_session(patient.id, by=nurse, chair="2", escort_name="Sam")
    service.record_reading(session_id, BASELINE, by=nurse)
    clock.advance(2 * MIN)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    for _ in range(4):
        clock.advance(10 * MIN)
        service.record_reading(session_id, {"sbp": "140", "dbp": "86", "hr": "80",
                                            "spo2": "97"}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_STOP, by=nurse)
    clock.advance(5 * MIN)
    service.record_reading(session_id, RECOVERED, by=nurse)
    if attested:
        clock.advance(MIN)
        service.record_event(session_id, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
        service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    clock.advance(10 * MIN)
    service.record_reading(session_id, RECOVERED, by=nurse)
    clock.advance(20 * MIN)
    return session_id


@pytest.fixture(params=[DIM, LIGHT], ids=["dim", "light"])
def panel(qtbot, request):
    widget = DischargePanel(request.param)
    window = host(qtbot, widget, 640, 800)
    apply_theme(window, request.param)
    # The window owns the widget, so it is held (and closed) around the test.
    yield widget
    window.close()


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_each_criterion_shows_icon_word_readable_name_and_reason(qtbot, panel, service, clock,
                                                                 nurse):
    session_id = recovering_session(service, clock, nurse, attested=False)
    view = service.load(session_id)
    panel.show_view(view)
    shown = panel.criterion_texts()
    assert list(shown) == list(CRITERIA)
    assert shown["min_observation"][:2] == ("Met", "Observed 30 min after infusion")
    assert shown["vitals_near_baseline"][1] == "BP and HR within 20 % of baseline"
    assert shown["sedation"][1] == "MOAA/S 5"
    assert shown["dissociation"][1].startswith("CADSS-6 back to baseline")
    assert shown["orientation_gait"][:2] == ("Not met", "Oriented ×3, steady gait")
    assert shown["escort"][:2] == ("Not met", "Escort present")
    by_id = {c.id: c for c in view.discharge.criteria}
    assert shown["escort"][2] == by_id["escort"].detail
    for row in panel.rows.values():
        assert not row.icon.pixmap().isNull()
    assert panel.status.text() == "Not ready: 2 of 9 criteria not met"


def test_sign_is_disabled_until_ready_and_then_emits(qtbot, panel, service, clock, nurse):
    session_id = recovering_session(service, clock, nurse, attested=False)
    panel.show_view(service.load(session_id))
    assert not panel.sign_button.isEnabled()
    with qtbot.assertNotEmitted(panel.signRequested):
        click(qtbot, panel.sign_button)
    service.record_event(session_id, EventKind.ORIENTED_STEADY_GAIT, by=nurse)
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    panel.show_view(service.load(session_id))
    assert panel.sign_button.isEnabled()
    assert panel.status.text() == "Ready for discharge: every criterion is met"
    with qtbot.waitSignal(panel.signRequested):
        click(qtbot, panel.sign_button)


def test_sign_stays_disabled_before_the_minimum_stay(qtbot, panel, service, clock, nurse):
    session_id = recovering_session(service, clock, nurse)
    early = service.load(session_id, clock.now() - 20 * MIN)
    panel.show_view(early)
    assert not early.discharge.ready
    assert not panel.sign_button.isEnabled()
    assert panel.criterion_texts()["min_observation"][0] == "Not met"
    assert panel.would_have_been_ready.text().startswith(
        "Would have been ready without the minimum stay: ")
    assert not panel.would_have_been_ready.text().endswith("not yet")


def test_attestations_emit_their_kinds_and_show_as_done(qtbot, panel, service, clock, nurse):
    session_id = recovering_session(service, clock, nurse, attested=False)
    panel.show_view(service.load(session_id))
    gait = panel.attest_buttons[EventKind.ORIENTED_STEADY_GAIT]
    escort = panel.attest_buttons[EventKind.ESCORT_PRESENT]
    with qtbot.waitSignal(panel.attestRequested) as blocker:
        click(qtbot, gait)
    assert blocker.args == [EventKind.ORIENTED_STEADY_GAIT]
    with qtbot.waitSignal(panel.attestRequested) as blocker:
        click(qtbot, escort)
    assert blocker.args == [EventKind.ESCORT_PRESENT]
    service.record_event(session_id, EventKind.ESCORT_PRESENT, by=nurse)
    panel.show_view(service.load(session_id))
    assert not escort.isEnabled()
    assert panel.attest_notes[EventKind.ESCORT_PRESENT].text().startswith("Done ")
    assert gait.isEnabled()
    assert panel.attest_notes[EventKind.ORIENTED_STEADY_GAIT].text() == "Not attested yet"


def test_scores_show_totals_and_items(panel, service, clock, nurse):
    view = service.load(recovering_session(service, clock, nurse))
    panel.show_view(view)
    aldrete = view.discharge.aldrete
    assert panel.scores["aldrete"].text() == (
        f"Modified Aldrete: {aldrete.total} of 10 — passed (≥ 9 needed)")
    assert panel.scores["padss"].text().startswith("Adapted PADSS: ")
    assert "activity: 2 of 2 — steady gait attested" in panel.score_items["aldrete"].text()
    assert panel.score_items["padss"].text().count("\n") == 3


def test_a_missing_pain_score_leaves_padss_incomplete_not_full(panel, service, clock, nurse):
    view = service.load(recovering_session(service, clock, nurse))  # no pain score taken
    panel.show_view(view)
    padss = view.discharge.padss
    assert panel.scores["padss"].text() == (
        f"Adapted PADSS: {padss.total} of 8 — incomplete: pain not assessed (≥ 7 needed)")
    assert ("pain: not assessed — no pain score since infusion stop"
            in panel.score_items["padss"].text().splitlines())


def test_the_override_needs_a_written_reason(qtbot, panel, service, clock, nurse):
    panel.show_view(service.load(recovering_session(service, clock, nurse, attested=False)))
    panel.allow_override(True)
    click(qtbot, panel.override_button)
    dialog = panel.override_dialog
    qtbot.waitUntil(dialog.isVisible)
    assert not dialog.confirm.isEnabled()
    qtbot.keyClicks(dialog.text, "too short")
    assert not dialog.confirm.isEnabled()
    assert "at least 10" in dialog.count.text()
    dialog.text.setPlainText("Escort arrived late; clinician saw patient")
    assert dialog.confirm.isEnabled()
    with qtbot.waitSignal(panel.overrideRequested) as blocker:
        click(qtbot, dialog.confirm)
    assert blocker.args == ["Escort arrived late; clinician saw patient"]


def test_the_override_dialog_lists_the_criteria_not_met(qtbot, panel, service, clock, nurse):
    view = service.load(recovering_session(service, clock, nurse, attested=False))
    unmet = [c for c in view.discharge.criteria if not c.met]
    assert "escort" in {c.id for c in unmet}
    panel.show_view(view)
    panel.allow_override(True)
    click(qtbot, panel.override_button)
    dialog = panel.override_dialog
    qtbot.waitUntil(dialog.isVisible)
    lines = dialog.unmet.text().splitlines()
    assert lines[0] == "Not met:"
    assert lines[1:] == [f"• {criterion_name(c.id, view.protocol)}: {c.detail}" for c in unmet]
    assert dialog.unmet.isVisible()
    click(qtbot, dialog.cancel)


def test_a_cancelled_override_emits_nothing(qtbot, panel, service, clock, nurse):
    panel.show_view(service.load(recovering_session(service, clock, nurse)))
    panel.allow_override(True)
    click(qtbot, panel.override_button)
    panel.override_dialog.text.setPlainText("A reason long enough")
    with qtbot.assertNotEmitted(panel.overrideRequested):
        click(qtbot, panel.override_dialog.cancel)
    assert not panel.override_dialog.isVisible()


def test_once_signed_it_shows_when_and_the_instructions(panel, service, clock, nurse):
    session_id = recovering_session(service, clock, nurse)
    service.sign_discharge(session_id, by=nurse, pin=TEST_PIN)
    view = service.load(session_id)
    assert view.phase is Phase.DISCHARGED
    panel.show_view(view, discharged_by="Nora Nurse")
    assert panel.discharged_box.isVisibleTo(panel)
    assert panel.discharged.text().startswith("Signed off ")
    assert "by Nora Nurse" in panel.discharged.text()
    assert panel.instructions.text().startswith("No driving, operating machinery or important "
                                                "decisions for 24 hours")
    assert not panel.action_bar.isVisibleTo(panel)
    assert not any(b.isEnabled() for b in panel.attest_buttons.values())


def test_an_override_discharge_shows_its_reason(panel, service, clock, nurse):
    session_id = recovering_session(service, clock, nurse, attested=False)
    clinician = service.ensure_staff("Dr Lee", "clinician", pin="739104")
    service.override_discharge(session_id, reason="Clinician reviewed at bedside", by=clinician,
                               pin="739104")
    panel.show_view(service.load(session_id))
    assert "(clinician override)" in panel.status.text()
    assert panel.discharged.text().endswith("Reason: Clinician reviewed at bedside")


def test_the_instructions_come_from_the_editable_resource(tmp_path, qtbot):
    path = tmp_path / "instructions.txt"
    path.write_text("Clinic wording.\n", encoding="utf-8")
    assert load_instructions(path) == "Clinic wording."
    widget = DischargePanel(DIM, instructions=load_instructions(path))
    qtbot.addWidget(widget)
    assert widget.instructions.text() == "Clinic wording."


def test_the_rems_profile_names_its_two_hours_from_the_dose():
    assert criterion_name("min_observation", load_protocol("esketamine_rems")) == \
        "Observed 2 h from the dose"
    assert criterion_name("something_new", load_protocol("iv_ketamine")) == "Something new"


@pytest.mark.parametrize("size", [(1280, 800), (800, 1280)], ids=["landscape", "portrait"])
def test_every_visible_button_is_at_least_48_px(qtbot, panel, service, clock, nurse, size):
    panel.show_view(service.load(recovering_session(service, clock, nurse, attested=False)))
    panel.window().resize(*size)
    panel.setGeometry(0, 0, *size)
    qtbot.waitUntil(lambda: panel.width() == size[0])
    assert small_touch_targets(panel) == []
