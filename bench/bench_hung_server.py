"""Benchmark of a hung clinic server: how long until the tablet says so, with the defaults.

    python bench/bench_hung_server.py [--no-answer-ms N]

A private PostgreSQL server (tests/support/pgserver.py) is hung with SIGSTOP on the postmaster
and all its processes (its kernel still acknowledges TCP, as for a paused virtual machine).
With the app's default settings (statement timeout 5 s, so a deadline of 10 s; connect
timeout 5 s; the change feed's probe every 15 s) the bench times, from the moment the server
hangs:

a. a :class:`ClinicService` save until it fails as unreachable (a desk, no outbox);
b. a :class:`TabletService` save until it returns held on the tablet;
c. the change feed until it has noticed (its connection dropped: the window then reads the
   chairs again, and that read failing as unreachable puts up the banner);
d. a read of the session until it fails as unreachable (the banner's read), after (c);

``--idle`` makes no save while hung (the feed's probe finds the server hung: (c) and (d) of
an idle tablet). ``--tablet-first`` times (b) before (a): the first call on a hung server
waits out the deadline, the next ones only the connect timeout (the connections made before
the cut are dropped). Then, the server going on (SIGCONT): the drain of the held entry
(stored once).
``--no-answer-ms`` sets ``CHAIRSIDE_PG_NO_ANSWER_MS`` instead of the default. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

# Run from a checkout (python bench/bench_hung_server.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.tablet import TabletService
from monitor.storage.changes.feed import ChangeFeed
from monitor.storage.deadline import NO_ANSWER_ENV
from monitor.storage.outbox import Outbox
from monitor.storage.store import StorageError, open_store
from tests.support.pgserver import private_server, wait_for

NORMAL = {"sbp": "128", "dbp": "78", "hr": "72", "spo2": "98"}
SECRET = b"bench-hung-server-secret-0123456789abcdef"


def timed(fn: Any) -> tuple[float, Any]:
    started = time.monotonic()
    try:
        result: Any = fn()
    except StorageError as exc:
        result = exc
    return round(time.monotonic() - started, 2), result


def run(order: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with private_server() as server, tempfile.TemporaryDirectory() as folder:
        with psycopg.connect(server.dsn(), autocommit=True) as connection:
            connection.execute("CREATE DATABASE chairside")
        url = server.url("chairside")
        clock = ManualClock()
        store = open_store(url, application_name="Chair 1")
        outbox = Outbox(Path(folder) / "outbox.sqlite3")
        feed = ChangeFeed(url, application_name="Chair 1")
        try:
            service = ClinicService(store, clock, secret=SECRET)
            nurse = service.ensure_staff("Nora Nurse", "nurse")
            patient = service.add_patient("MRN-BENCH", by=nurse, name="Pat Example",
                                          weight_kg=70.0)
            session_id = service.start_session(patient.id, by=nurse, chair="1")
            tablet = TabletService(service, outbox, clock)
            tablet.load(session_id)
            feed.start()
            wait_for(feed.connected.is_set, 30, "the feed to connect")
            results["deadline_s"] = feed.no_answer_s
            results["probe_every_s"] = feed.probe_every

            def save(through: Any) -> Any:
                clock.advance(timedelta(minutes=5))
                return through.record_reading(session_id, NORMAL, by=nurse,
                                              reading_id=uuid.uuid4())

            with server.hung():
                hung_at = time.monotonic()
                for step in order:
                    if step == "a":
                        seconds, outcome = timed(lambda: save(service))
                        results["a_desk_save_fails_s"] = seconds
                        results["a_told"] = type(outcome).__name__
                    else:
                        seconds, outcome = timed(lambda: save(tablet))
                        results["b_tablet_save_held_s"] = seconds
                        results["b_held"] = getattr(outcome, "held", None)
                wait_for(lambda: not feed.connected.is_set(), 120, "the feed to notice")
                results["c_feed_noticed_after_hang_s"] = round(time.monotonic() - hung_at, 2)
                seconds, outcome = timed(lambda: service.load(session_id, clock.now()))
                results["d_read_fails_s"] = seconds
                results["d_told"] = getattr(outcome, "reason", type(outcome).__name__)
            thawed_at = time.monotonic()
            seconds, taken = timed(tablet.drain)
            results["drain_after_thaw_s"] = seconds
            results["drained"] = taken
            results["drained_again"] = tablet.drain()
            results["stored_once"] = all(n == 1 for n in stored_counts(server))
            wait_for(feed.connected.is_set, 60, "the feed to connect again")
            results["feed_connected_after_thaw_s"] = round(time.monotonic() - thawed_at, 2)
        finally:
            server.thaw()
            feed.stop()
            outbox.close()
            store.close()
    return results


def stored_counts(server: Any) -> list[int]:
    with psycopg.connect(server.dsn("chairside")) as connection:
        return [n for (n,) in connection.execute(
            "SELECT count(*) FROM readings GROUP BY id")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-answer-ms", type=int, default=None)
    parser.add_argument("--tablet-first", action="store_true",
                        help="time the tablet's save first (b before a)")
    parser.add_argument("--idle", action="store_true",
                        help="no save while hung: time (c) and (d) of an idle tablet")
    args = parser.parse_args()
    if args.no_answer_ms is not None:
        os.environ[NO_ANSWER_ENV] = str(args.no_answer_ms)
    order = "" if args.idle else "ba" if args.tablet_first else "ab"
    print(json.dumps(run(order), indent=2))


if __name__ == "__main__":
    main()
