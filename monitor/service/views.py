"""What the service hands back: the read models of the record, and why an entry was refused.

Screens, exports and the command line import these; they hold no database handle and are
never changed once made. :class:`SessionView` is a session as it stood at a moment: its
effective record, the flags and discharge assessment the rules give, and what was
superseded, so that the history shows what was once there. The errors say, in the nurse's
words, which field was refused and why. The values a session's rows load into
(:class:`SessionInfo`, :class:`CorrectionInfo`, …) are made in :mod:`monitor.storage.records`
and named here too, so that callers find every read model in one place.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.clinical.domain import (
    DischargeAssessment,
    Event,
    EventKind,
    Flag,
    Measure,
    Phase,
    Reading,
    SessionRecord,
    Severity,
)
from monitor.clinical.flag_counts import FlagCounts, flag_counts
from monitor.clinical.infusion import DoseDelivered, EarlyStop, Plan, dose_delivered, early_stop
from monitor.clinical.protocol import Protocol
from monitor.clinical.signing import SignOff, after_signoff
from monitor.clinical.validation import FieldError
from monitor.storage.records import (
    READING_FIELDS,
    CorrectionInfo,
    NotFoundError,
    PatientInfo,
    SessionInfo,
    Superseded,
)

__all__ = [
    "MEANING_CRITICAL_ACK", "MEANING_CRITICAL_AMEND", "MEANING_CRITICAL_VOID",
    "MEANING_DISCHARGE", "MEANING_OVERRIDE", "MIN_OVERRIDE_REASON", "READING_FIELDS",
    "AlreadyDoneError", "AuditEntry", "ConflictingRetryError", "CorrectionInfo", "ImportedRow",
    "InvalidEntryError", "NotFoundError", "PatientInfo", "SavedReading", "SessionClosedError",
    "SessionInfo", "SessionSummary", "SessionView", "SignatureInfo", "Superseded",
    "infusion_plan",
]

#: A clinician's override of discharge criteria needs a written reason of at least this length.
MIN_OVERRIDE_REASON = 10


class InvalidEntryError(Exception):
    """The entry was refused; ``errors`` name each field and its accepted range.

    ``needs_confirmation`` lists implausible-but-possible values the user must confirm.
    """

    def __init__(self, errors: Sequence[FieldError], needs_confirmation: Sequence[FieldError] = ()):
        self.errors = list(errors)
        self.needs_confirmation = list(needs_confirmation)
        super().__init__("; ".join(e.message for e in [*self.errors, *self.needs_confirmation]))


class SessionClosedError(InvalidEntryError):
    """The discharge is signed: the session takes no more entries at the chair.

    ``sign_off`` says who signed and when; a clinician may still add an entry with a reason.
    """

    def __init__(self, signed: SignOff) -> None:
        self.sign_off = signed
        super().__init__([FieldError("session", signed.closed_text())])


class ConflictingRetryError(InvalidEntryError):
    """An entry's id is stored already with other values: a retry that changed the entry.

    Nothing is saved; ``errors`` name each field whose value differs from the stored one.
    """


class AlreadyDoneError(InvalidEntryError):
    """What may be done once was done already, on this tablet or another: who, when and on
    which tablet."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__([FieldError(field_name, message)])


@dataclass(frozen=True)
class SignatureInfo:
    """An e-signature on a session: printed name, role, time and meaning.

    ``valid`` is False — the signature is superseded — when what was signed has changed
    since (an entry amended, voided or added before the signing time).
    """

    id: uuid.UUID
    meaning: str
    signer_name: str
    signer_role: str
    signed_at: datetime
    content_hash: str
    valid: bool


@dataclass(frozen=True)
class AuditEntry:
    """One entry of the audit trail, as :meth:`ClinicService.audit_entries` lists it.

    ``tablet`` names the tablet that wrote it ("" for the command line and for entries
    written before tablets had names); ``new`` holds the new values without it.
    """

    seq: int
    at: datetime
    staff_id: uuid.UUID | None
    staff_name: str
    action: str
    record_kind: str
    record_id: uuid.UUID | None
    session_id: uuid.UUID | None
    patient_id: uuid.UUID | None
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    tablet: str = ""


#: In an audit entry's new values: a sign-in checked on the tablet's copy during an outage,
#: and when it reached the server's trail (ISO time), later than the entry's own time.
ON_TABLET_COPY = "on_tablet_copy"
ENTERED_AT = "entered_at"


#: What each kind of e-signature means, in the words printed with it.
MEANING_DISCHARGE = "discharge sign-off"
MEANING_OVERRIDE = "discharge override"
MEANING_CRITICAL_ACK = "critical flag acknowledged"
MEANING_CRITICAL_VOID = "critical flag closed by voiding its reading"
MEANING_CRITICAL_AMEND = "critical flag closed by amending its reading"


@dataclass(frozen=True)
class HeldReceipt:
    """When the server received an entry a tablet kept through an outage, and which tablet."""

    at: datetime
    tablet: str


