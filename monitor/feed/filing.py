"""From a monitor's message to a chair's session: bindings, every observation kept, device
readings the nurse confirms or discards.

* **Devices and chairs.** Each monitor that sends is a row of ``feed_devices`` (its EUI-64,
  else its PV1-3 location). An admin binds it to a chair (:meth:`FeedFiling.bind`); binding
  a monitor again, or another monitor to the same chair, ends the earlier binding by setting
  its ``unbound_at``: bindings are never deleted.
* **Every observation is kept** in ``feed_observations`` with what became of it: ``unbound``
  (the monitor is not bound to a chair), ``ignored`` (no active session on the chair, the
  session is discharged, a measure ChairSide does not chart, or vitals not taken into a BP
  reading), ``held`` (the message's patient is not the session's: nothing is filed),
  ``duplicate`` (a repeated NIBP: same device, code, time and value), ``rejected`` (the value
  is not real, or its device reading was discarded), ``pending`` (part of a device reading
  waiting for the nurse) and ``filed``.
* **Device readings.** An NIBP (systolic, diastolic, mean) is one reading at the cuff time,
  with the heart rate, SpO2 and respiratory rate the same monitor observed nearest to it,
  within :data:`NEAREST_WITHIN` (those already received). It waits in ``device_readings``
  until a nurse or clinician confirms it (:meth:`FeedFiling.confirm`), which stores the
  reading row through the service's own path (validation, flags, audit), or discards it
  with a reason. With ``[feed] auto_accept = true`` in the session's protocol it is filed at
  once, by the feed's system identity. Only filed readings count for flags and discharge.
* **Source.** ``device_readings.reading_id`` links each filed reading to its monitor, the
  message id, the cuff time from the device, the receive time and who confirmed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from monitor.clinical.domain import EventKind
from monitor.clinical.feed_health import ANNOUNCE_EVERY, feed_lost, resumed_note
from monitor.clinical.permissions import Action
from monitor.clinical.validation import FieldError
from monitor.clock import ensure_utc
from monitor.feed.interpret import Interpretation
from monitor.feed.mapping import Ignored, Observation, Rejected, dedup_key
from monitor.service.charting import open_or_reason, refuse_before_check_in, validated
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError, NotFoundError, SavedReading, SessionClosedError
from monitor.storage.model import (
    DeviceReading,
    FeedBinding,
    FeedDevice,
    FeedObservation,
    Patient,
    TreatmentSession,
)
from monitor.storage.records import session_info

#: Vitals are taken into a BP reading when observed this close to the cuff time.
NEAREST_WITHIN = timedelta(minutes=2)
#: A session is on its chair for this long after check-in (as the overview counts it).
SESSION_WINDOW = timedelta(hours=12)
#: The staff identity device readings are filed by when the protocol auto-accepts them.
FEED_IDENTITY = "Bedside monitor feed"
MIN_DISCARD_REASON = 3
#: The shortest ``[feed] silence_advisory_min`` a protocol may set (its range is 1-480).
_SHORTEST_SILENCE = timedelta(minutes=1)

_BP = ("sbp", "dbp", "mean_bp")
#: Reading columns filled from the nearest vitals, and the measures that may fill each.
_NEAREST: Mapping[str, tuple[str, ...]] = {"hr": ("hr", "pulse_rate"), "spo2": ("spo2",),
                                           "rr": ("rr",)}
_CHARTED = frozenset(_BP) | {m for ms in _NEAREST.values() for m in ms}
#: Statuses whose value may be taken into a device reading.
_USABLE = ("ignored", "pending", "filed")


class FeedError(ValueError):
    """A feed action that cannot be done; the message says why (and names the field)."""


def device_key(eui64: str | None, location: str | None) -> str:
    """How a monitor is named in the feed tables: its EUI-64, else its location."""
    if eui64:
        return eui64.upper()
    if location:
        return f"location:{location}"
    return "unknown"


@dataclass(frozen=True, slots=True)
class FiledMessage:
    """What filing one message did: observations by status, device readings made."""

    device_key: str
    chair: str | None
    statuses: Mapping[str, int]
    device_readings: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    key: str
    eui64: str | None
    location: str | None
    chair: str | None
    bound_at: datetime | None
    first_message_at: datetime | None
    last_message_at: datetime | None


@dataclass(frozen=True, slots=True)
class DeviceReadingInfo:
    id: uuid.UUID
    session_id: uuid.UUID
    device_key: str
    chair: str
    time: datetime
    values: Mapping[str, int]
    message_id: str
    received_at: datetime
    status: str
    reason: str
    reading_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class _Target:
    chair: str | None
    session_id: uuid.UUID | None
    status: str | None  # set when nothing may be filed: unbound, ignored, held
    reason: str
    bound_at: datetime | None = None  # of the monitor to the chair


class FeedFiling:
    """The feed's use cases on top of a :class:`ClinicService`; each method one transaction."""

    def __init__(self, service: ClinicService) -> None:
        self.service = service
        self._feed_identity: uuid.UUID | None = None
        #: When each monitor was last announced as sending (see :meth:`_announce`).
        self._announced: dict[str, datetime] = {}

    # -- bindings --------------------------------------------------------------------------

    def bind(self, chair: str, *, by: uuid.UUID, device: str | None = None,
             location: str | None = None) -> uuid.UUID:
        """Bind the monitor (``device`` EUI-64 or ``location``) to ``chair``; audited.

        An earlier binding of the monitor, or of another monitor to the chair, ends now.
        """
        key = self._key_of(device, location)
        chair = chair.strip()
        if not chair or len(chair) > 20:
            raise FeedError("--chair: a chair name of 1-20 characters")
        self.service.guard.require(by, Action.BIND_MONITOR)
        now = self.service.clock.now()
        binding_id = uuid.uuid4()
        with self.service.store.write() as db:
            ended = self._end_bindings(db, now, by, (FeedBinding.device_key == key)
                                       | (FeedBinding.chair == chair))
            db.add(FeedBinding(id=binding_id, device_key=key, chair=chair, bound_by=by,
                               bound_at=now))
            self.service.guard.audit(db, by, "bind", "monitor", binding_id, now=now,
                                     new={"device": key, "chair": chair, "ended": ended})
        return binding_id

    def unbind(self, *, by: uuid.UUID, device: str | None = None,
               location: str | None = None) -> int:
        """End the monitor's binding; returns how many bindings ended (0: it was not bound)."""
        key = self._key_of(device, location)
        self.service.guard.require(by, Action.BIND_MONITOR)
        now = self.service.clock.now()
        with self.service.store.write() as db:
            ended = self._end_bindings(db, now, by, FeedBinding.device_key == key)
            if ended:
                self.service.guard.audit(db, by, "unbind", "monitor", None, now=now,
                                         new={"device": key, "ended": ended})
        return len(ended)

    @staticmethod
    def _key_of(device: str | None, location: str | None) -> str:
        if (device is None) == (location is None):
            raise FeedError("give either --device EUI64 or --location TEXT")
        if device is not None:
            text = device.strip()
            if len(text) != 16 or any(c not in "0123456789abcdefABCDEF" for c in text):
                raise FeedError(f"--device: {device!r} must be an EUI-64 of 16 hex digits")
            return device_key(text, None)
        assert location is not None
        text = location.strip()
        if not text or len(text) > 120:
            raise FeedError("--location: the monitor's PV1-3 location, 1-120 characters "
                            "(e.g. INFUSION^^CHAIR1)")
        return device_key(None, text)

    @staticmethod
    def _end_bindings(db: Session, now: datetime, by: uuid.UUID, which: Any) -> list[str]:
        rows = db.execute(select(FeedBinding).where(
            FeedBinding.unbound_at.is_(None), which)).scalars().all()
        for row in rows:
            row.unbound_at = now
            row.unbound_by = by
        return [f"{row.device_key} on {row.chair}" for row in rows]

    def devices(self) -> list[DeviceInfo]:
        """Every monitor that sent or was ever bound, with its chair (None when not bound
        now) and last message time."""
        with self.service.store.read() as db:
            seen = {row.key: row for row in db.execute(select(FeedDevice)).scalars()}
            ever = set(db.execute(select(FeedBinding.device_key).distinct()).scalars())
            bound = {row.device_key: row for row in db.execute(
                select(FeedBinding).where(FeedBinding.unbound_at.is_(None))).scalars()}
        result = []
        for key in sorted(seen.keys() | ever):
            device, binding = seen.get(key), bound.get(key)
            eui = key if not key.startswith(("location:", "unknown")) else None
            location = key.removeprefix("location:") if key.startswith("location:") else None
            result.append(DeviceInfo(
                key, device.eui64 if device else eui,
                device.location if device else location,
                binding.chair if binding else None, binding.bound_at if binding else None,
                device.first_message_at if device else None,
                device.last_message_at if device else None))
        return result

    # -- filing ----------------------------------------------------------------------------

    def file(self, message: Interpretation, received_at: datetime) -> FiledMessage:
        """Keep every observation of ``message`` and make device readings from its NIBP."""
        return self.file_batch([(message, received_at)])[0]

    def file_batch(
        self, messages: Sequence[tuple[Interpretation, datetime]]
    ) -> list[FiledMessage]:
        """:meth:`file` for messages in arrival order, in one transaction (one commit)."""
        filed: list[FiledMessage] = []
        auto: list[uuid.UUID] = []
        self._system_identity()  # a silence's end is noted by it, inside the transaction
        with self.service.store.write() as db:
            for message, received_at in messages:
                result, accepted = self._file_one(db, message, received_at)
                filed.append(result)
                auto += accepted
        for reading_id in auto:
            self._auto_file(reading_id)
        return filed

    def _auto_file(self, reading_id: uuid.UUID) -> None:
        """File an auto-accepted device reading; one the record refuses (a cuff time ahead
        of ChairSide's clock, a session discharged meanwhile) waits for the nurse instead,
        with the reason."""
        try:
            self._file(reading_id, self._system_identity(), role=None)
        except (InvalidEntryError, SessionClosedError) as exc:
            problems = getattr(exc, "errors", ())
            why = "; ".join(f"{e.field}: {e.message}" for e in problems) or str(exc)
            with self.service.store.write() as db:
                reading = db.get(DeviceReading, reading_id)
                if reading is not None:
                    reading.reason = f"not auto-accepted: {why}"[:500]

    def _file_one(self, db: Session, message: Interpretation,
                  received_at: datetime) -> tuple[FiledMessage, list[uuid.UUID]]:
        key = device_key(message.device_id, message.location)
        statuses: dict[str, int] = {}
        made: list[uuid.UUID] = []
        auto: list[uuid.UUID] = []
        device = db.get(FeedDevice, key)
        last = ensure_utc(device.last_message_at) if device is not None else None
        self._seen(db, key, message, received_at)
        target = self._target(db, key, message.mrn, received_at)
        self._announce(db, key, target, received_at)
        self._note_resumed(db, target, last, received_at)
        seen = self._seen_keys(db, message)
        rows = [self._row(seen, key, message, target, outcome=outcome, now=received_at)
                for outcome in message.outcomes]
        db.add_all(rows)
        db.flush()
        if target.status is None and target.session_id is not None:
            for reading in self._device_readings(db, key, target, rows=rows, message=message,
                                               now=received_at):
                made.append(reading.id)
                if self._auto_accept(db, target.session_id):
                    auto.append(reading.id)
        for row in rows:
            statuses[row.status] = statuses.get(row.status, 0) + 1
        db.flush()
        return FiledMessage(key, target.chair, statuses, tuple(made)), auto

    @staticmethod
    def _seen(db: Session, key: str, message: Interpretation, now: datetime) -> None:
        device = db.get(FeedDevice, key)
        if device is None:
            db.add(FeedDevice(key=key, eui64=message.device_id, location=message.location,
                              first_message_at=now, last_message_at=now))
            return
        device.last_message_at = max(device.last_message_at, now)
        if message.location:
            device.location = message.location

    def _target(self, db: Session, key: str, mrn: str | None, now: datetime) -> _Target:
        binding = db.execute(select(FeedBinding.chair, FeedBinding.bound_at).where(
            FeedBinding.device_key == key, FeedBinding.unbound_at.is_(None))).first()
        if binding is None:
            return _Target(None, None, "unbound", "the monitor is not bound to a chair")
        chair = binding.chair
        session = db.execute(
            select(TreatmentSession.id, Patient.mrn)
            .join(Patient, Patient.id == TreatmentSession.patient_id)
            .where(TreatmentSession.chair == chair, TreatmentSession.time >= now - SESSION_WINDOW,
                   TreatmentSession.time <= now)
            .order_by(TreatmentSession.time.desc(), TreatmentSession.recorded_at.desc())
            .limit(1)).first()
        if session is None:
            return _Target(chair, None, "ignored", f"no session on chair {chair}")
        try:
            open_or_reason(db.connection(), session.id, "nurse", None, "")
        except SessionClosedError:
            return _Target(chair, session.id, "ignored",
                           f"the session on chair {chair} is discharged")
        if mrn and mrn.strip().casefold() != str(session.mrn).strip().casefold():
            return _Target(chair, session.id, "held",
                           f"the message's patient (PID-3) is not the patient of the session "
                           f"on chair {chair}: nothing is filed; check the monitor's patient",
                           ensure_utc(binding.bound_at))
        return _Target(chair, session.id, None, "", ensure_utc(binding.bound_at))

    def _announce(self, db: Session, key: str, target: _Target, now: datetime) -> None:
        """Tell the tablets the session's monitor is sending, at most every
        :data:`~monitor.clinical.feed_health.ANNOUNCE_EVERY` per monitor: its "receive
        monitor" audit entry makes them load the session again, with the monitor's last
        message. The feed health on the tiles and the "monitor feed lost" advisory read it."""
        if target.session_id is None or target.status not in {None, "held"}:
            return
        last = self._announced.get(key)
        if last is not None and timedelta(0) <= now - last < ANNOUNCE_EVERY:
            return
        self._announced[key] = now
        self.service.guard.audit(db, None, "receive", "monitor", None, now=now,
                                 session_id=target.session_id,
                                 new={"device": key, "chair": target.chair})

    def _note_resumed(self, db: Session, target: _Target, last: datetime | None,
                      now: datetime) -> None:
        """Note in the session a silence before this message (``last``: the one before) that
        raised the "monitor feed lost" advisory, which so stays until acknowledged."""
        if (target.session_id is None or target.chair is None or target.status not in
                {None, "held"} or (last is not None and now - last <= _SHORTEST_SILENCE)):
            return  # a steady feed reads nothing more
        connection = db.connection()
        info = session_info(connection, target.session_id)
        protocol = self.service.session_protocols.protocol_of(connection, info)
        silence = timedelta(minutes=protocol.feed.silence_advisory_min)
        lost = feed_lost(target.chair, last, now, session_start=info.time, session_active=True,
                         silence=silence)
        if lost is None or (target.bound_at is not None
                            and now - max(lost.since, target.bound_at) <= silence):
            return  # not silent that long since it was bound (a monitor bound mid-session)
        (detail, data), event_id, by = resumed_note(lost), uuid.uuid4(), self._system_identity()
        self.service.charting.insert_event(db, info.id, EventKind.NOTE, by=by, when=now, now=now,
                                           detail=detail, data=data, event_id=event_id)
        new = {"time": now, "kind": EventKind.NOTE.value, "detail": detail, "data": data}
        self.service.guard.audit(db, by, "create", "event", event_id, now=now, new=new,
                                 session_id=info.id, patient_id=info.patient.id)

    @staticmethod
    def _seen_keys(db: Session, message: Interpretation) -> set[str]:
        """The de-duplication keys of the message's observations received before."""
        keys = [dedup_key(o) for o in message.observations]
        if not keys:
            return set()
        stored = db.execute(select(FeedObservation.dedup_key).where(
            FeedObservation.dedup_key.in_(keys))).scalars()
        return {key for key in stored if key is not None}

    @staticmethod
    def _row(seen: set[str], key: str, message: Interpretation, target: _Target, *,
             outcome: Observation | Rejected | Ignored, now: datetime) -> FeedObservation:
        """The observation's row; ``seen`` (keys already stored) gains its key."""
        common: dict[str, Any] = {
            "id": uuid.uuid4(), "device_key": key, "location": message.location,
            "chair": target.chair, "session_id": target.session_id, "received_at": now,
            "message_id": message.message_id[:80], "code": outcome.code[:40],
            "mrn": (message.mrn or None) and message.mrn[:32]}
        if isinstance(outcome, Rejected):
            return FeedObservation(**common, measure=outcome.measure or "",
                                   value=outcome.raw_value[:40], unit=outcome.raw_unit[:20],
                                   status="rejected", reason=outcome.reason)
        if isinstance(outcome, Ignored):
            return FeedObservation(**common, measure="", value="", unit="", status="ignored",
                                   reason=outcome.reason)
        dedup = dedup_key(outcome)
        row = FeedObservation(**common, measure=outcome.measure, value=str(outcome.value),
                              unit=outcome.unit, observed_at=outcome.observed_at,
                              status="", reason="")
        if dedup in seen:
            row.status, row.reason = "duplicate", "the same observation was received before"
            return row
        seen.add(dedup)
        row.dedup_key = dedup
        if target.status is not None:
            row.status, row.reason = target.status, target.reason
        elif outcome.measure in _BP:
            row.status = "pending"
        elif outcome.measure in _CHARTED:
            row.status, row.reason = "ignored", "kept: vitals are filed with an NIBP reading"
        else:
            row.status, row.reason = "ignored", f"{outcome.measure} is not charted"
        return row

    def _device_readings(self, db: Session, key: str, target: _Target, *,
                         rows: Sequence[FeedObservation], message: Interpretation,
                         now: datetime) -> list[DeviceReading]:
        assert target.session_id is not None
        assert target.chair is not None
        by_time: dict[datetime, list[FeedObservation]] = {}
        for row in rows:
            if row.status == "pending" and row.observed_at is not None:
                by_time.setdefault(row.observed_at, []).append(row)
        made = []
        for cuff_time, bp_rows in sorted(by_time.items()):
            values: dict[str, int] = {r.measure: int(Decimal(r.value)) for r in bp_rows}
            reading = DeviceReading(
                id=uuid.uuid4(), session_id=target.session_id, device_key=key,
                chair=target.chair, time=cuff_time, message_id=message.message_id[:80],
                received_at=now, status="pending", reason="", reading_id=uuid.uuid4(),
                **{m: values.get(m) for m in _BP})
            taken = list(bp_rows)
            for column, measures in _NEAREST.items():
                nearest = self._nearest(db, key, measures, cuff_time)
                if nearest is not None:
                    setattr(reading, column, int(Decimal(nearest.value)))
                    taken.append(nearest)
            for row in taken:
                if row.device_reading_id is None:
                    row.device_reading_id = reading.id
                    row.status, row.reason = "pending", "in a device reading"
            db.add(reading)
            made.append(reading)
            # Announced like a reading (monitor.storage.changes), so every tablet shows it waiting.
            self.service.guard.audit(db, None, "receive", "device_reading", reading.id, now=now,
                                     session_id=target.session_id,
                                     new={**{m: values.get(m) for m in _BP}, **_source(reading)})
        return made

    @staticmethod
    def _nearest(db: Session, key: str, measures: Sequence[str],
                 at: datetime) -> FeedObservation | None:
        candidates = db.execute(select(FeedObservation).where(
            FeedObservation.device_key == key, FeedObservation.measure.in_(measures),
            FeedObservation.status.in_(_USABLE),
            FeedObservation.observed_at >= at - NEAREST_WITHIN,
            FeedObservation.observed_at <= at + NEAREST_WITHIN)).scalars().all()
        if not candidates:
            return None
        # The nearest in time; the first measure listed (ECG HR before pulse rate) on a tie.
        return min(candidates, key=lambda r: (abs(ensure_utc(r.observed_at) - at)
                                              if r.observed_at else NEAREST_WITHIN,
                                              measures.index(r.measure)))

    def _auto_accept(self, db: Session, session_id: uuid.UUID) -> bool:
        connection = db.connection()
        info = session_info(connection, session_id)
        protocol = self.service.session_protocols.protocol_of(connection, info)
        return bool(protocol.feed.auto_accept)

    def _system_identity(self) -> uuid.UUID:
        if self._feed_identity is None:
            self._feed_identity = self.service.ensure_staff(FEED_IDENTITY, "system")
        return self._feed_identity

    # -- the nurse's decisions -------------------------------------------------------------

    def pending(self, session_id: uuid.UUID) -> list[DeviceReadingInfo]:
        """The session's device readings waiting for a nurse, oldest first."""
        return self.device_readings(session_id, statuses=("pending",))

    def device_readings(self, session_id: uuid.UUID,
                        statuses: Iterable[str] | None = None) -> list[DeviceReadingInfo]:
        query = select(DeviceReading).where(DeviceReading.session_id == session_id)
        if statuses is not None:
            query = query.where(DeviceReading.status.in_(list(statuses)))
        with self.service.store.read() as db:
            rows = db.execute(query.order_by(DeviceReading.time)).scalars().all()
            return [_reading_info(row) for row in rows]

    def confirm(self, device_reading_id: uuid.UUID, *, by: uuid.UUID) -> SavedReading:
        """File the device reading as a reading of its session (nurse or clinician)."""
        row = self._device_reading(device_reading_id)
        role = self.service.guard.require(by, Action.ENTER_READING, session_id=row.session_id,
                                          record_kind="device_reading", record_id=row.id)
        return self._file(device_reading_id, by, role=role)

    def discard(self, device_reading_id: uuid.UUID, reason: str, *, by: uuid.UUID) -> None:
        """Keep the device reading out of the record, with the reason (e.g. "artefact")."""
        reason = reason.strip()
        if len(reason) < MIN_DISCARD_REASON:
            raise InvalidEntryError([FieldError(
                "reason", f"Reason for discarding: at least {MIN_DISCARD_REASON} characters "
                "(e.g. artefact, cuff off, patient moving)")])
        row = self._device_reading(device_reading_id)
        self.service.guard.require(by, Action.ENTER_READING, session_id=row.session_id,
                                   record_kind="device_reading", record_id=row.id)
        now = self.service.clock.now()
        with self.service.store.write() as db:
            reading = self._pending_row(db, device_reading_id)
            reading.status, reading.reason = "discarded", reason
            reading.decided_by, reading.decided_at = by, now
            db.execute(update(FeedObservation).where(
                FeedObservation.device_reading_id == reading.id,
                FeedObservation.status == "pending").values(
                    status="rejected", reason=f"device reading discarded: {reason}"))
            self.service.guard.audit(db, by, "discard", "device_reading", reading.id, now=now,
                                     session_id=reading.session_id,
                                     new={"reason": reason, **_source(reading)})

    def _device_reading(self, device_reading_id: uuid.UUID) -> DeviceReadingInfo:
        with self.service.store.read() as db:
            row = db.get(DeviceReading, device_reading_id)
            if row is None:
                raise NotFoundError(f"no device reading {device_reading_id}")
            return _reading_info(row)

    @staticmethod
    def _pending_row(db: Session, device_reading_id: uuid.UUID) -> DeviceReading:
        reading = db.get(DeviceReading, device_reading_id, with_for_update=True)
        if reading is None:
            raise NotFoundError(f"no device reading {device_reading_id}")
        if reading.status != "pending":
            raise FeedError(f"the device reading is already {reading.status}")
        return reading

    def _file(self, device_reading_id: uuid.UUID, by: uuid.UUID,
              role: str | None) -> SavedReading:
        service = self.service
        now = service.clock.now()
        with service.store.write() as db:
            reading = self._pending_row(db, device_reading_id)
            raw = {m: str(getattr(reading, m)) for m in ("sbp", "dbp", "hr", "spo2", "rr")
                   if getattr(reading, m) is not None}
            when = ensure_utc(reading.time)
            # Every value is inside the accepted range; the nurse's confirmation (or the
            # clinic's auto-accept) stands for confirming any outside the usual range.
            values = validated(raw, tuple(raw), when, now)
            connection = db.connection()
            info = session_info(connection, reading.session_id)
            refuse_before_check_in(when, info)
            note = open_or_reason(connection, info.id, role or "nurse", None,
                                  "from the bedside monitor")
            saved = service.charting.store_reading(db, info, reading.reading_id, when, values,
                                                   note=note, on_oxygen=False, now=now, by=by)
            reading.status = "confirmed" if role is not None else "auto"
            reading.decided_by, reading.decided_at = by, now
            db.execute(update(FeedObservation).where(
                FeedObservation.device_reading_id == reading.id,
                FeedObservation.status == "pending").values(status="filed", reason=""))
            service.guard.audit(db, by, "confirm" if role is not None else "auto-accept",
                                "device_reading", reading.id, now=now, session_id=info.id,
                                patient_id=info.patient.id,
                                new={"reading_id": reading.reading_id, **_source(reading)})
        return saved

    # -- listing ---------------------------------------------------------------------------

    def observations(self, *, since: datetime | None = None, device: str | None = None,
                     limit: int = 10_000) -> list[FeedObservation]:
        query = select(FeedObservation)
        if since is not None:
            query = query.where(FeedObservation.received_at >= since)
        if device is not None:
            query = query.where(FeedObservation.device_key == device_key(device.strip(), None))
        query = query.order_by(FeedObservation.received_at, FeedObservation.message_id,
                               FeedObservation.code).limit(limit)
        with self.service.store.read() as db:
            rows = db.execute(query).scalars().all()
            db.expunge_all()
            return list(rows)

    def last_messages(self) -> dict[str, datetime | None]:
        """Each bound chair's monitor's last message time (None: it never sent)."""
        query = (select(FeedBinding.chair, FeedDevice.last_message_at)
                 .outerjoin(FeedDevice, FeedDevice.key == FeedBinding.device_key)
                 .where(FeedBinding.unbound_at.is_(None)))
        with self.service.store.read() as db:
            return {row.chair: row.last_message_at for row in db.execute(query)}


def _reading_info(row: DeviceReading) -> DeviceReadingInfo:
    values = {m: getattr(row, m) for m in ("sbp", "dbp", "mean_bp", "hr", "spo2", "rr")
              if getattr(row, m) is not None}
    return DeviceReadingInfo(row.id, row.session_id, row.device_key, row.chair,
                             ensure_utc(row.time), values, row.message_id,
                             ensure_utc(row.received_at), row.status, row.reason,
                             row.reading_id)


def _source(reading: DeviceReading) -> dict[str, Any]:
    return {"device": reading.device_key, "message_id": reading.message_id,
            "device_time": reading.time, "received_at": reading.received_at}
