"""Benchmark of the clinician's review at clinic scale, against raw SQL in the same run.

    python bench/bench_review.py [--db bench/out/bench.sqlite3] [--repeat 60]
                                 [--pg [URL]] [--pg-database NAME] [--explain]

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

``--pg`` (a PostgreSQL server URL; without one, ``$CHAIRSIDE_TEST_PG_URL``) runs the same on
PostgreSQL beside SQLite: the SQLite file's rows are copied once (``COPY``) into a database
of the bench's own on that server (``--pg-database``, default ``chairside_bench_review``),
reused by later runs while it holds the same number of sessions. Both engines are timed in
the same run and the medians printed side by side. Every statement each service call sends
to PostgreSQL is then run under ``EXPLAIN (ANALYZE, BUFFERS)``; the plans go to
``bench/out/review_explain_postgresql.txt`` (``--explain``: to stdout as well), and every
sequential scan is named with its table's size (a big table's is where an index would be
expected).
"""

from __future__ import annotations

import argparse
import os
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

from typing import Any

from sqlalchemy import JSON, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.service.review import Cursor, SessionQuery, find_sessions
from monitor.storage.model import Base, FlagRow, Patient, TreatmentSession
from monitor.storage.store import Store, open_store

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


def raw_rows(connection: Any, sql: str, *params: object) -> list[object]:
    return connection.execute(sql, params).fetchall()


def explain(connection: sqlite3.Connection, title: str, sql: str, *params: object) -> None:
    print(f"\nquery plan — {title}:")
    for row in connection.execute(f"EXPLAIN QUERY PLAN {sql}", params):
        print(f"  {row[3]}")


# -- PostgreSQL: a copy of the SQLite file's rows ----------------------------------------------

PG_DATABASE = "chairside_bench_review"
#: Tables the copy fills (the rest are left as the schema made them).
COPY_BATCH = 20_000


def pg_database(server_url: str, name: str, *, afresh: bool = False) -> str:
    """The URL of database ``name`` on the server of ``server_url``, created if missing
    (``afresh``: dropped first; the audit trail refuses to be emptied any other way)."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if afresh:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                             {"n": name}) is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


def session_count(store: Store) -> int:
    with store.read() as db:
        return db.scalar(select(func.count()).select_from(TreatmentSession)) or 0


def copy_into_postgresql(source: Store, target: Store) -> float:
    """Every row of ``source`` into the tables of ``target`` (a new database, empty)
    through ``COPY``, then ``VACUUM ANALYZE``; returns the seconds it took."""
    import psycopg  # noqa: PLC0415 - only needed for PostgreSQL
    from psycopg.types.json import Jsonb  # noqa: PLC0415

    started = time.perf_counter()
    tables = [t for t in Base.metadata.sorted_tables if t.name != "alembic_version"]
    conninfo = target.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as pg:
        for table in tables:
            names = [c.name for c in table.columns]
            json_at = [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)]
            copied = 0
            with source.engine.connect() as reader, pg.cursor() as cursor, cursor.copy(
                    f'COPY "{table.name}" ({", ".join(names)}) FROM STDIN') as copy:
                rows = reader.execution_options(yield_per=COPY_BATCH).execute(select(table))
                for row in rows:
                    values = list(row)
                    for i in json_at:
                        if values[i] is not None:
                            values[i] = Jsonb(values[i])
                    copy.write_row(values)
                    copied += 1
            print(f"  {table.name}: {copied:,} rows  {time.perf_counter() - started:6.1f} s",
                  flush=True)
        pg.commit()
    admin = create_engine(target.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    admin.dispose()
    return time.perf_counter() - started


def open_postgresql(server_url: str, name: str, source: Store) -> Store:
    """The bench's PostgreSQL database at the current schema, holding the SQLite rows."""
    url = pg_database(server_url, name)
    store = open_store(url)  # migrates to the current schema (the indexes)
    wanted, present = session_count(source), session_count(store)
    if present == wanted:
        print(f"PostgreSQL: reusing {make_url(url).database} ({present:,} sessions)")
        # A migration since the copy may have added an index: plans need fresh statistics.
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("ANALYZE"))
    else:
        print(f"PostgreSQL: copying {wanted:,} sessions into {make_url(url).database} "
              f"(it held {present:,}) …", flush=True)
        store.close()
        store = open_store(pg_database(server_url, name, afresh=True))
        seconds = copy_into_postgresql(source, store)
        print(f"PostgreSQL: copied in {seconds:.1f} s")
    return store


# -- one engine's run ----------------------------------------------------------------------------


