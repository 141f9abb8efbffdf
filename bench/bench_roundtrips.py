"""Benchmark of a save on the clinic's Wi-Fi: round trips and time, at 0 and 5 ms of latency.

    python bench/bench_roundtrips.py [--db URL] [--saves 30] [--latency-ms 0,5]

A tablet reaches PostgreSQL through the fault proxy (``tests/support/tcpproxy.py``), which
holds every chunk the given latency in each direction (5 ms: a round trip costs 10 ms, as
on a clinic's Wi-Fi) and counts the round trips (``turns``). For each latency, after a
warm-up, it times ``--saves`` calls of each kind in a row, through the same proxy:

a. raw insert: one INSERT of a reading row through psycopg in autocommit (one round trip,
   the floor any save pays);
b. save: ``ClinicService.record_reading`` (role check, validation, insert, flags, audit,
   announcement, COMMIT);
c. save → view: ``record_reading(..., with_view=True)``: the save and the session's view the
   chair screen repaints from (what the nurse waits for after tapping Save).

Medians, each save's ratio to the raw insert of the same run, and round trips per call.
Target: a save in ≤ 4 round trips; save → view ≤ 100 ms at 5 ms of latency.

PostgreSQL (``--db``, else ``$CHAIRSIDE_TEST_PG_URL``), in a schema of its own dropped
afterwards. Timings on a shared, loaded machine vary from run to run; the round trips do not.
Run it with ``PYTHONPATH`` set to another checkout to measure that checkout's core (the
proxy's round-trip count needs this checkout's ``tests/support/tcpproxy.py``).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run from a checkout (python bench/bench_roundtrips.py) without installing the package;
# a PYTHONPATH naming another checkout comes first (its core is measured).
sys.path.append(str(Path(__file__).resolve().parent.parent))

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store

HERE = Path(__file__).resolve().parent.parent

def _proxy_class() -> Any:
    """This checkout's fault proxy (it counts round trips), whichever core is measured."""
    spec = importlib.util.spec_from_file_location(
        "bench_tcpproxy", HERE / "tests" / "support" / "tcpproxy.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.FaultyProxy


FaultyProxy = _proxy_class()

SECRET = b"bench-roundtrips-secret-01234567"
PIN = "482913"
WARM_UP = 8
SAVE_TARGET_TURNS = 4
VIEW_TARGET_MS = 100.0
RAW_INSERT = ("INSERT INTO readings (id, session_id, time, sbp, dbp, hr, spo2, on_oxygen, "
              "note, recorded_at, entered_by) VALUES (%s, %s, %s, 120, 80, 72, 98, false, '', "
              "%s, %s)")


def private_schema(url: str) -> tuple[str, str]:
    schema = f"bench_rt_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    return schema, make_url(url).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def drop_schema(url: str, schema: str) -> None:
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


class Timed:
    """Wall time and round trips of each call of one kind."""

    def __init__(self, proxy: Any) -> None:
        self.proxy = proxy
        self.ms: list[float] = []
        self.turns: list[int] = []

    def __call__(self, action: Callable[[], Any]) -> None:
        before = getattr(self.proxy.counters, "turns", 0)
        started = time.perf_counter()
        action()
        self.ms.append((time.perf_counter() - started) * 1000)
        self.turns.append(getattr(self.proxy.counters, "turns", 0) - before)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.ms)

    @property
    def round_trips(self) -> int:
        return round(statistics.median(self.turns))


def run(url: str, saves: int, latencies_ms: list[float]) -> dict[float, dict[str, Timed]]:
    parsed = make_url(url)
    results: dict[float, dict[str, Timed]] = {}
    with FaultyProxy(parsed.port or 5432, parsed.host or "127.0.0.1") as proxy:
        proxied = parsed.set(host="127.0.0.1", port=proxy.port)
        store = open_store(proxied)
        clock = ManualClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
        service = ClinicService(store, clock, secret=SECRET)
        nurse = service.ensure_staff("Bench Nurse", "nurse", pin=PIN)
        patient = service.add_patient(f"MRN{uuid.uuid4().hex[:8]}", by=nurse, weight_kg=70.0)
        session = service.start_session(patient.id, by=nurse, chair="1")
        # The raw inserts go to a session of their own: rows added behind the service's
        # back would make each save judge its session's whole record again.
        other = service.start_session(patient.id, by=nurse, chair="2")
        options = dict(parsed.query)
        raw = psycopg.connect(host="127.0.0.1", port=proxy.port, dbname=parsed.database,
                              user=parsed.username, password=parsed.password,
                              options=str(options.get("options", "")), autocommit=True)
        vitals = {"sbp": "120", "dbp": "80", "hr": "72", "spo2": "98"}

        def raw_insert() -> None:
            raw.execute(RAW_INSERT, (uuid.uuid4(), other, clock.now(), clock.now(), nurse))

        def save() -> None:
            service.record_reading(session, vitals, by=nurse)

        def save_and_view() -> None:
            assert service.record_reading(session, vitals, by=nurse, with_view=True).view

        try:
            for latency in latencies_ms:
                proxy.set_latency(latency / 1000)
                for _ in range(WARM_UP):
                    clock.advance(timedelta(seconds=30))
                    raw_insert()
                    save()
                    save_and_view()
                timed = {name: Timed(proxy) for name in ("raw insert", "save", "save → view")}
                # Each kind in a run of its own: the chair screen saves with its view every
                # time, and each save finds the evaluation the one before it left.
                for name, action in (("raw insert", raw_insert), ("save", save),
                                     ("save → view", save_and_view)):
                    for _ in range(saves):
                        clock.advance(timedelta(seconds=30))
                        timed[name](action)
                results[latency] = timed
        finally:
            raw.close()
            store.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=os.environ.get("CHAIRSIDE_TEST_PG_URL"))
    parser.add_argument("--saves", type=int, default=30)
    parser.add_argument("--latency-ms", default="0,5")
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        parser.error("a PostgreSQL URL is needed (--db or $CHAIRSIDE_TEST_PG_URL)")
    latencies = [float(part) for part in args.latency_ms.split(",")]
    schema, url = private_schema(args.db)
    try:
        results = run(url, args.saves, latencies)
    finally:
        drop_schema(args.db, schema)
    import monitor  # noqa: PLC0415 - which checkout's core was measured

    print(f"core measured: {Path(monitor.__file__).resolve().parent.parent}")
    print(f"{args.saves} rounds per latency, medians (wall ms), ratio to the raw insert, "
          "round trips per call")
    ok = True
    for latency, timed in results.items():
        floor = timed["raw insert"].median_ms
        print(f"latency {latency:g} ms each way:")
        for name, one in timed.items():
            print(f"  {name:<12} {one.median_ms:8.1f} ms  ×{one.median_ms / floor:5.1f}  "
                  f"{one.round_trips:3d} round trips")
        ok &= timed["save"].round_trips <= SAVE_TARGET_TURNS
        if latency == 5:
            ok &= timed["save → view"].median_ms <= VIEW_TARGET_MS
    print(f"targets (save ≤ {SAVE_TARGET_TURNS} round trips, save → view ≤ "
          f"{VIEW_TARGET_MS:g} ms at 5 ms): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
