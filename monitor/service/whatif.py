"""What-if before going live: the clinic's past sessions judged by a draft protocol.

Every session of the chosen period whose profile the draft changes is evaluated twice with
the same pure rules (:func:`monitor.clinical.rules.evaluate_flags`,
:func:`monitor.clinical.discharge.ready_at`):

* *before*: by the protocol version the session ran under (its stored, pinned version; a
  session an upgrade could not pin, by its profile's file), with the patient's own limits;
* *after*: by the draft, with the patient's own limits on top.

Both sides are computed the same way (the stored flag rows are not read), so a draft that
changes nothing changes no session. A session *changes* when its set of flags, each taken
as (measure, severity, time), differs between the two. Each side's discharge-ready time is
the first moment every discharge criterion held, the minimum stay included, leaving the
acknowledgement of flags out: the flags a draft raises were never shown to the nurse, so
whether she would have acknowledged them is not the protocol's to say.

A session is evaluated as it stands now (every correction applied) at the moment of its
latest entry. Sessions are read in chunks of :data:`CHUNK_SESSIONS` with four queries a
chunk, and the chunks are evaluated in worker processes, each with its own connection;
``progress(done, total)`` is called after each chunk and ``cancel`` (a
:class:`threading.Event`) is checked between chunks, so a screen can show a progress bar
with a Cancel button. A cancelled run reports the chunks finished so far.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import statistics
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from monitor.clinical.discharge import ready_at
from monitor.clinical.domain import (
    Measure,
    SessionRecord,
    Severity,
)
from monitor.clinical.protocol import Protocol, ProtocolError, load_protocol
from monitor.clinical.rules import evaluate_flags, infusion_stopped_at
from monitor.storage import protocol_store, queries
from monitor.storage.records import load_records
from monitor.storage.store import Store, open_store

#: Sessions read and evaluated together: one unit of work, progress and cancellation.
CHUNK_SESSIONS = 200

#: A flag as compared: (measure, severity, time).
FlagKey = tuple[Measure, Severity, datetime]

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SessionJob:
    """What a worker needs to know of one session besides its entries."""

    session_id: uuid.UUID
    time: datetime
    version_id: uuid.UUID | None
    overrides: tuple[tuple[str, Any], ...]


@dataclass(frozen=True, slots=True)
class ChangedSession:
    """A session whose flags differ between the two protocols."""

    session_id: uuid.UUID
    time: datetime
    before: tuple[FlagKey, ...]
    after: tuple[FlagKey, ...]
    ready_before: datetime | None
    ready_after: datetime | None


@dataclass
class WhatIfResult:
    """The comparison, summed over the sessions evaluated (all of them unless cancelled)."""

    profile: str
    total: int = 0
    sessions: int = 0
    skipped_other_profiles: int = 0
    cancelled: bool = False
    flags_before: Counter[tuple[Measure, Severity]] = field(default_factory=Counter)
    flags_after: Counter[tuple[Measure, Severity]] = field(default_factory=Counter)
    warning_sessions_before: int = 0
    warning_sessions_after: int = 0
    changed: list[ChangedSession] = field(default_factory=list)
    #: Minutes from the infusion stop to the ready time, of each session that was ready.
    ready_minutes_before: list[float] = field(default_factory=list)
    ready_minutes_after: list[float] = field(default_factory=list)
    ready_earlier: int = 0
    ready_later: int = 0
    #: Sessions not compared, (session, why): the patient's own limits do not fit the draft,
    #: or the version the session ran under no longer loads.
    refused: list[tuple[uuid.UUID, str]] = field(default_factory=list)

    def add(self, other: WhatIfResult) -> None:
        self.sessions += other.sessions
        self.flags_before.update(other.flags_before)
        self.flags_after.update(other.flags_after)
        self.warning_sessions_before += other.warning_sessions_before
        self.warning_sessions_after += other.warning_sessions_after
        self.changed.extend(other.changed)
        self.ready_minutes_before.extend(other.ready_minutes_before)
        self.ready_minutes_after.extend(other.ready_minutes_after)
        self.ready_earlier += other.ready_earlier
        self.ready_later += other.ready_later
        self.refused.extend(other.refused)

    def to_json(self) -> dict[str, Any]:
        """The documented JSON form (``docs/cli.md``, ``protocol what-if --json``)."""
        return {
            "profile": self.profile,
            "sessions": self.sessions,
            "sessions_in_period": self.total,
            "skipped_other_profiles": self.skipped_other_profiles,
            "cancelled": self.cancelled,
            "flags_before": _by_tier(self.flags_before),
            "flags_after": _by_tier(self.flags_after),
            "flags_by_measure_before": _by_measure(self.flags_before),
            "flags_by_measure_after": _by_measure(self.flags_after),
            "sessions_with_warning_before": self.warning_sessions_before,
            "sessions_with_warning_after": self.warning_sessions_after,
            "changed_sessions": [
                {"session_id": str(c.session_id), "time": c.time.isoformat(),
                 "before": [_flag_json(f) for f in c.before],
                 "after": [_flag_json(f) for f in c.after],
                 "ready_before": _iso(c.ready_before), "ready_after": _iso(c.ready_after)}
                for c in self.changed
            ],
            "ready_earlier": self.ready_earlier,
            "ready_later": self.ready_later,
            "ready_sessions_before": len(self.ready_minutes_before),
            "ready_sessions_after": len(self.ready_minutes_after),
            "ready_median_min_before": _median(self.ready_minutes_before),
            "ready_median_min_after": _median(self.ready_minutes_after),
            "refused_sessions": [{"session_id": str(s), "problem": why}
                                 for s, why in self.refused],
        }


def _by_tier(counts: Counter[tuple[Measure, Severity]]) -> dict[str, int]:
    return {s.label: sum(n for (_, sev), n in counts.items() if sev is s) for s in Severity}


def _by_measure(counts: Counter[tuple[Measure, Severity]]) -> dict[str, dict[str, int]]:
    return {m.value: {s.label: counts[(m, s)] for s in Severity} for m in Measure}


def _flag_json(flag: FlagKey) -> dict[str, str]:
    measure, severity, time = flag
    return {"measure": measure.value, "severity": severity.label, "time": time.isoformat()}


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def period(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """The period of local calendar days ``since`` to ``until``, both included, as the
    aware times :func:`what_if` takes (None: open on that side)."""
    return _midnight(since), _midnight(until, 1)


def _midnight(day: date | None, days_after: int = 0) -> datetime | None:
    """Local midnight starting ``day`` (plus ``days_after`` days), as an aware time."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days_after), time()).astimezone()


