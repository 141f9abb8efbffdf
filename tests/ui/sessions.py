"""Real sessions for the session-screen widget tests, recorded through ClinicService, and a
host window to show a widget in.

Each builder records through the service exactly as the nurse's screen would (readings,
events, a voided reading, an acknowledgement), so the widgets are tested on a
:class:`~monitor.service.views.SessionView` produced by the real rules and discharge evaluation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtWidgets import QWidget

from monitor.clinical.domain import EventKind
from monitor.clock import ManualClock
from monitor.service.clinic import ClinicService
from tests.conftest import TEST_PIN

#: Infusion start in the incident session; the x axis is in minutes from here.
START_OFFSET = timedelta(minutes=15)


@dataclass(frozen=True)
class Built:
    session_id: uuid.UUID
    start: datetime
    #: Reading ids by minute since the start, for assertions.
    readings: dict[int, uuid.UUID]
    voided_id: uuid.UUID


def _bp(sbp: int, dbp: int, hr: int, spo2: int, **more: int) -> dict[str, int]:
    return {"sbp": sbp, "dbp": dbp, "hr": hr, "spo2": spo2, **more}


#: (minutes since start, values) of the incident session: baseline, a hypertensive surge
#: peaking off the chart (SBP 228), deeper sedation and dissociation at 40 min, an SpO2 dip
#: in recovery.
INCIDENT_READINGS: tuple[tuple[int, dict[str, int]], ...] = (
    (-15, _bp(128, 82, 72, 98, rr=14, cadss6=0, moaas=5)),
    (-5, _bp(132, 84, 74, 98, cadss6=0, moaas=5)),
    (10, _bp(142, 88, 80, 97, cadss6=6, moaas=5)),
    (20, _bp(158, 96, 86, 96, cadss6=11, moaas=4)),
    (30, _bp(186, 112, 92, 95, cadss6=14, moaas=4)),
    (35, _bp(228, 118, 98, 96)),
    (40, _bp(176, 104, 90, 96, cadss6=16, moaas=3)),
    (55, _bp(150, 92, 82, 97, cadss6=8, moaas=4)),
    (70, _bp(138, 86, 76, 98, rr=16, cadss6=3, moaas=5)),
    (85, _bp(132, 84, 74, 93)),
    (100, _bp(130, 82, 72, 97, cadss6=1, moaas=5)),
)
#: A reading voided because the probe slipped; its values stay visible, grey.
VOIDED_MINUTE = 32
VOIDED_VALUES = _bp(96, 58, 64, 88)
INCIDENT_EVENTS: tuple[tuple[float, EventKind, str], ...] = (
    (0, EventKind.INFUSION_START, ""),
    (22, EventKind.INFUSION_PAUSE, "nausea"),
    (22.5, EventKind.ADVERSE_EVENT, "Nausea"),
    (23, EventKind.MEDICATION, "Ondansetron 4 mg IV"),
    (27, EventKind.INFUSION_RESUME, ""),
    (40, EventKind.INFUSION_STOP, ""),
    (75, EventKind.NOTE, "resting, eyes closed"),
)
#: The 5-minute pause made the stop at 40 min an early one (35 of 40 min run).
INCIDENT_STOP = {"early_stop_reason": "paused for nausea; not run on", "dose_given_mg": "30.6"}
#: Minutes since start at which the view is taken.
INCIDENT_NOW = 104


def patient_session(service: ClinicService, nurse: uuid.UUID, mrn: str = "MRN-100") -> uuid.UUID:
    patient = service.add_patient(mrn, by=nurse, name="Alex Example", weight_kg=70)
    return service.start_session(patient.id, by=nurse, chair="Chair 2", escort_name="Sam")


def incident_session(service: ClinicService, clock: ManualClock, nurse: uuid.UUID) -> Built:
    """The incident session, with the clock left at :data:`INCIDENT_NOW`."""
    session_id = patient_session(service, nurse)
    start = clock.now() + START_OFFSET
    clock.set_wall(start + timedelta(minutes=INCIDENT_NOW))
    at = {minute: start + timedelta(minutes=minute) for minute, _ in INCIDENT_READINGS}
    readings = {
        minute: service.record_reading(session_id, values, by=nurse, time=at[minute],
                                       confirmed=("sbp",)).id
        for minute, values in INCIDENT_READINGS
    }
    voided_id = service.record_reading(
        session_id, VOIDED_VALUES, by=nurse, time=start + timedelta(minutes=VOIDED_MINUTE)).id
    service.void(session_id, "reading", voided_id, reason="probe slipped off finger", by=nurse,
                 pin=TEST_PIN)
    for minute, kind, detail in INCIDENT_EVENTS:
        service.record_event(session_id, kind, by=nurse, detail=detail,
                             time=start + timedelta(minutes=minute),
                             data=INCIDENT_STOP if kind is EventKind.INFUSION_STOP else None)
    view = service.load(session_id)
    bp_warning = next(f for f in view.flags if f.reading_id == readings[30])
    service.acknowledge(session_id, bp_warning, action="Repeated reading", by=nurse,
                        note="repeat in 5 min", time=start + timedelta(minutes=31))
    return Built(session_id, start, readings, voided_id)


def long_session(service: ClinicService, clock: ManualClock, nurse: uuid.UUID) -> uuid.UUID:
    """A full two-hour session at the pace of an auto-cycling cuff: baseline, a 40-minute
    infusion and 80 minutes of recovery with readings every 5 min (about 30 time points),
    the size :meth:`SessionChart.show_view` must handle at every save."""
    session_id = patient_session(service, nurse, mrn="MRN-200")
    start = clock.now() + START_OFFSET
    clock.set_wall(start + timedelta(minutes=121))
    for minute in range(-15, 121, 5):
        rise = max(0, 16 - abs(minute - 35) // 2) if minute >= 0 else 0
        values = _bp(130 + rise, 82 + rise // 2, 74 + rise // 4, 97,
                     cadss6=max(0, 12 - abs(minute - 40) // 4), moaas=5 if rise < 8 else 4)
        service.record_reading(session_id, values, by=nurse,
                               time=start + timedelta(minutes=minute))
    for minute, kind in ((0, EventKind.INFUSION_START), (40, EventKind.INFUSION_STOP)):
        service.record_event(session_id, kind, by=nurse, time=start + timedelta(minutes=minute))
    return session_id


def host(qtbot, widget: QWidget, width: int, height: int) -> QWidget:
    """Show ``widget`` at ``width`` × ``height`` inside a plain window, as it sits inside the
    session screen. Shown as a window of its own, its layout's minimum size would be handed
    to the window system, which the offscreen platform answers with a warning."""
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(width, height)
    widget.setParent(window)
    widget.setGeometry(0, 0, width, height)
    window.show()
    qtbot.waitExposed(window)
    return window
