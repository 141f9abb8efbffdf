"""A patient's course read in batches against the same course read one session at a time,
interleaved in the same run, on the bench's 75,000 sessions.

    python bench/bench_course.py [--db bench/out/bench.sqlite3] [--repeat 60] [--pg [URL]]

Needs the databases of ``bench/bench_review.py`` (the SQLite file, and with ``--pg`` its
PostgreSQL copy, made or reused as that bench does). For randomly picked patients (fixed
seed), times ``ClinicService.course`` (all sessions read in a fixed number of statements)
and, right after it on the same patient, the course as it was read before: each session's
info, corrections, readings, events and acknowledgements, one session at a time, then the
same evaluation. Alternating the two on a shared machine gives both the same load. Prints
the medians, their ratio and the statements each sends.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select

from bench.bench_review import FILL_NOW, OUT_DIR, PG_DATABASE, open_postgresql
from monitor.clinical.permissions import Action
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.evaluation import evaluate
from monitor.service.review import Course, course_of
from monitor.storage import queries
from monitor.storage.model import Patient
from monitor.storage.records import load_record, patient_info, session_info
from monitor.storage.store import Store, open_store


def one_at_a_time(service: ClinicService, clinician: uuid.UUID, patient_id: uuid.UUID) -> Course:
    """The course as it was read before the batching (after the same permission check)."""
    service.guard.require(clinician, Action.REVIEW, patient_id=patient_id)
    at = service.clock.now()
    with service.store.read() as db:
        connection = db.connection()
        patient = db.get(Patient, patient_id)
        assert patient is not None
        views = []
        for summary in connection.execute(queries.PATIENT_SESSIONS, {"patient_id": patient_id}):
            info = session_info(connection, summary.id)
            record, superseded, corrections = load_record(connection, summary.id, at)
            views.append(evaluate(
                info=info, protocol=service.session_protocols.protocol_of(connection, info),
                record=record, at=at, superseded=superseded, corrections=corrections))
        return course_of(patient_info(patient), views)


def statements(store: Store, call: Callable[[], object]) -> int:
    sent: list[str] = []

    def count(*_args: object) -> None:
        sent.append("")

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    return len(sent)


def run(name: str, store: Store, args: argparse.Namespace) -> None:
    service = ClinicService(store, ManualClock(FILL_NOW), secret=secrets.token_bytes(32))
    clinician = service.ensure_staff("Benchmark clinician", "clinician")
    with store.read() as db:
        patients = sorted(db.scalars(select(Patient.id)))
    rng = random.Random(args.seed)
    picked = [rng.choice(patients) for _ in range(args.repeat + args.warmup)]
    batched: list[float] = []
    before: list[float] = []
    sessions: list[int] = []
    for number, patient_id in enumerate(picked):
        calls = [(batched, lambda p=patient_id: service.course(p, by=clinician)),
                 (before, lambda p=patient_id: one_at_a_time(service, clinician, p))]
        if number % 2:
            calls.reverse()  # neither always runs second, on a warmed cache
        results = []
        for times, call in calls:
            started = time.perf_counter()
            results.append(call())
            if number >= args.warmup:
                times.append((time.perf_counter() - started) * 1000)
        assert results[0] == results[1], "the batched course differs"
        sessions.append(len(results[0].rows))
    first = picked[0]
    sent_batched = statements(store, lambda: service.course(first, by=clinician))
    sent_before = statements(store, lambda: one_at_a_time(service, clinician, first))
    new, old = statistics.median(batched), statistics.median(before)
    print(f"{name}: {len(picked) - args.warmup} courses, {statistics.median(sessions):.0f} "
          f"sessions per patient (median)")
    print(f"  batched (service.course)    median {new:7.2f} ms  p95 "
          f"{statistics.quantiles(batched, n=20)[-1]:7.2f} ms  {sent_batched} statements")
    print(f"  one session at a time       median {old:7.2f} ms  p95 "
          f"{statistics.quantiles(before, n=20)[-1]:7.2f} ms  {sent_before} statements")
    print(f"  batched / one at a time     {new / old:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=str(OUT_DIR / "bench.sqlite3"))
    parser.add_argument("--pg", nargs="?", const=os.environ.get("CHAIRSIDE_TEST_PG_URL", ""))
    parser.add_argument("--pg-database", default=PG_DATABASE)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.pg == "":
        parser.error("--pg needs a URL, or $CHAIRSIDE_TEST_PG_URL")
    path = Path(args.db).resolve()
    if not path.exists():
        raise SystemExit(f"{path} does not exist: fill it with bench/bench_core.py first")
    load = os.getloadavg()
    stores = [("SQLite", open_store(f"sqlite:///{path}"))]
    if args.pg:
        stores.append(("PostgreSQL", open_postgresql(args.pg, args.pg_database, stores[0][1])))
    try:
        for name, store in stores:
            run(name, store, args)
    finally:
        for _, store in stores:
            store.close()
    print(f"load average at the start: {tuple(round(x, 2) for x in load)}, "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
