"""Benchmark of tablets saving at once: readings/s for 1, 2 and 3 writer processes.

    python bench/bench_writers.py [--db URL] [--readings 500] [--writers 1,2,3]
                                  [--own-sessions]

Each writer is a process of its own (spawn; its own pool and service, as a tablet), saving
``--readings`` readings one after another, every fifth of them fast (a flag now and then).
The writers line up at a barrier and start together; a run's time is the slowest writer's,
from the barrier to its last commit. Printed per number of writers: the readings saved, the
seconds, readings/s, and the ratio of readings/s to one writer's in the same run (the
baseline: 1.00; N writers that never waited for each other would reach N).

By default every writer saves into the same session (the case reported: 16 s for 1,000
readings from two writers against 3.6 s for 500 from one); ``--own-sessions`` gives each
writer a session of its own, which tells waiting on one session apart from waiting on the
clinic-wide audit chain.

PostgreSQL (``--db``, else ``$CHAIRSIDE_TEST_PG_URL``), a schema of its own per run, dropped
afterwards.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from pathlib import Path

# Run from a checkout (python bench/bench_writers.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store
from tests.monitor.service.tablet_processes import SECRET, START, run_tablets, save_readings


def private_schema(url: str) -> tuple[str, str]:
    schema = f"bench_writers_{uuid.uuid4().hex[:12]}"
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


def run(base_url: str, writers: int, readings: int, own_sessions: bool) -> float:
    """Seconds the slowest of ``writers`` processes took to save ``readings`` each."""
    url, schema = private_schema(base_url)
    try:
        store = open_store(url)
        try:
            office = ClinicService(store, ManualClock(START), secret=SECRET)
            nurse = office.ensure_staff("Bench Nurse", "nurse")
            sessions = []
            for n in range(writers if own_sessions else 1):
                patient = office.add_patient(f"MRN-BENCH-{n}", by=nurse, weight_kg=70.0)
                sessions.append(office.start_session(patient.id, by=nurse, chair=str(n + 1)))
        finally:
            store.close()
        took = run_tablets(save_readings, url, [
            (sessions[n % len(sessions)], nurse, [uuid.uuid4() for _ in range(readings)])
            for n in range(writers)])
        return max(took)
    finally:
        drop_schema(base_url, schema)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CHAIRSIDE_TEST_PG_URL"),
                        help="PostgreSQL URL (default $CHAIRSIDE_TEST_PG_URL)")
    parser.add_argument("--readings", type=int, default=500, help="readings per writer")
    parser.add_argument("--writers", default="1,2,3", help="numbers of writers, in order")
    parser.add_argument("--own-sessions", action="store_true",
                        help="each writer saves into a session of its own")
    args = parser.parse_args()
    if not args.db or make_url(args.db).get_backend_name() != "postgresql":
        parser.error("--db or $CHAIRSIDE_TEST_PG_URL must name a PostgreSQL server")
    counts = [int(n) for n in args.writers.split(",")]
    where = "a session each" if args.own_sessions else "one session"
    print(f"{args.readings} readings per writer, {where}, cores: {os.cpu_count()}")
    baseline: float | None = None
    for writers in counts:
        seconds = run(args.db, writers, args.readings, args.own_sessions)
        rate = writers * args.readings / seconds
        baseline = baseline or rate
        print(f"{writers} writer(s): {writers * args.readings} readings in {seconds:.1f} s, "
              f"{rate:.0f} readings/s, ratio {rate / baseline:.2f} to {counts[0]} writer(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
