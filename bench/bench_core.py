"""Benchmark of the core's three hot paths against raw SQL on a clinic-sized database.

    python bench/bench_core.py [--sessions 75000] [--db PATH | --db-url URL] [--reuse]

Fills a database with :func:`monitor.demo.data.generate` (or reuses one filled earlier: filling
75,000 sessions takes minutes), then times, each over many repetitions on randomly picked
patients and sessions (fixed seed):

a. listing a patient's sessions: ``ClinicService.patient_sessions`` vs the same query
   through the driver;
b. loading a session with its flags and discharge evaluated: ``ClinicService.load`` vs
   fetching the same rows (session and patient, readings, events, acknowledgements,
   corrections) through the driver;
c. saving one reading durably: ``ClinicService.record_reading`` (validation, insert, flag
   evaluation, commit) vs a single INSERT and COMMIT through the driver on the same
   database with the same settings (SQLite: WAL, ``synchronous=FULL``).

Targets: each service call within 3× its raw counterpart and under 50 ms (median).
SQLite by default; ``--db-url postgresql+psycopg://…`` runs the same against PostgreSQL,
with psycopg for the raw side.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import secrets
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run from a checkout (python bench/bench_core.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from sqlalchemy.engine import URL, make_url

from monitor.clinical.domain import EventKind
from monitor.clock import ManualClock
from monitor.demo.data import generate
from monitor.service.clinic import ClinicService
from monitor.storage.model import Base, Patient, TreatmentSession
from monitor.storage.store import SQLITE_BUSY_TIMEOUT_MS, Store, open_store, sqlite_file

OUT_DIR = Path(__file__).resolve().parent / "out"
#: The "now" the demo history ends at; fixed so that a reused database fits the clock.
FILL_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RATIO_TARGET = 3.0
MS_TARGET = 50.0

LIST_SQL = """
SELECT s.id, s.time, s.chair, s.profile, s.dose_mg, s.planned_mg_per_kg, coalesce(c.n, 0)
FROM sessions AS s
LEFT OUTER JOIN (
    SELECT r.session_id AS session_id, count(*) AS n
    FROM readings AS r JOIN sessions AS rs ON rs.id = r.session_id
    WHERE rs.patient_id = {p}
    GROUP BY r.session_id
) AS c ON c.session_id = s.id
WHERE s.patient_id = {p}
ORDER BY s.time DESC
"""

LOAD_SQL = (
    "SELECT s.*, p.* FROM sessions AS s JOIN patients AS p ON p.id = s.patient_id "
    "WHERE s.id = {p}",
    "SELECT c.*, st.name FROM corrections AS c JOIN staff AS st ON st.id = c.entered_by "
    "WHERE c.session_id = {p} AND c.time <= {p} ORDER BY c.time",
    "SELECT replacement_id FROM corrections WHERE session_id = {p} AND time > {p} "
    "AND replacement_id IS NOT NULL",
    "SELECT * FROM readings WHERE session_id = {p} AND time <= {p} ORDER BY time, recorded_at",
    "SELECT id, time, kind, detail FROM events WHERE session_id = {p} AND time <= {p} "
    "ORDER BY time, recorded_at",
    "SELECT a.flag_id, a.time, a.action, a.note, st.name FROM acknowledgements AS a "
    "JOIN staff AS st ON st.id = a.entered_by WHERE a.session_id = {p} AND a.time <= {p} "
    "ORDER BY a.time",
)

READING_COLUMNS = (
    "id", "recorded_at", "entered_by", "session_id", "time", "sbp", "dbp", "hr", "spo2", "rr",
    "on_oxygen", "cadss6", "cadss6_items", "moaas", "nausea", "anxiety", "pain", "phq9",
    "phq9_items", "gad7", "gad7_items", "note",
)


# -- the raw side: the driver alone ----------------------------------------------------------


class Raw:
    """The same statements through the DB-API driver, with no ORM and no rules."""

    def __init__(self, url: URL) -> None:
        self.sqlite = url.get_backend_name() == "sqlite"
        if self.sqlite:
            path = sqlite_file(url)
            assert path is not None
            self.connection: Any = sqlite3.connect(path, isolation_level=None)
            # The same settings the store gives every connection.
            for pragma in (f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}", "foreign_keys = ON",
                           "journal_mode = WAL", "synchronous = FULL"):
                self.connection.execute(f"PRAGMA {pragma}")
            marker = "?"
        else:
            import psycopg  # only needed for PostgreSQL  # noqa: PLC0415

            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.connection = psycopg.connect(conninfo, autocommit=True)
            marker = "%s"
        self.list_sql = LIST_SQL.format(p=marker)
        self.load_sql = tuple(sql.format(p=marker) for sql in LOAD_SQL)
        self.insert_sql = (
            f"INSERT INTO readings ({', '.join(READING_COLUMNS)}) "
            f"VALUES ({', '.join([marker] * len(READING_COLUMNS))})"
        )

    def key(self, value: uuid.UUID) -> Any:
        # SQLAlchemy keeps UUIDs as 32 hex digits in SQLite, natively in PostgreSQL.
        return value.hex if self.sqlite else value

    def when(self, value: datetime) -> Any:
        # SQLite holds naive UTC text, in the format SQLAlchemy writes.
        if self.sqlite:
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        return value

    def patient_sessions(self, patient_id: uuid.UUID) -> list[Any]:
        key = self.key(patient_id)
        return self.connection.execute(self.list_sql, (key, key)).fetchall()

    def load(self, session_id: uuid.UUID, at: datetime) -> list[list[Any]]:
        key, when = self.key(session_id), self.when(at)
        execute = self.connection.execute
        # As the service reads: statement by statement in SQLite (pysqlite opens no
        # transaction for a SELECT), in one transaction in PostgreSQL.
        with self.transaction(reading=True):
            return [execute(self.load_sql[0], (key,)).fetchall(),
                    *(execute(sql, (key, when)).fetchall() for sql in self.load_sql[1:])]

    def save(self, row: dict[str, Any]) -> None:
        params = []
        for name in READING_COLUMNS:
            value = row[name]
            if isinstance(value, uuid.UUID):
                value = self.key(value)
            elif isinstance(value, datetime):
                value = self.when(value)
            elif name.endswith("_items"):
                value = self.json(value)
            params.append(value)
        with self.transaction():
            self.connection.execute(self.insert_sql, params)

    def json(self, value: Any) -> Any:
        if self.sqlite:
            return json.dumps(value)
        from psycopg.types.json import Json  # noqa: PLC0415

        return Json(value)

    @contextmanager
    def transaction(self, *, reading: bool = False) -> Iterator[None]:
        if self.sqlite and reading:
            yield
        elif self.sqlite:
            self.connection.execute("BEGIN")
            try:
                yield
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")
        else:
            with self.connection.transaction():
                yield

    def close(self) -> None:
        self.connection.close()


# -- timing ----------------------------------------------------------------------------------


@dataclass
class Timing:
    name: str
    service_ms: list[float]
    raw_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.service_ms)

    @property
    def p95(self) -> float:
        return percentile(self.service_ms, 95)

    @property
    def raw_median(self) -> float:
        return statistics.median(self.raw_ms)

    @property
    def ratio(self) -> float:
        return self.median / self.raw_median


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


Pair = tuple[Callable[[], object], Callable[[], object]]


def compare(name: str, pairs: list[Pair], warmup: int,
            between: Callable[[int], object] | None = None) -> Timing:
    """Run each (service, raw) pair, alternating, so both meet the same cache and WAL.

    ``between`` runs untimed before each pair (setting the scene: the clock, a new session).
    """
    timing = Timing(name, [], [])
    for index, (service_call, raw_call) in enumerate(pairs):
        if between is not None:
            between(index)
        service_ms, raw_ms = timed(service_call), timed(raw_call)
        if index >= warmup:
            timing.service_ms.append(service_ms)
            timing.raw_ms.append(raw_ms)
    return timing


# -- the three operations --------------------------------------------------------------------


def sample_ids(store: Store, model: Any, count: int, rng: random.Random) -> list[uuid.UUID]:
    with store.read() as db:
        ids = sorted(db.scalars(select(model.id)))
    return [rng.choice(ids) for _ in range(count)]


def bench_list(service: ClinicService, raw: Raw, patients: list[uuid.UUID],
               warmup: int) -> Timing:
    pairs: list[Pair] = [
        (lambda p=p: service.patient_sessions(p), lambda p=p: raw.patient_sessions(p))
        for p in patients
    ]
    return compare("(a) list a patient's sessions", pairs, warmup)


def bench_load(service: ClinicService, raw: Raw, sessions: list[uuid.UUID],
               warmup: int) -> Timing:
    at = service.clock.now()
    pairs: list[Pair] = [
        (lambda s=s: service.load(s), lambda s=s: raw.load(s, at)) for s in sessions
    ]
    return compare("(b) load a session (flags, discharge)", pairs, warmup)


def bench_save(service: ClinicService, raw: Raw, clock: ManualClock, patients: list[uuid.UUID], *,
               count: int, warmup: int, rng: random.Random) -> Timing:
    """Readings saved a minute apart into live sessions of up to 27 readings each.

    Each live session is started (infusion running) untimed, just before its first
    reading. The service's readings go into one live session and the raw ones into another,
    so the raw rows never change what the service's flag evaluation sees.
    """
    nurse = service.ensure_staff("Bench Nurse", "nurse")
    per_session = 27
    live: dict[str, uuid.UUID] = {}

    def between(index: int) -> None:
        clock.advance(timedelta(minutes=1))
        if index % per_session == 0:
            for number, side in enumerate(("service", "raw")):
                patient = patients[(2 * index + number) % len(patients)]
                live[side] = service.start_session(patient, by=nurse, chair="1")
                service.record_event(live[side], EventKind.INFUSION_START, by=nurse)
            clock.advance(timedelta(minutes=1))

    def values() -> dict[str, int]:
        # Ordinary values: most saves at the chair raise no flag.
        sbp = rng.randint(112, 128)
        return {"sbp": sbp, "dbp": sbp - rng.randint(35, 45), "hr": rng.randint(62, 80),
                "spo2": rng.randint(95, 99), "rr": rng.randint(12, 18), "moaas": 5, "nausea": 0}

    def service_save() -> None:
        typed = {name: str(value) for name, value in values().items()}  # as keyed in
        service.record_reading(live["service"], typed, by=nurse, reading_id=uuid.uuid4())

    def raw_save() -> None:
        now = clock.now()
        row: dict[str, Any] = dict.fromkeys(READING_COLUMNS)
        row.update(values(), id=uuid.uuid4(), recorded_at=now, entered_by=nurse,
                   session_id=live["raw"], time=now, on_oxygen=False, note="")
        raw.save(row)

    pairs: list[Pair] = [(service_save, raw_save)] * (count + warmup)
    return compare("(c) save one reading durably", pairs, warmup, between)


# -- filling ---------------------------------------------------------------------------------


def row_counts(store: Store) -> dict[str, int]:
    with store.read() as db:
        return {table.name: db.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}


def prepare(args: argparse.Namespace) -> tuple[Store, float | None]:
    """Open the database, filling it unless a filled one may be reused; returns fill seconds."""
    url = make_url(args.db_url or f"sqlite:///{Path(args.db).resolve()}")
    path = sqlite_file(url)
    # Only the bench's own files are replaced; any other database must be empty or reused.
    if path is not None and path.exists() and not args.reuse and OUT_DIR in path.parents:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(url)
    with store.read() as db:
        existing = db.scalar(select(func.count()).select_from(TreatmentSession)) or 0
    if existing:
        if args.reuse:
            return store, None
        store.close()
        raise SystemExit(f"{url.render_as_string()} already holds {existing} sessions: "
                         "pass --reuse, or use an empty database")
    print(f"filling {args.sessions} sessions into {url.render_as_string()} …", flush=True)
    started = time.perf_counter()

    def progress(done: int) -> None:
        if done % 10_000 < 1_000 or done == args.sessions:
            print(f"  {done:>7} sessions  {time.perf_counter() - started:7.1f} s", flush=True)

    generate(store, sessions=args.sessions, seed=args.seed, clock_now=FILL_NOW,
             progress=progress, workers=args.workers)
    return store, time.perf_counter() - started


def database_size(store: Store) -> str:
    path = sqlite_file(store.url)
    if path is not None:
        total = sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal")
                    if Path(f"{path}{s}").exists())
    else:
        with store.read() as db:
            total = db.scalar(text(
                "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class AS c "
                "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind = 'r'"
            )) or 0
    return f"{total / 2**20:,.0f} MiB"


# -- reporting -------------------------------------------------------------------------------


def report(timings: list[Timing]) -> None:
    header = (f"{'operation':<40} {'median ms':>10} {'p95 ms':>8} {'raw median ms':>14} "
              f"{'ratio':>6}  ≤{RATIO_TARGET:g}× raw  ≤{MS_TARGET:g} ms")
    print(header)
    print("-" * len(header))
    for t in timings:
        ratio_ok = "PASS" if t.ratio <= RATIO_TARGET else "MISS"
        ms_ok = "PASS" if t.median <= MS_TARGET else "MISS"
        print(f"{t.name:<40} {t.median:>10.2f} {t.p95:>8.2f} {t.raw_median:>14.3f} "
              f"{t.ratio:>6.1f}  {ratio_ok:>9}  {ms_ok:>7}")


def profile(name: str, call: Callable[[], object], repeat: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(repeat):
        call()
    profiler.disable()
    print(f"\nprofile of {name} ({repeat} calls), by own time:")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=75_000)
    parser.add_argument("--db", default=str(OUT_DIR / "bench.sqlite3"),
                        help="SQLite file (default bench/out/bench.sqlite3)")
    parser.add_argument("--db-url", help="a database URL instead of --db, e.g. "
                        "postgresql+psycopg://user@host/db")
    parser.add_argument("--reuse", action="store_true",
                        help="keep a database filled by an earlier run")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=300, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                        help="processes building demo rows while this one writes")
    parser.add_argument("--profile", choices=("list", "load", "save"),
                        help="also profile the service side of one operation")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    OUT_DIR.mkdir(exist_ok=True)
    store, fill_seconds = prepare(args)
    counts = row_counts(store)
    clock = ManualClock(FILL_NOW)
    service = ClinicService(store, clock, secret=secrets.token_bytes(32))
    raw = Raw(store.url)
    rng = random.Random(args.seed)
    try:
        patients = sample_ids(store, Patient, args.repeat + args.warmup, rng)
        sessions = sample_ids(store, TreatmentSession, args.repeat + args.warmup, rng)
        print(f"database: {store.url.render_as_string()}  ({database_size(store)})")
        print("fill: " + ("reused an earlier fill" if fill_seconds is None
                          else f"{fill_seconds:.1f} s"))
        print("rows: " + ", ".join(f"{name} {n:,}" for name, n in counts.items()))
        if counts["sessions"]:
            print(f"readings per session: {counts['readings'] / counts['sessions']:.1f}")
        print(f"timed calls per operation: {args.repeat} (after {args.warmup} warm-up), "
              f"seed {args.seed}; python {sys.version.split()[0]}, {os.cpu_count()} CPUs\n")
        timings = [
            bench_list(service, raw, patients, args.warmup),
            bench_load(service, raw, sessions, args.warmup),
            bench_save(service, raw, clock, patients, count=args.repeat, warmup=args.warmup,
                       rng=rng),
        ]
        report(timings)
        if args.profile == "list":
            profile("patient_sessions", lambda: service.patient_sessions(rng.choice(patients)),
                    args.repeat)
        elif args.profile == "load":
            profile("load", lambda: service.load(rng.choice(sessions)), args.repeat)
        elif args.profile == "save":
            nurse = service.ensure_staff("Bench Nurse", "nurse")
            live = service.start_session(patients[0], by=nurse)
            service.record_event(live, EventKind.INFUSION_START, by=nurse)

            def save() -> None:
                clock.advance(timedelta(minutes=1))
                service.record_reading(live, {"sbp": "120", "dbp": "80", "hr": "70"}, by=nurse)

            profile("record_reading", save, min(args.repeat, 27))
    finally:
        raw.close()
        store.close()


if __name__ == "__main__":
    main()
