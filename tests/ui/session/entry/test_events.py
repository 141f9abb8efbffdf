"""The event form: a medication, an adverse event or a note."""


from monitor.clinical.domain import EventKind
from tests.ui.session.entry.forms import MEDICATIONS, save, save_refused, show, tap
from ui.common.theme import DIM
from ui.session.entry import EventEntry

# -- events ----------------------------------------------------------------------------------


def test_medication_is_chosen_from_the_protocol_list(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    tap(qtbot, form.kind().button(EventKind.MEDICATION.value))
    assert form.medication_button(0).text() == "Ondansetron 4 mg IV"
    save_refused(qtbot, form)
    assert "medication" in form.message_for("medication")
    tap(qtbot, form.medication_button(1))
    raw, _when, _confirmed = save(qtbot, form)
    assert raw["kind"] == EventKind.MEDICATION
    assert raw["medication"] == MEDICATIONS[1]


def test_other_adverse_event_needs_a_note(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    tap(qtbot, form.kind().button(EventKind.ADVERSE_EVENT.value))
    assert not form.medication_button(0).isVisible()
    tap(qtbot, form.adverse_button("other"))
    save_refused(qtbot, form)
    assert "note" in form.message_for("note").lower()
    qtbot.keyClicks(form.note_field(), "tingling lips")
    raw, _when, _confirmed = save(qtbot, form)
    assert (raw["adverse_event"], raw["note"]) == ("other", "tingling lips")


def test_headache_needs_no_note(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    tap(qtbot, form.kind().button(EventKind.ADVERSE_EVENT.value))
    tap(qtbot, form.adverse_button("headache"))
    raw, _when, _confirmed = save(qtbot, form)
    assert raw == {"kind": "adverse_event", "medication": None, "adverse_event": "headache",
                   "note": ""}


def test_an_event_kind_must_be_chosen(qtbot, clock):
    form = show(qtbot, EventEntry(DIM, clock, MEDICATIONS))
    save_refused(qtbot, form)
    assert "Choose what happened" in form.message_for("kind")
