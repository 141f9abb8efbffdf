"""The chair overview: the nurse's start screen, one large tile per chair.

Each tile draws a :class:`monitor.service.board.ChairTile` (everything on it is computed in the
core): the chair, the patient's initials and MRN tail, the phase and how long it has run,
the latest BP, HR and SpO2 in large type, the countdown to the next reading (a repeat after
a warning says so and is bold; overdue shown with the clock icon, the word OVERDUE and the
advisory colour) and the worst open flag
with its tier icon, word and colour. The whole tile is one button: tapping an occupied
chair opens it, tapping a free chair starts its check-in. A discharged chair keeps its
patient on the tile until the next check-in, with a "Check in next patient" button.

The screen decides nothing: ``main`` builds the tiles with :func:`monitor.service.board.tile_for`
and passes them to :meth:`OverviewScreen.show_tiles` whenever a session changes or the
countdown ticks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Phase, Severity
from monitor.service.board import ChairTile, format_elapsed
from ui.common.style import PRIMARY_MIN, TouchButton, icon, tier_icon
from ui.common.theme import SMALL_PX, TEXT_PX, TOUCH_MIN, Theme, tier_style
from ui.common.widgets import icon_beside

#: The chairs of a default room: four, the most one nurse watches at once.
DEFAULT_CHAIRS: tuple[str, ...] = ("1", "2", "3", "4")
#: The chair's name on its tile, read from across the room.
CHAIR_PX = 40
#: The phase line ("Infusing 12:05") and the countdown: bigger than ordinary text.
PHASE_PX = 24
ICON_PX = 30
BADGE_PX = 18  # the tier icon before a value's badge word
#: Vital values on a tile: bigger than the session rail's (≥ 24 px), read from the door.
TILE_VALUE_PX = 40
#: Narrower than this (a portrait screen), a tile lists its vitals one under another, larger.
STACK_BELOW_PX = 520
STACKED_VALUE_PX = 48
#: A tile is never smaller than this; the grid gives it more when the screen allows.
TILE_MIN = QSize(300, 260)


def chair_title(chair: str) -> str:
    """"Chair 2" for a chair named "2"; a chair already named in words keeps its name."""
    return f"Chair {chair}" if chair.isdigit() else chair


def countdown_text(due_in: timedelta | None, repeat: str = "") -> str:
    """"next in 04:12", "repeat BP in 04:12" (``repeat`` names what a warning asks to
    repeat), "OVERDUE 02:10", or "" when no reading is due."""
    if due_in is None:
        return ""
    if due_in < timedelta(0):
        return f"OVERDUE {format_elapsed(-due_in)}"
    if repeat:
        return f"repeat {repeat} in {format_elapsed(due_in)}"
    return f"next in {format_elapsed(due_in)}"


def _label(text: str = "", *, px: int = TEXT_PX, bold: bool = False, colour: str | None = None,
           wrap: bool = False) -> QLabel:
    label = QLabel(text)
    _set_look(label, px=px, bold=bold, colour=colour)
    label.setWordWrap(wrap)
    # Taps anywhere on the tile belong to the tile button.
    label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    return label


def _set_look(label: QLabel, *, px: int, bold: bool = False, colour: str | None = None) -> None:
    # Set on the label itself: the app sheet's ``QWidget { font-size }`` would otherwise win
    # over a QFont, and these sizes are the tile's own (bigger than any sheet role).
    # Only when it changes: setting a sheet re-polishes the label (milliseconds each), and
    # the tiles are redrawn on every tick and every change from another tablet.
    weight = "bold" if bold else "normal"
    colour_rule = f"color: {colour};" if colour else ""
    _set_sheet(label, f"QLabel {{ font-size: {px}px; font-weight: {weight}; {colour_rule} }}")


def _set_sheet(widget: QWidget, sheet: str) -> None:
    """``widget``'s style sheet, set only when it differs from the one it has."""
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)


