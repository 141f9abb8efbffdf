"""A write that loses the server during its COMMIT may be stored or not: the store says the
outcome is unknown (never "nothing was stored"); a failure before the COMMIT is NOT saved."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import OperationalError

from monitor.storage.model import Staff
from monitor.storage.store import NotSavedError, OutcomeUnknownError, Store
from tests.support.commit_fault import lose_link_at_next_commit


def _add_staff(store: Store, staff_id: uuid.UUID) -> None:
    with store.write() as db:
        db.add(Staff(id=staff_id, name="Lost", role="nurse", created_at=datetime.now(UTC)))


def _stored(store: Store, staff_id: uuid.UUID) -> bool:
    with store.read() as db:
        return db.get(Staff, staff_id) is not None


@pytest.mark.parametrize("after_commit", [True, False])
def test_the_server_lost_at_commit_is_an_unknown_outcome(
        sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, after_commit: bool) -> None:
    lose_link_at_next_commit(monkeypatch, after_commit=after_commit)
    staff_id = uuid.uuid4()
    with pytest.raises(OutcomeUnknownError) as info:
        _add_staff(sqlite_store, staff_id)
    assert info.value.reason == "unreachable"
    assert info.value.message.startswith("Not known whether saved")
    assert not isinstance(info.value, NotSavedError)
    assert _stored(sqlite_store, staff_id) is after_commit


def test_the_server_lost_before_commit_is_not_saved(sqlite_store: Store) -> None:
    staff_id = uuid.uuid4()

    def save_until_the_link_drops() -> None:
        with sqlite_store.write() as db:
            db.add(Staff(id=staff_id, name="Lost", role="nurse", created_at=datetime.now(UTC)))
            db.flush()
            raise OperationalError("INSERT", {}, Exception("server closed the connection"))

    with pytest.raises(NotSavedError):
        save_until_the_link_drops()
    assert not _stored(sqlite_store, staff_id)
