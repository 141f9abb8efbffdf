"""The clinic's protocol as the clinic changes it: drafts an admin writes, versions a
clinician approves, and which version each profile runs under now.

* A *draft* (``protocol_drafts``) holds only what it changes on the version it was made
  from; it may be edited until it is approved or withdrawn. Every edit is validated as a
  protocol file is (type, range, order of tiers) and refused whole when anything is wrong.
* *Approval* is a clinician's e-signature (PIN re-entry) meaning
  :data:`MEANING_APPROVE`. It stores the draft's resolved content as a new, immutable
  protocol version (:mod:`monitor.storage.protocol_store`) and an *activation*
  (``protocol_activations``): new sessions of that profile run under it from then on.
  Sessions already started keep the version they started under.
* The clinic's protocol for a profile is its latest activation, else its file in
  ``resources/protocols`` (the factory default), which seeds the first version.

The author of a draft may not approve it (drafts are written by admins and approved by
clinicians, so the four-eyes rule holds by role as well). Every creation, edit, import,
withdrawal, approval and activation is audited, an edit with the old and new value of each
parameter it changed. What a draft changes, and the checks on it, are in
:mod:`monitor.clinical.protocol_changes`.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import Protocol as Interface

from sqlalchemy import Connection, Table, select
from sqlalchemy.orm import Session

from monitor.clinical.permissions import Action
from monitor.clinical.protocol import (
    SECTIONS,
    Protocol,
    ProtocolError,
    available_profiles,
    load_protocol,
    read_revision,
    revised,
)
from monitor.clinical.protocol_changes import (
    ProtocolChangeError,
    checked_reason,
    checked_value,
    difference,
    field_error,
    medication_dict,
    merged_changes,
    resolve,
)
from monitor.clinical.validation import FieldError
from monitor.clock import Clock
from monitor.service import whatif
from monitor.storage import protocol_store
from monitor.storage.model import ProtocolActivation, ProtocolDraft, Staff
from monitor.storage.store import Store

#: What a clinician's signature on a protocol version means.
MEANING_APPROVE = "I approve this protocol version for clinical use"

DRAFT, APPROVED, WITHDRAWN = "draft", "approved", "withdrawn"

_ACTIVATIONS = ProtocolActivation.__table__
_DRAFTS = ProtocolDraft.__table__
assert isinstance(_ACTIVATIONS, Table)
assert isinstance(_DRAFTS, Table)


class DraftNotFoundError(LookupError):
    """No protocol draft (or version) with that id."""


class _Signer(Interface):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def name(self) -> str: ...
    @property
    def role(self) -> str: ...


class _Audit(Interface):
    def __call__(self, db: Session, staff_id: uuid.UUID | None, action: str,
                 record_kind: str = "", record_id: uuid.UUID | None = None, *,
                 now: datetime, old: Mapping[str, Any] | None = None,
                 new: Mapping[str, Any] | None = None) -> str: ...


@dataclass(frozen=True)
class DraftInfo:
    id: uuid.UUID
    profile: str
    base_version_id: uuid.UUID
    changes: dict[str, Any]
    created_by: uuid.UUID
    created_by_name: str
    created_at: datetime
    updated_at: datetime
    reason: str
    state: str
    approved_version_id: uuid.UUID | None


@dataclass(frozen=True)
class ActivationInfo:
    id: uuid.UUID
    profile: str
    version_id: uuid.UUID
    draft_id: uuid.UUID | None
    activated_at: datetime
    approved_by: uuid.UUID
    approver_name: str
    approver_role: str
    meaning: str
    content_hash: str
    reason: str


@dataclass(frozen=True)
class VersionInfo:
    """A stored version with who made it, why, and who approved it (None when it was not
    approved here: a factory file stored when a session started under it)."""

    version: protocol_store.StoredVersion
    made_by: str | None
    reason: str | None
    activation: ActivationInfo | None
    active: bool


@dataclass(frozen=True)
class ParameterRow:
    """One parameter as the protocol screen shows it."""

    section: str
    key: str
    value: Any
    unit: str
    source: str
    factory_value: Any
    #: Differs from the profile's factory file (value, unit or source).
    differs: bool
    #: Changed by the draft being shown.
    changed: bool

    @property
    def field(self) -> str:
        return f"{self.section}.{self.key}"


def active_version_id(connection: Connection, profile: str) -> uuid.UUID | None:
    """The version the clinic activated last for ``profile``; None: its file is in force."""
    row = connection.execute(
        select(_ACTIVATIONS.c.version_id).where(_ACTIVATIONS.c.profile == profile)
        .order_by(_ACTIVATIONS.c.activated_at.desc()).limit(1)).first()
    return row[0] if row is not None else None


class ProtocolAdmin:
    """Drafts, approval and the active version of each profile; Qt-free, one transaction per
    public method. Built by :class:`monitor.service.clinic.ClinicService` (``service.protocols``),
    which lends it its permission check, PIN check and audit trail.
    """

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        require: Callable[..., str],
        signer: Callable[[uuid.UUID, str | None, str], _Signer],
        audit: _Audit,
        versions: protocol_store.VersionCache,
        protocol_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._require = require
        self._signer = signer
        self._audit = audit
        self._versions = versions
        self._protocol_dir = protocol_dir

    # -- reading -----------------------------------------------------------------------------

    @property
    def protocol_dir(self) -> Path | None:
        """Where the profiles' files are (None: the shipped ones)."""
        return self._protocol_dir

    def profiles(self) -> list[str]:
        return [profile for profile, _ in available_profiles(self._protocol_dir)]

    def factory(self, profile: str) -> Protocol:
        """The profile's file: the factory default."""
        return load_protocol(profile, self._protocol_dir)

    def current(self, profile: str) -> tuple[protocol_store.StoredVersion, Protocol]:
        """The version a session started now runs under, and its protocol."""
        with self.store.read() as db:
            connection = db.connection()
            active = active_version_id(connection, profile)
            if active is not None:
                return self._versions.get(connection, active)
        factory = self.factory(profile)
        return protocol_store.version_of(factory, profile, self.clock.now()), factory

    def draft(self, draft_id: uuid.UUID) -> DraftInfo:
        with self.store.read() as db:
            return _draft_info(db.connection(), draft_id)

    def drafts(self, *, include_closed: bool = True) -> list[DraftInfo]:
        with self.store.read() as db:
            connection = db.connection()
            query = select(_DRAFTS.c.id).order_by(_DRAFTS.c.created_at)
            if not include_closed:
                query = query.where(_DRAFTS.c.state == DRAFT)
            return [_draft_info(connection, row[0]) for row in connection.execute(query)]

    def activations(self) -> list[ActivationInfo]:
        with self.store.read() as db:
            return [ActivationInfo(*row) for row in db.connection().execute(
                _ACTIVATION_SELECT.order_by(_ACTIVATIONS.c.activated_at))]

    def active(self) -> dict[str, uuid.UUID | None]:
        """Each profile's activated version; None where its factory file is in force."""
        with self.store.read() as db:
            connection = db.connection()
            return {p: active_version_id(connection, p) for p in self.profiles()}

    def versions(self) -> list[VersionInfo]:
        """Every stored version, oldest first, with who made it, why, and who approved it."""
        activations = {a.version_id: a for a in self.activations()}
        drafts = {d.approved_version_id: d for d in self.drafts() if d.approved_version_id}
        active = set(self.active().values())
        with self.store.read() as db:
            stored = protocol_store.all_versions(db.connection())
        result = []
        for version in stored:
            draft = drafts.get(version.id)
            result.append(VersionInfo(
                version, draft.created_by_name if draft else None,
                draft.reason if draft else None, activations.get(version.id),
                version.id in active))
        return result

    def resolved(self, draft_id: uuid.UUID) -> Protocol:
        """The protocol a draft would make: its base version with its changes, validated."""
        with self.store.read() as db:
            connection = db.connection()
            draft = _draft_info(connection, draft_id)
            base = self._versions.protocol(connection, draft.base_version_id)
        return resolve(base, draft.id, draft.changes)

    def revision(self, text: str, origin: str) -> Protocol:
        """The protocol a TOML document would make as a draft: what it changes, applied to
        the profile's current version (as :meth:`import_text` would base the draft), not to
        the factory file. Refused with the line and field at fault."""
        revision = read_revision(text, origin)
        if revision.profile not in self.profiles():
            raise ProtocolError(origin, f"no profile {revision.profile!r} (known: "
                                f"{', '.join(self.profiles())})", field="protocol.extends")
        base = self.current(revision.profile)[1]
        return revised(base, revision.parameters, version=revision.version or base.version,
                       medications=revision.medications, origin=origin)

    def what_if(self, draft_id: uuid.UUID, *, since: datetime | None = None,
                until: datetime | None = None, workers: int = 1,
                progress: whatif.Progress | None = None,
                cancel: threading.Event | None = None) -> whatif.WhatIfResult:
        """The sessions started in ``[since, until)`` replayed under the draft (its base
        version with its changes) against the version each ran under (reads only)."""
        return whatif.what_if(self.store, self.resolved(draft_id), since=since, until=until,
                              workers=workers, protocol_dir=self._protocol_dir,
                              progress=progress, cancel=cancel)

    def parameters(self, profile: str, *, draft_id: uuid.UUID | None = None,
                   version_id: uuid.UUID | None = None) -> list[ParameterRow]:
        """Every parameter in file order (grouped by section), with unit, value, source,
        and whether it differs from the factory default. Shows the draft or version given,
        else the profile's current version."""
        changed: set[str] = set()
        if draft_id is not None:
            shown = self.resolved(draft_id)
            changed = set(self.draft(draft_id).changes.get("parameters", {}))
        elif version_id is not None:
            with self.store.read() as db:
                shown = self._versions.protocol(db.connection(), version_id)
        else:
            shown = self.current(profile)[1]
        factory = self.factory(profile)
        rows = []
        for parameter in shown.parameters:
            default = factory.parameter(parameter.section, parameter.key)
            rows.append(ParameterRow(
                parameter.section, parameter.key, parameter.value, parameter.unit,
                parameter.source, default.value,
                (default.value, default.unit, default.source)
                != (parameter.value, parameter.unit, parameter.source),
                parameter.field in changed))
        return rows

    def check(self, field: str, raw: object, *, unit: str = "") -> list[FieldError]:
        """The refusals of one value as typed (text is read as a number where one is due)."""
        try:
            checked_value(field, raw, unit)
        except ProtocolChangeError as exc:
            return exc.errors
        return []

    # -- writing (admins) ------------------------------------------------------------------

    def create_draft(self, profile: str, *, by: uuid.UUID, reason: str,
                     parameters: Mapping[str, Any] | None = None,
                     medications: Sequence[Mapping[str, str]] | None = None,
                     version: str | None = None) -> uuid.UUID:
        """A new draft for ``profile``, made from its current version; returns its id.

        ``parameters`` maps ``"section.key"`` to a value, or to ``{"value", "unit",
        "source"}`` (unit and source default to the base version's).
        """
        self._require(by, Action.CHANGE_PROTOCOL, record_kind="protocol_draft")
        reason = checked_reason(reason)
        now = self.clock.now()
        draft_id = uuid.uuid4()
        with self.store.write() as db:
            base_version, base = self._seed(db.connection(), profile, now)
            changes = merged_changes(base, {}, parameters or {}, medications, version)
            resolve(base, draft_id, changes)
            db.add(ProtocolDraft(
                id=draft_id, profile=profile, base_version_id=base_version.id, changes=changes,
                created_by=by, created_at=now, updated_at=now, reason=reason, state=DRAFT))
            db.flush()
            self._audit(db, by, "protocol_draft_create", "protocol_draft", draft_id, now=now,
                        new={"profile": profile, "base_version": str(base_version.id),
                             "base_hash": base_version.hash, "reason": reason,
                             "changes": changes})
        return draft_id

    def edit_draft(self, draft_id: uuid.UUID, *, by: uuid.UUID,
                   parameters: Mapping[str, Any] | None = None,
                   medications: Sequence[Mapping[str, str]] | None = None,
                   version: str | None = None, reason: str | None = None) -> None:
        """Change a draft's parameters (and label, medications or reason); refused whole if
        any value, or the protocol it makes, is invalid."""
        self._require(by, Action.CHANGE_PROTOCOL, record_kind="protocol_draft",
                      record_id=draft_id)
        now = self.clock.now()
        with self.store.write() as db:
            connection = db.connection()
            draft = _draft_info(connection, draft_id, lock=True)
            _require_open(draft)
            base = self._versions.protocol(connection, draft.base_version_id)
            changes = merged_changes(base, draft.changes, parameters or {}, medications, version)
            resolve(base, draft.id, changes)
            old, new = difference(base, draft.changes, changes)
            if reason is not None and reason.strip() != draft.reason:
                old["reason"], new["reason"] = draft.reason, checked_reason(reason)
            if not new and not old:
                return  # nothing changed: nothing written
            row = db.get(ProtocolDraft, draft_id)
            assert row is not None
            row.changes, row.updated_at = changes, now
            row.reason = new.get("reason", row.reason)
            db.flush()
            self._audit(db, by, "protocol_draft_edit", "protocol_draft", draft_id, now=now,
                        old=old, new=new)

    def withdraw(self, draft_id: uuid.UUID, *, by: uuid.UUID, reason: str) -> None:
        """Close a draft without approving it; it is kept, and never changes again."""
        self._require(by, Action.CHANGE_PROTOCOL, record_kind="protocol_draft",
                      record_id=draft_id)
        reason = checked_reason(reason)
        now = self.clock.now()
        with self.store.write() as db:
            draft = _draft_info(db.connection(), draft_id, lock=True)
            _require_open(draft)
            row = db.get(ProtocolDraft, draft_id)
            assert row is not None
            row.state, row.updated_at = WITHDRAWN, now
            db.flush()
            self._audit(db, by, "protocol_draft_withdraw", "protocol_draft", draft_id, now=now,
                        old={"state": DRAFT}, new={"state": WITHDRAWN, "reason": reason})

    def import_text(self, text: str, origin: str, *, by: uuid.UUID,
                    reason: str | None = None) -> uuid.UUID:
        """A draft from a TOML document: a full protocol, or one that ``extends`` a profile
        and lists only what it changes. Malformed input is refused with its line and field."""
        self._require(by, Action.CHANGE_PROTOCOL, record_kind="protocol_draft")
        why = checked_reason(reason or f"imported from {origin}")
        try:
            revision = read_revision(text, origin)
        except ProtocolError as exc:
            raise ProtocolChangeError([field_error(exc)]) from exc
        if revision.profile not in self.profiles():
            raise ProtocolChangeError([FieldError(
                "protocol.extends", f"{origin}: no profile {revision.profile!r} "
                f"(known: {', '.join(self.profiles())})")])
        now = self.clock.now()
        draft_id = uuid.uuid4()
        with self.store.write() as db:
            base_version, base = self._seed(db.connection(), revision.profile, now)
            if revision.name is not None and revision.name != base.name:
                raise ProtocolChangeError([FieldError(
                    "protocol.name", f"{origin}: the name of profile {revision.profile} is "
                    f"{base.name!r}; a draft does not rename it")])
            try:  # order across parameters, naming the line in the file
                checked = revised(base, revision.parameters, version=base.version,
                                  medications=revision.medications, origin=origin)
            except ProtocolError as exc:
                raise ProtocolChangeError([field_error(exc)]) from exc
            parameters = {
                p.field: {"value": p.value, "unit": p.unit, "source": p.source}
                for p, was in zip(checked.parameters, base.parameters, strict=True)
                if (p.value, p.unit, p.source) != (was.value, was.unit, was.source)}
            medications = ([medication_dict(m) for m in revision.medications]
                           if revision.medications is not None
                           and revision.medications != base.medications else None)
            label = revision.version if revision.version not in (None, base.version) else None
            changes = merged_changes(base, {}, parameters, medications, label)
            resolve(base, draft_id, changes)
            db.add(ProtocolDraft(
                id=draft_id, profile=revision.profile, base_version_id=base_version.id,
                changes=changes, created_by=by, created_at=now, updated_at=now, reason=why,
                state=DRAFT))
            db.flush()
            details = {"profile": revision.profile, "file": origin,
                       "file_sha256": protocol_store.content_hash(text),
                       "full": revision.full, "base_version": str(base_version.id),
                       "reason": why, "changes": changes}
            self._audit(db, by, "protocol_import", "protocol_draft", draft_id, now=now,
                        new=details)
            self._audit(db, by, "protocol_draft_create", "protocol_draft", draft_id, now=now,
                        new=details)
        return draft_id

    # -- approval (clinicians) ---------------------------------------------------------------

    def approve(self, draft_id: uuid.UUID, *, by: uuid.UUID, pin: str | None = None
                ) -> uuid.UUID:
        """A clinician's e-signature on a draft: stores its content as a version and makes it
        the profile's protocol for sessions started from now on. Returns the version id."""
        self._require(by, Action.APPROVE_PROTOCOL, record_kind="protocol_draft",
                      record_id=draft_id)
        signer = self._signer(by, pin, MEANING_APPROVE)
        now = self.clock.now()
        with self.store.write() as db:
            connection = db.connection()
            draft = _draft_info(connection, draft_id, lock=True)
            _require_open(draft)
            if draft.created_by == signer.id:
                raise ProtocolChangeError([FieldError(
                    "approved_by", "The author of a draft cannot approve it: another "
                    "clinician signs")])
            current = active_version_id(connection, draft.profile) or protocol_store.version_of(
                self.factory(draft.profile), draft.profile, now).id
            if current != draft.base_version_id:
                raise ProtocolChangeError([FieldError(
                    "base_version", f"This draft was made from version {draft.base_version_id}"
                    f", but {current} is the {draft.profile} protocol now: withdraw the draft "
                    "and write it again on the current version")])
            base = self._versions.protocol(connection, draft.base_version_id)
            protocol = resolve(base, draft.id, draft.changes)
            if protocol_store.version_of(protocol, draft.profile, now).id == current:
                raise ProtocolChangeError([FieldError(
                    "changes", "This draft changes nothing: there is no new version to "
                    "approve")])
            version = protocol_store.store(connection, protocol, profile=draft.profile,
                                           now=now)
            row = db.get(ProtocolDraft, draft_id)
            assert row is not None
            row.state, row.updated_at, row.approved_version_id = APPROVED, now, version.id
            activation = ProtocolActivation(
                id=uuid.uuid4(), profile=draft.profile, version_id=version.id,
                draft_id=draft_id, activated_at=now, approved_by=signer.id,
                approver_name=signer.name, approver_role=signer.role, meaning=MEANING_APPROVE,
                content_hash=version.hash, reason=draft.reason)
            db.add(activation)
            db.flush()
            signed = {"meaning": MEANING_APPROVE, "signer": signer.name,
                      "role": signer.role, "version": str(version.id),
                      "label": version.version, "sha256": version.hash,
                      "profile": draft.profile, "reason": draft.reason}
            self._audit(db, signer.id, "protocol_approve", "protocol_draft", draft_id,
                        now=now, old={"state": DRAFT}, new={"state": APPROVED, **signed})
            self._audit(db, signer.id, "protocol_activate", "protocol_activation",
                        activation.id, now=now, old={"profile": draft.profile,
                                                     "version": str(current)},
                        new={"profile": draft.profile, "version": str(version.id),
                             "sha256": version.hash, "draft": str(draft_id)})
        return version.id

    # -- export --------------------------------------------------------------------------------

    def export_version(self, version_id: uuid.UUID) -> str:
        """A stored version's content: loads back to the same version."""
        with self.store.read() as db:
            stored = protocol_store.load(db.connection(), version_id)
        if stored is None:
            raise DraftNotFoundError(f"no protocol version {version_id}")
        return stored.content

    def export_draft(self, draft_id: uuid.UUID) -> str:
        """The protocol a draft would make, written out in full."""
        return protocol_store.resolved_toml(self.resolved(draft_id))

    # -- internals ---------------------------------------------------------------------------

    def _seed(self, connection: Connection, profile: str, now: datetime
              ) -> tuple[protocol_store.StoredVersion, Protocol]:
        """The profile's current version, stored (its factory file, when none is activated)."""
        active = active_version_id(connection, profile)
        if active is not None:
            return self._versions.get(connection, active)
        try:
            factory = self.factory(profile)
        except ProtocolError as exc:
            raise ProtocolChangeError([field_error(exc)]) from exc
        stored = protocol_store.store(connection, factory, profile=profile, now=now)
        return self._versions.get(connection, stored.id)


