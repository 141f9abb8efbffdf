"""The outbox: entries held on the tablet survive a restart, in order, each once."""

from __future__ import annotations

import stat
import subprocess
import sys
import uuid
from datetime import UTC, datetime

from monitor.storage.outbox import Outbox, default_outbox_path

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_held_entries_come_back_in_the_order_held_after_a_reopen(tmp_path):
    session = uuid.uuid4()
    ids = [uuid.uuid4() for _ in range(5)]
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    for n, entry_id in enumerate(ids):
        outbox.hold(entry_id, "reading", session, {"n": n, "raw": {"hr": "72"}}, AT)
    outbox.close()

    reopened = Outbox(tmp_path / "outbox.sqlite3")
    waiting = reopened.waiting(session)
    assert [e.entry_id for e in waiting] == ids
    assert [e.payload["n"] for e in waiting] == [0, 1, 2, 3, 4]
    assert reopened.count(session) == 5
    assert reopened.count(uuid.uuid4()) == 0
    assert reopened.first_waiting().entry_id == ids[0]


def test_an_entry_held_twice_under_its_id_is_kept_once_with_its_first_values(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    entry_id, session = uuid.uuid4(), uuid.uuid4()
    outbox.hold(entry_id, "reading", session, {"hr": "72"}, AT)
    again = outbox.hold(entry_id, "reading", session, {"hr": "99"}, AT)
    assert again.payload == {"hr": "72"}
    assert outbox.count() == 1


def test_a_refused_entry_stays_visible_and_is_not_offered_again_until_dismissed(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    session = uuid.uuid4()
    first, second = uuid.uuid4(), uuid.uuid4()
    outbox.hold(first, "reading", session, {}, AT)
    outbox.hold(second, "event", session, {}, AT)
    outbox.attempted(first)
    outbox.refuse(first, "Session closed: discharge signed by N. Quinn at 10:42")
    assert outbox.first_waiting().entry_id == second
    [refused] = outbox.refused(session)
    assert refused.entry_id == first
    assert refused.attempts == 1
    assert "discharge signed" in refused.refused
    outbox.remove(second)
    assert outbox.count() == 0
    assert outbox.first_waiting() is None
    outbox.dismiss(first)
    assert outbox.refused() == []


def test_the_outbox_file_is_private_and_sits_beside_the_drafts(tmp_path):
    drafts = tmp_path / "ChairSide" / "drafts"
    path = default_outbox_path(drafts)
    assert path.parent == drafts.parent
    outbox = Outbox(path)
    outbox.hold(uuid.uuid4(), "reading", uuid.uuid4(), {}, AT)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    mode = outbox._db.execute("PRAGMA journal_mode").fetchone()[0]
    sync = outbox._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL


HOLD_THEN_DIE = """
import os, sys, uuid
from datetime import UTC, datetime
from monitor.storage.outbox import Outbox
outbox = Outbox(sys.argv[1])
outbox.hold(uuid.UUID(sys.argv[2]), "reading", uuid.UUID(sys.argv[3]), {"hr": "72"},
            datetime.now(UTC))
os.kill(os.getpid(), 9)
"""


def test_an_entry_held_survives_the_process_killed_right_after(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    entry_id, session = uuid.uuid4(), uuid.uuid4()
    done = subprocess.run([sys.executable, "-c", HOLD_THEN_DIE, str(path), str(entry_id),
                           str(session)], check=False, timeout=60)
    assert done.returncode == -9
    assert [e.entry_id for e in Outbox(path).waiting()] == [entry_id]
