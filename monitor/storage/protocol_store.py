"""Protocol versions kept in the database, so that a session is judged by the one it ran under.

A *protocol version* is a protocol written out in full (:func:`resolved_toml`:
every parameter, those a profile inherits included, with its unit and source, and the
medication list) and the SHA-256 of that text. It is stored the first time a session starts
under it (:func:`store`) and never changed: the ``protocol_versions`` table refuses UPDATE and
DELETE. A session keeps the id of its version; editing a protocol file makes a new version
for the sessions started afterwards and leaves the earlier sessions' version as it was.

The id is derived from the hash (:func:`version_id`), so tablets that store the same
content at the same moment name the same row, and storing it again is a no-op.

:class:`VersionCache` keeps each version's loaded :class:`~monitor.clinical.protocol.Protocol` for
the
life of the process: a version is immutable, so what was loaded once stays right.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, bindparam, select

from monitor.clinical.protocol import (
    SECTIONS,
    ParameterValue,
    Protocol,
    ProtocolError,
    load_protocol,
    load_protocol_text,
)
from monitor.storage.queries import VERSIONS, insert_once

#: The namespace of :func:`version_id`: ids are UUID 5 of the content's hash in it.
ID_NAMESPACE = uuid.UUID("6f1c2d0e-5b7a-4c1e-9a57-3e1b0f4d2c88")


@dataclass(frozen=True)
class StoredVersion:
    """One row of ``protocol_versions``."""

    id: uuid.UUID
    profile: str
    version: str
    hash: str
    content: str
    created_at: datetime

    @property
    def sound(self) -> bool:
        """The content still hashes to the stored hash."""
        return content_hash(self.content) == self.hash


def resolved_toml(protocol: Protocol) -> str:
    """``protocol`` as one TOML document that needs no other file to load.

    Every parameter is written out, those a profile inherits included, each with its value,
    unit and source, then the medication list. The text depends only on the protocol's
    content, so equal protocols give equal text (and equal hashes). Per-patient overrides
    are not part of a protocol and are refused.
    """
    if protocol.overrides:
        raise ValueError("per-patient overrides are not part of a protocol version")
    lines = ["# A protocol written out in full: every parameter, inherited ones included.",
             ""]
    lines += ["[protocol]", f"id = {_toml_text(protocol.id)}",
              f"name = {_toml_text(protocol.name)}", f"version = {_toml_text(protocol.version)}"]
    for section in SECTIONS:
        lines += ["", f"[{section}]"]
        lines += [f"{p.key} = {{ value = {_toml_value(p.value)}, unit = {_toml_text(p.unit)}, "
                  f"source = {_toml_text(p.source)} }}"
                  for p in protocol.parameters if p.section == section]
    for medication in protocol.medications:
        lines += ["", "[[medications]]", f"name = {_toml_text(medication.name)}",
                  f"dose = {_toml_text(medication.dose)}",
                  f"route = {_toml_text(medication.route)}"]
    return "\n".join(lines) + "\n"


def _toml_text(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \uXXXX included).
    return json.dumps(text, ensure_ascii=False)


def _toml_value(value: ParameterValue) -> str:
    if isinstance(value, str):
        return _toml_text(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def content_hash(content: str) -> str:
    """The SHA-256 of ``content`` (UTF-8), as 64 hex digits."""
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def version_id(digest: str) -> uuid.UUID:
    """The id of the version whose content has the hash ``digest``."""
    return uuid.uuid5(ID_NAMESPACE, digest)


def version_of(protocol: Protocol, profile: str, now: datetime) -> StoredVersion:
    """The version ``protocol`` (as loaded for ``profile``, without overrides) would be."""
    content = resolved_toml(protocol)
    digest = content_hash(content)
    return StoredVersion(version_id(digest), profile, protocol.version, digest, content, now)


def store(connection: Connection, protocol: Protocol, *, profile: str,
          now: datetime) -> StoredVersion:
    """Store ``protocol`` as a version unless it is stored already; the version either way.

    Runs in the caller's transaction. ``created_at`` of a version stored earlier is kept.
    """
    version = version_of(protocol, profile, now)
    connection.execute(insert_once(connection.dialect.name, VERSIONS), {
        "id": version.id, "profile": version.profile, "version": version.version,
        "hash": version.hash, "content": version.content, "created_at": now,
    })
    stored = load(connection, version.id)
    assert stored is not None, "a version stored in this transaction is there"
    return stored


def load(connection: Connection, version: uuid.UUID) -> StoredVersion | None:
    """The stored version with this id, or None."""
    row = connection.execute(_BY_ID, {"id": version}).first()
    return StoredVersion(*row) if row is not None else None


def find(connection: Connection, digest: str) -> StoredVersion | None:
    """The stored version whose content has the hash ``digest``, or None."""
    return load(connection, version_id(digest))


def all_versions(connection: Connection) -> list[StoredVersion]:
    """Every stored version, oldest first."""
    return [StoredVersion(*row) for row in connection.execute(
        _SELECT.order_by(VERSIONS.c.created_at, VERSIONS.c.profile))]


def protocol_of(version: StoredVersion, directory: Path | None = None) -> Protocol:
    """The protocol a stored version holds, validated like a file.

    A version whose content no longer matches its hash is refused. A parameter added to
    ChairSide after the version was stored is taken from the profile's current file in
    ``directory`` (default: the shipped protocols), which names itself as its origin.
    """
    origin = f"stored protocol {version.profile} {version.version} (sha256 {version.hash[:12]})"
    if not version.sound:
        raise ProtocolError(origin, "the stored content does not match its SHA-256")
    try:
        return load_protocol_text(version.content, origin)
    except ProtocolError as exc:
        if exc.problem != "missing parameter":
            raise
        return load_protocol_text(version.content, origin,
                                  fill_from=load_protocol(version.profile, directory))


class VersionCache:
    """Loaded protocol versions, by id, for the life of the process (versions never change)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory
        self._loaded: dict[uuid.UUID, tuple[StoredVersion, Protocol]] = {}

    def get(self, connection: Connection, version: uuid.UUID) -> tuple[StoredVersion, Protocol]:
        """The stored version and its protocol; :class:`LookupError` when there is none."""
        found = self._loaded.get(version)
        if found is None:
            stored = load(connection, version)
            if stored is None:
                raise LookupError(f"no stored protocol version {version}")
            found = (stored, protocol_of(stored, self._directory))
            # Read by several threads (the app's database worker, the screens): the first
            # kept is the one every caller gets (protocols are compared by identity).
            found = self._loaded.setdefault(version, found)
        return found

    def protocol(self, connection: Connection, version: uuid.UUID) -> Protocol:
        return self.get(connection, version)[1]

    def prefetch(self, connection: Connection, versions: Iterable[uuid.UUID]) -> None:
        """Load those of ``versions`` not loaded yet, in one statement (none when all are):
        the versions many sessions are judged by. One not stored is left to :meth:`get`."""
        missing = {v for v in versions if v not in self._loaded}
        if missing:
            for row in connection.execute(_BY_IDS, {"ids": sorted(missing)}):
                stored = StoredVersion(*row)
                self._loaded[stored.id] = (stored, protocol_of(stored, self._directory))


_SELECT = select(VERSIONS.c.id, VERSIONS.c.profile, VERSIONS.c.version, VERSIONS.c.hash,
                 VERSIONS.c.content, VERSIONS.c.created_at)
_BY_ID = _SELECT.where(VERSIONS.c.id == bindparam("id"))
_BY_IDS = _SELECT.where(VERSIONS.c.id.in_(bindparam("ids", expanding=True)))
