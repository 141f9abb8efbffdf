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
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path

from monitor.clinical.domain import Measure, Severity
from monitor.clinical.protocol import ProtocolError, load_draft
from monitor.service.whatif import WhatIfResult, default_workers, what_if
from monitor.storage.store import open_store

EXIT_OK, EXIT_INVALID = 0, 2
WHAT_IF = "what-if"


def add_what_if(
    subcommands: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
    db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``what-if`` on the ``protocol`` command's subcommands."""
    sub = subcommands.add_parser(
        WHAT_IF, help="replay past sessions under a draft protocol and compare")
    sub.add_argument("draft", metavar="DRAFT.toml", type=Path,
                     help="the draft: what it changes of the profile it extends")
    sub.add_argument("--since", metavar="YYYY-MM-DD",
                     help="first day of the period (local date; default: the first session)")
    sub.add_argument("--until", metavar="YYYY-MM-DD",
                     help="last day of the period, included (default: the latest session)")
    sub.add_argument("--workers", type=int, default=None, metavar="N",
                     help="processes evaluating sessions (default: one per core)")
    sub.add_argument("--json", action="store_true", help="print JSON (the documented format)")
    db_option(sub)


def run(args: argparse.Namespace, url: str) -> int:
    errors: list[str] = []
    since = _day(args.since, "--since", errors)
    until = _day(args.until, "--until", errors)
    if since is not None and until is not None and until < since:
        errors.append(f"--until: {args.until} is before --since {args.since}")
    workers = default_workers() if args.workers is None else args.workers
    if not 1 <= workers <= 256:
        errors.append(f"--workers: expected a whole number from 1 to 256, got {workers}")
    try:
        draft = load_draft(args.draft)
    except ProtocolError as exc:
        errors.append(f"{exc}; nothing compared")
    if errors:
        for error in errors:
            print(error, file=sys.stderr)
        return EXIT_INVALID
    store = open_store(url)
    cancel = threading.Event()
    progress = _show_progress if sys.stderr.isatty() and not args.json else None
    try:
        result = what_if(store, draft, since=_midnight(since), until=_midnight(until, 1),
                         workers=workers, progress=progress, cancel=cancel)
    finally:
        store.engine.dispose()
    if progress is not None:
        print(file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        print(summary(result, args.draft, draft.version))
    return EXIT_OK


def _day(text: str | None, option: str, errors: list[str]) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors.append(f"{option}: expected a date YYYY-MM-DD, got {text!r}")
        return None


def _midnight(day: date | None, days_after: int = 0) -> datetime | None:
    """Local midnight starting ``day`` (plus ``days_after`` days), as an aware time."""
    if day is None:
        return None
    return datetime.combine(day + timedelta(days=days_after), time()).astimezone()


def _show_progress(done: int, total: int) -> None:
    print(f"\r{done} of {total} sessions", end="", file=sys.stderr, flush=True)


def summary(result: WhatIfResult, path: Path, version: str) -> str:
    """The comparison in words, for a person at a terminal."""
    data = result.to_json()
    lines = [f"What-if: draft {path.name} (version {version}) of profile {result.profile}, "
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
