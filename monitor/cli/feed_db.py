"""``python -m monitor feed …`` commands that use the database.

* ``feed listen [--host H] [--port P] [--zone ZONE] [--db URL]`` runs the MLLP receiver and
  files into the database until SIGTERM or SIGINT (default 127.0.0.1:2575; all interfaces
  only with ``--host 0.0.0.0``).
* ``feed bind --chair N (--device EUI64 | --location TEXT) [--as ADMIN]`` and ``feed unbind
  (--device EUI64 | --location TEXT) [--as ADMIN]`` bind a monitor to a chair or end it.
* ``feed devices [--json]`` lists each monitor with its chair and last message time.
* ``feed show [--since TIME] [--device EUI64] [--json]`` lists the observations received.

Exit status: 0 done; 1 refused (permission, identity); 2 the arguments were refused;
3 the database could not be used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.clinical.permissions import PermissionDenied
from monitor.clinical.validation import ValidationError, parse_time
from monitor.clock import Clock, SystemClock
from monitor.feed.filing import FeedError, FeedFiling
from monitor.feed.interpret import FeedHandler
from monitor.feed.mllp import MllpServer
from monitor.feed.receiver import FilingReceiver
from monitor.service.auth import load_secret
from monitor.service.clinic import ClinicService
from monitor.storage.store import StorageError, StoreOpenError, default_url, open_store

COMMANDS = ("listen", "bind", "unbind", "devices", "show")
EXIT_OK, EXIT_NO, EXIT_INVALID, EXIT_STORAGE = 0, 1, 2, 3
DEFAULT_PORT = 2575

log = logging.getLogger(__name__)


def add_commands(sub: Any, db_option: Callable[[argparse.ArgumentParser], None]) -> None:
    from monitor.cli.identity import add_as_option  # noqa: PLC0415 - avoids an import cycle

    listen = sub.add_parser("listen", help="receive monitors over MLLP and file into the database")
    listen.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for all "
                             "interfaces)")
    listen.add_argument("--port", type=int, default=DEFAULT_PORT, help="TCP port (default 2575)")
    listen.add_argument("--zone", default="UTC",
                        help="the clinic's time zone for device times without an offset")
    db_option(listen)
    for name, text in (("bind", "bind a monitor to a chair"),
                       ("unbind", "end a monitor's binding to its chair")):
        command = sub.add_parser(name, help=text)
        if name == "bind":
            command.add_argument("--chair", required=True, help="the chair, e.g. 1")
        which = command.add_mutually_exclusive_group(required=True)
        which.add_argument("--device", metavar="EUI64", help="the monitor's EUI-64")
        which.add_argument("--location", metavar="TEXT",
                           help="the monitor's PV1-3 location, for monitors without an EUI-64")
        add_as_option(command)
        db_option(command)
    devices = sub.add_parser("devices", help="list monitors, their chairs and last messages")
    devices.add_argument("--json", action="store_true", help="print JSON")
    db_option(devices)
    show = sub.add_parser("show", help="list the observations received")
    show.add_argument("--since", metavar="TIME", help="ISO 8601 time with offset")
    show.add_argument("--device", metavar="EUI64", help="only this monitor")
    show.add_argument("--json", action="store_true", help="print JSON")
    db_option(show)


def run(args: argparse.Namespace, clock: Clock | None = None) -> int:
    clock = clock or SystemClock()
    url = args.db or default_url()
    try:
        if args.feed_command == "listen":
            return _listen(args, url, clock)
        store = open_store(url)
        try:
            filing = FeedFiling(ClinicService(store, clock, secret=load_secret()))
            return _RUNNERS[args.feed_command](args, filing)
        finally:
            store.close()
    except StoreOpenError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except StorageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return EXIT_STORAGE


def _bind(args: argparse.Namespace, filing: FeedFiling) -> int:
    from monitor.cli.identity import IdentityRefused, acting_staff  # noqa: PLC0415

    try:
        actor = acting_staff(filing.service, args.acting, f"feed {args.feed_command}")
        if args.feed_command == "bind":
            filing.bind(args.chair, device=args.device, location=args.location,
                        by=actor.staff_id)
            print(f"bound {args.device or args.location} to chair {args.chair.strip()}")
        else:
            ended = filing.unbind(device=args.device, location=args.location,
                                  by=actor.staff_id)
            print(f"unbound {args.device or args.location}" if ended else
                  f"{args.device or args.location} was not bound")
    except FeedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except (IdentityRefused, PermissionDenied) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NO
    return EXIT_OK


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _devices(args: argparse.Namespace, filing: FeedFiling) -> int:
    devices = [{"device": d.key, "eui64": d.eui64, "location": d.location, "chair": d.chair,
                "bound_at": _time(d.bound_at), "first_message_at": _time(d.first_message_at),
                "last_message_at": _time(d.last_message_at)} for d in filing.devices()]
    if args.json:
        json.dump({"devices": devices}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return EXIT_OK
    for d in devices:
        print(f"{d['device']}\tchair {d['chair'] or '-'}\tlast message "
              f"{d['last_message_at'] or 'never'}")
    return EXIT_OK


def _show(args: argparse.Namespace, filing: FeedFiling) -> int:
    since = None
    if args.since is not None:
        try:
            since = parse_time(args.since, field="--since", label="--since")
        except ValidationError as exc:
            print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
            return EXIT_INVALID
    rows = filing.observations(since=since, device=args.device)
    observations = [{
        "device": r.device_key, "location": r.location, "chair": r.chair,
        "measure": r.measure, "value": r.value, "unit": r.unit,
        "observed_at": _time(r.observed_at), "received_at": _time(r.received_at),
        "message_id": r.message_id, "status": r.status, "reason": r.reason,
    } for r in rows]
    if args.json:
        json.dump({"observations": observations}, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return EXIT_OK
    for o in observations:
        print(f"{o['received_at']}\t{o['device']}\t{o['chair'] or '-'}\t{o['measure']}\t"
              f"{o['value']} {o['unit']}\t{o['status']}\t{o['reason']}")
    return EXIT_OK


_RUNNERS: dict[str, Callable[[argparse.Namespace, FeedFiling], int]] = {
    "bind": _bind, "unbind": _bind, "devices": _devices, "show": _show,
}


def _listen(args: argparse.Namespace, url: str, clock: Clock) -> int:
    try:
        zone = ZoneInfo(args.zone)
    except (ZoneInfoNotFoundError, ValueError):
        print(f"error: --zone: {args.zone!r} is not a time zone name such as Europe/Paris",
              file=sys.stderr)
        return EXIT_INVALID
    if not 0 <= args.port < 65536:
        print("error: --port: a port 1-65535 (0: any free port)", file=sys.stderr)
        return EXIT_INVALID
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store = open_store(url)
    try:
        filing = FeedFiling(ClinicService(store, clock, secret=load_secret()))
        receiver = FilingReceiver(FeedHandler(clock, zone), filing)
        try:
            asyncio.run(_serve(receiver, args.host, args.port))
        except OSError as exc:
            print(f"error: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}",
                  file=sys.stderr)
            return EXIT_NO
        finally:
            receiver.close()
    finally:
        store.close()
    log.info("feed receiver stopped")
    return EXIT_OK


async def _serve(receiver: FilingReceiver, host: str, port: int) -> None:
    server = MllpServer(receiver, receiver.reject)
    bound = await server.start(host, port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"listening on {bound[0]}:{bound[1]}", flush=True)
    log.info("feed receiver listening on %s:%d", *bound)
    try:
        await stop.wait()
    finally:
        log.info("feed receiver stopping: closing connections, filing what is queued")
        await server.close()