def _draft_info(connection: Connection, draft_id: uuid.UUID, *, lock: bool = False
                ) -> DraftInfo:
    query = (select(*_DRAFT_COLUMNS, Staff.name).join(Staff, Staff.id == _DRAFTS.c.created_by)
             .where(_DRAFTS.c.id == draft_id))
    if lock:
        query = query.with_for_update(of=_DRAFTS)
    row = connection.execute(query).first()
    if row is None:
        raise DraftNotFoundError(f"no protocol draft {draft_id}")
    (id_, profile, base, changes, created_by, created_at, updated_at, reason, state,
     approved, name) = row
    return DraftInfo(id_, profile, base, dict(changes), created_by, name, created_at,
                     updated_at, reason, state, approved)


def _require_open(draft: DraftInfo) -> None:
    if draft.state != DRAFT:
        raise ProtocolChangeError([FieldError(
            "state", f"This draft is {draft.state}: it no longer changes")])


_DRAFT_COLUMNS = (_DRAFTS.c.id, _DRAFTS.c.profile, _DRAFTS.c.base_version_id,
                  _DRAFTS.c.changes, _DRAFTS.c.created_by, _DRAFTS.c.created_at,
                  _DRAFTS.c.updated_at, _DRAFTS.c.reason, _DRAFTS.c.state,
                  _DRAFTS.c.approved_version_id)
_ACTIVATION_SELECT = select(
    _ACTIVATIONS.c.id, _ACTIVATIONS.c.profile, _ACTIVATIONS.c.version_id,
    _ACTIVATIONS.c.draft_id, _ACTIVATIONS.c.activated_at, _ACTIVATIONS.c.approved_by,
    _ACTIVATIONS.c.approver_name, _ACTIVATIONS.c.approver_role, _ACTIVATIONS.c.meaning,
    _ACTIVATIONS.c.content_hash, _ACTIVATIONS.c.reason)

#: The sections in file order, for a screen that groups parameters.
SECTION_ORDER: tuple[str, ...] = tuple(SECTIONS)
