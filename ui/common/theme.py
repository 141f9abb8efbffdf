"""Themes and sizes for a tablet in a dim infusion room.

Two themes: ``DIM`` (the default: dark, low glare, for a darkened room) and ``LIGHT``.
Widgets receive a :class:`Theme` and read colours from it; nothing hard-codes a colour.
Flag tiers are always shown with icon + text + colour (:func:`tier_style`), never colour
alone, and the tier colours keep ≥ 4.5:1 contrast against the theme's surface.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.clinical.domain import Severity

#: Smallest touch target, px (both sides).
TOUCH_MIN = 48
#: Pixel size of vital-sign values on the latest-value rail (≥ 24 px, read at arm's length).
VALUE_PX = 34
#: Pixel size of ordinary text and of labels.
TEXT_PX = 18
SMALL_PX = 15

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
ICONS = RESOURCES / "icons"


@dataclass(frozen=True)
class Theme:
    name: str
    background: str
    surface: str
    surface_raised: str
    border: str
    text: str
    text_muted: str
    accent: str
    accent_text: str
    critical: str
    warning: str
    advisory: str
    ok: str
    # Chart series.
    systolic: str
    diastolic: str
    heart_rate: str
    spo2: str
    respiratory_rate: str
    cadss6: str
    moaas: str
    infusion_shade: str
    limit_line: str
    grid: str

    def tier_colour(self, severity: Severity) -> str:
        return {Severity.CRITICAL: self.critical, Severity.WARNING: self.warning,
                Severity.ADVISORY: self.advisory}[severity]


DIM = Theme(
    name="dim",
    background="#0d1117",
    surface="#161b22",
    surface_raised="#1f2630",
    border="#30363d",
    text="#e6edf3",
    text_muted="#9aa6b2",
    accent="#4c9aff",
    accent_text="#0d1117",
    critical="#ff6b6b",
    warning="#f0b429",
    advisory="#7cc4ff",
    ok="#5fd08b",
    systolic="#ff8a80",
    diastolic="#ffab91",
    heart_rate="#80d8ff",
    spo2="#b9f6ca",
    respiratory_rate="#e6ee9c",
    cadss6="#ce93d8",
    moaas="#ffe082",
    infusion_shade="#4c9aff",
    limit_line="#9aa6b2",
    grid="#30363d",
)

LIGHT = Theme(
    name="light",
    background="#f4f6f8",
    surface="#ffffff",
    surface_raised="#eef1f4",
    border="#c9d1d9",
    text="#111820",
    text_muted="#4a5561",
    accent="#0b5cad",
    accent_text="#ffffff",
    critical="#b3261e",
    warning="#8a5a00",
    advisory="#0b5cad",
    ok="#1b7a3d",
    systolic="#c62828",
    diastolic="#d84315",
    heart_rate="#0277bd",
    spo2="#2e7d32",
    respiratory_rate="#6d6b00",
    cadss6="#7b1fa2",
    moaas="#9a6700",
    infusion_shade="#0b5cad",
    limit_line="#4a5561",
    grid="#d0d7de",
)

THEMES = {DIM.name: DIM, LIGHT.name: LIGHT}


@dataclass(frozen=True)
class TierStyle:
    """How a flag tier is shown: an icon file, a word, a colour."""

    icon: Path
    text: str
    colour: str


def tier_style(theme: Theme, severity: Severity) -> TierStyle:
    word = {Severity.CRITICAL: "CRITICAL", Severity.WARNING: "WARNING",
            Severity.ADVISORY: "ADVISORY"}[severity]
    return TierStyle(ICONS / f"{severity.label}.svg", word, theme.tier_colour(severity))
