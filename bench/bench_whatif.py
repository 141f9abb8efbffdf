"""Benchmark of the protocol what-if at clinic scale, against just reading the records.

    python bench/bench_whatif.py [--sessions 75000] [--db PATH] [--reuse] [--workers N]

Fills a SQLite database with :func:`monitor.demo.data.generate` (or reuses one filled earlier
with ``--reuse``: filling 75,000 sessions takes many minutes), then times, in the same run:

a. the baseline: reading every session's record in chunks, as the what-if does, without
   evaluating anything (one process);
b. the what-if of a draft that lowers the SBP warning limit (180 → 170) in one process;
c. the same with ``--workers`` processes (default: one per core).

Prints sessions per second of each and what that means for 75,000 sessions.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select

from monitor.clinical.protocol import load_draft
from monitor.demo.data import generate
from monitor.service.whatif import CHUNK_SESSIONS, default_workers, load_records, what_if
from monitor.storage.model import TreatmentSession
from monitor.storage.store import Store, open_store

OUT_DIR = Path(__file__).resolve().parent / "out"
#: The "now" the demo history ends at; fixed so that a reused database is the same history.
FILL_NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLINIC = 75_000
DRAFT = """[protocol]
id = "iv_ketamine"
name = "IV ketamine (draft: earlier BP warning)"
version = "2.0-draft"
extends = "iv_ketamine"

[bp]
high_warning_sbp_at_or_above = { value = 170, unit = "mmHg", source = "bench draft" }
"""


def prepare(args: argparse.Namespace) -> Store:
    path: Path = args.db or OUT_DIR / f"whatif-{args.sessions}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not args.reuse:
        if OUT_DIR not in path.resolve().parents:
            sys.exit(f"{path} exists: pass --reuse, or name a new file")
        path.unlink()
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    store = open_store(f"sqlite:///{path}")
    with store.read() as db:
        present = db.scalar(select(func.count()).select_from(TreatmentSession))
    if present:
        print(f"reusing {path}: {present} sessions")
        return store
    started = time.perf_counter()

    def progress(done: int) -> None:
        print(f"\rfilling {path.name}: {done} of {args.sessions} sessions", end="", flush=True)

    summary = generate(store, sessions=args.sessions, seed=args.seed, clock_now=FILL_NOW,
                       progress=progress, workers=args.workers)
    print(f"\n{summary.describe()} in {time.perf_counter() - started:.0f} s")
    return store


def load_only(store: Store) -> tuple[int, float]:
    """Read every session's record in what-if chunks; (sessions, seconds)."""
    started = time.perf_counter()
    with store.read() as db:
        ids = list(db.scalars(select(TreatmentSession.id).order_by(TreatmentSession.time,
                                                                   TreatmentSession.id)))
    for start in range(0, len(ids), CHUNK_SESSIONS):
        with store.read() as db:
            load_records(db.connection(), ids[start:start + CHUNK_SESSIONS])
    return len(ids), time.perf_counter() - started


def run_what_if(store: Store, draft_path: Path, workers: int) -> tuple[int, float, int]:
    """(sessions, seconds, changed sessions) of one what-if run."""
    started = time.perf_counter()
    total = 0

    def progress(done: int, all_sessions: int) -> None:
        print(f"\r  workers={workers}: {done} of {all_sessions}", end="", flush=True)

    result = what_if(store, load_draft(draft_path), workers=workers, progress=progress)
    seconds = time.perf_counter() - started
    total = result.sessions
    print()
    return total, seconds, len(result.changed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=CLINIC)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, default=None,
                        help="SQLite file (default bench/out/whatif-N.sqlite3)")
    parser.add_argument("--reuse", action="store_true", help="use the file as it is")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="processes for the parallel run (default: one per core)")
    args = parser.parse_args()
    store = prepare(args)
    draft_path = OUT_DIR / "whatif-draft.toml"
    draft_path.write_text(DRAFT, encoding="utf-8")

    rows = []
    sessions, seconds = load_only(store)
    rows.append(("read records only (1 process)", sessions, seconds, None))
    for workers in (1, args.workers) if args.workers > 1 else (1,):
        sessions, seconds, changed = run_what_if(store, draft_path, workers)
        rows.append((f"what-if, {workers} process{'es' if workers > 1 else ''}", sessions,
                     seconds, changed))
    print(f"\n{'':34}{'sessions':>9}{'seconds':>9}{'per s':>8}{'75,000 in':>11}")
    for name, count, took, changed in rows:
        rate = count / took if took else float("inf")
        projected = CLINIC / rate if rate else float("inf")
        note = f"  ({changed} sessions change)" if changed is not None else ""
        print(f"{name:34}{count:>9}{took:>9.1f}{rate:>8.0f}{projected / 60:>9.1f} min{note}")
    store.close()


if __name__ == "__main__":
    main()
