"""What the nurse's app and the command line do with the record.

:class:`ClinicService` is the only writer of clinical rows. It builds its parts, each one
responsibility, and hands each the same store, clock and :class:`~monitor.service.guard.Guard`
(permissions, PINs, the audit trail and e-signatures):

- ``service.staff``: staff, PINs, sign-in and the screen lock (:mod:`monitor.service.staff`);
- ``service.trail``: the audit trail, read and verified; exports (:mod:`monitor.service.trail`);
- ``service.checkin``: patients, check-in and starting a session (:mod:`monitor.service.checkin`);
- ``service.charting``: readings and events (:mod:`monitor.service.charting`);
- ``service.acknowledgements``: flags acknowledged, plain or signed
  (:mod:`monitor.service.acknowledgements`);
- ``service.corrections``: voids and amendments (:mod:`monitor.service.corrections`);
- ``service.signoff``: the discharge sign-off and a clinician's override
  (:mod:`monitor.service.signoff`);
- ``service.importing``: whole sessions recorded elsewhere (:mod:`monitor.service.importing`);
- ``service.loading``: a session read back as it stood at a moment (:mod:`monitor.service.loading`);
- ``service.review``: the clinician's review, loaded on first use (:mod:`monitor.service.review`);
- ``service.protocols``: protocol drafts and approval (:mod:`monitor.service.protocol_admin`).

Each public method is one transaction: validate, insert (never update), raise any new
flags, audit, commit. A method returns only after the database committed, so "Saved" may be
shown when it returns; when the environment fails it raises
:class:`monitor.storage.store.NotSavedError` and nothing was stored. Every method of the
parts that callers used before they existed is still a method of the service, the part's
own, so screens, the command line and the tests call either.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.clock import Clock
from monitor.service.acknowledgements import Acknowledgements
from monitor.service.charting import Charting
from monitor.service.checkin import CheckIn
from monitor.service.corrections import Corrections
from monitor.service.evaluation import Evaluations
from monitor.service.guard import Guard
from monitor.service.importing import Importing
from monitor.service.loading import Loading
from monitor.service.patient_limits import PatientLimits
from monitor.service.protocol_admin import ProtocolAdmin
from monitor.service.session_protocols import SessionProtocols
from monitor.service.signoff import SignOffs
from monitor.service.staff import StaffManager
from monitor.service.trail import AuditTrail
from monitor.storage.store import Store

if TYPE_CHECKING:  # the review loads with the first review, not at start-up
    from monitor.service.review import Course, Cursor, Page, Review, SessionQuery


class ClinicService:
    """Creates and reads the clinical record through its parts. Every public method is one
    transaction.

    A session is judged by the protocol version stored when it started, whatever the
    protocol files (``protocol_dir``, default the shipped ones) say now.

    ``tablet`` names the tablet this service runs on (:mod:`monitor.storage.settings`): every
    audit entry it writes records it, and another tablet refused in a race is told it. The
    command line gives none.
    """

    def __init__(self, store: Store, clock: Clock, *, secret: bytes,
                 protocol_dir: Path | None = None, tablet: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.guard = Guard(store, clock, secret=secret, tablet=tablet)
        #: This tablet's name ("" on the command line).
        self.tablet = self.guard.tablet or ""
        self.session_protocols = SessionProtocols(self.guard, protocol_dir)
        self.evaluations = Evaluations()
        self.loading = Loading(store, self.session_protocols, self.evaluations)
        self.staff = StaffManager(self.guard)
        self.trail = AuditTrail(self.guard)
        self.checkin = CheckIn(self.guard, self.session_protocols, self.evaluations)
        self.charting = Charting(self.guard, self.session_protocols, self.evaluations,
                                 self.loading)
        self.acknowledgements = Acknowledgements(self.guard, self.loading, self.charting)
        self.corrections = Corrections(self.guard, self.session_protocols, self.evaluations,
                                       self.loading)
        self.signoff = SignOffs(self.guard, self.loading, self.charting)
        self.importing = Importing(self.guard, self.session_protocols, self.evaluations,
                                   self.checkin)
        self._review: Review | None = None
        self._protocol_admin: ProtocolAdmin | None = None
        self._limits: PatientLimits | None = None

        # The service's own names for what its parts do.
        self.protocol_for = self.session_protocols.protocol_for
        self.session_protocol = self.session_protocols.session_protocol
        self.record_protocol_change = self.session_protocols.record_protocol_change

        self.ensure_staff = self.staff.ensure_staff
        self.needs_first_admin = self.staff.needs_first_admin
        self.create_first_admin = self.staff.create_first_admin
        self.add_staff = self.staff.add_staff
        self.disable_staff = self.staff.disable_staff
        self.reset_pin = self.staff.reset_pin
        self.staff_list = self.staff.staff_list
        self.staff_info = self.staff.staff_info
        self.active_staff = self.staff.active_staff
        self.login = self.staff.login
        self.record_lock = self.staff.record_lock
        self.set_demo_pins = self.staff.set_demo_pins

        self.audit_entries = self.trail.audit_entries
        self.record_export = self.trail.record_export
        self.record_demo_data = self.trail.record_demo_data
        self.audit_head = self.trail.audit_head
        self.verify_audit = self.trail.verify_audit

        self.find_patient = self.checkin.find_patient
        self.search_patients = self.checkin.search_patients
        self.add_patient = self.checkin.add_patient
        self.start_session = self.checkin.start_session
        self.check_in = self.checkin.check_in

        self.record_reading = self.charting.record_reading
        self.record_event = self.charting.record_event

        self.acknowledge = self.acknowledgements.acknowledge

        self.void = self.corrections.void
        self.amend_reading = self.corrections.amend_reading

        self.sign_discharge = self.signoff.sign_discharge
        self.override_discharge = self.signoff.override_discharge

        self.import_session = self.importing.import_session

        self.load = self.loading.load
        self.session_info = self.loading.session_info
        self.active_sessions = self.loading.active_sessions
        self.patient_sessions = self.loading.patient_sessions
        self.stored = self.loading.stored

    def held(self, session_id: uuid.UUID) -> int:
        """Entries of the session saved on this device and not yet in the database: none
        here, where a save returns once committed (a tablet's outbox holds some while its
        server is away: :class:`monitor.service.tablet.TabletService`)."""
        return 0

    @property
    def on_copy(self) -> bool:
        """Whether the last read was answered from a tablet's copy, the server being away:
        never here (:class:`monitor.service.offline.CachingClinic` may)."""
        return False

    @property
    def protocols(self) -> ProtocolAdmin:
        """Protocol drafts, approval and the active version of each profile."""
        if self._protocol_admin is None:
            self._protocol_admin = ProtocolAdmin(
                self.store, self.clock, require=self.guard.require, signer=self.guard.signer,
                audit=self.guard.audit, versions=self.session_protocols.versions,
                protocol_dir=self.session_protocols.protocol_dir)
        return self._protocol_admin

    @property
    def limits(self) -> PatientLimits:
        """A patient's own limits: clinicians set them, everyone reads them."""
        if self._limits is None:
            self._limits = PatientLimits(self.guard, self.session_protocols)
        return self._limits

    @property
    def review(self) -> Review:
        """The clinician's review: sessions across the clinic, and a patient's course."""
        if self._review is None:
            from monitor.service import review  # noqa: PLC0415 - loaded on first use

            self._review = review.Review(self.guard, self.session_protocols)
        return self._review

    def find_sessions(self, query: SessionQuery, *, by: uuid.UUID,
                      after: Cursor | None = None, limit: int = 50) -> Page:
        """One page of the clinic's sessions matching ``query``, newest first (clinicians):
        :meth:`monitor.service.review.Review.find_sessions`."""
        return self.review.find_sessions(query, by=by, after=after, limit=limit)

    def course(self, patient_id: uuid.UUID, *, by: uuid.UUID) -> Course:
        """The patient's course of treatment, one row per session (clinicians):
        :meth:`monitor.service.review.Review.course`."""
        return self.review.course(patient_id, by=by)
