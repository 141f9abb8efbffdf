"""The server's reachability: since when it failed, and how often a read is tried meanwhile."""

from __future__ import annotations

from monitor.clock import ManualClock
from monitor.service.reachability import LAST_RETRY_S, Reachability
from monitor.storage.store import StorageError

UNREACHABLE = StorageError("unreachable", "The database cannot be reached.")


def test_the_outage_dates_from_its_first_failure_until_a_success():
    clock = ManualClock()
    reach = Reachability(clock)
    assert not reach.unreachable
    assert reach.due()
    first = clock.now()
    reach.failed(UNREACHABLE)
    clock.advance(120)
    reach.failed(UNREACHABLE)
    assert reach.since == first
    reach.succeeded()
    assert reach.since is None
    assert reach.last_success == clock.now()


def test_a_full_disk_or_a_lock_is_not_an_outage():
    reach = Reachability(ManualClock())
    reach.failed(StorageError("disk-full", "The disk is full."))
    reach.failed(StorageError("busy", "The database is busy."))
    assert not reach.unreachable


def test_reads_are_tried_again_after_a_wait_that_doubles_up_to_a_limit():
    clock = ManualClock()
    reach = Reachability(clock)
    waits = []
    for _ in range(6):
        reach.failed(UNREACHABLE)
        waited = 0
        while not reach.due():
            clock.advance(1)
            waited += 1
        waits.append(waited)
    assert waits == [1, 2, 4, 8, LAST_RETRY_S, LAST_RETRY_S]