@dataclass(frozen=True)
class SessionView:
    """A session as it stood at ``at``: the record, its flags and discharge assessment."""

    info: SessionInfo
    at: datetime
    protocol: Protocol
    record: SessionRecord
    phase: Phase
    flags: tuple[Flag, ...]
    discharge: DischargeAssessment
    next_due: datetime | None
    #: BP, HR or SpO2 when the next reading is a repeat after a warning or critical (due
    #: sooner); empty for the usual reading.
    repeat_for: tuple[Measure, ...] = ()
    #: Entries no longer effective (voided or amended away), for the chart's history.
    superseded_readings: tuple[Reading, ...] = ()
    superseded_events: tuple[Event, ...] = ()
    corrections: tuple[CorrectionInfo, ...] = ()
    #: How abnormal each measure's latest value is, acknowledged or not.
    current_levels: Mapping[Measure, Severity] = field(default_factory=dict)
    #: Flags once raised by readings since voided or amended, with any acknowledgement:
    #: closed (resolved when corrected), kept so the action taken is never lost from view.
    superseded_flags: tuple[Flag, ...] = ()
    #: E-signatures given on the session, oldest first, each valid or superseded.
    signatures: tuple[SignatureInfo, ...] = ()
    #: The discharge sign-off that closed the session, if signed; ``discharge`` is then the
    #: assessment as it stood at the signature, made at ``discharge_assessed_at``.
    sign_off: SignOff | None = None
    discharge_assessed_at: datetime | None = None
    #: Entries saved on this tablet and not yet on the server (:mod:`monitor.service.tablet`):
    #: when > 0 the view is the server's record with them added, evaluated on the tablet.
    held: int = 0
    #: The server could not be read: the view is the tablet's copy (the session as last
    #: loaded, with the entries held here), evaluated on the tablet.
    on_tablet: bool = False
    #: The server's refusals of entries held here, for a person to see (none dropped).
    refused_on_server: tuple[str, ...] = ()
    #: Readings and events a tablet kept through an outage, by id: when the server received
    #: each and the tablet that kept it (read for the review's replay only).
    reached_server: Mapping[uuid.UUID, HeldReceipt] = field(default_factory=dict)

    @property
    def open_flags(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.open)

    @property
    def withdrawn_flags(self) -> tuple[Flag, ...]:
        """The flags kept in view whose reading was since voided or amended."""
        gone = {r.id for r in self.superseded_readings}
        return tuple(f for f in self.superseded_flags if f.reading_id in gone)

    @property
    def flag_counts(self) -> FlagCounts:
        """The session's flags counted, as the review, the course, the report and
        ``show --json`` count them (:func:`monitor.clinical.flag_counts.flag_counts`)."""
        return flag_counts((*self.flags, *self.superseded_flags), self.withdrawn_flags)

    @property
    def assessed_at(self) -> datetime:
        """When ``discharge`` was assessed: at the signature once signed, else ``at``."""
        return self.discharge_assessed_at or self.at

    def after_signoff(self, entry: Reading | Event) -> bool:
        """Whether ``entry`` was entered after the discharge was signed."""
        return after_signoff(entry, self.sign_off)

    @property
    def closed(self) -> bool:
        """The discharge is signed: no more entries at the chair."""
        return self.sign_off is not None

    @property
    def dose_delivered(self) -> DoseDelivered | None:
        """The dose the patient received, once the infusion stopped."""
        return dose_delivered(self.record, infusion_plan(self.info))

    def early_stop(self, at: datetime | None = None) -> EarlyStop | None:
        """What stopping the infusion at ``at`` (default the view's moment) would be, when
        that is before its planned duration: the stop then asks for reason and dose given."""
        return early_stop(self.record, infusion_plan(self.info), at or self.at)


@dataclass(frozen=True)
class SavedReading:
    """A reading saved: its id, the flags it newly raised and, when asked for, the session
    as it stood right after the save (so that the screen need not load it again)."""

    id: uuid.UUID
    new_flags: tuple[Flag, ...]
    view: SessionView | None = None
    #: Saved on this tablet, not yet on the server: how many entries of the session wait
    #: for it (0: the server has the reading).
    held: int = 0


@dataclass(frozen=True)
class SessionSummary:
    id: uuid.UUID
    time: datetime
    chair: str
    profile: str
    dose_mg: float | None
    planned_mg_per_kg: float | None
    reading_count: int


@dataclass(frozen=True)
class ImportedRow:
    """One validated time point of an imported session: a reading, an event, or both."""

    time: datetime
    values: Mapping[str, Any] = field(default_factory=dict)
    event: EventKind | None = None
    note: str = ""


def infusion_plan(info: SessionInfo) -> Plan:
    """What the session's infusion was planned to be: its minutes, dose and bag."""
    return Plan(minutes=info.infusion_minutes, dose_mg=info.dose_mg,
                bag_volume_ml=info.bag_volume_ml)
