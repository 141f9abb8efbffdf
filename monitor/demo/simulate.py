"""The self-running chair of the demo clinic (``python main.py --demo``).

A scripted, typical session: baseline, a 40-minute infusion with a hypertensive surge
confirmed by a repeat (so a newcomer sees a flag appear and escalate), acknowledgement,
recovery, attestations, a last set of vitals and the discharge sign-off. :class:`DemoChair`
performs each step through the clinic service, like a nurse would, when the (accelerated)
clock reaches it, and (with ``next_after``) checks the next patient in a while after the
sign-off, so that the running demo never goes still. It shows good practice: it never signs
the discharge while a reading is due, and takes the reading first if a late tick finds one
due.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from monitor.clinical.domain import EventKind
from monitor.service.clinic import ClinicService


@dataclass(frozen=True)
class Step:
    minute: float
    reading: dict[str, Any] | None = None
    event: EventKind | None = None
    detail: str = ""
    acknowledge: str = ""  # acknowledge every open flag with this action
    sign_discharge: bool = False


def _vitals(sbp: int, dbp: int, hr: int, spo2: int, **scores: Any) -> dict[str, Any]:
    return {"sbp": sbp, "dbp": dbp, "hr": hr, "spo2": spo2, **scores}


#: The script, in minutes from check-in. The infusion runs from minute 2 to minute 42.
SCRIPT: tuple[Step, ...] = (
    Step(0, _vitals(128, 78, 72, 98, cadss6_items=(0, 0, 0, 0, 0, 0), moaas=5, nausea=0)),
    Step(2, event=EventKind.INFUSION_START, detail="0.5 mg/kg over 40 min"),
    Step(12, _vitals(134, 82, 76, 98, cadss6_items=(1, 1, 0, 1, 1, 0), moaas=5, nausea=0)),
    Step(22, _vitals(146, 88, 80, 97, cadss6_items=(2, 2, 1, 2, 2, 1), moaas=4, nausea=1)),
    Step(30, _vitals(184, 104, 86, 97)),
    Step(35, _vitals(188, 106, 88, 97), event=EventKind.NOTE, detail="Repeat BP after surge"),
    Step(37, acknowledge="Informed clinician"),
    Step(38, event=EventKind.RATE_CHANGE, detail="Rate reduced by clinician"),
    Step(42, _vitals(150, 90, 82, 97, cadss6_items=(3, 2, 2, 2, 2, 1), moaas=4, nausea=1),
         event=EventKind.INFUSION_STOP),
    Step(50, event=EventKind.ESCORT_PRESENT, detail="Partner in the waiting room"),
    Step(57, _vitals(136, 84, 76, 98, cadss6_items=(1, 1, 0, 1, 1, 0), moaas=5, nausea=0)),
    Step(70, event=EventKind.ORIENTED_STEADY_GAIT),
    Step(72, _vitals(130, 80, 74, 98, cadss6_items=(0, 0, 0, 0, 0, 0), moaas=5, nausea=0)),
    # The last vitals just before the sign-off, as a nurse takes them.
    Step(84, _vitals(128, 80, 72, 98, moaas=5)),
    Step(85, sign_discharge=True),
)


#: Who sits in each demo chair (chair 1 first).
DEMO_PATIENTS = ("Dana Demo", "Rowan Example", "Alex Sample", "Sam Trial")


@dataclass
class DemoChair:
    """Runs :data:`SCRIPT` on one chair; call :meth:`advance` as time passes."""

    service: ClinicService
    staff_id: uuid.UUID
    chair: str = "1"
    session_id: uuid.UUID | None = None
    started: datetime | None = None
    done: int = 0
    script: tuple[Step, ...] = field(default=SCRIPT)
    #: The staff member's PIN, to sign the acknowledgement of a critical flag.
    pin: str | None = None
    #: How long after the sign-off the next patient is checked in (``None``: the chair
    #: stays on its discharged session). The running demo keeps going this way.
    next_after: timedelta | None = None
    #: How many patients this chair has had before the current one.
    rounds: int = 0

    def check_in(self) -> uuid.UUID:
        number = (int(self.chair) - 1 if self.chair.isdigit() else 0) + self.rounds
        mrn = f"DEMO{self.chair.zfill(4)}" + (f"-{self.rounds + 1}" if self.rounds else "")
        name = DEMO_PATIENTS[number % len(DEMO_PATIENTS)]
        patient = self.service.find_patient(mrn) or self.service.add_patient(
            mrn, by=self.staff_id, name=name, date_of_birth=date(1984, 6, 1), weight_kg=70.0,
        )
        self.session_id = self.service.start_session(
            patient.id, by=self.staff_id, chair=self.chair, lot_number="DEMO-LOT-1",
            escort_name="Sam Demo", concomitant_medications={"ssri_snri": True},
        )
        self.started = self.service.clock.now()
        return self.session_id

    @property
    def finished(self) -> bool:
        return self.done >= len(self.script)

    def advance(self) -> int:
        """Perform every step whose time has come; returns how many were performed."""
        if self._next_patient_due():
            self.rounds += 1
            self.session_id, self.started, self.done = None, None, 0
        if self.session_id is None or self.started is None:
            self.check_in()
        started = self.started
        assert started is not None
        now = self.service.clock.now()
        performed = 0
        while not self.finished:
            step = self.script[self.done]
            when = started + timedelta(minutes=step.minute)
            if when > now:
                break
            self._perform(step, when)
            self.done += 1
            performed += 1
        return performed

    def _next_patient_due(self) -> bool:
        if self.next_after is None or not self.finished or self.started is None:
            return False
        ended = self.started + timedelta(minutes=self.script[-1].minute)
        return self.service.clock.now() >= ended + self.next_after

    def _perform(self, step: Step, when: datetime) -> None:
        assert self.session_id is not None
        if step.reading is not None:
            self.service.record_reading(self.session_id, step.reading, by=self.staff_id,
                                        time=when)
        if step.event is not None:
            self.service.record_event(self.session_id, step.event, by=self.staff_id, time=when,
                                      detail=step.detail)
        if step.acknowledge:
            view = self.service.load(self.session_id, when)
            for flag in view.open_flags:
                self.service.acknowledge(self.session_id, flag, action=step.acknowledge,
                                         by=self.staff_id, time=when, pin=self.pin)
        if step.sign_discharge:
            self._sign_discharge()

    def _sign_discharge(self) -> None:
        """Sign now (the service signs at the clock's time), after a reading if one is due:
        a tick that comes late must not sign over an overdue reading."""
        assert self.session_id is not None
        view = self.service.load(self.session_id)
        if view.next_due is not None and view.next_due <= view.at:
            last = next((r for r in reversed(view.record.readings) if r.sbp is not None), None)
            vitals = (_vitals(last.sbp, last.dbp or 80, last.hr or 72, last.spo2 or 98)
                      if last is not None and last.sbp is not None
                      else _vitals(128, 80, 72, 98))
            self.service.record_reading(self.session_id, vitals, by=self.staff_id,
                                        time=view.at)
        self.service.sign_discharge(self.session_id, by=self.staff_id, pin=self.pin)


def script_length() -> timedelta:
    return timedelta(minutes=SCRIPT[-1].minute)
