"""A private PostgreSQL server for fault tests: start it, stop it, kill it, start it again.

:class:`PrivateServer` runs ``initdb`` and the postmaster of PostgreSQL 15 in a temporary
folder, on a free port of 127.0.0.1, with trust authentication for 127.0.0.1 only and
``fsync=on`` (a kill must lose nothing that was committed). It never touches the shared
server on port 5432.

PostgreSQL refuses to run as root. Under root (CI) the server runs as the system user
:data:`SERVER_USER`, created here with ``useradd`` when missing (``.ci/run`` creates it too),
and the temporary folder belongs to that user. The postmaster is started directly (not through
``pg_ctl start``) so that it is this process's child: ``kill()`` sends it SIGKILL and reaps
it, as a power cut or the OOM killer would leave it. ``stop()`` uses ``pg_ctl stop``.
``freeze()`` sends SIGSTOP to the postmaster and every process of it (a hung server, a paused
virtual machine: the kernel still acknowledges TCP), ``thaw()`` SIGCONT; ``close()`` thaws
first.

Nothing here sleeps for a fixed time: every wait polls a condition with a deadline.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg

PG_BIN = Path(os.environ.get("CHAIRSIDE_PG_BIN", "/usr/lib/postgresql/15/bin"))
#: The account the server runs as when the tests run as root.
SERVER_USER = "chairside-pg"
SHARED_PORT = 5432
START_TIMEOUT = 30.0
#: Trust, for 127.0.0.1 only: sessions and replication (pg_basebackup, a standby).
HBA_TRUST_LOOPBACK = ["host all all 127.0.0.1/32 trust",
                      "host replication all 127.0.0.1/32 trust"]

_template: Path | None = None


class ServerError(RuntimeError):
    """The private server could not be set up, started or stopped; the log tail says why."""


def available() -> str | None:
    """Why a private server cannot run here, or None when it can."""
    for tool in ("initdb", "postgres", "pg_ctl"):
        if not (PG_BIN / tool).exists():
            return f"{PG_BIN / tool} is missing (PostgreSQL 15 server binaries)"
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is needed to run the server as a non-root user"
    return None


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(pause)  # a bounded poll of a condition, not a wait for time to pass
        pause = min(pause * 2, 0.1)


def free_port() -> int:
    """A port of 127.0.0.1 that nothing listens on now (never the shared server's)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port != SHARED_PORT:
            return port


def ensure_server_user() -> pwd.struct_passwd | None:
    """Under root, the unprivileged account the server runs as (created if missing)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        done = subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home",
             "--shell", "/usr/sbin/nologin", SERVER_USER],
            check=False, capture_output=True, text=True,
        )
    try:  # another test run may have created it meanwhile
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise ServerError(f"could not create the account {SERVER_USER}: "
                          f"{done.stderr.strip()}") from None


def _as_server_user(command: list[str]) -> list[str]:
    account = ensure_server_user()
    if account is None:
        return command
    return ["setpriv", f"--reuid={account.pw_uid}", f"--regid={account.pw_gid}",
            "--init-groups", "--", *command]


def _give_to_server_user(path: Path) -> None:
    account = ensure_server_user()
    if account is None:
        return
    for root, dirs, files in os.walk(path):
        os.chown(root, account.pw_uid, account.pw_gid)
        for name in (*dirs, *files):
            os.lchown(Path(root) / name, account.pw_uid, account.pw_gid)


def run_as_server_user(command: list[str], what: str) -> None:
    """Run a PostgreSQL tool as the account the server runs as (files it writes are its)."""
    _run(command, what)


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(_as_server_user(command), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ServerError(f"{what} failed ({done.returncode}): {done.stderr.strip()}")


def private_dir(prefix: str) -> Path:
    # Not pytest's tmp_path: that lies under a root-only folder the server user cannot enter.
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _give_to_server_user(path)
    return path


def _cluster_template() -> Path:
    """An initdb'd cluster made once per test run and copied for every server."""
    global _template  # noqa: PLW0603 - one template per process, made on first use
    if _template is None:
        folder = private_dir("chairside-pg-template-")
        atexit.register(shutil.rmtree, folder, True)
        data = folder / "data"
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
              "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--wal-segsize=1"], "initdb")
        _template = data
    return _template


