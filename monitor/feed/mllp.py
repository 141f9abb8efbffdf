"""MLLP, the framing bedside monitors use to send HL7 v2 over TCP.

A message travels as ``0x0B <message> 0x1C 0x0D``. The monitor is the TCP client: it opens
one connection and keeps it for hours, sends a message, and waits for the acknowledgement on
the same connection. GE documents that a negative acknowledgement (AR) or no acknowledgement
makes the monitor drop the connection, and what it measures while disconnected is lost; so
this layer never closes a connection because of what arrived on it, and answers every frame.

The framing is ours rather than a library's: python-hl7's MLLP reader decodes as ASCII and
refuses frames over 64 KB (a waveform message is larger), and hl7apy's server closes the
connection after one message. Here:

* :class:`Deframer` turns bytes as they arrive into complete frames, whatever the read
  boundaries: a frame split over many reads, several frames in one read, garbage between
  frames (reported, then skipped), a frame larger than :data:`MAX_FRAME_BYTES` (rejected
  with its size, the connection kept), a TLS ClientHello sent to the plain port
  (recognised, answered with a TLS alert, skipped record by record).
* :class:`MllpServer` serves any number of monitors at once with asyncio, one task per
  connection, and hands each frame to a handler that returns the acknowledgement to send.
* :func:`send_messages` is a small client: it sends messages one by one and collects the
  acknowledgements (the ``feed send`` command and the tests use it).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

START_BLOCK = b"\x0b"
END_BLOCK = b"\x1c\x0d"

#: The largest frame accepted. A 30-second 12-lead waveform message is about 1 MB; periodic
#: numerics are a few KB. A larger frame is answered AE and skipped, never buffered whole.
MAX_FRAME_BYTES = 4 * 1024 * 1024

#: How much of an oversized frame is kept, so that its MSH-10 can be echoed in the reject.
OVERSIZE_HEAD_BYTES = 4096

#: A TLS record starts with its content type (22 = handshake) and a 0x03 major version.
_TLS_HANDSHAKE = 0x16
_TLS_MAJOR = 0x03
_TLS_HEADER_BYTES = 5
#: Fatal ``handshake_failure`` alert: the client learns at once that this port is not TLS.
TLS_ALERT = b"\x15\x03\x01\x00\x02\x02\x28"

#: Bytes that commonly pad between frames (a newline after the end block) and say nothing.
_PADDING = frozenset(b"\r\n \t\x00")


def encode_frame(message: bytes) -> bytes:
    """``message`` wrapped in MLLP start and end blocks."""
    return START_BLOCK + message + END_BLOCK


@dataclass(frozen=True, slots=True)
class Frame:
    """One complete message, without its start and end blocks."""

    payload: bytes


@dataclass(frozen=True, slots=True)
class Oversized:
    """A frame longer than the limit; ``head`` is its beginning (for the MSH segment)."""

    size: int
    head: bytes


@dataclass(frozen=True, slots=True)
class Discarded:
    """Bytes that were not part of any frame, and why they were skipped."""

    size: int
    reason: str


@dataclass(frozen=True, slots=True)
class TlsHello:
    """A TLS handshake record on the plain port: the sender is configured for TLS."""

    size: int


DeframeEvent = Frame | Oversized | Discarded | TlsHello


class Deframer:
    """Incremental MLLP de-framer: :meth:`feed` bytes in, complete events out.

    Holds at most :data:`MAX_FRAME_BYTES` (plus one read) of an unfinished frame. An
    oversized frame is counted but not kept beyond :data:`OVERSIZE_HEAD_BYTES`; its end
    block (or a new start block) ends it.
    """

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self.max_frame_bytes = max_frame_bytes
        self._buffer = bytearray()
        self._in_frame = False
        self._scan_from = 0  # where to resume looking for the end block in _buffer
        self._oversize: int | None = None  # bytes of the oversized frame seen so far
        self._oversize_head = b""
        self._oversize_tail = b""  # last byte of the previous read (an end block may split)
        self._tls_skip = 0  # bytes of a TLS record still to skip
        self._garbage = 0

    @property
    def pending(self) -> int:
        """Bytes of an unfinished frame (reported as lost if the connection ends now)."""
        if self._oversize is not None:
            return self._oversize
        return len(self._buffer) if self._in_frame else 0

    def feed(self, data: bytes) -> list[DeframeEvent]:
        events: list[DeframeEvent] = []
        view = memoryview(data)
        while view:
            if self._tls_skip:
                step = min(self._tls_skip, len(view))
                self._tls_skip -= step
                view = view[step:]
            elif self._oversize is not None:
                view = self._skip_oversize(view, events)
            elif self._in_frame:
                view = self._read_frame(view, events)
            else:
                view = self._between_frames(view, events)
        return events

    def flush(self) -> list[DeframeEvent]:
        """Events for what is left when the connection ends (a garbage run, a cut frame)."""
        events: list[DeframeEvent] = []
        self._report_garbage(events)
        if self.pending:
            events.append(Discarded(self.pending, "connection ended inside a frame"))
        self._buffer.clear()
        self._in_frame = False
        self._oversize = None
        return events

    def _report_garbage(self, events: list[DeframeEvent]) -> None:
        if self._garbage:
            events.append(Discarded(self._garbage, "bytes outside an MLLP frame"))
            self._garbage = 0

    def _between_frames(self, view: memoryview, events: list[DeframeEvent]) -> memoryview:
        if (
            len(view) >= _TLS_HEADER_BYTES
            and view[0] == _TLS_HANDSHAKE
            and view[1] == _TLS_MAJOR
            and not self._garbage
        ):
            # Skip the whole record by its length: its bytes may contain a start block.
            record = _TLS_HEADER_BYTES + int.from_bytes(view[3:5], "big")
            events.append(TlsHello(record))
            step = min(record, len(view))
            self._tls_skip = record - step
            return view[step:]
        start = bytes(view).find(START_BLOCK)
        outside = view if start < 0 else view[:start]
        self._garbage += sum(1 for byte in bytes(outside) if byte not in _PADDING)
        if start < 0:
            return view[len(view):]
        self._report_garbage(events)
        self._in_frame = True
        self._buffer.clear()
        self._scan_from = 0
        return view[start + 1:]

    def _read_frame(self, view: memoryview, events: list[DeframeEvent]) -> memoryview:
        self._buffer += view
        while True:
            end = self._buffer.find(END_BLOCK, self._scan_from)
            restart = self._buffer.find(START_BLOCK, self._scan_from)
            if restart >= 0 and (end < 0 or restart < end):
                # A new start block before the end: the sender gave up on the frame.
                events.append(Discarded(restart, "frame cut short by a new start block"))
                del self._buffer[: restart + 1]
                self._scan_from = 0
                continue
            if end >= 0:
                if end > self.max_frame_bytes:
                    head = bytes(self._buffer[:OVERSIZE_HEAD_BYTES])
                    events.append(Oversized(end, head))
                else:
                    events.append(Frame(bytes(self._buffer[:end])))
                rest = bytes(self._buffer[end + len(END_BLOCK):])
                self._buffer.clear()
                self._in_frame = False
                return memoryview(rest)
            break
        # The end block may be split across reads: rescan its first byte next time.
        self._scan_from = max(0, len(self._buffer) - 1)
        if len(self._buffer) > self.max_frame_bytes:
            self._oversize = len(self._buffer)
            self._oversize_head = bytes(self._buffer[:OVERSIZE_HEAD_BYTES])
            self._oversize_tail = bytes(self._buffer[-1:])
            self._buffer.clear()
            self._in_frame = False
        return view[len(view):]

    def _skip_oversize(self, view: memoryview, events: list[DeframeEvent]) -> memoryview:
        assert self._oversize is not None
        chunk = self._oversize_tail + bytes(view)
        end = chunk.find(END_BLOCK)
        restart = chunk.find(START_BLOCK)
        stop = min(i for i in (end, restart, len(chunk)) if i >= 0)
        self._oversize += stop - len(self._oversize_tail)
        if stop == len(chunk):
            self._oversize_tail = chunk[-1:]
            return view[len(view):]
        events.append(Oversized(self._oversize, self._oversize_head))
        self._oversize = None
        self._oversize_tail = b""
        skip = len(END_BLOCK) if stop == end else 0
        return memoryview(chunk[stop + skip:])


# --- the server -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HandlerResult:
    """What a handler returns for one message: the ACK message (unframed) and its outcome."""

    ack: bytes
    outcome: object = None


Handler = Callable[[bytes, str], "HandlerResult | Awaitable[HandlerResult]"]
"""Called with a message and the peer ("host:port"); returns the acknowledgement."""

Rejecter = Callable[[bytes, str], bytes]
"""Builds a negative acknowledgement from the start of a message and a reason."""


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """Something that happened on a connection, for the log and for observers.

    ``kind`` is one of ``connected``, ``message``, ``oversized``, ``discarded``, ``tls``,
    ``handler-error``, ``disconnected``.
    """

    kind: str
    peer: str
    detail: str = ""
    outcome: object = None


Listener = Callable[[ServerEvent], None]


def _log_event(event: ServerEvent) -> None:
    level = logging.INFO if event.kind in {"connected", "disconnected", "message"} else (
        logging.WARNING
    )
    log.log(level, "%s %s %s", event.peer, event.kind, event.detail)


@dataclass
class MllpServer:
    """An asyncio MLLP listener for many monitors, each on its own long-lived connection.

    Frames on one connection are handled in order and each is answered on that connection
    before the next is read from the buffer. A handler that raises is logged and answered
    with ``rejecter``'s AE; the connection stays open. Only :meth:`close` (or the peer)
    ends a connection.
    """

    handler: Handler
    rejecter: Rejecter
    listener: Listener = _log_event
    max_frame_bytes: int = MAX_FRAME_BYTES
    _server: asyncio.Server | None = field(default=None, init=False)
    _connections: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        """Start listening; returns the address bound (port 0 picks a free port)."""
        self._server = await asyncio.start_server(self._serve, host, port)
        address = self._server.sockets[0].getsockname()
        return str(address[0]), int(address[1])

    async def serve_forever(self) -> None:
        assert self._server is not None, "start() first"
        await self._server.serve_forever()

    async def close(self) -> None:
        """Stop listening and end every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        peer_address = writer.get_extra_info("peername")
        peer = f"{peer_address[0]}:{peer_address[1]}" if peer_address else "?"
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Hours-long idle connections: let the OS find a peer that vanished.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.listener(ServerEvent("connected", peer))
        deframer = Deframer(self.max_frame_bytes)
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                for event in deframer.feed(data):
                    await self._answer(event, peer, writer)
            for event in deframer.flush():
                self._notify(event, peer)
            self.listener(ServerEvent("disconnected", peer))
        except (ConnectionError, OSError) as exc:
            self.listener(ServerEvent("disconnected", peer, f"connection error: {exc}"))
        except asyncio.CancelledError:
            self.listener(ServerEvent("disconnected", peer, "server closing"))
            raise
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    def _notify(self, event: DeframeEvent, peer: str) -> None:
        if isinstance(event, Discarded):
            self.listener(ServerEvent("discarded", peer, f"{event.size} bytes: {event.reason}"))
        elif isinstance(event, TlsHello):
            self.listener(ServerEvent(
                "tls", peer, "TLS handshake on the plain MLLP port: answered with a TLS alert"
            ))

    async def _answer(self, event: DeframeEvent, peer: str, writer: asyncio.StreamWriter) -> None:
        if isinstance(event, Frame):
            ack, outcome = await self._handle(event.payload, peer)
            writer.write(encode_frame(ack))
            await writer.drain()
            self.listener(ServerEvent("message", peer, f"{len(event.payload)} bytes", outcome))
        elif isinstance(event, Oversized):
            reason = (
                f"message of {event.size} bytes is over the limit of "
                f"{self.max_frame_bytes} bytes"
            )
            writer.write(encode_frame(self.rejecter(event.head, reason)))
            await writer.drain()
            self.listener(ServerEvent("oversized", peer, reason))
        elif isinstance(event, TlsHello):
            writer.write(TLS_ALERT)
            await writer.drain()
            self._notify(event, peer)
        else:
            self._notify(event, peer)

    async def _handle(self, payload: bytes, peer: str) -> tuple[bytes, object]:
        try:
            result = self.handler(payload, peer)
            if inspect.isawaitable(result):
                result = await result
            assert isinstance(result, HandlerResult)
        except Exception as exc:  # a message must never cost the monitor its connection
            log.exception("handler failed on a message from %s", peer)
            self.listener(ServerEvent("handler-error", peer, repr(exc)))
            return self.rejecter(payload, "ChairSide could not process the message"), None
        return result.ack, result.outcome


# --- the client -------------------------------------------------------------------------


class AckTimeoutError(TimeoutError):
    """No acknowledgement arrived in time."""


async def send_messages(
    host: str, port: int, messages: Iterable[bytes], *, timeout: float = 10.0
) -> AsyncIterator[bytes]:
    """Send each message in turn over one connection and yield each acknowledgement.

    Waits for the acknowledgement of a message before sending the next, like a monitor.
    Raises :class:`AckTimeoutError` when none arrives within ``timeout`` seconds.
    """
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    deframer = Deframer()
    try:
        for message in messages:
            writer.write(encode_frame(message))
            await writer.drain()
            yield await _read_ack(reader, deframer, timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


async def _read_ack(reader: asyncio.StreamReader, deframer: Deframer, timeout: float) -> bytes:
    pending: list[bytes] = []
    while not pending:
        try:
            data = await asyncio.wait_for(reader.read(65536), timeout)
        except TimeoutError as exc:
            raise AckTimeoutError(f"no acknowledgement within {timeout:g} s") from exc
        if not data:
            raise ConnectionError("the receiver closed the connection")
        pending.extend(e.payload for e in deframer.feed(data) if isinstance(e, Frame))
    return pending[0]
