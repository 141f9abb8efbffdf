"""The server lost at a COMMIT, after it stored the transaction or before."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection
from sqlalchemy.exc import OperationalError


def lose_link_at_next_commit(monkeypatch: pytest.MonkeyPatch, *, after_commit: bool) -> None:
    """The next COMMIT raises what a dropped connection raises: after the database stored
    the transaction (``after_commit``), or before it did; later COMMITs go through."""
    original = Connection._commit_impl
    left = [True]

    def commit(self: Connection) -> Any:
        if not left:
            return original(self)
        left.clear()
        if after_commit:
            original(self)
        raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(Connection, "_commit_impl", commit)
