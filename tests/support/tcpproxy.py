"""A TCP proxy on loopback that misbehaves on request, for network fault tests.

:class:`FaultyProxy` listens on a free port of 127.0.0.1 and forwards every connection to
the target (a :class:`~tests.support.pgserver.PrivateServer`). Its event loop runs in a thread
of its own; the test thread switches its behaviour:

* ``pass_through()`` — forward at once (the start state);
* ``set_latency(seconds)`` — hold each chunk that long, in each direction, order kept;
* ``stall()`` — keep the connections open but deliver nothing (bytes are held, not lost;
  ``pass_through()`` releases them): a switch, a Wi-Fi access point or a server that hangs;
* ``drop_all()`` — reset every open connection (RST, as a router that lost its state);
* ``refuse_new(True)`` — reset each new connection as soon as it arrives;
* ``drop_on_reply(marker)`` — the next reply from the server holding ``marker`` (``b"COMMIT\\0"``:
  the server's answer to a COMMIT it carried out) is not delivered; its connection is reset.

``counters`` says what happened (accepted, refused, dropped, bytes each way, held now) and
``turns``: the round trips, counted as the server's answers that followed something a client
sent (the replies to a whole pipeline are one turn: the server sends nothing before a Sync or
Flush; a notification nobody asked for is none). With latency L each way, each turn costs a
client that waits for it ``2 L``.
Qt-free and without sleeps: waits in the tests poll the counters with a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass
class Counters:
    accepted: int = 0
    refused: int = 0
    dropped: int = 0
    open: int = 0
    bytes_to_server: int = 0
    bytes_to_client: int = 0
    #: Bytes read from one side and not yet delivered to the other (latency, stall).
    held: int = 0
    chunks_delayed: int = 0
    #: Server answers that followed client bytes: round trips as the wire saw them.
    turns: int = 0


@dataclass(eq=False)
class _Link:
    client: asyncio.StreamWriter
    server: asyncio.StreamWriter
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    #: The client sent bytes since the server last did.
    client_spoke: bool = False


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0), not a polite FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultyProxy:
    """Forwards 127.0.0.1:``port`` to ``target_host:target_port``; see the module docstring."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._counters = Counters()
        self._lock = threading.Lock()
        self._latency = 0.0
        self._refusing = False
        self._drop_marker: bytes | None = None
        self._links: set[_Link] = set()
        self._loop = asyncio.new_event_loop()
        self._flowing: asyncio.Event | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="faulty-proxy",
                                        daemon=True)
        self._thread.start()
        self.port = self._call(self._listen())

    # -- control, from the test's thread -------------------------------------------------

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={user}"

    @property
    def counters(self) -> Counters:
        with self._lock:
            return replace(self._counters)

    def pass_through(self) -> None:
        """Forward at once again; release whatever a stall held."""
        self._latency = 0.0
        self._call(self._set_flowing(True))

    def set_latency(self, seconds: float) -> None:
        self._latency = seconds
        self._call(self._set_flowing(True))

    def stall(self) -> None:
        self._call(self._set_flowing(False))

    def drop_all(self) -> int:
        """Reset every open connection; returns how many were dropped."""
        return self._call(self._drop_all())

    def refuse_new(self, refuse: bool = True) -> None:
        self._refusing = refuse

    def drop_on_reply(self, marker: bytes) -> None:
        """Reset the connection instead of delivering the next server reply with ``marker``."""
        self._drop_marker = marker

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    def _count(self, **changes: int) -> None:
        with self._lock:
            for name, delta in changes.items():
                setattr(self._counters, name, getattr(self._counters, name) + delta)

    # -- the loop's side ----------------------------------------------------------------

    async def _listen(self) -> int:
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _set_flowing(self, flowing: bool) -> None:
        assert self._flowing is not None
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    async def _drop_all(self) -> int:
        links = list(self._links)
        for link in links:
            self._end(link, dropped=True)
        return len(links)

    async def _shutdown(self) -> None:
        for link in list(self._links):
            self._end(link, dropped=False)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._refusing:
            self._count(refused=1)
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            self._count(refused=1)
            _reset(writer)
            return
        self._count(accepted=1, open=1)
        link = _Link(client=writer, server=up_writer)
        self._links.add(link)
        link.tasks = [
            asyncio.create_task(self._pump(reader, up_writer, link, "bytes_to_server")),
            asyncio.create_task(self._pump(up_reader, writer, link, "bytes_to_client")),
        ]

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link: _Link, counter: str) -> None:
        """Copy one direction: a reader task queues chunks, a writer delivers them in order."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()

        async def deliver() -> None:
            assert self._flowing is not None
            while (item := await queue.get()) is not None:
                due, chunk = item
                wait = due - time.monotonic()
                if wait > 0:
                    self._count(chunks_delayed=1)
                    await asyncio.sleep(wait)  # the latency being simulated
                await self._flowing.wait()
                marker = self._drop_marker
                if counter == "bytes_to_client" and marker is not None and marker in chunk:
                    self._drop_marker = None
                    self._end(link, dropped=True)
                    return
                writer.write(chunk)
                await writer.drain()
                self._count(held=-len(chunk), **{counter: len(chunk)})
            self._end(link, dropped=False)

        delivering = asyncio.create_task(deliver())
        try:
            while chunk := await reader.read(65536):
                self._count(held=len(chunk))
                if counter == "bytes_to_server":
                    link.client_spoke = True
                elif link.client_spoke:
                    link.client_spoke = False
                    self._count(turns=1)
                queue.put_nowait((time.monotonic() + self._latency, chunk))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait(None)
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await delivering

    def _end(self, link: _Link, *, dropped: bool) -> None:
        if link not in self._links:
            return
        self._links.discard(link)
        self._count(open=-1, dropped=int(dropped))
        for task in link.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        if dropped:
            _reset(link.client)
            _reset(link.server)
        else:
            link.client.close()
            link.server.close()
