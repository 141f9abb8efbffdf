"""Which protocol judges a session: the version stored when it started, with the patient's limits.

A session started now runs under the version of its profile the clinic approved last
(:mod:`monitor.service.protocol_admin`), else the profile's file; once started, it is judged
by that stored version whatever the files say later. The protocols are kept once made: the
evaluations kept between saves (:mod:`monitor.service.evaluation`) compare them by identity.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from monitor.clinical.permissions import Action
from monitor.clinical.protocol import Protocol, load_protocol
from monitor.service.guard import Guard
from monitor.service.protocol_admin import active_version_id
from monitor.storage import protocol_store
from monitor.storage.records import SessionInfo, session_info


class SessionProtocols:
    """The protocols sessions start under and are judged by."""

    def __init__(self, guard: Guard, protocol_dir: Path | None = None) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock
        self.protocol_dir = protocol_dir
        self._protocols: dict[tuple[str, tuple[tuple[str, Any], ...]], Protocol] = {}
        #: Stored protocol versions (immutable) and, with a patient's overrides, as applied.
        self.versions = protocol_store.VersionCache(protocol_dir)
        self._pinned: dict[tuple[uuid.UUID, tuple[tuple[str, Any], ...]], Protocol] = {}

    def protocol_for(self, profile: str, overrides: Mapping[str, Any] | None = None) -> Protocol:
        """What a session started now runs under: the profile's version the clinic approved
        last (:mod:`monitor.service.protocol_admin`), else its file.

        A session already started is judged by its own version (:meth:`session_protocol`).
        """
        with self.store.read() as db:
            return self.current(db.connection(), profile, overrides)

    def session_protocol(self, session_id: uuid.UUID) -> Protocol:
        """The protocol the session is judged by: its stored version, with the patient's limits."""
        with self.store.read() as db:
            connection = db.connection()
            return self.protocol_of(connection, session_info(connection, session_id))

    def current(self, connection: Connection, profile: str,
                overrides: Mapping[str, Any] | None = None) -> Protocol:
        active = active_version_id(connection, profile)
        if active is None:
            return self.file_protocol(profile, overrides)
        key = (active, tuple(sorted((overrides or {}).items())))
        protocol = self._pinned.get(key)
        if protocol is None:
            protocol = self.versions.protocol(connection, active)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            # Two threads may build it at once: both use the one kept first (the kept
            # evaluations compare protocols by identity).
            protocol = self._pinned.setdefault(key, protocol)
        return protocol

    def file_protocol(self, profile: str, overrides: Mapping[str, Any] | None = None
                       ) -> Protocol:
        """The profile's protocol as its file says now."""
        key = (profile, tuple(sorted((overrides or {}).items())))
        protocol = self._protocols.get(key)
        if protocol is None:
            protocol = load_protocol(profile, self.protocol_dir)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            protocol = self._protocols.setdefault(key, protocol)
        return protocol

    def protocol_of(self, connection: Connection, info: SessionInfo) -> Protocol:
        """The session's stored protocol version with the patient's own limits it started
        with applied.

        The same object each time for the same version and limits (the kept evaluations
        compare protocols by identity). A session an upgrade could not pin is judged by
        its profile's file.
        """
        overrides = info.limit_overrides
        if info.protocol_version_id is None:
            return self.file_protocol(info.profile, overrides)
        key = (info.protocol_version_id, tuple(sorted(overrides.items())))
        protocol = self._pinned.get(key)
        if protocol is None:
            protocol = self.versions.protocol(connection, info.protocol_version_id)
            if overrides:
                protocol = protocol.with_overrides(dict(overrides))
            # Two threads may build it at once: both use the one kept first (the kept
            # evaluations compare protocols by identity).
            protocol = self._pinned.setdefault(key, protocol)
        return protocol

    def protocols_of(self, connection: Connection,
                     infos: Sequence[SessionInfo]) -> list[Protocol]:
        """:meth:`protocol_of` of each session, the versions not loaded yet read in one
        statement (a patient's course)."""
        self.versions.prefetch(connection, {info.protocol_version_id for info in infos
                                            if info.protocol_version_id is not None})
        return [self.protocol_of(connection, info) for info in infos]

    def record_protocol_change(
        self, profile: str, *, by: uuid.UUID, old: Mapping[str, Any], new: Mapping[str, Any],
    ) -> None:
        """Audit a change of the clinic protocol (admins only)."""
        with self.guard.change(by, Action.CHANGE_PROTOCOL) as change:
            change.audit("protocol_change", "protocol", None, old={"profile": profile, **old},
                         new={"profile": profile, **new})
        self._protocols.clear()
