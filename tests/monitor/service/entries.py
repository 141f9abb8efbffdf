"""Helpers shared by the tests of the service's parts: vitals as a nurse types them, row counts."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

MIN = timedelta(minutes=1)


def vitals(sbp, dbp, hr=72, spo2=98):
    return {"sbp": str(sbp), "dbp": str(dbp), "hr": str(hr), "spo2": str(spo2)}


def count_rows(service, model) -> int:
    with service.store.read() as db:
        return db.execute(select(func.count()).select_from(model)).scalar_one()
