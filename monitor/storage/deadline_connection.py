"""psycopg's connection with the tablet's deadline on every wait for the server
(:mod:`monitor.storage.deadline` says why and how it is set)."""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from typing import Any, Protocol

import psycopg
from psycopg import pq

_IDLE = pq.TransactionStatus.IDLE


class Cuts(Protocol):
    """Told of each cut (:class:`monitor.storage.deadline.Cuts`, which this module does not
    import: that one loads this one)."""

    def cut(self, at: float) -> None: ...


class NoAnswerError(psycopg.OperationalError):
    """The server sent nothing for the deadline while a command was in progress; this
    device closed the connection."""


class DeadlineConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits for the server end after ``no_answer_s`` seconds
    without anything arriving (None: no deadline). Made by
    :func:`monitor.storage.deadline.connector`."""

    no_answer_s: float | None = None
    cuts: Cuts | None = None
    #: When the connection was made (monotonic seconds).
    made_at: float = 0.0
    #: The clock of the deadline (monotonic seconds).
    monotonic: Callable[[], float] = staticmethod(time.monotonic)

    def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
        """psycopg's wait (its arguments as this version of psycopg has them), watched."""
        limit = self.no_answer_s
        if limit is not None:
            gen = self._watched(gen, limit)
        return super().wait(gen, *args, **kwargs)

    def _watched(self, gen: Generator[Any, Any, Any], limit: float) -> Generator[Any, Any, Any]:
        """``gen``, driven as psycopg drives it, cut when the server says nothing for
        ``limit`` seconds with a command in progress. psycopg (3.2 and later) sends its
        generator "nothing ready" at each of its wake-ups (every 0.1 s, so that Ctrl-C is
        heard), which is when the deadline is looked at."""
        last = self.monotonic()
        try:
            state = next(gen)
            while True:
                ready = yield state
                now = self.monotonic()
                if ready:
                    last = now
                elif now - last >= limit and self.pgconn.transaction_status != _IDLE:
                    gen.close()
                    self._cut(limit, now)
                state = gen.send(ready)
        except StopIteration as done:
            return done.value

    def _cut(self, limit: float, now: float) -> None:
        if self.cuts is not None:
            self.cuts.cut(now)
        self.pgconn.finish()  # this thread waits on it: nobody else uses the socket now
        raise NoAnswerError(
            f"the server sent nothing for {limit:g} s (it may be hung): this device closed "
            "the connection")
