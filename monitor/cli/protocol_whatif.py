"""``python -m monitor protocol what-if DRAFT.toml``: past sessions judged by a draft protocol.

Reads only. Prints how the flags and discharge-ready times of the sessions of a period
would have come out under the draft, against the versions they ran under
(:mod:`monitor.service.whatif`); ``--json`` prints the documented form (``docs/cli.md``).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from monitor.clinical.domain import Measure, Severity
from monitor.clinical.protocol import ProtocolError
from monitor.clinical.protocol_changes import ProtocolChangeError
from monitor.clock import Clock
from monitor.service.auth import load_secret
from monitor.service.clinic import ClinicService
from monitor.service.protocol_admin import DraftNotFoundError
from monitor.service.whatif import WhatIfResult, default_workers, period, what_if
from monitor.storage.store import open_store

EXIT_OK, EXIT_NO, EXIT_INVALID = 0, 1, 2
WHAT_IF = "what-if"


def add_what_if(
    subcommands: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
    db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``what-if`` on the ``protocol`` command's subcommands."""
    sub = subcommands.add_parser(
        WHAT_IF, help="replay past sessions under a draft protocol and compare")
    sub.add_argument("file", metavar="DRAFT.toml", type=Path, nargs="?",
                     help="the draft: what it changes of the profile's current version")
    sub.add_argument("--draft", dest="draft_id", metavar="ID",
                     help="a stored draft (protocol list) in place of a file")
    sub.add_argument("--since", metavar="YYYY-MM-DD",
                     help="first day of the period (local date; default: the first session)")
    sub.add_argument("--until", metavar="YYYY-MM-DD",
                     help="last day of the period, included (default: the latest session)")
    sub.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes evaluating sessions (default: one per core)")
    sub.add_argument("--json", action="store_true", help="print JSON (the documented format)")
    db_option(sub)


def run(args: argparse.Namespace, url: str, clock: Clock) -> int:
    errors: list[str] = []
    since = _day(args.since, "--since", errors)
    until = _day(args.until, "--until", errors)
    if since is not None and until is not None and until < since:
        errors.append(f"--until: {args.until} is before --since {args.since}")
    workers = default_workers() if args.workers is None else args.workers
    if not 1 <= workers <= 256:
        errors.append(f"--workers: expected a whole number from 1 to 256, got {workers}")
    if (args.file is None) == (args.draft_id is None):
        errors.append("name the draft: a file DRAFT.toml or --draft ID (one of them)")
    text = _read(args.file, errors) if args.file is not None else None
    draft_id = _draft_id(args.draft_id, errors) if args.draft_id is not None else None
    if errors:
        return _refuse(errors)
    store = open_store(url)
    try:
        admin = ClinicService(store, clock, secret=load_secret()).protocols
        try:
            if text is not None:
                draft = admin.revision(text, args.file.name)
            else:
                assert draft_id is not None
                draft = admin.resolved(draft_id)
        except (ProtocolError, ProtocolChangeError) as exc:
            return _refuse([f"{exc}; nothing compared"])
        except DraftNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_NO
        progress = _show_progress if sys.stderr.isatty() and not args.json else None
        since_at, until_at = period(since, until)
        result = what_if(store, draft, since=since_at, until=until_at, workers=workers,
                         protocol_dir=admin.protocol_dir, progress=progress,
                         cancel=threading.Event())
    finally:
        store.close()
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        name = args.file.name if args.file is not None else f"draft {draft_id}"
        print(summary(result, name, draft.version))
    return EXIT_OK


def _refuse(errors: list[str]) -> int:
    for error in errors:
        print(error, file=sys.stderr)
    return EXIT_INVALID


def _read(path: Path, errors: list[str]) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        errors.append(f"{path}: cannot read the file ({exc.strerror}); nothing compared")
    except UnicodeDecodeError:
        errors.append(f"{path}: the file is not UTF-8 text; nothing compared")
    return None


def _draft_id(text: str, errors: list[str]) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        errors.append(f"--draft: {text!r} is not an id")
        return None


def _day(text: str | None, option: str, errors: list[str]) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{option}: expected a date YYYY-MM-DD, got {text!r}")
        return None


def _show_progress(done: int, total: int) -> None:
    print(f"\r{done} of {total} sessions", end="", file=sys.stderr, flush=True)


def summary(result: WhatIfResult, name: str, version: str) -> str:
    """The comparison in words, for a person at a terminal."""
    data = result.to_json()
    lines = [f"What-if: {name} (version {version}) of profile {result.profile}, "
             "against the versions the sessions ran under",
             f"Sessions compared: {result.sessions}"
             f" ({result.skipped_other_profiles} of other profiles skipped"
             + (f", {len(result.refused)} whose patient limits do not fit the draft"
                if result.refused else "") + ")"]
    if result.cancelled:
        lines.append(f"CANCELLED after {result.sessions} of {result.total} sessions: "
                     "the figures cover those only")
    lines += ["", f"{'Flags':<12}{'before':>8}{'after':>8}"]
    for severity in Severity:
        lines.append(f"  {severity.label:<10}{data['flags_before'][severity.label]:>8}"
                     f"{data['flags_after'][severity.label]:>8}")
    lines.append("  by measure")
    for measure in Measure:
        before = sum(data["flags_by_measure_before"][measure.value].values())
        after = sum(data["flags_by_measure_after"][measure.value].values())
        if before or after:
            lines.append(f"    {measure.value:<8}{before:>8}{after:>8}")
    lines += [
        "",
        f"Sessions with a warning or critical flag: {result.warning_sessions_before} → "
        f"{result.warning_sessions_after}",
        "Discharge-ready, median minutes after the infusion stop: "
        f"{_minutes(data['ready_median_min_before'])} → "
        f"{_minutes(data['ready_median_min_after'])}; ready earlier in "
        f"{result.ready_earlier} sessions, later in {result.ready_later}",
        "",
        f"Sessions whose flags change: {len(result.changed)}",
    ]
    for changed in result.changed:
        lines.append(f"  {changed.time.astimezone():%Y-%m-%d %H:%M}  {changed.session_id}")
        lines.append(f"    before: {_flags(changed.before)}")
        lines.append(f"    after:  {_flags(changed.after)}")
    return "\n".join(lines)


def _minutes(value: float | None) -> str:
    return "none ready" if value is None else f"{value:g}"


def _flags(flags: tuple[tuple[Measure, Severity, datetime], ...]) -> str:
    return ", ".join(f"{m.value} {s.label} {t.astimezone():%H:%M}" for m, s, t in flags) or "none"
