"""What measures, events and discharge criteria are called, in one place.

The screens and the printed report use the same words, so a nurse reading a report finds
what she saw at the chair.
"""

from __future__ import annotations

from monitor.clinical.domain import EventKind, Measure
from monitor.clinical.protocol import Protocol
from monitor.clinical.protocol_schema import ObservationAnchor

MEASURE_NAMES: dict[Measure, str] = {
    Measure.BP: "BP",
    Measure.HR: "HR",
    Measure.SPO2: "SpO2",
    Measure.RR: "RR",
    Measure.MOAAS: "MOAA/S",
    Measure.CADSS6: "CADSS-6",
    Measure.NAUSEA: "Nausea",
    Measure.PHQ9: "PHQ-9",
    Measure.OVERDUE: "Reading due",
    Measure.FEED: "Monitor feed",
}

EVENT_NAMES: dict[EventKind, str] = {
    EventKind.INFUSION_START: "Infusion start",
    EventKind.INFUSION_PAUSE: "Infusion pause",
    EventKind.INFUSION_RESUME: "Infusion resume",
    EventKind.INFUSION_STOP: "Infusion stop",
    EventKind.RATE_CHANGE: "Rate change",
    EventKind.MEDICATION: "Medication",
    EventKind.ADVERSE_EVENT: "Adverse event",
    EventKind.NOTE: "Note",
    EventKind.ESCORT_PRESENT: "Escort present",
    EventKind.ORIENTED_STEADY_GAIT: "Oriented ×3, steady gait",
    EventKind.DISCHARGE_SIGNED: "Discharge signed",
    EventKind.DISCHARGE_OVERRIDE: "Discharge override",
}


def duration(minutes: int) -> str:
    """"30 min", "2 h", "1 h 30 min"."""
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{minutes} min"
    return f"{hours} h" if rest == 0 else f"{hours} h {rest} min"


def criterion_name(criterion_id: str, protocol: Protocol) -> str:
    """What a discharge criterion is called, with the protocol's own numbers in it."""
    rule = protocol.discharge
    after = ("from the dose" if rule.min_observation_from is ObservationAnchor.INFUSION_START
             else "after infusion")
    names = {
        "min_observation": f"Observed {duration(rule.min_observation_min)} {after}",
        "vitals_near_baseline": f"BP and HR within {rule.vitals_within_percent_of_baseline} % "
                                "of baseline",
        "spo2": f"SpO2 ≥ {rule.spo2_at_or_above} % on room air",
        "sedation": f"MOAA/S {rule.moaas_at_or_above}",
        "dissociation": f"CADSS-6 back to baseline (≤ +{rule.cadss6_above_baseline_at_most})",
        "nausea": f"Nausea ≤ {rule.nausea_at_or_below} of 10",
        "orientation_gait": "Oriented ×3, steady gait",
        "escort": "Escort present",
        "flags_acknowledged": "Warning and critical flags acknowledged",
    }
    # A criterion added to the core later still shows, under its id.
    return names.get(criterion_id, criterion_id.replace("_", " ").capitalize())
