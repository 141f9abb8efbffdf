"""A signature sent while the server is slow: the dialog says "Signing…" and stays open,
a second tap signs nothing twice, and the dialog closes only once the server recorded it
(or shows the refusal it gave), the database work on its own thread."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from monitor.clinical.domain import EventKind
from monitor.service.worker import ThreadWorker
from tests.conftest import TEST_PIN
from tests.support.stall import WAIT_S, StalledService
from tests.ui.sessions import patient_session
from ui.common.signature import SignatureDialog
from ui.common.style import apply_theme
from ui.common.theme import DIM
from ui.session.presenter import SessionPresenter

WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def asked(qtbot, service, clock, nurse):
    """A critical flag's acknowledgement asked for, its signature dialog open."""
    session_id = patient_session(service, nurse)
    service.record_reading(session_id, {"sbp": "120", "dbp": "80", "hr": "72", "spo2": "98",
                                        "rr": "14", "cadss6": "0", "moaas": "5"}, by=nurse)
    service.record_event(session_id, EventKind.INFUSION_START, by=nurse)
    clock.advance(600)
    service.record_reading(session_id, {"sbp": "200", "dbp": "118", "hr": "98"}, by=nurse)
    gated = StalledService(service)
    worker = ThreadWorker()
    presenter = SessionPresenter(gated, clock, session_id, nurse, worker=worker)
    presenter.refresh()
    qtbot.waitUntil(lambda: presenter.view is not None, timeout=WAIT_MS)
    critical = next(f for f in presenter.view.open_flags if f.severity.name == "CRITICAL")
    with qtbot.waitSignal(presenter.signatureNeeded, timeout=WAIT_MS) as blocker:
        presenter.acknowledge(critical, "Informed clinician")
    dialog = SignatureDialog(DIM, blocker.args[0], signer="Nora Nurse", role="nurse",
                             at=clock.now())
    apply_theme(dialog, DIM)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitExposed(dialog)
    gated.stall("acknowledge")
    yield dialog, gated, presenter, critical
    gated.release()
    qtbot.waitUntil(lambda: presenter.pending == 0 and not presenter._loading,
                    timeout=WAIT_MS)
    worker.close(WAIT_S)


def type_pin(qtbot, dialog, pin: str) -> None:
    for digit in pin:
        qtbot.mouseClick(dialog.entry.keypad.button(digit), Qt.MouseButton.LeftButton)


def test_the_dialog_says_signing_and_closes_once_the_server_recorded_it(
        qtbot, asked, service):
    dialog, gated, presenter, critical = asked
    type_pin(qtbot, dialog, TEST_PIN)
    qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
    assert gated.entered.wait(WAIT_S)
    assert dialog.status.text() == "Signing…"
    assert not dialog.sign_button.isEnabled()
    assert dialog.isVisible()
    dialog.sign()  # the keypad's Enter meanwhile: nothing sent twice
    with qtbot.waitSignal(dialog.signed, timeout=WAIT_MS):
        gated.release()
    assert not dialog.isVisible()
    assert gated.calls["acknowledge"] == 1
    assert critical.id not in {f.id for f in service.load(presenter.session_id).open_flags}


def test_a_wrong_pin_answered_late_keeps_the_dialog_open_with_the_refusal(
        qtbot, asked, service):
    dialog, gated, presenter, critical = asked
    type_pin(qtbot, dialog, "000001")
    with qtbot.assertNotEmitted(dialog.signed):
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
        assert gated.entered.wait(WAIT_S)
        assert dialog.status.text() == "Signing…"
        with qtbot.waitSignal(presenter.refused, timeout=WAIT_MS):
            gated.release()
    assert "PIN" in dialog.message.text()
    assert dialog.sign_button.isEnabled()
    assert dialog.isVisible()
    assert critical.id in {f.id for f in service.load(presenter.session_id).open_flags}
