"""The words a window shows for a refused or failed action: NOT saved only when known."""

from monitor.storage.store import NotSavedError, OutcomeUnknownError
from ui.app.frame import refusal_text


def test_a_failed_save_is_not_saved():
    assert refusal_text(NotSavedError("disk-full", "the disk is full.")).startswith(
        "NOT saved")


def test_a_save_of_unknown_outcome_is_never_called_not_saved():
    text = refusal_text(OutcomeUnknownError(
        "unreachable", "Not known whether saved: the connection was lost while saving."))
    assert text.startswith("Not known whether saved")
    assert "NOT saved" not in text


def test_the_stores_own_not_saved_is_not_said_twice():
    text = refusal_text(NotSavedError("busy", "NOT saved: the database is busy."))
    assert text == "NOT saved: the database is busy."
