"""Live updates: an idle clinic costs the database nothing on the one-second tick, and what
one tablet saves reaches another tablet's overview and open session screen."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, event

from monitor.clinical.domain import EventKind, Measure
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage.changes.feed import ChangeFeed, open_feed
from monitor.storage.store import StorageError, open_store
from tests.conftest import TEST_SECRET
from tests.ui.overview.test_screen import BASELINE, _session
from ui.app.change_signals import ChangeSignals
from ui.app.main_window import MainWindow

#: Waits for another tablet's change (the feed polls SQLite every 50 ms here).
ARRIVES_MS = 10_000


@contextlib.contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The statements sent through ``engine`` inside the block."""
    sent: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextlib.contextmanager
def listening(service: ClinicService) -> Iterator[ChangeSignals]:
    feed: ChangeFeed = open_feed(service.store, poll_interval=0.05)
    signals = ChangeSignals(feed)
    feed.start()
    assert feed.connected.wait(10)
    try:
        yield signals
    finally:
        signals.close()
        feed.stop()


def two_chairs(service: ClinicService, clock: ManualClock, nurse) -> dict[str, object]:
    """Chairs 1 and 2 infusing, a baseline each; the clock 5 minutes on."""
    sessions = {"1": _session(service, nurse, "1", "MRN-004211", "Ada Byrne"),
                "2": _session(service, nurse, "2", "MRN-007730", "Ben Okafor")}
    for session_id in sessions.values():
        service.record_reading(session_id, BASELINE, by=nurse)
        service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(timedelta(minutes=5))
    return sessions


def _window(qtbot, service, clock, nurse, changes=None) -> MainWindow:
    window = MainWindow(service, clock, chairs=("1", "2", "3", "4"), staff=(nurse, "Nora"),
                        tick_ms=3_600_000, changes=changes)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    return window


def _idle_ticks(window: MainWindow, clock: ManualClock, engine: Engine, ticks: int) -> int:
    with statements(engine) as sent:
        for _ in range(ticks):
            clock.advance(1)
            window.tick()
    return len(sent)


@pytest.mark.parametrize("screen", ["overview", "session", "locked"])
def test_an_idle_clinic_sends_no_statement_on_the_tick(qtbot, service, clock, nurse, screen):
    sessions = two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.chime.set_enabled(True)
        if screen == "session":
            window.open_chair("1")
        if screen == "locked":
            window.lock_by_hand()
        engine = service.store.engine
        due = window.chair_tiles()[0].due_in
        assert _idle_ticks(window, clock, engine, 60) == 0
        # The countdown still moved with the clock, from the views already loaded.
        assert window.chair_tiles()[0].due_in == due - timedelta(seconds=60)
        if screen == "session":
            assert window.presenters["1"].view.at == clock.now()
            assert window.presenters["1"].session_id == sessions["1"]
        window.close()


def test_without_a_change_feed_the_tick_reads_the_record(qtbot, service, clock, nurse):
    """A window without a feed still polls: the measure the feed is there to save."""
    two_chairs(service, clock, nurse)
    window = _window(qtbot, service, clock, nurse)
    assert _idle_ticks(window, clock, service.store.engine, 60) > 60


def test_the_countdown_turns_overdue_on_the_tick_alone(qtbot, service, clock, nurse):
    two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        due = window.chair_tiles()[0].due_in
        assert due is not None
        assert due > timedelta(0)
        with statements(service.store.engine) as sent:
            clock.advance(due + timedelta(seconds=1))
            window.tick()
        assert sent == []
        tile = window.overview.tiles["1"].tile()
        assert tile.overdue
        window.close()


@pytest.fixture
def tablet_b(sqlite_url, clock):
    """A second tablet: its own store (engine) and service over the same database file."""
    store = open_store(sqlite_url)
    yield ClinicService(store, clock, secret=TEST_SECRET)
    store.close()


