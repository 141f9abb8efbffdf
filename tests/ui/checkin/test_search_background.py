"""The check-in's patient search on the database worker's thread, with a server that holds
the search: the field goes on taking keys ("Searching…" meanwhile), only the newest query's
answer is shown (an older one arriving late is dropped), and an unreachable or busy server
is said under the search, which keeps what was typed."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from monitor.service.worker import ThreadWorker
from monitor.storage.store import StoreUnavailableError
from tests.support.stall import WAIT_S, StalledService
from tests.ui.sessions import host
from ui.checkin.patient import SEARCHING
from ui.checkin.screen import CheckInScreen
from ui.common.background import Background
from ui.common.theme import DIM

WAIT_MS = int(WAIT_S * 1000)


@pytest.fixture
def patients(service, nurse):
    for mrn, name in (("MRN-004211", "Ada Byrne"), ("MRN-004212", "Adam Byers"),
                      ("MRN-007730", "Ben Okafor")):
        service.add_patient(mrn, by=nurse, name=name, date_of_birth=date(1980, 4, 2),
                            weight_kg=70)


@pytest.fixture
def card(qtbot, service, clock, patients):
    worker = ThreadWorker()
    gated = StalledService(service)
    screen = CheckInScreen(DIM, gated, clock, "2", background=Background(worker))
    window = host(qtbot, screen, 1280, 800)
    yield screen.patient_card, gated
    gated.release()
    qtbot.waitUntil(lambda: not screen.patient_card.searching, timeout=WAIT_MS)
    window.close()
    worker.close(WAIT_S)


def names(card) -> list[str]:
    return [card.results.item(row).text().split(" · ")[0]
            for row in range(card.results.count())]


def test_typing_goes_on_while_the_server_holds_the_search_and_only_the_newest_answer_shows(
        qtbot, card):
    card, gated = card
    shown: list[list[str]] = []
    real = card._show_found
    card._show_found = lambda needle, found: (shown.append([p.name for p in found]),
                                             real(needle, found))
    gated.stall("search_patients")
    qtbot.keyClicks(card.search, "Ada")
    assert gated.entered.wait(WAIT_S)
    assert card.no_results.text() == SEARCHING
    assert card.searching
    # The field takes every key while the first search is held: the GUI is not waiting.
    qtbot.keyClicks(card.search, "m")
    qtbot.keyClick(card.search, Qt.Key.Key_Backspace)
    qtbot.keyClicks(card.search, " B")
    assert card.search.text() == "Ada B"
    gated.release()
    qtbot.waitUntil(lambda: not card.searching, timeout=WAIT_MS)
    assert gated.calls["search_patients"] >= 2
    assert len(shown) == 1, "the answers to the older queries were dropped"
    assert names(card) == ["Ada Byrne"]
    assert card.no_results.isHidden()


def test_clearing_the_search_drops_the_answer_still_on_its_way(qtbot, card):
    card, gated = card
    gated.stall("search_patients")
    card.search.setText("Ben")
    assert gated.entered.wait(WAIT_S)
    card.search_clear.click()  # another control answers at once
    assert card.search.text() == ""
    assert not card.searching
    gated.release()
    qtbot.waitUntil(lambda: card._searches.background.in_flight == 0, timeout=WAIT_MS)
    assert card.results.count() == 0
    assert card.no_results.isHidden()
    card.search.setText("Ada Byr")
    qtbot.waitUntil(lambda: not card.searching, timeout=WAIT_MS)
    assert names(card) == ["Ada Byrne"], "the search for Ben never showed"


@pytest.mark.parametrize(("reason", "words"), [
    ("unreachable", "the database cannot be reached"),
    ("busy", "the database is busy (another device holds a lock, or the server is "
             "overloaded)"),
], ids=["unreachable", "busy"])
def test_a_search_the_server_cannot_answer_is_said_and_the_text_kept(
        qtbot, card, reason, words):
    card, gated = card
    gated.stall("search_patients")
    qtbot.keyClicks(card.search, "Byr")
    assert gated.entered.wait(WAIT_S)
    gated.release(fail=StoreUnavailableError(reason, f"Could not read: {words}."))
    qtbot.waitUntil(lambda: not card.searching, timeout=WAIT_MS)
    assert card.no_results.text() == f"Could not read: {words}."
    assert card.no_results.isVisible()
    assert card.search.text() == "Byr"
    assert card.results.count() == 0