class PrivateServer:
    """One PostgreSQL server of the test's own.

    ``url`` is a SQLAlchemy URL for database ``postgres`` as superuser ``postgres``;
    ``dsn`` the same for psycopg. ``settings`` go into ``postgresql.conf``; ``hba`` replaces
    the ``pg_hba.conf`` lines (trust for 127.0.0.1 by default). ``data_from``: a data
    directory to start from (a base backup) instead of a fresh cluster.
    """

    def __init__(self, *, settings: dict[str, str] | None = None,
                 hba: list[str] | None = None, data_from: Path | None = None) -> None:
        self.folder = private_dir("chairside-pg-")
        self.data = self.folder / "data"
        source = data_from or _cluster_template()
        _run(["cp", "-a", str(source), str(self.data)], "copying the cluster")
        self.port = free_port()
        self.log = self.folder / "server.log"
        self._process: subprocess.Popen[bytes] | None = None
        #: The processes stopped by :meth:`freeze`, postmaster first.
        self.frozen: list[int] = []
        self._log_file = None
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "on",
            "synchronous_commit": "on",
            "full_page_writes": "on",
            "max_connections": "30",
            "shared_buffers": "16MB",
            "logging_collector": "off",
        }
        conf.update(settings or {})
        with (self.data / "postgresql.auto.conf").open("a") as file:
            file.writelines(f"{key} = {value}\n" for key, value in conf.items())
        lines = hba or HBA_TRUST_LOOPBACK
        (self.data / "pg_hba.conf").write_text("".join(f"{line}\n" for line in lines))
        _give_to_server_user(self.folder)

    # -- addresses -----------------------------------------------------------------------

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} dbname={database} user={user}"

    # -- life ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        if self._process is None or self._process.poll() is not None:
            return None
        return self._process.pid

    def start(self) -> None:
        """Start the postmaster and return once it accepts connections."""
        if self.pid is not None:
            raise ServerError("the server is running already")
        self._log_file = self.log.open("ab")
        self._process = subprocess.Popen(
            _as_server_user([str(PG_BIN / "postgres"), "-D", str(self.data)]),
            stdout=self._log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
        try:
            wait_for(self._ready, START_TIMEOUT, f"the server on port {self.port} to start")
        except TimeoutError as exc:
            raise ServerError(f"{exc}\n{self.log_tail()}") from exc

    def _ready(self) -> bool:
        assert self._process is not None
        if self._process.poll() is not None:
            raise ServerError(f"the server exited ({self._process.returncode}):\n"
                              f"{self.log_tail()}")
        try:
            with psycopg.connect(self.dsn(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m fast|immediate|smart``; returns once every process has gone."""
        if mode not in ("smart", "fast", "immediate"):
            raise ValueError(f"mode: one of smart, fast, immediate (got {mode!r})")
        if self.pid is None:
            return
        children = self._children()
        _run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30",
              "stop"], f"pg_ctl stop -m {mode}")
        self._reap(children)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a crash would; its backends exit on their own."""
        pid = self.pid
        if pid is None:
            raise ServerError("the server is not running")
        children = self._children()
        os.kill(pid, signal.SIGKILL)
        self._reap(children)

    def freeze(self) -> list[int]:
        """SIGSTOP the postmaster, then every process it has (it can fork no more once
        stopped): the server hangs with its sockets open. Returns the processes stopped."""
        pid = self.pid
        if pid is None:
            raise ServerError("the server is not running")
        os.kill(pid, signal.SIGSTOP)
        self.frozen = [pid]
        for child in self._children():
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGSTOP)
                self.frozen.append(child)
        return list(self.frozen)

    def thaw(self) -> None:
        """SIGCONT every process :meth:`freeze` stopped (the server goes on where it was)."""
        frozen, self.frozen = self.frozen, []
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    @contextlib.contextmanager
    def hung(self) -> Iterator[list[int]]:
        """The server frozen for the block, and thawed whatever happens."""
        try:
            yield self.freeze()
        finally:
            self.thaw()

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def close(self) -> None:
        """End the server (SIGKILL: its data is thrown away) and remove its folder."""
        self.thaw()  # a stopped backend would never exit
        if self.pid is not None:
            self.kill()
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrivateServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- helpers -------------------------------------------------------------------------

    def _children(self) -> list[int]:
        pid = self.pid
        if pid is None:
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry.name))
        return found

    def _reap(self, children: list[int]) -> None:
        assert self._process is not None
        self._process.wait(timeout=30)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        # A new postmaster refuses to start while old backends hold the shared memory.
        wait_for(lambda: not any(_alive(pid) for pid in children), 30,
                 "the server's backends to exit")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _alive(pid: int) -> bool:
    """A process that still exists and is not a zombie (a zombie holds no shared memory)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@contextlib.contextmanager
def private_server(*, settings: dict[str, str] | None = None,
                   hba: list[str] | None = None) -> Iterator[PrivateServer]:
    """A started :class:`PrivateServer`, removed afterwards."""
    server = PrivateServer(settings=settings, hba=hba)
    try:
        server.start()
        yield server
    finally:
        server.close()


def require_private_server() -> None:
    """Skip (fail under CI) when this machine cannot run a private server."""
    import pytest  # noqa: PLC0415 - the rig itself does not need pytest

    reason = available()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"a private PostgreSQL server is needed under CI: {reason}",
                        pytrace=False)
        pytest.skip(reason)
