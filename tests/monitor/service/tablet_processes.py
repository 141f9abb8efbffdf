"""Tablets as real processes: each one its own interpreter, store, pool and service.

Threads in one process share the interpreter lock and can hide a race that separate tablets
meet; these workers run under ``multiprocessing`` with the *spawn* start method (a fresh
interpreter: nothing of the parent's connections is inherited). Each worker opens the store
at ``url`` without migrating it, lines up with the others at a barrier, does its work and
puts one result on the queue: ``(index, "ok", value)`` or ``(index, "error", traceback)``.

The tablets share one clock (:class:`SharedClock`): a count of seconds in shared memory that
every save moves on by one, so their entries are timed as tablets in one room time them.
Used by ``test_process_races`` and ``bench/bench_writers.py``.
"""

from __future__ import annotations

import multiprocessing
import queue as queue_module
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from multiprocessing.context import SpawnContext
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Barrier
from typing import Any

from monitor.clinical.domain import Flag
from monitor.service.clinic import ClinicService
from monitor.service.views import AlreadyDoneError
from monitor.storage.store import open_store

SECRET = b"chairside-test-secret-0123456789"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: How long a test waits for its tablets before it fails.
JOIN_TIMEOUT_S = 600


def context() -> SpawnContext:
    return multiprocessing.get_context("spawn")


class SharedClock:
    """Wall time shared by the tablets: :meth:`tick` moves the shared count a second on and
    this tablet's clock to it, so no two tablets' saves are timed the same moment."""

    def __init__(self, seconds: Synchronized) -> None:  # type: ignore[type-arg]
        self._seconds = seconds
        self._at = seconds.value

    def tick(self) -> None:
        with self._seconds.get_lock():
            self._seconds.value += 1
            self._at = self._seconds.value

    def now(self) -> datetime:
        return START + timedelta(seconds=self._at)

    def monotonic(self) -> float:
        return float(self._at)


def vitals(hr: int) -> dict[str, str]:
    return {"sbp": "120", "dbp": "80", "hr": str(hr), "spo2": "98"}


def fast(index: int) -> bool:
    """Every fifth reading of a tablet is fast (hr 131, above the protocol's normal)."""
    return index % 5 == 0


def _service(url: str, seconds: Synchronized) -> ClinicService:  # type: ignore[type-arg]
    store = open_store(url, migrate_schema=False, application_name="process tablet")
    return ClinicService(store, SharedClock(seconds), secret=SECRET)


def save_readings(url: str, seconds: Synchronized, barrier: Barrier,  # type: ignore[type-arg]
                  session_id: uuid.UUID, nurse: uuid.UUID,
                  ids: Sequence[uuid.UUID]) -> float:
    """Save a reading under each id; returns the seconds the saves took."""
    service = _service(url, seconds)
    clock = service.clock
    assert isinstance(clock, SharedClock)
    barrier.wait()
    began = time.perf_counter()
    for index, rid in enumerate(ids):
        clock.tick()
        service.record_reading(session_id, vitals(131 if fast(index) else 72), by=nurse,
                               reading_id=rid)
    took = time.perf_counter() - began
    service.store.close()
    return took


def save_one_into_each(url: str, seconds: Synchronized,  # type: ignore[type-arg]
                       barrier: Barrier, nurse: uuid.UUID,
                       sessions: Sequence[uuid.UUID]) -> int:
    """Save one fast reading into each session at the same moment as the other tablets."""
    service = _service(url, seconds)
    clock = service.clock
    assert isinstance(clock, SharedClock)
    for session_id in sessions:
        barrier.wait()
        clock.tick()
        service.record_reading(session_id, vitals(131), by=nurse)
    service.store.close()
    return len(sessions)


def _outcome(call: Callable[[], Any]) -> tuple[str, str]:
    """``("won", "")``, ``("refused", message)`` for AlreadyDoneError, or the error's type."""
    try:
        call()
    except AlreadyDoneError as exc:
        return "refused", str(exc)
    except Exception as exc:  # noqa: BLE001 - the test names what went wrong
        return type(exc).__name__, str(exc)
    return "won", ""


def acknowledge_each(url: str, seconds: Synchronized, barrier: Barrier,  # type: ignore[type-arg]
                     session_id: uuid.UUID, nurse: uuid.UUID,
                     flags: Sequence[Flag]) -> list[tuple[str, str]]:
    """Acknowledge each flag at the same moment as the other tablet (a barrier each)."""
    service = _service(url, seconds)
    results = []
    for flag in flags:
        barrier.wait()
        results.append(_outcome(lambda f=flag: service.acknowledge(
            session_id, f, action="Repeated reading", by=nurse)))
    service.store.close()
    return results


def check_in_each(url: str, seconds: Synchronized, barrier: Barrier,  # type: ignore[type-arg]
                  nurse: uuid.UUID,
                  plans: Sequence[tuple[str, uuid.UUID]]) -> list[tuple[str, str]]:
    """Check each (chair, patient) in at the same moment as the other tablet."""
    service = _service(url, seconds)
    results = []
    for chair, patient in plans:
        barrier.wait()
        results.append(_outcome(lambda c=chair, p=patient: service.check_in(
            by=nurse, chair=c, patient_id=p, weight_kg=70, planned_mg_per_kg=0.5,
            infusion_minutes=40, bag_volume_ml=100)))
    service.store.close()
    return results


def _run(work: Callable[..., Any], index: int, queue: Any, args: tuple[Any, ...]) -> None:
    try:
        queue.put((index, "ok", work(*args)))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        queue.put((index, "error", traceback.format_exc()))


def run_tablets(work: Callable[..., Any], url: str,
                per_tablet: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Run ``work(url, clock, barrier, *args)`` in one process per ``args``; their results.

    Raises AssertionError with a tablet's traceback if any failed.
    """
    ctx = context()
    seconds = ctx.Value("q", 0)
    barrier = ctx.Barrier(len(per_tablet))
    queue = ctx.Queue()
    processes = [ctx.Process(target=_run, args=(work, index, queue,
                                                (url, seconds, barrier, *args)),
                             name=f"tablet-{index}")
                 for index, args in enumerate(per_tablet)]
    for process in processes:
        process.start()
    results: dict[int, Any] = {}
    failures: list[str] = []
    deadline = time.monotonic() + JOIN_TIMEOUT_S
    try:
        while len(results) + len(failures) < len(processes):
            try:
                index, status, value = queue.get(timeout=1)
            except queue_module.Empty:
                # A tablet that died without a word (killed, failed to start) fails the run.
                silent = [p.name for p in processes if not p.is_alive() and p.exitcode != 0]
                if silent or time.monotonic() > deadline:
                    barrier.abort()
                    failures.append(f"no result from {silent or 'the tablets in time'}")
                    break
                continue
            if status == "ok":
                results[index] = value
            else:
                failures.append(f"tablet {index}:\n{value}")
                barrier.abort()  # the others must not wait for it
    finally:
        for process in processes:
            process.join(timeout=JOIN_TIMEOUT_S)
            if process.is_alive():
                process.kill()
                process.join()
    assert not failures, "\n".join(failures)
    return [results[index] for index in range(len(per_tablet))]
