"""The score forms: CADSS-6 (six items, 0–4 each), MOAA/S (one of six levels) and comfort
(nausea, anxiety, pain, 0–10), all chosen by tapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QWidget

from monitor.clinical.scores import CADSS6, MOAAS_LEVELS
from monitor.clinical.validation import MEASURES, FieldError
from monitor.clock import Clock
from ui.common.segmented import Segmented
from ui.common.style import KEY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import label, restyle
from ui.session.entry.form import EntryForm

#: The CADSS answer anchors, shown once above the items so that each row stays one line.
CADSS_ANCHORS = "0 not at all · 1 slightly · 2 moderately · 3 considerably · 4 extremely"


class CadssEntry(EntryForm):
    """The six CADSS-6 items, each scored 0–4 with one tap; all six are required.

    The running total shows as "CADSS-6 total 7 / 24" (with how many items are scored
    while some are not). ``raw()``: ``{"cadss6_items": (int | None, …six)}``.

    Signals:
        submitted(dict, object, object): see :class:`EntryForm`.
    """

    save_text = "Save CADSS-6"

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._items: list[Segmented] = []
        self._labels: list[QLabel] = []
        self._total = label(role="total", wrap=False)
        self._total.setObjectName("cadss-total")
        self._total_message = self.add_message(("cadss6_items", "cadss6"), self._total.text)
        self.body_layout.addWidget(self._total)
        self.body_layout.addWidget(label(CADSS_ANCHORS, "muted"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(6)
        for index, text in enumerate(CADSS6.items):
            item_label = label(f"{index + 1}. {text[:1].upper()}{text[1:]}")
            segmented = Segmented(f"cadss-{index + 1}", range(CADSS6.item_max + 1))
            segmented.changed.connect(lambda _value: self._scored())
            grid.addWidget(item_label, index, 0)
            grid.addWidget(segmented, index, 1)
            self._items.append(segmented)
            self._labels.append(item_label)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 2)
        self.body_layout.addLayout(grid)
        self.body_layout.addStretch(1)
        self._update_total()

    def item(self, number: int) -> Segmented:
        """Item ``number`` (1–6)."""
        return self._items[number - 1]

    def item_label(self, number: int) -> str:
        return self._labels[number - 1].text()

    def total_text(self) -> str:
        return self._total.text()

    def raw(self) -> dict[str, Any]:
        return {"cadss6_items": tuple(item.value() for item in self._items)}

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        unscored = [str(n) for n, v in enumerate(raw["cadss6_items"], start=1) if v is None]
        if not unscored:
            return []
        items = "item" if len(unscored) == 1 else "items"
        return [FieldError("cadss6_items", f"Score all six CADSS-6 items, each 0 to "
                                           f"{CADSS6.item_max}: {items} {', '.join(unscored)} "
                                           f"not scored")]

    def _clear_values(self) -> None:
        for item in self._items:
            item.set_value(None)
        self._update_total()

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        for item, value in zip(self._items, state.get("cadss6_items") or (), strict=False):
            item.set_value(value)
        self._update_total()

    def _scored(self) -> None:
        self._update_total()
        self._edited("cadss6_items")

    def _update_total(self) -> None:
        scores = [item.value() for item in self._items if item.value() is not None]
        text = f"CADSS-6 total {sum(scores)} / {CADSS6.max_total}"
        if len(scores) < len(self._items):
            text += f"   ({len(scores)} of {len(self._items)} scored)"
        self._total.setText(text)


class _Choice(TouchButton):
    """A tall checkable button with a large number and a wrapped description."""

    def __init__(self, name: str, number: str, description: str) -> None:
        super().__init__(min_height=KEY_MIN)
        self.setObjectName(name)
        self.setCheckable(True)
        self.setProperty("choice", True)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setAccessibleName(f"{number}: {description}")
        self._number = label(number, "value", wrap=False)
        self._number.setFixedWidth(KEY_MIN)
        self._number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._description = label(description)
        for child in (self._number, self._description):
            # Taps land on the button, not on the labels drawn over it.
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 12, 6)
        layout.addWidget(self._number)
        layout.addWidget(self._description, 1)
        self.toggled.connect(self._restyle)

    def _restyle(self, checked: bool) -> None:
        for child in (self._number, self._description):
            restyle(child, on_accent=checked)


class MoaasEntry(EntryForm):
    """MOAA/S: six large choices, 5 (responds readily) down to 0 (no response), each with
    its definition. ``raw()``: ``{"moaas": int | None}``.

    Signals:
        submitted(dict, object, object): see :class:`EntryForm`.
    """

    save_text = "Save MOAA/S"

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._value: int | None = None
        self._choices: dict[int, _Choice] = {}
        self.body_layout.addWidget(
            label("MOAA/S: how does the patient respond?", "field", wrap=False))
        self._message = self.add_message(("moaas",), lambda: str(self._value))
        for level in sorted(MOAAS_LEVELS, reverse=True):
            text = MOAAS_LEVELS[level]
            choice = _Choice(f"moaas-{level}", str(level), f"{text[:1].upper()}{text[1:]}")
            choice.clicked.connect(lambda _checked, v=level: self._choose(v))
            self.body_layout.addWidget(choice)
            self._choices[level] = choice
        self.body_layout.addStretch(1)

    def choice(self, level: int) -> QPushButton:
        return self._choices[level]

    def raw(self) -> dict[str, Any]:
        return {"moaas": self._value}

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        if raw["moaas"] is not None:
            return []
        return [FieldError("moaas", "Choose the MOAA/S level, 0 to 5")]

    def _clear_values(self) -> None:
        self._set(None)

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        self._set(state.get("moaas"))

    def _choose(self, level: int) -> None:
        self._set(level)
        self._edited("moaas")

    def _set(self, level: int | None) -> None:
        self._value = level
        for value, choice in self._choices.items():
            choice.setChecked(value == level)


class ComfortEntry(EntryForm):
    """Nausea, anxiety and pain, each 0 (none) to 10 (worst); any may be left out, not all.

    A second tap on the chosen score takes it back. ``raw()``:
    ``{"nausea": int | None, "anxiety": int | None, "pain": int | None}``.

    Signals:
        submitted(dict, object, object): see :class:`EntryForm`.
    """

    save_text = "Save comfort"
    SCORES = ("nausea", "anxiety", "pain")

    def __init__(self, theme: Theme, clock: Clock, parent: QWidget | None = None) -> None:
        super().__init__(theme, clock, parent)
        self._rows: dict[str, Segmented] = {}
        self.body_layout.addWidget(label("0 none · 10 worst imaginable", "muted", wrap=False))
        for key in self.SCORES:
            self._rows[key] = self._add_score(key)
        self.body_layout.addStretch(1)

    def _add_score(self, key: str) -> Segmented:
        """The 0–10 row of score ``key`` under its name, with its message in the strip."""
        spec = MEASURES[key]
        row = Segmented(key, range(int(spec.high) + 1), allow_none=True, spacing=3)
        row.changed.connect(lambda _value: self._edited(key))
        self.add_message((key,), lambda: str(row.value()))
        self.body_layout.addWidget(label(spec.label, "field", wrap=False))
        self.body_layout.addWidget(row)
        return row

    def row(self, key: str) -> Segmented:
        return self._rows[key]

    def raw(self) -> dict[str, Any]:
        return {key: row.value() for key, row in self._rows.items()}

    def _missing(self, raw: Mapping[str, Any]) -> list[FieldError]:
        if any(value is not None for value in raw.values()):
            return []
        return [FieldError("comfort", "Choose at least one score: nausea, anxiety or pain")]

    def _clear_values(self) -> None:
        for row in self._rows.values():
            row.set_value(None)

    def _restore_values(self, state: Mapping[str, Any]) -> None:
        for key, row in self._rows.items():
            row.set_value(state.get(key))