class ChairTileWidget(QPushButton):
    """One chair on the overview; the whole tile is a button.

    Signals:
        openRequested(str chair): an occupied (or discharged) chair's tile was tapped.
        checkInRequested(str chair): a free chair's tile, or "Check in next patient" on a
            discharged chair, was tapped.
    """

    openRequested = Signal(str)
    checkInRequested = Signal(str)

    def __init__(self, theme: Theme, tile: ChairTile, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self._tile = tile
        self.setObjectName(f"chair-tile-{tile.chair}")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        self.title = _label(px=CHAIR_PX, bold=True)
        self.patient = _label(px=TEXT_PX + 4, bold=True)
        self.patient.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.phase_icon = _label()
        self.phase_icon.setFixedSize(ICON_PX, ICON_PX)
        self.phase = _label(px=PHASE_PX, bold=True, wrap=True)

        self.value_names: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        #: The tier beside each value, as the session's rail shows it (icon + word + colour,
        #: never colour alone): "CRITICAL · acknowledged", "WARNING", "ADVISORY · 09:50".
        self.badges: dict[str, QLabel] = {}
        self.badge_icons: dict[str, QLabel] = {}
        self._badge_rows: dict[str, QWidget] = {}
        for key, name in (("bp", "BP mmHg"), ("hr", "HR /min"), ("spo2", "SpO2 %")):
            self.value_names[key] = _label(name)
            self.values[key] = _label("–")
            self.badges[key] = _label(px=SMALL_PX, bold=True, wrap=True)
            self.badges[key].setObjectName(f"badge-{key}")
            self._badge_rows[key], self.badge_icons[key] = icon_beside(self.badges[key],
                                                                       BADGE_PX)
        self._vitals_grid = QGridLayout()
        self._vitals_grid.setContentsMargins(0, 0, 0, 0)
        self._vitals_grid.setHorizontalSpacing(16)
        self._vitals_grid.setVerticalSpacing(0)
        self._stacked: bool | None = None
        self.vitals = QWidget()
        self.vitals.setLayout(self._vitals_grid)
        self.vitals.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

        self.due_icon = _label()
        self.due_icon.setFixedSize(ICON_PX, ICON_PX)
        self.due = _label(px=PHASE_PX, bold=True, wrap=True)
        self.flag_icon = _label()
        self.flag_icon.setFixedSize(ICON_PX, ICON_PX)
        self.flag_word = _label(bold=True)
        self.flag_message = _label(wrap=True)
        self.flag_message.setSizePolicy(QSizePolicy.Policy.Ignored,
                                        QSizePolicy.Policy.Preferred)
        self.more_flags = _label(px=SMALL_PX, colour=theme.text_muted)
        self.hint = _label(px=PHASE_PX, colour=theme.text_muted, wrap=True)
        #: The bound bedside monitor: "Monitor receiving", "Monitor silent 3:05".
        self.monitor = _label(px=SMALL_PX, wrap=True)
        self.monitor.setObjectName("monitor-state")

        self.check_in_next = TouchButton("Check in next patient", min_height=PRIMARY_MIN)
        self.check_in_next.setObjectName("check-in-next")
        self.check_in_next.setProperty("primary", True)
        self.check_in_next.clicked.connect(lambda: self.checkInRequested.emit(self._tile.chair))

        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.patient)
        phase_row = QHBoxLayout()
        phase_row.setSpacing(8)
        phase_row.addWidget(self.phase_icon)
        phase_row.addWidget(self.phase, 1)
        due_row = QHBoxLayout()
        due_row.setSpacing(8)
        due_row.addWidget(self.due_icon)
        due_row.addWidget(self.due, 1)
        flag_row = QGridLayout()
        flag_row.setHorizontalSpacing(8)
        flag_row.setVerticalSpacing(0)
        flag_row.addWidget(self.flag_icon, 0, 0, Qt.AlignmentFlag.AlignTop)
        flag_row.addWidget(self.flag_word, 0, 1)
        flag_row.addWidget(self.more_flags, 0, 2, Qt.AlignmentFlag.AlignRight)
        flag_row.addWidget(self.flag_message, 1, 1, 1, 2)
        flag_row.setColumnStretch(1, 1)

        #: The tile's content, which its size hints follow.
        self._content = layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 12, 18, 14)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addLayout(phase_row)
        layout.addWidget(self.vitals)
        layout.addWidget(self.hint)
        layout.addWidget(self.monitor)
        layout.addStretch(1)
        layout.addLayout(due_row)
        layout.addLayout(flag_row)
        layout.addWidget(self.check_in_next)

        self.clicked.connect(self._tapped)
        self._arrange_vitals(stacked=False)
        self.show_tile(tile)

    # -- public API ------------------------------------------------------------------------

    def tile(self) -> ChairTile:
        return self._tile

    def show_tile(self, tile: ChairTile) -> None:
        """Draw ``tile`` (the same chair, as it stands now)."""
        self._tile = tile
        if tile.empty:
            self._show_free(tile)
        else:
            self._show_session(tile)
        self._restyle()
        self.setAccessibleName(" · ".join(self.texts()))

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.show_tile(self._tile)

    def texts(self) -> list[str]:
        """The words the tile shows, in reading order (its accessible name, and for tests)."""
        labels = (self.title, self.patient, self.phase, *self._vital_texts(), self.hint,
                  self.monitor, self.due, self.flag_word, self.flag_message, self.more_flags)
        shown = [label.text() for label in labels if not label.isHidden() and label.text()]
        if not self.check_in_next.isHidden():
            shown.append(self.check_in_next.text())
        return shown

    # -- Qt --------------------------------------------------------------------------------

    def sizeHint(self) -> QSize:
        # QPushButton sizes itself from its text; this button's content is its layout.
        return self._content.sizeHint().expandedTo(TILE_MIN)

    def minimumSizeHint(self) -> QSize:
        return self._content.minimumSize().expandedTo(QSize(TOUCH_MIN, TOUCH_MIN))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange_vitals(stacked=event.size().width() < STACK_BELOW_PX)

    def _arrange_vitals(self, *, stacked: bool) -> None:
        """Side by side on a wide tile; on a narrow, tall one (portrait) one per line, with
        the name beside the value, so that three values never crowd each other."""
        if stacked == self._stacked:
            return
        self._stacked = stacked
        grid = self._vitals_grid
        for index, key in enumerate(self.values):
            name, value, badge = self.value_names[key], self.values[key], self._badge_rows[key]
            grid.removeWidget(name)
            grid.removeWidget(value)
            grid.removeWidget(badge)
            if stacked:
                # The badge under its value: beside it, it would crowd a BP off the tile.
                grid.addWidget(name, 2 * index, 0, Qt.AlignmentFlag.AlignVCenter)
                grid.addWidget(value, 2 * index, 1, Qt.AlignmentFlag.AlignVCenter)
                grid.addWidget(badge, 2 * index + 1, 1, Qt.AlignmentFlag.AlignTop)
            else:
                grid.addWidget(name, 0, index)
                grid.addWidget(value, 1, index)
                grid.addWidget(badge, 2, index, Qt.AlignmentFlag.AlignTop)
        for column in range(3):
            grid.setColumnStretch(column, 0 if stacked else 1)
        grid.setColumnStretch(1, 1)
        self._restyle()

    # -- drawing ---------------------------------------------------------------------------

    def _vital_texts(self) -> list[QLabel]:
        if self.vitals.isHidden():
            return []
        return [label for key in self.values
                for label in (self.value_names[key], self.values[key], self.badges[key])
                if not label.isHidden() and label.text()]

    def _show_free(self, tile: ChairTile) -> None:
        self.title.setText(f"{chair_title(tile.chair)} — free")
        self.hint.setText("Tap to check in")
        for widget in (self.patient, self.phase, self.phase_icon, self.vitals, self.due,
                       self.due_icon, self.flag_icon, self.flag_word, self.flag_message,
                       self.more_flags, self.check_in_next, self.monitor):
            widget.hide()
        self.hint.show()

    def _show_session(self, tile: ChairTile) -> None:
        discharged = tile.phase is Phase.DISCHARGED
        self.title.setText(chair_title(tile.chair))
        self.patient.setText(f"{tile.initials} · …{tile.mrn_tail}")
        self.patient.show()
        self.phase.setText("Discharged" if discharged else _capitalised(tile.phase_text))
        self.phase.show()
        self.phase_icon.setVisible(tile.ready)
        # Entries saved on this tablet while the server is away: how many wait for it.
        self.hint.setText(f"{tile.held} saved on this tablet — not yet on the server"
                          if tile.held else "")
        self.hint.setVisible(bool(tile.held))
        self.check_in_next.setVisible(discharged)
        self.vitals.setVisible(not discharged)
        self.monitor.setText(tile.monitor_text)
        self.monitor.setVisible(bool(tile.monitor_text) and not discharged)
        bp = f"{tile.bp[0]}/{tile.bp[1]}" if tile.bp is not None else "–"
        self.values["bp"].setText(bp)
        self.values["hr"].setText(str(tile.hr) if tile.hr is not None else "–")
        self.values["spo2"].setText(str(tile.spo2) if tile.spo2 is not None else "–")
        for key, label in self.badges.items():
            badge = tile.badges.get(key)
            label.setText(badge.text if badge is not None else "")
            self._badge_rows[key].setVisible(badge is not None)  # its icon and word
        self.due.setText(countdown_text(tile.due_in, tile.repeat_text))
        self.due.setVisible(bool(self.due.text()))
        self.due_icon.setVisible(tile.overdue)
        flag = tile.worst_flag
        has_flag = flag is not None and not discharged
        for widget in (self.flag_icon, self.flag_word, self.flag_message):
            widget.setVisible(has_flag)
        others = tile.open_flag_count - 1
        self.more_flags.setText(f"+{others} more open" if others > 0 else "")
        self.more_flags.setVisible(has_flag and others > 0)
        if flag is not None:
            self.flag_word.setText(tier_style(self.theme, flag.severity).text)
            # Flag messages name their measure already ("HR 112 ≥ 110").
            self.flag_message.setText(flag.message)
        elif tile.standing is not None and not discharged:
            # Acknowledged, yet a value still meets its tier: the tile says so, as the rail.
            self.flag_word.setText(tile.standing_word)
            self.flag_message.setText(tile.standing_text)
            for widget in (self.flag_icon, self.flag_word, self.flag_message):
                widget.show()

    def _restyle(self) -> None:
        """Colours and icons that depend on the theme and on what the tile shows."""
        t, tile = self.theme, self._tile
        border, width = t.border, 2
        flag = tile.worst_flag
        shown = flag.severity if flag is not None else tile.standing  # the flag row's tier
        # The frame takes the worst of the open flag and a value still at its tier.
        worst = max((s for s in (shown, tile.standing) if s is not None), default=None)
        if shown is not None and worst is not None and tile.phase is not Phase.DISCHARGED:
            style = tier_style(t, shown)
            border = tier_style(t, worst).colour
            width = 5 if worst is Severity.CRITICAL else 3
            self.flag_icon.setPixmap(tier_icon(t, shown, ICON_PX).pixmap(ICON_PX))
            _set_look(self.flag_word, px=TEXT_PX + 2, bold=True, colour=style.colour)
            _set_look(self.flag_message, px=TEXT_PX, colour=t.text)
        if tile.overdue:
            self.due_icon.setPixmap(icon(t, "overdue", ICON_PX).pixmap(ICON_PX))
            _set_look(self.due, px=PHASE_PX, bold=True, colour=t.advisory)
        elif tile.repeat_for:
            _set_look(self.due, px=PHASE_PX, bold=True, colour=t.text)
        else:
            _set_look(self.due, px=PHASE_PX, colour=t.text_muted)
        if tile.ready:
            self.phase_icon.setPixmap(icon(t, "ok", ICON_PX).pixmap(ICON_PX))
            _set_look(self.phase, px=PHASE_PX, bold=True, colour=t.ok)
        else:
            _set_look(self.phase, px=PHASE_PX, bold=True, colour=t.text)
        muted = t.text_muted
        for name in self.value_names.values():
            _set_look(name, px=TEXT_PX if self._stacked else SMALL_PX, colour=muted)
        for key, value in self.values.items():
            badge = tile.badges.get(key)
            value_tier = badge.value_tier if badge is not None else None
            _set_look(value, px=STACKED_VALUE_PX if self._stacked else TILE_VALUE_PX, bold=True,
                      colour=tier_style(t, value_tier).colour if value_tier else None)
            _set_look(self.badges[key], px=SMALL_PX, bold=True,
                      colour=tier_style(t, badge.severity).colour if badge else muted)
            if badge is not None:
                self.badge_icons[key].setPixmap(tier_icon(t, badge.severity).pixmap(BADGE_PX))
        _set_look(self.more_flags, px=SMALL_PX, colour=muted)
        _set_look(self.hint, px=PHASE_PX, bold=bool(tile.held),
                  colour=t.warning if tile.held else muted)
        # A silent monitor in the advisory colour and bold, with the word "silent".
        _set_look(self.monitor, px=SMALL_PX, bold=tile.monitor_silent,
                  colour=t.advisory if tile.monitor_silent else muted)
        free = tile.empty
        background = t.background if free else t.surface
        line = "dashed" if free else "solid"
        # The tile's frame shows its state, so it is drawn here rather than by a sheet role;
        # the inner "Check in next patient" button keeps the app's look.
        _set_sheet(
            self,
            f"ChairTileWidget {{ background-color: {background}; border: {width}px {line} "
            f"{border}; border-radius: 14px; padding: 0; text-align: left; }}"
            f"ChairTileWidget:pressed {{ background-color: {t.surface_raised}; "
            f"border-color: {t.accent}; }}"
            f"ChairTileWidget:focus {{ border-color: {t.accent}; }}"
        )

    def _tapped(self) -> None:
        if self._tile.empty:
            self.checkInRequested.emit(self._tile.chair)
        else:
            self.openRequested.emit(self._tile.chair)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class OverviewScreen(QWidget):
    """All chairs at a glance: a grid of :class:`ChairTileWidget` (2 × 2 for four chairs).

    Signals:
        openChair(str chair): an occupied chair was tapped; show its session.
        checkInChair(str chair): a free chair (or "Check in next patient") was tapped.
        themeToggled(): the dim/light button in the header was tapped.
        switchUser(): "Lock" was tapped: the screen locks; the same or
            another staff member signs in to continue.
        auditRequested(): "Audit trail" was tapped (shown to clinicians only).
        reviewRequested(): "Review" was tapped (shown to clinicians only).
        chimeToggled(): "Chime: off/on" was tapped (the soft overdue chime, ui/app/chime.py).
    """

    openChair = Signal(str)
    checkInChair = Signal(str)
    themeToggled = Signal()
    switchUser = Signal()
    auditRequested = Signal()
    reviewRequested = Signal()
    chimeToggled = Signal()

    def __init__(self, theme: Theme, chairs: Sequence[str] = DEFAULT_CHAIRS,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not chairs:
            raise ValueError("the overview needs at least one chair")
        self.theme = theme
        self._orientation = Qt.Orientation.Horizontal
        self.heading = QLabel("Chairs")
        _set_look(self.heading, px=PHASE_PX + 4, bold=True)
        self.theme_button = TouchButton()
        self.theme_button.setObjectName("theme-toggle")
        self.theme_button.clicked.connect(self.themeToggled)
        #: Who is entering records now, and the way to hand the tablet over.
        self.user = QLabel()
        self.user.setProperty("role", "muted")
        # Two lines rather than a header wider than a portrait screen.
        self.user.setWordWrap(True)
        self.switch_button = TouchButton("Lock")
        self.switch_button.setObjectName("switch-user")
        self.switch_button.setToolTip("Lock the screen; you or a colleague sign in to continue")
        self.switch_button.clicked.connect(self.switchUser)
        self.audit_button = TouchButton("Audit trail")
        self.audit_button.setObjectName("audit-trail")
        self.audit_button.clicked.connect(self.auditRequested)
        self.audit_button.hide()
        self.review_button = TouchButton("Review")
        self.review_button.setObjectName("review")
        self.review_button.setToolTip("Find past sessions, a patient's course, exports")
        self.review_button.clicked.connect(self.reviewRequested)
        self.review_button.hide()
        self.chime_button = TouchButton()
        self.chime_button.setObjectName("chime-toggle")
        self.chime_button.clicked.connect(self.chimeToggled)
        self.show_chime(on=False)
        #: The header's buttons: beside the heading when the screen is wide enough, else a
        #: row of their own (a clinician's five beside the heading are wider than 800 px).
        self.tools = QWidget()
        tools = QHBoxLayout(self.tools)
        tools.setContentsMargins(0, 0, 0, 0)
        tools.addStretch(1)
        for button in (self.review_button, self.audit_button, self.switch_button,
                       self.chime_button, self.theme_button):
            tools.addWidget(button)
        self._head = head = QHBoxLayout()
        head.addWidget(self.heading)
        head.addStretch(1)
        head.addWidget(self.user)
        head.addWidget(self.tools)

        self.tiles: dict[str, ChairTileWidget] = {}
        for chair in chairs:
            widget = ChairTileWidget(theme, ChairTile(chair=chair), self)
            widget.openRequested.connect(self.openChair)
            widget.checkInRequested.connect(self.checkInChair)
            self.tiles[chair] = widget
        self._grid = QGridLayout()
        self._grid.setSpacing(14)
        self._column = layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 14)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addLayout(self._grid, 1)
        self._place()
        self._update_theme_button()

    def show_user(self, name: str, role: str = "") -> None:
        """Who is signed in, with their role when known ("Signed in: Dr Lee (clinician)")."""
        shown = f"{name} ({role})" if name and role else name
        self.user.setText(f"Signed in: {shown}" if shown else "")

    def show_audit_entry(self, visible: bool) -> None:
        """Offer the audit trail (clinicians) or not."""
        self.audit_button.setVisible(visible)

    def show_review_entry(self, visible: bool) -> None:
        """Offer the review of past sessions (clinicians) or not."""
        self.review_button.setVisible(visible)

    def show_chime(self, *, on: bool, unavailable: str = "") -> None:
        """The chime switch: "Chime: on", "Chime: off", or why this device cannot chime."""
        if unavailable:
            self.chime_button.setText("Chime: unavailable")
            self.chime_button.setToolTip(unavailable)
        else:
            self.chime_button.setText(f"Chime: {'on' if on else 'off'}")
            self.chime_button.setToolTip("A soft chime when a reading turns overdue: tap to "
                                         f"switch it {'off' if on else 'on'}")
        self.chime_button.setAccessibleName(
            f"{self.chime_button.text()}. {self.chime_button.toolTip()}")

    def show_tiles(self, tiles: Sequence[ChairTile]) -> None:
        """Draw ``tiles``; a configured chair without a tile in the list is shown free."""
        given = {tile.chair: tile for tile in tiles}
        unknown = set(given) - set(self.tiles)
        if unknown:
            raise ValueError(f"no chair {', '.join(sorted(unknown))} on this overview")
        for chair, widget in self.tiles.items():
            widget.show_tile(given.get(chair, ChairTile(chair=chair)))

    def tile(self, chair: str) -> ChairTileWidget:
        return self.tiles[chair]

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        for widget in self.tiles.values():
            widget.set_theme(theme)
        self._update_theme_button()

    def orientation(self) -> Qt.Orientation:
        return self._orientation

    def set_orientation(self, orientation: Qt.Orientation) -> None:
        """Horizontal: a landscape screen; Vertical: portrait. Four chairs stay 2 × 2 in both;
        more chairs get three columns in landscape."""
        if orientation != self._orientation:
            self._orientation = orientation
            self._place()

    def minimumSizeHint(self) -> QSize:
        # As narrow as the header with its buttons on a row of their own, whichever way
        # they stand now: the width decides where they go (resizeEvent), not the reverse.
        margins = self._column.contentsMargins()
        sides = margins.left() + margins.right()
        width = max(self.tools.minimumSizeHint().width(),
                    self.heading.sizeHint().width() + self.user.minimumSizeHint().width()
                    + self._head.spacing(),
                    self._grid.minimumSize().width())
        return QSize(width + sides, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_tools(event.size().width())

    def _place_tools(self, width: int) -> None:
        margins = self._column.contentsMargins()
        one_row = (self.heading.sizeHint().width() + self.user.minimumSizeHint().width()
                   + self.tools.minimumSizeHint().width() + 3 * self._head.spacing()
                   + margins.left() + margins.right())
        beside = width >= one_row
        if beside == (self._head.indexOf(self.tools) >= 0):
            return
        self._head.removeWidget(self.tools)
        self._column.removeWidget(self.tools)
        if beside:
            self._head.addWidget(self.tools)
        else:
            self._column.insertWidget(1, self.tools)

    def _place(self) -> None:
        count = len(self.tiles)
        if count <= 4:  # 2 × 2, the layout the product asks for, in both orientations
            columns = 2 if count > 1 else 1
        else:
            columns = 3 if self._orientation == Qt.Orientation.Horizontal else 2
        for widget in self.tiles.values():
            self._grid.removeWidget(widget)
        for index, widget in enumerate(self.tiles.values()):
            self._grid.addWidget(widget, index // columns, index % columns)
        for column in range(columns):
            self._grid.setColumnStretch(column, 1)
        for row in range((count + columns - 1) // columns):
            self._grid.setRowStretch(row, 1)

    def _update_theme_button(self) -> None:
        # Like "Chime: off", the button names the state now in force, not the one a tap gives.
        current, other = ("dim room", "light room") if self.theme.name == "dim" \
            else ("light room", "dim room")
        self.theme_button.setText(f"Theme: {current}")
        self.theme_button.setToolTip(f"Tap to switch to the {other} theme")
