"""With the database worker on its own thread, a server that stops answering never freezes
the chair: Save returns at once and says "Saving…", a second tap sends nothing twice, the
event loop runs on, the countdown turns OVERDUE on the tablet's clock, and the outcome is
shown as the server gives it when it comes. A server that hangs for good is cut by the tablet's
deadline and the entry held on the tablet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import QTimer
from sqlalchemy import func, make_url, select

from monitor.clinical.domain import EventKind
from monitor.service.clinic import ClinicService
from monitor.service.tablet import TabletService
from monitor.service.worker import ThreadWorker
from monitor.storage import queries
from monitor.storage.outbox import Outbox
from monitor.storage.store import StoreUnavailableError, open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.support.pgserver import private_server, require_private_server
from tests.support.stall import WAIT_S, StalledService
from tests.support.tcpproxy import FaultyProxy
from tests.ui.session.entry.forms import enter_value, save, tap
from tests.ui.sessions import host, patient_session
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter
from ui.session.screen import SessionScreen

#: The deadline on a hung server here: seconds without an answer before a call is cut.
HUNG_NO_ANSWER_S = 1.0
HELD_ONE = "Saved on this tablet — not yet on the server (1)"
BASELINE = {"sbp": "120", "dbp": "80", "hr": "72", "spo2": "98", "rr": "14",
            "cadss6": "0", "moaas": "5"}


@pytest.fixture
def worker():
    worker = ThreadWorker()
    yield worker
    worker.close(WAIT_S)


@pytest.fixture
def stalled(service, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, BASELINE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    return StalledService(service), session_id


@pytest.fixture
def screen(qtbot, stalled, clock, nurse, worker):
    gated, session_id = stalled
    presenter = SessionPresenter(gated, clock, session_id, nurse, worker=worker)
    shown = SessionScreen(DIM, clock, presenter, ())
    window = host(qtbot, shown, 1280, 800)
    presenter.refresh()
    qtbot.waitUntil(lambda: presenter.view is not None, timeout=int(WAIT_S * 1000))
    yield shown
    gated.release()  # nothing stays held when the test ends
    qtbot.waitUntil(lambda: presenter.pending == 0 and not presenter._loading,
                    timeout=int(WAIT_S * 1000))
    window.close()


def readings(service) -> int:
    with service.store.read() as db:
        return db.scalar(select(func.count()).select_from(queries.READINGS))


def event_loop_runs(qtbot) -> None:
    """A timer fires: the GUI thread is free."""
    timer = QTimer()
    timer.setSingleShot(True)
    with qtbot.waitSignal(timer.timeout, timeout=int(WAIT_S * 1000)):
        timer.start(0)


def test_save_returns_at_once_the_countdown_turns_overdue_and_saved_comes_after(
        qtbot, screen, stalled, service, clock):
    gated, _ = stalled
    presenter, vitals = screen.presenter, screen.vitals
    gated.stall("record_reading")
    enter_value(qtbot, vitals, "hr", "88")
    save(qtbot, vitals)  # returns while the server holds the save
    assert gated.entered.wait(WAIT_S)
    assert not gated.opened.is_set()
    assert vitals.banner_text() == "Saving…"
    assert presenter.pending == 1
    # A second tap of Save (and the keypad's Enter) sends nothing twice.
    with qtbot.assertNotEmitted(vitals.submitted):
        tap(qtbot, vitals.save_button())
        vitals.save()
    event_loop_runs(qtbot)
    # The tick moves the countdown on from the tablet's clock while the save is held.
    clock.advance(timedelta(minutes=30))
    presenter.retime()
    assert "OVERDUE" in screen.header.due.text()
    assert vitals.banner_text() == "Saving…"
    assert readings(service) == 1
    with qtbot.waitSignal(presenter.saved, timeout=int(WAIT_S * 1000)):
        gated.release()
    assert vitals.banner_text().startswith("Saved vitals")
    assert vitals.save_button().isEnabled()
    assert gated.calls["record_reading"] == 1
    assert readings(service) == 2
    assert gated.threads == {"chairside-database"}


def test_while_a_save_is_held_the_last_saved_line_is_said_as_the_earlier_entry(
        qtbot, screen, stalled):
    gated, _ = stalled
    presenter, vitals, header = screen.presenter, screen.vitals, screen.header
    enter_value(qtbot, vitals, "hr", "80")
    with qtbot.waitSignal(presenter.saved, timeout=int(WAIT_S * 1000)) as first:
        save(qtbot, vitals)
    assert header.notice_text() == f"✓ {first.args[0]}"
    gated.stall("record_reading")
    enter_value(qtbot, vitals, "hr", "88")
    save(qtbot, vitals)
    assert gated.entered.wait(WAIT_S)
    assert vitals.banner_text() == "Saving…"
    assert header.notice_text() == f"Earlier: {first.args[0]}"
    assert "✓" not in header.notice_text()
    with qtbot.waitSignal(presenter.saved, timeout=int(WAIT_S * 1000)) as second:
        gated.release()
    assert header.notice_text() == f"✓ {second.args[0]}"


def test_a_server_that_then_refuses_shows_not_saved_and_keeps_the_values(
        qtbot, screen, stalled, service):
    gated, _ = stalled
    presenter, vitals = screen.presenter, screen.vitals
    gated.stall("record_reading")
    enter_value(qtbot, vitals, "hr", "88")
    save(qtbot, vitals)
    assert gated.entered.wait(WAIT_S)
    assert vitals.banner_text() == "Saving…"
    with qtbot.waitSignal(presenter.notSaved, timeout=int(WAIT_S * 1000)):
        gated.release(StoreUnavailableError("unreachable", "The server does not answer."))
    assert vitals.banner_text().startswith("NOT saved")
    assert vitals.field("hr").text() == "88"
    assert readings(service) == 1
    # Retry, the server back, stores the entry once under the id it was first sent with.
    gated.stall()
    gated.release()
    with qtbot.waitSignal(presenter.saved, timeout=int(WAIT_S * 1000)):
        tap(qtbot, vitals.retry_button())
    assert vitals.banner_text().startswith("Saved vitals")
    assert readings(service) == 2


def test_an_answer_goes_to_its_own_form_whatever_was_tapped_meanwhile(
        qtbot, screen, stalled, service):
    gated, _ = stalled
    presenter, vitals = screen.presenter, screen.vitals
    gated.stall("record_reading")
    enter_value(qtbot, vitals, "hr", "88")
    save(qtbot, vitals)
    assert gated.entered.wait(WAIT_S)
    # Another action is tapped while the save is held: it waits its turn on the worker.
    screen._record_event(EventKind.INFUSION_PAUSE, label="infusion pause")
    assert presenter.pending == 2
    answers: list[str] = []
    presenter.saved.connect(answers.append)
    gated.release()
    qtbot.waitUntil(lambda: len(answers) == 2, timeout=int(WAIT_S * 1000))
    assert answers[0].startswith("Saved vitals")
    assert answers[1].startswith("Saved infusion pause")
    assert vitals.banner_text().startswith("Saved vitals")  # not left "Saving…"
    assert "Saved infusion pause" in screen.header.notice_text()


def test_a_reload_in_flight_is_not_sent_again_and_the_next_one_follows_it(
        qtbot, screen, stalled):
    gated, _ = stalled
    presenter = screen.presenter
    gated.stall("load")
    presenter.refresh()
    assert gated.entered.wait(WAIT_S)
    presenter.refresh()
    presenter.refresh()
    assert gated.calls["load"] == 1
    views: list[object] = []
    presenter.viewChanged.connect(views.append)
    gated.release()
    qtbot.waitUntil(lambda: gated.calls["load"] == 2 and not presenter._loading,
                    timeout=int(WAIT_S * 1000))
    assert len(views) == 2


@pytest.mark.postgres
def test_on_postgresql_a_save_through_a_stalled_link_leaves_the_screen_free(
        qtbot, pg_url, clock):
    """The same through a real server, the link held by a TCP proxy (the server runs on)."""
    target = make_url(pg_url)
    with FaultyProxy(target.port or 5432, target.host or "127.0.0.1") as proxy:
        store = open_store(target.set(port=proxy.port).render_as_string(hide_password=False))
        worker = ThreadWorker()
        try:
            service = ClinicService(store, clock, secret=TEST_SECRET)
            nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
            session_id = patient_session(service, nurse)
            service.record_reading(session_id, BASELINE, by=nurse)
            service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
            presenter = SessionPresenter(service, clock, session_id, nurse, worker=worker)
            screen = SessionScreen(DIM, clock, presenter, ())
            window = host(qtbot, screen, 1280, 800)
            presenter.refresh()
            qtbot.waitUntil(lambda: presenter.view is not None, timeout=int(WAIT_S * 1000))
            proxy.stall()
            enter_value(qtbot, screen.vitals, "hr", "88")
            save(qtbot, screen.vitals)  # returns while the link holds every byte
            assert screen.vitals.banner_text() == "Saving…"
            event_loop_runs(qtbot)
            clock.advance(timedelta(minutes=30))
            presenter.retime()
            assert "OVERDUE" in screen.header.due.text()
            assert presenter.pending == 1  # nothing came back through the held link
            with qtbot.waitSignal(presenter.saved, timeout=int(WAIT_S * 1000)):
                proxy.pass_through()
            assert screen.vitals.banner_text().startswith("Saved vitals")
            assert readings(service) == 2
            qtbot.waitUntil(lambda: presenter.pending == 0 and not presenter._loading,
                            timeout=int(WAIT_S * 1000))
            window.close()
        finally:
            proxy.pass_through()
            worker.close(WAIT_S)
            store.close()


def test_on_a_hung_server_a_save_is_cut_by_the_deadline_and_held_on_the_tablet(
        qtbot, clock, tmp_path):
    """The server's processes stopped (SIGSTOP): its kernel acknowledges every packet, so only
    the tablet's deadline ends the save, which is then held on the tablet ("Saving…" does not
    stay for ever); after the server goes on, the entry reaches it once."""
    require_private_server()
    with private_server() as server:
        url = f"{server.url()}?connect_timeout=2"
        store = open_store(url, no_answer_s=HUNG_NO_ANSWER_S)
        outbox = Outbox(tmp_path / "outbox.sqlite3")
        worker = ThreadWorker()
        try:
            service = ClinicService(store, clock, secret=TEST_SECRET)
            nurse = service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
            session_id = patient_session(service, nurse)
            service.record_reading(session_id, BASELINE, by=nurse)
            service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
            tablet = TabletService(service, outbox, clock)
            presenter = SessionPresenter(tablet, clock, session_id, nurse, worker=worker)
            screen = SessionScreen(DIM, clock, presenter, ())
            window = host(qtbot, screen, 1280, 800)
            presenter.refresh()
            qtbot.waitUntil(lambda: presenter.view is not None, timeout=int(WAIT_S * 1000))
            with server.hung():
                enter_value(qtbot, screen.vitals, "hr", "88")
                save(qtbot, screen.vitals)  # returns while the server holds the save
                assert screen.vitals.banner_text() == "Saving…"
                event_loop_runs(qtbot)
                qtbot.waitUntil(lambda: screen.vitals.banner_text() == HELD_ONE,
                                timeout=int(WAIT_S * 1000))
                assert tablet.held(session_id) == 1
            qtbot.waitUntil(lambda: presenter.pending == 0 and not presenter._loading,
                            timeout=int(WAIT_S * 1000))
            assert tablet.drain() == 1
            assert tablet.drain() == 0
            assert readings(service) == 2
            window.close()
        finally:
            server.thaw()
            worker.close(WAIT_S)
            outbox.close()
            store.close()
