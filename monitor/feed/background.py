"""The MLLP receiver inside the app: one tablet with its own bedside monitor.

:class:`BackgroundReceiver` runs the same server and filing as ``python -m monitor feed
listen`` (an :class:`~monitor.feed.mllp.MllpServer` acknowledging on an asyncio event loop, a
:class:`~monitor.feed.receiver.FilingReceiver` filing after the ACK on its own thread), on a
background thread of the app's process, writing to the app's database. The screens learn of
what it files as of any other tablet's change: through the change feed (the device
reading's "receive" audit entry), never from this object. :meth:`BackgroundReceiver.stop`
closes the connections, files what was acknowledged and ends both threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import Future
from zoneinfo import ZoneInfo

from monitor.feed.filing import FeedFiling
from monitor.feed.interpret import FeedHandler
from monitor.feed.mllp import MllpServer
from monitor.feed.receiver import FilingReceiver
from monitor.service.clinic import ClinicService

log = logging.getLogger(__name__)

#: How long :meth:`BackgroundReceiver.start` waits for the port, and :meth:`stop` for the
#: connections to close (seconds).
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


class ReceiverStartError(OSError):
    """The port could not be listened on (taken, not allowed); the message says which."""


class BackgroundReceiver:
    """An MLLP receiver on a background thread, filing into ``service``'s database."""

    def __init__(self, service: ClinicService, zone: ZoneInfo) -> None:
        self._receiver = FilingReceiver(FeedHandler(service.clock, zone), FeedFiling(service))
        self._server = MllpServer(self._receiver, self._receiver.reject)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="feed-receiver",
                                        daemon=True)
        self.address: tuple[str, int] | None = None

    def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Listen on ``host``:``port`` (0: a free port); returns the address bound.

        Raises :class:`ReceiverStartError` (and stops) when the port cannot be had."""
        self._thread.start()
        bound: Future[tuple[str, int]] = asyncio.run_coroutine_threadsafe(
            self._server.start(host, port), self._loop)
        try:
            self.address = bound.result(START_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            self.stop()
            raise ReceiverStartError(
                f"the monitor feed cannot listen on {host}:{port}: "
                f"{getattr(exc, 'strerror', None) or exc}") from exc
        log.info("feed receiver listening on %s:%d", *self.address)
        return self.address

    def join(self) -> None:
        """Wait until every message acknowledged so far is filed (for tests and shutdown)."""
        self._receiver.join()

    def stop(self) -> None:
        """Close the connections, file what was acknowledged, end both threads. Idempotent."""
        if self._thread.is_alive():
            closing = asyncio.run_coroutine_threadsafe(self._server.close(), self._loop)
            try:
                closing.result(STOP_TIMEOUT)
            except TimeoutError:
                log.warning("feed receiver: connections still open after %.0f s", STOP_TIMEOUT)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
        if not self._loop.is_closed():
            self._loop.close()
            self._receiver.close()
            log.info("feed receiver stopped")
