"""``python -m monitor staff …`` and ``python -m monitor audit verify``: for clinic IT.

* ``staff add NAME --role nurse|clinician|admin --as ADMIN``: the new person's PIN is read
  from the terminal without echo (or, when stdin is not a terminal, one line per PIN: the
  acting admin's PIN first, then the new PIN). With no admin yet, ``staff add NAME --role
  admin`` creates the first admin and needs no ``--as``.
* ``staff list [--all]``: everyone who can sign in (``--all``: the disabled too).
* ``staff disable WHO --as ADMIN`` and ``staff reset-pin WHO --as ADMIN`` (WHO: a name or
  an id).
* ``audit verify [--head HEX]``: exit 0 when the audit trail is intact; 1 naming the first
  bad sequence number otherwise.

PINs are never taken as arguments (they would stay in the shell's history) and never
printed. Every change is made by :class:`monitor.service.clinic.ClinicService` as the acting admin,
so it is permission-checked and audited like the same change made in the app.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import uuid
from collections.abc import Callable

from monitor.clinical.permissions import STAFF_ROLES, PermissionDenied
from monitor.clock import Clock
from monitor.service.auth import AccountLocked, LoginRefused, load_secret
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError, NotFoundError
from monitor.storage.store import open_store

EXIT_OK, EXIT_NO, EXIT_INVALID = 0, 1, 2
COMMANDS = ("staff", "audit")


def add_commands(
    commands: argparse._SubParsersAction,
    db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``staff`` and ``audit`` on the top-level parser's subcommands."""
    staff = commands.add_parser("staff", help="manage staff accounts (admins)")
    verbs = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    add = verbs.add_parser("add", help="add a nurse, clinician or admin")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=STAFF_ROLES)
    add.add_argument("--as", dest="admin", metavar="ADMIN",
                     help="the admin making the change (not needed for the first admin)")
    db_option(add)
    listing = verbs.add_parser("list", help="list staff")
    listing.add_argument("--all", action="store_true", help="include disabled staff")
    db_option(listing)
    for verb, text in (("disable", "disable a staff member (they can no longer sign in)"),
                       ("reset-pin", "set a new PIN (also lifts a lock)")):
        sub = verbs.add_parser(verb, help=text)
        sub.add_argument("who", metavar="WHO", help="name or id")
        sub.add_argument("--as", dest="admin", required=True, metavar="ADMIN")
        db_option(sub)

    audit = commands.add_parser("audit", help="check the audit trail")
    audit_verbs = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = audit_verbs.add_parser("verify", help="verify the audit trail's HMAC chain")
    verify.add_argument("--head", metavar="HEX",
                        help="a chain head printed earlier (on an export): also detect newer "
                             "entries cut off")
    db_option(verify)


def run(args: argparse.Namespace, url: str, clock: Clock) -> int:
    store = open_store(url)
    try:
        service = ClinicService(store, clock, secret=load_secret())
        if args.command == "audit":
            return _verify(service, args.head)
        return _staff(service, args)
    finally:
        store.close()


def _verify(service: ClinicService, head: str | None) -> int:
    result = service.verify_audit(head)
    if result.ok:
        print(f"ok: {result.entries} audit entries intact; head {result.head}")
        return EXIT_OK
    print(f"audit verify: {result.message} (first bad sequence number: {result.first_bad})",
          file=sys.stderr)
    return EXIT_NO


class NoPinGiven(Exception):  # noqa: N818 - a refusal, like LoginRefused
    """Nothing was typed for a PIN (empty input or end of input): refused before any sign-in,
    so a script without a terminal cannot lock a person out by counting as wrong PINs."""


def read_pin(prompt: str) -> str:
    """One PIN, from the terminal without echo or one line of stdin.

    Raises :class:`NoPinGiven` when nothing is given (end of input or an empty line).
    """
    terminal = sys.stdin.isatty()
    pin = getpass.getpass(prompt) if terminal else sys.stdin.readline().rstrip("\r\n")
    if not pin:
        raise NoPinGiven(f"{prompt.rstrip(': ')}: no PIN given (type it at the terminal, or "
                         "pass one line on stdin); not counted as a wrong PIN")
    return pin


def find_staff(service: ClinicService, who: str) -> uuid.UUID:
    people = service.staff_list(include_disabled=True)
    try:
        wanted = uuid.UUID(who)
    except ValueError:
        matches = [p for p in people if p.name.lower() == who.strip().lower()]
        if len(matches) == 1:
            return matches[0].id
        active = [p for p in matches if p.active]
        if len(active) == 1:
            return active[0].id
        raise NotFoundError(f"no single staff member named {who!r}; use the id "
                            "(python -m monitor staff list --all)") from None
    if any(p.id == wanted for p in people):
        return wanted
    raise NotFoundError(f"no staff member {who}")


def _staff(service: ClinicService, args: argparse.Namespace) -> int:
    try:
        if args.staff_command == "list":
            for person in service.staff_list(include_disabled=args.all):
                state = "active" if person.active else "disabled"
                if person.locked_until is not None:
                    state += f", locked until {person.locked_until.isoformat(timespec='minutes')}"
                print(f"{person.id}\t{person.name}\t{person.role}\t{state}")
            return EXIT_OK
        if args.staff_command == "add" and args.admin is None:
            if args.role != "admin" or not service.needs_first_admin():
                print("--as ADMIN: name the admin making the change", file=sys.stderr)
                return EXIT_INVALID
            pin = read_pin(f"New PIN for {args.name}: ")
            new_id = service.create_first_admin(args.name, pin)
            print(new_id)
            return EXIT_OK
        admin = find_staff(service, args.admin)
        service.login(admin, read_pin(f"PIN of {args.admin}: "))
        if args.staff_command == "add":
            new_id = service.add_staff(args.name, args.role,
                                       read_pin(f"New PIN for {args.name}: "), by=admin)
            print(new_id)
        elif args.staff_command == "disable":
            service.disable_staff(find_staff(service, args.who), by=admin)
        else:
            target = find_staff(service, args.who)
            service.reset_pin(target, read_pin(f"New PIN for {args.who}: "), by=admin)
        return EXIT_OK
    except (InvalidEntryError, PermissionDenied, LoginRefused, AccountLocked,
            NoPinGiven) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except NotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO
