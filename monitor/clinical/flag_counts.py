"""What a session's flags count to: one definition for the review's list, a patient's
course, the PDF report and ``show --json``.

Counted: each flag a reading raised, by tier, acknowledged or not, taken over by a worse
flag or not — what the patient went through. Not counted: the reminders that a reading is
overdue or that the bedside monitor fell silent (no reading raised them; they concern the
chair, not the patient), and flags *withdrawn* because the reading that raised them was
voided or amended: the record keeps those, shown withdrawn with their reading and any
acknowledgement, and they are counted apart.

``unacknowledged`` counts the counted flags still waiting for a staff member (open): a
lower flag a worse one took over is covered by the worse one's acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from monitor.clinical.domain import Flag, Severity


@dataclass(frozen=True, slots=True)
class FlagCounts:
    """A session's flags counted (see the module's docstring)."""

    #: :class:`Severity` value → flags raised at that tier; tiers without flags left out.
    by_tier: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    #: Counted flags still waiting for an acknowledgement.
    unacknowledged: int = 0
    #: Flags of readings since voided or amended: kept in the record, not counted above.
    withdrawn: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_tier.values())

    @property
    def worst(self) -> Severity | None:
        tiers = [tier for tier, n in self.by_tier.items() if n > 0]
        return Severity(max(tiers)) if tiers else None

    def text(self) -> str:
        """The counts in words, as the report prints them."""
        tiers = ", ".join(f"{self.by_tier.get(int(s), 0)} {s.label}"
                          for s in sorted(Severity, reverse=True))
        text = f"Flags raised: {self.total} ({tiers}); {self.unacknowledged} still unacknowledged."
        if self.withdrawn:
            text += (f" {self.withdrawn} withdrawn with a voided or amended reading: listed, "
                     "not counted.")
        return text

    def as_dict(self) -> dict[str, object]:
        """The counts by tier word (``show --json``'s ``flag_counts``)."""
        return {
            **{s.label: self.by_tier.get(int(s), 0) for s in sorted(Severity, reverse=True)},
            "total": self.total, "unacknowledged": self.unacknowledged,
            "withdrawn": self.withdrawn,
        }


def counted(flag: Flag) -> bool:
    """Whether ``flag`` is one a reading raised (not an overdue or silent-monitor reminder)."""
    return flag.reading_id is not None


def flag_counts(flags: Iterable[Flag], withdrawn: Iterable[Flag] = ()) -> FlagCounts:
    """The counts of a session's ``flags`` (those of its effective readings) and of the
    flags ``withdrawn`` with their voided or amended readings."""
    by_tier: dict[int, int] = {}
    waiting = 0
    withdrawn_ids = {f.id for f in withdrawn if counted(f)}
    seen: set[object] = set()
    for flag in flags:
        if not counted(flag) or flag.id in withdrawn_ids or flag.id in seen:
            continue
        seen.add(flag.id)
        by_tier[int(flag.severity)] = by_tier.get(int(flag.severity), 0) + 1
        waiting += flag.open
    return FlagCounts(by_tier=MappingProxyType(dict(sorted(by_tier.items()))),
                      unacknowledged=waiting, withdrawn=len(withdrawn_ids))
