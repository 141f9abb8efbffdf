"""The discharge panel: may the patient go home, criterion by criterion, and the sign-off.

:class:`DischargePanel` shows ``view.discharge`` as the core computed it: each criterion met
or not (icon + word + colour) with the reason, the modified Aldrete and adapted PADSS scores
with their items, and the time the patient would have been ready without a minimum stay
(a question on the REMS form). The nurse attests "oriented ×3 and steady gait" and "escort
present" here, signs the discharge once every criterion is met, or a clinician overrides
with a written reason. The panel stores nothing: it emits what was asked for and ``main``
passes it to the service (the sign-off's PIN re-entry included).

Once discharged, it shows when (and, when given, by whom) and the discharge instructions,
read from ``resources/discharge_instructions.txt`` so that a clinic can word them itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from monitor.clinical.domain import Criterion, Event, EventKind, Phase, Score
from monitor.clinical.protocol import Protocol
from monitor.clinical.wording import criterion_name
from monitor.exports.signature_labels import (
    OTHER_HEADING,
    meaning_words,
    split_signatures,
    validity,
)
from monitor.service.views import MIN_OVERRIDE_REASON
from ui.common.labels import clock_time
from ui.common.style import PRIMARY_MIN, TouchButton, icon
from ui.common.theme import RESOURCES, TEXT_PX, TOUCH_MIN, Theme
from ui.common.widgets import heading, kinetic, label

if TYPE_CHECKING:
    from monitor.service.views import SessionView

INSTRUCTIONS_FILE = RESOURCES / "discharge_instructions.txt"
ICON_PX = 28
#: Attestation buttons are tapped standing beside the chair: a little above the minimum.
ATTEST_MIN = 56
HEADLINE_PX = TEXT_PX + 6
#: The sign-off is the panel's main action: wide enough to find without looking twice.
SIGN_MIN_WIDTH = 280

#: The attestations the nurse makes on this panel: (event, button text, criterion id).
ATTESTATIONS: tuple[tuple[EventKind, str, str], ...] = (
    (EventKind.ORIENTED_STEADY_GAIT, "Oriented ×3 and steady gait", "orientation_gait"),
    (EventKind.ESCORT_PRESENT, "Escort present", "escort"),
)


def load_instructions(path: Path = INSTRUCTIONS_FILE) -> str:
    """The discharge instructions the clinic wrote (plain text, paragraphs)."""
    return path.read_text(encoding="utf-8").strip()


def not_met_pixmap(theme: Theme, px: int = ICON_PX) -> QPixmap:
    """"Not met": a hollow rounded square with a cross, the counterpart of the filled "ok"
    check, so met and not met differ in shape as well as colour."""
    pixmap = QPixmap(px, px)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour = QColor(theme.warning)
    painter.setPen(QPen(colour, px / 12))
    inset = px / 12
    painter.drawRoundedRect(QRectF(inset, inset, px - 2 * inset, px - 2 * inset), px / 5, px / 5)
    cross = QPen(colour, px / 8)
    cross.setCapStyle(Qt.PenCapStyle.RoundCap)
    painter.setPen(cross)
    low, high = px * 0.32, px * 0.68
    painter.drawLine(QPointF(low, low), QPointF(high, high))
    painter.drawLine(QPointF(high, low), QPointF(low, high))
    painter.end()
    return pixmap


class OverrideDialog(QDialog):
    """A clinician's discharge override: the written reason, at least
    :data:`monitor.service.views.MIN_OVERRIDE_REASON` characters.

    Signals: those of :class:`QDialog`; :meth:`reason` holds the text once accepted.
    """

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Clinician override")
        self.setModal(True)
        self.theme = theme
        t = theme
        # A dialog is a window of its own: it takes the theme's background here, whether the
        # app's palette was set or only the parent's style sheet; the sheet has no text-box
        # role for the reason.
        self.setStyleSheet(
            f"OverrideDialog {{ background-color: {t.background}; }}"
            f"QPlainTextEdit {{ background-color: {t.surface}; color: {t.text}; "
            f"border: 2px solid {t.border}; border-radius: 8px; padding: 6px; }}"
            f"QPlainTextEdit:focus {{ border-color: {t.accent}; }}")
        self.text = QPlainTextEdit()
        self.text.setObjectName("override-reason")
        self.text.setPlaceholderText("Why the patient may leave although criteria are not met")
        self.text.setMinimumHeight(3 * TOUCH_MIN)
        self.count = label(role="muted")
        #: The criteria not met, by name and why: what the clinician is overriding.
        self.unmet = label()
        self.unmet.setObjectName("override-unmet")
        self.unmet.setStyleSheet(f"QLabel {{ color: {t.warning}; font-weight: bold; }}")
        self.confirm = TouchButton("Discharge with override", min_height=PRIMARY_MIN)
        self.confirm.setObjectName("override-confirm")
        self.confirm.setProperty("primary", True)
        self.cancel = TouchButton("Cancel", min_height=PRIMARY_MIN)
        self.cancel.setObjectName("override-cancel")
        self.confirm.clicked.connect(self.accept)
        self.cancel.clicked.connect(self.reject)
        self.text.textChanged.connect(self._update)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.confirm)
        self._content = layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(heading("Clinician override", px=HEADLINE_PX))
        layout.addWidget(label("The patient is discharged although not every criterion is "
                               "met. The reason is kept in the record and the audit trail."))
        layout.addWidget(self.unmet)
        layout.addWidget(label("Reason", "field"))
        layout.addWidget(self.text)
        layout.addWidget(self.count)
        layout.addLayout(buttons)
        self.resize(560, 400)
        self._update()

    def reason(self) -> str:
        return self.text.toPlainText().strip()

    def showEvent(self, event: QShowEvent) -> None:
        # Word-wrapped lines need more height than the layout's minimum says: keep the room
        # they ask for, so the reason box does not run under the buttons.
        self.setMinimumHeight(self._content.totalHeightForWidth(self.width()))
        super().showEvent(event)

    def set_unmet(self, criteria: list[tuple[str, str]]) -> None:
        """List the criteria not met, each ``(name, why)``, above the reason."""
        lines = [f"• {name}: {why}" if why else f"• {name}" for name, why in criteria]
        self.unmet.setText("\n".join(["Not met:", *lines]) if lines
                           else "Every criterion is met.")

    def _update(self) -> None:
        length = len(self.reason())
        self.confirm.setEnabled(length >= MIN_OVERRIDE_REASON)
        self.count.setText(f"{length} characters (at least {MIN_OVERRIDE_REASON})")


class _CriterionRow:
    """The widgets of one criterion: icon, word, name and the reason."""

    def __init__(self, grid: QGridLayout, row: int) -> None:
        self.icon = QLabel()
        self.icon.setFixedSize(ICON_PX, ICON_PX)
        self.word = label(wrap=False)
        self.name = label(role="field")
        self.detail = label(role="muted")
        grid.addWidget(self.icon, 2 * row, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.word, 2 * row, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.name, 2 * row, 2)
        grid.addWidget(self.detail, 2 * row + 1, 2)


#: The Sign button while the server cannot take the signature.
NEEDS_SERVER = "Sign-off needs the server"


class DischargePanel(QWidget):
    """Discharge criteria, scores, attestations and the sign-off of one session.

    Signals:
        attestRequested(object): an :class:`~monitor.clinical.domain.EventKind` to record now
            (``ORIENTED_STEADY_GAIT`` or ``ESCORT_PRESENT``).
        signRequested(): the nurse signs the discharge (only offered when ready).
        overrideRequested(str): a clinician discharges with this written reason.
    """

    attestRequested = Signal(object)
    signRequested = Signal()
    overrideRequested = Signal(str)

    def __init__(self, theme: Theme, *, instructions: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme = theme
        self.instructions_text = instructions if instructions is not None \
            else load_instructions()
        self._view: SessionView | None = None

        self.status_icon = QLabel()
        self.status_icon.setFixedSize(ICON_PX, ICON_PX)
        self.status = heading("", px=HEADLINE_PX)
        self.status.setObjectName("discharge-status")

        self._criteria_grid = QGridLayout()
        self._criteria_grid.setHorizontalSpacing(10)
        self._criteria_grid.setVerticalSpacing(2)
        self._criteria_grid.setColumnStretch(2, 1)
        self.rows: dict[str, _CriterionRow] = {}

        self.attest_buttons: dict[EventKind, QPushButton] = {}
        self.attest_notes: dict[EventKind, QLabel] = {}
        attest = QGridLayout()
        attest.setHorizontalSpacing(10)
        for row, (kind, text, _criterion) in enumerate(ATTESTATIONS):
            button = TouchButton(text, min_height=ATTEST_MIN)
            button.setIconSize(QSize(ICON_PX, ICON_PX))
            button.setObjectName(f"attest-{kind.value}")
            button.clicked.connect(lambda _c=False, k=kind: self.attestRequested.emit(k))
            note = label(role="muted")
            attest.addWidget(button, row, 0)
            attest.addWidget(note, row, 1)
            self.attest_buttons[kind] = button
            self.attest_notes[kind] = note
        attest.setColumnStretch(1, 1)
        self.attest_box = QWidget()
        self.attest_box.setLayout(attest)

        self.scores: dict[str, QLabel] = {"aldrete": label(role="field"),
                                          "padss": label(role="field")}
        self.score_items: dict[str, QLabel] = {"aldrete": label(role="muted"),
                                               "padss": label(role="muted")}
        self.would_have_been_ready = label()
        self.would_have_been_ready.setObjectName("would-have-been-ready")

        self.discharged = label(role="field")
        self.discharged.setObjectName("discharged-by")
        self.instructions = label(self.instructions_text)
        self.instructions.setObjectName("discharge-instructions")
        self.instructions.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.discharged_box = QFrame()
        self.discharged_box.setProperty("banner", "saved")
        discharged = QVBoxLayout(self.discharged_box)
        discharged.setContentsMargins(12, 10, 12, 12)
        discharged.addWidget(self.discharged)
        discharged.addWidget(label("Discharge instructions", "field"))
        discharged.addWidget(self.instructions)
        #: The session's e-signatures, each "superseded" once the record changed after it.
        self.signatures = label(role="field")
        self.signatures.setObjectName("discharge-signatures")
        self.signatures.hide()

        self.sign_button = TouchButton("Sign discharge", min_size=SIGN_MIN_WIDTH,
                                       min_height=PRIMARY_MIN)
        self.sign_button.setObjectName("sign-discharge")
        self.sign_button.setProperty("primary", True)
        self.sign_button.clicked.connect(self.signRequested)
        self.override_button = TouchButton("Clinician override", min_height=PRIMARY_MIN)
        self.override_button.setObjectName("clinician-override")
        self.override_button.clicked.connect(self.open_override)
        # Offered only to staff whose role may override (see :meth:`allow_override`): a nurse
        # would be refused only after writing the reason and entering the PIN.
        self.override_button.hide()
        self.override_dialog = OverrideDialog(theme, self)
        self.override_dialog.accepted.connect(
            lambda: self.overrideRequested.emit(self.override_dialog.reason()))

        content = QWidget()
        body = QVBoxLayout(content)
        body.setContentsMargins(8, 8, 12, 8)
        body.setSpacing(10)
        status = QHBoxLayout()
        status.addWidget(self.status_icon, 0, Qt.AlignmentFlag.AlignTop)
        status.addWidget(self.status, 1)
        body.addLayout(status)
        body.addWidget(self.discharged_box)
        body.addWidget(self.signatures)
        body.addLayout(self._criteria_grid)
        body.addWidget(label("Nurse attests", "field"))
        body.addWidget(self.attest_box)
        for key in ("aldrete", "padss"):
            body.addWidget(self.scores[key])
            body.addWidget(self.score_items[key])
        body.addWidget(self.would_have_been_ready)
        body.addStretch(1)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setWidget(content)
        kinetic(self._scroll.viewport())

        #: Override and Sign, hidden once the patient is discharged.
        self.action_bar = QWidget()
        actions = QHBoxLayout(self.action_bar)
        actions.setContentsMargins(8, 0, 8, 8)
        actions.addWidget(self.override_button)
        actions.addStretch(1)
        actions.addWidget(self.sign_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self._scroll, 1)
        layout.addWidget(self.action_bar)
        self.clear()

    # -- public API ------------------------------------------------------------------------

    def clear(self) -> None:
        """No session: nothing to assess, nothing to sign."""
        self._view = None
        self.status.setText("No session")
        self.status_icon.clear()
        self.discharged_box.hide()
        self.attest_box.setEnabled(False)
        self.sign_button.setEnabled(False)
        self.override_button.setEnabled(False)

    def show_view(self, view: SessionView, *, discharged_by: str = "") -> None:
        """Show the discharge assessment of ``view``.

        ``discharged_by`` names who signed or overrode, when the caller knows it (a session
        event does not carry its author).
        """
        self._view = view
        assessment = view.discharge
        done = view.phase is Phase.DISCHARGED
        self._show_criteria(view)
        self._show_attestations(view, done)
        for key, score in (("aldrete", assessment.aldrete), ("padss", assessment.padss)):
            self._show_score(key, score)
        ready_at = assessment.would_have_been_ready_at
        self.would_have_been_ready.setText(
            "Would have been ready without the minimum stay: "
            + (clock_time(ready_at) if ready_at is not None else "not yet"))
        unmet = sum(not c.met for c in assessment.criteria)
        if done:
            self._show_discharged(view, discharged_by)
        elif assessment.ready:
            self._set_status("ok", "Ready for discharge: every criterion is met")
        else:
            self._set_status(None, f"Not ready: {unmet} of {len(assessment.criteria)} "
                                   "criteria not met")
        self.discharged_box.setVisible(done)
        self.action_bar.setVisible(not done)
        # A signature is checked and kept by the server: not while this tablet charts
        # without it (its copy of the session), nor before its held entries reach it.
        offline = view.on_tablet or view.held > 0
        self.sign_button.setText(NEEDS_SERVER if offline else "Sign discharge")
        self.sign_button.setEnabled(assessment.ready and not done and not offline)
        self.sign_button.setToolTip("" if assessment.ready else
                                    "Every criterion must be met before signing")
        self.override_button.setEnabled(not done and not offline)
        self._show_signatures(view)

    def _show_signatures(self, view: SessionView) -> None:
        # Only the discharge's own signatures read as a sign-off; a critical flag's
        # acknowledgement, void or amendment is listed apart, by what it means.
        discharge, others = split_signatures(getattr(view, "signatures", ()))
        lines = [
            f"Signed ({s.meaning}): {s.signer_name}, {s.signer_role}, {clock_time(s.signed_at)}"
            + ("" if s.valid else f" — {validity(s)}")
            for s in discharge
        ]
        if others:
            lines.append(f"{OTHER_HEADING}:")
            lines += [f"{meaning_words(s)}: {s.signer_name}, {s.signer_role}, "
                      f"{clock_time(s.signed_at)}" + ("" if s.valid else f" — {validity(s)}")
                      for s in others]
        self.signatures.setText("\n".join(lines))
        self.signatures.setVisible(bool(lines))

    def allow_override(self, allowed: bool) -> None:
        """Offer "Clinician override" (``allowed``: the signed-in role may override)."""
        self.override_button.setVisible(allowed)

    def open_override(self) -> None:
        """Ask for the override reason (non-blocking: the panel keeps updating)."""
        self.override_dialog.text.clear()
        view = self._view
        self.override_dialog.set_unmet(
            [] if view is None else
            [(criterion_name(c.id, view.protocol), c.detail)
             for c in view.discharge.criteria if not c.met])
        self.override_dialog.open()

    def criterion_texts(self) -> dict[str, tuple[str, str, str]]:
        """``{id: (word, name, detail)}`` as shown, for tests and accessibility."""
        return {cid: (row.word.text(), row.name.text(), row.detail.text())
                for cid, row in self.rows.items() if not row.name.isHidden()}

    # -- drawing ---------------------------------------------------------------------------

    def _show_criteria(self, view: SessionView) -> None:
        for shown in self.rows.values():
            for widget in (shown.icon, shown.word, shown.name, shown.detail):
                widget.hide()
        for criterion in view.discharge.criteria:
            row = self.rows.get(criterion.id)
            if row is None:
                row = self.rows[criterion.id] = _CriterionRow(self._criteria_grid,
                                                              len(self.rows))
            self._show_criterion(row, criterion, view.protocol)

    def _show_criterion(self, row: _CriterionRow, criterion: Criterion,
                        protocol: Protocol) -> None:
        t = self.theme
        if criterion.met:
            row.icon.setPixmap(icon(t, "ok", ICON_PX).pixmap(ICON_PX))
        else:
            row.icon.setPixmap(not_met_pixmap(t))
        row.word.setText("Met" if criterion.met else "Not met")
        # The colour follows the data, so it is set here; icon and word carry it as well.
        row.word.setStyleSheet(f"QLabel {{ color: {t.ok if criterion.met else t.warning}; "
                               "font-weight: bold; }")
        row.name.setText(criterion_name(criterion.id, protocol))
        row.detail.setText(criterion.detail)
        for widget in (row.icon, row.word, row.name, row.detail):
            widget.show()

    def _show_attestations(self, view: SessionView, done: bool) -> None:
        met = {c.id: c.met for c in view.discharge.criteria}
        for kind, _text, criterion in ATTESTATIONS:
            events = [e for e in view.record.events if e.kind is kind]
            button, note = self.attest_buttons[kind], self.attest_notes[kind]
            attested = bool(events)
            button.setIcon(icon(self.theme, "ok", ICON_PX) if attested else QIcon())
            if attested and met.get(criterion, True):
                note.setText(f"Done {clock_time(events[-1].time)}")
            elif attested:
                # Attested too early (before the infusion stopped): it does not count yet.
                note.setText(f"Attested {clock_time(events[-1].time)}; does not count yet")
            else:
                note.setText("Not attested yet")
            button.setEnabled(not done and not (attested and met.get(criterion, True)))
        self.attest_box.setEnabled(not done)

    def _show_score(self, key: str, score: Score) -> None:
        name = score.name[:1].upper() + score.name[1:]
        self.scores[key].setText(f"{name}: {score.total} of {score.max_total} — "
                                 f"{score.verdict} (≥ {score.passing} needed)")
        self.score_items[key].setText("\n".join(item.text for item in score.items))

    def _show_discharged(self, view: SessionView, discharged_by: str) -> None:
        event = _discharge_event(view.record.events)
        by = f" by {discharged_by}" if discharged_by else ""
        # The criteria shown are those signed: what was entered later does not change them.
        as_signed = (f" Criteria as they stood at the signature, {clock_time(view.assessed_at)}."
                     if view.sign_off is not None else "")
        if event is None:
            self._set_status("ok", "Discharged")
            self.discharged.setText("Discharged")
        elif event.kind is EventKind.DISCHARGE_OVERRIDE:
            self._set_status("ok", f"Discharged {clock_time(event.time)} (clinician override)")
            self.discharged.setText(f"Clinician override {clock_time(event.time)}{by}."
                                    f"{as_signed} Reason: {event.detail}")
        else:
            self._set_status("ok", f"Discharged {clock_time(event.time)}")
            detail = f". {event.detail}" if event.detail else ""
            self.discharged.setText(f"Signed off {clock_time(event.time)}{by}{detail}."
                                    f"{as_signed}")

    def _set_status(self, icon_name: str | None, text: str) -> None:
        self.status.setText(text)
        if icon_name is None:
            self.status_icon.setPixmap(not_met_pixmap(self.theme))
        else:
            self.status_icon.setPixmap(icon(self.theme, icon_name, ICON_PX).pixmap(ICON_PX))


def _discharge_event(events: tuple[Event, ...]) -> Event | None:
    return next((e for e in reversed(events)
                 if e.kind in (EventKind.DISCHARGE_SIGNED, EventKind.DISCHARGE_OVERRIDE)), None)

