"""The database worker: calls in order, their outcome in their future, a clean close."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest

from monitor.service.worker import InlineWorker, ThreadWorker, WorkerClosedError

WAIT_S = 30.0  # a bound on a wait that ends at once when the code is right


def test_the_thread_worker_runs_calls_one_at_a_time_in_the_order_given() -> None:
    worker = ThreadWorker()
    seen: list[int] = []
    threads: set[str] = set()

    def call(n: int) -> int:
        threads.add(threading.current_thread().name)
        seen.append(n)
        return n * 10

    try:
        futures = [worker.submit(lambda n=n: call(n)) for n in range(50)]
        assert [f.result(WAIT_S) for f in futures] == [n * 10 for n in range(50)]
    finally:
        worker.close(WAIT_S)
    assert seen == list(range(50))
    assert threads == {"chairside-database"}
    assert threading.current_thread().name not in threads


def test_a_call_that_raises_hands_its_exception_to_its_future_and_the_next_still_runs() -> None:
    worker = ThreadWorker()
    try:
        def fail() -> int:
            raise ValueError("refused")

        failed = worker.submit(fail)
        after = worker.submit(lambda: 7)
        with pytest.raises(ValueError, match="refused"):
            failed.result(WAIT_S)
        assert after.result(WAIT_S) == 7
    finally:
        worker.close(WAIT_S)


def test_submit_returns_at_once_while_a_call_is_blocked() -> None:
    worker = ThreadWorker()
    release = threading.Event()
    started = threading.Event()

    def blocked() -> str:
        started.set()
        release.wait(WAIT_S)
        return "done"

    try:
        first = worker.submit(blocked)
        second = worker.submit(lambda: "next")
        assert started.wait(WAIT_S)
        assert not first.done()
        assert not second.done()
        release.set()
        assert first.result(WAIT_S) == "done"
        assert second.result(WAIT_S) == "next"
    finally:
        release.set()
        worker.close(WAIT_S)


def test_close_cancels_what_waits_finishes_what_runs_and_refuses_more() -> None:
    worker = ThreadWorker()
    release = threading.Event()
    started = threading.Event()
    ran: list[str] = []

    def blocked() -> str:
        started.set()
        release.wait(WAIT_S)
        ran.append("blocked")
        return "done"

    running = worker.submit(blocked)
    waiting = worker.submit(lambda: ran.append("waiting"))
    assert started.wait(WAIT_S)
    closer = threading.Thread(target=worker.close, args=(WAIT_S,))
    closer.start()
    with pytest.raises(CancelledError):
        waiting.result(WAIT_S)
    release.set()
    closer.join(WAIT_S)
    assert running.result(WAIT_S) == "done"
    assert ran == ["blocked"]
    assert not worker.alive
    with pytest.raises(WorkerClosedError):
        worker.submit(lambda: None)
    worker.close()  # twice is harmless


def test_the_inline_worker_runs_the_call_at_once_in_the_callers_thread() -> None:
    worker = InlineWorker()
    where: list[threading.Thread] = []

    def call() -> int:
        where.append(threading.current_thread())
        return 3

    future = worker.submit(call)
    assert future.done()
    assert future.result() == 3
    assert where == [threading.current_thread()]

    def fail() -> None:
        raise KeyError("x")

    assert isinstance(worker.submit(fail).exception(), KeyError)
    worker.close()
    with pytest.raises(WorkerClosedError):
        worker.submit(call)
