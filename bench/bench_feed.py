"""Benchmark of the bedside-monitor feed: ACK latency over loopback, messages parsed per second.

    python bench/bench_feed.py [--monitors 4] [--messages 300] [--parse-rounds 2000]

a. ACK latency: ``--monitors`` simulated monitors, each on its own connection, send their
   periodic ORU^R01 (a real monitor sends one a second; here each sends the next as soon as
   its ACK is back, ``--messages`` each) to :class:`monitor.feed.mllp.MllpServer` on
   127.0.0.1, answering as the receiver does (:meth:`FeedHandler.acknowledge`: parse,
   classify, ACK; each observation is mapped after the ACK). "receiver + filing" is the
   whole receiver (:class:`monitor.feed.receiver.FilingReceiver`) filing every message into
   a fresh SQLite database on its thread while it acknowledges, as ``feed listen`` runs.
   Baselines, in the same run: the same clients and frames against a bare asyncio server
   that echoes each frame back (framing and sockets only, no HL7 work); the handler mapping
   every observation before it answers (as the receiver did before); and one monitor alone,
   which shows the latency without queueing behind the others. "filing, 10/s": the whole
   receiver with each monitor paced at 10 messages a second (ten times a real monitor's
   pace), where the filing keeps up. p50/p95 of the time from write to ACK.
b. Messages interpreted per second (decode, parse, classify, map every OBX): the simulated
   periodic message and the vendor samples of the test suite, in one process.

Target: ACK p95 at most 20 ms at 4 monitors on the ACK path (a monitor's ACK timeout is
seconds); the figures go to stdout and bench/out/bench_feed.json. Traffic stays on
loopback and is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

# Run from a checkout (python bench/bench_feed.py) without installing the package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.clock import SystemClock
from monitor.feed.filing import FeedFiling
from monitor.feed.hl7msg import split_messages
from monitor.feed.interpret import FeedHandler, interpret
from monitor.feed.mllp import Deframer, Frame, MllpServer, ServerEvent, encode_frame
from monitor.feed.receiver import FilingReceiver
from monitor.feed.simulate import SimulatedMonitor
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
SAMPLES = ROOT / "tests" / "monitor" / "feed" / "messages"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
P95_TARGET_MS = 20.0
#: The paced run: each monitor sends this many messages a second (a real one sends one),
#: this many in all, so that the filing keeps up as it does in a clinic.
PACED_RATE = 10.0
PACED_MESSAGES = 100


def _quiet(_event: ServerEvent) -> None:
    """The bench measures the server, not its logging."""


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    deframer = Deframer()
    while data := await reader.read(65536):
        for event in deframer.feed(data):
            if isinstance(event, Frame):
                writer.write(encode_frame(event.payload))
                await writer.drain()
    writer.close()


async def _monitor(port: int, messages: list[bytes], every: float = 0.0) -> list[float]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deframer, latencies = Deframer(), []
    for message in messages:
        if every and latencies:
            await asyncio.sleep(max(0.0, every - latencies[-1]))
        started = time.perf_counter()
        writer.write(encode_frame(message))
        await writer.drain()
        got = False
        while not got:
            data = await asyncio.wait_for(reader.read(65536), 10)
            if not data:
                raise ConnectionError("server closed the connection")
            got = any(isinstance(e, Frame) for e in deframer.feed(data))
        latencies.append(time.perf_counter() - started)
    writer.close()
    await writer.wait_closed()
    return latencies


async def _run_clients(port: int, streams: list[list[bytes]],
                       every: float = 0.0) -> tuple[list[float], float]:
    started = time.perf_counter()
    results = await asyncio.gather(*(_monitor(port, stream, every) for stream in streams))
    return [x for r in results for x in r], time.perf_counter() - started


async def ack_latency(monitors: int, count: int) -> dict[str, dict[str, float]]:
    streams = [
        [m for _, m in SimulatedMonitor(chair=f"CHAIR{n}", device=f"0012A3FFFE4B5C{n:02X}",
                                        seed=n).schedule(START, count)]
        for n in range(monitors)
    ]
    echo = await asyncio.start_server(_echo, "127.0.0.1", 0)
    echo_port = echo.sockets[0].getsockname()[1]
    handler = FeedHandler(SystemClock(), ZoneInfo("UTC"))
    server = MllpServer(handler.acknowledge, handler.reject, listener=_quiet)
    _, port = await server.start()
    before = MllpServer(handler, handler.reject, listener=_quiet)
    _, before_port = await before.start()
    folder = tempfile.TemporaryDirectory(prefix="bench-feed-")
    store = open_store(f"sqlite:///{Path(folder.name) / 'feed.sqlite3'}")
    service = ClinicService(store, SystemClock(), secret=secrets.token_bytes(32))
    receiver = FilingReceiver(FeedHandler(SystemClock(), ZoneInfo("UTC")), FeedFiling(service))
    filing = MllpServer(receiver, receiver.reject, listener=_quiet)
    _, filing_port = await filing.start()
    figures: dict[str, dict[str, float]] = {}
    try:
        await _run_clients(port, [s[:20] for s in streams])  # warm-up
        paced = [stream[:PACED_MESSAGES] for stream in streams]
        runs = (("echo baseline", echo_port, streams, 0.0),
                ("map, then ACK", before_port, streams, 0.0),
                ("ACK path", port, streams, 0.0),
                ("receiver+filing", filing_port, streams, 0.0),
                ("ACK path, 1 mon", port, streams[:1], 0.0),
                ("filing, 10/s", filing_port, paced, 1 / PACED_RATE))
        for name, target, clients, every in runs:
            latencies, elapsed = await _run_clients(target, clients, every)
            ms = sorted(x * 1000 for x in latencies)
            figures[name] = {
                "messages": len(ms),
                "p50_ms": round(statistics.median(ms), 3),
                "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 3),
                "max_ms": round(ms[-1], 3),
                "messages_per_s": round(len(ms) / elapsed, 1),
            }
    finally:
        for each in (server, before, filing):
            await each.close()
        receiver.close()
        store.close()
        folder.cleanup()
        echo.close()
        await echo.wait_closed()
    return figures


def parse_rate(rounds: int) -> dict[str, float]:
    periodic = SimulatedMonitor().message(START)
    vendor = [
        m.replace(b"\r\n", b"\r").replace(b"\n", b"\r")
        for path in sorted(SAMPLES.glob("*.hl7")) for m in split_messages(path.read_bytes())
    ]
    zone = ZoneInfo("UTC")
    figures = {}
    for name, messages in (("simulated periodic ORU^R01", [periodic]), ("vendor samples", vendor)):
        started = time.perf_counter()
        for _ in range(rounds):
            for message in messages:
                interpret(message, received_at=START, zone=zone)
        elapsed = time.perf_counter() - started
        figures[name] = round(rounds * len(messages) / elapsed, 1)
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--monitors", type=int, default=4)
    parser.add_argument("--messages", type=int, default=300, help="messages per monitor")
    parser.add_argument("--parse-rounds", type=int, default=2000)
    args = parser.parse_args(argv)
    latency = asyncio.run(ack_latency(args.monitors, args.messages))
    rates = parse_rate(args.parse_rounds)
    print(f"ACK latency, {args.monitors} monitors x {args.messages} messages, loopback:")
    for name, row in latency.items():
        print(f"  {name:15s} p50 {row['p50_ms']:7.3f} ms  p95 {row['p95_ms']:7.3f} ms  "
              f"max {row['max_ms']:7.3f} ms  {row['messages_per_s']:8.1f} msg/s")
    print("Messages interpreted per second (one core):")
    for name, rate in rates.items():
        print(f"  {name:28s} {rate:10.1f} /s")
    p95 = latency["ACK path"]["p95_ms"]
    verdict = "met" if p95 <= P95_TARGET_MS else "MISSED"
    before = max(latency["map, then ACK"]["p95_ms"], 1e-9)
    print(f"p95 / map-then-ACK p95 (same run): ACK path {p95 / before:.2f}, receiver+filing "
          f"{latency['receiver+filing']['p95_ms'] / before:.2f}")
    print(f"Target ACK p95 <= {P95_TARGET_MS:g} ms (ACK path): {verdict} ({p95} ms)")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "bench_feed.json").write_text(json.dumps(
        {"ack_latency": latency, "interpreted_per_s": rates, "args": vars(args)}, indent=2))
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    sys.exit(main())
