"""The chairs' reads on the database worker's thread: the tick never waits on the server.
A tile's reload in flight leaves the tick moving the countdowns on from the tablet's clock
(the OVERDUE mark comes on time); one reload per session is in flight, the next follows it;
a reload older than a save's view is not taken."""

from __future__ import annotations

from datetime import timedelta

import pytest

from monitor.clinical.domain import EventKind
from monitor.service.worker import ThreadWorker
from monitor.storage.store import StoreUnavailableError
from tests.support.stall import WAIT_S, StalledService
from tests.ui.sessions import patient_session
from ui.app.live import ChairViews

CHAIR = "Chair 2"  # where patient_session seats its patient
BASELINE = {"sbp": "120", "dbp": "80", "hr": "72", "spo2": "98", "rr": "14",
            "cadss6": "0", "moaas": "5"}
WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def worker():
    worker = ThreadWorker()
    yield worker
    worker.close(WAIT_S)


@pytest.fixture
def seated(service, nurse):
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, BASELINE, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    return session_id


@pytest.fixture
def board(qtbot, service, clock, worker, seated):
    gated = StalledService(service)
    updates: list[int] = []
    problems: list[str] = []
    board = ChairViews(gated, clock, [CHAIR], live=True, problem=problems.append,
                       worker=worker, updated=lambda: updates.append(1))
    assert board.tiles() is None  # the first read is in flight: nothing known yet
    qtbot.waitUntil(lambda: board.view(seated) is not None, timeout=WAIT_MS)
    assert updates
    yield board, gated, problems
    gated.release()
    qtbot.waitUntil(lambda: board.background.in_flight == 0, timeout=WAIT_MS)


def test_a_stalled_reload_never_holds_the_tick_and_overdue_comes_from_the_clock(
        qtbot, board, seated, clock):
    board, gated, _ = board
    gated.stall("load")
    assert board.reload_session(seated)  # a change notice
    assert gated.entered.wait(WAIT_S)
    board.reload_session(seated)  # another notice meanwhile: not sent while one is held
    clock.advance(timedelta(minutes=30))
    tiles = board.tiles()  # the tick, while the server holds the read
    assert tiles is not None
    assert tiles[0].overdue
    assert gated.calls["load"] == 1
    gated.release()
    qtbot.waitUntil(lambda: gated.calls["load"] == 2 and not board._loading, timeout=WAIT_MS)
    tiles = board.shown_tiles()
    assert tiles is not None
    assert tiles[0].overdue


def test_a_reload_that_fails_after_the_stall_keeps_the_chair_and_is_tried_again(
        qtbot, board, seated, clock):
    board, gated, problems = board
    gated.stall("load")
    board.reload_session(seated)
    assert gated.entered.wait(WAIT_S)
    gated.release(StoreUnavailableError("unreachable", "The server does not answer."))
    qtbot.waitUntil(lambda: not board._loading, timeout=WAIT_MS)
    assert problems == ["The server does not answer."]
    assert board.seated(CHAIR) == seated
    assert board.view(seated) is not None  # the chair keeps its view, never shown free
    assert seated in board._stale


def test_a_reload_begun_before_a_save_here_does_not_replace_the_saves_view(
        qtbot, board, seated, service, nurse, clock):
    board, gated, _ = board
    gated.stall("load")
    board.reload_session(seated)
    assert gated.entered.wait(WAIT_S)
    # The held load reads the session as it stands when it runs: make that the older view
    # by saving only after it, here, as the chair's screen would.
    saved = service.record_reading(seated, {"hr": "90"}, by=nurse, with_view=True)
    assert saved.view is not None
    board.show_saved(seated, saved.view, saved.id)
    gated.release()
    qtbot.waitUntil(lambda: not board._loading, timeout=WAIT_MS)
    assert board.view(seated) is saved.view
