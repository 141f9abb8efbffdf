"""After the link dropped around COMMIT, the server's answer decides the words: Saved, NOT
saved (and only then "no record"), or not known while the server cannot be asked."""

import uuid

from monitor.service.outcome import NOT_STORED, UNKNOWN, Verdict, settle
from monitor.storage.store import StoreUnavailableError


def test_an_entry_the_server_has_is_saved():
    asked = []

    def stored(kind, record_id):
        asked.append((kind, record_id))
        return True

    rid = uuid.uuid4()
    settled = settle(stored, "reading", rid)
    assert settled.verdict is Verdict.SAVED
    assert settled.message == ""
    assert asked == [("reading", rid)]


def test_an_entry_the_server_does_not_have_is_not_saved():
    settled = settle(lambda kind, record_id: False, "event", uuid.uuid4())
    assert settled.verdict is Verdict.NOT_SAVED
    assert settled.message == NOT_STORED
    assert settled.message.startswith("NOT saved")


def test_while_the_server_cannot_be_asked_it_is_not_known_and_nothing_is_claimed():
    def stored(kind, record_id):
        raise StoreUnavailableError("unreachable", "Could not read: unreachable.")

    settled = settle(stored, "acknowledgement", uuid.uuid4())
    assert settled.verdict is Verdict.UNKNOWN
    assert settled.message == UNKNOWN
    assert "Not known whether saved" in settled.message
    assert "Nothing was recorded" not in settled.message
