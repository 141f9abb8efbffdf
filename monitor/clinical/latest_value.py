"""The latest value of an open flag's measure, when a later reading shows it.

Within an episode the tier is the condition: SpO2 88 after a flagged SpO2 90 raises no new
flag (:mod:`monitor.clinical.rules`). The open flag still names the value that raised it,
so the card and the words a nurse signs add the latest one ("SpO2 90 % ≤ 91 % — latest
88 % at 23:00"): nobody acknowledges a flag without seeing how the measure stands now.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from monitor.clinical.domain import Flag, Measure, Reading, clock_time


def measure_value(measure: Measure, reading: Reading) -> str | None:
    """``reading``'s value of ``measure`` in the words of the flag messages ("88 %",
    "172/104", "48"); None when the reading does not have it."""
    if measure is Measure.BP:
        if reading.sbp is None and reading.dbp is None:
            return None
        return f"{_or_dash(reading.sbp)}/{_or_dash(reading.dbp)}"
    if measure is Measure.SPO2:
        return None if reading.spo2 is None else f"{reading.spo2} %"
    value = {Measure.HR: reading.hr, Measure.RR: reading.rr, Measure.MOAAS: reading.moaas,
             Measure.CADSS6: reading.cadss6, Measure.NAUSEA: reading.nausea,
             Measure.PHQ9: reading.phq9}.get(measure)
    return None if value is None else str(value)


def _or_dash(value: int | None) -> str:
    return "—" if value is None else str(value)


def latest_note(flag: Flag, readings: Sequence[Reading]) -> str:
    """"latest 88 % at 23:00" when ``flag`` is open and a reading after the one that raised
    it has the measure; empty otherwise (``readings`` in time order)."""
    if not flag.open or flag.reading_id is None:
        return ""
    raised = next((r for r in readings if r.id == flag.reading_id), None)
    if raised is None:
        return ""
    for reading in reversed(readings):
        if reading.id == raised.id or reading.time < raised.time:
            return ""
        value = measure_value(flag.measure, reading)
        if value is not None:
            return f"latest {value} at {clock_time(reading.time)}"
    return ""


def with_latest(flags: Iterable[Flag], readings: Sequence[Reading]) -> tuple[Flag, ...]:
    """``flags``, each open one carrying :func:`latest_note` as its ``latest``."""
    return tuple(replace(flag, latest=latest_note(flag, readings)) for flag in flags)
