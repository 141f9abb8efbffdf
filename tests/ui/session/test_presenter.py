"""SessionPresenter turns service outcomes into signals: Saved only after the commit,
refusals with fields, NOT saved on environment failures, undo as a recorded void."""

from datetime import date, timedelta

import pytest

from monitor.clinical.domain import EventKind, Phase, Severity, clock_time
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.counting import counted
from ui.session.presenter import UNDO_WINDOW_S, SessionPresenter

MIN = timedelta(minutes=1)


@pytest.fixture
def local_service(sqlite_store, clock):
    return ClinicService(sqlite_store, clock, secret=TEST_SECRET)


@pytest.fixture
def session(local_service, clock):
    staff = local_service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = local_service.add_patient("MRN1", by=staff, name="Ada Byrne",
                                        date_of_birth=date(1980, 1, 1), weight_kg=70)
    return local_service.start_session(patient.id, by=staff, chair="1"), staff


@pytest.fixture
def presenter(local_service, clock, session):
    session_id, staff = session
    return SessionPresenter(local_service, clock, session_id, staff)


def test_saved_is_announced_after_the_commit_with_the_new_view(qtbot, presenter):
    views = []
    presenter.viewChanged.connect(views.append)
    with qtbot.waitSignal(presenter.saved) as blocker:
        assert presenter.save_reading({"sbp": "128", "dbp": "78", "hr": "72"}, label="vitals")
    assert blocker.args[0].startswith("Saved vitals")
    assert views[-1].record.readings[-1].sbp == 128


def test_a_saved_reading_is_evaluated_once_and_not_loaded_again(qtbot, presenter, clock,
                                                                  monkeypatch):
    """The screen shows the view the save gave back: per save, the readings' rules run
    once and the session is evaluated once, and the view is the one a load would give."""
    service = presenter.service
    presenter.refresh()
    views = []
    presenter.viewChanged.connect(views.append)
    with counted(service, monkeypatch) as calls:
        for hr in ("72", "130", "74", "150"):
            clock.advance(MIN)
            calls.clear()
            assert presenter.save_reading({"hr": hr}, confirmed=("hr",))
            assert sorted(calls) == ["readings", "view"]
            assert views[-1] is presenter.view
            assert presenter.view.record.readings[-1].hr == int(hr)
    fresh = ClinicService(service.store, clock, secret=TEST_SECRET)
    assert presenter.view == fresh.load(presenter.session_id, clock.now())


def test_a_refusal_names_the_fields(qtbot, presenter):
    with qtbot.waitSignal(presenter.refused) as blocker:
        assert not presenter.save_reading({"hr": "300"})
    errors, confirm = blocker.args
    assert [e.field for e in errors] == ["hr"]
    assert confirm == []


def test_an_implausible_value_asks_for_confirmation(qtbot, presenter):
    with qtbot.waitSignal(presenter.refused) as blocker:
        presenter.save_reading({"sbp": "230", "dbp": "100"})
    assert [e.field for e in blocker.args[1]] == ["sbp"]


def test_a_read_only_database_is_reported_as_not_saved(qtbot, sqlite_url, session, clock):
    session_id, staff = session
    path = sqlite_url.removeprefix("sqlite:///")
    read_only = open_store(f"sqlite:///file:{path}?mode=ro&uri=true", migrate_schema=False)
    try:
        presenter = SessionPresenter(ClinicService(read_only, clock, secret=TEST_SECRET), clock,
                                     session_id, staff)
        with qtbot.waitSignal(presenter.notSaved) as blocker:
            assert not presenter.save_reading({"hr": "72"})
        assert blocker.args[0].startswith("NOT saved")
    finally:
        read_only.close()


def test_new_flags_are_announced(qtbot, presenter):
    presenter.save_reading({"sbp": "128", "dbp": "78"})
    with qtbot.waitSignal(presenter.flagsRaised) as blocker:
        presenter.save_reading({"spo2": "90"})
    assert [f.severity for f in blocker.args[0]] == [Severity.CRITICAL]


def test_undo_voids_the_last_entry_within_the_window(qtbot, presenter, clock):
    presenter.save_reading({"hr": "72"}, label="HR")
    presenter.record_event(EventKind.NOTE, detail="restless")
    assert presenter.undo_last()
    assert presenter.view.record.events == ()
    assert presenter.view.corrections[-1].reason.startswith("Undone at the chair")
    presenter.save_reading({"hr": "74"})
    clock.advance(timedelta(seconds=UNDO_WINDOW_S + 1))
    assert not presenter.undo_last()
    assert [r.hr for r in presenter.view.record.readings] == [72, 74]


def test_acknowledge_and_discharge_go_through_the_service(qtbot, presenter):
    presenter.save_reading({"spo2": "90"})
    (flag,) = presenter.view.flags
    with qtbot.waitSignal(presenter.signatureNeeded):  # SpO2 90 %: critical, signed
        assert not presenter.acknowledge(flag, "Repeated reading")
    assert presenter.acknowledge(flag, "Repeated reading", pin=TEST_PIN)
    assert presenter.view.flags[0].acknowledged
    with qtbot.waitSignal(presenter.refused) as blocker:
        assert not presenter.sign_discharge(TEST_PIN)
    assert "min_observation" in {e.field for e in blocker.args[0]}


@pytest.mark.parametrize("sign_off", ["signed", "overridden"])
def test_no_undo_is_offered_once_the_discharge_is_signed_off(qtbot, service, clock, nurse,
                                                            clinician, sign_off):
    from tests.ui.session.test_discharge_panel import recovering_session  # noqa: PLC0415

    session_id = recovering_session(service, clock, nurse, attested=False)
    presenter = SessionPresenter(service, clock, session_id, nurse)
    presenter.refresh()
    offers = []
    presenter.undoAvailable.connect(offers.append)
    presenter.record_event(EventKind.ORIENTED_STEADY_GAIT)
    presenter.record_event(EventKind.ESCORT_PRESENT)
    assert presenter.can_undo()
    assert offers[-1] == "escort present"
    if sign_off == "signed":
        assert presenter.sign_discharge(TEST_PIN), presenter.last_refusal
    else:
        presenter.set_staff(clinician)
        presenter.record_event(EventKind.NOTE, detail="seen by clinician")
        assert presenter.can_undo()
        assert presenter.override_discharge("Clinician reviewed at bedside", TEST_PIN), \
            presenter.last_refusal
    assert presenter.view.phase is Phase.DISCHARGED
    assert offers[-1] == ""
    assert not presenter.can_undo()
    assert not presenter.undo_last()
    clock.advance(timedelta(seconds=10))
    presenter.refresh()
    assert offers[-1] == ""
    assert presenter.view.phase is Phase.DISCHARGED
    assert not presenter.view.corrections


def test_the_signed_acknowledgement_names_the_latest_worse_value(qtbot, presenter, clock):
    presenter.save_reading({"spo2": "90"})
    clock.advance(timedelta(minutes=5))
    presenter.save_reading({"spo2": "88"})
    (flag,) = presenter.view.open_flags
    assert "latest 88 %" in flag.shown_message
    with qtbot.waitSignal(presenter.signatureNeeded) as blocker:
        assert not presenter.acknowledge(flag, "Oxygen given")
    meaning = blocker.args[0].meaning
    assert flag.message in meaning
    assert f"— latest 88 % at {clock_time(clock.now())}" in meaning
