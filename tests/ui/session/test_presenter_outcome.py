"""When the link drops around COMMIT, the presenter asks the server whether the entry's id
is stored and says Saved, NOT saved, or not known, never "Nothing was recorded" unless the
server said so; the entry keeps its id, so a retry is stored once."""

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from monitor.clinical.domain import EventKind
from monitor.service.clinic import ClinicService
from monitor.storage import queries
from monitor.storage.store import StoreUnavailableError
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.commit_fault import lose_link_at_next_commit
from ui.session.presenter import SessionPresenter


@pytest.fixture
def presenter(sqlite_store, clock):
    service = ClinicService(sqlite_store, clock, secret=TEST_SECRET)
    staff = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    patient = service.add_patient("MRN1", by=staff, name="Ada Byrne",
                                  date_of_birth=date(1980, 1, 1), weight_kg=70)
    return SessionPresenter(service, clock, service.start_session(patient.id, by=staff,
                                                                  chair="1"), staff)


def server_unreachable(monkeypatch, presenter) -> None:
    def stored(kind, record_id):
        raise StoreUnavailableError("unreachable", "Could not read: unreachable.")

    monkeypatch.setattr(presenter.service, "stored", stored)


def count(presenter, table, **where) -> int:
    with presenter.service.store.read() as db:
        return db.scalar(select(func.count()).select_from(table).where(
            *(table.c[name] == value for name, value in where.items())))


def test_a_reading_stored_before_the_link_dropped_is_saved(qtbot, presenter, monkeypatch):
    presenter.refresh()
    lose_link_at_next_commit(monkeypatch, after_commit=True)
    failures = []
    presenter.notSaved.connect(failures.append)
    presenter.saveUnknown.connect(failures.append)
    rid = uuid.uuid4()
    with qtbot.waitSignal(presenter.saved) as blocker:
        assert presenter.save_reading({"hr": "72"}, reading_id=rid, label="vitals")
    assert blocker.args[0].startswith("Saved vitals")
    assert failures == []
    assert presenter.last_refusal == ""
    assert [r.id for r in presenter.view.record.readings] == [rid]  # loaded again
    assert presenter.can_undo()


def test_a_reading_the_server_does_not_have_is_not_saved_and_its_retry_stores_it_once(
        qtbot, presenter, monkeypatch):
    lose_link_at_next_commit(monkeypatch, after_commit=False)
    rid = uuid.uuid4()
    with qtbot.waitSignal(presenter.notSaved) as blocker:
        assert not presenter.save_reading({"hr": "72"}, reading_id=rid)
    assert blocker.args[0].startswith("NOT saved")
    assert "no record" in blocker.args[0]
    assert count(presenter, queries.READINGS) == 0
    with qtbot.waitSignal(presenter.saved):
        assert presenter.save_reading({"hr": "72"}, reading_id=rid)
    assert count(presenter, queries.READINGS, id=rid) == 1


def test_while_the_server_cannot_be_asked_the_save_is_not_known_and_a_retry_is_stored_once(
        qtbot, presenter, monkeypatch):
    lose_link_at_next_commit(monkeypatch, after_commit=True)
    server_unreachable(monkeypatch, presenter)
    said_not_saved = []
    presenter.notSaved.connect(said_not_saved.append)
    rid = uuid.uuid4()
    with qtbot.waitSignal(presenter.saveUnknown) as blocker:
        assert not presenter.save_reading({"hr": "72"}, reading_id=rid)
    assert blocker.args[0].startswith("Not known whether saved")
    assert "will not record it twice" in blocker.args[0]
    assert said_not_saved == []
    assert "Nothing was recorded" not in presenter.last_refusal
    monkeypatch.undo()  # the server is back
    with qtbot.waitSignal(presenter.saved):
        assert presenter.save_reading({"hr": "72"}, reading_id=rid)
    assert count(presenter, queries.READINGS) == 1


def test_an_event_of_unknown_outcome_keeps_its_id_and_its_retry_is_stored_once(
        qtbot, presenter, monkeypatch):
    lose_link_at_next_commit(monkeypatch, after_commit=True)
    server_unreachable(monkeypatch, presenter)
    with qtbot.waitSignal(presenter.saveUnknown):
        assert not presenter.record_event(EventKind.NOTE, detail="restless")
    monkeypatch.undo()
    with qtbot.waitSignal(presenter.saved) as blocker:
        assert presenter.record_event(EventKind.NOTE, detail="restless")
    assert blocker.args[0].startswith("Saved note")
    assert count(presenter, queries.EVENTS, kind="note") == 1
    # Saved: the same words again are a new note.
    assert presenter.record_event(EventKind.NOTE, detail="restless")
    assert count(presenter, queries.EVENTS, kind="note") == 2


def test_an_event_stored_before_the_link_dropped_is_saved_once(qtbot, presenter, monkeypatch):
    lose_link_at_next_commit(monkeypatch, after_commit=True)
    with qtbot.waitSignal(presenter.saved) as blocker:
        assert presenter.record_event(EventKind.NOTE, detail="restless")
    assert blocker.args[0].startswith("Saved note")
    assert count(presenter, queries.EVENTS, kind="note") == 1
    assert presenter.can_undo()
