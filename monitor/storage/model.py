"""The database schema, as SQLAlchemy 2 typed ORM classes.

Rules of the record:

* Every row a person creates has a client-generated UUID, the time it describes (``time``),
  the time it was entered (``recorded_at``, UTC) and who entered it (``entered_by``).
* Clinical rows are never updated or deleted. A correction is a new :class:`Correction` row
  that voids an entry, or amends it by pointing at a replacement row; the old value stays.
* Times are stored as UTC and always come back timezone-aware (:class:`UTCDateTime`).

The schema is created and changed only through Alembic (``monitor/migrations``).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that refuses naive input and returns aware values.

    SQLite has no time zones, so the value is stored there as naive UTC; PostgreSQL stores
    ``timestamptz``. Either way the application only ever sees aware UTC datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r} cannot be stored: a UTC offset is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime,
        uuid.UUID: Uuid,
        dict[str, Any]: JSON,
        list[int]: JSON,
    }


class Entered:
    """Columns every row created by a person carries."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    recorded_at: Mapped[datetime]
    entered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))


class Staff(Base):
    """A person who enters or signs records (and the system identities that import data)."""

    __tablename__ = "staff"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))  # nurse, clinician, admin, system
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    #: argon2id hash of the PIN peppered with the secret kept outside the database
    #: (:mod:`monitor.service.auth`); None for system identities, which cannot sign in.
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    #: Wrong PINs in a row; reset by a right one.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the account was locked after too many wrong PINs (wall time, UTC).
    locked_at: Mapped[datetime | None] = mapped_column(default=None)


class Patient(Entered, Base):
    __tablename__ = "patients"

    mrn: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    #: Per-patient protocol limits, e.g. ``{"hr.high_warning_at_or_above": 120}``.
    limit_overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    limit_override_reason: Mapped[str] = mapped_column(Text, default="")

    sessions: Mapped[list[TreatmentSession]] = relationship(back_populates="patient")

    __table_args__ = (Index("ix_patients_name", "name"),)


class ProtocolVersion(Base):
    """A protocol as sessions ran under it: its full text and the SHA-256 of that text.

    Stored the first time a session starts under it, or when a clinician approves a draft
    (:mod:`monitor.service.protocol_admin`), and never changed: UPDATE and DELETE are refused by
    triggers created in migration 0004. The id is derived from the hash
    (:func:`monitor.storage.protocol_store.version_id`), so every tablet names the same row.
    """

    __tablename__ = "protocol_versions"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    #: The profile the text was loaded for (``iv_ketamine``), and the version it declares.
    profile: Mapped[str] = mapped_column(String(40))
    version: Mapped[str] = mapped_column(String(20))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The protocol written out in full, inherited parameters included
    #: (:func:`monitor.storage.protocol_store.resolved_toml`).
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class ProtocolDraft(Base):
    """A change to a profile's protocol that an admin is still writing; editable until approved.

    ``changes`` holds only what differs from ``base_version_id`` (the version it was made
    from): ``{"parameters": {"hr.high_warning_at_or_above": {"value": …, "unit": …,
    "source": …}}, "medications": [...] or null, "version": "label" or null}``. A draft that
    is approved or withdrawn never changes again (triggers of migration 0008); approval
    writes a new :class:`ProtocolVersion` and a :class:`ProtocolActivation`.
    """

    __tablename__ = "protocol_drafts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    #: The profile it extends (``iv_ketamine``) and the stored version it was made from.
    profile: Mapped[str] = mapped_column(String(40))
    base_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protocol_versions.id"))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    #: Why the protocol is to change.
    reason: Mapped[str] = mapped_column(Text)
    #: ``draft``, ``approved`` or ``withdrawn``.
    state: Mapped[str] = mapped_column(String(12))
    #: The version its approval stored.
    approved_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("protocol_versions.id"), default=None)


class ProtocolActivation(Base):
    """A protocol version made the clinic's protocol for a profile by a clinician's e-signature.

    The clinic's protocol for a profile is its latest activation, else the profile's file.
    Append-only: UPDATE and DELETE are refused by triggers of migration 0008.
    """

    __tablename__ = "protocol_activations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    profile: Mapped[str] = mapped_column(String(40))
    version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("protocol_versions.id"))
    draft_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("protocol_drafts.id"))
    activated_at: Mapped[datetime]
    #: The approving clinician, their printed name and role at signing, and the meaning.
    approved_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    approver_name: Mapped[str] = mapped_column(String(120))
    approver_role: Mapped[str] = mapped_column(String(20))
    meaning: Mapped[str] = mapped_column(String(80))
    #: The SHA-256 of the approved version's content (what the signature covers).
    content_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_protocol_activations_profile", "profile", "activated_at"),)