@pytest.fixture
def pg_tablets(pg_url, clock) -> Iterator[tuple[ClinicService, ClinicService]]:
    """Two tablets, each with its own store and service, over one PostgreSQL schema."""
    stores = [open_store(pg_url), open_store(pg_url)]
    yield tuple(ClinicService(store, clock, secret=TEST_SECRET) for store in stores)
    for store in stores:
        store.close()


def _tile_texts(window: MainWindow, chair: str) -> list[str]:
    return window.overview.tiles[chair].texts()


def test_a_reading_saved_on_one_tablet_shows_on_the_other(qtbot, service, tablet_b, clock,
                                                           nurse):
    sessions = two_chairs(service, clock, nurse)
    with listening(service) as changes_a, listening(tablet_b) as changes_b:
        a = _window(qtbot, service, clock, nurse, changes_a)
        b = _window(qtbot, tablet_b, clock, nurse, changes_b)
        b_overview = _window(qtbot, tablet_b, clock, nurse, changes_b)
        b.open_chair("1")
        on_b = b.presenters["1"]
        assert on_b.session_id == sessions["1"]
        assert len(on_b.view.record.readings) == 1
        assert "HR 64" not in " ".join(_tile_texts(b_overview, "1"))

        a.open_chair("1")
        assert a.presenters["1"].save_reading({"sbp": "124", "dbp": "80", "hr": "64",
                                               "spo2": "98"})

        qtbot.waitUntil(lambda: len(on_b.view.record.readings) == 2, timeout=ARRIVES_MS)
        assert on_b.view.record.readings[-1].hr == 64
        qtbot.waitUntil(lambda: b_overview.chair_tiles()[0].hr == 64, timeout=ARRIVES_MS)
        qtbot.waitUntil(lambda: "64" in _tile_texts(b_overview, "1"), timeout=ARRIVES_MS)
        # The other chair was not touched: its tile stays as it was.
        assert b_overview.chair_tiles()[1].hr == 72
        for window in (a, b, b_overview):
            window.close()


def test_on_postgresql_a_saved_reading_and_its_flags_reach_the_other_tablets_screens(
        qtbot, pg_tablets, clock):
    """Two tablets on one server: what A saves shows on B's overview tile and on B's open
    session screen (its values and its flag list), through the change feed alone."""
    service, tablet_b = pg_tablets
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin="402913")
    sessions = two_chairs(service, clock, nurse)
    with listening(service) as changes_a, listening(tablet_b) as changes_b:
        a = _window(qtbot, service, clock, nurse, changes_a)
        b = _window(qtbot, tablet_b, clock, nurse, changes_b)
        b.open_chair("1")
        on_b = b.presenters["1"]
        screen_b = b.sessions["1"]
        assert screen_b.rail.tiles[Measure.BP].value.text() != "150/90"
        assert screen_b.flags.model.flags_shown() == []
        b_overview = _window(qtbot, tablet_b, clock, nurse, changes_b)
        assert "150/90" not in _tile_texts(b_overview, "1")
        a.open_chair("1")
        assert a.presenters["1"].save_reading({"sbp": "150", "dbp": "90", "hr": "112",
                                               "spo2": "93"})
        raised = {f.id for f in a.presenters["1"].view.open_flags}
        assert raised

        # B's session screen: the values on the rail, the flags in its list.
        qtbot.waitUntil(lambda: screen_b.rail.tiles[Measure.BP].value.text() == "150/90",
                        timeout=ARRIVES_MS)
        assert screen_b.rail.tiles[Measure.HR].value.text() == "112"
        qtbot.waitUntil(lambda: {f.id for f in screen_b.flags.model.flags_shown()} == raised,
                        timeout=ARRIVES_MS)
        assert {f.id for f in on_b.view.open_flags} == raised
        assert screen_b.flags.summary.text().startswith(f"Flags: {len(raised)} open")
        assert on_b.session_id == sessions["1"]
        # B's overview: the tile's words and its flag.
        qtbot.waitUntil(lambda: "150/90" in _tile_texts(b_overview, "1"), timeout=ARRIVES_MS)
        tile = b_overview.overview.tiles["1"].tile()
        assert tile.hr == 112
        assert tile.open_flag_count == len(raised)
        assert tile.worst_flag is not None
        assert tile.worst_flag.id in raised
        # The other chair was not touched.
        assert b_overview.overview.tiles["2"].tile().open_flag_count == 0
        for window in (a, b, b_overview):
            window.close()


