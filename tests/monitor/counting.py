"""Counting what a save costs: each run of the readings' rules, each session evaluated,
each session loaded. Shared by the service's, the presenter's and the window's tests of
"a saved reading is evaluated once". :func:`statements` counts what is sent to the database."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event

from monitor.clinical.rules import FlagEvaluation
from monitor.service import loading
from monitor.service.clinic import ClinicService


@contextlib.contextmanager
def counted(service: ClinicService, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """What is evaluated or loaded inside the block, in order: "readings" for each run of
    the readings' rules, "view" for each session evaluated, "load" for each
    ``service.load``."""
    calls: list[str] = []
    of, extended = FlagEvaluation.of.__func__, FlagEvaluation.extended  # type: ignore[attr-defined]
    evaluate, load = loading.evaluate, service.load

    def counted_of(cls: type[FlagEvaluation], *args: Any, **kwargs: Any) -> Any:
        calls.append("readings")
        return of(cls, *args, **kwargs)

    def counted_extended(self: FlagEvaluation, *args: Any, **kwargs: Any) -> Any:
        calls.append("readings")
        return extended(self, *args, **kwargs)

    def counted_evaluate(**kwargs: Any) -> Any:
        calls.append("view")
        return evaluate(**kwargs)

    def counted_load(*args: Any, **kwargs: Any) -> Any:
        calls.append("load")
        return load(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(FlagEvaluation, "of", classmethod(counted_of))
        patch.setattr(FlagEvaluation, "extended", counted_extended)
        patch.setattr(loading, "evaluate", counted_evaluate)
        patch.setattr(service, "load", counted_load)
        yield calls


@contextlib.contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL of each statement sent on ``engine`` inside the block, in order (SQLAlchemy's
    ``before_cursor_execute``: one per execution, a statement run for many rows once)."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)
