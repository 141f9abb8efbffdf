"""The MLLP server over a real loopback socket: many monitors, long connections, bad input.

No test sleeps: each waits on the server's events or on the socket, with a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from monitor.clock import ManualClock
from monitor.feed.hl7msg import ack_code
from monitor.feed.interpret import FeedHandler, Interpretation
from monitor.feed.mllp import (
    TLS_ALERT,
    Deframer,
    Frame,
    HandlerResult,
    MllpServer,
    ServerEvent,
    encode_frame,
    send_messages,
)

from .samples import UTC_ZONE, load, one
from .test_mllp import CLIENT_HELLO

TIMEOUT = 10.0


class Harness:
    """A server on an ephemeral loopback port and the events it reports."""

    def __init__(self, **server_options: Any) -> None:
        self.handler = FeedHandler(ManualClock(), UTC_ZONE)
        self.events: list[ServerEvent] = []
        self._changed = asyncio.Event()
        self.server = MllpServer(
            server_options.pop("handler", self.handler), self.handler.reject,
            listener=self._listen, **server_options,
        )
        self.port = 0

    def _listen(self, event: ServerEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def kinds(self) -> list[str]:
        return [e.kind for e in self.events]

    async def wait_for(self, kind: str, count: int = 1) -> None:
        async def reached() -> None:
            while self.kinds().count(kind) < count:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(reached(), TIMEOUT)

    async def connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)


def run(test: Callable[[Harness], Awaitable[None]], **options: Any) -> Harness:
    async def main() -> Harness:
        harness = Harness(**options)
        _, harness.port = await harness.server.start()
        try:
            await asyncio.wait_for(test(harness), TIMEOUT)
        finally:
            await harness.server.close()
        return harness

    return asyncio.run(main())


async def read_acks(reader: asyncio.StreamReader, count: int) -> list[bytes]:
    deframer, acks = Deframer(), []
    while len(acks) < count:
        data = await asyncio.wait_for(reader.read(65536), TIMEOUT)
        assert data, "the server closed the connection"
        acks += [e.payload for e in deframer.feed(data) if isinstance(e, Frame)]
    return acks


def msa(ack: bytes) -> list[str]:
    line = next(s for s in ack.split(b"\r") if s.startswith(b"MSA"))
    return line.decode().split("|")


def test_each_message_is_acknowledged_on_the_same_connection_with_its_id():
    async def body(h: Harness) -> None:
        acks = [a async for a in send_messages("127.0.0.1", h.port, load("ignored"))]
        assert [msa(a)[1:3] for a in acks] == [
            ["AA", "AL1"], ["AA", "WV1"], ["AA", "ADT1"], ["AA", "Q1"], ["AA", "Q2"]
        ]

    h = run(body)
    assert h.kinds().count("connected") == 1


def test_a_frame_split_over_many_writes_is_acknowledged_once():
    async def body(h: Harness) -> None:
        reader, writer = await h.connect()
        frame = encode_frame(one("ge_carescape"))
        for start in range(0, len(frame), 7):
            writer.write(frame[start:start + 7])
            await writer.drain()
        (ack,) = await read_acks(reader, 1)
        assert msa(ack)[1:3] == ["AA", "004097134535"]
        writer.close()

    run(body)


def test_several_frames_in_one_write_get_their_acks_in_order():
    async def body(h: Harness) -> None:
        reader, writer = await h.connect()
        messages = load("repeated_nibp") + load("ignored")
        writer.write(b"".join(encode_frame(m) for m in messages))
        acks = await read_acks(reader, len(messages))
        assert [msa(a)[2] for a in acks] == ["P1", "P2", "AL1", "WV1", "ADT1", "Q1", "Q2"]
        writer.close()

    run(body)


def test_a_one_megabyte_waveform_message_is_acknowledged_and_ignored():
    samples = "^".join(str(n % 1000) for n in range(270_000))
    waveform = (
        b"MSH|^~\\&|VSP^080019FFFE134535^EUI-64|GE|||20260302091000+0000||ORU^R01|WAVE|P|2.6\r"
        b"OBR|1|||182777000^monitoring of patient^SCT|||20260302091000+0000\r"
        b"OBX|1|NA|131329^MDC_ECG_ELEC_POTL_I^MDC|1.5.1.1|" + samples.encode() + b"||||||R\r"
    )
    assert len(waveform) > 1_000_000

    async def body(h: Harness) -> None:
        (ack,) = [a async for a in send_messages("127.0.0.1", h.port, [waveform])]
        assert msa(ack)[1:3] == ["AA", "WAVE"]

    h = run(body)
    outcome = h.events[[e.kind for e in h.events].index("message")].outcome
    assert isinstance(outcome, Interpretation)
    assert "waveform" in outcome.reason


def test_an_oversized_frame_gets_ae_and_the_connection_stays_usable():
    async def body(h: Harness) -> None:
        big = one("ge_carescape") + b"X" * 5000
        acks = [a async for a in send_messages("127.0.0.1", h.port, [big, one("nist_pcd01")])]
        assert msa(acks[0])[1:3] == ["AE", "004097134535"]
        assert "over the limit" in msa(acks[0])[3]
        assert msa(acks[1])[1:3] == ["AA", "MSGID1234"]

    h = run(body, max_frame_bytes=4000)
    assert "oversized" in h.kinds()


def test_non_ascii_messages_are_read_by_their_declared_charset():
    async def body(h: Harness) -> None:
        acks = [a async for a in send_messages(
            "127.0.0.1", h.port, [one("comen_latin1"), one("mindray_cuff")])]
        assert [msa(a)[1] for a in acks] == ["AA", "AA"]

    h = run(body)
    outcomes = [e.outcome for e in h.events if e.kind == "message"]
    assert [o.mrn for o in outcomes] == ["C-55", "M-7731"]
    assert all(o.observations for o in outcomes)


def test_a_client_that_disconnects_mid_frame_does_not_disturb_the_others():
    async def body(h: Harness) -> None:
        _reader, writer = await h.connect()
        writer.write(encode_frame(one("nist_pcd01"))[:50])
        await writer.drain()
        writer.close()
        await h.wait_for("disconnected")
        (ack,) = [a async for a in send_messages("127.0.0.1", h.port, [one("nist_pcd01")])]
        assert msa(ack)[1] == "AA"

    h = run(body)
    assert any(e.kind == "discarded" and "inside a frame" in e.detail for e in h.events)


def test_a_tls_hello_is_answered_with_an_alert_and_the_connection_is_not_dropped():
    async def body(h: Harness) -> None:
        reader, writer = await h.connect()
        writer.write(CLIENT_HELLO)
        await writer.drain()
        alert = await asyncio.wait_for(reader.readexactly(len(TLS_ALERT)), TIMEOUT)
        assert alert == TLS_ALERT
        writer.write(encode_frame(one("nist_pcd01")))
        (ack,) = await read_acks(reader, 1)
        assert msa(ack)[1] == "AA"
        writer.close()

    h = run(body)
    assert "tls" in h.kinds()


def test_garbage_gets_ae_and_the_same_connection_goes_on():
    async def body(h: Harness) -> None:
        reader, writer = await h.connect()
        writer.write(b"GET / HTTP/1.1\r\n\r\n" + encode_frame(b"\xff\xfe garbage")
                     + encode_frame(one("nist_pcd01")))
        acks = await read_acks(reader, 2)
        assert [msa(a)[1] for a in acks] == ["AE", "AA"]
        writer.close()

    h = run(body)
    assert "discarded" in h.kinds()


def test_message_ids_restarting_after_a_reconnect_are_acknowledged_again():
    async def body(h: Harness) -> None:
        for _ in range(2):
            acks = [a async for a in send_messages("127.0.0.1", h.port, load("repeated_nibp"))]
            assert [msa(a)[2] for a in acks] == ["P1", "P2"]
            await h.wait_for("disconnected", count=_ + 1)

    h = run(body)
    assert h.kinds().count("message") == 4


def test_four_monitors_at_once_each_get_their_own_acks():
    async def monitor(h: Harness, n: int) -> list[str]:
        messages = [m.replace(b"|P1|", f"|M{n}-{i}|".encode()) for i in range(5)
                    for m in load("repeated_nibp")[:1]]
        return [msa(a)[2] async for a in send_messages("127.0.0.1", h.port, messages)]

    async def body(h: Harness) -> None:
        results = await asyncio.gather(*(monitor(h, n) for n in range(4)))
        assert results == [[f"M{n}-{i}" for i in range(5)] for n in range(4)]

    run(body)


def test_a_failing_handler_gets_ae_and_the_connection_stays_open():
    calls = []

    def flaky(payload: bytes, peer: str) -> HandlerResult:
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("filing failed")
        return HandlerResult(b"MSH|^~\\&|X\rMSA|AA|2\r")

    async def body(h: Harness) -> None:
        acks = [a async for a in send_messages(
            "127.0.0.1", h.port, [one("nist_pcd01"), one("nist_pcd01")])]
        assert [ack_code(a) for a in acks] == ["AE", "AA"]
        assert msa(acks[0])[2] == "MSGID1234"

    h = run(body, handler=flaky)
    assert "handler-error" in h.kinds()


def test_close_ends_idle_connections_cleanly():
    async def body(h: Harness) -> None:
        reader, writer = await h.connect()
        await h.wait_for("connected")
        await h.server.close()
        assert await asyncio.wait_for(reader.read(), TIMEOUT) == b""
        writer.close()

    h = run(body)
    assert any(e.kind == "disconnected" and "closing" in e.detail for e in h.events)
