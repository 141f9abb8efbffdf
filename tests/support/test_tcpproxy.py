"""The faulty proxy: what a psycopg client sees through it (latency, stall, drop, refusal)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.pgserver import PrivateServer, private_server, require_private_server, wait_for
from tests.support.tcpproxy import FaultyProxy


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateServer]:
    require_private_server()
    with private_server() as started:
        yield started


@pytest.fixture
def proxy(server: PrivateServer) -> Iterator[FaultyProxy]:
    with FaultyProxy(server.port) as started:
        yield started


def _round_trip(connection: psycopg.Connection) -> float:
    started = time.monotonic()
    assert connection.execute("SELECT 1").fetchone() == (1,)
    return time.monotonic() - started


def test_passes_queries_through_and_counts_bytes(proxy: FaultyProxy) -> None:
    with psycopg.connect(proxy.dsn(), autocommit=True) as connection:
        _round_trip(connection)
    wait_for(lambda: proxy.counters.open == 0, 5, "the closed connection to leave the proxy")
    counters = proxy.counters
    assert counters.accepted == 1
    assert counters.bytes_to_server > 0
    assert counters.bytes_to_client > 0
    assert counters.dropped == counters.refused == 0


def test_latency_is_added_each_way(proxy: FaultyProxy) -> None:
    with psycopg.connect(proxy.dsn(), autocommit=True) as connection:
        proxy.set_latency(0.005)
        delayed = _round_trip(connection)
        assert delayed >= 0.010  # 5 ms out and 5 ms back
        assert proxy.counters.chunks_delayed >= 2
        proxy.pass_through()
        delayed_before = proxy.counters.chunks_delayed
        _round_trip(connection)
        assert proxy.counters.chunks_delayed == delayed_before


def test_stall_holds_bytes_until_the_client_times_out_and_then_releases_them(
    proxy: FaultyProxy,
) -> None:
    with psycopg.connect(proxy.dsn(), autocommit=True) as connection:
        proxy.stall()
        started = time.monotonic()
        with pytest.raises(psycopg.errors.ConnectionTimeout):
            psycopg.connect(proxy.dsn(), connect_timeout=1)
        assert 0.9 <= time.monotonic() - started < 5
        assert proxy.counters.held > 0  # the start-up packet, held and not lost
        proxy.pass_through()
        _round_trip(connection)  # the open connection survived the stall


def test_statement_timeout_ends_a_statement_the_network_delays(proxy: FaultyProxy) -> None:
    with psycopg.connect(proxy.dsn(), autocommit=True) as connection:
        connection.execute("SET statement_timeout = 100")
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute("SELECT pg_sleep(5)")
        _round_trip(connection)


def test_drop_resets_open_connections_and_refusal_resets_new_ones(proxy: FaultyProxy) -> None:
    connection = psycopg.connect(proxy.dsn(), autocommit=True)
    try:
        _round_trip(connection)
        assert proxy.drop_all() == 1
        with pytest.raises(psycopg.OperationalError):
            _round_trip(connection)
    finally:
        connection.close()
    proxy.refuse_new()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(proxy.dsn(), connect_timeout=2)
    proxy.refuse_new(False)
    with psycopg.connect(proxy.dsn(), connect_timeout=2) as again:
        _round_trip(again)
    counters = proxy.counters
    assert (counters.dropped, counters.refused, counters.accepted) == (1, 1, 2)
