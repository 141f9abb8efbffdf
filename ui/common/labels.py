"""Words the widgets show: clock times, "3 min ago", reading summaries, staff names and roles.

Shared by the chart, the latest-value rail, the flags list and the staff screens so that a
measure, a time, a reading or a role reads the same everywhere. Times in the record are UTC; they
are shown in the tablet's local time, the time on the clinic's wall clock.
"""

from __future__ import annotations

from datetime import datetime

from monitor.clinical.domain import Reading


def clock_time(when: datetime) -> str:
    """``10:42`` in the tablet's local time."""
    return f"{when.astimezone():%H:%M}"


def ago(when: datetime, at: datetime) -> str:
    """How long before ``at`` something happened, in whole minutes: "just now", "3 min ago",
    "1 h 05 min ago". A time after ``at`` (a late entry seen on an earlier view) reads
    "just now" rather than a negative age."""
    minutes = int((at - when).total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} min ago"
    return f"{minutes // 60} h {minutes % 60:02d} min ago"


ROLE_WORDS = {"nurse": "Nurse", "clinician": "Clinician", "admin": "Administrator",
              "system": "System"}


def role_word(role: str) -> str:
    """"Nurse", "Clinician", "Administrator": a staff role as the screens say it."""
    return ROLE_WORDS.get(role, role.capitalize())


def short_name(name: str) -> str:
    """"Nora Nurse" → "N. Nurse": a staff name as initials plus surname, to fit a list row."""
    parts = name.split()
    if len(parts) < 2:
        return name
    return " ".join([*(f"{p[0]}." for p in parts[:-1]), parts[-1]])


def bp_text(reading: Reading) -> str | None:
    """``182/104``, or one side with a dash when only one was recorded."""
    if reading.sbp is None and reading.dbp is None:
        return None
    sbp = "–" if reading.sbp is None else str(reading.sbp)
    dbp = "–" if reading.dbp is None else str(reading.dbp)
    return f"{sbp}/{dbp}"


def reading_lines(reading: Reading) -> list[tuple[str, str]]:
    """The values of one time point as ``(name, value with unit)``, recorded measures only."""
    lines: list[tuple[str, str]] = []
    bp = bp_text(reading)
    if bp is not None:
        lines.append(("BP", f"{bp} mmHg"))
    if reading.hr is not None:
        lines.append(("HR", f"{reading.hr} /min"))
    if reading.spo2 is not None:
        oxygen = " on O2" if reading.on_oxygen else ""
        lines.append(("SpO2", f"{reading.spo2} %{oxygen}"))
    if reading.rr is not None:
        lines.append(("RR", f"{reading.rr} /min"))
    if reading.cadss6 is not None:
        lines.append(("CADSS-6", f"{reading.cadss6} of 24"))
    if reading.moaas is not None:
        lines.append(("MOAA/S", f"{reading.moaas} of 5"))
    return lines
