"""Calls on the database worker, answered on the GUI thread: at once with the inline worker,
through the event loop, in order, with the thread worker; a failed call's answer keeps
nothing of whoever read it alive."""

from __future__ import annotations

import contextlib
import gc
import threading
import weakref
from concurrent.futures import Future

import pytest

from monitor.service.worker import ThreadWorker
from ui.common.background import Background, Latest

WAIT_MS = 30_000


@pytest.fixture
def worker():
    worker = ThreadWorker()
    yield worker
    worker.close(30)


def test_the_inline_worker_answers_before_run_returns(qtbot):
    background = Background()
    answers: list[int] = []
    background.run(lambda: 5, lambda f: answers.append(f.result()))
    assert answers == [5]
    assert not background.threaded
    assert background.in_flight == 0


def test_the_thread_worker_answers_on_the_gui_thread_in_order(qtbot, worker):
    background = Background(worker)
    answers: list[int] = []
    where: set[threading.Thread] = set()
    ran_on: set[str] = set()

    def call(n: int) -> int:
        ran_on.add(threading.current_thread().name)
        return n

    def answered(future: Future[int]) -> None:
        answers.append(future.result())
        where.add(threading.current_thread())

    with qtbot.waitSignal(background.idle, timeout=WAIT_MS):
        for n in range(10):
            background.run(lambda n=n: call(n), answered)
        assert background.in_flight == 10
    assert answers == list(range(10))
    assert where == {threading.current_thread()}
    assert ran_on == {"chairside-database"}


def test_an_exception_is_answered_as_raised(qtbot, worker):
    background = Background(worker)
    raised: list[BaseException] = []

    def fail() -> None:
        raise ValueError("refused")

    def answered(future: Future[None]) -> None:
        try:
            future.result()
        except ValueError as exc:
            raised.append(exc)

    with qtbot.waitSignal(background.idle, timeout=WAIT_MS):
        background.run(fail, answered)
    assert [str(e) for e in raised] == ["refused"]


def test_a_failed_calls_answer_keeps_nothing_of_its_reader_alive(qtbot):
    """Without this, a presenter read a refusal and stayed alive in a reference cycle until a
    later garbage collection deleted it at some random moment (mid-paint)."""
    background = Background()

    class Reader:
        pass

    reader = Reader()
    gone = weakref.ref(reader)

    def fail() -> None:
        raise ValueError("refused")

    def answered(future: Future[None], reader: Reader = reader) -> None:
        with contextlib.suppress(ValueError):
            future.result()

    gc.disable()
    try:
        background.run(fail, answered)
        del reader, answered
        assert gone() is None
    finally:
        gc.enable()


def test_latest_runs_one_call_at_a_time_and_only_the_newest_of_those_asked_meanwhile(
        qtbot, worker):
    background = Background(worker)
    latest = Latest(background)
    held = threading.Event()
    ran: list[int] = []
    answers: list[int] = []

    def call(n: int) -> int:
        ran.append(n)
        if n == 0:
            assert held.wait(WAIT_MS / 1000)
        return n

    for n in range(4):
        latest.run(lambda n=n: call(n), lambda f: answers.append(f.result()))
    assert latest.busy
    assert background.in_flight == 1  # the others wait here, not on the worker
    with qtbot.waitSignal(background.idle, timeout=WAIT_MS):
        held.set()
    qtbot.waitUntil(lambda: not latest.busy, timeout=WAIT_MS)
    assert ran == [0, 3]  # 1 and 2 were replaced before they ran
    assert answers == [3]  # 0's answer was out of date when it came


def test_latest_with_the_inline_worker_answers_each_call_at_once(qtbot):
    latest = Latest(Background())
    answers: list[int] = []
    for n in range(3):
        latest.run(lambda n=n: n, lambda f: answers.append(f.result()))
    assert answers == [0, 1, 2]
    assert not latest.busy


def test_latest_cancel_forgets_the_queued_call(qtbot, worker):
    background = Background(worker)
    latest = Latest(background)
    held = threading.Event()
    answers: list[str] = []
    latest.run(lambda: held.wait(WAIT_MS / 1000) and "first",
               lambda f: answers.append(f.result()))
    latest.run(lambda: "second", lambda f: answers.append(f.result()))
    latest.cancel()
    with qtbot.waitSignal(background.idle, timeout=WAIT_MS):
        held.set()
    assert answers == ["first"]


def test_latest_shows_only_the_newest_answer_with_the_thread_worker(qtbot, worker):
    background = Background(worker)
    latest = Latest(background)
    gate = threading.Event()
    answers: list[str] = []

    def held(text: str) -> str:
        assert gate.wait(30)
        return text

    latest.run(lambda: held("old"), lambda f: answers.append(f.result()))
    latest.run(lambda: held("new"), lambda f: answers.append(f.result()))
    assert latest.pending
    gate.set()
    qtbot.waitUntil(lambda: background.in_flight == 0, timeout=WAIT_MS)
    assert answers == ["new"]
    assert not latest.pending


def test_latest_drop_forgets_the_call_in_flight(qtbot, worker):
    background = Background(worker)
    latest = Latest(background)
    gate = threading.Event()
    answers: list[int] = []
    latest.run(lambda: gate.wait(30), lambda f: answers.append(1))
    latest.drop()
    assert not latest.pending
    gate.set()
    qtbot.waitUntil(lambda: background.in_flight == 0, timeout=WAIT_MS)
    assert answers == []