def test_on_postgresql_the_review_list_and_audit_trail_on_the_other_tablet_read_again(
        qtbot, pg_tablets, clock):
    """B shows a clinician's review list and another B its audit trail; a flagged reading
    saved on A appears in both, through the change feed alone."""
    service, tablet_b = pg_tablets
    nurse = service.ensure_staff("Nora Nurse", "nurse", pin="402913")
    clinician = service.ensure_staff("Cleo Clinician", "clinician", pin="581736")
    sessions = two_chairs(service, clock, nurse)
    with listening(tablet_b) as changes_b:
        reviewing = MainWindow(tablet_b, clock, staff=(clinician, "Cleo"), tick_ms=3_600_000,
                               changes=changes_b, reload_delay_ms=0)
        qtbot.addWidget(reviewing)
        review = reviewing.show_review()

        def row_of_chair_1():
            return next(row for row in review.model.rows()
                        if row.session_id == sessions["1"])

        assert row_of_chair_1().worst is None
        auditing = MainWindow(tablet_b, clock, staff=(clinician, "Cleo"), tick_ms=3_600_000,
                              changes=changes_b, reload_delay_ms=0)
        qtbot.addWidget(auditing)
        auditing.show_audit()
        assert auditing.audit is not None
        audit = auditing.audit.model
        shown = audit.rowCount()

        saved = service.record_reading(sessions["1"], {"sbp": "150", "dbp": "90", "hr": "112",
                                                       "spo2": "93"}, by=nurse)

        qtbot.waitUntil(lambda: row_of_chair_1().worst is not None, timeout=ARRIVES_MS)
        assert sum(row_of_chair_1().flags_by_tier.values()) == len(saved.new_flags)

        def audited() -> set[object]:
            return {audit.entry(row).record_id for row in range(audit.rowCount())}

        qtbot.waitUntil(lambda: saved.id in audited(), timeout=ARRIVES_MS)
        assert audit.rowCount() > shown
        for window in (reviewing, auditing):
            window.close()


def test_a_flag_raised_on_one_tablet_shows_on_the_other(qtbot, service, tablet_b, clock,
                                                         nurse):
    two_chairs(service, clock, nurse)
    with listening(service) as changes_a, listening(tablet_b) as changes_b:
        a = _window(qtbot, service, clock, nurse, changes_a)
        b = _window(qtbot, tablet_b, clock, nurse, changes_b)
        b_overview = _window(qtbot, tablet_b, clock, nurse, changes_b)
        b.open_chair("2")
        on_b = b.presenters["2"]
        assert on_b.view.open_flags == ()
        assert b_overview.chair_tiles()[1].worst_flag is None

        a.open_chair("2")
        assert a.presenters["2"].save_reading({"sbp": "150", "dbp": "90", "hr": "112",
                                               "spo2": "93"})
        raised = {f.id for f in a.presenters["2"].view.open_flags}
        assert raised

        qtbot.waitUntil(lambda: {f.id for f in on_b.view.open_flags} == raised,
                        timeout=ARRIVES_MS)
        qtbot.waitUntil(lambda: b_overview.overview.tiles["2"].tile().worst_flag is not None,
                        timeout=ARRIVES_MS)
        assert b_overview.overview.tiles["2"].tile().open_flag_count == len(raised)
        for window in (a, b, b_overview):
            window.close()


def test_a_check_in_on_one_tablet_fills_the_chair_on_the_other(qtbot, service, tablet_b,
                                                                clock, nurse):
    two_chairs(service, clock, nurse)
    with listening(tablet_b) as changes_b:
        b = _window(qtbot, tablet_b, clock, nurse, changes_b)
        assert b.chair_tiles()[2].empty
        third = _session(service, nurse, "3", "MRN-001234", "Cal Dunn")
        qtbot.waitUntil(lambda: b.overview.tiles["3"].tile().session_id == third,
                        timeout=ARRIVES_MS)
        b.close()


