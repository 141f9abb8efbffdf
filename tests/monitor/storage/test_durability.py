"""A reading shown as saved survives the app being killed at any moment.

A writer process (``_durable_writer``) saves readings in a loop and prints each id after
its commit; the test kills it with SIGKILL at a random point of its work, round after
round against the same growing file, and then checks with plain ``sqlite3`` that the file
is sound and holds every printed id. This is the app-crash half of PRODUCT.md's "a saved
reading survives a crash of the app or the machine"; the machine half rests on
``synchronous=FULL``, which ``test_store`` checks on every connection.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path
from typing import IO

import pytest

from monitor.storage.integrity import check_database

ROUNDS = 50
MAX_READS = 40
REPO = Path(__file__).resolve().parents[3]


def _kill_round(server: subprocess.Popen[str], url: str, mrn: str, fifo: Path,
                reads: int) -> list[str]:
    """Have the server fork a writer, read ``reads`` saved ids, SIGKILL it mid-work.

    Returns every id the writer printed, including those printed between the last read
    and the kill: each was printed after its commit, so each is a promise.
    """
    assert server.stdin is not None
    assert server.stdout is not None
    os.mkfifo(fifo)
    server.stdin.write(f"{url}\t{mrn}\t{fifo}\n")
    server.stdin.flush()
    pid = int(server.stdout.readline())
    with fifo.open(encoding="utf-8") as out:  # opens once the writer has its end open
        printed = _read_lines(out, reads)
        if len(printed) == reads:
            # The writer is still saving: the kill lands at a random point of a transaction.
            os.kill(pid, signal.SIGKILL)
        printed.extend(out.read().splitlines(keepends=True))
    exit_code = int(server.stdout.readline())
    fifo.unlink()
    assert exit_code == -signal.SIGKILL, f"the writer stopped by itself ({exit_code}); see stderr"
    # A line cut short by the kill was never a complete "saved" message.
    return [line.strip() for line in printed if line.endswith("\n")]


def _read_lines(out: IO[str], count: int) -> list[str]:
    lines: list[str] = []
    while len(lines) < count:
        line = out.readline()
        if not line:
            break
        lines.append(line)
    return lines


@pytest.mark.slow
def test_every_reading_reported_saved_survives_the_app_being_killed(tmp_path: Path) -> None:
    path = tmp_path / "chairside.sqlite3"
    url = f"sqlite:///{path}"
    rng = random.Random(20260302)
    promised: set[str] = set()
    stderr_path = tmp_path / "writer-stderr.txt"
    with stderr_path.open("w", encoding="utf-8") as stderr, subprocess.Popen(
        [sys.executable, "-m", "tests.monitor._durable_writer", "serve"],
        cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
    ) as server:
        try:
            for round_ in range(ROUNDS):
                reads = rng.randint(1, MAX_READS)
                printed = _kill_round(server, url, f"DUR-{round_:03d}",
                                      tmp_path / f"round-{round_}.fifo", reads)
                assert len(printed) >= reads
                promised.update(printed)

                with closing(sqlite3.connect(path)) as db:
                    assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
                    stored = {row[0] for row in db.execute("SELECT id FROM readings")}
                missing = promised - stored
                assert not missing, f"round {round_}: {len(missing)} saved readings lost"
        except AssertionError as exc:
            server.kill()  # its current writer gets a broken pipe, as our end is closed
            raise AssertionError(
                f"{exc}\nwriter stderr:\n{stderr_path.read_text(encoding='utf-8')}"
            ) from exc
        except BaseException:
            server.kill()
            raise
        assert server.stdin is not None
        server.stdin.close()  # end of commands: the server leaves its loop
    assert server.returncode == 0
    assert len(promised) >= ROUNDS
    # The file left by fifty kills also passes the full check ``python -m monitor check`` runs.
    result = check_database(url)
    assert result.ok, result.problems
