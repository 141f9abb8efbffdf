"""Database work off the GUI thread, its answer back on it.

:class:`Background` hands a call to a :class:`monitor.service.worker.Worker` and calls
``done(future)`` on the GUI thread once the call has finished (a queued signal brings it
across): the screen goes on repainting, the tick on counting down, while the server thinks.
``done`` reads the outcome with ``future.result()``, which returns or raises as the call did.

With the :class:`~monitor.service.worker.InlineWorker` (a lone tablet on its own file) the
call runs at once and ``done`` is called before :meth:`Background.run` returns, exactly as a
direct call would have been.

:class:`Latest` is for reads asked again and again (a list refreshed on every change, a
value checked on every key): one call in flight at a time; a call asked for meanwhile waits,
and a newer one replaces it, so only the newest is run and answered.
Search as you type drops the answers still to come when the field is cleared.
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
    """One call in flight on ``background``; the newest asked for meanwhile runs after it.

    :meth:`run` while a call is in flight queues the new call in place of any queued before
    it (never run, never answered). The call in flight is answered only when nothing newer
    waits: its answer is already out of date, and the newer one follows. :meth:`drop`
    forgets the queued call and the answer of the one in flight.
    """

    def __init__(self, background: Background) -> None:
        self.background = background
        self._busy = False
        self._stale = False
        self._queued: tuple[Callable[[], Any], Done[Any]] | None = None

    @property
    def busy(self) -> bool:
        """Whether a call is in flight (or queued)."""
        return self._busy

    @property
    def pending(self) -> bool:
        """Whether an answer is still to be shown: a call in flight not dropped, or queued."""
        return (self._busy and not self._stale) or self._queued is not None

    def run(self, fn: Callable[[], T], done: Done[T]) -> None:
        """Run ``fn`` now, or after the call in flight (replacing any queued before)."""
        if self._busy:
            self._queued = (fn, done)
            return
        self._busy = True
        self._stale = False
        self.background.run(fn, lambda future: self._answered(future, done))

    def cancel(self) -> None:
        """Forget the queued call (the one in flight is still answered)."""
        self._queued = None

    def drop(self) -> None:
        """Forget the queued call, and drop the answer of the one in flight when it comes."""
        self._queued = None
        self._stale = self._busy

    def _answered(self, future: Future[Any], done: Done[Any]) -> None:
        self._busy = False
        queued, self._queued = self._queued, None
        if queued is not None:
            self.run(*queued)  # the answer in hand is older than what waits: not shown
            return
        if self._stale:
            self._stale = False
            return  # dropped while in flight
        done(future)


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
