"""The sample messages under messages/, written after vendors' published formats."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from monitor.feed.hl7msg import split_messages

MESSAGES = Path(__file__).resolve().parent / "messages"
#: The receive time the samples are written around (their MSH-7 is about then).
RECEIVED = datetime(2026, 3, 2, 9, 10, 30, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")


def load(name: str) -> list[bytes]:
    """The messages of ``messages/<name>.hl7``, segments ended by ``\\r`` as on the wire."""
    data = (MESSAGES / f"{name}.hl7").read_bytes()
    return [m.replace(b"\r\n", b"\r").replace(b"\n", b"\r") for m in split_messages(data)]


def one(name: str) -> bytes:
    (message,) = load(name)
    return message
