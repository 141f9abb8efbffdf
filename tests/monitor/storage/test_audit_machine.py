"""Random actions by random staff: each action done leaves exactly one audit entry with its
staff member's id; each forbidden one is refused and leaves exactly one "denied" entry.

The PINs of the staff are hashed once per run (argon2 is slow by design); the actions
themselves need no sign-in, so the machine covers well over a thousand of them quickly.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from sqlalchemy import func, select

from monitor.clinical.domain import EventKind, Flag, Measure, Severity
from monitor.clinical.permissions import Action, PermissionDenied, allowed
from monitor.clock import ManualClock
from monitor.service.auth import SignatureRequired
from monitor.service.clinic import ClinicService
from monitor.service.views import ImportedRow, InvalidEntryError
from monitor.storage.model import AuditLog, Staff
from monitor.storage.store import open_store
from tests.conftest import TEST_SECRET

ROLES = ("nurse", "clinician", "admin", "system")
STEPS = {"count": 0}


class AuditMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Memory-backed where there is one: a thousand commits, each synced to disk, are slow.
        shm = Path("/dev/shm")
        self.directory = Path(tempfile.mkdtemp(prefix="chairside-machine-",
                                               dir=shm if shm.is_dir() else None))
        self.store = open_store(f"sqlite:///{self.directory / 'db.sqlite3'}")
        self.clock = ManualClock()
        self.service = ClinicService(self.store, self.clock, secret=TEST_SECRET)
        self.staff = {role: [self.service.ensure_staff(f"{role} {n}", role) for n in (1, 2)]
                      for role in ROLES}
        nurse = self.staff["nurse"][0]
        patient = self.service.add_patient("MRN1", by=nurse, weight_kg=70.0)
        self.session_id = self.service.start_session(patient.id, by=nurse, chair="1")
        #: Readings not yet corrected, with who entered them.
        self.readings: list[tuple[uuid.UUID, uuid.UUID]] = []
        self.mrn = 1
        self.seq = self._last_seq()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)

    # -- bookkeeping -----------------------------------------------------------------------

    def _last_seq(self) -> int:
        with self.store.read() as db:
            return int(db.scalar(select(func.coalesce(func.max(AuditLog.seq), 0))))

    def _new_entries(self) -> list[AuditLog]:
        with self.store.read() as db:
            rows = list(db.scalars(select(AuditLog).where(AuditLog.seq > self.seq)
                                   .order_by(AuditLog.seq)))
        self.seq = self._last_seq()
        return rows

    def _act(self, role: str, who: int, action: Action, call, audited: str) -> object:
        """Do ``call`` as staff ``who`` of ``role`` and check the audit trail after it."""
        STEPS["count"] += 1
        by = self.staff[role][who]
        self.clock.advance(timedelta(seconds=30))
        result: object = None
        try:
            result = call(by)
        except PermissionDenied:
            assert not allowed(role, action) or action in (Action.VOID, Action.VOID_ANY)
            (entry,) = self._new_entries()
            assert (entry.action, entry.staff_id) == ("denied", by)
            return None
        except (InvalidEntryError, SignatureRequired):
            assert allowed(role, action)
            assert self._new_entries() == []
            return None
        assert allowed(role, action), f"{role} was allowed to {action}"
        entries = self._new_entries()
        if action is Action.VIEW_AUDIT:
            assert entries == []
            return result
        if action is Action.IMPORT:
            # The import, then the patient and every reading and event it created.
            entry, *created = entries
            assert {(e.action, e.staff_id) for e in created} <= {("create", by)}
        else:
            (entry,) = entries
        assert (entry.action, entry.staff_id) == (audited, by)
        return result

    # -- rules -----------------------------------------------------------------------------

    who = st.integers(0, 1)
    role = st.sampled_from(ROLES)

    @rule(role=role, who=who, sbp=st.integers(90, 200))
    def enter_reading(self, role: str, who: int, sbp: int) -> None:
        saved = self._act(role, who, Action.ENTER_READING, lambda by: self.service.record_reading(
            self.session_id, {"sbp": sbp, "dbp": 70, "hr": 70}, by=by), "create")
        if saved is not None:
            self.readings.append((saved.id, self.staff[role][who]))  # type: ignore[attr-defined]

    @rule(role=role, who=who)
    def enter_event(self, role: str, who: int) -> None:
        self._act(role, who, Action.ENTER_EVENT, lambda by: self.service.record_event(
            self.session_id, EventKind.NOTE, by=by, detail="note"), "create")

    @rule(role=role, who=who)
    def check_in(self, role: str, who: int) -> None:
        self.mrn += 1
        self._act(role, who, Action.CHECK_IN, lambda by: self.service.add_patient(
            f"MRN{self.mrn}", by=by), "create")

    @rule(role=role, who=who)
    def acknowledge(self, role: str, who: int) -> None:
        flag = Flag(id=uuid.uuid4(), key="hr-high", measure=Measure.HR,
                    severity=Severity.WARNING, time=self.clock.now(), message="HR 125")
        self._act(role, who, Action.ACKNOWLEDGE, lambda by: self.service.acknowledge(
            self.session_id, flag, action="Repeated reading", by=by), "acknowledge")

    @rule(role=role, who=who, pick=st.integers(0, 1000))
    def void(self, role: str, who: int, pick: int) -> None:
        if not self.readings:
            return
        target, author = self.readings[pick % len(self.readings)]
        by = self.staff[role][who]
        action = Action.VOID if author == by else Action.VOID_ANY
        done = self._act(role, who, action, lambda by: self.service.void(
            self.session_id, "reading", target, reason="entered in error", by=by), "void")
        if done is not None:
            self.readings.remove((target, author))

    @rule(role=role, who=who, pick=st.integers(0, 1000))
    def amend(self, role: str, who: int, pick: int) -> None:
        if not self.readings:
            return
        target, author = self.readings[pick % len(self.readings)]
        done = self._act(role, who, Action.AMEND, lambda by: self.service.amend_reading(
            self.session_id, target, {"sbp": 130, "dbp": 70}, reason="typo", by=by), "amend")
        if done is not None:
            self.readings.remove((target, author))
            self.readings.append((done, self.staff[role][who]))  # type: ignore[arg-type]

    @rule(role=role, who=who)
    def sign_discharge(self, role: str, who: int) -> None:
        self._act(role, who, Action.SIGN_DISCHARGE, lambda by: self.service.sign_discharge(
            self.session_id, by=by), "sign")

    @rule(role=role, who=who)
    def override_discharge(self, role: str, who: int) -> None:
        self._act(role, who, Action.OVERRIDE_DISCHARGE,
                  lambda by: self.service.override_discharge(
                      self.session_id, reason="Transfer to the ED", by=by), "override")

    @rule(role=role, who=who)
    def export(self, role: str, who: int) -> None:
        self._act(role, who, Action.EXPORT, lambda by: self.service.record_export(
            self.session_id, "csv", by=by), "export")

    @rule(role=role, who=who)
    def change_protocol(self, role: str, who: int) -> None:
        self._act(role, who, Action.CHANGE_PROTOCOL, lambda by: self.service.record_protocol_change(
            "iv_ketamine", by=by, old={"hr": 120}, new={"hr": 125}), "protocol_change")

    @rule(role=role, who=who)
    def view_audit(self, role: str, who: int) -> None:
        self._act(role, who, Action.VIEW_AUDIT,
                  lambda by: self.service.audit_entries(by=by, limit=5), "")

    @rule(role=role, who=who)
    def import_session(self, role: str, who: int) -> None:
        self.mrn += 1
        rows = [ImportedRow(time=self.clock.now() - timedelta(hours=1),
                            values={"sbp": 120, "dbp": 70})]
        self._act(role, who, Action.IMPORT, lambda by: self.service.import_session(
            rows, mrn=f"MRN{self.mrn}", by=by), "import")

    @rule(role=role, who=who)
    def disable_a_system_identity(self, role: str, who: int) -> None:
        # Staff management without a new PIN to hash: disabling someone who acts for nobody.
        target = self.service.ensure_staff(f"Spare {self.mrn}", "system")
        self.seq = self._last_seq()
        self.mrn += 1
        self._act(role, who, Action.MANAGE_STAFF,
                  lambda by: self.service.disable_staff(target, by=by), "staff_disable")

    @invariant()
    def the_chain_is_intact(self) -> None:
        if STEPS["count"] % 50 == 0:
            assert self.service.verify_audit().ok

    @invariant()
    def every_staff_member_is_known(self) -> None:
        with self.store.read() as db:
            assert db.scalar(select(func.count()).select_from(Staff)) >= 8


def test_random_actions_by_random_staff_are_each_audited_once():
    STEPS["count"] = 0
    AuditMachine.TestCase.settings = settings(
        max_examples=16, stateful_step_count=100, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    # Hypothesis chooses how long each run is, so one batch of runs may stop short of a
    # thousand actions: run batches until there have been a thousand (each batch adds some).
    for _ in range(6):
        AuditMachine.TestCase().runTest()
        if STEPS["count"] >= 1000:
            break
    assert STEPS["count"] >= 1000
