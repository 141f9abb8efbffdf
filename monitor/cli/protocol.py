"""``python -m monitor protocol …``: the clinic protocol's drafts, approval and versions.

* ``protocol import FILE --as ADMIN [--reason TEXT]``: a TOML file (a full protocol, or one
  that ``extends`` a profile and lists only what it changes) becomes a draft; malformed
  input is refused naming the line and field.
* ``protocol approve DRAFT_ID --as CLINICIAN``: the clinician's e-signature (their PIN, read
  as ``staff`` reads PINs) makes the draft the profile's protocol for new sessions.
* ``protocol withdraw DRAFT_ID --as ADMIN --reason TEXT``: the draft is closed without
  approval (kept, audited, never changed again).
* ``protocol list [--json]``: versions, drafts and the active version of each profile.
* ``protocol export [--version V | --draft ID | --profile P] -o FILE``: the protocol
  written out in full; importing it again gives the same version.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.cli import protocol_whatif as cli_protocol_whatif
from monitor.cli.identity import IdentityRefused, acting_staff
from monitor.cli.staff import NoPinGiven, find_staff, read_pin
from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.protocol import ProtocolError
from monitor.clinical.protocol_changes import ProtocolChangeError
from monitor.clock import Clock
from monitor.service.auth import AccountLocked, LoginRefused, SignatureRequired, load_secret
from monitor.service.clinic import ClinicService
from monitor.service.protocol_admin import DraftNotFoundError, ProtocolAdmin
from monitor.service.views import NotFoundError
from monitor.storage import protocol_store
from monitor.storage.store import open_store

COMMAND = "protocol"
EXIT_OK, EXIT_NO, EXIT_INVALID = 0, 1, 2


def add_command(
    commands: argparse._SubParsersAction,
    db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    protocol = commands.add_parser(COMMAND, help="protocol drafts, approval and versions")
    verbs = protocol.add_subparsers(dest="protocol_command", required=True, metavar="ACTION")
    imp = verbs.add_parser("import", help="make a draft from a TOML file (admins)")
    imp.add_argument("file", metavar="FILE", type=Path)
    imp.add_argument("--as", dest="acting", required=True, metavar="ADMIN")
    imp.add_argument("--reason", metavar="TEXT", help="why the protocol changes")
    db_option(imp)
    approve = verbs.add_parser("approve", help="approve a draft for clinical use (clinicians)")
    approve.add_argument("draft", metavar="DRAFT_ID")
    approve.add_argument("--as", dest="acting", required=True, metavar="CLINICIAN")
    db_option(approve)
    withdraw = verbs.add_parser("withdraw", help="close a draft without approving it (admins)")
    withdraw.add_argument("draft", metavar="DRAFT_ID")
    withdraw.add_argument("--as", dest="acting", required=True, metavar="ADMIN")
    withdraw.add_argument("--reason", required=True, metavar="TEXT",
                          help="why the draft is withdrawn")
    db_option(withdraw)
    listing = verbs.add_parser("list", help="versions, drafts and the active version")
    listing.add_argument("--json", action="store_true", help="print JSON")
    db_option(listing)
    export = verbs.add_parser("export", help="write a protocol out in full as TOML")
    which = export.add_mutually_exclusive_group()
    which.add_argument("--version", metavar="V", help="a version id or its SHA-256 (or prefix)")
    which.add_argument("--draft", metavar="ID", help="a draft, as approving it would make it")
    which.add_argument("--profile", metavar="P", default="iv_ketamine",
                       help="the profile's current version (default iv_ketamine)")
    export.add_argument("-o", dest="output", required=True, metavar="FILE", type=Path)
    db_option(export)
    cli_protocol_whatif.add_what_if(verbs, db_option)


def run(args: argparse.Namespace, url: str, clock: Clock) -> int:
    if args.protocol_command == cli_protocol_whatif.WHAT_IF:
        return cli_protocol_whatif.run(args, url, clock)
    store = open_store(url)
    try:
        service = ClinicService(store, clock, secret=load_secret())
        return _run(service, args)
    except (ProtocolChangeError, PermissionDenied, IdentityRefused, LoginRefused,
            AccountLocked, NoPinGiven, SignatureRequired, ProtocolError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (DraftNotFoundError, NotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO
    finally:
        store.close()


def _run(service: ClinicService, args: argparse.Namespace) -> int:
    admin = service.protocols
    if args.protocol_command == "import":
        return _import(service, args)
    if args.protocol_command == "approve":
        draft = _uuid(args.draft, "DRAFT_ID")
        clinician = find_staff(service, args.acting)
        version = admin.approve(draft, by=clinician, pin=read_pin(f"PIN of {args.acting}: "))
        print(version)
        return EXIT_OK
    if args.protocol_command == "withdraw":
        draft = _uuid(args.draft, "DRAFT_ID")
        actor = acting_staff(service, args.acting, "protocol withdraw")
        admin.withdraw(draft, by=actor.staff_id, reason=args.reason)
        print(f"withdrawn {draft}")
        return EXIT_OK
    if args.protocol_command == "list":
        listing = _listing(admin)
        if args.json:
            print(json.dumps(listing, indent=2, ensure_ascii=False))
        else:
            _print_listing(listing)
        return EXIT_OK
    return _export(admin, args)


def _import(service: ClinicService, args: argparse.Namespace) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"error: {args.file}: cannot read the file ({exc.strerror})", file=sys.stderr)
        return EXIT_INVALID
    except UnicodeDecodeError:
        print(f"error: {args.file}: the file is not UTF-8 text", file=sys.stderr)
        return EXIT_INVALID
    actor = acting_staff(service, args.acting, "protocol import")
    draft = service.protocols.import_text(text, args.file.name, by=actor.staff_id,
                                          reason=args.reason)
    print(draft)
    return EXIT_OK


def _export(admin: ProtocolAdmin, args: argparse.Namespace) -> int:
    if args.draft is not None:
        text = admin.export_draft(_uuid(args.draft, "--draft"))
    elif args.version is not None:
        text = admin.export_version(_find_version(admin, args.version))
    else:
        text = protocol_store.resolved_toml(admin.current(args.profile)[1])
    if args.output.exists():
        print(f"error: -o: {args.output} exists; nothing was written (choose a new name)",
              file=sys.stderr)
        return EXIT_INVALID
    args.output.write_text(text, encoding="utf-8")
    return EXIT_OK


def _find_version(admin: ProtocolAdmin, wanted: str) -> uuid.UUID:
    text = wanted.strip().lower()
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    matches = [v.version.id for v in admin.versions()
               if len(text) >= 8 and v.version.hash.startswith(text)]
    if len(matches) != 1:
        raise DraftNotFoundError(f"--version: no single stored version with id or SHA-256 "
                                 f"{wanted!r} (python -m monitor protocol list)")
    return matches[0]


def _uuid(text: str, option: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise DraftNotFoundError(f"{option}: {text!r} is not an id") from None


def _listing(admin: ProtocolAdmin) -> dict[str, Any]:
    return {
        "active": {profile: str(version) if version else None
                   for profile, version in admin.active().items()},
        "versions": [{
            "id": str(v.version.id), "profile": v.version.profile,
            "version": v.version.version, "sha256": v.version.hash,
            "stored_at": v.version.created_at.isoformat(),
            "made_by": v.made_by, "reason": v.reason, "active": v.active,
            "approved_by": v.activation.approver_name if v.activation else None,
            "approved_at": v.activation.activated_at.isoformat() if v.activation else None,
        } for v in admin.versions()],
        "drafts": [{
            "id": str(d.id), "profile": d.profile, "state": d.state,
            "base_version": str(d.base_version_id), "created_by": d.created_by_name,
            "created_at": d.created_at.isoformat(), "updated_at": d.updated_at.isoformat(),
            "reason": d.reason, "changes": d.changes,
            "approved_version": str(d.approved_version_id) if d.approved_version_id else None,
        } for d in admin.drafts()],
    }


def _print_listing(listing: dict[str, Any]) -> None:
    print("Active:")
    for profile, version in listing["active"].items():
        print(f"  {profile}\t{version or 'factory file'}")
    print("Versions:")
    for v in listing["versions"]:
        approved = (f"approved by {v['approved_by']} {v['approved_at']}" if v["approved_by"]
                    else "not approved here (factory file)")
        active = "\tACTIVE" if v["active"] else ""
        print(f"  {v['id']}\t{v['profile']} {v['version']}\tsha256 {v['sha256'][:12]}\t"
              f"{approved}{active}")
    print("Drafts:")
    for d in listing["drafts"]:
        print(f"  {d['id']}\t{d['profile']}\t{d['state']}\tby {d['created_by']} "
              f"{d['created_at']}\t{len(d['changes']['parameters'])} parameter(s): "
              f"{d['reason']}")