def draft_profile(draft: Protocol) -> str:
    """The profile a draft changes: the one it extends, or its own id if it extends none."""
    return draft.extends or draft.id


def what_if(
    store: Store,
    draft: Protocol,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    workers: int = 1,
    protocol_dir: Path | None = None,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    chunk_sessions: int = CHUNK_SESSIONS,
) -> WhatIfResult:
    """Replay the sessions that started in ``[since, until)`` under ``draft`` and compare.

    ``workers`` processes evaluate the chunks (1: all in this process). ``protocol_dir`` is
    where profiles' files are (for sessions not pinned to a version).
    """
    if workers < 1:
        raise ValueError(f"workers must be 1 or more, not {workers}")
    profile = draft_profile(draft)
    with store.read() as db:
        connection = db.connection()
        rows = connection.execute(queries.sessions_started(since, until)).all()
        jobs = [SessionJob(r.id, r.time, r.protocol_version_id,
                           tuple(sorted((r.limit_overrides or {}).items())))
                for r in rows if r.profile == profile]
        cache = protocol_store.VersionCache(protocol_dir)
        pinned: dict[uuid.UUID, Protocol | ProtocolError] = {}
        for version in {j.version_id for j in jobs if j.version_id is not None}:
            try:
                pinned[version] = cache.protocol(connection, version)
            except ProtocolError as exc:  # its sessions are named, not compared
                pinned[version] = exc
    unpinned = (load_protocol(profile, protocol_dir)
                if any(j.version_id is None for j in jobs) else None)
    result = WhatIfResult(profile=profile, total=len(jobs),
                          skipped_other_profiles=len(rows) - len(jobs))
    chunks = [jobs[i:i + chunk_sessions] for i in range(0, len(jobs), chunk_sessions)]
    context = _Context(draft, pinned, unpinned)
    done: dict[int, WhatIfResult] = {}
    finished = 0

    def report(index: int, part: WhatIfResult) -> None:
        nonlocal finished
        done[index] = part
        finished += len(chunks[index])
        if progress is not None:
            progress(finished, len(jobs))

    if workers == 1 or len(chunks) <= 1 or _in_memory(store):
        result.cancelled = _run_here(store, context, chunks, report, cancel)
    else:
        url = store.url.render_as_string(hide_password=False)
        result.cancelled = _run_pool(url, context, chunks, workers, report=report,
                                     cancel=cancel)
    for index in sorted(done):
        result.add(done[index])
    result.changed.sort(key=lambda c: (c.time, str(c.session_id)))
    result.refused.sort(key=lambda r: str(r[0]))
    return result