class TreatmentSession(Entered, Base):
    """One infusion visit: check-in details, dose plan and the chair it happens in."""

    __tablename__ = "sessions"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    #: When the visit began (check-in); the session list is ordered by it.
    time: Mapped[datetime]
    chair: Mapped[str] = mapped_column(String(20), default="")
    profile: Mapped[str] = mapped_column(String(40))
    protocol_version: Mapped[str] = mapped_column(String(20), default="")
    #: The stored protocol version the session is judged by (:mod:`monitor.storage.protocol_store`);
    #: None only for a session an upgrade could not pin (its profile's file was unreadable).
    protocol_version_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("protocol_versions.id"), default=None)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    planned_mg_per_kg: Mapped[float | None] = mapped_column(Float)
    infusion_minutes: Mapped[int | None] = mapped_column(Integer)
    bag_volume_ml: Mapped[float | None] = mapped_column(Float)
    dose_mg: Mapped[float | None] = mapped_column(Float)
    rate_mg_per_min: Mapped[float | None] = mapped_column(Float)
    pump_ml_per_h: Mapped[float | None] = mapped_column(Float)
    lot_number: Mapped[str] = mapped_column(String(40), default="")
    #: REMS concomitant medication answers, e.g. ``{"benzodiazepine": false, "ssri_snri": true}``.
    concomitant_medications: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    escort_name: Mapped[str] = mapped_column(String(120), default="")
    #: Where the session came from: "chair" (entered live) or "import".
    source: Mapped[str] = mapped_column(String(20), default="chair")
    #: The patient's own limits as the session started (``patients.limit_overrides`` then):
    #: the session is judged by them whatever the patient's limits become. None only for a
    #: row written without them (the patient's current limits then apply).
    limit_overrides: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None)

    patient: Mapped[Patient] = relationship(back_populates="sessions")

    __table_args__ = (Index("ix_sessions_patient_time", "patient_id", "time"),
                      Index("ix_sessions_time_id", "time", "id"))


class ReadingRow(Entered, Base):
    """One time point of measurements; any measure may be missing."""

    __tablename__ = "readings"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    time: Mapped[datetime]
    sbp: Mapped[int | None] = mapped_column(SmallInteger)
    dbp: Mapped[int | None] = mapped_column(SmallInteger)
    hr: Mapped[int | None] = mapped_column(SmallInteger)
    spo2: Mapped[int | None] = mapped_column(SmallInteger)
    rr: Mapped[int | None] = mapped_column(SmallInteger)
    on_oxygen: Mapped[bool] = mapped_column(Boolean, default=False)
    cadss6: Mapped[int | None] = mapped_column(SmallInteger)
    cadss6_items: Mapped[list[int] | None] = mapped_column(JSON)
    moaas: Mapped[int | None] = mapped_column(SmallInteger)
    nausea: Mapped[int | None] = mapped_column(SmallInteger)
    anxiety: Mapped[int | None] = mapped_column(SmallInteger)
    pain: Mapped[int | None] = mapped_column(SmallInteger)
    phq9: Mapped[int | None] = mapped_column(SmallInteger)
    phq9_items: Mapped[list[int] | None] = mapped_column(JSON)
    gad7: Mapped[int | None] = mapped_column(SmallInteger)
    gad7_items: Mapped[list[int] | None] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")

    __table_args__ = (Index("ix_readings_session_time", "session_id", "time"),)


class EventRow(Entered, Base):
    """Something that happened: infusion control, medication, adverse event, note, attestation."""

    __tablename__ = "events"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    time: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(Text, default="")
    #: Structured detail, e.g. a medication's name, dose and route, or a new pump rate.
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_events_session_time", "session_id", "time"),)


class FlagRow(Base):
    """A flag as it was raised; the rules are the source of truth, this is the record of it.

    The id is derived from the flag's content (:func:`monitor.clinical.domain.flag_id`), so raising
    the same flag twice, on any tablet, is one row.
    """

    __tablename__ = "flags"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    key: Mapped[str] = mapped_column(String(30))
    measure: Mapped[str] = mapped_column(String(20))
    severity: Mapped[int] = mapped_column(SmallInteger)
    time: Mapped[datetime]
    message: Mapped[str] = mapped_column(Text)
    reading_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("readings.id"))
    raised_at: Mapped[datetime]

    __table_args__ = (Index("ix_flags_session", "session_id", "severity"),)


class Acknowledgement(Entered, Base):
    """A staff member's acknowledgement of a flag, with the action taken."""

    __tablename__ = "acknowledgements"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    flag_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flags.id"))
    time: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(Text, default="")

    #: One acknowledgement per flag: two tablets acknowledging at once store one (0010).
    __table_args__ = (Index("ix_acknowledgements_session", "session_id"),
                      Index("uq_acknowledgements_flag", "flag_id", unique=True))


class Correction(Entered, Base):
    """Voids or amends an earlier reading or event; the original row is kept untouched."""

    __tablename__ = "corrections"

    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    time: Mapped[datetime]
    target_kind: Mapped[str] = mapped_column(String(10))  # reading | event
    target_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(10))  # void | amend
    #: The amending row (same kind as the target) when ``action`` is "amend".
    replacement_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(Text)

    #: One correction per entry: two tablets voiding at once store one (0010).
    __table_args__ = (Index("ix_corrections_session", "session_id"),
                      Index("uq_corrections_target", "target_id", unique=True))


