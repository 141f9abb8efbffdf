"""Benchmark of live changes: commit on one tablet → delivery by another tablet's feed.

    python bench/bench_changes.py [--db URL] [--chairs 4] [--readings 40] [--speedup 10]
                                  [--idle 10] [--saves 100]

a. ``--chairs`` nurses (a thread each, on one tablet's service) save readings at 1 reading/s
   per chair, accelerated ``--speedup`` times, ``--readings`` each. A second
   store's :class:`monitor.storage.changes.feed.ChangeFeed` (the other tablet) receives them. The
   propagation time of each reading is from the moment its transaction committed on the
   writer (a SQLAlchemy ``after_commit`` hook) to the moment the feed's subscriber got it.
   Target: p95 ≤ 1 s (aim: 250 ms).
b. The feed then sits idle for ``--idle`` seconds; the statements it sent are counted on the
   client (every statement of the feed's engine) and, on PostgreSQL, the server's own view
   of the listener's connection (``pg_stat_activity.state_change``) shows whether it moved.
   Reported per minute. Target: (almost) none.
c. What announcing costs a save: ``--saves`` readings saved with the announcement and as
   many with it replaced by a no-op, alternating, on the same database; medians.

PostgreSQL by default (``--db``, else ``$CHAIRSIDE_TEST_PG_URL``), in a schema of its own
that is dropped afterwards; a ``sqlite:///`` URL runs the SQLite feed (``data_version``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

# Run from a checkout (python bench/bench_changes.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from monitor.clock import SystemClock
from monitor.service.clinic import ClinicService
from monitor.storage import audit
from monitor.storage.changes import Change, ChangeKind
from monitor.storage.changes.feed import open_feed
from monitor.storage.store import open_store

SECRET = b"bench-changes-secret-0123456789ab"
PIN = "482913"
P95_TARGET_S = 1.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def private_schema(url: str) -> tuple[str, str]:
    schema = f"bench_changes_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return scoped.render_as_string(hide_password=False), schema


def drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def run(url: str, chairs: int, readings: int, speedup: float, idle_s: float,  # noqa: PLR0917
        saves: int) -> dict[str, Any]:
    clock = SystemClock()
    writer_store, reader_store = open_store(url), open_store(url)
    writer = ClinicService(writer_store, clock, secret=SECRET)
    nurses = [writer.ensure_staff(f"Nurse {n}", "nurse", pin=PIN) for n in range(chairs)]
    sessions = []
    for n, nurse in enumerate(nurses):
        patient = writer.add_patient(f"MRN9000{n:02d}", by=nurse, name=f"Bench {n}")
        sessions.append(writer.start_session(patient.id, by=nurse, chair=str(n + 1)))

    committed_at = threading.local()
    event.listen(writer_store.sessions, "after_commit",
                 lambda _s: setattr(committed_at, "t", time.perf_counter()))
    commits: dict[uuid.UUID, float] = {}
    delivered: dict[uuid.UUID, float] = {}
    all_in = threading.Event()
    expected = chairs * readings

    def got(change: Change) -> None:
        if change.kind is ChangeKind.READING and change.record_id is not None:
            delivered[change.record_id] = time.perf_counter()
            if len(delivered) >= expected:
                all_in.set()

    feed = open_feed(reader_store)
    feed.subscribe(got)
    feed.start()
    assert feed.connected.wait(10), "the feed did not connect"

    def chair(n: int) -> None:
        pause = threading.Event()
        for i in range(readings):
            saved = writer.record_reading(sessions[n], {"sbp": str(120 + i % 20), "dbp": "78",
                                                        "hr": "72", "spo2": "98"},
                                          by=nurses[n])
            commits[saved.id] = committed_at.t
            pause.wait(1.0 / speedup)

    started = time.perf_counter()
    threads = [threading.Thread(target=chair, args=(n,)) for n in range(chairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load_s = time.perf_counter() - started
    all_in.wait(10)
    # Delivery can beat the writer's own return from COMMIT (both wait on the server's
    # answer); those count as 0 and are reported.
    early = sum(1 for r in commits if r in delivered and delivered[r] < commits[r])
    latencies = [max(0.0, delivered[r] - commits[r]) for r in commits if r in delivered]

    # b. idle
    before = feed.statements
    pid = feed.backend_pid
    state_before = server_state(url, pid)
    threading.Event().wait(idle_s)
    idle_statements = feed.statements - before
    state_after = server_state(url, pid)
    feed.stop()
    reader_store.close()
    with_ms, without_ms = save_cost(writer, sessions[0], nurses[0], saves)
    writer_store.close()
    return {
        "backend": make_url(url).get_backend_name(),
        "chairs": chairs, "readings": expected, "delivered": len(latencies),
        "load_s": round(load_s, 2),
        "rate_per_s": round(expected / load_s, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p95_ms": round(percentile(latencies, 95) * 1000, 2),
        "max_ms": round(max(latencies) * 1000, 2),
        "delivered_before_commit_returned": early,
        "idle_s": idle_s,
        "idle_statements": idle_statements,
        "idle_statements_per_min": round(idle_statements * 60 / idle_s, 2),
        "server_saw_activity_while_idle": None if pid is None else state_before != state_after,
        "save_p50_ms_announced": with_ms,
        "save_p50_ms_not_announced": without_ms,
    }


def save_cost(service: ClinicService, session_id: uuid.UUID, nurse: uuid.UUID,
              saves: int) -> tuple[float, float]:
    """Median save time with the announcement and with it replaced by a no-op."""
    announce = audit.announce
    times: dict[bool, list[float]] = {True: [], False: []}
    reading = {"sbp": "126", "dbp": "78", "hr": "72", "spo2": "98"}
    try:
        for n in range(2 * saves):
            announced = n % 2 == 0
            audit.announce = announce if announced else (lambda *_a, **_k: None)
            started = time.perf_counter()
            service.record_reading(session_id, reading, by=nurse)
            times[announced].append(time.perf_counter() - started)
    finally:
        audit.announce = announce
    return (round(statistics.median(times[True]) * 1000, 2),
            round(statistics.median(times[False]) * 1000, 2))


def server_state(url: str, pid: int | None) -> Any:
    if pid is None:
        return None
    admin = create_engine(url)
    try:
        with admin.connect() as connection:
            return connection.execute(
                text("SELECT state_change, query FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid}).first()
    finally:
        admin.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CHAIRSIDE_TEST_PG_URL"),
                        help="database URL (default $CHAIRSIDE_TEST_PG_URL)")
    parser.add_argument("--chairs", type=int, default=4)
    parser.add_argument("--readings", type=int, default=40, help="readings per chair")
    parser.add_argument("--speedup", type=float, default=10.0,
                        help="how many times faster than 1 reading/s per chair")
    parser.add_argument("--idle", type=float, default=10.0, help="idle window, seconds")
    parser.add_argument("--saves", type=int, default=100, help="saves of each kind for c.")
    args = parser.parse_args()
    if not args.db:
        parser.error("--db or $CHAIRSIDE_TEST_PG_URL is needed")
    schema = None
    url = args.db
    if make_url(url).get_backend_name() == "postgresql":
        url, schema = private_schema(args.db)
    elif url in {"sqlite://", "sqlite:///"}:
        url = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    try:
        result = run(url, args.chairs, args.readings, args.speedup, args.idle, args.saves)
    finally:
        if schema is not None:
            drop_schema(args.db, schema)
    for key, value in result.items():
        print(f"{key}: {value}")
    ok = result["delivered"] == result["readings"] and result["p95_ms"] <= P95_TARGET_S * 1000
    print("target met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
