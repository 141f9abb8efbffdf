"""The what-if comparison in rows and words for the what-if screen and the review (Qt-free).

Every figure is read from :meth:`monitor.service.whatif.WhatIfResult.to_json`, the form
``protocol what-if --json`` prints, so the screen and the command line cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.clinical.domain import Measure, Severity

if TYPE_CHECKING:
    from monitor.service.whatif import FlagKey

#: What each measure is called on screen.
MEASURE_WORDS: dict[Measure, str] = {
    Measure.BP: "Blood pressure", Measure.HR: "Heart rate", Measure.SPO2: "SpO2",
    Measure.RR: "Respiratory rate", Measure.MOAAS: "MOAA/S", Measure.CADSS6: "CADSS-6",
    Measure.NAUSEA: "Nausea", Measure.PHQ9: "PHQ-9 item 9", Measure.OVERDUE: "Overdue reading",
}


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One line of the side-by-side table: what is counted, before, after, the change."""

    what: str
    before: str
    after: str
    change: str
    #: A heading line (a group of the rows under it), not a figure.
    heading: bool = False
    #: The figure differs between the two sides.
    differs: bool = False


def _row(what: str, before: Any, after: Any) -> ComparisonRow:
    def text(value: Any) -> str:
        if value is None:
            return "none ready"
        return f"{value:g}" if isinstance(value, float) else str(value)

    change = ""
    if isinstance(before, (int, float)) and isinstance(after, (int, float)) and before != after:
        delta = after - before
        change = f"{delta:+g}"
    elif before != after:
        change = "changed"
    return ComparisonRow(what, text(before), text(after), change, differs=before != after)


def comparison_rows(data: Mapping[str, Any]) -> list[ComparisonRow]:
    """The comparison (``to_json()``) as the table's rows: flags per tier, then per measure
    and tier (measures with no flag on either side left out), sessions with a warning or
    critical flag, and the discharge-ready times."""
    rows = [ComparisonRow("Flags per tier", "", "", "", heading=True)]
    rows += [_row(s.label.capitalize(), data["flags_before"][s.label],
                  data["flags_after"][s.label]) for s in reversed(Severity)]
    rows.append(ComparisonRow("Flags per measure", "", "", "", heading=True))
    if not any(data["flags_before"].values()) and not any(data["flags_after"].values()):
        rows.append(ComparisonRow("No flags on either side", "", "", ""))
    for measure in Measure:
        before = data["flags_by_measure_before"][measure.value]
        after = data["flags_by_measure_after"][measure.value]
        for severity in reversed(Severity):
            if before[severity.label] or after[severity.label]:
                rows.append(_row(f"{MEASURE_WORDS[measure]}: {severity.label}",
                                 before[severity.label], after[severity.label]))
    rows.append(ComparisonRow("Sessions", "", "", "", heading=True))
    rows.append(_row("Compared", data["sessions"], data["sessions"]))
    rows.append(_row("With a warning or critical flag", data["sessions_with_warning_before"],
                     data["sessions_with_warning_after"]))
    rows.append(_row("Whose flags change", 0, len(data["changed_sessions"])))
    rows.append(ComparisonRow("Discharge-ready", "", "", "", heading=True))
    rows.append(_row("Median minutes, stop to ready", data["ready_median_min_before"],
                     data["ready_median_min_after"]))
    rows.append(_row("Sessions ready", data["ready_sessions_before"],
                     data["ready_sessions_after"]))
    rows.append(_row("Ready earlier under the draft", 0, data["ready_earlier"]))
    rows.append(_row("Ready later under the draft", 0, data["ready_later"]))
    return rows


def flags_text(flags: tuple[FlagKey, ...]) -> str:
    """A side's flags in one line: "BP warning 09:40, HR advisory 09:55" (or "none")."""
    return ", ".join(f"{m.value.upper()} {s.label} {t.astimezone():%H:%M}"
                     for m, s, t in flags) or "none"
