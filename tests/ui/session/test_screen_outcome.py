"""The session screen after the link dropped around COMMIT: the vitals form keeps what was
typed and says whether it is saved only as the server answered; Retry stores it once."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from monitor.storage import queries
from monitor.storage.store import StoreUnavailableError
from tests.support.commit_fault import lose_link_at_next_commit
from tests.ui.session.entry.forms import enter_value, save, tap
from tests.ui.sessions import host, patient_session
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen


@pytest.fixture
def screen(qtbot, service, clock, nurse):
    presenter = SessionPresenter(service, clock, patient_session(service, nurse), nurse)
    shown = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, shown, 1280, 800)
    presenter.refresh()
    yield shown
    window.close()


def readings(service) -> int:
    with service.store.read() as db:
        return db.scalar(select(func.count()).select_from(queries.READINGS))


def test_a_save_of_unknown_outcome_keeps_the_values_and_retry_stores_them_once(
        qtbot, screen, service, monkeypatch):
    vitals = screen.vitals
    lose_link_at_next_commit(monkeypatch, after_commit=True)

    def unreachable(kind, record_id):
        raise StoreUnavailableError("unreachable", "Could not read: unreachable.")

    monkeypatch.setattr(service, "stored", unreachable)
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    assert vitals.banner_text().startswith("Not known whether saved")
    assert "NOT saved" not in vitals.banner_text()
    assert vitals.field("hr").text() == "72"
    monkeypatch.undo()  # the server is back
    retry = vitals.retry_button()
    assert retry.isVisible()
    tap(qtbot, retry)
    assert vitals.banner_text().startswith("Saved vitals")
    assert readings(service) == 1


def test_a_save_stored_before_the_link_dropped_shows_saved(qtbot, screen, service,
                                                           monkeypatch):
    vitals = screen.vitals
    lose_link_at_next_commit(monkeypatch, after_commit=True)
    enter_value(qtbot, vitals, "hr", "72")
    save(qtbot, vitals)
    assert vitals.banner_text().startswith("Saved vitals")
    assert readings(service) == 1
