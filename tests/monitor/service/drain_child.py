"""A tablet that drains its outbox and is killed while at it (test_tablet_outage.py).

    python -m tests.monitor.service.drain_child URL OUTBOX CLOCK

Drains the outbox at OUTBOX into the database at URL, its clock standing at CLOCK (ISO),
and prints the id of each entry as it leaves the outbox, so that the test can kill it at a
point of its choosing.
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime
from pathlib import Path

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from monitor.storage.store import open_store
from tests.conftest import TEST_SECRET


def main(url: str, outbox_path: str, clock_at: str) -> int:
    clock = ManualClock(datetime.fromisoformat(clock_at))
    store = open_store(url, application_name="drain child")
    outbox = Outbox(Path(outbox_path))
    let_go = outbox.remove

    def remove(entry_id: uuid.UUID) -> None:
        let_go(entry_id)
        print(entry_id, flush=True)

    outbox.remove = remove  # type: ignore[method-assign]
    print("ready", flush=True)
    TabletService(ClinicService(store, clock, secret=TEST_SECRET), outbox, clock).drain()
    print("done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
