"""``python -m monitor feed send|parse``."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from monitor.cli.main import main
from monitor.clock import ManualClock
from monitor.feed.hl7msg import parse
from monitor.feed.interpret import FeedHandler, Interpretation
from monitor.feed.mllp import MllpServer, ServerEvent
from monitor.feed.simulate import SimulatedMonitor
from tests.monitor.feed.samples import MESSAGES, UTC_ZONE


class ServerThread:
    """An MLLP server on a loopback port, run by its own event loop in a thread."""

    def __init__(self) -> None:
        self.events: list[ServerEvent] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        handler = FeedHandler(ManualClock(), UTC_ZONE)
        self.server = MllpServer(handler, handler.reject, listener=self.events.append)
        _, self.port = self._loop.run_until_complete(self.server.start())
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.close())
        self._loop.close()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def server() -> Iterator[ServerThread]:
    with ServerThread() as running:
        yield running


def test_send_prints_each_ack_code(server, capsys):
    status = main(["feed", "send", str(MESSAGES / "ignored.hl7"), "--to",
                   f"127.0.0.1:{server.port}"])
    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert [line.split("\t")[1] for line in lines] == ["AA"] * 5
    assert lines[0].split("\t")[2].startswith("MSA|AA|AL1|")


def test_send_exits_1_when_a_message_is_refused(server, capsys, tmp_path):
    bad = tmp_path / "bad.hl7"
    bad.write_bytes(b"MSH|^~\\&|A|B|||2026||\rPID|1\r")
    assert main(["feed", "send", str(bad), "--to", f"127.0.0.1:{server.port}"]) == 1
    assert capsys.readouterr().out.split("\t")[1] == "AE"


def test_send_demo_runs_a_simulated_monitor(server, capsys):
    status = main(["feed", "send", "--demo", "--to", f"127.0.0.1:{server.port}",
                   "--speed", "0", "--count", "6", "--chair", "CHAIR7"])
    assert status == 0
    assert len(capsys.readouterr().out.splitlines()) == 6
    outcomes = [e.outcome for e in server.events if e.kind == "message"]
    assert all(isinstance(o, Interpretation) and o.location == "INFUSION^^CHAIR7"
               for o in outcomes)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "nowhere"], "--to: 'nowhere' must be HOST:PORT"),
        (["--to", "127.0.0.1:0"], "port 1-65535"),
        (["--to", "127.0.0.1:9"], "give either FILE or --demo"),
    ],
)
def test_send_refuses_bad_arguments(argv, message, capsys):
    assert main(["feed", "send", *argv]) == 2
    assert message in capsys.readouterr().err


def test_send_to_a_closed_port_says_so(capsys):
    with ServerThread() as closed:
        port = closed.port
    status = main(["feed", "send", str(MESSAGES / "nist_pcd01.hl7"), "--to", f"127.0.0.1:{port}"])
    assert status == 1
    assert f"127.0.0.1:{port}" in capsys.readouterr().err


def test_parse_json_lists_every_observation_with_its_status(capsys):
    status = main(["feed", "parse", str(MESSAGES / "not_real.hl7"), "--json",
                   "--received-at", "2026-03-02T09:10:30+00:00"])
    (message,) = json.loads(capsys.readouterr().out)
    assert status == 0
    assert (message["message_id"], message["kind"], message["ack"]) == (
        "NR1", "observations", "AA")
    statuses = [o["status"] for o in message["observations"]]
    assert statuses.count("rejected") == 16
    assert statuses.count("filed-candidate") == 2
    first = message["observations"][0]
    assert first["reason"] == "the device could not obtain the value (OBX-11 X)"
    candidate = message["observations"][-1]
    assert candidate["value"] == "95"
    assert candidate["observed_at"] == "2026-03-02T09:10:00+00:00"
    assert message["skew_seconds"] == 30


def test_parse_json_shows_ignored_messages_and_their_reason(capsys):
    main(["feed", "parse", str(MESSAGES / "ignored.hl7"), "--json"])
    messages = json.loads(capsys.readouterr().out)
    assert [m["kind"] for m in messages] == ["ignored"] * 5
    assert messages[0]["reason"].startswith("alarm report")


def test_parse_text_reads_naive_times_in_the_given_zone(capsys):
    assert main(["feed", "parse", str(MESSAGES / "mindray_cuff.hl7"), "--zone",
                 "Europe/Paris"]) == 0
    out = capsys.readouterr().out
    assert "filed-candidate sbp 142 mmHg at 2026-03-02 08:05:12 UTC (MDC:150301)" in out
    assert "no UTC offset: read in Europe/Paris" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--zone", "Mars/Olympus"], "--zone: 'Mars/Olympus' is not a time zone"),
        (["--received-at", "yesterday"], "--received-at: --received-at must be an ISO 8601"),
    ],
)
def test_parse_refuses_bad_options(argv, message, capsys):
    assert main(["feed", "parse", str(MESSAGES / "nist_pcd01.hl7"), *argv]) == 2
    assert message in capsys.readouterr().err


def test_parse_refuses_a_file_without_messages(tmp_path, capsys):
    empty = tmp_path / "empty.hl7"
    empty.write_text("nothing here\n")
    assert main(["feed", "parse", str(empty)]) == 2
    assert "no message found" in capsys.readouterr().err


def test_simulated_monitor_takes_nibp_every_five_minutes_and_repeats_it():
    monitor = SimulatedMonitor(chair="CHAIR2", device="0012A3FFFE4B5C6D", seed=3)
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    nibp_times = []
    for _, message in monitor.schedule(start, 11):
        parsed = parse(message)
        obx = {str(s[3][0][0]): str(s[14]) for s in parsed.segments("OBX")}
        nibp_times.append(obx["150021"])
    assert sorted(set(nibp_times)) == [
        "20260302090000+0000", "20260302090500+0000", "20260302091000+0000"]
    assert nibp_times.count("20260302090000+0000") == 5  # repeated with its own time
