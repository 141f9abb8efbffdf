"""The headless receiver: the MLLP server acknowledging at once, a worker thread filing.

Each message is parsed and acknowledged on the event loop (no database there, so the ACK
is never delayed by it, nor by mapping each observation: the ACK needs only the parse and
the message's type); the message is then queued to one filing thread, which maps its
observations and files messages in the order they arrived (those that queued up meanwhile
together, in one transaction). When the database refuses a write for a reason of the
environment (server gone, disk full) the thread retries the message every
:data:`RETRY_EVERY` seconds up to :data:`RETRIES` times before it logs the message as not
filed. Log lines name devices, message ids and counts, never patient values.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime

from monitor.feed.filing import FeedFiling
from monitor.feed.interpret import FeedHandler, Interpretation, Received
from monitor.feed.mllp import HandlerResult
from monitor.storage.store import StorageError

log = logging.getLogger(__name__)

RETRY_EVERY = 2.0
RETRIES = 30
#: Messages queued together are filed in one transaction (one commit), up to this many.
BATCH = 50

_STOP = None


class FilingReceiver:
    """An :class:`~monitor.feed.mllp.MllpServer` handler that files after acknowledging.

    ``on_filed`` (optional) is called on the filing thread with each message's result.
    """

    def __init__(self, handler: FeedHandler, filing: FeedFiling,
                 on_filed: Callable[[object], None] | None = None) -> None:
        self.handler = handler
        self.filing = filing
        self.on_filed = on_filed
        self._queue: queue.Queue[Received | None] = queue.Queue()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feed-filing", daemon=True)
        self._thread.start()

    def __call__(self, payload: bytes, peer: str) -> HandlerResult:
        result = self.handler.acknowledge(payload, peer)
        if isinstance(result.outcome, Received):
            self._queue.put(result.outcome)
        return result

    def reject(self, head: bytes, reason: str) -> bytes:
        return self.handler.reject(head, reason)

    def join(self) -> None:
        """Wait until every message queued so far is filed (or given up)."""
        self._queue.join()

    def close(self) -> None:
        """File what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < BATCH and batch[-1] is not _STOP:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                messages = [m for m in map(_interpreted, batch) if m is not None]
                if messages:
                    self._file(messages)
            finally:
                for _ in batch:
                    self._queue.task_done()
            if batch[-1] is _STOP:
                return

    def _file(self, messages: list[tuple[Interpretation, datetime]]) -> None:
        for attempt in range(RETRIES + 1):
            try:
                filed = self.filing.file_batch(messages)
            except StorageError as exc:
                log.warning("%d messages not filed yet (%s); attempt %d", len(messages),
                            exc.reason, attempt + 1)
                if self._stopping.wait(RETRY_EVERY):
                    break
                continue
            except Exception as exc:  # noqa: BLE001 - one bad message must not cost the others
                if len(messages) > 1:
                    for one in messages:
                        self._file([one])
                    return
                message = messages[0][0]
                log.error("message %s from %s could not be filed: %s", message.message_id,
                          message.device_id, type(exc).__name__)
                return
            for (message, _), result in zip(messages, filed, strict=True):
                counts = ", ".join(f"{n} {status}"
                                   for status, n in sorted(result.statuses.items()))
                log.info("message %s from %s (chair %s): %s; %d device readings",
                         message.message_id, result.device_key, result.chair or "-",
                         counts or "none", len(result.device_readings))
                if self.on_filed is not None:
                    self.on_filed(result)
            return
        log.error("%d messages NOT filed: the database stayed unavailable", len(messages))


def _interpreted(item: Received | None) -> tuple[Interpretation, datetime] | None:
    """The message's observations mapped, with its receive time (None: the stop, or a
    message whose mapping failed, which is logged)."""
    if item is None:
        return None
    try:
        return item.interpretation(), item.received_at
    except Exception as exc:  # noqa: BLE001 - one bad message must not stop the filing
        log.error("message %s could not be interpreted: %s", item.message_id,
                  type(exc).__name__)
        return None
