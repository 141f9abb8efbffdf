"""The private server rig: it starts, stops, dies and comes back, and clients notice."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from monitor.storage.store import Store, StoreUnavailableError, make_engine
from tests.support.pgserver import (
    HBA_TRUST_LOOPBACK,
    SHARED_PORT,
    PrivateServer,
    private_server,
    require_private_server,
    wait_for,
)


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        yield started


def _answers(dsn: str) -> bool:
    try:
        with psycopg.connect(dsn, connect_timeout=2) as connection:
            return connection.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def test_private_server_runs_apart_from_the_shared_one_with_fsync_and_loopback_trust(
    server: PrivateServer,
) -> None:
    assert server.port != SHARED_PORT
    with psycopg.connect(server.dsn()) as connection:
        settings = dict(connection.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('fsync', 'listen_addresses', 'port', 'data_directory')").fetchall())
    assert settings["fsync"] == "on"
    assert settings["listen_addresses"] == "127.0.0.1"
    assert int(settings["port"]) == server.port
    assert settings["data_directory"] == str(server.data)
    hba = (server.data / "pg_hba.conf").read_text().split("\n")
    assert [line for line in hba if line] == HBA_TRUST_LOOPBACK


@pytest.mark.slow
def test_killed_server_comes_back_with_what_was_committed_and_the_store_reconnects(
    server: PrivateServer,
) -> None:
    with psycopg.connect(server.dsn(), autocommit=True) as connection:
        connection.execute("CREATE TABLE kept (n int)")
        connection.execute("INSERT INTO kept VALUES (1)")
    engine_store = _store(server)
    try:
        server.kill()
        assert server.pid is None
        assert not _answers(server.dsn())
        with pytest.raises(StoreUnavailableError), engine_store.read() as db:
            db.execute(text("SELECT n FROM kept")).all()

        server.start()
        # The pool's stale connections are replaced; the committed row survived SIGKILL.
        with engine_store.read() as db:
            assert db.execute(text("SELECT n FROM kept")).scalars().all() == [1]
    finally:
        engine_store.close()


def _store(server: PrivateServer) -> Store:
    """A store on the server's own database, without ChairSide's schema."""
    engine = make_engine(server.url())
    return Store(engine=engine, sessions=sessionmaker(engine), url=make_url(server.url()))


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_stopped_server_refuses_connections_and_restarts(server: PrivateServer,
                                                         mode: str) -> None:
    server.stop(mode)
    assert not _answers(server.dsn())
    server.start()
    wait_for(lambda: _answers(server.dsn()), 10, "the restarted server to answer")
