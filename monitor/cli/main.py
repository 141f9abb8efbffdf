"""``python -m monitor``: the command line clinics script and integrate with.

This is a contract, documented in ``docs/cli.md``; change it only compatibly.

Exit status: 0 success; 1 the command ran but the answer is "no" (``check`` found a
problem, a session does not exist); 2 the input was refused (every reason on stderr);
3 the database could not be used (NOT saved / unreachable / damaged).
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from monitor.cli import export as cli_export
from monitor.cli import feed as feed_cli
from monitor.cli import identity as cli_identity
from monitor.cli import protocol as cli_protocol
from monitor.cli import server as cli_server
from monitor.cli import staff as cli_staff
from monitor.cli.watch import COMMAND as WATCH
from monitor.cli.watch import add_command as add_watch_command
from monitor.cli.watch import run as watch
from monitor.clinical.checkin import validate_dob, validate_mrn, validate_name, validate_weight
from monitor.clinical.domain import Flag, Score
from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.protocol import available_profiles
from monitor.clinical.validation import ValidationError, parse_time
from monitor.clock import Clock, SystemClock
from monitor.service.auth import DEMO_PIN, load_secret
from monitor.service.clinic import ClinicService
from monitor.service.views import InvalidEntryError, NotFoundError, SessionView
from monitor.storage.store import StorageError, StoreOpenError, default_url, open_store

EXIT_OK, EXIT_NO, EXIT_INVALID, EXIT_STORAGE = 0, 1, 2, 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m monitor",
        description="ChairSide command line: import sessions, show a session, demo data, checks.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def db_option(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--db", metavar="URL", default=None,
            help="database URL (default: $CHAIRSIDE_DB or the SQLite file in the user data "
                 "directory)",
        )

    imp = commands.add_parser("import", help="import a session recorded elsewhere from CSV")
    imp.add_argument("file", metavar="FILE.csv", type=Path)
    imp.add_argument("--mrn", required=True, help="the patient's medical record number")
    imp.add_argument("--name", help="the patient's name (new patients)")
    imp.add_argument("--dob", metavar="YYYY-MM-DD", help="date of birth (new patients)")
    imp.add_argument("--weight", metavar="KG", help="weight in kg at this session")
    imp.add_argument("--profile", default="iv_ketamine", help="protocol profile")
    imp.add_argument(
        "--confirm-implausible", action="store_true",
        help="accept values outside the usual range (they are still within the accepted range)",
    )
    cli_identity.add_as_option(imp)
    db_option(imp)

    show = commands.add_parser("show", help="print a session as it stood at a time")
    show.add_argument("session_id", metavar="SESSION_ID")
    show.add_argument("--at", metavar="TIME", help="ISO 8601 time with offset (default: now)")
    show.add_argument("--json", action="store_true", help="print JSON (the documented format)")
    db_option(show)

    demo = commands.add_parser("demo-data", help="fill the database with a synthetic clinic")
    demo.add_argument("--sessions", type=int, required=True, metavar="N")
    demo.add_argument("--seed", type=int, default=1, metavar="S")
    cli_identity.add_as_option(demo)
    db_option(demo)

    add_watch_command(commands, db_option)
    check = commands.add_parser("check", help="check the database's integrity")
    db_option(check)
    cli_staff.add_commands(commands, db_option)
    cli_export.add_command(commands, db_option)
    cli_protocol.add_command(commands, db_option)
    feed_cli.add_command(commands, db_option)
    cli_server.add_command(commands, db_option)
    return parser


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == feed_cli.COMMAND:
        return feed_cli.run(args, clock)
    clock = clock or SystemClock()
    url = args.db or default_url()
    try:
        if args.command == "import":
            return _import(args, url, clock)
        if args.command == "show":
            return _show(args, url, clock)
        if args.command == "demo-data":
            return _demo(args, url, clock)
        if args.command in cli_staff.COMMANDS:
            return cli_staff.run(args, url, clock)
        if args.command == cli_export.COMMAND:
            return cli_export.run(args, url, clock)
        if args.command == WATCH:
            return watch(args, url)
        if args.command == cli_server.COMMAND:
            return cli_server.run(args)
        if args.command == cli_protocol.COMMAND:
            return cli_protocol.run(args, url, clock)
        return _check(url)
    except StoreOpenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except StorageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_STORAGE


def _import(args: argparse.Namespace, url: str, clock: Clock) -> int:
    from monitor.exports.csvio import parse_session_csv  # noqa: PLC0415 - only this command needs it

    errors: list[str] = []
    mrn = validate_mrn(args.mrn)
    name = validate_name(args.name) if args.name is not None else None
    dob = validate_dob(args.dob, today=clock.now().date()) if args.dob is not None else None
    weight = (
        validate_weight(args.weight, confirmed=args.confirm_implausible)
        if args.weight is not None else None
    )
    for option, check in (("--mrn", mrn), ("--name", name), ("--dob", dob), ("--weight", weight)):
        if check is None:
            continue
        if check.error is not None:
            errors.append(f"{option}: {check.error.message}")
        elif check.needs_confirmation is not None:
            errors.append(f"{option}: {check.needs_confirmation.message} "
                          "(re-run with --confirm-implausible to accept it)")
    profiles = [profile_id for profile_id, _ in available_profiles()]
    if args.profile not in profiles:
        errors.append(f"--profile: unknown profile {args.profile!r}; choose one of "
                      + ", ".join(profiles))
    try:
        text = args.file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{args.file}: cannot read the file ({exc})")
        text = None
    if text is not None:
        parsed = parse_session_csv(
            text, now=clock.now(), confirm_implausible=args.confirm_implausible
        )
        errors.extend(parsed.errors)
    if errors:
        for line in errors:
            print(line, file=sys.stderr)
        print(f"nothing imported: {len(errors)} error(s)", file=sys.stderr)
        return EXIT_INVALID

    store = open_store(url)
    try:
        service = ClinicService(store, clock, secret=load_secret())
        existing = service.find_patient(mrn.value or args.mrn)
        if existing is not None:
            mismatch = _patient_mismatch(
                existing.name, existing.date_of_birth,
                name.value if name else None, dob.value if dob else None,
            )
            if mismatch:
                print(f"{mismatch}; nothing imported", file=sys.stderr)
                return EXIT_INVALID
        try:
            actor = cli_identity.acting_staff(service, args.acting, "import")
            session_id = service.import_session(
                parsed.rows, mrn=mrn.value or args.mrn, by=actor.staff_id,
                name=name.value if name else None,
                date_of_birth=dob.value if dob else None,
                weight_kg=float(weight.value) if weight and weight.value is not None else None,
                profile=args.profile, origin=actor.origin,
            )
        except cli_identity.IdentityRefused as exc:
            print(exc, file=sys.stderr)
            return EXIT_INVALID
        except PermissionDenied as exc:
            print(f"--as: {exc} Nothing imported.", file=sys.stderr)
            return EXIT_INVALID
        except InvalidEntryError as exc:
            for error in exc.errors:
                print(f"{error.field}: {error.message}", file=sys.stderr)
            return EXIT_INVALID
    finally:
        store.close()
    readings = sum(1 for r in parsed.rows if r.values)
    events = sum(1 for r in parsed.rows if r.event is not None)
    print(f"imported {readings} readings and {events} events for MRN {args.mrn}")
    print(f"entered by {actor.name}")
    print(session_id)
    return EXIT_OK


def _patient_mismatch(
    known_name: str | None, known_dob: Any, name: str | None, dob: Any
) -> str | None:
    """Refuse to add a session to the wrong patient when the details disagree."""
    if name is not None and known_name and name.casefold() != known_name.casefold():
        return f"--name: this MRN belongs to {known_name!r}, not {name!r}"
    if dob is not None and known_dob is not None and dob != known_dob:
        return f"--dob: this MRN's date of birth is {known_dob.isoformat()}, not {dob.isoformat()}"
    return None


def _show(args: argparse.Namespace, url: str, clock: Clock) -> int:
    try:
        session_id = uuid.UUID(args.session_id)
    except ValueError:
        print(f"SESSION_ID: {args.session_id!r} is not a session id (a UUID)", file=sys.stderr)
        return EXIT_INVALID
    at: datetime | None = None
    if args.at is not None:
        try:
            at = parse_time(args.at)
        except ValidationError as exc:
            print(f"--at: {exc.message}", file=sys.stderr)
            return EXIT_INVALID
    store = open_store(url)
    try:
        try:
            view = ClinicService(store, clock, secret=load_secret()).load(session_id, at)
        except NotFoundError:
            print(f"no session {session_id} in this database", file=sys.stderr)
            return EXIT_NO
    finally:
        store.close()
    if args.json:
        json.dump(view_to_json(view), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(view_to_text(view))
    return EXIT_OK


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _all_flags(view: SessionView) -> list[Flag]:
    """Every flag the session raised, as in the PDF: those of the effective readings and
    those of readings since voided or amended (closed, with that resolution); open first,
    then by tier (worst first), then by time."""
    return sorted((*view.flags, *view.superseded_flags),
                  key=lambda f: (not f.open, -f.severity, f.time))


def _flag_json(flag: Flag, *, superseded: bool = False) -> dict[str, Any]:
    ack = flag.acknowledgement
    return {
        "id": str(flag.id),
        "measure": flag.measure.value,
        "severity": flag.severity.label,
        "time": _iso(flag.time),
        "message": flag.message,
        "acknowledged": flag.acknowledged,
        "acknowledgement": None if ack is None else {
            "time": _iso(ack.time), "action": ack.action, "note": ack.note, "by": ack.by,
        },
        "resolved_at": _iso(flag.resolved_at),
        "resolution": flag.resolution or None,
        "reading_corrected": superseded,
    }


def _score_json(score: Score) -> dict[str, Any]:
    return {
        "total": score.total, "max": score.max_total, "passing": score.passing,
        "passed": score.passed, "complete": score.complete,
        "items": [{"name": i.name, "points": i.points, "max": i.max_points, "detail": i.detail,
                   "assessed": i.assessed}
                  for i in score.items],
    }


def _dose_json(view: SessionView) -> dict[str, Any] | None:
    delivered = view.dose_delivered
    if delivered is None:
        return None
    return {"mg": delivered.dose_mg, "planned_mg": delivered.planned_mg,
            "early_stop": delivered.early, "reason": delivered.reason,
            "volume_ml": delivered.volume_ml, "minutes_run": delivered.minutes_run}


def view_to_json(view: SessionView) -> dict[str, Any]:
    """The ``show --json`` document (see docs/cli.md)."""
    info = view.info
    patient = info.patient
    discharge = view.discharge
    superseded = {f.id for f in view.withdrawn_flags}
    return {
        "session": {
            "id": str(info.id),
            "patient": {
                "mrn": patient.mrn, "name": patient.name,
                "date_of_birth": patient.date_of_birth.isoformat()
                if patient.date_of_birth else None,
                "weight_kg": patient.weight_kg,
            },
            "time": _iso(info.time),
            "at": _iso(view.at),
            "phase": view.phase.value,
            "chair": info.chair,
            "profile": info.profile,
            "protocol_version": info.protocol_version,
            "protocol_hash": info.protocol_hash or None,
            "weight_kg": info.weight_kg,
            "planned_mg_per_kg": info.planned_mg_per_kg,
            "infusion_minutes": info.infusion_minutes,
            "dose_mg": info.dose_mg,
            "rate_mg_per_min": info.rate_mg_per_min,
            "pump_ml_per_h": info.pump_ml_per_h,
            "lot_number": info.lot_number,
            "escort_name": info.escort_name,
            "next_reading_due": _iso(view.next_due),
        },
        "readings": [
            {
                "id": str(r.id), "time": _iso(r.time), "sbp": r.sbp, "dbp": r.dbp, "hr": r.hr,
                "spo2": r.spo2, "rr": r.rr, "cadss6": r.cadss6, "moaas": r.moaas,
                "nausea": r.nausea, "anxiety": r.anxiety, "pain": r.pain, "phq9": r.phq9,
                "gad7": r.gad7, "note": r.note, "after_signoff": view.after_signoff(r),
            }
            for r in view.record.readings
        ],
        "events": [
            {"id": str(e.id), "time": _iso(e.time), "kind": e.kind.value, "detail": e.detail,
             "after_signoff": view.after_signoff(e)}
            for e in view.record.events
        ],
        "flags": [_flag_json(f, superseded=f.id in superseded) for f in _all_flags(view)],
        "flag_counts": view.flag_counts.as_dict(),
        "dose_delivered": _dose_json(view),
        "discharge": {
            "ready": discharge.ready,
            "assessed_at": _iso(view.assessed_at),
            "signed_at": _iso(view.sign_off.time) if view.sign_off else None,
            "criteria": [{"id": c.id, "met": c.met, "detail": c.detail}
                         for c in discharge.criteria],
            "would_have_been_ready_at": _iso(discharge.would_have_been_ready_at),
            "aldrete": discharge.aldrete.total,
            "padss": discharge.padss.total,
            "scores": {"aldrete": _score_json(discharge.aldrete),
                       "padss": _score_json(discharge.padss)},
        },
    }


def view_to_text(view: SessionView) -> str:
    info = view.info
    lines = [
        f"Session {info.id} — MRN {info.patient.mrn} {info.patient.name or ''}".rstrip(),
        f"as of {view.at.isoformat()}: {view.phase.value}",
        f"{len(view.record.readings)} readings, {len(view.record.events)} events",
        view.flag_counts.text(),
        *(f"  [{f.severity.label}] {f.time.isoformat()} {f.message}"
          f"{' (acknowledged)' if f.acknowledged else ''}"
          f"{f' ({f.resolution})' if f.resolution else ''}" for f in _all_flags(view)),
        f"Discharge: {'READY' if view.discharge.ready else 'not ready'}",
        *(f"  {'met    ' if c.met else 'NOT met'} {c.id}: {c.detail}"
          for c in view.discharge.criteria),
    ]
    return "\n".join(lines) + "\n"


def _demo(args: argparse.Namespace, url: str, clock: Clock) -> int:
    from monitor.demo.data import generate  # noqa: PLC0415 - only this command needs it

    if args.sessions < 1:
        print("--sessions: must be a whole number of at least 1", file=sys.stderr)
        return EXIT_INVALID
    store = open_store(url)
    try:
        service = ClinicService(store, clock, secret=load_secret())
        try:
            actor = cli_identity.acting_staff(service, args.acting, "demo-data")
        except cli_identity.IdentityRefused as exc:
            print(exc, file=sys.stderr)
            return EXIT_INVALID
        generated_at = clock.now()
        summary = generate(store, sessions=args.sessions, seed=args.seed, clock_now=generated_at)
        # The generator is deterministic: the seed, the count and the time regenerate it.
        service.record_demo_data({
            "seed": args.seed, "sessions": args.sessions, "clock_now": generated_at,
            "summary": summary.describe(), **actor.origin,
        }, by=actor.staff_id)
        # A demo database: its people sign in with the documented demo PIN.
        service.set_demo_pins(DEMO_PIN, by=actor.staff_id)
    finally:
        store.close()
    print(summary.describe())
    print(f"entered by {actor.name}")
    return EXIT_OK


def _check(url: str) -> int:
    from monitor.storage.integrity import check_database  # noqa: PLC0415 - only this command needs it

    result = check_database(url)
    if result.ok:
        print(f"ok: {url_for_display(url)} is intact")
        return EXIT_OK
    for problem in result.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return EXIT_NO


def url_for_display(url: str) -> str:
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    return make_url(url).render_as_string(hide_password=True)
