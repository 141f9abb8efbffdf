"""Several statements sent to the database together: one round trip to PostgreSQL.

On a clinic's Wi-Fi every round trip to the server costs milliseconds, whatever the
statement. :func:`run_together` sends SQL Core statements that do not depend on each other's
results in psycopg's pipeline mode: the statements (and the ``BEGIN`` of a transaction not
yet begun, and the ``COMMIT`` or ``ROLLBACK`` that ends it when asked) leave in one burst and
their results come back in one. The server still runs them one after the other, in order,
each with its own snapshot, so a statement sees what those before it did (and a lock they
took). On SQLite the statements simply run one after another on the connection.

Each statement's rows come back as the result processors of its columns make them (aware UTC
times, the JSON columns' values), as :meth:`Connection.execute` gives them, and SQLAlchemy's
``before_cursor_execute`` listeners hear every statement sent, so statement counts stay true.
An error is raised as SQLAlchemy raises it (``IntegrityError``, ``OperationalError``, …),
and a lost connection is invalidated: callers handle both exactly as for ``execute``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, Executable

#: One statement and its parameters (a mapping, a list of mappings for many rows, or None).
Statement = tuple[Executable, Mapping[str, Any] | Sequence[Mapping[str, Any]] | None]
#: What ends the transaction in the same round trip.
ENDINGS = frozenset({"COMMIT", "ROLLBACK"})

#: Marks, in the pooled connection's info, a connection put in autocommit by a batch.
_BEGUN_HERE = "chairside.batch_began"
_IDLE = 0  # psycopg.pq.TransactionStatus.IDLE, without importing psycopg on SQLite
_COMPILED: dict[tuple[str, int, tuple[str, ...]], tuple[Any, Any]] = {}


def run_together(connection: Connection, statements: Sequence[Statement], *,
                 end: str | None = None) -> list[list[Any]]:
    """Run ``statements`` in order; each one's rows (empty for a statement without rows).

    ``end`` (``"COMMIT"`` or ``"ROLLBACK"``, PostgreSQL only) ends the transaction in the
    same round trip; the caller's later commit or rollback then has nothing left to do. On
    SQLite it is ignored: the caller's transaction ends as usual.
    """
    if end is not None and end not in ENDINGS:
        raise ValueError(f"end: one of {', '.join(sorted(ENDINGS))}, not {end!r}")
    if connection.dialect.name != "postgresql":
        results: list[list[Any]] = []
        for statement, params in statements:
            result = connection.execute(statement, params)
            results.append(list(result.all()) if result.returns_rows else [])
        return results
    return _pipelined(connection, statements, end)


def _pipelined(connection: Connection, statements: Sequence[Statement],
               end: str | None) -> list[list[Any]]:
    dialect = connection.dialect
    fairy = connection.connection
    raw = fairy.driver_connection
    assert raw is not None
    prepared = [_prepare(connection, statement, params) for statement, params in statements]
    cursors = []
    # psycopg would begin the transaction with a BEGIN of its own and wait for its answer
    # (a round trip by itself). Begun here, the BEGIN leaves with the statements: the
    # connection is put in autocommit while idle (psycopg then sends no BEGIN) and the
    # transaction is begun explicitly; it ends by the caller's COMMIT or ROLLBACK as usual,
    # and the pool puts autocommit back when the connection returns (:func:`restore`).
    begin = not raw.autocommit and raw.info.transaction_status == _IDLE
    try:
        if begin:
            raw.autocommit = True
            fairy.info[_BEGUN_HERE] = True
        with raw.pipeline():
            if begin:
                raw.cursor().execute("BEGIN")
            for sql, args, many, _ in prepared:
                cursor = raw.cursor()
                for each in (args if many else [args]):
                    connection.dispatch.before_cursor_execute(
                        connection, cursor, sql, each, None, False)
                if many:
                    cursor.executemany(sql, args)
                else:
                    cursor.execute(sql, args)
                cursors.append(cursor)
            if end is not None:
                raw.execute(end)
        if end is not None:
            restore(raw, None, fairy.info)
        results = []
        for cursor, (_, _, _, make_rows) in zip(cursors, prepared, strict=True):
            description = cursor.description
            results.append([] if description is None
                           else make_rows(cursor.fetchall(), description))
            cursor.close()
        return results
    except dialect.loaded_dbapi.Error as exc:
        invalidated = dialect.is_disconnect(exc, raw, None)
        error = DBAPIError.instance(
            "; ".join(sql for sql, *_ in prepared) + (f"; {end}" if end else ""), None, exc,
            dialect.loaded_dbapi.Error, hide_parameters=True, dialect=dialect,
            connection_invalidated=invalidated)
        if invalidated:
            connection.invalidate(exc)
        # The link lost with the COMMIT sent: the server may have committed
        # (:class:`monitor.storage.store.OutcomeUnknownError`).
        error.during_commit = end == "COMMIT"  # type: ignore[attr-defined]
        raise error from exc


def restore(dbapi_connection: Any, record: Any, info: dict[str, Any] | None = None) -> None:
    """Take a connection out of the autocommit a batch put it in to begin its transaction,
    once that transaction has ended. A pool listener on PostgreSQL engines (``checkin``,
    after the pool's rollback, and ``checkout``, so that no transaction ever starts on a
    connection left that way)."""
    info = info if info is not None else getattr(record, "info", {})
    if info.get(_BEGUN_HERE) and dbapi_connection is not None \
            and dbapi_connection.info.transaction_status == _IDLE:
        dbapi_connection.autocommit = False
        del info[_BEGUN_HERE]


RowMaker = Callable[[list[Any], Sequence[Any]], list[Any]]


def _prepare(connection: Connection, statement: Executable,
             params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None
             ) -> tuple[str, Any, bool, RowMaker]:
    """The SQL text, the driver's parameters, whether for many rows, and the row maker."""
    many = isinstance(params, Sequence)
    first: Mapping[str, Any] = ((params[0] if params else {}) if many  # type: ignore[index]
                                else params or {})  # type: ignore[assignment]
    compiled, make_row = _compiled(connection, statement, first)
    if many:
        assert isinstance(params, Sequence)
        bound = [_bind(compiled, each) for each in params]
        return bound[0][0] if bound else compiled.string, [b[1] for b in bound], True, make_row
    sql, args = _bind(compiled, params or {})  # type: ignore[arg-type]
    return sql, args, False, make_row


