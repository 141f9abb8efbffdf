"""A nurse who never stops saving: the process ``test_durability`` kills at random.

The writer opens the store, creates a patient and a session, then saves readings through
:meth:`ClinicService.record_reading` until it is killed. It prints each reading's id (hex,
one per line, flushed) only after ``record_reading`` returned, that is after the commit: a
printed id is a reading the app would have shown as "Saved".

Two ways to run it:

* ``python -m tests.monitor._durable_writer write URL MRN``: one writer, ids on stdout.
* ``python -m tests.monitor._durable_writer serve``: imports everything once, then for each
  line ``URL<TAB>MRN<TAB>FIFO`` read from stdin forks a writer whose stdout is the named
  pipe ``FIFO``, prints the writer's pid, waits for it to end and prints its exit code.
  Importing SQLAlchemy, Alembic and the service costs over a second per interpreter; the
  test needs fifty kills, so it pays that once and forks (a few milliseconds) per round.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import NoReturn

from monitor.clock import SystemClock
from monitor.service.clinic import ClinicService
from monitor.storage.store import open_store

READING = {"sbp": 126, "dbp": 79, "hr": 74, "spo2": 98}


def write(url: str, mrn: str) -> NoReturn:
    """Save readings forever, printing each id after its commit."""
    store = open_store(url)
    service = ClinicService(store, SystemClock(), secret=b"durable-writer-secret-0123456789")
    nurse = service.ensure_staff("Durability Writer", "nurse")
    patient = service.add_patient(mrn, by=nurse, weight_kg=70.0)
    session_id = service.start_session(patient.id, by=nurse, chair="1")
    while True:
        saved = service.record_reading(session_id, READING, by=nurse)
        print(saved.id.hex, flush=True)


def _writer_child(url: str, mrn: str, fifo: str) -> NoReturn:
    """In the forked child: stdout becomes the round's pipe, then write until killed."""
    try:
        # The pipe is opened first, before any database work: the test blocks on its other
        # end, and a writer that failed later must still give it end-of-file, not a hang.
        out = os.open(fifo, os.O_WRONLY)
        os.dup2(out, sys.stdout.fileno())
        os.close(out)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, sys.stdin.fileno())  # the server's commands are not the writer's
        os.close(devnull)
        write(url, mrn)
    except BaseException:  # noqa: BLE001 - the child must never return into the server loop
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(1)


def serve() -> None:
    """Fork one writer per command line; report its pid, then its exit code."""
    for line in sys.stdin:
        url, mrn, fifo = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:
            _writer_child(url, mrn, fifo)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status), flush=True)


def main(argv: list[str]) -> None:
    if argv[:1] == ["serve"]:
        serve()
    elif argv[:1] == ["write"] and len(argv) == 3:
        write(argv[1], argv[2])
    else:
        sys.exit("usage: python -m tests.monitor._durable_writer (serve | write URL MRN)")


if __name__ == "__main__":
    main(sys.argv[1:])
