"""Where the clinic service's calls run: at once, or on one background thread in turn.

The tablet's screen must never wait on the network. With the clinic's PostgreSQL over Wi-Fi
a stalled server holds a statement until its timeout; run on the GUI thread, that would
freeze every tap and repaint. The app therefore hands its database work to a worker:

- :class:`ThreadWorker` runs each call on one background thread, first in first out, and
  gives back a :class:`concurrent.futures.Future` at once. One thread keeps the calls of the
  chair in the order the nurse made them (a save, then the reload after it).
- :class:`InlineWorker` runs the call at once, in the caller's thread, and gives back a
  future already done: a lone tablet on its local SQLite file (a file is not the network)
  stays exactly as simple as before, and so do the tests that need no thread.

Both have the same interface (:class:`Worker`), so whoever submits does not know which one
runs its call. Nothing here knows of Qt: the app brings the results back to its GUI thread
(:mod:`ui.common.background`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Protocol, TypeVar

T = TypeVar("T")

#: The thread's name, as shown by debuggers and ``threading.enumerate()``.
THREAD_NAME = "chairside-database"


class WorkerClosedError(RuntimeError):
    """A call submitted after :meth:`Worker.close`."""


class Worker(Protocol):
    """Runs calls and gives back their futures."""

    #: Whether calls run on another thread (their futures may not be done on return).
    threaded: bool

    def submit(self, fn: Callable[[], T]) -> Future[T]: ...

    def close(self, timeout: float | None = None) -> None: ...


def _run_into(future: Future[T], fn: Callable[[], T]) -> None:
    """Run ``fn`` and put what it returns or raises into ``future`` (unless cancelled)."""
    if not future.set_running_or_notify_cancel():
        return
    try:
        result = fn()
    except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future
        future.set_exception(exc)
    else:
        future.set_result(result)


class InlineWorker:
    """Runs each call at once in the caller's thread; its future is done on return."""

    threaded = False

    def __init__(self) -> None:
        self._closed = False

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        if self._closed:
            raise WorkerClosedError("the database worker is closed")
        future: Future[T] = Future()
        _run_into(future, fn)
        return future

    def close(self, timeout: float | None = None) -> None:
        self._closed = True


class ThreadWorker:
    """One background thread running the calls in the order they were submitted.

    :meth:`close` stops taking calls, cancels those not started, and waits up to ``timeout``
    seconds for the one running (a call stalled on the network is not interrupted here: the
    thread is a daemon, so it never keeps the process alive after the app quits). A call to a
    PostgreSQL server that stopped answering ends by itself, cut by the connection's deadline
    (:mod:`monitor.storage.deadline`), so the calls queued behind it run in turn.
    """

    threaded = True

    def __init__(self, name: str = THREAD_NAME) -> None:
        self._queue: queue.SimpleQueue[tuple[Future[object], Callable[[], object]] | None] = (
            queue.SimpleQueue())
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        with self._lock:
            if self._closed:
                raise WorkerClosedError("the database worker is closed")
            self._queue.put((future, fn))  # type: ignore[arg-type]
        return future

    def close(self, timeout: float | None = None) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Whatever waits is cancelled: its caller hears CancelledError, nothing runs.
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            self._queue.put(None)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """Whether the thread still runs (a stalled call outlives :meth:`close`'s wait)."""
        return self._thread.is_alive()

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn = item
            _run_into(future, fn)
            del item, future, fn  # nothing of a finished call is kept alive by the thread