def _compiled(connection: Connection, statement: Executable,
              params: Mapping[str, Any]) -> tuple[Any, RowMaker]:
    """The statement compiled for the dialect once, its bind processors and row maker.

    An INSERT is compiled for the columns given, as :meth:`Connection.execute` does; the
    columns' Python-side defaults are not applied here, so every column that has one must
    be given.
    """
    dialect = connection.dialect
    is_insert = bool(getattr(statement, "is_insert", False))
    keys = tuple(sorted(params)) if is_insert else ()
    key = (dialect.name, id(statement), keys)
    found = _COMPILED.get(key)
    if found is not None and found[0].statement is statement:
        return found
    assert isinstance(statement, ClauseElement)
    if is_insert:
        table = statement.table  # type: ignore[attr-defined]
        missing = [c.name for c in table.columns if c.default is not None and c.name not in keys]
        if missing:
            raise ValueError(f"insert into {table.name}: give {', '.join(missing)} (defaults "
                             "are not applied to statements run together)")
        compiled = statement.compile(dialect=dialect, column_keys=list(keys))
    else:
        compiled = statement.compile(dialect=dialect)
    columns = getattr(compiled, "_result_columns", None) or []
    names = [column.keyname for column in columns]
    row_type = namedtuple("Row", names, rename=True) if names else None
    by_types: dict[tuple[Any, ...], list[Any]] = {}

    def make_rows(rows: list[Any], description: Sequence[Any]) -> list[Any]:
        """The rows as the columns' result processors make them (which may depend on the
        type the server reports, as for numbers)."""
        if row_type is None or len(description) != len(columns):
            return [tuple(row) for row in rows]
        type_codes = tuple(d.type_code for d in description)
        result_processors = by_types.get(type_codes)
        if result_processors is None:
            result_processors = by_types[type_codes] = [
                column.type._cached_result_processor(dialect, code)
                for column, code in zip(columns, type_codes, strict=True)]
        if not any(result_processors):
            return [row_type(*row) for row in rows]
        return [row_type(*(value if process is None else process(value)
                           for process, value in zip(result_processors, row, strict=True)))
                for row in rows]

    found = (compiled, make_rows)
    if len(_COMPILED) > 512:
        _COMPILED.clear()
    _COMPILED[key] = found
    return found


def _bind(compiled: Any, params: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The SQL text for ``params`` (an IN list rendered with one parameter per value) and
    the driver's parameters, converted as :meth:`Connection.execute` converts them."""
    state = compiled.construct_expanded_state(params)
    values = dict(state.parameters)
    # The processors of the statement's parameters, then those of an IN list's elements.
    for processors in (compiled._bind_processors, state.processors):
        for name, process in processors.items():
            if callable(process) and name in values:
                values[name] = process(values[name])
    return state.statement, values
