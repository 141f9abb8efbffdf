"""Who may do what: the roles of ChairSide's staff and the actions each may take.

The matrix is enforced in :class:`monitor.service.clinic.ClinicService`, not only by hiding buttons:
every public method that changes the record checks :func:`allowed` for the acting staff
member and refuses with :class:`PermissionDenied` (the refusal itself is audited).

* nurse: enter readings and events, check patients in, acknowledge flags, void their own
  entries (undo), sign discharge when every criterion is met, export, import a session
  recorded elsewhere (``python -m monitor import --as``).
* clinician: everything a nurse can, and amend, void anyone's entry, override discharge,
  add a late entry (with a reason) after the discharge is signed, review sessions, view the
  audit trail, approve a protocol draft for clinical use, set a patient's own limits.
* admin: manage staff, change the protocol (write and import drafts), view the audit
  trail, bind bedside monitors to chairs; no clinical record actions. Everyone may read
  the protocol and its versions.
* system (imports and the command line): import and export only.
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    ENTER_READING = "enter_reading"
    ENTER_EVENT = "enter_event"
    CHECK_IN = "check_in"
    ACKNOWLEDGE = "acknowledge"
    #: Void one's own entry (undo).
    VOID = "void"
    #: Void an entry someone else made.
    VOID_ANY = "void_any"
    AMEND = "amend"
    SIGN_DISCHARGE = "sign_discharge"
    OVERRIDE_DISCHARGE = "override_discharge"
    MANAGE_STAFF = "manage_staff"
    CHANGE_PROTOCOL = "change_protocol"
    #: Approve a protocol draft for clinical use (an e-signature).
    APPROVE_PROTOCOL = "approve_protocol"
    VIEW_AUDIT = "view_audit"
    REVIEW = "review"
    EXPORT = "export"
    IMPORT = "import"
    #: Add an entry, with a reason, to a session whose discharge is signed.
    ENTER_AFTER_SIGNOFF = "enter_after_signoff"
    #: Bind a bedside monitor to a chair, or unbind it.
    BIND_MONITOR = "bind_monitor"
    #: Set a patient's own protocol limits (with a reason).
    SET_PATIENT_LIMITS = "set_patient_limits"


ROLES: tuple[str, ...] = ("nurse", "clinician", "admin", "system")
#: Roles a person can hold (``system`` is for imports and the command line only).
STAFF_ROLES: tuple[str, ...] = ("nurse", "clinician", "admin")

_NURSE = frozenset({
    Action.ENTER_READING, Action.ENTER_EVENT, Action.CHECK_IN, Action.ACKNOWLEDGE,
    Action.VOID, Action.SIGN_DISCHARGE, Action.EXPORT, Action.IMPORT,
})
_CLINICIAN = _NURSE | {
    Action.AMEND, Action.VOID_ANY, Action.OVERRIDE_DISCHARGE, Action.REVIEW, Action.VIEW_AUDIT,
    Action.ENTER_AFTER_SIGNOFF, Action.APPROVE_PROTOCOL, Action.SET_PATIENT_LIMITS,
}
_ADMIN = frozenset({Action.MANAGE_STAFF, Action.CHANGE_PROTOCOL, Action.VIEW_AUDIT,
                    Action.BIND_MONITOR})
_SYSTEM = frozenset({Action.IMPORT, Action.EXPORT})

MATRIX: dict[str, frozenset[Action]] = {
    "nurse": _NURSE,
    "clinician": frozenset(_CLINICIAN),
    "admin": _ADMIN,
    "system": _SYSTEM,
}

#: Each action in words, after "cannot" / "can".
_WORDS: dict[Action, str] = {
    Action.ENTER_READING: "enter readings",
    Action.ENTER_EVENT: "enter events",
    Action.CHECK_IN: "check patients in",
    Action.ACKNOWLEDGE: "acknowledge flags",
    Action.VOID: "void entries",
    Action.VOID_ANY: "void another person's entry",
    Action.AMEND: "amend entries",
    Action.SIGN_DISCHARGE: "sign discharge",
    Action.OVERRIDE_DISCHARGE: "override discharge",
    Action.MANAGE_STAFF: "manage staff",
    Action.CHANGE_PROTOCOL: "change the protocol",
    Action.APPROVE_PROTOCOL: "approve a protocol version for clinical use",
    Action.VIEW_AUDIT: "view the audit trail",
    Action.REVIEW: "review sessions",
    Action.EXPORT: "export records",
    Action.IMPORT: "import sessions",
    Action.ENTER_AFTER_SIGNOFF: "add an entry after the discharge is signed",
    Action.BIND_MONITOR: "bind a bedside monitor to a chair",
    Action.SET_PATIENT_LIMITS: "set a patient's own limits",
}

_ARTICLE = {"nurse": "a nurse", "clinician": "a clinician", "admin": "an admin",
            "system": "the system identity"}


def allowed(role: str, action: Action) -> bool:
    """Whether staff with ``role`` may take ``action``; unknown roles may do nothing."""
    return action in MATRIX.get(role, frozenset())


def describe(action: Action) -> str:
    """The action in words, e.g. "override discharge"."""
    return _WORDS[Action(action)]


def refusal(role: str | None, action: Action) -> str:
    """A sentence saying who cannot and who can, e.g.

    "A nurse cannot override discharge; a clinician can."
    """
    words = describe(action)
    who = _ARTICLE.get(role or "", "Unknown or disabled staff") if role else (
        "Unknown or disabled staff")
    can = [_ARTICLE[r] for r in STAFF_ROLES if allowed(r, action) and r != role]
    if not can and allowed("system", action):
        can = [_ARTICLE["system"]]
    subject = who[0].upper() + who[1:]
    if not can:
        return f"{subject} cannot {words}."
    listed = can[0] if len(can) == 1 else ", ".join(can[:-1]) + " or " + can[-1]
    verb = "can"
    return f"{subject} cannot {words}; {listed} {verb}."


class PermissionDenied(Exception):  # noqa: N818 - the name is the contract
    """The acting staff member's role does not allow the action.

    ``role`` and ``action`` say which; the message says so in words, and who can.
    """

    def __init__(self, role: str | None, action: Action, message: str | None = None) -> None:
        self.role = role
        self.action = Action(action)
        super().__init__(message or refusal(role, action))
