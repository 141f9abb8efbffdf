"""Statements run together (one round trip to PostgreSQL): the same rows as one by one, and
the transaction's guarantees kept."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from monitor.storage import queries
from monitor.storage.batch import run_together
from monitor.storage.store import Store

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)


def a_staff_member(store: Store) -> uuid.UUID:
    staff_id = uuid.uuid4()
    with store.write() as db:
        db.connection().execute(insert(queries.STAFF), staff_row("Nora Nurse", staff_id))
    return staff_id


def staff_row(name: str, staff_id: uuid.UUID | None = None) -> dict[str, object]:
    return {"id": staff_id or uuid.uuid4(), "name": name, "role": "nurse", "pin_hash": "x",
            "active": True, "failed_logins": 0, "created_at": NOW, "locked_at": None}


def fail_after(store: Store, write: Callable[[Connection], object]) -> None:
    """A write transaction that fails after ``write`` ran in it."""
    with store.write() as db:
        write(db.connection())
        raise RuntimeError("the save failed after its writes")


def staff_names(store: Store) -> list[str]:
    with store.read() as db:
        return list(db.scalars(select(queries.STAFF.c.name).order_by(queries.STAFF.c.name)))


def test_rows_come_back_as_one_statement_at_a_time_gives_them(store):
    staff_id = a_staff_member(store)
    statements = [
        (select(queries.STAFF.c.id, queries.STAFF.c.name, queries.STAFF.c.active)
         .where(queries.STAFF.c.role.in_(["nurse", "clinician"])), None),
        (select(func.count()).select_from(queries.STAFF), None),
        (text("SELECT :when AS at").bindparams(), {"when": NOW}),
    ]
    with store.write() as db:
        together = run_together(db.connection(), statements)
        alone = [list(db.connection().execute(s, p).all()) for s, p in statements]
    assert [[tuple(r) for r in rows] for rows in together] == \
        [[tuple(r) for r in rows] for rows in alone]
    assert together[0][0].id == staff_id
    assert together[0][0].name == "Nora Nurse"


def test_a_failure_after_statements_run_together_keeps_nothing_of_them(store):
    a_staff_member(store)
    for name in ("First", "Second"):  # the second on the connection the first gave back
        with pytest.raises(RuntimeError):
            fail_after(store, lambda c, name=name: run_together(
                c, [(insert(queries.STAFF), staff_row(name))]))
    assert staff_names(store) == ["Nora Nurse"]


def test_a_refused_row_aborts_the_whole_batch_and_its_commit(store):
    staff_id = a_staff_member(store)
    row, other = staff_row("Again", staff_id), staff_row("Other")
    with pytest.raises(IntegrityError), store.write() as db:
        run_together(db.connection(), [(insert(queries.STAFF), other),
                                        (insert(queries.STAFF), row)], end="COMMIT")
    assert staff_names(store) == ["Nora Nurse"]


def test_the_commit_sent_with_the_writes_stores_them(store):
    with store.write() as db:
        run_together(db.connection(), [(insert(queries.STAFF), staff_row("Committed"))],
                     end="COMMIT")
    assert staff_names(store) == ["Committed"]
    # The connection is transactional again afterwards: a failed write keeps nothing.
    with pytest.raises(RuntimeError):
        fail_after(store, lambda c: c.execute(insert(queries.STAFF), staff_row("Later")))
    assert staff_names(store) == ["Committed"]
