"""``python -m monitor export SESSION_ID --format pdf|csv|fhir -o FILE``: one session out.

The export is made by the ``--as`` staff member or by the account and host that ran the
command, audited like an export from the app, and the audit chain head it returns is printed
(and printed on the PDF), so that ``audit verify --head HEX`` can later show the trail still
holds it. The file is written under a temporary name and renamed when complete: an
interrupted export leaves no partial file. The PDF is drawn by ``ui.review.report`` (Qt), imported
only for ``--format pdf``; without a display the offscreen platform is used.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from monitor.cli import identity as cli_identity
from monitor.clinical.permissions import PermissionDenied
from monitor.clock import Clock
from monitor.exports.batch import FORMATS, export_text, write_atomically
from monitor.exports.fhir_codes import (
    DEFAULT_MRN_SYSTEM,
    MRN_SYSTEM_VARIABLE,
    SettingError,
    check_mrn_system,
    mrn_system,
)
from monitor.service.auth import load_secret
from monitor.service.clinic import ClinicService
from monitor.service.views import NotFoundError, SessionView
from monitor.storage.store import open_store

EXIT_OK, EXIT_NO, EXIT_INVALID = 0, 1, 2
COMMAND = "export"


def add_command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
    db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``export`` on the top-level parser's subcommands."""
    export = commands.add_parser("export", help="export a session as PDF, CSV or FHIR JSON")
    export.add_argument("session_id", metavar="SESSION_ID")
    export.add_argument("--format", required=True, choices=tuple(FORMATS),
                        help="pdf (the session report), csv (the import format) or fhir "
                             "(an R4 Bundle in JSON)")
    export.add_argument("-o", "--output", required=True, metavar="FILE", type=Path,
                        help="the file to write (replaced if it exists)")
    export.add_argument("--mrn-system", metavar="URI", default=None,
                        help="fhir: the identifier system of the clinic's MRNs (default "
                             f"${MRN_SYSTEM_VARIABLE}, else {DEFAULT_MRN_SYSTEM})")
    cli_identity.add_as_option(export)
    db_option(export)


def run(args: argparse.Namespace, url: str, clock: Clock) -> int:
    try:
        session_id = uuid.UUID(args.session_id)
    except ValueError:
        print(f"SESSION_ID: {args.session_id!r} is not a session id (a UUID)", file=sys.stderr)
        return EXIT_INVALID
    output: Path = args.output
    try:
        system = (check_mrn_system(args.mrn_system, setting="--mrn-system")
                  if args.mrn_system is not None else mrn_system())
    except SettingError as exc:
        print(f"{exc}; nothing exported", file=sys.stderr)
        return EXIT_INVALID
    problem = _unwritable(output)
    if problem is not None:
        print(f"-o: {problem}; nothing exported", file=sys.stderr)
        return EXIT_INVALID
    store = open_store(url)
    try:
        service = ClinicService(store, clock, secret=load_secret())
        try:
            view = service.load(session_id)
        except NotFoundError:
            print(f"no session {session_id}", file=sys.stderr)
            return EXIT_NO
        try:
            staff = cli_identity.acting_staff(service, args.acting, "export").staff_id
            head = service.record_export(session_id, args.format, by=staff)
        except (PermissionDenied, cli_identity.IdentityRefused) as exc:
            print(f"{exc}; nothing exported", file=sys.stderr)
            return EXIT_INVALID
        if args.format == "pdf":
            _write_pdf(view, output, clock, head)
        else:
            text = export_text(view, args.format, mrn_system=system)
            write_atomically(output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    finally:
        store.close()
    print(f"exported session {session_id} as {args.format} to {output.absolute()}")
    print(f"audit chain head: {head}")
    return EXIT_OK


def _unwritable(output: Path) -> str | None:
    folder = output.parent if str(output.parent) else Path()
    if output.is_dir():
        return f"{output} is a folder; name the file to write"
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if not os.access(folder, os.W_OK):
        return f"the folder {folder} is not writable"
    return None


def _write_pdf(view: SessionView, output: Path, clock: Clock, head: str) -> None:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Imported by name so that neither importing this module nor checking it loads Qt.
    report = importlib.import_module("ui.review.report")
    generated_at = clock.now()
    write_atomically(output, lambda tmp: report.write_session_pdf(
        view, tmp, generated_at=generated_at, chain_head=head))
