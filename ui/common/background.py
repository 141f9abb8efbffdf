"""Database work off the GUI thread, its answer back on it.

:class:`Background` hands a call to a :class:`monitor.service.worker.Worker` and calls
``done(future)`` on the GUI thread once the call has finished (a queued signal brings it
across): the screen goes on repainting, the tick on counting down, while the server thinks.
``done`` reads the outcome with ``future.result()``, which returns or raises as the call did.

With the :class:`~monitor.service.worker.InlineWorker` (a lone tablet on its own file) the
call runs at once and ``done`` is called before :meth:`Background.run` returns, exactly as a
direct call would have been.

:class:`Latest` is for what is asked again before the last answer came (search as you
type, a filter changed twice): only the newest call's answer is shown; older ones are
dropped when they arrive.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal, Slot

from monitor.service.worker import InlineWorker, Worker, WorkerClosedError

T = TypeVar("T")

#: What is called on the GUI thread with the finished call's future.
Done = Callable[[Future[T]], None]


class Background(QObject):
    """Runs calls on ``worker``; answers on the thread this object lives in (the GUI's).

    Signals:
        idle(): the last call in flight has been answered.
    """

    idle = Signal()
    _arrived = Signal(object)

    def __init__(self, worker: Worker | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: Worker = worker if worker is not None else InlineWorker()
        #: Calls submitted and not yet answered here.
        self.in_flight = 0
        self._arrived.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @property
    def threaded(self) -> bool:
        return self.worker.threaded

    def run(self, fn: Callable[[], T], done: Done[T]) -> None:
        """Run ``fn`` on the worker; ``done(future)`` on this object's thread when it ends
        (at once with an inline worker). Once the worker is closed (the app quitting)
        nothing runs and nothing is answered."""
        try:
            future = self.worker.submit(fn)
        except WorkerClosedError:
            return  # the app is closing: nothing is read or written any more, nobody waits
        if not self.worker.threaded:
            try:
                done(future)
            finally:
                _forget_frames(future)
            return
        self.in_flight += 1
        future.add_done_callback(lambda f: self._post(f, done))

    def _post(self, future: Future[Any], done: Done[Any]) -> None:
        """On the worker's thread: queue the answer for this object's thread."""
        # This object may be gone (its window closed): then nobody is told.
        with contextlib.suppress(RuntimeError):
            self._arrived.emit((future, done))

    @Slot(object)
    def _deliver(self, item: tuple[Future[Any], Done[Any]]) -> None:
        future, done = item
        self.in_flight -= 1
        try:
            done(future)
        finally:
            _forget_frames(future)
            if self.in_flight == 0:
                self.idle.emit()


class Latest:
    """Runs calls through ``background``; only the newest call's ``done`` is called.

    An answer that arrives after a newer call was made is dropped (its ``done`` is never
    called), so a slow answer to an old question never replaces the newer one's."""

    def __init__(self, background: Background) -> None:
        self.background = background
        self._asked = 0
        self._answered = 0

    @property
    def pending(self) -> bool:
        """Whether the newest call has not been answered yet."""
        return self._answered < self._asked

    def run(self, fn: Callable[[], T], done: Done[T]) -> None:
        """Run ``fn``; ``done(future)`` only if no newer call was made meanwhile."""
        self._asked += 1
        asked = self._asked

        def answered(future: Future[T]) -> None:
            if asked != self._asked:
                return  # a newer question was asked: this answer is stale
            self._answered = asked
            done(future)

        self.background.run(fn, answered)

    def drop(self) -> None:
        """Forget the calls in flight: their answers are dropped when they arrive."""
        self._asked += 1
        self._answered = self._asked


def _forget_frames(future: Future[Any]) -> None:
    """Drop the frames a failed call's exception holds once it was answered: re-raised by
    ``future.result()`` it holds the frame that read it, which holds the future (a cycle
    that kept the presenter, its screen's callbacks and the view alive until a garbage
    collection at some later moment)."""
    if future.cancelled() or not future.done():
        return
    exc: BaseException | None = future.exception()
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        exc.__traceback__ = None
        exc = exc.__cause__ or exc.__context__
