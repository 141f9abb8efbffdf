"""Benchmark of the audit trail: verifying a long chain, and what an entry adds to a save.

    python bench/bench_audit.py [--entries 100000] [--saves 300] [--db-url URL]

a. Fills ``audit_log`` with ``--entries`` chained entries (computed here and inserted in
   bulk, as the service would have appended them), then times
   ``ClinicService.verify_audit`` over all of them. Target: under 5 s.
b. Saves ``--saves`` readings with ``ClinicService.record_reading`` as it is (the audit
   entry appended in the same transaction) and the same number with the append replaced
   by a no-op, alternating, on the same database in the same run. Target: the audited save
   at most 2× the save without it (median).

SQLite file in a temporary directory by default (WAL, ``synchronous=FULL``); ``--db-url``
runs against PostgreSQL (use an empty database or schema).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# Run from a checkout (python bench/bench_audit.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert

from monitor.clock import ManualClock
from monitor.service.auth import audit_key
from monitor.service.clinic import ClinicService
from monitor.storage import audit
from monitor.storage.store import open_store

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
VERIFY_TARGET_S = 5.0
RATIO_TARGET = 2.0
READING = {"sbp": 126, "dbp": 78, "hr": 72, "spo2": 98}


def fill(service: ClinicService, key: bytes, entries: int, staff: uuid.UUID) -> None:
    """Append ``entries`` chained entries after the existing ones, in bulk."""
    with service.store.write() as db:
        connection = db.connection()
        last = connection.execute(audit._HEAD).first()
        seq, previous = (0, audit.GENESIS) if last is None else (last.seq, last.mac)
        batch: list[dict[str, Any]] = []
        for n in range(entries):
            seq += 1
            at = START + timedelta(seconds=n)
            new = audit.encode({"sbp": 120 + n % 40, "dbp": 80, "hr": 70})
            session = uuid.UUID(int=n // 40 + 1)
            mac = audit.compute_mac(
                key, seq=seq, at=at, staff_id=staff, action="create", record_kind="reading",
                record_id=uuid.UUID(int=n + 1), session_id=session, patient_id=session,
                old=None, new=new, previous=previous,
            )
            batch.append({"seq": seq, "at": at, "staff_id": staff, "action": "create",
                          "record_kind": "reading", "record_id": uuid.UUID(int=n + 1),
                          "session_id": session, "patient_id": session, "old": None,
                          "new": new, "mac": mac})
            previous = mac
            if len(batch) == 5000:
                connection.execute(insert(audit.AUDIT), batch)
                batch = []
        if batch:
            connection.execute(insert(audit.AUDIT), batch)


def time_saves(service: ClinicService, session_id: uuid.UUID, staff: uuid.UUID,
               saves: int, clock: ManualClock) -> tuple[list[float], list[float]]:
    """Alternate audited saves and saves with the append replaced by a no-op."""
    audited: list[float] = []
    bare: list[float] = []
    real = service.guard.audit

    def no_audit(*_args: Any, **_kwargs: Any) -> str:
        return ""

    for n in range(saves * 2):
        clock.advance(timedelta(seconds=20))
        with_audit = n % 2 == 0
        service.guard.audit = real if with_audit else no_audit  # type: ignore[method-assign]
        started = time.perf_counter()
        service.record_reading(session_id, READING, by=staff)
        (audited if with_audit else bare).append(time.perf_counter() - started)
    service.guard.audit = real  # type: ignore[method-assign]
    return audited, bare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="chairside-bench-audit-") as tmp:
        url = args.db_url or f"sqlite:///{Path(tmp) / 'audit.sqlite3'}"
        store = open_store(url)
        secret = secrets.token_bytes(32)
        clock = ManualClock(START)
        service = ClinicService(store, clock, secret=secret)
        try:
            nurse = service.ensure_staff("Bench Nurse", "nurse")
            patient = service.add_patient(f"BENCH{uuid.uuid4().hex[:8]}", by=nurse,
                                          weight_kg=70.0)
            session_id = service.start_session(patient.id, by=nurse, chair="1")

            # Warm both paths, then time them alternately in the same run.
            time_saves(service, session_id, nurse, 10, clock)
            audited, bare = time_saves(service, session_id, nurse, args.saves, clock)

            filled = time.perf_counter()
            fill(service, audit_key(secret), args.entries, nurse)
            filled = time.perf_counter() - filled
            started = time.perf_counter()
            result = service.verify_audit()
            verify_s = time.perf_counter() - started
            assert result.ok, result.message
        finally:
            store.close()

    save_audited = statistics.median(audited) * 1000
    save_bare = statistics.median(bare) * 1000
    ratio = save_audited / save_bare
    report = {
        "backend": store.url.get_backend_name(),
        "entries_verified": result.entries,
        "verify_s": round(verify_s, 3),
        "verify_target_s": VERIFY_TARGET_S,
        "verify_entries_per_s": round(result.entries / verify_s),
        "fill_s": round(filled, 1),
        "saves_each": args.saves,
        "save_with_audit_median_ms": round(save_audited, 3),
        "save_without_audit_median_ms": round(save_bare, 3),
        "save_with_audit_p95_ms": round(statistics.quantiles(audited, n=20)[-1] * 1000, 3),
        "save_without_audit_p95_ms": round(statistics.quantiles(bare, n=20)[-1] * 1000, 3),
        "ratio": round(ratio, 2),
        "ratio_target": RATIO_TARGET,
    }
    print(json.dumps(report, indent=2))
    ok = verify_s < VERIFY_TARGET_S and ratio <= RATIO_TARGET
    print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
