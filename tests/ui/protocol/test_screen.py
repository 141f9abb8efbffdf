"""The protocol screen: nurses read, administrators edit a draft, clinicians approve it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.conftest import TEST_PIN
from tests.ui.conftest import settle
from tests.ui.touch import small_touch_targets

HR = "hr.high_warning_at_or_above"


def click(qtbot, widget):
    assert widget.isVisible(), widget
    assert widget.isEnabled(), widget
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    settle(qtbot)


def _window(qtbot, service, clock, staff, size=(1280, 800), *, worker=None):
    from ui.app.main_window import MainWindow  # noqa: PLC0415 - only these tests need it

    shown = MainWindow(service, clock, staff=staff, tick_ms=3_600_000, worker=worker)
    qtbot.addWidget(shown)
    shown.resize(*size)
    shown.show()
    qtbot.waitExposed(shown)
    return shown


@pytest.fixture
def admin(service):
    return service.ensure_staff("Ada Admin", "admin", pin=TEST_PIN)


def _type(qtbot, field, text):
    field.clear()
    qtbot.keyClicks(field, text)
    settle(qtbot)


def test_an_admin_writes_a_draft_and_a_value_is_checked_as_typed(
        qtbot, service, clock, admin, db_worker):
    window = _window(qtbot, service, clock, (admin, "Ada Admin"), worker=db_worker)
    click(qtbot, window.staff_admin.protocol_button)
    screen = window.protocol_screen
    assert window.stack.currentWidget() is screen
    assert screen.fields[HR].isReadOnly()
    screen.reason.setText("Clinic review of HR bands")
    click(qtbot, screen.new_button)
    (draft,) = service.protocols.drafts()
    assert screen.draft is not None
    assert screen.draft.id == draft.id
    assert not screen.fields[HR].isReadOnly()

    _type(qtbot, screen.fields[HR], "300")
    assert screen.errors[HR].isVisible()
    assert screen.errors[HR].text() == (
        "hr.high_warning_at_or_above (/min): 300 is outside the accepted range 20–250 /min")
    _type(qtbot, screen.fields[HR], "140")
    assert not screen.errors[HR].isVisible()
    click(qtbot, screen.save_button)  # beyond the critical limit (131): refused whole
    assert "must be below hr.high_critical_at_or_above (131)" in screen.errors[HR].text()
    assert service.protocols.draft(draft.id).changes["parameters"] == {}

    _type(qtbot, screen.fields[HR], "105")
    click(qtbot, screen.save_button)
    assert screen.message.text() == "Saved"
    assert service.protocols.draft(draft.id).changes["parameters"][HR]["value"] == 105
    assert "changed in this draft" in screen.sources[HR].text()
    assert not screen.approve_button.isVisible()
    assert small_touch_targets(screen) == []


def test_a_clinician_approves_with_the_signature_and_a_nurse_only_reads(
        qtbot, service, clock, admin, clinician, nurse, db_worker):
    draft = service.protocols.create_draft(
        "iv_ketamine", by=admin, reason="Clinic review of HR bands", parameters={HR: 105})
    window = _window(qtbot, service, clock, (clinician, "Cleo Clinician"),
                     worker=db_worker)
    click(qtbot, window.protocol_button)
    screen = window.protocol_screen
    assert not screen.new_button.isVisible()
    click(qtbot, screen.findChild(type(screen.approve_button), f"protocol-draft-{draft}"))
    assert screen.fields[HR].text() == "105"
    assert screen.fields[HR].isReadOnly()
    click(qtbot, screen.approve_button)
    dialog = window.signature_dialog
    assert dialog is not None
    assert "Clinic review of HR bands" in dialog.meaning.text()
    for digit in "000000":
        click(qtbot, dialog.entry.keypad.button(digit))
    click(qtbot, dialog.sign_button)
    assert dialog.message.text().startswith("Wrong PIN")
    assert service.protocols.active()["iv_ketamine"] is None
    with qtbot.waitSignal(dialog.signed):
        for digit in TEST_PIN:
            click(qtbot, dialog.entry.keypad.button(digit))
        click(qtbot, dialog.sign_button)
    assert service.protocols.active()["iv_ketamine"] is not None
    assert screen.message.text().startswith("Approved")
    assert screen.fields[HR].text() == "105"  # the version in force now

    reader = _window(qtbot, service, clock, (nurse, "Nora Nurse"),
                     size=(800, 1280), worker=db_worker)
    click(qtbot, reader.protocol_button)
    shown = reader.protocol_screen
    assert shown.fields[HR].isReadOnly()
    assert not any(b.isVisible() for b in (shown.new_button, shown.save_button,
                                           shown.approve_button))
    assert "factory 111" in shown.sources[HR].text()