def _in_memory(store: Store) -> bool:
    """An in-memory SQLite database, which another process cannot open."""
    return store.url.get_backend_name() == "sqlite" and store.url.database in (None, "",
                                                                                ":memory:")


def _cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


def _run_here(store: Store, context: _Context, chunks: list[list[SessionJob]],
              report: Callable[[int, WhatIfResult], None],
              cancel: threading.Event | None) -> bool:
    for index, chunk in enumerate(chunks):
        if _cancelled(cancel):
            return True
        with store.read() as db:
            report(index, context.evaluate(db.connection(), chunk))
    return False


def _run_pool(url: str, context: _Context, chunks: list[list[SessionJob]], workers: int, *,
              report: Callable[[int, WhatIfResult], None],
              cancel: threading.Event | None) -> bool:
    """Evaluate the chunks in ``workers`` processes, a few chunks ahead of the finished ones
    (so a cancel leaves little work queued)."""
    pending = iter(enumerate(chunks))
    # Spawned, not forked: a worker inherits no connection, lock or thread of this process.
    with concurrent.futures.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker, initargs=(url, context)) as pool:
        running: dict[concurrent.futures.Future[WhatIfResult], int] = {}

        def submit() -> None:
            for index, chunk in pending:
                running[pool.submit(_evaluate_in_worker, chunk)] = index
                if len(running) >= 2 * workers:
                    return

        submit()
        while running:
            finished, _ = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in finished:
                report(running.pop(future), future.result())
            if _cancelled(cancel):
                for future in running:
                    future.cancel()
                return True
            submit()
    return False


