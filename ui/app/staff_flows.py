"""Who works the window: sign-in, the lock, the first administrator, staff administration
and the audit trail.

Nobody uses the window unsigned: the first start asks for an administrator, then each staff
member signs in with a PIN (an administrator lands on staff administration, never on patient
records). The lock covers every screen without closing any; whoever signs in there continues
from where it stood, except that an administrator never sees a patient's screen and only a
clinician comes back to the review.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog

from monitor.clinical.permissions import Action, PermissionDenied, allowed
from monitor.service.auth import AccountLocked, InvalidPin, LoginRefused, StaffInfo
from monitor.service.views import InvalidEntryError, NotFoundError
from monitor.storage.store import StorageError
from ui.app.frame import WindowFrame, refusal_text
from ui.staff.login import FirstAdminScreen

if TYPE_CHECKING:
    from ui.staff.audit import AuditFilter

#: The most audit entries one filter shows.
AUDIT_LIMIT = 500


class StaffFlows(WindowFrame):
    """Signing in and out, and the administrators' screens, as part of the window."""

    def show_login(self) -> None:
        """Sign-in (or, on a database without an administrator, the first administrator)."""
        if self._guard(self.service.needs_first_admin):
            if self.first_admin is None:
                self.first_admin = FirstAdminScreen(self.theme)
                self.first_admin.created.connect(self._create_first_admin)
                self.first_admin.set_orientation(self.orientation())
                self.stack.addWidget(self.first_admin)
            self.stack.setCurrentWidget(self.first_admin)
            return
        self.login_screen.show_staff(self._guard(self.service.staff_list) or [],
                                     at=self.clock.now())
        self.login_screen.set_orientation(self.orientation())
        self.stack.setCurrentWidget(self.login_screen)

    def show_admin(self) -> None:
        """Staff administration: an administrator's only screen besides the audit trail."""
        if self.staff_admin is None:
            from ui.staff.admin import StaffAdminScreen  # noqa: PLC0415 - built on first use
            self.staff_admin = StaffAdminScreen(self.theme)
            self.staff_admin.addRequested.connect(self._add_staff)
            self.staff_admin.disableRequested.connect(self._disable_staff)
            self.staff_admin.resetPinRequested.connect(self._reset_pin)
            self.staff_admin.auditRequested.connect(self.show_audit)
            self.staff_admin.protocolRequested.connect(self.show_protocol)
            self.staff_admin.lockRequested.connect(self.lock_by_hand)
            self.staff_admin.set_orientation(self.orientation())
            self.stack.addWidget(self.staff_admin)
        self.staff_admin.show_user(self.staff_name)
        self._refresh_admin()
        self._show(self.staff_admin)

    def show_audit(self) -> None:
        """The audit trail, unfiltered at first (clinicians and administrators)."""
        from ui.staff.audit import AuditFilter, AuditScreen  # noqa: PLC0415 - on first use
        if self.audit is None:
            self.audit = AuditScreen(self.theme)
            self.audit.filterRequested.connect(self._load_audit)
            self.audit.back.connect(self.show_overview)
            self.audit.set_orientation(self.orientation())
            self.stack.addWidget(self.audit)
        self.audit.set_staff(self._guard(
            lambda: self.service.staff_list(include_disabled=True)) or [])
        self._load_audit(self.audit.current_filter() or AuditFilter())
        self._show(self.audit)

    def lock(self, reason: str = "idle") -> None:
        """Cover every screen with the lock screen; the screens stay as they are beneath."""
        if self.locked or self.staff_id is None:
            return
        staff_id = self.staff_id
        self._guard(lambda: self.service.record_lock(staff_id, reason=reason))
        if self.signature_dialog is not None:
            # A signature belongs to who was signed in: it is asked again after the lock.
            self.signature_dialog.reject()
        # Open dialogs (an acknowledgement half-chosen) may show values: hidden, kept.
        self._hidden_dialogs = [d for d in self.findChildren(QDialog) if d.isVisible()]
        for dialog in self._hidden_dialogs:
            dialog.hide()
        self._under_lock = self.stack.currentWidget()
        self.locked = True
        self.lock_screen.show_locked(self.clock.now(), self.staff_name)
        self.lock_screen.show_staff(self._guard(self.service.staff_list) or [],
                                    at=self.clock.now())
        self.lock_screen.set_orientation(self.orientation())
        self._refresh_lock()
        self.stack.setCurrentWidget(self.lock_screen)

    def lock_by_hand(self) -> None:
        """"Lock" was tapped: the same or another staff member signs in to continue."""
        self.lock("manual")

    def _refresh_lock(self) -> None:
        tiles = self.chair_tiles()
        if tiles is not None:
            self.lock_screen.show_chairs(tiles)

    def _login(self, staff_id: uuid.UUID, pin: str) -> None:
        screen = self.lock_screen if self.locked else self.login_screen
        try:
            info = self.service.login(staff_id, pin)
        except (LoginRefused, AccountLocked) as exc:
            screen.show_error(str(exc))
            screen.show_staff(self._guard(self.service.staff_list) or [], at=self.clock.now())
            return
        except StorageError as exc:
            screen.show_error(f"{exc.message} Try again.")
            return
        self._signed_in(info)

    def _signed_in(self, info: StaffInfo) -> None:
        """``info`` is now the one entering records; the screen under a lock comes back."""
        self.staff_id, self.staff_name, self.staff_role = info.id, info.name, info.role
        self.overview.show_user(info.name, info.role)
        self.overview.show_audit_entry(info.role == "clinician")
        self.overview.show_review_entry(info.role == "clinician")
        for presenter in self.presenters.values():
            presenter.set_staff(info.id)
        # An action's outcome belongs to whoever acted: it is not shown to the next sign-in.
        for screen in self.sessions.values():
            screen.header.clear_notice()
            screen.discharge.allow_override(allowed(info.role, Action.OVERRIDE_DISCHARGE))
        self.idle.reset()
        under, self._under_lock = self._under_lock, None
        was_locked, self.locked = self.locked, False
        self.login_screen.reset()
        hidden, self._hidden_dialogs = self._hidden_dialogs, []
        if info.role == "admin":
            self.show_admin()
            return
        clinical = under is not None and under not in (self.staff_admin, self.audit,
                                                       self.login_screen, self.lock_screen)
        if info.role != "clinician" and under in (self.review_screen, self.session_review,
                                                  self.course_screen):
            under = None  # the review is a clinician's: someone else lands on the overview
        if was_locked and clinical and under is not None and self.stack.indexOf(under) >= 0:
            self.stack.setCurrentWidget(under)
            if (session := self._as_session(under)) is not None:
                session.presenter.refresh()
            for dialog in hidden:
                dialog.show()
        else:
            self.show_overview()

    def _landing(self) -> None:
        """Where a signed-in staff member starts: administrators at staff administration."""
        if self.staff_role == "admin":
            self.show_admin()
        else:
            self.show_overview()

    def _create_first_admin(self, name: str, pin: str) -> None:
        assert self.first_admin is not None
        try:
            admin_id = self.service.create_first_admin(name, pin)
        except (InvalidEntryError, InvalidPin, PermissionDenied, ValueError) as exc:
            self.first_admin.show_error(refusal_text(exc))
            return
        except StorageError as exc:
            self.first_admin.show_error(f"NOT saved: {exc.message}")
            return
        self._signed_in(StaffInfo(admin_id, name, "admin", True, None))

    def _refresh_admin(self) -> None:
        if self.staff_admin is not None:
            self.staff_admin.show_staff(
                self._guard(lambda: self.service.staff_list(include_disabled=True)) or [],
                at=self.clock.now())

    def _add_staff(self, name: str, role: str, pin: str) -> None:
        if self._manage(f"Added {name}: they sign in with the PIN you set",
                        lambda: self.service.add_staff(name, role, pin, by=self._by())):
            assert self.staff_admin is not None
            self.staff_admin.show_add()

    def _disable_staff(self, staff_id: uuid.UUID) -> None:
        self._manage("Disabled: they can no longer sign in",
                     lambda: self.service.disable_staff(staff_id, by=self._by()))

    def _reset_pin(self, staff_id: uuid.UUID, pin: str) -> None:
        if self._manage("New PIN saved", lambda: self.service.reset_pin(
                staff_id, pin, by=self._by())):
            assert self.staff_admin is not None
            self.staff_admin.show_add()

    def _manage(self, done: str, action: Callable[[], object]) -> bool:
        """Run a staff change; the admin screen says what happened or why not."""
        assert self.staff_admin is not None
        try:
            action()
        except (InvalidEntryError, InvalidPin, PermissionDenied, ValueError, NotFoundError,
                StorageError) as exc:
            self.staff_admin.show_error(refusal_text(exc))
            return False
        self._refresh_admin()
        self.staff_admin.show_message(done)
        return True

    def _load_audit(self, chosen: AuditFilter) -> None:
        assert self.audit is not None
        patient_id = None
        if chosen.mrn:
            patient = self._guard(lambda: self.service.find_patient(chosen.mrn))
            if patient is None:
                self.audit.show_error(f"Patient: no patient with MRN {chosen.mrn}")
                return
            patient_id = patient.id
        try:
            entries = self.service.audit_entries(
                by=self._by(), patient_id=patient_id, session_id=chosen.session_id,
                staff_id=chosen.staff_id, action=chosen.action, since=chosen.since,
                until=chosen.until, limit=AUDIT_LIMIT)
        except (PermissionDenied, StorageError) as exc:
            self.audit.show_error(refusal_text(exc))
            return
        self._audit_actions.update(e.action for e in entries)
        self.audit.set_actions(sorted(self._audit_actions))
        self.audit.show_entries(entries, limit=AUDIT_LIMIT)