def test_a_new_staff_member_appears_on_the_other_tablets_sign_in(qtbot, service, tablet_b,
                                                                  clock, nurse):
    service.ensure_staff("Ada Admin", "admin", pin="581736")
    with listening(tablet_b) as changes_b:
        b = MainWindow(tablet_b, clock, tick_ms=3_600_000, changes=changes_b)
        qtbot.addWidget(b)
        assert b.stack.currentWidget() is b.login_screen
        def names() -> list[str]:
            return [person.name for person in b.login_screen.staff]

        assert "Tess Nurse" not in names()
        service.ensure_staff("Tess Nurse", "nurse", pin="402913")
        qtbot.waitUntil(lambda: "Tess Nurse" in names(), timeout=ARRIVES_MS)
        b.close()


def test_the_review_list_reads_again_once_after_changes_elsewhere(qtbot, service, tablet_b,
                                                                   clock, nurse, clinician):
    sessions = two_chairs(service, clock, nurse)
    with listening(tablet_b) as changes_b:
        b = MainWindow(tablet_b, clock, staff=(clinician, "Cleo"), tick_ms=3_600_000,
                       changes=changes_b)
        qtbot.addWidget(b)
        review = b.show_review()
        shown = review.model.rowCount()
        searches: list[object] = []
        review.model.searched.connect(searches.append)
        third = _session(service, nurse, "3", "MRN-001234", "Cal Dunn")
        qtbot.waitUntil(lambda: review.model.rowCount() == shown + 1, timeout=ARRIVES_MS)
        assert third in {row.session_id for row in review.model.rows()}
        assert not b._lists_timer.isActive()
        searches.clear()
        # A save that raises flags announces several changes: the list is read once.
        service.record_reading(sessions["1"], {"sbp": "150", "dbp": "90", "hr": "112",
                                               "spo2": "93"}, by=nurse)
        qtbot.waitUntil(lambda: len(searches) == 1, timeout=ARRIVES_MS)
        assert not b._lists_timer.isActive()
        assert len(searches) == 1
        b.close()


def test_the_audit_trail_shown_reads_again_after_a_change_elsewhere(qtbot, service,
                                                                     tablet_b, clock, nurse,
                                                                     clinician):
    sessions = two_chairs(service, clock, nurse)
    with listening(tablet_b) as changes_b:
        b = MainWindow(tablet_b, clock, staff=(clinician, "Cleo"), tick_ms=3_600_000,
                       changes=changes_b, reload_delay_ms=0)
        qtbot.addWidget(b)
        b.show_audit()
        assert b.audit is not None
        shown = b.audit.model.rowCount()
        service.record_event(sessions["2"], EventKind.INFUSION_PAUSE, by=nurse,
                             detail="nausea")
        qtbot.waitUntil(lambda: b.audit.model.rowCount() > shown, timeout=ARRIVES_MS)
        b.close()


def test_a_reload_the_database_refused_is_tried_again_on_the_next_tick(
        qtbot, service, clock, nurse, monkeypatch):
    sessions = two_chairs(service, clock, nurse)
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        load = service.load

        def unreachable(*_args, **_kwargs):
            raise StorageError("unreachable", "The database cannot be reached.")

        monkeypatch.setattr(service, "load", unreachable)
        service.record_reading(sessions["2"], {"sbp": "124", "dbp": "80", "hr": "64",
                                               "spo2": "98"}, by=nurse)
        # The outage is the banner's to say (it takes the status line's place).
        qtbot.waitUntil(lambda: "Server unreachable since" in window.banner.text()
                        and not window.banner.isHidden(), timeout=ARRIVES_MS)
        assert window.chair_tiles()[1].hr == 72
        monkeypatch.setattr(service, "load", load)
        clock.advance(1)
        window.tick()
        assert window.overview.tiles["2"].tile().hr == 64
        with statements(service.store.engine) as sent:
            clock.advance(1)
            window.tick()
        assert sent == []  # read once, then idle again
        window.close()
