"""Charting on through a server outage: the clinic service as one tablet sees it.

:class:`TabletService` is what a chair's presenter calls (it has every method of
:class:`ui.session.presenter.ChairService`) when the tablet works against the clinic's
PostgreSQL server. Readings, events and acknowledgements without a signature go to the
server as usual; when the server cannot be reached — a failure that surely stored nothing,
or a failure at COMMIT that the server cannot yet settle (:func:`monitor.service.outcome.settle`)
— the entry is held on the tablet (:class:`monitor.storage.outbox.Outbox`, committed to its
own file before the call returns) and the call returns as saved, marked held. While a
session has entries held, its new entries go behind them, so the server receives them in
the order they were made.

The session shown meanwhile is the tablet's copy: the session as the server last gave it,
with the held entries added, and evaluated by the same pure rules the server uses
(:func:`monitor.service.evaluation.evaluate`): SpO2 88 raises its critical flag at once.
What needs the server — a signature (critical acknowledgement, a void or amendment behind a
critical flag, the discharge sign-off, an override), a correction, a clinician's review —
is refused with words that say so, and the form keeps the entry.

:meth:`TabletService.drain` gives the held entries to the server in order through the same
service calls with the same ids, and removes each only once the server has it; a retry
after a crash is stored once. The server's refusal (the session closed meanwhile, values
that conflict) is kept, with its words, for the nurse to see — never dropped.
:class:`Drainer` runs the drain on a thread of its own, so the screen never waits.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from monitor.clinical import start_gate
from monitor.clinical.domain import (
    Acknowledgement,
    Event,
    EventKind,
    Flag,
    Measure,
    Reading,
    Severity,
    clock_time,
)
from monitor.clinical.infusion import EarlyStopError, check_early_stop
from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.rules import PHQ9_ITEM9_FLAG
from monitor.clinical.signing import CLOSING_EVENTS
from monitor.clinical.validation import (
    FieldError,
    validate_after_check_in,
    validate_reading,
    validate_time,
)
from monitor.clock import Clock, ensure_utc
from monitor.service.auth import AccountLocked, LoginRefused, SignatureRequired, StaffInfo
from monitor.service.charting import validated
from monitor.service.clinic import ClinicService
from monitor.service.evaluation import evaluate
from monitor.service.guard import NeedsClinician
from monitor.service.outcome import Verdict, settle
from monitor.service.views import (
    InvalidEntryError,
    NotFoundError,
    SavedReading,
    SessionClosedError,
    SessionView,
    Superseded,
)
from monitor.storage.outbox import HeldEntry, Outbox
from monitor.storage.records import READING_FIELDS
from monitor.storage.store import NotSavedError, OutcomeUnknownError, StorageError

log = logging.getLogger(__name__)

READING, EVENT, ACKNOWLEDGEMENT = "reading", "event", "acknowledgement"
#: The payload's key for the moment the nurse saved the entry on this tablet (before the
#: try that found the server away, which may take seconds). Entries held before it was kept
#: have none: the server dates them at receipt, as it did then.
ENTERED_AT = "entered_at"

#: What the nurse is told when an action needs the server and it cannot be reached.
NEEDS_SERVER = ("{what} needs the server, which cannot be reached now. Nothing was "
                "recorded; the entry stays here: try again when the server is back.")
#: … and when the session has entries saved on this tablet that the server has not yet.
WAITS_FOR_HELD = ("{what} waits until the {n} entries saved on this tablet reach the "
                  "server. Nothing was recorded; the entry stays here.")

#: The server's answers that refuse an entry (kept, with its words), as opposed to the
#: environment failing (the entry waits for the next try).
REFUSALS = (InvalidEntryError, PermissionDenied, NeedsClinician, NotFoundError, LoginRefused,
            AccountLocked, SignatureRequired)


class TabletService:
    """A :class:`ClinicService` with an outbox: charting goes on while the server is away.

    Everything a chair's presenter asks for; :meth:`drain` gives the held entries to the
    server. ``on_reachable`` is called when a read went through while entries wait (the
    :class:`Drainer`'s ``poke``). ``drain_service``: the service the drain calls (default
    ``service``); the app gives the drain's thread a service of its own on the same store,
    so that the two threads share no evaluation kept between saves. ``cached``: the
    session as the tablet's cache last kept it (:mod:`monitor.service.offline`), the base of
    the tablet's copy when this run has not read it yet (a start without the server).
    """

    def __init__(self, service: ClinicService, outbox: Outbox, clock: Clock, *,
                 on_reachable: Callable[[], None] | None = None,
                 drain_service: ClinicService | None = None,
                 cached: Callable[[uuid.UUID], SessionView | None] | None = None) -> None:
        self.service = service
        self.drain_service = drain_service if drain_service is not None else service
        self.outbox = outbox
        self.clock = clock
        self.on_reachable = on_reachable
        self._cached = cached
        #: The session as the server last gave it, the base of the tablet's copy.
        self._views: dict[uuid.UUID, SessionView] = {}
        self._staff: dict[uuid.UUID, StaffInfo] = {}
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()

    # -- reading back --------------------------------------------------------------------

    def held(self, session_id: uuid.UUID) -> int:
        """How many entries of the session are saved here and not yet on the server."""
        return self.outbox.count(session_id)

    def load(self, session_id: uuid.UUID, at: datetime | None = None) -> SessionView:
        """The session from the server, with any entries still held here added; while the
        server cannot be read, the tablet's copy (marked ``on_tablet``) if this tablet has
        loaded the session before, else the failure."""
        at = ensure_utc(at) if at is not None else self.clock.now()
        try:
            view = self.service.load(session_id, at)
        except StorageError as exc:
            if exc.reason != "unreachable":
                raise
            copy = self.copy_of(session_id, at)
            if copy is None:
                raise
            return copy
        with self._lock:
            self._views[session_id] = view
        if self.outbox.count() and self.on_reachable is not None:
            self.on_reachable()
        return self._tablet_copy(view, at)

    def copy_of(self, session_id: uuid.UUID, at: datetime) -> SessionView | None:
        """The tablet's copy of the session at ``at`` (None: never read, nor cached)."""
        base = self._base(session_id)
        return None if base is None else self._tablet_copy(base, at, on_tablet=True)

    def _base(self, session_id: uuid.UUID) -> SessionView | None:
        with self._lock:
            base = self._views.get(session_id)
        if base is None and self._cached is not None:
            base = self._cached(session_id)
            if base is not None:
                with self._lock:
                    base = self._views.setdefault(session_id, base)
        return base

    def stored(self, kind: str, record_id: uuid.UUID) -> bool:
        return self.service.stored(kind, record_id)

    def staff_info(self, staff_id: uuid.UUID) -> StaffInfo:
        """The staff member, from the server; while it is away, as this tablet last read it."""
        try:
            info = self.service.staff_info(staff_id)
        except StorageError:
            if staff_id in self._staff:
                return self._staff[staff_id]
            raise
        self._staff[staff_id] = info
        return info

    # -- charting ------------------------------------------------------------------------

    def record_reading(
        self, session_id: uuid.UUID, raw: Mapping[str, Any], *, by: uuid.UUID,
        time: datetime | None = None, confirmed: Collection[str] = (), note: str = "",
        on_oxygen: bool = False, reading_id: uuid.UUID | None = None,
        after_signoff_reason: str | None = None, with_view: bool = False,
    ) -> SavedReading:
        """Save a reading on the server, or hold it here (``held`` > 0 in the result, with
        the flags it raises on the tablet's copy)."""
        rid = reading_id or uuid.uuid4()
        saved_at = self.clock.now()
        when = ensure_utc(time) if time is not None else saved_at
        payload = {"raw": dict(raw), "by": str(by), "time": when.isoformat(),
                   "confirmed": sorted(confirmed), "note": note, "on_oxygen": on_oxygen,
                   "after_signoff_reason": after_signoff_reason,
                   ENTERED_AT: saved_at.isoformat()}
        if not self.held(session_id):
            try:
                return self.service.record_reading(
                    session_id, raw, by=by, time=when, confirmed=confirmed, note=note,
                    on_oxygen=on_oxygen, reading_id=rid,
                    after_signoff_reason=after_signoff_reason, with_view=with_view)
            except StorageError as exc:
                self._holdable(exc, READING, rid)
        validated(raw, confirmed, when, self.clock.now())
        before = self._known_view(session_id)
        self._check_open(before, when, after_signoff_reason)
        self.outbox.hold(rid, READING, session_id, payload, self.clock.now())
        after = self._known_view(session_id)
        new_flags: tuple[Flag, ...] = ()
        if after is not None:
            seen = {f.id for f in before.flags} if before is not None else set()
            new_flags = tuple(f for f in after.flags if f.id not in seen and f.open)
        return SavedReading(rid, new_flags, view=after if with_view else None,
                            held=self.held(session_id))

    def record_event(
        self, session_id: uuid.UUID, kind: EventKind, *, by: uuid.UUID,
        time: datetime | None = None, detail: str = "", data: Mapping[str, Any] | None = None,
        confirmed: Collection[str] = (), override_reason: str = "",
        after_signoff_reason: str | None = None, event_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Record an event on the server, or hold it here."""
        eid = event_id or uuid.uuid4()
        saved_at = self.clock.now()
        when = ensure_utc(time) if time is not None else saved_at
        if not self.held(session_id):
            try:
                return self.service.record_event(
                    session_id, kind, by=by, time=when, detail=detail, data=data,
                    confirmed=confirmed, override_reason=override_reason,
                    after_signoff_reason=after_signoff_reason, event_id=eid)
            except StorageError as exc:
                self._holdable(exc, EVENT, eid)
        self._check_event(session_id, EventKind(kind), when, data=data,
                          override_reason=override_reason,
                          after_signoff_reason=after_signoff_reason)
        self.outbox.hold(eid, EVENT, session_id, {
            "kind": EventKind(kind).value, "by": str(by), "time": when.isoformat(),
            "detail": detail, "data": dict(data) if data is not None else None,
            "confirmed": sorted(confirmed), "override_reason": override_reason,
            "after_signoff_reason": after_signoff_reason, ENTERED_AT: saved_at.isoformat()},
            self.clock.now())
        return eid

    def acknowledge(
        self, session_id: uuid.UUID, flag: Flag, *, action: str, by: uuid.UUID,
        note: str = "", pin: str | None = None, record_pause: bool = False,
        acknowledgement_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        """Acknowledge a flag on the server; one that needs no signature and no clinician
        is held here while the server is away."""
        aid = acknowledgement_id or uuid.uuid4()
        when = self.clock.now()
        signed = pin is not None or flag.severity >= Severity.CRITICAL
        known = self._known_view(session_id)
        clinician = flag.key == PHQ9_ITEM9_FLAG or (
            flag.key == start_gate.BP_HIGH_FLAG
            and (known is None or start_gate.needs_baseline_bp_review(flag, known.phase)))
        what = ("Acknowledging a critical flag (an e-signature)" if signed
                else "A clinician's review of this flag")
        if signed or clinician:
            return self._needs_server(session_id, what, lambda: self.service.acknowledge(
                session_id, flag, action=action, by=by, note=note, time=when, pin=pin,
                record_pause=record_pause, acknowledgement_id=aid))
        if not self.held(session_id):
            try:
                return self.service.acknowledge(
                    session_id, flag, action=action, by=by, note=note, time=when, pin=pin,
                    record_pause=record_pause, acknowledgement_id=aid)
            except StorageError as exc:
                self._holdable(exc, ACKNOWLEDGEMENT, aid)
        if not action.strip():
            raise InvalidEntryError([FieldError("action", "Choose the action taken")])
        self.outbox.hold(aid, ACKNOWLEDGEMENT, session_id, {
            "flag": _flag_payload(flag), "action": action, "by": str(by), "note": note,
            "time": when.isoformat(), "record_pause": record_pause}, self.clock.now())
        return aid

    # -- what needs the server -----------------------------------------------------------

    def void(self, session_id: uuid.UUID, target_kind: str, target_id: uuid.UUID, *,
             reason: str, by: uuid.UUID, pin: str | None = None,
             correction_id: uuid.UUID | None = None) -> uuid.UUID:
        return self._needs_server(session_id, "A correction", lambda: self.service.void(
            session_id, target_kind, target_id, reason=reason, by=by, pin=pin,
            correction_id=correction_id))

    def amend_reading(self, session_id: uuid.UUID, target_id: uuid.UUID,
                      raw: Mapping[str, Any], *, reason: str, by: uuid.UUID,
                      confirmed: Collection[str] = (), note: str = "",
                      pin: str | None = None,
                      correction_id: uuid.UUID | None = None) -> uuid.UUID:
        return self._needs_server(session_id, "A correction", lambda: self.service.amend_reading(
            session_id, target_id, raw, reason=reason, by=by, confirmed=confirmed, note=note,
            pin=pin, correction_id=correction_id))

    def sign_discharge(self, session_id: uuid.UUID, *, by: uuid.UUID,
                       pin: str | None = None) -> uuid.UUID:
        return self._needs_server(session_id, "Sign-off", lambda: self.service.sign_discharge(
            session_id, by=by, pin=pin))

    def override_discharge(self, session_id: uuid.UUID, *, reason: str, by: uuid.UUID,
                           pin: str | None = None) -> uuid.UUID:
        return self._needs_server(
            session_id, "A discharge override", lambda: self.service.override_discharge(
                session_id, reason=reason, by=by, pin=pin))

    # -- the drain -----------------------------------------------------------------------

    def drain(self) -> int:
        """Give the held entries to the server, oldest first; returns how many it took.

        Each leaves the outbox only once the server has it (committed, or stored already
        with these values by an earlier try). A refusal is kept with the server's words and
        the drain goes on; it stops at the first failure of the environment (the entry
        waits for the next drain, its failed tries counted)."""
        taken = 0
        with self._drain_lock:
            while (entry := self.outbox.first_waiting()) is not None:
                try:
                    self._replay(entry)
                except OutcomeUnknownError:
                    if settle(self.drain_service.stored, entry.kind, entry.entry_id).verdict \
                            is not Verdict.SAVED:
                        self.outbox.attempted(entry.entry_id)
                        break
                except StorageError as exc:
                    log.info("drain stopped: %s", exc.message)
                    self.outbox.attempted(entry.entry_id)
                    break
                except REFUSALS as exc:
                    self.outbox.refuse(entry.entry_id,
                                       f"{describe(entry)}: {_refusal_text(exc)}")
                    continue
                self.outbox.remove(entry.entry_id)
                taken += 1
        return taken

    def _replay(self, entry: HeldEntry) -> None:
        """Make the call that was held, with its id and arguments."""
        p = entry.payload
        by = uuid.UUID(p["by"])
        when = datetime.fromisoformat(p["time"])
        entered = entered_on_tablet(entry)
        service = self.drain_service
        if entry.kind == READING:
            service.record_reading(
                entry.session_id, p["raw"], by=by, time=when, confirmed=p["confirmed"],
                note=p["note"], on_oxygen=p["on_oxygen"], reading_id=entry.entry_id,
                after_signoff_reason=p["after_signoff_reason"], entered_at=entered)
        elif entry.kind == EVENT:
            service.record_event(
                entry.session_id, EventKind(p["kind"]), by=by, time=when, detail=p["detail"],
                data=p["data"], confirmed=p["confirmed"], override_reason=p["override_reason"],
                after_signoff_reason=p["after_signoff_reason"], event_id=entry.entry_id,
                entered_at=entered)
        elif entry.kind == ACKNOWLEDGEMENT:
            service.acknowledge(
                entry.session_id, _flag_from(p["flag"]), action=p["action"], by=by,
                note=p["note"], time=when, record_pause=p["record_pause"],
                acknowledgement_id=entry.entry_id)
        else:
            raise InvalidEntryError([FieldError("kind", f"Unknown kind of entry {entry.kind!r}")])

    # -- internals -----------------------------------------------------------------------

    def _holdable(self, exc: StorageError, kind: str, entry_id: uuid.UUID) -> None:
        """Return when the failed save ``exc`` may be held here (the server is away and
        surely has not stored it, or cannot yet say); else raise it again."""
        if exc.reason != "unreachable":
            raise exc
        if isinstance(exc, OutcomeUnknownError) and \
                settle(self.service.stored, kind, entry_id).verdict is not Verdict.UNKNOWN:
            raise exc  # the server answers: the presenter says Saved or NOT saved

    def _needs_server(self, session_id: uuid.UUID, what: str, call: Callable[[], uuid.UUID]
                      ) -> uuid.UUID:
        waiting = self.held(session_id)
        if waiting:
            raise NotSavedError("unreachable", WAITS_FOR_HELD.format(what=what, n=waiting))
        try:
            return call()
        except OutcomeUnknownError:
            raise
        except StorageError as exc:
            if exc.reason != "unreachable":
                raise
            raise NotSavedError("unreachable", NEEDS_SERVER.format(what=what)) from exc

    def _known_view(self, session_id: uuid.UUID) -> SessionView | None:
        return self.copy_of(session_id, self.clock.now())

    def _check_open(self, view: SessionView | None, when: datetime,
                    after_signoff_reason: str | None) -> None:
        if view is None:
            return
        problem = validate_after_check_in(when, view.info.time)
        if problem is not None:
            raise InvalidEntryError([problem])
        if view.sign_off is not None and after_signoff_reason is None:
            raise SessionClosedError(view.sign_off)

    def _check_event(self, session_id: uuid.UUID, kind: EventKind, when: datetime, *,
                     data: Mapping[str, Any] | None, override_reason: str,
                     after_signoff_reason: str | None) -> None:
        """What the tablet can check of an event before holding it."""
        problem = validate_time(when, self.clock.now())
        if problem is not None:
            raise InvalidEntryError([problem])
        if kind in CLOSING_EVENTS:
            raise NotSavedError("unreachable", NEEDS_SERVER.format(what="Sign-off"))
        view = self._known_view(session_id)
        self._check_open(view, when, after_signoff_reason)
        if kind is EventKind.INFUSION_START and (
                override_reason.strip() or view is None
                or start_gate.start_hold(view.flags, ()) is not None):
            raise NotSavedError("unreachable", NEEDS_SERVER.format(
                what="Starting the infusion while it waits for a clinician"))
        if kind is EventKind.INFUSION_STOP and view is not None:
            stop = view.early_stop(when)
            if stop is not None:
                try:
                    check_early_stop(data, stop)
                except EarlyStopError as refused:
                    raise InvalidEntryError(refused.errors) from None

    def _tablet_copy(self, base: SessionView, at: datetime, *,
                     on_tablet: bool = False) -> SessionView:
        """``base`` with the entries held here added, evaluated at ``at``."""
        waiting = self.outbox.waiting(base.info.id)
        refused = tuple(e.refused for e in self.outbox.refused(base.info.id))
        if not waiting and not on_tablet:
            return replace(base, refused_on_server=refused) if refused else base
        record = base.record
        known = {r.id for r in (*record.readings, *base.superseded_readings)} | {
            e.id for e in (*record.events, *base.superseded_events)}
        readings, events = list(record.readings), list(record.events)
        acks = list(record.acknowledgements)
        held = 0
        for entry in waiting:
            if entry.entry_id in known:
                continue  # the server has it; the outbox is about to let it go
            held += 1
            readings, events, acks = _with_entry(entry, readings, events, acks)
        record = replace(record, readings=tuple(sorted(readings, key=lambda r: r.time)),
                         events=tuple(sorted(events, key=lambda e: e.time)),
                         acknowledgements=tuple(acks))
        view = evaluate(info=base.info, protocol=base.protocol, record=record, at=at,
                        superseded=Superseded(base.superseded_readings,
                                              base.superseded_events),
                        corrections=base.corrections)
        return replace(view, superseded_flags=base.superseded_flags,
                       signatures=base.signatures, held=held, on_tablet=on_tablet,
                       refused_on_server=refused)


def _with_entry(entry: HeldEntry, readings: list[Reading], events: list[Event],
                acks: list[Acknowledgement]
                ) -> tuple[list[Reading], list[Event], list[Acknowledgement]]:
    """The record's lists with the held ``entry`` added as the server would add it."""
    p = entry.payload
    when = datetime.fromisoformat(p["time"])
    entered = entered_on_tablet(entry) or entry.held_at
    if entry.kind == READING:
        values = validate_reading(p["raw"], confirmed=p["confirmed"]).values
        readings = [*readings, Reading(
            id=entry.entry_id, time=when, on_oxygen=p["on_oxygen"], note=p["note"],
            recorded_at=entered, entered_by=uuid.UUID(p["by"]),
            **{k: v for k, v in values.items() if k in READING_FIELDS})]  # type: ignore[arg-type]
    elif entry.kind == EVENT:
        events = [*events, Event(id=entry.entry_id, time=when, kind=EventKind(p["kind"]),
                                 detail=p["detail"], recorded_at=entered,
                                 data=p["data"] or {})]
    elif entry.kind == ACKNOWLEDGEMENT:
        flag_id = uuid.UUID(p["flag"]["id"])
        acks = [*acks, Acknowledgement(flag_id=flag_id, time=when, action=p["action"].strip(),
                                       note=p["note"].strip())]
        if p["record_pause"]:
            events = [*events, Event(id=uuid.uuid5(entry.entry_id, "pause"), time=when,
                                     kind=EventKind.INFUSION_PAUSE, recorded_at=entry.held_at)]
    return readings, events, acks


def entered_on_tablet(entry: HeldEntry) -> datetime | None:
    """When the nurse saved the held entry on this tablet (None: held before this was kept)."""
    text = entry.payload.get(ENTERED_AT)
    return datetime.fromisoformat(text) if text else None


def describe(entry: HeldEntry) -> str:
    """The held entry in the nurse's words, so that a refused one can be entered again:
    "Reading 10:32 (hr 72, spo2 88)", "Medication 10:40 (ondansetron 4 mg)"."""
    p = entry.payload
    at = clock_time(datetime.fromisoformat(p["time"]))
    if entry.kind == READING:
        raw = p["raw"]
        names = [*(k for k in READING_FIELDS if k in raw), *(k for k in raw
                                                              if k not in READING_FIELDS)]
        values = ", ".join(f"{k} {raw[k]}" for k in names if raw[k] not in (None, ""))
        return f"Reading {at} ({values})"
    if entry.kind == EVENT:
        kind = EventKind(p["kind"]).value.replace("_", " ").capitalize()
        return f"{kind} {at}" + (f" ({p['detail']})" if p["detail"] else "")
    if entry.kind == ACKNOWLEDGEMENT:
        return f"Acknowledgement {at} of {p['flag']['message']} ({p['action']})"
    return f"{entry.kind.capitalize()} {at}"


def _flag_payload(flag: Flag) -> dict[str, Any]:
    return {"id": str(flag.id), "key": flag.key, "measure": flag.measure.value,
            "severity": int(flag.severity), "time": flag.time.isoformat(),
            "message": flag.message,
            "reading_id": str(flag.reading_id) if flag.reading_id is not None else None}


def _flag_from(p: Mapping[str, Any]) -> Flag:
    return Flag(id=uuid.UUID(p["id"]), key=p["key"], measure=Measure(p["measure"]),
                severity=Severity(p["severity"]), time=datetime.fromisoformat(p["time"]),
                message=p["message"],
                reading_id=uuid.UUID(p["reading_id"]) if p["reading_id"] else None)


def _refusal_text(exc: Exception) -> str:
    return str(exc) or type(exc).__name__


class Drainer:
    """Drains the outbox on a thread of its own: at once when poked (a read went through
    again), else every ``every_s`` seconds while entries wait. Qt-free; ``drained`` is
    called on that thread after a drain that took entries (the app moves it to the screen).
    """

    def __init__(self, tablet: TabletService, *, every_s: float = 5.0,
                 drained: Callable[[int], None] | None = None) -> None:
        self.tablet = tablet
        self.every_s = every_s
        self.drained = drained
        self._wake = threading.Event()
        self._stopping = False
        #: Set after each round, cleared when poked (tests wait on it).
        self.idle = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-drain", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        self.idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.every_s)
            self._wake.clear()
            if self._stopping:
                break
            try:
                taken = self.tablet.drain() if self.tablet.outbox.count() else 0
            except Exception:
                log.exception("the outbox drain failed; its entries stay held")
                taken = 0
            if taken and self.drained is not None:
                self.drained(taken)
            self.idle.set()