def default_workers() -> int:
    """One worker per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


# --- evaluation ----------------------------------------------------------------------------


class _Context:
    """The protocols a chunk is judged by, with each patient's limits applied once."""

    def __init__(self, draft: Protocol, pinned: Mapping[uuid.UUID, Protocol | ProtocolError],
                 unpinned: Protocol | None) -> None:
        self.draft = draft
        self.pinned = dict(pinned)
        self.unpinned = unpinned
        self._applied: dict[tuple[Any, ...], Protocol | ProtocolError] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"draft": self.draft, "pinned": self.pinned, "unpinned": self.unpinned}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["draft"], state["pinned"], state["unpinned"])  # type: ignore[misc]

    def _with_limits(self, key: Any, protocol: Protocol,
                     overrides: tuple[tuple[str, Any], ...]) -> Protocol | ProtocolError:
        if not overrides:
            return protocol
        found = self._applied.get((key, overrides))
        if found is None:
            try:
                found = protocol.with_overrides(dict(overrides))
            except ProtocolError as exc:
                found = exc
            self._applied[(key, overrides)] = found
        return found

    def before(self, job: SessionJob) -> Protocol | ProtocolError:
        if job.version_id is None:
            assert self.unpinned is not None, "loaded whenever a session is not pinned"
            return self._with_limits(None, self.unpinned, job.overrides)
        pinned = self.pinned[job.version_id]
        if isinstance(pinned, ProtocolError):
            return pinned
        return self._with_limits(job.version_id, pinned, job.overrides)

    def after(self, job: SessionJob) -> Protocol | ProtocolError:
        return self._with_limits("draft", self.draft, job.overrides)

    def evaluate(self, connection: Connection, chunk: Sequence[SessionJob]) -> WhatIfResult:
        """The comparison of one chunk of sessions."""
        part = WhatIfResult(profile=draft_profile(self.draft))
        records = load_records(connection, [job.session_id for job in chunk])
        for job in chunk:
            before, after = self.before(job), self.after(job)
            if isinstance(before, ProtocolError) or isinstance(after, ProtocolError):
                problem = before if isinstance(before, ProtocolError) else after
                part.refused.append((job.session_id, str(problem)))
                continue
            _compare(part, job, records[job.session_id], before, after)
        return part


def _compare(part: WhatIfResult, job: SessionJob, record: SessionRecord, before: Protocol,
             after: Protocol) -> None:
    at = _latest_entry(record, job.time)
    flags_before = _flag_keys(record, before, at)
    flags_after = _flag_keys(record, after, at)
    part.sessions += 1
    part.flags_before.update((m, s) for m, s, _ in flags_before)
    part.flags_after.update((m, s) for m, s, _ in flags_after)
    part.warning_sessions_before += any(s >= Severity.WARNING for _, s, _ in flags_before)
    part.warning_sessions_after += any(s >= Severity.WARNING for _, s, _ in flags_after)
    # Acknowledging flags is left out of readiness (module docstring): no flags passed.
    ready_before, ready_after = ready_at(record, before, ()), ready_at(record, after, ())
    stop = infusion_stopped_at(record)
    for ready, minutes in ((ready_before, part.ready_minutes_before),
                           (ready_after, part.ready_minutes_after)):
        if ready is not None and stop is not None:
            minutes.append((ready - stop).total_seconds() / 60)
    if ready_before != ready_after:
        if ready_before is None or (ready_after is not None and ready_after < ready_before):
            part.ready_earlier += 1
        else:
            part.ready_later += 1
    if set(flags_before) != set(flags_after):
        part.changed.append(ChangedSession(job.session_id, job.time, flags_before, flags_after,
                                           ready_before, ready_after))


def _flag_keys(record: SessionRecord, protocol: Protocol, at: datetime) -> tuple[FlagKey, ...]:
    flags = sorted(evaluate_flags(record, protocol, at),
                   key=lambda f: (f.time, f.measure.value, f.severity))
    return tuple((f.measure, f.severity, f.time) for f in flags)


def _latest_entry(record: SessionRecord, start: datetime) -> datetime:
    """The moment a session is judged at: its latest entry (its start if it has none)."""
    times = [*(r.time for r in record.readings), *(e.time for e in record.events),
             *(a.time for a in record.acknowledgements)]
    return max(times, default=start)


# --- worker processes ----------------------------------------------------------------------

_WORKER: tuple[Store, _Context] | None = None


def _start_worker(url: str, context: _Context) -> None:
    global _WORKER  # noqa: PLW0603 - one per worker process, set once by the pool
    _WORKER = (open_store(url, migrate_schema=False), context)


def _evaluate_in_worker(chunk: list[SessionJob]) -> WhatIfResult:
    assert _WORKER is not None, "the pool's initializer ran"
    store, context = _WORKER
    with store.read() as db:
        return context.evaluate(db.connection(), chunk)
