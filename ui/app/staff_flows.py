"""Who works the window: sign-in, the lock, the first administrator, staff administration
and the audit trail.

Nobody uses the window unsigned: the first start asks for an administrator, then each staff
member signs in with a PIN (an administrator lands on staff administration, never on patient
records). The lock covers every screen without closing any; whoever signs in there continues
from where it stood, except that an administrator never sees a patient's screen and only a
clinician comes back to the review.

Every database call here runs on the window's database worker
(:class:`~ui.common.background.Background`), so the tick, the idle lock and the countdowns
never wait on the server: the PIN check says "Checking…" and a second tap sends nothing;
the staff list and the audit trail say "Loading…"; a staff change says "Saving…". A server
that cannot be reached or is busy is said in the screen's own words, and what was typed
stays.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

import shiboken6
from PySide6.QtWidgets import QDialog, QWidget

from monitor.clinical.permissions import Action, PermissionDenied, allowed
from monitor.service.auth import AccountLocked, InvalidPin, LoginRefused, StaffInfo
from monitor.service.views import InvalidEntryError, NotFoundError
from monitor.storage.store import StorageError
from ui.app.frame import WindowFrame, refusal_text
from ui.common.background import Latest
from ui.staff.login import FirstAdminScreen, LoginScreen

if TYPE_CHECKING:
    from monitor.service.views import AuditEntry
    from ui.staff.audit import AuditFilter

T = TypeVar("T")

#: The most audit entries one filter shows.
AUDIT_LIMIT = 500


def _unanswerable(future: Future[Any], *shown_on: object) -> bool:
    """Whether an answer cannot be shown: its call was cancelled (the app is closing) or a
    widget it would be shown on is gone (the theme was switched meanwhile)."""
    return future.cancelled() or not all(shiboken6.isValid(each) for each in shown_on)


class StaffFlows(WindowFrame):
    """Signing in and out, and the administrators' screens, as part of the window."""

    # -- on the database worker ---------------------------------------------------------------

    def _read_in_background(self, read: Callable[[], T], shown: Callable[[T], object], *,
                            screen: QWidget,
                            failed: Callable[[StorageError], object] | None = None) -> None:
        """Run ``read`` on the worker; ``shown(result)`` on the GUI thread once it comes, if
        ``screen`` is still there. A server that cannot be reached is said as
        :meth:`_guard` says it, and to ``failed``."""

        def answered(future: Future[T]) -> None:
            if _unanswerable(future, self, screen):
                return
            try:
                result = future.result()
            except StorageError as exc:
                self.reachability.failed(exc)
                self._show_problem(exc.message)
                if failed is not None:
                    failed(exc)
                return
            self._read_answered()
            self._show_reachability()
            shown(result)

        self.board.background.run(read, answered)

    def _storage_failed(self, exc: StorageError) -> None:
        """A change could not be sent: the banner if the server is out of reach."""
        self.reachability.failed(exc)
        self._show_reachability()

    def _load_names(self, login: LoginScreen) -> None:
        """The names to sign in with, read in the background ("Loading…" meanwhile)."""
        service, clock = self.service, self.clock
        login.show_loading()
        self._read_in_background(
            service.staff_list, lambda staff: login.show_staff(staff, at=clock.now()),
            screen=login, failed=lambda exc: login.show_names_problem(exc.message))

    # -- screens --------------------------------------------------------------------------------

    def show_login(self) -> None:
        """Sign-in (or, on a database without an administrator, the first administrator)."""
        service, clock, login = self.service, self.clock, self.login_screen

        def read() -> list[StaffInfo] | None:
            return None if service.needs_first_admin() else service.staff_list()

        def shown(staff: list[StaffInfo] | None) -> None:
            if staff is not None:
                login.show_staff(staff, at=clock.now())
            elif self.stack.currentWidget() is login and self.staff_id is None:
                self._show_first_admin()

        login.set_orientation(self.orientation())
        self.stack.setCurrentWidget(login)
        login.show_loading()
        self._read_in_background(read, shown, screen=login,
                                 failed=lambda exc: login.show_names_problem(exc.message))

    def _show_first_admin(self) -> None:
        if self.first_admin is None:
            self.first_admin = FirstAdminScreen(self.theme)
            self.first_admin.created.connect(self._create_first_admin)
            self.first_admin.set_orientation(self.orientation())
            self.stack.addWidget(self.first_admin)
        self.stack.setCurrentWidget(self.first_admin)

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
        audit, service = self.audit, self.service
        self._read_in_background(lambda: service.staff_list(include_disabled=True),
                                 audit.set_staff, screen=audit)
        self._load_audit(audit.current_filter() or AuditFilter())
        self._show(audit)

    def lock(self, reason: str = "idle") -> None:
        """Cover every screen with the lock screen; the screens stay as they are beneath.
        The lock is recorded and the names read in the background: it covers at once."""
        if self.locked or self.staff_id is None:
            return
        staff_id, service = self.staff_id, self.service
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
        self.lock_screen.set_orientation(self.orientation())
        self._refresh_lock()
        self.stack.setCurrentWidget(self.lock_screen)
        self._read_in_background(lambda: service.record_lock(staff_id, reason=reason),
                                 lambda _done: None, screen=self.lock_screen)
        self._load_names(self.lock_screen.login)

    def lock_by_hand(self) -> None:
        """"Lock" was tapped: the same or another staff member signs in to continue."""
        self.lock("manual")

    def _refresh_lock(self) -> None:
        tiles = self.chair_tiles()
        if tiles is not None:
            self.lock_screen.show_chairs(tiles)

    def _login(self, staff_id: uuid.UUID, pin: str) -> None:
        """Check the PIN in the background: "Checking…" meanwhile, and nothing sent twice."""
        login = self.lock_screen.login if self.locked else self.login_screen
        if login.checking:
            return
        service = self.service
        login.show_checking(True)

        def answered(future: Future[StaffInfo]) -> None:
            if _unanswerable(future, self, login):
                return
            login.show_checking(False)
            try:
                info = future.result()
            except (LoginRefused, AccountLocked) as exc:
                self._read_answered()
                self._show_reachability()
                login.show_error(str(exc))
                self._load_names(login)  # a lockout shows on the name
                return
            except StorageError as exc:
                self._storage_failed(exc)
                # Nothing was checked: the PIN stays for the next tap.
                login.show_error(f"{exc.message} Try again.", keep_pin=True)
                return
            self._read_answered()
            self._show_reachability()
            self._signed_in(info)

        self.board.background.run(lambda: service.login(staff_id, pin), answered)

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
        first_admin, service = self.first_admin, self.service
        assert first_admin is not None
        if first_admin.saving:
            return
        first_admin.show_saving(True)

        def answered(future: Future[uuid.UUID]) -> None:
            if _unanswerable(future, self, first_admin):
                return
            first_admin.show_saving(False)
            try:
                admin_id = future.result()
            except (InvalidEntryError, InvalidPin, PermissionDenied, ValueError) as exc:
                first_admin.show_error(refusal_text(exc))
                return
            except StorageError as exc:
                self._storage_failed(exc)
                first_admin.show_error(refusal_text(exc))
                return
            self._signed_in(StaffInfo(admin_id, name, "admin", True, None))

        self.board.background.run(lambda: service.create_first_admin(name, pin), answered)

    def _refresh_admin(self) -> None:
        admin, service, clock = self.staff_admin, self.service, self.clock
        if admin is None:
            return
        admin.show_loading()
        self._read_in_background(
            lambda: service.staff_list(include_disabled=True),
            lambda staff: admin.show_staff(staff, at=clock.now()), screen=admin,
            failed=lambda exc: admin.show_list_problem(exc.message))

    def _add_staff(self, name: str, role: str, pin: str) -> None:
        service, by = self.service, self._by()
        self._manage(f"Added {name}: they sign in with the PIN you set",
                     lambda: service.add_staff(name, role, pin, by=by), clear_form=True)

    def _disable_staff(self, staff_id: uuid.UUID) -> None:
        service, by = self.service, self._by()
        self._manage("Disabled: they can no longer sign in",
                     lambda: service.disable_staff(staff_id, by=by))

    def _reset_pin(self, staff_id: uuid.UUID, pin: str) -> None:
        service, by = self.service, self._by()
        self._manage("New PIN saved", lambda: service.reset_pin(staff_id, pin, by=by),
                     clear_form=True)

    def _manage(self, done: str, action: Callable[[], object], *,
                clear_form: bool = False) -> None:
        """Run a staff change in the background ("Saving…", nothing sent twice); the admin
        screen says what happened or why not, and keeps what was typed when it failed."""
        admin = self.staff_admin
        assert admin is not None
        if admin.saving:
            return
        admin.show_saving(True)

        def answered(future: Future[Any]) -> None:
            if _unanswerable(future, self, admin):
                return
            admin.show_saving(False)
            try:
                future.result()
            except StorageError as exc:
                self._storage_failed(exc)
                admin.show_error(refusal_text(exc))
                return
            except (InvalidEntryError, InvalidPin, PermissionDenied, ValueError,
                    NotFoundError) as exc:
                admin.show_error(refusal_text(exc))
                return
            self.reachability.succeeded()
            self._show_reachability()
            if clear_form:
                admin.show_add()
            admin.show_message(done)
            self._refresh_admin()

        self.board.background.run(action, answered)

    def _load_audit(self, chosen: AuditFilter) -> None:
        """The entries ``chosen`` asks for, read in the background ("Loading…" meanwhile);
        when the filter changes again before they come, only the newest answer is shown."""
        audit, service, by = self.audit, self.service, self._by()
        assert audit is not None

        def read() -> list[AuditEntry] | None:
            patient_id = None
            if chosen.mrn:
                patient = service.find_patient(chosen.mrn)
                if patient is None:
                    return None
                patient_id = patient.id
            return service.audit_entries(
                by=by, patient_id=patient_id, session_id=chosen.session_id,
                staff_id=chosen.staff_id, action=chosen.action, since=chosen.since,
                until=chosen.until, limit=AUDIT_LIMIT)

        def answered(future: Future[list[AuditEntry] | None]) -> None:
            if _unanswerable(future, self, audit):
                return
            try:
                entries = future.result()
            except StorageError as exc:
                self.reachability.failed(exc)
                self._show_problem(exc.message)
                audit.show_error(exc.message)
                return
            except PermissionDenied as exc:
                audit.show_error(refusal_text(exc))
                return
            self.reachability.succeeded()
            self._show_reachability()
            if entries is None:
                audit.show_error(f"Patient: no patient with MRN {chosen.mrn}")
                return
            self._audit_actions.update(e.action for e in entries)
            audit.set_actions(sorted(self._audit_actions))
            audit.show_entries(entries, limit=AUDIT_LIMIT)

        if self._audit_reads is None:
            self._audit_reads = Latest(self.board.background)
        audit.show_loading()
        self._audit_reads.run(read, answered)
