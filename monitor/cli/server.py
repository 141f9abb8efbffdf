"""``python -m monitor server init``: set up a clinic's PostgreSQL database (for clinic IT).

``server init --db URL [--app-role NAME] [--owner-role NAME] [--app-password-from-stdin]``
connects as a superuser, creates the owner and app roles, migrates the schema as the owner
and grants the app role only what the app needs (:mod:`monitor.storage.server_admin`); it prints one
line per step. Run it again after every ChairSide upgrade: it is idempotent. The password
is read from stdin (one line), never from an argument, and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import InterfaceError, OperationalError

from monitor.storage.server_admin import (
    DEFAULT_APP_ROLE,
    DEFAULT_OWNER_ROLE,
    ServerInitError,
    init_server,
)

COMMAND = "server"
EXIT_OK, EXIT_INVALID, EXIT_STORAGE = 0, 2, 3


def add_command(
    commands: argparse._SubParsersAction,
    _db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``server init`` on the top-level parser's subcommands."""
    server = commands.add_parser("server", help="set up a clinic's PostgreSQL database")
    verbs = server.add_subparsers(dest="server_command", required=True, metavar="ACTION")
    init = verbs.add_parser(
        "init", help="create the owner and app roles, migrate the schema, grant the app role "
                     "only what it needs")
    init.add_argument("--db", metavar="URL", required=True,
                      help="the clinic database, as a superuser: "
                           "postgresql+psycopg://postgres@HOST:5432/chairside")
    init.add_argument("--app-role", default=DEFAULT_APP_ROLE, metavar="NAME",
                      help=f"the role tablets connect as (default {DEFAULT_APP_ROLE})")
    init.add_argument("--owner-role", default=DEFAULT_OWNER_ROLE, metavar="NAME",
                      help=f"the role that owns the schema (default {DEFAULT_OWNER_ROLE})")
    init.add_argument("--app-password-from-stdin", action="store_true",
                      help="set the app role's password from one line of stdin "
                           "(asked without echo on a terminal)")


def run(args: argparse.Namespace) -> int:
    password = _read_password() if args.app_password_from_stdin else None
    try:
        report = init_server(args.db, app_role=args.app_role, owner_role=args.owner_role,
                             app_password=password)
    except ServerInitError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (OperationalError, InterfaceError) as exc:
        shown = make_url(args.db).render_as_string(hide_password=True)
        print(f"error: could not use the database at {shown}: {getattr(exc, 'orig', exc)}",
              file=sys.stderr)
        return EXIT_STORAGE
    for line in report.lines:
        print(line)
    return EXIT_OK


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("Password for the app role: ")
    return sys.stdin.readline().rstrip("\r\n")
