"""Injected time.

Everything that needs "now" takes a :class:`Clock`. The app uses :class:`SystemClock`;
tests and the accelerated demo use :class:`ManualClock` and move it explicitly, so no test
ever sleeps. Wall time is always timezone-aware UTC; ``monotonic`` is for idle timers and
reminders, which must not jump when the wall clock is changed.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current wall time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to.

    ``advance`` moves both wall and monotonic time; ``set_wall`` moves only the wall
    clock (as a user changing the system time would).
    """

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start time")
        self._wall = start.astimezone(UTC)
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._wall

    def monotonic(self) -> float:
        return self._mono

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        if seconds < 0:
            raise ValueError("a clock only advances; use set_wall to jump the wall clock")
        self._wall += timedelta(seconds=seconds)
        self._mono += seconds

    def set_wall(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("wall time must be timezone-aware")
        self._wall = when.astimezone(UTC)


def ensure_utc(when: datetime) -> datetime:
    """Return ``when`` in UTC; a naive datetime is a programming error."""
    if when.tzinfo is None or when.tzinfo.utcoffset(when) is None:
        raise ValueError(f"naive datetime {when!r}: times must carry a UTC offset")
    return when.astimezone(UTC)


class AcceleratedClock:
    """Time that runs ``factor`` times faster than real time (the ``--demo`` chair).

    Wall time starts at ``start``; both wall and monotonic time advance ``factor`` seconds
    per real second, so reminders and countdowns speed up with the demo.
    """

    def __init__(self, start: datetime, factor: float, real: Clock | None = None) -> None:
        if factor <= 0:
            raise ValueError("factor must be positive")
        self._real = real or SystemClock()
        self._start = ensure_utc(start)
        self._real_start = self._real.monotonic()
        self.factor = factor

    def _elapsed(self) -> float:
        return (self._real.monotonic() - self._real_start) * self.factor

    def now(self) -> datetime:
        return self._start + timedelta(seconds=self._elapsed())

    def monotonic(self) -> float:
        return self._real_start + self._elapsed()