@dataclass
class Engine:
    """One database under test: the store, the driver's own connection and its dialect."""

    name: str
    store: Store
    raw: Any
    sqlite: bool

    def sql(self, statement: str) -> str:
        return statement if self.sqlite else statement.replace("?", "%s")

    def key(self, value: Any) -> Any:
        return value.hex if self.sqlite else value

    def cursor_params(self, cursor: Cursor) -> tuple[Any, Any]:
        if self.sqlite:
            return (cursor.time.replace(tzinfo=None).isoformat(sep=" "),
                    cursor.session_id.hex)
        return cursor.time, cursor.session_id


def run_engine(engine: Engine, args: argparse.Namespace) -> tuple[list[Timing], dict[str, Any]]:
    """Time the review's operations on ``engine``; also what explaining them needs."""
    store = engine.store
    clock = ManualClock(FILL_NOW)
    service = ClinicService(store, clock, secret=secrets.token_bytes(32))
    clinician = service.ensure_staff("Benchmark clinician", "clinician")
    rng = random.Random(args.seed)
    with store.read() as db:
        patients = sorted(db.execute(select(Patient.id, Patient.name, Patient.mrn)),
                          key=lambda p: p.id)
        session_ids = sorted(db.scalars(select(TreatmentSession.id)))
        sessions = len(session_ids)
        flags = db.scalar(select(func.count()).select_from(FlagRow)) or 0
    raw = engine.raw
    readings = raw.execute("SELECT count(*) FROM readings").fetchone()[0]
    print(f"\n{engine.name}: {len(patients):,} patients, {sessions:,} sessions, "
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
    deep = engine.cursor_params(cursor)

    if engine.sqlite:
        explain(raw, "first page", PAGE_SQL.format(where=""))
        explain(raw, "text filter", PAGE_SQL.format(where=TEXT_WHERE), "%byrn%", "%byrn%")
        explain(raw, "flagged only", PAGE_SQL.format(where=FLAGGED_WHERE))
        explain(raw, "keyset page", PAGE_SQL.format(where=AFTER_WHERE), *deep)
        print()

    def listing(query: SessionQuery, after: Cursor | None = None) -> Callable[[], object]:
        return lambda: service.find_sessions(query, by=clinician, after=after)

    def sql(statement: str, *params: object) -> Callable[[], object]:
        return lambda: raw_rows(raw, engine.sql(statement), *params)

    def sqls(statements: tuple[str, ...], param: object) -> Callable[[], object]:
        return lambda: [raw_rows(raw, engine.sql(s), param) for s in statements]

    opened = rng.sample(session_ids, count)
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
                [(lambda s=s: service.load(s), sqls(LOAD_SQL, engine.key(s)))
                 for s in opened], args.warmup),
        compare("patient's course", TARGETS["course"],
                [(lambda p=p: service.course(p.id, by=clinician),
                  sqls(COURSE_SQL, engine.key(p.id)))
                 for p in picked], args.warmup),
    ]
    header = (f"{'operation':<36} {'median ms':>10} {'p95 ms':>8} {'raw median ms':>14} "
              f"{'ratio':>6} {'target ms':>10}")
    print(f"{engine.name}:")
    print(header)
    print("-" * len(header))
    for t in timings:
        verdict = "PASS" if t.median <= t.target else "MISS"
        print(f"{t.name:<36} {t.median:>10.2f} {t.p95:>8.2f} {t.raw_median:>14.3f} "
              f"{t.median / t.raw_median:>6.1f} {t.target:>7.0f} {verdict}")
    calls = {
        "list: first page": listing(SessionQuery()),
        "list: text filter": listing(SessionQuery(text=words[0])),
        "list: flagged only": listing(SessionQuery(flagged_only=True)),
        "list: text filter + flagged only": listing(SessionQuery(text=words[0],
                                                                 flagged_only=True)),
        "list: page 101 (keyset)": listing(SessionQuery(), cursor),
        "open a session (service.load)": lambda: service.load(opened[0]),
        "patient's course": lambda: service.course(picked[0].id, by=clinician),
    }
    return timings, calls


# -- EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL ----------------------------------------------------

#: A sequential scan of a table with fewer rows than this is named, not counted against
#: the plan (reading a few pages beats walking an index for many keys).
SMALL_TABLE_ROWS = 10_000


