"""Benchmark of the outbox: how fast held entries reach PostgreSQL when the server is back.

    python bench/bench_outbox.py [--entries 1000] [--sessions 40] [--db-url URL]

The entries are readings spread over ``--sessions`` sessions, in turn (a long outage of a
clinic's day: 25 readings a session by default), the same for each way of saving them.

a. Saves ``--entries`` readings straight to the server with ``ClinicService.record_reading``
   (the baseline: what a tablet does while the server answers).
b. Holds the same number on the tablet while the server is away (the store fails as an
   unreachable server makes it fail) through :class:`monitor.service.tablet.TabletService`:
   each is committed to the outbox file (WAL, ``synchronous=FULL``) before the call returns.
c. Times :meth:`TabletService.drain` giving them to the server, in order, each once.

Prints entries per second for each and the drain's time over the direct saves' (same run,
same server, a session each). ``--db-url`` defaults to ``$CHAIRSIDE_TEST_PG_URL``; the bench
works in a schema of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Run from a checkout (python bench/bench_outbox.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.tablet import TabletService
from monitor.storage.outbox import Outbox
from monitor.storage.store import NotSavedError, Store, StoreUnavailableError, open_store

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
SECRET = b"bench-outbox-secret-0123456789ab"


def reading(n: int) -> dict[str, str]:
    return {"sbp": str(118 + n % 20), "dbp": "78", "hr": str(64 + n % 30), "spo2": "97"}


@contextmanager
def unreachable(store: Store) -> Iterator[None]:
    """The server away: every read and write fails as an unreachable server makes it."""

    @contextmanager
    def write() -> Iterator[None]:
        raise NotSavedError("unreachable", "NOT saved: the database cannot be reached.")
        yield

    @contextmanager
    def read() -> Iterator[None]:
        raise StoreUnavailableError("unreachable", "Could not read: unreachable.")
        yield

    store.write = write  # type: ignore[method-assign]
    store.read = read  # type: ignore[method-assign]
    try:
        yield
    finally:
        del store.__dict__["write"], store.__dict__["read"]


@contextmanager
def own_schema(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(url: str, entries: int, sessions: int, folder: Path) -> dict[str, float]:
    clock = ManualClock(START)
    store = open_store(url, application_name="bench outbox")
    outbox = Outbox(folder / "outbox.sqlite3")
    try:
        service = ClinicService(store, clock, secret=SECRET)
        nurse = service.ensure_staff("Bench Nurse", "nurse")
        patient = service.add_patient("MRN-BENCH", by=nurse, name="Bench Patient",
                                      weight_kg=70.0)
        direct = [service.start_session(patient.id, by=nurse, chair=f"D{n}")
                  for n in range(sessions)]
        held = [service.start_session(patient.id, by=nurse, chair=f"H{n}")
                for n in range(sessions)]
        tablet = TabletService(service, outbox, clock)
        for session_id in held:
            tablet.load(session_id)

        started = time.perf_counter()
        for n in range(entries):
            clock.advance(timedelta(seconds=30))
            service.record_reading(direct[n % sessions], reading(n), by=nurse)
        direct_s = time.perf_counter() - started

        with unreachable(store):
            started = time.perf_counter()
            for n in range(entries):
                clock.advance(timedelta(seconds=30))
                tablet.record_reading(held[n % sessions], reading(n), by=nurse)
            hold_s = time.perf_counter() - started
        assert outbox.count() == entries

        started = time.perf_counter()
        drained = tablet.drain()
        drain_s = time.perf_counter() - started
        assert drained == entries, drained
        assert outbox.count() == 0
        stored = sum(len(tablet.load(s).record.readings) for s in held)
        assert stored == entries, stored
    finally:
        outbox.close()
        store.close()
    return {
        "entries": entries,
        "sessions": sessions,
        "direct_s": round(direct_s, 3),
        "direct_per_s": round(entries / direct_s, 1),
        "hold_s": round(hold_s, 3),
        "hold_per_s": round(entries / hold_s, 1),
        "drain_s": round(drain_s, 3),
        "drain_per_s": round(entries / drain_s, 1),
        "drain_over_direct": round(drain_s / direct_s, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=40)
    parser.add_argument("--db-url", default=os.environ.get("CHAIRSIDE_TEST_PG_URL"))
    args = parser.parse_args(argv)
    if not args.db_url:
        parser.error("--db-url (or $CHAIRSIDE_TEST_PG_URL): a PostgreSQL server")
    with own_schema(args.db_url) as url, tempfile.TemporaryDirectory() as folder:
        figures = run(url, args.entries, args.sessions, Path(folder))
    print(json.dumps(figures, indent=2))
    print(f"drain: {figures['drain_per_s']} entries/s; "
          f"{figures['drain_over_direct']}x the time of the same entries saved directly")
    return 0


if __name__ == "__main__":
    sys.exit(main())
