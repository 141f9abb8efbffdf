"""Benchmark of the clinician's review at clinic scale, against raw SQL in the same run.

    python bench/bench_review.py [--db bench/out/bench.sqlite3] [--repeat 60]

Needs a database filled by ``python bench/bench_core.py --sessions 75000`` (about
2 million readings; reuse it with ``--reuse``). Times, on randomly picked patients and
sessions (fixed seed), each service call and the bare SQL of the same rows through the
sqlite3 driver (no flag counts, no rules):

a. the first page of the session list (50 rows, newest first), unfiltered;
b. the same with a text filter (part of a patient's surname) and with flagged-only;
c. a page deep in the list (keyset after the 100th page);
d. opening a session: ``ClinicService.load`` (the chart's data; drawing is the UI's part);
e. a patient's course: ``ClinicService.course``.

Targets: the list's first page ≤ 100 ms, opening a session and a course ≤ 150 ms (median).
Prints the query plans of the list's statements first, to show they run on indexes.
"""

from __future__ import annotations

import argparse
import random
import secrets
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.review import Cursor, SessionQuery, find_sessions
from monitor.storage.model import FlagRow, Patient, TreatmentSession
from monitor.storage.store import open_store

OUT_DIR = Path(__file__).resolve().parent / "out"
#: The "now" bench_core fills up to; the clock stays there so the records read as recent.
FILL_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TARGETS = {"list": 100.0, "load": 150.0, "course": 150.0}

PAGE_SQL = (
    "SELECT s.id, s.patient_id, p.mrn, p.name, s.time, s.chair, s.profile "
    "FROM sessions AS s JOIN patients AS p ON p.id = s.patient_id {where} "
    "ORDER BY s.time DESC, s.id DESC LIMIT 51"
)
TEXT_WHERE = ("WHERE s.patient_id IN (SELECT id FROM patients "
              "WHERE lower(name) LIKE ? OR lower(mrn) LIKE ?)")
FLAGGED_WHERE = "WHERE EXISTS (SELECT 1 FROM flags AS f WHERE f.session_id = s.id)"
AFTER_WHERE = "WHERE (s.time, s.id) < (?, ?)"
LOAD_SQL = (
    "SELECT s.*, p.* FROM sessions AS s JOIN patients AS p ON p.id = s.patient_id "
    "WHERE s.id = ?",
    "SELECT c.*, st.name FROM corrections AS c JOIN staff AS st ON st.id = c.entered_by "
    "WHERE c.session_id = ? ORDER BY c.time",
    "SELECT r.*, st.name FROM readings AS r LEFT JOIN staff AS st ON st.id = r.entered_by "
    "WHERE r.session_id = ? ORDER BY r.time, r.recorded_at",
    "SELECT e.id, e.time, e.kind, e.detail, st.name FROM events AS e "
    "LEFT JOIN staff AS st ON st.id = e.entered_by WHERE e.session_id = ? "
    "ORDER BY e.time, e.recorded_at",
    "SELECT a.flag_id, a.time, a.action, a.note, st.name FROM acknowledgements AS a "
    "JOIN staff AS st ON st.id = a.entered_by WHERE a.session_id = ? ORDER BY a.time",
)
COURSE_SQL = (
    "SELECT s.* FROM sessions AS s WHERE s.patient_id = ? ORDER BY s.time",
    "SELECT r.* FROM readings AS r JOIN sessions AS s ON s.id = r.session_id "
    "WHERE s.patient_id = ? ORDER BY r.session_id, r.time",
    "SELECT e.* FROM events AS e JOIN sessions AS s ON s.id = e.session_id "
    "WHERE s.patient_id = ? ORDER BY e.session_id, e.time",
    "SELECT a.* FROM acknowledgements AS a JOIN sessions AS s ON s.id = a.session_id "
    "WHERE s.patient_id = ?",
    "SELECT c.* FROM corrections AS c JOIN sessions AS s ON s.id = c.session_id "
    "WHERE s.patient_id = ?",
)


@dataclass
class Timing:
    name: str
    target: float
    service_ms: list[float]
    raw_ms: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.service_ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.service_ms)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def raw_median(self) -> float:
        return statistics.median(self.raw_ms)


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def compare(name: str, target: float, pairs: list[tuple[Callable[[], object],
                                                        Callable[[], object]]],
            warmup: int) -> Timing:
    """Each (service, raw) pair in turn, so both meet the same cache."""
    timing = Timing(name, target, [], [])
    for index, (service_call, raw_call) in enumerate(pairs):
        service_ms, raw_ms = timed(service_call), timed(raw_call)
        if index >= warmup:
            timing.service_ms.append(service_ms)
            timing.raw_ms.append(raw_ms)
    return timing


def raw_rows(connection: sqlite3.Connection, sql: str, *params: object) -> list[object]:
    return connection.execute(sql, params).fetchall()


