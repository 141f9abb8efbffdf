"""A clinic service whose chosen calls stall, as on a server that stopped answering.

:class:`StalledService` passes every call to the real service, except those named in
``held``: they wait (on the caller's thread, the database worker's) until :meth:`release`,
then run, or raise ``fail`` if set (the server's answer after the stall). Tests wait on
:attr:`entered` to know a held call has begun; nothing sleeps.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

#: A bound on waits that end at once when the code is right (a hung test fails, not hangs).
WAIT_S = 30.0


class StalledService:
    def __init__(self, service: Any, held: set[str] | None = None) -> None:
        self.service = service
        self.holding: set[str] = set(held or ())
        self.entered = threading.Event()
        self.opened = threading.Event()
        self.calls: Counter[str] = Counter()
        self.threads: set[str] = set()
        self.fail: BaseException | None = None

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.service, name)
        if name not in self.holding or not callable(attr):
            return attr

        def held(*args: Any, **kwargs: Any) -> Any:
            return self._stall(name, attr, args, kwargs)

        return held

    def _stall(self, name: str, call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        self.calls[name] += 1
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        if not self.opened.wait(WAIT_S):
            raise TimeoutError(f"{name} was never released")
        if self.fail is not None:
            raise self.fail
        return call(*args, **kwargs)

    def release(self, fail: BaseException | None = None) -> None:
        """The server answers: the held calls run (or raise ``fail``)."""
        self.fail = fail
        self.opened.set()

    def stall(self, *names: str) -> None:
        """Hold the calls ``names`` from now on (until :meth:`release`)."""
        self.entered.clear()
        self.opened.clear()
        self.holding = set(names)
