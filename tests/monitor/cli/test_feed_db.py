"""``feed listen/bind/unbind/devices/show`` (docs/cli.md): the receiver as a process, files
into the database and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.clock import SystemClock
from monitor.feed.mllp import send_messages
from monitor.service.auth import KEY_FILE_ENV
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store
from tests.conftest import TEST_PIN, TEST_SECRET
from tests.monitor.feed.test_filing import DEVICE, message

ROOT = Path(__file__).resolve().parents[3]
WAIT_S = 30.0


@pytest.fixture(autouse=True)
def _same_secret() -> None:
    Path(os.environ[KEY_FILE_ENV]).write_text(base64.b64encode(TEST_SECRET).decode())


def run(argv, clock, capsys, monkeypatch, stdin: str = ""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(argv, clock=clock)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_an_admin_binds_and_unbinds_and_devices_lists_the_binding(
        db_url, clock, capsys, monkeypatch):
    store = open_store(db_url)
    service = ClinicService(store, clock, secret=TEST_SECRET)
    service.ensure_staff("Ada Admin", "admin", pin=TEST_PIN)
    service.ensure_staff("Nora Nurse", "nurse", pin=TEST_PIN)
    store.close()
    pin = f"{TEST_PIN}\n"
    status, out, err = run(["feed", "bind", "--chair", "2", "--device", DEVICE,
                            "--as", "Ada Admin", "--db", db_url], clock, capsys, monkeypatch, pin)
    assert (status, out.strip()) == (0, f"bound {DEVICE} to chair 2"), err
    status, _, err = run(["feed", "bind", "--chair", "3", "--device", DEVICE,
                          "--as", "Nora Nurse", "--db", db_url], clock, capsys, monkeypatch, pin)
    assert status == 1
    assert "cannot bind a bedside monitor to a chair; an admin can" in err
    status, _, err = run(["feed", "bind", "--chair", "3", "--device", "XYZ",
                          "--as", "Ada Admin", "--db", db_url], clock, capsys, monkeypatch, pin)
    assert status == 2
    assert "--device" in err
    status, out, _ = run(["feed", "devices", "--json", "--db", db_url], clock, capsys,
                         monkeypatch)
    [device] = json.loads(out)["devices"]
    assert (device["device"], device["chair"], device["last_message_at"]) == (DEVICE, "2", None)
    clock.advance(timedelta(minutes=1))
    status, out, _ = run(["feed", "unbind", "--device", DEVICE, "--as", "Ada Admin",
                          "--db", db_url], clock, capsys, monkeypatch, pin)
    assert (status, out.strip()) == (0, f"unbound {DEVICE}")
    _, out, _ = run(["feed", "devices", "--json", "--db", db_url], clock, capsys, monkeypatch)
    assert json.loads(out)["devices"][0]["chair"] is None


def lines_of(stream, readers: list[threading.Thread]) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(x) for x in stream], daemon=True)
    reader.start()
    readers.append(reader)
    return lines


def test_listen_files_what_it_receives_and_stops_on_sigterm(db_url, capsys, monkeypatch):
    listen = subprocess.Popen(
        [sys.executable, "-m", "monitor", "feed", "listen", "--port", "0", "--db", db_url],
        cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    readers: list[threading.Thread] = []
    out, err = lines_of(listen.stdout, readers), lines_of(listen.stderr, readers)
    try:
        ready = out.get(timeout=WAIT_S)
        assert ready.startswith("listening on 127.0.0.1:"), ready
        port = int(ready.rsplit(":", 1)[1])
        now = SystemClock().now()

        async def send() -> list[bytes]:
            return [ack async for ack in send_messages(
                "127.0.0.1", port, [message(now, nibp=(131, 82), mrn="MRN-PRIVATE")],
                timeout=WAIT_S)]

        [ack] = asyncio.run(send())
        assert b"MSA|AA|1" in ack
        listen.send_signal(signal.SIGTERM)
        listen.wait(timeout=WAIT_S)
    finally:
        if listen.poll() is None:
            listen.kill()
            listen.wait()
        for reader in readers:
            reader.join(WAIT_S)
        listen.stdout.close()
        listen.stderr.close()
    log = "".join(err.queue)
    assert listen.returncode == 0, log
    assert "1 device readings" not in log  # unbound: nothing filed
    assert "5 unbound" in log
    assert "MRN-PRIVATE" not in log
    assert "131" not in log.replace(str(port), "")
    status, printed, _ = run(["feed", "show", "--json", "--device", DEVICE, "--db", db_url],
                             None, capsys, monkeypatch)
    assert status == 0
    observations = json.loads(printed)["observations"]
    assert {o["measure"] for o in observations} == {"hr", "spo2", "rr", "sbp", "dbp"}
    assert {o["status"] for o in observations} == {"unbound"}
    assert set(observations[0]) == {"device", "location", "chair", "measure", "value", "unit",
                                    "observed_at", "received_at", "message_id", "status",
                                    "reason"}
