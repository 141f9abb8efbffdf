"""The write side of live changes: announce an audit entry's changes in its transaction.

:func:`announce` is called by :func:`monitor.storage.audit.append` right after the entry is stored.
On PostgreSQL it sends ``pg_notify`` inside the writing transaction: the server delivers
the notification when (and only if) the transaction commits, in commit order, so nothing
uncommitted or rolled back is ever announced. Audit appends are serialized by an advisory
lock held to the end of the transaction, so announcements arrive in sequence order.

The announcement rides in the statement that stores the entry
(:func:`announced_insert`: ``INSERT … RETURNING`` in a CTE, then ``pg_notify``), so it costs
no round trip of its own; :func:`announce` sends it as a statement of its own. Either way the
server adds the session's chair and the flags the save raised to the entry and sends it; the
listener maps them to changes with :func:`monitor.storage.changes.kinds.changes_of`, as it
does when catching up from the trail. An announcement that would be too long for NOTIFY
names only its sequence number.

On SQLite nothing is sent: a feed learns of commits from ``PRAGMA data_version`` and from
its own process's commits (:mod:`monitor.storage.changes.feed`).

The channel is per schema, so databases sharing a server (and tests in private schemas)
do not hear each other: ``chairside_changes`` in the ``public`` schema, else
``chairside_changes:<schema>``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, TextClause, bindparam, text

from monitor.storage.changes.kinds import MAX_PAYLOAD, Entry, entry_json, kind_of
from monitor.storage.model import UTCDateTime

CHANNEL = "chairside_changes"
#: The channel of the connection's schema, computed by the server (one expression for the
#: sender and the listener).
CHANNEL_SQL = (f"CASE current_schema() WHEN 'public' THEN '{CHANNEL}' "
               f"ELSE '{CHANNEL}:' || current_schema() END")
_ANNOUNCEMENT = """announcement AS (
    SELECT json_build_object(
        'seq', CAST(:seq AS bigint),
        'entry', CAST(:entry AS json),
        'chair', (SELECT chair FROM sessions WHERE id = :session_id),
        'flags', (SELECT json_agg(json_build_object('id', id, 'severity', severity,
                                                    'reading_id', reading_id)
                                  ORDER BY severity DESC, id)
                  FROM flags WHERE session_id = :session_id AND raised_at = :at)
    )::text AS body
)"""
_SEND = f"""
SELECT pg_notify({CHANNEL_SQL},
                 CASE WHEN octet_length(body) < {MAX_PAYLOAD} THEN body
                      ELSE json_build_object('seq', CAST(:seq AS bigint))::text END)
FROM announcement"""
_NOTIFY = text(f"WITH {_ANNOUNCEMENT}{_SEND}")
#: The audit columns, in the order :data:`_INSERT_AND_NOTIFY` binds them.
_AUDIT_COLUMNS = ("seq", "at", "staff_id", "action", "record_kind", "record_id", "session_id",
                  "patient_id", "old", "new", "mac")
_INSERT_AND_NOTIFY = text(
    "WITH entry AS (INSERT INTO audit_log ("
    + ", ".join(f'"{c}"' for c in _AUDIT_COLUMNS) + ") VALUES ("
    + ", ".join(f":{c}" for c in _AUDIT_COLUMNS) + f") RETURNING seq), {_ANNOUNCEMENT}"
    + _SEND + ", entry"
).bindparams(bindparam("at", type_=UTCDateTime()))


def announced_insert(dialect_name: str, values: Mapping[str, Any], new: Mapping[str, Any] | None
                     ) -> tuple[TextClause, dict[str, Any]] | None:
    """The statement that stores the audit entry ``values`` (its columns) and announces its
    changes, on commit, in the same statement; None when there is nothing to announce (or
    no PostgreSQL), and the entry is stored by a plain insert. ``new``: the entry's new
    values, as given (a flag's severity travels)."""
    if dialect_name != "postgresql" or kind_of(values["action"], values["record_kind"]) is None:
        return None
    severity = (new or {}).get("severity")
    entry = Entry(values["seq"], values["at"], values["staff_id"], values["action"],
                  values["record_kind"], values["record_id"], values["session_id"],
                  severity if isinstance(severity, int) else None)
    params = {name: values[name] for name in _AUDIT_COLUMNS}
    params["entry"] = entry_json(entry)
    return _INSERT_AND_NOTIFY, params


def announce(
    connection: Connection,
    *,
    seq: int,
    at: datetime,
    staff_id: uuid.UUID | None,
    action: str,
    record_kind: str,
    record_id: uuid.UUID | None,
    session_id: uuid.UUID | None,
    new: Mapping[str, Any] | None,
) -> None:
    """Announce the changes of audit entry ``seq`` when its transaction commits."""
    if connection.dialect.name != "postgresql" or kind_of(action, record_kind) is None:
        return
    severity = (new or {}).get("severity")
    entry = Entry(seq, at, staff_id, action, record_kind, record_id, session_id,
                  severity if isinstance(severity, int) else None)
    connection.execute(_NOTIFY, {"seq": seq, "entry": entry_json(entry),
                                 "session_id": session_id, "at": at})