def explain(connection: sqlite3.Connection, title: str, sql: str, *params: object) -> None:
    print(f"\nquery plan — {title}:")
    for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params):
        print(f"  {row[3]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=str(OUT_DIR / "bench.sqlite3"),
                        help="a SQLite file filled by bench_core.py")
    parser.add_argument("--repeat", type=int, default=60, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    path = Path(args.db).resolve()
    if not path.exists():
        raise SystemExit(f"{path} does not exist: fill it with bench/bench_core.py first")
    store = open_store(f"sqlite:///{path}")  # migrates to the current schema (the indexes)
    clock = ManualClock(FILL_NOW)
    service = ClinicService(store, clock, secret=secrets.token_bytes(32))
    clinician = service.ensure_staff("Benchmark clinician", "clinician")
    rng = random.Random(args.seed)
    with store.read() as db:
        patients = list(db.execute(select(Patient.id, Patient.name, Patient.mrn)))
        session_ids = list(db.scalars(select(TreatmentSession.id)))
        sessions = len(session_ids)
        flags = db.scalar(select(func.count()).select_from(FlagRow)) or 0
    raw = sqlite3.connect(path)
    readings = raw.execute("SELECT count(*) FROM readings").fetchone()[0]
    print(f"{path.name}: {len(patients):,} patients, {sessions:,} sessions, "
          f"{readings:,} readings, {flags:,} flags")
    picked = [rng.choice(patients) for _ in range(args.repeat + args.warmup)]
    words = [(p.name or p.mrn).split()[-1][:5].lower() for p in picked]
    count = args.repeat + args.warmup

    # A cursor 100 pages deep, found through the service's own paging.
    cursor: Cursor | None = None
    with store.read() as db:
        for _ in range(100):
            cursor = find_sessions(db.connection(), SessionQuery(), after=cursor).next
    assert cursor is not None
    deep = (cursor.time.replace(tzinfo=None).isoformat(sep=" "), cursor.session_id.hex)

    explain(raw, "first page", PAGE_SQL.format(where=""))
    explain(raw, "text filter", PAGE_SQL.format(where=TEXT_WHERE), "%byrn%", "%byrn%")
    explain(raw, "flagged only", PAGE_SQL.format(where=FLAGGED_WHERE))
    explain(raw, "keyset page", PAGE_SQL.format(where=AFTER_WHERE), *deep)
    print()

    def listing(query: SessionQuery, after: Cursor | None = None) -> Callable[[], object]:
        return lambda: service.find_sessions(query, by=clinician, after=after)

    def sql(statement: str, *params: object) -> Callable[[], object]:
        return lambda: raw_rows(raw, statement, *params)

    def sqls(statements: tuple[str, ...], param: object) -> Callable[[], object]:
        return lambda: [raw_rows(raw, s, param) for s in statements]

    timings = [
        compare("list: first page", TARGETS["list"],
                [(listing(SessionQuery()), sql(PAGE_SQL.format(where="")))] * count,
                args.warmup),
        compare("list: text filter", TARGETS["list"],
                [(listing(SessionQuery(text=w)),
                  sql(PAGE_SQL.format(where=TEXT_WHERE), f"%{w}%", f"%{w}%"))
                 for w in words], args.warmup),
        compare("list: flagged only", TARGETS["list"],
                [(listing(SessionQuery(flagged_only=True)),
                  sql(PAGE_SQL.format(where=FLAGGED_WHERE)))] * count, args.warmup),
        compare("list: text filter + flagged only", TARGETS["list"],
                [(listing(SessionQuery(text=w, flagged_only=True)),
                  sql(PAGE_SQL.format(where=f"{TEXT_WHERE} AND EXISTS (SELECT 1 FROM flags "
                                      "AS f WHERE f.session_id = s.id)"),
                      f"%{w}%", f"%{w}%"))
                 for w in words], args.warmup),
        compare("list: page 101 (keyset)", TARGETS["list"],
                [(listing(SessionQuery(), cursor),
                  sql(PAGE_SQL.format(where=AFTER_WHERE), *deep))] * count, args.warmup),
        compare("open a session (service.load)", TARGETS["load"],
                [(lambda s=s: service.load(s), sqls(LOAD_SQL, s.hex))
                 for s in rng.sample(session_ids, count)], args.warmup),
        compare("patient's course", TARGETS["course"],
                [(lambda p=p: service.course(p.id, by=clinician), sqls(COURSE_SQL, p.id.hex))
                 for p in picked], args.warmup),
    ]
    header = (f"{'operation':<36} {'median ms':>10} {'p95 ms':>8} {'raw median ms':>14} "
              f"{'ratio':>6} {'target ms':>10}")
    print(header)
    print("-" * len(header))
    for t in timings:
        verdict = "PASS" if t.median <= t.target else "MISS"
        print(f"{t.name:<36} {t.median:>10.2f} {t.p95:>8.2f} {t.raw_median:>14.3f} "
              f"{t.median / t.raw_median:>6.1f} {t.target:>7.0f} {verdict}")
    raw.close()
    store.close()


if __name__ == "__main__":
    main()
