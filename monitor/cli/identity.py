"""Who a command-line write is attributed to (21 CFR Part 11 §11.10(e): every entry names
its author).

* ``--as NAME`` names the staff member: their PIN is read as ``staff`` reads PINs (from the
  terminal without echo, or one line of stdin), the sign-in is audited, and every row and
  audit entry the command writes carries that person.
* Without ``--as`` the write is attributed to the operating-system account and host that
  ran the command: a system identity named, for example, ``alice@clinic-pc (command
  line)``, one per account and host, so existing scripts keep working and an auditor still
  sees who ran them.
* A clinic that wants every command-line write tied to a person sets
  ``CHAIRSIDE_CLI_REQUIRE_STAFF=1``: then a write without ``--as`` is refused.

Each write also records where it came from (:func:`origin`): the command, the account and
the host, so even an entry made ``--as`` a person says from which account it was typed.
"""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import uuid
from dataclasses import dataclass

from monitor.cli.staff import NoPinGiven, find_staff, read_pin
from monitor.service.auth import AccountLocked, LoginRefused
from monitor.service.clinic import ClinicService
from monitor.service.views import NotFoundError

#: Set to 1 (or yes/true/on) to refuse command-line writes that do not name a person.
REQUIRE_STAFF_ENV = "CHAIRSIDE_CLI_REQUIRE_STAFF"
SYSTEM_ROLE = "system"


class IdentityRefused(Exception):  # noqa: N818 - like LoginRefused, a refusal, not a bug
    """The command cannot say who is acting: the message names ``--as`` and why."""


@dataclass(frozen=True)
class Actor:
    """The staff id a command acts as, and where the command was run."""

    staff_id: uuid.UUID
    name: str
    origin: dict[str, str]


def add_as_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as", dest="acting", metavar="NAME",
        help="the staff member doing this (name or id; the PIN is asked for, or read from "
             f"stdin). Without it the operating-system account and host are recorded; "
             f"${REQUIRE_STAFF_ENV}=1 makes it required",
    )


def os_account() -> str:
    """The operating-system account running this process."""
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name and no passwd entry
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown account"


def host_name() -> str:
    return socket.gethostname() or "unknown host"


def origin(command: str) -> dict[str, str]:
    """Where a command-line write came from, for its audit entry."""
    return {"via": f"command line: {command}", "os_account": os_account(),
            "host": host_name()}


def staff_required() -> bool:
    return os.environ.get(REQUIRE_STAFF_ENV, "").strip().lower() in {"1", "yes", "true", "on"}


def acting_staff(service: ClinicService, acting: str | None, command: str) -> Actor:
    """The staff member a command-line write is made by.

    Raises :class:`IdentityRefused` when ``--as`` is required but missing, names nobody, no
    PIN is given (not a sign-in attempt, so not counted), or the PIN is refused (the refusal
    is audited by the sign-in itself).
    """
    where = origin(command)
    if acting is None:
        if staff_required():
            raise IdentityRefused(
                f"--as NAME: this clinic requires every command-line write to name the staff "
                f"member doing it ({REQUIRE_STAFF_ENV} is set); nothing was stored")
        name = f"{where['os_account']}@{where['host']} (command line)"
        return Actor(service.ensure_staff(name, SYSTEM_ROLE), name, where)
    try:
        staff_id = find_staff(service, acting)
    except NotFoundError as exc:
        raise IdentityRefused(f"--as: {exc}; nothing was stored") from exc
    try:
        person = service.login(staff_id, read_pin(f"PIN of {acting}: "))
    except (NoPinGiven, LoginRefused, AccountLocked) as exc:
        raise IdentityRefused(f"--as: {exc}; nothing was stored") from exc
    return Actor(staff_id, person.name, where)
