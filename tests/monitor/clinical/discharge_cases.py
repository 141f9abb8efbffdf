"""What the discharge and recovery tests share: baseline and recovered values, a 40-minute
infusion, a course ready for discharge, and the assessment at a minute."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from monitor.clinical.discharge import evaluate_discharge
from monitor.clinical.domain import DischargeAssessment, Event, EventKind, Reading, SessionRecord
from monitor.clinical.protocol import Protocol, load_protocol
from monitor.clinical.rules import evaluate_flags
from tests.monitor.builders import ev, r, t
from tests.monitor.builders import record as build_record

PROTOCOL = load_protocol("iv_ketamine")
REMS = load_protocol("esketamine_rems")
BASELINE: dict[str, Any] = {"sbp": 120, "dbp": 80, "hr": 70, "spo2": 97, "rr": 14, "cadss6": 1,
                            "moaas": 5, "nausea": 0}
RECOVERED: dict[str, Any] = {"sbp": 126, "dbp": 82, "hr": 74, "spo2": 97, "rr": 14, "cadss6": 2,
                             "moaas": 5, "nausea": 1, "pain": 0}


# --- builder ------------------------------------------------------------------------------


#: A record of this file's session (the builders default to another session id).
record = partial(build_record, session_id=UUID(int=9))


def infusion(**during: Any) -> list[Reading | Event]:
    """Escort, baseline, a 40-minute infusion with readings every 10 min, stop at 40."""
    values = {**BASELINE, "sbp": 134, "dbp": 86, "cadss6": 8, "moaas": 4, **during}
    return [ev(-20, EventKind.ESCORT_PRESENT), r(-5, **BASELINE), ev(0, EventKind.INFUSION_START),
            *(r(m, **values) for m in (10, 20, 30, 40)), ev(40, EventKind.INFUSION_STOP)]


def ready_course(**recovery: Any) -> list[Reading | Event]:
    """A course ready for discharge at minute 72; ``recovery`` changes the 70-min reading."""
    return [*infusion(), r(55, **RECOVERED), r(70, **{**RECOVERED, **recovery}),
            ev(71, EventKind.ORIENTED_STEADY_GAIT)]


def assess(rec: SessionRecord, minute: float, protocol: Protocol = PROTOCOL
           ) -> DischargeAssessment:
    at = t(minute)
    return evaluate_discharge(rec, protocol, evaluate_flags(rec, protocol, at), at)
