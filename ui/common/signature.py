"""The electronic signature: who signs, when, what the signature means, and the PIN again.

A discharge sign-off, a clinician's override and the acknowledgement of a critical flag are
signed. :class:`SignatureDialog` shows the printed name and role of the signer, the time
and the meaning in words ("I confirm the discharge criteria are met …"), and asks for the
signer's PIN once more. It checks nothing itself: "Sign" hands the PIN to the
:class:`SignatureRequest`'s ``submit``, which passes it to the service and returns the
refusal to show ("Wrong PIN — 2 tries left …") or None once the signature is recorded.

The dialog is window-modal but never blocks (``open()``, not ``exec()``): tests and the
auto-lock reach it while it is open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QVBoxLayout, QWidget

from ui.common.labels import clock_time, role_word
from ui.common.pin import PinEntry, PinField
from ui.common.style import PRIMARY_MIN, TouchButton
from ui.common.theme import Theme
from ui.common.widgets import heading, label

#: What each kind of signature means, in the signer's words.
DISCHARGE_MEANING = ("I confirm the discharge criteria are met and release the patient to "
                     "their escort.")
OVERRIDE_MEANING = ("I release the patient although not every discharge criterion is met, "
                    "for the reason I wrote: “{reason}”.")
CRITICAL_ACK_MEANING = ("I have seen the critical flag “{flag}” and confirm the action taken: "
                        "{action}.")
AMEND_CRITICAL_MEANING = ("I amend this reading, which closes its critical flag, for the reason "
                          "I wrote: “{reason}”.")
VOID_CRITICAL_MEANING = ("I void this reading, which closes its critical flag, for the reason I "
                         "wrote: “{reason}”.")


@dataclass(frozen=True)
class SignatureRequest:
    """A signature the record needs: its title and meaning, and where the PIN goes.

    ``submit(pin)`` records the signed action and returns None, or returns why it was not
    recorded (the dialog then stays open and says so).
    """

    title: str
    meaning: str
    submit: Callable[[str], str | None]
    #: ``start(pin, reply)``: the same, answered later: ``reply(refusal or None)`` is called
    #: once the outcome is known (the server answers in the background). When given, the
    #: dialog uses it and says "Signing…" meanwhile.
    start: Callable[[str, Callable[[str | None], None]], None] | None = None
    #: ``final()``: whether the refusal just given is final — nothing is left to sign (the
    #: flag was acknowledged meanwhile on another tablet): the dialog then shows only why,
    #: with Close, instead of asking for the PIN again.
    final: Callable[[], bool] | None = None


class SignatureDialog(QDialog):
    """Name, role, time and meaning of a signature, and the PIN re-entry.

    Signals:
        signed(): the signature was recorded (the dialog then closes).
    """

    signed = Signal()

    def __init__(self, theme: Theme, request: SignatureRequest, *, signer: str, role: str,
                 at: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.request = request
        #: A PIN sent and its outcome not yet known.
        self.signing = False
        self.setWindowTitle(request.title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setObjectName("signature-dialog")
        self.setStyleSheet(f"SignatureDialog {{ background-color: {theme.background}; }}")
        self.signer = label(f"{signer} · {role_word(role)}", "field")
        self.signer.setObjectName("signature-signer")
        self.time = label(f"Signed at {clock_time(at)} on {at.astimezone():%d %b %Y}")
        self.time.setObjectName("signature-time")
        self.meaning = label(request.meaning)
        self.meaning.setObjectName("signature-meaning")
        self.meaning.setStyleSheet("QLabel { font-weight: bold; }")
        self.pin = PinField("signature-pin", "Your PIN")
        self.entry = PinEntry(theme, [self.pin])
        self.entry.submitted.connect(self.sign)
        self.message = label("", "error")
        self.message.setObjectName("signature-message")
        #: "Signing…" while the server records the signature (not a problem: not in red).
        self.status = label("", "muted")
        self.status.setObjectName("signature-status")
        self.sign_button = TouchButton("Sign", min_size=160, min_height=PRIMARY_MIN)
        self.sign_button.setObjectName("signature-sign")
        self.sign_button.setProperty("primary", True)
        self.sign_button.clicked.connect(self.sign)
        self.cancel = TouchButton("Cancel", min_height=PRIMARY_MIN)
        self.cancel.setObjectName("signature-cancel")
        self.cancel.clicked.connect(self.reject)

        text = QVBoxLayout()
        text.setSpacing(8)
        text.addWidget(heading(request.title))
        text.addWidget(self.signer)
        text.addWidget(self.time)
        text.addWidget(self.meaning)
        self.hint = label("Type your PIN to sign. Your signature is kept with the record.",
                          "muted")
        text.addWidget(self.hint)
        text.addWidget(self.message)
        text.addWidget(self.status)
        text.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.sign_button)
        text.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 20, 20, 20)
        layout.setSpacing(20)
        layout.addLayout(text, 3)
        layout.addWidget(self.entry, 2)
        self.resize(760, 520)

    def sign(self) -> None:
        pin = self.pin.text()
        if not pin:
            self.message.setText("PIN: type your PIN to sign")
            return
        if self.request.start is None:
            self._answered(self.request.submit(pin))
            return
        if self.signing:
            return  # a second tap while the first is answered signs nothing twice
        self.signing = True
        self.sign_button.setEnabled(False)
        self.message.setText("")
        self.status.setText("Signing…")
        self.request.start(pin, self._answered)

    def settle(self) -> None:
        """Nothing is left to sign: only why stays, with Close."""
        for part in (self.sign_button, self.entry, self.time, self.hint):
            part.hide()  # nothing was signed, and nothing is left to sign
        self.cancel.setText("Close")
        self.cancel.setFocus()

    def _answered(self, refusal: str | None) -> None:
        if not shiboken6.isValid(self):
            return
        self.signing = False
        self.sign_button.setEnabled(True)
        self.status.setText("")
        if refusal is not None:
            self.message.setText(refusal)
            self.entry.clear()
            if self.request.final is not None and self.request.final():
                self.settle()
            return
        self.signed.emit()
        self.accept()