def explain_postgresql(store: Store, calls: dict[str, Callable[[], object]],
                       out: Path, *, echo: bool) -> list[str]:
    """Each statement the calls send, explained with ANALYZE and BUFFERS into ``out``;
    returns a line per (operation, table) sequentially scanned, with the table's rows and
    whether it is a big one (:data:`SMALL_TABLE_ROWS`), where an index would be expected."""
    lines: list[str] = []
    scanned: dict[tuple[str, str], list[str]] = {}
    for name, call in calls.items():
        sent: list[tuple[str, Any]] = []

        def capture(_conn: object, _cursor: object, statement: str, parameters: Any,
                    *_rest: object, sent: list[tuple[str, Any]] = sent) -> None:
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                sent.append((statement, parameters))

        event.listen(store.engine, "before_cursor_execute", capture)
        try:
            call()
        finally:
            event.remove(store.engine, "before_cursor_execute", capture)
        lines.append(f"=== {name}: {len(sent)} statement(s)")
        with store.engine.connect() as connection:
            for number, (statement, parameters) in enumerate(sent, 1):
                plan = [row[0] for row in connection.exec_driver_sql(
                    "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]
                lines += [f"--- {name} #{number}", statement.strip(), "", *plan, ""]
                for row in plan:
                    if "Seq Scan on " in row:
                        table = row.split("Seq Scan on ", 1)[1].split()[0]
                        scanned.setdefault((name, table), []).append(f"#{number}")
            connection.rollback()
            sizes = {table: connection.scalar(text(
                "SELECT count(*) FROM " + table)) or 0 for _, table in scanned}
    out.write_text("\n".join(lines) + "\n")
    if echo:
        print("\n".join(lines))
    return [f"{'BIG  ' if sizes[table] >= SMALL_TABLE_ROWS else 'small'} {table} "
            f"({sizes[table]:,} rows) in {name}: {len(set(numbers))} statement(s) "
            f"({', '.join(sorted(set(numbers), key=lambda n: int(n[1:]))[:6])}"
            f"{', …' if len(set(numbers)) > 6 else ''})"
            for (name, table), numbers in scanned.items()]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=str(OUT_DIR / "bench.sqlite3"),
                        help="a SQLite file filled by bench_core.py")
    parser.add_argument("--pg", nargs="?", const=os.environ.get("CHAIRSIDE_TEST_PG_URL", ""),
                        help="also on PostgreSQL: a server URL (default "
                        "$CHAIRSIDE_TEST_PG_URL); the bench copies the SQLite rows into a "
                        "database of its own there")
    parser.add_argument("--pg-database", default=PG_DATABASE,
                        help=f"the bench's database on that server (default {PG_DATABASE})")
    parser.add_argument("--explain", action="store_true",
                        help="print the PostgreSQL plans too (they are always written to "
                        "bench/out/review_explain_postgresql.txt)")
    parser.add_argument("--repeat", type=int, default=60, help="timed calls per operation")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.pg == "":
        parser.error("--pg needs a URL, or $CHAIRSIDE_TEST_PG_URL")
    path = Path(args.db).resolve()
    if not path.exists():
        raise SystemExit(f"{path} does not exist: fill it with bench/bench_core.py first")
    sqlite_store = open_store(f"sqlite:///{path}")  # migrates to the current schema
    engines = [Engine("SQLite", sqlite_store, sqlite3.connect(path), sqlite=True)]
    if args.pg:
        import psycopg  # noqa: PLC0415 - only needed for PostgreSQL

        pg_store = open_postgresql(args.pg, args.pg_database, sqlite_store)
        conninfo = pg_store.url.set(drivername="postgresql").render_as_string(
            hide_password=False)
        engines.append(Engine("PostgreSQL", pg_store, psycopg.connect(conninfo, autocommit=True),
                              sqlite=False))
    load = os.getloadavg()
    results = {}
    calls: dict[str, Callable[[], object]] = {}
    try:
        for engine in engines:
            results[engine.name], calls = run_engine(engine, args)
        if len(engines) > 1:
            print("\nmedian ms per operation (service call), both engines in this run:")
            print(f"{'operation':<36} {'SQLite':>8} {'PostgreSQL':>11} {'PG / SQLite':>12}")
            for lite, pg in zip(results["SQLite"], results["PostgreSQL"], strict=True):
                print(f"{lite.name:<36} {lite.median:>8.2f} {pg.median:>11.2f} "
                      f"{pg.median / lite.median:>12.1f}")
            OUT_DIR.mkdir(exist_ok=True)
            out = OUT_DIR / "review_explain_postgresql.txt"
            seq_scans = explain_postgresql(engines[-1].store, calls, out, echo=args.explain)
            print(f"\nPostgreSQL plans (EXPLAIN ANALYZE, BUFFERS): {out}")
            print(f"sequential scans (BIG: {SMALL_TABLE_ROWS:,} rows or more, where an index "
                  "would be expected): " + ("none" if not seq_scans else ""))
            for line in seq_scans:
                print(f"  {line}")
        print(f"\nload average at the start: {tuple(round(x, 2) for x in load)}, "
              f"{os.cpu_count()} CPUs")
    finally:
        for engine in engines:
            engine.raw.close()
            engine.store.close()


if __name__ == "__main__":
    main()
