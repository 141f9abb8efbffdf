"""The protocol screen's controller: what :class:`~ui.protocol.screen.ProtocolScreen` asks
goes to ``service.protocols``, and the answers come back to it.

Every read and write runs on the database worker it is given (:mod:`ui.common.background`):
the screen says "Loading…" or "Saving…" meanwhile and answers taps, a second tap on a write
in flight sends nothing, and a refusal (the server unreachable or busy, a value refused)
is shown with what was typed still on screen.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import shiboken6

from monitor.clinical.protocol_changes import MIN_REASON
from monitor.storage.store import StorageError
from ui.common.ask import ReasonDialog
from ui.common.background import Background, Latest
from ui.common.signature import SignatureRequest
from ui.protocol.screen import APPROVE_MEANING, ProtocolScreen

if TYPE_CHECKING:
    from concurrent.futures import Future

    from monitor.service.protocol_admin import (
        DraftInfo,
        ParameterRow,
        ProtocolAdmin,
        VersionInfo,
    )
    from monitor.service.worker import Worker


class SignedIn(Protocol):
    """Who is signed in, as the protocol screen needs them (the application window)."""

    @property
    def staff_id(self) -> uuid.UUID | None: ...

    @property
    def staff_role(self) -> str: ...

    def ask_signature(self, request: SignatureRequest) -> object:
        """Ask the signed-in staff member to sign ``request``."""
        ...


class ProtocolController:
    """Connects a :class:`ProtocolScreen` to ``service.protocols`` for the signed-in person.

    Its reads and writes run on ``worker`` (:mod:`ui.common.background`; at once without
    one): the screen says "Loading…" or "Saving…" meanwhile and answers taps; a second tap
    on a write in flight sends nothing; a refused write leaves what was typed on screen.
    """

    def __init__(self, protocols: ProtocolAdmin, screen: ProtocolScreen,
                 signed_in: SignedIn, worker: Worker | None = None) -> None:
        self.protocols = protocols
        self.signed_in = signed_in
        self.screen = screen
        self.draft_id: uuid.UUID | None = None
        self.background = Background(worker, parent=screen)
        self._reads = Latest(self.background)
        #: Whether a write (a draft created, saved, approved or withdrawn) is in flight.
        self.busy = False
        #: Each parameter's unit, as last loaded (a value typed is checked against it).
        self._units: dict[str, str] = {}
        screen.profileChosen.connect(self.choose_profile)
        screen.draftChosen.connect(self.choose_draft)
        screen.newDraftRequested.connect(self.new_draft)
        screen.valueTyped.connect(self.check)
        screen.saveRequested.connect(self.save)
        screen.approveRequested.connect(self.approve)
        screen.withdrawRequested.connect(self.ask_withdraw)
        #: The dialog asking why a draft is withdrawn, while it is open.
        self.withdraw_dialog: ReasonDialog | None = None

    def refresh(self, message: str | None = None) -> None:
        """Read the profile's parameters (of the draft chosen), drafts and versions again;
        ``message`` is shown once they are (None: the message shown stays)."""
        profile, draft_id, protocols = self.screen.profile, self.draft_id, self.protocols
        self.screen.set_role(self.signed_in.staff_role)
        self.screen.show_profile(profile)

        def read() -> _Loaded:
            draft = protocols.draft(draft_id) if draft_id is not None else None
            return (draft, protocols.parameters(profile, draft_id=draft_id),
                    [d for d in protocols.drafts() if d.profile == profile],
                    [v for v in protocols.versions() if v.version.profile == profile])

        def answered(future: Future[_Loaded]) -> None:
            if not shiboken6.isValid(self.screen):
                return
            try:
                draft, rows, drafts, versions = future.result()
            except Exception as exc:
                if not self._refused(exc):
                    raise
                return
            self._units = {row.field: row.unit for row in rows}
            self.screen.show_parameters(rows, draft)
            self.screen.show_drafts(drafts)
            self.screen.show_versions(versions)
            if message is not None:
                self.screen.show_message(message)
            elif self.background.threaded and self.screen.message.text() == "Loading…":
                self.screen.show_message("")

        self._reads.run(read, answered)
        if self._reads.busy:
            self.screen.show_message("Loading…")

    def choose_profile(self, profile: str) -> None:
        self.screen.profile = profile
        self.draft_id = None
        self.refresh()

    def choose_draft(self, draft_id: uuid.UUID | None) -> None:
        self.draft_id = draft_id
        self.refresh()

    def new_draft(self, reason: str) -> None:
        protocols, profile, by = self.protocols, self.screen.profile, self._by()

        def created(draft_id: object) -> None:
            assert isinstance(draft_id, uuid.UUID)
            self.draft_id = draft_id

        self._write(lambda: protocols.create_draft(profile, by=by, reason=reason), created,
                    "Draft saved: edit its values, then save")

    def check(self, field: str, text: str) -> None:
        """Check a value as typed against its unit (as loaded; nothing is read)."""
        errors = self.protocols.check(field, text, unit=self._units.get(field, ""))
        self.screen.show_field_error(field, errors[0].message if errors else None)

    def save(self, edits: dict[str, str]) -> None:
        if self.draft_id is None:
            return
        protocols, draft_id, by = self.protocols, self.draft_id, self._by()
        self._write(lambda: protocols.edit_draft(draft_id, by=by, parameters=edits),
                    lambda _result: None, "Saved")

    def approve(self, draft_id: uuid.UUID) -> None:
        draft = self.screen.draft
        reason = draft.reason if draft is not None and draft.id == draft_id else ""
        protocols, by = self.protocols, self._by()

        def approve(pin: str) -> None:
            protocols.approve(draft_id, by=by, pin=pin)

        def refusal(exc: BaseException) -> str | None:
            from monitor.clinical.permissions import PermissionDenied  # noqa: PLC0415
            from monitor.clinical.protocol_changes import ProtocolChangeError  # noqa: PLC0415
            from monitor.service.auth import AccountLocked, LoginRefused  # noqa: PLC0415
            if isinstance(exc, LoginRefused | AccountLocked | PermissionDenied
                          | ProtocolChangeError):
                return str(exc)
            if isinstance(exc, StorageError):
                return exc.message
            return None

        def approved() -> None:
            self.draft_id = None
            self.refresh("Approved: sessions started from now on use it")

        def submit(pin: str) -> str | None:
            try:
                approve(pin)
            except Exception as exc:
                if (text := refusal(exc)) is None:
                    raise
                return text
            approved()
            return None

        def start(pin: str, reply: Callable[[str | None], None]) -> None:
            def answered(future: Future[None]) -> None:
                try:
                    future.result()
                except Exception as exc:
                    if (text := refusal(exc)) is None:
                        raise
                    reply(text)
                    return
                reply(None)
                if shiboken6.isValid(self.screen):
                    approved()
            self.background.run(lambda: approve(pin), answered)

        self.signed_in.ask_signature(SignatureRequest(
            "Approve the protocol", APPROVE_MEANING.format(reason=reason), submit,
            start=start if self.background.threaded else None))

    def ask_withdraw(self, draft_id: uuid.UUID) -> ReasonDialog:
        """Ask why the draft is withdrawn (non-modal); withdraw it once a reason is given."""
        if self.withdraw_dialog is not None:
            self.withdraw_dialog.close()
            self.withdraw_dialog.deleteLater()
        dialog = ReasonDialog(
            self.screen.theme, "Withdraw the draft",
            "The draft is closed without approval: it is kept, as it is, and never changes "
            "again. Sessions are not affected. Write why it is withdrawn.",
            action="Withdraw the draft", min_length=MIN_REASON,
            placeholder="Why the draft is withdrawn", parent=self.screen)
        dialog.setObjectName("protocol-withdraw-dialog")
        dialog.setModal(False)
        dialog.accepted.connect(lambda: self.withdraw(draft_id, dialog.reason()))
        self.withdraw_dialog = dialog
        dialog.show()
        return dialog

    def withdraw(self, draft_id: uuid.UUID, reason: str) -> None:
        protocols, by = self.protocols, self._by()

        def closed(_result: object) -> None:
            self.draft_id = None

        self._write(lambda: protocols.withdraw(draft_id, by=by, reason=reason), closed,
                    "Draft withdrawn: it is kept and no longer changes")

    def _by(self) -> uuid.UUID:
        staff_id = self.signed_in.staff_id
        assert staff_id is not None
        return staff_id

    def _write(self, write: Callable[[], object], then: Callable[[object], None],
               message: str) -> None:
        """Run ``write`` on the worker ("Saving…" meanwhile; a write in flight takes no
        other); once done, ``then(its result)`` and the screen read again with ``message``.
        A refusal is shown, and what was typed stays."""
        if self.busy:
            return
        self.busy = True

        def answered(future: Future[object]) -> None:
            self.busy = False
            if not shiboken6.isValid(self.screen):
                return
            self.screen.set_busy(busy=False)
            try:
                result = future.result()
            except Exception as exc:
                if not self._refused(exc):
                    raise
                return
            then(result)
            self.refresh(message)

        self.screen.set_busy(busy=True)
        self.screen.show_message("Saving…")
        self.background.run(write, answered)

    def _refused(self, exc: BaseException) -> bool:
        """Show why ``exc`` refused the call; False for a bug (not a refusal)."""
        from monitor.clinical.permissions import PermissionDenied  # noqa: PLC0415
        from monitor.clinical.protocol_changes import ProtocolChangeError  # noqa: PLC0415
        if isinstance(exc, ProtocolChangeError):
            for error in exc.errors:
                self.screen.show_field_error(error.field, error.message)
            self.screen.show_error(str(exc))
        elif isinstance(exc, PermissionDenied):
            self.screen.show_error(str(exc))
        elif isinstance(exc, StorageError):
            # Its words say what happened: "NOT saved: …", "Could not read: …", or that
            # it is not known whether saved.
            self.screen.show_error(exc.message)
        else:
            return False
        return True


#: What the screen shows, read together: the draft chosen, its parameters, the drafts and
#: the versions of the profile.
_Loaded = tuple["DraftInfo | None", "list[ParameterRow]", "list[DraftInfo]",
                "list[VersionInfo]"]