class AuditLog(Base):
    """One entry of the append-only, HMAC-chained audit trail (:mod:`monitor.storage.audit`).

    UPDATE and DELETE are refused by triggers created in migration 0002.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    staff_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(30))
    record_kind: Mapped[str] = mapped_column(String(20), default="")
    record_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    session_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    patient_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    #: Old and new values as canonical JSON text (what the mac covers).
    old: Mapped[str | None] = mapped_column(Text)
    new: Mapped[str | None] = mapped_column(Text)
    mac: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_session", "session_id"),
        Index("ix_audit_log_patient", "patient_id"),
        Index("ix_audit_log_staff", "staff_id"),
        Index("ix_audit_log_at", "at"),
    )


class Signature(Base):
    """An e-signature: who signed, when, what it means, and a hash of what was signed.

    When the signed content changes later (an amendment), the stored hash no longer matches
    and the signature shows as superseded.
    """

    __tablename__ = "signatures"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    #: e.g. "discharge sign-off", "discharge override", "critical flag acknowledged".
    meaning: Mapped[str] = mapped_column(String(60))
    signer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    #: The printed name and role at signing.
    signer_name: Mapped[str] = mapped_column(String(120))
    signer_role: Mapped[str] = mapped_column(String(20))
    signed_at: Mapped[datetime]
    #: The row the signature belongs to (an event or an acknowledgement).
    record_kind: Mapped[str] = mapped_column(String(20))
    record_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    content_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_signatures_session", "session_id"),)


class FeedDevice(Base):
    """A bedside monitor that has sent messages: its EUI-64 and/or its bed location.

    ``key`` names it in the other feed tables: the EUI-64 when the monitor sends one,
    otherwise ``location:`` and its PV1-3 location.
    """

    __tablename__ = "feed_devices"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    eui64: Mapped[str | None] = mapped_column(String(16))
    location: Mapped[str | None] = mapped_column(String(120))
    first_message_at: Mapped[datetime]
    last_message_at: Mapped[datetime]


class FeedBinding(Base):
    """A monitor bound to a chair by an admin. Unbinding sets ``unbound_at``; rows stay."""

    __tablename__ = "feed_bindings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    device_key: Mapped[str] = mapped_column(String(200))
    chair: Mapped[str] = mapped_column(String(20))
    bound_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff.id"))
    bound_at: Mapped[datetime]
    unbound_at: Mapped[datetime | None] = mapped_column(default=None)
    unbound_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)

    __table_args__ = (Index("ix_feed_bindings_device", "device_key"),
                      Index("ix_feed_bindings_chair", "chair"))


class FeedObservation(Base):
    """Every observation a monitor sent, and what became of it (``status``, ``reason``).

    ``status``: filed, pending, duplicate, rejected, ignored, unbound or held. ``dedup_key``
    (:func:`monitor.feed.mapping.dedup_key`, which names the device) is set on the first
    receipt only, so a repeat cannot be stored as a second observation.
    """

    __tablename__ = "feed_observations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    device_key: Mapped[str] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(120))
    chair: Mapped[str | None] = mapped_column(String(20))
    session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sessions.id"))
    measure: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(40))
    #: The value as text (exact decimal), in ``unit``; the device's raw value when refused.
    value: Mapped[str] = mapped_column(String(40))
    unit: Mapped[str] = mapped_column(String(20))
    observed_at: Mapped[datetime | None] = mapped_column(default=None)
    received_at: Mapped[datetime]
    message_id: Mapped[str] = mapped_column(String(80))
    mrn: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    dedup_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    device_reading_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)

    __table_args__ = (Index("ix_feed_observations_device_observed", "device_key", "observed_at"),
                      Index("ix_feed_observations_received", "received_at"))


class DeviceReading(Base):
    """A reading assembled from a monitor's NIBP and the vitals nearest it.

    ``status``: pending (waiting for the nurse), confirmed, auto (accepted by the protocol's
    ``[feed] auto_accept``) or discarded (with ``reason``). ``reading_id`` is the reading row
    it becomes; it is chosen when the device reading is made, so filing it twice is one row.
    """

    __tablename__ = "device_readings"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sessions.id"))
    device_key: Mapped[str] = mapped_column(String(200))
    chair: Mapped[str] = mapped_column(String(20))
    #: The cuff time (the NIBP's observation time, from the device).
    time: Mapped[datetime]
    sbp: Mapped[int | None] = mapped_column(SmallInteger)
    dbp: Mapped[int | None] = mapped_column(SmallInteger)
    mean_bp: Mapped[int | None] = mapped_column(SmallInteger)
    hr: Mapped[int | None] = mapped_column(SmallInteger)
    spo2: Mapped[int | None] = mapped_column(SmallInteger)
    rr: Mapped[int | None] = mapped_column(SmallInteger)
    message_id: Mapped[str] = mapped_column(String(80))
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff.id"), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    reading_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)

    __table_args__ = (Index("ix_device_readings_session", "session_id", "status"),)
