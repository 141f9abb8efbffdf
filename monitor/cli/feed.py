"""``python -m monitor feed …``: the bedside-monitor feed commands that need no database
(those that do, ``listen``, ``bind``, ``unbind``, ``devices`` and ``show``, are
:mod:`monitor.cli.feed_db`).

* ``feed send FILE --to HOST:PORT`` sends the messages of a file (one per MSH, any line
  endings) over MLLP and prints each acknowledgement's code.
* ``feed send --demo --to HOST:PORT [--chair C] [--device EUI64] [--speed N] [--count N]``
  runs a simulated monitor for one chair (NIBP every 5 demo minutes).
* ``feed parse FILE [--json] [--zone ZONE] [--received-at TIME]`` prints what each message
  yields: every observation as a filing candidate, rejected or ignored, with the reason.

Exit status: 0 every message was acknowledged AA (send) or parsed (parse); 1 some message
was refused (AE/AR) or the receiver could not be reached; 2 the input was refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.cli import feed_db as cli_db
from monitor.clinical.validation import ValidationError, parse_time
from monitor.clock import Clock, SystemClock
from monitor.feed import hl7msg, mllp
from monitor.feed.interpret import Interpretation, interpret
from monitor.feed.mapping import Observation, Outcome, Rejected, dedup_key
from monitor.feed.simulate import DEFAULT_DEVICE, PERIOD, SimulatedMonitor

COMMAND = "feed"
EXIT_OK, EXIT_NO, EXIT_INVALID = 0, 1, 2


def add_command(commands: Any,
                db_option: Callable[[argparse.ArgumentParser], None] | None = None) -> None:
    """Add ``feed`` and its subcommands to the top-level parser's subparsers.

    With ``db_option`` the commands that use the database are added too
    (:mod:`monitor.cli.feed_db`).
    """
    feed = commands.add_parser(
        COMMAND,
        help="bedside monitor feed (HL7 v2 over MLLP): receive and file, bind, send, parse",
    )
    sub = feed.add_subparsers(dest="feed_command", required=True, metavar="SUBCOMMAND")
    send = sub.add_parser("send", help="send HL7 messages over MLLP and print each ACK code")
    send.add_argument("file", metavar="FILE", type=Path, nargs="?")
    send.add_argument("--to", required=True, metavar="HOST:PORT", help="the MLLP listener")
    send.add_argument("--demo", action="store_true",
                      help="send as a simulated monitor instead of from a file")
    send.add_argument("--chair", default="CHAIR1", help="demo: the chair (PV1-3 bed)")
    send.add_argument("--device", default=DEFAULT_DEVICE, help="demo: the monitor's EUI-64")
    send.add_argument("--speed", type=float, default=60.0,
                      help="demo: demo minutes per real minute (0: as fast as ACKs return)")
    send.add_argument("--count", type=int, default=60, help="demo: messages to send")
    send.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for an ACK")
    parse = sub.add_parser("parse", help="print the observations each message in a file yields")
    parse.add_argument("file", metavar="FILE", type=Path)
    parse.add_argument("--json", action="store_true", help="print JSON")
    parse.add_argument("--zone", default="UTC",
                       help="the clinic's time zone, for times sent without an offset "
                            "(an IANA name such as Europe/Paris; default UTC)")
    parse.add_argument("--received-at", metavar="TIME",
                       help="when the messages were received, ISO 8601 with offset "
                            "(default: now); device clock skew is measured against it")
    if db_option is not None:
        cli_db.add_commands(sub, db_option)


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    if args.feed_command in cli_db.COMMANDS:
        return cli_db.run(args, clock)
    if args.feed_command == "send":
        return _send(args)
    return _parse(args)


def _address(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    if not host or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.strip("[]"), int(port)


def _read_messages(path: Path) -> list[bytes] | str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"{path}: cannot read the file ({exc.strerror})"
    messages = hl7msg.split_messages(data)
    if not messages:
        return f"{path}: no message found (each message starts with a line 'MSH|')"
    return messages


def _send(args: argparse.Namespace) -> int:
    address = _address(args.to)
    if address is None:
        print(f"error: --to: {args.to!r} must be HOST:PORT with a port 1-65535", file=sys.stderr)
        return EXIT_INVALID
    if args.demo == (args.file is not None):
        print("error: give either FILE or --demo", file=sys.stderr)
        return EXIT_INVALID
    if args.demo:
        if args.speed < 0 or args.count < 1:
            print("error: --speed must be 0 or more and --count at least 1", file=sys.stderr)
            return EXIT_INVALID
        monitor = SimulatedMonitor(chair=args.chair, device=args.device)
        start = SystemClock().now()
        messages: Iterable[bytes] = (m for _, m in monitor.schedule(start, args.count))
        pause = PERIOD.total_seconds() * 60 / args.speed if args.speed else 0.0
    else:
        loaded = _read_messages(args.file)
        if isinstance(loaded, str):
            print(f"error: {loaded}", file=sys.stderr)
            return EXIT_INVALID
        messages, pause = loaded, 0.0
    try:
        refused = asyncio.run(_send_all(address, messages, args.timeout, pause))
    except (OSError, mllp.AckTimeoutError) as exc:
        print(f"error: {args.to}: {exc}", file=sys.stderr)
        return EXIT_NO
    return EXIT_NO if refused else EXIT_OK


async def _send_all(
    address: tuple[str, int], messages: Iterable[bytes], timeout: float, pause: float
) -> int:
    refused = 0
    index = 0
    async for ack in mllp.send_messages(*address, messages, timeout=timeout):
        index += 1
        code = hl7msg.ack_code(ack) or "?"
        refused += code != "AA"
        text = ack.decode("utf-8", errors="replace").split("\r")
        msa = next((line for line in text if line.startswith("MSA")), "")
        print(f"{index}\t{code}\t{msa}", flush=True)
        if pause:
            await asyncio.sleep(pause)
    return refused


def _parse(args: argparse.Namespace) -> int:
    try:
        zone = ZoneInfo(args.zone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"error: --zone: {args.zone!r} is not a time zone name such as Europe/Paris",
              file=sys.stderr)
        return EXIT_INVALID
    loaded = _read_messages(args.file)
    if isinstance(loaded, str):
        print(f"error: {loaded}", file=sys.stderr)
        return EXIT_INVALID
    received_at = datetime.now(UTC)
    if args.received_at is not None:
        try:
            received_at = parse_time(args.received_at, field="--received-at",
                                     label="--received-at")
        except ValidationError as exc:
            print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
            return EXIT_INVALID
    results = [interpret(m, received_at=received_at, zone=zone) for m in loaded]
    if args.json:
        json.dump([message_json(r) for r in results], sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        for result in results:
            _print_text(result)
    return EXIT_OK


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """One OBX outcome as the documented JSON object."""
    data: dict[str, Any] = {"status": outcome.status, "code": outcome.code,
                            "refid": outcome.refid, "set_id": outcome.set_id}
    if isinstance(outcome, Observation):
        data.update(
            measure=outcome.measure, value=str(outcome.value), unit=outcome.unit,
            observed_at=outcome.observed_at.isoformat(),
            received_at=outcome.received_at.isoformat(), device_id=outcome.device_id,
            location=outcome.location, mrn=outcome.mrn, raw_value=outcome.raw_value,
            raw_unit=outcome.raw_unit, notes=list(outcome.notes), dedup_key=dedup_key(outcome),
        )
    elif isinstance(outcome, Rejected):
        data.update(measure=outcome.measure, raw_value=outcome.raw_value,
                    raw_unit=outcome.raw_unit, reason=outcome.reason, notes=list(outcome.notes))
    else:
        data["reason"] = outcome.reason
    return data


def message_json(result: Interpretation) -> dict[str, Any]:
    """One message's interpretation as the documented JSON object."""
    return {
        "message_id": result.message_id,
        "message_type": result.message_type,
        "kind": result.kind,
        "ack": result.ack_code,
        "reason": result.reason,
        "charset": result.charset,
        "device_id": result.device_id,
        "location": result.location,
        "mrn": result.mrn,
        "skew_seconds": result.skew.total_seconds() if result.skew is not None else None,
        "notes": list(result.notes),
        "structure_rows": result.structure_rows,
        "observations": [outcome_json(o) for o in result.outcomes],
    }


def _print_text(result: Interpretation) -> None:
    head = f"{result.message_id or '?'} {result.message_type or '?'}: {result.kind}"
    print(f"{head} ({result.ack_code})" + (f" - {result.reason}" if result.reason else ""))
    for note in result.notes:
        print(f"  note: {note}")
    for outcome in result.outcomes:
        if isinstance(outcome, Observation):
            print(f"  filed-candidate {outcome.measure} {outcome.value} {outcome.unit} "
                  f"at {outcome.observed_at:%Y-%m-%d %H:%M:%S} UTC ({outcome.code})")
            for note in outcome.notes:
                print(f"    note: {note}")
        else:
            print(f"  {outcome.status} {outcome.code}: {outcome.reason}")
