"""Staff and sign-in: who may use the tablets, their PINs, and the screen lock.

An admin adds nurses, clinicians and admins with their first PIN, disables them (their rows
stay) and sets new PINs. Signing in checks the PIN (:meth:`monitor.service.guard.Guard.check_pin`):
five wrong ones in a row lock the account for 15 minutes. Every attempt is audited.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from monitor.clinical.permissions import STAFF_ROLES, Action, PermissionDenied
from monitor.clinical.validation import FieldError
from monitor.service.auth import InvalidPin, StaffInfo, check_new_pin
from monitor.service.guard import Guard
from monitor.service.views import InvalidEntryError
from monitor.storage.model import Staff


class StaffManager:
    """The staff list, PINs and sign-in."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        self.store = guard.store
        self.clock = guard.clock

    def ensure_staff(self, name: str, role: str, *, pin: str | None = None) -> uuid.UUID:
        """The id of the staff member with this name and role, created if missing.

        For system identities (imports, the command line), demo data and tests; people are
        added by an admin with :meth:`add_staff`. ``pin`` sets a PIN where there is none.
        """
        pin_hash = self.guard.pin_hash(check_new_pin(pin)) if pin is not None else None
        now = self.clock.now()
        # Not a guarded change: nobody acts before the staff member exists, and the entry is
        # theirs, found or created inside the transaction.
        with self.store.write() as db:
            found = db.scalar(select(Staff).where(Staff.name == name, Staff.role == role))
            if found is not None:
                if pin_hash is not None and found.pin_hash is None:
                    found.pin_hash = pin_hash
                    self.guard.audit(db, found.id, "pin_reset", "staff", found.id, now=now)
                return found.id
            staff = Staff(id=uuid.uuid4(), name=name, role=role, created_at=now,
                          pin_hash=pin_hash, failed_logins=0)
            db.add(staff)
            db.flush()
            self.guard.audit(db, staff.id, "staff_add", "staff", staff.id, now=now,
                             new={"name": name, "role": role})
            return staff.id

    def needs_first_admin(self) -> bool:
        """True until an admin who can sign in exists (the first start asks for one)."""
        with self.store.read() as db:
            found = db.scalar(select(Staff.id).where(
                Staff.role == "admin", Staff.active.is_(True), Staff.pin_hash.is_not(None)
            ).limit(1))
        return found is None

    def create_first_admin(self, name: str, pin: str) -> uuid.UUID:
        """Create the first admin; refused once any admin exists."""
        clean = self._staff_name(name)
        pin_hash = self._new_pin_hash(pin)
        now = self.clock.now()
        # Not a guarded change: no one may act before the first admin, whose own entry it is.
        with self.store.write() as db:
            if db.scalar(select(Staff.id).where(Staff.role == "admin").limit(1)) is not None:
                raise PermissionDenied(None, Action.MANAGE_STAFF, (
                    "An admin already exists; ask an admin to add staff."))
            staff = Staff(id=uuid.uuid4(), name=clean, role="admin", created_at=now,
                          pin_hash=pin_hash, failed_logins=0, active=True)
            db.add(staff)
            db.flush()
            self.guard.audit(db, staff.id, "staff_add", "staff", staff.id, now=now,
                             new={"name": clean, "role": "admin", "first_admin": True})
        return staff.id

    def add_staff(self, name: str, role: str, pin: str, *, by: uuid.UUID) -> uuid.UUID:
        """An admin adds a nurse, clinician or admin with their first PIN."""
        self.guard.require(by, Action.MANAGE_STAFF)
        clean = self._staff_name(name)
        if role not in STAFF_ROLES:
            raise InvalidEntryError([FieldError(
                "role", f"Role: one of {', '.join(STAFF_ROLES)} (got {role!r})")])
        pin_hash = self._new_pin_hash(pin)
        with self.guard.write(by) as change:
            db = change.db
            taken = db.scalar(select(Staff.id).where(
                func.lower(Staff.name) == clean.lower(), Staff.active.is_(True)).limit(1))
            if taken is not None:
                raise InvalidEntryError([FieldError(
                    "name", f"Name: {clean} is already on the staff list; add a middle "
                    "initial or a surname to tell them apart")])
            staff = Staff(id=uuid.uuid4(), name=clean, role=role, created_at=change.now,
                          pin_hash=pin_hash, failed_logins=0, active=True)
            db.add(staff)
            db.flush()
            change.audit("staff_add", "staff", staff.id, new={"name": clean, "role": role})
        return staff.id

    def disable_staff(self, staff_id: uuid.UUID, *, by: uuid.UUID) -> None:
        """An admin disables a staff member: they can no longer sign in. Rows stay."""
        with self.guard.change(by, Action.MANAGE_STAFF) as change:
            staff = self.guard.staff_row(change.db, staff_id)
            if staff.role == "admin" and staff.active:
                others = change.db.scalar(select(func.count()).select_from(Staff).where(
                    Staff.role == "admin", Staff.active.is_(True), Staff.id != staff_id))
                if not others:
                    raise InvalidEntryError([FieldError(
                        "staff", "The last active admin cannot be disabled; add another "
                        "admin first")])
            if staff.active:
                staff.active = False
                change.audit("staff_disable", "staff", staff_id, old={"active": True},
                             new={"active": False})

    def reset_pin(self, staff_id: uuid.UUID, new_pin: str, *, by: uuid.UUID) -> None:
        """An admin sets a new PIN; this also lifts a lock."""
        self.guard.require(by, Action.MANAGE_STAFF)
        pin_hash = self._new_pin_hash(new_pin)
        with self.guard.write(by) as change:
            staff = self.guard.staff_row(change.db, staff_id)
            staff.pin_hash = pin_hash
            staff.failed_logins = 0
            staff.locked_at = None
            change.audit("pin_reset", "staff", staff_id)
        self.guard.forget_lock(staff_id)

    def staff_list(self, *, include_disabled: bool = False) -> list[StaffInfo]:
        """Everyone who can sign in (and, asked, the disabled), by name."""
        query = select(Staff).where(Staff.role.in_(STAFF_ROLES)).order_by(Staff.name)
        if not include_disabled:
            query = query.where(Staff.active.is_(True))
        with self.store.read() as db:
            rows = list(db.scalars(query))
            return [self.guard.staff_info(row) for row in rows]

    def staff_info(self, staff_id: uuid.UUID) -> StaffInfo:
        with self.store.read() as db:
            return self.guard.staff_info(self.guard.staff_row(db, staff_id))

    def active_staff(self) -> list[tuple[uuid.UUID, str, str]]:
        """``(id, name, role)`` of every active person who may enter records, by name."""
        query = (
            select(Staff.id, Staff.name, Staff.role)
            .where(Staff.active.is_(True), Staff.role.in_(("nurse", "clinician")))
            .order_by(Staff.name)
        )
        with self.store.read() as db:
            return [(row[0], row[1], row[2]) for row in db.execute(query)]

    def login(self, staff_id: uuid.UUID, pin: str) -> StaffInfo:
        """Check a staff member's PIN: the signed-in :class:`StaffInfo`, or refused.

        A wrong PIN raises :class:`LoginRefused` (saying how many tries are left); the
        fifth in a row locks the account for 15 minutes (:class:`AccountLocked`). Every
        attempt is audited.
        """
        info = self.guard.check_pin(staff_id, pin)
        with self.guard.write(staff_id) as change:
            change.audit("login", "staff", staff_id)
        return info

    def record_lock(self, staff_id: uuid.UUID, *, reason: str = "idle") -> None:
        """Audit that the screen locked for this staff member (idle or by hand)."""
        with self.guard.write(staff_id) as change:
            change.audit("screen_lock", "staff", staff_id, new={"reason": reason})

    def set_demo_pins(self, pin: str, *, by: uuid.UUID | None = None) -> int:
        """Give every person without a PIN ``pin``: demo databases only (``--demo``).

        ``by``: who set them (the command line's identity); each person by default.
        """
        self._new_pin_hash(pin)  # refuses a PIN that breaks the rules
        now = self.clock.now()
        # Not a guarded change: without ``by`` each entry is the person's own.
        with self.store.write() as db:
            rows = list(db.scalars(select(Staff).where(
                Staff.pin_hash.is_(None), Staff.role.in_(STAFF_ROLES))))
            for row in rows:
                row.pin_hash = self.guard.pin_hash(pin)  # a salt of its own each
                self.guard.audit(db, by or row.id, "pin_reset", "staff", row.id, now=now,
                                 new={"demo": True})
            return len(rows)

    def _staff_name(self, name: str) -> str:
        clean = " ".join((name or "").split())
        if not clean or len(clean) > 120:
            raise InvalidEntryError([FieldError("name", "Name: 1 to 120 characters")])
        return clean

    def _new_pin_hash(self, pin: str) -> str:
        try:
            return self.guard.pin_hash(check_new_pin(pin))
        except InvalidPin as exc:
            raise InvalidEntryError([FieldError("pin", str(exc))]) from None
