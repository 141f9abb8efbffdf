"""``python -m monitor watch [--json]``: one line per change committed anywhere in the clinic.

For clinic integrations (a pager, a wall display). Reads only: nothing is written, so
nothing is attributed. The lines come from :class:`monitor.storage.changes.feed.ChangeFeed`, so
each committed record is printed once, in commit order, and a dropped connection is
caught up after it returns. SIGINT and SIGTERM end the command with status 0.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

from monitor.storage.changes import Change
from monitor.storage.changes.feed import open_feed
from monitor.storage.store import open_store

EXIT_OK = 0
COMMAND = "watch"
#: How long the command waits for its first connection before saying it is still trying.
_FIRST_CONNECT_S = 10.0


def add_command(
    commands: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
    db_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Register ``watch`` on the top-level parser's subcommands."""
    watch = commands.add_parser(
        COMMAND, help="print one line per change committed anywhere in the clinic")
    watch.add_argument("--json", action="store_true",
                       help="print one JSON object per line (the documented format)")
    db_option(watch)


def line(change: Change, *, as_json: bool) -> str:
    """One change as printed: JSON (docs/cli.md) or tab-separated text."""
    data = change.as_json()
    if as_json:
        return json.dumps(data, separators=(",", ":"))
    fields = [data["time"], data["kind"], f"chair {data['chair'] or '-'}",
              f"session {data['session_id'] or '-'}", f"record {data['record_id'] or '-'}",
              f"by {data['by'] or '-'}"]
    if data["severity"]:
        fields.append(data["severity"])
    return "\t".join(fields)


def run(args: argparse.Namespace, url: str) -> int:
    stopping = threading.Event()
    changes: queue.Queue[Change | None] = queue.Queue()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()
        changes.put(None)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    store = open_store(url)
    feed = open_feed(store)
    feed.subscribe(changes.put)
    try:
        feed.start()
        if not feed.connected.wait(_FIRST_CONNECT_S) and not stopping.is_set():
            print("waiting for the database…", file=sys.stderr, flush=True)
        while not stopping.is_set() and not feed.connected.wait(0.5):
            pass
        if not stopping.is_set():
            print(f"watching for changes after audit entry {feed.last_seq}",
                  file=sys.stderr, flush=True)
        while not stopping.is_set():
            change = changes.get()
            if change is None:
                break
            print(line(change, as_json=args.json), flush=True)
    except BrokenPipeError:
        # The reader went away (``| head``): done, without a second error at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    finally:
        feed.stop()
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return EXIT_OK
