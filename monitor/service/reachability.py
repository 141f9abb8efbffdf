"""Whether the clinic's database answers, and since when it has not.

The window reports each read's outcome here: a success, or a :class:`StorageError` of the
kind that means the server cannot be reached. :class:`Reachability` keeps the time of the first
failure of an outage (``since``, shown to the nurse as "Server unreachable since 10:42") until
the next success, and paces the reads tried while it lasts: one try, then a wait that doubles
from :data:`FIRST_RETRY_S` to :data:`LAST_RETRY_S`, measured on the injected clock's monotonic
time, so that a tablet without its server does not send a statement every second.
"""

from __future__ import annotations

from datetime import datetime

from monitor.clock import Clock
from monitor.storage.store import StorageError

#: The failures that mean the server cannot be reached (a full disk or a lock is not an outage).
UNREACHABLE_REASONS = frozenset({"unreachable"})
#: Seconds before the first read tried again after a failure.
FIRST_RETRY_S = 1.0
#: The longest wait between reads tried while the server stays unreachable.
LAST_RETRY_S = 8.0


class Reachability:
    """The server's reachability as the reads found it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        #: When the server was first found unreachable in this outage (None: it answers).
        self.since: datetime | None = None
        #: When the server last answered (None: not yet).
        self.last_success: datetime | None = None
        self._wait_s = FIRST_RETRY_S
        self._next_try = 0.0

    @property
    def unreachable(self) -> bool:
        return self.since is not None

    def due(self) -> bool:
        """Whether a read may be tried now (always, while the server answers)."""
        return self.since is None or self.clock.monotonic() >= self._next_try

    def succeeded(self) -> None:
        """A read or write went through: the outage, if any, is over."""
        self.since = None
        self.last_success = self.clock.now()
        self._wait_s = FIRST_RETRY_S

    def failed(self, exc: StorageError) -> None:
        """A read or write failed with ``exc``; only a server out of reach counts."""
        if exc.reason not in UNREACHABLE_REASONS:
            return
        if self.since is None:
            self.since = self.clock.now()
            self._wait_s = FIRST_RETRY_S
        else:
            self._wait_s = min(self._wait_s * 2, LAST_RETRY_S)
        self._next_try = self.clock.monotonic() + self._wait_s
