"""A server outage as the service sees it: every read and write of one store fails as an
unreachable server makes it fail, until the outage ends (no network or server involved)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from monitor.storage.store import NotSavedError, Store, StoreUnavailableError


class Outage:
    """While on, the store's reads raise :class:`StoreUnavailableError` and its writes
    :class:`NotSavedError`, both with the reason "unreachable"."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def begin(self) -> None:
        @contextmanager
        def write() -> Iterator[None]:
            raise NotSavedError("unreachable", "NOT saved: the database cannot be reached.")
            yield  # pragma: no cover

        @contextmanager
        def read() -> Iterator[None]:
            raise StoreUnavailableError("unreachable",
                                        "Could not read: the database cannot be reached.")
            yield  # pragma: no cover

        self.store.write = write  # type: ignore[method-assign]
        self.store.read = read  # type: ignore[method-assign]

    def end(self) -> None:
        for name in ("write", "read"):
            self.store.__dict__.pop(name, None)
