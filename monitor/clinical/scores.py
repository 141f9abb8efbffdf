"""Rating scales the nurse scores: CADSS-6, PHQ-9, GAD-7 and the MOAA/S levels.

Totals are always computed from the items (never typed in), and every item and total is
range-checked: a value outside the scale raises ``ValueError`` naming the item and the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Band:
    """A named range of totals, e.g. PHQ-9 "moderate" 10–14."""

    label: str
    low: int
    high: int


@dataclass(frozen=True, slots=True)
class Scale:
    """A questionnaire whose items each score ``0``–``item_max``."""

    name: str
    items: tuple[str, ...]
    item_max: int
    bands: tuple[Band, ...] = ()

    @property
    def max_total(self) -> int:
        return len(self.items) * self.item_max

    def total(self, items: Sequence[int]) -> int:
        """The sum of the items, after checking their number and range."""
        if len(items) != len(self.items):
            raise ValueError(f"{self.name} has {len(self.items)} items, got {len(items)}")
        for number, (label, points) in enumerate(zip(self.items, items, strict=True), start=1):
            if isinstance(points, bool) or not isinstance(points, int):
                raise ValueError(f"{self.name} item {number} ({label}): expected a whole "
                                 f"number 0–{self.item_max}, got {points!r}")
            if not 0 <= points <= self.item_max:
                raise ValueError(f"{self.name} item {number} ({label}): {points} is outside "
                                 f"0–{self.item_max}")
        return sum(items)

    def band(self, total: int) -> str:
        """The severity band of a total (only for scales that define bands)."""
        if isinstance(total, bool) or not isinstance(total, int):
            raise ValueError(f"{self.name} total: expected a whole number, got {total!r}")
        if not 0 <= total <= self.max_total:
            raise ValueError(f"{self.name} total: {total} is outside 0–{self.max_total}")
        for band in self.bands:
            if band.low <= total <= band.high:
                return band.label
        raise ValueError(f"{self.name} defines no severity bands")


#: CADSS-6 (Rodrigues et al., J Affect Disord 2021;282:160): items 1, 2, 6, 7, 15 of the
#: subject scale and observer item 22, each 0–4.
CADSS6 = Scale(
    name="CADSS-6",
    items=(
        "time slowed",
        "things unreal/dreamlike",
        "disconnected from body",
        "body changed",
        "spacing out",
        "observer: appears detached",
    ),
    item_max=4,
)

PHQ9 = Scale(
    name="PHQ-9",
    items=(
        "little interest or pleasure",
        "feeling down, depressed, hopeless",
        "sleep too little or too much",
        "tired, little energy",
        "poor appetite or overeating",
        "feeling bad about yourself",
        "trouble concentrating",
        "moving or speaking slowly, or restless",
        "thoughts of self-harm",
    ),
    item_max=3,
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("moderately severe", 15, 19),
        Band("severe", 20, 27),
    ),
)

GAD7 = Scale(
    name="GAD-7",
    items=(
        "nervous, anxious or on edge",
        "cannot stop or control worrying",
        "worrying too much",
        "trouble relaxing",
        "so restless it is hard to sit still",
        "easily annoyed or irritable",
        "afraid something awful might happen",
    ),
    item_max=3,
    bands=(
        Band("minimal", 0, 4),
        Band("mild", 5, 9),
        Band("moderate", 10, 14),
        Band("severe", 15, 21),
    ),
)

#: Index of PHQ-9 item 9 (thoughts of self-harm) in the item tuple.
PHQ9_SELF_HARM_ITEM = 8

#: Modified Observer's Assessment of Alertness/Sedation: level → what the nurse observes.
MOAAS_LEVELS: dict[int, str] = {
    5: "responds readily to name in normal tone",
    4: "lethargic response to name",
    3: "responds only after name called loudly/repeatedly",
    2: "responds only after mild prodding or shaking",
    1: "responds only after painful trapezius squeeze",
    0: "no response",
}


def cadss6_total(items: Sequence[int]) -> int:
    return CADSS6.total(items)


def phq9_total(items: Sequence[int]) -> int:
    return PHQ9.total(items)


def phq9_band(total: int) -> str:
    return PHQ9.band(total)


def gad7_total(items: Sequence[int]) -> int:
    return GAD7.total(items)


def gad7_band(total: int) -> str:
    return GAD7.band(total)


def moaas_description(level: int) -> str:
    """What a MOAA/S level means, e.g. 3 → "responds only after name called loudly/repeatedly"."""
    if isinstance(level, bool) or level not in MOAAS_LEVELS:
        raise ValueError(f"MOAA/S: {level!r} is outside 0–5")
    return MOAAS_LEVELS[level]
