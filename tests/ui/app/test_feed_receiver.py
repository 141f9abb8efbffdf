"""The bedside monitor's feed received inside the app: a message sent over MLLP to the
app's own receiver becomes a device reading on the chair's screen and tile."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from main import parse_args
from monitor.feed.background import BackgroundReceiver, ReceiverStartError
from monitor.feed.filing import FeedFiling
from monitor.feed.mllp import send_messages
from tests.monitor.feed.samples import UTC_ZONE
from tests.monitor.feed.test_filing import DEVICE, message
from tests.ui.app.test_live import ARRIVES_MS, _window, listening
from tests.ui.overview.test_screen import _session
from ui.session.device_readings import DeviceReadingsPanel

MRN = "MRN-004211"


def send(address: tuple[str, int], *raw: bytes) -> list[bytes]:
    async def run() -> list[bytes]:
        return [ack async for ack in send_messages(*address, raw, timeout=10)]
    return asyncio.run(run())


@pytest.fixture
def receiver(service):
    receiver = BackgroundReceiver(service, UTC_ZONE)
    receiver.start("127.0.0.1", 0)
    yield receiver
    receiver.stop()


def test_a_message_to_the_apps_receiver_shows_on_the_chair(qtbot, service, clock, nurse,
                                                            receiver):
    admin = service.ensure_staff("Ada Admin", "admin")
    FeedFiling(service).bind("1", device=DEVICE, by=admin)
    _session(service, nurse, "1", MRN, "Ada Byrne")
    clock.advance(timedelta(minutes=3))
    with listening(service) as changes:
        window = _window(qtbot, service, clock, nurse, changes)
        window.open_chair("1")
        panel = window.sessions["1"].findChild(DeviceReadingsPanel)
        assert panel is not None
        assert panel.rows == []

        assert receiver.address is not None
        [ack] = send(receiver.address, message(clock.now(), mrn=MRN, nibp=(142, 88), hr=80))
        assert b"MSA|AA|1" in ack

        qtbot.waitUntil(lambda: len(panel.rows) == 1, timeout=ARRIVES_MS)
        assert panel.rows[0].values.text() == "BP 142/88 · HR 80 · SpO2 97 % · RR 14"
        window.show_overview()
        qtbot.waitUntil(lambda: "Monitor receiving" in window.overview.tiles["1"].texts(),
                        timeout=ARRIVES_MS)
        window.close()


def test_the_receiver_stops_cleanly_and_files_what_it_acknowledged(service, clock, nurse):
    admin = service.ensure_staff("Ada Admin", "admin")
    filing = FeedFiling(service)
    filing.bind("1", device=DEVICE, by=admin)
    session_id = _session(service, nurse, "1", MRN, "Ada Byrne")
    clock.advance(timedelta(minutes=3))
    receiver = BackgroundReceiver(service, UTC_ZONE)
    address = receiver.start("127.0.0.1", 0)
    send(address, message(clock.now(), mrn=MRN, nibp=(130, 80)))
    receiver.stop()
    receiver.stop()  # twice is harmless (the window's exit and an error path)
    assert [p.values["sbp"] for p in filing.pending(session_id)] == [130]


def test_a_port_taken_is_refused_with_the_address(service, receiver):
    assert receiver.address is not None
    other = BackgroundReceiver(service, UTC_ZONE)
    with pytest.raises(ReceiverStartError, match=f"127.0.0.1:{receiver.address[1]}"):
        other.start("127.0.0.1", receiver.address[1])


def test_the_app_takes_a_feed_port_and_a_time_zone():
    args = parse_args(["--feed-port", "2575", "--feed-zone", "Europe/Paris"])
    assert (args.feed_port, args.feed_host, str(args.zone)) == (2575, "127.0.0.1",
                                                                "Europe/Paris")
    assert parse_args([]).feed_port is None
    with pytest.raises(SystemExit):
        parse_args(["--feed-port", "70000"])
    with pytest.raises(SystemExit):
        parse_args(["--feed-zone", "Mars/Olympus"])
